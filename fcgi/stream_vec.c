/* sse-fcgi - MIT License
 *
 * A stream of several channels on a Redis Cluster (see stream_vec.h). Its
 * place is a position per channel, since each channel counts its own ids
 * there; each event it sends carries the whole vector as its id (the
 * hub's open frame of the event, then this stream's "id: ~..~..\n\n"), so
 * whatever event EventSource saw last, Last-Event-ID holds every
 * channel's place.
 *
 * It always starts by reading: a channel's first read is after the
 * client's position for it, or the channel's last N events for initial
 * events, or its last 0 (its current position) for a stream that starts
 * fresh, each also covering the first live event held for that channel.
 * Each channel is read on its own (its history lives on its own master),
 * page after page while the client takes them; the pages are sent as they
 * come, each event once per channel past the channel's position. When
 * every channel is read, the held events past their channel's position
 * follow, and the stream goes live. A fresh stream then sends its vector
 * alone ("id:" with no data), so a reconnection before its first event
 * resumes exactly too.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "frame.h"
#include "history.h"
#include "hub.h"
#include "log.h"
#include "stream.h"
#include "stream_int.h"
#include "stream_vec.h"
#include "xmalloc.h"

/* A history entry keeps a frame of each of the hub's kinds. */
typedef char stream_vec_kinds_match[HISTORY_FRAME_KINDS == HUB_KINDS ? 1 :
    -1];

#define STREAM_VEC_PAGE_MIN	4096	/* data bytes per channel and page */

/* One channel's read while the stream syncs. */
struct vec_read {
	struct stream		*s;
	size_t			 i;		/* the channel */
	struct history_req	*hreq;		/* in flight, or NULL */
	struct history_from	 from;		/* where the next read starts */
	int			 first;		/* no page read yet */
	int			 more;		/* another page to read */
};

struct stream_vec {
	size_t			 n;
	struct event_id		*pos;		/* per channel */
	struct vec_read		*reads;		/* while syncing, or NULL */
	unsigned		 out;		/* reads in flight */
	int			 fresh;		/* no position from the client */
};

int
stream_vec_wanted(const struct stream_ctx *ctx, size_t nchannels)
{
	return nchannels > 1 && history_is_cluster(ctx->history);
}

void
stream_vec_create(struct stream *s, struct stream_req *req)
{
	struct stream_vec	*v;
	size_t			 i;

	v = xcalloc(1, sizeof *v);
	v->n = req->nchannels;
	v->pos = xcalloc(v->n, sizeof *v->pos);
	v->fresh = req->from == NULL;
	for (i = 0; req->from != NULL && i < v->n; i++)
		v->pos[i] = req->from[i].after;
	stream_more(s)->vec = v;
	s->flags |= STREAM_VECTOR | STREAM_SYNCING;
}

/* Drops the reads (cancelling those in flight). */
static void
stream_vec_drop_reads(struct stream_vec *v)
{
	size_t	i;

	if (v->reads == NULL)
		return;
	for (i = 0; i < v->n; i++)
		history_cancel(v->reads[i].hreq);
	free(v->reads);
	v->reads = NULL;
	v->out = 0;
}

void
stream_vec_free(struct stream_vec *v)
{
	if (v == NULL)
		return;
	stream_vec_drop_reads(v);
	free(v->pos);
	free(v);
}

void
stream_vec_leave(struct stream *s)
{
	struct stream_vec	*v = STREAM_MORE(s, vec);

	if (v != NULL)
		stream_vec_drop_reads(v);
}

/* Queues "id: <vector>\n\n": the end of an open frame, or alone the
 * position itself. */
static void
stream_vec_push_id(struct stream *s, const struct stream_vec *v)
{
	struct frame	*f;
	char		 buf[4 + EVENT_ID_VEC_MAX(STREAM_VEC_MAX) + 2];
	size_t		 len;

	/* Formatted here, so the frame a queued event keeps is its size. */
	memcpy(buf, "id: ", 4);
	len = 4 + event_id_vec_format(v->pos, v->n, buf + 4);
	memcpy(buf + len, "\n\n", 2);
	f = frame_from(buf, len + 2);
	stream_push(s, f);
	frame_unref(f);
}

/* Queues the open frame F of channel I's event ID (NULL: raw) and the
 * vector that ends it. */
static void
stream_vec_push(struct stream *s, struct stream_vec *v, size_t i,
    struct frame *f, const struct event_id *id)
{
	if (id != NULL)
		v->pos[i] = *id;
	stream_push(s, f);
	stream_vec_push_id(s, v);
}

int
stream_vec_is_new(const struct stream *s, size_t i, const struct event_id *id)
{
	const struct stream_vec	*v = s->more->vec;

	return id == NULL || id->seq > v->pos[i].seq;
}

void
stream_vec_deliver(struct stream *s, size_t i, struct frame *f,
    const struct event_id *id)
{
	struct stream_vec	*v = s->more->vec;

	stream_vec_push(s, v, i, f, id);
}

/* Channel I's first read: after the client's position, or its last N
 * (0 for a fresh stream without initial events); in both cases also
 * after the first live event held for it, when that is older. */
static void
stream_vec_plan(struct stream *s, struct vec_read *r)
{
	struct stream_vec	*v = s->more->vec;
	const struct cfg	*c = s->ctx->cfg;
	struct pending		*p;
	unsigned long		 count, max;
	const char		*name = s->req->channels[r->i];
	size_t			 len = s->req->lens[r->i];

	r->first = 1;
	if (!v->fresh) {
		r->from.after = v->pos[r->i];
		r->from.last = -1;
		return;
	}
	count = cfg_initial_for(c, name, len);
	max = cfg_history_for(c, name, len)->maxlen;
	r->from.last = (long)(count < max ? count : max);
	r->from.after.ms = r->from.after.seq = 0;
	for (p = STREAM_MORE(s, pending); p != NULL; p = p->next)
		if (p->chan == r->i && p->has_id && p->id.seq > 0) {
			r->from.after.ms = p->id.ms;
			r->from.after.seq = p->id.seq - 1;
			break;
		}
}

static void	stream_vec_on_history(void *arg,
		    const struct history_snapshot *snap, const char *err);

/* Reads the next page of each channel that has one (the first: all). */
void
stream_vec_read(struct stream *s)
{
	struct stream_vec	*v = s->more->vec;
	struct stream_req	*req = s->req;
	struct vec_read		*r;
	size_t			 i, budget;

	if (!(s->flags & STREAM_STARTED)) {
		stream_start(s);
		stream_mark_dirty(s);
	}
	if (v->reads == NULL) {
		v->reads = xcalloc(v->n, sizeof *v->reads);
		for (i = 0; i < v->n; i++) {
			v->reads[i].s = s;
			v->reads[i].i = i;
			stream_vec_plan(s, &v->reads[i]);
			v->reads[i].more = 1;
		}
	}
	budget = s->ctx->cfg->queue_limit / v->n;
	if (budget < STREAM_VEC_PAGE_MIN)
		budget = STREAM_VEC_PAGE_MIN;
	for (i = 0; i < v->n; i++) {
		r = &v->reads[i];
		if (!r->more)
			continue;
		r->more = 0;
		r->hreq = history_resume_from(s->ctx->history,
		    (const char *const *)&req->channels[i], &req->lens[i], 1,
		    &r->from, budget, stream_vec_on_history, r);
		if (r->hreq == NULL) {
			stream_vec_drop_reads(v);
			log_warn("stream %d/%u: cannot read history (redis "
			    "unavailable); ending the stream so the client "
			    "retries", s->fd, s->request_id);
			stream_end(s, STREAM_BYE_HISTORY,
			    "history unavailable");
			return;
		}
		v->out++;
	}
}

/* Every channel is read: the held events past their channel's position,
 * then live. */
static void
stream_vec_live(struct stream *s, struct stream_vec *v)
{
	struct pending	*p;
	size_t		 replayed;

	for (p = STREAM_MORE(s, pending); p != NULL; p = p->next)
		if (!p->has_id || p->id.seq > v->pos[p->chan].seq)
			stream_vec_push(s, v, p->chan, p->frame,
			    p->has_id ? &p->id : NULL);
	stream_drop_pending(s);
	if (v->fresh)
		stream_vec_push_id(s, v);
	v->fresh = 0;
	stream_vec_drop_reads(v);
	replayed = s->more->replayed;
	s->more->replayed = 0;
	s->flags &= ~STREAM_SYNCING;
	stream_mark_dirty(s);
	log_debug("stream %d/%u: %zu events replayed over %zu channels",
	    s->fd, s->request_id, replayed, v->n);
	stream_drop_req(s);
}

/* History callback of one channel's read: its page goes out at once. */
static void
stream_vec_on_history(void *arg, const struct history_snapshot *snap,
    const char *err)
{
	struct vec_read		*r = arg;
	struct stream		*s = r->s;
	struct stream_vec	*v = s->more->vec;
	const struct history_entry *e;
	size_t			 k, i = r->i;
	char			 pos[EVENT_ID_MAX];

	r->hreq = NULL;
	v->out--;
	if (snap == NULL) {
		stream_vec_drop_reads(v);
		log_warn("stream %d/%u: cannot read history of %s (%s); "
		    "ending the stream so the client retries", s->fd,
		    s->request_id, s->req->channels[i], err);
		stream_end(s, STREAM_BYE_HISTORY, "history unavailable");
		return;
	}
	if (r->first) {
		r->first = 0;
		if (r->from.last >= 0)
			v->pos[i] = snap->start != NULL ? snap->start[0] :
			    r->from.after;
		else {
			if (snap->gap[0] != HISTORY_GAP_NONE) {
				event_id_format(&v->pos[i], pos);
				stream_push_gap(s, s->req->channels[i], pos,
				    snap->gap[0]);
			}
			/* Past the clock: Redis lost the channel's data, its
			 * ids start again lower (the read took them all). */
			if (v->pos[i].seq > snap->clock_seq)
				v->pos[i].ms = v->pos[i].seq = 0;
		}
	}
	for (k = 0; k < snap->nentries; k++) {
		e = &snap->entries[k];
		if (e->id.seq <= v->pos[i].seq)
			continue;	/* not past the position */
		stream_vec_push(s, v, i, stream_entry_frame(e,
		    s->req->channels[i], s->req->lens[i], HUB_TAGGED_OPEN),
		    &e->id);
		s->ctx->n.replayed++;
		s->more->replayed++;
	}
	stream_mark_dirty(s);
	if (snap->more && snap->nentries > 0) {
		r->more = 1;
		r->from.after = v->pos[i];
		r->from.last = -1;
	}
	if (v->out > 0)
		return;
	for (k = 0; k < v->n && !v->reads[k].more; k++)
		;
	if (k == v->n) {
		stream_vec_live(s, v);
		return;
	}
	/* The next pages when the client has taken enough (stream_flush
	 * asks, stream_replay_next); at once if it has. */
	s->flags |= STREAM_PAGED;
	if (outq_bytes(&s->q) <= s->ctx->cfg->queue_limit)
		stream_replay_next(s);
}

void
stream_vec_resume(struct stream *s, struct stream_req *req)
{
	struct stream_vec	*v = s->more->vec;
	size_t			 i;

	stream_vec_drop_reads(v);
	req->from = xcalloc(v->n, sizeof *req->from);
	for (i = 0; i < v->n; i++) {
		req->from[i].after = v->pos[i];
		req->from[i].last = -1;
	}
	v->fresh = 0;
}
