/* sse-fcgi - MIT License
 *
 * A frame is an immutable, reference-counted run of bytes: one SSE event
 * framed once per worker and shared by every subscriber queue that holds it.
 * Frames live on the event-loop thread only; the count is not atomic.
 * The fields are public on purpose: the writer reads them on the hot path.
 *
 * The frames of one channel form its event log: each holds a reference on
 * the next one published (frame_chain), so a stream behind by a thousand
 * events holds the oldest of them and how far it goes, not a thousand
 * references, and an event costs one shared entry whatever the count of
 * streams still to send it. The channel knows its newest frame through a
 * weak pointer that the frame clears when it is freed, so a quiet channel
 * keeps no event alive.
 */
#ifndef SSE_FRAME_H
#define SSE_FRAME_H

#include <stddef.h>

struct frame {
	unsigned	 refs;	/* holders; freed when it drops to zero */
	size_t		 len;	/* bytes in data */
	struct frame	*next;	/* the channel's next event: a reference */
	struct frame   **weak;	/* cleared when freed, or NULL */
	char		 data[];
};

/* Returns a frame of LEN uninitialised bytes with one reference, owned by
 * the caller. */
struct frame	*frame_create(size_t len);
/* Returns a new frame holding a copy of LEN bytes at P. */
struct frame	*frame_from(const void *p, size_t len);
/* Takes one more reference; returns F. */
struct frame	*frame_ref(struct frame *f);
/* Drops one reference; F is invalid after the last, and so is every
 * frame after it that only F held. NULL is ignored. */
void		 frame_unref(struct frame *f);
/* Appends F after the newest frame of a log, *TAIL (a weak pointer,
 * NULL for none): that frame takes a reference on F, and *TAIL becomes
 * F. F must not be in a log yet. */
void		 frame_chain(struct frame **tail, struct frame *f);
/* Forgets the log's newest frame without freeing it (the log ends). */
void		 frame_unchain(struct frame **tail);

#endif
