/* sse-fcgi - MIT License
 *
 * Redis Sentinel discovery: asks the sentinels of a redis+sentinel:// URL
 * (redis_url.h), in the order given, where the master is now
 * (SENTINEL get-master-addr-by-name). Every client of the project calls it
 * before each (re)connect, so after a failover the next connection goes to
 * the new master. The calls are synchronous with a short timeout per
 * sentinel; on the event loop that pause happens only while Redis is
 * unreachable anyway.
 */
#ifndef SSE_SENTINEL_H
#define SSE_SENTINEL_H

#include <stddef.h>

struct redis_url;

#define SENTINEL_TIMEOUT_MS	300	/* connect + reply, per sentinel */

/* Finds U's master: its numeric address in IP and its port in U->port.
 * Returns 0, or -1 with a reason in ERR (no sentinel answered, or none
 * knows the master). */
int	sentinel_locate(struct redis_url *u, char *ip, size_t iplen, char *err,
	    size_t errlen);

#endif
