/* sse-fcgi - MIT License
 *
 * When a stream may start (see stream_int.h). A stream subscribes to its
 * channels at once and counts those Redis has not confirmed yet (nwait);
 * the hub tells it of each confirmation of its own channels only, so a
 * confirmation costs the streams of that channel and nothing else. When
 * the count reaches zero the headers go out (onopen means subscribed) and,
 * when the stream resumes (Last-Event-ID), history is read: live events
 * that arrive meanwhile are held, then the history after the id is
 * replayed page by page, each page read once the queue has drained to
 * queue-limit (stream.c's flush asks, stream_replay_next), then the held
 * events the last page did not cover; no gap, no duplicate. A page is
 * about queue-limit of data, split over the stream's channels, and its
 * frames are shared with the other streams of the same read.
 * After a lost Redis connection every channel waits again, and each stream
 * that has seen an id resumes from it the same way.
 *
 * Poll mode (poll-hold) uses the same path and ends the stream as soon as
 * it has sent something: after the replay when it replayed events, else
 * after the first live event (stream.c). A poll with no id of its own
 * reads the clock instead of history, once its channels are confirmed,
 * and sends the last id published as its position (an "id:" line with no
 * data, which sets EventSource's last event id) with its headers, then
 * ends at once: the next poll resumes from there, so nothing published
 * after the position is lost, and a first poll holds no process for the
 * hold time (under mod_fcgid a page load costs one short request). Held
 * events up to that id are before the position, the rest are sent.
 *
 * Initial events (initial.h): a stream with no id of its own whose
 * channels have initial-events rules reads the same way, its first page
 * from each channel's last N (and from the first event it holds, if that
 * is older), the next ones after its position; held events the reads
 * covered are dropped as when resuming. It sends no sse-gap. A first poll
 * with initial events sends them, then its position, and ends.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "frame.h"
#include "history.h"
#include "hub.h"
#include "initial.h"
#include "log.h"
#include "presence.h"
#include "sse.h"
#include "stream.h"
#include "stream_auth.h"
#include "stream_int.h"
#include "stream_query.h"
#include "stream_vec.h"
#include "xmalloc.h"

#define STREAM_PAGE_MIN		4096	/* data bytes per channel and page */

static void	stream_on_ready(void *owner, struct hub_sub *sub);
static void	stream_on_lost(void *owner, struct hub_sub *sub);

static const struct hub_sub_ops stream_sub_ops = {
	stream_deliver, stream_on_ready, stream_on_lost
};

void
stream_drop_pending(struct stream *s)
{
	struct stream_more	*m = s->more;
	struct pending		*p, *next;

	if (m == NULL)
		return;
	for (p = m->pending; p != NULL; p = next) {
		next = p->next;
		frame_unref(p->frame);
		free(p);
	}
	m->pending = NULL;
	m->pending_tail = &m->pending;
	m->pending_bytes = 0;
}

/* Frees what only opening and resuming needed: a live stream finds its
 * channels through its subscriptions. */
void
stream_drop_req(struct stream *s)
{
	stream_req_free(s->req);
	s->req = NULL;
}

/* Presence hook: S counts on its presence channels from the moment it
 * subscribes until it leaves (presence.h decides which channels). */
static void
stream_presence(struct stream *s, int join)
{
	const char	*name;
	size_t		 i, len;

	if (s->ctx->presence == NULL || s->present == join)
		return;
	s->present = join;
	for (i = 0; i < s->nsubs; i++) {
		if (!hub_sub_active(&s->subs[i]))
			continue;
		name = hub_sub_channel(&s->subs[i], &len);
		if (join)
			presence_join(s->ctx->presence, name, len,
			    STREAM_MORE(s, user));
		else
			presence_leave(s->ctx->presence, name, len,
			    STREAM_MORE(s, user));
	}
}

/* Names REQ's presence user after the app's X-SSE-User, when presence
 * is on (it counts only its own channels) and auth-url gave a name. Every
 * name auth-url accepts (auth_url_user_valid) presence can list. */
static void
stream_app_user(struct stream *s, struct stream_req *req)
{
	const char	*u = stream_auth_user(s);

	if (u == NULL || s->ctx->presence == NULL)
		return;
	free(req->user);
	req->user = xstrdup(u);
}

void
stream_ctx_set_presence(struct stream_ctx *ctx, struct presence *p)
{
	ctx->presence = p;
}

void
stream_leave(struct stream *s)
{
	size_t	i;

	if (s->nsubs > 0 && hub_sub_active(&s->subs[0]))
		stream_log_closed(s);
	stream_auth_leave(s);		/* auth-url: no verdict reaches S */
	stream_query_leave(s);
	stream_vec_leave(s);
	stream_presence(s, 0);
	if (s->more != NULL) {
		free(s->more->user);
		s->more->user = NULL;
	}
	for (i = 0; i < s->nsubs; i++)
		if (hub_sub_active(&s->subs[i]))
			hub_unsubscribe(s->ctx->hub, &s->subs[i]);
	if (s->more != NULL) {
		history_cancel(s->more->hreq);
		s->more->hreq = NULL;
	}
	stream_drop_pending(s);
	stream_more_trim(s);
	s->flags &= ~(STREAM_WAITING|STREAM_SYNCING|STREAM_PAGED);
	s->nwait = 0;
}

void
stream_hold(struct stream *s, size_t chan, struct frame *f,
    const struct event_id *id)
{
	struct stream_more	*m = stream_more(s);
	struct pending		*p;

	/* Bounded like the queue, so a stalled Redis cannot grow the
	 * worker. */
	m->pending_bytes += f->len;
	if (m->pending_bytes > s->ctx->cfg->queue_limit) {
		log_warn("stream %d/%u: %zu bytes of live events waiting for "
		    "history; closing it", s->fd, s->request_id,
		    m->pending_bytes);
		s->ctx->n.slow_closed++;
		stream_kill(s, "too much waiting for history");
		return;
	}
	p = xmalloc(sizeof *p);
	p->next = NULL;
	p->frame = frame_ref(f);
	p->chan = chan;
	p->has_id = id != NULL;
	if (id != NULL)
		p->id = *id;
	*m->pending_tail = p;
	m->pending_tail = &p->next;
	s->ctx->n.delivered++;
}

/* The named event telling the client that history after its id is
 * incomplete (see README "History and resume"). */
void
stream_push_gap(struct stream *s, const char *channel, const char *last_id,
    int gap)
{
	static const char *reasons[] = { "", "trimmed", "unknown" };
	struct frame	*f;
	char		 data[512];
	int		 n;

	n = snprintf(data, sizeof data, "{\"channel\":\"%s\","
	    "\"lastEventId\":\"%s\",\"reason\":\"%s\"}",
	    channel, last_id, reasons[gap]);
	f = sse_frame_event(NULL, "sse-gap", data, (size_t)n);
	stream_push(s, f);
	frame_unref(f);
}

struct frame *
stream_entry_frame(const struct history_entry *e, const char *channel,
    size_t len, int kind)
{
	struct frame	**slot = &e->frames[kind];
	struct hub_msg	  m;

	if (*slot == NULL) {
		m.id = &e->id;
		m.id_text = e->id_text;
		m.event = e->event;
		m.data = e->data;
		m.len = e->len;
		*slot = hub_frame(channel, len, kind, &m);
	}
	return *slot;
}

/* Queues a page's entries, each in the frame the read shares. */
static void
stream_replay_page(struct stream *s, const struct history_snapshot *snap)
{
	const struct history_entry *e;
	size_t			 i;
	int			 kind = s->nsubs > 1 ? HUB_TAGGED : HUB_PLAIN;

	for (i = 0; i < snap->nentries; i++) {
		e = &snap->entries[i];
		stream_push(s, stream_entry_frame(e,
		    s->req->channels[e->channel], s->req->lens[e->channel],
		    kind));
		s->last = e->id;
		s->has_last = 1;
	}
	s->ctx->n.replayed += snap->nentries;
	stream_more(s)->replayed += snap->nentries;
}

/* History callback: replay a page; after the last one, the held events,
 * then go live. */
static void
stream_on_history(void *arg, const struct history_snapshot *snap,
    const char *err)
{
	struct stream		*s = arg;
	struct pending		*p;
	struct frame		*f;
	size_t			 i, held = 0, replayed;
	int			 initial = s->req->from != NULL;
	int			 position = s->req->last_id[0] == '\0' &&
				    !initial;
	char			 buf[EVENT_ID_MAX + 8];

	if (s->more != NULL)
		s->more->hreq = NULL;
	if (snap == NULL) {
		log_warn("stream %d/%u: cannot read history (%s); ending the "
		    "stream so the client retries", s->fd, s->request_id, err);
		stream_end(s, STREAM_BYE_HISTORY, "history unavailable");
		return;
	}
	/* The client's own id is its position until an event moves it:
	 * a late live copy of an event it had is not sent again. */
	if (!s->has_last && !position && event_id_parse(s->req->last_id,
	    strlen(s->req->last_id), &s->last) == 0)
		s->has_last = 1;
	/* A last id past the clock means Redis lost its data: ids start
	 * again lower, and the stream must take them. */
	if (s->has_last && s->last.seq > snap->clock_seq)
		s->has_last = 0;
	if (position) {
		/* A first poll: it starts at the last id published. */
		s->last.ms = snap->clock_ms;
		s->last.seq = snap->clock_seq;
		s->has_last = 1;
		if (!(s->flags & STREAM_STARTED))
			stream_start(s);
		i = event_id_format(&s->last, buf + 4);
		memcpy(buf, "id: ", 4);
		memcpy(buf + 4 + i, "\n\n", 2);
		f = frame_from(buf, i + 6);
		stream_push(s, f);
		frame_unref(f);
	}
	for (i = 0; !position && !initial && i < s->req->nchannels; i++)
		if (snap->gap[i] != HISTORY_GAP_NONE)
			stream_push_gap(s, s->req->channels[i],
			    s->req->last_id, snap->gap[i]);
	stream_replay_page(s, snap);
	stream_mark_dirty(s);
	if (snap->more && snap->nentries > 0) {
		/* The next page starts after this one's last entry, when
		 * the client has taken enough (stream_flush); at once if it
		 * has, as the flush pass skips a stream whose socket is
		 * full. */
		event_id_format(&s->last, s->req->last_id);
		if (initial)
			initial_next(s->req->from, s->req->nchannels, snap,
			    &s->last);
		s->flags |= STREAM_PAGED;
		if (outq_bytes(&s->q) <= s->ctx->cfg->queue_limit)
			stream_replay_next(s);
		return;
	}
	/* Held events the last page already covered were published before
	 * it was read: their ids are at most its clock. */
	for (p = STREAM_MORE(s, pending); p != NULL; p = p->next) {
		if (p->has_id && (p->id.seq <= snap->clock_seq ||
		    (s->has_last && p->id.seq <= s->last.seq)))
			continue;
		stream_push(s, p->frame);
		held++;
		if (p->has_id) {
			s->last = p->id;
			s->has_last = 1;
		}
	}
	stream_drop_pending(s);
	replayed = STREAM_MORE(s, replayed);
	if (s->more != NULL)
		s->more->replayed = 0;
	stream_more_trim(s);
	s->flags &= ~STREAM_SYNCING;
	log_debug("stream %d/%u %s: %zu events replayed", s->fd,
	    s->request_id, initial ? "sent its initial events" : "resumed",
	    replayed);
	stream_drop_req(s);
	if (s->ctx->cfg->poll_hold_ms < 0)
		return;
	/* A first poll with initial events: its position after them. */
	if (initial && (!s->has_last || s->last.seq < snap->clock_seq)) {
		s->last.ms = snap->clock_ms;
		s->last.seq = snap->clock_seq;
		s->has_last = 1;
		i = event_id_format(&s->last, buf + 4);
		memcpy(buf, "id: ", 4);
		memcpy(buf + 4 + i, "\n\n", 2);
		f = frame_from(buf, i + 6);
		stream_push(s, f);
		frame_unref(f);
	}
	if (position || initial || replayed + held > 0)
		stream_poll_answered(s);
	else
		stream_poll_wait(s);
}

/* Asks for the page of history after S's resume id: about queue-limit
 * of data, split over its channels. */
static void
stream_read_history(struct stream *s)
{
	struct stream_req	*req = s->req;
	struct pending		*p;
	size_t			 budget;

	if (s->flags & STREAM_VECTOR) {
		stream_vec_read(s);
		return;
	}
	if (req->from != NULL) {
		budget = s->ctx->cfg->queue_limit / req->nchannels;
		if (budget < STREAM_PAGE_MIN)
			budget = STREAM_PAGE_MIN;
		/* The first page also covers the events held already. */
		for (p = STREAM_MORE(s, pending); p != NULL && !p->has_id;
		    p = p->next)
			;
		if (req->from[0].last >= 0 && p != NULL) {
			free(req->from);
			req->from = initial_plan(s->ctx->cfg,
			    req->channels, req->lens, req->nchannels, &p->id);
		}
		(void)stream_more(s);
		s->more->hreq = history_resume_from(s->ctx->history,
		    (const char *const *)req->channels, req->lens,
		    req->nchannels, req->from, budget, stream_on_history, s);
		if (s->more->hreq == NULL)
			stream_on_history(s, NULL, "redis unavailable");
		return;
	}
	if (req->last_id[0] == '\0') {
		/* Poll mode's first request: the clock only; in a cluster
		 * its channel's clock, read with its last 0 events. */
		(void)stream_more(s);
		if (history_is_cluster(s->ctx->history)) {
			struct history_from	clock = { { 0, 0 }, 0 };

			s->more->hreq = history_resume_from(s->ctx->history,
			    (const char *const *)req->channels, req->lens,
			    req->nchannels, &clock, STREAM_PAGE_MIN,
			    stream_on_history, s);
		} else
			s->more->hreq = history_resume(s->ctx->history, NULL,
			    NULL, 0, "0-0", 0, stream_on_history, s);
		if (s->more->hreq == NULL)
			stream_on_history(s, NULL, "redis unavailable");
		return;
	}
	budget = s->ctx->cfg->queue_limit / req->nchannels;
	if (budget < STREAM_PAGE_MIN)
		budget = STREAM_PAGE_MIN;
	(void)stream_more(s);
	s->more->hreq = history_resume(s->ctx->history,
	    (const char *const *)req->channels, req->lens, req->nchannels,
	    req->last_id, budget, stream_on_history, s);
	if (s->more->hreq == NULL)
		stream_on_history(s, NULL, "redis unavailable");
}

void
stream_replay_next(struct stream *s)
{
	s->flags &= ~STREAM_PAGED;
	stream_read_history(s);
}

/* Queues the live events that waited for the headers. */
static void
stream_flush_pending(struct stream *s)
{
	struct pending	*p;

	for (p = STREAM_MORE(s, pending); p != NULL; p = p->next) {
		stream_push(s, p->frame);
		if (p->has_id) {
			s->last = p->id;
			s->has_last = 1;
		}
	}
	stream_drop_pending(s);
	stream_more_trim(s);
}

/* Every channel of S is confirmed: queues the headers (once) and, when
 * resuming, reads the history; else what was held goes out. */
static void
stream_begin(struct stream *s)
{
	s->flags &= ~STREAM_WAITING;
	/* A first poll's headers go with its position: a client that has
	 * them has a position. */
	if (!(s->flags & STREAM_STARTED) && ((s->flags & STREAM_SYNCING) == 0 ||
	    s->req->last_id[0] != '\0' || s->req->from != NULL)) {
		stream_start(s);
		stream_mark_dirty(s);
	}
	if (!(s->flags & STREAM_SYNCING)) {
		stream_flush_pending(s);
		stream_drop_req(s);
		return;
	}
	if (s->more != NULL)
		s->more->replayed = 0;
	stream_read_history(s);
}

/* Hub callback: one of S's channels is confirmed. */
static void
stream_on_ready(void *owner, struct hub_sub *sub)
{
	struct stream	*s = owner;

	if (!(s->flags & STREAM_WAITING) || s->nwait == 0)
		return;
	if (--s->nwait == 0)
		stream_begin(s);
}

/* Makes S wait for its channels that are not confirmed; starts it when
 * none is left. */
static void
stream_wait(struct stream *s)
{
	size_t	i;

	s->nwait = 0;
	for (i = 0; i < s->nsubs; i++)
		s->nwait += !hub_sub_ready(&s->subs[i]);
	s->flags |= STREAM_WAITING;
	if (s->nwait == 0)
		stream_begin(s);
}

void
stream_subscribe(struct stream *s, struct stream_req *req)
{
	size_t	i;
	int	kind;

	/* auth-url: the app says first (stream_auth.h). */
	if (stream_auth_wait(s, req))
		return;
	if (req->presence) {
		stream_query_presence(s, req);
		return;
	}
	s->subs = req->nchannels == 1 ? &s->sub1 :
	    xcalloc(req->nchannels, sizeof *s->subs);
	s->nsubs = req->nchannels;
	s->req = req;
	kind = req->nchannels > 1 ? HUB_TAGGED : HUB_PLAIN;
	if (stream_vec_wanted(s->ctx, req->nchannels)) {
		stream_vec_create(s, req);
		kind = HUB_TAGGED_OPEN;
	} else if (req->last_id[0] == '\0')
		req->from = initial_plan(s->ctx->cfg, req->channels, req->lens,
		    req->nchannels, NULL);
	if (req->last_id[0] != '\0' || req->from != NULL ||
	    s->ctx->cfg->poll_hold_ms >= 0)
		s->flags |= STREAM_SYNCING;
	for (i = 0; i < req->nchannels; i++)
		hub_subscribe(s->ctx->hub, &s->subs[i], req->channels[i],
		    req->lens[i], kind, &stream_sub_ops, s);
	/* The user: the app's X-SSE-User (auth-url), else REMOTE_USER or the
	 * token's sub as the acceptor chose; kept for the leave. */
	stream_app_user(s, req);
	if (req->user != NULL) {
		(void)stream_more(s);
		s->more->user = req->user;
		req->user = NULL;
	}
	stream_presence(s, 1);
	stream_wait(s);
}

void
stream_ctx_redis_lost(struct stream_ctx *ctx)
{
	struct stream	*s;

	hub_channels_lost(ctx->hub);
	/* Confirmations already counted are void: count again. */
	for (s = ctx->all; s != NULL; s = s->next)
		if (s->flags & STREAM_WAITING)
			stream_wait(s);
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

/* S, live, may have missed events: it resumes from its last id once its
 * channels are confirmed again. Returns 1 if it does (it has an id). */
static int
stream_resync(struct stream *s)
{
	if ((!s->has_last && !(s->flags & STREAM_VECTOR)) ||
	    (s->flags & (STREAM_WAITING|STREAM_SYNCING|STREAM_DEAD|
	    STREAM_ENDING)))
		return 0;
	stream_drop_req(s);
	s->req = stream_req_of(s);
	if (s->flags & STREAM_VECTOR)
		stream_vec_resume(s, s->req);
	else
		event_id_format(&s->last, s->req->last_id);
	s->flags |= STREAM_SYNCING;
	stream_wait(s);
	return 1;
}

void
stream_ctx_resync(struct stream_ctx *ctx)
{
	struct stream	*s;
	unsigned	 n = 0;

	for (s = ctx->all; s != NULL; s = s->next)
		n += stream_resync(s);
	if (n > 0)
		log_info("redis is back: %u streams resume from their last "
		    "event id", n);
}

/* Hub callback: one of S's channels lapsed alone (a cluster's shard).
 * Waiting, S counts it again; live with an id, S resumes from it once the
 * channel is back; reading history, S ends so that its client resumes
 * (the events published meanwhile were neither held nor read). */
static void
stream_on_lost(void *owner, struct hub_sub *sub)
{
	struct stream	*s = owner;

	(void)sub;
	if (s->flags & (STREAM_DEAD|STREAM_ENDING))
		return;
	if (s->flags & STREAM_WAITING) {
		stream_wait(s);
		return;
	}
	if (s->flags & STREAM_SYNCING) {
		stream_end(s, STREAM_BYE_HISTORY, "redis lost while resuming");
		return;
	}
	stream_resync(s);
}
