/* sse-fcgi - MIT License
 *
 * History reads for resuming clients: the worker's command connection to
 * Redis (hiredis async on the event loop, separate from the broker's
 * SUBSCRIBE connection). A request asks for one page of the retained events
 * after a given id on a set of channels, merged in id order, with what is
 * known about gaps; a stream reads page after page as its client takes
 * them. Requests made within a few milliseconds of each other go out as
 * one run of the resume script (src/resume.lua, see history_batch.h), and
 * the streams asking for the same channel after the same id share one read
 * and one frame per event. The connection is opened on first use and again
 * after it is lost. A read may also start at a channel's last N events
 * (history_resume_from(), for initial events): the script finds the id
 * before them and reads after it as usual, telling the caller which id
 * that was, so the next page of the same read can go on from there.
 * Event-loop thread only.
 */
#ifndef SSE_HISTORY_H
#define SSE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "event_id.h"

struct event_base;
struct frame;
struct history;
struct history_req;

#define HISTORY_GAP_NONE	0
#define HISTORY_GAP_TRIMMED	1	/* events after the id were trimmed */
#define HISTORY_GAP_UNKNOWN	2	/* the id is not from this deployment */

#define HISTORY_FRAME_KINDS	3	/* hub.h's HUB_KINDS */

struct history_entry {
	size_t			 channel;	/* index in the request */
	struct event_id		 id;
	const char		*id_text;
	const char		*event;		/* "" when none */
	const char		*data;
	size_t			 len;
	/* The entry's frames, one of each of the hub's kinds (HUB_PLAIN,
	 * HUB_TAGGED, HUB_TAGGED_OPEN), shared by every stream the read
	 * serves: NULL until the first stream makes one (hub_frame) and
	 * stores it here, giving its reference to history, which drops it
	 * after the callbacks. */
	struct frame		**frames;
};

/* Where one channel's read starts. */
struct history_from {
	struct event_id		 after;		/* entries after this id... */
	/* ...or, when >= 0, the last LAST entries, and after AFTER too when
	 * it is not 0-0 and older than they are (events the caller already
	 * holds live must be read, whatever came after them). */
	long			 last;
};

struct history_snapshot {
	uint64_t		 clock_seq;	/* ids up to here are covered */
	uint64_t		 clock_ms;	/* the ms of that last id */
	const int		*gap;		/* per channel, HISTORY_GAP_* */
	const struct history_entry *entries;	/* sorted by id */
	size_t			 nentries;
	/* 1 when there is more to read: ask again after the last entry
	 * (entries stop at the smallest last id of the channels whose read
	 * was cut, so nothing before it is missing). */
	int			 more;
	/* Per channel, the id its read started after (for a read of the
	 * last N: the id before them, or 0-0). */
	const struct event_id	*start;
};

/* SNAP (or NULL with ERR on failure) is valid during the call only. */
typedef void (*history_fn)(void *arg, const struct history_snapshot *snap,
    const char *err);

/* Returns a reader for the Redis at URL with key PREFIX ("sse:"), or NULL
 * with a reason in ERR. */
struct history	*history_create(struct event_base *base, const char *url,
		    const char *prefix, char *err, size_t errlen);
/* Returns a reader for the Redis Cluster CA (borrowed; it must outlive
 * the reader): each channel's history and clock are read at its master
 * (keys <prefix>history:{<channel>} and <prefix>clock:{<channel>}), one
 * channel per request (N 1), its clock the channel's own. */
struct cluster_async;
struct history	*history_create_cluster(struct event_base *base,
		    struct cluster_async *ca, const char *prefix);
/* Tells whether H reads from a cluster. */
int		 history_is_cluster(const struct history *);
/* Fails pending requests (their callbacks run with an error) and frees. */
void		 history_free(struct history *);
/* Asks for one page of the events after AFTER on the N CHANNELS
 * (borrowed): per channel, the entries whose data fits in BUDGET bytes (at
 * least one); with N 0, only the clock (the last id published). FN runs
 * later, never before this returns, exactly once, unless cancelled.
 * Returns a handle valid until FN runs or history_cancel(), or NULL (and
 * FN never runs) when there is no connection to Redis or AFTER is not an
 * event id. */
struct history_req *history_resume(struct history *,
		    const char *const *channels, const size_t *lens, size_t n,
		    const char *after, size_t budget, history_fn fn, void *arg);
/* Like history_resume(), with a start of its own for each channel:
 * FROM[i] (borrowed) for CHANNELS[i]. Reads of the last N report no
 * gap. */
struct history_req *history_resume_from(struct history *,
		    const char *const *channels, const size_t *lens, size_t n,
		    const struct history_from *from, size_t budget,
		    history_fn fn, void *arg);
/* Drops a pending request: its callback will not run. */
void		 history_cancel(struct history_req *);

#endif
