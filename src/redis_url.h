/* sse-fcgi - MIT License
 *
 * Redis address parsing. Accepted forms:
 *   redis://[[user]:password@]host[:port][/db]    (port 6379, db 0 by default)
 *   unix:///path/to/redis.sock[?db=N&password=P]
 *   unix:/path/to/redis.sock                       (same, short form)
 *   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/master[/db]
 *        Redis Sentinel: the sentinels (port 26379 by default) are asked
 *        where the master named "master" is (see sentinel.h); user and
 *        password are the master's.
 *   redis+cluster://[[user]:password@]host[:port][,host[:port]...][/0]
 *        Redis Cluster: seed nodes (port 6379 by default) to learn the
 *        topology from; a cluster has database 0 only, so no other /db.
 *        The publisher takes it through cluster_sync.h, the worker through
 *        cluster_async.h; redis_conn_create(), the way of the single-node
 *        clients, refuses it (REDIS_URL_CLUSTER_UNSUPPORTED).
 * host may be a name, an IPv4 address or a bracketed IPv6 address.
 * Percent-escapes are decoded in user and password.
 */
#ifndef SSE_REDIS_URL_H
#define SSE_REDIS_URL_H

#include <stddef.h>

#define REDIS_URL_IP_MAX	46	/* INET6_ADDRSTRLEN */
#define REDIS_URL_SENTINELS_MAX	16
#define REDIS_URL_SEEDS_MAX	16

/* Why a single-node client refuses a redis+cluster:// URL (one line). */
#define REDIS_URL_CLUSTER_UNSUPPORTED \
	"redis+cluster:// is not supported by a connection to one node " \
	"(a cluster is reached through the cluster client)"

/* One sentinel of a redis+sentinel:// URL. */
struct redis_sentinel {
	char	*host;
	int	 port;
	char	 ip[REDIS_URL_IP_MAX];	/* set by redis_url_prepare() */
};

/* One seed node of a redis+cluster:// URL. */
struct redis_seed {
	char	*host;
	int	 port;
	char	 ip[REDIS_URL_IP_MAX];	/* set by redis_url_prepare() */
};

struct redis_url {
	char	*host;		/* NULL for unix sockets, sentinels, cluster */
	int	 port;		/* of host, or of the master last located */
	char	*path;		/* unix socket path, or NULL */
	char	*user;		/* ACL user, or NULL */
	char	*password;	/* or NULL */
	int	 db;
	char	*master;	/* sentinel master name, or NULL */
	struct redis_sentinel *sentinels;
	size_t	 nsentinels;
	int	 cluster;	/* redis+cluster:// */
	struct redis_seed *seeds;	/* of a cluster, nseeds >= 1 */
	size_t	 nseeds;
};

/* Parses S into *OUT (which it zeroes first; free with redis_url_clear()).
 * Returns 0, or -1 with a one-line reason in ERR and *OUT left empty. */
int	redis_url_parse(const char *s, struct redis_url *out, char *err,
	    size_t errlen);
/* Frees what *U holds and zeroes it. */
void	redis_url_clear(struct redis_url *u);

/* Resolves U's host once (at start-up, never on the event loop) into a
 * numeric address in IP. Returns 0, or -1 with a reason in ERR. */
int	redis_url_resolve(const struct redis_url *u, char *ip, size_t iplen,
	    char *err, size_t errlen);
/* Resolves HOST into a numeric address in IP (blocking). Returns 0, or -1
 * with a reason in ERR. */
int	redis_url_resolve_host(const char *host, char *ip, size_t iplen,
	    char *err, size_t errlen);
/* Parses S into *OUT and resolves its host into IP (or each sentinel's or
 * cluster seed's into its ip): what every Redis client of the project does
 * at start-up. Returns 0, or -1 with a reason in ERR and *OUT left empty. */
int	redis_url_prepare(const char *s, struct redis_url *out, char *ip,
	    size_t iplen, char *err, size_t errlen);
/* Writes a printable form without the password ("redis://host:port/db",
 * "redis+cluster://host:port,host:port") into BUF; returns BUF. */
char	*redis_url_describe(const struct redis_url *u, char *buf, size_t len);

#endif
