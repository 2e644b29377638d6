/* sse-fcgi - MIT License
 *
 * SSE framing: turns a payload into text/event-stream bytes. The payload is
 * split on CR, LF and CRLF into "data:" lines, so no payload can end an
 * event early or inject a field; a browser's EventSource rebuilds the
 * payload with LF between lines. Id and event name values must pass
 * sse_field_ok() (no CR, LF or NUL); callers check before framing.
 */
#ifndef SSE_SSE_H
#define SSE_SSE_H

#include <stddef.h>

struct frame;

/* Returns a new frame (caller owns the reference) holding one event.
 * ID and EVENT may be NULL (no field); DATA of LEN bytes may hold anything. */
struct frame	*sse_frame_event(const char *id, const char *event,
		    const char *data, size_t len);
/* Returns a frame holding ": TEXT\n\n". TEXT must pass sse_field_ok(). */
struct frame	*sse_frame_comment(const char *text);
/* Returns the number of bytes sse_frame_event() produces. */
size_t		 sse_event_len(const char *id, const char *event,
		    const char *data, size_t len);
/* Returns 1 if the LEN bytes at S may stand in an id, event or comment
 * (no CR, LF or NUL), else 0. */
int		 sse_field_ok(const char *s, size_t len);

#endif
