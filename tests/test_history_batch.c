/* sse-fcgi - MIT License
 *
 * Batched history reads without Redis: replies are built by hand as
 * hiredis would hand them over. Covers: streams asking for the same
 * channel after the same id share one read (one script key) and each
 * entry's frame slots; the command's arguments; a page over several
 * channels stops at the frontier, in id order; gaps; cancelled requests;
 * malformed replies (bad types, wrong counts, disorder) and a lost
 * connection fail every request with an error, and nothing crashes.
 * Reads of a channel's last N (initial events): "~N" and "~N:ID" in the
 * command, shared like the others, the start the script found given to
 * each request, no gap, and malformed starts refused.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "event_id.h"
#include "frame.h"
#include "history_batch.h"
#include "testlib.h"

static redisReply *
rnew(int type)
{
	redisReply	*r = calloc(1, sizeof *r);

	r->type = type;
	return r;
}

static redisReply *
rnum(long long v)
{
	redisReply	*r = rnew(REDIS_REPLY_INTEGER);

	r->integer = v;
	return r;
}

static redisReply *
rstr(const char *s)
{
	redisReply	*r = rnew(REDIS_REPLY_STRING);

	r->str = strdup(s);
	r->len = strlen(s);
	return r;
}

static redisReply *
rarr(size_t n, ...)
{
	redisReply	*r = rnew(REDIS_REPLY_ARRAY);
	va_list		 ap;
	size_t		 i;

	r->elements = n;
	r->element = calloc(n ? n : 1, sizeof *r->element);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		r->element[i] = va_arg(ap, redisReply *);
	va_end(ap);
	return r;
}

/* One history entry: id ID, data DATA. */
static redisReply *
rent(const char *id, const char *data)
{
	return rarr(2, rstr(id), rarr(2, rstr("d"), rstr(data)));
}

/* What one callback saw. */
struct seen {
	int		 calls;
	int		 failed;
	size_t		 n;
	int		 more;
	unsigned long long clock, clock_ms;
	int		 gap[4];
	char		 start[4][48];	/* per channel, "" when none */
	size_t		 nch;		/* channels asked for, 0 = 1 */
	char		 ids[16][48];
	size_t		 chans[16];
	struct frame	*frame0;	/* the first entry's plain frame */
};

/* A callback that frames the first entry when no stream did yet, as a
 * stream does, and records the page. */
static void
on_page(void *arg, const struct history_snapshot *snap, const char *err)
{
	struct seen	*w = arg;
	size_t		 i;

	w->calls++;
	if (snap == NULL) {
		w->failed = err != NULL && err[0] != '\0';
		return;
	}
	w->n = snap->nentries;
	w->more = snap->more;
	w->clock = snap->clock_seq;
	w->clock_ms = snap->clock_ms;
	for (i = 0; i < snap->nentries && i < 16; i++) {
		snprintf(w->ids[i], sizeof w->ids[i], "%s",
		    snap->entries[i].id_text);
		w->chans[i] = snap->entries[i].channel;
	}
	for (i = 0; i < 4; i++)
		w->gap[i] = i < 1 ? snap->gap[0] : 0;
	for (i = 0; i < (w->nch ? w->nch : 1) && snap->start != NULL; i++)
		event_id_format(&snap->start[i], w->start[i]);
	if (snap->nentries > 0) {
		if (snap->entries[0].frames[0] == NULL)
			snap->entries[0].frames[0] = frame_from(
			    snap->entries[0].data, snap->entries[0].len);
		w->frame0 = snap->entries[0].frames[0];
	}
}

static const char *x[] = { "x" }, *y[] = { "y" }, *ab[] = { "a", "b" };
static const size_t l1[] = { 1 }, l2[] = { 1, 1 };

/* Two streams on the same channel after the same id are one read, and
 * share the entry's frame; another channel is another read. */
static void
test_shared(void)
{
	struct history_batch	*b = history_batch_create("sse:");
	struct seen		 s1, s2, s3;
	const char		**argv;
	const size_t		*argl;
	redisReply		*r;
	int			 argc;
	static const char	*want[] = { "EVAL", NULL, "3", "sse:clock",
	    "sse:history:x", "sse:history:y", "1000", "1-5", "100", "1-5",
	    "100" };
	int			 i, ok = 1;

	memset(&s1, 0, sizeof s1);
	memset(&s2, 0, sizeof s2);
	memset(&s3, 0, sizeof s3);
	test_cond("a bad id is refused", history_batch_add(b, x, l1, 1,
	    "abc", 100, on_page, &s1) == NULL);
	history_batch_add(b, x, l1, 1, "1-5", 100, on_page, &s1);
	history_batch_add(b, x, l1, 1, "1-5", 100, on_page, &s2);
	history_batch_add(b, y, l1, 1, "1-5", 100, on_page, &s3);
	test_cond("same channel and id: one read", history_batch_nreads(b) ==
	    2 && !history_batch_full(b));
	argc = history_batch_command(b, &argv, &argl);
	for (i = 0; i < argc && i < 11; i++)
		if (want[i] != NULL && (strcmp(argv[i], want[i]) != 0 ||
		    argl[i] != strlen(want[i])))
			ok = 0;
	test_cond("the command: keys, count, then id and budget per read",
	    argc == 11 && ok);
	r = rarr(3, rnum(9),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0),
	    rarr(2, rent("1-6", "six"), rent("1-7", "seven"))),
	    rarr(4, rnum(1), rstr("1-6"), rnum(0), rarr(1, rent("1-8", "e"))));
	test_cond("a good reply parses", history_batch_finish(b, r, NULL) ==
	    NULL);
	test_cond("each stream got its page", s1.calls == 1 && s2.calls == 1 &&
	    s3.calls == 1 && s1.n == 2 && s2.n == 2 && s3.n == 1 &&
	    strcmp(s2.ids[1], "1-7") == 0 && !s1.more);
	test_cond("the second stream found the first one's frame",
	    s1.frame0 != NULL && s1.frame0 == s2.frame0 &&
	    s3.frame0 != s1.frame0);
	test_cond("a trimmed read is a gap", s3.gap[0] == HISTORY_GAP_TRIMMED &&
	    s1.gap[0] == HISTORY_GAP_NONE);
	freeReplyObject(r);
}

/* Two channels, one cut: the page stops at its last id, merged. */
static void
test_frontier(void)
{
	struct history_batch	*b = history_batch_create("sse:");
	struct seen		 s;
	redisReply		*r;

	memset(&s, 0, sizeof s);
	history_batch_add(b, ab, l2, 2, "1-0", 50, on_page, &s);
	r = rarr(3, rnum(20),
	    rarr(4, rnum(1), rstr("0-0"), rnum(1),
	    rarr(3, rent("1-1", "1"), rent("1-3", "3"), rent("1-5", "5"))),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0),
	    rarr(4, rent("1-2", "2"), rent("1-4", "4"), rent("1-6", "6"),
	    rent("1-8", "8"))));
	history_batch_finish(b, r, NULL);
	test_cond("up to the frontier, in id order", s.calls == 1 &&
	    s.n == 5 && s.more && strcmp(s.ids[0], "1-1") == 0 &&
	    strcmp(s.ids[1], "1-2") == 0 && strcmp(s.ids[4], "1-5") == 0 &&
	    s.chans[0] == 0 && s.chans[1] == 1 && s.chans[4] == 0);
	freeReplyObject(r);

	b = history_batch_create("sse:");
	memset(&s, 0, sizeof s);
	history_batch_add(b, ab, l2, 2, "1-5", 50, on_page, &s);
	r = rarr(3, rnum(20),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0), rarr(0)),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0),
	    rarr(2, rent("1-6", "6"), rent("1-8", "8"))));
	history_batch_finish(b, r, NULL);
	test_cond("nothing cut: the last page, all of it", s.n == 2 &&
	    !s.more && strcmp(s.ids[1], "1-8") == 0);
	freeReplyObject(r);
}

/* Runs one batch of one request on X after 1-1 with reply R (freed);
 * returns 1 when the request failed cleanly with an error. */
static int
fails(redisReply *r)
{
	struct history_batch	*b = history_batch_create("sse:");
	struct seen		 s;
	const char		*err;

	memset(&s, 0, sizeof s);
	history_batch_add(b, x, l1, 1, "1-1", 50, on_page, &s);
	err = history_batch_finish(b, r, r == NULL ? "connection lost" : NULL);
	if (r != NULL)
		freeReplyObject(r);
	return s.calls == 1 && s.failed && (r == NULL || err != NULL);
}

static void
test_malformed(void)
{
	redisReply	*e;

	e = rnew(REDIS_REPLY_ERROR);
	e->str = strdup("ERR script");
	e->len = strlen(e->str);
	test_cond("an error reply", fails(e));
	e = rnew(REDIS_REPLY_ERROR);
	e->str = strdup("");
	test_cond("an empty error reply: an error all the same", fails(e));
	test_cond("a lost connection", fails(NULL));
	test_cond("not an array", fails(rnum(3)));
	test_cond("too few reads", fails(rarr(1, rnum(1))));
	test_cond("too many reads", fails(rarr(3, rnum(1),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0), rarr(0)),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0), rarr(0)))));
	test_cond("the clock a string", fails(rarr(2, rstr("1"),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0), rarr(0)))));
	test_cond("a read of 3 fields", fails(rarr(2, rnum(1),
	    rarr(3, rnum(1), rstr("0-0"), rarr(0)))));
	test_cond("more, a string", fails(rarr(2, rnum(1),
	    rarr(4, rnum(1), rstr("0-0"), rstr("1"), rarr(0)))));
	test_cond("a bad max deleted id", fails(rarr(2, rnum(1),
	    rarr(4, rnum(1), rstr("zz"), rnum(0), rarr(0)))));
	test_cond("cut without entries", fails(rarr(2, rnum(1),
	    rarr(4, rnum(1), rstr("0-0"), rnum(1), rarr(0)))));
	test_cond("an entry not an array", fails(rarr(2, rnum(1),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0), rarr(1, rnum(4))))));
	test_cond("an entry with a bad id", fails(rarr(2, rnum(1),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0),
	    rarr(1, rent("id", "d"))))));
	test_cond("an entry's field an integer", fails(rarr(2, rnum(1),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0),
	    rarr(1, rarr(2, rstr("1-2"), rarr(2, rstr("d"), rnum(1))))))));
	test_cond("entries out of order", fails(rarr(2, rnum(9),
	    rarr(4, rnum(1), rstr("0-0"), rnum(0),
	    rarr(2, rent("1-3", "a"), rent("1-2", "b"))))));
}

/* A cancelled request is not called back; the others are. */
static void
test_cancel(void)
{
	struct history_batch	*b = history_batch_create("p:");
	struct history_req	*q;
	struct seen		 s1, s2;
	redisReply		*r;

	memset(&s1, 0, sizeof s1);
	memset(&s2, 0, sizeof s2);
	q = history_batch_add(b, x, l1, 1, "1-1", 50, on_page, &s1);
	history_batch_add(b, x, l1, 1, "1-1", 50, on_page, &s2);
	history_cancel(q);
	r = rarr(2, rnum(5), rarr(4, rnum(1), rstr("0-0"), rnum(0),
	    rarr(1, rent("1-2", "two"))));
	history_batch_finish(b, r, NULL);
	test_cond("cancelled: not called", s1.calls == 0 && s2.calls == 1 &&
	    s2.n == 1);
	freeReplyObject(r);
	b = history_batch_create("p:");
	memset(&s1, 0, sizeof s1);
	history_batch_add(b, x, l1, 1, "9-99", 50, on_page, &s1);
	r = rarr(2, rnum(5), rarr(4, rnum(1), rstr("0-0"), rnum(0), rarr(0)));
	history_batch_finish(b, r, NULL);
	test_cond("an id past the clock is unknown", s1.calls == 1 &&
	    s1.gap[0] == HISTORY_GAP_UNKNOWN);
	freeReplyObject(r);
}

/* A read of no channel gives the clock: the last id published, with the
 * ms the script adds after the reads (poll mode starts there). */
static void
test_clock_only(void)
{
	struct history_batch	*b = history_batch_create("p:");
	struct seen		 s1, s2;
	redisReply		*r;

	memset(&s1, 0, sizeof s1);
	memset(&s2, 0, sizeof s2);
	history_batch_add(b, NULL, NULL, 0, "0-0", 0, on_page, &s1);
	history_batch_add(b, x, l1, 1, "1-1", 50, on_page, &s2);
	r = rarr(3, rnum(7), rarr(4, rnum(1), rstr("0-0"), rnum(0),
	    rarr(1, rent("1-2", "two"))), rnum(1234));
	history_batch_finish(b, r, NULL);
	test_cond("clock only: the clock and its ms", s1.calls == 1 &&
	    s1.n == 0 && s1.clock == 7 && s1.clock_ms == 1234);
	test_cond("beside a read: its page", s2.calls == 1 && s2.n == 1 &&
	    s2.clock_ms == 1234);
	freeReplyObject(r);
	b = history_batch_create("p:");
	memset(&s1, 0, sizeof s1);
	history_batch_add(b, NULL, NULL, 0, "0-0", 0, on_page, &s1);
	r = rarr(2, rnum(7), rstr("1234"));
	history_batch_finish(b, r, NULL);
	test_cond("the ms a string: refused", s1.calls == 1 && s1.failed);
	freeReplyObject(r);
}

/* Reads of the last N: keyed by N and bound, "~N" or "~N:ID" in the
 * command; each request gets the start the script found, and no gap. */
static void
test_last(void)
{
	struct history_batch	*b = history_batch_create("sse:");
	struct history_from	 f3[2], f3b[1], f5[1];
	struct seen		 s1, s2, s3, s4;
	const char		**argv;
	const size_t		*argl;
	redisReply		*r;
	int			 argc, i, ok = 1;
	static const char	*want[] = { "EVAL", NULL, "5", "sse:clock",
	    "sse:history:a", "sse:history:b", "sse:history:a",
	    "sse:history:y", "1000", "~3", "100", "~0", "100", "~3:1-4",
	    "100", "1-5", "100" };

	memset(&s1, 0, sizeof s1);
	memset(&s2, 0, sizeof s2);
	memset(&s3, 0, sizeof s3);
	memset(&s4, 0, sizeof s4);
	memset(f3, 0, sizeof f3);
	memset(f3b, 0, sizeof f3b);
	memset(f5, 0, sizeof f5);
	s1.nch = s2.nch = 2;
	f3[0].last = 3;
	f3[1].last = 0;
	f3b[0].last = 3;
	f3b[0].after.ms = 1;
	f3b[0].after.seq = 4;
	f5[0].last = -1;
	f5[0].after.ms = 1;
	f5[0].after.seq = 5;
	history_batch_add_from(b, ab, l2, 2, f3, 100, on_page, &s1);
	history_batch_add_from(b, ab, l2, 2, f3, 100, on_page, &s2);
	history_batch_add_from(b, ab, l1, 1, f3b, 100, on_page, &s3);
	history_batch_add_from(b, y, l1, 1, f5, 100, on_page, &s4);
	test_cond("last N: same channel, N and bound share a read",
	    history_batch_nreads(b) == 4);
	argc = history_batch_command(b, &argv, &argl);
	for (i = 0; i < argc && i < 17; i++)
		if (want[i] != NULL && (strcmp(argv[i], want[i]) != 0 ||
		    argl[i] != strlen(want[i])))
			ok = 0;
	test_cond("last N: ~N and ~N:ID in the command", argc == 17 && ok);
	r = rarr(6, rnum(9),
	    rarr(5, rnum(1), rstr("1-2"), rnum(0),
	    rarr(2, rent("1-6", "six"), rent("1-8", "eight")), rstr("1-5")),
	    rarr(5, rnum(1), rstr("0-0"), rnum(0), rarr(0), rstr("1-7")),
	    rarr(5, rnum(1), rstr("1-2"), rnum(0),
	    rarr(2, rent("1-6", "six"), rent("1-8", "eight")), rstr("1-4")),
	    rarr(5, rnum(1), rstr("0-0"), rnum(0), rarr(1, rent("1-9", "n")),
	    rstr("1-5")), rnum(77));
	test_cond("last N: the reply parses", history_batch_finish(b, r,
	    NULL) == NULL);
	test_cond("last N: pages and starts", s1.calls == 1 && s1.n == 2 &&
	    s2.n == 2 && strcmp(s1.start[0], "1-5") == 0 &&
	    strcmp(s1.start[1], "1-7") == 0 && strcmp(s3.start[0], "1-4") ==
	    0 && strcmp(s4.start[0], "1-5") == 0 && s4.n == 1);
	test_cond("last N: no gap though history was trimmed before",
	    s1.gap[0] == HISTORY_GAP_NONE && s3.gap[0] == HISTORY_GAP_NONE);
	test_cond("last N: shared frames", s1.frame0 != NULL &&
	    s1.frame0 == s2.frame0);
	freeReplyObject(r);

	/* The start is required for a read of the last N, and checked. */
	b = history_batch_create("sse:");
	memset(&s1, 0, sizeof s1);
	history_batch_add_from(b, x, l1, 1, f3b, 100, on_page, &s1);
	r = rarr(2, rnum(9), rarr(4, rnum(1), rstr("0-0"), rnum(0), rarr(0)));
	test_cond("last N without a start: refused", history_batch_finish(b,
	    r, NULL) != NULL && s1.calls == 1 && s1.failed);
	freeReplyObject(r);
	b = history_batch_create("sse:");
	memset(&s1, 0, sizeof s1);
	history_batch_add_from(b, x, l1, 1, f3b, 100, on_page, &s1);
	r = rarr(2, rnum(9), rarr(5, rnum(1), rstr("0-0"), rnum(0), rarr(0),
	    rstr("~3")));
	test_cond("a start that is no id: refused", history_batch_finish(b,
	    r, NULL) != NULL && s1.failed);
	freeReplyObject(r);
	b = history_batch_create("sse:");
	memset(&s1, 0, sizeof s1);
	history_batch_add_from(b, x, l1, 1, f3b, 100, on_page, &s1);
	r = rarr(2, rnum(9), rarr(5, rnum(1), rstr("0-0"), rnum(0), rarr(0),
	    rnum(4)));
	test_cond("a start that is an integer: refused",
	    history_batch_finish(b, r, NULL) != NULL && s1.failed);
	freeReplyObject(r);
	b = history_batch_create("sse:");
	memset(&s1, 0, sizeof s1);
	history_batch_add_from(b, x, l1, 1, f3b, 100, on_page, &s1);
	r = rarr(2, rnum(9), rarr(5, rnum(1), rstr("0-0"), rnum(0),
	    rarr(1, rent("1-4", "d")), rstr("1-4")));
	test_cond("an entry not after the start: refused",
	    history_batch_finish(b, r, NULL) != NULL && s1.failed);
	freeReplyObject(r);
	b = history_batch_create("sse:");
	memset(&s1, 0, sizeof s1);
	history_batch_add_from(b, x, l1, 1, f3b, 100, on_page, &s1);
	r = rarr(2, rnum(9), rarr(6, rnum(1), rstr("0-0"), rnum(0), rarr(0),
	    rstr("1-4"), rstr("1-4")));
	test_cond("a read of 6 fields: refused", history_batch_finish(b, r,
	    NULL) != NULL && s1.failed);
	freeReplyObject(r);
}

int
main(void)
{
	test_clock_only();
	test_shared();
	test_frontier();
	test_malformed();
	test_cancel();
	test_last();
	return test_report("test_history_batch");
}
