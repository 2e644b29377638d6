/* sse-fcgi - MIT License
 *
 * The stream writer: one open text/event-stream response per FastCGI
 * connection, owned by the event-loop thread once the acceptor hands the
 * connection over. It writes FCGI_STDOUT records itself (headers, events,
 * keepalive comments) from the stream's output queue, watches the
 * connection for EOF and ABORT_REQUEST, and ends every response with a
 * clean END_REQUEST on shutdown so EventSource reconnects.
 *
 * A stream starts (headers, so onopen means subscribed) once Redis has
 * confirmed all its channels. A stream that resumes (Last-Event-ID) then
 * replays the history after its id, a page at a time as its client takes
 * it, while holding what arrives live, then the held events the last page
 * did not cover, then goes live: no gap, no duplicate.
 *
 * Writes are deferred: deliveries only queue and mark the stream dirty,
 * and one flush pass after the current loop callbacks writes each dirty
 * stream once, so a burst of events leaves in one writev per stream.
 * Streams are freed only in that pass, never inside a hub fan-out.
 */
#ifndef SSE_STREAM_H
#define SSE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "event_id.h"

struct auth_url_creds;
struct cfg;
struct history;
struct history_from;
struct hub;
struct loop;
struct presence;
struct stream_ctx;

/* Channels of one stream on a Redis Cluster, whose id is a position per
 * channel (event_id.h's vectors): about 2.7 KB of id per event at most. */
#define STREAM_VEC_MAX	64

/* What the acceptor hands over for one stream. */
struct stream_req {
	int		 fd;		/* non-blocking FastCGI connection */
	uint16_t	 request_id;
	size_t		 nchannels;
	char		**channels;	/* validated names, owned */
	size_t		*lens;
	char		 last_id[EVENT_ID_MAX];	/* "" when not resuming */
	char		*headers;	/* more response headers, or NULL */
	int		 no_accel;	/* leave out X-Accel-Buffering */
	time_t		 expires;	/* end the stream then (token), or 0 */
	struct auth_url_creds *auth;	/* ask auth-url first, or NULL; owned */
	/* Initial events: where each channel's next read starts, or NULL
	 * (initial.h); owned. */
	struct history_from *from;
	char		*user;		/* who, for presence: REMOTE_USER or
					   the token's sub; owned, or NULL */
	int		 presence;	/* answer the channel's presence, not
					   a stream (stream_query.h) */
	struct stream_ctx *ctx;		/* set by stream_submit() */
};

/* Returns an empty request for N channels (names added by the caller). */
struct stream_req *stream_req_create(size_t n);
/* Frees REQ and its names (not the fd). NULL is ignored. */
void		 stream_req_free(struct stream_req *req);

/* The stream writer's counters for the stats (stats.h); loop thread. */
struct stream_counters {
	unsigned long long	open;		/* streams open now */
	unsigned long long	opened;		/* since start */
	unsigned long long	delivered;	/* events handed to streams */
	unsigned long long	replayed;	/* history events replayed */
	unsigned long long	bytes_out;	/* written to the web server */
	unsigned long long	slow_closed;	/* closed over queue-limit */
};

/* Called once on the loop thread when stream_ctx_shutdown() finished. */
typedef void (*stream_drained_fn)(void *arg);

/* Returns the writer for the loop L; the other arguments are borrowed and
 * must outlive it (HUB tells which channels Redis confirmed, through
 * hub_channel_ready(); HISTORY serves resuming clients). Returns NULL
 * with a reason in ERR when the streams' sockets cannot be watched. */
struct stream_ctx *stream_ctx_create(struct loop *l, struct hub *hub,
		    struct history *history, const struct cfg *cfg, char *err,
		    size_t errlen);
/* The Redis subscription connection was lost: every channel waits for
 * its confirmation again (hub_channels_lost), and so do streams that
 * have not started. */
void		 stream_ctx_redis_lost(struct stream_ctx *);
/* The connection is back (before the channels are confirmed): every
 * stream that has seen an event id resumes from it, so what was
 * published meanwhile is replayed. */
void		 stream_ctx_resync(struct stream_ctx *);
/* Counts streams of presence channels in P (presence.h; borrowed, must
 * outlive the writer, NULL: none). Before the first stream. */
void		 stream_ctx_set_presence(struct stream_ctx *,
		    struct presence *p);
/* Closes every stream at once and frees the writer. NULL is ignored. */
void		 stream_ctx_free(struct stream_ctx *);
/* Reserves a slot for one more stream; returns 0, or -1 when max-streams
 * are open. Any thread. A reserved slot is used by stream_submit(). */
int		 stream_ctx_reserve(struct stream_ctx *);
/* Gives back a slot reserved but not used. Any thread. */
void		 stream_ctx_unreserve(struct stream_ctx *);
/* Hands REQ (ownership passes) to the loop thread, which opens the
 * stream. Any thread; needs a reserved slot. */
void		 stream_submit(struct stream_ctx *, struct stream_req *req);
/* Ends every stream gracefully (final comment, END_REQUEST); calls DONE
 * when all are closed, or when GRACE seconds have passed (then the rest
 * are closed hard). */
void		 stream_ctx_shutdown(struct stream_ctx *, unsigned grace,
		    stream_drained_fn done, void *arg);
/* Copies the counters into *OUT. Loop thread. */
void		 stream_ctx_counters(const struct stream_ctx *,
		    struct stream_counters *out);
/* Returns the number of open (and reserved) streams. Any thread. */
unsigned	 stream_ctx_count(const struct stream_ctx *);

#endif
