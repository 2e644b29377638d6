/* sse-fcgi - MIT License
 *
 * The stream life cycle without Redis or a front server: the hub stands in
 * for the broker's confirmations, a socketpair for the web server's
 * connection, and a scripted history reader (below) for Redis's history.
 * Covers: start only once every channel is confirmed; a stream that ends
 * while it waits (and a confirmation in the same pass); a history reply
 * for a stream that ended; a resync while the socket is full; SIGTERM
 * during a resync; a lost connection between two confirmations; history
 * replayed page by page as the queue drains, over several channels, with
 * frames shared between the streams of one read, and a failed page.
 * Poll mode: ends after the replay; ends after the first live event (a
 * burst goes together); ends at the hold deadline; no duplicate or gap
 * between replay and live; a first poll sends its position (the clock)
 * with its headers and ends, skipping what was held up to it.
 * Initial events: the first read asks for each channel's last N (and
 * covers the events held before it); an event published during the read
 * comes once, whichever connection brings it first; later pages go on
 * after the position or the channel's own start; no rule, no read; a
 * first poll sends them, then its position.
 * Presence: a stream joins its channels with its user when it subscribes
 * and leaves each once, whichever way it ends (a recording presence_join
 * and presence_leave are linked instead of src/presence.c). A presence
 * request (stream_query.h) is read and answered once, or 503.
 * Bursts: a stream behind on its channel holds one slot however many
 * events wait; the reader gets them all in order; one that paused less
 * than the stall window is kept, one that took nothing for longer is
 * closed, and so is an ending stream whose client takes nothing.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "event_id.h"
#include "fcgi_proto.h"
#include "frame.h"
#include "history.h"
#include "hub.h"
#include "loop.h"
#include "presence.h"
#include "stream.h"
#include "stream_int.h"
#include "testlib.h"

/* The recording presence: each call appends "+channel/user" or
 * "-channel/user" to presence_log. */
static char	presence_log[1024];

static void
presence_record(char sign, const char *channel, size_t len, const char *user)
{
	size_t	n = strlen(presence_log);

	snprintf(presence_log + n, sizeof presence_log - n, "%c%.*s/%s ",
	    sign, (int)len, channel, user != NULL ? user : "-");
}

void
presence_join(struct presence *p, const char *channel, size_t len,
    const char *user)
{
	presence_record('+', channel, len, user);
}

void
presence_leave(struct presence *p, const char *channel, size_t len,
    const char *user)
{
	presence_record('-', channel, len, user);
}

/* The scripted presence read (stream_query.c): presence_query() records
 * the read, the test answers it with query_answer(). Fails while
 * query_down is set. */
struct presence_query {
	presence_query_fn	 fn;		/* NULL once cancelled */
	void			*arg;
	char			 channel[64];
};
static struct presence_query	queries[8];
static int			nqueries, query_down;

struct presence_query *
presence_query(struct presence *p, const char *channel, size_t len,
    presence_query_fn fn, void *arg, char *err, size_t errlen)
{
	struct presence_query	*q;

	if (query_down || p == NULL || nqueries == 8) {
		snprintf(err, errlen, "presence: redis is unreachable");
		return NULL;
	}
	q = &queries[nqueries++];
	q->fn = fn;
	q->arg = arg;
	snprintf(q->channel, sizeof q->channel, "%.*s", (int)len, channel);
	return q;
}

void
presence_query_cancel(struct presence_query *q)
{
	if (q != NULL)
		q->fn = NULL;
}

static void
query_answer(struct presence_query *q, const char *json, const char *err)
{
	presence_query_fn	fn = q->fn;

	q->fn = NULL;
	if (fn != NULL)
		fn(q->arg, json, err);
}

/* The scripted history reader: history_resume() records the request, the
 * test answers it (or not) with reply(). Linked instead of src/history.c. */
struct history_req {
	history_fn	 fn;
	void		*arg;
	int		 cancelled;
	int		 answered;
	char		 after[EVENT_ID_MAX];
	size_t		 nchannels;
	int		 has_from;	/* history_resume_from() */
	struct history_from from[8];
};

#define MAX_REQS	64
static struct history_req	reqs[MAX_REQS];
static int			nreqs;
static int			history_down;

struct history_req *
history_resume(struct history *h, const char *const *channels,
    const size_t *lens, size_t n, const char *after, size_t max,
    history_fn fn, void *arg)
{
	struct history_req	*q;

	if (history_down || nreqs == MAX_REQS)
		return NULL;
	q = &reqs[nreqs++];
	memset(q, 0, sizeof *q);
	q->fn = fn;
	q->arg = arg;
	q->nchannels = n;
	snprintf(q->after, sizeof q->after, "%s", after);
	return q;
}

struct history_req *
history_resume_from(struct history *h, const char *const *channels,
    const size_t *lens, size_t n, const struct history_from *from,
    size_t max, history_fn fn, void *arg)
{
	struct history_req	*q;

	if (history_down || nreqs == MAX_REQS || n > 8)
		return NULL;
	q = &reqs[nreqs++];
	memset(q, 0, sizeof *q);
	q->fn = fn;
	q->arg = arg;
	q->nchannels = n;
	q->has_from = 1;
	memcpy(q->from, from, n * sizeof *from);
	return q;
}

static int	history_cluster;	/* history_is_cluster() says */

int
history_is_cluster(const struct history *h)
{
	return history_cluster;
}

void
history_cancel(struct history_req *q)
{
	if (q != NULL)
		q->cancelled = 1;
}

#define MAX_ENTRIES	64
static size_t	pad;	/* bytes of 'x' after each published number */
/* A page's frame slots, as history.c shares them between the streams of
 * one read; dropped after the callbacks (page_done). */
static struct frame	*slots[MAX_ENTRIES][HISTORY_FRAME_KINDS];
static struct history_entry page_e[MAX_ENTRIES];
static char		 page_ids[MAX_ENTRIES][EVENT_ID_MAX];
static char		 page_data[MAX_ENTRIES][4200];
static struct event_id	 page_start[8];	/* the reads' starts */
static uint64_t		 page_ms;	/* the clock's ms */

/* Fills the page: events SEQS[0..N) (ids 1-SEQ, data "eSEQ" and pad
 * bytes of 'x'), on channel CHANS[i] (or 0 when CHANS is NULL). */
static void
page_fill(const size_t *chans, const uint64_t *seqs, size_t n)
{
	struct history_entry	*e;
	size_t			 i;
	int			 k;

	for (i = 0; i < n; i++) {
		e = &page_e[i];
		memset(e, 0, sizeof *e);
		e->channel = chans != NULL ? chans[i] : 0;
		e->id.ms = 1;
		e->id.seq = seqs[i];
		event_id_format(&e->id, page_ids[i]);
		e->id_text = page_ids[i];
		e->event = "";
		k = snprintf(page_data[i], sizeof page_data[i], "e%llu",
		    (unsigned long long)seqs[i]);
		memset(page_data[i] + k, 'x', pad);
		page_data[i][k + pad] = '\0';
		e->data = page_data[i];
		e->len = strlen(page_data[i]);
		e->frames = slots[i];
	}
}

/* Answers Q with the N entries of the page and the clock at CLOCK, MORE
 * to read; a cancelled request is not answered, as history.c drops it. */
static void
page_answer(struct history_req *q, size_t n, uint64_t clock, int more)
{
	struct history_snapshot	 snap;
	static const int	 nogap[8];

	q->answered = 1;
	if (q->cancelled)
		return;
	memset(&snap, 0, sizeof snap);
	snap.clock_seq = clock;
	snap.clock_ms = page_ms;
	snap.gap = nogap;
	snap.start = page_start;
	snap.entries = page_e;
	snap.nentries = n;
	snap.more = more;
	q->fn(q->arg, &snap, NULL);
}

/* Drops the page's frames, as history.c does after the callbacks. */
static void
page_done(void)
{
	size_t	i;
	size_t	k;

	for (i = 0; i < MAX_ENTRIES; i++)
		for (k = 0; k < HISTORY_FRAME_KINDS; k++) {
			frame_unref(slots[i][k]);
			slots[i][k] = NULL;
		}
}

/* Answers Q with events SEQS[0..N) on channel 0, the last page. */
static void
reply(struct history_req *q, const uint64_t *seqs, size_t n, uint64_t clock)
{
	page_fill(NULL, seqs, n);
	page_answer(q, n, clock, 0);
	page_done();
}

/* The web server's side of one stream's connection: what it was sent. */
struct peer {
	int	 fd;
	uint16_t rid;
	char	 raw[1 << 16];	/* records not yet parsed */
	size_t	 nraw;
	char	 out[1 << 18];	/* STDOUT content, NUL-terminated */
	size_t	 nout;
	int	 ended;		/* END_REQUEST seen */
	size_t	 after_end;	/* bytes that came after it */
};

static struct loop		*l;
static struct hub		*hub;
static struct stream_ctx	*ctx;
static struct cfg		 cfg;

/* Runs the loop until nothing is left to do right now. */
static void
pump(void)
{
	int	i;

	for (i = 0; i < 8; i++)
		event_base_loop(loop_base(l), EVLOOP_NONBLOCK);
}

/* Reads what the stream wrote to P and parses the records. */
static void
drain(struct peer *p)
{
	ssize_t	n;
	size_t	clen, plen, rec;
	unsigned char *h;

	pump();
	for (;;) {
		n = read(p->fd, p->raw + p->nraw, sizeof p->raw - p->nraw);
		if (n <= 0)
			break;
		p->nraw += (size_t)n;
		while (p->nraw >= FCGI_PROTO_HEADER_LEN) {
			h = (unsigned char *)p->raw;
			clen = (size_t)h[4] << 8 | h[5];
			plen = h[6];
			rec = FCGI_PROTO_HEADER_LEN + clen + plen;
			if (p->nraw < rec)
				break;
			if (p->ended)
				p->after_end += rec;
			else if (h[1] == FCGI_PROTO_END_REQUEST)
				p->ended = 1;
			else if (h[1] == FCGI_PROTO_STDOUT &&
			    p->nout + clen < sizeof p->out) {
				memcpy(p->out + p->nout, h + 8, clen);
				p->nout += clen;
				p->out[p->nout] = '\0';
			}
			memmove(p->raw, p->raw + rec, p->nraw - rec);
			p->nraw -= rec;
		}
		pump();
	}
}

/* Opens a stream on CHANNELS (comma-separated) resuming after LAST
 * ("" for none); the peer end is P. */
static const char	*next_user;	/* the next stream's user */
static int		 next_presence;	/* the next is a presence request */

static void
open_stream(struct peer *p, const char *channels, const char *last,
    uint16_t rid)
{
	struct stream_req	*req;
	int			 sv[2];
	char			 buf[256], *name, *save = NULL;

	memset(p, 0, sizeof *p);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	p->fd = sv[1];
	p->rid = rid;
	req = stream_req_create(8);
	req->fd = sv[0];
	req->request_id = rid;
	if (last[0] == '~') {
		/* A position vector, as the acceptor reads it. */
		struct event_id	v[8];
		size_t		i, n = 1;

		for (i = 0; channels[i] != '\0'; i++)
			n += channels[i] == ',';
		if (event_id_vec_parse(last, strlen(last), v, n) == -1)
			abort();
		req->from = calloc(n, sizeof *req->from);
		for (i = 0; i < n; i++) {
			req->from[i].after = v[i];
			req->from[i].last = -1;
		}
	} else
		snprintf(req->last_id, sizeof req->last_id, "%s", last);
	if (next_user != NULL)
		req->user = strdup(next_user);
	next_user = NULL;
	req->presence = next_presence;
	next_presence = 0;
	snprintf(buf, sizeof buf, "%s", channels);
	for (name = strtok_r(buf, ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save)) {
		req->channels[req->nchannels] = strdup(name);
		req->lens[req->nchannels++] = strlen(name);
	}
	stream_ctx_reserve(ctx);
	stream_submit(ctx, req);
	drain(p);
}

/* Returns P's stream (request ids are unique here), or NULL once it is
 * freed. */
static struct stream *
stream_of(const struct peer *p)
{
	struct stream	*s;

	for (s = ctx->all; s != NULL; s = s->next)
		if (s->request_id == p->rid)
			return s;
	return NULL;
}

/* Sends ABORT_REQUEST from the web server's side. */
static void
send_abort(struct peer *p)
{
	char	h[FCGI_PROTO_HEADER_LEN];

	fcgi_proto_header(h, FCGI_PROTO_ABORT_REQUEST, p->rid, 0);
	if (write(p->fd, h, sizeof h) != (ssize_t)sizeof h)
		abort();
}

static void
publish(const char *channel, uint64_t seq)
{
	struct event_id	 id = { 1, seq };
	char		 idt[EVENT_ID_MAX], data[4096];
	struct hub_msg	 m;
	int		 n;

	event_id_format(&id, idt);
	n = snprintf(data, sizeof data, "e%llu", (unsigned long long)seq);
	memset(data + n, 'x', pad);
	data[n + pad] = '\0';
	m.id = &id;
	m.id_text = idt;
	m.event = NULL;
	m.data = data;
	m.len = strlen(data);
	hub_publish(hub, channel, strlen(channel), &m);
}

/* Returns 1 if the data lines of P's output are exactly WANT (a list of
 * sequence numbers, in order). */
static int
got_exactly(const struct peer *p, const uint64_t *want, size_t n)
{
	const char	*c = p->out;
	char		*end;
	size_t		 i = 0;

	while ((c = strstr(c, "data: e")) != NULL) {
		c += 7;
		if (i == n || strtoull(c, &end, 10) != want[i++] ||
		    (*end != '\n' && *end != 'x'))
			return 0;
	}
	return i == n;
}

static void
close_peer(struct peer *p)
{
	close(p->fd);
	drain(p);
	pump();
}

static int drained_calls;

static void
on_drained(void *arg)
{
	drained_calls++;
}

/* Starts only when every channel is confirmed; a loss between the two
 * confirmations voids the first. Held events go out after the headers. */
static void
test_start(void)
{
	struct peer	p;
	uint64_t	want[] = { 1 };

	open_stream(&p, "a.1,b.1", "", 1);
	test_cond("no headers while waiting", p.nout == 0);
	hub_channel_ready(hub, "a.1", 3);
	drain(&p);
	test_cond("one channel of two: still waiting", p.nout == 0);
	stream_ctx_redis_lost(ctx);
	hub_channel_ready(hub, "b.1", 3);
	drain(&p);
	test_cond("a loss voids the first confirmation", p.nout == 0);
	publish("b.1", 1);
	hub_channel_ready(hub, "a.1", 3);
	drain(&p);
	test_cond("both confirmed: headers", strstr(p.out,
	    "Content-Type: text/event-stream") != NULL);
	test_cond("the held event follows them", got_exactly(&p, want, 1));
	close_peer(&p);
	test_cond("freed when the web server closes", stream_of(&p) == NULL &&
	    hub_channel_count(hub) == 0);
}

/* Ends while waiting: off every list; a later confirmation of its channel
 * (and, below, one in the same pass as the end) reaches nothing. */
static void
test_end_while_waiting(void)
{
	struct peer	p, q;

	open_stream(&p, "user.7", "", 2);
	send_abort(&p);
	drain(&p);
	test_cond("aborted while waiting: ended", p.ended &&
	    p.after_end == 0);
	test_cond("and left its channel", hub_channel_count(hub) == 0);
	hub_channel_ready(hub, "user.7", 6);
	pump();
	test_cond("a later confirmation is harmless", stream_of(&p) == NULL);
	close_peer(&p);

	/* The end and the confirmation in one pass, before the flush pass
	 * frees the stream. */
	open_stream(&p, "user.8", "", 3);
	open_stream(&q, "user.8", "", 4);
	stream_end(stream_of(&p), NULL, "aborted");
	hub_channel_ready(hub, "user.8", 6);
	drain(&p);
	drain(&q);
	test_cond("ended in the same pass: no start after the end",
	    p.ended && p.after_end == 0 && strstr(p.out, ": ok") != NULL);
	test_cond("the other stream of the channel started",
	    strstr(q.out, ": ok") != NULL && !q.ended);
	close_peer(&p);
	close_peer(&q);
}

/* A history reply that arrives after the stream ended is not queued
 * after END_REQUEST: the read is cancelled with the stream. */
static void
test_history_after_end(void)
{
	struct peer		 p;
	struct history_req	*q;
	uint64_t		 seqs[] = { 6, 7 };

	open_stream(&p, "task.1", "1-5", 5);
	hub_channel_ready(hub, "task.1", 6);
	drain(&p);
	test_cond("resuming: one history read", nreqs == 1 &&
	    strcmp(reqs[0].after, "1-5") == 0);
	q = &reqs[0];
	send_abort(&p);
	drain(&p);
	test_cond("the read is cancelled with the stream", q->cancelled);
	reply(q, seqs, 2, 7);
	drain(&p);
	test_cond("nothing after END_REQUEST", p.ended && p.after_end == 0 &&
	    !got_exactly(&p, seqs, 2));
	close_peer(&p);
	nreqs = 0;
}

/* After a loss, a stream whose socket is full resumes from its last id:
 * the replay, then what was held, in order, nothing twice. */
static void
test_resync_full_socket(void)
{
	struct peer	 p;
	struct stream	*s;
	uint64_t	 seq, want[64];
	size_t		 nwant = 0;
	int		 sz = 4096;
	struct history_req *q;

	open_stream(&p, "feed.1", "", 6);
	pad = 2000;
	s = stream_of(&p);
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	hub_channel_ready(hub, "feed.1", 6);
	pump();
	/* Fill the socket: the peer does not read. */
	for (seq = 1; seq <= 40; seq++) {
		publish("feed.1", seq);
		want[nwant++] = seq;
		pump();
	}
	test_cond("the socket is full", (s->flags & STREAM_WRITING) != 0);
	stream_ctx_redis_lost(ctx);
	stream_ctx_resync(ctx);
	test_cond("waiting again", (s->flags & STREAM_WAITING) != 0);
	publish("feed.1", 43);		/* live, held */
	hub_channel_ready(hub, "feed.1", 6);
	pump();
	test_cond("resumes after the last id it was given", nreqs == 1 &&
	    strcmp(reqs[0].after, "1-40") == 0);
	q = &reqs[0];
	/* Redis: 41 and 42 were missed; 43 arrived live too. */
	reply(q, (uint64_t []){ 41, 42, 43 }, 3, 43);
	want[nwant++] = 41;
	want[nwant++] = 42;
	want[nwant++] = 43;
	publish("feed.1", 44);
	want[nwant++] = 44;
	drain(&p);
	test_cond("everything once, in order", got_exactly(&p, want, nwant));
	close_peer(&p);
	pad = 0;
	nreqs = 0;
}

/* SIGTERM while streams wait for their history after a loss: each ends
 * with its own retry:, the reads are cancelled, the writer drains. */
static void
test_shutdown_during_resync(void)
{
	struct peer	p, r;
	struct stream	*s;

	open_stream(&p, "user.9", "", 7);
	hub_channel_ready(hub, "user.9", 6);
	publish("user.9", 50);
	drain(&p);
	open_stream(&r, "user.10", "", 8);	/* never confirmed */
	s = stream_of(&p);
	test_cond("live with an id", s != NULL && s->has_last);
	stream_ctx_redis_lost(ctx);
	stream_ctx_resync(ctx);
	hub_channel_ready(hub, "user.9", 6);
	pump();
	test_cond("resyncing: history read in flight", nreqs == 1 &&
	    !reqs[0].answered && (s->flags & STREAM_SYNCING));
	stream_ctx_shutdown(ctx, 5, on_drained, NULL);
	drain(&p);
	drain(&r);
	test_cond("ended with a retry:", p.ended && strstr(p.out,
	    "worker restarting") != NULL && strstr(p.out, "retry: ") != NULL);
	test_cond("the waiting one too, with its headers", r.ended &&
	    strstr(r.out, ": ok") != NULL);
	test_cond("the read is cancelled", reqs[0].cancelled);
	test_cond("the writer drained", drained_calls == 1 &&
	    stream_ctx_count(ctx) == 0 && hub_channel_count(hub) == 0);
	close(p.fd);
	close(r.fd);
	nreqs = 0;
}

/* Redis unavailable for the history read: the stream ends so the client
 * retries; its held events do not go out. */
static void
test_history_down(void)
{
	struct peer	p;

	history_down = 1;
	open_stream(&p, "task.2", "1-1", 9);
	publish("task.2", 2);	/* not confirmed: nothing can arrive */
	hub_channel_ready(hub, "task.2", 6);
	drain(&p);
	test_cond("history down: ended with a retry:", p.ended &&
	    strstr(p.out, "history unavailable") != NULL &&
	    strstr(p.out, "retry: ") != NULL);
	test_cond("what it held does not go out", strstr(p.out, "e2") ==
	    NULL);
	test_cond("and left its channel", hub_channel_count(hub) == 0);
	close_peer(&p);
	history_down = 0;
}

/* Returns 1 if S's queue holds a slice of F. */
static int
queued_frame(const struct stream *s, const struct frame *f)
{
	const struct outq	*q = &s->q;
	uint32_t		 i, mask;

	if (q->count == 1 && q->cap == 0)
		return q->one.frame == f;
	mask = q->cap - 1;
	for (i = 0; i < q->count; i++)
		if (q->items[(q->head + i) & mask].frame == f)
			return 1;
	return 0;
}

/* History is read a page at a time: a stream whose queue is over
 * queue-limit asks for no next page; it asks after its client drained it,
 * from the last entry it was given; events held meanwhile follow the last
 * page, nothing twice. */
static void
test_replay_paging(void)
{
	struct peer	 p;
	struct stream	*s;
	uint64_t	 seqs[MAX_ENTRIES], want[MAX_ENTRIES];
	size_t		 i, nwant = 0, saved = cfg.queue_limit;
	int		 sz = 4096;

	cfg.queue_limit = 8192;
	pad = 3000;
	open_stream(&p, "page.1", "1-0", 10);
	s = stream_of(&p);
	setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	hub_channel_ready(hub, "page.1", 6);
	pump();
	test_cond("paging: the first page is asked after the resume id",
	    nreqs == 1 && strcmp(reqs[0].after, "1-0") == 0);
	for (i = 0; i < 16; i++)
		want[nwant++] = seqs[i] = i + 1;
	page_fill(NULL, seqs, 16);
	page_answer(&reqs[0], 16, 16, 1);
	page_done();
	pump();
	publish("page.1", 20);		/* live during the replay: held */
	pump();
	test_cond("over queue-limit: no next page yet", nreqs == 1 &&
	    outq_bytes(&s->q) > cfg.queue_limit &&
	    (s->flags & STREAM_PAGED));
	drain(&p);
	test_cond("drained: the next page, after the last entry given",
	    nreqs == 2 && strcmp(reqs[1].after, "1-16") == 0 &&
	    !(s->flags & STREAM_PAGED));
	for (i = 0; i < 4; i++)
		want[nwant++] = seqs[i] = 17 + i;
	page_fill(NULL, seqs, 4);
	page_answer(&reqs[1], 4, 20, 0);
	page_done();
	publish("page.1", 21);
	want[nwant++] = 21;
	drain(&p);
	test_cond("every page, then the held event not covered, once each",
	    got_exactly(&p, want, nwant) && nreqs == 2);
	test_cond("live after the last page", stream_of(&p) != NULL &&
	    !(s->flags & (STREAM_SYNCING|STREAM_PAGED)));
	close_peer(&p);
	cfg.queue_limit = saved;
	pad = 0;
	nreqs = 0;
}

/* Several channels: the page (merged up to its frontier by history.c) is
 * replayed in id order and the next one starts after its last entry. */
static void
test_replay_channels(void)
{
	struct peer	 p;
	uint64_t	 want[] = { 1, 2, 3, 4, 5 };

	open_stream(&p, "mc.a,mc.b", "1-0", 11);
	hub_channel_ready(hub, "mc.a", 4);
	hub_channel_ready(hub, "mc.b", 4);
	pump();
	test_cond("two channels: one read for both", nreqs == 1 &&
	    reqs[0].nchannels == 2);
	page_fill((size_t []){ 0, 1, 0 }, (uint64_t []){ 1, 2, 3 }, 3);
	page_answer(&reqs[0], 3, 9, 1);
	page_done();
	drain(&p);
	test_cond("the next page starts at the frontier", nreqs == 2 &&
	    strcmp(reqs[1].after, "1-3") == 0);
	page_fill((size_t []){ 1, 0 }, (uint64_t []){ 4, 5 }, 2);
	page_answer(&reqs[1], 2, 9, 0);
	page_done();
	drain(&p);
	test_cond("in id order across channels, tagged",
	    got_exactly(&p, want, 5) && strstr(p.out, "event: mc.b\n") !=
	    NULL);
	close_peer(&p);
	nreqs = 0;
}

/* Two streams served by one read share each entry's frame. */
static void
test_replay_shared(void)
{
	struct peer	 p, r;
	struct stream	*s1, *s2;
	uint64_t	 want[] = { 5, 6 };

	open_stream(&p, "sh.1", "1-4", 12);
	open_stream(&r, "sh.1", "1-4", 13);
	hub_channel_ready(hub, "sh.1", 4);
	pump();
	test_cond("both ask", nreqs == 2);
	s1 = stream_of(&p);
	s2 = stream_of(&r);
	page_fill(NULL, (uint64_t []){ 5, 6 }, 2);
	page_answer(&reqs[0], 2, 6, 0);
	page_answer(&reqs[1], 2, 6, 0);
	test_cond("the first stream framed each entry once",
	    slots[0][0] != NULL && slots[1][0] != NULL &&
	    slots[0][1] == NULL);
	test_cond("the second queued the same frames",
	    queued_frame(s1, slots[0][0]) && queued_frame(s2, slots[0][0]) &&
	    queued_frame(s1, slots[1][0]) && queued_frame(s2, slots[1][0]));
	page_done();
	drain(&p);
	drain(&r);
	test_cond("both got the replay", got_exactly(&p, want, 2) &&
	    got_exactly(&r, want, 2));
	close_peer(&p);
	close_peer(&r);
	nreqs = 0;
}

/* A read that fails (a malformed reply, a lost connection) ends the
 * stream with a retry:, even in the middle of a replay. */
static void
test_replay_error(void)
{
	struct peer	 p;

	open_stream(&p, "err.1", "1-0", 14);
	hub_channel_ready(hub, "err.1", 5);
	pump();
	page_fill(NULL, (uint64_t []){ 1 }, 1);
	page_answer(&reqs[0], 1, 3, 1);
	page_done();
	drain(&p);
	test_cond("a second page is asked", nreqs == 2);
	reqs[1].answered = 1;
	reqs[1].fn(reqs[1].arg, NULL, "malformed history entry");
	drain(&p);
	test_cond("a failed page ends the stream with a retry:", p.ended &&
	    strstr(p.out, "history unavailable") != NULL &&
	    strstr(p.out, "retry: ") != NULL && strstr(p.out, "e1") != NULL);
	close_peer(&p);
	nreqs = 0;
}

/* Answers Q, a read of the clock only, with the last id MS-SEQ. */
static void
reply_clock(struct history_req *q, uint64_t ms, uint64_t seq)
{
	struct history_snapshot	 snap;
	static const int	 nogap[8];

	q->answered = 1;
	if (q->cancelled)
		return;
	memset(&snap, 0, sizeof snap);
	snap.clock_seq = seq;
	snap.clock_ms = ms;
	snap.gap = nogap;
	q->fn(q->arg, &snap, NULL);
}

/* Counts the "retry:" blocks in P's output. */
static int
retries(const struct peer *p)
{
	const char	*c = p->out;
	int		 n = 0;

	while ((c = strstr(c, "retry: ")) != NULL) {
		n++;
		c += 7;
	}
	return n;
}

/* Poll mode: a resume that replays ends after the replay, with the held
 * events the replay did not cover and nothing twice. */
static void
test_poll_replay(void)
{
	struct peer	 p;
	uint64_t	 want[] = { 3, 4, 5 };

	cfg.poll_hold_ms = 5000;
	open_stream(&p, "poll.1", "1-2", 40);
	publish("poll.1", 4);		/* live while the history is read */
	publish("poll.1", 5);
	hub_channel_ready(hub, "poll.1", 6);
	drain(&p);
	test_cond("poll: one history read after its id", nreqs == 1 &&
	    strcmp(reqs[0].after, "1-2") == 0 && !p.ended);
	reply(&reqs[0], (uint64_t []){ 3, 4 }, 2, 4);
	publish("poll.1", 5);		/* the live copy, again */
	drain(&p);
	test_cond("poll: replay then held, once, in order",
	    got_exactly(&p, want, 3));
	test_cond("poll: ends after the replay with retry:", p.ended &&
	    p.after_end == 0 && retries(&p) == 2 &&
	    strstr(p.out, ": poll\n\n") != NULL);
	close_peer(&p);
	test_cond("poll: freed", stream_of(&p) == NULL);
	nreqs = 0;
	cfg.poll_hold_ms = -1;
}

/* Poll mode: nothing missed, so it waits; the first live event (and
 * those of the same pass) end it. */
static void
test_poll_live(void)
{
	struct peer	 p;
	uint64_t	 want[] = { 6, 7 };

	cfg.poll_hold_ms = 5000;
	open_stream(&p, "poll.2", "1-5", 41);
	hub_channel_ready(hub, "poll.2", 6);
	drain(&p);
	reply(&reqs[0], NULL, 0, 5);
	drain(&p);
	test_cond("poll: nothing missed, it waits", !p.ended &&
	    strstr(p.out, "Content-Type: text/event-stream") != NULL &&
	    stream_of(&p) != NULL);
	publish("poll.2", 5);		/* already had it */
	drain(&p);
	test_cond("poll: an old id does not end it", !p.ended);
	publish("poll.2", 6);
	publish("poll.2", 7);
	drain(&p);
	test_cond("poll: the burst, then the end", got_exactly(&p, want, 2) &&
	    p.ended && p.after_end == 0);
	publish("poll.2", 8);
	drain(&p);
	test_cond("poll: nothing after the end", got_exactly(&p, want, 2));
	close_peer(&p);
	nreqs = 0;
	cfg.poll_hold_ms = -1;
}

/* Poll mode: no event comes; the hold ends it (a short hold, waited
 * for); with hold 0 a poll with nothing missed ends at once. */
static void
test_poll_deadline(void)
{
	struct peer	 p;
	struct timespec	 t0, t;
	long		 ms;

	cfg.poll_hold_ms = 300;
	open_stream(&p, "poll.3", "1-9", 42);
	hub_channel_ready(hub, "poll.3", 6);
	drain(&p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	reply(&reqs[0], NULL, 0, 9);
	drain(&p);
	test_cond("poll: waiting", stream_of(&p) != NULL && !p.ended);
	do {
		event_base_loop(loop_base(l), EVLOOP_ONCE);
		drain(&p);
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000;
	} while (!p.ended && ms < 10000);
	test_cond("poll: ends at the hold with retry:, no data", p.ended &&
	    retries(&p) == 2 && strstr(p.out, "data:") == NULL);
	test_cond("poll: not before the hold", ms >= 250);
	close_peer(&p);
	nreqs = 0;
	cfg.poll_hold_ms = 0;
	open_stream(&p, "poll.3", "1-9", 46);
	hub_channel_ready(hub, "poll.3", 6);
	drain(&p);
	reply(&reqs[0], NULL, 0, 9);
	drain(&p);
	test_cond("poll hold 0: nothing missed, ends at once", p.ended &&
	    retries(&p) == 2 && strstr(p.out, "data:") == NULL);
	close_peer(&p);
	nreqs = 0;
	cfg.poll_hold_ms = -1;
}

/* Poll mode, first request (no id): the clock is read once the channel
 * is confirmed and sent with the headers as the position; it ends at
 * once. What was held up to the position is before it; what came after
 * it goes too. */
static void
test_poll_first(void)
{
	struct peer	 p;
	uint64_t	 want[] = { 9 };

	cfg.poll_hold_ms = 5000;
	open_stream(&p, "poll.4", "", 43);
	publish("poll.4", 6);		/* held while waiting */
	hub_channel_ready(hub, "poll.4", 6);
	drain(&p);
	test_cond("poll first: reads the clock only, no headers yet",
	    nreqs == 1 && reqs[0].nchannels == 0 && p.nout == 0);
	publish("poll.4", 7);		/* held during the read */
	reply_clock(&reqs[0], 1234, 7);
	drain(&p);
	test_cond("poll first: headers, its position, the end",
	    strstr(p.out, "text/event-stream") != NULL &&
	    strstr(p.out, "\nid: 1234-7\n\n") != NULL &&
	    strstr(p.out, "data:") == NULL && p.ended && retries(&p) == 2);
	close_peer(&p);
	nreqs = 0;
	open_stream(&p, "poll.4", "", 44);
	hub_channel_ready(hub, "poll.4", 6);
	drain(&p);
	publish("poll.4", 9);		/* held, after the clock */
	reply_clock(&reqs[0], 1234, 8);
	drain(&p);
	test_cond("poll first: held after the position: sent, ended",
	    got_exactly(&p, want, 1) && p.ended &&
	    strstr(p.out, "id: 1234-8\n\n") < strstr(p.out, "data: e9"));
	close_peer(&p);
	nreqs = 0;
	history_down = 1;
	open_stream(&p, "poll.4", "", 45);
	hub_channel_ready(hub, "poll.4", 6);
	drain(&p);
	test_cond("poll first: no history connection: ends, retry:",
	    p.ended && strstr(p.out, "text/event-stream") != NULL &&
	    strstr(p.out, "history unavailable") != NULL);
	close_peer(&p);
	history_down = 0;
	nreqs = 0;
	cfg.poll_hold_ms = -1;
}

/* A cluster's shard lost or moved: one channel lapses alone
 * (hub_channel_lost). A live stream of it with an id waits and resumes
 * from that id; events published meanwhile are held, then come after the
 * replay, nothing twice; a stream of another channel goes on untouched;
 * one with no id yet goes on live; one reading history ends with a
 * retry: (what was published meanwhile was neither held nor read). */
static void
test_channel_lost(void)
{
	struct peer	 a, b, c;
	struct stream	*s;
	uint64_t	 want_a[] = { 1, 2, 3, 4, 5 }, want_b[] = { 10, 11 };

	open_stream(&a, "shard.a", "", 60);
	open_stream(&b, "shard.b", "", 61);
	open_stream(&c, "shard.a", "", 62);
	hub_channel_ready(hub, "shard.a", 7);
	hub_channel_ready(hub, "shard.b", 7);
	pump();
	publish("shard.a", 1);
	publish("shard.b", 10);
	drain(&a);
	drain(&b);
	s = stream_of(&c);
	s->has_last = 0;	/* C has not seen an id */
	hub_channel_lost(hub, "shard.a", 7);
	s = stream_of(&a);
	test_cond("lost: the stream of the channel waits to resume",
	    s != NULL && (s->flags & STREAM_WAITING) &&
	    (s->flags & STREAM_SYNCING));
	test_cond("the other channel's stream goes on", !(stream_of(&b)->flags &
	    (STREAM_WAITING|STREAM_SYNCING)));
	test_cond("one without an id goes on live", !(stream_of(&c)->flags &
	    (STREAM_WAITING|STREAM_SYNCING)));
	publish("shard.b", 11);
	publish("shard.a", 4);		/* held: the channel is back */
	hub_channel_ready(hub, "shard.a", 7);
	pump();
	test_cond("confirmed again: reads after its last id", nreqs == 1 &&
	    strcmp(reqs[0].after, "1-1") == 0 && reqs[0].nchannels == 1);
	reply(&reqs[0], (uint64_t []){ 2, 3, 4 }, 3, 4);
	publish("shard.a", 5);
	drain(&a);
	drain(&b);
	test_cond("the missed ones, then live, each once, in order",
	    got_exactly(&a, want_a, 5));
	test_cond("the other channel got all of its own",
	    got_exactly(&b, want_b, 2));
	close_peer(&c);
	nreqs = 0;
	/* Lost again while reading: it ends so its client resumes. */
	hub_channel_lost(hub, "shard.a", 7);
	hub_channel_ready(hub, "shard.a", 7);
	pump();
	test_cond("resuming again", nreqs == 1 && !reqs[0].answered);
	hub_channel_lost(hub, "shard.a", 7);
	drain(&a);
	test_cond("lost while reading: ended with a retry:", a.ended &&
	    strstr(a.out, "history unavailable") != NULL &&
	    strstr(a.out, "retry: ") != NULL);
	test_cond("and its read cancelled", reqs[0].cancelled);
	close_peer(&a);
	close_peer(&b);
	nreqs = 0;
}

/* Several channels: one lost while the stream waits for another is
 * counted again; the stream starts once both are confirmed. */
static void
test_channel_lost_waiting(void)
{
	struct peer	 p;
	struct stream	*s;

	open_stream(&p, "wait.a,wait.b", "", 63);
	hub_channel_ready(hub, "wait.a", 6);
	s = stream_of(&p);
	test_cond("waits for the second channel", s->nwait == 1);
	hub_channel_lost(hub, "wait.a", 6);
	test_cond("the first lost: waits for both", s->nwait == 2 &&
	    (s->flags & STREAM_WAITING));
	hub_channel_ready(hub, "wait.b", 6);
	drain(&p);
	test_cond("one confirmed: no headers yet", p.nout == 0);
	hub_channel_ready(hub, "wait.a", 6);
	drain(&p);
	test_cond("both confirmed: it starts", strstr(p.out,
	    "text/event-stream") != NULL);
	close_peer(&p);
}

/* Poll mode in a cluster: a first poll reads its channel's own clock (the
 * channel's last 0 events), not a deployment-wide one. */
static void
test_poll_first_cluster(void)
{
	struct peer	p;

	cfg.poll_hold_ms = 5000;
	history_cluster = 1;
	open_stream(&p, "poll.9", "", 64);
	hub_channel_ready(hub, "poll.9", 6);
	drain(&p);
	test_cond("cluster poll first: reads its channel's last 0",
	    nreqs == 1 && reqs[0].has_from && reqs[0].nchannels == 1 &&
	    reqs[0].from[0].last == 0);
	reply_clock(&reqs[0], 1234, 7);
	drain(&p);
	test_cond("cluster poll first: its position, the end",
	    strstr(p.out, "\nid: 1234-7\n\n") != NULL && p.ended);
	close_peer(&p);
	history_cluster = 0;
	nreqs = 0;
	cfg.poll_hold_ms = -1;
}

/* Answers Q, one channel's read in a cluster: events SEQS[0..N) after the
 * read's start 1-START, the channel's clock CLOCK, MORE to read. */
static void
reply_vec(struct history_req *q, uint64_t start, const uint64_t *seqs,
    size_t n, uint64_t clock, int more)
{
	page_start[0].ms = 1;
	page_start[0].seq = start;
	page_fill(NULL, seqs, n);
	page_answer(q, n, clock, more);
	page_done();
	memset(page_start, 0, sizeof page_start);
}

/* Opens a stream of the two channels A and B on a cluster (from LAST),
 * both confirmed at once. */
static void
open_vec(struct peer *p, const char *a, const char *b, const char *last,
    uint16_t rid)
{
	char	chs[64];

	history_cluster = 1;
	nreqs = 0;
	snprintf(chs, sizeof chs, "%s,%s", a, b);
	open_stream(p, chs, last, rid);
	hub_channel_ready(hub, a, strlen(a));
	hub_channel_ready(hub, b, strlen(b));
	drain(p);
}

/* A fresh stream of two channels on a cluster: a read per channel of its
 * last 0 (its position), the headers at once, a live event held during
 * the reads sent once after them with the whole vector as its id, then
 * live events each past its own channel's position, old ones dropped. */
static void
test_vec_fresh(void)
{
	struct peer	p;

	open_vec(&p, "va", "vb", "", 70);
	drain(&p);
	test_cond("vec: headers once subscribed",
	    strstr(p.out, "text/event-stream") != NULL);
	test_cond("vec: a read per channel, of its last 0", nreqs == 2 &&
	    reqs[0].has_from && reqs[0].nchannels == 1 &&
	    reqs[0].from[0].last == 0 && reqs[1].nchannels == 1 &&
	    reqs[1].from[0].last == 0);
	publish("va", 5);		/* during the reads */
	test_cond("vec: the read of a channel covers its held event",
	    nreqs == 2 && reqs[0].from[0].after.seq == 0);
	reply_vec(&reqs[0], 5, NULL, 0, 5, 0);	/* va's 5 is in history */
	drain(&p);
	test_cond("vec: nothing before every channel is read",
	    strstr(p.out, "data: e5") == NULL);
	reply_vec(&reqs[1], 9, NULL, 0, 9, 0);
	drain(&p);
	test_cond("vec: a fresh stream sends its position alone",
	    strstr(p.out, "\nid: ~1-5~1-9\n\n") != NULL &&
	    strstr(p.out, "data: e5") == NULL);
	publish("vb", 10);
	publish("va", 5);		/* not past va's position */
	publish("vb", 3);		/* nor past vb's */
	publish("va", 6);
	drain(&p);
	test_cond("vec: live events end with the whole vector",
	    strstr(p.out, "event: vb\ndata: e10\nid: ~1-5~1-10\n\n") != NULL &&
	    strstr(p.out, "event: va\ndata: e6\nid: ~1-6~1-10\n\n") != NULL);
	test_cond("vec: each once, old ones dropped",
	    got_exactly(&p, (uint64_t []){ 10, 6 }, 2));
	close_peer(&p);
	test_cond("vec: closed, freed", stream_of(&p) == NULL);
	history_cluster = 0;
	nreqs = 0;
}

/* Resuming from a vector: each channel read after its own position, the
 * pages sent as they come, held events the pages covered dropped, a
 * channel with more read again alone, after its last event. */
static void
test_vec_resume(void)
{
	struct peer	p;

	open_vec(&p, "va", "vb", "~1-3~1-7", 71);
	drain(&p);
	test_cond("vec resume: each channel after its own position",
	    nreqs == 2 && reqs[0].from[0].last == -1 &&
	    reqs[0].from[0].after.seq == 3 && reqs[1].from[0].last == -1 &&
	    reqs[1].from[0].after.seq == 7);
	publish("va", 6);		/* held: in va's page too */
	publish("vb", 9);		/* held: past vb's page */
	reply_vec(&reqs[1], 7, (uint64_t []){ 8 }, 1, 8, 0);
	drain(&p);
	test_cond("vec resume: a channel's page goes out at once",
	    strstr(p.out, "event: vb\ndata: e8\nid: ~1-3~1-8\n\n") != NULL);
	reply_vec(&reqs[0], 3, (uint64_t []){ 4, 5 }, 2, 6, 1);
	drain(&p);
	test_cond("vec resume: the next page of va alone, after its last",
	    nreqs == 3 && reqs[2].nchannels == 1 &&
	    reqs[2].from[0].after.seq == 5 && reqs[2].from[0].last == -1);
	reply_vec(&reqs[2], 5, (uint64_t []){ 6 }, 1, 6, 0);
	publish("va", 7);
	drain(&p);
	test_cond("vec resume: replayed, held past, live; each once",
	    got_exactly(&p, (uint64_t []){ 8, 4, 5, 6, 9, 7 }, 6));
	test_cond("vec resume: the last id holds both positions",
	    strstr(p.out, "event: va\ndata: e7\nid: ~1-7~1-9\n\n") != NULL);
	test_cond("vec resume: no lone position when events went out",
	    strstr(p.out, "\n\nid: ") == NULL);
	close_peer(&p);
	history_cluster = 0;
	nreqs = 0;
}

/* A vector stream's channel lapses (its shard): it resumes every channel
 * from its position; the client leaving mid-read cancels every read. */
static void
test_vec_lost(void)
{
	struct peer	p;

	open_vec(&p, "vc", "vd", "~1-1~1-2", 72);
	reply_vec(&reqs[0], 1, NULL, 0, 1, 0);
	reply_vec(&reqs[1], 2, NULL, 0, 2, 0);
	publish("vc", 4);
	drain(&p);
	hub_channel_lost(hub, "vd", 2);
	publish("vc", 5);		/* held while vd is away */
	hub_channel_ready(hub, "vd", 2);
	drain(&p);
	test_cond("vec lost: every channel read again from its position",
	    nreqs == 4 && reqs[2].from[0].after.seq == 4 &&
	    reqs[3].from[0].after.seq == 2);
	reply_vec(&reqs[2], 4, (uint64_t []){ 5 }, 1, 5, 0);
	reply_vec(&reqs[3], 2, (uint64_t []){ 3 }, 1, 3, 0);
	drain(&p);
	test_cond("vec lost: what vd missed, the held event once",
	    got_exactly(&p, (uint64_t []){ 4, 5, 3 }, 3) &&
	    strstr(p.out, "event: vd\ndata: e3\nid: ~1-5~1-3\n\n") != NULL);
	hub_channel_lost(hub, "vc", 2);
	hub_channel_ready(hub, "vc", 2);
	drain(&p);
	test_cond("vec lost: reading again", nreqs == 6);
	close_peer(&p);
	test_cond("vec lost: a client gone mid-read cancels both reads",
	    reqs[4].cancelled && reqs[5].cancelled && stream_of(&p) == NULL);
	reply_vec(&reqs[4], 5, (uint64_t []){ 6 }, 1, 6, 0);
	history_down = 1;
	open_stream(&p, "vc,vd", "", 73);
	hub_channel_ready(hub, "vc", 2);
	hub_channel_ready(hub, "vd", 2);
	drain(&p);
	test_cond("vec: history down: the stream ends with a retry",
	    p.ended && strstr(p.out, "retry: ") != NULL);
	close_peer(&p);
	history_down = 0;
	history_cluster = 0;
	nreqs = 0;
}

/* Drops the test's initial-events rules. */
static void
initial_clear(void)
{
	size_t	i;

	for (i = 0; i < cfg.ninitial; i++)
		free(cfg.initial[i].pattern);
	free(cfg.initial);
	cfg.initial = NULL;
	cfg.ninitial = 0;
}

/* The first read asks for the last N; the headers go out at once; an
 * event published during the read is in the page and held live: sent
 * once; a late live copy is dropped; then live. */
static void
test_initial_race(void)
{
	struct peer	 p;
	char		 err[128];
	uint64_t	 want[] = { 3, 4, 5, 6, 7 };

	cfg_set(&cfg, "initial-events", "ini.* 3", NULL, err, sizeof err);
	open_stream(&p, "ini.1", "", 60);
	hub_channel_ready(hub, "ini.1", 5);
	drain(&p);
	test_cond("initial: headers once subscribed",
	    strstr(p.out, "text/event-stream") != NULL);
	test_cond("initial: one read of the last 3", nreqs == 1 &&
	    reqs[0].has_from && reqs[0].nchannels == 1 &&
	    reqs[0].from[0].last == 3 && reqs[0].from[0].after.seq == 0);
	publish("ini.1", 5);		/* during the read */
	publish("ini.1", 6);		/* after it */
	reply(&reqs[0], (uint64_t []){ 3, 4, 5 }, 3, 5);
	publish("ini.1", 5);		/* the live copy after the page */
	publish("ini.1", 7);
	drain(&p);
	test_cond("initial: the last 3, then live, each once, in order",
	    got_exactly(&p, want, 5));
	test_cond("initial: no sse-gap", strstr(p.out, "sse-gap") == NULL);
	close_peer(&p);
	nreqs = 0;

	/* Held before the read (published while subscribing): the read
	 * also covers it, so it comes once even when more than N follow. */
	open_stream(&p, "ini.2", "", 61);
	publish("ini.2", 8);
	hub_channel_ready(hub, "ini.2", 5);
	drain(&p);
	test_cond("initial: the read covers the held event", nreqs == 1 &&
	    reqs[0].from[0].last == 3 && reqs[0].from[0].after.ms == 1 &&
	    reqs[0].from[0].after.seq == 7);
	reply(&reqs[0], (uint64_t []){ 8, 9, 10, 11 }, 4, 11);
	drain(&p);
	test_cond("initial: the held event once, before what followed",
	    got_exactly(&p, (uint64_t []){ 8, 9, 10, 11 }, 4));
	close_peer(&p);
	nreqs = 0;

	/* With an id of its own a stream resumes, as before. */
	open_stream(&p, "ini.3", "1-4", 62);
	hub_channel_ready(hub, "ini.3", 5);
	drain(&p);
	test_cond("initial: Last-Event-ID resumes instead", nreqs == 1 &&
	    !reqs[0].has_from && strcmp(reqs[0].after, "1-4") == 0);
	reply(&reqs[0], NULL, 0, 4);
	close_peer(&p);
	nreqs = 0;

	/* No rule matches: no read, live at once. */
	open_stream(&p, "other.1", "", 63);
	hub_channel_ready(hub, "other.1", 7);
	publish("other.1", 12);
	drain(&p);
	test_cond("initial: no rule, no read, live", nreqs == 0 &&
	    got_exactly(&p, (uint64_t []){ 12 }, 1));
	close_peer(&p);
	initial_clear();
}

/* Two channels, pages: the second page goes on after the position, or
 * after a channel's own start when that is later (N 0: after its newest
 * event), so no channel gives more than its window. */
static void
test_initial_paging(void)
{
	struct peer	 p;
	char		 err[128];

	cfg_set(&cfg, "initial-events", "inp.zero 0", NULL, err, sizeof err);
	cfg_set(&cfg, "initial-events", "inp.* 3", NULL, err, sizeof err);
	open_stream(&p, "inp.a,inp.zero", "", 64);
	hub_channel_ready(hub, "inp.a", 5);
	hub_channel_ready(hub, "inp.zero", 8);
	drain(&p);
	test_cond("initial paging: first read, N per channel", nreqs == 1 &&
	    reqs[0].has_from && reqs[0].nchannels == 2 &&
	    reqs[0].from[0].last == 3 && reqs[0].from[1].last == 0);
	page_start[0] = (struct event_id){ 1, 1 };
	page_start[1] = (struct event_id){ 1, 6 };
	page_fill((size_t []){ 0, 0 }, (uint64_t []){ 2, 4 }, 2);
	page_answer(&reqs[0], 2, 9, 1);
	page_done();
	drain(&p);
	test_cond("initial paging: the next page after the position, or "
	    "the channel's start", nreqs == 2 && reqs[1].has_from &&
	    reqs[1].from[0].last == -1 && reqs[1].from[0].after.seq == 4 &&
	    reqs[1].from[1].last == -1 && reqs[1].from[1].after.seq == 6);
	page_start[0] = (struct event_id){ 1, 4 };
	page_start[1] = (struct event_id){ 1, 6 };
	page_fill((size_t []){ 0, 1 }, (uint64_t []){ 5, 7 }, 2);
	page_answer(&reqs[1], 2, 9, 0);
	page_done();
	publish("inp.zero", 10);
	drain(&p);
	test_cond("initial paging: both pages, then live",
	    got_exactly(&p, (uint64_t []){ 2, 4, 5, 7, 10 }, 5) &&
	    strstr(p.out, "event: inp.zero\n") != NULL);
	memset(page_start, 0, sizeof page_start);
	close_peer(&p);
	nreqs = 0;
	initial_clear();
}

/* Poll mode: a first poll with initial events sends them, then its
 * position (the clock), and ends. */
static void
test_initial_poll(void)
{
	struct peer	 p;
	char		 err[128];

	cfg_set(&cfg, "initial-events", "inq.* 2", NULL, err, sizeof err);
	cfg.poll_hold_ms = 5000;
	page_ms = 1234;
	open_stream(&p, "inq.1", "", 65);
	hub_channel_ready(hub, "inq.1", 5);
	drain(&p);
	test_cond("initial poll: reads the last 2", nreqs == 1 &&
	    reqs[0].has_from && reqs[0].from[0].last == 2);
	reply(&reqs[0], (uint64_t []){ 4, 5 }, 2, 6);
	drain(&p);
	test_cond("initial poll: the events, then the position, the end",
	    got_exactly(&p, (uint64_t []){ 4, 5 }, 2) &&
	    strstr(p.out, "\nid: 1234-6\n\n") > strstr(p.out, "data: e5") &&
	    p.ended && retries(&p) == 2);
	close_peer(&p);
	nreqs = 0;
	page_ms = 0;
	cfg.poll_hold_ms = -1;
	initial_clear();
}

/* Joins on subscribing, with the user; leaves each channel once, when
 * aborted while waiting or closed by the web server after it started. */
static void
test_presence(void)
{
	static char	fake;
	struct peer	p, q;

	stream_ctx_set_presence(ctx, (struct presence *)&fake);
	presence_log[0] = '\0';
	next_user = "alice";
	open_stream(&p, "room.1,x.2", "", 40);
	test_cond("joined both channels as alice", strcmp(presence_log,
	    "+room.1/alice +x.2/alice ") == 0);
	hub_channel_ready(hub, "room.1", 6);
	hub_channel_ready(hub, "x.2", 3);
	drain(&p);
	test_cond("started", strstr(p.out, ": ok") != NULL);
	presence_log[0] = '\0';
	close_peer(&p);
	test_cond("left both once", strcmp(presence_log,
	    "-room.1/alice -x.2/alice ") == 0);

	presence_log[0] = '\0';
	open_stream(&q, "room.2", "", 41);
	send_abort(&q);
	drain(&q);
	close_peer(&q);
	test_cond("anonymous, aborted while waiting: joined, left once",
	    strcmp(presence_log, "+room.2/- -room.2/- ") == 0);
	stream_ctx_set_presence(ctx, NULL);
	presence_log[0] = '\0';
	open_stream(&q, "room.3", "", 42);
	close_peer(&q);
	test_cond("no presence: no calls", presence_log[0] == '\0');
}

/* A presence request the loop answers (auth-url allowed it): no
 * subscription, no join; the read's JSON as a 200 and the end; a failed
 * read or Redis down: 503 with Retry-After; aborted while reading: the
 * read is cancelled and its late answer reaches nothing. */
static void
test_presence_query(void)
{
	static char	fake;
	struct peer	p;
	const char	*json = "{\"channel\":\"room.9\",\"subscribers\":2,"
	    "\"users\":[\"alice\"]}";
	size_t		nchan0 = hub_channel_count(hub);

	stream_ctx_set_presence(ctx, (struct presence *)&fake);
	presence_log[0] = '\0';
	nqueries = 0;
	next_presence = 1;
	next_user = "alice";
	open_stream(&p, "room.9", "", 50);
	test_cond("presence request: one read of its channel, no join",
	    nqueries == 1 && strcmp(queries[0].channel, "room.9") == 0 &&
	    presence_log[0] == '\0');
	test_cond("presence request: not subscribed", hub_channel_count(hub) ==
	    nchan0);
	test_cond("presence request: nothing sent before the read",
	    p.out[0] == '\0' && !p.ended);
	query_answer(&queries[0], json, NULL);
	drain(&p);
	test_cond("presence request: 200 with the JSON, then the end",
	    strncmp(p.out, "Status: 200 OK\r\n", 16) == 0 &&
	    strstr(p.out, "Content-Type: application/json\r\n") != NULL &&
	    strstr(p.out, json) != NULL && strstr(p.out, "retry:") == NULL &&
	    p.ended && stream_of(&p) == NULL);
	close_peer(&p);

	next_presence = 1;
	open_stream(&p, "room.9", "", 51);
	query_answer(&queries[1], NULL, "redis connection lost");
	drain(&p);
	test_cond("read failed: 503 with Retry-After",
	    strncmp(p.out, "Status: 503 ", 12) == 0 &&
	    strstr(p.out, "Retry-After: ") != NULL && p.ended);
	close_peer(&p);

	query_down = 1;
	next_presence = 1;
	open_stream(&p, "room.9", "", 52);
	test_cond("redis down: 503 at once", nqueries == 2 &&
	    strncmp(p.out, "Status: 503 ", 12) == 0 && p.ended);
	close_peer(&p);
	query_down = 0;

	next_presence = 1;
	open_stream(&p, "room.9", "", 53);
	send_abort(&p);
	drain(&p);
	test_cond("aborted while reading: the read is cancelled",
	    nqueries == 3 && queries[2].fn == NULL);
	query_answer(&queries[2], json, NULL);	/* reaches nothing */
	close_peer(&p);
	test_cond("no join or leave on any of them", presence_log[0] == '\0');
	stream_ctx_set_presence(ctx, NULL);
	nqueries = 0;
}

/* Runs the loop for up to MS of real time, or until COND(P) holds. */
static int
pump_until(int (*cond)(const struct peer *), const struct peer *p, int ms)
{
	struct timespec	ts = { 0, 10 * 1000000 };
	int		i;

	for (i = 0; i < ms / 10; i++) {
		pump();
		if (cond(p))
			return 1;
		nanosleep(&ts, NULL);
	}
	return cond(p);
}

static int
is_freed(const struct peer *p)
{
	return stream_of(p) == NULL;
}

static int
never(const struct peer *p)
{
	return 0;
}

/* A burst larger than the socket: one slot per stream behind (the
 * channel's log, frame.h), every event to the reader in order; the stall
 * window in real time (the keepalive tick checks it). */
static void
test_burst(void)
{
	struct peer	 r, w;
	struct stream	*s;
	static uint64_t	 want[1500];
	size_t		 i, old_pad = pad, old_limit = cfg.queue_limit;
	int		 small = 4096;

	pad = 100;	/* 1,500 events of ~130 bytes: 6 x queue-limit */
	cfg.queue_limit = 32 * 1024;
	open_stream(&r, "burst.1", "", 300);
	open_stream(&w, "burst.1", "", 301);
	hub_channel_ready(hub, "burst.1", 7);
	drain(&r);
	drain(&w);
	setsockopt(stream_of(&w)->fd, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof small);
	setsockopt(w.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	for (i = 0; i < 1500; i++) {
		publish("burst.1", i + 1);
		want[i] = i + 1;
	}
	test_cond("1,500 events behind: one slot",
	    outq_slots(&stream_of(&r)->q) == 1 &&
	    outq_slots(&stream_of(&w)->q) == 1);
	drain(&r);
	test_cond("the reader got all 1,500 in order",
	    got_exactly(&r, want, 1500));
	s = stream_of(&w);
	test_cond("the other is behind, still one slot", s != NULL &&
	    outq_bytes(&s->q) > cfg.queue_limit && outq_slots(&s->q) == 1);
	/* Paused for less than the window: kept at the next ticks. */
	s->drained_ms = stream_clock_ms() - 3000;
	pump_until(never, &w, 600);
	test_cond("a pause of 3 s: kept", stream_of(&w) == s);
	s->drained_ms = stream_clock_ms() - 5500;
	test_cond("nothing taken for 5.5 s: closed",
	    pump_until(is_freed, &w, 3000));
	close_peer(&w);

	/* Ending with bytes the client never takes: closed after the end
	 * window, so it does not keep the channel's log alive. */
	open_stream(&w, "burst.1", "", 302);
	drain(&w);
	setsockopt(stream_of(&w)->fd, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof small);
	setsockopt(w.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	for (i = 0; i < 200; i++)
		publish("burst.1", 4000 + i);
	pump();
	s = stream_of(&w);
	stream_end(s, STREAM_BYE_LIFETIME, "test");
	pump();
	test_cond("ending with bytes queued", stream_of(&w) == s &&
	    (s->flags & STREAM_ENDING) && outq_bytes(&s->q) > 0);
	s->drained_ms = stream_clock_ms() - 9000;
	pump_until(never, &w, 600);
	test_cond("ending, 9 s without progress: kept", stream_of(&w) == s);
	s->drained_ms = stream_clock_ms() - 10500;
	test_cond("ending, 10.5 s without progress: closed",
	    pump_until(is_freed, &w, 3000));
	close_peer(&w);
	close_peer(&r);
	pad = old_pad;
	cfg.queue_limit = old_limit;
}

int
main(void)
{
	char	err[128];

	cfg_defaults(&cfg);
	cfg.keepalive = 600;
	cfg.retry_ms = 1000;
	test_cond("poll mode off by default", cfg.poll_hold_ms == -1);
	l = loop_create(err, sizeof err);
	hub = hub_create(NULL, NULL, NULL);
	ctx = stream_ctx_create(l, hub, NULL, &cfg, err, sizeof err);
	test_cond("the writer is made", ctx != NULL);
	test_start();
	test_end_while_waiting();
	test_history_after_end();
	test_resync_full_socket();
	test_history_down();
	test_replay_paging();
	test_replay_channels();
	test_replay_shared();
	test_replay_error();
	test_poll_replay();
	test_poll_live();
	test_poll_deadline();
	test_poll_first();
	test_poll_first_cluster();
	test_vec_fresh();
	test_vec_resume();
	test_vec_lost();
	test_channel_lost();
	test_channel_lost_waiting();
	test_initial_race();
	test_initial_paging();
	test_initial_poll();
	test_presence();
	test_presence_query();
	test_burst();
	test_shutdown_during_resync();	/* the writer stops: last */
	stream_ctx_free(ctx);
	hub_free(hub);
	loop_free(l);
	return test_report("test_stream");
}
