/* sse-fcgi - MIT License
 *
 * History reads for resuming clients: the worker's command connection to
 * Redis (hiredis async on the event loop, separate from the broker's
 * SUBSCRIBE connection). One call runs the resume script (src/resume.lua)
 * and returns, for a set of channels, every retained event after a given
 * id, merged in id order, with what is known about gaps. The connection is
 * opened on first use and again after it is lost.
 * Event-loop thread only.
 */
#ifndef SSE_HISTORY_H
#define SSE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "event_id.h"

struct event_base;
struct history;
struct history_req;

#define HISTORY_GAP_NONE	0
#define HISTORY_GAP_TRIMMED	1	/* events after the id were trimmed */
#define HISTORY_GAP_UNKNOWN	2	/* the id is not from this deployment */
#define HISTORY_GAP_TRUNCATED	3	/* more missed events than replayed */

struct history_entry {
	size_t			 channel;	/* index in the request */
	struct event_id		 id;
	const char		*id_text;
	const char		*event;		/* "" when none */
	const char		*data;
	size_t			 len;
};

struct history_snapshot {
	uint64_t		 clock_seq;	/* ids up to here are covered */
	const int		*gap;		/* per channel, HISTORY_GAP_* */
	const struct history_entry *entries;	/* sorted by id */
	size_t			 nentries;
};

/* SNAP (or NULL with ERR on failure) is valid during the call only. */
typedef void (*history_fn)(void *arg, const struct history_snapshot *snap,
    const char *err);

/* Returns a reader for the Redis at URL with key PREFIX ("sse:"), or NULL
 * with a reason in ERR. */
struct history	*history_create(struct event_base *base, const char *url,
		    const char *prefix, char *err, size_t errlen);
/* Fails pending requests (their callbacks run with an error) and frees. */
void		 history_free(struct history *);
/* Asks for the events after AFTER on the N CHANNELS (borrowed), at most
 * MAX per channel. FN runs later, exactly once, unless cancelled. Returns a
 * handle valid until FN runs or history_cancel(), or NULL (and FN never
 * runs) when the request cannot be sent or AFTER is not an event id. */
struct history_req *history_resume(struct history *,
		    const char *const *channels, const size_t *lens, size_t n, const char *after,
		    size_t max, history_fn fn, void *arg);
/* Drops a pending request: its callback will not run. */
void		 history_cancel(struct history_req *);

#endif
