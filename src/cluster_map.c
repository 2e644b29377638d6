/* sse-fcgi - MIT License
 *
 * Redis Cluster topology (see cluster_map.h). The map is built in one
 * pass over the reply into fresh memory and handed out only when the whole
 * reply made sense, so a caller never sees half of a topology. Every
 * count the reply announces is checked against a bound before anything
 * is allocated for it.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cluster_map.h"
#include "xmalloc.h"

/* Name/value pairs in a shard and in a node: a few today; room for the
 * fields later versions add, which are skipped. */
#define CLUSTER_PAIRS_MAX	64

/* CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as Redis
 * Cluster hashes keys. */
static const uint16_t cluster_crc16_tab[256] = {
	0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50a5, 0x60c6, 0x70e7,
	0x8108, 0x9129, 0xa14a, 0xb16b, 0xc18c, 0xd1ad, 0xe1ce, 0xf1ef,
	0x1231, 0x0210, 0x3273, 0x2252, 0x52b5, 0x4294, 0x72f7, 0x62d6,
	0x9339, 0x8318, 0xb37b, 0xa35a, 0xd3bd, 0xc39c, 0xf3ff, 0xe3de,
	0x2462, 0x3443, 0x0420, 0x1401, 0x64e6, 0x74c7, 0x44a4, 0x5485,
	0xa56a, 0xb54b, 0x8528, 0x9509, 0xe5ee, 0xf5cf, 0xc5ac, 0xd58d,
	0x3653, 0x2672, 0x1611, 0x0630, 0x76d7, 0x66f6, 0x5695, 0x46b4,
	0xb75b, 0xa77a, 0x9719, 0x8738, 0xf7df, 0xe7fe, 0xd79d, 0xc7bc,
	0x48c4, 0x58e5, 0x6886, 0x78a7, 0x0840, 0x1861, 0x2802, 0x3823,
	0xc9cc, 0xd9ed, 0xe98e, 0xf9af, 0x8948, 0x9969, 0xa90a, 0xb92b,
	0x5af5, 0x4ad4, 0x7ab7, 0x6a96, 0x1a71, 0x0a50, 0x3a33, 0x2a12,
	0xdbfd, 0xcbdc, 0xfbbf, 0xeb9e, 0x9b79, 0x8b58, 0xbb3b, 0xab1a,
	0x6ca6, 0x7c87, 0x4ce4, 0x5cc5, 0x2c22, 0x3c03, 0x0c60, 0x1c41,
	0xedae, 0xfd8f, 0xcdec, 0xddcd, 0xad2a, 0xbd0b, 0x8d68, 0x9d49,
	0x7e97, 0x6eb6, 0x5ed5, 0x4ef4, 0x3e13, 0x2e32, 0x1e51, 0x0e70,
	0xff9f, 0xefbe, 0xdfdd, 0xcffc, 0xbf1b, 0xaf3a, 0x9f59, 0x8f78,
	0x9188, 0x81a9, 0xb1ca, 0xa1eb, 0xd10c, 0xc12d, 0xf14e, 0xe16f,
	0x1080, 0x00a1, 0x30c2, 0x20e3, 0x5004, 0x4025, 0x7046, 0x6067,
	0x83b9, 0x9398, 0xa3fb, 0xb3da, 0xc33d, 0xd31c, 0xe37f, 0xf35e,
	0x02b1, 0x1290, 0x22f3, 0x32d2, 0x4235, 0x5214, 0x6277, 0x7256,
	0xb5ea, 0xa5cb, 0x95a8, 0x8589, 0xf56e, 0xe54f, 0xd52c, 0xc50d,
	0x34e2, 0x24c3, 0x14a0, 0x0481, 0x7466, 0x6447, 0x5424, 0x4405,
	0xa7db, 0xb7fa, 0x8799, 0x97b8, 0xe75f, 0xf77e, 0xc71d, 0xd73c,
	0x26d3, 0x36f2, 0x0691, 0x16b0, 0x6657, 0x7676, 0x4615, 0x5634,
	0xd94c, 0xc96d, 0xf90e, 0xe92f, 0x99c8, 0x89e9, 0xb98a, 0xa9ab,
	0x5844, 0x4865, 0x7806, 0x6827, 0x18c0, 0x08e1, 0x3882, 0x28a3,
	0xcb7d, 0xdb5c, 0xeb3f, 0xfb1e, 0x8bf9, 0x9bd8, 0xabbb, 0xbb9a,
	0x4a75, 0x5a54, 0x6a37, 0x7a16, 0x0af1, 0x1ad0, 0x2ab3, 0x3a92,
	0xfd2e, 0xed0f, 0xdd6c, 0xcd4d, 0xbdaa, 0xad8b, 0x9de8, 0x8dc9,
	0x7c26, 0x6c07, 0x5c64, 0x4c45, 0x3ca2, 0x2c83, 0x1ce0, 0x0cc1,
	0xef1f, 0xff3e, 0xcf5d, 0xdf7c, 0xaf9b, 0xbfba, 0x8fd9, 0x9ff8,
	0x6e17, 0x7e36, 0x4e55, 0x5e74, 0x2e93, 0x3eb2, 0x0ed1, 0x1ef0,
};

static uint16_t
cluster_crc16(const unsigned char *p, size_t len)
{
	uint16_t	crc = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		crc = (uint16_t)(crc << 8) ^
		    cluster_crc16_tab[((crc >> 8) ^ p[i]) & 0xff];
	return crc;
}

unsigned
cluster_keyslot(const char *key, size_t len)
{
	const char	*open, *close;

	/* Only a non-empty tag counts: "{}" hashes the whole key, so does
	 * a '{' with no '}' after it. */
	open = memchr(key, '{', len);
	if (open != NULL) {
		close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
		if (close != NULL && close > open + 1) {
			key = open + 1;
			len = (size_t)(close - key);
		}
	}
	return cluster_crc16((const unsigned char *)key, len) &
	    (CLUSTER_SLOTS - 1);
}

/* Is R a string equal to S? */
static int
cluster_is(const redisReply *r, const char *s)
{
	size_t	n = strlen(s);

	return (r->type == REDIS_REPLY_STRING ||
	    r->type == REDIS_REPLY_STATUS) && r->len == n &&
	    memcmp(r->str, s, n) == 0;
}

/* Is R a list of name/value pairs (a RESP2 array, or a RESP3 map)? */
static int
cluster_is_pairs(const redisReply *r)
{
	if (r->type != REDIS_REPLY_ARRAY
#ifdef REDIS_REPLY_MAP
	    && r->type != REDIS_REPLY_MAP
#endif
	    )
		return 0;
	return r->elements % 2 == 0 && r->elements / 2 <= CLUSTER_PAIRS_MAX;
}

/* Checks the LEN bytes at S form a host: a name, an IPv4 address or an
 * IPv6 one (two ':' at least, maybe a zone after '%'), nothing a log or
 * a command line could take for something else. */
static int
cluster_host_ok(const char *s, size_t len)
{
	size_t	i, colons = 0;

	if (len == 0 || len >= CLUSTER_HOST_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			colons++;
		else if (!isalnum((unsigned char)s[i]) &&
		    (s[i] == '\0' || strchr("-._%", s[i]) == NULL))
			return 0;
	}
	return colons != 1;
}

/* Is R an address a node can be reached at ("?" is how Redis says it
 * does not know)? */
static int
cluster_has_addr(const redisReply *r)
{
	return r != NULL && r->len > 0 && !(r->len == 1 && r->str[0] == '?');
}

enum cluster_role {
	CLUSTER_ROLE_MASTER,
	CLUSTER_ROLE_REPLICA
};

/* Reads node R of a shard into *N and *ROLE. Returns 1 when the node can
 * be reached, 0 when it cannot (no address or no plain port: skipped), or
 * -1 with a reason. */
static int
cluster_node_parse(const redisReply *r, struct cluster_node *n,
    enum cluster_role *role, char *why, size_t whylen)
{
	const redisReply	*id = NULL, *port = NULL, *ip = NULL;
	const redisReply	*endpoint = NULL, *hostname = NULL;
	const redisReply	*rl = NULL, *health = NULL, *offset = NULL;
	const redisReply	**slot, *k, *v, *addr;
	size_t			 i;

	if (!cluster_is_pairs(r)) {
		snprintf(why, whylen, "a node is not a list of name/value "
		    "pairs");
		return -1;
	}
	for (i = 0; i < r->elements; i += 2) {
		k = r->element[i];
		v = r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING &&
		    k->type != REDIS_REPLY_STATUS) {
			snprintf(why, whylen, "a node field name is not a "
			    "string");
			return -1;
		}
		if (cluster_is(k, "id"))
			slot = &id;
		else if (cluster_is(k, "port"))
			slot = &port;
		else if (cluster_is(k, "ip"))
			slot = &ip;
		else if (cluster_is(k, "endpoint"))
			slot = &endpoint;
		else if (cluster_is(k, "hostname"))
			slot = &hostname;
		else if (cluster_is(k, "role"))
			slot = &rl;
		else if (cluster_is(k, "health"))
			slot = &health;
		else if (cluster_is(k, "replication-offset"))
			slot = &offset;
		else
			continue;	/* tls-port, and what comes later */
		if (*slot != NULL) {
			snprintf(why, whylen, "node field \"%.*s\" given "
			    "twice", (int)k->len, k->str);
			return -1;
		}
		*slot = v;
		if ((slot == &port || slot == &offset) ?
		    v->type != REDIS_REPLY_INTEGER :
		    v->type != REDIS_REPLY_STRING &&
		    v->type != REDIS_REPLY_STATUS) {
			snprintf(why, whylen, "node field \"%.*s\" has the "
			    "wrong type (%d)", (int)k->len, k->str, v->type);
			return -1;
		}
	}
	if (id == NULL || rl == NULL) {
		snprintf(why, whylen, "a node without %s", id == NULL ? "id" :
		    "role");
		return -1;
	}
	if (id->len == 0 || id->len >= CLUSTER_ID_MAX ||
	    !cluster_host_ok(id->str, id->len)) {
		snprintf(why, whylen, "a node with a bad id");
		return -1;
	}
	if (cluster_is(rl, "master"))
		*role = CLUSTER_ROLE_MASTER;
	else if (cluster_is(rl, "replica"))
		*role = CLUSTER_ROLE_REPLICA;
	else {
		snprintf(why, whylen, "node %.*s has an unknown role",
		    (int)id->len, id->str);
		return -1;
	}
	if (port != NULL && (port->integer < 0 || port->integer > 65535)) {
		snprintf(why, whylen, "node %.*s has a bad port %lld",
		    (int)id->len, id->str, port->integer);
		return -1;
	}
	memset(n, 0, sizeof *n);
	memcpy(n->id, id->str, id->len);
	n->online = health != NULL && cluster_is(health, "online");
	n->offset = offset != NULL ? offset->integer : 0;
	addr = cluster_has_addr(ip) ? ip : cluster_has_addr(endpoint) ?
	    endpoint : cluster_has_addr(hostname) ? hostname : NULL;
	/* Port 0: a TLS-only node, which this client cannot reach. */
	if (addr == NULL || port == NULL || port->integer == 0)
		return 0;
	if (!cluster_host_ok(addr->str, addr->len)) {
		snprintf(why, whylen, "node %s has a bad address", n->id);
		return -1;
	}
	memcpy(n->host, addr->str, addr->len);
	n->port = (int)port->integer;
	return 1;
}

/* Reads the "slots" list R of shard S (a flat list of start, end) into
 * M's owners. */
static int
cluster_slots_parse(const redisReply *r, struct cluster_map *m, size_t s,
    char *why, size_t whylen)
{
	const redisReply	*a, *b;
	size_t			 i;
	long long		 j;

	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0 ||
	    r->elements > 2 * CLUSTER_SLOTS) {
		snprintf(why, whylen, "shard %zu: slots are not a list of "
		    "ranges", s);
		return -1;
	}
	for (i = 0; i < r->elements; i += 2) {
		a = r->element[i];
		b = r->element[i + 1];
		if (a->type != REDIS_REPLY_INTEGER ||
		    b->type != REDIS_REPLY_INTEGER || a->integer < 0 ||
		    a->integer > b->integer || b->integer >= CLUSTER_SLOTS) {
			snprintf(why, whylen, "shard %zu: a bad slot range",
			    s);
			return -1;
		}
		for (j = a->integer; j <= b->integer; j++) {
			if (m->owner[j] != CLUSTER_NO_SHARD) {
				snprintf(why, whylen, "slot %lld is in shards "
				    "%u and %zu", j, m->owner[j], s);
				return -1;
			}
			m->owner[j] = (uint16_t)s;
		}
		m->shards[s].nslots += (size_t)(b->integer - a->integer + 1);
	}
	return 0;
}

/* Reads the "nodes" list R of shard S. Of several masters (an old one
 * that failed beside the one that took over) the first online one is
 * taken, else the first. */
static int
cluster_nodes_parse(const redisReply *r, struct cluster_map *m, size_t s,
    char *why, size_t whylen)
{
	struct cluster_shard	*sh = &m->shards[s];
	struct cluster_node	 n, replicas[CLUSTER_NODES_MAX];
	enum cluster_role	 role;
	char			 nwhy[200];
	size_t			 i, nrep = 0;
	int			 rc;

	if (r->type != REDIS_REPLY_ARRAY) {
		snprintf(why, whylen, "shard %zu: nodes are not a list", s);
		return -1;
	}
	if (r->elements > CLUSTER_NODES_MAX) {
		snprintf(why, whylen, "shard %zu: more than %d nodes", s,
		    CLUSTER_NODES_MAX);
		return -1;
	}
	for (i = 0; i < r->elements; i++) {
		rc = cluster_node_parse(r->element[i], &n, &role, nwhy,
		    sizeof nwhy);
		if (rc == -1) {
			snprintf(why, whylen, "shard %zu: %s", s, nwhy);
			return -1;
		}
		if (rc == 0)
			continue;
		if (role == CLUSTER_ROLE_REPLICA)
			replicas[nrep++] = n;
		else if (!sh->has_master || (!sh->master.online && n.online)) {
			sh->master = n;
			sh->has_master = 1;
		}
	}
	/* Only as much as the shard really has (an empty list included). */
	sh->replicas = xcalloc(nrep + 1, sizeof *sh->replicas);
	memcpy(sh->replicas, replicas, nrep * sizeof *replicas);
	sh->nreplicas = nrep;
	return 0;
}

/* Reads shard R, the S-th, into M. */
static int
cluster_shard_parse(const redisReply *r, struct cluster_map *m, size_t s,
    char *why, size_t whylen)
{
	const redisReply	*slots = NULL, *nodes = NULL, *k;
	size_t			 i;

	if (!cluster_is_pairs(r)) {
		snprintf(why, whylen, "shard %zu is not a list of name/value "
		    "pairs", s);
		return -1;
	}
	for (i = 0; i < r->elements; i += 2) {
		k = r->element[i];
		if (cluster_is(k, "slots") || cluster_is(k, "nodes")) {
			if ((cluster_is(k, "slots") ? slots : nodes) != NULL) {
				snprintf(why, whylen, "shard %zu: \"%.*s\" "
				    "given twice", s, (int)k->len, k->str);
				return -1;
			}
			if (cluster_is(k, "slots"))
				slots = r->element[i + 1];
			else
				nodes = r->element[i + 1];
		} else if (k->type != REDIS_REPLY_STRING &&
		    k->type != REDIS_REPLY_STATUS) {
			snprintf(why, whylen, "shard %zu: a field name is "
			    "not a string", s);
			return -1;
		}
	}
	if (slots == NULL || nodes == NULL) {
		snprintf(why, whylen, "shard %zu has no \"%s\"", s,
		    slots == NULL ? "slots" : "nodes");
		return -1;
	}
	return cluster_slots_parse(slots, m, s, why, whylen) == -1 ||
	    cluster_nodes_parse(nodes, m, s, why, whylen) == -1 ? -1 : 0;
}

void
cluster_reply_text(const char *s, size_t len, char *why, size_t whylen)
{
	size_t	i;

	if (whylen == 0)
		return;
	for (i = 0; i < len && i + 1 < whylen; i++)
		why[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	why[i] = '\0';
}

/* Copies error reply R's text into WHY as one printable line. */
static void
cluster_error_text(const redisReply *r, char *why, size_t whylen)
{
	if (whylen == 0)
		return;
	if (r->len == 0) {
		snprintf(why, whylen, "an empty error reply");
		return;
	}
	cluster_reply_text(r->str, r->len, why, whylen);
}

struct cluster_map *
cluster_map_parse(const redisReply *r, char *why, size_t whylen)
{
	struct cluster_map	*m;
	size_t			 i;

	if (r->type == REDIS_REPLY_ERROR) {
		cluster_error_text(r, why, whylen);
		return NULL;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		snprintf(why, whylen, "CLUSTER SHARDS: unexpected reply "
		    "(type %d)", r->type);
		return NULL;
	}
	if (r->elements > CLUSTER_SHARDS_MAX) {
		snprintf(why, whylen, "CLUSTER SHARDS: more than %d shards",
		    CLUSTER_SHARDS_MAX);
		return NULL;
	}
	m = xcalloc(1, sizeof *m);
	memset(m->owner, 0xff, sizeof m->owner);	/* CLUSTER_NO_SHARD */
	m->shards = xcalloc(r->elements + 1, sizeof *m->shards);
	m->nshards = r->elements;
	for (i = 0; i < r->elements; i++)
		if (cluster_shard_parse(r->element[i], m, i, why, whylen) ==
		    -1) {
			cluster_map_free(m);
			return NULL;
		}
	/* A shard with no master to send its slots to owns none of them. */
	for (i = 0; i < CLUSTER_SLOTS; i++) {
		if (m->owner[i] != CLUSTER_NO_SHARD &&
		    !m->shards[m->owner[i]].has_master)
			m->owner[i] = CLUSTER_NO_SHARD;
		if (m->owner[i] == CLUSTER_NO_SHARD && m->unowned++ == 0)
			m->first_unowned = (unsigned)i;
	}
	return m;
}

void
cluster_map_free(struct cluster_map *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nshards; i++)
		free(m->shards[i].replicas);
	free(m->shards);
	free(m);
}

const struct cluster_shard *
cluster_map_shard(const struct cluster_map *m, unsigned slot)
{
	if (slot >= CLUSTER_SLOTS || m->owner[slot] == CLUSTER_NO_SHARD)
		return NULL;
	return &m->shards[m->owner[slot]];
}

int
cluster_redirect_parse(const char *s, size_t len,
    struct cluster_redirect *out, char *why, size_t whylen)
{
	const char	*p, *end = s + len, *host, *hend, *colon;
	unsigned long	 v;
	size_t		 n;

	memset(out, 0, sizeof *out);
	if (len > 6 && memcmp(s, "MOVED ", 6) == 0)
		p = s + 6;
	else if (len > 4 && memcmp(s, "ASK ", 4) == 0) {
		out->ask = 1;
		p = s + 4;
	} else {
		snprintf(why, whylen, "not a MOVED or ASK error");
		return -1;
	}
	for (v = 0, n = 0; p < end && *p >= '0' && *p <= '9'; p++, n++)
		if ((v = v * 10 + (unsigned long)(*p - '0')) >= CLUSTER_SLOTS)
			break;
	if (n == 0 || v >= CLUSTER_SLOTS || p == end || *p != ' ') {
		snprintf(why, whylen, "%s: a bad slot", out->ask ? "ASK" :
		    "MOVED");
		return -1;
	}
	out->slot = (unsigned)v;
	host = ++p;
	/* [addr]:port, or host:port split at the last ':' (Redis writes
	 * IPv6 addresses without brackets), or :port for the same host. */
	if (p < end && *p == '[') {
		host = p + 1;
		if ((hend = memchr(host, ']', (size_t)(end - host))) == NULL ||
		    hend + 1 == end || hend[1] != ':') {
			snprintf(why, whylen, "%s: a bad address",
			    out->ask ? "ASK" : "MOVED");
			return -1;
		}
		colon = hend + 1;
	} else {
		for (colon = NULL; p < end; p++)
			if (*p == ':')
				colon = p;
		hend = colon;
	}
	if (colon == NULL || (hend > host && !cluster_host_ok(host,
	    (size_t)(hend - host))) || (hend == host && host[-1] == '[')) {
		snprintf(why, whylen, "%s: a bad address", out->ask ? "ASK" :
		    "MOVED");
		return -1;
	}
	for (v = 0, n = 0, p = colon + 1; p < end && *p >= '0' && *p <= '9';
	    p++, n++)
		if ((v = v * 10 + (unsigned long)(*p - '0')) > 65535)
			break;
	if (n == 0 || v < 1 || v > 65535 || p != end) {
		snprintf(why, whylen, "%s: a bad port", out->ask ? "ASK" :
		    "MOVED");
		return -1;
	}
	memcpy(out->host, host, (size_t)(hend - host));
	out->port = (int)v;
	return 0;
}
