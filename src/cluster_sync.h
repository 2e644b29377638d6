/* sse-fcgi - MIT License
 *
 * A blocking Redis Cluster client, for the publisher (sse-publish, the
 * worker's acceptor thread; never an event loop). From the seeds of a
 * redis+cluster:// URL it learns the topology (CLUSTER SHARDS of the first
 * seed that answers, read by cluster_map), keeps one blocking connection
 * per master it talks to (opened on demand and greeted by redis_conn:
 * AUTH with the URL's user and password) and sends a command for a slot
 * to the slot's master:
 *   - MOVED: the slot has a new master: a new map, the command again;
 *   - ASK: the slot is being migrated: ASKING and the command, once, at
 *     the node named;
 *   - TRYAGAIN, CLUSTERDOWN, LOADING, MASTERDOWN, READONLY, a slot without
 *     a master, a lost or refused connection: a pause (growing, bounded),
 *     a new map, the command again, until the caller's deadline (a
 *     failover takes seconds).
 * A command whose connection broke after it was sent is sent again, as the
 * single-node publisher does: it may then have run twice.
 *
 * It owns its map and its connections. Every reply is untrusted: a shape it
 * does not expect is an answer for the caller or an error with a reason,
 * never a crash. Not thread-safe: one per thread.
 */
#ifndef SSE_CLUSTER_SYNC_H
#define SSE_CLUSTER_SYNC_H

#include <stddef.h>

struct cluster_redirect;
struct cluster_sync;
struct redisContext;
struct redisReply;

/* Room for a reason, the seeds' included. */
#define CLUSTER_SYNC_ERR_MAX	1200

/* Mends what reply R (an error) says is missing at the node of C, the
 * blocking connection that gave it (the publisher: NOSCRIPT, a SCRIPT LOAD
 * there). Returns 1 to send the command to that node again, 0 to take R
 * as the answer, or -1 with a reason in ERR to give up (a broken C is
 * taken as a lost connection instead). */
typedef int (*cluster_sync_fix_fn)(void *arg, struct redisContext *c,
    const struct redisReply *r, char *err, size_t errlen);

/* Returns a client for the cluster of URL (a redis+cluster:// URL, its
 * seeds resolved now: blocking), not connected; or NULL with a reason in
 * ERR. */
struct cluster_sync *cluster_sync_create(const char *url, char *err,
		    size_t errlen);
/* Closes every connection and frees. NULL is ignored. */
void		 cluster_sync_free(struct cluster_sync *);
/* The URL without its password, for messages. */
const char	*cluster_sync_describe(const struct cluster_sync *);

/* Sends the command of ARGC arguments (ARGV, ARGL bytes each) to the
 * master of SLOT, as above, within TIMEOUT_MS. FIX, when not NULL, sees
 * every error reply that is not about the cluster (twice per call at
 * most). Returns the reply (caller frees: freeReplyObject), which may be
 * an error reply of the command, or NULL with a reason in ERR. */
struct redisReply *cluster_sync_command(struct cluster_sync *, unsigned slot,
		    int argc, const char **argv, const size_t *argl,
		    unsigned timeout_ms, cluster_sync_fix_fn fix, void *arg,
		    char *err, size_t errlen);

/* What a reply means for the command that got it (exposed for tests). */
enum cluster_sync_kind {
	CLUSTER_SYNC_ANSWER = 0,	/* the caller's: a value or an error of
					 * the command itself */
	CLUSTER_SYNC_MOVED,		/* ask the slot's new master */
	CLUSTER_SYNC_ASK,		/* ask the node named, once, ASKING */
	CLUSTER_SYNC_WAIT,		/* the cluster is changing: later */
	CLUSTER_SYNC_LOST,		/* no reply: the connection is gone */
	CLUSTER_SYNC_BAD		/* a MOVED or ASK that cannot be read */
};

/* Classifies R (NULL: no reply). For MOVED and ASK fills *RD; for BAD,
 * WAIT and LOST writes a one-line reason in WHY. */
enum cluster_sync_kind cluster_sync_classify(const struct redisReply *r,
		    struct cluster_redirect *rd, char *why, size_t whylen);
/* The same for a command for SLOT: a MOVED or ASK for another slot is
 * BAD. */
enum cluster_sync_kind cluster_sync_classify_slot(const struct redisReply *r,
		    unsigned slot, struct cluster_redirect *rd, char *why,
		    size_t whylen);
/* The pause in milliseconds before try number N (from 1) of a command
 * with LEFT_MS before its deadline: 20 ms doubling to 500 ms, ending
 * early enough for the try itself; -1 when there is no time for one. */
long		 cluster_sync_pause(unsigned n, long left_ms);

#endif
