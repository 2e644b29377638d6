/* sse-fcgi - MIT License
 *
 * The presence endpoint over HTTP: GET <mount>/presence/<channel>,
 * answered on the acceptor thread from Redis (presence.h) with
 *   {"channel":"...","subscribers":N,"users":[...]}
 * Decides, in this order: 405 for a method other than GET or HEAD, 400
 * for a bad channel name, 404 for a channel no presence pattern matches;
 * then the acceptor authorizes the request as it would a stream of the
 * channel (401, 403); then 503 when Redis cannot be read, else 200. The
 * acceptor writes the answer; this module never sees the FastCGI request.
 */
#ifndef SSE_PRESENCE_HTTP_H
#define SSE_PRESENCE_HTTP_H

#include <stddef.h>

struct cfg;
struct http_answer;
struct publisher;

/* Checks METHOD and the LEN-byte CHANNEL. Returns 0 when the request may
 * go on to authorization, else 1 with the answer in *OUT (free it with
 * http_answer_clear()). */
int	presence_http_check(struct http_answer *out, const struct cfg *cfg,
	    const char *method, const char *channel, size_t len);
/* Answers an authorized request for CHANNEL into *OUT, reading Redis
 * through PUB (this thread's; NULL: 503). Free it with
 * http_answer_clear(). */
void	presence_http_answer(struct http_answer *out, const struct cfg *cfg,
	    struct publisher *pub, const char *channel, size_t len);

#endif
