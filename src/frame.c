/* sse-fcgi - MIT License
 *
 * Reference-counted shared frames (see frame.h).
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

void
frame_unref(struct frame *f)
{
	if (f != NULL && --f->refs == 0)
		free(f);
}
