/* sse-fcgi - MIT License
 *
 * The envelope: how the publish script (deploy/redis/sse-publish.lua)
 * announces an event with an id and a name on a Pub/Sub channel:
 *   NUL "sse1" NUL <id> NUL <event name or empty> NUL <data>
 * A message that does not start with NUL "sse1" NUL is a raw PUBLISH from
 * another program (the quick start's publishers) and is delivered as it is.
 */
#ifndef SSE_ENVELOPE_H
#define SSE_ENVELOPE_H

#include <stddef.h>

#include "event_id.h"

struct envelope {
	int		 has_id;	/* 0 for a raw message */
	struct event_id	 id;
	char		 id_text[EVENT_ID_MAX];
	char		 event[256];	/* "" when none */
	const char	*data;		/* points into the message */
	size_t		 len;
};

enum envelope_kind {
	ENVELOPE_RAW = 0,	/* deliver MSG as it is */
	ENVELOPE_EVENT,		/* an enveloped event */
	ENVELOPE_BAD		/* starts like an envelope but is broken */
};

/* Reads the LEN-byte message MSG into *OUT (whose data points into MSG). */
enum envelope_kind envelope_parse(const char *msg, size_t len,
		    struct envelope *out);

#endif
