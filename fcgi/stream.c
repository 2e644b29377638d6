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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "broker.h"
#include "cfg.h"
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
#include "xmalloc.h"

#define STREAM_DIRTY	0x01	/* on the flush list */
#define STREAM_WRITING	0x02	/* waiting for EV_WRITE */
#define STREAM_ENDING	0x04	/* END_REQUEST queued; free once sent */
#define STREAM_DEAD	0x08	/* free in the next flush pass */
#define STREAM_SYNCING	0x10	/* resuming: live events are buffered */
#define STREAM_STARTED	0x20	/* headers queued: Redis confirmed all
				   channels, so onopen means subscribed */
#define STREAM_LOGGED	0x40	/* its "closed" line is written */

#define STREAM_REPLAY_MAX	10000	/* history entries per channel */
#define STREAM_STALL_S		2	/* no byte taken: the client stalled */
#define STREAM_BURST_FACTOR	8	/* x queue-limit for a reading client */
#define STREAM_TICK_MS		250	/* keepalive, lifetime and stall checks */

/* A live event that arrived while the stream was replaying history. */
struct pending {
	struct pending	*next;
	struct frame	*frame;
	int		 has_id;
	struct event_id	 id;
};

struct stream {
	struct stream_ctx	*ctx;
	struct stream		*prev, *next;	/* all open streams */
	struct stream		*dirty_next;
	struct stream		*wait_next;	/* waiting for subscriptions */
	struct hub_sub		*subs;		/* one per channel */
	struct hub_sub		 sub1;		/* subs, for one channel */
	size_t			 nsubs;
	struct stream_req	*req;		/* channels and resume id */
	struct history_req	*hreq;		/* history read in flight */
	struct pending		*pending, **pending_tail;
	size_t			 pending_bytes;
	size_t			 replay_bytes;	/* allowed over queue-limit */
	int			 has_last;
	struct event_id		 last;		/* last id delivered */
	struct outq		 q;
	struct fcgi_in		 in;
	struct event		 ev;
	time_t			 opened;	/* for max-lifetime */
	uint32_t		 drained;	/* time(NULL) bytes last left */
	uint32_t		 active_ms;	/* ctx->now_ms when bytes last queued */
	const char		*why;		/* why it ends, for the log */
	struct event		*expire_ev;	/* token expiry, or NULL */
	int			 fd;
	uint16_t		 request_id;
	uint8_t			 flags;
};

struct stream_ctx {
	struct loop		*loop;
	struct event_base	*base;
	struct hub		*hub;
	struct broker		*broker;
	struct history		*history;
	struct stream		*waiting;	/* resuming, not yet subscribed */
	const struct cfg	*cfg;
	struct frame		*preamble;	/* headers, ": ok", retry */
	struct frame		*preamble_lighttpd; /* the same for lighttpd */
	struct frame		*keepalive;
	uint32_t		 rnd;		/* retry.h's state: end delays */
	struct event		*keepalive_ev;
	struct event		*flush_ev;
	struct event		*grace_ev;
	struct stream		*all;
	struct stream		*dirty;
	uint32_t		 now_ms;	/* stream_clock_ms() at the last tick */
	atomic_uint		 count;		/* open + reserved */
	unsigned		 open;		/* loop thread's own count */
	struct stream_counters	 n;		/* for stats; open is above */
	int			 stopping;
	stream_drained_fn	 drained;
	void			*drained_arg;
};

static void	stream_on_io(evutil_socket_t, short, void *);
static void	stream_on_flush(evutil_socket_t, short, void *);
static void	stream_on_keepalive(evutil_socket_t, short, void *);
static void	stream_on_grace(evutil_socket_t, short, void *);

/* A cheap monotonic clock in ms (wraps every 49 days; compare by
 * difference). */
static uint32_t
stream_clock_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec * 1000u + (uint32_t)(ts.tv_nsec / 1000000);
}

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
	free(req->headers);
	free(req->channels);
	free(req->lens);
	free(req);
}

struct stream_ctx *
stream_ctx_create(struct loop *l, struct hub *hub, struct broker *broker,
    struct history *history, const struct cfg *cfg)
{
	struct stream_ctx	*ctx;
	struct timeval		 tv;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->loop = l;
	ctx->base = loop_base(l);
	ctx->hub = hub;
	ctx->broker = broker;
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
static void
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

/* Ends S's subscriptions (no more deliveries). */
static void
stream_unsubscribe(struct stream *s)
{
	size_t	i;

	if (s->nsubs > 0 && hub_sub_active(&s->subs[0]))
		stream_log_closed(s);
	for (i = 0; i < s->nsubs; i++)
		if (hub_sub_active(&s->subs[i]))
			hub_unsubscribe(s->ctx->hub, &s->subs[i]);
}

/* Releases the events buffered while resuming. */
static void
stream_drop_pending(struct stream *s)
{
	struct pending	*p, *next;

	for (p = s->pending; p != NULL; p = next) {
		next = p->next;
		frame_unref(p->frame);
		free(p);
	}
	s->pending = NULL;
	s->pending_tail = &s->pending;
	s->pending_bytes = 0;
}

/* Frees what only opening and resuming needed: a live stream finds its
 * channels through its subscriptions. */
static void
stream_drop_req(struct stream *s)
{
	stream_req_free(s->req);
	s->req = NULL;
}

/* Unlinks and frees S; the connection is closed. */
static void
stream_free(struct stream *s)
{
	struct stream_ctx	*ctx = s->ctx;
	struct stream		**ws;

	stream_log_closed(s);
	stream_unsubscribe(s);
	stream_drop_pending(s);
	history_cancel(s->hreq);
	for (ws = &ctx->waiting; *ws != NULL; ws = &(*ws)->wait_next) {
		if (*ws == s) {
			*ws = s->wait_next;
			break;
		}
	}
	stream_req_free(s->req);
	if (s->subs != &s->sub1)
		free(s->subs);
	if (s->expire_ev != NULL)
		event_free(s->expire_ev);
	event_del(&s->ev);
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
static void
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
static void
stream_kill(struct stream *s, const char *why)
{
	if (s->flags & STREAM_DEAD)
		return;
	if (s->why == NULL)
		s->why = why;
	s->flags |= STREAM_DEAD;
	event_del(&s->ev);
	stream_mark_dirty(s);
}

/* Queues F as STDOUT records of at most 64 KiB each. */
static void
stream_push(struct stream *s, struct frame *f)
{
	size_t	off, chunk;

	for (off = 0; off < f->len; off += chunk) {
		chunk = f->len - off;
		if (chunk > FCGI_PROTO_MAX_CONTENT)
			chunk = FCGI_PROTO_MAX_CONTENT;
		outq_push(&s->q, f, off, chunk);
	}
	s->active_ms = s->ctx->now_ms;
}

/* Closes S if its queue is over queue-limit while the client takes
 * nothing (for STREAM_STALL_S seconds), or is over STREAM_BURST_FACTOR
 * times queue-limit at all: a client that reads rides out a burst larger
 * than the cap, one that stopped reading is closed at the cap. Returns 1
 * when S was closed. */
static int
stream_over_limit(struct stream *s, time_t now)
{
	size_t	limit = s->ctx->cfg->queue_limit, queued = outq_bytes(&s->q);
	int	stalled = now - (time_t)s->drained >= STREAM_STALL_S;

	if (queued <= limit + s->replay_bytes)
		return 0;
	if (!stalled && queued <= limit * STREAM_BURST_FACTOR +
	    s->replay_bytes)
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

/* Hub callback: one event for this stream. */
static void
stream_deliver(void *owner, struct frame *f, const struct event_id *id)
{
	struct stream	*s = owner;
	struct pending	*p;

	if (s->flags & (STREAM_DEAD|STREAM_ENDING))
		return;
	if ((s->flags & STREAM_SYNCING) || !(s->flags & STREAM_STARTED)) {
		/* Live events wait for the headers and while history is
		 * read; bounded like the queue, so a stalled Redis cannot
		 * grow the worker. */
		s->pending_bytes += f->len;
		if (s->pending_bytes > s->ctx->cfg->queue_limit) {
			log_warn("stream %d/%u: %zu bytes of live events "
			    "waiting for history; closing it", s->fd,
			    s->request_id, s->pending_bytes);
			s->ctx->n.slow_closed++;
			stream_kill(s, "too much waiting for history");
			return;
		}
		p = xmalloc(sizeof *p);
		p->next = NULL;
		p->frame = frame_ref(f);
		p->has_id = id != NULL;
		if (id != NULL)
			p->id = *id;
		*s->pending_tail = p;
		s->pending_tail = &p->next;
		s->ctx->n.delivered++;
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
	/* Over the cap is a backlog, not one big message: a stream is closed
	 * when what was already waiting exceeds it (see stream_over_limit). */
	if (outq_bytes(&s->q) > s->ctx->cfg->queue_limit + s->replay_bytes &&
	    stream_over_limit(s, time(NULL)))
		return;
	stream_push(s, f);
	s->ctx->n.delivered++;
	stream_mark_dirty(s);
}

/* Queues the start of the response: the shared headers, or the stream's
 * own when it has extra headers (CORS). */
static void
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

/* Texts of the last comment, for a client that is to come back. */
#define STREAM_BYE_STOPPING	"worker restarting; reconnect"
#define STREAM_BYE_HISTORY	"history unavailable; reconnect"
#define STREAM_BYE_LIFETIME	"stream lifetime reached; reconnect"
#define STREAM_BYE_TOKEN	"token expired; reconnect with a new one"

/* Queues the end of the response; S is freed once it is written. SAY, if
 * not NULL, is the last comment, sent with a retry: of this stream's own
 * (retry.h) so the streams a worker ends together do not reconnect
 * together. WHY (static text) is for the log. */
static void
stream_end(struct stream *s, const char *say, const char *why)
{
	char		 end[FCGI_PROTO_END_LEN], bye[RETRY_BODY_MAX];
	struct frame	*f;
	size_t		 n;

	if (s->flags & (STREAM_DEAD|STREAM_ENDING))
		return;
	if (s->why == NULL)
		s->why = why;
	stream_unsubscribe(s);
	if (!(s->flags & STREAM_STARTED))
		stream_start(s);
	if (say != NULL) {
		n = retry_body(bye, sizeof bye, retry_jitter(
		    s->ctx->cfg->retry_ms, &s->ctx->rnd), say);
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

/* Sets the events S waits for: read always, write while its queue waits. */
static void
stream_watch(struct stream *s, int writing)
{
	short	what = EV_READ|EV_PERSIST;

	if (!!(s->flags & STREAM_WRITING) == writing)
		return;
	event_del(&s->ev);
	if (writing) {
		s->flags |= STREAM_WRITING;
		what |= EV_WRITE;
	} else
		s->flags &= ~STREAM_WRITING;
	event_assign(&s->ev, s->ctx->base, s->fd, what, stream_on_io, s);
	event_add(&s->ev, NULL);
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
		s->drained = (uint32_t)time(NULL);
	}
	switch (rc) {
	case OUTQ_EMPTY:
		if (s->flags & STREAM_ENDING)
			return -1;
		s->replay_bytes = 0;
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
		s->flags &= ~STREAM_DIRTY;
		if (s->flags & STREAM_DEAD)
			stream_free(s);
		else if (!(s->flags & STREAM_WRITING) && stream_flush(s) == -1)
			stream_free(s);
	}
}

static void
stream_on_io(evutil_socket_t fd, short what, void *arg)
{
	struct stream	*s = arg;
	char		 buf[512];
	ssize_t		 n;

	if (what & EV_WRITE) {
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

/* Queues the named event telling the client that history after its id
 * is incomplete (see README "History and resume"). */
static void
stream_push_gap(struct stream *s, size_t channel, int gap)
{
	static const char *reasons[] = { "", "trimmed", "unknown",
	    "truncated" };
	struct frame	*f;
	char		 data[512];
	int		 n;

	n = snprintf(data, sizeof data, "{\"channel\":\"%s\","
	    "\"lastEventId\":\"%s\",\"reason\":\"%s\"}",
	    s->req->channels[channel], s->req->last_id, reasons[gap]);
	f = sse_frame_event(NULL, "sse-gap", data, (size_t)n);
	stream_push(s, f);
	frame_unref(f);
}

/* History callback: replay the snapshot, then the buffer, then go live. */
static void
stream_on_history(void *arg, const struct history_snapshot *snap,
    const char *err)
{
	struct stream		*s = arg;
	const struct history_entry *e;
	struct hub_msg		 m;
	struct frame		*f;
	struct pending		*p;
	size_t			 i, before;
	int			 tagged = s->nsubs > 1;

	s->hreq = NULL;
	if (snap == NULL) {
		log_warn("stream %d/%u: cannot read history (%s); ending the "
		    "stream so the client retries", s->fd, s->request_id, err);
		stream_drop_pending(s);
		s->flags &= ~STREAM_SYNCING;
		stream_end(s, STREAM_BYE_HISTORY, "history unavailable");
		return;
	}
	before = outq_bytes(&s->q);
	/* A last id past the clock means Redis lost its data: ids start
	 * again lower, and the stream must take them. */
	if (s->has_last && s->last.seq > snap->clock_seq)
		s->has_last = 0;
	for (i = 0; i < s->req->nchannels; i++)
		if (snap->gap[i] != HISTORY_GAP_NONE)
			stream_push_gap(s, i, snap->gap[i]);
	for (i = 0; i < snap->nentries; i++) {
		e = &snap->entries[i];
		m.id = &e->id;
		m.id_text = e->id_text;
		m.event = e->event;
		m.data = e->data;
		m.len = e->len;
		f = hub_frame(s->req->channels[e->channel],
		    s->req->lens[e->channel], tagged, &m);
		stream_push(s, f);
		frame_unref(f);
		s->last = e->id;
		s->has_last = 1;
	}
	/* Live events the snapshot already covered were published before
	 * it was taken: their ids are at most its clock. */
	for (p = s->pending; p != NULL; p = p->next) {
		if (p->has_id && (p->id.seq <= snap->clock_seq ||
		    (s->has_last && p->id.seq <= s->last.seq)))
			continue;
		stream_push(s, p->frame);
		if (p->has_id) {
			s->last = p->id;
			s->has_last = 1;
		}
	}
	stream_drop_pending(s);
	s->flags &= ~STREAM_SYNCING;
	s->ctx->n.replayed += snap->nentries;
	s->replay_bytes = outq_bytes(&s->q) - before;
	log_debug("stream %d/%u resumed after %s: %zu events replayed",
	    s->fd, s->request_id, s->req->last_id, snap->nentries);
	stream_drop_req(s);
	stream_mark_dirty(s);
}

/* Queues the live events that waited for the headers. */
static void
stream_flush_pending(struct stream *s)
{
	struct pending	*p;

	for (p = s->pending; p != NULL; p = p->next) {
		stream_push(s, p->frame);
		if (p->has_id) {
			s->last = p->id;
			s->has_last = 1;
		}
	}
	stream_drop_pending(s);
}

/* Starts S once Redis confirmed every channel of S: queues the headers
 * (so the client's onopen means it is subscribed) and, when resuming,
 * reads the history. Returns 1 if S no longer waits. */
static int
stream_try_start(struct stream *s)
{
	struct stream_req	*req;
	const char		*name;
	size_t			 i, len;

	for (i = 0; i < s->nsubs; i++) {
		name = hub_sub_channel(&s->subs[i], &len);
		if (!broker_channel_ready(s->ctx->broker, name, len))
			return 0;
	}
	if (!(s->flags & STREAM_STARTED)) {
		stream_start(s);
		stream_mark_dirty(s);
	}
	if (!(s->flags & STREAM_SYNCING)) {
		stream_flush_pending(s);
		stream_drop_req(s);
		return 1;
	}
	req = s->req;
	s->hreq = history_resume(s->ctx->history,
	    (const char *const *)req->channels, req->lens, req->nchannels,
	    req->last_id, STREAM_REPLAY_MAX, stream_on_history, s);
	if (s->hreq == NULL)
		stream_on_history(s, NULL, "redis unavailable");
	return 1;
}

void
stream_ctx_channel_ready(struct stream_ctx *ctx, const char *channel,
    size_t len)
{
	struct stream	**ws, *s;

	for (ws = &ctx->waiting; (s = *ws) != NULL; ) {
		if (stream_try_start(s)) {
			*ws = s->wait_next;
			s->wait_next = NULL;
		} else
			ws = &s->wait_next;
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
	s->expire_ev = evtimer_new(s->ctx->base, stream_on_expire, s);
	evtimer_add(s->expire_ev, &tv);
}

/* Loop thread: opens the stream the acceptor handed over. */
static void
stream_open(void *arg)
{
	struct stream_req	*req = arg;
	struct stream_ctx	*ctx;
	struct stream		*s;
	size_t			 i;
	char			 chans[256];

	ctx = req->ctx;
	s = xcalloc(1, sizeof *s);
	s->ctx = ctx;
	s->fd = req->fd;
	s->request_id = req->request_id;
	s->opened = time(NULL);
	s->drained = (uint32_t)s->opened;
	s->active_ms = ctx->now_ms;
	s->pending_tail = &s->pending;
	outq_init(&s->q, s->request_id);
	event_assign(&s->ev, ctx->base, s->fd, EV_READ|EV_PERSIST,
	    stream_on_io, s);
	event_add(&s->ev, NULL);
	s->next = ctx->all;
	if (ctx->all != NULL)
		ctx->all->prev = s;
	ctx->all = s;
	ctx->open++;
	ctx->n.opened++;
	if (log_get_level() >= LOG_LVL_DEBUG)
		log_debug("stream %d/%u opened, channels %s%s%s", s->fd,
		    s->request_id, stream_channels(s, req, chans, sizeof chans),
		    req->last_id[0] ? ", resuming after " : "", req->last_id);
	if (ctx->stopping) {
		stream_req_free(req);
		stream_end(s, STREAM_BYE_STOPPING, "worker stopping");
		return;
	}
	s->subs = req->nchannels == 1 ? &s->sub1 :
	    xcalloc(req->nchannels, sizeof *s->subs);
	s->nsubs = req->nchannels;
	if (req->last_id[0] != '\0')
		s->flags |= STREAM_SYNCING;
	for (i = 0; i < req->nchannels; i++)
		hub_subscribe(ctx->hub, &s->subs[i], req->channels[i],
		    req->lens[i], req->nchannels > 1, stream_deliver, s);
	s->req = req;
	if (req->expires != 0)
		stream_expire_at(s, req->expires);
	if (!stream_try_start(s)) {
		s->wait_next = ctx->waiting;
		ctx->waiting = s;
	}
}

/* Rebuilds the request part that resuming needs (the channels) from S's
 * subscriptions; for a resume after Redis came back. */
static struct stream_req *
stream_req_of(const struct stream *s)
{
	struct stream_req	*req;
	const char		*name;
	size_t			 i, len;

	req = stream_req_create(s->nsubs);
	for (i = 0; i < s->nsubs; i++) {
		name = hub_sub_channel(&s->subs[i], &len);
		req->channels[i] = xstrndup(name, len);
		req->lens[i] = len;
	}
	req->nchannels = s->nsubs;
	req->fd = s->fd;
	req->request_id = s->request_id;
	req->ctx = s->ctx;
	return req;
}

void
stream_ctx_resync(struct stream_ctx *ctx)
{
	struct stream	*s;
	unsigned	 n = 0;

	for (s = ctx->all; s != NULL; s = s->next) {
		if (!s->has_last ||
		    (s->flags & (STREAM_SYNCING|STREAM_DEAD|STREAM_ENDING)))
			continue;
		stream_drop_req(s);	/* a stream still resuming kept it */
		s->req = stream_req_of(s);
		event_id_format(&s->last, s->req->last_id);
		s->flags |= STREAM_SYNCING;
		s->wait_next = ctx->waiting;
		ctx->waiting = s;
		n++;
	}
	if (n > 0)
		log_info("redis is back: %u streams resume from their last "
		    "event id", n);
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
		if ((s->flags & (STREAM_DEAD|STREAM_ENDING)) ||
		    !(s->flags & STREAM_STARTED))
			continue;
		/* A stalled client over its cap after the last event. */
		if (stream_over_limit(s, now))
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
