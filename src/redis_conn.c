/* sse-fcgi - MIT License
 *
 * The way to Redis (see redis_conn.h). For a sentinel URL every
 * connection starts with a fresh question to the sentinels, so the first
 * connection after a failover goes to the new master; a direct URL's
 * address was resolved once, at creation. The handshake is one pipeline
 * whose replies are checked in order by redis_conn_check(), whichever
 * transport carries it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libevent.h>

#include "log.h"
#include "redis_conn.h"
#include "redis_dial.h"
#include "redis_url.h"
#include "sentinel.h"
#include "xmalloc.h"

#define REDIS_CONN_ADDR_MAX	(REDIS_URL_IP_MAX + 8)

enum redis_conn_mode {
	REDIS_CONN_IDLE = 0,
	REDIS_CONN_OPENING,	/* redis_conn_open(): locate, then dial */
	REDIS_CONN_LOCATING	/* redis_conn_async(): locate only */
};

struct redis_conn {
	struct redis_url	 url;
	char			 ip[REDIS_URL_IP_MAX];	/* of the master */
	char			 desc[256];
	char			 addr[REDIS_CONN_ADDR_MAX];
	enum redis_conn_mode	 mode;
	int			 located;	/* ip fresh from sentinels */
	struct event_base	*base;
	unsigned		 timeout_ms;
	struct sentinel_query	*query;
	struct redis_dial	*dial;
	enum redis_conn_step	 steps[REDIS_CONN_STEPS_MAX];
	redis_conn_fn		 fn;
	redis_conn_wake_fn	 wake;
	void			*arg;
};

/* One queued handshake command of an async context: what its reply is
 * checked for. Freed by its callback, which hiredis always runs. */
struct redis_conn_hs {
	enum redis_conn_step	 step;
	const char		*who;
	char			 addr[REDIS_CONN_ADDR_MAX];
};

struct redis_conn *
redis_conn_create(const char *url, char *err, size_t errlen)
{
	struct redis_conn	*rc;

	rc = xcalloc(1, sizeof *rc);
	if (redis_url_prepare(url, &rc->url, rc->ip, sizeof rc->ip, err,
	    errlen) == -1) {
		free(rc);
		return NULL;
	}
	/* Every user of this way talks to one node as if it held every key;
	 * the publisher takes a cluster through cluster_sync instead. */
	if (rc->url.cluster) {
		snprintf(err, errlen, "%s", REDIS_URL_CLUSTER_UNSUPPORTED);
		redis_url_clear(&rc->url);
		free(rc);
		return NULL;
	}
	redis_url_describe(&rc->url, rc->desc, sizeof rc->desc);
	return rc;
}

void
redis_conn_free(struct redis_conn *rc)
{
	if (rc == NULL)
		return;
	redis_conn_cancel(rc);
	redis_url_clear(&rc->url);
	free(rc);
}

const char *
redis_conn_describe(const struct redis_conn *rc)
{
	return rc->desc;
}

const char *
redis_conn_master(const struct redis_conn *rc)
{
	return rc->url.master;
}

const char *
redis_conn_addr(const struct redis_conn *rc)
{
	struct redis_conn	*m = (struct redis_conn *)rc;

	if (rc->url.path != NULL)
		return rc->url.path;
	snprintf(m->addr, sizeof m->addr, strchr(rc->ip, ':') != NULL ?
	    "[%s]:%d" : "%s:%d", rc->ip, rc->url.port);
	return m->addr;
}

size_t
redis_conn_steps(const struct redis_url *u, int with_ping,
    enum redis_conn_step steps[REDIS_CONN_STEPS_MAX])
{
	size_t	n = 0;

	if (u->password != NULL)
		steps[n++] = REDIS_CONN_AUTH;
	if (u->db != 0)
		steps[n++] = REDIS_CONN_SELECT;
	/* A sentinel's answer may be stale right after a failover. */
	if (u->master != NULL)
		steps[n++] = REDIS_CONN_ROLE;
	if (with_ping)
		steps[n++] = REDIS_CONN_PING;
	return n;
}

int
redis_conn_format(enum redis_conn_step s, const struct redis_url *u,
    char **cmd)
{
	const char	*argv[3];
	char		 db[16];
	int		 argc = 0;

	switch (s) {
	case REDIS_CONN_AUTH:
		argv[argc++] = "AUTH";
		if (u->user != NULL)
			argv[argc++] = u->user;
		argv[argc++] = u->password != NULL ? u->password : "";
		break;
	case REDIS_CONN_SELECT:
		snprintf(db, sizeof db, "%d", u->db);
		argv[argc++] = "SELECT";
		argv[argc++] = db;
		break;
	case REDIS_CONN_ROLE:
		argv[argc++] = "ROLE";
		break;
	case REDIS_CONN_PING:
		argv[argc++] = "PING";
		break;
	}
	return redisFormatCommandArgv(cmd, argc, argv, NULL);
}

int
redis_conn_check(enum redis_conn_step s, const redisReply *r,
    const char *addr, char *why, size_t whylen)
{
	static const char *const names[] = { "AUTH", "SELECT", "ROLE",
	    "PING" };

	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, whylen, "%s: %.*s", names[s], (int)r->len,
		    r->str);
		return -1;
	}
	if (s != REDIS_CONN_ROLE)
		return 0;
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(r->element[0]->str, "master") != 0) {
		snprintf(why, whylen, "%s is not the master (yet)", addr);
		return -1;
	}
	return 0;
}

/* The handshake's commands, back to back, into *OUT (caller frees).
 * Returns their length, or -1. */
static int
redis_conn_pipeline(struct redis_conn *rc, size_t n, char **out)
{
	char	*all = NULL, *cmd;
	size_t	 i, len = 0;
	int	 clen;

	for (i = 0; i < n; i++) {
		if ((clen = redis_conn_format(rc->steps[i], &rc->url,
		    &cmd)) < 0) {
			free(all);
			return -1;
		}
		all = xrealloc(all, len + (size_t)clen);
		memcpy(all + len, cmd, (size_t)clen);
		len += (size_t)clen;
		free(cmd);
	}
	*out = all;
	return (int)len;
}

static int
redis_conn_on_reply(void *arg, size_t n, const redisReply *r, char *why,
    size_t whylen)
{
	struct redis_conn	*rc = arg;

	return redis_conn_check(rc->steps[n], r, redis_conn_addr(rc), why,
	    whylen);
}

static void
redis_conn_on_dial(void *arg, redisContext *c, const char *why)
{
	struct redis_conn	*rc = arg;

	rc->dial = NULL;
	rc->mode = REDIS_CONN_IDLE;
	rc->fn(rc->arg, c, why);
}

/* Connects to the master's address and sends the handshake. */
static int
redis_conn_dial(struct redis_conn *rc, char *err, size_t errlen)
{
	struct redis_dial_addr	 addr;
	char			*cmds;
	size_t			 n;
	int			 len;

	n = redis_conn_steps(&rc->url, 1, rc->steps);
	if ((len = redis_conn_pipeline(rc, n, &cmds)) < 0) {
		snprintf(err, errlen, "cannot format the handshake");
		return -1;
	}
	addr.ip = rc->ip;
	addr.port = rc->url.port;
	addr.path = rc->url.path;
	rc->dial = redis_dial_start(rc->base, &addr, cmds, (size_t)len, n,
	    rc->timeout_ms, redis_conn_on_reply, redis_conn_on_dial, rc, err,
	    errlen);
	free(cmds);
	return rc->dial != NULL ? 0 : -1;
}

static void
redis_conn_on_located(void *arg, const char *ip, int port, const char *err)
{
	struct redis_conn	*rc = arg;
	enum redis_conn_mode	 mode = rc->mode;
	char			 why[REDIS_CONN_ERR_MAX];

	rc->query = NULL;
	rc->mode = REDIS_CONN_IDLE;
	if (ip != NULL) {
		snprintf(rc->ip, sizeof rc->ip, "%s", ip);
		rc->url.port = port;
	}
	if (mode == REDIS_CONN_LOCATING) {
		rc->located = ip != NULL;
		rc->wake(rc->arg, err);
		return;
	}
	if (ip == NULL) {
		rc->fn(rc->arg, NULL, err);
		return;
	}
	rc->mode = REDIS_CONN_OPENING;
	if (redis_conn_dial(rc, why, sizeof why) == -1) {
		rc->mode = REDIS_CONN_IDLE;
		rc->fn(rc->arg, NULL, why);
	}
}

int
redis_conn_open(struct redis_conn *rc, struct event_base *base,
    unsigned timeout_ms, redis_conn_fn fn, void *arg, char *err,
    size_t errlen)
{
	redis_conn_cancel(rc);
	rc->base = base;
	rc->timeout_ms = timeout_ms;
	rc->fn = fn;
	rc->arg = arg;
	rc->mode = REDIS_CONN_OPENING;
	if (rc->url.master != NULL) {
		rc->query = sentinel_query_start(base, &rc->url,
		    redis_conn_on_located, rc);
		return 0;
	}
	if (redis_conn_dial(rc, err, errlen) == -1) {
		rc->mode = REDIS_CONN_IDLE;
		return -1;
	}
	return 0;
}

void
redis_conn_cancel(struct redis_conn *rc)
{
	sentinel_query_cancel(rc->query);
	rc->query = NULL;
	redis_dial_cancel(rc->dial);
	rc->dial = NULL;
	rc->mode = REDIS_CONN_IDLE;
}

struct redis_conn_sync {
	int		 done;
	redisContext	*c;
	char		 err[REDIS_CONN_ERR_MAX];
};

static void
redis_conn_on_sync(void *arg, redisContext *c, const char *err)
{
	struct redis_conn_sync	*s = arg;

	s->done = 1;
	s->c = c;
	if (err != NULL)
		snprintf(s->err, sizeof s->err, "%s", err);
}

redisContext *
redis_conn_open_sync(struct redis_conn *rc, unsigned timeout_ms, char *err,
    size_t errlen)
{
	struct redis_conn_sync	 s;
	struct event_base	*base;
	struct timeval		 tv;
	int			 fl;

	memset(&s, 0, sizeof s);
	if ((base = event_base_new()) == NULL) {
		snprintf(err, errlen, "cannot create an event loop");
		return NULL;
	}
	if (redis_conn_open(rc, base, timeout_ms, redis_conn_on_sync, &s, err,
	    errlen) == -1) {
		event_base_free(base);
		return NULL;
	}
	while (!s.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	redis_conn_cancel(rc);
	event_base_free(base);
	if (s.c == NULL) {
		snprintf(err, errlen, "%s", s.done ? s.err : "event loop "
		    "failed");
		return NULL;
	}
	/* From here on hiredis's blocking calls drive it. */
	if ((fl = fcntl(s.c->fd, F_GETFL)) != -1)
		fcntl(s.c->fd, F_SETFL, fl & ~O_NONBLOCK);
	s.c->flags |= REDIS_BLOCK;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	redisSetTimeout(s.c, tv);
	return s.c;
}

redisContext *
redis_conn_node_sync(const struct redis_url *u, const char *host, int port,
    unsigned timeout_ms, char *err, size_t errlen)
{
	struct redis_conn	 rc;

	/* A direct way to HOST:PORT that borrows U's credentials: the same
	 * dial and handshake as any other connection, nothing to free. */
	memset(&rc, 0, sizeof rc);
	if (redis_url_resolve_host(host, rc.ip, sizeof rc.ip, err,
	    errlen) == -1)
		return NULL;
	rc.url.host = (char *)host;
	rc.url.port = port;
	rc.url.user = u->user;
	rc.url.password = u->password;
	return redis_conn_open_sync(&rc, timeout_ms, err, errlen);
}

struct redis_conn *
redis_conn_create_node(const struct redis_url *u, const char *host, int port,
    char *err, size_t errlen)
{
	struct redis_conn	*rc;
	unsigned char		 bin[sizeof(struct in6_addr)];

	/* Like redis_conn_node_sync()'s, but on the heap and owning its
	 * strings: an async context outlives the call. */
	if (inet_pton(AF_INET, host, bin) != 1 &&
	    inet_pton(AF_INET6, host, bin) != 1) {
		snprintf(err, errlen, "cluster node \"%s\" is not an address: "
		    "the worker does not look names up on its event loop (set "
		    "cluster-preferred-endpoint-type ip)", host);
		return NULL;
	}
	rc = xcalloc(1, sizeof *rc);
	snprintf(rc->ip, sizeof rc->ip, "%s", host);
	rc->url.host = xstrdup(host);
	rc->url.port = port;
	if (u->user != NULL)
		rc->url.user = xstrdup(u->user);
	if (u->password != NULL)
		rc->url.password = xstrdup(u->password);
	redis_url_describe(&rc->url, rc->desc, sizeof rc->desc);
	return rc;
}

static void
redis_conn_on_setup(redisAsyncContext *ac, void *r, void *priv)
{
	struct redis_conn_hs	*hs = priv;
	char			 why[256];

	if (r != NULL && redis_conn_check(hs->step, r, hs->addr, why,
	    sizeof why) == -1) {
		log_error("%s connection setup: %s", hs->who, why);
		redisAsyncDisconnect(ac);
	}
	free(hs);
}

redisAsyncContext *
redis_conn_async(struct redis_conn *rc, struct event_base *base,
    const char *who, redis_conn_wake_fn fn, void *arg, int *pending,
    char *err, size_t errlen)
{
	redisAsyncContext	*ac;
	struct redis_conn_hs	*hs;
	char			*cmd;
	size_t			 i, n;
	int			 len;

	*pending = 0;
	if (rc->url.master != NULL && !rc->located) {
		*pending = 1;
		if (rc->query == NULL) {
			rc->mode = REDIS_CONN_LOCATING;
			rc->base = base;
			rc->wake = fn;
			rc->arg = arg;
			rc->query = sentinel_query_start(base, &rc->url,
			    redis_conn_on_located, rc);
		}
		return NULL;
	}
	rc->located = 0;	/* the next connection asks again */
	if (rc->url.path != NULL)
		ac = redisAsyncConnectUnix(rc->url.path);
	else
		ac = redisAsyncConnect(rc->ip, rc->url.port);
	if (ac == NULL || ac->err) {
		snprintf(err, errlen, "%s", ac != NULL ? ac->errstr :
		    "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		return NULL;
	}
	redisLibeventAttach(ac, base);
	n = redis_conn_steps(&rc->url, 0, rc->steps);
	for (i = 0; i < n; i++) {
		if ((len = redis_conn_format(rc->steps[i], &rc->url,
		    &cmd)) < 0)
			continue;
		hs = xcalloc(1, sizeof *hs);
		hs->step = rc->steps[i];
		hs->who = who;
		snprintf(hs->addr, sizeof hs->addr, "%s",
		    redis_conn_addr(rc));
		if (redisAsyncFormattedCommand(ac, redis_conn_on_setup, hs,
		    cmd, (size_t)len) != REDIS_OK)
			free(hs);
		free(cmd);
	}
	return ac;
}
