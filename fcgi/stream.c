/* sse-fcgi - MIT License
 *
 * The stream writer (see stream.h). A stream's life:
 *   submit -> open (queue the preamble, subscribe) -> events and keepalive
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
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "cfg.h"
#include "fcgi_proto.h"
#include "frame.h"
#include "hub.h"
#include "log.h"
#include "loop.h"
#include "outq.h"
#include "sse.h"
#include "stream.h"
#include "xmalloc.h"

#define STREAM_DIRTY	0x01	/* on the flush list */
#define STREAM_WRITING	0x02	/* waiting for EV_WRITE */
#define STREAM_ENDING	0x04	/* END_REQUEST queued; free once sent */
#define STREAM_DEAD	0x08	/* free in the next flush pass */

struct stream {
	struct stream_ctx	*ctx;
	struct stream		*prev, *next;	/* all open streams */
	struct stream		*dirty_next;
	struct hub_sub		*sub;
	struct outq		 q;
	struct fcgi_in		 in;
	struct event		 ev;
	int			 fd;
	uint16_t		 request_id;
	uint8_t			 flags;
};

struct stream_ctx {
	struct loop		*loop;
	struct event_base	*base;
	struct hub		*hub;
	const struct cfg	*cfg;
	struct frame		*preamble;	/* headers, ": ok", retry */
	struct frame		*keepalive;
	struct frame		*farewell;	/* last comment on shutdown */
	struct event		*keepalive_ev;
	struct event		*flush_ev;
	struct event		*grace_ev;
	struct stream		*all;
	struct stream		*dirty;
	atomic_uint		 count;		/* open + reserved */
	unsigned		 open;		/* loop thread's own count */
	int			 stopping;
	stream_drained_fn	 drained;
	void			*drained_arg;
};

static void	stream_on_io(evutil_socket_t, short, void *);
static void	stream_on_flush(evutil_socket_t, short, void *);
static void	stream_on_keepalive(evutil_socket_t, short, void *);
static void	stream_on_grace(evutil_socket_t, short, void *);

static struct frame *
stream_make_preamble(const struct cfg *cfg)
{
	char	buf[512];
	int	n;

	n = snprintf(buf, sizeof buf,
	    "Status: 200 OK\r\n"
	    "Content-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\n"
	    "X-Accel-Buffering: no\r\n"
	    "\r\n"
	    ": ok\n\n");
	if (cfg->retry_ms > 0)
		n += snprintf(buf + n, sizeof buf - n, "retry: %u\n\n",
		    cfg->retry_ms);
	return frame_from(buf, (size_t)n);
}

struct stream_ctx *
stream_ctx_create(struct loop *l, struct hub *hub, const struct cfg *cfg)
{
	struct stream_ctx	*ctx;
	struct timeval		 tv;

	ctx = xcalloc(1, sizeof *ctx);
	ctx->loop = l;
	ctx->base = loop_base(l);
	ctx->hub = hub;
	ctx->cfg = cfg;
	ctx->preamble = stream_make_preamble(cfg);
	ctx->keepalive = sse_frame_comment("keepalive");
	ctx->farewell = sse_frame_comment("worker restarting; reconnect");
	ctx->flush_ev = event_new(ctx->base, -1, 0, stream_on_flush, ctx);
	ctx->grace_ev = evtimer_new(ctx->base, stream_on_grace, ctx);
	ctx->keepalive_ev = event_new(ctx->base, -1, EV_PERSIST,
	    stream_on_keepalive, ctx);
	tv.tv_sec = cfg->keepalive;
	tv.tv_usec = 0;
	event_add(ctx->keepalive_ev, &tv);
	return ctx;
}

/* Unlinks and frees S; the connection is closed. */
static void
stream_free(struct stream *s)
{
	struct stream_ctx	*ctx = s->ctx;

	if (s->sub != NULL)
		hub_unsubscribe(ctx->hub, s->sub);
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
	frame_unref(ctx->keepalive);
	frame_unref(ctx->farewell);
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

/* Marks S for freeing in the next flush pass. */
static void
stream_kill(struct stream *s, const char *why)
{
	if (s->flags & STREAM_DEAD)
		return;
	log_debug("stream %d/%u closed: %s", s->fd, s->request_id, why);
	s->flags |= STREAM_DEAD;
	event_del(&s->ev);
	stream_mark_dirty(s);
}

/* Queues F as STDOUT records of at most 64 KiB each. */
static void
stream_push(struct stream *s, struct frame *f)
{
	char	hdr[FCGI_PROTO_HEADER_LEN];
	size_t	off, chunk;

	for (off = 0; off < f->len; off += chunk) {
		chunk = f->len - off;
		if (chunk > FCGI_PROTO_MAX_CONTENT)
			chunk = FCGI_PROTO_MAX_CONTENT;
		fcgi_proto_header(hdr, FCGI_PROTO_STDOUT, s->request_id,
		    (uint16_t)chunk);
		outq_push(&s->q, hdr, sizeof hdr, f, off, chunk);
	}
}

/* Hub callback: one event for this stream. */
static void
stream_deliver(void *owner, struct frame *f)
{
	struct stream	*s = owner;

	if (s->flags & (STREAM_DEAD|STREAM_ENDING))
		return;
	stream_push(s, f);
	if (outq_bytes(&s->q) > s->ctx->cfg->queue_limit) {
		log_warn("stream %d/%u: client not reading, %zu bytes queued "
		    "(queue-limit %zu); closing it", s->fd, s->request_id,
		    outq_bytes(&s->q), s->ctx->cfg->queue_limit);
		outq_clear(&s->q);
		stream_kill(s, "queue over its limit");
		return;
	}
	stream_mark_dirty(s);
}

/* Queues the end of the response; S is freed once it is written. */
static void
stream_end(struct stream *s, struct frame *last_comment)
{
	char		 end[FCGI_PROTO_END_LEN];
	struct frame	*f;

	if (s->flags & (STREAM_DEAD|STREAM_ENDING))
		return;
	if (s->sub != NULL) {
		hub_unsubscribe(s->ctx->hub, s->sub);
		s->sub = NULL;
	}
	if (last_comment != NULL)
		stream_push(s, last_comment);
	fcgi_proto_end(end, s->request_id, 0);
	f = frame_from(end, sizeof end);
	outq_push(&s->q, NULL, 0, f, 0, f->len);
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
	switch (outq_flush(&s->q, s->fd)) {
	case OUTQ_EMPTY:
		if (s->flags & STREAM_ENDING)
			return -1;
		stream_watch(s, 0);
		break;
	case OUTQ_AGAIN:
		stream_watch(s, 1);
		break;
	case OUTQ_ERROR:
		log_debug("stream %d/%u: write: %s", s->fd, s->request_id,
		    strerror(errno));
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
			stream_kill(s, "web server closed the connection");
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
			log_debug("stream %d/%u: ABORT_REQUEST", fd,
			    s->request_id);
			stream_end(s, NULL);
			return;
		case FCGI_IN_ERROR:
			stream_kill(s, "bad FastCGI record from web server");
			return;
		case FCGI_IN_MORE:
			break;
		}
	}
}

/* Loop thread: opens the stream the acceptor handed over. */
static void
stream_open(void *arg)
{
	struct stream_req	*req = arg;
	struct stream_ctx	*ctx;
	struct stream		*s;

	ctx = *(struct stream_ctx **)(req + 1);
	s = xcalloc(1, sizeof *s);
	s->ctx = ctx;
	s->fd = req->fd;
	s->request_id = req->request_id;
	outq_init(&s->q);
	event_assign(&s->ev, ctx->base, s->fd, EV_READ|EV_PERSIST,
	    stream_on_io, s);
	event_add(&s->ev, NULL);
	s->next = ctx->all;
	if (ctx->all != NULL)
		ctx->all->prev = s;
	ctx->all = s;
	ctx->open++;
	stream_push(s, ctx->preamble);
	if (ctx->stopping) {
		stream_end(s, ctx->farewell);
	} else {
		s->sub = hub_subscribe(ctx->hub, req->channel,
		    req->channel_len, stream_deliver, s);
		stream_mark_dirty(s);
	}
	log_debug("stream %d/%u opened on channel %s", s->fd, s->request_id,
	    req->channel);
	free(req);
}

void
stream_submit(struct stream_ctx *ctx, struct stream_req *req)
{
	struct stream_req	*copy;

	/* The context rides behind the request so loop_post needs one arg. */
	copy = xmalloc(sizeof *copy + sizeof ctx);
	memcpy(copy, req, sizeof *req);
	memcpy(copy + 1, &ctx, sizeof ctx);
	free(req);
	loop_post(ctx->loop, stream_open, copy);
}

static void
stream_on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	struct stream_ctx	*ctx = arg;
	struct stream		*s;

	for (s = ctx->all; s != NULL; s = s->next) {
		if (s->flags & (STREAM_DEAD|STREAM_ENDING))
			continue;
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
		stream_end(s, ctx->farewell);
	if (ctx->open == 0) {
		ctx->drained = NULL;
		done(arg);
		return;
	}
	tv.tv_sec = grace;
	tv.tv_usec = 0;
	evtimer_add(ctx->grace_ev, &tv);
}
