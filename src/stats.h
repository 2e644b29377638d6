/* sse-fcgi - MIT License
 *
 * Each worker's figures for GET <mount>/stats and <mount>/metrics, and
 * the reporter that writes them to Redis every stats-interval seconds, so
 * that any worker can answer for the whole deployment (every worker on
 * every host sharing the Redis; stats_view.h reads them back).
 *
 * Keys, under the history prefix P ("sse:"), for the worker ID
 * "<hostname>:<pid>":
 *   P stats:w:ID   hash: host, pid, uptime, interval, time, version,
 *                  channels_reported and one field per figure below
 *   P stats:c:ID   hash: channel -> local subscribers, for at most
 *                  STATS_CHANNELS_MAX channels, the most subscribed
 *   P stats:workers  set of IDs (readers drop IDs whose hash expired)
 * Both hashes are rewritten in one MULTI/EXEC and expire after three
 * intervals, so a worker that dies vanishes by itself; one that stops
 * gracefully removes them at once.
 *
 * In a Redis Cluster the three share the hash tag {stats}, so they are in
 * one slot (one master holds the deployment's figures):
 *   P {stats}:w:ID   P {stats}:c:ID   P {stats}:workers
 * and a report is one EVAL of src/stats.lua (what the MULTI/EXEC does)
 * sent through the worker's cluster client (cluster_async.h), which finds
 * the slot's master and follows it; the graceful stop's removal too.
 *
 * The counters behind the figures are plain integers kept by their owners
 * (stream writer, hub, broker, acceptor); the reporter collects them on the
 * loop thread through a callback. Writes go over a hiredis async
 * connection of its own on the event loop and never block it; a report
 * still unanswered at the next tick is not repeated.
 * Event-loop thread only.
 */
#ifndef SSE_STATS_H
#define SSE_STATS_H

#include <stddef.h>

struct cluster_async;
struct event_base;
struct hub;
struct stats;

#define STATS_KEY_WORKERS	"stats:workers"
#define STATS_KEY_WORKER	"stats:w:"
#define STATS_KEY_CHANNELS	"stats:c:"
#define STATS_CLUSTER_TAG	"stats"	/* the keys' hash tag in a cluster */
#define STATS_CKEY_WORKERS	"{" STATS_CLUSTER_TAG "}:workers"
#define STATS_CKEY_WORKER	"{" STATS_CLUSTER_TAG "}:w:"
#define STATS_CKEY_CHANNELS	"{" STATS_CLUSTER_TAG "}:c:"
#define STATS_CHANNELS_MAX	1000	/* channels one worker reports */
#define STATS_ID_MAX		300	/* "<hostname>:<pid>" */
#define STATS_STOP_TIMEOUT_MS	1000	/* a cluster's removal at exit */

/* The figures, in report order. The STATS_REFUSED_* three and
 * STATS_DEFERRED follow each other in that order (see acceptor_refused()). */
enum stats_fig {
	STATS_STREAMS = 0,	/* gauges */
	STATS_CHANNELS,
	STATS_STREAMS_OPENED,	/* counters */
	STATS_MESSAGES_IN,
	STATS_DELIVERED,
	STATS_REPLAYED,
	STATS_BYTES_OUT,
	STATS_SLOW_CLOSED,
	STATS_REFUSED_400,
	STATS_REFUSED_401,
	STATS_REFUSED_403,
	STATS_DEFERRED,
	STATS_RECONNECTS,
	STATS_NFIGS
};

/* What a figure is called in the hash, in JSON and in Prometheus. */
struct stats_fig_desc {
	const char	*key;		/* hash field and JSON key */
	const char	*metric;	/* Prometheus family, sse_fcgi_* */
	const char	*type;		/* "gauge" or "counter" */
	const char	*status;	/* label status="..." or NULL */
	const char	*help;
};

extern const struct stats_fig_desc stats_figs[STATS_NFIGS];

/* Fills FIGS with the worker's current figures (loop thread). */
typedef void (*stats_collect_fn)(void *arg,
    unsigned long long figs[STATS_NFIGS]);

/* Returns a reporter for the Redis at URL with key PREFIX, every INTERVAL
 * seconds (at least 1), taking channels from HUB and figures from COLLECT;
 * or NULL with a reason in ERR. Reports nothing until stats_start(). */
struct stats	*stats_create(struct event_base *base, const char *url,
		    const char *prefix, unsigned interval, struct hub *hub,
		    stats_collect_fn collect, void *arg, char *err,
		    size_t errlen);
/* The same for a Redis Cluster, through CA (the caller's; it outlives
 * the reporter: freed after stats_free()). */
struct stats	*stats_create_cluster(struct event_base *base,
		    struct cluster_async *ca, const char *prefix,
		    unsigned interval, struct hub *hub,
		    stats_collect_fn collect, void *arg);
/* Reports now, then every interval. */
void		 stats_start(struct stats *);
/* Stops reporting and removes this worker's report (best effort: with
 * one Redis sent at once, not waited for; in a cluster see below). For a
 * graceful stop. */
void		 stats_stop(struct stats *);
/* Runs FN(ARG) once the removal stats_stop() sent has been answered or
 * has failed: at once, from here, when none is out (one Redis writes it
 * at once). In a cluster it waits for a report still out (2 s at most)
 * and then STATS_STOP_TIMEOUT_MS at most. The loop must run until then. */
void		 stats_when_removed(struct stats *, void (*fn)(void *),
		    void *arg);
/* Frees the reporter. NULL is ignored. */
void		 stats_free(struct stats *);
/* Returns this worker's ID, "<hostname>:<pid>". */
const char	*stats_id(const struct stats *);

#endif
