/* sse-fcgi - MIT License
 *
 * The stats endpoints over HTTP: GET <mount>/stats (JSON) and
 * <mount>/metrics (Prometheus text), answered on the acceptor thread from
 * every worker's report in Redis (stats_view.h). Decides, in this order:
 * 404 when stats are off (stats-interval 0), 405 for a method other than
 * GET or HEAD, 403 for a client neither in stats-allow nor sending the
 * stats-secret bearer, 400 for bad query input (only "top" and, on
 * /stats, one "channel"), 503 when Redis cannot be read, else 200. The
 * acceptor writes the answer; this module never sees the FastCGI request.
 */
#ifndef SSE_STATS_HTTP_H
#define SSE_STATS_HTTP_H

#include <stddef.h>

struct cfg;
struct http_answer;
struct cidr;
struct publisher;

#define STATS_HTTP_TOP_DEFAULT	20	/* channels /stats lists */

/* Answers a request for /metrics (METRICS set) or /stats into *OUT:
 * METHOD, REMOTE_ADDR and QUERY (any may be NULL) as the front server
 * sent them, BEARER_OK when the Authorization header carries the
 * stats-secret. Reads Redis through PUB (this thread's; may be NULL: 503).
 * Free the answer with http_answer_clear(). */
void	stats_http_answer(struct http_answer *out, const struct cfg *cfg,
	    const struct cidr *allow, struct publisher *pub, int metrics,
	    const char *method, const char *remote_addr, int bearer_ok,
	    const char *query);


#endif
