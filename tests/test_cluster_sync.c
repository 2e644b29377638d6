/* sse-fcgi - MIT License
 *
 * Unit tests for cluster_sync. Without a network: what each reply means
 * for a command (an answer, MOVED, ASK, a wait, a lost connection, a
 * redirection that cannot be read; error texts made one printable line)
 * and the pauses between tries (growing, bounded, never past the
 * deadline); URLs it refuses. Then the loop against a fake node in a child
 * process on 127.0.0.1 that claims every slot and answers from a script:
 * TRYAGAIN, MOVED and ASK followed to an answer (ASKING sent once, the map
 * fetched again after each change), the URL's user and password sent to
 * every node, NOSCRIPT mended by the caller's fix, a redirection for
 * another slot, a garbage CLUSTER SHARDS, a seed that refuses the
 * connection, a slot without a master until the deadline. And what both
 * clients share (cluster_nodes): the order of the nodes asked for a map,
 * addresses, reasons put together, the URL read.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cluster_map.h"
#include "cluster_nodes.h"
#include "cluster_sync.h"
#include "redis_url.h"
#include "testlib.h"
#include "cluster_fake.h"

static redisReply *
reply_of(const char *s)
{
	redisReader	*rd = redisReaderCreate();
	void		*r = NULL;

	redisReaderFeed(rd, s, strlen(s));
	if (redisReaderGetReply(rd, &r) != REDIS_OK)
		r = NULL;
	redisReaderFree(rd);
	return r;
}

static const struct {
	const char		*resp;	/* NULL: no reply */
	enum cluster_sync_kind	 kind;
	const char		*why;	/* a piece of the reason, or host */
	unsigned		 slot;
	int			 port;
} classify_cases[] = {
	{ NULL, CLUSTER_SYNC_LOST, "no reply", 0, 0 },
	{ "+OK\r\n", CLUSTER_SYNC_ANSWER, NULL, 0, 0 },
	{ ":1\r\n", CLUSTER_SYNC_ANSWER, NULL, 0, 0 },
	{ "$-1\r\n", CLUSTER_SYNC_ANSWER, NULL, 0, 0 },
	{ "*0\r\n", CLUSTER_SYNC_ANSWER, NULL, 0, 0 },
	{ "*2\r\n$5\r\nMOVED\r\n:1\r\n", CLUSTER_SYNC_ANSWER, NULL, 0, 0 },
	{ "$18\r\nMOVED 1 127.0.0.1:1\r\n", CLUSTER_SYNC_ANSWER, NULL, 0, 0 },
	{ "-ERR wrong number of arguments\r\n", CLUSTER_SYNC_ANSWER, NULL, 0,
	  0 },
	{ "-NOSCRIPT No matching script\r\n", CLUSTER_SYNC_ANSWER, NULL, 0,
	  0 },
	{ "-\r\n", CLUSTER_SYNC_ANSWER, NULL, 0, 0 },
	{ "-MOVEDX 1 h:1\r\n", CLUSTER_SYNC_ANSWER, NULL, 0, 0 },
	{ "-TRYAGAINX\r\n", CLUSTER_SYNC_ANSWER, NULL, 0, 0 },
	{ "-MOVED 3999 127.0.0.1:6381\r\n", CLUSTER_SYNC_MOVED, "127.0.0.1",
	  3999, 6381 },
	{ "-MOVED 0 :7000\r\n", CLUSTER_SYNC_MOVED, "", 0, 7000 },
	{ "-ASK 16383 [::1]:6381\r\n", CLUSTER_SYNC_ASK, "::1", 16383,
	  6381 },
	{ "-ASK 12 redis-2.svc:6379\r\n", CLUSTER_SYNC_ASK, "redis-2.svc", 12,
	  6379 },
	{ "-MOVED\r\n", CLUSTER_SYNC_BAD, "cannot be read", 0, 0 },
	{ "-ASK\r\n", CLUSTER_SYNC_BAD, "cannot be read", 0, 0 },
	{ "-MOVED x 127.0.0.1:1\r\n", CLUSTER_SYNC_BAD, "a bad slot", 0, 0 },
	{ "-MOVED 16384 127.0.0.1:1\r\n", CLUSTER_SYNC_BAD, "a bad slot", 0,
	  0 },
	{ "-ASK 1 127.0.0.1\r\n", CLUSTER_SYNC_BAD, "a bad", 0, 0 },
	{ "-MOVED 1 127.0.0.1:0\r\n", CLUSTER_SYNC_BAD, "a bad port", 0, 0 },
	{ "-MOVED 1 127.0.0.1:65536\r\n", CLUSTER_SYNC_BAD, "a bad port", 0,
	  0 },
	{ "-MOVED 1 a b:1\r\n", CLUSTER_SYNC_BAD, "a bad address", 0, 0 },
	{ "-MOVED 1 \x01:1\r\n", CLUSTER_SYNC_BAD, "a bad address", 0, 0 },
	{ "-TRYAGAIN Multiple keys request during rehashing of slot\r\n",
	  CLUSTER_SYNC_WAIT, "TRYAGAIN Multiple keys request", 0, 0 },
	{ "-TRYAGAIN\r\n", CLUSTER_SYNC_WAIT, "TRYAGAIN", 0, 0 },
	{ "-CLUSTERDOWN The cluster is down\r\n", CLUSTER_SYNC_WAIT,
	  "CLUSTERDOWN The cluster is down", 0, 0 },
	{ "-CLUSTERDOWN Hash slot not served\r\n", CLUSTER_SYNC_WAIT,
	  "Hash slot not served", 0, 0 },
	{ "-LOADING Redis is loading the dataset in memory\r\n",
	  CLUSTER_SYNC_WAIT, "LOADING", 0, 0 },
	{ "-MASTERDOWN Link with MASTER is down\r\n", CLUSTER_SYNC_WAIT,
	  "MASTERDOWN", 0, 0 },
	{ "-READONLY You can't write against a read only replica.\r\n",
	  CLUSTER_SYNC_WAIT, "READONLY", 0, 0 },
	{ "-TRYAGAIN a\x01" "b\x7f" "c\r\n", CLUSTER_SYNC_WAIT,
	  "TRYAGAIN a?b?c", 0, 0 },
};

static void
test_classify(void)
{
	struct cluster_redirect	 rd;
	enum cluster_sync_kind	 k;
	redisReply		*r;
	char			 why[256], tiny[4];
	size_t			 i;

	for (i = 0; i < sizeof classify_cases / sizeof classify_cases[0];
	    i++) {
		r = classify_cases[i].resp != NULL ?
		    reply_of(classify_cases[i].resp) : NULL;
		if (classify_cases[i].resp != NULL && r == NULL) {
			test_cond(classify_cases[i].resp, 0);
			continue;
		}
		memset(&rd, 0xa5, sizeof rd);
		why[0] = '\0';
		k = cluster_sync_classify(r, &rd, why, sizeof why);
		test_cond(classify_cases[i].resp != NULL ?
		    classify_cases[i].resp : "(no reply)",
		    k == classify_cases[i].kind);
		if (k == CLUSTER_SYNC_MOVED || k == CLUSTER_SYNC_ASK)
			test_cond("redirection read", rd.slot ==
			    classify_cases[i].slot && rd.port ==
			    classify_cases[i].port && strcmp(rd.host,
			    classify_cases[i].why) == 0 && rd.ask ==
			    (k == CLUSTER_SYNC_ASK));
		else if (classify_cases[i].why != NULL)
			test_cond(classify_cases[i].why, strstr(why,
			    classify_cases[i].why) != NULL &&
			    strchr(why, '\n') == NULL);
		freeReplyObject(r);
	}
	/* A long error text is cut to the room given. */
	r = reply_of("-TRYAGAIN 0123456789\r\n");
	test_cond("cut to the room", r != NULL && cluster_sync_classify(r,
	    &rd, tiny, sizeof tiny) == CLUSTER_SYNC_WAIT &&
	    strcmp(tiny, "TRY") == 0);
	freeReplyObject(r);
}

static void
test_pause(void)
{
	test_cond("first pause 20 ms", cluster_sync_pause(1, 10000) == 20);
	test_cond("try 0 taken as 1", cluster_sync_pause(0, 10000) == 20);
	test_cond("doubling", cluster_sync_pause(2, 10000) == 40 &&
	    cluster_sync_pause(3, 10000) == 80 &&
	    cluster_sync_pause(5, 10000) == 320);
	test_cond("bounded at 500 ms", cluster_sync_pause(6, 10000) == 500 &&
	    cluster_sync_pause(7, 10000) == 500 &&
	    cluster_sync_pause(64, 10000) == 500 &&
	    cluster_sync_pause(~0u, 10000) == 500);
	test_cond("leaves 20 ms for the try", cluster_sync_pause(6, 100) ==
	    80 && cluster_sync_pause(1, 30) == 10 &&
	    cluster_sync_pause(1, 21) == 1);
	test_cond("no time for a try", cluster_sync_pause(1, 20) == -1 &&
	    cluster_sync_pause(1, 0) == -1 &&
	    cluster_sync_pause(1, -5) == -1 &&
	    cluster_sync_pause(9, 19) == -1);
}

static void
test_create(void)
{
	struct cluster_sync	*cs;
	char			 err[256];

	test_cond("a plain URL refused", cluster_sync_create(
	    "redis://127.0.0.1:6379", err, sizeof err) == NULL &&
	    strstr(err, "not a redis+cluster:// URL") != NULL);
	test_cond("a database refused", cluster_sync_create(
	    "redis+cluster://127.0.0.1:7000/1", err, sizeof err) == NULL &&
	    strstr(err, "database 0 only") != NULL);
	test_cond("no seed refused", cluster_sync_create("redis+cluster://",
	    err, sizeof err) == NULL && strstr(err, "no seed") != NULL);
	cs = cluster_sync_create("redis+cluster://u:secret@127.0.0.1:7000,"
	    "127.0.0.1:7001", err, sizeof err);
	test_cond("seeds taken", cs != NULL);
	test_cond("described without the password", cs != NULL &&
	    strstr(cluster_sync_describe(cs), "secret") == NULL &&
	    strstr(cluster_sync_describe(cs), "127.0.0.1:7001") != NULL);
	cluster_sync_free(cs);
	cluster_sync_free(NULL);
}

/* The caller's fix for FAKE_NOSCRIPT: a SCRIPT LOAD at the node. */
static int
fix_noscript(void *arg, redisContext *c, const redisReply *r, char *err,
    size_t errlen)
{
	redisReply	*lr;
	int		*calls = arg;

	(*calls)++;
	if (strncmp(r->str, "NOSCRIPT", 8) != 0)
		return 0;
	if ((lr = redisCommand(c, "SCRIPT LOAD x")) == NULL)
		return -1;
	freeReplyObject(lr);
	return 1;
}

/* Runs "SET k v" for SLOT against a fake in MODE, with CREDS ("user:pw@"
 * or "") in the URL; the reply or NULL. */
static redisReply *
fake_run_as(const char *creds, enum fake_mode mode, unsigned slot,
    unsigned timeout_ms, cluster_sync_fix_fn fix, void *arg, char *err,
    size_t errlen)
{
	static const char	*argv[] = { "SET", "k", "v" };
	static const size_t	 argl[] = { 3, 1, 1 };
	struct cluster_sync	*cs;
	redisReply		*r;
	char			 url[128];
	pid_t			 pid;
	int			 port;

	if ((port = fake_start(mode, slot, &pid)) < 0) {
		snprintf(err, errlen, "cannot start the fake node");
		return NULL;
	}
	snprintf(url, sizeof url, "redis+cluster://%s127.0.0.1:%d", creds,
	    port);
	cs = cluster_sync_create(url, err, errlen);
	r = cs == NULL ? NULL : cluster_sync_command(cs, slot, 3, argv, argl,
	    timeout_ms, fix, arg, err, errlen);
	cluster_sync_free(cs);
	fake_stop(pid);
	return r;
}

static redisReply *
fake_run(enum fake_mode mode, unsigned slot, unsigned timeout_ms,
    cluster_sync_fix_fn fix, void *arg, char *err, size_t errlen)
{
	return fake_run_as("", mode, slot, timeout_ms, fix, arg, err,
	    errlen);
}

static void
test_loop(void)
{
	static const char	*argv[] = { "SET", "k", "v" };
	static const size_t	 argl[] = { 3, 1, 1 };
	struct cluster_sync	*cs;
	struct timespec		 t0, t1;
	redisReply		*r;
	char			 err[CLUSTER_SYNC_ERR_MAX], url[128];
	long			 ms;
	int			 calls = 0, lfd, port;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;

	r = fake_run(FAKE_FOLLOW, 1234, 5000, NULL, NULL, err, sizeof err);
	test_cond("TRYAGAIN, MOVED, ASK followed to the answer", r != NULL &&
	    r->type == REDIS_REPLY_STATUS && strncmp(r->str, "DONE", 4) == 0);
	if (r == NULL)
		fprintf(stderr, "follow: %s\n", err);
	/* The first map, one after TRYAGAIN, one after MOVED. */
	test_cond("ASKING before the command, the map fetched three times",
	    r != NULL && r->type == REDIS_REPLY_STATUS &&
	    strcmp(r->str, "DONE asking=1 shards=3") == 0);
	freeReplyObject(r);

	r = fake_run_as("u:pw@", FAKE_FOLLOW, 99, 5000, NULL, NULL, err,
	    sizeof err);
	test_cond("the URL's user and password: AUTH at every node", r !=
	    NULL && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	r = fake_run_as("u:bad@", FAKE_FOLLOW, 99, 5000, NULL, NULL, err,
	    sizeof err);
	test_cond("a wrong password: the node's refusal", r == NULL &&
	    strstr(err, "AUTH: WRONGPASS") != NULL &&
	    strstr(err, "bad") == NULL);

	r = fake_run(FAKE_NOSCRIPT, 0, 5000, fix_noscript, &calls, err,
	    sizeof err);
	test_cond("NOSCRIPT mended by the fix, the command sent again",
	    r != NULL && r->type == REDIS_REPLY_STATUS &&
	    strcmp(r->str, "DONE") == 0 && calls == 1);
	freeReplyObject(r);
	calls = 0;
	r = fake_run(FAKE_FOLLOW, 7, 5000, fix_noscript, &calls, err,
	    sizeof err);
	test_cond("the fix sees no cluster error", r != NULL && calls == 0);
	freeReplyObject(r);

	r = fake_run(FAKE_OTHER_SLOT, 16383, 5000, NULL, NULL, err,
	    sizeof err);
	test_cond("a MOVED for another slot: an error", r == NULL &&
	    strstr(err, "a redirection for slot 0, not 16383") != NULL);

	r = fake_run(FAKE_GARBAGE, 5, 5000, NULL, NULL, err, sizeof err);
	test_cond("a garbage CLUSTER SHARDS: an error naming the seed",
	    r == NULL && strstr(err, "no seed of redis+cluster://127.0.0.1:")
	    != NULL && strstr(err, "unexpected reply") != NULL);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = fake_run(FAKE_PART, 5000, 400, NULL, NULL, err, sizeof err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	test_cond("a slot without a master: waited for, until the deadline",
	    r == NULL && strstr(err, "slot 5000 has no master") != NULL &&
	    strstr(err, "still so after 400 ms") != NULL && ms >= 350 &&
	    ms < 3000);
	r = fake_run(FAKE_PART, 100, 400, NULL, NULL, err, sizeof err);
	test_cond("a slot it serves: answered", r != NULL);
	freeReplyObject(r);

	/* A port bound but not listening: refused at once. */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(lfd, (struct sockaddr *)&sin, sizeof sin);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	port = ntohs(sin.sin_port);
	snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", port);
	cs = cluster_sync_create(url, err, sizeof err);
	r = cs == NULL ? NULL : cluster_sync_command(cs, 1, 3, argv, argl,
	    5000, NULL, NULL, err, sizeof err);
	test_cond("a seed that refuses: an error naming it", r == NULL &&
	    strstr(err, "gave the cluster's shards") != NULL &&
	    strstr(err, url + 16) != NULL);
	test_cond("a slot out of range", cs != NULL && cluster_sync_command(
	    cs, CLUSTER_SLOTS, 3, argv, argl, 5000, NULL, NULL, err,
	    sizeof err) == NULL && strstr(err, "out of range") != NULL);
	cluster_sync_free(cs);
	close(lfd);
}

/* A node of a hand-made shard. */
static void
node_set(struct cluster_node *n, const char *host, int port)
{
	snprintf(n->host, sizeof n->host, "%s", host);
	n->port = port;
}

static void
test_nodes(void)
{
	struct cluster_map	*m;
	struct cluster_addr	 last, *cand;
	struct redis_url	 u;
	struct cluster_redirect	 rd;
	redisReply		*r;
	char			 desc[256], err[256], buf[64], small[12];
	size_t			 n = 0;

	test_cond("a plain URL refused", cluster_url_prepare(
	    "redis://127.0.0.1:7000", &u, desc, sizeof desc, err,
	    sizeof err) == -1 && strcmp(err, "not a redis+cluster:// URL") ==
	    0);
	test_cond("a cluster URL read", cluster_url_prepare(
	    "redis+cluster://u:secret@127.0.0.1:7000,127.0.0.1:7003", &u,
	    desc, sizeof desc, err, sizeof err) == 0 && u.nseeds == 2 &&
	    strstr(desc, "secret") == NULL &&
	    strstr(desc, "127.0.0.1:7003") != NULL);

	/* Shard 0: a master and a replica; shard 1: a replica only. */
	m = calloc(1, sizeof *m);
	m->nshards = 2;
	m->shards = calloc(2, sizeof *m->shards);
	m->shards[0].has_master = 1;
	node_set(&m->shards[0].master, "10.0.0.1", 7000);
	m->shards[0].replicas = calloc(1, sizeof *m->shards[0].replicas);
	m->shards[0].nreplicas = 1;
	node_set(&m->shards[0].replicas[0], "10.0.0.2", 7001);
	m->shards[1].replicas = calloc(1, sizeof *m->shards[1].replicas);
	m->shards[1].nreplicas = 1;
	node_set(&m->shards[1].replicas[0], "::1", 7002);

	cluster_addr_set(&last, "10.0.0.1", 7000);
	cand = cluster_fetch_order(&last, &u, m, &n);
	test_cond("fetch order: the last, the seeds, the old map's nodes",
	    n == 6 && strcmp(cand[0].host, "10.0.0.1") == 0 &&
	    cand[0].port == 7000 && strcmp(cand[1].host, "127.0.0.1") == 0 &&
	    cand[1].port == 7000 && cand[2].port == 7003 &&
	    strcmp(cand[3].host, "10.0.0.1") == 0 && cand[4].port == 7001 &&
	    strcmp(cand[5].host, "::1") == 0 && cand[5].port == 7002);
	test_cond("a node that stands twice: asked once", n == 6 &&
	    !cluster_addr_asked(cand, 0) && !cluster_addr_asked(cand, 1) &&
	    !cluster_addr_asked(cand, 2) && cluster_addr_asked(cand, 3) &&
	    !cluster_addr_asked(cand, 5));
	free(cand);
	last.port = 0;
	cand = cluster_fetch_order(&last, &u, NULL, &n);
	test_cond("no last node, no map: the seeds", n == 2 &&
	    cand[0].port == 7000 && cand[1].port == 7003);
	free(cand);

	test_cond("a master of the map", cluster_is_master(m, "10.0.0.1",
	    7000) && !cluster_is_master(m, "10.0.0.2", 7001) &&
	    !cluster_is_master(m, "::1", 7002));
	test_cond("HOST:PORT", strcmp(cluster_addr_format("10.0.0.1", 7000,
	    buf, sizeof buf), "10.0.0.1:7000") == 0);
	test_cond("[HOST]:PORT for IPv6", strcmp(cluster_addr_format("::1",
	    7002, buf, sizeof buf), "[::1]:7002") == 0);
	buf[0] = '\0';
	cluster_reasons_append(buf, sizeof buf, "a:1", "down");
	cluster_reasons_append(buf, sizeof buf, "b:2", "refused");
	test_cond("reasons put together", strcmp(buf, "a:1: down; b:2: "
	    "refused") == 0);
	small[0] = '\0';
	cluster_reasons_append(small, sizeof small, "a:1", "a long reason");
	cluster_reasons_append(small, sizeof small, "b:2", "more");
	test_cond("reasons cut to the room", strlen(small) ==
	    sizeof small - 1 && strncmp(small, "a:1: a long", 11) == 0);
	cluster_map_free(m);
	redis_url_clear(&u);

	r = reply_of("-MOVED 5 127.0.0.1:7000\r\n");
	test_cond("a MOVED for the command's slot", r != NULL &&
	    cluster_sync_classify_slot(r, 5, &rd, err, sizeof err) ==
	    CLUSTER_SYNC_MOVED && rd.port == 7000);
	test_cond("a MOVED for another slot: bad", r != NULL &&
	    cluster_sync_classify_slot(r, 6, &rd, err, sizeof err) ==
	    CLUSTER_SYNC_BAD && strcmp(err, "a redirection for slot 5, not "
	    "6") == 0);
	freeReplyObject(r);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_classify();
	test_pause();
	test_nodes();
	test_create();
	test_loop();
	return test_report("test_cluster_sync");
}
