/* sse-fcgi - MIT License
 *
 * The stream writer (see stream.h). A stream's life:
 *   submit -> open (subscribe) -> Redis confirms the channels: headers
 *   (and, when resuming, the history replay) -> events and keepalive
 *   comments queue as shared frames -> flush pass writes them
 *   -> EOF / ABORT / error / over its queue cap / shutdown -> dead or
 *   ending -> freed in the flush pass.
 * Keepalive is one worker-wide timer that queues the same shared comment
 * frame on every stream, so an idle stream costs no timer of its own.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "auth_url.h"
#include "cfg.h"
#include "fdset.h"
#include "fcgi_proto.h"
#include "frame.h"
#include "history.h"
#include "hub.h"
#include "log.h"
#include "loop.h"
#include "outq.h"
#include "retry.h"
#include "sse.h"
#include "stream.h"
#include "stream_int.h"
#include "stream_vec.h"
#include "xmalloc.h"

/* No byte taken for this long: the client stalled. Longer than a reader's
 * pause (a tab in the background, a phone switching networks) plus the
 * time the front server's buffers take to refill once it reads again: a
 * queued burst is shared by every stream behind on it (frame.h), so
 * waiting costs a stream its position, not a copy. */
#define STREAM_STALL_MS		5000
/* An ending stream whose client takes nothing for this long is closed:
 * it would keep its channel's log alive from its oldest unsent event. */
#define STREAM_END_STALL_MS	10000
#define STREAM_BURST_FACTOR	8	/* x queue-limit for a reading client */
#define STREAM_TICK_MS		250	/* keepalive, lifetime and stall checks */
#define STREAM_POLL_GRACE_MS	5000	/* past its hold, a poll still
					   waiting for Redis ends */

static void	stream_on_ready(void *, int);
static void	stream_on_flush(evutil_socket_t, short, void *);
static void	stream_on_keepalive(evutil_socket_t, short, void *);
static void	stream_on_grace(evutil_socket_t, short, void *);

/* Returns the start of a response: headers (plus EXTRA lines; with
 * X-Accel-Buffering unless NO_ACCEL), the first comment and retry:. Shared
 * by every stream unless EXTRA is given. */
static struct frame *
stream_make_preamble(const struct cfg *cfg, const char *extra, int no_accel)
{
	char	buf[1024];
	int	n;

	n = snprintf(buf, sizeof buf,
	    "Status: 200 OK\r\n"
	    "Content-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\n"
	    "%s"
	    "%s"
	    "\r\n"
	    ": ok\n\n", no_accel ? "" : "X-Accel-Buffering: no\r\n",
	    extra != NULL ? extra : "");
	if (cfg->retry_ms > 0)
		n += snprintf(buf + n, sizeof buf - n, "retry: %u\n\n",
		    cfg->retry_ms);
	return frame_from(buf, (size_t)n);
}

struct stream_req *
stream_req_create(size_t n)
{
	struct stream_req	*req;

	req = xcalloc(1, sizeof *req);
	req->fd = -1;
	req->channels = xcalloc(n, sizeof *req->channels);
	req->lens = xcalloc(n, sizeof *req->lens);
	return req;
}

void
stream_req_free(struct stream_req *req)
{
	size_t	i;

	if (req == NULL)
		return;
	for (i = 0; i < req->nchannels; i++)
		free(req->channels[i]);
	auth_url_creds_free(req->auth);
	free(req->headers);
	free(req->from);
	free(req->user);
	free(req->channels);
	free(req->lens);
	free(req);
}

struct stream_ctx *
stream_ctx_create(struct loop *l, struct hub *hub, struct history *history,
    const struct cfg *cfg, char *err, size_t errlen)
{
	struct stream_ctx	*ctx;
	struct timeval		 tv;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->loop = l;
	ctx->base = loop_base(l);
	ctx->fds = fdset_new(ctx->base, stream_on_ready, err, errlen);
	if (ctx->fds == NULL) {
		free(ctx);
		return NULL;
	}
	ctx->hub = hub;
	ctx->history = history;
	ctx->cfg = cfg;
	ctx->preamble = stream_make_preamble(cfg, NULL, 0);
	ctx->preamble_lighttpd = stream_make_preamble(cfg, NULL, 1);
	ctx->keepalive = sse_frame_comment("keepalive");
	ctx->rnd = retry_seed((uint32_t)(uintptr_t)ctx);
	ctx->flush_ev = event_new(ctx->base, -1, 0, stream_on_flush, ctx);
	ctx->grace_ev = evtimer_new(ctx->base, stream_on_grace, ctx);
	ctx->keepalive_ev = event_new(ctx->base, -1, EV_PERSIST,
	    stream_on_keepalive, ctx);
	tv.tv_sec = 0;
	tv.tv_usec = STREAM_TICK_MS * 1000;
	event_add(ctx->keepalive_ev, &tv);
	ctx->now_ms = stream_clock_ms();
	return ctx;
}

/* Writes the channels of REQ (or, without it, of S's subscriptions),
 * comma-separated, into BUF (cut short with "..." when they do not fit);
 * for the log. */
static const char *
stream_channels(const struct stream *s, const struct stream_req *req,
    char *buf, size_t len)
{
	const char	*name;
	size_t		 i, n = 0, cnt, nlen;
	int		 w;

	buf[0] = '\0';
	cnt = req != NULL ? req->nchannels : s->nsubs;
	for (i = 0; i < cnt; i++) {
		if (req == NULL && !hub_sub_active(&s->subs[i]))
			break;		/* left its channels already */
		name = req != NULL ? req->channels[i] :
		    hub_sub_channel(&s->subs[i], &nlen);
		w = snprintf(buf + n, len - n, "%s%s", i ? "," : "", name);
		if (w < 0 || (size_t)w >= len - n) {
			snprintf(buf + (len > 4 ? len - 4 : 0),
			    len > 4 ? 4 : len, "...");
			break;
		}
		n += (size_t)w;
	}
	return buf;
}

/* The debug line for a stream's end, once: written when it leaves its
 * channels (their names go with the subscriptions), or when it is freed. */
void
stream_log_closed(struct stream *s)
{
	char	chans[256];

	if ((s->flags & STREAM_LOGGED) || log_get_level() < LOG_LVL_DEBUG)
		return;
	s->flags |= STREAM_LOGGED;
	log_debug("stream %d/%u closed after %llds, channels %s: %s",
	    s->fd, s->request_id, (long long)(time(NULL) - s->opened),
	    stream_channels(s, s->req, chans, sizeof chans),
	    s->why != NULL ? s->why : "worker exiting");
}

struct stream_more *
stream_more(struct stream *s)
{
	if (s->more == NULL) {
		s->more = xcalloc(1, sizeof *s->more);
		s->more->pending_tail = &s->more->pending;
	}
	return s->more;
}

void
stream_more_trim(struct stream *s)
{
	struct stream_more	*m = s->more;

	if (m == NULL || m->hreq != NULL || m->pending != NULL ||
	    m->expire_ev != NULL || m->poll_ev != NULL || m->auth != NULL ||
	    m->pq != NULL || m->user != NULL || m->vec != NULL)
		return;
	free(m);
	s->more = NULL;
}

/* Unlinks and frees S; the connection is closed. */
static void
stream_free(struct stream *s)
{
	struct stream_ctx	*ctx = s->ctx;

	stream_log_closed(s);
	stream_leave(s);
	stream_req_free(s->req);
	if (s->subs != &s->sub1)
		free(s->subs);
	if (s->more != NULL) {
		if (s->more->expire_ev != NULL)
			event_free(s->more->expire_ev);
		if (s->more->poll_ev != NULL)
			event_free(s->more->poll_ev);
		stream_vec_free(s->more->vec);
		free(s->more);
	}
	fdset_del(ctx->fds, s->fd, s);
	close(s->fd);
	outq_clear(&s->q);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		ctx->all = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	free(s);
	ctx->open--;
	atomic_fetch_sub(&ctx->count, 1);
	if (ctx->stopping && ctx->open == 0 && ctx->drained != NULL) {
		stream_drained_fn fn = ctx->drained;

		ctx->drained = NULL;
		event_del(ctx->grace_ev);
		fn(ctx->drained_arg);
	}
}

void
stream_ctx_free(struct stream_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ctx->drained = NULL;
	while (ctx->all != NULL)
		stream_free(ctx->all);
	event_free(ctx->flush_ev);
	event_free(ctx->grace_ev);
	event_free(ctx->keepalive_ev);
	fdset_free(ctx->fds);
	frame_unref(ctx->preamble);
	frame_unref(ctx->preamble_lighttpd);
	frame_unref(ctx->keepalive);
	free(ctx);
}

int
stream_ctx_reserve(struct stream_ctx *ctx)
{
	unsigned	max = ctx->cfg->max_streams;

	if (atomic_fetch_add(&ctx->count, 1) >= max && max != 0) {
		atomic_fetch_sub(&ctx->count, 1);
		return -1;
	}
	return 0;
}

void
stream_ctx_unreserve(struct stream_ctx *ctx)
{
	atomic_fetch_sub(&ctx->count, 1);
}

void
stream_ctx_counters(const struct stream_ctx *ctx, struct stream_counters *out)
{
	*out = ctx->n;
	out->open = ctx->open;
}

unsigned
stream_ctx_count(const struct stream_ctx *ctx)
{
	return atomic_load(&((struct stream_ctx *)ctx)->count);
}

/* Puts S on the flush list for the pass after the current callbacks. */
void
stream_mark_dirty(struct stream *s)
{
	struct stream_ctx	*ctx = s->ctx;

	if (s->flags & STREAM_DIRTY)
		return;
	s->flags |= STREAM_DIRTY;
	s->dirty_next = ctx->dirty;
	if (ctx->dirty == NULL)
		event_active(ctx->flush_ev, EV_TIMEOUT, 0);
	ctx->dirty = s;
}

/* Marks S for freeing in the next flush pass; WHY (static text) is
 * logged then, unless an earlier reason was given. */
void
stream_kill(struct stream *s, const char *why)
{
	if (s->flags & STREAM_DEAD)
		return;
	if (s->why == NULL)
		s->why = why;
	s->flags |= STREAM_DEAD;
	stream_leave(s);
	fdset_del(s->ctx->fds, s->fd, s);
	stream_mark_dirty(s);
}

/* Queues F: a frame that fits one STDOUT record joins the run of its
 * channel's log (outq_push_run), a bigger one goes in records of at most
 * 64 KiB. Inline: once per delivery. */
static inline void
stream_queue(struct stream *s, struct frame *f)
{
	size_t	off, chunk;

	/* The stall clock (stream_over_limit) runs while something waits. */
	if (outq_bytes(&s->q) == 0)
		s->drained_ms = s->ctx->now_ms;
	s->active_ms = s->ctx->now_ms;
	if (f->len <= FCGI_PROTO_MAX_CONTENT) {
		outq_push_run(&s->q, f);
		return;
	}
	for (off = 0; off < f->len; off += chunk) {
		chunk = f->len - off;
		if (chunk > FCGI_PROTO_MAX_CONTENT)
			chunk = FCGI_PROTO_MAX_CONTENT;
		outq_push(&s->q, f, off, chunk);
	}
}

void
stream_push(struct stream *s, struct frame *f)
{
	stream_queue(s, f);
}

/* Closes S if its queue is over queue-limit while the client takes
 * nothing (for STREAM_STALL_MS), or is over STREAM_BURST_FACTOR
 * times queue-limit at all: a client that reads rides out a burst larger
 * than the cap, one that stopped reading is closed at the cap. Returns 1
 * when S was closed. */
static int
stream_over_limit(struct stream *s, uint32_t now_ms)
{
	size_t	limit = s->ctx->cfg->queue_limit, queued = outq_bytes(&s->q);
	int	stalled = (int32_t)(now_ms - s->drained_ms) >= STREAM_STALL_MS;

	if (queued <= limit)
		return 0;
	if (!stalled && queued <= limit * STREAM_BURST_FACTOR)
		return 0;
	log_warn("stream %d/%u: client %s, %zu bytes queued (queue-limit "
	    "%zu); closing it", s->fd, s->request_id, stalled ?
	    "not reading" : "too far behind", queued, limit);
	outq_clear(&s->q);
	s->ctx->n.slow_closed++;
	stream_kill(s, stalled ? "client not reading (queue-limit)" :
	    "client too far behind (queue-limit)");
	return 1;
}

/* Tells whether S, over queue-limit, was closed for it. Over the cap is a
 * backlog, not one big message: a stream is closed when what was already
 * waiting exceeds it (see stream_over_limit). */
static inline int
stream_backlogged(struct stream *s)
{
	return outq_bytes(&s->q) > s->ctx->cfg->queue_limit &&
	    stream_over_limit(s, stream_clock_ms());
}

/* The rarer cases of stream_deliver(): S holds the event (waiting or
 * syncing), or S keeps a position per channel (stream_vec.h). */
static void
stream_deliver_other(struct stream *s, struct hub_sub *sub, struct frame *f,
    const struct event_id *id)
{
	size_t	chan = (size_t)(sub - s->subs);

	if (s->flags & (STREAM_WAITING|STREAM_SYNCING)) {
		stream_hold(s, chan, f, id);
		return;
	}
	/* Ids count per channel: its own position decides. */
	if (!stream_vec_is_new(s, chan, id) || stream_backlogged(s))
		return;
	stream_vec_deliver(s, chan, f, id);
	s->ctx->n.delivered++;
	stream_mark_dirty(s);
}

/* Hub callback: one event for this stream. */
void
stream_deliver(void *owner, struct hub_sub *sub, struct frame *f,
    const struct event_id *id)
{
	struct stream	*s = owner;

	if (s->flags & (STREAM_DEAD|STREAM_ENDING))
		return;
	if (s->flags & (STREAM_WAITING|STREAM_SYNCING|STREAM_VECTOR)) {
		stream_deliver_other(s, sub, f, id);
		return;
	}
	/* Ids only grow on a stream. An event the history replay already
	 * gave (the replay and the live copy come on two Redis connections,
	 * in either order) is not sent twice. */
	if (id != NULL && s->has_last && id->seq <= s->last.seq)
		return;
	if (id != NULL) {
		s->last = *id;
		s->has_last = 1;
	}
	if (stream_backlogged(s))
		return;
	stream_queue(s, f);
	s->ctx->n.delivered++;
	stream_mark_dirty(s);
	if (s->ctx->cfg->poll_hold_ms >= 0) {
		if (id == NULL && !s->ctx->raw_warned) {
			s->ctx->raw_warned = 1;
			log_warn("poll mode: an event without id (a raw "
			    "PUBLISH, not the history script) reaches only "
			    "the clients waiting at that moment; those "
			    "between two polls miss it");
		}
		stream_poll_answered(s);
	}
}

void
stream_poll_answered(struct stream *s)
{
	s->flags |= STREAM_POLL_END;
	stream_mark_dirty(s);
}

/* The hold is over and no event came. */
static void
stream_on_poll_hold(evutil_socket_t fd, short what, void *arg)
{
	struct stream	*s = arg;

	stream_end(s, STREAM_BYE_POLL, "poll-hold reached");
}

void
stream_poll_wait(struct stream *s)
{
	struct timeval	tv;
	int32_t		left;

	left = (int32_t)(s->poll_end_ms - stream_clock_ms());
	if (left <= 0) {
		stream_poll_answered(s);
		return;
	}
	if (stream_more(s)->poll_ev == NULL)
		s->more->poll_ev = evtimer_new(s->ctx->base,
		    stream_on_poll_hold, s);
	tv.tv_sec = left / 1000;
	tv.tv_usec = (left % 1000) * 1000;
	evtimer_add(s->more->poll_ev, &tv);
}

/* Queues the start of the response: the shared headers, or the stream's
 * own when it has extra headers (CORS). */
void
stream_start(struct stream *s)
{
	struct frame	*f;

	if (s->req != NULL && s->req->headers != NULL) {
		f = stream_make_preamble(s->ctx->cfg, s->req->headers,
		    s->req->no_accel);
		stream_push(s, f);
		frame_unref(f);
	} else if (s->req != NULL && s->req->no_accel)
		stream_push(s, s->ctx->preamble_lighttpd);
	else
		stream_push(s, s->ctx->preamble);
	s->flags |= STREAM_STARTED;
}

/* Queues the end of the response; S is freed once it is written. SAY, if
 * not NULL, is the last comment, sent with a retry: of this stream's own
 * (retry.h) so the streams a worker ends together do not reconnect
 * together. WHY (static text) is for the log. */
void
stream_end(struct stream *s, const char *say, const char *why)
{
	char		 end[FCGI_PROTO_END_LEN], bye[RETRY_BODY_MAX];
	struct frame	*f;
	size_t		 n;
	unsigned	 ms, nominal = s->ctx->cfg->retry_ms;

	if (s->flags & (STREAM_DEAD|STREAM_ENDING))
		return;
	if (s->why == NULL)
		s->why = why;
	stream_leave(s);
	if (!(s->flags & STREAM_STARTED))
		stream_start(s);
	if (say != NULL) {
		/* A poll comes back within retry (from a third of it on),
		 * so an event waits at most retry + poll-hold. */
		if (s->ctx->cfg->poll_hold_ms >= 0) {
			if (nominal == 0)
				nominal = RETRY_DEFAULT_MS;
			ms = nominal * 2 / 3 > 0 ? retry_jitter(nominal * 2 / 3,
			    &s->ctx->rnd) : nominal;
		} else
			ms = retry_jitter(nominal, &s->ctx->rnd);
		n = retry_body(bye, sizeof bye, ms, say);
		f = frame_from(bye, n);
		stream_push(s, f);
		frame_unref(f);
	}
	fcgi_proto_end(end, s->request_id, 0);
	f = frame_from(end, sizeof end);
	outq_push_raw(&s->q, f, 0, f->len);
	frame_unref(f);
	s->flags |= STREAM_ENDING;
	stream_mark_dirty(s);
}

/* Sets what S waits for: reading always, room to write while its queue
 * waits. */
static void
stream_watch(struct stream *s, int writing)
{
	if (!!(s->flags & STREAM_WRITING) == writing)
		return;
	if (writing)
		s->flags |= STREAM_WRITING;
	else
		s->flags &= ~STREAM_WRITING;
	if (fdset_watch(s->ctx->fds, s->fd, writing, s) == -1)
		stream_kill(s, strerror(errno));
}

/* Writes what S has queued. Returns -1 when S is finished (fully ended,
 * or the connection failed) and must be freed, else 0. */
static int
stream_flush(struct stream *s)
{
	size_t	before = outq_bytes(&s->q);
	enum outq_status rc;

	rc = outq_flush(&s->q, s->fd);
	if (outq_bytes(&s->q) != before) {
		s->ctx->n.bytes_out += before - outq_bytes(&s->q);
		s->drained_ms = s->ctx->now_ms;
	}
	switch (rc) {
	case OUTQ_EMPTY:
		if (s->flags & STREAM_ENDING)
			return -1;
		stream_watch(s, 0);
		break;
	case OUTQ_AGAIN:
		stream_watch(s, 1);
		break;
	case OUTQ_ERROR:
		if (s->why == NULL)
			s->why = strerror(errno);
		return -1;
	}
	/* History is replayed as the client takes it: one that stops
	 * reading holds queue-limit and a page at most, then is closed as
	 * stalled (stream_over_limit). */
	if ((s->flags & STREAM_PAGED) &&
	    outq_bytes(&s->q) <= s->ctx->cfg->queue_limit)
		stream_replay_next(s);
	return 0;
}

static void
stream_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct stream_ctx	*ctx = arg;
	struct stream		*s, *next;

	s = ctx->dirty;
	ctx->dirty = NULL;
	for (; s != NULL; s = next) {
		next = s->dirty_next;
		/* Still marked dirty, so stream_end() does not list it
		 * again. */
		if ((s->flags & (STREAM_POLL_END|STREAM_DEAD|STREAM_ENDING)) ==
		    STREAM_POLL_END)
			stream_end(s, STREAM_BYE_POLL, "poll answered");
		s->flags &= ~STREAM_DIRTY;
		if (s->flags & STREAM_DEAD)
			stream_free(s);
		else if (!(s->flags & STREAM_WRITING) && stream_flush(s) == -1)
			stream_free(s);
	}
}

/* The socket of stream ARG is READY (fdset.h): room to write, or input
 * from the web server (an abort, the end, or records to ignore). */
static void
stream_on_ready(void *arg, int ready)
{
	struct stream	*s = arg;
	int		 fd = s->fd;
	char		 buf[512];
	ssize_t		 n;

	if (ready & FDSET_WRITE) {
		if (stream_flush(s) == -1)
			stream_kill(s, "finished");
		return;
	}
	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n == 0) {
			stream_kill(s, "web server closed the connection "
			    "(client gone)");
			return;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				stream_kill(s, strerror(errno));
			return;
		}
		switch (fcgi_in_feed(&s->in, buf, (size_t)n, s->request_id)) {
		case FCGI_IN_ABORT:
			stream_end(s, NULL, "web server aborted the request "
			    "(client gone)");
			return;
		case FCGI_IN_ERROR:
			stream_kill(s, "bad FastCGI record from web server");
			return;
		case FCGI_IN_MORE:
			break;
		}
	}
}

/* Ends S when the token it was authorized with expires. */
static void
stream_on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct stream	*s = arg;

	stream_end(s, STREAM_BYE_TOKEN, "token expired");
}

/* Arms S's expiry timer for the wall-clock time WHEN. */
static void
stream_expire_at(struct stream *s, time_t when)
{
	struct timeval	tv;
	time_t		now = time(NULL);

	tv.tv_sec = when > now ? when - now : 0;
	tv.tv_usec = 0;
	(void)stream_more(s);
	s->more->expire_ev = evtimer_new(s->ctx->base, stream_on_expire,
	    s);
	evtimer_add(s->more->expire_ev, &tv);
}

/* Loop thread: opens the stream the acceptor handed over. */
static void
stream_open(void *arg)
{
	struct stream_req	*req = arg;
	struct stream_ctx	*ctx;
	struct stream		*s;
	char			 chans[256];

	ctx = req->ctx;
	s = xcalloc(1, sizeof *s);
	s->ctx = ctx;
	s->fd = req->fd;
	s->request_id = req->request_id;
	s->opened = time(NULL);
	s->drained_ms = stream_clock_ms();
	s->active_ms = ctx->now_ms;
	s->poll_end_ms = stream_clock_ms() + (uint32_t)ctx->cfg->poll_hold_ms;
	outq_init(&s->q, s->request_id);
	s->next = ctx->all;
	if (ctx->all != NULL)
		ctx->all->prev = s;
	ctx->all = s;
	ctx->open++;
	ctx->n.opened++;
	if (fdset_add(ctx->fds, s->fd, 0, s) == -1) {
		/* Out of kernel memory for the watch: nothing can be sent. */
		log_warn("stream %d/%u: cannot watch its socket: %s", s->fd,
		    s->request_id, strerror(errno));
		stream_req_free(req);
		stream_kill(s, "cannot watch its socket");
		return;
	}
	if (log_get_level() >= LOG_LVL_DEBUG)
		log_debug("stream %d/%u opened, channels %s%s%s", s->fd,
		    s->request_id, stream_channels(s, req, chans, sizeof chans),
		    req->last_id[0] ? ", resuming after " : "", req->last_id);
	if (ctx->stopping) {
		s->req = req;	/* its headers (CORS) for the last answer */
		stream_end(s, STREAM_BYE_STOPPING, "worker stopping");
		return;
	}
	if (req->expires != 0)
		stream_expire_at(s, req->expires);
	stream_subscribe(s, req);
}

void
stream_submit(struct stream_ctx *ctx, struct stream_req *req)
{
	req->ctx = ctx;
	loop_post(ctx->loop, stream_open, req);
}

/* The worker-wide tick, every STREAM_TICK_MS: a keepalive comment (the
 * same shared frame) on each stream that was sent nothing for keepalive
 * seconds, the end of streams past max-lifetime, and of stalled clients
 * over their cap. Only idle streams get a keepalive, and each at its own
 * time: up to a third of the interval earlier, by a hash of its fd, so
 * streams that fell quiet together (after a broadcast) do not all wake
 * lighttpd in the same instant, which would hold up the next events behind
 * thousands of keepalives. Activity is stamped with the tick's clock, so
 * it may look up to a tick older than it is. */
static void
stream_on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct stream_ctx	*ctx = arg;
	struct stream		*s;
	unsigned		 max = ctx->cfg->max_lifetime;
	uint32_t		 ka_ms = ctx->cfg->keepalive * 1000u;
	uint32_t		 idle_ms, early_ms;
	time_t			 now = time(NULL);

	ctx->now_ms = stream_clock_ms();
	for (s = ctx->all; s != NULL; s = s->next) {
		if ((s->flags & (STREAM_DEAD|STREAM_ENDING)) == STREAM_ENDING &&
		    outq_bytes(&s->q) > 0 &&
		    (int32_t)(ctx->now_ms - s->drained_ms) >=
		    STREAM_END_STALL_MS) {
			outq_clear(&s->q);
			stream_kill(s, "client not reading the end");
			continue;
		}
		if (s->flags & (STREAM_DEAD|STREAM_ENDING))
			continue;
		/* Poll mode: a poll still waiting for Redis well past its
		 * hold ends; the client comes back with its Last-Event-ID. */
		if (ctx->cfg->poll_hold_ms >= 0 &&
		    (int32_t)(ctx->now_ms - s->poll_end_ms) >=
		    STREAM_POLL_GRACE_MS) {
			stream_end(s, STREAM_BYE_POLL, "poll waited too long "
			    "for redis");
			continue;
		}
		if (!(s->flags & STREAM_STARTED))
			continue;
		/* A stalled client over its cap after the last event. */
		if (stream_over_limit(s, ctx->now_ms))
			continue;
		/* Up to a tenth early, by fd: streams opened together
		 * (after a restart) do not all end together. */
		if (max != 0 && now - s->opened >= (time_t)(max -
		    ((uint32_t)s->fd * 2246822519u) % (max / 10 + 1))) {
			stream_end(s, STREAM_BYE_LIFETIME, "max-lifetime reached");
			continue;
		}
		idle_ms = ctx->now_ms - s->active_ms + STREAM_TICK_MS / 2;
		early_ms = ((uint32_t)s->fd * 2654435761u) % (ka_ms / 3 + 1);
		if (idle_ms < ka_ms - early_ms)
			continue;
		outq_trim(&s->q);	/* an idle stream keeps no ring */
		stream_push(s, ctx->keepalive);
		stream_mark_dirty(s);
	}
}

static void
stream_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct stream_ctx	*ctx = arg;
	stream_drained_fn	 fn = ctx->drained;

	/* The rest are closed by stream_ctx_free(). */
	log_warn("%u streams still open after the shutdown grace period; "
	    "closing them", ctx->open);
	ctx->drained = NULL;
	if (fn != NULL)
		fn(ctx->drained_arg);
}

void
stream_ctx_shutdown(struct stream_ctx *ctx, unsigned grace,
    stream_drained_fn done, void *arg)
{
	struct stream	*s;
	struct timeval	 tv;

	ctx->stopping = 1;
	ctx->drained = done;
	ctx->drained_arg = arg;
	event_del(ctx->keepalive_ev);
	for (s = ctx->all; s != NULL; s = s->next)
		stream_end(s, STREAM_BYE_STOPPING, "worker stopping");
	if (ctx->open == 0) {
		ctx->drained = NULL;
		done(arg);
		return;
	}
	tv.tv_sec = grace;
	tv.tv_usec = 0;
	evtimer_add(ctx->grace_ev, &tv);
}
