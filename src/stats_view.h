/* sse-fcgi - MIT License
 *
 * The deployment-wide view behind GET <mount>/stats and <mount>/metrics:
 * every worker's report (stats.h) read back from Redis and summed, with
 * per-worker rows and per-channel subscriber totals, rendered as JSON or
 * as Prometheus text (prom.h). Loading is synchronous (the acceptor
 * thread, never the event loop): one SMEMBERS, then one pipelined round of
 * HGETALL/HGET per worker; IDs whose report expired are removed from the
 * index on the way.
 *
 * Counters are sums over the workers reporting now: when a worker exits
 * its share leaves the sum, which Prometheus's rate() reads as a counter
 * reset. Per-channel totals are as complete as the workers' reports (each
 * reports its STATS_CHANNELS_MAX most subscribed channels; "partial" says
 * when one had more).
 *
 * In a Redis Cluster (stats_view_load_cluster) the keys are the {stats}
 * ones of stats.h, all in one slot; the same commands go one at a time
 * through the caller's function, which sends each to that slot's master.
 */
#ifndef SSE_STATS_VIEW_H
#define SSE_STATS_VIEW_H

#include <stddef.h>
#include <stdio.h>

struct json_object;
struct redisContext;
struct redisReply;
struct stats_view;

#define STATS_VIEW_TOP_MAX	1000	/* channels one answer may list */

/* Returns an empty view. */
struct stats_view *stats_view_create(void);
/* Frees V. NULL is ignored. */
void		 stats_view_free(struct stats_view *v);
/* Adds one worker's report: the N fields NAMES[i] = VALUES[i] of its
 * hash (borrowed). Returns 0, or -1 when it is no report (no host or pid):
 * it is ignored. */
int		 stats_view_add_worker(struct stats_view *v, size_t n,
		    const char *const *names, const char *const *values);
/* Adds SUBS subscribers of CHANNEL on one worker (from its channel
 * hash). */
void		 stats_view_add_channel(struct stats_view *v,
		    const char *channel, size_t len, unsigned long long subs);
/* Reads every current report under PREFIX through C: the channel hashes
 * too when CHANNELS is set, and CHANNEL's subscribers when it is not NULL.
 * Returns 0, or -1 with a reason in ERR (the connection is broken when
 * C->err is set). */
int		 stats_view_load(struct stats_view *v,
		    struct redisContext *c, const char *prefix, int channels,
		    const char *channel, char *err, size_t errlen);
/* Sends one command of ARGC arguments (ARGV, ARGL bytes each) to the
 * master of the {stats} slot. Returns its reply (caller frees: it may be
 * an error reply), or NULL with a reason in ERR. */
typedef struct redisReply *(*stats_view_cmd_fn)(void *arg, int argc,
    const char **argv, const size_t *argl, char *err, size_t errlen);
/* The same as stats_view_load() for a cluster, through FN (ARG for it).
 * Returns 0, or -1 with a reason in ERR. */
int		 stats_view_load_cluster(struct stats_view *v,
		    stats_view_cmd_fn fn, void *arg, const char *prefix,
		    int channels, const char *channel, char *err,
		    size_t errlen);
/* Returns the number of workers in V. */
size_t		 stats_view_workers(const struct stats_view *v);
/* Returns the /stats document (caller puts it): totals, the TOP most
 * subscribed channels (when channels were loaded), per-worker rows. */
struct json_object *stats_view_json(const struct stats_view *v,
		    unsigned top);
/* Returns the /stats?channel= document for the channel loaded (caller
 * puts it): its subscribers and how many workers serve it. */
struct json_object *stats_view_channel_json(const struct stats_view *v,
		    const char *channel);
/* Writes the /metrics text: totals, per-worker gauges and, with TOP > 0
 * and channels loaded, the TOP most subscribed channels. */
void		 stats_view_prometheus(const struct stats_view *v,
		    FILE *out, unsigned top);

#endif
