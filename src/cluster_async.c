/* sse-fcgi - MIT License
 *
 * The cluster on the event loop (see cluster_async.h). It owns the map,
 * one node per address it talked to (a redis_conn and a hiredis async
 * context, opened on demand) and every command until its callback has
 * run. Replies are read by cluster_sync_classify_slot() and tries are
 * paced by cluster_sync_pause(), as the blocking twin does; the map is
 * fetched in the same order too (cluster_fetch_order): the node that gave
 * the last one, the seeds, then the nodes of the old map.
 *
 * A command is in one of four states: due (its timer fires at once or
 * after a pause, then it is routed), waiting for a map, sent to a node
 * (its timer is the deadline), or done. A command whose deadline passes
 * while it is out is answered then and freed when hiredis gives it back.
 * A node is freed only when nothing of ours is out on it: a node that is
 * no master of a new map is closed then, or at a later map.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "cluster_async.h"
#include "cluster_map.h"
#include "cluster_nodes.h"
#include "cluster_sync.h"
#include "dict.h"
#include "log.h"
#include "monotime.h"
#include "redis_conn.h"
#include "redis_url.h"
#include "xmalloc.h"

#define CA_HOPS_FREE		3	/* redirections followed at once */
#define CA_FETCH_NODE_MS	2000	/* one node's time to give a map */
#define CA_BACKOFF_FIRST_MS	200
#define CA_BACKOFF_MAX_MS	2000
#define CA_WHY_MAX		(CLUSTER_SYNC_ERR_MAX + 300)
#define CA_ERR_MAX		(CA_WHY_MAX + CLUSTER_ADDR_MAX + 100)

/* A node we talk to. */
struct ca_node {
	struct cluster_async	*ca;
	char			 host[CLUSTER_HOST_MAX];
	int			 port;
	char			 addr[CLUSTER_ADDR_MAX];
	struct redis_conn	*rc;
	redisAsyncContext	*ac;		/* NULL until needed */
	int			 connected;	/* ac's connect succeeded */
	unsigned		 inflight;	/* our callbacks out on ac */
	long long		 heard_ms;	/* its last reply (monotime) */
	struct ca_node		*prev, *next;
};

enum ca_state {
	CA_DUE = 0,		/* ev routes it */
	CA_MAPWAIT,		/* until a fetch ends; ev is the deadline */
	CA_SENT,		/* out on node; ev is the deadline */
	CA_FAIL,		/* ev fails it with its why */
	CA_DONE			/* answered; hiredis still has it */
};

struct ca_cmd {
	struct cluster_async	*ca;
	enum ca_state		 state;
	unsigned		 slot;
	int			 argc;
	char			**argv;
	size_t			*argl;
	unsigned		 timeout_ms;
	long long		 deadline;
	unsigned		 tries, hops;
	int			 asking, direct, moved;
	struct cluster_addr	 to, moved_from, moved_to;
	char			 why[CA_WHY_MAX];	/* the last wait, or
						 * the failure */
	struct ca_node		*node;		/* while out on it */
	long long		 sent_ms;	/* when it went out (monotime) */
	struct event		*ev;
	cluster_async_fn	 fn;
	void			*arg;
	struct ca_cmd		*prev, *next;
};

enum ca_fetch_state {
	CA_FETCH_IDLE = 0,
	CA_FETCH_RUNNING,
	CA_FETCH_BACKOFF,	/* no node answered: retry_ev starts one */
	CA_FETCH_DEFERRED	/* the last one started less than the gap
				 * ago: retry_ev starts one */
};

/* A CLUSTER SHARDS out on a node; stale once the fetch moved on. */
struct ca_fetch_req {
	struct cluster_async	*ca;
	struct ca_node		*node;
	unsigned long		 gen;
};

struct cluster_async {
	struct event_base	*base;
	struct redis_url	 url;
	char			 desc[256];
	struct cluster_map	*map;
	unsigned long		 maps;
	cluster_async_map_fn	 map_fn;
	void			*map_arg;
	struct cluster_addr	 last;		/* the node that gave it */
	struct dict		*node_by_addr;
	struct ca_node		*nodes;
	struct ca_cmd		*cmds;		/* not done */
	int			 closing;
	/* The fetch. */
	enum ca_fetch_state	 fstate;
	int			 again;		/* asked for while running */
	unsigned long		 gen;		/* of the request awaited */
	long long		 fstarted;	/* the round's start */
	struct cluster_addr	*cand;
	size_t			 ncand, icand;
	char			 fwhy[CLUSTER_SYNC_ERR_MAX];	/* this one */
	char			 ferr[CLUSTER_SYNC_ERR_MAX];	/* last fail */
	unsigned		 fails;		/* rounds in a row */
	struct event		*fetch_ev;	/* one node's time */
	struct event		*retry_ev;	/* the backoff */
	struct event		*tick_ev;	/* the periodic refresh */
};

static void	ca_cmd_route(struct ca_cmd *);
static void	ca_fetch_next(struct cluster_async *);

static void
ca_arm(struct event *ev, long ms)
{
	struct timeval	tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

struct cluster_async *
cluster_async_create(struct event_base *base, const char *url, char *err,
    size_t errlen)
{
	struct cluster_async	*ca;

	ca = xcalloc(1, sizeof *ca);
	if (cluster_url_prepare(url, &ca->url, ca->desc, sizeof ca->desc,
	    err, errlen) == -1) {
		free(ca);
		return NULL;
	}
	ca->base = base;
	ca->node_by_addr = dict_create();
	return ca;
}

const char *
cluster_async_describe(const struct cluster_async *ca)
{
	return ca->desc;
}

const struct redis_url *
cluster_async_url(const struct cluster_async *ca)
{
	return &ca->url;
}

void
cluster_async_on_map(struct cluster_async *ca, cluster_async_map_fn fn,
    void *arg)
{
	ca->map_fn = fn;
	ca->map_arg = arg;
}

const struct cluster_map *
cluster_async_map(const struct cluster_async *ca)
{
	return ca->map;
}

unsigned long
cluster_async_maps(const struct cluster_async *ca)
{
	return ca->maps;
}

/* Nodes. */

static void
ca_node_on_connect(const redisAsyncContext *ac, int status)
{
	struct ca_node	*n = ac->data;

	if (n == NULL)
		return;
	if (status == REDIS_OK) {
		n->connected = 1;
		return;
	}
	/* hiredis frees a context that never connected, without the
	 * disconnect callback; what was queued on it fails next, and reads
	 * as refused since connected is 0. */
	log_debug("cluster node %s: %s", n->addr, ac->errstr);
	n->ac = NULL;
}

static void
ca_node_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct ca_node	*n = ac->data;

	if (n == NULL)
		return;
	n->ac = NULL;
	n->connected = 0;
	if (status != REDIS_OK && !n->ca->closing) {
		log_warn("cluster node %s: connection lost: %s", n->addr,
		    ac->errstr);
		/* A node that went away may have taken slots with it. */
		cluster_async_refresh(n->ca);
	}
}

/* Closes N's connection; our callbacks out on it run now, failing. */
static void
ca_node_close(struct ca_node *n)
{
	redisAsyncContext	*ac = n->ac;

	if (ac == NULL)
		return;
	n->ac = NULL;
	redisAsyncFree(ac);
	n->connected = 0;
}

static void
ca_node_free(struct cluster_async *ca, struct ca_node *n)
{
	if (n->ac != NULL) {
		/* Nothing of ours is out on it; hiredis may still be in one of
		 * its callbacks and free it later: let it forget us. */
		n->ac->data = NULL;
		redisAsyncFree(n->ac);
		n->ac = NULL;
	}
	dict_del(ca->node_by_addr, n->addr, strlen(n->addr));
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		ca->nodes = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	redis_conn_free(n->rc);
	free(n);
}

/* The node at HOST:PORT with a connection (opening one if needed).
 * Returns it, or NULL with a reason in WHY. */
static struct ca_node *
ca_node_get(struct cluster_async *ca, const char *host, int port, char *why,
    size_t whylen)
{
	struct ca_node		*n;
	struct redis_conn	*rc;
	redisAsyncContext	*ac;
	char			 addr[CLUSTER_ADDR_MAX];
	int			 pending;

	cluster_addr_format(host, port, addr, sizeof addr);
	if ((n = dict_get(ca->node_by_addr, addr, strlen(addr))) == NULL) {
		if ((rc = redis_conn_create_node(&ca->url, host, port, why,
		    whylen)) == NULL)
			return NULL;
		n = xcalloc(1, sizeof *n);
		n->ca = ca;
		n->rc = rc;
		snprintf(n->host, sizeof n->host, "%s", host);
		n->port = port;
		snprintf(n->addr, sizeof n->addr, "%s", addr);
		dict_put(ca->node_by_addr, n->addr, strlen(n->addr), n);
		n->next = ca->nodes;
		if (ca->nodes != NULL)
			ca->nodes->prev = n;
		ca->nodes = n;
	}
	if (n->ac != NULL && !(n->ac->c.flags & (REDIS_DISCONNECTING |
	    REDIS_FREEING)))
		return n;
	if (n->ac != NULL) {
		/* Going away (a failed handshake): a fresh one. */
		n->ac->data = NULL;
		n->ac = NULL;
		n->connected = 0;
	}
	ac = redis_conn_async(n->rc, ca->base, "cluster node", NULL, NULL,
	    &pending, why, whylen);
	if (ac == NULL)
		return NULL;
	ac->data = n;
	redisAsyncSetConnectCallback(ac, ca_node_on_connect);
	redisAsyncSetDisconnectCallback(ac, ca_node_on_disconnect);
	n->ac = ac;
	n->connected = 0;
	return n;
}

/* Frees the nodes that are no masters of the map, have nothing out and
 * did not give the map. */
static void
ca_prune(struct cluster_async *ca)
{
	struct ca_node	*n, *next;

	for (n = ca->nodes; n != NULL; n = next) {
		next = n->next;
		/* The node that gave the map is asked first next time. */
		if (n->inflight == 0 && !cluster_is_master(ca->map, n->host,
		    n->port) && !(n->port == ca->last.port &&
		    strcmp(n->host, ca->last.host) == 0))
			ca_node_free(ca, n);
	}
}

/* The map. */

/* The round is over: commands waiting for it go on (with the old map, if
 * any), or fail when there has never been one. */
static void
ca_fetch_done(struct cluster_async *ca)
{
	struct ca_cmd	*c;

	/* Each goes on from its own timer: callbacks run from the loop,
	 * never from inside a call of ours. */
	for (c = ca->cmds; c != NULL; c = c->next) {
		if (c->state != CA_MAPWAIT)
			continue;
		if (ca->map == NULL && ca->ferr[0] != '\0') {
			snprintf(c->why, sizeof c->why, "no seed of %s gave "
			    "the cluster's shards: %s", ca->desc, ca->ferr);
			c->state = CA_FAIL;
		} else
			c->state = CA_DUE;
		event_del(c->ev);
		event_active(c->ev, EV_TIMEOUT, 0);
	}
}

static void
ca_fetch_start(struct cluster_async *ca)
{
	ca->fstate = CA_FETCH_RUNNING;
	ca->again = 0;
	ca->fstarted = monotime_ms();
	free(ca->cand);
	ca->cand = cluster_fetch_order(&ca->last, &ca->url, ca->map,
	    &ca->ncand);
	ca->icand = 0;
	ca->fwhy[0] = '\0';
	ca_fetch_next(ca);
}

/* No node answered: the next round after a pause (200 ms doubling to
 * 2 s); meanwhile the commands go on with the old map, if there is one. */
static void
ca_fetch_failed(struct cluster_async *ca)
{
	long	ms = CA_BACKOFF_MAX_MS;

	ca->fails++;
	if (ca->fails < 6)
		ms = (long)CA_BACKOFF_FIRST_MS << (ca->fails - 1);
	if (ms > CA_BACKOFF_MAX_MS)
		ms = CA_BACKOFF_MAX_MS;
	snprintf(ca->ferr, sizeof ca->ferr, "%s", ca->fwhy);
	/* Once per outage, not every round. */
	if (ca->fails == 1)
		log_warn("no node of %s gave the cluster's shards (trying "
		    "again every %d ms at most): %s", ca->desc,
		    CA_BACKOFF_MAX_MS, ca->fwhy);
	else
		log_debug("no node of %s gave the cluster's shards (next try "
		    "in %ld ms): %s", ca->desc, ms, ca->fwhy);
	ca->fstate = CA_FETCH_BACKOFF;
	ca->again = 0;
	ca_arm(ca->retry_ev, ms);
	ca_fetch_done(ca);
}

/* A round now, or at the end of the gap after the start of the last one
 * when it gave a map (the first one, and one after a round that failed,
 * are not held up). */
static void
ca_fetch_soon(struct cluster_async *ca)
{
	long	wait = 0;

	if (ca->fstate != CA_FETCH_IDLE)
		return;
	if (ca->maps > 0)
		wait = (long)(ca->fstarted + CLUSTER_ASYNC_MIN_GAP_MS -
		    monotime_ms());
	if (wait <= 0) {
		ca_fetch_start(ca);
		return;
	}
	ca->fstate = CA_FETCH_DEFERRED;
	ca->again = 0;
	ca_arm(ca->retry_ev, wait);
}

static void
ca_fetch_got(struct cluster_async *ca, struct cluster_map *m,
    const struct cluster_addr *from)
{
	struct cluster_map	*old = ca->map;
	char			 addr[CLUSTER_ADDR_MAX];

	if (ca->fails > 0)
		log_info("%s gave the cluster's shards after %u rounds that "
		    "failed", cluster_addr_format(from->host, from->port, addr,
		    sizeof addr), ca->fails);
	ca->map = m;
	ca->maps++;
	ca->last = *from;
	ca->fails = 0;
	ca->ferr[0] = '\0';
	ca->fstate = CA_FETCH_IDLE;
	if (ca->map_fn != NULL)
		ca->map_fn(ca->map_arg, m);
	cluster_map_free(old);
	ca_prune(ca);
	ca_fetch_done(ca);
	if (ca->again && !ca->closing)
		ca_fetch_soon(ca);
}

static void
ca_on_shards(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ca_fetch_req	*req = priv;
	struct cluster_async	*ca = req->ca;
	struct cluster_map	*m;
	struct cluster_addr	 from;
	char			 why[512];

	req->node->inflight--;
	if (reply != NULL)
		req->node->heard_ms = monotime_ms();
	if (ca->closing || req->gen != ca->gen) {
		free(req);	/* given up on (the node's time ran out) */
		return;
	}
	evtimer_del(ca->fetch_ev);
	cluster_addr_set(&from, req->node->host, req->node->port);
	if (reply == NULL) {
		cluster_reasons_append(ca->fwhy, sizeof ca->fwhy,
		    req->node->addr, ac->errstr[0] ? ac->errstr :
		    "connection lost");
		m = NULL;
	} else if ((m = cluster_map_parse(reply, why, sizeof why)) == NULL)
		cluster_reasons_append(ca->fwhy, sizeof ca->fwhy,
		    req->node->addr, why);
	free(req);
	ca->icand++;
	if (m != NULL)
		ca_fetch_got(ca, m, &from);
	else
		ca_fetch_next(ca);
}

/* Asks the next candidate that was not asked yet in this round. */
static void
ca_fetch_next(struct cluster_async *ca)
{
	static const char	*argv[] = { "CLUSTER", "SHARDS" };
	static const size_t	 argl[] = { 7, 6 };
	struct cluster_addr	*t;
	struct ca_fetch_req	*req;
	struct ca_node		*n;
	char			 why[REDIS_CONN_ERR_MAX];
	char			 addr[CLUSTER_ADDR_MAX];

	for (; ca->icand < ca->ncand; ca->icand++) {
		t = &ca->cand[ca->icand];
		/* A node asked twice (the last one is a seed too) gets
		 * nothing new the second time. */
		if (cluster_addr_asked(ca->cand, ca->icand))
			continue;
		if ((n = ca_node_get(ca, t->host, t->port, why,
		    sizeof why)) == NULL) {
			cluster_reasons_append(ca->fwhy, sizeof ca->fwhy,
			    cluster_addr_format(t->host, t->port, addr,
			    sizeof addr), why);
			continue;
		}
		req = xcalloc(1, sizeof *req);
		req->ca = ca;
		req->node = n;
		req->gen = ++ca->gen;
		if (redisAsyncCommandArgv(n->ac, ca_on_shards, req, 2, argv,
		    argl) != REDIS_OK) {
			cluster_reasons_append(ca->fwhy, sizeof ca->fwhy,
			    n->addr, "cannot send");
			free(req);
			continue;
		}
		n->inflight++;
		/* A node that swallows packets leaves time for the rest. */
		ca_arm(ca->fetch_ev, CA_FETCH_NODE_MS);
		return;
	}
	ca_fetch_failed(ca);
}

/* The node asked took too long: the next one (its answer, if it ever
 * comes, is dropped). */
static void
ca_on_fetch_timer(evutil_socket_t fd, short what, void *arg)
{
	struct cluster_async	*ca = arg;
	char			 addr[CLUSTER_ADDR_MAX], text[64];
	struct cluster_addr	*t = &ca->cand[ca->icand];
	struct ca_node		*n;

	snprintf(text, sizeof text, "no answer in %d ms", CA_FETCH_NODE_MS);
	cluster_addr_format(t->host, t->port, addr, sizeof addr);
	cluster_reasons_append(ca->fwhy, sizeof ca->fwhy, addr, text);
	ca->gen++;		/* its answer, if it ever comes, is stale */
	/* Silent: its connection goes, so what is out on it fails now
	 * instead of piling up. */
	if ((n = dict_get(ca->node_by_addr, addr, strlen(addr))) != NULL)
		ca_node_close(n);
	ca->icand++;
	ca_fetch_next(ca);
}

static void
ca_on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct cluster_async	*ca = arg;

	if (ca->fstate == CA_FETCH_BACKOFF || ca->fstate == CA_FETCH_DEFERRED)
		ca_fetch_start(ca);
}

static void
ca_on_tick(evutil_socket_t fd, short what, void *arg)
{
	cluster_async_refresh(arg);
}

void
cluster_async_refresh(struct cluster_async *ca)
{
	if (ca->closing)
		return;
	if (ca->fetch_ev == NULL) {
		ca->fetch_ev = evtimer_new(ca->base, ca_on_fetch_timer, ca);
		ca->retry_ev = evtimer_new(ca->base, ca_on_retry, ca);
	}
	switch (ca->fstate) {
	case CA_FETCH_IDLE:
		ca_fetch_soon(ca);
		break;
	case CA_FETCH_RUNNING:
		ca->again = 1;
		break;
	case CA_FETCH_BACKOFF:
	case CA_FETCH_DEFERRED:
		break;		/* retry_ev starts the next round */
	}
}

void
cluster_async_start(struct cluster_async *ca)
{
	struct timeval	tv;

	if (ca->tick_ev == NULL) {
		ca->tick_ev = event_new(ca->base, -1, EV_PERSIST, ca_on_tick,
		    ca);
		tv.tv_sec = CLUSTER_ASYNC_REFRESH_MS / 1000;
		tv.tv_usec = (CLUSTER_ASYNC_REFRESH_MS % 1000) * 1000;
		event_add(ca->tick_ev, &tv);
	}
	cluster_async_refresh(ca);
}

/* Commands. */

static void
ca_cmd_free(struct ca_cmd *c)
{
	int	i;

	for (i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	free(c->argl);
	event_free(c->ev);
	free(c);
}

/* Answers C: R, or ERR. Freed now, or when hiredis gives it back. */
static void
ca_cmd_finish(struct ca_cmd *c, const redisReply *r, const char *err)
{
	struct cluster_async	*ca = c->ca;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ca->cmds = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	event_del(c->ev);
	c->state = CA_DONE;
	c->fn(c->arg, r, r != NULL ? NULL : err);
	if (c->node == NULL)
		ca_cmd_free(c);
}

/* Something to wait out (KIND: busy, or unreachable) before trying again,
 * while there is time; the reason is in C's why. */
static void
ca_cmd_wait(struct ca_cmd *c, enum cluster_sync_kind kind)
{
	char	err[CA_ERR_MAX];
	long	pause;

	/* The cluster is changing under us: a new map meanwhile. */
	cluster_async_refresh(c->ca);
	c->asking = c->direct = c->moved = 0;
	c->hops = 0;
	pause = cluster_sync_pause(++c->tries, (long)(c->deadline -
	    monotime_ms()));
	if (pause < 0) {
		snprintf(err, sizeof err, "%s (%s; still so after %u ms)",
		    kind == CLUSTER_SYNC_LOST ? "cluster node unreachable" :
		    "cluster busy", c->why, c->timeout_ms);
		ca_cmd_finish(c, NULL, err);
		return;
	}
	c->state = CA_DUE;
	ca_arm(c->ev, pause);
}

/* Waits for the end of a fetch, at most until the deadline: one that
 * starts after now when FRESH (the map is stale), else the one running,
 * if any. */
static void
ca_cmd_mapwait(struct ca_cmd *c, int fresh)
{
	c->state = CA_MAPWAIT;
	ca_arm(c->ev, (long)(c->deadline - monotime_ms()));
	if (fresh || c->ca->fstate == CA_FETCH_IDLE)
		cluster_async_refresh(c->ca);
}

static void
ca_cmd_on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct ca_cmd		*c = priv;
	struct cluster_async	*ca = c->ca;
	struct ca_node		*n = c->node;
	const redisReply	*r = reply;
	struct cluster_redirect	 rd;
	enum cluster_sync_kind	 kind;
	char			 err[CA_ERR_MAX];

	n->inflight--;
	c->node = NULL;
	if (reply != NULL)
		n->heard_ms = monotime_ms();
	if (c->state == CA_DONE) {
		ca_cmd_free(c);		/* answered at its deadline */
		return;
	}
	event_del(c->ev);
	if (ca->closing) {
		ca_cmd_finish(c, NULL, "cluster client closed");
		return;
	}
	if (r == NULL) {
		if (n->connected) {
			/* It may have run: the caller decides. */
			snprintf(err, sizeof err, "%s: connection lost after "
			    "the command was sent (%s)", n->addr,
			    ac->errstr[0] ? ac->errstr : "closed");
			cluster_async_refresh(ca);
			ca_cmd_finish(c, NULL, err);
			return;
		}
		snprintf(c->why, sizeof c->why, "%s: %s", n->addr,
		    ac->errstr[0] ? ac->errstr : "connection refused");
		ca_cmd_wait(c, CLUSTER_SYNC_LOST);
		return;
	}
	kind = cluster_sync_classify_slot(r, c->slot, &rd, c->why,
	    sizeof c->why);
	c->asking = 0;
	switch (kind) {
	case CLUSTER_SYNC_ANSWER:
		ca_cmd_finish(c, r, NULL);
		return;
	case CLUSTER_SYNC_BAD:
		snprintf(err, sizeof err, "%s: %s", n->addr, c->why);
		ca_cmd_finish(c, NULL, err);
		return;
	case CLUSTER_SYNC_MOVED:
	case CLUSTER_SYNC_ASK:
		/* "" names the node that answered. */
		if (rd.host[0] == '\0')
			snprintf(rd.host, sizeof rd.host, "%s", n->host);
		if (++c->hops > CA_HOPS_FREE) {
			snprintf(c->why, sizeof c->why, "redirected %u times, "
			    "last to %s:%d", c->hops, rd.host, rd.port);
			ca_cmd_wait(c, CLUSTER_SYNC_WAIT);
			return;
		}
		if (kind == CLUSTER_SYNC_ASK) {
			cluster_addr_set(&c->to, rd.host, rd.port);
			c->asking = c->direct = 1;
			ca_cmd_route(c);
			return;
		}
		/* The map that comes may lag behind this MOVED. */
		cluster_addr_set(&c->moved_from, n->host, n->port);
		cluster_addr_set(&c->moved_to, rd.host, rd.port);
		c->moved = 1;
		ca_cmd_mapwait(c, 1);
		return;
	case CLUSTER_SYNC_WAIT:
	case CLUSTER_SYNC_LOST:
		ca_cmd_wait(c, kind);
		return;
	}
}

/* Sends C where the map (or a redirection) says. */
static void
ca_cmd_route(struct ca_cmd *c)
{
	struct cluster_async		*ca = c->ca;
	const struct cluster_shard	*sh;
	struct ca_node			*n;
	char				 why[REDIS_CONN_ERR_MAX];
	char				 addr[CLUSTER_ADDR_MAX];
	long				 left;

	if (!c->direct) {
		if (ca->map == NULL) {
			ca_cmd_mapwait(c, 0);
			return;
		}
		if ((sh = cluster_map_shard(ca->map, c->slot)) == NULL) {
			snprintf(c->why, sizeof c->why, "slot %u has no "
			    "master in the map", c->slot);
			ca_cmd_wait(c, CLUSTER_SYNC_WAIT);
			return;
		}
		cluster_addr_set(&c->to, sh->master.host, sh->master.port);
		if (c->moved && c->to.port == c->moved_from.port &&
		    strcmp(c->to.host, c->moved_from.host) == 0)
			c->to = c->moved_to;
	}
	c->direct = c->moved = 0;
	left = (long)(c->deadline - monotime_ms());
	cluster_addr_format(c->to.host, c->to.port, addr, sizeof addr);
	if (left <= 0) {
		snprintf(c->why, sizeof c->why, "out of time");
		ca_cmd_wait(c, CLUSTER_SYNC_LOST);
		return;
	}
	if ((n = ca_node_get(ca, c->to.host, c->to.port, why,
	    sizeof why)) == NULL) {
		snprintf(c->why, sizeof c->why, "%s: %s", addr, why);
		ca_cmd_wait(c, CLUSTER_SYNC_LOST);
		return;
	}
	if ((c->asking && redisAsyncCommand(n->ac, NULL, NULL,
	    "ASKING") != REDIS_OK) || redisAsyncCommandArgv(n->ac,
	    ca_cmd_on_reply, c, c->argc, (const char **)c->argv,
	    c->argl) != REDIS_OK) {
		snprintf(c->why, sizeof c->why, "%s: cannot send", addr);
		ca_node_close(n);
		ca_cmd_wait(c, CLUSTER_SYNC_LOST);
		return;
	}
	n->inflight++;
	c->node = n;
	c->sent_ms = monotime_ms();
	c->state = CA_SENT;
	ca_arm(c->ev, left);
}

/* C's timer: it is due, or its deadline passed where it waits. */
static void
ca_cmd_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ca_cmd		*c = arg;
	struct cluster_async	*ca = c->ca;
	struct ca_node		*n;
	char			 err[CA_ERR_MAX];

	switch (c->state) {
	case CA_DUE:
		ca_cmd_route(c);
		return;
	case CA_MAPWAIT:
		if (ca->map == NULL && ca->ferr[0] != '\0')
			snprintf(err, sizeof err, "no seed of %s gave the "
			    "cluster's shards: %s", ca->desc, ca->ferr);
		else
			snprintf(err, sizeof err, "no map of %s in %u ms",
			    ca->desc, c->timeout_ms);
		ca_cmd_finish(c, NULL, err);
		return;
	case CA_FAIL:
		ca_cmd_finish(c, NULL, c->why);
		return;
	case CA_SENT:
		/* hiredis keeps it until the node answers or goes. */
		n = c->node;
		snprintf(err, sizeof err, "%s: no reply in %u ms", n->addr,
		    c->timeout_ms);
		ca_cmd_finish(c, NULL, err);
		/* A connect that never ends (a host gone without a refusal),
		 * or a connection silent since the command went out (a peer
		 * gone without a reset), holds the rest too and would pile
		 * up what times out on it: they try again on a new one,
		 * after a new map. A node that answered meanwhile is slow,
		 * not gone: it keeps its connection. */
		if (n->connected && n->heard_ms > c->sent_ms)
			return;
		ca_node_close(n);
		cluster_async_refresh(ca);
		return;
	case CA_DONE:
		return;
	}
}

void
cluster_async_command(struct cluster_async *ca, unsigned slot, int argc,
    const char **argv, const size_t *argl, unsigned timeout_ms,
    cluster_async_fn fn, void *arg)
{
	struct ca_cmd	*c;
	int		 i;

	c = xcalloc(1, sizeof *c);
	c->ca = ca;
	c->slot = slot;
	c->argc = argc > 0 ? argc : 0;
	c->argv = xcalloc((size_t)c->argc + 1, sizeof *c->argv);
	c->argl = xcalloc((size_t)c->argc + 1, sizeof *c->argl);
	for (i = 0; i < c->argc; i++) {
		c->argv[i] = xmalloc(argl[i] + 1);
		memcpy(c->argv[i], argv[i], argl[i]);
		c->argv[i][argl[i]] = '\0';
		c->argl[i] = argl[i];
	}
	c->timeout_ms = timeout_ms;
	c->deadline = monotime_ms() + timeout_ms;
	c->fn = fn;
	c->arg = arg;
	c->ev = evtimer_new(ca->base, ca_cmd_on_timer, c);
	c->next = ca->cmds;
	if (ca->cmds != NULL)
		ca->cmds->prev = c;
	ca->cmds = c;
	c->state = CA_DUE;
	if (slot >= CLUSTER_SLOTS || c->argc == 0) {
		/* Answered from the loop like any other. */
		snprintf(c->why, sizeof c->why, slot >= CLUSTER_SLOTS ?
		    "slot %u out of range" : "no command (slot %u)", slot);
		c->state = CA_FAIL;
	}
	event_active(c->ev, EV_TIMEOUT, 0);
}

void
cluster_async_free(struct cluster_async *ca)
{
	struct ca_node	*n, *next;

	if (ca == NULL)
		return;
	ca->closing = 1;
	/* Commands out on a node fail as hiredis gives them back, the others
	 * after; a callback that sends a command meanwhile gets it failed
	 * too (one that always sends another would never let this end). */
	for (n = ca->nodes; n != NULL; n = n->next)
		ca_node_close(n);
	while (ca->cmds != NULL)
		ca_cmd_finish(ca->cmds, NULL, "cluster client closed");
	for (n = ca->nodes; n != NULL; n = next) {
		next = n->next;
		ca_node_free(ca, n);
	}
	if (ca->fetch_ev != NULL) {
		event_free(ca->fetch_ev);
		event_free(ca->retry_ev);
	}
	if (ca->tick_ev != NULL)
		event_free(ca->tick_ev);
	dict_free(ca->node_by_addr);
	cluster_map_free(ca->map);
	free(ca->cand);
	redis_url_clear(&ca->url);
	free(ca);
}
