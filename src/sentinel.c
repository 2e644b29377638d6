/* sse-fcgi - MIT License
 *
 * Sentinel discovery (see sentinel.h). A sentinel that does not answer, or
 * does not know the master, is skipped; the first answer wins. The address
 * a sentinel gives is numeric unless the sentinels run with
 * resolve-hostnames, in which case it is resolved here.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis_url.h"
#include "sentinel.h"

/* Asks one sentinel. Returns 0 with the master's address, or -1 with why. */
static int
sentinel_ask(const struct redis_sentinel *sn, const char *master, char *ip,
    size_t iplen, int *port, char *why, size_t whylen)
{
	struct timeval	 tv;
	redisContext	*c;
	redisReply	*r;
	char		*end;
	long		 p;
	int		 rc = -1;

	tv.tv_sec = SENTINEL_TIMEOUT_MS / 1000;
	tv.tv_usec = (SENTINEL_TIMEOUT_MS % 1000) * 1000;
	c = redisConnectWithTimeout(sn->ip, sn->port, tv);
	if (c == NULL || c->err) {
		snprintf(why, whylen, "%s", c ? c->errstr : "out of memory");
		redisFree(c);
		return -1;
	}
	redisSetTimeout(c, tv);
	r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", master);
	if (r == NULL)
		snprintf(why, whylen, "%s", c->errstr);
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(why, whylen, "%s", r->str);
	else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING)
		snprintf(why, whylen, "does not know master \"%s\"", master);
	else {
		p = strtol(r->element[1]->str, &end, 10);
		if (*end != '\0' || p < 1 || p > 65535)
			snprintf(why, whylen, "gave a bad port");
		else if (redis_url_resolve_host(r->element[0]->str, ip, iplen,
		    why, whylen) == 0) {
			*port = (int)p;
			rc = 0;
		}
	}
	if (r != NULL)
		freeReplyObject(r);
	redisFree(c);
	return rc;
}

int
sentinel_locate(struct redis_url *u, char *ip, size_t iplen, char *err,
    size_t errlen)
{
	char	why[128];
	size_t	i;
	int	port;

	snprintf(err, errlen, "no sentinel listed");
	for (i = 0; i < u->nsentinels; i++) {
		if (sentinel_ask(&u->sentinels[i], u->master, ip, iplen,
		    &port, why, sizeof why) == 0) {
			u->port = port;
			return 0;
		}
		snprintf(err, errlen, "sentinel %s:%d: %s%s",
		    u->sentinels[i].host, u->sentinels[i].port, why,
		    i + 1 < u->nsentinels ? "" : " (no sentinel knows the "
		    "master)");
	}
	return -1;
}
