/* sse-fcgi - MIT License
 *
 * Event ids: "MS-SEQ", two decimal numbers, as the publish script makes
 * them. SEQ comes from one counter per Redis deployment, so ids are totally
 * ordered across every channel: one id marks a client's position in all the
 * channels of its stream, and resuming is "every retained event after it".
 */
#ifndef SSE_EVENT_ID_H
#define SSE_EVENT_ID_H

#include <stddef.h>
#include <stdint.h>

#define EVENT_ID_MAX	42	/* two 20-digit numbers, '-', NUL */

struct event_id {
	uint64_t	ms;	/* publish time (non-decreasing) */
	uint64_t	seq;	/* global counter: the order */
};

/* Parses LEN bytes at S. Returns 0, or -1 if S is not exactly
 * digits '-' digits (each at most 20 digits, no overflow). */
int	event_id_parse(const char *s, size_t len, struct event_id *out);
/* Returns <0, 0 or >0 as A is before, the same as or after B. */
int	event_id_cmp(const struct event_id *a, const struct event_id *b);
/* Writes "MS-SEQ" into BUF (EVENT_ID_MAX bytes); returns its length. */
size_t	event_id_format(const struct event_id *id, char *buf);

#endif
