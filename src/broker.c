/* sse-fcgi - MIT License
 *
 * The Redis broker (see broker.h). Each connection is a link: the one
 * Redis (or the master the sentinels name), or one master of a cluster.
 * Link states:
 *   DOWN -> CONNECTING (redis_conn locates the master, connects and
 *   greets it, all without blocking the loop) -> UP (subscriptions flow).
 * Any error closes the link's socket, marks its channels unsubscribed and
 * arms its reconnect timer. Channel states: IDLE, SUBSCRIBING, SUBSCRIBED,
 * UNSUBSCRIBING, plus a "wanted" bit set by watch/unwatch; a reply moves
 * the state and, if it no longer matches what is wanted, sends the next
 * command.
 *
 * In a cluster each channel belongs to the link of its slot's master in
 * the newest map (cluster_async.h); a new map moves the channels whose
 * master changed (SUNSUBSCRIBE at the old one, SSUBSCRIBE at the new one:
 * their subscriptions lapse meanwhile, so the lost callback runs for
 * them). Each link keeps the subscription commands it sent and not yet
 * saw answered, in order, so an error reply (MOVED, CLUSTERDOWN) names
 * its channel, and a SUNSUBSCRIBE the node sends by itself (its slot went
 * elsewhere) is told from a confirmation.
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
#include "cluster_async.h"
#include "cluster_map.h"
#include "cluster_nodes.h"
#include "dict.h"
#include "log.h"
#include "monotime.h"
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
/* A cluster channel refused by its node (MOVED, CLUSTERDOWN) is asked
 * again after the next map, and at least this often. */
#define BROKER_RETRY_MS		500

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

struct blink;

struct bchan {
	enum bchan_state state;
	int		 wanted;
	int		 refused;	/* cluster: its node said no; again
					 * after the next map */
	unsigned	 slot;		/* cluster: the channel's slot */
	struct blink	*link;		/* NULL: no master known yet */
};

/* A subscription command sent on a link, not yet answered. */
struct bsent {
	struct bsent	*next;
	int		 subscribe;
	int		 let_go;	/* for a channel moved away since:
					 * its answer concerns nobody */
	size_t		 len;
	char		 name[];
};

struct blink {
	struct broker		*b;
	struct redis_conn	*conn;
	const char		*desc;		/* for logs, the conn's */
	char			*key;		/* cluster: "host:port" */
	redisContext		*ctx;
	enum broker_state	 state;
	struct event		*rd_ev, *wr_ev, *timer_ev;
	struct event		*live_ev;	/* liveness tick while UP */
	uint64_t		 last_rx_ms;	/* last byte from Redis */
	uint64_t		 ping_ms;	/* PING in flight since, or 0 */
	unsigned		 backoff_ms;
	size_t			 nchans;	/* channels that are its */
	struct bsent		*sent, **sent_tail;
	int			 was_up;
	int			 failed;	/* lost, not back yet */
	int			 lost_logged;
	unsigned		 gen;		/* cluster: of the last map
						 * naming it a master */
};

struct broker {
	struct event_base	*base;
	struct cluster_async	*cluster;	/* NULL: one Redis */
	broker_message_fn	 on_message;
	broker_ready_fn		 on_ready;
	broker_down_fn		 on_down;
	broker_reconnect_fn	 on_reconnect;
	broker_lost_fn		 on_lost;
	void			*arg;

	struct blink		*one;		/* one Redis: the link */
	struct dict		*links;		/* cluster: "host:port" ->
						 * struct blink */
	struct blink		**slot_link;	/* cluster: per slot, or NULL */
	int			 mapped;	/* cluster: a map came */
	unsigned		 gen;		/* cluster: maps seen */
	unsigned		 refused;	/* channels waiting for a map */
	struct event		*retry_ev;	/* cluster: refused channels */
	struct dict		*chans;		/* name -> struct bchan */
	atomic_int		 up;
	atomic_int		 was_up;
	_Atomic uint64_t	 down_since_ms;	/* (uint64_t)monotime_ms(), while down */
	unsigned long		 reconnects;
};

static void	link_connect(struct blink *);
static void	link_became_up(struct blink *);
static void	link_fail(struct blink *, const char *why);
static void	link_send_sub(struct blink *, const char *, size_t,
		    struct bchan *, int subscribe);
static void	broker_update_up(struct broker *);

static void link_on_timer(evutil_socket_t, short, void *);
static void link_on_live(evutil_socket_t, short, void *);
static void link_on_read(evutil_socket_t, short, void *);
static void link_on_write(evutil_socket_t, short, void *);

static struct blink *
link_create(struct broker *b, struct redis_conn *conn, const char *key)
{
	struct blink	*l;

	l = xcalloc(1, sizeof *l);
	l->b = b;
	l->conn = conn;
	l->desc = redis_conn_describe(conn);
	l->key = key != NULL ? xstrdup(key) : NULL;
	l->backoff_ms = BROKER_BACKOFF_MIN_MS;
	l->sent_tail = &l->sent;
	l->timer_ev = evtimer_new(b->base, link_on_timer, l);
	l->live_ev = event_new(b->base, -1, EV_PERSIST, link_on_live, l);
	return l;
}

static struct broker *
broker_new(struct event_base *base, broker_message_fn on_message, void *arg)
{
	struct broker	*b;

	b = xcalloc(1, sizeof *b);
	atomic_store(&b->down_since_ms, (uint64_t)monotime_ms());
	b->base = base;
	b->on_message = on_message;
	b->arg = arg;
	b->chans = dict_create();
	return b;
}

struct broker *
broker_create(struct event_base *base, const char *url,
    broker_message_fn on_message, void *arg, char *err, size_t errlen)
{
	struct broker		*b;
	struct redis_conn	*conn;

	if ((conn = redis_conn_create(url, err, errlen)) == NULL)
		return NULL;
	b = broker_new(base, on_message, arg);
	b->one = link_create(b, conn, NULL);
	return b;
}

static void	broker_on_map(void *, const struct cluster_map *);
static void	broker_on_retry(evutil_socket_t, short, void *);

struct broker *
broker_create_cluster(struct event_base *base, struct cluster_async *ca,
    broker_message_fn on_message, void *arg)
{
	struct broker	*b;

	b = broker_new(base, on_message, arg);
	b->cluster = ca;
	b->links = dict_create();
	b->slot_link = xcalloc(CLUSTER_SLOTS, sizeof *b->slot_link);
	b->retry_ev = evtimer_new(base, broker_on_retry, b);
	cluster_async_on_map(ca, broker_on_map, b);
	return b;
}

static void
link_forget_sent(struct blink *l)
{
	struct bsent	*s, *next;

	for (s = l->sent; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	l->sent = NULL;
	l->sent_tail = &l->sent;
}

/* Closes the link's socket and forgets the context. */
static void
link_close(struct blink *l)
{
	redis_conn_cancel(l->conn);
	if (l->live_ev != NULL)
		event_del(l->live_ev);
	l->ping_ms = 0;
	if (l->rd_ev != NULL) {
		event_free(l->rd_ev);
		l->rd_ev = NULL;
	}
	if (l->wr_ev != NULL) {
		event_free(l->wr_ev);
		l->wr_ev = NULL;
	}
	if (l->ctx != NULL) {
		redisFree(l->ctx);
		l->ctx = NULL;
	}
	link_forget_sent(l);
	l->state = BROKER_DOWN;
}

static void
link_free(struct blink *l)
{
	if (l == NULL)
		return;
	link_close(l);
	event_free(l->timer_ev);
	event_free(l->live_ev);
	redis_conn_free(l->conn);
	free(l->key);
	free(l);
}

static void
broker_free_chan(const char *key, size_t klen, void *val, void *arg)
{
	free(val);
}

static void
broker_free_link(const char *key, size_t klen, void *val, void *arg)
{
	link_free(val);
}

void
broker_free(struct broker *b)
{
	if (b == NULL)
		return;
	if (b->cluster != NULL)
		cluster_async_on_map(b->cluster, NULL, NULL);
	link_free(b->one);
	if (b->links != NULL) {
		dict_foreach(b->links, broker_free_link, NULL);
		dict_free(b->links);
	}
	free(b->slot_link);
	if (b->retry_ev != NULL)
		event_free(b->retry_ev);
	dict_foreach(b->chans, broker_free_chan, NULL);
	dict_free(b->chans);
	free(b);
}

void
broker_start(struct broker *b)
{
	if (b->one != NULL)
		link_connect(b->one);
	else
		cluster_async_start(b->cluster);
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
	uint64_t	 now = (uint64_t)monotime_ms();

	if (atomic_load(&m->up))
		return 0;
	return now > since ? now - since : 0;
}

unsigned long
broker_reconnects(const struct broker *b)
{
	return b->reconnects;
}

/* One Redis: up while its link is. A cluster: up once a map came and
 * while no link is lost (a link still connecting for the first time is
 * not a loss: new streams need not wait for it). */
static void
broker_any_failed(const char *key, size_t klen, void *val, void *arg)
{
	struct blink	*l = val;

	if (l->failed && l->nchans > 0)
		*(int *)arg = 1;
}

static void
broker_update_up(struct broker *b)
{
	int	up, failed = 0;

	if (b->one != NULL)
		up = b->one->state == BROKER_UP;
	else {
		dict_foreach(b->links, broker_any_failed, &failed);
		up = b->mapped && !failed;
	}
	if (up) {
		atomic_store(&b->was_up, 1);
		atomic_store(&b->up, 1);
	} else if (atomic_exchange(&b->up, 0))
		atomic_store(&b->down_since_ms, (uint64_t)monotime_ms());
}

/* Arms the write event if hiredis holds unsent bytes. */
static void
link_want_write(struct blink *l)
{
	if (l->ctx != NULL && l->wr_ev != NULL && sdslen(l->ctx->obuf) > 0)
		event_add(l->wr_ev, NULL);
}

static void
link_arm_timer(struct blink *l, unsigned ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(l->timer_ev, &tv);
}

/* Channels whose subscription lapsed during a walk over every channel:
 * told to the lost callback after the walk, as what it sets off (a stream
 * ends, its channel is unwatched) changes the table. */
struct lost_list {
	char		**names;
	size_t		 *lens;
	size_t		  n, cap;
};

static void
lost_add(struct lost_list *ll, const char *name, size_t len)
{
	if (ll->n == ll->cap) {
		ll->cap = ll->cap ? ll->cap * 2 : 16;
		ll->names = xrealloc(ll->names, ll->cap * sizeof *ll->names);
		ll->lens = xrealloc(ll->lens, ll->cap * sizeof *ll->lens);
	}
	ll->names[ll->n] = xstrndup(name, len);
	ll->lens[ll->n++] = len;
}

/* Tells the lost callback, then frees the list. */
static void
lost_tell(struct broker *b, struct lost_list *ll)
{
	size_t	i;

	for (i = 0; i < ll->n; i++) {
		if (b->on_lost != NULL)
			b->on_lost(b->arg, ll->names[i], ll->lens[i]);
		free(ll->names[i]);
	}
	free(ll->names);
	free(ll->lens);
	memset(ll, 0, sizeof *ll);
}

struct link_walk {
	struct blink	*link;
	struct lost_list lost;
};

/* After a link's loss: its channels are unsubscribed (told to the lost
 * callback in a cluster, where the others go on); unwanted ones go. */
static void
link_reset_chan(const char *key, size_t klen, void *val, void *arg)
{
	struct link_walk	*w = arg;
	struct broker		*b = w->link->b;
	struct bchan		*c = val;

	if (c->link != w->link)
		return;
	if (c->state == BCHAN_SUBSCRIBED && c->wanted && b->cluster != NULL)
		lost_add(&w->lost, key, klen);
	c->state = BCHAN_IDLE;
	if (!c->wanted) {
		c->link->nchans--;
		dict_del(b->chans, key, klen);
		free(c);
	}
}

/* Drops the link after an error and schedules a reconnect. */
static void
link_fail(struct blink *l, const char *why)
{
	struct broker		*b = l->b;
	struct link_walk	 w;
	int			 was = l->state == BROKER_UP;

	memset(&w, 0, sizeof w);
	w.link = l;
	link_close(l);
	dict_foreach(b->chans, link_reset_chan, &w);
	if (was) {
		l->failed = 1;
		log_error("redis connection to %s lost: %s; reconnecting "
		    "(%zu channels to resubscribe)", l->desc, why, l->nchans);
	} else if (!l->lost_logged)
		log_error("cannot connect to redis at %s: %s; retrying",
		    l->desc, why);
	else
		log_debug("redis at %s still unreachable: %s", l->desc, why);
	if (!l->was_up)
		l->failed = 1;
	l->lost_logged = 1;
	broker_update_up(b);
	if (was && b->one != NULL && b->on_down != NULL)
		b->on_down(b->arg);
	lost_tell(b, &w.lost);
	/* A lost master may have been replaced: ask for the map. */
	if (b->cluster != NULL)
		cluster_async_refresh(b->cluster);
	link_arm_timer(l, l->backoff_ms);
	l->backoff_ms *= 2;
	if (l->backoff_ms > BROKER_BACKOFF_MAX_MS)
		l->backoff_ms = BROKER_BACKOFF_MAX_MS;
}

/* The connection is located, connected and greeted, or failed. */
static void
link_on_open(void *arg, redisContext *c, const char *why)
{
	struct blink	*l = arg;

	if (c == NULL) {
		link_fail(l, why);
		return;
	}
	l->ctx = c;
	l->rd_ev = event_new(l->b->base, c->fd, EV_READ|EV_PERSIST,
	    link_on_read, l);
	l->wr_ev = event_new(l->b->base, c->fd, EV_WRITE, link_on_write, l);
	event_add(l->rd_ev, NULL);
	link_became_up(l);
}

static void
link_connect(struct blink *l)
{
	char	why[REDIS_CONN_ERR_MAX];

	l->state = BROKER_CONNECTING;
	if (redis_conn_open(l->conn, l->b->base, BROKER_CONNECT_TIMEOUT *
	    1000, link_on_open, l, why, sizeof why) == -1)
		link_fail(l, why);
}

static void
link_subscribe_wanted(const char *key, size_t klen, void *val, void *arg)
{
	struct blink	*l = arg;
	struct bchan	*c = val;

	if (c->link == l && c->wanted && c->state == BCHAN_IDLE)
		link_send_sub(l, key, klen, c, 1);
}

static void
link_became_up(struct blink *l)
{
	struct broker	*b = l->b;
	struct timeval	 tick = { 1, 0 };

	evtimer_del(l->timer_ev);
	l->last_rx_ms = (uint64_t)monotime_ms();
	l->ping_ms = 0;
	event_add(l->live_ev, &tick);
	l->state = BROKER_UP;
	l->backoff_ms = BROKER_BACKOFF_MIN_MS;
	if (l->was_up) {
		b->reconnects++;
		if (b->one != NULL && b->on_reconnect != NULL)
			b->on_reconnect(b->arg);
	}
	if (redis_conn_master(l->conn) != NULL)
		log_info("connected to redis master \"%s\" at %s (from "
		    "the sentinels); subscribing %zu channels",
		    redis_conn_master(l->conn), redis_conn_addr(l->conn),
		    l->nchans);
	else
		log_info("connected to redis at %s; subscribing %zu channels",
		    l->desc, b->one != NULL ? dict_count(b->chans) :
		    l->nchans);
	l->lost_logged = 0;
	l->was_up = 1;
	l->failed = 0;
	broker_update_up(b);
	dict_foreach(b->chans, link_subscribe_wanted, l);
	link_want_write(l);
}

static void
link_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct blink	*l = arg;

	if (l->state == BROKER_DOWN)
		link_connect(l);
}

/* The liveness tick (see BROKER_PING_IDLE_MS). */
static void
link_on_live(evutil_socket_t fd, short what, void *arg)
{
	struct blink	*l = arg;
	uint64_t	 now = (uint64_t)monotime_ms();
	char		 why[64];

	if (l->state != BROKER_UP)
		return;
	if (l->ping_ms != 0 && now - l->ping_ms >= BROKER_PING_WAIT_MS) {
		snprintf(why, sizeof why, "no reply to PING in %u ms",
		    (unsigned)(now - l->ping_ms));
		link_fail(l, why);
		return;
	}
	if (l->ping_ms == 0 && now - l->last_rx_ms >= BROKER_PING_IDLE_MS) {
		redisAppendCommand(l->ctx, "PING");
		l->ping_ms = now;
		link_want_write(l);
	}
}

static void
link_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct blink	*l = arg;
	int		 done = 0;

	if (redisBufferWrite(l->ctx, &done) == REDIS_ERR) {
		link_fail(l, l->ctx->errstr[0] ? l->ctx->errstr :
		    "write error");
		return;
	}
	if (!done)
		event_add(l->wr_ev, NULL);
}

/* Sends (S)SUBSCRIBE or (S)UNSUBSCRIBE for NAME on L, noting it sent; C,
 * when not NULL, is NAME's state on L. */
static void
link_send_sub(struct blink *l, const char *name, size_t len,
    struct bchan *c, int subscribe)
{
	const char	*argv[2];
	size_t		 argvlen[2];
	struct bsent	*s;

	if (l->b->cluster != NULL)
		argv[0] = subscribe ? "SSUBSCRIBE" : "SUNSUBSCRIBE";
	else
		argv[0] = subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
	argvlen[0] = strlen(argv[0]);
	argv[1] = name;
	argvlen[1] = len;
	redisAppendCommandArgv(l->ctx, 2, argv, argvlen);
	if (c != NULL)
		c->state = subscribe ? BCHAN_SUBSCRIBING : BCHAN_UNSUBSCRIBING;
	link_want_write(l);
	if (l->b->cluster == NULL)
		return;
	s = xmalloc(sizeof *s + len);
	s->next = NULL;
	s->subscribe = subscribe;
	s->let_go = c == NULL;
	s->len = len;
	memcpy(s->name, name, len);
	*l->sent_tail = s;
	l->sent_tail = &s->next;
}

/* Marks what L sent for NAME and has not seen answered as let go. */
static void
link_let_go(struct blink *l, const char *name, size_t len)
{
	struct bsent	*s;

	for (s = l->sent; s != NULL; s = s->next)
		if (s->len == len && memcmp(s->name, name, len) == 0)
			s->let_go = 1;
}

/* Takes the oldest command L has not seen answered, if it is the one
 * SUBSCRIBE or not for NAME (NAME NULL: whatever it is). Returns 1 if it
 * was taken. */
static int
link_take_sent(struct blink *l, const char *name, size_t len, int subscribe,
    struct bsent **out)
{
	struct bsent	*s = l->sent;

	if (s == NULL || (name != NULL && (s->subscribe != subscribe ||
	    s->len != len || memcmp(s->name, name, len) != 0)))
		return 0;
	l->sent = s->next;
	if (l->sent == NULL)
		l->sent_tail = &l->sent;
	if (out != NULL)
		*out = s;
	else
		free(s);
	return 1;
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

void
broker_on_lost(struct broker *b, broker_lost_fn fn)
{
	b->on_lost = fn;
}

int
broker_channel_ready(const struct broker *b, const char *channel, size_t len)
{
	const struct bchan	*c;

	c = dict_get(b->chans, channel, len);
	return c != NULL && c->wanted && c->state == BCHAN_SUBSCRIBED;
}

/* Gives C (IDLE) to link L, or to none; connects L if it is new. */
static void
broker_assign(struct broker *b, struct bchan *c, struct blink *l)
{
	if (c->link != NULL)
		c->link->nchans--;
	c->link = l;
	if (l == NULL)
		return;
	l->nchans++;
	if (l->state == BROKER_DOWN && !evtimer_pending(l->timer_ev, NULL))
		link_connect(l);
}

void
broker_watch(struct broker *b, const char *channel, size_t len)
{
	struct bchan	*c;

	if ((c = dict_get(b->chans, channel, len)) == NULL) {
		c = xcalloc(1, sizeof *c);
		dict_put(b->chans, channel, len, c);
		if (b->one != NULL)
			broker_assign(b, c, b->one);
		else {
			c->slot = cluster_keyslot(channel, len);
			broker_assign(b, c, b->slot_link[c->slot]);
		}
	}
	c->wanted = 1;
	if (c->link != NULL && c->link->state == BROKER_UP &&
	    c->state == BCHAN_IDLE && !c->refused)
		link_send_sub(c->link, channel, len, c, 1);
}

/* Forgets C, unwanted and IDLE. */
static void
broker_drop_chan(struct broker *b, struct bchan *c, const char *channel,
    size_t len)
{
	if (c->link != NULL)
		c->link->nchans--;
	if (c->refused)
		b->refused--;
	dict_del(b->chans, channel, len);
	free(c);
}

void
broker_unwatch(struct broker *b, const char *channel, size_t len)
{
	struct bchan	*c;

	if ((c = dict_get(b->chans, channel, len)) == NULL)
		return;
	c->wanted = 0;
	if (c->link != NULL && c->link->state == BROKER_UP &&
	    c->state == BCHAN_SUBSCRIBED)
		link_send_sub(c->link, channel, len, c, 0);
	else if (c->state == BCHAN_IDLE)
		broker_drop_chan(b, c, channel, len);
}

/* A cluster channel its node refused, or stopped serving: subscribed
 * again after the next map (broker_on_retry asks for one). */
static void
broker_refused(struct broker *b, struct bchan *c)
{
	struct timeval	tv = { 0, BROKER_RETRY_MS * 1000 };

	c->state = BCHAN_IDLE;
	if (!c->refused) {
		c->refused = 1;
		b->refused++;
	}
	if (!evtimer_pending(b->retry_ev, NULL))
		evtimer_add(b->retry_ev, &tv);
}

static void
broker_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct broker	*b = arg;

	if (b->refused > 0)
		cluster_async_refresh(b->cluster);
}

/* A SUBSCRIBE or UNSUBSCRIBE reply for NAME on L: a confirmation of the
 * oldest command L sent, or (cluster) a node's own SUNSUBSCRIBE. */
static void
link_on_confirm(struct blink *l, const char *name, size_t len,
    int subscribed)
{
	struct broker	*b = l->b;
	struct bchan	*c;
	struct bsent	*s = NULL;
	int		 answer, let_go = 0;

	/* One Redis answers in order and never drops a channel by itself:
	 * every reply is the answer (an unasked UNSUBSCRIBE from a broken
	 * server is repaired by subscribing again, below). */
	answer = b->cluster == NULL ||
	    link_take_sent(l, name, len, subscribed, &s);
	if (s != NULL) {
		let_go = s->let_go;
		free(s);
	}
	/* The channel may have come back to this link since it was let
	 * go, and be subscribing again: that answer is not about it. */
	if (let_go)
		return;
	if ((c = dict_get(b->chans, name, len)) == NULL || c->link != l)
		return;		/* moved away meanwhile */
	if (!answer) {
		/* Not ours: the node no longer serves the slot. */
		if (subscribed || c->state != BCHAN_SUBSCRIBED)
			return;
		log_info("redis at %s dropped channel %.*s (slot %u moved); "
		    "following it", l->desc, (int)len, name, c->slot);
		c->state = BCHAN_IDLE;
		if (!c->wanted) {
			broker_drop_chan(b, c, name, len);
			return;
		}
		broker_refused(b, c);
		if (b->on_lost != NULL)
			b->on_lost(b->arg, name, len);
		return;
	}
	if (subscribed) {
		c->state = BCHAN_SUBSCRIBED;
		log_debug("subscribed to %.*s", (int)len, name);
		if (!c->wanted)
			link_send_sub(l, name, len, c, 0);
		else if (b->on_ready != NULL)
			b->on_ready(b->arg, name, len);
		return;
	}
	c->state = BCHAN_IDLE;
	log_debug("unsubscribed from %.*s", (int)len, name);
	if (c->wanted)
		link_send_sub(l, name, len, c, 1);
	else
		broker_drop_chan(b, c, name, len);
}

/* An error reply: the answer to the oldest command L sent. */
static void
link_on_error(struct blink *l, const redisReply *r)
{
	struct broker	*b = l->b;
	struct bsent	*s = NULL;
	struct bchan	*c;

	if (b->cluster == NULL || !link_take_sent(l, NULL, 0, 0, &s)) {
		log_error("redis at %s said: %.*s", l->desc, (int)r->len,
		    r->str);
		return;
	}
	c = dict_get(b->chans, s->name, s->len);
	if (s->let_go || c == NULL || c->link != l) {
		log_error("redis at %s said: %.*s", l->desc, (int)r->len,
		    r->str);
		free(s);
		return;
	}
	log_info("redis at %s refused channel %.*s: %.*s; asking for the "
	    "cluster's map", l->desc, (int)s->len, s->name, (int)r->len,
	    r->str);
	if (!c->wanted)
		broker_drop_chan(b, c, s->name, s->len);
	else
		broker_refused(b, c);
	free(s);
}

/* Handles one reply; returns -1 if the connection must be dropped. */
static int
link_on_reply(struct blink *l, redisReply *r, char *why, size_t whylen)
{
	struct broker	*b = l->b;
	redisReply	*kind, *name;
	struct bchan	*c;
	const char	*k;

	if (r->type == REDIS_REPLY_ERROR) {
		link_on_error(l, r);
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
	k = kind->str;
	/* A cluster's shard channels answer with an 's' in front. */
	if (b->cluster != NULL) {
		if (k[0] != 's' && k[0] != 'S') {
			if (strcasecmp(k, "pong") != 0)
				log_warn("unexpected \"%.*s\" reply on the "
				    "subscriber connection; ignored",
				    (int)kind->len, k);
			return 0;
		}
		k++;
	}
	if (strcasecmp(k, "message") == 0 && r->elements == 3 &&
	    name->type == REDIS_REPLY_STRING &&
	    r->element[2]->type == REDIS_REPLY_STRING) {
		/* A channel that moved away is another link's now. */
		if (b->cluster != NULL && ((c = dict_get(b->chans, name->str,
		    name->len)) == NULL || c->link != l))
			return 0;
		b->on_message(b->arg, name->str, name->len,
		    r->element[2]->str, r->element[2]->len);
	} else if (strcasecmp(k, "subscribe") == 0 &&
	    name->type == REDIS_REPLY_STRING) {
		link_on_confirm(l, name->str, name->len, 1);
	} else if (strcasecmp(k, "unsubscribe") == 0 &&
	    name->type == REDIS_REPLY_STRING) {
		link_on_confirm(l, name->str, name->len, 0);
	} else if (strcasecmp(kind->str, "pong") != 0) {
		log_warn("unexpected \"%.*s\" reply on the subscriber "
		    "connection; ignored", (int)kind->len, kind->str);
	}
	return 0;
}

static void
link_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct blink	*l = arg;
	void		*reply;
	char		 why[256];

	if (redisBufferRead(l->ctx) == REDIS_ERR) {
		snprintf(why, sizeof why, "%s", l->ctx->errstr[0] ?
		    l->ctx->errstr : "connection closed");
		link_fail(l, why);
		return;
	}
	/* Any byte proves the server alive, a PONG or a message. */
	l->last_rx_ms = (uint64_t)monotime_ms();
	l->ping_ms = 0;
	for (;;) {
		if (redisGetReplyFromReader(l->ctx, &reply) == REDIS_ERR) {
			snprintf(why, sizeof why, "protocol error: %s",
			    l->ctx->errstr);
			link_fail(l, why);
			return;
		}
		if (reply == NULL)
			break;
		if (link_on_reply(l, reply, why, sizeof why) == -1) {
			freeReplyObject(reply);
			link_fail(l, why);
			return;
		}
		freeReplyObject(reply);
		/* A callback may have ended the link. */
		if (l->ctx == NULL)
			return;
	}
	link_want_write(l);
}

/* The link of the master N, made (not connected) if it is new; NULL when
 * its address cannot be used. */
static struct blink *
broker_link_for(struct broker *b, const struct cluster_node *n)
{
	struct redis_conn	*conn;
	struct blink		*l;
	char			 key[CLUSTER_ADDR_MAX];
	char			 err[REDIS_CONN_ERR_MAX];

	cluster_addr_format(n->host, n->port, key, sizeof key);
	if ((l = dict_get(b->links, key, strlen(key))) != NULL)
		return l;
	conn = redis_conn_create_node(cluster_async_url(b->cluster), n->host,
	    n->port, err, sizeof err);
	if (conn == NULL) {
		log_error("cluster node %s: %s", key, err);
		return NULL;
	}
	l = link_create(b, conn, key);
	dict_put(b->links, key, strlen(key), l);
	return l;
}

struct map_walk {
	struct broker		*b;
	struct lost_list	 lost;
	unsigned		 gen;
};

/* Moves C to the link of its slot's master in the new map, if that is
 * another; retries it if its node refused it. */
static void
broker_move_chan(const char *key, size_t klen, void *val, void *arg)
{
	struct map_walk	*w = arg;
	struct broker	*b = w->b;
	struct bchan	*c = val;
	struct blink	*nl = b->slot_link[c->slot], *old = c->link;

	if (c->refused) {
		c->refused = 0;
		b->refused--;
	}
	if (nl == old) {
		if (c->wanted && nl != NULL && nl->state == BROKER_UP &&
		    c->state == BCHAN_IDLE)
			link_send_sub(nl, key, klen, c, 1);
		return;
	}
	/* The old master lets the channel go; its answers to that and to
	 * what was still out for the channel there are ignored (should the
	 * channel come back before them, they are not about its return). */
	if (old != NULL && old->state == BROKER_UP &&
	    (c->state == BCHAN_SUBSCRIBED || c->state == BCHAN_SUBSCRIBING)) {
		link_let_go(old, key, klen);
		link_send_sub(old, key, klen, NULL, 0);
	}
	if (c->state == BCHAN_SUBSCRIBED && c->wanted)
		lost_add(&w->lost, key, klen);
	c->state = BCHAN_IDLE;
	if (!c->wanted) {
		broker_drop_chan(b, c, key, klen);
		return;
	}
	broker_assign(b, c, nl);
	if (nl != NULL && nl->state == BROKER_UP)
		link_send_sub(nl, key, klen, c, 1);
}

/* Frees the links no master of the map and no channel needs. */
static void
broker_prune_link(const char *key, size_t klen, void *val, void *arg)
{
	struct map_walk	*w = arg;
	struct blink	*l = val;

	if (l->nchans > 0 || l->gen == w->gen)
		return;
	dict_del(w->b->links, key, klen);
	link_free(l);
}

static void
broker_on_map(void *arg, const struct cluster_map *m)
{
	struct broker	*b = arg;
	struct blink	**per_shard, *l;
	struct map_walk	 w;
	size_t		 i;
	int		 changed = 0;

	memset(&w, 0, sizeof w);
	w.b = b;
	w.gen = ++b->gen;
	per_shard = xcalloc(m->nshards + 1, sizeof *per_shard);
	for (i = 0; i < m->nshards; i++) {
		if (!m->shards[i].has_master)
			continue;
		if ((per_shard[i] = broker_link_for(b,
		    &m->shards[i].master)) != NULL)
			per_shard[i]->gen = w.gen;
	}
	for (i = 0; i < CLUSTER_SLOTS; i++) {
		l = m->owner[i] == CLUSTER_NO_SHARD ||
		    m->owner[i] >= m->nshards ? NULL : per_shard[m->owner[i]];
		if (l != b->slot_link[i]) {
			b->slot_link[i] = l;
			changed = 1;
		}
	}
	free(per_shard);
	if (!b->mapped)
		log_info("redis cluster: %zu shards, %zu of %u slots served",
		    m->nshards, (size_t)CLUSTER_SLOTS - m->unowned,
		    CLUSTER_SLOTS);
	else if (changed)
		log_info("redis cluster map changed: moving the channels "
		    "whose slots have a new master");
	b->mapped = 1;
	if (changed || b->refused > 0)
		dict_foreach(b->chans, broker_move_chan, &w);
	dict_foreach(b->links, broker_prune_link, &w);
	broker_update_up(b);
	lost_tell(b, &w.lost);
}
