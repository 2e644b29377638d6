/* sse-fcgi - MIT License
 *
 * The worker's stats reporter (see stats.h). One report is a MULTI/EXEC
 * transaction, pipelined on a hiredis async connection (libevent adapter)
 * that is opened on first use and again after it is lost; only the EXEC
 * reply is looked at. Channels are picked with a min-heap of
 * STATS_CHANNELS_MAX entries over the hub's table, so a worker with very
 * many channels reports its most subscribed ones in O(n log k) every
 * interval and never more than a bounded hash.
 *
 * In a cluster a report is one EVAL (stats.lua) through the worker's
 * cluster_async, which ends every command by its deadline, so there is no
 * stall to watch. A report may be sent again after a redirection, so the
 * stop's removal waits for the report out, if any: a late report would
 * bring the keys back. A command out holds the reporter: stats_free()
 * leaves it to the last callback (cluster_async_free() runs them all).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "cluster_async.h"
#include "cluster_map.h"
#include "hub.h"
#include "log.h"
#include "redis_conn.h"
#include "scripts.h"
#include "stats.h"
#include "xmalloc.h"

#define STATS_STALL_TICKS	3	/* unanswered ticks: reconnect */
#define STATS_META_FIELDS	7	/* host, pid, uptime, ... below */
#define STATS_CLUSTER_TIMEOUT_MS 2000	/* a report, at most an interval */

const struct stats_fig_desc stats_figs[STATS_NFIGS] = {
	{ "streams", "sse_fcgi_streams", "gauge", NULL,
	  "Event streams open now." },
	{ "channels", "sse_fcgi_channels", "gauge", NULL,
	  "Channels subscribed in Redis, summed over workers." },
	{ "streams_opened", "sse_fcgi_streams_opened_total", "counter", NULL,
	  "Event streams opened." },
	{ "messages_in", "sse_fcgi_messages_received_total", "counter", NULL,
	  "Messages received from Redis, summed over workers." },
	{ "delivered", "sse_fcgi_messages_delivered_total", "counter", NULL,
	  "Messages queued to streams, one per stream and message." },
	{ "replayed", "sse_fcgi_events_replayed_total", "counter", NULL,
	  "History events replayed to resuming streams." },
	{ "bytes_out", "sse_fcgi_bytes_sent_total", "counter", NULL,
	  "Bytes written on streams to the front servers, FastCGI records "
	  "included." },
	{ "slow_closed", "sse_fcgi_slow_clients_closed_total", "counter",
	  NULL, "Streams closed because the client did not keep up "
	  "(queue-limit)." },
	{ "refused_400", "sse_fcgi_streams_refused_total", "counter", "400",
	  "Stream requests refused, by HTTP status." },
	{ "refused_401", "sse_fcgi_streams_refused_total", "counter", "401",
	  "Stream requests refused, by HTTP status." },
	{ "refused_403", "sse_fcgi_streams_refused_total", "counter", "403",
	  "Stream requests refused, by HTTP status." },
	{ "deferred", "sse_fcgi_streams_deferred_total", "counter", NULL,
	  "Stream requests told to reconnect later (Redis unreachable, "
	  "max-streams): 200 with retry:, nothing streamed." },
	{ "reconnects", "sse_fcgi_redis_reconnects_total", "counter", NULL,
	  "Times a worker's Redis subscription connection came back." },
};

/* A channel picked for the report; the name is the hub's, valid while
 * the report is built. */
struct stats_chan {
	const char	*name;
	size_t		 len;
	size_t		 subs;
};

struct stats {
	struct event_base	*base;
	struct redis_conn	*conn;		/* one Redis, or */
	struct cluster_async	*ca;		/* a cluster (not ours) */
	unsigned		 slot;		/* of {stats} */
	unsigned		 out;		/* cluster commands out */
	unsigned		 removing;	/* the stop's, to come or out */
	int			 remove_due;	/* after the report out */
	int			 freed;		/* the last callback frees */
	void			(*removed_fn)(void *);
	void			*removed_arg;
	char			 host[256];
	char			 id[STATS_ID_MAX];	/* host:pid */
	char			*wkey, *ckey, *index;
	unsigned		 interval;
	struct hub		*hub;
	stats_collect_fn	 collect;
	void			*arg;
	redisAsyncContext	*ac;
	struct event		*tick;
	struct timespec		 started;	/* CLOCK_MONOTONIC */
	int			 inflight;	/* a report awaits EXEC */
	unsigned		 stalled;	/* ticks it has waited */
	int			 quiet;		/* failure logged */
	int			 stopped;
	struct stats_chan	*heap;		/* min-heap by subs */
	size_t			 nheap;
};

static void	stats_on_tick(evutil_socket_t, short, void *);
static void	stats_report(struct stats *);
static void	stats_remove_cluster(struct stats *);

static char *
stats_key(const char *prefix, const char *kind, const char *id)
{
	char	*k;
	size_t	 n = strlen(prefix) + strlen(kind) + strlen(id) + 1;

	k = xmalloc(n);
	snprintf(k, n, "%s%s%s", prefix, kind, id);
	return k;
}

/* The part of creating both kinds share; keys named by KW, KC and KI. */
static void
stats_init(struct stats *st, struct event_base *base, const char *prefix,
    unsigned interval, struct hub *hub, stats_collect_fn collect, void *arg,
    const char *kw, const char *kc, const char *ki)
{
	st->base = base;
	st->interval = interval > 0 ? interval : 1;
	st->hub = hub;
	st->collect = collect;
	st->arg = arg;
	if (gethostname(st->host, sizeof st->host - 1) == -1 ||
	    st->host[0] == '\0')
		snprintf(st->host, sizeof st->host, "unknown");
	snprintf(st->id, sizeof st->id, "%s:%ld", st->host, (long)getpid());
	st->wkey = stats_key(prefix, kw, st->id);
	st->ckey = stats_key(prefix, kc, st->id);
	st->index = stats_key(prefix, ki, "");
	st->tick = event_new(base, -1, EV_PERSIST, stats_on_tick, st);
	clock_gettime(CLOCK_MONOTONIC, &st->started);
}

struct stats *
stats_create(struct event_base *base, const char *url, const char *prefix,
    unsigned interval, struct hub *hub, stats_collect_fn collect, void *arg,
    char *err, size_t errlen)
{
	struct stats	*st;

	st = xcalloc(1, sizeof *st);
	if ((st->conn = redis_conn_create(url, err, errlen)) == NULL) {
		free(st);
		return NULL;
	}
	stats_init(st, base, prefix, interval, hub, collect, arg,
	    STATS_KEY_WORKER, STATS_KEY_CHANNELS, STATS_KEY_WORKERS);
	return st;
}

struct stats *
stats_create_cluster(struct event_base *base, struct cluster_async *ca,
    const char *prefix, unsigned interval, struct hub *hub,
    stats_collect_fn collect, void *arg)
{
	struct stats	*st;

	st = xcalloc(1, sizeof *st);
	st->ca = ca;
	st->slot = cluster_keyslot(STATS_CLUSTER_TAG,
	    sizeof STATS_CLUSTER_TAG - 1);
	stats_init(st, base, prefix, interval, hub, collect, arg,
	    STATS_CKEY_WORKER, STATS_CKEY_CHANNELS, STATS_CKEY_WORKERS);
	return st;
}

void
stats_free(struct stats *st)
{
	if (st == NULL)
		return;
	if (st->tick != NULL)
		event_free(st->tick);
	st->tick = NULL;
	if (st->ac != NULL)
		redisAsyncFree(st->ac);	/* callbacks see st */
	st->ac = NULL;
	redis_conn_free(st->conn);
	st->conn = NULL;
	st->removed_fn = NULL;
	free(st->heap);
	st->heap = NULL;
	if (st->out > 0) {
		st->freed = 1;	/* the last callback frees the rest */
		return;
	}
	free(st->wkey);
	free(st->ckey);
	free(st->index);
	free(st);
}

/* A cluster command of ST has ended. Returns 1 when ST is gone: the
 * reporter was freed meanwhile and this was its last command. */
static int
stats_cluster_end(struct stats *st)
{
	st->out--;
	if (!st->freed)
		return 0;
	if (st->out == 0) {
		st->freed = 0;
		stats_free(st);
	}
	return 1;
}

const char *
stats_id(const struct stats *st)
{
	return st->id;
}

/* Logs a failed report loudly once, then quietly until one succeeds:
 * the broker already says when Redis is away. */
static void
stats_failed(struct stats *st, const char *why)
{
	if (!st->quiet)
		log_warn("cannot report stats to redis: %s", why);
	else
		log_debug("cannot report stats to redis: %s", why);
	st->quiet = 1;
}

static void
stats_on_connect(const redisAsyncContext *ac, int status)
{
	struct stats	*st = ac->data;

	if (status == REDIS_OK || st == NULL)
		return;
	stats_failed(st, ac->errstr);
	/* hiredis frees a context whose connect failed without calling
	 * the disconnect callback. */
	if (st->ac == ac)
		st->ac = NULL;
}

static void
stats_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct stats	*st = ac->data;

	if (st == NULL)
		return;
	if (status != REDIS_OK)
		stats_failed(st, ac->errstr);
	if (st->ac == ac)
		st->ac = NULL;
}

/* The sentinels have answered: report now rather than at the next tick. */
static void
stats_on_located(void *arg, const char *err)
{
	struct stats	*st = arg;

	if (err != NULL)
		stats_failed(st, err);
	else if (!st->stopped)
		stats_report(st);
}

/* Opens the connection if there is none. Returns 0, or -1 (also while
 * the sentinels are asked). */
static int
stats_connect(struct stats *st)
{
	redisAsyncContext	*ac;
	char			 why[REDIS_CONN_ERR_MAX];
	int			 pending;

	if (st->ac != NULL)
		return 0;
	ac = redis_conn_async(st->conn, st->base, "stats", stats_on_located,
	    st, &pending, why, sizeof why);
	if (ac == NULL) {
		if (!pending)
			stats_failed(st, why);
		return -1;
	}
	ac->data = st;
	redisAsyncSetConnectCallback(ac, stats_on_connect);
	redisAsyncSetDisconnectCallback(ac, stats_on_disconnect);
	st->ac = ac;
	return 0;
}

/* The reply to a report's EXEC: an array when it was applied. */
static void
stats_on_exec(redisAsyncContext *ac, void *r, void *priv)
{
	struct stats	*st = priv;
	redisReply	*reply = r;
	size_t		 i;

	st->inflight = 0;
	if (reply == NULL)
		return;		/* connection gone: next tick */
	if (reply->type == REDIS_REPLY_ARRAY) {
		for (i = 0; i < reply->elements; i++)
			if (reply->element[i]->type == REDIS_REPLY_ERROR)
				break;
		if (i == reply->elements) {
			if (st->quiet)
				log_info("stats reports to redis resumed");
			st->quiet = 0;
			return;
		}
		reply = reply->element[i];
	}
	stats_failed(st, reply->type == REDIS_REPLY_ERROR ? reply->str :
	    "unexpected reply to EXEC");
	/* A demoted master (sentinel failover): locate the new one. */
	if (reply->type == REDIS_REPLY_ERROR &&
	    strncmp(reply->str, "READONLY", 8) == 0)
		redisAsyncDisconnect(ac);
}

/* Hub iteration: keeps the STATS_CHANNELS_MAX most subscribed channels. */
static void
stats_pick(void *arg, const char *name, size_t len, size_t subs)
{
	struct stats		*st = arg;
	struct stats_chan	*h = st->heap, c = { name, len, subs };
	size_t			 i, child;

	if (st->nheap < STATS_CHANNELS_MAX) {
		for (i = st->nheap++; i > 0 && h[(i - 1) / 2].subs > subs;
		    i = (i - 1) / 2)
			h[i] = h[(i - 1) / 2];
		h[i] = c;
		return;
	}
	if (subs <= h[0].subs)
		return;
	for (i = 0; (child = 2 * i + 1) < st->nheap; i = child) {
		if (child + 1 < st->nheap && h[child + 1].subs < h[child].subs)
			child++;
		if (h[child].subs >= subs)
			break;
		h[i] = h[child];
	}
	h[i] = c;
}

/* Queues HSET KEY with the N field/value pairs in ARGV[2..]. */
static void
stats_hset(struct stats *st, const char *key, const char **argv,
    size_t *argl, size_t n)
{
	size_t	i;

	argv[0] = "HSET";
	argv[1] = key;
	for (i = 0; i < 2 + 2 * n; i++)
		if (argl[i] == 0)
			argl[i] = strlen(argv[i]);
	redisAsyncCommandArgv(st->ac, NULL, NULL, (int)(2 + 2 * n), argv,
	    argl);
}

/* The reply to a cluster report's EVAL. */
static void
stats_on_eval(void *arg, const redisReply *r, const char *err)
{
	struct stats	*st = arg;

	if (stats_cluster_end(st))
		return;
	st->inflight = 0;
	if (r == NULL)
		stats_failed(st, err);
	else if (r->type == REDIS_REPLY_ERROR)
		stats_failed(st, r->str);
	else {
		if (st->quiet)
			log_info("stats reports to redis resumed");
		st->quiet = 0;
	}
	if (st->remove_due) {
		st->remove_due = 0;
		stats_remove_cluster(st);
	}
}

/* Sends the report through the cluster: the script's keys and ARGV, then
 * the NW report arguments at W (field, value, ...), then the channels. */
static void
stats_report_cluster(struct stats *st, const char **w, size_t nw)
{
	const char	**argv;
	size_t		 *argl, i, n;
	char		  ttl[24], snw[24], (*num)[24];
	unsigned	  timeout;

	n = 3 + 3 + 3 + nw + 2 * st->nheap;
	argv = xcalloc(n, sizeof *argv);
	argl = xcalloc(n, sizeof *argl);
	num = xcalloc(st->nheap + 1, sizeof *num);
	snprintf(ttl, sizeof ttl, "%u", 3 * st->interval);
	snprintf(snw, sizeof snw, "%zu", nw);
	i = 0;
	argv[i++] = "EVAL";
	argv[i++] = SCRIPT_STATS;
	argv[i++] = "3";
	argv[i++] = st->wkey;
	argv[i++] = st->ckey;
	argv[i++] = st->index;
	argv[i++] = ttl;
	argv[i++] = st->id;
	argv[i++] = snw;
	memcpy(argv + i, w, nw * sizeof *w);
	i += nw;
	for (n = 0; n < st->nheap; n++) {
		snprintf(num[n], sizeof num[n], "%zu", st->heap[n].subs);
		argv[i] = st->heap[n].name;
		argl[i++] = st->heap[n].len;
		argv[i++] = num[n];
	}
	for (n = 0; n < i; n++)
		if (argl[n] == 0)
			argl[n] = strlen(argv[n]);
	/* Answered by the next tick, so reports never pile up. */
	timeout = st->interval * 1000;
	if (timeout > STATS_CLUSTER_TIMEOUT_MS)
		timeout = STATS_CLUSTER_TIMEOUT_MS;
	st->inflight = 1;
	st->out++;
	cluster_async_command(st->ca, st->slot, (int)i, argv, argl, timeout,
	    stats_on_eval, st);
	free(argv);
	free(argl);
	free(num);
}

static void
stats_report(struct stats *st)
{
	unsigned long long	 figs[STATS_NFIGS];
	struct timespec		 now, wall;
	const char		**argv;
	size_t			*argl, i, n;
	unsigned		 ttl;
	char			(*num)[24];
	char			 meta[5][24];

	if (st->inflight) {
		if (++st->stalled >= STATS_STALL_TICKS && st->ac != NULL) {
			log_warn("no answer from redis to %u stats reports; "
			    "reconnecting", st->stalled);
			redisAsyncFree(st->ac);	/* fails the report */
			st->ac = NULL;
			st->inflight = 0;
		}
		return;
	}
	if (st->ca == NULL && stats_connect(st) == -1)
		return;
	memset(figs, 0, sizeof figs);
	st->collect(st->arg, figs);
	if (st->heap == NULL)
		st->heap = xcalloc(STATS_CHANNELS_MAX, sizeof *st->heap);
	st->nheap = 0;
	hub_foreach_channel(st->hub, stats_pick, st);

	n = STATS_META_FIELDS + STATS_NFIGS;
	if (st->nheap > n)
		n = st->nheap;
	argv = xcalloc(2 + 2 * n, sizeof *argv);
	argl = xcalloc(2 + 2 * n, sizeof *argl);
	num = xcalloc(n, sizeof *num);

	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_REALTIME, &wall);
	snprintf(meta[0], sizeof meta[0], "%ld", (long)getpid());
	snprintf(meta[1], sizeof meta[1], "%lld",
	    (long long)(now.tv_sec - st->started.tv_sec));
	snprintf(meta[2], sizeof meta[2], "%u", st->interval);
	snprintf(meta[3], sizeof meta[3], "%lld", (long long)wall.tv_sec *
	    1000 + wall.tv_nsec / 1000000);
	snprintf(meta[4], sizeof meta[4], "%zu", st->nheap);
	i = 2;
	argv[i++] = "host";	argv[i++] = st->host;
	argv[i++] = "pid";	argv[i++] = meta[0];
	argv[i++] = "uptime";	argv[i++] = meta[1];
	argv[i++] = "interval";	argv[i++] = meta[2];
	argv[i++] = "time";	argv[i++] = meta[3];
	argv[i++] = "version";	argv[i++] = PACKAGE_VERSION;
	argv[i++] = "channels_reported"; argv[i++] = meta[4];
	for (n = 0; n < STATS_NFIGS; n++) {
		snprintf(num[n], sizeof num[n], "%llu", figs[n]);
		argv[i++] = stats_figs[n].key;
		argv[i++] = num[n];
	}
	if (st->ca != NULL) {
		stats_report_cluster(st, argv + 2, i - 2);
		goto out;
	}

	/* One transaction: readers never see a half-written report. */
	ttl = 3 * st->interval;
	redisAsyncCommand(st->ac, NULL, NULL, "MULTI");
	redisAsyncCommand(st->ac, NULL, NULL, "DEL %s", st->ckey);
	stats_hset(st, st->wkey, argv, argl, STATS_META_FIELDS + STATS_NFIGS);
	if (st->nheap > 0) {
		memset(argl, 0, (2 + 2 * st->nheap) * sizeof *argl);
		for (i = 0; i < st->nheap; i++) {
			snprintf(num[i], sizeof num[i], "%zu",
			    st->heap[i].subs);
			argv[2 + 2 * i] = st->heap[i].name;
			argl[2 + 2 * i] = st->heap[i].len;
			argv[3 + 2 * i] = num[i];
		}
		stats_hset(st, st->ckey, argv, argl, st->nheap);
	}
	redisAsyncCommand(st->ac, NULL, NULL, "EXPIRE %s %u", st->wkey, ttl);
	redisAsyncCommand(st->ac, NULL, NULL, "EXPIRE %s %u", st->ckey, ttl);
	redisAsyncCommand(st->ac, NULL, NULL, "SADD %s %s", st->index, st->id);
	if (redisAsyncCommand(st->ac, stats_on_exec, st, "EXEC") == REDIS_OK) {
		st->inflight = 1;
		st->stalled = 0;
	}
out:
	free(argv);
	free(argl);
	free(num);
}

static void
stats_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct stats	*st = arg;

	if (!st->stopped)
		stats_report(st);
}

void
stats_start(struct stats *st)
{
	struct timeval	tv;

	tv.tv_sec = st->interval;
	tv.tv_usec = 0;
	event_add(st->tick, &tv);
	stats_report(st);
}

/* The reply to one of the stop's removal commands. */
static void
stats_on_removed(void *arg, const redisReply *r, const char *err)
{
	struct stats	*st = arg;
	void		(*fn)(void *);

	if (stats_cluster_end(st))
		return;
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		log_debug("cannot remove the stats report: %s", r == NULL ?
		    err : r->str);
	if (--st->removing > 0 || (fn = st->removed_fn) == NULL)
		return;
	st->removed_fn = NULL;
	fn(st->removed_arg);
}

/* The stop's removal through the cluster: two commands in the slot. */
static void
stats_remove_cluster(struct stats *st)
{
	const char	*del[3] = { "DEL", st->wkey, st->ckey };
	const char	*srem[3] = { "SREM", st->index, st->id };
	size_t		 argl[3];
	int		 i;

	for (i = 0; i < 3; i++)
		argl[i] = strlen(del[i]);
	st->out++;
	cluster_async_command(st->ca, st->slot, 3, del, argl,
	    STATS_STOP_TIMEOUT_MS, stats_on_removed, st);
	for (i = 0; i < 3; i++)
		argl[i] = strlen(srem[i]);
	st->out++;
	cluster_async_command(st->ca, st->slot, 3, srem, argl,
	    STATS_STOP_TIMEOUT_MS, stats_on_removed, st);
}

void
stats_when_removed(struct stats *st, void (*fn)(void *), void *arg)
{
	if (st->removing == 0) {
		fn(arg);
		return;
	}
	st->removed_fn = fn;
	st->removed_arg = arg;
}

void
stats_stop(struct stats *st)
{
	if (st->stopped)
		return;
	st->stopped = 1;
	event_del(st->tick);
	if (st->ca != NULL) {
		st->removing = 2;
		if (st->inflight)
			st->remove_due = 1;
		else
			stats_remove_cluster(st);
		return;
	}
	if (st->ac == NULL || !(st->ac->c.flags & REDIS_CONNECTED))
		return;
	redisAsyncCommand(st->ac, NULL, NULL, "DEL %s %s", st->wkey,
	    st->ckey);
	redisAsyncCommand(st->ac, NULL, NULL, "SREM %s %s", st->index,
	    st->id);
	/* Now: the loop may end before it would write them. */
	redisAsyncHandleWrite(st->ac);
}
