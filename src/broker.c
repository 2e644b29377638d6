/* sse-fcgi - MIT License
 *
 * The Redis broker (see broker.h). Connection states:
 *   DOWN -> CONNECTING (redis_conn locates the master, connects and
 *   greets it, all without blocking the loop) -> UP (subscriptions flow).
 * Any error closes the socket, marks every channel unsubscribed and arms
 * the reconnect timer. Channel states: IDLE, SUBSCRIBING, SUBSCRIBED,
 * UNSUBSCRIBING, plus a "wanted" bit set by watch/unwatch; a reply moves
 * the state and, if it no longer matches what is wanted, sends the next
 * command.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "broker.h"
#include "dict.h"
#include "log.h"
#include "redis_conn.h"
#include "xmalloc.h"

#define BROKER_BACKOFF_MIN_MS	100
#define BROKER_BACKOFF_MAX_MS	5000
#define BROKER_CONNECT_TIMEOUT	5	/* seconds for connect + handshake,
					 * after the sentinels if any */
/* Liveness: after PING_IDLE ms without a byte from Redis the broker sends
 * PING; no byte within PING_WAIT ms more and the connection counts as dead
 * (a stalled or vanished server, a half-open TCP connection). Checked once
 * a second, so a dead connection is noticed within about 7 s. */
#define BROKER_PING_IDLE_MS	3000
#define BROKER_PING_WAIT_MS	3000

enum broker_state {
	BROKER_DOWN = 0,
	BROKER_CONNECTING,
	BROKER_UP
};

enum bchan_state {
	BCHAN_IDLE = 0,
	BCHAN_SUBSCRIBING,
	BCHAN_SUBSCRIBED,
	BCHAN_UNSUBSCRIBING
};

struct bchan {
	enum bchan_state state;
	int		 wanted;
};

struct broker {
	struct event_base	*base;
	struct redis_conn	*conn;
	const char		*desc;		/* for logs, the conn's */
	broker_message_fn	 on_message;
	broker_ready_fn		 on_ready;
	broker_down_fn		 on_down;
	broker_reconnect_fn	 on_reconnect;
	void			*arg;

	redisContext		*ctx;
	enum broker_state	 state;
	struct event		*rd_ev, *wr_ev, *timer_ev;
	struct event		*live_ev;	/* liveness tick while UP */
	uint64_t		 last_rx_ms;	/* last byte from Redis */
	uint64_t		 ping_ms;	/* PING in flight since, or 0 */
	unsigned		 backoff_ms;
	struct dict		*chans;		/* name -> struct bchan */
	atomic_int		 up;
	atomic_int		 was_up;
	_Atomic uint64_t	 down_since_ms;	/* broker_now_ms(), while down */
	unsigned long		 reconnects;
	int			 lost_logged;
};

static uint64_t	broker_now_ms(void);
static void	broker_connect(struct broker *);
static void	broker_became_up(struct broker *);
static void	broker_fail(struct broker *, const char *why);
static void	broker_send_sub(struct broker *, const char *, size_t,
		    struct bchan *, int subscribe);

static void broker_on_timer(evutil_socket_t, short, void *);
static void broker_on_live(evutil_socket_t, short, void *);
static void broker_on_read(evutil_socket_t, short, void *);
static void broker_on_write(evutil_socket_t, short, void *);

struct broker *
broker_create(struct event_base *base, const char *url,
    broker_message_fn on_message, void *arg, char *err, size_t errlen)
{
	struct broker	*b;

	b = xcalloc(1, sizeof *b);
	atomic_store(&b->down_since_ms, broker_now_ms());
	b->base = base;
	b->on_message = on_message;
	b->arg = arg;
	b->backoff_ms = BROKER_BACKOFF_MIN_MS;
	if ((b->conn = redis_conn_create(url, err, errlen)) == NULL)
		goto fail;
	b->desc = redis_conn_describe(b->conn);
	b->chans = dict_create();
	b->timer_ev = evtimer_new(base, broker_on_timer, b);
	b->live_ev = event_new(base, -1, EV_PERSIST, broker_on_live, b);
	return b;
fail:
	free(b);
	return NULL;
}

static void
broker_free_chan(const char *key, size_t klen, void *val, void *arg)
{
	free(val);
}

/* Closes the socket and forgets the context; channels become IDLE. */
static void
broker_close(struct broker *b)
{
	redis_conn_cancel(b->conn);
	if (b->live_ev != NULL)
		event_del(b->live_ev);
	b->ping_ms = 0;
	if (b->rd_ev != NULL) {
		event_free(b->rd_ev);
		b->rd_ev = NULL;
	}
	if (b->wr_ev != NULL) {
		event_free(b->wr_ev);
		b->wr_ev = NULL;
	}
	if (b->ctx != NULL) {
		redisFree(b->ctx);
		b->ctx = NULL;
	}
	b->state = BROKER_DOWN;
	if (atomic_exchange(&b->up, 0))
		atomic_store(&b->down_since_ms, broker_now_ms());
}

void
broker_free(struct broker *b)
{
	if (b == NULL)
		return;
	broker_close(b);
	if (b->timer_ev != NULL)
		event_free(b->timer_ev);
	if (b->live_ev != NULL)
		event_free(b->live_ev);
	if (b->chans != NULL) {
		dict_foreach(b->chans, broker_free_chan, NULL);
		dict_free(b->chans);
	}
	redis_conn_free(b->conn);
	free(b);
}

void
broker_start(struct broker *b)
{
	broker_connect(b);
}

int
broker_is_up(const struct broker *b)
{
	return atomic_load(&((struct broker *)b)->up);
}

int
broker_was_up(const struct broker *b)
{
	return atomic_load(&((struct broker *)b)->was_up);
}

uint64_t
broker_down_ms(const struct broker *b)
{
	struct broker	*m = (struct broker *)b;
	uint64_t	 since = atomic_load(&m->down_since_ms);
	uint64_t	 now = broker_now_ms();

	if (atomic_load(&m->up))
		return 0;
	return now > since ? now - since : 0;
}

unsigned long
broker_reconnects(const struct broker *b)
{
	return b->reconnects;
}

static uint64_t
broker_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Arms the write event if hiredis holds unsent bytes. */
static void
broker_want_write(struct broker *b)
{
	if (b->ctx != NULL && b->wr_ev != NULL && sdslen(b->ctx->obuf) > 0)
		event_add(b->wr_ev, NULL);
}

static void
broker_arm_timer(struct broker *b, unsigned ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(b->timer_ev, &tv);
}

static void
broker_reset_chan(const char *key, size_t klen, void *val, void *arg)
{
	struct broker	*b = arg;
	struct bchan	*c = val;

	c->state = BCHAN_IDLE;
	if (!c->wanted) {
		dict_del(b->chans, key, klen);
		free(c);
	}
}

/* Drops the connection after an error and schedules a reconnect. */
static void
broker_fail(struct broker *b, const char *why)
{
	int	was = b->state == BROKER_UP;

	broker_close(b);
	dict_foreach(b->chans, broker_reset_chan, b);
	if (was)
		log_error("redis connection to %s lost: %s; reconnecting "
		    "(%zu channels to resubscribe)", b->desc, why,
		    dict_count(b->chans));
	if (was && b->on_down != NULL)
		b->on_down(b->arg);
	else if (!b->lost_logged)
		log_error("cannot connect to redis at %s: %s; retrying",
		    b->desc, why);
	else
		log_debug("redis at %s still unreachable: %s", b->desc, why);
	b->lost_logged = 1;
	broker_arm_timer(b, b->backoff_ms);
	b->backoff_ms *= 2;
	if (b->backoff_ms > BROKER_BACKOFF_MAX_MS)
		b->backoff_ms = BROKER_BACKOFF_MAX_MS;
}

/* The connection is located, connected and greeted, or failed. */
static void
broker_on_open(void *arg, redisContext *c, const char *why)
{
	struct broker	*b = arg;

	if (c == NULL) {
		broker_fail(b, why);
		return;
	}
	b->ctx = c;
	b->rd_ev = event_new(b->base, c->fd, EV_READ|EV_PERSIST,
	    broker_on_read, b);
	b->wr_ev = event_new(b->base, c->fd, EV_WRITE, broker_on_write, b);
	event_add(b->rd_ev, NULL);
	broker_became_up(b);
}

static void
broker_connect(struct broker *b)
{
	char	why[REDIS_CONN_ERR_MAX];

	b->state = BROKER_CONNECTING;
	if (redis_conn_open(b->conn, b->base, BROKER_CONNECT_TIMEOUT * 1000,
	    broker_on_open, b, why, sizeof why) == -1)
		broker_fail(b, why);
}

static void
broker_subscribe_wanted(const char *key, size_t klen, void *val, void *arg)
{
	struct broker	*b = arg;
	struct bchan	*c = val;

	if (c->wanted && c->state == BCHAN_IDLE)
		broker_send_sub(b, key, klen, c, 1);
}

static void
broker_became_up(struct broker *b)
{
	struct timeval	tick = { 1, 0 };

	evtimer_del(b->timer_ev);
	b->last_rx_ms = broker_now_ms();
	b->ping_ms = 0;
	event_add(b->live_ev, &tick);
	b->state = BROKER_UP;
	b->backoff_ms = BROKER_BACKOFF_MIN_MS;
	if (atomic_load(&b->was_up)) {
		b->reconnects++;
		if (b->on_reconnect != NULL)
			b->on_reconnect(b->arg);
	}
	if (redis_conn_master(b->conn) != NULL)
		log_info("connected to redis master \"%s\" at %s (from "
		    "the sentinels); subscribing %zu channels",
		    redis_conn_master(b->conn), redis_conn_addr(b->conn),
		    dict_count(b->chans));
	else
		log_info("connected to redis at %s; subscribing %zu channels",
		    b->desc, dict_count(b->chans));
	b->lost_logged = 0;
	atomic_store(&b->was_up, 1);
	atomic_store(&b->up, 1);
	dict_foreach(b->chans, broker_subscribe_wanted, b);
	broker_want_write(b);
}

static void
broker_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct broker	*b = arg;

	if (b->state == BROKER_DOWN)
		broker_connect(b);
}

/* The liveness tick (see BROKER_PING_IDLE_MS). */
static void
broker_on_live(evutil_socket_t fd, short what, void *arg)
{
	struct broker	*b = arg;
	uint64_t	 now = broker_now_ms();
	char		 why[64];

	if (b->state != BROKER_UP)
		return;
	if (b->ping_ms != 0 && now - b->ping_ms >= BROKER_PING_WAIT_MS) {
		snprintf(why, sizeof why, "no reply to PING in %u ms",
		    (unsigned)(now - b->ping_ms));
		broker_fail(b, why);
		return;
	}
	if (b->ping_ms == 0 && now - b->last_rx_ms >= BROKER_PING_IDLE_MS) {
		redisAppendCommand(b->ctx, "PING");
		b->ping_ms = now;
		broker_want_write(b);
	}
}

static void
broker_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct broker	*b = arg;
	int		 done = 0;

	if (redisBufferWrite(b->ctx, &done) == REDIS_ERR) {
		broker_fail(b, b->ctx->errstr[0] ? b->ctx->errstr :
		    "write error");
		return;
	}
	if (!done)
		event_add(b->wr_ev, NULL);
}

static void
broker_send_sub(struct broker *b, const char *name, size_t len,
    struct bchan *c, int subscribe)
{
	const char	*argv[2];
	size_t		 argvlen[2];

	argv[0] = subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
	argvlen[0] = strlen(argv[0]);
	argv[1] = name;
	argvlen[1] = len;
	redisAppendCommandArgv(b->ctx, 2, argv, argvlen);
	c->state = subscribe ? BCHAN_SUBSCRIBING : BCHAN_UNSUBSCRIBING;
	broker_want_write(b);
}

void
broker_on_ready(struct broker *b, broker_ready_fn fn)
{
	b->on_ready = fn;
}

void
broker_on_down(struct broker *b, broker_down_fn fn)
{
	b->on_down = fn;
}

void
broker_on_reconnect(struct broker *b, broker_reconnect_fn fn)
{
	b->on_reconnect = fn;
}

int
broker_channel_ready(const struct broker *b, const char *channel, size_t len)
{
	const struct bchan	*c;

	c = dict_get(b->chans, channel, len);
	return c != NULL && c->wanted && c->state == BCHAN_SUBSCRIBED;
}

void
broker_watch(struct broker *b, const char *channel, size_t len)
{
	struct bchan	*c;

	if ((c = dict_get(b->chans, channel, len)) == NULL) {
		c = xcalloc(1, sizeof *c);
		dict_put(b->chans, channel, len, c);
	}
	c->wanted = 1;
	if (b->state == BROKER_UP && c->state == BCHAN_IDLE)
		broker_send_sub(b, channel, len, c, 1);
}

void
broker_unwatch(struct broker *b, const char *channel, size_t len)
{
	struct bchan	*c;

	if ((c = dict_get(b->chans, channel, len)) == NULL)
		return;
	c->wanted = 0;
	if (b->state == BROKER_UP && c->state == BCHAN_SUBSCRIBED)
		broker_send_sub(b, channel, len, c, 0);
	else if (c->state == BCHAN_IDLE) {
		dict_del(b->chans, channel, len);
		free(c);
	}
}

/* A SUBSCRIBE or UNSUBSCRIBE confirmation for NAME. */
static void
broker_on_confirm(struct broker *b, const char *name, size_t len,
    int subscribed)
{
	struct bchan	*c;

	if ((c = dict_get(b->chans, name, len)) == NULL)
		return;
	if (subscribed) {
		c->state = BCHAN_SUBSCRIBED;
		log_debug("subscribed to %.*s", (int)len, name);
		if (!c->wanted)
			broker_send_sub(b, name, len, c, 0);
		else if (b->on_ready != NULL)
			b->on_ready(b->arg, name, len);
		return;
	}
	c->state = BCHAN_IDLE;
	log_debug("unsubscribed from %.*s", (int)len, name);
	if (c->wanted)
		broker_send_sub(b, name, len, c, 1);
	else {
		dict_del(b->chans, name, len);
		free(c);
	}
}

/* Handles one reply; returns -1 if the connection must be dropped. */
static int
broker_on_reply(struct broker *b, redisReply *r, char *why, size_t whylen)
{
	redisReply	*kind, *name;

	if (r->type == REDIS_REPLY_ERROR) {
		log_error("redis said: %.*s", (int)r->len, r->str);
		return 0;
	}
	/* PING outside subscribed mode (no channel yet) answers +PONG. */
	if (r->type == REDIS_REPLY_STATUS && strcasecmp(r->str, "PONG") == 0)
		return 0;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		log_warn("unexpected reply type %d on the subscriber "
		    "connection; ignored", r->type);
		return 0;
	}
	kind = r->element[0];
	name = r->element[1];
	if (strcasecmp(kind->str, "message") == 0 && r->elements == 3 &&
	    name->type == REDIS_REPLY_STRING &&
	    r->element[2]->type == REDIS_REPLY_STRING) {
		b->on_message(b->arg, name->str, name->len,
		    r->element[2]->str, r->element[2]->len);
	} else if (strcasecmp(kind->str, "subscribe") == 0 &&
	    name->type == REDIS_REPLY_STRING) {
		broker_on_confirm(b, name->str, name->len, 1);
	} else if (strcasecmp(kind->str, "unsubscribe") == 0 &&
	    name->type == REDIS_REPLY_STRING) {
		broker_on_confirm(b, name->str, name->len, 0);
	} else if (strcasecmp(kind->str, "pong") != 0) {
		log_warn("unexpected \"%.*s\" reply on the subscriber "
		    "connection; ignored", (int)kind->len, kind->str);
	}
	return 0;
}

static void
broker_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct broker	*b = arg;
	void		*reply;
	char		 why[256];

	if (redisBufferRead(b->ctx) == REDIS_ERR) {
		snprintf(why, sizeof why, "%s", b->ctx->errstr[0] ?
		    b->ctx->errstr : "connection closed");
		broker_fail(b, why);
		return;
	}
	/* Any byte proves the server alive, a PONG or a message. */
	b->last_rx_ms = broker_now_ms();
	b->ping_ms = 0;
	for (;;) {
		if (redisGetReplyFromReader(b->ctx, &reply) == REDIS_ERR) {
			snprintf(why, sizeof why, "protocol error: %s",
			    b->ctx->errstr);
			broker_fail(b, why);
			return;
		}
		if (reply == NULL)
			break;
		if (broker_on_reply(b, reply, why, sizeof why) == -1) {
			freeReplyObject(reply);
			broker_fail(b, why);
			return;
		}
		freeReplyObject(reply);
	}
	broker_want_write(b);
}
