/* sse-fcgi - MIT License
 *
 * History reads over hiredis's async API and its libevent adapter (see
 * history.h). Requests are plain commands, so the async layer's pub/sub
 * pitfalls do not apply here. Requests gather in an open batch
 * (history_batch.h) for HISTORY_BATCH_MS, or until a call still out is
 * answered, or until the batch is full; then one EVAL carries them. A
 * request's ticket belongs to its batch; cancelling clears the ticket's
 * callback, and the reply (or the connection's end) frees the batch.
 * While the sentinels are asked where the master is (redis_conn), the
 * open batch waits and is sent, or failed, as soon as they answer.
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
#include "dict.h"
#include "history.h"
#include "history_batch.h"
#include "log.h"
#include "redis_conn.h"
#include "xmalloc.h"

#define HISTORY_BATCH_MS	2	/* a batch gathers requests this long */
/* A read in a cluster waits this long for a failover or a slot's move. */
#define HISTORY_CLUSTER_TIMEOUT_MS	10000

struct history {
	struct event_base	*base;
	struct redis_conn	*conn;
	char			*prefix;
	redisAsyncContext	*ac;
	struct history_batch	*open;		/* gathering, not sent yet */
	struct event		*batch_ev;	/* sends it; made on first use */
	unsigned		 inflight;	/* batches sent, not answered */
	struct cluster_async	*cluster;	/* NULL: one Redis */
	struct dict		*opens;		/* cluster: channel -> batch
						 * gathering */
	int			 closing;	/* history_free: no new reads */
};

static void	history_on_reply(redisAsyncContext *, void *, void *);
static void	history_send_opens(struct history *, const char *);

struct history *
history_create(struct event_base *base, const char *url, const char *prefix,
    char *err, size_t errlen)
{
	struct history	*h;

	h = xcalloc(1, sizeof *h);
	h->base = base;
	if ((h->conn = redis_conn_create(url, err, errlen)) == NULL) {
		free(h);
		return NULL;
	}
	h->prefix = xstrdup(prefix);
	return h;
}

struct history *
history_create_cluster(struct event_base *base, struct cluster_async *ca,
    const char *prefix)
{
	struct history	*h;

	h = xcalloc(1, sizeof *h);
	h->base = base;
	h->cluster = ca;
	h->opens = dict_create();
	h->prefix = xstrdup(prefix);
	return h;
}

int
history_is_cluster(const struct history *h)
{
	return h->cluster != NULL;
}

/* Fails the batch still gathering (its callbacks may ask for more: they
 * go into a new one). */
static void
history_fail_open(struct history *h, const char *err)
{
	struct history_batch	*b = h->open;

	h->open = NULL;
	if (b != NULL)
		history_batch_finish(b, NULL, err);
}

static void
history_on_cluster_reply(void *arg, const redisReply *r, const char *err)
{
	const char	*perr;

	perr = history_batch_finish(arg, r, r == NULL ? err : NULL);
	if (perr != NULL)
		log_error("resume: %s", perr);
}

struct history_opens {
	struct history_batch	**b;
	unsigned		 *slot;
	size_t			  n;
};

static void
history_take_open(const char *key, size_t klen, void *val, void *arg)
{
	struct history_opens	*o = arg;

	o->slot[o->n] = cluster_keyslot(key, klen);
	o->b[o->n++] = val;
}

/* Sends each channel's gathered batch to the channel's master; with
 * FAIL (at exit) fails them instead. */
static void
history_send_opens(struct history *h, const char *fail)
{
	struct history_opens	 o;
	const char		**argv;
	const size_t		*argl;
	size_t			 i, n = dict_count(h->opens);
	int			 argc;

	if (n == 0)
		return;
	o.b = xcalloc(n, sizeof *o.b);
	o.slot = xcalloc(n, sizeof *o.slot);
	o.n = 0;
	dict_foreach(h->opens, history_take_open, &o);
	/* Their callbacks may ask again: into new batches. */
	dict_free(h->opens);
	h->opens = dict_create();
	for (i = 0; i < o.n; i++) {
		if (fail != NULL) {
			history_batch_finish(o.b[i], NULL, fail);
			continue;
		}
		argc = history_batch_command(o.b[i], &argv, &argl);
		cluster_async_command(h->cluster, o.slot[i], argc, argv, argl,
		    HISTORY_CLUSTER_TIMEOUT_MS, history_on_cluster_reply,
		    o.b[i]);
	}
	free(o.b);
	free(o.slot);
}

void
history_free(struct history *h)
{
	if (h == NULL)
		return;
	h->closing = 1;		/* a failed read's callback cannot ask again */
	if (h->ac != NULL)
		redisAsyncFree(h->ac);	/* runs pending callbacks: failures */
	if (h->conn != NULL)
		redis_conn_cancel(h->conn);
	history_fail_open(h, "worker exiting");
	if (h->opens != NULL) {
		history_send_opens(h, "worker exiting");
		dict_free(h->opens);
	}
	if (h->batch_ev != NULL)
		event_free(h->batch_ev);
	redis_conn_free(h->conn);
	free(h->prefix);
	free(h);
}
static void
history_on_connect(const redisAsyncContext *ac, int status)
{
	struct history	*h = ac->data;

	if (status == REDIS_OK)
		return;
	log_error("history connection to redis: %s", ac->errstr);
	/* hiredis frees a context that never connected without calling the
	 * disconnect callback: forget it here. */
	if (h != NULL && h->ac == ac)
		h->ac = NULL;
}

static void
history_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct history	*h = ac->data;

	if (status != REDIS_OK)
		log_warn("history connection to redis lost: %s", ac->errstr);
	if (h != NULL && h->ac == ac)
		h->ac = NULL;
}

static void	history_on_located(void *, const char *);

/* Opens the connection if there is none. Returns 0 when there is one, 1
 * while the sentinels are asked (history_on_located follows), or -1. */
static int
history_connect(struct history *h)
{
	redisAsyncContext	*ac;
	char			 why[REDIS_CONN_ERR_MAX];
	int			 pending;

	if (h->ac != NULL)
		return 0;
	ac = redis_conn_async(h->conn, h->base, "history", history_on_located,
	    h, &pending, why, sizeof why);
	if (ac == NULL) {
		if (pending)
			return 1;
		log_error("history connection to redis: %s", why);
		return -1;
	}
	ac->data = h;
	redisAsyncSetConnectCallback(ac, history_on_connect);
	redisAsyncSetDisconnectCallback(ac, history_on_disconnect);
	h->ac = ac;
	return 0;
}

/* Sends the batch gathered so far; on failure its requests fail. While
 * the sentinels are asked it stays open: history_on_located sends it. */
static void
history_send(struct history *h)
{
	struct history_batch	*b;
	const char		**argv;
	const size_t		*argl;
	int			 argc;

	switch (history_connect(h)) {
	case 1:
		return;
	case -1:
		history_fail_open(h, "redis unavailable");
		return;
	}
	b = h->open;
	h->open = NULL;
	argc = history_batch_command(b, &argv, &argl);
	if (h->ac == NULL || redisAsyncCommandArgv(h->ac, history_on_reply, b,
	    argc, argv, argl) != REDIS_OK) {
		history_batch_finish(b, NULL, "cannot send to redis");
		return;
	}
	h->inflight++;
}

/* The sentinels have answered: the open batch goes, or fails. */
static void
history_on_located(void *arg, const char *err)
{
	struct history	*h = arg;

	if (err != NULL) {
		log_error("history connection to redis: %s", err);
		history_fail_open(h, err);
		return;
	}
	if (h->open != NULL)
		history_send(h);
}

/* The batch window ended (or the batch is full, or a reply came): send
 * what was gathered, unless a call is still out and the batch has room:
 * then its reply sends it, so the requests that come in meanwhile join. */
static void
history_on_batch(evutil_socket_t fd, short what, void *arg)
{
	struct history	*h = arg;

	if (h->cluster != NULL) {
		history_send_opens(h, NULL);
		return;
	}
	if (h->open == NULL)
		return;
	if (h->inflight > 0 && !history_batch_full(h->open))
		return;
	history_send(h);
}

static void
history_on_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct history		*h = ac->data;
	const char		*err;

	if (h != NULL && h->inflight > 0)
		h->inflight--;
	err = history_batch_finish(priv, r, r == NULL ? (ac->errstr[0] ?
	    ac->errstr : "redis connection lost") : NULL);
	if (err != NULL)
		log_error("resume: %s", err);
	if (h != NULL && h->open != NULL)
		event_active(h->batch_ev, EV_TIMEOUT, 0);
}

/* The batch gathering the request for CHANNELS (N of them), made if
 * there is none: one Redis gathers every channel in one batch; a cluster
 * one channel per batch (its keys' slot), and reads one at a time.
 * Returns NULL when there is no way to Redis. */
static struct history_batch *
history_open(struct history *h, const char *const *channels,
    const size_t *lens, size_t n)
{
	struct history_batch	*b;

	if (h->closing)
		return NULL;
	if (h->batch_ev == NULL)
		h->batch_ev = evtimer_new(h->base, history_on_batch, h);
	if (h->cluster != NULL) {
		if (n != 1)
			return NULL;
		if ((b = dict_get(h->opens, channels[0], lens[0])) == NULL) {
			b = history_batch_create_cluster(h->prefix,
			    channels[0], lens[0]);
			dict_put(h->opens, channels[0], lens[0], b);
		}
		return b;
	}
	if (history_connect(h) == -1)
		return NULL;
	if (h->open == NULL)
		h->open = history_batch_create(h->prefix);
	return h->open;
}

struct history_req *
history_resume(struct history *h, const char *const *channels,
    const size_t *lens, size_t n, const char *after, size_t budget,
    history_fn fn, void *arg)
{
	struct history_req	*q;
	struct history_batch	*b;
	struct timeval		 tv = { 0, HISTORY_BATCH_MS * 1000 };

	if ((b = history_open(h, channels, lens, n)) == NULL)
		return NULL;
	q = history_batch_add(b, channels, lens, n, after, budget, fn, arg);
	if (q == NULL)
		return NULL;
	/* Sent from the loop, never from here: FN must not run before the
	 * caller holds the handle. */
	if (history_batch_full(b))
		event_active(h->batch_ev, EV_TIMEOUT, 0);
	else if (!evtimer_pending(h->batch_ev, NULL))
		evtimer_add(h->batch_ev, &tv);
	return q;
}

struct history_req *
history_resume_from(struct history *h, const char *const *channels,
    const size_t *lens, size_t n, const struct history_from *from,
    size_t budget, history_fn fn, void *arg)
{
	struct history_req	*q;
	struct history_batch	*b;
	struct timeval		 tv = { 0, HISTORY_BATCH_MS * 1000 };

	if ((b = history_open(h, channels, lens, n)) == NULL)
		return NULL;
	q = history_batch_add_from(b, channels, lens, n, from, budget, fn,
	    arg);
	if (history_batch_full(b))
		event_active(h->batch_ev, EV_TIMEOUT, 0);
	else if (!evtimer_pending(h->batch_ev, NULL))
		evtimer_add(h->batch_ev, &tv);
	return q;
}
