/* sse-fcgi - MIT License
 *
 * The blocking cluster client (see cluster_sync.h). The map is fetched
 * when there is none and again after anything that says the topology
 * changed (a redirection, a wait, a lost connection); the node that last
 * gave a map is asked first, then the seeds, then the nodes of the old
 * map (cluster_fetch_order, as cluster_async does), so a dead seed costs
 * one refused connection per fetch at most. The
 * connections kept are those to the masters of the newest map: the others
 * (a seed that is a replica, a master that was demoted) are closed when it
 * comes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "cluster_map.h"
#include "cluster_nodes.h"
#include "cluster_sync.h"
#include "monotime.h"
#include "redis_conn.h"
#include "redis_url.h"
#include "xmalloc.h"

#define CS_PAUSE_FIRST_MS	20
#define CS_PAUSE_MAX_MS		500
#define CS_TRY_MIN_MS		20	/* left for the try after a pause */
#define CS_HOPS_FREE		3	/* redirections followed at once */
#define CS_FIXES_MAX		2

/* A node we talk to, and our connection to it (NULL once broken). */
struct cs_node {
	char		 host[CLUSTER_HOST_MAX];
	int		 port;
	redisContext	*c;
};

struct cluster_sync {
	struct redis_url	 url;
	char			 desc[256];
	struct cluster_map	*map;		/* NULL until one is fetched */
	int			 stale;		/* fetch again before use */
	struct cluster_addr	 last;		/* the node that gave it */
	struct cs_node		*nodes;
	size_t			 nnodes;
};

static void
cs_sleep_ms(long ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Whether the error text S (LEN bytes) starts with the word W. */
static int
cs_word(const char *s, size_t len, const char *w)
{
	size_t	n = strlen(w);

	return len >= n && memcmp(s, w, n) == 0 && (len == n || s[n] == ' ');
}

enum cluster_sync_kind
cluster_sync_classify(const redisReply *r, struct cluster_redirect *rd,
    char *why, size_t whylen)
{
	static const char *const waits[] = { "TRYAGAIN", "CLUSTERDOWN",
	    "LOADING", "MASTERDOWN", "READONLY" };
	char	 reason[200];
	size_t	 i;

	if (r == NULL) {
		snprintf(why, whylen, "no reply");
		return CLUSTER_SYNC_LOST;
	}
	if (r->type != REDIS_REPLY_ERROR || r->str == NULL)
		return CLUSTER_SYNC_ANSWER;
	if (cs_word(r->str, r->len, "MOVED") || cs_word(r->str, r->len,
	    "ASK")) {
		if (cluster_redirect_parse(r->str, r->len, rd, reason,
		    sizeof reason) == -1) {
			snprintf(why, whylen, "a redirection that cannot be "
			    "read (%s)", reason);
			return CLUSTER_SYNC_BAD;
		}
		return rd->ask ? CLUSTER_SYNC_ASK : CLUSTER_SYNC_MOVED;
	}
	for (i = 0; i < sizeof waits / sizeof waits[0]; i++) {
		if (cs_word(r->str, r->len, waits[i])) {
			cluster_reply_text(r->str, r->len, why, whylen);
			return CLUSTER_SYNC_WAIT;
		}
	}
	return CLUSTER_SYNC_ANSWER;
}

enum cluster_sync_kind
cluster_sync_classify_slot(const redisReply *r, unsigned slot,
    struct cluster_redirect *rd, char *why, size_t whylen)
{
	enum cluster_sync_kind	kind;

	kind = cluster_sync_classify(r, rd, why, whylen);
	if ((kind == CLUSTER_SYNC_MOVED || kind == CLUSTER_SYNC_ASK) &&
	    rd->slot != slot) {
		snprintf(why, whylen, "a redirection for slot %u, not %u",
		    rd->slot, slot);
		kind = CLUSTER_SYNC_BAD;
	}
	return kind;
}

long
cluster_sync_pause(unsigned n, long left_ms)
{
	long	p = CS_PAUSE_MAX_MS;

	if (left_ms <= CS_TRY_MIN_MS)
		return -1;
	if (n < 6)
		p = (long)CS_PAUSE_FIRST_MS << (n > 0 ? n - 1 : 0);
	if (p > CS_PAUSE_MAX_MS)
		p = CS_PAUSE_MAX_MS;
	if (p > left_ms - CS_TRY_MIN_MS)
		p = left_ms - CS_TRY_MIN_MS;
	return p;
}

struct cluster_sync *
cluster_sync_create(const char *url, char *err, size_t errlen)
{
	struct cluster_sync	*cs;

	cs = xcalloc(1, sizeof *cs);
	if (cluster_url_prepare(url, &cs->url, cs->desc, sizeof cs->desc,
	    err, errlen) == -1) {
		free(cs);
		return NULL;
	}
	return cs;
}

static void
cs_node_close(struct cs_node *n)
{
	if (n->c != NULL)
		redisFree(n->c);
	n->c = NULL;
}

void
cluster_sync_free(struct cluster_sync *cs)
{
	size_t	i;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->nnodes; i++)
		cs_node_close(&cs->nodes[i]);
	free(cs->nodes);
	cluster_map_free(cs->map);
	redis_url_clear(&cs->url);
	free(cs);
}

const char *
cluster_sync_describe(const struct cluster_sync *cs)
{
	return cs->desc;
}

/* Closes and forgets the connections to nodes that are no masters of the
 * map any more. */
static void
cs_prune(struct cluster_sync *cs)
{
	size_t	i, keep = 0;

	for (i = 0; i < cs->nnodes; i++) {
		if (cs->nodes[i].c != NULL && cluster_is_master(cs->map,
		    cs->nodes[i].host, cs->nodes[i].port))
			cs->nodes[keep++] = cs->nodes[i];
		else
			cs_node_close(&cs->nodes[i]);
	}
	cs->nnodes = keep;
}

/* The connection to HOST:PORT, opened within LIMIT_MS if there is none.
 * Returns the node, or NULL with a reason in WHY. */
static struct cs_node *
cs_node_get(struct cluster_sync *cs, const char *host, int port,
    long limit_ms, char *why, size_t whylen)
{
	struct cs_node	*n = NULL;
	size_t		 i;

	for (i = 0; i < cs->nnodes; i++)
		if (cs->nodes[i].port == port &&
		    strcmp(cs->nodes[i].host, host) == 0)
			n = &cs->nodes[i];
	if (n != NULL && n->c != NULL && !n->c->err)
		return n;
	if (n == NULL) {
		cs->nodes = xrealloc(cs->nodes, (cs->nnodes + 1) *
		    sizeof *cs->nodes);
		n = &cs->nodes[cs->nnodes++];
		memset(n, 0, sizeof *n);
		snprintf(n->host, sizeof n->host, "%s", host);
		n->port = port;
	}
	cs_node_close(n);
	n->c = redis_conn_node_sync(&cs->url, host, port,
	    (unsigned)(limit_ms > 0 ? limit_ms : 1), why, whylen);
	return n->c != NULL ? n : NULL;
}

/* Sends the command on N's connection, after ASKING when ASKING, within
 * LIMIT_MS. Returns its reply, or NULL with N's connection closed and a
 * reason in WHY. */
static redisReply *
cs_send(struct cs_node *n, int asking, int argc, const char **argv,
    const size_t *argl, long limit_ms, char *why, size_t whylen)
{
	struct timeval	 tv;
	void		*r = NULL, *ok = NULL;

	tv.tv_sec = limit_ms / 1000;
	tv.tv_usec = (limit_ms % 1000) * 1000;
	redisSetTimeout(n->c, tv);
	if ((asking && redisAppendCommand(n->c, "ASKING") != REDIS_OK) ||
	    redisAppendCommandArgv(n->c, argc, argv, argl) != REDIS_OK ||
	    (asking && redisGetReply(n->c, &ok) != REDIS_OK) ||
	    redisGetReply(n->c, &r) != REDIS_OK) {
		snprintf(why, whylen, "%s", n->c->errstr[0] ? n->c->errstr :
		    "connection lost");
		if (ok != NULL)
			freeReplyObject(ok);
		cs_node_close(n);
		return NULL;
	}
	/* ASKING answers +OK; the command's reply says the rest. */
	if (ok != NULL)
		freeReplyObject(ok);
	return r;
}

/* Asks one node for CLUSTER SHARDS within LIMIT_MS; a map, or NULL with a
 * reason in WHY. */
static struct cluster_map *
cs_fetch(struct cluster_sync *cs, const char *host, int port, long limit_ms,
    char *why, size_t whylen)
{
	static const char	*argv[] = { "CLUSTER", "SHARDS" };
	static const size_t	 argl[] = { 7, 6 };
	struct cluster_map	*m;
	struct cs_node		*n;
	redisReply		*r;

	if ((n = cs_node_get(cs, host, port, limit_ms, why, whylen)) == NULL ||
	    (r = cs_send(n, 0, 2, argv, argl, limit_ms, why, whylen)) == NULL)
		return NULL;
	m = cluster_map_parse(r, why, whylen);
	freeReplyObject(r);
	return m;
}

/* A new map before DEADLINE: from the node that gave the last one, the
 * seeds, then the old map's nodes. Returns 0, or -1 with the reasons in
 * WHY (the old map, if any, is kept). */
static int
cs_refresh(struct cluster_sync *cs, long long deadline, char *why,
    size_t whylen)
{
	struct cluster_addr	*cand;
	struct cluster_map	*m = NULL;
	char			 addr[CLUSTER_ADDR_MAX], reason[512];
	size_t			 i, n;
	long			 left;

	cand = cluster_fetch_order(&cs->last, &cs->url, cs->map, &n);
	why[0] = '\0';
	for (i = 0; i < n && m == NULL; i++) {
		/* A node asked twice (the last one is a seed too) gets
		 * nothing new the second time. */
		if ((left = (long)(deadline - monotime_ms())) <= 0) {
			cluster_reasons_append(why, whylen, "and then",
			    "out of time");
			break;
		}
		if (cluster_addr_asked(cand, i))
			continue;
		/* A seed that swallows packets leaves time for the rest. */
		m = cs_fetch(cs, cand[i].host, cand[i].port, left > 400 ?
		    left / 2 : left, reason, sizeof reason);
		if (m == NULL)
			cluster_reasons_append(why, whylen,
			    cluster_addr_format(cand[i].host, cand[i].port,
			    addr, sizeof addr), reason);
		else
			cs->last = cand[i];
	}
	free(cand);
	if (m == NULL)
		return -1;
	cluster_map_free(cs->map);
	cs->map = m;
	cs->stale = 0;
	cs_prune(cs);
	return 0;
}

redisReply *
cluster_sync_command(struct cluster_sync *cs, unsigned slot, int argc,
    const char **argv, const size_t *argl, unsigned timeout_ms,
    cluster_sync_fix_fn fix, void *arg, char *err, size_t errlen)
{
	const struct cluster_shard *sh;
	struct cluster_redirect	 rd;
	struct cluster_addr	 to, moved_from, moved_to;
	struct cs_node		*n;
	enum cluster_sync_kind	 kind;
	redisReply		*r;
	char			 why[CLUSTER_SYNC_ERR_MAX];
	char			 addr[CLUSTER_ADDR_MAX];
	char			 reason[REDIS_CONN_ERR_MAX];
	long long		 deadline = monotime_ms() + timeout_ms;
	long			 left, pause;
	unsigned		 tries = 0, hops = 0, fixes = 0;
	int			 asking = 0, direct = 0, moved = 0, rc;

	if (slot >= CLUSTER_SLOTS) {
		snprintf(err, errlen, "slot %u out of range", slot);
		return NULL;
	}
	memset(&to, 0, sizeof to);
	memset(&moved_from, 0, sizeof moved_from);
	memset(&moved_to, 0, sizeof moved_to);
	addr[0] = '\0';
	for (;;) {
		left = (long)(deadline - monotime_ms());
		if (!direct) {
			if ((cs->map == NULL || cs->stale) &&
			    cs_refresh(cs, deadline, why, sizeof why) == -1 &&
			    cs->map == NULL) {
				/* Never a map: wrong seeds, or all down. */
				snprintf(err, errlen, "no seed of %s gave the "
				    "cluster's shards: %s", cs->desc, why);
				return NULL;
			}
			left = (long)(deadline - monotime_ms());
			if ((sh = cluster_map_shard(cs->map, slot)) == NULL) {
				snprintf(why, sizeof why, "slot %u has no "
				    "master in the map", slot);
				kind = CLUSTER_SYNC_WAIT;
				goto wait;
			}
			cluster_addr_set(&to, sh->master.host,
			    sh->master.port);
			/* A map that lags behind the MOVED we got. */
			if (moved && to.port == moved_from.port &&
			    strcmp(to.host, moved_from.host) == 0)
				to = moved_to;
		}
		direct = moved = 0;
		if (left <= 0) {
			snprintf(why, sizeof why, "out of time");
			kind = CLUSTER_SYNC_LOST;
			goto wait;
		}
		cluster_addr_format(to.host, to.port, addr, sizeof addr);
		/* A host that is gone (no refusal, no answer) must leave
		 * time to learn that its slots moved. */
		if ((n = cs_node_get(cs, to.host, to.port, left > 400 ?
		    left / 2 : left, reason, sizeof reason)) == NULL ||
		    (r = cs_send(n, asking, argc, argv, argl, left, reason,
		    sizeof reason)) == NULL) {
			snprintf(why, sizeof why, "%s: %s", addr, reason);
			kind = CLUSTER_SYNC_LOST;
			goto wait;
		}
		kind = cluster_sync_classify_slot(r, slot, &rd, why,
		    sizeof why);
		if (kind == CLUSTER_SYNC_ANSWER && r->type ==
		    REDIS_REPLY_ERROR && fix != NULL && fixes < CS_FIXES_MAX) {
			fixes++;
			rc = fix(arg, n->c, r, why, sizeof why);
			if (rc != 0)
				freeReplyObject(r);
			if (n->c->err) {
				if (rc == 0)
					freeReplyObject(r);
				snprintf(why, sizeof why, "%s: %s", addr,
				    n->c->errstr);
				cs_node_close(n);
				kind = CLUSTER_SYNC_LOST;
				goto wait;
			}
			if (rc == -1) {
				snprintf(err, errlen, "%s", why);
				return NULL;
			}
			if (rc == 1) {
				direct = 1;	/* the same node, as asked */
				continue;
			}
		}
		if (kind != CLUSTER_SYNC_ANSWER)
			freeReplyObject(r);
		asking = 0;
		switch (kind) {
		case CLUSTER_SYNC_ANSWER:
			return r;
		case CLUSTER_SYNC_BAD:
			snprintf(err, errlen, "%s: %s", addr, why);
			return NULL;
		case CLUSTER_SYNC_MOVED:
		case CLUSTER_SYNC_ASK:
			/* "" names the node that answered. */
			if (rd.host[0] == '\0')
				snprintf(rd.host, sizeof rd.host, "%s",
				    to.host);
			if (++hops > CS_HOPS_FREE) {
				snprintf(why, sizeof why, "redirected %u times, "
				    "last to %s:%d", hops, rd.host, rd.port);
				kind = CLUSTER_SYNC_WAIT;
				goto wait;
			}
			if (kind == CLUSTER_SYNC_ASK) {
				cluster_addr_set(&to, rd.host, rd.port);
				asking = direct = 1;
				continue;
			}
			moved_from = to;
			cluster_addr_set(&moved_to, rd.host, rd.port);
			moved = 1;
			cs->stale = 1;
			continue;
		case CLUSTER_SYNC_WAIT:
		case CLUSTER_SYNC_LOST:
			break;
		}
wait:
		/* The cluster is changing under us: a new map after a
		 * pause, while there is time. */
		cs->stale = 1;
		asking = direct = moved = 0;
		hops = 0;
		pause = cluster_sync_pause(++tries, (long)(deadline -
		    monotime_ms()));
		if (pause < 0) {
			snprintf(err, errlen, "%s (%s; still so after %u ms)",
			    kind == CLUSTER_SYNC_LOST ? "cluster node "
			    "unreachable" : "cluster busy", why, timeout_ms);
			return NULL;
		}
		cs_sleep_ms(pause);
	}
}
