/* sse-fcgi - MIT License
 *
 * The cluster clients' node addresses (see cluster_nodes.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cluster_map.h"
#include "cluster_nodes.h"
#include "redis_url.h"
#include "xmalloc.h"

int
cluster_url_prepare(const char *url, struct redis_url *u, char *desc,
    size_t desclen, char *err, size_t errlen)
{
	char	ip[REDIS_URL_IP_MAX];

	if (redis_url_prepare(url, u, ip, sizeof ip, err, errlen) == -1)
		return -1;
	if (!u->cluster) {
		snprintf(err, errlen, "not a redis+cluster:// URL");
		redis_url_clear(u);
		return -1;
	}
	redis_url_describe(u, desc, desclen);
	return 0;
}

void
cluster_addr_set(struct cluster_addr *a, const char *host, int port)
{
	snprintf(a->host, sizeof a->host, "%s", host);
	a->port = port;
}

const char *
cluster_addr_format(const char *host, int port, char *buf, size_t len)
{
	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%d" : "%s:%d",
	    host, port);
	return buf;
}

int
cluster_is_master(const struct cluster_map *m, const char *host, int port)
{
	size_t	i;

	for (i = 0; i < m->nshards; i++)
		if (m->shards[i].has_master && m->shards[i].master.port ==
		    port && strcmp(m->shards[i].master.host, host) == 0)
			return 1;
	return 0;
}

struct cluster_addr *
cluster_fetch_order(const struct cluster_addr *last,
    const struct redis_url *url, const struct cluster_map *old, size_t *np)
{
	const struct cluster_shard	*sh;
	struct cluster_addr		*cand;
	size_t				 i, j, n = 0, max;

	max = 1 + url->nseeds;
	if (old != NULL)
		for (i = 0; i < old->nshards; i++)
			max += 1 + old->shards[i].nreplicas;
	cand = xcalloc(max, sizeof *cand);
	if (last != NULL && last->port != 0)
		cluster_addr_set(&cand[n++], last->host, last->port);
	for (i = 0; i < url->nseeds; i++)
		cluster_addr_set(&cand[n++], url->seeds[i].ip,
		    url->seeds[i].port);
	for (i = 0; old != NULL && i < old->nshards; i++) {
		sh = &old->shards[i];
		if (sh->has_master)
			cluster_addr_set(&cand[n++], sh->master.host,
			    sh->master.port);
		for (j = 0; j < sh->nreplicas; j++)
			cluster_addr_set(&cand[n++], sh->replicas[j].host,
			    sh->replicas[j].port);
	}
	*np = n;
	return cand;
}

int
cluster_addr_asked(const struct cluster_addr *cand, size_t i)
{
	size_t	j;

	for (j = 0; j < i; j++)
		if (cand[j].port == cand[i].port &&
		    strcmp(cand[j].host, cand[i].host) == 0)
			return 1;
	return 0;
}

void
cluster_reasons_append(char *buf, size_t len, const char *addr,
    const char *text)
{
	size_t	used = strlen(buf);

	if (used + 1 < len && snprintf(buf + used, len - used, "%s%s: %s",
	    used ? "; " : "", addr, text) < 0)
		buf[used] = '\0';
}
