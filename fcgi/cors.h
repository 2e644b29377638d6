/* sse-fcgi - MIT License
 *
 * CORS: which cross-origin pages may open streams and publish. The
 * allowlist (cors-origins) holds exact origins ("https://app.example",
 * "http://localhost:3000") and maybe "*". An allowed origin is echoed in
 * Access-Control-Allow-Origin with Vary: Origin and
 * Access-Control-Allow-Credentials: true, so EventSource's withCredentials
 * (cookies) works; "*" admits any other origin without credentials.
 * Without an allowlist nothing is added and nothing refused: the worker
 * then serves same-origin pages only, as a browser enforces.
 */
#ifndef SSE_CORS_H
#define SSE_CORS_H

#include <stddef.h>

struct cors;

#define CORS_HEADERS_MAX	512

/* Returns the allowlist parsed from SPEC (space- or comma-separated), or
 * NULL with a reason in ERR. A NULL SPEC gives NULL and no error. */
struct cors	*cors_create(const char *spec, char *err, size_t errlen);
/* Frees C. NULL is ignored. */
void		 cors_free(struct cors *c);
/* Decides for a request with ORIGIN (NULL when absent) to HOST (the Host
 * header, for same-origin requests). Returns 1 and the header lines to add
 * in OUT (CORS_HEADERS_MAX bytes; "" when none), or 0 when the origin is
 * not allowed. C may be NULL (no CORS): always 1 with "". */
int		 cors_check(const struct cors *c, const char *origin,
		    const char *host, char *out);

#endif
