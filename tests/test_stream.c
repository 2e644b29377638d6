/* sse-fcgi - MIT License
 *
 * The stream life cycle without Redis or a front server: the hub stands in
 * for the broker's confirmations, a socketpair for the web server's
 * connection, and a scripted history reader (below) for Redis's history.
 * Covers: start only once every channel is confirmed; a stream that ends
 * while it waits (and a confirmation in the same pass); a history reply
 * for a stream that ended; a resync while the socket is full; SIGTERM
 * during a resync; a lost connection between two confirmations.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "cfg.h"
#include "event_id.h"
#include "fcgi_proto.h"
#include "history.h"
#include "hub.h"
#include "loop.h"
#include "stream.h"
#include "stream_int.h"
#include "testlib.h"

/* The scripted history reader: history_resume() records the request, the
 * test answers it (or not) with reply(). Linked instead of src/history.c. */
struct history_req {
	history_fn	 fn;
	void		*arg;
	int		 cancelled;
	int		 answered;
	char		 after[EVENT_ID_MAX];
	size_t		 nchannels;
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

void
history_cancel(struct history_req *q)
{
	if (q != NULL)
		q->cancelled = 1;
}

/* Answers Q with events SEQS[0..N) (ids 1-SEQ, data "eSEQ") on channel 0
 * and the clock at CLOCK, as Redis would; a cancelled request is not
 * answered, as history.c drops it. */
static void
reply(struct history_req *q, const uint64_t *seqs, size_t n, uint64_t clock)
{
	struct history_entry	 e[16];
	struct history_snapshot	 snap;
	static const int	 nogap[4];
	char			 ids[16][EVENT_ID_MAX], data[16][16];
	size_t			 i;

	q->answered = 1;
	if (q->cancelled)
		return;
	for (i = 0; i < n; i++) {
		e[i].channel = 0;
		e[i].id.ms = 1;
		e[i].id.seq = seqs[i];
		event_id_format(&e[i].id, ids[i]);
		e[i].id_text = ids[i];
		e[i].event = "";
		snprintf(data[i], sizeof data[i], "e%llu",
		    (unsigned long long)seqs[i]);
		e[i].data = data[i];
		e[i].len = strlen(data[i]);
	}
	snap.clock_seq = clock;
	snap.gap = nogap;
	snap.entries = e;
	snap.nentries = n;
	q->fn(q->arg, &snap, NULL);
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
	snprintf(req->last_id, sizeof req->last_id, "%s", last);
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

static size_t pad;	/* bytes of 'x' after each published number */

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

int
main(void)
{
	char	err[128];

	cfg_defaults(&cfg);
	cfg.keepalive = 600;
	cfg.retry_ms = 1000;
	l = loop_create(err, sizeof err);
	hub = hub_create(NULL, NULL, NULL);
	ctx = stream_ctx_create(l, hub, NULL, &cfg);
	test_start();
	test_end_while_waiting();
	test_history_after_end();
	test_resync_full_socket();
	test_history_down();
	test_shutdown_during_resync();
	stream_ctx_free(ctx);
	hub_free(hub);
	loop_free(l);
	return test_report("test_stream");
}
