/* sse-fcgi - MIT License
 *
 * A Redis Cluster on the worker's event loop: the topology and commands
 * routed by slot, never blocking the loop. The blocking twin for the
 * publisher is cluster_sync.h; both read replies through cluster_map.h.
 *
 * The map: fetched with CLUSTER SHARDS from the node that gave the last
 * one, else the seeds of the redis+cluster:// URL, else the masters of the
 * old map, one node at a time; again whenever a user says it is stale
 * (cluster_async_refresh: a MOVED, a lost connection, a SUNSUBSCRIBE the
 * node sent by itself) and every CLUSTER_ASYNC_REFRESH_MS as a safety net.
 * Fetches coalesce: one is in flight at a time, and a request made
 * meanwhile makes one more when it ends. A round starts
 * CLUSTER_ASYNC_MIN_GAP_MS after the start of the last one that gave a map
 * at the soonest: a request made sooner waits for then, still one fetch
 * (a failover asks for dozens, and the maps meanwhile are as stale as the
 * last); the first fetch is not held up by it, and commands waiting for a
 * map go on as soon as one comes. When no node answers, the next round
 * waits (200 ms doubling to 2 s). Each new map is announced to the map
 * callback (the broker moves its subscriptions there).
 *
 * Commands: cluster_async_command() sends a command for a slot to the
 * slot's master, over one hiredis async connection per master (opened on
 * demand, greeted by redis_conn with the URL's user and password):
 *   - MOVED: a new map is fetched and the command sent again;
 *   - ASK: ASKING and the command, once, at the node named;
 *   - TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, a slot with no master,
 *     a refused connection: sent again after a pause (cluster_sync_pause)
 *     until the command's deadline;
 *   - a connection lost after the command was sent: the command fails
 *     (it may have run; the caller decides);
 *   - no reply by the deadline: the command fails, and when the node has
 *     answered nothing since the command went out (a peer gone without a
 *     reset) its connection is closed and a new map fetched, so what is
 *     out there fails too rather than piling up.
 * Nodes are reached by address: a node named by a host name (set
 * cluster-preferred-endpoint-type ip) is refused, as its lookup would
 * block the loop; the URL's seeds are resolved at start-up.
 * Every reply is untrusted: a shape it does not expect fails the command
 * with a reason, never crashes.
 * Event-loop thread only.
 */
#ifndef SSE_CLUSTER_ASYNC_H
#define SSE_CLUSTER_ASYNC_H

#include <stddef.h>

struct cluster_async;
struct cluster_map;
struct event_base;
struct redisReply;
struct redis_url;

#define CLUSTER_ASYNC_REFRESH_MS	10000
#define CLUSTER_ASYNC_MIN_GAP_MS	100	/* between map fetches */

/* A new map (owned by the cluster_async: valid until the next one). */
typedef void (*cluster_async_map_fn)(void *arg, const struct cluster_map *m);
/* The end of a command, exactly once: R the reply (borrowed: may be an
 * error reply of the command itself), or NULL and ERR why not. */
typedef void (*cluster_async_fn)(void *arg, const struct redisReply *r,
    const char *err);

/* Returns a cluster for the redis+cluster:// URL (seeds resolved now:
 * blocking, at start-up), not connected; or NULL with a reason in ERR. */
struct cluster_async *cluster_async_create(struct event_base *base,
		    const char *url, char *err, size_t errlen);
/* Fails pending commands (their callbacks run with an error), closes
 * every connection and frees. NULL is ignored. */
void		 cluster_async_free(struct cluster_async *);
/* The URL without its password, for logs. */
const char	*cluster_async_describe(const struct cluster_async *);
/* The URL as parsed (for the broker's node connections). */
const struct redis_url *cluster_async_url(const struct cluster_async *);
/* Sets the map callback (ARG for it). */
void		 cluster_async_on_map(struct cluster_async *,
		    cluster_async_map_fn fn, void *arg);
/* Fetches the first map and starts the periodic refresh. */
void		 cluster_async_start(struct cluster_async *);
/* The newest map, or NULL before the first. */
const struct cluster_map *cluster_async_map(const struct cluster_async *);
/* The map is stale: fetch a new one soon (coalesced). */
void		 cluster_async_refresh(struct cluster_async *);
/* Sends a command of ARGC arguments (ARGV, ARGL bytes each, copied) to
 * the master of SLOT, as above, within TIMEOUT_MS. FN runs later, never
 * before this returns. */
void		 cluster_async_command(struct cluster_async *, unsigned slot,
		    int argc, const char **argv, const size_t *argl,
		    unsigned timeout_ms, cluster_async_fn fn, void *arg);
/* Maps fetched, for stats and tests. */
unsigned long	 cluster_async_maps(const struct cluster_async *);

#endif
