/* sse-fcgi - MIT License
 *
 * SSE framing (see sse.h). Two passes over the payload: one to size the
 * frame exactly, one to fill it, so each event costs one allocation.
 */
#include "config.h"

#include <string.h>

#include "frame.h"
#include "sse.h"

#define SSE_DATA	"data: "
#define SSE_DATA_LEN	(sizeof SSE_DATA - 1)

/* Returns the number of lines of DATA when split on CR, LF and CRLF, and
 * in *BREAKS the bytes the line breaks take. */
static size_t
sse_scan(const char *data, size_t len, size_t *breaks)
{
	size_t	i, n = 1;

	*breaks = 0;
	for (i = 0; i < len; i++) {
		if (data[i] != '\r' && data[i] != '\n')
			continue;
		n++;
		(*breaks)++;
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n') {
			i++;
			(*breaks)++;
		}
	}
	return n;
}

size_t
sse_event_len(const char *id, const char *event, const char *data,
    size_t len)
{
	size_t	n = 0, lines, breaks;

	if (id != NULL)
		n += 4 + strlen(id) + 1;		/* "id: " x "\n" */
	if (event != NULL)
		n += 7 + strlen(event) + 1;		/* "event: " x "\n" */
	lines = sse_scan(data, len, &breaks);
	n += len - breaks + lines * (SSE_DATA_LEN + 1);
	return n + 1;					/* blank line */
}

struct frame *
sse_frame_event(const char *id, const char *event, const char *data,
    size_t len)
{
	struct frame	*f;
	char		*p;
	size_t		 i, start, n;

	f = frame_create(sse_event_len(id, event, data, len));
	p = f->data;
	if (id != NULL) {
		n = strlen(id);
		memcpy(p, "id: ", 4);
		memcpy(p + 4, id, n);
		p += 4 + n;
		*p++ = '\n';
	}
	if (event != NULL) {
		n = strlen(event);
		memcpy(p, "event: ", 7);
		memcpy(p + 7, event, n);
		p += 7 + n;
		*p++ = '\n';
	}
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && data[i] != '\r' && data[i] != '\n')
			continue;
		memcpy(p, SSE_DATA, SSE_DATA_LEN);
		p += SSE_DATA_LEN;
		memcpy(p, data + start, i - start);
		p += i - start;
		*p++ = '\n';
		if (i < len && data[i] == '\r' && i + 1 < len &&
		    data[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	*p++ = '\n';
	f->len = (size_t)(p - f->data);
	return f;
}

struct frame *
sse_frame_comment(const char *text)
{
	struct frame	*f;
	size_t		 n = strlen(text);

	f = frame_create(n + 4);
	memcpy(f->data, ": ", 2);
	memcpy(f->data + 2, text, n);
	memcpy(f->data + 2 + n, "\n\n", 2);
	return f;
}

int
sse_field_ok(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return 0;
	return 1;
}
