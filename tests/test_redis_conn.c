/* sse-fcgi - MIT License
 *
 * The way to Redis, without a Redis: a sentinel's answer read by
 * sentinel_parse (good, error, nil, wrong types and shapes, bad ports and
 * hosts); the handshake's steps, commands and reply checks (an ACL AUTH
 * error, ROLE of a replica); and, on an event loop against in-process
 * fake servers, a sentinel query and redis_conn_open: sentinels that take
 * the connection and never answer each cost the timeout while the loop
 * keeps running, a garbage answer is skipped with its reason, a host name
 * is resolved, and a master that refuses AUTH or is a replica is refused.
 * A redis+cluster:// URL is refused, with its one-line reason: the
 * worker's clients talk to one node (the publisher takes a cluster through
 * cluster_sync).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "redis_conn.h"
#include "redis_url.h"
#include "sentinel.h"
#include "testlib.h"

/* Parses the LEN bytes of RESP at S into a reply (caller frees), or NULL. */
static redisReply *
reply_of_len(const char *s, size_t len)
{
	redisReader	*rd = redisReaderCreate();
	void		*r = NULL;

	redisReaderFeed(rd, s, len);
	if (redisReaderGetReply(rd, &r) != REDIS_OK)
		r = NULL;
	redisReaderFree(rd);
	return r;
}

static redisReply *
reply_of(const char *s)
{
	return reply_of_len(s, strlen(s));
}

static const struct {
	const char	*resp;
	int		 rc;
	const char	*host;	/* or a piece of the reason */
	int		 port;
} parse_cases[] = {
	{ "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6380\r\n", 0, "127.0.0.1", 6380 },
	{ "*2\r\n$3\r\n::1\r\n$1\r\n1\r\n", 0, "::1", 1 },
	{ "*2\r\n$11\r\nredis-0.svc\r\n$5\r\n65535\r\n", 0, "redis-0.svc",
	  65535 },
	{ "-ERR unknown command\r\n", -1, "ERR unknown command", 0 },
	{ "-\r\n", -1, "an empty error reply", 0 },
	{ "*-1\r\n", -1, "does not know master \"mymaster\"", 0 },
	{ "$-1\r\n", -1, "does not know master", 0 },
	{ "*2\r\n:1\r\n:2\r\n", -1, "unexpected reply", 0 },
	{ "*1\r\n$9\r\n127.0.0.1\r\n", -1, "unexpected reply", 0 },
	{ "*3\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\n2\r\n", -1, "unexpected reply",
	  0 },
	{ "+OK\r\n", -1, "unexpected reply", 0 },
	{ ":6379\r\n", -1, "unexpected reply", 0 },
	{ "*2\r\n$9\r\n127.0.0.1\r\n:6379\r\n", -1, "unexpected reply", 0 },
	{ "*2\r\n$9\r\n127.0.0.1\r\n$5\r\n99999\r\n", -1, "bad port", 0 },
	{ "*2\r\n$9\r\n127.0.0.1\r\n$1\r\n0\r\n", -1, "bad port", 0 },
	{ "*2\r\n$9\r\n127.0.0.1\r\n$3\r\n-80\r\n", -1, "bad port", 0 },
	{ "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n80 x\r\n", -1, "bad port", 0 },
	{ "*2\r\n$9\r\n127.0.0.1\r\n$0\r\n\r\n", -1, "bad port", 0 },
	{ "*2\r\n$0\r\n\r\n$4\r\n6379\r\n", -1, "bad address", 0 },
};
static const char nul_host[] = "*2\r\n$3\r\na\0b\r\n$4\r\n6379\r\n";

static void
test_parse(void)
{
	char		 host[SENTINEL_HOST_MAX], why[256], big[400], resp[600];
	redisReply	*r;
	size_t		 i;
	int		 port, rc, ok = 1;

	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		if ((r = reply_of(parse_cases[i].resp)) == NULL) {
			fprintf(stderr, "case %zu: no reply\n", i);
			ok = 0;
			continue;
		}
		port = 0;
		why[0] = '\0';
		rc = sentinel_parse(r, "mymaster", host, &port, why,
		    sizeof why);
		if (rc != parse_cases[i].rc || (rc == 0 &&
		    (strcmp(host, parse_cases[i].host) != 0 ||
		    port != parse_cases[i].port)) || (rc == -1 &&
		    strstr(why, parse_cases[i].host) == NULL)) {
			fprintf(stderr, "case %zu: rc %d host %s port %d why "
			    "%s\n", i, rc, rc == 0 ? host : "-", port, why);
			ok = 0;
		}
		freeReplyObject(r);
	}
	test_cond("sentinel_parse table", ok);
	r = reply_of_len(nul_host, sizeof nul_host - 1);
	test_cond("a host holding NUL is refused", r != NULL &&
	    sentinel_parse(r, "m", host, &port, why, sizeof why) == -1 &&
	    strstr(why, "bad address") != NULL);
	freeReplyObject(r);
	memset(big, 'h', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(resp, sizeof resp, "*2\r\n$%zu\r\n%s\r\n$4\r\n6379\r\n",
	    strlen(big), big);
	r = reply_of(resp);
	test_cond("a host longer than any name is refused", r != NULL &&
	    sentinel_parse(r, "m", host, &port, why, sizeof why) == -1 &&
	    strstr(why, "bad address") != NULL);
	freeReplyObject(r);
}

static int
check_reply(enum redis_conn_step s, const char *resp, char *why,
    size_t whylen)
{
	redisReply	*r = reply_of(resp);
	int		 rc;

	why[0] = '\0';
	rc = redis_conn_check(s, r, "10.0.0.1:6379", why, whylen);
	freeReplyObject(r);
	return rc;
}

static void
test_handshake(void)
{
	struct redis_url	 u;
	enum redis_conn_step	 st[REDIS_CONN_STEPS_MAX];
	char			 err[256], why[256], *cmd;
	size_t			 n;
	int			 len;

	test_cond("parse ACL URL", redis_url_parse(
	    "redis+sentinel://app:pw@127.0.0.1:26379/mymaster/3", &u, err,
	    sizeof err) == 0);
	n = redis_conn_steps(&u, 1, st);
	test_cond("sentinel URL: AUTH SELECT ROLE PING", n == 4 &&
	    st[0] == REDIS_CONN_AUTH && st[1] == REDIS_CONN_SELECT &&
	    st[2] == REDIS_CONN_ROLE && st[3] == REDIS_CONN_PING);
	len = redis_conn_format(REDIS_CONN_AUTH, &u, &cmd);
	test_cond("AUTH user password", len > 0 && (size_t)len == strlen(
	    "*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$2\r\npw\r\n") && memcmp(cmd,
	    "*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$2\r\npw\r\n", (size_t)len) ==
	    0);
	free(cmd);
	len = redis_conn_format(REDIS_CONN_SELECT, &u, &cmd);
	test_cond("SELECT 3", len > 0 && memcmp(cmd,
	    "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n", (size_t)len) == 0);
	free(cmd);
	redis_url_clear(&u);

	test_cond("parse plain URL", redis_url_parse("redis://127.0.0.1:1",
	    &u, err, sizeof err) == 0);
	test_cond("plain URL, no ping: nothing", redis_conn_steps(&u, 0, st)
	    == 0);
	test_cond("plain URL: PING only", redis_conn_steps(&u, 1, st) == 1 &&
	    st[0] == REDIS_CONN_PING);
	redis_url_clear(&u);
	test_cond("password only", redis_url_parse("redis://:pw@h:1", &u,
	    err, sizeof err) == 0 && redis_conn_steps(&u, 0, st) == 1 &&
	    st[0] == REDIS_CONN_AUTH);
	len = redis_conn_format(REDIS_CONN_AUTH, &u, &cmd);
	test_cond("AUTH password", len > 0 && memcmp(cmd,
	    "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", (size_t)len) == 0);
	free(cmd);
	redis_url_clear(&u);

	test_cond("AUTH +OK", check_reply(REDIS_CONN_AUTH, "+OK\r\n", why,
	    sizeof why) == 0);
	test_cond("ACL AUTH error says so", check_reply(REDIS_CONN_AUTH,
	    "-WRONGPASS invalid username-password pair\r\n", why, sizeof why)
	    == -1 && strcmp(why, "AUTH: WRONGPASS invalid username-password "
	    "pair") == 0);
	test_cond("SELECT error", check_reply(REDIS_CONN_SELECT,
	    "-ERR DB index is out of range\r\n", why, sizeof why) == -1 &&
	    strstr(why, "SELECT: ERR DB index") == why);
	test_cond("ROLE master", check_reply(REDIS_CONN_ROLE,
	    "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n", why, sizeof why) == 0);
	test_cond("ROLE slave", check_reply(REDIS_CONN_ROLE,
	    "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:6379\r\n"
	    "$9\r\nconnected\r\n:1\r\n", why, sizeof why) == -1 &&
	    strcmp(why, "10.0.0.1:6379 is not the master (yet)") == 0);
	test_cond("ROLE not an array", check_reply(REDIS_CONN_ROLE,
	    "$6\r\nmaster\r\n", why, sizeof why) == -1);
	test_cond("ROLE empty", check_reply(REDIS_CONN_ROLE, "*0\r\n", why,
	    sizeof why) == -1);
	test_cond("ROLE of integers", check_reply(REDIS_CONN_ROLE,
	    "*1\r\n:1\r\n", why, sizeof why) == -1);
	test_cond("ROLE unknown (old Redis)", check_reply(REDIS_CONN_ROLE,
	    "-ERR unknown command 'ROLE'\r\n", why, sizeof why) == -1 &&
	    strstr(why, "ROLE: ERR") == why);
	test_cond("PING", check_reply(REDIS_CONN_PING, "+PONG\r\n", why,
	    sizeof why) == 0);
}

/* An in-process server: a listening socket on 127.0.0.1 that either never
 * accepts (the kernel still completes the handshake: connected, silent)
 * or accepts and answers the first bytes it reads with REPLY. */
struct fake {
	int			 lfd, port;
	const char		*reply;		/* NULL: silent */
	struct event		*lev;
	int			 cfd;
	struct event		*cev;
	unsigned		 asked;
};

static void
fake_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct fake	*f = arg;
	char		 buf[4096];
	ssize_t		 n;

	if ((n = read(fd, buf, sizeof buf)) <= 0) {
		event_del(f->cev);
		return;
	}
	f->asked++;
	if (write(fd, f->reply, strlen(f->reply)) < 0)
		event_del(f->cev);
}

static void
fake_on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct fake	*f = arg;
	int		 c;

	if ((c = accept(fd, NULL, NULL)) < 0)
		return;
	if (f->cev != NULL) {
		event_free(f->cev);
		close(f->cfd);
	}
	f->cfd = c;
	f->cev = event_new(event_get_base(f->lev), c, EV_READ|EV_PERSIST,
	    fake_on_read, f);
	event_add(f->cev, NULL);
}

static void
fake_start(struct fake *f, struct event_base *base, const char *reply)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;

	memset(f, 0, sizeof *f);
	f->reply = reply;
	f->cfd = -1;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(f->lfd, (struct sockaddr *)&sin, sizeof sin);
	listen(f->lfd, 8);
	getsockname(f->lfd, (struct sockaddr *)&sin, &len);
	f->port = ntohs(sin.sin_port);
	if (reply != NULL) {
		f->lev = event_new(base, f->lfd, EV_READ|EV_PERSIST,
		    fake_on_accept, f);
		event_add(f->lev, NULL);
	}
}

static void
fake_stop(struct fake *f)
{
	if (f->cev != NULL) {
		event_free(f->cev);
		close(f->cfd);
	}
	if (f->lev != NULL)
		event_free(f->lev);
	close(f->lfd);
}

/* What the loop saw while a query or an open ran. */
struct run {
	int		 done;
	unsigned	 ticks;		/* 10 ms timer, while not done */
	char		 ip[64];
	int		 port;
	char		 err[REDIS_CONN_ERR_MAX];
	redisContext	*c;
};

static void
run_tick(evutil_socket_t fd, short what, void *arg)
{
	struct run	*r = arg;

	if (!r->done)
		r->ticks++;
}

static void
on_located(void *arg, const char *ip, int port, const char *err)
{
	struct run	*r = arg;

	r->done = 1;
	snprintf(r->ip, sizeof r->ip, "%s", ip != NULL ? ip : "");
	r->port = port;
	snprintf(r->err, sizeof r->err, "%s", err != NULL ? err : "");
}

static void
on_open(void *arg, redisContext *c, const char *err)
{
	struct run	*r = arg;

	r->done = 1;
	r->c = c;
	snprintf(r->err, sizeof r->err, "%s", err != NULL ? err : "");
}

static void
run_loop(struct event_base *base, struct run *r)
{
	struct timeval	 tv = { 0, 10000 };
	struct event	*tick;

	tick = event_new(base, -1, EV_PERSIST, run_tick, r);
	event_add(tick, &tv);
	while (!r->done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	event_free(tick);
}

static void
url_for(struct redis_url *u, const char *s)
{
	char	ip[REDIS_URL_IP_MAX], err[256];

	if (redis_url_prepare(s, u, ip, sizeof ip, err, sizeof err) == -1)
		fprintf(stderr, "url %s: %s\n", s, err);
}

static void
test_query(struct event_base *base)
{
	struct fake		 f[3];
	struct redis_url	 u;
	struct run		 r;
	struct sentinel_query	*q;
	char			 url[256];
	int			 i;

	/* Three silent sentinels: three timeouts, the loop never stops. */
	for (i = 0; i < 3; i++)
		fake_start(&f[i], base, NULL);
	snprintf(url, sizeof url, "redis+sentinel://127.0.0.1:%d,127.0.0.1:"
	    "%d,127.0.0.1:%d/mymaster", f[0].port, f[1].port, f[2].port);
	url_for(&u, url);
	memset(&r, 0, sizeof r);
	q = sentinel_query_start(base, &u, on_located, &r);
	test_cond("the query starts without answering", q != NULL &&
	    !r.done);
	run_loop(base, &r);
	test_cond("silent sentinels: no master", r.done && r.ip[0] == '\0');
	test_cond("silent sentinels: each timed out, in order", strstr(r.err,
	    "timed out waiting for a reply; sentinel") != NULL &&
	    strstr(r.err, "(no sentinel knows the master)") != NULL);
	/* 3 x 300 ms of waiting: a blocking query would let 0 or 1 tick
	 * through, a loaded machine still dozens. */
	printf("# silent sentinels: %u ticks of 10 ms while asked\n",
	    r.ticks);
	test_cond("the loop ran while they were asked", r.ticks >= 10);
	redis_url_clear(&u);
	for (i = 0; i < 3; i++)
		fake_stop(&f[i]);

	/* Garbage, then an error, then a name: skipped, skipped, resolved. */
	fake_start(&f[0], base, "?garbage\r\n");
	fake_start(&f[1], base, "-ERR no such master\r\n");
	fake_start(&f[2], base, "*2\r\n$9\r\nlocalhost\r\n$4\r\n6390\r\n");
	snprintf(url, sizeof url, "redis+sentinel://127.0.0.1:%d,127.0.0.1:"
	    "%d,127.0.0.1:%d/mymaster", f[0].port, f[1].port, f[2].port);
	url_for(&u, url);
	memset(&r, 0, sizeof r);
	sentinel_query_start(base, &u, on_located, &r);
	run_loop(base, &r);
	test_cond("garbage and error skipped, a name resolved", r.done &&
	    (strcmp(r.ip, "127.0.0.1") == 0 || strcmp(r.ip, "::1") == 0) &&
	    r.port == 6390);
	test_cond("each sentinel asked once", f[0].asked == 1 &&
	    f[1].asked == 1 && f[2].asked == 1);
	redis_url_clear(&u);
	for (i = 0; i < 3; i++)
		fake_stop(&f[i]);

	/* Cancelled: no callback, nothing leaks (ASan). */
	fake_start(&f[0], base, NULL);
	snprintf(url, sizeof url, "redis+sentinel://127.0.0.1:%d/m",
	    f[0].port);
	url_for(&u, url);
	memset(&r, 0, sizeof r);
	q = sentinel_query_start(base, &u, on_located, &r);
	event_base_loop(base, EVLOOP_NONBLOCK);
	sentinel_query_cancel(q);
	event_base_loop(base, EVLOOP_NONBLOCK);
	test_cond("cancelled: no answer", !r.done);
	redis_url_clear(&u);
	fake_stop(&f[0]);
}

/* Opens, through a fake sentinel S naming a fake master M that answers
 * the handshake with HELLO, a redis_conn (caller frees) into *R. */
static struct redis_conn *
open_via_sentinel(struct event_base *base, const char *hello, struct fake *m,
    struct fake *s, struct run *r)
{
	static char		 reply[128];
	struct redis_conn	*rc;
	char			 url[256], err[256];

	fake_start(m, base, hello);
	snprintf(reply, sizeof reply, "*2\r\n$9\r\n127.0.0.1\r\n$%d\r\n%d\r\n",
	    m->port >= 10000 ? 5 : 4, m->port);
	fake_start(s, base, reply);
	snprintf(url, sizeof url, "redis+sentinel://:pw@127.0.0.1:%d/mm",
	    s->port);
	rc = redis_conn_create(url, err, sizeof err);
	memset(r, 0, sizeof *r);
	if (rc != NULL)
		redis_conn_open(rc, base, 2000, on_open, r, err, sizeof err);
	run_loop(base, r);
	return rc;
}

static void
test_open(struct event_base *base)
{
	struct fake		 s, m;
	struct redis_conn	*rc;
	struct run		 r;
	char			 url[256], reply[128], err[256];

	/* A master that refuses the ACL user. */
	fake_start(&m, base, "-WRONGPASS invalid username-password pair\r\n"
	    "+PONG\r\n");
	snprintf(url, sizeof url, "redis://app:bad@127.0.0.1:%d", m.port);
	rc = redis_conn_create(url, err, sizeof err);
	memset(&r, 0, sizeof r);
	test_cond("open starts", rc != NULL && redis_conn_open(rc, base,
	    2000, on_open, &r, err, sizeof err) == 0);
	run_loop(base, &r);
	test_cond("ACL AUTH error refused with the reason", r.c == NULL &&
	    strcmp(r.err, "AUTH: WRONGPASS invalid username-password pair")
	    == 0);
	redis_conn_free(rc);
	fake_stop(&m);

	/* Through a sentinel to a replica: ROLE refuses it. */
	rc = open_via_sentinel(base, "+OK\r\n*1\r\n$5\r\nslave\r\n+PONG\r\n",
	    &m, &s, &r);
	snprintf(reply, sizeof reply, "127.0.0.1:%d is not the master (yet)",
	    m.port);
	test_cond("a replica named by the sentinel is refused", r.c == NULL &&
	    strcmp(r.err, reply) == 0);
	redis_conn_free(rc);
	fake_stop(&m);
	fake_stop(&s);

	/* The master: a connected context, and its address for the log. */
	rc = open_via_sentinel(base, "+OK\r\n*3\r\n$6\r\nmaster\r\n:0\r\n"
	    "*0\r\n+PONG\r\n", &m, &s, &r);
	snprintf(reply, sizeof reply, "127.0.0.1:%d", m.port);
	test_cond("the master: connected", r.c != NULL && r.err[0] == '\0' &&
	    strcmp(redis_conn_addr(rc), reply) == 0 &&
	    strcmp(redis_conn_master(rc), "mm") == 0);
	if (r.c != NULL)
		redisFree(r.c);
	redis_conn_free(rc);
	fake_stop(&m);
	fake_stop(&s);
}

/* Every user gets its way to Redis from redis_conn_create(): a cluster URL
 * must stop there with the same reason, whatever its form. */
static void
test_cluster_refused(void)
{
	static const char *urls[] = {
		"redis+cluster://127.0.0.1:7000",
		"redis+cluster://u:pw@127.0.0.1:7000,[::1]:7001/0",
	};
	struct redis_conn	*rc;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		err[0] = '\0';
		rc = redis_conn_create(urls[i], err, sizeof err);
		test_cond("cluster URL refused", rc == NULL &&
		    strcmp(err, REDIS_URL_CLUSTER_UNSUPPORTED) == 0);
		redis_conn_free(rc);
	}
	test_cond("the reason is one line, naming the scheme",
	    strchr(REDIS_URL_CLUSTER_UNSUPPORTED, '\n') == NULL &&
	    strstr(REDIS_URL_CLUSTER_UNSUPPORTED, "redis+cluster:// is not "
	    "supported by") != NULL);
	err[0] = '\0';
	test_cond("a bad cluster URL: its own reason first", redis_conn_create(
	    "redis+cluster://h1/2", err, sizeof err) == NULL &&
	    strstr(err, "database 0 only") != NULL);
	rc = redis_conn_create("redis://127.0.0.1:1", err, sizeof err);
	test_cond("a plain URL still taken", rc != NULL);
	redis_conn_free(rc);
}

/* A cluster node's way, made on the event loop: an address is taken as
 * it is, a name refused with the reason (its lookup would block). */
static void
test_cluster_node(void)
{
	struct redis_url	 u;
	struct redis_conn	*rc;
	char			 err[256];
	static const char	*names[] = { "localhost", "redis-1.internal",
	    "", "127.0.0.1.", "[::1]" };
	size_t			 i;

	memset(&u, 0, sizeof u);
	rc = redis_conn_create_node(&u, "127.0.0.1", 7000, err, sizeof err);
	test_cond("node: an IPv4 address taken", rc != NULL);
	redis_conn_free(rc);
	rc = redis_conn_create_node(&u, "::1", 7000, err, sizeof err);
	test_cond("node: an IPv6 address taken", rc != NULL);
	redis_conn_free(rc);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		err[0] = '\0';
		rc = redis_conn_create_node(&u, names[i], 7000, err,
		    sizeof err);
		test_cond(names[i], rc == NULL &&
		    strstr(err, "is not an address") != NULL &&
		    strstr(err, "cluster-preferred-endpoint-type") != NULL);
	}
}

int
main(void)
{
	struct event_base	*base;

	test_parse();
	test_handshake();
	test_cluster_refused();
	test_cluster_node();
	base = event_base_new();
	test_query(base);
	test_open(base);
	event_base_free(base);
	return test_report("test_redis_conn");
}
