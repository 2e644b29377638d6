/* sse-fcgi - MIT License
 *
 * Reference-counted shared frames and the event log they form (see
 * frame.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "xmalloc.h"

struct frame *
frame_create(size_t len)
{
	struct frame	*f;

	f = xmalloc(sizeof *f + len);
	f->refs = 1;
	f->len = len;
	f->next = NULL;
	f->weak = NULL;
	return f;
}

struct frame *
frame_from(const void *p, size_t len)
{
	struct frame	*f;

	f = frame_create(len);
	memcpy(f->data, p, len);
	return f;
}

struct frame *
frame_ref(struct frame *f)
{
	f->refs++;
	return f;
}

/* A loop, not recursion: freeing the oldest frame of a long log frees
 * the frames it alone kept, and there may be millions. */
void
frame_unref(struct frame *f)
{
	struct frame	*next;

	while (f != NULL && --f->refs == 0) {
		next = f->next;
		if (f->weak != NULL)
			*f->weak = NULL;
		free(f);
		f = next;
	}
}

void
frame_chain(struct frame **tail, struct frame *f)
{
	if (*tail != NULL) {
		(*tail)->next = frame_ref(f);
		(*tail)->weak = NULL;
	}
	f->weak = tail;
	*tail = f;
}

void
frame_unchain(struct frame **tail)
{
	if (*tail != NULL)
		(*tail)->weak = NULL;
	*tail = NULL;
}
