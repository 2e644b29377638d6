/* sse-fcgi - MIT License
 *
 * Output queue of shared frame slices written with writev (see outq.h).
 * The ring starts as one slot inside the struct (most streams never have
 * two events waiting), then is allocated and doubles; it keeps that storage,
 * so steady-state delivery allocates nothing. A ring that grew past
 * OUTQ_KEEP items during a burst is freed once it drains; outq_trim() gives
 * back a smaller one (the stream writer calls it at its keepalive tick).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "fcgi_proto.h"
#include "frame.h"
#include "outq.h"
#include "xmalloc.h"

#define OUTQ_IOV_MAX	128	/* iovecs per writev */
#define OUTQ_KEEP	64	/* ring size kept after a burst drains */
#define OUTQ_RAW	0x80000000u	/* in len: no record header */
#define OUTQ_LEN(it)	((it)->len & ~OUTQ_RAW)
#define OUTQ_HDR(it)	((it)->len & OUTQ_RAW ? 0 : FCGI_PROTO_HEADER_LEN)

void
outq_init(struct outq *q, uint16_t request_id)
{
	memset(q, 0, sizeof *q);
	q->request_id = request_id;
}

/* Frees an allocated ring (never the inline slot). */
static void
outq_free_ring(struct outq *q)
{
	if (q->items != &q->one)
		free(q->items);
	q->items = NULL;
	q->cap = 0;
}

void
outq_clear(struct outq *q)
{
	uint32_t	i;

	for (i = 0; i < q->count; i++)
		frame_unref(q->items[(q->head + i) & (q->cap - 1)].frame);
	outq_free_ring(q);
	outq_init(q, q->request_id);
}

void
outq_trim(struct outq *q)
{
	if (q->count == 0 && q->items != &q->one)
		outq_free_ring(q);
}

static void
outq_grow(struct outq *q)
{
	struct outq_item	*n;
	uint32_t		 ncap, i;

	if (q->cap == 0) {
		q->items = &q->one;
		q->cap = 1;
		q->head = 0;
		return;
	}
	ncap = q->cap == 1 ? 4 : q->cap * 2;
	n = xmalloc(ncap * sizeof *n);
	for (i = 0; i < q->count; i++)
		n[i] = q->items[(q->head + i) & (q->cap - 1)];
	if (q->items != &q->one)
		free(q->items);
	q->items = n;
	q->cap = ncap;
	q->head = 0;
}

/* Appends a slot: a slice of F (LAST NULL) or a run of F alone (LAST F);
 * FLAGS is 0 or OUTQ_RAW. */
static inline void
outq_append(struct outq *q, struct frame *f, struct frame *last,
    size_t off, size_t len, uint32_t flags)
{
	struct outq_item	*it;

	if (q->count == q->cap)
		outq_grow(q);
	it = &q->items[(q->head + q->count) & (q->cap - 1)];
	it->frame = frame_ref(f);
	it->last = last;
	it->off = (uint32_t)off;
	it->len = (uint32_t)len | flags;
	q->count++;
	q->bytes += OUTQ_HDR(it) + len;
}

void
outq_push(struct outq *q, struct frame *f, size_t off, size_t len)
{
	if (len == 0 || len > FCGI_PROTO_MAX_CONTENT)
		return;		/* an empty STDOUT record would end the body */
	outq_append(q, f, NULL, off, len, 0);
}

void
outq_push_run_new(struct outq *q, struct frame *f)
{
	if (f->len == 0 || f->len > FCGI_PROTO_MAX_CONTENT)
		return;
	outq_append(q, f, f, 0, f->len, 0);
}

void
outq_push_raw(struct outq *q, struct frame *f, size_t off, size_t len)
{
	if (len > 0)
		outq_append(q, f, NULL, off, len, OUTQ_RAW);
}

/* Fills IOV from the queue, making record headers in HDRS (one per
 * piece); returns the number of entries used. Fields are read into
 * locals first: the header writes are char stores, which may alias
 * anything. */
static int
outq_gather(const struct outq *q, struct iovec *iov,
    char (*hdrs)[FCGI_PROTO_HEADER_LEN])
{
	const struct outq_item	*it;
	const struct frame	*f, *last;
	const char		*p;
	uint32_t		 i, skip, hlen, len, count = q->count;
	uint32_t		 head = q->head, mask = q->cap - 1;
	uint16_t		 rid = q->request_id;
	int			 n = 0, k = 0;

	skip = q->head_sent;
	for (i = 0; i < count && n + 2 <= OUTQ_IOV_MAX; i++) {
		it = &q->items[(head + i) & mask];
		hlen = OUTQ_HDR(it);
		len = OUTQ_LEN(it);
		f = it->frame;
		last = it->last;
		p = f->data + it->off;
		/* A run's frames one by one; a slice is a run of one. */
		for (;;) {
			if (skip < hlen) {
				fcgi_proto_header(hdrs[k], FCGI_PROTO_STDOUT,
				    rid, (uint16_t)len);
				iov[n].iov_base = hdrs[k++] + skip;
				iov[n].iov_len = hlen - skip;
				n++;
				skip = 0;
			} else
				skip -= hlen;
			if (len > skip) {
				iov[n].iov_base = (char *)p + skip;
				iov[n].iov_len = len - skip;
				n++;
			}
			skip = 0;
			if (last == NULL || f == last || n + 2 > OUTQ_IOV_MAX)
				break;
			f = f->next;
			p = f->data;
			len = (uint32_t)f->len;
		}
	}
	return n;
}

/* Drops WRITTEN bytes from the front of the queue. A run's slot always
 * describes its first unsent frame (off 0, len its length). */
static void
outq_consume(struct outq *q, size_t written)
{
	struct outq_item	*it;
	struct frame		*next;
	size_t			 left;

	q->bytes -= written;
	while (written > 0) {
		it = &q->items[q->head];
		left = OUTQ_HDR(it) + OUTQ_LEN(it) - q->head_sent;
		if (written < left) {
			q->head_sent += (uint32_t)written;
			return;
		}
		written -= left;
		q->head_sent = 0;
		if (it->last != NULL && it->frame != it->last) {
			/* On to the run's next frame; the reference moves
			 * with it (taken first: the old one may hold the
			 * only reference to it). */
			next = frame_ref(it->frame->next);
			frame_unref(it->frame);
			it->frame = next;
			it->len = (uint32_t)next->len;
			continue;
		}
		frame_unref(it->frame);
		q->head = (q->head + 1) & (q->cap - 1);
		q->count--;
	}
}

enum outq_status
outq_flush(struct outq *q, int fd)
{
	struct iovec	iov[OUTQ_IOV_MAX];
	char		hdrs[OUTQ_IOV_MAX][FCGI_PROTO_HEADER_LEN];
	ssize_t		n;
	int		cnt;

	while (q->count > 0) {
		cnt = outq_gather(q, iov, hdrs);
		n = writev(fd, iov, cnt);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return OUTQ_AGAIN;
			return OUTQ_ERROR;
		}
		outq_consume(q, (size_t)n);
	}
	q->head = 0;
	q->head_sent = 0;
	if (q->cap > OUTQ_KEEP)
		outq_free_ring(q);
	return OUTQ_EMPTY;
}
