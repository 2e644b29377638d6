/* sse-fcgi - MIT License
 *
 * Plans the history reads of initial events (see initial.h).
 */
#include "config.h"

#include <stdlib.h>

#include "cfg.h"
#include "event_id.h"
#include "history.h"
#include "initial.h"
#include "xmalloc.h"

struct history_from *
initial_plan(const struct cfg *c, char *const *channels, const size_t *lens,
    size_t n, const struct event_id *held)
{
	struct history_from	*from;
	unsigned long		 count, max;
	size_t			 i;
	int			 any = 0;

	from = xcalloc(n ? n : 1, sizeof *from);
	for (i = 0; i < n; i++) {
		count = cfg_initial_for(c, channels[i], lens[i]);
		/* No more than history keeps: a larger N reads nothing more
		 * but costs its budget. */
		max = cfg_history_for(c, channels[i], lens[i])->maxlen;
		from[i].last = (long)(count < max ? count : max);
		any |= from[i].last > 0;
		/* A held event is after the id one less than it (ids are
		 * ordered by seq, and its ms is not before the events'
		 * before it). */
		if (held != NULL && held->seq > 0) {
			from[i].after.ms = held->ms;
			from[i].after.seq = held->seq - 1;
		}
	}
	if (!any) {
		free(from);
		return NULL;
	}
	return from;
}

void
initial_next(struct history_from *from, size_t n,
    const struct history_snapshot *snap, const struct event_id *last)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (snap->start != NULL)
			from[i].after = snap->start[i];
		from[i].last = -1;
		if (last != NULL && event_id_cmp(last, &from[i].after) > 0)
			from[i].after = *last;
	}
}
