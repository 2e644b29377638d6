/* sse-fcgi - MIT License
 *
 * A stream of several channels on a Redis Cluster: its position vector,
 * its reads and what it sends (see stream_vec.c and docs/cluster.md).
 * Owned by the stream's rarely needed part (stream_more), used by the
 * stream's two halves only. Event-loop thread only.
 */
#ifndef SSE_STREAM_VEC_H
#define SSE_STREAM_VEC_H

#include <stddef.h>

struct event_id;
struct frame;
struct stream;
struct stream_ctx;
struct stream_req;
struct stream_vec;

/* Tells whether a stream of NCHANNELS channels keeps a position vector
 * (several channels, and history on a cluster). */
int	stream_vec_wanted(const struct stream_ctx *ctx, size_t nchannels);
/* Gives S its vector, from REQ's positions (REQ->from, parsed from the
 * client's Last-Event-ID) or fresh; S is to sync before it goes live.
 * REQ has at most STREAM_VEC_MAX channels (the acceptor refuses more). */
void	stream_vec_create(struct stream *s, struct stream_req *req);
/* Frees V (cancelling its reads). NULL is ignored. */
void	stream_vec_free(struct stream_vec *v);
/* S leaves: no history callback reaches it afterwards. */
void	stream_vec_leave(struct stream *s);
/* Tells whether ID (NULL: raw) on S's channel I is past its position. */
int	stream_vec_is_new(const struct stream *s, size_t i,
	    const struct event_id *id);
/* Queues the open frame F of channel I's event ID (NULL: raw) and the
 * vector that ends it; ID becomes the channel's position. */
void	stream_vec_deliver(struct stream *s, size_t i, struct frame *f,
	    const struct event_id *id);
/* Reads the next page of each of S's channels that has one. */
void	stream_vec_read(struct stream *s);
/* S resumes (a channel lapsed): REQ's starts become its positions. */
void	stream_vec_resume(struct stream *s, struct stream_req *req);

#endif
