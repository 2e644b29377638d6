/* sse-fcgi - MIT License
 *
 * Redis Cluster topology, without I/O: which slot a key is in
 * (cluster_keyslot), which shard serves each of the 16384 slots, read from
 * a CLUSTER SHARDS reply (cluster_map_parse), and where a MOVED or ASK
 * error sends a command (cluster_redirect_parse). The caller asks a node,
 * hands the reply here and owns the map it gets back; a map is never
 * changed after it is built, so a refresh builds a new one.
 *
 * A reply is refused whole, with a one-line reason, when its shape is not
 * the documented one (RESP2 arrays of name/value pairs); memory is bounded
 * by CLUSTER_SHARDS_MAX shards of CLUSTER_NODES_MAX nodes, whatever the
 * reply announces. A slot no usable master serves is not an error: it has
 * no owner (cluster_map_shard() gives NULL) and is counted in "unowned".
 */
#ifndef SSE_CLUSTER_MAP_H
#define SSE_CLUSTER_MAP_H

#include <stddef.h>
#include <stdint.h>

struct redisReply;

#define CLUSTER_SLOTS		16384
#define CLUSTER_SHARDS_MAX	1024
#define CLUSTER_NODES_MAX	32	/* per shard */
#define CLUSTER_HOST_MAX	256	/* a name, an IPv4 or IPv6 address */
#define CLUSTER_ID_MAX		41	/* 40 hex digits */
#define CLUSTER_NO_SHARD	0xffff

/* One node of a shard: where to reach it. */
struct cluster_node {
	char		 host[CLUSTER_HOST_MAX];	/* "ip", else
					 * "endpoint", else "hostname" */
	int		 port;
	char		 id[CLUSTER_ID_MAX];
	int		 online;	/* health is "online" */
	long long	 offset;	/* replication-offset */
};

struct cluster_shard {
	int			 has_master;	/* else no owner of its slots */
	struct cluster_node	 master;
	struct cluster_node	*replicas;
	size_t			 nreplicas;
	size_t			 nslots;	/* slots it claims (none
						 * served without a master) */
};

struct cluster_map {
	uint16_t		 owner[CLUSTER_SLOTS];	/* shard index, or
						 * CLUSTER_NO_SHARD */
	struct cluster_shard	*shards;
	size_t			 nshards;
	size_t			 unowned;	/* slots without an owner */
	unsigned		 first_unowned;	/* the lowest, if any */
};

/* A MOVED or ASK error: where slot SLOT is (for ASK: for one command). */
struct cluster_redirect {
	int		 ask;		/* 1 for ASK, 0 for MOVED */
	unsigned	 slot;
	char		 host[CLUSTER_HOST_MAX];	/* "" means the node
					 * that answered */
	int		 port;
};

/* The slot of the LEN bytes at KEY: CRC16 (XMODEM) mod 16384 of the key,
 * or of its hash tag (the bytes between the first '{' and the first '}'
 * after it, when there are some). */
unsigned	cluster_keyslot(const char *key, size_t len);

/* Builds a map from a CLUSTER SHARDS reply R. Returns it (free with
 * cluster_map_free), or NULL with a one-line reason in WHY (an error
 * reply's text, or what is wrong with the shape). */
struct cluster_map *cluster_map_parse(const struct redisReply *r, char *why,
		    size_t whylen);
void		cluster_map_free(struct cluster_map *);
/* The shard that serves SLOT, or NULL when none does (or SLOT is out of
 * range). */
const struct cluster_shard *cluster_map_shard(const struct cluster_map *,
		    unsigned slot);

/* Copies the LEN bytes at S (a reply's text) into WHY as one printable
 * line: control bytes as '?', cut to the room. */
void		cluster_reply_text(const char *s, size_t len, char *why,
		    size_t whylen);

/* Reads the LEN bytes at S, an error reply's text ("MOVED 3999
 * 127.0.0.1:6381", "ASK 3999 [::1]:6381", "MOVED 3999 :6381"), into
 * *OUT. Returns 0, or -1 with a reason in WHY (not a redirection, or a
 * bad slot, host or port). */
int		cluster_redirect_parse(const char *s, size_t len,
		    struct cluster_redirect *out, char *why, size_t whylen);

#endif
