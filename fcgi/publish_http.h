/* sse-fcgi - MIT License
 *
 * The publish endpoint over HTTP, answered on the acceptor thread:
 *   POST <mount>/publish/<channel>  publishes the body (event name from the
 *       SSE-Event header or ?event=) through the publish script, answering
 *       {"id", "channel", "receivers"};
 *   GET  <mount>/publish/<channel>  tells the channel's history length and
 *       first and last id.
 * Decides, in this order: 405 for another method, 403 when HTTP publishing
 * is off (no publisher-secret, no jwt key), 400 for a bad channel name,
 * 401/403 unless the Authorization header carries the publisher-secret or
 * a token whose sse.publish patterns match the channel, 503 when this
 * worker has no publisher or Redis fails, 400 for a bad query or event
 * name, 413 over max-message, 400 for a body shorter than its
 * Content-Length, else 200. The acceptor writes the answer; this module
 * reads the body through a callback and never sees the FastCGI request.
 */
#ifndef SSE_PUBLISH_HTTP_H
#define SSE_PUBLISH_HTTP_H

#include <stddef.h>

struct auth;
struct cfg;
struct http_answer;
struct json_object;
struct publisher;
struct publisher_info;

/* What the request said, as the front server passed it (NULL: absent). */
struct publish_http_req {
	const char	*method;
	const char	*channel;	/* NUL-terminated, CLEN bytes */
	size_t		 clen;
	int		 secret_ok;	/* bearer is the publisher-secret */
	const char	*bearer;	/* Authorization bearer token */
	const char	*event;		/* SSE-Event header */
	const char	*query;		/* QUERY_STRING */
	const char	*content_length;
};

/* Reads up to LEN body bytes into BUF; returns the count, 0 at the end
 * (FCGX_GetStr's contract). */
typedef int	(*publish_http_read_fn)(void *arg, char *buf, int len);

/* Answers REQ into *OUT, publishing through PUB (this thread's; may be
 * NULL: 503). Free the answer with http_answer_clear(). */
void	publish_http_answer(struct http_answer *out, const struct cfg *cfg,
	    const struct auth *auth, struct publisher *pub,
	    const struct publish_http_req *req, publish_http_read_fn read,
	    void *read_arg);

/* Adds a channel's history (length, first_id, last_id; null when empty)
 * to the JSON object O; also what /stats?channel= reports. */
void	publish_http_info_json(const struct publisher_info *info,
	    struct json_object *o);

#endif
