/* sse-fcgi - MIT License
 *
 * Output queue: each slice comes out as one FastCGI STDOUT record whose
 * header is made at write time (request id, length, no padding), raw
 * pieces as they are, all in order through a socketpair, including partial
 * writes into a small socket buffer (cut inside headers and data); frame
 * references are released exactly once; the first slot lives in the
 * struct and a grown ring is given back by outq_trim(). Runs: consecutive
 * frames of one log share a slot, go out as one record each (more than
 * one writev's worth, cut anywhere), hold the log only as far as the
 * oldest unsent frame, and leave nothing behind.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fcgi_proto.h"
#include "frame.h"
#include "outq.h"
#include "testlib.h"

static size_t
drain(int fd, char *buf, size_t cap)
{
	ssize_t	n;
	size_t	got = 0;

	while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

/* Appends the STDOUT record for DATA[0..LEN) of request ID to WANT. */
static size_t
record(char *want, uint16_t id, const char *data, size_t len)
{
	fcgi_proto_header(want, FCGI_PROTO_STDOUT, id, (uint16_t)len);
	memcpy(want + FCGI_PROTO_HEADER_LEN, data, len);
	return FCGI_PROTO_HEADER_LEN + len;
}

/* A log of N events "event NNNN" pushed to Q (and to Q2 from event
 * FROM on, if Q2) as the hub does: framed, chained, queued, released. */
static size_t
log_push(struct frame **tail, int n, struct outq *q, struct outq *q2,
    int from, char *want, struct frame **first)
{
	struct frame	*f;
	char		 text[32];
	size_t		 wl = 0;
	int		 i, len;

	for (i = 0; i < n; i++) {
		len = snprintf(text, sizeof text, "event %04d\n", i);
		f = frame_from(text, (size_t)len);
		frame_chain(tail, f);
		if (i == 0 && first != NULL)
			*first = f;
		outq_push_run(q, f);
		if (q2 != NULL && i >= from)
			outq_push_run(q2, f);
		wl += record(want + wl, 0x1234, text, (size_t)len);
		frame_unref(f);
	}
	return wl;
}

/* Runs of one log (see the file comment). */
static void
test_runs(void)
{
	struct outq	 q, q2;
	struct frame	*tail = NULL, *first, *ka, *f;
	static char	 buf[400000], want[400000];
	size_t		 wl, got;
	int		 sv[2], sz = 4096, rounds = 0;
	enum outq_status st;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	outq_init(&q, 0x1234);
	outq_init(&q2, 0x1234);

	wl = log_push(&tail, 1000, &q, NULL, 0, want, &first);
	test_cond("1,000 events of a log: one slot", outq_slots(&q) == 1);
	test_cond("run bytes count each record", outq_bytes(&q) == wl);
	test_cond("the queue holds the oldest, the log the rest",
	    first->refs == 1 && first->next->refs == 1 && tail != NULL &&
	    tail->refs == 1 && tail->weak == &tail);
	/* A frame from elsewhere (a keepalive) breaks the run; the log's
	 * next event starts a new one. */
	ka = frame_from(": ka\n", 5);
	outq_push_run(&q, ka);
	wl += record(want + wl, 0x1234, ": ka\n", 5);
	f = frame_from("after\n", 6);
	frame_chain(&tail, f);
	outq_push_run(&q, f);
	wl += record(want + wl, 0x1234, "after\n", 6);
	frame_unref(f);
	test_cond("a foreign frame: three slots", outq_slots(&q) == 3);
	got = 0;
	for (;;) {
		st = outq_flush(&q, sv[0]);
		got += drain(sv[1], buf + got, sizeof buf - got);
		if (st != OUTQ_AGAIN || ++rounds > 100000)
			break;
	}
	got += drain(sv[1], buf + got, sizeof buf - got);
	test_cond("a run through a small buffer: partial writes, in order",
	    st == OUTQ_EMPTY && rounds > 1 && got == wl &&
	    memcmp(buf, want, wl) == 0);
	test_cond("a sent run frees the log", tail == NULL &&
	    ka->refs == 1 && outq_bytes(&q) == 0);

	/* Two streams: one holds the whole log, one joins half-way. The
	 * second sending all it has frees nothing the first still needs. */
	wl = log_push(&tail, 100, &q, &q2, 50, want, &first);
	test_cond("two queues, one slot each", outq_slots(&q) == 1 &&
	    outq_slots(&q2) == 1);
	test_cond("the later queue holds the middle", first->next->refs == 1);
	while (outq_flush(&q2, sv[0]) == OUTQ_AGAIN)
		drain(sv[1], buf, sizeof buf);
	drain(sv[1], buf, sizeof buf);
	test_cond("the other's run still whole", tail != NULL &&
	    first->refs == 1 && outq_bytes(&q) == wl);
	outq_clear(&q);
	test_cond("clearing the last holder frees the log", tail == NULL);

	/* A million frames held through one slot are freed without deep
	 * recursion. */
	{
		int	i;

		for (i = 0; i < 1000000; i++) {
			f = frame_from("x\n", 2);
			frame_chain(&tail, f);
			outq_push_run(&q, f);
			frame_unref(f);
		}
	}
	test_cond("a million-event run: one slot", outq_slots(&q) == 1 &&
	    outq_bytes(&q) == 1000000u * 10);
	outq_clear(&q);
	test_cond("and freed at once", tail == NULL);

	/* A frame larger than one record never joins a run. */
	f = frame_create(70000);
	memset(f->data, 'z', f->len);
	outq_push_run(&q, f);
	test_cond("over 65535: not queued as a run", outq_slots(&q) == 0);
	frame_unref(f);
	frame_unref(ka);
	outq_clear(&q);
	outq_clear(&q2);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	struct outq	 q;
	struct frame	*f, *big, *end;
	int		 sv[2], sz = 4096, rounds = 0;
	static char	 buf[400000], want[400000];
	size_t		 got = 0, wl = 0, i, off;
	enum outq_status st;

	signal(SIGPIPE, SIG_IGN);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);

	test_cond("a slot is 24 bytes", sizeof(struct outq_item) == 24);
	outq_init(&q, 0x1234);
	test_cond("empty flush", outq_flush(&q, sv[0]) == OUTQ_EMPTY);
	f = frame_from("hello world", 11);
	end = frame_from("END!", 4);
	outq_push(&q, f, 0, 5);
	outq_push(&q, f, 6, 5);
	outq_push_raw(&q, end, 0, 4);
	outq_push(&q, f, 0, 0);		/* ignored: would end the body */
	test_cond("refs taken", f->refs == 3 && end->refs == 2);
	test_cond("bytes count the headers", outq_bytes(&q) == 8 + 5 + 8 + 5 + 4);
	test_cond("flush", outq_flush(&q, sv[0]) == OUTQ_EMPTY);
	test_cond("refs released", f->refs == 1 && end->refs == 1);
	got = drain(sv[1], buf, sizeof buf);
	wl = record(want, 0x1234, "hello", 5);
	wl += record(want + wl, 0x1234, "world", 5);
	memcpy(want + wl, "END!", 4);
	wl += 4;
	test_cond("records then the raw piece, in order", got == wl &&
	    memcmp(buf, want, wl) == 0);
	test_cond("header: version 1, STDOUT, id, length, no padding",
	    (unsigned char)buf[0] == 1 && buf[1] == FCGI_PROTO_STDOUT &&
	    (unsigned char)buf[2] == 0x12 && (unsigned char)buf[3] == 0x34 &&
	    buf[4] == 0 && buf[5] == 5 && buf[6] == 0);

	/* Many items and a big frame (in records of at most 65535) through a
	 * small socket buffer: writes are cut inside headers and data. */
	big = frame_create(200000);
	for (i = 0; i < big->len; i++)
		big->data[i] = (char)('a' + i % 26);
	wl = 0;
	for (i = 0; i < 300; i++) {
		outq_push(&q, f, 0, 11);
		wl += record(want + wl, 0x1234, "hello world", 11);
	}
	for (off = 0; off < big->len; off += 65535) {
		size_t n = big->len - off < 65535 ? big->len - off : 65535;

		outq_push(&q, big, off, n);
		wl += record(want + wl, 0x1234, big->data + off, n);
	}
	frame_unref(big);
	test_cond("queued bytes", outq_bytes(&q) == wl);
	got = 0;
	for (;;) {
		st = outq_flush(&q, sv[0]);
		got += drain(sv[1], buf + got, sizeof buf - got);
		rounds++;
		if (st != OUTQ_AGAIN || rounds > 100000)
			break;
	}
	got += drain(sv[1], buf + got, sizeof buf - got);
	test_cond("partial writes resumed", st == OUTQ_EMPTY && rounds > 1);
	test_cond("all bytes in order", got == wl &&
	    memcmp(buf, want, wl) == 0);
	test_cond("queue empty", outq_bytes(&q) == 0);
	test_cond("refs back", f->refs == 1);

	/* One waiting slice lives in the struct; a second allocates a ring,
	 * which outq_trim() gives back once empty (and only then). */
	outq_clear(&q);
	outq_push(&q, f, 0, 2);
	test_cond("one slice: inline", q.items == &q.one && q.cap == 1);
	outq_push(&q, f, 2, 2);
	outq_push(&q, f, 4, 2);
	test_cond("three slices: allocated ring", q.items != &q.one &&
	    q.cap == 4 && q.count == 3);
	outq_trim(&q);
	test_cond("trim keeps a ring in use", q.cap == 4 && q.count == 3);
	test_cond("flush from the grown ring", outq_flush(&q, sv[0]) ==
	    OUTQ_EMPTY);
	got = drain(sv[1], buf, sizeof buf);
	wl = record(want, 0x1234, "he", 2);
	wl += record(want + wl, 0x1234, "ll", 2);
	wl += record(want + wl, 0x1234, "o ", 2);
	test_cond("inline then ring, in order", got == wl &&
	    memcmp(buf, want, wl) == 0);
	test_cond("ring kept after draining", q.cap == 4);
	outq_trim(&q);
	test_cond("trim frees an empty ring", q.items == NULL && q.cap == 0);
	outq_push(&q, f, 0, 2);
	test_cond("inline again after trim", q.items == &q.one);
	test_cond("flush inline", outq_flush(&q, sv[0]) == OUTQ_EMPTY &&
	    drain(sv[1], buf, sizeof buf) == 10 && memcmp(buf + 8, "he", 2) == 0);
	outq_trim(&q);
	test_cond("trim leaves the inline slot", q.items == &q.one);
	test_cond("refs back after the inline round", f->refs == 1);
	test_cond("request id kept across clear", (outq_clear(&q),
	    q.request_id == 0x1234));

	/* Clearing a queue with data releases every reference. */
	outq_push(&q, f, 0, 3);
	outq_push_raw(&q, end, 0, 4);
	outq_clear(&q);
	test_cond("clear releases", f->refs == 1 && end->refs == 1 &&
	    outq_bytes(&q) == 0);

	test_runs();

	/* A closed peer is an error. */
	outq_push(&q, f, 0, 3);
	close(sv[1]);
	test_cond("error on closed peer", outq_flush(&q, sv[0]) == OUTQ_ERROR);
	outq_clear(&q);
	frame_unref(f);
	frame_unref(end);
	close(sv[0]);
	return test_report("test_outq");
}
