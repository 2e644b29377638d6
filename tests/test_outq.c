/* sse-fcgi - MIT License
 *
 * Output queue: prefixes and shared slices come out in order through a
 * socketpair, including partial writes into a small socket buffer, and
 * frame references are released exactly once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

int
main(void)
{
	struct outq	 q;
	struct frame	*f, *big;
	int		 sv[2], sz = 4096, rounds = 0;
	char		 buf[300000], want[300000];
	size_t		 got = 0, wl = 0, i;
	enum outq_status st;

	signal(SIGPIPE, SIG_IGN);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);

	outq_init(&q);
	test_cond("empty flush", outq_flush(&q, sv[0]) == OUTQ_EMPTY);
	f = frame_from("hello world", 11);
	outq_push(&q, "PP", 2, f, 0, 5);
	outq_push(&q, "QQ", 2, f, 6, 5);
	outq_push(&q, "R", 1, NULL, 0, 0);
	test_cond("refs taken", f->refs == 3);
	test_cond("bytes", outq_bytes(&q) == 15);
	test_cond("flush", outq_flush(&q, sv[0]) == OUTQ_EMPTY);
	test_cond("refs released", f->refs == 1);
	got = drain(sv[1], buf, 15);
	test_cond("order", got == 15 && memcmp(buf, "PPhelloQQworldR", 15) == 0);

	/* Many items and a big frame through a small socket buffer. */
	big = frame_create(200000);
	for (i = 0; i < big->len; i++)
		big->data[i] = (char)('a' + i % 26);
	for (i = 0; i < 300; i++) {
		outq_push(&q, "H", 1, f, 0, 11);
		memcpy(want + wl, "Hhello world", 12);
		wl += 12;
	}
	outq_push(&q, "BIG!", 4, big, 0, big->len);
	memcpy(want + wl, "BIG!", 4);
	memcpy(want + wl + 4, big->data, big->len);
	wl += 4 + big->len;
	frame_unref(big);
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
	outq_push(&q, "1", 1, f, 0, 2);
	test_cond("one slice: inline", q.items == &q.one && q.cap == 1);
	outq_push(&q, "2", 1, f, 2, 2);
	outq_push(&q, "3", 1, f, 4, 2);
	test_cond("three slices: allocated ring", q.items != &q.one &&
	    q.cap == 4 && q.count == 3);
	outq_trim(&q);
	test_cond("trim keeps a ring in use", q.cap == 4 && q.count == 3);
	test_cond("flush from the grown ring", outq_flush(&q, sv[0]) ==
	    OUTQ_EMPTY);
	got = drain(sv[1], buf, 9);
	test_cond("inline then ring, in order", got == 9 &&
	    memcmp(buf, "1he2ll3o ", 9) == 0);
	test_cond("ring kept after draining", q.cap == 4);
	outq_trim(&q);
	test_cond("trim frees an empty ring", q.items == NULL && q.cap == 0);
	outq_push(&q, "4", 1, f, 0, 2);
	test_cond("inline again after trim", q.items == &q.one);
	test_cond("flush inline", outq_flush(&q, sv[0]) == OUTQ_EMPTY &&
	    drain(sv[1], buf, 3) == 3 && memcmp(buf, "4he", 3) == 0);
	outq_trim(&q);
	test_cond("trim leaves the inline slot", q.items == &q.one);
	test_cond("refs back after the inline round", f->refs == 1);

	/* Clearing a queue with data releases every reference. */
	outq_push(&q, "x", 1, f, 0, 3);
	outq_push(&q, "y", 1, f, 3, 3);
	outq_clear(&q);
	test_cond("clear releases", f->refs == 1 && outq_bytes(&q) == 0);

	/* A closed peer is an error. */
	outq_push(&q, "x", 1, f, 0, 3);
	close(sv[1]);
	test_cond("error on closed peer", outq_flush(&q, sv[0]) == OUTQ_ERROR);
	outq_clear(&q);
	frame_unref(f);
	close(sv[0]);
	return test_report("test_outq");
}
