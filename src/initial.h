/* sse-fcgi - MIT License
 *
 * Initial events (--initial-events "PATTERN N"): a stream that opens
 * without Last-Event-ID first gets the last N retained events of each of
 * its channels that a rule matches, with their ids, then live ones. This
 * module plans the reads: the first page asks history for each channel's
 * last N (N bounded by the channel's history length), later pages go on
 * after the stream's position, or after the channel's own start when
 * that is later, so a channel never gives more than its window. The
 * stream (fcgi/stream_start.c) holds live events during the reads and
 * drops those the reads covered, as it does when resuming.
 */
#ifndef SSE_INITIAL_H
#define SSE_INITIAL_H

#include <stddef.h>

#include "event_id.h"

struct cfg;
struct history_from;
struct history_snapshot;

/* Returns the first page's starts for the N CHANNELS (borrowed), one per
 * channel, owned by the caller (free()); or NULL when no channel has
 * initial events. HELD, when not NULL, is the first live event the stream
 * holds: each read also covers it and what followed. */
struct history_from *initial_plan(const struct cfg *c, char *const *channels,
		    const size_t *lens, size_t n, const struct event_id *held);
/* Sets FROM, the starts of the N channels, to the next page of a read
 * that got SNAP (borrowed) and delivered up to LAST: each channel after
 * LAST, or after its own start when that is later. */
void		 initial_next(struct history_from *from, size_t n,
		    const struct history_snapshot *snap,
		    const struct event_id *last);

#endif
