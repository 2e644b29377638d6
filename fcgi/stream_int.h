/* sse-fcgi - MIT License
 *
 * The inside of a stream, shared by its two halves and by nothing else:
 *   stream.c        the writer: opening, queueing, writing, the tick,
 *                   ending and freeing;
 *   stream_start.c  when a stream may start: the readiness of its
 *                   channels, the history replay when it resumes, the
 *                   resync after Redis came back, and stream_leave(), the
 *                   one exit path off every list.
 * Event-loop thread only, like stream.h's functions.
 */
#ifndef SSE_STREAM_INT_H
#define SSE_STREAM_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event_struct.h>

#include "event_id.h"
#include "fcgi_proto.h"
#include "hub.h"
#include "outq.h"
#include "stream.h"

struct auth_url;
struct auth_url_sub;
struct frame;
struct history_req;
struct stream_vec;

#define STREAM_DIRTY	0x01	/* on the flush list */
#define STREAM_WRITING	0x02	/* waiting for room to write */
#define STREAM_ENDING	0x04	/* END_REQUEST queued; free once sent */
#define STREAM_DEAD	0x08	/* free in the next flush pass */
#define STREAM_SYNCING	0x10	/* resuming: live events are buffered */
#define STREAM_STARTED	0x20	/* headers queued: Redis confirmed all
				   channels, so onopen means subscribed */
#define STREAM_LOGGED	0x40	/* its "closed" line is written */
#define STREAM_WAITING	0x80	/* nwait channels not confirmed yet */
#define STREAM_PAGED	0x100	/* resuming: the next page of history is
				   read once the queue drains to the limit */
#define STREAM_POLL_END	0x200	/* poll mode: answered; ends in the
				   flush pass, with the rest of a burst */
#define STREAM_VECTOR	0x400	/* a position per channel (stream_vec.h) */

/* Texts of the last comment, for a client that is to come back. */
#define STREAM_BYE_STOPPING	"worker restarting; reconnect"
#define STREAM_BYE_HISTORY	"history unavailable; reconnect"
#define STREAM_BYE_LIFETIME	"stream lifetime reached; reconnect"
#define STREAM_BYE_TOKEN	"token expired; reconnect with a new one"
#define STREAM_BYE_POLL		"poll"

/* A live event that arrived before the stream could send it (its
 * channels not all confirmed, or history being replayed). */
struct pending {
	struct pending	*next;
	struct frame	*frame;
	size_t		 chan;		/* its channel, an index in subs */
	int		 has_id;
	struct event_id	 id;
};

/* What only some streams need, and most only for a while: a history
 * read and the live events held meanwhile (resume, initial events, poll
 * mode, events that come before the channels are confirmed), poll mode's
 * hold timer, a token's expiry, auth-url, presence. Allocated on first
 * use (stream_more()), dropped when empty again (stream_more_trim()), so
 * an idle live stream carries only the pointer. */
struct stream_more {
	struct history_req	*hreq;		/* history read in flight */
	struct pending		*pending, **pending_tail;
	size_t			 pending_bytes;
	size_t			 replayed;	/* history events, for the log */
	struct event		*expire_ev;	/* token expiry, or NULL */
	struct event		*poll_ev;	/* poll mode: hold, or NULL */
	struct auth_url_sub	*auth;		/* auth-url check, or NULL */
	struct presence_query	*pq;		/* presence read, or NULL */
	char			*user;		/* presence: joined as, owned */
	struct stream_vec	*vec;		/* positions, or NULL; owned */
};

struct stream {
	struct stream_ctx	*ctx;
	struct stream		*prev, *next;	/* all open streams */
	struct stream		*dirty_next;
	struct hub_sub		*subs;		/* one per channel */
	struct hub_sub		 sub1;		/* subs, for one channel */
	size_t			 nsubs;
	struct stream_req	*req;		/* channels and resume id */
	struct stream_more	*more;		/* or NULL (stream_more) */
	struct event_id		 last;		/* last id delivered */
	struct outq		 q;
	struct fcgi_in		 in;
	time_t			 opened;	/* for max-lifetime */
	const char		*why;		/* why it ends, for the log */
	uint32_t		 drained_ms;	/* clock ms bytes last left */
	uint32_t		 active_ms;	/* ctx->now_ms when bytes last queued */
	uint32_t		 poll_end_ms;	/* poll mode: hold ends (clock ms) */
	int			 has_last;
	int			 present;	/* presence: joined */
	int			 fd;
	unsigned		 nwait;		/* channels not confirmed */
	uint16_t		 request_id;
	uint16_t		 flags;
};

struct stream_ctx {
	struct loop		*loop;
	struct event_base	*base;
	struct hub		*hub;
	struct history		*history;
	struct presence		*presence;	/* or NULL */
	const struct cfg	*cfg;
	struct auth_url		*auth_url;	/* or NULL (stream_auth.h) */
	struct frame		*preamble;	/* headers, ": ok", retry */
	struct frame		*preamble_lighttpd; /* the same for lighttpd */
	struct frame		*keepalive;
	uint32_t		 rnd;		/* retry.h's state: end delays */
	struct fdset		*fds;		/* every stream's socket */
	struct event		*keepalive_ev;
	struct event		*flush_ev;
	struct event		*grace_ev;
	struct stream		*all;
	struct stream		*dirty;
	uint32_t		 now_ms;	/* stream_clock_ms() at the last tick */
	atomic_uint		 count;		/* open + reserved */
	unsigned		 open;		/* loop thread's own count */
	struct stream_counters	 n;		/* for stats; open is above */
	int			 stopping;
	int			 raw_warned;	/* poll: raw PUBLISH seen */
	stream_drained_fn	 drained;
	void			*drained_arg;
};

/* A cheap monotonic clock in ms (wraps every 49 days; compare by
 * difference). */
static inline uint32_t
stream_clock_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)ts.tv_sec * 1000u + (uint32_t)(ts.tv_nsec / 1000000);
}

/* stream.c, the writer. */
/* Queues F (borrowed) as STDOUT records. */
void	stream_push(struct stream *s, struct frame *f);
/* Queues the response headers; the stream has started. */
void	stream_start(struct stream *s);
/* Puts S on the flush list. */
void	stream_mark_dirty(struct stream *s);
/* Queues the end of the response, with SAY as the last comment and a
 * jittered retry: when not NULL; WHY (static text) is for the log. */
void	stream_end(struct stream *s, const char *say, const char *why);
/* Poll mode: S has sent what it owed; it ends in the next flush pass
 * (with a retry: that brings EventSource back). */
void	stream_poll_answered(struct stream *s);
/* Poll mode: S has nothing to send; it waits for the next event until
 * its hold (from its start) is over, or ends at once with hold 0. */
void	stream_poll_wait(struct stream *s);
/* Frees S in the next flush pass; WHY (static text) for the log. */
void	stream_kill(struct stream *s, const char *why);
/* Writes the debug line for S's end, once. */
void	stream_log_closed(struct stream *s);
/* S's rarely needed part, allocated if it has none. */
struct stream_more *stream_more(struct stream *s);
/* Frees S's rarely needed part when nothing in it is in use. */
void	stream_more_trim(struct stream *s);
/* The fields of S's rarely needed part, NULL or 0 without one. */
#define STREAM_MORE(s, f)	((s)->more != NULL ? (s)->more->f : 0)
/* Hub callback: one event for S (OWNER) on its channel SUB. */
void	stream_deliver(void *owner, struct hub_sub *sub, struct frame *f,
	    const struct event_id *id);

/* stream_start.c, when a stream may start. */
/* Subscribes S to REQ's channels (REQ passes to S) and starts it at once
 * when they are all confirmed, else when the last one is. */
void	stream_subscribe(struct stream *s, struct stream_req *req);
/* Reads S's next page of history (S is STREAM_PAGED and its queue is at
 * most queue-limit). */
void	stream_replay_next(struct stream *s);
/* Holds a live event of S's channel CHAN (an index in subs) that S
 * cannot send yet (bounded by queue-limit: over it, S is closed). */
void	stream_hold(struct stream *s, size_t chan, struct frame *f,
	    const struct event_id *id);
/* The frame of history entry E on CHANNEL (LEN bytes) for subscribers of
 * KIND (hub.h), made by the first stream that needs it and shared by the
 * read's streams (history.h; the read keeps the reference). */
struct history_entry;
struct frame *stream_entry_frame(const struct history_entry *e,
	    const char *channel, size_t len, int kind);
/* Releases the events held while waiting or resuming. */
void	stream_drop_pending(struct stream *s);
/* Frees the request once the stream is live. */
void	stream_drop_req(struct stream *s);
/* Queues the sse-gap event: history of CHANNEL after LAST_ID (the
 * client's) is incomplete for reason GAP (HISTORY_GAP_*). */
void	stream_push_gap(struct stream *s, const char *channel,
	    const char *last_id, int gap);
/* The one way out: S leaves its channels, its history read and its held
 * events; no hub or history callback reaches it afterwards. Idempotent;
 * S's request stays for its last headers and log line. */
void	stream_leave(struct stream *s);

#endif
