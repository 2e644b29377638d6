/* sse-fcgi - MIT License
 *
 * Redis address parsing (see redis_url.h). The parser is strict: it refuses
 * anything it does not fully understand (unknown schemes, options or
 * trailing bytes) rather than guess, so a typo fails at start-up with a
 * reason instead of connecting somewhere unexpected. Names are resolved
 * once, at start-up, by redis_url_resolve() (resolve.c: the C library's
 * resolver, or in the portable build /etc/hosts and DNS without NSS).
 * TLS ("rediss://") is not supported.
 *
 * A userinfo without ':' ("redis://secret@host") is a password, as in
 * redis-cli. The userinfo ends at the last '@', so a password may hold
 * '/', '?' or '@' unescaped; only '%' must be written "%25".
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "redis_url.h"
#include "resolve.h"
#include "xmalloc.h"

#define REDIS_URL_PORT		6379
#define REDIS_URL_SENTINEL_PORT	26379
#define REDIS_URL_DB_MAX	100000
#define REDIS_URL_PATH_MAX	(sizeof(((struct sockaddr_un *)0)->sun_path))

static int
redis_url_hex(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes %XX escapes in the N bytes at S into a new string in *OUT.
 * WHAT names the field for the error text. */
static int
redis_url_decode(const char *s, size_t n, const char *what, char **out,
    char *err, size_t errlen)
{
	char	*d;
	size_t	 i, j;
	int	 hi, lo;

	d = xmalloc(n + 1);
	for (i = j = 0; i < n; i++) {
		if (s[i] != '%') {
			d[j++] = s[i];
			continue;
		}
		hi = i + 1 < n ? redis_url_hex((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < n ? redis_url_hex((unsigned char)s[i + 2]) : -1;
		if (hi == -1 || lo == -1) {
			snprintf(err, errlen, "bad percent-escape in %s "
			    "(write %% as %%25)", what);
			goto fail;
		}
		if (hi == 0 && lo == 0) {
			snprintf(err, errlen, "%%00 is not allowed in %s",
			    what);
			goto fail;
		}
		d[j++] = (char)(hi << 4 | lo);
		i += 2;
	}
	d[j] = '\0';
	*out = d;
	return 0;
fail:
	free(d);
	return -1;
}

/* Parses the N bytes at S as a decimal number in MIN..MAX. */
static int
redis_url_number(const char *s, size_t n, long min, long max, long *out)
{
	long	v = 0;
	size_t	i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

static int
redis_url_db(const char *s, size_t n, struct redis_url *u, char *err,
    size_t errlen)
{
	long	v;

	if (redis_url_number(s, n, 0, REDIS_URL_DB_MAX, &v) == -1) {
		snprintf(err, errlen, "database \"%.*s\" is not a number in "
		    "0..%d", (int)n, s, REDIS_URL_DB_MAX);
		return -1;
	}
	u->db = (int)v;
	return 0;
}

/* Checks the N bytes at S form a host name or IPv4 address. */
static int
redis_url_hostname_ok(const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.' && s[i] != '_')
			return 0;
	return 1;
}

/* Checks the N bytes at S form an IPv6 address (without brackets). */
static int
redis_url_ipv6_ok(const char *s, size_t n)
{
	size_t	i;
	int	colons = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == ':')
			colons++;
		else if (!isxdigit((unsigned char)s[i]) && s[i] != '.')
			return 0;
	}
	return colons >= 2;
}

/* Reads "[[user]:password@]" at *S into U and moves *S past it. */
static int
redis_url_userinfo(const char **sp, struct redis_url *u, char *err,
    size_t errlen)
{
	const char	*s = *sp, *at, *colon, *p;

	if ((at = strrchr(s, '@')) != NULL) {
		colon = memchr(s, ':', at - s);
		if (colon != NULL && colon > s &&
		    redis_url_decode(s, colon - s, "user", &u->user, err,
		    errlen) == -1)
			return -1;
		p = colon != NULL ? colon + 1 : s;
		if (p == at) {
			snprintf(err, errlen, "empty password before '@'");
			return -1;
		}
		if (redis_url_decode(p, at - p, "password", &u->password,
		    err, errlen) == -1)
			return -1;
		*sp = at + 1;
	}
	return 0;
}

/* Reads "host[:port]" at *S (ending at one of STOP) into *HOSTP and
 * *PORTP, and moves *S past it. */
static int
redis_url_hostport(const char **sp, const char *stop, int defport,
    char **hostp, int *portp, char *err, size_t errlen)
{
	const char	*s = *sp, *host, *end, *p;
	size_t		 hlen;
	long		 port;

	if (*s == '[') {
		host = s + 1;
		if ((end = strchr(host, ']')) == NULL) {
			snprintf(err, errlen, "missing ']' after IPv6 address");
			return -1;
		}
		hlen = end - host;
		if (!redis_url_ipv6_ok(host, hlen)) {
			snprintf(err, errlen, "bad IPv6 address \"%.*s\"",
			    (int)hlen, host);
			return -1;
		}
		p = end + 1;
	} else {
		host = s;
		hlen = strcspn(s, stop);
		p = s + hlen;
		if (*p == ':' && memchr(p + 1, ':', strcspn(p + 1, stop + 1)) !=
		    NULL) {
			snprintf(err, errlen, "IPv6 address must be in "
			    "brackets: redis://[addr]:port");
			return -1;
		}
		if (hlen == 0) {
			snprintf(err, errlen, "empty host");
			return -1;
		}
		if (!redis_url_hostname_ok(host, hlen)) {
			snprintf(err, errlen, "bad host name \"%.*s\"",
			    (int)hlen, host);
			return -1;
		}
	}
	*hostp = xstrndup(host, hlen);

	*portp = defport;
	if (*p == ':') {
		p++;
		hlen = strcspn(p, stop + 1);	/* a ':' ends no port */
		if (redis_url_number(p, hlen, 1, 65535, &port) == -1) {
			snprintf(err, errlen, "port \"%.*s\" is not a number "
			    "in 1..65535", (int)hlen, p);
			return -1;
		}
		*portp = (int)port;
		p += hlen;
	}
	*sp = p;
	return 0;
}

/* Parses "[[user]:password@]host[:port][/db]", the part after "redis://". */
static int
redis_url_parse_tcp(const char *s, struct redis_url *u, char *err,
    size_t errlen)
{
	const char	*p = s;

	if (redis_url_userinfo(&p, u, err, errlen) == -1 ||
	    redis_url_hostport(&p, ":/?#", REDIS_URL_PORT, &u->host, &u->port,
	    err, errlen) == -1)
		return -1;
	if (*p == '/') {
		p++;
		if (*p != '\0')
			return redis_url_db(p, strlen(p), u, err, errlen);
	} else if (*p != '\0') {
		snprintf(err, errlen, "unexpected \"%s\" after host", p);
		return -1;
	}
	return 0;
}

/* Parses "[[user]:password@]host[:port][,host[:port]...]/master[/db]",
 * the part after "redis+sentinel://". */
static int
redis_url_parse_sentinel(const char *s, struct redis_url *u, char *err,
    size_t errlen)
{
	struct redis_sentinel	*sn;
	const char		*p = s;
	size_t			 n;

	if (redis_url_userinfo(&p, u, err, errlen) == -1)
		return -1;
	u->sentinels = xcalloc(REDIS_URL_SENTINELS_MAX, sizeof *u->sentinels);
	for (;;) {
		if (u->nsentinels == REDIS_URL_SENTINELS_MAX) {
			snprintf(err, errlen, "more than %d sentinels",
			    REDIS_URL_SENTINELS_MAX);
			return -1;
		}
		sn = &u->sentinels[u->nsentinels++];
		if (redis_url_hostport(&p, ":,/?#", REDIS_URL_SENTINEL_PORT,
		    &sn->host, &sn->port, err, errlen) == -1)
			return -1;
		if (*p != ',')
			break;
		p++;
	}
	if (*p != '/' || p[1] == '\0' || p[1] == '/') {
		snprintf(err, errlen, "missing master name: "
		    "redis+sentinel://host:port,.../master[/db]");
		return -1;
	}
	p++;
	n = strcspn(p, "/");
	if (n > 128 || !redis_url_hostname_ok(p, n)) {
		snprintf(err, errlen, "bad master name \"%.*s\"",
		    (int)(n > 64 ? 64 : n), p);
		return -1;
	}
	u->master = xstrndup(p, n);
	p += n;
	if (*p == '/' && p[1] != '\0')
		return redis_url_db(p + 1, strlen(p + 1), u, err, errlen);
	if (*p == '/' || *p == '\0')
		return 0;
	snprintf(err, errlen, "unexpected \"%s\" after master name", p);
	return -1;
}

/* Parses "[[user]:password@]host[:port][,host[:port]...][/0]", the part
 * after "redis+cluster://". */
static int
redis_url_parse_cluster(const char *s, struct redis_url *u, char *err,
    size_t errlen)
{
	struct redis_seed	*sd;
	const char		*p = s;

	u->cluster = 1;
	if (redis_url_userinfo(&p, u, err, errlen) == -1)
		return -1;
	if (*p == '\0' || *p == '/') {
		snprintf(err, errlen, "no seed node: "
		    "redis+cluster://host:port[,host:port...]");
		return -1;
	}
	u->seeds = xcalloc(REDIS_URL_SEEDS_MAX, sizeof *u->seeds);
	for (;;) {
		if (u->nseeds == REDIS_URL_SEEDS_MAX) {
			snprintf(err, errlen, "more than %d seed nodes",
			    REDIS_URL_SEEDS_MAX);
			return -1;
		}
		sd = &u->seeds[u->nseeds++];
		if (redis_url_hostport(&p, ":,/?#", REDIS_URL_PORT, &sd->host,
		    &sd->port, err, errlen) == -1)
			return -1;
		if (*p != ',')
			break;
		p++;
	}
	/* "/0" and "/" are harmless; any other database would be ignored by
	 * the cluster, so it is refused rather than silently dropped. */
	if (*p == '/' && (strcmp(p, "/") == 0 || strcmp(p, "/0") == 0))
		return 0;
	if (*p == '/') {
		snprintf(err, errlen, "database \"%.32s\": a Redis Cluster has "
		    "database 0 only", p + 1);
		return -1;
	}
	if (*p != '\0') {
		snprintf(err, errlen, "unexpected \"%s\" after host", p);
		return -1;
	}
	return 0;
}

/* Parses the "db=N&password=P" query of a unix URL. */
static int
redis_url_parse_query(const char *q, struct redis_url *u, char *err,
    size_t errlen)
{
	const char	*eq, *v;
	size_t		 n, klen, vlen;
	int		 seen_db = 0;

	while (*q != '\0') {
		n = strcspn(q, "&");
		eq = memchr(q, '=', n);
		if (eq == NULL || eq == q) {
			snprintf(err, errlen, "expected name=value in query, "
			    "not \"%.*s\"", (int)n, q);
			return -1;
		}
		klen = eq - q;
		v = eq + 1;
		vlen = n - (v - q);
		if (klen == 2 && strncmp(q, "db", 2) == 0) {
			if (seen_db++) {
				snprintf(err, errlen, "db given twice");
				return -1;
			}
			if (redis_url_db(v, vlen, u, err, errlen) == -1)
				return -1;
		} else if (klen == 8 && strncmp(q, "password", 8) == 0) {
			if (u->password != NULL) {
				snprintf(err, errlen, "password given twice");
				return -1;
			}
			if (vlen == 0) {
				snprintf(err, errlen, "empty password");
				return -1;
			}
			if (redis_url_decode(v, vlen, "password",
			    &u->password, err, errlen) == -1)
				return -1;
		} else if (klen == 4 && strncmp(q, "user", 4) == 0) {
			if (u->user != NULL) {
				snprintf(err, errlen, "user given twice");
				return -1;
			}
			if (vlen == 0) {
				snprintf(err, errlen, "empty user");
				return -1;
			}
			if (redis_url_decode(v, vlen, "user", &u->user, err,
			    errlen) == -1)
				return -1;
		} else {
			snprintf(err, errlen, "unknown parameter \"%.*s\" "
			    "(expected db, password or user)", (int)klen, q);
			return -1;
		}
		q += n;
		if (*q == '&') {
			q++;
			if (*q == '\0') {
				snprintf(err, errlen, "trailing '&' in query");
				return -1;
			}
		}
	}
	return 0;
}

/* Parses the part after "unix:": "//" + "/path" or "/path", then a query. */
static int
redis_url_parse_unix(const char *s, struct redis_url *u, char *err,
    size_t errlen)
{
	size_t	n;

	if (*s == '\0' || strcmp(s, "//") == 0) {
		snprintf(err, errlen, "empty socket path");
		return -1;
	}
	if (strncmp(s, "//", 2) == 0) {
		s += 2;
		if (*s != '/') {
			snprintf(err, errlen, "unix URL names a host; write "
			    "unix:///path/to/redis.sock");
			return -1;
		}
	} else if (*s != '/') {
		snprintf(err, errlen, "socket path must be absolute: "
		    "unix:/path/to/redis.sock");
		return -1;
	}
	n = strcspn(s, "?");
	if (n == 1) {
		snprintf(err, errlen, "empty socket path");
		return -1;
	}
	if (n >= REDIS_URL_PATH_MAX) {
		snprintf(err, errlen, "socket path longer than %zu bytes",
		    REDIS_URL_PATH_MAX - 1);
		return -1;
	}
	u->path = xstrndup(s, n);
	if (s[n] == '?') {
		if (s[n + 1] == '\0') {
			snprintf(err, errlen, "empty query after '?'");
			return -1;
		}
		return redis_url_parse_query(s + n + 1, u, err, errlen);
	}
	return 0;
}

/* Parses S into *OUT; on error *OUT is left zeroed (see redis_url.h). */
int
redis_url_parse(const char *s, struct redis_url *out, char *err,
    size_t errlen)
{
	char	 dummy[1];
	size_t	 n;
	int	 rc;

	memset(out, 0, sizeof *out);
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	if (s == NULL || *s == '\0') {
		snprintf(err, errlen, "empty Redis URL");
		return -1;
	}
	for (n = 0; s[n] != '\0'; n++) {
		if (iscntrl((unsigned char)s[n]) || s[n] == ' ') {
			snprintf(err, errlen, "Redis URL holds a space or "
			    "control character at offset %zu", n);
			return -1;
		}
	}
	if (strncasecmp(s, "redis://", 8) == 0)
		rc = redis_url_parse_tcp(s + 8, out, err, errlen);
	else if (strncasecmp(s, "redis+sentinel://", 17) == 0)
		rc = redis_url_parse_sentinel(s + 17, out, err, errlen);
	else if (strncasecmp(s, "redis+cluster://", 16) == 0)
		rc = redis_url_parse_cluster(s + 16, out, err, errlen);
	else if (strncasecmp(s, "unix:", 5) == 0)
		rc = redis_url_parse_unix(s + 5, out, err, errlen);
	else {
		n = strcspn(s, ":");
		if (s[n] == ':')
			snprintf(err, errlen, "unknown scheme \"%.*s\" "
			    "(expected redis://, redis+sentinel://, "
			    "redis+cluster:// or unix:)",
			    (int)n, s);
		else
			snprintf(err, errlen, "missing scheme (expected "
			    "redis://host:port or unix:/path)");
		rc = -1;
	}
	if (rc == -1)
		redis_url_clear(out);
	return rc;
}

/* Frees the strings *U holds and zeroes it; safe on a zeroed struct. */
void
redis_url_clear(struct redis_url *u)
{
	size_t	i;

	for (i = 0; i < u->nsentinels; i++)
		free(u->sentinels[i].host);
	free(u->sentinels);
	for (i = 0; i < u->nseeds; i++)
		free(u->seeds[i].host);
	free(u->seeds);
	free(u->master);
	free(u->host);
	free(u->path);
	free(u->user);
	free(u->password);
	memset(u, 0, sizeof *u);
}

/* Formats *U without user or password, in a form redis_url_parse takes. */
char *
redis_url_describe(const struct redis_url *u, char *buf, size_t len)
{
	size_t	i, n;

	if (len == 0)
		return buf;
	if (u->master != NULL) {
		n = (size_t)snprintf(buf, len, "redis+sentinel://");
		for (i = 0; i < u->nsentinels && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n,
			    strchr(u->sentinels[i].host, ':') != NULL ?
			    "%s[%s]:%d" : "%s%s:%d", i ? "," : "",
			    u->sentinels[i].host, u->sentinels[i].port);
		if (n < len)
			snprintf(buf + n, len - n, "/%s/%d", u->master, u->db);
	} else if (u->cluster) {
		n = (size_t)snprintf(buf, len, "redis+cluster://");
		for (i = 0; i < u->nseeds && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n,
			    strchr(u->seeds[i].host, ':') != NULL ?
			    "%s[%s]:%d" : "%s%s:%d", i ? "," : "",
			    u->seeds[i].host, u->seeds[i].port);
	} else if (u->path != NULL) {
		if (u->db != 0)
			snprintf(buf, len, "unix://%s?db=%d", u->path, u->db);
		else
			snprintf(buf, len, "unix://%s", u->path);
	} else if (u->host == NULL)
		snprintf(buf, len, "(no redis URL)");
	else if (strchr(u->host, ':') != NULL)
		snprintf(buf, len, "redis://[%s]:%d/%d", u->host, u->port,
		    u->db);
	else
		snprintf(buf, len, "redis://%s:%d/%d", u->host, u->port,
		    u->db);
	return buf;
}

/* Resolves HOST into IP: see resolve.h for how, in each build. */
int
redis_url_resolve_host(const char *host, char *ip, size_t iplen, char *err,
    size_t errlen)
{
	char	why[200];

	if (resolve_host(host, ip, iplen, why, sizeof why) == -1) {
		snprintf(err, errlen, "redis host \"%s\": %s", host, why);
		return -1;
	}
	return 0;
}

int
redis_url_resolve(const struct redis_url *u, char *ip, size_t iplen,
    char *err, size_t errlen)
{
	return redis_url_resolve_host(u->host, ip, iplen, err, errlen);
}

int
redis_url_prepare(const char *s, struct redis_url *out, char *ip,
    size_t iplen, char *err, size_t errlen)
{
	size_t	i;

	if (redis_url_parse(s, out, err, errlen) == -1)
		return -1;
	if (out->host != NULL &&
	    redis_url_resolve(out, ip, iplen, err, errlen) == -1)
		goto fail;
	for (i = 0; i < out->nsentinels; i++)
		if (redis_url_resolve_host(out->sentinels[i].host,
		    out->sentinels[i].ip, sizeof out->sentinels[i].ip, err,
		    errlen) == -1)
			goto fail;
	for (i = 0; i < out->nseeds; i++)
		if (redis_url_resolve_host(out->seeds[i].host,
		    out->seeds[i].ip, sizeof out->seeds[i].ip, err,
		    errlen) == -1)
			goto fail;
	return 0;
fail:
	redis_url_clear(out);
	return -1;
}
