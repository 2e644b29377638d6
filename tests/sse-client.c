/* sse-fcgi - MIT License
 *
 * sse-client: the Server-Sent Events client used by the integration and
 * scale tests. One process and one epoll loop drive N non-blocking HTTP/1.1
 * GET streams to an http:// URL, parse each text/event-stream body
 * (identity or chunked; lines end in LF, CR or CRLF; ':' starts a comment; a
 * blank line dispatches an event; "data" lines are joined with LF as in
 * EventSource) and count. It prints one summary line on stdout and exits 0
 * when the run met its expectation, else 1 (2 for a usage error). Ids of
 * the form MS-SEQ must increase on each connection (out_of_order counts
 * those that do not).
 *
 * Slow clients (-S N): the last N connections ask for a small receive
 * buffer, read their response head and then stop reading (their socket
 * leaves the epoll set, so not even a reset is read). SIGUSR1 wakes them:
 * they read what was buffered for them until the server's EOF or reset
 * (stalled_closed) or until they have -e events (stalled_complete). Their
 * events and body bytes are counted apart from the others'.
 *
 * Pausing readers (-P PAUSE_MS/PERIOD_MS): once its response head is in,
 * each connection (but the -S ones) stops reading for PAUSE_MS out of every
 * PERIOD_MS (its socket leaves the epoll set, so the server's bytes pile up
 * in the kernel and then behind it) and reads for the rest of the period.
 * Connection i's schedule is shifted by i * PERIOD_MS / N ms, so the pauses
 * are spread evenly over the period and never all line up. Events and
 * sequence errors are counted as usual; the summary adds the pauses begun
 * and the wall-clock times of the first and the last event read. What a
 * paused reader's kernel holds is its receive buffer, which Linux grows up
 * to net.ipv4.tcp_rmem's maximum; -B BYTES fixes it (SO_RCVBUF on each
 * connection) for figures that do not depend on that setting.
 *
 * Limits, on purpose: libc only; IPv4 literals (and "localhost") only, no
 * DNS, TLS, redirects or reconnection; a response head is at most 16 KiB; an
 * SSE line is cut at CLIENT_LINE_MAX (the rest is dropped, the cut line
 * still counts as its field). The id written by -o is the id field of the
 * event's own block (empty if it has none), not EventSource's last event ID,
 * which carries over to later events.
 *
 * With -E each connection behaves as a browser's EventSource: when its
 * stream ends, or the connection fails before a response head, it comes
 * back after its reconnection time (the last "retry:" it was sent, 3000 ms
 * before any, as in Chromium) with Last-Event-ID set to the last id it
 * saw; an answer other than 200 fails it for good (dead), as EventSource
 * does. back_max_ms is the longest time from a stream's end to its next
 * 200, late_max_ms the longest part of it past the retry: it was given
 * (the time its next connection took to be answered 200),
 * last_back_epoch_ms the wall-clock time of the last 200 after a
 * reconnection (when every client was back, after a restart).
 * -Q and the id order then hold across reconnections, so a resume
 * that loses or repeats an event counts as a seq_error or out_of_order.
 * The run ends when every connection has its -e events or is dead.
 *
 * With -L (the benchmark, tests/bench/) it also measures latency: each
 * event's data is searched for "ts":<microseconds since the epoch> (the
 * publish time, CLOCK_REALTIME), and the time the bytes were read minus
 * that is the event's latency. Publisher and client must share a clock, so
 * both run on one machine. The summary then adds loss, p50/p90/p99/max,
 * the span from the first publish to the last receipt, and this process's
 * own CPU time, which shows when the client is the bottleneck.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Every buffer is bounded: the head, a line, the -o data of one event. */
#define CLIENT_HEAD_MAX		16384
#define CLIENT_LINE_MAX		(1024 * 1024 + 1024)
#define CLIENT_LINE_KEEP	65536	/* bigger line buffers are freed */
#define CLIENT_DATA_MAX		(16 * 1024 * 1024)
#define CLIENT_CHUNK_MAX	((uint64_t)1 << 40)
#define CLIENT_READ_SIZE	65536
#define CLIENT_READS_PER_WAKE	4	/* then other sockets get a turn */
#define CLIENT_EPOLL_BATCH	1024
#define CLIENT_SRC_PER_ADDR	20000	/* -s: connections per address (-a) */
#define CLIENT_MAX_CONNS	1000000
#define CLIENT_MAX_SECONDS	604800.0 /* -d: one week */
#define CLIENT_NOTES_MAX	10	/* connection errors shown */
#define CLIENT_STALL_RCVBUF	4096	/* SO_RCVBUF of a -S connection */
#define BUF_NOLIMIT		SIZE_MAX
#define CLIENT_CDF_POINTS	2000	/* -l: ranks written, plus the max */
#define CLIENT_RETRY_MS		3000	/* -E: before any retry: (Chromium's) */
#define CLIENT_RETRY_MAX_MS	3600000	/* -E: a larger retry: is ignored */
#define CLIENT_ID_MAX		256	/* -E: longer ids are not kept */
#define CLIENT_PAUSE_TICK_MS	10	/* -P: pauses start and end on it */

/* A growable byte buffer; the owner frees p. */
struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

enum conn_state {
	CONN_IDLE = 0,		/* not started yet */
	CONN_CONNECTING,	/* non-blocking connect() in progress */
	CONN_SENDING,		/* writing the request */
	CONN_HEAD,		/* reading the status line and headers */
	CONN_BODY,		/* got 200: parsing the event stream */
	CONN_CLOSED		/* failed, or closed by the server */
};

enum chunk_state {
	CHUNK_SIZE = 0,		/* hex digits of the next chunk size */
	CHUNK_EXT,		/* extensions or blanks up to the LF */
	CHUNK_DATA,		/* chunk_left payload bytes */
	CHUNK_DATA_END		/* the CRLF after the payload */
};

#define CONN_CHUNKED	0x01	/* Transfer-Encoding: chunked */
#define CONN_SKIP_LF	0x02	/* the last line ended in CR */
#define CONN_LINE_CUT	0x04	/* this line hit CLIENT_LINE_MAX */
#define CONN_HAS_DATA	0x08	/* this event block has a data field */
#define CONN_SAW_LINE	0x10	/* past the first line and any BOM */
#define CONN_COMPLETE	0x20	/* got -e events */
#define CONN_DIGIT	0x40	/* the chunk size has a hex digit */
#define CONN_STALLED	0x80	/* a -S connection */
#define CONN_DEAD	0x100	/* -E: failed for good (not a 200) */
#define CONN_WAITING	0x200	/* -E: to reconnect at retry_at */
#define CONN_PAUSED	0x400	/* -P: out of the epoll set for a pause */

/* -K: the numbers of one event name (a channel of a stream of several). */
#define CLIENT_NAMES_MAX	16
struct name_seq {
	char		 name[64];
	long long	 seq;
};

struct conn {
	int		 fd;		/* -1 unless connected */
	unsigned	 idx;		/* {i} in the path, -s address */
	enum conn_state	 state;
	enum chunk_state chunk;
	unsigned	 flags;		/* CONN_* */
	uint64_t	 chunk_left;	/* size being read, then left */
	long long	 body_left;	/* Content-Length left, or -1 */
	long long	 events;	/* events dispatched */
	long long	 seq;		/* -Q: last number seen */
	long long	 seq_val;	/* -Q: this event's number, or -1 */
	unsigned long long last_seq;	/* SEQ of the last MS-SEQ id, or 0 */
	struct buf	 out;		/* the request while sending */
	size_t		 out_off;	/* bytes of out already sent */
	struct buf	 head;		/* the response head */
	struct buf	 line;		/* a line split across reads */
	long long	 ts;		/* -L: this event's "ts", or 0 */
	long long	 retry_at;	/* -E: when to reconnect (ms) */
	long long	 ended_at;	/* -E: when the last attempt ended */
	unsigned	 retry_ms;	/* -E: reconnection time */
	struct name_seq	*kseq;		/* -K: the last number of each event
					   name, or NULL */
	unsigned	 nkseq;
	int		 kcur;		/* -K: this event's name in kseq,
					   or -1 for none */
	char		*last_id;	/* -E: for Last-Event-ID, or NULL;
					 * allocated at the first id, so a
					 * run of 10^6 plain streams stays
					 * small (one struct conn each) */
};

struct options {
	struct sockaddr_in addr;	/* the server */
	char		*hostport;	/* for Host: */
	const char	*path;		/* template with {i}, {i%K} */
	unsigned	 n;		/* -n */
	unsigned	 conc;		/* -c */
	long long	 expect;	/* -e */
	double		 seconds;	/* -d */
	const char	*ready_file;	/* -r */
	const char	*out_file;	/* -o */
	const char	**headers;	/* -H, borrowed from argv */
	size_t		 nheaders;
	int		 own_host;	/* a -H gives Host */
	int		 own_accept;	/* a -H gives Accept */
	int		 srcbase;	/* -s, or -1 */
	unsigned	 per_addr;	/* -a: connections per -s address */
	unsigned	 stalled;	/* -S */
	int		 quiet;		/* -q */
	int		 seq;		/* -Q */
	int		 seq_by_name;	/* -K: -Q counts per event name */
	int		 churn;		/* -x */
	int		 eventsource;	/* -E */
	unsigned	 rate;		/* -R: new connections per second */
	int		 latency;	/* -L */
	const char	*cdf_file;	/* -l */
	unsigned	 pause_ms;	/* -P: not reading this long ... */
	unsigned	 period_ms;	/* ... out of every this long */
	int		 rcvbuf;	/* -B: SO_RCVBUF, or 0 */
};

struct stats {
	long long	 established;	/* got a 200 response */
	long long	 failed;	/* never got one */
	long long	 non200;	/* failed with another status */
	long long	 received;	/* events, all connections */
	long long	 complete;	/* connections with -e events */
	long long	 closed_early;	/* ended by the server, incomplete */
	long long	 comments;	/* ':' lines */
	long long	 seq_errors;	/* -Q: gaps, repeats, disorder */
	long long	 out_of_order;	/* ids not above the one before */
	long long	 stalled_est;	/* -S connections that got a 200 */
	long long	 stalled_closed;/* ... ended by the server */
	long long	 stalled_reset;	/* ... of those, by a reset */
	long long	 stalled_complete; /* ... that got -e events */
	long long	 stalled_events;
	long long	 stalled_bytes;	/* body bytes they read */
	int		 first_status;	/* first status code seen, or 0 */
	long long	 reconnects;	/* -E: attempts after the first */
	long long	 dead;		/* -E: connections failed for good */
	long long	 back_max;	/* -E: longest end-to-200 gap, ms */
	long long	 late_max;	/* -E: longest of that past the retry */
	long long	 last_back;	/* -E: wall clock of the last such 200 */
	long long	 pauses;	/* -P: pauses begun */
	long long	 first_event;	/* -P: wall clock of the first event, ms */
	long long	 last_event;	/* -P: ... and of the last */
	long long	 read_wall;	/* -P: when the bytes being parsed came */
};

/* -L: the latency of every event that carried a "ts", in microseconds. */
struct latency {
	uint32_t	*us;
	size_t		 n;
	size_t		 cap;
	long long	 no_ts;		/* events without a usable "ts" */
	long long	 first_ts;	/* earliest publish time, or 0 */
	long long	 last_recv;	/* latest receipt of an event */
	long long	 now;		/* when the bytes being parsed were read */
};

/* The events of connection 0, for -o. */
struct recorder {
	FILE		*f;
	struct buf	 id;
	struct buf	 event;
	struct buf	 data;
};

static struct options	 opt;
static struct stats	 st;
static struct recorder	 rec;
static struct latency	 lat;
static struct conn	*conns;
static int		 epfd = -1;
static unsigned		 started;	/* conns past CONN_IDLE */
static unsigned		 inflight;	/* connecting, sending or head */
static unsigned		 open_streams;	/* conns in CONN_BODY */
static unsigned		 waiting;	/* -E: conns with CONN_WAITING */
static int		 woken;		/* -S connections read again */
static volatile sig_atomic_t stop_signal; /* the signal that stops us */
static volatile sig_atomic_t wake_signal; /* SIGUSR1 arrived */

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: sse-client -u URL [-n N] [-c CONCURRENCY] [-e EXPECT] "
	    "[-d SECONDS]\n"
	    "                  [-r READYFILE] [-H 'Name: value']... "
	    "[-o FILE] [-s SRCBASE [-a PER_ADDR]]\n"
	    "                  [-S STALLED] [-Q] [-x] [-E] [-R RATE] [-q]\n"
	    "                  [-P PAUSE_MS/PERIOD_MS] [-B RCVBUF] [-L] [-l FILE]\n"
	    "  URL is http://IPV4:PORT/path; {i} in the path becomes the "
	    "connection index,\n"
	    "  {i%%K} the index modulo K. The last STALLED connections stop "
	    "reading after\n"
	    "  the response head until SIGUSR1. -Q: each event's data must be "
	    "the number\n"
	    "  after the previous one's (1 first), alone or before a space; "
	    "gaps and\n"
	    "  repeats are errors. -K: as -Q, counted per event name (a stream of "
	    "several\n  channels). -x: close each stream once it has its -e "
	    "events (or its\n"
	    "  head with -e 0), for churn;\n"
	    "  -R: start at most RATE connections per second. -E: reconnect as "
	    "EventSource does\n"
	    "  (after retry:, with Last-Event-ID; a non-200 answer is final).\n"
	    "  -P PAUSE_MS/PERIOD_MS: each stream stops reading for PAUSE_MS of "
	    "every\n"
	    "  PERIOD_MS, the streams' pauses spread over the period. -B: "
	    "SO_RCVBUF of each\n"
	    "  connection (no autotuning: what the kernel holds for a pause is "
	    "fixed).\n");
	fprintf(stderr,
	    "  -L: measure latency from the \"ts\":MICROSECONDS in each "
	    "event's data;\n"
	    "  -l FILE: also write the latency CDF to FILE (implies -L).\n");
	exit(2);
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL) {
		fprintf(stderr, "sse-client: out of memory allocating %zu "
		    "bytes\n", n);
		abort();
	}
	return p;
}

/* Appends up to N bytes at P to B, never letting B grow past MAX bytes;
 * returns the number of bytes that did not fit. */
static size_t
buf_add(struct buf *b, const void *p, size_t n, size_t max)
{
	size_t	keep, want;

	if (b->len >= max)
		keep = 0;
	else
		keep = n < max - b->len ? n : max - b->len;
	if (b->len + keep > b->cap) {
		want = b->cap != 0 ? b->cap : 256;
		while (want < b->len + keep)
			want *= 2;
		if (want > max)
			want = max;
		b->p = xrealloc(b->p, want);
		b->cap = want;
	}
	if (keep != 0)
		memcpy(b->p + b->len, p, keep);
	b->len += keep;
	return n - keep;
}

static void
buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s), BUF_NOLIMIT);
}

static void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* -P: wall-clock milliseconds, comparable with other processes' times. */
static long long
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		wake_signal = 1;
	else
		stop_signal = sig;
}

/* Reports a problem with one connection on stderr, unless -q; only the
 * first CLIENT_NOTES_MAX reach the terminal, so 30k refusals stay short. */
static void __attribute__((format(printf, 2, 3)))
conn_note(const struct conn *c, const char *fmt, ...)
{
	static unsigned	shown;
	char		msg[256];
	va_list		ap;

	if (opt.quiet || shown > CLIENT_NOTES_MAX)
		return;
	if (shown++ == CLIENT_NOTES_MAX) {
		warnx("further connection errors are not shown");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	warnx("conn %u: %s", c->idx, msg);
}

static void
conn_release(struct conn *c)
{
	if (c->fd != -1)
		close(c->fd);		/* also leaves the epoll set */
	c->fd = -1;
	c->state = CONN_CLOSED;
	c->flags &= ~CONN_PAUSED;
	buf_free(&c->out);
	buf_free(&c->head);
	buf_free(&c->line);
}

/* -E: schedules C's next attempt after its reconnection time, unless it
 * is complete or dead. Its counters and ids carry over. */
static void
conn_again(struct conn *c)
{
	if (!opt.eventsource)
		return;
	if (c->flags & CONN_DEAD) {
		st.dead++;
		return;
	}
	if (c->flags & CONN_COMPLETE)
		return;
	c->ended_at = now_ms();
	c->retry_at = c->ended_at + c->retry_ms;
	c->flags |= CONN_WAITING;
	waiting++;
}

/* Ends a connection that never got a 200 response. */
static void __attribute__((format(printf, 2, 3)))
conn_fail(struct conn *c, const char *fmt, ...)
{
	char	msg[256];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	conn_note(c, "%s", msg);
	st.failed++;
	inflight--;
	conn_release(c);
	conn_again(c);
}

/* Ends an established stream: the server closed it or broke the framing. */
static void
conn_end(struct conn *c, const char *why)
{
	if (c->flags & CONN_STALLED) {
		if (!(c->flags & CONN_COMPLETE))
			st.stalled_closed++;
	} else if (!(c->flags & CONN_COMPLETE) && !opt.eventsource) {
		st.closed_early++;
		conn_note(c, "%s after %lld events", why, c->events);
	}
	open_streams--;
	conn_release(c);
	conn_again(c);
}

static int
recording(const struct conn *c)
{
	return rec.f != NULL && c->idx == 0;
}

/* Writes the dispatched event of connection 0 as one -o line. */
static void
record_event(void)
{
	const char	*p, *end, *run;

	fputs("id=", rec.f);
	fwrite(rec.id.p != NULL ? rec.id.p : "", 1, rec.id.len, rec.f);
	fputs("\tevent=", rec.f);
	fwrite(rec.event.p != NULL ? rec.event.p : "", 1, rec.event.len,
	    rec.f);
	fputs("\tdata=", rec.f);
	p = run = rec.data.len > 0 ? rec.data.p : "";
	end = p + rec.data.len;
	for (; p < end; p++) {
		if (*p != '\n' && *p != '\\')
			continue;
		fwrite(run, 1, p - run, rec.f);
		fputs(*p == '\n' ? "\\n" : "\\\\", rec.f);
		run = p + 1;
	}
	if (run < end)
		fwrite(run, 1, end - run, rec.f);
	fputc('\n', rec.f);
	fflush(rec.f);
}

/* -Q: the decimal number DATA holds, alone or before a space (so padding
 * may follow it), or -1. */
static long long
seq_parse(const char *v, size_t len)
{
	long long	n = 0;
	size_t		i;

	for (i = 0; i < len && v[i] != ' '; i++) {
		if (v[i] < '0' || v[i] > '9' || i == 15)
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	return i == 0 ? -1 : n;
}

/* -L: wall-clock microseconds, the clock the publisher stamps "ts" with. */
static long long
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* -L: the number after the first "ts": in a data line, or 0. */
static long long
ts_parse(const char *v, size_t len)
{
	const char	*p, *end = v + len;
	long long	 n = 0;

	if ((p = memmem(v, len, "\"ts\":", 5)) == NULL)
		return 0;
	for (p += 5; p < end && *p == ' '; p++)
		;
	for (; p < end && *p >= '0' && *p <= '9' && n < (1LL << 56); p++)
		n = n * 10 + (*p - '0');
	return n;
}

/* -L: counts the latency of C's event, just dispatched. */
static void
lat_record(struct conn *c)
{
	long long	d;

	if (c->ts <= 0) {
		lat.no_ts++;
		return;
	}
	if (lat.n == lat.cap) {
		lat.cap = lat.cap != 0 ? lat.cap * 2 : 65536;
		lat.us = xrealloc(lat.us, lat.cap * sizeof *lat.us);
	}
	/* A clock step could make it negative: count it as 0. */
	d = lat.now - c->ts;
	if (d < 0)
		d = 0;
	if (d > UINT32_MAX)
		d = UINT32_MAX;
	lat.us[lat.n++] = (uint32_t)d;
	if (lat.first_ts == 0 || c->ts < lat.first_ts)
		lat.first_ts = c->ts;
	if (lat.now > lat.last_recv)
		lat.last_recv = lat.now;
}

static int
lat_cmp(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* -L: the latency at quantile Q of the sorted list, in ms. */
static double
lat_ms(double q)
{
	if (lat.n == 0)
		return 0;
	return lat.us[(size_t)(q * (lat.n - 1))] / 1000.0;
}

/* -l: the CDF as "ms fraction" lines, CLIENT_CDF_POINTS evenly spaced
 * ranks plus the last: enough for a plot of 10^6 events, and small. */
static void
lat_write_cdf(void)
{
	FILE	*f;
	size_t	 k, r, prev = SIZE_MAX;

	if ((f = fopen(opt.cdf_file, "w")) == NULL) {
		warn("%s", opt.cdf_file);
		return;
	}
	fprintf(f, "# latency_ms fraction_of_events (%zu events)\n", lat.n);
	for (k = 0; lat.n > 0 && k <= CLIENT_CDF_POINTS; k++) {
		r = (size_t)((double)k * (lat.n - 1) / CLIENT_CDF_POINTS);
		if (r == prev)
			continue;
		prev = r;
		fprintf(f, "%.3f %.6f\n", lat.us[r] / 1000.0,
		    (double)(r + 1) / lat.n);
	}
	if (ferror(f) || fclose(f) != 0)
		warnx("%s: write error", opt.cdf_file);
}

/* -L: the end of the summary line. */
static void
lat_summary(void)
{
	struct rusage	ru;
	long long	expected = (st.established - st.stalled_est) *
			    opt.expect;

	qsort(lat.us, lat.n, sizeof *lat.us, lat_cmp);
	if (opt.cdf_file != NULL)
		lat_write_cdf();
	memset(&ru, 0, sizeof ru);
	getrusage(RUSAGE_SELF, &ru);
	printf(" loss=%lld with_ts=%zu no_ts=%lld p50_ms=%.2f p90_ms=%.2f "
	    "p99_ms=%.2f max_ms=%.2f span_ms=%.1f cpu_user_s=%.2f "
	    "cpu_sys_s=%.2f", expected > st.received ?
	    expected - st.received : 0, lat.n, lat.no_ts, lat_ms(0.50),
	    lat_ms(0.90), lat_ms(0.99), lat_ms(1.0),
	    lat.n > 0 ? (lat.last_recv - lat.first_ts) / 1000.0 : 0.0,
	    ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* -K: this event's number must follow the last of its name (an event
 * without a name, or past CLIENT_NAMES_MAX names, counts as an error). */
static void
seq_by_name(struct conn *c)
{
	struct name_seq	*k;

	if (c->kcur < 0) {
		if (st.seq_errors++ < CLIENT_NOTES_MAX)
			warnx("connection %u: event %lld without a known name",
			    c->idx, c->seq_val);
		return;
	}
	k = &c->kseq[c->kcur];
	if (c->seq_val != k->seq + 1 && st.seq_errors++ < CLIENT_NOTES_MAX)
		warnx("connection %u: %s event %lld after %lld", c->idx,
		    k->name, c->seq_val, k->seq);
	k->seq = c->seq_val;
}

/* -K: finds or adds the event name V, LEN bytes, of this event. */
static void
seq_name(struct conn *c, const char *v, size_t len)
{
	unsigned	i;

	c->kcur = -1;
	if (len >= sizeof c->kseq[0].name)
		return;
	if (c->kseq == NULL)
		c->kseq = xrealloc(NULL, CLIENT_NAMES_MAX * sizeof *c->kseq);
	for (i = 0; i < c->nkseq; i++)
		if (strlen(c->kseq[i].name) == len &&
		    memcmp(c->kseq[i].name, v, len) == 0) {
			c->kcur = (int)i;
			return;
		}
	if (c->nkseq == CLIENT_NAMES_MAX)
		return;
	memcpy(c->kseq[c->nkseq].name, v, len);
	c->kseq[c->nkseq].name[len] = '\0';
	c->kseq[c->nkseq].seq = 0;
	c->kcur = (int)c->nkseq++;
}

/* A blank line: the block is an event if it had a data field. */
static void
sse_dispatch(struct conn *c)
{
	if (c->flags & CONN_HAS_DATA) {
		c->flags &= ~CONN_HAS_DATA;
		c->events++;
		if (c->flags & CONN_STALLED)
			st.stalled_events++;
		else
			st.received++;
		if (opt.seq && opt.seq_by_name)
			seq_by_name(c);
		else if (opt.seq && c->seq_val != c->seq + 1) {
			if (st.seq_errors++ < CLIENT_NOTES_MAX)
				warnx("connection %u: event %lld after %lld",
				    c->idx, c->seq_val, c->seq);
		}
		if (opt.seq)
			c->seq = c->seq_val;
		if (recording(c))
			record_event();
		if (opt.latency)
			lat_record(c);
		if (opt.pause_ms > 0) {
			if (st.first_event == 0)
				st.first_event = st.read_wall;
			st.last_event = st.read_wall;
		}
		if (opt.expect > 0 && c->events == opt.expect) {
			c->flags |= CONN_COMPLETE;
			if (c->flags & CONN_STALLED)
				st.stalled_complete++;
			else
				st.complete++;
		}
	}
	if (recording(c))
		rec.id.len = rec.event.len = rec.data.len = 0;
	c->ts = 0;
	c->kcur = -1;
}

static int
field_is(const char *p, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(p, name, len) == 0;
}

/* Counts an id of the form MS-SEQ that is not above the last one. */
static void
id_check(struct conn *c, const char *v, size_t len)
{
	unsigned long long	seq = 0;
	size_t			i = 0;

	while (i < len && isdigit((unsigned char)v[i]))
		i++;
	if (i == 0 || i == len || v[i++] != '-' || i == len)
		return;
	for (; i < len && isdigit((unsigned char)v[i]) && seq < (1ULL << 60);
	    i++)
		seq = seq * 10 + (v[i] - '0');
	if (i != len)
		return;
	/* The sequence is shared by all channels: it alone orders ids. */
	if (c->last_seq != 0 && seq <= c->last_seq)
		st.out_of_order++;
	c->last_seq = seq;
}

/* "retry:" with only ASCII digits sets the reconnection time (others are
 * ignored, as EventSource does). */
static void
retry_field(struct conn *c, const char *v, size_t len)
{
	unsigned long long	ms = 0;
	size_t			i;

	if (len == 0)
		return;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i]))
			return;
		if (ms <= CLIENT_RETRY_MAX_MS)
			ms = ms * 10 + (v[i] - '0');
	}
	if (ms <= CLIENT_RETRY_MAX_MS)
		c->retry_ms = (unsigned)ms;
}

/* One complete line of LEN bytes at P, without its line end. */
static void
sse_line(struct conn *c, const char *p, size_t len)
{
	const char	*colon, *v;
	size_t		 flen, vlen;

	if (!(c->flags & CONN_SAW_LINE)) {
		c->flags |= CONN_SAW_LINE;
		if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
			p += 3;
			len -= 3;
		}
	}
	if (len == 0) {
		sse_dispatch(c);
		return;
	}
	if (p[0] == ':') {
		st.comments++;
		return;
	}
	if ((colon = memchr(p, ':', len)) != NULL) {
		flen = colon - p;
		v = colon + 1;
		vlen = len - flen - 1;
		if (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
	} else {
		flen = len;
		v = "";
		vlen = 0;
	}
	/* Unknown fields change nothing this client counts. */
	if (field_is(p, flen, "retry")) {
		retry_field(c, v, vlen);
	} else if (field_is(p, flen, "data")) {
		if (opt.seq)
			c->seq_val = seq_parse(v, vlen);
		if (opt.latency && c->ts == 0)
			c->ts = ts_parse(v, vlen);
		if (recording(c)) {
			if (c->flags & CONN_HAS_DATA)
				buf_add(&rec.data, "\n", 1, CLIENT_DATA_MAX);
			buf_add(&rec.data, v, vlen, CLIENT_DATA_MAX);
		}
		c->flags |= CONN_HAS_DATA;
	} else if (field_is(p, flen, "id")) {
		id_check(c, v, vlen);
		/* EventSource ignores an id with a NUL; a longer one than
		 * CLIENT_ID_MAX is not kept here (the worker's are short). */
		if (opt.eventsource && memchr(v, '\0', vlen) == NULL &&
		    vlen < CLIENT_ID_MAX) {
			if (c->last_id == NULL)
				c->last_id = xrealloc(NULL, CLIENT_ID_MAX);
			memcpy(c->last_id, v, vlen);
			c->last_id[vlen] = '\0';
		}
		if (recording(c) && memchr(v, '\0', vlen) == NULL) {
			rec.id.len = 0;
			buf_add(&rec.id, v, vlen, CLIENT_LINE_MAX);
		}
	} else if (field_is(p, flen, "event")) {
		if (opt.seq_by_name)
			seq_name(c, v, vlen);
		if (recording(c)) {
			rec.event.len = 0;
			buf_add(&rec.event, v, vlen, CLIENT_LINE_MAX);
		}
	}
}

/* Finishes the line held in c->line; frees a buffer an outsized line grew. */
static void
line_flush(struct conn *c)
{
	sse_line(c, c->line.p != NULL ? c->line.p : "", c->line.len);
	c->line.len = 0;
	c->flags &= ~CONN_LINE_CUT;
	if (c->line.cap > CLIENT_LINE_KEEP)
		buf_free(&c->line);
}

static void
line_add(struct conn *c, const char *p, size_t n)
{
	if (buf_add(&c->line, p, n, CLIENT_LINE_MAX) != 0 &&
	    !(c->flags & CONN_LINE_CUT)) {
		c->flags |= CONN_LINE_CUT;
		conn_note(c, "line longer than %d bytes cut", CLIENT_LINE_MAX);
	}
}

/* Splits N bytes of event stream into lines. */
static void
sse_feed(struct conn *c, const char *p, size_t n)
{
	const char	*end = p + n, *eol;

	while (p < end) {
		if (c->flags & CONN_SKIP_LF) {
			c->flags &= ~CONN_SKIP_LF;
			if (*p == '\n') {
				p++;
				continue;
			}
		}
		for (eol = p; eol < end && *eol != '\n' && *eol != '\r'; eol++)
			;
		if (eol == end) {
			line_add(c, p, end - p);
			return;
		}
		if (*eol == '\r')
			c->flags |= CONN_SKIP_LF;
		if (c->line.len == 0 && !(c->flags & CONN_LINE_CUT) &&
		    (size_t)(eol - p) <= CLIENT_LINE_MAX) {
			sse_line(c, p, eol - p);	/* no copy needed */
		} else {
			line_add(c, p, eol - p);
			line_flush(c);
		}
		p = eol + 1;
	}
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The chunk size line ended: a zero size ends the response. */
static void
chunk_size_done(struct conn *c)
{
	c->flags &= ~CONN_DIGIT;
	if (c->chunk_left == 0)
		conn_end(c, "response ended (last chunk)");
	else
		c->chunk = CHUNK_DATA;
}

/* N body bytes at P: undo the transfer coding, pass on the event stream. */
static void
body_feed(struct conn *c, const char *p, size_t n)
{
	const char	*lf;
	size_t		 k;
	int		 d;

	if (!(c->flags & CONN_CHUNKED)) {
		if (c->body_left < 0) {
			sse_feed(c, p, n);
			return;
		}
		if ((unsigned long long)n > (unsigned long long)c->body_left)
			n = (size_t)c->body_left;
		sse_feed(c, p, n);
		c->body_left -= n;
		if (c->body_left == 0)
			conn_end(c, "response ended (Content-Length)");
		return;
	}
	while (n > 0 && c->state == CONN_BODY) {
		switch (c->chunk) {
		case CHUNK_SIZE:
			n--;
			if ((d = hexval(*p)) >= 0) {
				if (c->chunk_left >= CLIENT_CHUNK_MAX) {
					conn_end(c, "chunk size too large");
					return;
				}
				c->chunk_left = c->chunk_left * 16 + d;
				c->flags |= CONN_DIGIT;
			} else if (!(c->flags & CONN_DIGIT)) {
				conn_end(c, "bad chunk size");
				return;
			} else if (*p == '\n') {
				chunk_size_done(c);
			} else
				c->chunk = CHUNK_EXT;
			p++;
			break;
		case CHUNK_EXT:
			if ((lf = memchr(p, '\n', n)) == NULL)
				return;
			n -= lf + 1 - p;
			p = lf + 1;
			chunk_size_done(c);
			break;
		case CHUNK_DATA:
			k = n;
			if ((uint64_t)k > c->chunk_left)
				k = (size_t)c->chunk_left;
			sse_feed(c, p, k);
			p += k;
			n -= k;
			if ((c->chunk_left -= k) == 0)
				c->chunk = CHUNK_DATA_END;
			break;
		case CHUNK_DATA_END:
			n--;
			if (*p == '\n')
				c->chunk = CHUNK_SIZE;
			else if (*p != '\r') {
				conn_end(c, "no CRLF after chunk data");
				return;
			}
			p++;
			break;
		}
	}
}

/* Returns 1 if the LEN bytes at V hold TOKEN, ignoring case. */
static int
value_has(const char *v, size_t len, const char *token)
{
	size_t	tlen = strlen(token), i;

	for (i = 0; i + tlen <= len; i++)
		if (strncasecmp(v + i, token, tlen) == 0)
			return 1;
	return 0;
}

/* -x and -E: a stream that has what it came for leaves at once (with -E,
 * as a page that closes its EventSource, so its slot frees). */
static void
churn_check(struct conn *c)
{
	if (!(opt.churn || opt.eventsource) || c->state != CONN_BODY)
		return;
	if (opt.churn && opt.expect == 0) {
		c->flags |= CONN_COMPLETE;
		st.complete++;
	} else if (!(c->flags & CONN_COMPLETE))
		return;
	conn_end(c, "left");
}

/* Parses the response head in c->head.p[0..hend); the body follows. */
static void
head_done(struct conn *c, size_t hend)
{
	const char	*p = c->head.p, *end = p + hend, *eol, *colon, *v;
	struct buf	 head;
	size_t		 nlen, vlen;
	long long	 clen = -1;
	int		 status;

	eol = memchr(p, '\n', end - p);
	if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11])) {
		conn_fail(c, "malformed status line");
		return;
	}
	status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (st.first_status == 0)
		st.first_status = status;
	if (status != 200) {
		st.non200++;
		c->flags |= CONN_DEAD;	/* EventSource gives up */
		conn_fail(c, "HTTP status %d", status);
		return;
	}
	if (c->ended_at != 0 && now_ms() - c->ended_at > st.back_max)
		st.back_max = now_ms() - c->ended_at;
	if (c->ended_at != 0 && now_ms() - c->retry_at > st.late_max)
		st.late_max = now_ms() - c->retry_at;
	if (c->ended_at != 0) {
		struct timespec	wall;

		clock_gettime(CLOCK_REALTIME, &wall);
		st.last_back = (long long)wall.tv_sec * 1000 +
		    wall.tv_nsec / 1000000;
	}
	for (p = eol + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', end - p);
		if ((colon = memchr(p, ':', eol - p)) == NULL)
			continue;
		nlen = colon - p;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		vlen = eol - v;
		if (nlen == 17 &&
		    strncasecmp(p, "Transfer-Encoding", 17) == 0 &&
		    value_has(v, vlen, "chunked"))
			c->flags |= CONN_CHUNKED;
		if (nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
			for (clen = 0; v < eol && isdigit((unsigned char)*v) &&
			    clen < (1LL << 50); v++)
				clen = clen * 10 + (*v - '0');
		}
	}
	st.established++;
	inflight--;
	open_streams++;
	c->state = CONN_BODY;
	c->body_left = (c->flags & CONN_CHUNKED) ? -1 : clen;
	if (c->flags & CONN_STALLED) {
		st.stalled_est++;
		st.stalled_bytes += c->head.len - hend;
	}
	/* body_feed() may end the connection: keep the bytes it reads. */
	head = c->head;
	memset(&c->head, 0, sizeof c->head);
	body_feed(c, head.p + hend, head.len - hend);
	buf_free(&head);
	churn_check(c);
}

/* Looks for the blank line that ends the head, from byte FROM on. */
static void
head_check(struct conn *c, size_t from)
{
	const char	*p = c->head.p;
	size_t		 i, len = c->head.len;

	for (i = from; i < len; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < len && p[i + 1] == '\n') {
			head_done(c, i + 2);
			return;
		}
		if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n') {
			head_done(c, i + 3);
			return;
		}
	}
	if (len == CLIENT_HEAD_MAX)
		conn_fail(c, "response head longer than %d bytes",
		    CLIENT_HEAD_MAX);
}

/* A -S connection past its head: out of the epoll set until SIGUSR1. */
static void
conn_stall(struct conn *c)
{
	if (epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL) == -1)
		conn_end(c, "epoll_ctl");
}

/* -P: takes the streams whose pause began out of the epoll set, and puts
 * those whose pause ended back (bytes or an EOF that came meanwhile are
 * reported at once). T0 is the run's start. */
static void
pauses_update(long long now, long long t0)
{
	struct epoll_event	 ev;
	long long		 period = opt.period_ms, pos;
	unsigned		 i;
	int			 pause;

	for (i = 0; i < started; i++) {
		struct conn	*c = &conns[i];

		if (c->state != CONN_BODY || (c->flags & CONN_STALLED))
			continue;
		pos = (now - t0 + period - (long long)c->idx * period /
		    opt.n) % period;
		pause = pos >= period - opt.pause_ms;
		if (pause && !(c->flags & CONN_PAUSED)) {
			if (epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL) == -1) {
				conn_end(c, "epoll_ctl");
				continue;
			}
			c->flags |= CONN_PAUSED;
			st.pauses++;
		} else if (!pause && (c->flags & CONN_PAUSED)) {
			memset(&ev, 0, sizeof ev);
			ev.events = EPOLLIN;
			ev.data.ptr = c;
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
				conn_end(c, "epoll_ctl");
				continue;
			}
			c->flags &= ~CONN_PAUSED;
		}
	}
}

/* SIGUSR1: every stalled connection reads again. */
static void
wake_stalled(void)
{
	struct epoll_event	 ev;
	unsigned		 i;

	woken = 1;
	for (i = opt.n - opt.stalled; i < opt.n; i++) {
		if (conns[i].state != CONN_BODY)
			continue;
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.ptr = &conns[i];
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, conns[i].fd, &ev) == -1)
			conn_end(&conns[i], "epoll_ctl");
	}
}

static void
conn_readable(struct conn *c)
{
	static char	 rbuf[CLIENT_READ_SIZE];
	ssize_t		 n;
	size_t		 want, from;
	int		 i;

	for (i = 0; i < CLIENT_READS_PER_WAKE; i++) {
		if (c->state == CONN_HEAD) {
			want = CLIENT_HEAD_MAX - c->head.len;
			n = read(c->fd, c->head.p + c->head.len, want);
		} else {
			want = sizeof rbuf;
			n = read(c->fd, rbuf, want);
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (c->state == CONN_HEAD)
				conn_fail(c, "closed before the response head"
				    " (%s)", n == 0 ? "EOF" : strerror(errno));
			else {
				if (n == -1 && (c->flags & CONN_STALLED))
					st.stalled_reset++;
				conn_end(c, n == 0 ? "closed by the server" :
				    strerror(errno));
			}
			return;
		}
		if (opt.latency)
			lat.now = now_us();
		if (opt.pause_ms > 0)
			st.read_wall = wall_ms();
		if (c->state == CONN_HEAD) {
			from = c->head.len >= 2 ? c->head.len - 2 : 0;
			c->head.len += n;
			head_check(c, from);
		} else {
			if (c->flags & CONN_STALLED)
				st.stalled_bytes += n;
			body_feed(c, rbuf, n);
			churn_check(c);
		}
		if (c->state == CONN_BODY && (c->flags & CONN_STALLED)) {
			if (!woken) {
				conn_stall(c);
				return;
			}
			if (c->flags & CONN_COMPLETE) {
				conn_end(c, "complete");
				return;
			}
		}
		if (c->state == CONN_CLOSED || (size_t)n < want)
			return;
	}
}

/* Appends the path template with {i} and {i%K} replaced for IDX. */
static void
path_expand(struct buf *b, const char *tpl, unsigned idx)
{
	const char	*p, *q;
	char		*end, num[32];
	unsigned long	 k;

	for (p = tpl; *p != '\0'; p++) {
		if (p[0] == '{' && p[1] == 'i') {
			q = p + 2;
			if (*q == '}') {
				snprintf(num, sizeof num, "%u", idx);
				buf_addstr(b, num);
				p = q;
				continue;
			}
			if (*q == '%' && isdigit((unsigned char)q[1])) {
				errno = 0;
				k = strtoul(q + 1, &end, 10);
				if (errno == 0 && k > 0 && *end == '}') {
					snprintf(num, sizeof num, "%lu",
					    idx % k);
					buf_addstr(b, num);
					p = end;
					continue;
				}
			}
		}
		buf_add(b, p, 1, BUF_NOLIMIT);
	}
}

static void
request_build(struct conn *c)
{
	struct buf	*b = &c->out;
	size_t		 i;

	buf_addstr(b, "GET ");
	path_expand(b, opt.path, c->idx);
	buf_addstr(b, " HTTP/1.1\r\n");
	if (!opt.own_host) {
		buf_addstr(b, "Host: ");
		buf_addstr(b, opt.hostport);
		buf_addstr(b, "\r\n");
	}
	if (!opt.own_accept)
		buf_addstr(b, "Accept: text/event-stream\r\n");
	buf_addstr(b, "Cache-Control: no-cache\r\n");
	if (opt.eventsource && c->last_id != NULL && c->last_id[0] != '\0') {
		buf_addstr(b, "Last-Event-ID: ");
		buf_addstr(b, c->last_id);
		buf_addstr(b, "\r\n");
	}
	for (i = 0; i < opt.nheaders; i++) {
		buf_addstr(b, opt.headers[i]);
		buf_addstr(b, "\r\n");
	}
	buf_addstr(b, "\r\n");
	c->out_off = 0;
}

static void
conn_writable(struct conn *c)
{
	struct epoll_event	 ev;
	socklen_t		 len;
	ssize_t			 n;
	int			 error;

	if (c->state == CONN_CONNECTING) {
		error = 0;
		len = sizeof error;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error,
		    &len) == -1)
			error = errno;
		if (error != 0) {
			conn_fail(c, "connect: %s", strerror(error));
			return;
		}
		request_build(c);
		c->state = CONN_SENDING;
	}
	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.p + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* wait for EPOLLOUT again */
		if (n == -1) {
			conn_fail(c, "send: %s", strerror(errno));
			return;
		}
		c->out_off += n;
	}
	buf_free(&c->out);
	c->state = CONN_HEAD;
	c->head.p = xrealloc(NULL, CLIENT_HEAD_MAX);
	c->head.cap = CLIENT_HEAD_MAX;
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		conn_fail(c, "epoll_ctl: %s", strerror(errno));
}

static void
conn_connect(struct conn *c)
{
	struct sockaddr_in	 src;
	struct epoll_event	 ev;

	inflight++;
	c->state = CONN_CONNECTING;
	c->body_left = -1;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		conn_fail(c, "socket: %s", strerror(errno));
		return;
	}
	/* Before connect(), so the window is set from the start. */
	if (opt.rcvbuf > 0)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &opt.rcvbuf,
		    sizeof opt.rcvbuf);
	if (c->idx >= opt.n - opt.stalled) {
		int	rcvbuf = CLIENT_STALL_RCVBUF;

		c->flags |= CONN_STALLED;
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof rcvbuf);
	}
	if (opt.srcbase >= 0) {
#ifdef IP_BIND_ADDRESS_NO_PORT
		/* Pick the port at connect(): 4-tuples, not ports, must be
		 * unique, so one address serves more than one port range. */
		int	one = 1;

		setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof one);
#endif
		memset(&src, 0, sizeof src);
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000000U | (unsigned)
		    (opt.srcbase + c->idx / opt.per_addr));
		if (bind(c->fd, (struct sockaddr *)&src, sizeof src) == -1) {
			conn_fail(c, "bind: %s", strerror(errno));
			return;
		}
	}
	if (connect(c->fd, (struct sockaddr *)&opt.addr,
	    sizeof opt.addr) == -1 && errno != EINPROGRESS) {
		conn_fail(c, "connect: %s", strerror(errno));
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		conn_fail(c, "epoll_ctl: %s", strerror(errno));
}

static void
conn_start(struct conn *c)
{
	started++;
	c->retry_ms = CLIENT_RETRY_MS;
	conn_connect(c);
}

/* -E: starts the attempts that are due; returns ms until the next one
 * (or -1 if none waits). The per-stream parse state starts afresh; the
 * counts, the sequence and the last id carry over. */
static long long
conns_again(void)
{
	long long	now = now_ms(), next = -1;
	unsigned	i;

	if (waiting == 0)
		return -1;
	for (i = 0; i < started; i++) {
		struct conn	*c = &conns[i];

		if (!(c->flags & CONN_WAITING))
			continue;
		if (c->retry_at > now) {
			if (next == -1 || c->retry_at - now < next)
				next = c->retry_at - now;
			continue;
		}
		waiting--;
		st.reconnects++;
		c->flags &= CONN_COMPLETE;
		c->chunk = CHUNK_SIZE;
		c->chunk_left = 0;
		c->seq_val = -1;
		c->kcur = -1;
		conn_connect(c);
	}
	return next;
}

static void
conn_event(struct conn *c)
{
	switch (c->state) {
	case CONN_CONNECTING:
	case CONN_SENDING:
		conn_writable(c);
		break;
	case CONN_HEAD:
	case CONN_BODY:
		conn_readable(c);
		break;
	default:
		break;
	}
}

/* Returns 1 when nothing more can change the counts. */
static int
run_finished(void)
{
	if (started < opt.n)
		return 0;
	if (opt.eventsource)
		return opt.expect > 0 && st.complete + st.dead == opt.n;
	if (inflight > 0)
		return 0;
	if (opt.expect > 0)
		return st.complete + st.closed_early == st.established -
		    st.stalled_est && st.stalled_closed +
		    st.stalled_complete == st.stalled_est;
	return open_streams == 0;
}

static void
ready_write(long long t0)
{
	int	fd;

	if (!opt.quiet)
		warnx("ready: established=%lld failed=%lld after %.3fs",
		    st.established, st.failed, (now_ms() - t0) / 1000.0);
	if (opt.ready_file == NULL)
		return;
	fd = open(opt.ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644);
	if (fd == -1)
		warn("%s", opt.ready_file);
	else
		close(fd);
}

static long long
parse_num(const char *s, long long min, long long max, const char *what)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		errx(2, "%s: %s is not a number from %lld to %lld", what, s,
		    min, max);
	return v;
}

static void
parse_url(const char *url)
{
	const char	*p, *slash, *colon;
	char		 host[64];
	size_t		 len;
	long long	 port = 80;

	if (strncasecmp(url, "http://", 7) != 0)
		errx(2, "-u %s: only http:// URLs are supported", url);
	p = url + 7;
	slash = strchr(p, '/');
	len = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (len == 0 || len >= sizeof host)
		errx(2, "-u %s: bad host", url);
	opt.hostport = xrealloc(NULL, len + 1);
	memcpy(opt.hostport, p, len);
	opt.hostport[len] = '\0';
	memcpy(host, p, len);
	host[len] = '\0';
	if ((colon = strchr(host, ':')) != NULL) {
		port = parse_num(colon + 1, 1, 65535, "-u port");
		host[colon - host] = '\0';
	}
	memset(&opt.addr, 0, sizeof opt.addr);
	opt.addr.sin_family = AF_INET;
	opt.addr.sin_port = htons((uint16_t)port);
	if (strcasecmp(host, "localhost") == 0)
		opt.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &opt.addr.sin_addr) != 1)
		errx(2, "-u %s: the host must be an IPv4 address", url);
	opt.path = slash != NULL ? slash : "/";
	for (p = opt.path; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			errx(2, "-u %s: blank or control byte in the path",
			    url);
}

static void
add_header(const char *h)
{
	const char	*colon = strchr(h, ':');

	if (colon == NULL || colon == h || strpbrk(h, "\r\n") != NULL)
		errx(2, "-H %s: want 'Name: value' on one line", h);
	if (colon - h == 4 && strncasecmp(h, "Host", 4) == 0)
		opt.own_host = 1;
	if (colon - h == 6 && strncasecmp(h, "Accept", 6) == 0)
		opt.own_accept = 1;
	opt.headers[opt.nheaders++] = h;
}

/* Lets RLIMIT_NOFILE's soft limit rise to the hard limit. */
static void
raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 &&
	    rl.rlim_max == RLIM_INFINITY) {
		rl.rlim_cur = 1048576;	/* Linux's default fs.nr_open */
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && !opt.quiet &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < opt.n + 16ULL)
		warnx("RLIMIT_NOFILE is %llu: not every one of %u connections "
		    "can open", (unsigned long long)rl.rlim_cur, opt.n);
}

/* -P PAUSE_MS/PERIOD_MS: 0 < PAUSE_MS < PERIOD_MS <= one hour. */
static void
parse_pause(const char *arg)
{
	char		*end;
	unsigned long	 pause, period;

	errno = 0;
	pause = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '/' ||
	    !isdigit((unsigned char)end[1]))
		errx(2, "-P %s: want PAUSE_MS/PERIOD_MS", arg);
	arg = end + 1;
	period = strtoul(arg, &end, 10);
	if (errno != 0 || *end != '\0' || pause == 0 || pause >= period ||
	    period > CLIENT_RETRY_MAX_MS)
		errx(2, "-P: want 0 < PAUSE_MS < PERIOD_MS <= %d",
		    CLIENT_RETRY_MAX_MS);
	opt.pause_ms = (unsigned)pause;
	opt.period_ms = (unsigned)period;
}

static void
parse_args(int argc, char **argv)
{
	const char	*url = NULL;
	char		*end;
	int		 ch;

	opt.n = 1;
	opt.conc = 500;
	opt.seconds = 30;
	opt.srcbase = -1;
	opt.per_addr = CLIENT_SRC_PER_ADDR;
	opt.headers = xrealloc(NULL, argc * sizeof *opt.headers);
	while ((ch = getopt(argc, argv, "a:B:c:d:Ee:H:hKLl:n:o:P:QqR:r:S:s:u:x")) != -1) {
		switch (ch) {
		case 'a':
			opt.per_addr = parse_num(optarg, 1, 65535, "-a");
			break;
		case 'B':
			opt.rcvbuf = parse_num(optarg, 1, INT_MAX / 2, "-B");
			break;
		case 'c':
			opt.conc = parse_num(optarg, 1, CLIENT_MAX_CONNS, "-c");
			break;
		case 'd':
			errno = 0;
			opt.seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(opt.seconds > 0 &&
			    opt.seconds <= CLIENT_MAX_SECONDS))
				errx(2, "-d %s: want seconds, more than 0 and "
				    "at most %.0f", optarg, CLIENT_MAX_SECONDS);
			break;
		case 'e':
			opt.expect = parse_num(optarg, 0, LLONG_MAX / 2, "-e");
			break;
		case 'H':
			add_header(optarg);
			break;
		case 'L':
			opt.latency = 1;
			break;
		case 'l':
			opt.cdf_file = optarg;
			opt.latency = 1;
			break;
		case 'n':
			opt.n = parse_num(optarg, 1, CLIENT_MAX_CONNS, "-n");
			break;
		case 'o':
			opt.out_file = optarg;
			break;
		case 'P':
			parse_pause(optarg);
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'r':
			opt.ready_file = optarg;
			break;
		case 'Q':
			opt.seq = 1;
			break;
		case 'K':
			opt.seq = opt.seq_by_name = 1;
			break;
		case 'x':
			opt.churn = 1;
			break;
		case 'E':
			opt.eventsource = 1;
			break;
		case 'R':
			opt.rate = parse_num(optarg, 1, 1000000, "-R");
			break;
		case 's':
			opt.srcbase = parse_num(optarg, 1, 254, "-s");
			break;
		case 'S':
			opt.stalled = parse_num(optarg, 0, CLIENT_MAX_CONNS,
			    "-S");
			break;
		case 'u':
			url = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || url == NULL)
		usage();
	parse_url(url);
	if (opt.eventsource && (opt.stalled > 0 || opt.churn))
		errx(2, "-E: not with -S or -x");
	if (opt.stalled > opt.n)
		errx(2, "-S %u: more than the %u connections of -n",
		    opt.stalled, opt.n);
	if (opt.srcbase >= 0 &&
	    opt.srcbase + (opt.n - 1) / opt.per_addr > 254)
		errx(2, "-s %d: %u connections need addresses past "
		    "127.0.0.254", opt.srcbase, opt.n);
}

static void
summary(void)
{
	printf("established=%lld failed=%lld http_non200=%lld received=%lld "
	    "expected=%lld complete=%lld closed_early=%lld comments=%lld "
	    "first_status=%d out_of_order=%lld seq_errors=%lld", st.established, st.failed,
	    st.non200, st.received,
	    (st.established - st.stalled_est) * opt.expect,
	    opt.expect > 0 ? st.complete : st.established, st.closed_early,
	    st.comments, st.first_status, st.out_of_order,
	    st.seq_errors);
	if (opt.eventsource)
		printf(" reconnects=%lld dead=%lld back_max_ms=%lld "
		    "late_max_ms=%lld last_back_epoch_ms=%lld", st.reconnects,
		    st.dead, st.back_max, st.late_max, st.last_back);
	if (opt.stalled > 0)
		printf(" stalled=%lld stalled_closed=%lld stalled_reset=%lld "
		    "stalled_complete=%lld stalled_events=%lld "
		    "stalled_bytes=%lld", st.stalled_est, st.stalled_closed,
		    st.stalled_reset, st.stalled_complete, st.stalled_events,
		    st.stalled_bytes);
	if (opt.pause_ms > 0)
		printf(" pauses=%lld first_event_epoch_ms=%lld "
		    "last_event_epoch_ms=%lld", st.pauses, st.first_event,
		    st.last_event);
	if (opt.latency)
		lat_summary();
	printf("\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct epoll_event	 evs[CLIENT_EPOLL_BATCH];
	struct sigaction	 sa;
	sigset_t		 block, waitmask;
	long long		 t0, deadline, left, again, unfinished = 0;
	long long		 now, next_pause = 0;
	unsigned		 i;
	int			 k, j, ready = 0;

	parse_args(argc, argv);
	raise_nofile();
	if (opt.out_file != NULL && (rec.f = fopen(opt.out_file, "w")) == NULL)
		err(2, "%s", opt.out_file);

	/* Signals are blocked except inside epoll_pwait(), so none is lost
	 * between the check of stop_signal and the wait. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGUSR1);

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(2, "epoll_create1");
	conns = xrealloc(NULL, opt.n * sizeof *conns);
	memset(conns, 0, opt.n * sizeof *conns);
	for (i = 0; i < opt.n; i++) {
		conns[i].fd = -1;
		conns[i].idx = i;
		conns[i].kcur = -1;
	}

	t0 = now_ms();
	deadline = t0 + (long long)(opt.seconds * 1000 + 0.5);
	for (;;) {
		while (started < opt.n && inflight < opt.conc &&
		    (opt.rate == 0 || started < (now_ms() - t0) *
		    (long long)opt.rate / 1000 + 1))
			conn_start(&conns[started]);
		if (!ready && started == opt.n && inflight == 0) {
			ready = 1;
			ready_write(t0);
		}
		if (wake_signal && !woken)
			wake_stalled();
		if (opt.pause_ms > 0 && (now = now_ms()) >= next_pause) {
			pauses_update(now, t0);
			next_pause = now + CLIENT_PAUSE_TICK_MS;
		}
		if (stop_signal != 0 || run_finished())
			break;
		if ((left = deadline - now_ms()) <= 0)
			break;
		/* Paced starts need a tick even when nothing happens. */
		if (opt.rate != 0 && started < opt.n && left > 5)
			left = 5;
		/* So do the pauses' starts and ends. */
		if (opt.pause_ms > 0 && left > CLIENT_PAUSE_TICK_MS)
			left = CLIENT_PAUSE_TICK_MS;
		if ((again = conns_again()) >= 0 && again < left)
			left = again;
		k = epoll_pwait(epfd, evs, CLIENT_EPOLL_BATCH, (int)left,
		    &waitmask);
		if (k == -1 && errno != EINTR)
			err(2, "epoll_pwait");
		for (j = 0; j < k; j++)
			conn_event(evs[j].data.ptr);
	}

	/* Connections still without a response head failed too. */
	for (i = 0; i < opt.n; i++) {
		if (conns[i].state < CONN_BODY)
			unfinished++;
	}
	st.failed += unfinished;
	if (!opt.quiet) {
		if (stop_signal != 0)
			warnx("stopped by signal %d", (int)stop_signal);
		else if (!run_finished())
			warnx("deadline of %gs reached", opt.seconds);
		if (unfinished > 0)
			warnx("%lld connections got no response head",
			    unfinished);
	}
	if (rec.f != NULL && (ferror(rec.f) || fclose(rec.f) != 0))
		warnx("%s: write error", opt.out_file);
	summary();
	if (st.out_of_order > 0)
		return 1;
	if (opt.expect > 0)
		return st.complete == opt.n - opt.stalled && st.seq_errors == 0 ?
		    0 : 1;
	return st.failed == 0 ? 0 : 1;
}
