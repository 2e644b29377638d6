/* sse-fcgi - MIT License
 *
 * A stream and the application's check (auth-url, see auth_url.h): the
 * acceptor hands over a stream the worker's own rules did not allow with
 * the credentials to ask about (stream_req.auth); the stream waits for
 * the verdict before it subscribes to anything, so nothing of a channel
 * is sent before the app said yes. Then:
 *   2xx          the stream subscribes and starts as any other;
 *   401, 403     the answer is that status with the app's reason (one
 *                plain-text line), which EventSource does not retry;
 *   unavailable  200, the first comment, a retry: of its own and a last
 *                comment, then the end: EventSource comes back later.
 * While the stream is open its key is asked again every auth-cache
 * seconds; a 401 or 403 then ends it with a last comment and no new
 * retry:. EventSource reconnects once, gets the (cached) refusal and
 * stops for good. An unavailable app at a re-check keeps the stream: the
 * app said yes before, and ending every stream whenever the app hiccups
 * would send them all back at once to an app that is struggling.
 * Loop thread only.
 */
#ifndef SSE_STREAM_AUTH_H
#define SSE_STREAM_AUTH_H

struct auth_url;
struct stream;
struct stream_ctx;
struct stream_req;

/* Gives the streams of CTX the checker AU (borrowed; NULL: none). */
void		 stream_ctx_set_auth_url(struct stream_ctx *ctx,
		    struct auth_url *au);
/* The hook of stream_subscribe(): returns 0 when S may subscribe to REQ's
 * channels now (no check asked, or a cached yes), else 1: S waits for the
 * app (REQ is kept in S and subscribed later) or was answered already. */
int		 stream_auth_wait(struct stream *s, struct stream_req *req);
/* The hook of stream_leave(): S no longer hears of its check. */
void		 stream_auth_leave(struct stream *s);
/* Returns the user the app named for S (X-SSE-User), or NULL. */
const char	*stream_auth_user(const struct stream *s);

#endif
