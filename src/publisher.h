/* sse-fcgi - MIT License
 *
 * Publishing with ids and history from C: a synchronous Redis connection
 * that runs the publish script (deploy/redis/sse-publish.lua) and reads
 * channel info. Used by the sse-publish tool and by the worker's HTTP
 * publish endpoint (on the acceptor thread, which may block; never on the
 * event loop). Calls time out after the configured milliseconds. A lost
 * connection is reopened on the next call. Not thread-safe: one per thread.
 *
 * A redis+cluster:// URL publishes to a Redis Cluster: each channel's
 * history and id clock in the channel's slot, the event announced with
 * SPUBLISH (see publisher.c). There the timeout bounds the whole call,
 * waits for a failover or a resharding included, and publisher_redis()
 * has no single connection to give: other commands go through
 * publisher_cluster_command() to the master of a slot.
 */
#ifndef SSE_PUBLISHER_H
#define SSE_PUBLISHER_H

#include <stddef.h>

#include "event_id.h"

struct publisher;
struct redisContext;
struct redisReply;

/* What a channel's history holds. */
struct publisher_info {
	long long	length;			/* retained events */
	char		first_id[EVENT_ID_MAX];	/* "" when empty */
	char		last_id[EVENT_ID_MAX];	/* "" when empty */
};

/* Returns a publisher for the Redis at URL with key PREFIX ("sse:"; no
 * '{' with a cluster) and TIMEOUT_MS per call, or NULL with a reason in
 * ERR. Does not connect. */
struct publisher *publisher_create(const char *url, const char *prefix,
		    unsigned timeout_ms, char *err, size_t errlen);
/* Closes the connection and frees. NULL is ignored. */
void		 publisher_free(struct publisher *);
/* Publishes LEN bytes of DATA on CHANNEL with EVENT (NULL or "" for
 * none), keeping MAXLEN events and MAXAGE_MS of history (0: none / no age
 * limit). Fills ID (EVENT_ID_MAX bytes) and *RECEIVERS (workers that got
 * it). Returns 0, or -1 with a reason in ERR. */
int		 publisher_publish(struct publisher *, const char *channel,
		    const char *event, const char *data, size_t len,
		    unsigned long maxlen, unsigned long maxage_ms, char *id,
		    long long *receivers, char *err, size_t errlen);
/* Reads CHANNEL's history length and first and last ids. Returns 0, or -1
 * with a reason in ERR. */
int		 publisher_info(struct publisher *, const char *channel,
		    struct publisher_info *info, char *err, size_t errlen);
/* Returns the connection, opened if needed, for other commands on the
 * same thread (the stats endpoints); the publisher keeps it. After a
 * failed call that left it broken (c->err set), publisher_reset() drops
 * it. Returns NULL with a reason in ERR when Redis cannot be reached, or
 * for a cluster. */
struct redisContext *publisher_redis(struct publisher *, char *err,
		    size_t errlen);
/* With a redis+cluster:// URL: sends the command of ARGC arguments (ARGV,
 * ARGL bytes each) to the master of SLOT within the timeout (the stats
 * endpoints). Returns the reply (caller frees: it may be an error reply),
 * or NULL with a reason in ERR, always so without a cluster. */
struct redisReply *publisher_cluster_command(struct publisher *,
		    unsigned slot, int argc, const char **argv,
		    const size_t *argl, char *err, size_t errlen);
/* Returns 1 for a redis+cluster:// URL, else 0. */
int		 publisher_is_cluster(const struct publisher *);
/* Closes the connection; the next call opens a new one. */
void		 publisher_reset(struct publisher *);

#endif
