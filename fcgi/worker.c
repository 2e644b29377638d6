/* sse-fcgi - MIT License
 *
 * sse-fcgi: a long-running FastCGI worker that streams Redis Pub/Sub
 * channels to EventSource clients through a front web server.
 *
 * The listening socket: --listen, or the one a systemd .socket unit passes
 * (fd 3), or the one spawn-fcgi and mod_fcgid give on fd 0.
 * Threads: the event loop (this thread: Redis, every open stream, timers,
 * signals) and the acceptor (libfcgi's blocking accept and params read).
 * Signals: SIGTERM, SIGINT and SIGUSR1 stop gracefully (every stream ends
 * with END_REQUEST and a retry: so clients reconnect); SIGUSR2 starts a
 * fresh copy of the binary on the same socket and then stops gracefully
 * (upgrade.h); SIGHUP reopens the log file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>
#include <fcgiapp.h>

#include "acceptor.h"
#include "auth.h"
#include "auth_url.h"
#include "broker.h"
#include "cidr.h"
#include "cluster_async.h"
#include "cors.h"
#include "cfg.h"
#include "envelope.h"
#include "history.h"
#include "hub.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "presence.h"
#include "stats.h"
#include "stream.h"
#include "stream_auth.h"
#include "upgrade.h"

extern char **environ;

struct worker {
	struct cfg		 cfg;
	struct loop		*loop;
	struct hub		*hub;
	struct cluster_async	*cluster;	/* NULL: one Redis */
	struct broker		*broker;
	struct history		*history;
	struct stream_ctx	*streams;
	struct acceptor		*acceptor;
	struct cors		*cors;
	struct auth		*auth;
	struct auth_url		*auth_url;	/* NULL: no auth-url */
	struct stats		*stats;		/* NULL: stats off */
	struct presence		*presence;	/* NULL: no presence */
	struct cidr		*stats_allow;
	struct upgrade		*upgrade;	/* NULL: SIGUSR2 unavailable */
	struct event		*sig_ev[5];
	struct event		*ready_ev;	/* until ready (worker_on_tick) */
	struct timeval		 started;
	int			 listen_fd;
	int			 successor;	/* started by an upgrade */
	int			 ready;		/* said so to who started us */
	int			 handed_over;	/* a successor is the service */
	int			 stopping;
};

/* How long a new process waits for Redis before it says it is ready
 * anyway (the acceptor defers streams meanwhile), and how long an upgrade
 * waits for its successor. */
#define WORKER_READY_WAIT_MS	2000
#define WORKER_UPGRADE_WAIT_MS	30000

static void
worker_on_first(void *arg, const char *channel, size_t len)
{
	struct worker	*w = arg;

	broker_watch(w->broker, channel, len);
}

static void
worker_on_last(void *arg, const char *channel, size_t len)
{
	struct worker	*w = arg;

	broker_unwatch(w->broker, channel, len);
}

/* Cluster: presence wants a channel's notices (its first local stream
 * joined) or no longer (its last left). */
static void
worker_presence_watch(void *arg, const char *notice, size_t len, int on)
{
	struct worker	*w = arg;

	if (on)
		broker_watch(w->broker, notice, len);
	else
		broker_unwatch(w->broker, notice, len);
}

static void
worker_on_message(void *arg, const char *channel, size_t clen,
    const char *payload, size_t plen)
{
	struct worker	*w = arg;
	struct envelope	 env;
	struct hub_msg	 m;

	if (w->presence != NULL &&
	    presence_is_notice(w->presence, channel, clen)) {
		presence_on_notice(w->presence, payload, plen);
		return;
	}
	memset(&m, 0, sizeof m);
	switch (envelope_parse(payload, plen, &env)) {
	case ENVELOPE_BAD:
		/* Not the script's: a bad id or an event name with CR, LF or
		 * NUL. Its fields cannot be sent, and as raw data it would
		 * show browsers the NUL-separated header. */
		log_warn("malformed event envelope on channel %.*s (%zu "
		    "bytes; bad id or event name); dropped", (int)clen, channel,
		    plen);
		return;
	case ENVELOPE_RAW:
		m.data = payload;
		m.len = plen;
		break;
	case ENVELOPE_EVENT:
		m.id = &env.id;
		m.id_text = env.id_text;
		m.event = env.event;
		m.data = env.data;
		m.len = env.len;
		break;
	}
	hub_publish(w->hub, channel, clen, &m);
}

static void
worker_on_ready(void *arg, const char *channel, size_t len)
{
	struct worker	*w = arg;

	hub_channel_ready(w->hub, channel, len);
}

/* Cluster: one channel's subscription lapsed (its shard changed). */
static void
worker_on_lost(void *arg, const char *channel, size_t len)
{
	struct worker	*w = arg;

	hub_channel_lost(w->hub, channel, len);
}

static void
worker_on_down(void *arg)
{
	struct worker	*w = arg;

	stream_ctx_redis_lost(w->streams);
}

static void
worker_on_reconnect(void *arg)
{
	struct worker	*w = arg;

	stream_ctx_resync(w->streams);
}

/* The stats reporter's figures, from the counters of each part. */
static void
worker_collect(void *arg, unsigned long long figs[STATS_NFIGS])
{
	struct worker		*w = arg;
	struct stream_counters	 sc;
	unsigned long long	 dels;

	stream_ctx_counters(w->streams, &sc);
	figs[STATS_STREAMS] = sc.open;
	figs[STATS_CHANNELS] = hub_channel_count(w->hub);
	figs[STATS_STREAMS_OPENED] = sc.opened;
	hub_counters(w->hub, &figs[STATS_MESSAGES_IN], &dels);
	figs[STATS_DELIVERED] = sc.delivered;
	figs[STATS_REPLAYED] = sc.replayed;
	figs[STATS_BYTES_OUT] = sc.bytes_out;
	figs[STATS_SLOW_CLOSED] = sc.slow_closed;
	if (w->acceptor != NULL)
		acceptor_refused(w->acceptor, &figs[STATS_REFUSED_400]);
	figs[STATS_RECONNECTS] = broker_reconnects(w->broker);
}

static void
worker_exit(void *arg)
{
	struct worker	*w = arg;

	loop_exit(w->loop);
}

/* The stats report is removed: the presence entries next. */
static void
worker_on_stats_removed(void *arg)
{
	struct worker	*w = arg;

	if (w->presence != NULL)
		presence_when_removed(w->presence, worker_exit, w);
	else
		loop_exit(w->loop);
}

/* In a cluster the removals of the stats report and of the presence
 * entries go out on the loop: it ends once they are answered (three
 * seconds at most for stats, see stats.h, one for presence). */
static void
worker_on_drained(void *arg)
{
	struct worker	*w = arg;

	if (w->stats != NULL)
		stats_when_removed(w->stats, worker_on_stats_removed, w);
	else
		worker_on_stats_removed(w);
}

/* Stops accepting and ends every stream gracefully; the loop exits once
 * they are closed. */
static void
worker_stop(struct worker *w, const char *why)
{
	w->stopping = 1;
	upgrade_cancel(w->upgrade);
	log_info("%s; ending %u streams", why, stream_ctx_count(w->streams));
	if (!w->handed_over)	/* else no longer the manager's to stop */
		notify_send("STOPPING=1");
	acceptor_stop(w->acceptor);
	if (w->stats != NULL)
		stats_stop(w->stats);
	if (w->presence != NULL)
		presence_stop(w->presence);
	stream_ctx_shutdown(w->streams, w->cfg.shutdown_grace,
	    worker_on_drained, w);
}

/* The successor accepts now: the service manager follows it, and this
 * process stops as for SIGTERM. */
static void
worker_on_successor(void *arg, pid_t successor)
{
	struct worker	*w = arg;
	char		 msg[64];

	if (successor == -1 || w->stopping)
		return;
	w->handed_over = 1;
	snprintf(msg, sizeof msg, "MAINPID=%ld", (long)successor);
	if (notify_send(msg) == -1)
		log_warn("cannot tell the service manager the new main PID "
		    "(%s)", strerror(errno));
	snprintf(msg, sizeof msg, "upgrade: pid %ld accepts now; stopping",
	    (long)successor);
	worker_stop(w, msg);
}

static void
worker_upgrade(struct worker *w)
{
	char	err[512];

	if (w->stopping || !w->ready) {
		log_warn("SIGUSR2 ignored: %s", w->stopping ? "stopping" :
		    "not ready yet");
		return;
	}
	if (w->upgrade == NULL) {
		log_error("SIGUSR2 ignored: no binary to start (see the log "
		    "at start)");
		return;
	}
	if (upgrade_start(w->upgrade, w->listen_fd, WORKER_UPGRADE_WAIT_MS,
	    worker_on_successor, w, err, sizeof err) == -1) {
		log_error("upgrade: %s; still serving", err);
		return;
	}
	log_info("SIGUSR2: starting a new process on the same socket");
}

static void
worker_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct worker	*w = arg;
	char		 why[64];

	if (sig == SIGHUP) {
		if (log_reopen() == -1)
			log_error("cannot reopen the log file: %s",
			    strerror(errno));
		else
			log_info("SIGHUP: log file reopened");
		return;
	}
	if (sig == SIGUSR2) {
		worker_upgrade(w);
		return;
	}
	if (w->stopping) {
		log_warn("second stop signal: exiting now");
		loop_exit(w->loop);
		return;
	}
	snprintf(why, sizeof why, "signal %d: stopping", (int)sig);
	worker_stop(w, why);
}

/* Says "ready" once the acceptor runs and Redis is connected, or after
 * WORKER_READY_WAIT_MS without Redis: to the predecessor of an upgrade,
 * which then stops accepting, or to the service manager. */
static void
worker_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker	*w = arg;
	struct timeval	 now, age;

	(void)fd;
	(void)what;
	evutil_gettimeofday(&now, NULL);
	evutil_timersub(&now, &w->started, &age);
	if (!broker_is_up(w->broker) &&
	    age.tv_sec * 1000 + age.tv_usec / 1000 < WORKER_READY_WAIT_MS)
		return;
	event_del(w->ready_ev);
	w->ready = 1;
	if (w->successor)
		upgrade_announce();
	else
		notify_send("READY=1");
}

/* systemd socket activation (sd_listen_fds(3)): with LISTEN_PID naming
 * this process and LISTEN_FDS >= 1, the socket is fd 3. The variables are
 * removed so no child takes them for its own. Returns the fd, -1 when not
 * activated, or -2 with ERR set when activated with no usable socket. */
static int
worker_activated(char *err, size_t errlen)
{
	const char	*pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	long		 npid, nfds;
	char		*end;

	if (pid == NULL || n == NULL)
		return -1;
	npid = strtol(pid, &end, 10);
	if (*end != '\0' || npid != (long)getpid())
		return -1;
	nfds = strtol(n, &end, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (*end != '\0' || nfds < 1) {
		snprintf(err, errlen, "socket activation: LISTEN_FDS=%s is not "
		    "a count of sockets", n);
		return -2;
	}
	if (!upgrade_fd_listens(3)) {
		snprintf(err, errlen, "socket activation: LISTEN_FDS=%s, but fd "
		    "3 is not a listening socket", n);
		return -2;
	}
	if (nfds > 1)
		log_warn("socket activation passed %ld sockets; listening on "
		    "the first only", nfds);
	fcntl(3, F_SETFD, FD_CLOEXEC);
	return 3;
}

/* Returns the listening socket: --listen, the one systemd passed (socket
 * activation), or the one inherited on fd 0. */
static int
worker_listen(const struct cfg *cfg, char *err, size_t errlen)
{
	struct stat	 st;
	const char	*spec = cfg->listen;
	int		 fd;

	if (spec == NULL) {
		if ((fd = worker_activated(err, errlen)) != -1)
			return fd == -2 ? -1 : fd;
		if (!upgrade_fd_listens(0)) {
			snprintf(err, errlen, "no --listen given, no socket "
			    "from systemd and fd 0 is not a listening socket "
			    "(run under spawn-fcgi, mod_fcgid or a systemd "
			    ".socket unit, or pass --listen unix:PATH or "
			    "--listen HOST:PORT)");
			return -1;
		}
		return 0;
	}
	if (strncmp(spec, "unix:", 5) == 0) {
		spec += 5;
		if (*spec == '\0' || strchr(spec, ':') != NULL) {
			snprintf(err, errlen, "--listen: bad unix socket path "
			    "\"%s\"", spec);
			return -1;
		}
		if (lstat(spec, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(spec);	/* a stale socket from a past run */
	} else if (strchr(spec, ':') == NULL) {
		snprintf(err, errlen, "--listen: expected unix:PATH or "
		    "HOST:PORT, got \"%s\"", spec);
		return -1;
	}
	fd = FCGX_OpenSocket(spec, cfg->backlog);
	if (fd < 0) {
		snprintf(err, errlen, "--listen %s: cannot listen (%s)",
		    cfg->listen, strerror(errno));
		return -1;
	}
	return fd;
}

/* Describes the listening socket for the log, in BUF. */
static const char *
worker_where(const struct worker *w, char *buf, size_t len)
{
	if (w->successor)
		snprintf(buf, len, "socket on fd %d, taken over from pid %ld "
		    "(upgrade)", w->listen_fd, (long)getppid());
	else if (w->cfg.listen != NULL)
		snprintf(buf, len, "%s", w->cfg.listen);
	else
		snprintf(buf, len, "socket on fd %d%s", w->listen_fd,
		    w->listen_fd == 3 ? " (systemd)" : "");
	return buf;
}

static int
worker_signals(struct worker *w)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP };
	size_t		 i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		w->sig_ev[i] = evsignal_new(loop_base(w->loop), sigs[i],
		    worker_on_signal, w);
		if (w->sig_ev[i] == NULL || event_add(w->sig_ev[i], NULL) == -1)
			return -1;
	}
	return 0;
}

static void
worker_free(struct worker *w)
{
	size_t	i;

	if (w->acceptor != NULL) {
		acceptor_stop(w->acceptor);
		acceptor_free(w->acceptor);
	}
	stream_ctx_free(w->streams);
	auth_url_free(w->auth_url);
	presence_free(w->presence);
	upgrade_free(w->upgrade);
	if (w->ready_ev != NULL)
		event_free(w->ready_ev);
	stats_free(w->stats);
	cidr_free(w->stats_allow);
	history_free(w->history);
	broker_free(w->broker);
	cluster_async_free(w->cluster);
	hub_free(w->hub);
	for (i = 0; i < sizeof w->sig_ev / sizeof w->sig_ev[0]; i++)
		if (w->sig_ev[i] != NULL)
			event_free(w->sig_ev[i]);
	loop_free(w->loop);
	cors_free(w->cors);
	auth_free(w->auth);
	cfg_clear(&w->cfg);
}

/* What a cluster URL does not take yet; returns -1 with a reason. */
static int
worker_cluster_check(const struct cfg *cfg, char *err, size_t errlen)
{
	/* The channel must be the keys' hash tag (as for publishers). */
	if (strchr(cfg->history_prefix, '{') != NULL) {
		snprintf(err, errlen, "history-prefix \"%s\" holds a '{': "
		    "with a redis+cluster:// URL the channel name is the "
		    "keys' hash tag", cfg->history_prefix);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct worker	w;
	char		err[512], limit[64];
	int		fd, rc = 1;

	memset(&w, 0, sizeof w);
	switch (cfg_load(&w.cfg, argc, argv, environ, stdout, err,
	    sizeof err)) {
	case CFG_EXIT:
		cfg_clear(&w.cfg);
		return 0;
	case CFG_ERROR:
		fprintf(stderr, "sse-fcgi: %s\nTry 'sse-fcgi --help'.\n", err);
		cfg_clear(&w.cfg);
		return 2;
	case CFG_OK:
		break;
	}
	log_set_level(w.cfg.log_level);
	if (w.cfg.log_file != NULL && log_open(w.cfg.log_file) == -1) {
		fprintf(stderr, "sse-fcgi: --log-file %s: %s\n",
		    w.cfg.log_file, strerror(errno));
		cfg_clear(&w.cfg);
		return 2;
	}
	/* A successor keeps its predecessor's socket, whatever --listen
	 * says: opening that path again would take it from the predecessor. */
	fd = upgrade_inherited(err, sizeof err);
	w.successor = fd >= 0;
	if (fd == -1)
		fd = worker_listen(&w.cfg, err, sizeof err);
	if (fd < 0) {
		log_error("%s", err);
		cfg_clear(&w.cfg);
		return 2;
	}
	w.listen_fd = fd;
	if ((w.loop = loop_create(err, sizeof err)) == NULL) {
		log_error("%s", err);
		goto out;
	}
	/* Our handlers go in before FCGX_Init so libfcgi keeps its own out. */
	if (worker_signals(&w) == -1) {
		log_error("cannot install signal handlers");
		goto out;
	}
	w.upgrade = upgrade_create(loop_base(w.loop), argv, NULL, err,
	    sizeof err);
	if (w.upgrade == NULL)
		log_warn("SIGUSR2 (upgrade) unavailable: %s", err);
	w.cors = cors_create(w.cfg.cors_origins, err, sizeof err);
	if (w.cors == NULL && w.cfg.cors_origins != NULL) {
		log_error("%s", err);
		rc = 2;
		goto out;
	}
	if ((w.auth = auth_create(&w.cfg, err, sizeof err)) == NULL) {
		log_error("%s", err);
		rc = 2;
		goto out;
	}
	if (!auth_enabled(w.auth) && w.cfg.auth_url == NULL)
		log_warn("no authorization configured: every channel is "
		    "public (set public-channels, user-channels, jwt-secret or "
		    "jwt-key-file)");
	w.hub = hub_create(worker_on_first, worker_on_last, &w);
	if (w.cfg.redis_cluster && worker_cluster_check(&w.cfg, err,
	    sizeof err) == -1) {
		log_error("%s", err);
		rc = 2;
		goto out;
	}
	if (w.cfg.redis_cluster) {
		w.cluster = cluster_async_create(loop_base(w.loop),
		    w.cfg.redis, err, sizeof err);
		if (w.cluster == NULL) {
			log_error("--redis: %s", err);
			rc = 2;
			goto out;
		}
		w.broker = broker_create_cluster(loop_base(w.loop), w.cluster,
		    worker_on_message, &w);
		w.history = history_create_cluster(loop_base(w.loop),
		    w.cluster, w.cfg.history_prefix);
	} else {
		w.broker = broker_create(loop_base(w.loop), w.cfg.redis,
		    worker_on_message, &w, err, sizeof err);
		if (w.broker == NULL) {
			log_error("--redis: %s", err);
			rc = 2;
			goto out;
		}
		w.history = history_create(loop_base(w.loop), w.cfg.redis,
		    w.cfg.history_prefix, err, sizeof err);
	}
	broker_on_ready(w.broker, worker_on_ready);
	broker_on_down(w.broker, worker_on_down);
	broker_on_reconnect(w.broker, worker_on_reconnect);
	broker_on_lost(w.broker, worker_on_lost);
	if (w.history == NULL) {
		log_error("--redis: %s", err);
		rc = 2;
		goto out;
	}
	w.streams = stream_ctx_create(w.loop, w.hub, w.history, &w.cfg, err,
	    sizeof err);
	if (w.streams == NULL) {
		log_error("%s", err);
		rc = 2;
		goto out;
	}
	w.auth_url = auth_url_create(loop_base(w.loop), &w.cfg, err,
	    sizeof err);
	if (w.auth_url == NULL && err[0] != '\0') {
		log_error("%s", err);
		rc = 2;
		goto out;
	}
	stream_ctx_set_auth_url(w.streams, w.auth_url);
	if ((w.stats_allow = cidr_create(w.cfg.stats_allow, err,
	    sizeof err)) == NULL) {
		log_error("stats-allow: %s", err);
		rc = 2;
		goto out;
	}
	if (w.cfg.stats_interval > 0 && w.cluster != NULL) {
		w.stats = stats_create_cluster(loop_base(w.loop), w.cluster,
		    w.cfg.history_prefix, w.cfg.stats_interval, w.hub,
		    worker_collect, &w);
	} else if (w.cfg.stats_interval > 0 && (w.stats = stats_create(
	    loop_base(w.loop), w.cfg.redis, w.cfg.history_prefix,
	    w.cfg.stats_interval, w.hub, worker_collect, &w, err,
	    sizeof err)) == NULL) {
		log_error("--redis: %s", err);
		rc = 2;
		goto out;
	}
	if (w.cfg.presence != NULL && w.cluster != NULL) {
		w.presence = presence_create_cluster(loop_base(w.loop),
		    w.cluster, w.cfg.history_prefix, w.cfg.presence,
		    w.cfg.presence_ttl, w.hub, w.cfg.poll_hold_ms < 0);
		presence_on_watch(w.presence, worker_presence_watch, &w);
		stream_ctx_set_presence(w.streams, w.presence);
	} else if (w.cfg.presence != NULL) {
		w.presence = presence_create(loop_base(w.loop), w.cfg.redis,
		    w.cfg.history_prefix, w.cfg.presence, w.cfg.presence_ttl,
		    w.hub, w.cfg.poll_hold_ms < 0, err, sizeof err);
		if (w.presence == NULL) {
			log_error("--redis: %s", err);
			rc = 2;
			goto out;
		}
		stream_ctx_set_presence(w.streams, w.presence);
	}
	if (FCGX_Init() != 0) {
		log_error("FCGX_Init failed");
		goto out;
	}
	w.acceptor = acceptor_create(fd, &w.cfg, w.broker, w.streams, w.cors,
	    w.auth, w.stats_allow);
	broker_start(w.broker);
	if (w.stats != NULL)
		stats_start(w.stats);
	if (w.presence != NULL) {
		const char	*notice;
		size_t		 nlen;

		/* A cluster watches a notice channel per presence channel
		 * (worker_presence_watch). */
		if ((notice = presence_notice_channel(w.presence,
		    &nlen)) != NULL)
			broker_watch(w.broker, notice, nlen);
		presence_start(w.presence);
	}
	if (acceptor_start(w.acceptor) == -1) {
		log_error("cannot start the acceptor thread: %s",
		    strerror(errno));
		goto out;
	}
	evutil_gettimeofday(&w.started, NULL);
	w.ready_ev = event_new(loop_base(w.loop), -1, EV_PERSIST,
	    worker_on_tick, &w);
	{
		struct timeval	tick = { 0, 20 * 1000 };

		event_add(w.ready_ev, &tick);
	}
	if (w.cfg.max_streams != 0)
		snprintf(limit, sizeof limit, "at most %u streams",
		    w.cfg.max_streams);
	else
		snprintf(limit, sizeof limit, "streams up to the fd limit");
	log_info("sse-fcgi %s ready: %s, keepalive %us, %s",
	    PACKAGE_VERSION, worker_where(&w, err, sizeof err),
	    w.cfg.keepalive, limit);
	rc = loop_run(w.loop) == 0 ? 0 : 1;
	log_info("stopped");
out:
	worker_free(&w);
	return rc;
}
