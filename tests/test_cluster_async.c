/* sse-fcgi - MIT License
 *
 * Unit tests for cluster_async, on an event loop against a fake node in a
 * child process on 127.0.0.1 (tests/cluster_fake.h) that claims every
 * slot and answers from a script: TRYAGAIN, MOVED and ASK followed to an
 * answer (ASKING sent once, the map fetched again after TRYAGAIN and
 * after MOVED), the URL's user and password sent, a redirection for
 * another slot, a garbage CLUSTER SHARDS, a slot without a master until
 * the deadline, a connection closed after the command was sent, a seed
 * that refuses the connection, a slot out of range. Every callback runs
 * once, never inside cluster_async_command(); cluster_async_free() fails
 * the commands still out. Map fetches CLUSTER_ASYNC_MIN_GAP_MS apart at
 * least, a request after the gap fetched at once. URLs it refuses.
 */
#include "config.h"

#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "cluster_async.h"
#include "redis_url.h"
#include "testlib.h"
#include "cluster_fake.h"

/* What became of one command. */
struct run {
	int	returned;	/* cluster_async_command() came back */
	int	calls;
	int	early;		/* a call before that */
	int	type;		/* of the reply; 0 for none */
	char	str[128];	/* the reply's text */
	char	err[2048];
	unsigned long maps;
};

static void
run_done(void *arg, const redisReply *r, const char *err)
{
	struct run	*rn = arg;

	rn->calls++;
	if (!rn->returned)
		rn->early = 1;
	if (r != NULL) {
		rn->type = r->type;
		snprintf(rn->str, sizeof rn->str, "%s", r->str != NULL ?
		    r->str : "");
	} else
		snprintf(rn->err, sizeof rn->err, "%s", err != NULL ? err :
		    "(no reason)");
}

static void
run_map(void *arg, const struct cluster_map *m)
{
	struct run	*rn = arg;

	if (m != NULL && m->nshards == 1 && m->unowned < CLUSTER_SLOTS)
		rn->maps++;
}

/* Sends "SET k v" for SLOT to the cluster at URL within TIMEOUT_MS and
 * runs the loop until it is answered. */
static void
run_url(const char *url, unsigned slot, unsigned timeout_ms, struct run *rn)
{
	static const char	*argv[] = { "SET", "k", "v" };
	static const size_t	 argl[] = { 3, 1, 1 };
	struct event_base	*base = event_base_new();
	struct cluster_async	*ca;

	memset(rn, 0, sizeof *rn);
	if ((ca = cluster_async_create(base, url, rn->err,
	    sizeof rn->err)) == NULL) {
		rn->calls = -1;
		event_base_free(base);
		return;
	}
	cluster_async_on_map(ca, run_map, rn);
	cluster_async_start(ca);
	cluster_async_command(ca, slot, 3, argv, argl, timeout_ms, run_done,
	    rn);
	rn->returned = 1;
	while (rn->calls == 0 && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	cluster_async_free(ca);
	event_base_free(base);
}

/* run_url() against a fake node in MODE, with CREDS ("user:pw@" or "")
 * in the URL. */
static void
fake_run_as(const char *creds, enum fake_mode mode, unsigned slot,
    unsigned timeout_ms, struct run *rn)
{
	char	url[128];
	pid_t	pid;
	int	port;

	if ((port = fake_start(mode, slot, &pid)) < 0) {
		memset(rn, 0, sizeof *rn);
		snprintf(rn->err, sizeof rn->err, "cannot start the fake");
		return;
	}
	snprintf(url, sizeof url, "redis+cluster://%s127.0.0.1:%d", creds,
	    port);
	run_url(url, slot, timeout_ms, rn);
	fake_stop(pid);
}

/* Exactly one call, after cluster_async_command() returned. */
static int
run_once(const struct run *rn)
{
	return rn->calls == 1 && !rn->early;
}

static void
test_create(void)
{
	struct event_base	*base = event_base_new();
	struct cluster_async	*ca;
	char			 err[256];

	test_cond("a plain URL refused", cluster_async_create(base,
	    "redis://127.0.0.1:6379", err, sizeof err) == NULL &&
	    strstr(err, "not a redis+cluster:// URL") != NULL);
	test_cond("a database refused", cluster_async_create(base,
	    "redis+cluster://127.0.0.1:7000/1", err, sizeof err) == NULL &&
	    strstr(err, "database 0 only") != NULL);
	ca = cluster_async_create(base, "redis+cluster://u:secret@127.0.0.1:"
	    "7000,127.0.0.1:7001", err, sizeof err);
	test_cond("seeds taken", ca != NULL);
	test_cond("described without the password", ca != NULL &&
	    strstr(cluster_async_describe(ca), "secret") == NULL &&
	    strstr(cluster_async_describe(ca), "127.0.0.1:7001") != NULL);
	test_cond("the URL as parsed", ca != NULL &&
	    cluster_async_url(ca)->nseeds == 2 &&
	    strcmp(cluster_async_url(ca)->password, "secret") == 0);
	test_cond("no map before the first fetch", ca != NULL &&
	    cluster_async_map(ca) == NULL && cluster_async_maps(ca) == 0);
	cluster_async_free(ca);
	cluster_async_free(NULL);
	event_base_free(base);
}

static void
test_loop(void)
{
	struct run		 rn;
	struct timespec		 t0, t1;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	char			 url[128];
	long			 ms;
	int			 lfd;

	fake_run_as("", FAKE_FOLLOW, 1234, 5000, &rn);
	test_cond("TRYAGAIN, MOVED, ASK followed to the answer",
	    rn.type == REDIS_REPLY_STATUS && strncmp(rn.str, "DONE", 4) == 0);
	if (rn.type == 0)
		fprintf(stderr, "follow: %s\n", rn.err);
	/* The first map, one after TRYAGAIN, one after MOVED: the last
	 * two are one when both come within the gap after the first. */
	test_cond("ASKING before the command, the map fetched again",
	    strcmp(rn.str, "DONE asking=1 shards=2") == 0 ||
	    strcmp(rn.str, "DONE asking=1 shards=3") == 0);
	test_cond("each map announced", rn.maps == (unsigned long)atoi(
	    rn.str + sizeof "DONE asking=1 shards=" - 1));
	test_cond("called once, from the loop", run_once(&rn));

	fake_run_as("u:pw@", FAKE_FOLLOW, 99, 5000, &rn);
	test_cond("the URL's user and password: AUTH at the node",
	    rn.type == REDIS_REPLY_STATUS && run_once(&rn));

	fake_run_as("", FAKE_OTHER_SLOT, 16383, 5000, &rn);
	test_cond("a MOVED for another slot: an error", rn.type == 0 &&
	    strstr(rn.err, "a redirection for slot 0, not 16383") != NULL &&
	    run_once(&rn));

	fake_run_as("", FAKE_GARBAGE, 5, 5000, &rn);
	test_cond("a garbage CLUSTER SHARDS: an error naming the seed",
	    rn.type == 0 && strstr(rn.err, "no seed of redis+cluster://"
	    "127.0.0.1:") != NULL && strstr(rn.err, "unexpected reply") !=
	    NULL && run_once(&rn));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fake_run_as("", FAKE_PART, 5000, 400, &rn);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	test_cond("a slot without a master: waited for, until the deadline",
	    rn.type == 0 && strstr(rn.err, "slot 5000 has no master") !=
	    NULL && strstr(rn.err, "still so after 400 ms") != NULL &&
	    ms >= 350 && ms < 3000 && run_once(&rn));
	fake_run_as("", FAKE_PART, 100, 400, &rn);
	test_cond("a slot it serves: answered", rn.type == REDIS_REPLY_STATUS);

	fake_run_as("", FAKE_CLOSE, 77, 5000, &rn);
	test_cond("a connection closed after the command: it fails, once",
	    rn.type == 0 && strstr(rn.err, "connection lost after the "
	    "command was sent") != NULL && run_once(&rn));

	/* A port bound but not listening: refused at once. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(lfd, (struct sockaddr *)&sin, sizeof sin);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d",
	    ntohs(sin.sin_port));
	run_url(url, 1, 5000, &rn);
	test_cond("a seed that refuses: an error naming it", rn.type == 0 &&
	    strstr(rn.err, "gave the cluster's shards") != NULL &&
	    strstr(rn.err, url + 16) != NULL && run_once(&rn));
	run_url(url, CLUSTER_SLOTS, 5000, &rn);
	test_cond("a slot out of range: an error, from the loop",
	    rn.type == 0 && strstr(rn.err, "out of range") != NULL &&
	    run_once(&rn));
	close(lfd);
}

/* A node that stops answering on a live connection: the command fails at
 * its deadline, and the connection goes with it, so the next command is
 * sent on a new one and answered (on the old one it would time out too,
 * and each would stay queued there). */
static void
test_silent(void)
{
	static const char	*argv[] = { "SET", "k", "v" };
	static const size_t	 argl[] = { 3, 1, 1 };
	struct event_base	*base = event_base_new();
	struct cluster_async	*ca;
	struct run		 r1, r2;
	char			 url[128];
	pid_t			 pid;
	int			 port;

	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	port = fake_start(FAKE_SILENT, 42, &pid);
	snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", port);
	ca = cluster_async_create(base, url, r1.err, sizeof r1.err);
	cluster_async_start(ca);
	cluster_async_command(ca, 42, 3, argv, argl, 300, run_done, &r1);
	r1.returned = 1;
	while (r1.calls == 0 && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	test_cond("silent node: the command fails at its deadline",
	    r1.type == 0 && strstr(r1.err, "no reply in 300 ms") != NULL &&
	    run_once(&r1));
	cluster_async_command(ca, 42, 3, argv, argl, 5000, run_done, &r2);
	r2.returned = 1;
	while (r2.calls == 0 && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	test_cond("silent node: the next goes on a new connection, answered",
	    r2.type == REDIS_REPLY_STATUS && strcmp(r2.str, "DONE") == 0 &&
	    run_once(&r2));
	if (r2.type == 0)
		fprintf(stderr, "silent: %s\n", r2.err);
	cluster_async_free(ca);
	event_base_free(base);
	fake_stop(pid);
}

/* Runs BASE's loop for MS milliseconds. */
static void
spin(struct event_base *base, long ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Map fetches are CLUSTER_ASYNC_MIN_GAP_MS apart at least: a burst of
 * refresh requests makes one or two, not one each; a request after the
 * gap makes one at once. */
static void
test_gap(void)
{
	static const char	*argv[] = { "SET", "k", "v" };
	static const size_t	 argl[] = { 3, 1, 1 };
	struct event_base	*base = event_base_new();
	struct cluster_async	*ca;
	struct run		 rn;
	struct timespec		 t0, t1;
	unsigned long		 maps, allowed;
	long			 ms;
	char			 url[128], want[64];
	pid_t			 pid;
	int			 port, i, tries;

	memset(&rn, 0, sizeof rn);
	port = fake_start(FAKE_COUNT, 7, &pid);
	snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", port);
	ca = cluster_async_create(base, url, rn.err, sizeof rn.err);
	test_cond("gap: created", ca != NULL);
	if (ca == NULL) {
		fake_stop(pid);
		event_base_free(base);
		return;
	}
	cluster_async_start(ca);
	for (tries = 0; cluster_async_maps(ca) == 0 && tries < 5000; tries++)
		spin(base, 1);
	test_cond("gap: the first map at once", cluster_async_maps(ca) == 1);

	/* 50 requests about 1 ms apart, the first just after that map. On
	 * a machine so busy that they take longer, one fetch more for each
	 * gap they span. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 50; i++) {
		cluster_async_refresh(ca);
		spin(base, 1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	allowed = 2 + (unsigned long)ms / CLUSTER_ASYNC_MIN_GAP_MS;
	for (tries = 0; cluster_async_maps(ca) < 2 && tries < 5000; tries++)
		spin(base, 1);
	/* Whatever else they would make, made by now. */
	spin(base, 3 * CLUSTER_ASYNC_MIN_GAP_MS);
	maps = cluster_async_maps(ca);
	test_cond("gap: 50 requests in about 50 ms, at most 2 fetches",
	    maps >= 2 && maps - 1 <= allowed);
	if (maps < 2 || maps - 1 > allowed)
		fprintf(stderr, "gap: %lu fetches for 50 requests in %ld ms\n",
		    maps - 1, ms);

	/* The gap is over: the fetch goes before a command sent after it on
	 * the same connection, so the node has answered it when it answers
	 * the command. */
	cluster_async_refresh(ca);
	cluster_async_command(ca, 7, 3, argv, argl, 5000, run_done, &rn);
	rn.returned = 1;
	while (rn.calls == 0 && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	snprintf(want, sizeof want, "DONE shards=%lu", maps + 1);
	test_cond("gap: a request after the gap, fetched at once",
	    rn.type == REDIS_REPLY_STATUS && strcmp(rn.str, want) == 0 &&
	    run_once(&rn));
	if (strcmp(rn.str, want) != 0)
		fprintf(stderr, "gap: %s, not %s (%s)\n", rn.str, want,
		    rn.err);
	while (cluster_async_maps(ca) < maps + 1 && event_base_loop(base,
	    EVLOOP_ONCE) == 0)
		;
	test_cond("gap: and its map announced", cluster_async_maps(ca) ==
	    maps + 1);
	cluster_async_free(ca);
	event_base_free(base);
	fake_stop(pid);
}

/* Freed with a command out: its callback runs then, once. */
static void
test_free_pending(void)
{
	static const char	*argv[] = { "GET", "k" };
	static const size_t	 argl[] = { 3, 1 };
	struct event_base	*base = event_base_new();
	struct cluster_async	*ca;
	struct run		 rn;
	char			 url[128];
	pid_t			 pid;
	int			 port;

	memset(&rn, 0, sizeof rn);
	port = fake_start(FAKE_FOLLOW, 3, &pid);
	snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", port);
	ca = cluster_async_create(base, url, rn.err, sizeof rn.err);
	test_cond("created", ca != NULL);
	if (ca == NULL)
		return;
	cluster_async_command(ca, 3, 2, argv, argl, 5000, run_done, &rn);
	rn.returned = 1;
	/* Out on the node: the map came and the command went. */
	while (cluster_async_maps(ca) == 0 && event_base_loop(base,
	    EVLOOP_ONCE) == 0)
		;
	test_cond("not answered yet", rn.calls == 0);
	cluster_async_free(ca);
	test_cond("freed: failed as closed, once", rn.calls == 1 &&
	    rn.type == 0 && strstr(rn.err, "closed") != NULL);
	event_base_free(base);
	fake_stop(pid);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_create();
	test_loop();
	test_gap();
	test_free_pending();
	test_silent();
	return test_report("test_cluster_async");
}
