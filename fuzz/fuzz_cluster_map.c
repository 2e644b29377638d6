/* sse-fcgi - MIT License
 *
 * libFuzzer target for what a cluster node answers before the topology is
 * trusted: the input is fed as RESP to a hiredis reader; each reply goes
 * to cluster_map_parse() as a CLUSTER SHARDS answer and, when it is an
 * error or a string, its text to cluster_redirect_parse() as a MOVED or
 * ASK error. The raw input also goes to cluster_redirect_parse() and to
 * cluster_keyslot(), which is checked against a plain reference.
 * A map taken must send every owned slot to a shard with a master whose
 * host is a non-empty string of its own length and whose port is in
 * 1..65535, count its unowned slots right and stay within its bounds; a
 * redirection taken must have a slot below 16384, a port in 1..65535 and
 * read back the same once written out. A refusal must say why, on one
 * line. Inputs announcing a million items or bytes are skipped (hiredis
 * allocates what is announced; see fuzz_sentinel.c).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cluster_map.h"
#include "resp_guard.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_cluster_map: %s\n", what);
	abort();
}

static void
fuzz_why(const char *why)
{
	if (why[0] == '\0')
		fuzz_fail("refused without a reason");
	if (strchr(why, '\n') != NULL)
		fuzz_fail("a reason of more than one line");
}

/* The slot as the cluster specification writes it, bit by bit. */
static unsigned
fuzz_ref_keyslot(const uint8_t *k, size_t len)
{
	size_t		s, e, i;
	unsigned	crc = 0;
	int		b;

	for (s = 0; s < len && k[s] != '{'; s++)
		;
	if (s < len) {
		for (e = s + 1; e < len && k[e] != '}'; e++)
			;
		if (e < len && e != s + 1) {
			k += s + 1;
			len = e - s - 1;
		}
	}
	for (i = 0; i < len; i++) {
		crc ^= (unsigned)k[i] << 8;
		for (b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
		crc &= 0xffff;
	}
	return crc % 16384;
}

static void
fuzz_redirect(const char *s, size_t len)
{
	struct cluster_redirect	 rd, again;
	char			 why[256], text[CLUSTER_HOST_MAX + 32];
	int			 n;

	why[0] = '\0';
	if (cluster_redirect_parse(s, len, &rd, why, sizeof why) == -1) {
		fuzz_why(why);
		return;
	}
	if (rd.slot >= CLUSTER_SLOTS || rd.port < 1 || rd.port > 65535 ||
	    strlen(rd.host) >= CLUSTER_HOST_MAX)
		fuzz_fail("redirection out of range");
	n = snprintf(text, sizeof text, "%s %u %s:%d", rd.ask ? "ASK" :
	    "MOVED", rd.slot, rd.host, rd.port);
	if (cluster_redirect_parse(text, (size_t)n, &again, why,
	    sizeof why) == -1 || again.ask != rd.ask ||
	    again.slot != rd.slot || again.port != rd.port ||
	    strcmp(again.host, rd.host) != 0)
		fuzz_fail("redirection does not read back");
}

static void
fuzz_map(const redisReply *r)
{
	const struct cluster_shard	*sh;
	struct cluster_map		*m;
	char				 why[256];
	size_t				 unowned = 0, i;
	unsigned			 s;

	why[0] = '\0';
	if ((m = cluster_map_parse(r, why, sizeof why)) == NULL) {
		fuzz_why(why);
		return;
	}
	if (m->nshards > CLUSTER_SHARDS_MAX)
		fuzz_fail("too many shards");
	for (i = 0; i < m->nshards; i++)
		if (m->shards[i].nreplicas > CLUSTER_NODES_MAX ||
		    m->shards[i].nslots > CLUSTER_SLOTS)
			fuzz_fail("a shard out of bounds");
	for (s = 0; s < CLUSTER_SLOTS; s++) {
		if ((sh = cluster_map_shard(m, s)) == NULL) {
			if (unowned++ == 0 && m->first_unowned != s)
				fuzz_fail("first unowned slot wrong");
			continue;
		}
		if (!sh->has_master || sh->master.port < 1 ||
		    sh->master.port > 65535 || sh->master.host[0] == '\0' ||
		    strlen(sh->master.host) >= CLUSTER_HOST_MAX)
			fuzz_fail("an owned slot without a usable master");
	}
	if (unowned != m->unowned)
		fuzz_fail("unowned slots miscounted");
	if (cluster_map_shard(m, CLUSTER_SLOTS) != NULL)
		fuzz_fail("a slot past the end");
	cluster_map_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader	*rd;
	redisReply	*r;
	void		*v;
	int		 n;

	if (cluster_keyslot((const char *)data, size) !=
	    fuzz_ref_keyslot(data, size))
		fuzz_fail("keyslot differs from the reference");
	fuzz_redirect((const char *)data, size);
	if (resp_guard_huge(data, size) || (rd = redisReaderCreate()) == NULL)
		return 0;
	redisReaderFeed(rd, (const char *)data, size);
	for (n = 0; n < 16; n++) {
		v = NULL;
		if (redisReaderGetReply(rd, &v) != REDIS_OK || v == NULL)
			break;
		r = v;
		fuzz_map(r);
		if (r->type == REDIS_REPLY_ERROR ||
		    r->type == REDIS_REPLY_STRING ||
		    r->type == REDIS_REPLY_STATUS)
			fuzz_redirect(r->str, r->len);
		freeReplyObject(r);
	}
	redisReaderFree(rd);
	return 0;
}
