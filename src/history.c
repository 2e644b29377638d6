/* sse-fcgi - MIT License
 *
 * History reads over hiredis's async API and its libevent adapter (see
 * history.h). Requests are plain commands, so the async layer's pub/sub
 * pitfalls do not apply here. A request owns a small ticket; cancelling
 * clears the ticket's callback, and the reply (or the connection's end)
 * frees it. While the sentinels are asked where the master is (redis_conn),
 * requests wait, already formatted, in a queue that is sent or failed as
 * soon as they answer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "history.h"
#include "log.h"
#include "redis_conn.h"
#include "scripts.h"
#include "xmalloc.h"

struct history {
	struct event_base	*base;
	struct redis_conn	*conn;
	char			*prefix;
	redisAsyncContext	*ac;
	struct history_req	*waiting;	/* for the sentinels, FIFO */
	struct history_req	**waiting_tail;
};

struct history_req {
	history_fn		 fn;	/* NULL once cancelled */
	void			*arg;
	size_t			 nchannels;
	struct event_id		 after;
	size_t			 max;
	char			*cmd;	/* formatted, while waiting */
	int			 cmdlen;
	struct history_req	*next;	/* in the waiting queue */
};

static void	history_on_reply(redisAsyncContext *, void *, void *);

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
	h->waiting_tail = &h->waiting;
	return h;
}

static void
history_req_free(struct history_req *q)
{
	free(q->cmd);
	free(q);
}

/* Fails every waiting request with ERR. The queue is taken first: a
 * callback may ask for more. */
static void
history_fail_waiting(struct history *h, const char *err)
{
	struct history_req	*q, *next;

	q = h->waiting;
	h->waiting = NULL;
	h->waiting_tail = &h->waiting;
	for (; q != NULL; q = next) {
		next = q->next;
		if (q->fn != NULL)
			q->fn(q->arg, NULL, err);
		history_req_free(q);
	}
}

void
history_free(struct history *h)
{
	if (h == NULL)
		return;
	if (h->ac != NULL)
		redisAsyncFree(h->ac);	/* runs pending callbacks: failures */
	redis_conn_cancel(h->conn);
	history_fail_waiting(h, "redis connection closed");
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

/* Sends Q's command, which the reply callback then owns. Returns 0, or
 * -1 with Q still the caller's. */
static int
history_send(struct history *h, struct history_req *q)
{
	if (redisAsyncFormattedCommand(h->ac, history_on_reply, q, q->cmd,
	    (size_t)q->cmdlen) != REDIS_OK)
		return -1;
	free(q->cmd);
	q->cmd = NULL;
	return 0;
}

/* The sentinels have answered: the waiting requests go, or fail. */
static void
history_on_located(void *arg, const char *err)
{
	struct history		*h = arg;
	struct history_req	*q, *next;

	if (err != NULL) {
		log_error("history connection to redis: %s", err);
		history_fail_waiting(h, err);
		return;
	}
	if (history_connect(h) != 0) {
		history_fail_waiting(h, "redis unreachable");
		return;
	}
	q = h->waiting;
	h->waiting = NULL;
	h->waiting_tail = &h->waiting;
	for (; q != NULL; q = next) {
		next = q->next;
		if (q->fn == NULL)
			history_req_free(q);
		else if (h->ac == NULL || history_send(h, q) == -1) {
			q->fn(q->arg, NULL, "redis connection lost");
			history_req_free(q);
		}
	}
}

static int
history_entry_cmp(const void *a, const void *b)
{
	return event_id_cmp(&((const struct history_entry *)a)->id,
	    &((const struct history_entry *)b)->id);
}

static int
history_is_str(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS;
}

/* Turns the script's reply into a snapshot; returns NULL-free text of
 * what is wrong, or NULL when it parsed. */
static const char *
history_parse(const struct history_req *q, const redisReply *r,
    struct history_snapshot *snap, int *gap, struct history_entry **out)
{
	const redisReply	*ch, *ents, *e, *fields;
	struct history_entry	*v = NULL;
	struct event_id		 maxdel;
	size_t			 i, j, k, n = 0, cap = 0;

	if (r->type == REDIS_REPLY_ERROR)
		return r->str;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != q->nchannels + 1 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER)
		return "unexpected reply to the resume script";
	snap->clock_seq = (uint64_t)r->element[0]->integer;
	for (i = 0; i < q->nchannels; i++) {
		ch = r->element[i + 1];
		if (ch->type != REDIS_REPLY_ARRAY || ch->elements != 3 ||
		    !history_is_str(ch->element[1]) ||
		    ch->element[2]->type != REDIS_REPLY_ARRAY ||
		    event_id_parse(ch->element[1]->str, ch->element[1]->len,
		    &maxdel) == -1)
			goto bad;
		gap[i] = HISTORY_GAP_NONE;
		if (q->after.seq > snap->clock_seq)
			gap[i] = HISTORY_GAP_UNKNOWN;
		else if (event_id_cmp(&maxdel, &q->after) > 0)
			gap[i] = HISTORY_GAP_TRIMMED;
		ents = ch->element[2];
		if (ents->elements >= q->max && gap[i] == HISTORY_GAP_NONE)
			gap[i] = HISTORY_GAP_TRUNCATED;
		for (j = 0; j < ents->elements; j++) {
			e = ents->element[j];
			if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
			    !history_is_str(e->element[0]) ||
			    e->element[1]->type != REDIS_REPLY_ARRAY)
				goto bad;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				v = xrealloc(v, cap * sizeof *v);
			}
			memset(&v[n], 0, sizeof v[n]);
			v[n].channel = i;
			v[n].event = "";
			v[n].data = "";
			if (event_id_parse(e->element[0]->str,
			    e->element[0]->len, &v[n].id) == -1)
				goto bad;
			v[n].id_text = e->element[0]->str;
			fields = e->element[1];
			for (k = 0; k + 1 < fields->elements; k += 2) {
				if (!history_is_str(fields->element[k]) ||
				    !history_is_str(fields->element[k + 1]))
					goto bad;
				if (strcmp(fields->element[k]->str, "d") == 0) {
					v[n].data = fields->element[k + 1]->str;
					v[n].len = fields->element[k + 1]->len;
				} else if (strcmp(fields->element[k]->str,
				    "e") == 0)
					v[n].event = fields->element[k + 1]->str;
			}
			n++;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof *v, history_entry_cmp);
	snap->gap = gap;
	snap->entries = v;
	snap->nentries = n;
	*out = v;
	return NULL;
bad:
	free(v);
	return "malformed history entry in the resume script's reply";
}

static void
history_on_reply(redisAsyncContext *ac, void *r, void *priv)
{
	struct history_req	*q = priv;
	struct history_snapshot	 snap;
	struct history_entry	*entries = NULL;
	const char		*err;
	int			*gap;

	if (q->fn == NULL) {		/* cancelled */
		free(q);
		return;
	}
	if (r == NULL) {
		q->fn(q->arg, NULL, ac->errstr[0] ? ac->errstr :
		    "redis connection lost");
		free(q);
		return;
	}
	memset(&snap, 0, sizeof snap);
	gap = xcalloc(q->nchannels, sizeof *gap);
	err = history_parse(q, r, &snap, gap, &entries);
	if (err != NULL) {
		log_error("resume: %s", err);
		q->fn(q->arg, NULL, err);
	} else
		q->fn(q->arg, &snap, NULL);
	free(entries);
	free(gap);
	free(q);
}

struct history_req *
history_resume(struct history *h, const char *const *channels,
    const size_t *lens, size_t n, const char *after, size_t max,
    history_fn fn, void *arg)
{
	struct history_req	*q;
	const char		**argv;
	size_t			 *argl, i, argc = 0;
	char			 **keys, count[32], nkeys[32];
	int			 rc;

	q = xcalloc(1, sizeof *q);
	q->fn = fn;
	q->arg = arg;
	q->nchannels = n;
	q->max = max;
	if (event_id_parse(after, strlen(after), &q->after) == -1 ||
	    (rc = history_connect(h)) == -1) {
		free(q);
		return NULL;
	}
	argv = xcalloc(n + 6, sizeof *argv);
	argl = xcalloc(n + 6, sizeof *argl);
	keys = xcalloc(n + 1, sizeof *keys);
	snprintf(nkeys, sizeof nkeys, "%zu", n + 1);
	snprintf(count, sizeof count, "%zu", max);
	keys[0] = xmalloc(strlen(h->prefix) + 6);
	sprintf(keys[0], "%sclock", h->prefix);
	for (i = 0; i < n; i++) {
		keys[i + 1] = xmalloc(strlen(h->prefix) + 8 + lens[i] + 1);
		sprintf(keys[i + 1], "%shistory:%.*s", h->prefix,
		    (int)lens[i], channels[i]);
	}
	argv[argc++] = "EVAL";
	argv[argc++] = SCRIPT_RESUME;
	argv[argc++] = nkeys;
	for (i = 0; i <= n; i++)
		argv[argc++] = keys[i];
	argv[argc++] = after;
	argv[argc++] = count;
	for (i = 0; i < argc; i++)
		argl[i] = strlen(argv[i]);
	q->cmdlen = redisFormatCommandArgv(&q->cmd, (int)argc, argv, argl);
	for (i = 0; i <= n; i++)
		free(keys[i]);
	free(keys);
	free(argv);
	free(argl);
	if (q->cmdlen < 0) {
		free(q);
		return NULL;
	}
	if (rc == 1) {		/* the sentinels are being asked */
		*h->waiting_tail = q;
		h->waiting_tail = &q->next;
		return q;
	}
	if (history_send(h, q) == -1) {
		history_req_free(q);
		return NULL;
	}
	return q;
}

void
history_cancel(struct history_req *q)
{
	if (q != NULL)
		q->fn = NULL;
}
