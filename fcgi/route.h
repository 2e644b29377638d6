/* sse-fcgi - MIT License
 *
 * Request routing: which endpoint a request names, wherever the front server
 * mounts the worker. The route is read from the end of the request path
 * (REQUEST_URI, or SCRIPT_NAME + PATH_INFO when the server sends no
 * REQUEST_URI), so "/api/v1/events/x", "/events/x" and
 * "/~user/events.fcgi/events/x" all name channel "x" of the events endpoint.
 * Segments are percent-decoded one by one, so "%2F" never splits a path.
 */
#ifndef SSE_ROUTE_H
#define SSE_ROUTE_H

#include <stddef.h>

#define ROUTE_TARGET_MAX	4096

enum route_kind {
	ROUTE_NOT_FOUND = 0,	/* 404 */
	ROUTE_BAD,		/* 400; why says what is wrong */
	ROUTE_EVENTS,		/* GET <mount>/events/<target> */
	ROUTE_PUBLISH,		/* POST or GET <mount>/publish/<target> */
	ROUTE_STATS,		/* GET <mount>/stats (no target) */
	ROUTE_METRICS,		/* GET <mount>/metrics (no target) */
	ROUTE_PRESENCE		/* GET <mount>/presence/<target> */
};

struct route {
	enum route_kind	 kind;
	const char	*why;			/* static text, for ROUTE_BAD */
	size_t		 target_len;
	char		 target[ROUTE_TARGET_MAX + 1];	/* decoded, NUL-ended */
};

/* Fills *OUT from the CGI variables (any may be NULL). Never fails: a
 * request that names nothing known is ROUTE_NOT_FOUND. */
void	route_parse(const char *request_uri, const char *script_name,
	    const char *path_info, struct route *out);

/* Reads the next "key=value" pair of the query string at *QUERY (which it
 * advances) into KEY and VAL, percent-decoded ('+' is a space) and
 * NUL-terminated. Returns 1 for a pair, 0 at the end, or -1 when a pair is
 * longer than its buffer or badly encoded, %00 included (it is skipped). */
int	route_query_next(const char **query, char *key, size_t klen,
	    char *val, size_t vlen);

#endif
