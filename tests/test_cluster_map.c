/* sse-fcgi - MIT License
 *
 * Unit tests for cluster_map: key slots (known values, hash tags), maps
 * built from CLUSTER SHARDS replies written as RESP and read by hiredis's
 * reader as a client would (a healthy cluster, one after a failover, slots
 * without an owner, addresses from "endpoint" or "hostname", fields added
 * by later versions), every malformed shape refused with its reason, and
 * MOVED / ASK errors good and bad.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cluster_map.h"
#include "testlib.h"

/* RESP text under construction. */
struct resp {
	char	*s;
	size_t	 len, cap;
};

static void
r_add(struct resp *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = (b->cap + (size_t)n) * 2;
		if ((b->s = realloc(b->s, b->cap)) == NULL)
			abort();
	}
	b->len += (size_t)n;
}

static void
r_arr(struct resp *b, size_t n)
{
	r_add(b, "*%zu\r\n", n);
}

static void
r_str(struct resp *b, const char *s)
{
	r_add(b, "$%zu\r\n%s\r\n", strlen(s), s);
}

static void
r_int(struct resp *b, long long v)
{
	r_add(b, ":%lld\r\n", v);
}

/* A node as Redis 7.0 writes it: 7 pairs. */
static void
r_node(struct resp *b, const char *id, int port, const char *ip,
    const char *role, const char *health)
{
	r_arr(b, 14);
	r_str(b, "id");
	r_str(b, id);
	r_str(b, "port");
	r_int(b, port);
	r_str(b, "ip");
	r_str(b, ip);
	r_str(b, "endpoint");
	r_str(b, ip);
	r_str(b, "role");
	r_str(b, role);
	r_str(b, "replication-offset");
	r_int(b, 4242);
	r_str(b, "health");
	r_str(b, health);
}

/* The head of a shard with slot ranges LO-HI given as -1-terminated
 * pairs, then "nodes" and NNODES nodes to follow. */
static void
r_shard(struct resp *b, size_t nnodes, ...)
{
	va_list	ap;
	int	v, n = 0;

	va_start(ap, nnodes);
	while (va_arg(ap, int) != -1)
		n++;
	va_end(ap);
	r_arr(b, 4);
	r_str(b, "slots");
	r_arr(b, (size_t)n);
	va_start(ap, nnodes);
	while ((v = va_arg(ap, int)) != -1)
		r_int(b, v);
	va_end(ap);
	r_str(b, "nodes");
	r_arr(b, nnodes);
}

/* Reads B's text as one reply; frees B's text. */
static redisReply *
r_read(struct resp *b)
{
	redisReader	*rd;
	void		*r = NULL;

	rd = redisReaderCreate();
	redisReaderFeed(rd, b->s, b->len);
	if (redisReaderGetReply(rd, &r) != REDIS_OK || r == NULL) {
		fprintf(stderr, "reader refused: %.200s\n", b->s);
		abort();
	}
	redisReaderFree(rd);
	free(b->s);
	memset(b, 0, sizeof *b);
	return r;
}

static redisReply *
r_bytes(const char *text, size_t len)
{
	struct resp	b = { 0 };

	if ((b.s = malloc(len + 1)) == NULL)
		abort();
	memcpy(b.s, text, len);
	b.len = len;
	return r_read(&b);
}

static redisReply *
r_text(const char *text)
{
	return r_bytes(text, strlen(text));
}

#define ID_A	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C	"cccccccccccccccccccccccccccccccccccccccc"
#define ID_D	"dddddddddddddddddddddddddddddddddddddddd"
#define ID_E	"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define ID_F	"ffffffffffffffffffffffffffffffffffffffff"

static void
test_keyslot(void)
{
	static const struct {
		const char	*key;
		size_t		 len;
		unsigned	 slot;
	} known[] = {
		{ "foo", 3, 12182 },
		{ "123456789", 9, 12739 },	/* 0x31c3, the check value */
		{ "", 0, 0 },
		{ "user1000", 8, 3443 },
		{ "{user1000}.following", 20, 3443 },
		{ "{user1000}.followers", 20, 3443 },
		{ "bar", 3, 5061 },
		{ "foo{bar}{zap}", 13, 5061 },	/* the first tag only */
		{ "foo{}{bar}", 10, 8363 },	/* empty tag: the whole key */
		{ "foo{{bar}}zap", 13, 4015 },	/* the tag is "{bar" */
		{ "{bar", 4, 4015 },
		{ "a{b", 3, 13340 },		/* no '}': the whole key */
		{ "{", 1, 4092 },
		{ "}{", 2, 12793 },
		{ "a\0b", 3, 8383 },		/* bytes, not a C string */
		{ "user.42", 7, 8619 },
		{ "task.7", 6, 8670 },
		{ "project.123", 11, 2991 },
	};
	size_t		i;
	unsigned	s;

	for (i = 0; i < sizeof known / sizeof known[0]; i++) {
		s = cluster_keyslot(known[i].key, known[i].len);
		test_cond(known[i].key, s == known[i].slot);
		if (s != known[i].slot)
			fprintf(stderr, "  keyslot(\"%s\") = %u, want %u\n",
			    known[i].key, s, known[i].slot);
	}
	test_cond("tag equals its content", cluster_keyslot("x{history:"
	    "user.42}y", 19) == cluster_keyslot("history:user.42", 15));
	test_cond("the length bounds the key", cluster_keyslot("foo{bar}",
	    3) == 12182);
	test_cond("a tag cut by the length is no tag", cluster_keyslot(
	    "a{b}", 3) == 13340);
}

/* A healthy cluster of three shards, as Redis 7.0 answers. */
static redisReply *
healthy(void)
{
	struct resp	b = { 0 };

	r_arr(&b, 3);
	r_shard(&b, 2, 10923, 16383, -1);
	r_node(&b, ID_C, 7002, "127.0.0.1", "master", "online");
	r_node(&b, ID_F, 7005, "127.0.0.1", "replica", "loading");
	r_shard(&b, 2, 0, 5460, -1);
	r_node(&b, ID_A, 7000, "127.0.0.1", "master", "online");
	r_node(&b, ID_D, 7003, "127.0.0.1", "replica", "online");
	r_shard(&b, 2, 5461, 10922, -1);
	r_node(&b, ID_B, 7001, "127.0.0.1", "master", "online");
	r_node(&b, ID_E, 7004, "127.0.0.1", "replica", "online");
	return r_read(&b);
}

static void
test_healthy(void)
{
	const struct cluster_shard	*sh;
	struct cluster_map		*m;
	redisReply			*r;
	char				 why[256];
	unsigned			 s;
	int				 ok = 1;

	r = healthy();
	why[0] = '\0';
	m = cluster_map_parse(r, why, sizeof why);
	test_cond("healthy cluster parsed", m != NULL && why[0] == '\0');
	if (m == NULL) {
		fprintf(stderr, "  %s\n", why);
		freeReplyObject(r);
		return;
	}
	test_cond("three shards, every slot owned", m->nshards == 3 &&
	    m->unowned == 0);
	sh = cluster_map_shard(m, 0);
	test_cond("slot 0: 7000, replica 7003", sh != NULL &&
	    sh->has_master && strcmp(sh->master.host, "127.0.0.1") == 0 &&
	    sh->master.port == 7000 && strcmp(sh->master.id, ID_A) == 0 &&
	    sh->master.online && sh->master.offset == 4242 &&
	    sh->nreplicas == 1 && sh->replicas[0].port == 7003 &&
	    sh->replicas[0].online && sh->nslots == 5461);
	sh = cluster_map_shard(m, 12182);
	test_cond("foo's slot: 7002, its replica loading", sh != NULL &&
	    sh->master.port == 7002 && sh->nreplicas == 1 &&
	    sh->replicas[0].port == 7005 && !sh->replicas[0].online);
	test_cond("range edges", cluster_map_shard(m, 5460)->master.port ==
	    7000 && cluster_map_shard(m, 5461)->master.port == 7001 &&
	    cluster_map_shard(m, 10922)->master.port == 7001 &&
	    cluster_map_shard(m, 10923)->master.port == 7002 &&
	    cluster_map_shard(m, 16383)->master.port == 7002);
	test_cond("slot out of range", cluster_map_shard(m, 16384) == NULL &&
	    cluster_map_shard(m, ~0u) == NULL);
	for (s = 0; s < CLUSTER_SLOTS; s++)
		if (cluster_map_shard(m, s) == NULL ||
		    cluster_map_shard(m, s)->master.port != (s <= 5460 ? 7000 :
		    s <= 10922 ? 7001 : 7002))
			ok = 0;
	test_cond("every slot to its master", ok);
	cluster_map_free(m);
	freeReplyObject(r);
	cluster_map_free(NULL);
}

/* After a failover: the old master, failed and without slots, is a shard
 * of its own (7.0) or beside the new one in the same shard (later). */
static void
test_failover(void)
{
	const struct cluster_shard	*sh;
	struct cluster_map		*m;
	struct resp			 b = { 0 };
	redisReply			*r;
	char				 why[256];

	r_arr(&b, 4);
	r_shard(&b, 1, -1);
	r_node(&b, ID_A, 7000, "127.0.0.1", "master", "failed");
	r_shard(&b, 1, 0, 5460, -1);
	r_node(&b, ID_D, 7003, "127.0.0.1", "master", "online");
	r_shard(&b, 3, 5461, 10922, -1);
	r_node(&b, ID_B, 7001, "127.0.0.1", "master", "failed");
	r_node(&b, ID_E, 7004, "127.0.0.1", "master", "online");
	r_node(&b, ID_F, 7005, "127.0.0.1", "master", "online");
	r_shard(&b, 0, 10923, 16383, -1);
	r = r_read(&b);
	m = cluster_map_parse(r, why, sizeof why);
	test_cond("failed-over cluster parsed", m != NULL);
	if (m == NULL) {
		fprintf(stderr, "  %s\n", why);
		freeReplyObject(r);
		return;
	}
	sh = cluster_map_shard(m, 100);
	test_cond("promoted replica owns the slots", sh != NULL &&
	    sh->master.port == 7003 && sh->nreplicas == 0);
	sh = cluster_map_shard(m, 6000);
	test_cond("of two masters, the first online", sh != NULL &&
	    sh->master.port == 7004 && sh->master.online);
	test_cond("a shard without nodes owns nothing", cluster_map_shard(m,
	    10923) == NULL && cluster_map_shard(m, 16383) == NULL &&
	    m->unowned == 5461 && m->first_unowned == 10923);
	test_cond("the empty shard claims nothing", m->shards[0].nslots ==
	    0 && m->shards[0].has_master && m->shards[3].nslots == 5461 &&
	    !m->shards[3].has_master);
	cluster_map_free(m);
	freeReplyObject(r);
}

/* Slots no shard claims; masters that cannot be reached; addresses from
 * "endpoint" and "hostname"; fields this parser does not know. */
static void
test_partial(void)
{
	const struct cluster_shard	*sh;
	struct cluster_map		*m;
	struct resp			 b = { 0 };
	redisReply			*r;
	char				 why[256];

	r_arr(&b, 6);
	r_shard(&b, 1, 101, 200, 300, 300, -1);
	r_node(&b, ID_A, 7000, "::1", "master", "online");
	r_shard(&b, 2, 400, 499, -1);		/* replicas only */
	r_node(&b, ID_B, 7001, "127.0.0.1", "replica", "online");
	r_node(&b, ID_C, 7002, "127.0.0.1", "replica", "failed");
	r_shard(&b, 1, 500, 599, -1);		/* no address at all */
	r_node(&b, ID_D, 7003, "", "master", "online");
	/* endpoint when ip is empty; hostname when endpoint is "?"; later
	 * fields (tls-port, a shard id) skipped */
	r_arr(&b, 6);
	r_str(&b, "slots");
	r_arr(&b, 2);
	r_int(&b, 600);
	r_int(&b, 699);
	r_str(&b, "shard-id");
	r_str(&b, "0123");
	r_str(&b, "nodes");
	r_arr(&b, 3);
	r_arr(&b, 14);
	r_str(&b, "id");
	r_str(&b, ID_E);
	r_str(&b, "port");
	r_int(&b, 7004);
	r_str(&b, "tls-port");
	r_int(&b, 17004);
	r_str(&b, "ip");
	r_str(&b, "");
	r_str(&b, "endpoint");
	r_str(&b, "redis-e.example");
	r_str(&b, "role");
	r_str(&b, "master");
	r_str(&b, "health");
	r_str(&b, "online");
	r_arr(&b, 10);
	r_str(&b, "id");
	r_str(&b, ID_F);
	r_str(&b, "port");
	r_int(&b, 7005);
	r_str(&b, "endpoint");
	r_str(&b, "?");
	r_str(&b, "hostname");
	r_str(&b, "redis-f");
	r_str(&b, "role");
	r_str(&b, "replica");
	r_arr(&b, 8);				/* TLS only: port 0 */
	r_str(&b, "id");
	r_str(&b, ID_D);
	r_str(&b, "port");
	r_int(&b, 0);
	r_str(&b, "ip");
	r_str(&b, "127.0.0.1");
	r_str(&b, "role");
	r_str(&b, "replica");
	r_shard(&b, 1, 700, 700, -1);		/* a master without port */
	r_arr(&b, 6);
	r_str(&b, "id");
	r_str(&b, ID_A);
	r_str(&b, "ip");
	r_str(&b, "127.0.0.1");
	r_str(&b, "role");
	r_str(&b, "master");
	r_shard(&b, 0, -1);			/* nothing at all */
	r = r_read(&b);
	m = cluster_map_parse(r, why, sizeof why);
	test_cond("partial cluster parsed", m != NULL);
	if (m == NULL) {
		fprintf(stderr, "  %s\n", why);
		freeReplyObject(r);
		return;
	}
	sh = cluster_map_shard(m, 150);
	test_cond("IPv6 master", sh != NULL && strcmp(sh->master.host,
	    "::1") == 0 && sh->master.port == 7000 && sh->nslots == 101);
	test_cond("single-slot range", cluster_map_shard(m, 300) == sh &&
	    cluster_map_shard(m, 299) == NULL &&
	    cluster_map_shard(m, 301) == NULL);
	test_cond("replicas only: no owner", cluster_map_shard(m, 450) ==
	    NULL && m->shards[1].nreplicas == 2 && !m->shards[1].has_master);
	test_cond("no address: no owner", cluster_map_shard(m, 550) == NULL);
	sh = cluster_map_shard(m, 650);
	test_cond("endpoint when ip is empty", sh != NULL &&
	    strcmp(sh->master.host, "redis-e.example") == 0 &&
	    sh->master.port == 7004 && sh->master.offset == 0);
	test_cond("hostname when endpoint is \"?\", TLS-only skipped",
	    sh != NULL && sh->nreplicas == 1 &&
	    strcmp(sh->replicas[0].host, "redis-f") == 0 &&
	    !sh->replicas[0].online);
	test_cond("no port: no owner", cluster_map_shard(m, 700) == NULL);
	test_cond("unowned counted from the lowest", m->unowned == 16384 -
	    101 - 100 && m->first_unowned == 0);
	cluster_map_free(m);
	freeReplyObject(r);

	r = r_text("*0\r\n");
	m = cluster_map_parse(r, why, sizeof why);
	test_cond("no shards: a map where nothing is owned", m != NULL &&
	    m->nshards == 0 && m->unowned == CLUSTER_SLOTS &&
	    cluster_map_shard(m, 0) == NULL);
	cluster_map_free(m);
	freeReplyObject(r);
}

/* Malformed replies, each as RESP text, and a word the reason holds. */
#define N1 "*14\r\n$2\r\nid\r\n$1\r\na\r\n$4\r\nport\r\n:7000\r\n" \
	"$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n$1\r\n?\r\n" \
	"$4\r\nrole\r\n$6\r\nmaster\r\n$18\r\nreplication-offset\r\n:1\r\n" \
	"$6\r\nhealth\r\n$6\r\nonline\r\n"
#define SH(slots, nodes) "*1\r\n*4\r\n$5\r\nslots\r\n" slots \
	"$5\r\nnodes\r\n" nodes
#define SL "*2\r\n:0\r\n:16383\r\n"
/* One node of pairs P (a count and the pairs). */
#define NODE(n, p) SH(SL, "*1\r\n*" n "\r\n" p)
#define ID "$2\r\nid\r\n$1\r\na\r\n"
#define ROLE "$4\r\nrole\r\n$6\r\nmaster\r\n"
#define PORT "$4\r\nport\r\n:7000\r\n"
#define IP "$2\r\nip\r\n$9\r\n127.0.0.1\r\n"

static const struct {
	const char	*resp, *why;
} bad[] = {
	{ "-ERR This instance has cluster support disabled\r\n",
	    "ERR This instance has cluster support disabled" },
	{ "-\r\n", "an empty error reply" },
	{ "-ERR a\nb\x01" "c\x7f\r\n", "ERR a?b?c?" },
	{ "$-1\r\n", "unexpected reply" },
	{ "*-1\r\n", "unexpected reply" },
	{ ":1\r\n", "unexpected reply" },
	{ "+OK\r\n", "unexpected reply" },
	{ "$3\r\nfoo\r\n", "unexpected reply" },
	{ "*1\r\n:1\r\n", "shard 0 is not a list" },
	{ "*1\r\n$5\r\nslots\r\n", "shard 0 is not a list" },
	{ "*1\r\n*1\r\n$5\r\nslots\r\n", "shard 0 is not a list" },
	{ "*1\r\n*-1\r\n", "shard 0 is not a list" },
	{ "*1\r\n*2\r\n$5\r\nslots\r\n" SL, "has no \"nodes\"" },
	{ "*1\r\n*2\r\n$5\r\nnodes\r\n*0\r\n", "has no \"slots\"" },
	{ "*1\r\n*0\r\n", "has no \"slots\"" },
	{ "*1\r\n*2\r\n:1\r\n:2\r\n", "field name is not a string" },
	{ "*1\r\n*6\r\n$5\r\nslots\r\n" SL "$5\r\nslots\r\n" SL
	    "$5\r\nnodes\r\n*0\r\n", "\"slots\" given twice" },
	{ "*1\r\n*6\r\n$5\r\nnodes\r\n*0\r\n$5\r\nslots\r\n" SL
	    "$5\r\nnodes\r\n*0\r\n", "\"nodes\" given twice" },
	{ SH(":1\r\n", "*0\r\n"), "slots are not a list" },
	{ SH("$1\r\n1\r\n", "*0\r\n"), "slots are not a list" },
	{ SH("*1\r\n:0\r\n", "*0\r\n"), "slots are not a list" },
	{ SH("*3\r\n:0\r\n:1\r\n:2\r\n", "*0\r\n"), "slots are not a list" },
	{ SH("*2\r\n$1\r\n0\r\n:1\r\n", "*0\r\n"), "bad slot range" },
	{ SH("*2\r\n:0\r\n*0\r\n", "*0\r\n"), "bad slot range" },
	{ SH("*2\r\n:-1\r\n:1\r\n", "*0\r\n"), "bad slot range" },
	{ SH("*2\r\n:5\r\n:4\r\n", "*0\r\n"), "bad slot range" },
	{ SH("*2\r\n:0\r\n:16384\r\n", "*0\r\n"), "bad slot range" },
	{ SH("*2\r\n:16384\r\n:16384\r\n", "*0\r\n"), "bad slot range" },
	{ SH("*2\r\n:0\r\n:9223372036854775807\r\n", "*0\r\n"),
	    "bad slot range" },
	{ SH("*4\r\n:0\r\n:10\r\n:10\r\n:20\r\n", "*0\r\n"),
	    "slot 10 is in shards 0 and 0" },
	{ "*2\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:100\r\n$5\r\nnodes\r\n"
	    "*0\r\n*4\r\n$5\r\nslots\r\n*2\r\n:50\r\n:60\r\n$5\r\nnodes\r\n"
	    "*0\r\n", "slot 50 is in shards 0 and 1" },
	{ SH(SL, ":1\r\n"), "nodes are not a list" },
	{ SH(SL, "*-1\r\n"), "nodes are not a list" },
	{ SH(SL, "*1\r\n:1\r\n"), "node is not a list" },
	{ SH(SL, "*1\r\n$2\r\nid\r\n"), "node is not a list" },
	{ NODE("1", ID), "node is not a list" },
	{ NODE("2", ":1\r\n:2\r\n"), "field name is not a string" },
	{ NODE("2", ROLE), "without id" },
	{ NODE("2", ID), "without role" },
	{ NODE("4", ID "$4\r\nrole\r\n$5\r\nslave\r\n"), "unknown role" },
	{ NODE("4", ID "$4\r\nrole\r\n:1\r\n"), "\"role\" has the wrong "
	    "type" },
	{ NODE("4", "$2\r\nid\r\n:1\r\n" ROLE), "\"id\" has the wrong type" },
	{ NODE("4", "$2\r\nid\r\n$0\r\n\r\n" ROLE), "bad id" },
	{ NODE("4", "$2\r\nid\r\n$41\r\n"
	    "01234567890123456789012345678901234567890\r\n" ROLE), "bad id" },
	{ NODE("4", "$2\r\nid\r\n$3\r\na b\r\n" ROLE), "bad id" },
	{ NODE("6", ID ROLE "$4\r\nport\r\n$4\r\n7000\r\n"),
	    "\"port\" has the wrong type" },
	{ NODE("6", ID ROLE "$4\r\nport\r\n:65536\r\n"), "bad port 65536" },
	{ NODE("6", ID ROLE "$4\r\nport\r\n:-1\r\n"), "bad port -1" },
	{ NODE("6", ID ROLE "$18\r\nreplication-offset\r\n$1\r\n1\r\n"),
	    "\"replication-offset\" has the wrong type" },
	{ NODE("6", ID ROLE "$2\r\nip\r\n:1\r\n"), "\"ip\" has the wrong "
	    "type" },
	{ NODE("6", ID ROLE "$2\r\nip\r\n*0\r\n"), "\"ip\" has the wrong "
	    "type" },
	{ NODE("6", ID ROLE "$6\r\nhealth\r\n$-1\r\n"), "\"health\" has "
	    "the wrong type" },
	{ NODE("6", ID ROLE ID), "\"id\" given twice" },
	{ NODE("8", ID ROLE PORT PORT), "\"port\" given twice" },
	{ NODE("8", ID ROLE PORT "$2\r\nip\r\n$11\r\n127.0.0.1 x\r\n"),
	    "bad address" },
	{ NODE("8", ID ROLE PORT "$2\r\nip\r\n$8\r\nhost:123\r\n"),
	    "bad address" },
	{ NODE("8", ID ROLE PORT "$8\r\nendpoint\r\n$6\r\n;rm -r\r\n"),
	    "bad address" },
};

static void
test_bad(void)
{
	struct cluster_map	*m;
	redisReply		*r;
	char			 why[256];
	size_t			 i;
	int			 ok;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = r_text(bad[i].resp);
		why[0] = '\0';
		m = cluster_map_parse(r, why, sizeof why);
		ok = m == NULL && strstr(why, bad[i].why) != NULL &&
		    strchr(why, '\n') == NULL;
		test_cond(bad[i].why, ok);
		if (!ok)
			fprintf(stderr, "  bad[%zu]: got \"%s\"\n", i, why);
		cluster_map_free(m);
		freeReplyObject(r);
	}
	r = r_bytes(NODE("8", ID ROLE PORT "$2\r\nip\r\n$3\r\na\0b\r\n"),
	    sizeof NODE("8", ID ROLE PORT "$2\r\nip\r\n$3\r\na\0b\r\n") - 1);
	test_cond("a NUL in an address", cluster_map_parse(r, why, sizeof why)
	    == NULL && strstr(why, "bad address") != NULL);
	freeReplyObject(r);
}

/* Announced counts past the bounds: refused before anything is built. */
static void
test_bounds(void)
{
	struct cluster_map	*m;
	struct resp		 b = { 0 };
	redisReply		*r;
	char			 why[256];
	int			 i;

	r_arr(&b, CLUSTER_SHARDS_MAX);
	for (i = 0; i < CLUSTER_SHARDS_MAX; i++) {
		r_shard(&b, 1, i, i, -1);
		r_node(&b, ID_A, 1000 + i, "127.0.0.1", "master", "online");
	}
	r = r_read(&b);
	m = cluster_map_parse(r, why, sizeof why);
	test_cond("1024 shards taken", m != NULL && m->nshards == 1024 &&
	    cluster_map_shard(m, 1023)->master.port == 2023 &&
	    m->unowned == CLUSTER_SLOTS - 1024 && m->first_unowned == 1024);
	cluster_map_free(m);
	freeReplyObject(r);

	r_arr(&b, CLUSTER_SHARDS_MAX + 1);
	for (i = 0; i <= CLUSTER_SHARDS_MAX; i++)
		r_shard(&b, 0, -1);
	r = r_read(&b);
	test_cond("1025 shards refused", cluster_map_parse(r, why,
	    sizeof why) == NULL && strstr(why, "more than 1024 shards"));
	freeReplyObject(r);

	r_arr(&b, 1);
	r_shard(&b, CLUSTER_NODES_MAX, 0, 16383, -1);
	for (i = 0; i < CLUSTER_NODES_MAX; i++)
		r_node(&b, ID_A, 1000 + i, "127.0.0.1", i ? "replica" :
		    "master", "online");
	r = r_read(&b);
	m = cluster_map_parse(r, why, sizeof why);
	test_cond("32 nodes in a shard taken", m != NULL &&
	    m->shards[0].nreplicas == 31 && m->unowned == 0);
	cluster_map_free(m);
	freeReplyObject(r);

	r_arr(&b, 1);
	r_shard(&b, CLUSTER_NODES_MAX + 1, 0, 16383, -1);
	for (i = 0; i <= CLUSTER_NODES_MAX; i++)
		r_node(&b, ID_A, 1000 + i, "127.0.0.1", "replica", "online");
	r = r_read(&b);
	test_cond("33 nodes refused", cluster_map_parse(r, why,
	    sizeof why) == NULL && strstr(why, "more than 32 nodes"));
	freeReplyObject(r);

	r_arr(&b, 1);
	r_shard(&b, 1, 0, 16383, -1);
	r_arr(&b, 2 * 65);
	for (i = 0; i < 65; i++) {
		r_str(&b, "x");
		r_int(&b, i);
	}
	r = r_read(&b);
	test_cond("a node of 65 pairs refused", cluster_map_parse(r, why,
	    sizeof why) == NULL && strstr(why, "node is not a list"));
	freeReplyObject(r);

	r_arr(&b, 1);
	r_arr(&b, 4);
	r_str(&b, "slots");
	r_arr(&b, 2 * CLUSTER_SLOTS + 2);
	for (i = 0; i < CLUSTER_SLOTS + 1; i++) {
		r_int(&b, i);
		r_int(&b, i);
	}
	r_str(&b, "nodes");
	r_arr(&b, 0);
	r = r_read(&b);
	test_cond("more ranges than slots refused", cluster_map_parse(r, why,
	    sizeof why) == NULL && strstr(why, "slots are not a list"));
	freeReplyObject(r);
}

static void
test_redirect(void)
{
	static const struct {
		const char	*in;
		int		 ask;
		unsigned	 slot;
		const char	*host;
		int		 port;
	} good[] = {
		{ "MOVED 3999 127.0.0.1:6381", 0, 3999, "127.0.0.1", 6381 },
		{ "ASK 3999 127.0.0.1:6381", 1, 3999, "127.0.0.1", 6381 },
		{ "MOVED 0 ::1:6381", 0, 0, "::1", 6381 },
		{ "MOVED 16383 [::1]:1", 0, 16383, "::1", 1 },
		{ "ASK 7 2001:db8::7:65535", 1, 7, "2001:db8::7", 65535 },
		{ "MOVED 12 :6381", 0, 12, "", 6381 },
		{ "ASK 12 :7000", 1, 12, "", 7000 },
		{ "MOVED 5 redis-1.example:7000", 0, 5, "redis-1.example",
		    7000 },
		{ "MOVED 00042 h:007", 0, 42, "h", 7 },
	};
	static const struct {
		const char	*in, *why;
	} bad_r[] = {
		{ "", "not a MOVED or ASK" },
		{ "MOVED", "not a MOVED or ASK" },
		{ "MOVED ", "not a MOVED or ASK" },
		{ "ASK ", "not a MOVED or ASK" },
		{ "moved 1 h:1", "not a MOVED or ASK" },
		{ "ASKING", "not a MOVED or ASK" },
		{ "ERR wrong number of arguments", "not a MOVED or ASK" },
		{ "TRYAGAIN Multiple keys request during rehashing of slot",
		    "not a MOVED or ASK" },
		{ "CLUSTERDOWN The cluster is down", "not a MOVED or ASK" },
		{ "MOVED x h:1", "MOVED: a bad slot" },
		{ "MOVED -1 h:1", "bad slot" },
		{ "MOVED +1 h:1", "bad slot" },
		{ "MOVED 16384 h:1", "bad slot" },
		{ "ASK 99999999999999999999999 h:1", "ASK: a bad slot" },
		{ "MOVED 1", "bad slot" },
		{ "MOVED 1x h:1", "bad slot" },
		{ "MOVED 1 ", "bad address" },
		{ "MOVED 1 h", "bad address" },
		{ "MOVED 1 h:", "bad port" },
		{ "MOVED 1 :", "bad port" },
		{ "MOVED 1 h:0", "bad port" },
		{ "MOVED 1 h:65536", "bad port" },
		{ "MOVED 1 h:99999999999999999999", "bad port" },
		{ "MOVED 1 h:1x", "bad port" },
		{ "MOVED 1 h:1 ", "bad port" },
		{ "MOVED 1 h:-1", "bad port" },
		{ "MOVED 1  h:1", "bad address" },
		{ "MOVED 1 h x:1", "bad address" },
		{ "MOVED 1 a:b:1", "bad address" },
		{ "MOVED 1 []:1", "bad address" },
		{ "MOVED 1 [::1]", "bad address" },
		{ "MOVED 1 [::1]1", "bad address" },
		{ "MOVED 1 [::1:1", "bad address" },
		{ "MOVED 1 [h x]:1", "bad address" },
	};
	struct cluster_redirect	 rd;
	char			 why[256];
	size_t			 i;
	int			 ok;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		why[0] = '\0';
		ok = cluster_redirect_parse(good[i].in, strlen(good[i].in),
		    &rd, why, sizeof why) == 0 && rd.ask == good[i].ask &&
		    rd.slot == good[i].slot &&
		    strcmp(rd.host, good[i].host) == 0 &&
		    rd.port == good[i].port;
		test_cond(good[i].in, ok);
		if (!ok)
			fprintf(stderr, "  %s: %s\n", good[i].in, why);
	}
	for (i = 0; i < sizeof bad_r / sizeof bad_r[0]; i++) {
		why[0] = '\0';
		ok = cluster_redirect_parse(bad_r[i].in, strlen(bad_r[i].in),
		    &rd, why, sizeof why) == -1 &&
		    strstr(why, bad_r[i].why) != NULL;
		test_cond(bad_r[i].in, ok);
		if (!ok)
			fprintf(stderr, "  \"%s\": got \"%s\"\n", bad_r[i].in,
			    why);
	}
	test_cond("a NUL in the host", cluster_redirect_parse("MOVED 1 a\0b:1",
	    13, &rd, why, sizeof why) == -1 && strstr(why, "bad address"));
	test_cond("the length bounds the text", cluster_redirect_parse(
	    "MOVED 1 h:12345", 13, &rd, why, sizeof why) == 0 &&
	    rd.port == 123);
	test_cond("not read past the length", cluster_redirect_parse(
	    "MOVED 1 h:1", 6, &rd, why, sizeof why) == -1);
	test_cond("a 255-byte host", cluster_redirect_parse("MOVED 1 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaa:1", 8 + 255 + 2, &rd, why, sizeof why) == 0 && strlen(rd.host) ==
	    255);
	test_cond("a 256-byte host refused", cluster_redirect_parse("MOVED 1 "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaa:1", 8 + 256 + 2, &rd, why, sizeof why) == -1);
}

int
main(void)
{
	test_keyslot();
	test_healthy();
	test_failover();
	test_partial();
	test_bad();
	test_bounds();
	test_redirect();
	return test_report("test_cluster_map");
}
