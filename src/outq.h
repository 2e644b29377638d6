/* sse-fcgi - MIT License
 *
 * A stream's output queue: an ordered list of slices of shared frames, each
 * preceded by a small per-stream prefix (the FastCGI record header). Frames
 * are referenced, never copied; a flush hands up to OUTQ_IOV_MAX slices to
 * one writev(2), so a burst of queued events leaves in one system call.
 *
 * The struct is public so a stream can embed it (one allocation less per
 * stream); its fields are private to outq.c.
 */
#ifndef SSE_OUTQ_H
#define SSE_OUTQ_H

#include <stddef.h>
#include <stdint.h>

struct frame;

#define OUTQ_PREFIX_MAX	8

struct outq_item {
	struct frame	*frame;		/* referenced; NULL for prefix only */
	uint32_t	 off;		/* slice of frame->data */
	uint32_t	 len;
	uint8_t		 plen;		/* prefix bytes */
	char		 prefix[OUTQ_PREFIX_MAX];
};

struct outq {
	struct outq_item *items;	/* ring buffer: &one, or allocated */
	struct outq_item  one;		/* the ring while at most one waits */
	uint32_t	  head;
	uint32_t	  count;
	uint32_t	  cap;		/* power of two, or 0 */
	uint32_t	  head_sent;	/* bytes of items[head] already sent */
	size_t		  bytes;	/* unsent bytes in the queue */
};

enum outq_status {
	OUTQ_EMPTY = 0,		/* everything was written */
	OUTQ_AGAIN,		/* the socket is full; wait for EV_WRITE */
	OUTQ_ERROR		/* write failed; errno says why */
};

/* Prepares an empty queue (no allocation until two slices wait). */
void		outq_init(struct outq *q);
/* Gives an empty queue's allocated ring back (an idle stream then holds
 * no memory outside its struct); a no-op otherwise. */
void		outq_trim(struct outq *q);
/* Drops every queued slice (releasing frame references) and frees the
 * ring; the queue is empty and reusable afterwards. */
void		outq_clear(struct outq *q);
/* Appends PLEN prefix bytes then LEN bytes of F starting at OFF. Takes a
 * reference on F (F may be NULL when LEN is 0). */
void		outq_push(struct outq *q, const void *prefix, size_t plen,
		    struct frame *f, size_t off, size_t len);
/* Writes as much as FD takes. */
enum outq_status outq_flush(struct outq *q, int fd);
/* Returns the unsent bytes. */
static inline size_t
outq_bytes(const struct outq *q)
{
	return q->bytes;
}

#endif
