/* sse-fcgi - MIT License
 *
 * A frame is an immutable, reference-counted run of bytes: one SSE event
 * framed once per worker and shared by every subscriber queue that holds it.
 * Frames live on the event-loop thread only; the count is not atomic.
 * The fields are public on purpose: the writer reads them on the hot path.
 */
#ifndef SSE_FRAME_H
#define SSE_FRAME_H

#include <stddef.h>

struct frame {
	unsigned	 refs;	/* holders; freed when it drops to zero */
	size_t		 len;	/* bytes in data */
	char		 data[];
};

/* Returns a frame of LEN uninitialised bytes with one reference, owned by
 * the caller. */
struct frame	*frame_create(size_t len);
/* Returns a new frame holding a copy of LEN bytes at P. */
struct frame	*frame_from(const void *p, size_t len);
/* Takes one more reference; returns F. */
struct frame	*frame_ref(struct frame *f);
/* Drops one reference; F is invalid after the last. NULL is ignored. */
void		 frame_unref(struct frame *f);

#endif
