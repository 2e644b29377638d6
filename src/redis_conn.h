/* sse-fcgi - MIT License
 *
 * How every part of the project reaches its Redis: the URL (redis_url.h),
 * where the master is (asked of the sentinels before each connection, for
 * redis+sentinel:// URLs), the connect and the handshake (AUTH with the
 * password and ACL user, SELECT for a database other than 0, ROLE must say
 * "master" when the address came from sentinels). Its users keep only
 * their own protocol:
 *   - the broker gets a connected non-blocking context (redis_conn_open),
 *     located, connected and greeted on the event loop without blocking it;
 *   - history and stats get a hiredis async context (redis_conn_async)
 *     with the handshake queued ahead of their commands;
 *   - the publisher (acceptor thread, sse-publish) gets a blocking context
 *     (redis_conn_open_sync): the same steps on an event loop of its own;
 *   - the cluster clients get one for each node they talk to, greeted
 *     the same way: blocking (cluster_sync.h, redis_conn_node_sync) or
 *     async (cluster_async.h, redis_conn_create_node).
 * One redis_conn per user and thread; the loop functions are for the
 * thread of the event_base they are given.
 */
#ifndef SSE_REDIS_CONN_H
#define SSE_REDIS_CONN_H

#include <stddef.h>

struct event_base;
struct redis_conn;
struct redis_url;
struct redisAsyncContext;
struct redisContext;
struct redisReply;

/* Room for a reason, every sentinel's included. */
#define REDIS_CONN_ERR_MAX	1100

/* The end of redis_conn_open(), exactly once: C connected and greeted
 * (the callee owns it: redisFree), or NULL and ERR (borrowed). */
typedef void (*redis_conn_fn)(void *arg, struct redisContext *c,
    const char *err);
/* The end of locating the master for redis_conn_async(): ERR is NULL when
 * it is known (call redis_conn_async() again), else why not. */
typedef void (*redis_conn_wake_fn)(void *arg, const char *err);

/* Returns a way to the Redis at URL, its names resolved now (blocking: at
 * start-up), not connected; or NULL with a reason in ERR. */
struct redis_conn *redis_conn_create(const char *url, char *err,
		    size_t errlen);
/* Drops anything pending (no callback runs) and frees. Contexts handed
 * out are the users' and stay open. NULL is ignored. */
void		 redis_conn_free(struct redis_conn *);
/* The URL without its password, for logs (valid until freed). */
const char	*redis_conn_describe(const struct redis_conn *);
/* The sentinel master name, or NULL for a direct URL. */
const char	*redis_conn_master(const struct redis_conn *);
/* "IP:PORT" of the last connection (for a master from the sentinels, the
 * address they gave), or the socket path (valid until the next call). */
const char	*redis_conn_addr(const struct redis_conn *);

/* Locates, connects and greets within TIMEOUT_MS (locating has its own
 * per-sentinel limit); FN runs later on BASE's loop. Returns 0, or -1
 * with a reason in ERR when it cannot even start (FN then never runs).
 * One at a time per redis_conn. */
int		 redis_conn_open(struct redis_conn *, struct event_base *base,
		    unsigned timeout_ms, redis_conn_fn fn, void *arg, char *err,
		    size_t errlen);
/* Drops what redis_conn_open() or redis_conn_async() has pending: no
 * callback runs. */
void		 redis_conn_cancel(struct redis_conn *);
/* Does what redis_conn_open() does, blocking the calling thread for at
 * most TIMEOUT_MS plus the sentinels' limits. Returns a blocking context
 * with TIMEOUT_MS for each call (caller frees: redisFree), or NULL with a
 * reason in ERR. Not on an event-loop thread. */
struct redisContext *redis_conn_open_sync(struct redis_conn *,
		    unsigned timeout_ms, char *err, size_t errlen);
/* Does what redis_conn_open_sync() does for the node at HOST:PORT (a name
 * or an address, as a Redis Cluster names its nodes) with the credentials
 * of U (AUTH; no SELECT or ROLE: a cluster node has database 0 only and
 * says itself whether it serves a slot). Returns a blocking context (caller
 * frees: redisFree), or NULL with a reason in ERR. */
struct redisContext *redis_conn_node_sync(const struct redis_url *u,
		    const char *host, int port, unsigned timeout_ms, char *err,
		    size_t errlen);

/* Returns a way to the cluster node at HOST:PORT with the credentials of
 * U, copied: AUTH only, as for redis_conn_node_sync(). HOST must be an
 * IPv4 or IPv6 address: its callers run on the event loop, which a name's
 * lookup would block (a cluster names its nodes by address unless
 * cluster-preferred-endpoint-type says otherwise; the seeds of a URL are
 * resolved at start-up). Free with redis_conn_free(); NULL with a reason
 * in ERR. */
struct redis_conn *redis_conn_create_node(const struct redis_url *u,
		    const char *host, int port, char *err, size_t errlen);

/* Returns a new async context attached to BASE with the handshake queued,
 * ready for commands (the caller owns it and sets its data and callbacks;
 * a failed handshake is logged as WHO's, a static string, and disconnects
 * it). Returns NULL with *PENDING set while the sentinels are asked (FN
 * then runs once on the loop when they have answered or failed), or NULL
 * with a reason in ERR. */
struct redisAsyncContext *redis_conn_async(struct redis_conn *,
		    struct event_base *base, const char *who,
		    redis_conn_wake_fn fn, void *arg, int *pending, char *err,
		    size_t errlen);

/* The handshake, exposed for tests. */
enum redis_conn_step {
	REDIS_CONN_AUTH = 0,
	REDIS_CONN_SELECT,
	REDIS_CONN_ROLE,
	REDIS_CONN_PING
};
#define REDIS_CONN_STEPS_MAX	4

/* Fills STEPS with what U needs, in order: AUTH with a password, SELECT
 * for a database other than 0, ROLE for a master named by sentinels, and
 * PING when WITH_PING. Returns how many. */
size_t		 redis_conn_steps(const struct redis_url *u, int with_ping,
		    enum redis_conn_step steps[REDIS_CONN_STEPS_MAX]);
/* Formats step S's command for U into *CMD (caller frees with free()).
 * Returns its length, or -1. */
int		 redis_conn_format(enum redis_conn_step s,
		    const struct redis_url *u, char **cmd);
/* Checks R, the reply to step S from ADDR (named in the reason). Returns
 * 0, or -1 with a reason in WHY. */
int		 redis_conn_check(enum redis_conn_step s,
		    const struct redisReply *r, const char *addr, char *why,
		    size_t whylen);

#endif
