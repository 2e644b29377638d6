/* sse-fcgi - MIT License
 *
 * Unit tests for redis_url: a table of accepted URLs with the fields they
 * must yield, a table of refused ones with a word the reason must hold, the
 * "left empty on error" promise, and a round trip through
 * redis_url_describe().
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "redis_url.h"
#include "testlib.h"

struct good_case {
	const char	*in;
	const char	*host;
	int		 port;
	const char	*path;
	const char	*user;
	const char	*password;
	int		 db;
};

static const struct good_case good[] = {
	{ "redis://127.0.0.1:6379", "127.0.0.1", 6379, NULL, NULL, NULL, 0 },
	{ "redis://localhost", "localhost", 6379, NULL, NULL, NULL, 0 },
	{ "redis://localhost/", "localhost", 6379, NULL, NULL, NULL, 0 },
	{ "redis://localhost/3", "localhost", 6379, NULL, NULL, NULL, 3 },
	{ "redis://localhost:1/0", "localhost", 1, NULL, NULL, NULL, 0 },
	{ "redis://h:65535/100000", "h", 65535, NULL, NULL, NULL, 100000 },
	{ "REDIS://Cache-1.example.org:7000/15", "Cache-1.example.org", 7000,
	    NULL, NULL, NULL, 15 },
	{ "redis://my_host:6380", "my_host", 6380, NULL, NULL, NULL, 0 },
	{ "redis://[::1]", "::1", 6379, NULL, NULL, NULL, 0 },
	{ "redis://[::1]:6380/2", "::1", 6380, NULL, NULL, NULL, 2 },
	{ "redis://[2001:db8::7]:1234", "2001:db8::7", 1234, NULL, NULL, NULL,
	    0 },
	{ "redis://[::ffff:10.0.0.1]/1", "::ffff:10.0.0.1", 6379, NULL, NULL,
	    NULL, 1 },
	{ "redis://:secret@h", "h", 6379, NULL, NULL, "secret", 0 },
	{ "redis://secret@h", "h", 6379, NULL, NULL, "secret", 0 },
	{ "redis://alice:secret@h:7/1", "h", 7, NULL, "alice", "secret", 1 },
	{ "redis://al%69ce:p%40ss%3a%2F@h", "h", 6379, NULL, "alice",
	    "p@ss:/", 0 },
	{ "redis://u:a@b@h", "h", 6379, NULL, "u", "a@b", 0 },
	{ "redis://u:a:b/c?d@[::1]:9/4", "::1", 9, NULL, "u", "a:b/c?d", 4 },
	{ "redis://u:%25@h", "h", 6379, NULL, "u", "%", 0 },
	{ "redis://h:007/007", "h", 7, NULL, NULL, NULL, 7 },
	{ "unix:///run/redis/redis.sock", NULL, 0, "/run/redis/redis.sock",
	    NULL, NULL, 0 },
	{ "unix:/run/redis.sock", NULL, 0, "/run/redis.sock", NULL, NULL, 0 },
	{ "UNIX:/r.sock", NULL, 0, "/r.sock", NULL, NULL, 0 },
	{ "unix:///r.sock?db=5", NULL, 0, "/r.sock", NULL, NULL, 5 },
	{ "unix:///r.sock?password=p%26w", NULL, 0, "/r.sock", NULL, "p&w",
	    0 },
	{ "unix:/r.sock?db=2&password=pw", NULL, 0, "/r.sock", NULL, "pw", 2 },
	{ "unix:/r.sock?password=pw&db=2&user=bob", NULL, 0, "/r.sock", "bob",
	    "pw", 2 },
};

struct bad_case {
	const char	*in;
	const char	*why;	/* substring of the error text */
};

static const struct bad_case bad[] = {
	{ "", "empty" },
	{ "localhost", "missing scheme" },
	{ "localhost:6379", "unknown scheme \"localhost\"" },
	{ "http://h", "unknown scheme \"http\"" },
	{ "rediss://h", "unknown scheme \"rediss\"" },
	{ "redis:/h", "unknown scheme" },
	{ "redis://", "empty host" },
	{ "redis://:6379", "empty host" },
	{ "redis:///0", "empty host" },
	{ "redis://:pw@", "empty host" },
	{ "redis://h:", "port \"\"" },
	{ "redis://h:0", "1..65535" },
	{ "redis://h:65536", "1..65535" },
	{ "redis://h:99999999999999999999", "1..65535" },
	{ "redis://h:-1", "port" },
	{ "redis://h:+1", "port" },
	{ "redis://h:63x79", "port \"63x79\"" },
	{ "redis://h:6379x", "port" },
	{ "redis://h/x", "database \"x\"" },
	{ "redis://h/-1", "database" },
	{ "redis://h/100001", "0..100000" },
	{ "redis://h/1/2", "database \"1/2\"" },
	{ "redis://h/1?x=y", "database" },
	{ "redis://h?db=1", "unexpected \"?db=1\"" },
	{ "redis://h#frag", "unexpected" },
	{ "redis://h x", "space" },
	{ "redis://h\tx", "control" },
	{ "redis://h\n", "control" },
	{ "redis://bad!host", "bad host name" },
	{ "redis://::1", "brackets" },
	{ "redis://::1:6379", "brackets" },
	{ "redis://[::1", "missing ']'" },
	{ "redis://[]:6379", "bad IPv6" },
	{ "redis://[host]:6379", "bad IPv6" },
	{ "redis://[::1]x", "unexpected \"x\"" },
	{ "redis://[::1]:", "port" },
	{ "redis://@h", "empty password" },
	{ "redis://u:@h", "empty password" },
	{ "redis://:@h", "empty password" },
	{ "redis://u:p%4@h", "percent-escape in password" },
	{ "redis://u:p%zz@h", "percent-escape in password" },
	{ "redis://u:p%@h", "percent-escape in password" },
	{ "redis://u%g1:p@h", "percent-escape in user" },
	{ "redis://u:p%00@h", "%00" },
	{ "unix:", "empty socket path" },
	{ "unix://", "empty socket path" },
	{ "unix:/", "empty socket path" },
	{ "unix:///", "empty socket path" },
	{ "unix:///?db=1", "empty socket path" },
	{ "unix://host/r.sock", "names a host" },
	{ "unix:r.sock", "absolute" },
	{ "unix:/r.sock?", "empty query" },
	{ "unix:/r.sock?db", "name=value" },
	{ "unix:/r.sock?=1", "name=value" },
	{ "unix:/r.sock?db=", "database \"\"" },
	{ "unix:/r.sock?db=x", "database \"x\"" },
	{ "unix:/r.sock?db=100001", "0..100000" },
	{ "unix:/r.sock?db=1&", "trailing '&'" },
	{ "unix:/r.sock?db=1&&db=2", "name=value" },
	{ "unix:/r.sock?db=1&db=2", "db given twice" },
	{ "unix:/r.sock?password=a&password=b", "password given twice" },
	{ "unix:/r.sock?user=a&user=b", "user given twice" },
	{ "unix:/r.sock?password=", "empty password" },
	{ "unix:/r.sock?user=", "empty user" },
	{ "unix:/r.sock?password=%zz", "percent-escape" },
	{ "unix:/r.sock?timeout=1", "unknown parameter \"timeout\"" },
	{ "unix:/r.sock?db=1&pass=x", "unknown parameter \"pass\"" },
};

static int
streq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
url_is_empty(const struct redis_url *u)
{
	return u->host == NULL && u->path == NULL && u->user == NULL &&
	    u->password == NULL && u->port == 0 && u->db == 0 &&
	    u->master == NULL && u->sentinels == NULL && u->nsentinels == 0 &&
	    u->cluster == 0 && u->seeds == NULL && u->nseeds == 0;
}

static void
test_good(void)
{
	struct redis_url	 u;
	char			 err[256];
	size_t			 i;
	int			 rc, ok;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		err[0] = '\0';
		rc = redis_url_parse(good[i].in, &u, err, sizeof err);
		ok = rc == 0 && streq_null(u.host, good[i].host) &&
		    u.port == good[i].port &&
		    streq_null(u.path, good[i].path) &&
		    streq_null(u.user, good[i].user) &&
		    streq_null(u.password, good[i].password) &&
		    u.db == good[i].db;
		if (!ok)
			fprintf(stderr, "good[%zu] \"%s\": rc %d err \"%s\"\n",
			    i, good[i].in, rc, err);
		test_cond(good[i].in, ok);
		redis_url_clear(&u);
		test_cond("clear zeroes", url_is_empty(&u));
	}
}

static void
test_bad(void)
{
	struct redis_url	 u;
	char			 err[256];
	size_t			 i;
	int			 rc, ok;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		memset(&u, 0xa5, sizeof u);	/* parse must zero it */
		rc = redis_url_parse(bad[i].in, &u, err, sizeof err);
		ok = rc == -1 && strstr(err, bad[i].why) != NULL &&
		    strchr(err, '\n') == NULL && url_is_empty(&u);
		if (!ok)
			fprintf(stderr, "bad[%zu] \"%s\": rc %d err \"%s\", "
			    "want \"%s\"\n", i, bad[i].in, rc, err,
			    bad[i].why);
		test_cond(bad[i].in, ok);
		redis_url_clear(&u);
	}
}

/* Errors after fields were filled must free them (ASan finds leaks) and
 * leave *out empty; no error buffer at all must also work. */
static void
test_error_paths(void)
{
	struct redis_url	 u;
	char			 err[8];

	test_cond("late error frees user/password/host",
	    redis_url_parse("redis://u:p@h:0", &u, NULL, 0) == -1 &&
	    url_is_empty(&u));
	test_cond("late error frees path/password",
	    redis_url_parse("unix:/s?password=x&db=z", &u, NULL, 0) == -1 &&
	    url_is_empty(&u));
	test_cond("NULL url refused",
	    redis_url_parse(NULL, &u, NULL, 0) == -1 && url_is_empty(&u));
	test_cond("short err buffer is truncated",
	    redis_url_parse("redis://h:0", &u, err, sizeof err) == -1 &&
	    strlen(err) == sizeof err - 1);
	test_cond("password never in error text",
	    redis_url_parse("redis://u:hunter2@h:0", &u, err, sizeof err) ==
	    -1 && strstr(err, "hunter2") == NULL);
	memset(&u, 0, sizeof u);
	redis_url_clear(&u);
	test_cond("clear on zeroed struct", url_is_empty(&u));
}

struct describe_case {
	const char	*in;
	const char	*out;
};

static const struct describe_case describe[] = {
	{ "redis://h", "redis://h:6379/0" },
	{ "redis://u:secret@h:7/3", "redis://h:7/3" },
	{ "redis://secret@[::1]:7/3", "redis://[::1]:7/3" },
	{ "unix:/r.sock", "unix:///r.sock" },
	{ "unix:///r.sock?db=4&password=secret", "unix:///r.sock?db=4" },
};

/* describe() hides secrets, and its output parses back to the same
 * address (host, port, path, db) and describes to itself. */
static void
test_describe(void)
{
	struct redis_url	 u, v;
	char			 buf[256], buf2[256], small[8];
	size_t			 i;

	for (i = 0; i < sizeof describe / sizeof describe[0]; i++) {
		test_cond("parse", redis_url_parse(describe[i].in, &u, NULL,
		    0) == 0);
		redis_url_describe(&u, buf, sizeof buf);
		test_cond(describe[i].out, strcmp(buf, describe[i].out) == 0);
		test_cond("no secret", strstr(buf, "secret") == NULL);
		test_cond("reparse", redis_url_parse(buf, &v, NULL, 0) == 0);
		test_cond("round trip", streq_null(u.host, v.host) &&
		    u.port == v.port && streq_null(u.path, v.path) &&
		    u.db == v.db && v.password == NULL && v.user == NULL);
		test_cond("idempotent", strcmp(redis_url_describe(&v, buf2,
		    sizeof buf2), buf) == 0);
		redis_url_clear(&u);
		redis_url_clear(&v);
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		test_cond("good parses", redis_url_parse(good[i].in, &u, NULL,
		    0) == 0);
		redis_url_describe(&u, buf, sizeof buf);
		test_cond(good[i].in, redis_url_parse(buf, &v, NULL, 0) == 0 &&
		    streq_null(u.host, v.host) && u.port == v.port &&
		    streq_null(u.path, v.path) && u.db == v.db);
		redis_url_clear(&u);
		redis_url_clear(&v);
	}

	redis_url_parse("redis://a-long-host-name:6379/0", &u, NULL, 0);
	test_cond("describe truncates", redis_url_describe(&u, small,
	    sizeof small) == small && strcmp(small, "redis:/") == 0);
	small[0] = 'x';
	test_cond("describe len 0", redis_url_describe(&u, small, 0) == small &&
	    small[0] == 'x');
	redis_url_clear(&u);
	test_cond("describe empty", strcmp(redis_url_describe(&u, buf,
	    sizeof buf), "(no redis URL)") == 0);
}

/* redis+sentinel://: the sentinel list, the master, db and credentials. */
static void
test_sentinel(void)
{
	static const struct {
		const char	*in, *why;
	} bad_sentinel[] = {
		{ "redis+sentinel://h1", "missing master name" },
		{ "redis+sentinel://h1/", "missing master name" },
		{ "redis+sentinel://h1//0", "missing master name" },
		{ "redis+sentinel://h1,/m", "empty host" },
		{ "redis+sentinel://,h1/m", "empty host" },
		{ "redis+sentinel://h1:x/m", "port" },
		{ "redis+sentinel://h1:0/m", "port" },
		{ "redis+sentinel://h1/m/x", "database" },
		{ "redis+sentinel://h1/m?x", "bad master name" },
		{ "redis+sentinel://h1/m%20x", "bad master name" },
		{ "redis+sentinel://@h1/m", "empty password" },
		{ "redis+sentinel://h1;h2/m", "bad host name" },
		{ "redis+sentinel://h1/m/1/2", "database" },
		{ "redis+sentinel://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q/m",
		    "more than 16" },
	};
	struct redis_url	 u, v;
	char			 err[256], buf[512];
	size_t			 i;

	test_cond("sentinel URL", redis_url_parse("redis+sentinel://u:"
	    "secret@10.0.0.1,s2:26380,[::1]:7/mymaster/3", &u, err,
	    sizeof err) == 0);
	test_cond("three sentinels", u.nsentinels == 3 &&
	    strcmp(u.sentinels[0].host, "10.0.0.1") == 0 &&
	    u.sentinels[0].port == 26379 &&
	    strcmp(u.sentinels[1].host, "s2") == 0 &&
	    u.sentinels[1].port == 26380 &&
	    strcmp(u.sentinels[2].host, "::1") == 0 &&
	    u.sentinels[2].port == 7);
	test_cond("master, db, credentials", streq_null(u.master, "mymaster") &&
	    u.db == 3 && streq_null(u.user, "u") &&
	    streq_null(u.password, "secret") && u.host == NULL &&
	    u.path == NULL);
	redis_url_describe(&u, buf, sizeof buf);
	test_cond("describe", strcmp(buf, "redis+sentinel://10.0.0.1:26379,"
	    "s2:26380,[::1]:7/mymaster/3") == 0);
	test_cond("describe reparses", redis_url_parse(buf, &v, NULL, 0) == 0 &&
	    v.nsentinels == 3 && streq_null(v.master, "mymaster") &&
	    v.db == 3 && v.password == NULL);
	redis_url_clear(&v);
	redis_url_clear(&u);
	test_cond("cleared", url_is_empty(&u));
	test_cond("one sentinel, no db", redis_url_parse(
	    "REDIS+SENTINEL://localhost/m-1.x_y", &u, NULL, 0) == 0 &&
	    u.nsentinels == 1 && u.db == 0 && streq_null(u.master, "m-1.x_y"));
	redis_url_clear(&u);
	test_cond("trailing slash", redis_url_parse(
	    "redis+sentinel://h/m/", &u, NULL, 0) == 0 && u.db == 0);
	redis_url_clear(&u);
	test_cond("prepare resolves sentinels", redis_url_prepare(
	    "redis+sentinel://localhost:1,127.0.0.1:2/m", &u, buf, 64, err,
	    sizeof err) == 0 && u.sentinels[0].ip[0] != '\0' &&
	    strcmp(u.sentinels[1].ip, "127.0.0.1") == 0);
	redis_url_clear(&u);
	test_cond("prepare: unknown sentinel host", redis_url_prepare(
	    "redis+sentinel://no-such-host.invalid/m", &u, buf, 64, err,
	    sizeof err) == -1 && url_is_empty(&u));
	for (i = 0; i < sizeof bad_sentinel / sizeof bad_sentinel[0]; i++) {
		err[0] = '\0';
		test_cond(bad_sentinel[i].in, redis_url_parse(
		    bad_sentinel[i].in, &u, err, sizeof err) == -1 &&
		    url_is_empty(&u) &&
		    strstr(err, bad_sentinel[i].why) != NULL);
		if (strstr(err, bad_sentinel[i].why) == NULL)
			fprintf(stderr, "  %s: %s\n", bad_sentinel[i].in, err);
	}
}

/* redis+cluster://: the seed list, credentials, database 0 only, and the
 * refusals (no seed, bad port, too many seeds, a database, bad IPv6 or
 * escapes). */
static void
test_cluster(void)
{
	static const struct {
		const char	*in, *why;
	} bad_cluster[] = {
		{ "redis+cluster://", "no seed node" },
		{ "redis+cluster:///", "no seed node" },
		{ "redis+cluster:///0", "no seed node" },
		{ "redis+cluster://u:pw@", "no seed node" },
		{ "redis+cluster://h1,", "empty host" },
		{ "redis+cluster://,h1", "empty host" },
		{ "redis+cluster://h1,,h2", "empty host" },
		{ "redis+cluster://h1:", "port \"\"" },
		{ "redis+cluster://h1:0", "1..65535" },
		{ "redis+cluster://h1:65536,h2", "1..65535" },
		{ "redis+cluster://h1,h2:x", "port \"x\"" },
		{ "redis+cluster://h1:70000/0", "1..65535" },
		{ "redis+cluster://h1/1", "database 0 only" },
		{ "redis+cluster://h1,h2:7000/15", "database \"15\": a Redis "
		    "Cluster has database 0 only" },
		{ "redis+cluster://h1/x", "database 0 only" },
		{ "redis+cluster://h1/0/", "database 0 only" },
		{ "redis+cluster://h1//", "database 0 only" },
		{ "redis+cluster://h1/mymaster", "database 0 only" },
		{ "redis+cluster://h1?db=0", "unexpected \"?db=0\"" },
		{ "redis+cluster://h1#x", "unexpected" },
		{ "redis+cluster://h1;h2", "bad host name" },
		{ "redis+cluster://h 1", "space" },
		{ "redis+cluster://::1", "brackets" },
		{ "redis+cluster://h1,::1:7000", "brackets" },
		{ "redis+cluster://[::1", "missing ']'" },
		{ "redis+cluster://[::1]x", "unexpected \"x\"" },
		{ "redis+cluster://[]:7000", "bad IPv6" },
		{ "redis+cluster://[h1]:7000", "bad IPv6" },
		{ "redis+cluster://[::1]:", "port" },
		{ "redis+cluster://@h1", "empty password" },
		{ "redis+cluster://u:@h1", "empty password" },
		{ "redis+cluster://u:p%zz@h1", "percent-escape in password" },
		{ "redis+cluster://u:p%4@h1", "percent-escape in password" },
		{ "redis+cluster://u%g1:p@h1", "percent-escape in user" },
		{ "redis+cluster://u:p%00@h1", "%00" },
		{ "redis+cluster://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q",
		    "more than 16 seed nodes" },
		{ "redis+clusters://h1", "unknown scheme \"redis+clusters\"" },
		{ "redis+cluster:/h1", "unknown scheme" },
	};
	struct redis_url	 u, v;
	char			 err[256], buf[512];
	size_t			 i;

	test_cond("cluster URL", redis_url_parse("redis+cluster://app:"
	    "s%40cret@10.0.0.1,n2:7001,[::1]:7002,[2001:db8::7]", &u, err,
	    sizeof err) == 0);
	test_cond("four seeds", u.cluster && u.nseeds == 4 &&
	    strcmp(u.seeds[0].host, "10.0.0.1") == 0 &&
	    u.seeds[0].port == 6379 &&
	    strcmp(u.seeds[1].host, "n2") == 0 && u.seeds[1].port == 7001 &&
	    strcmp(u.seeds[2].host, "::1") == 0 && u.seeds[2].port == 7002 &&
	    strcmp(u.seeds[3].host, "2001:db8::7") == 0 &&
	    u.seeds[3].port == 6379);
	test_cond("credentials decoded, db 0, nothing else",
	    streq_null(u.user, "app") && streq_null(u.password, "s@cret") &&
	    u.db == 0 && u.host == NULL && u.path == NULL &&
	    u.master == NULL && u.nsentinels == 0);
	redis_url_describe(&u, buf, sizeof buf);
	test_cond("describe", strcmp(buf, "redis+cluster://10.0.0.1:6379,"
	    "n2:7001,[::1]:7002,[2001:db8::7]:6379") == 0);
	test_cond("describe hides the password", strstr(buf, "cret") ==
	    NULL && strstr(buf, "app") == NULL);
	test_cond("describe reparses", redis_url_parse(buf, &v, NULL, 0) ==
	    0 && v.cluster && v.nseeds == 4 && v.seeds[2].port == 7002 &&
	    strcmp(v.seeds[3].host, "2001:db8::7") == 0 &&
	    v.password == NULL && v.user == NULL);
	redis_url_describe(&v, buf + 256, 256);
	test_cond("describe idempotent", strcmp(buf, buf + 256) == 0);
	redis_url_clear(&v);
	redis_url_clear(&u);
	test_cond("cleared", url_is_empty(&u));

	test_cond("one seed, default port", redis_url_parse(
	    "REDIS+CLUSTER://localhost", &u, NULL, 0) == 0 && u.cluster &&
	    u.nseeds == 1 && u.seeds[0].port == 6379 && u.db == 0);
	redis_url_clear(&u);
	test_cond("trailing slash", redis_url_parse("redis+cluster://h:1/",
	    &u, NULL, 0) == 0 && u.nseeds == 1 && u.db == 0);
	redis_url_clear(&u);
	test_cond("/0 is database 0", redis_url_parse("redis+cluster://h,i/0",
	    &u, NULL, 0) == 0 && u.nseeds == 2 && u.db == 0);
	redis_url_clear(&u);
	test_cond("password only", redis_url_parse("redis+cluster://pw@h:7",
	    &u, NULL, 0) == 0 && streq_null(u.password, "pw") &&
	    u.user == NULL);
	redis_url_clear(&u);
	test_cond("password with '@', ',' and '/'", redis_url_parse(
	    "redis+cluster://u:a@b,c/d@h1,h2", &u, NULL, 0) == 0 &&
	    streq_null(u.password, "a@b,c/d") && u.nseeds == 2);
	redis_url_clear(&u);
	test_cond("16 seeds", redis_url_parse("redis+cluster://a,b,c,d,e,f,g,"
	    "h,i,j,k,l,m,n,o:1,p:65535", &u, err, sizeof err) == 0 &&
	    u.nseeds == 16 && u.seeds[15].port == 65535 &&
	    strcmp(u.seeds[15].host, "p") == 0);
	redis_url_clear(&u);
	test_cond("prepare resolves every seed", redis_url_prepare(
	    "redis+cluster://localhost:1,127.0.0.1:2,[::1]:3", &u, buf, 64,
	    err, sizeof err) == 0 && u.seeds[0].ip[0] != '\0' &&
	    strcmp(u.seeds[1].ip, "127.0.0.1") == 0 &&
	    strcmp(u.seeds[2].ip, "::1") == 0);
	redis_url_clear(&u);
	test_cond("prepare: an unknown seed host", redis_url_prepare(
	    "redis+cluster://127.0.0.1,no-such-host.invalid", &u, buf, 64,
	    err, sizeof err) == -1 && url_is_empty(&u) &&
	    strstr(err, "no-such-host.invalid") != NULL);
	for (i = 0; i < sizeof bad_cluster / sizeof bad_cluster[0]; i++) {
		err[0] = '\0';
		memset(&u, 0xa5, sizeof u);
		test_cond(bad_cluster[i].in, redis_url_parse(
		    bad_cluster[i].in, &u, err, sizeof err) == -1 &&
		    url_is_empty(&u) && strchr(err, '\n') == NULL &&
		    strstr(err, bad_cluster[i].why) != NULL);
		if (strstr(err, bad_cluster[i].why) == NULL)
			fprintf(stderr, "  %s: %s\n", bad_cluster[i].in, err);
	}
	test_cond("password never in error text", redis_url_parse(
	    "redis+cluster://u:hunter2@h1/3", &u, err, sizeof err) == -1 &&
	    strstr(err, "hunter2") == NULL);
}

int
main(void)
{
	test_cluster();
	test_sentinel();
	test_good();
	test_bad();
	test_error_paths();
	test_describe();
	return test_report("test_redis_url");
}
