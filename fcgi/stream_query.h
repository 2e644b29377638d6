/* sse-fcgi - MIT License
 *
 * Requests the loop answers once instead of streaming. The acceptor
 * answers most non-stream requests itself; one needs the loop: the
 * presence of a channel that auth-url authorizes (GET <mount>/presence/
 * <channel>), since the app's verdict arrives on the loop. Such a request
 * is handed over like a stream (stream_req.presence set), waits for the
 * verdict like one (stream_auth.h), then, instead of subscribing, reads
 * the channel's sum (presence.h) and answers it as JSON:
 *   200  the JSON document, as the acceptor would send it;
 *   401, 403  the app's refusal (as for a stream);
 *   503 with Retry-After  the app or Redis unavailable: a fetch() retries
 *        on its own terms; there is no EventSource to keep alive.
 * Loop thread only.
 */
#ifndef SSE_STREAM_QUERY_H
#define SSE_STREAM_QUERY_H

struct stream;
struct stream_req;

/* Answers S with STATUS and BODY (a line; with TYPE as Content-Type, or
 * text/plain) plus REQ's own headers (CORS), and ends it. S must not have
 * started. */
void	stream_answer(struct stream *s, int status, const char *type,
	    const char *body);
/* The hook of stream_subscribe() for an allowed REQ that asks for
 * presence: reads it and answers. S keeps REQ. */
void	stream_query_presence(struct stream *s, struct stream_req *req);
/* Answers S, a presence request, 503 with REASON. */
void	stream_query_unavailable(struct stream *s, const char *reason);
/* The hook of stream_leave(): the read's answer no longer reaches S. */
void	stream_query_leave(struct stream *s);

#endif
