/* sse-fcgi - MIT License
 *
 * Redis Sentinel discovery: asks the sentinels of a redis+sentinel:// URL
 * (redis_url.h), in the order given, where the master is now
 * (SENTINEL get-master-addr-by-name). Every client of the project asks
 * before each (re)connect, so after a failover the next connection goes to
 * the new master. The query runs on an event loop and never blocks it: a
 * sentinel that does not answer costs SENTINEL_TIMEOUT_MS of waiting on
 * the loop, not of the loop. A host name in an answer (sentinels with
 * resolve-hostnames) is resolved on a thread of its own.
 * Event-loop thread only.
 */
#ifndef SSE_SENTINEL_H
#define SSE_SENTINEL_H

#include <stddef.h>

struct event_base;
struct redis_url;
struct redisReply;
struct sentinel_query;

#define SENTINEL_TIMEOUT_MS	300	/* connect + reply, per sentinel */
#define SENTINEL_HOST_MAX	256
#define SENTINEL_ERR_MAX	1024	/* every sentinel's reason */

/* The answer: the master's numeric address IP and PORT, or NULL and ERR
 * (no sentinel answered, or none knows the master: each one's reason, in
 * order, at most SENTINEL_ERR_MAX bytes). Both borrowed. The
 * query is freed right after FN returns: FN must forget it. */
typedef void (*sentinel_fn)(void *arg, const char *ip, int port,
    const char *err);

/* Starts asking U's sentinels (U is borrowed until the end) for its
 * master; FN runs later on BASE's loop, exactly once unless cancelled. */
struct sentinel_query *sentinel_query_start(struct event_base *base,
		    const struct redis_url *u, sentinel_fn fn, void *arg);
/* Drops a query before its end: FN will not run. NULL is ignored. */
void		 sentinel_query_cancel(struct sentinel_query *);

/* Reads a sentinel's reply R to get-master-addr-by-name MASTER: the host
 * into HOST (SENTINEL_HOST_MAX bytes) and the port into *PORT. Returns 0,
 * or -1 with a reason in WHY (an error reply, an unknown master, a reply
 * of the wrong shape or types, a bad port or host). */
int		 sentinel_parse(const struct redisReply *r, const char *master,
		    char *host, int *port, char *why, size_t whylen);

#endif
