/* sse-fcgi - MIT License
 *
 * The nodes the two cluster clients (cluster_sync, cluster_async) talk
 * to, as addresses: the seeds of a redis+cluster:// URL (resolved when it
 * is read, the only I/O here), a node's "HOST:PORT", the order in which
 * nodes are asked for a map (the node that gave the last one, the seeds
 * of the redis+cluster:// URL, then the nodes of the old map), whether a
 * node is a master of a map, and the reasons of a round in which none
 * answered, put together.
 */
#ifndef SSE_CLUSTER_NODES_H
#define SSE_CLUSTER_NODES_H

#include <stddef.h>

#include "cluster_map.h"

struct redis_url;

/* Room for "[HOST]:PORT". */
#define CLUSTER_ADDR_MAX	(CLUSTER_HOST_MAX + 10)

/* A node's address: where to send a command, or ask for a map. */
struct cluster_addr {
	char	host[CLUSTER_HOST_MAX];
	int	port;
};

/* Reads URL, a redis+cluster:// URL, into *U (its seeds resolved now:
 * blocking) and its description without the password into DESC. Returns
 * 0 (clear *U with redis_url_clear), or -1 with a reason in ERR. */
int		 cluster_url_prepare(const char *url, struct redis_url *u,
		    char *desc, size_t desclen, char *err, size_t errlen);
/* Sets *A to HOST (cut to the room) and PORT. */
void		 cluster_addr_set(struct cluster_addr *a, const char *host,
		    int port);
/* "HOST:PORT", "[HOST]:PORT" for an IPv6 address, into BUF; returns
 * BUF. */
const char	*cluster_addr_format(const char *host, int port, char *buf,
		    size_t len);
/* Whether HOST:PORT is the master of a shard of map M. */
int		 cluster_is_master(const struct cluster_map *m,
		    const char *host, int port);
/* The nodes to ask for a map, in order: LAST (when its port is not 0),
 * the seeds of URL, then the master and the replicas of each shard of
 * OLD (NULL: none). Returns them (caller frees), their number in *N; a
 * node may stand more than once (cluster_addr_asked). */
struct cluster_addr *cluster_fetch_order(const struct cluster_addr *last,
		    const struct redis_url *url, const struct cluster_map *old,
		    size_t *n);
/* Whether CAND[I] stands before I in CAND too: asked already, it would
 * give nothing new. */
int		 cluster_addr_asked(const struct cluster_addr *cand, size_t i);
/* Appends "ADDR: TEXT" to the reasons in BUF, "; " between; what does
 * not fit is left out. */
void		 cluster_reasons_append(char *buf, size_t len,
		    const char *addr, const char *text);

#endif
