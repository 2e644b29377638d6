/* sse-fcgi - MIT License
 *
 * libFuzzer target for the resume script's reply (src/resume.lua) as
 * history_batch_finish() reads it: the input is fed as RESP to a hiredis
 * reader and its first reply answers a batch of four requests: a resume of
 * one channel after an id, two reads of the last N (initial events) over
 * two channels, one with a bound, and a read of the clock only. Every
 * request must be called back exactly once, with a page or with an error;
 * a page's entries come in id order, each of a channel of its request,
 * each read of the last N only after the start it reports, and a page
 * that says "more" has entries. A parse error must say why. Frames made
 * in the callbacks, as streams make them, are freed by the batch (ASan
 * finds a leak). Inputs announcing a million items or bytes are skipped
 * (hiredis allocates what is announced; see fuzz_sentinel.c).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "event_id.h"
#include "frame.h"
#include "history.h"
#include "history_batch.h"
#include "resp_guard.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_req {
	size_t		 nchannels;
	int		 last;		/* reads of the last N */
	int		 calls;
};

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_history: %s\n", what);
	abort();
}

static void
fuzz_page(void *arg, const struct history_snapshot *snap, const char *err)
{
	struct fuzz_req	*q = arg;
	size_t		 i;

	q->calls++;
	if (snap == NULL) {
		if (err == NULL || err[0] == '\0')
			fuzz_fail("a failed read without a reason");
		return;
	}
	if (snap->start == NULL || snap->gap == NULL)
		fuzz_fail("a page without starts or gaps");
	if (snap->more && snap->nentries == 0)
		fuzz_fail("more to read after an empty page");
	for (i = 0; i < snap->nentries; i++) {
		if (snap->entries[i].channel >= q->nchannels)
			fuzz_fail("an entry of a channel not asked for");
		if (i > 0 && event_id_cmp(&snap->entries[i - 1].id,
		    &snap->entries[i].id) > 0)
			fuzz_fail("entries out of order");
		if (q->last && event_id_cmp(&snap->entries[i].id,
		    &snap->start[snap->entries[i].channel]) <= 0)
			fuzz_fail("an entry not after its read's start");
		if (snap->entries[i].frames[0] == NULL)
			snap->entries[i].frames[0] = frame_from(
			    snap->entries[i].data, snap->entries[i].len);
	}
	for (i = 0; i < q->nchannels; i++)
		if (q->last && snap->gap[i] != HISTORY_GAP_NONE)
			fuzz_fail("a gap for a read of the last N");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*x[] = { "x" }, *xy[] = { "x", "y" };
	static const size_t	 l1[] = { 1 }, l2[] = { 1, 1 };
	struct history_from	 from[2];
	struct history_batch	*b;
	struct fuzz_req		 q[4];
	redisReader		*rd;
	void			*r = NULL;
	const char		*perr;
	int			 i;

	if (resp_guard_huge(data, size) || (rd = redisReaderCreate()) == NULL)
		return 0;
	redisReaderFeed(rd, (const char *)data, size);
	if (redisReaderGetReply(rd, &r) != REDIS_OK || r == NULL) {
		redisReaderFree(rd);
		return 0;
	}
	memset(q, 0, sizeof q);
	memset(from, 0, sizeof from);
	b = history_batch_create("sse:");
	q[0].nchannels = 1;
	history_batch_add(b, x, l1, 1, "1-5", 100, fuzz_page, &q[0]);
	from[0].last = 3;
	from[1].last = 0;
	q[1].nchannels = 2;
	q[1].last = 1;
	history_batch_add_from(b, xy, l2, 2, from, 100, fuzz_page, &q[1]);
	from[0].after.ms = 1;
	from[0].after.seq = 4;
	q[2].nchannels = 1;
	q[2].last = 1;
	history_batch_add_from(b, x, l1, 1, from, 100, fuzz_page, &q[2]);
	history_batch_add(b, NULL, NULL, 0, "0-0", 0, fuzz_page, &q[3]);
	perr = history_batch_finish(b, r, NULL);
	for (i = 0; i < 4; i++)
		if (q[i].calls != 1)
			fuzz_fail("a request not called back exactly once");
	if (perr != NULL && perr[0] == '\0')
		fuzz_fail("a parse error without a reason");
	freeReplyObject(r);
	redisReaderFree(rd);
	return 0;
}
