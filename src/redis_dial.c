/* sse-fcgi - MIT License
 *
 * A Redis exchange on the event loop (see redis_dial.h), driven by hand
 * with hiredis's non-blocking context and reply reader: writable once
 * means the connect finished (SO_ERROR says how), then the output buffer
 * drains on writability and replies are parsed as bytes arrive.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "redis_dial.h"
#include "xmalloc.h"

struct redis_dial {
	redisContext		*ctx;
	struct event		*rd_ev, *wr_ev, *timer_ev;
	int			 connected;	/* the connect finished */
	size_t			 nreplies, got;
	redis_dial_check_fn	 check;
	redis_dial_done_fn	 done;
	void			*arg;
};

static void	redis_dial_on_write(evutil_socket_t, short, void *);
static void	redis_dial_on_read(evutil_socket_t, short, void *);
static void	redis_dial_on_timer(evutil_socket_t, short, void *);

static void
redis_dial_free(struct redis_dial *d)
{
	if (d->rd_ev != NULL)
		event_free(d->rd_ev);
	if (d->wr_ev != NULL)
		event_free(d->wr_ev);
	if (d->timer_ev != NULL)
		event_free(d->timer_ev);
	if (d->ctx != NULL)
		redisFree(d->ctx);
	free(d);
}

/* Ends the exchange: hands the context over on success (WHY NULL). The
 * events go first: the callee may close the fd, and a new fd of the same
 * number must not lose its registration to our late event_del. WHY may
 * be the context's own text, hence the copy. */
static void
redis_dial_end(struct redis_dial *d, const char *why)
{
	redisContext	*c = d->ctx;
	char		 copy[256];

	if (why != NULL)
		snprintf(copy, sizeof copy, "%s", why);
	d->ctx = NULL;
	event_free(d->rd_ev);
	event_free(d->wr_ev);
	event_free(d->timer_ev);
	d->rd_ev = d->wr_ev = d->timer_ev = NULL;
	if (why != NULL) {
		redisFree(c);
		c = NULL;
	}
	d->done(d->arg, c, why != NULL ? copy : NULL);
	free(d);
}

struct redis_dial *
redis_dial_start(struct event_base *base, const struct redis_dial_addr *addr,
    const char *cmds, size_t len, size_t nreplies, unsigned timeout_ms,
    redis_dial_check_fn check, redis_dial_done_fn done, void *arg,
    char *err, size_t errlen)
{
	struct redis_dial	*d;
	struct timeval		 tv;

	d = xcalloc(1, sizeof *d);
	d->nreplies = nreplies;
	d->check = check;
	d->done = done;
	d->arg = arg;
	if (addr->path != NULL)
		d->ctx = redisConnectUnixNonBlock(addr->path);
	else
		d->ctx = redisConnectNonBlock(addr->ip, addr->port);
	if (d->ctx == NULL || d->ctx->err) {
		snprintf(err, errlen, "%s", d->ctx != NULL ? d->ctx->errstr :
		    "out of memory");
		goto fail;
	}
	if (redisAppendFormattedCommand(d->ctx, cmds, len) != REDIS_OK) {
		snprintf(err, errlen, "%s", d->ctx->errstr);
		goto fail;
	}
	d->rd_ev = event_new(base, d->ctx->fd, EV_READ|EV_PERSIST,
	    redis_dial_on_read, d);
	d->wr_ev = event_new(base, d->ctx->fd, EV_WRITE|EV_PERSIST,
	    redis_dial_on_write, d);
	d->timer_ev = evtimer_new(base, redis_dial_on_timer, d);
	if (d->rd_ev == NULL || d->wr_ev == NULL || d->timer_ev == NULL) {
		snprintf(err, errlen, "cannot create events");
		goto fail;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	event_add(d->wr_ev, NULL);	/* writable = connect finished */
	evtimer_add(d->timer_ev, &tv);
	return d;
fail:
	redis_dial_free(d);
	return NULL;
}

void
redis_dial_cancel(struct redis_dial *d)
{
	if (d != NULL)
		redis_dial_free(d);
}

static void
redis_dial_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct redis_dial	*d = arg;

	redis_dial_end(d, d->connected ? "timed out waiting for a reply" :
	    "timed out connecting");
}

static void
redis_dial_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct redis_dial	*d = arg;
	int			 done = 0, err = 0;
	socklen_t		 len = sizeof err;

	if (!d->connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			redis_dial_end(d, strerror(err));
			return;
		}
		d->ctx->flags |= REDIS_CONNECTED;
		d->connected = 1;
		event_add(d->rd_ev, NULL);
	}
	if (redisBufferWrite(d->ctx, &done) == REDIS_ERR) {
		redis_dial_end(d, d->ctx->errstr[0] ? d->ctx->errstr :
		    "write error");
		return;
	}
	if (done)
		event_del(d->wr_ev);
}

static void
redis_dial_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct redis_dial	*d = arg;
	void			*reply;
	char			 why[256];
	int			 rc;

	if (redisBufferRead(d->ctx) == REDIS_ERR) {
		redis_dial_end(d, d->ctx->errstr[0] ? d->ctx->errstr :
		    "connection closed");
		return;
	}
	while (d->got < d->nreplies) {
		if (redisGetReplyFromReader(d->ctx, &reply) == REDIS_ERR) {
			snprintf(why, sizeof why, "protocol error: %s",
			    d->ctx->errstr);
			redis_dial_end(d, why);
			return;
		}
		if (reply == NULL)
			return;
		why[0] = '\0';
		rc = d->check(d->arg, d->got++, reply, why, sizeof why);
		freeReplyObject(reply);
		if (rc == -1) {
			redis_dial_end(d, why[0] ? why : "refused");
			return;
		}
	}
	redis_dial_end(d, NULL);
}
