/* sse-fcgi - MIT License
 *
 * libFuzzer target for the SSE framer (sse.h, frame.h). The input is
 * "ID NUL EVENT NUL DATA": fewer NULs leave the event name, then the id,
 * out (NULL). DATA may hold anything, NULs included. Id and event name go
 * in only if sse_field_ok() takes them, as every caller checks. The framed
 * event must have the length sse_event_len() promised and pass
 * sse_check_event(); a comment made of the id must be ": ID\n\n".
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "sse.h"
#include "sse_check.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct frame	*f;
	char		*buf, *id = NULL, *event = NULL, *data, *nul;
	size_t		 len;

	/* A copy with a NUL after it, so the fields are C strings. */
	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, in, size);
	buf[size] = '\0';
	data = buf;
	len = size;
	if ((nul = memchr(data, '\0', len)) != NULL) {
		id = data;
		len -= (size_t)(nul + 1 - data);
		data = nul + 1;
		if ((nul = memchr(data, '\0', len)) != NULL) {
			event = data;
			len -= (size_t)(nul + 1 - data);
			data = nul + 1;
		}
	}
	if (id != NULL && !sse_field_ok(id, strlen(id)))
		id = NULL;
	if (event != NULL && !sse_field_ok(event, strlen(event)))
		event = NULL;

	f = sse_frame_event(id, event, data, len);
	if (f->len != sse_event_len(id, event, data, len))
		sse_check_fail("length differs from sse_event_len()");
	sse_check_event(f->data, f->len, id, event, data, len);
	frame_unref(f);

	if (id != NULL) {
		f = sse_frame_comment(id);
		if (f->len != strlen(id) + 4 || memcmp(f->data, ": ", 2) != 0 ||
		    memcmp(f->data + 2, id, f->len - 4) != 0 ||
		    memcmp(f->data + f->len - 2, "\n\n", 2) != 0)
			sse_check_fail("bad comment frame");
		frame_unref(f);
	}
	free(buf);
	return 0;
}
