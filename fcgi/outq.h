/* sse-fcgi - MIT License
 *
 * A stream's output queue: an ordered list of slices of shared frames, each
 * to go out as one FastCGI STDOUT record of the stream's request (or, for
 * the end of the response, as raw bytes). Frames are referenced, never
 * copied, and a slot holds no record header: the 8-byte headers are made
 * at write time. Consecutive events of one channel's log (frame.h) share
 * a slot, a run from the oldest unsent to the newest queued, so a stream
 * that falls behind by a whole burst holds one 24-byte slot, not one per
 * event. A flush hands up to OUTQ_IOV_MAX pieces to one writev(2), so a
 * burst of queued events leaves in one system call.
 *
 * The struct is public so a stream can embed it (one allocation less per
 * stream); its fields are private to outq.c.
 */
#ifndef SSE_OUTQ_H
#define SSE_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include "fcgi_proto.h"
#include "frame.h"

struct outq_item {
	struct frame	*frame;		/* referenced: the first unsent */
	struct frame	*last;		/* a run of whole frames up to this
					   one (reached by frame->next), or
					   NULL: one slice of frame */
	uint32_t	 off;		/* the slice of frame->data (a run:
					   all of its first unsent frame) */
	uint32_t	 len;		/* and OUTQ_RAW: no record header */
};

struct outq {
	struct outq_item *items;	/* ring buffer: &one, or allocated */
	struct outq_item  one;		/* the ring while at most one waits */
	uint32_t	  head;
	uint32_t	  count;
	uint32_t	  cap;		/* power of two, or 0 */
	uint32_t	  head_sent;	/* bytes of items[head] already sent */
	size_t		  bytes;	/* unsent bytes in the queue */
	uint16_t	  request_id;	/* for the record headers */
};

enum outq_status {
	OUTQ_EMPTY = 0,		/* everything was written */
	OUTQ_AGAIN,		/* the socket is full; wait for EV_WRITE */
	OUTQ_ERROR		/* write failed; errno says why */
};

/* Prepares an empty queue for REQUEST_ID (no allocation until two slices
 * wait). */
void		outq_init(struct outq *q, uint16_t request_id);
/* Drops every queued slice (releasing frame references) and frees the
 * ring; the queue is empty and reusable afterwards. */
void		outq_clear(struct outq *q);
/* Gives an empty queue's allocated ring back (an idle stream then holds
 * no memory outside its struct); a no-op otherwise. */
void		outq_trim(struct outq *q);
/* Appends LEN bytes of F from OFF as one STDOUT record (1 <= LEN <=
 * 65535). Takes a reference on F. */
void		outq_push(struct outq *q, struct frame *f, size_t off,
		    size_t len);
/* Appends the whole of F (1 <= F->len <= 65535) as one STDOUT record,
 * in a slot of its own (see outq_push_run). */
void		outq_push_run_new(struct outq *q, struct frame *f);
/* Appends the whole of F (1 <= F->len <= 65535) as one STDOUT record,
 * in the slot of the run before it when F follows that run's last frame
 * in a channel's log (the run's first frame holds the log up to F, so no
 * reference is taken); inline, as it runs once per delivery. */
static inline void
outq_push_run(struct outq *q, struct frame *f)
{
	struct outq_item	*it;

	if (q->count > 0) {
		it = &q->items[(q->head + q->count - 1) & (q->cap - 1)];
		if (it->last != NULL && it->last->next == f) {
			it->last = f;
			q->bytes += FCGI_PROTO_HEADER_LEN + f->len;
			return;
		}
	}
	outq_push_run_new(q, f);
}
/* Returns the slots in use (runs count one). */
static inline uint32_t
outq_slots(const struct outq *q)
{
	return q->count;
}
/* Appends LEN bytes of F from OFF as they are (records made by the
 * caller). Takes a reference on F. */
void		outq_push_raw(struct outq *q, struct frame *f, size_t off,
		    size_t len);
/* Writes as much as FD takes. */
enum outq_status outq_flush(struct outq *q, int fd);
/* Returns the unsent bytes, record headers included. */
static inline size_t
outq_bytes(const struct outq *q)
{
	return q->bytes;
}

#endif
