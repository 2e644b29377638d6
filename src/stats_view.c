/* sse-fcgi - MIT License
 *
 * Reading and summing the workers' reports (see stats_view.h). Field
 * names come from stats.h's table, so the writer and this reader cannot
 * disagree; unknown fields are skipped (a newer worker may report more)
 * and missing ones count as 0.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "dict.h"
#include "prom.h"
#include "stats.h"
#include "stats_view.h"
#include "xmalloc.h"

struct stats_worker {
	char			*host;
	char			*pid;		/* as reported */
	char			*version;
	unsigned long long	 uptime;
	unsigned long long	 reported;	/* channels in its hash */
	unsigned long long	 figs[STATS_NFIGS];
};

struct stats_vchan {
	const char		*name;		/* the dict's key */
	size_t			 len;
	unsigned long long	 subs;
	unsigned long long	 workers;
};

struct stats_view {
	struct stats_worker	*w;
	size_t			 nw, capw;
	unsigned long long	 tot[STATS_NFIGS];
	struct dict		*chans;		/* -> stats_vchan */
	int			 loaded_channels;
	int			 partial;	/* a worker left some out */
	unsigned long long	 ch_subs;	/* ?channel= */
	unsigned long long	 ch_workers;
};

struct stats_view *
stats_view_create(void)
{
	struct stats_view	*v;

	v = xcalloc(1, sizeof *v);
	v->chans = dict_create();
	return v;
}

static void
stats_view_free_chan(const char *key, size_t klen, void *val, void *arg)
{
	free(val);
}

void
stats_view_free(struct stats_view *v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < v->nw; i++) {
		free(v->w[i].host);
		free(v->w[i].pid);
		free(v->w[i].version);
	}
	free(v->w);
	dict_foreach(v->chans, stats_view_free_chan, NULL);
	dict_free(v->chans);
	free(v);
}

size_t
stats_view_workers(const struct stats_view *v)
{
	return v->nw;
}

/* Parses a reported number; anything else counts as 0. */
static unsigned long long
stats_view_num(const char *s)
{
	unsigned long long	 n;
	char			*end;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	n = strtoull(s, &end, 10);
	return *end == '\0' ? n : 0;
}

int
stats_view_add_worker(struct stats_view *v, size_t n,
    const char *const *names, const char *const *values)
{
	struct stats_worker	 w;
	size_t			 i, j;

	memset(&w, 0, sizeof w);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i], "host") == 0 && w.host == NULL)
			w.host = xstrdup(values[i]);
		else if (strcmp(names[i], "pid") == 0 && w.pid == NULL)
			w.pid = xstrdup(values[i]);
		else if (strcmp(names[i], "version") == 0 && w.version == NULL)
			w.version = xstrdup(values[i]);
		else if (strcmp(names[i], "uptime") == 0)
			w.uptime = stats_view_num(values[i]);
		else if (strcmp(names[i], "channels_reported") == 0)
			w.reported = stats_view_num(values[i]);
		else
			for (j = 0; j < STATS_NFIGS; j++)
				if (strcmp(names[i], stats_figs[j].key) == 0)
					w.figs[j] = stats_view_num(values[i]);
	}
	if (w.host == NULL || w.pid == NULL) {
		free(w.host);
		free(w.pid);
		free(w.version);
		return -1;
	}
	if (w.version == NULL)
		w.version = xstrdup("");
	if (v->nw == v->capw) {
		v->capw = v->capw ? v->capw * 2 : 8;
		v->w = xrealloc(v->w, v->capw * sizeof *v->w);
	}
	for (j = 0; j < STATS_NFIGS; j++)
		v->tot[j] += w.figs[j];
	if (w.figs[STATS_CHANNELS] > w.reported)
		v->partial = 1;
	v->w[v->nw++] = w;
	return 0;
}

void
stats_view_add_channel(struct stats_view *v, const char *channel,
    size_t len, unsigned long long subs)
{
	struct stats_vchan	*c;

	if ((c = dict_get(v->chans, channel, len)) == NULL) {
		c = xcalloc(1, sizeof *c);
		c->name = dict_put(v->chans, channel, len, c);
		c->len = len;
	}
	c->subs += subs;
	c->workers++;
	v->loaded_channels = 1;
}

/* Adds the HGETALL reply R of one worker's report; returns -1 when it
 * has expired (an empty hash) or is malformed. */
static int
stats_view_add_reply(struct stats_view *v, const redisReply *r)
{
	const char	**names, **values;
	size_t		  i, n;
	int		  rc;

	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->elements % 2 != 0)
		return -1;
	n = r->elements / 2;
	names = xcalloc(n, sizeof *names);
	values = xcalloc(n, sizeof *values);
	for (i = 0; i < n; i++) {
		if (r->element[2 * i]->type != REDIS_REPLY_STRING ||
		    r->element[2 * i + 1]->type != REDIS_REPLY_STRING)
			break;
		names[i] = r->element[2 * i]->str;
		values[i] = r->element[2 * i + 1]->str;
	}
	rc = i == n ? stats_view_add_worker(v, n, names, values) : -1;
	free(names);
	free(values);
	return rc;
}

/* Adds the HGETALL reply R of one worker's channel hash. */
static void
stats_view_add_channels(struct stats_view *v, const redisReply *r)
{
	const redisReply	*name, *subs;
	size_t			 i;

	for (i = 0; i + 1 < r->elements; i += 2) {
		name = r->element[i];
		subs = r->element[i + 1];
		if (name->type == REDIS_REPLY_STRING && name->len > 0 &&
		    subs->type == REDIS_REPLY_STRING)
			stats_view_add_channel(v, name->str, name->len,
			    stats_view_num(subs->str));
	}
}

/* How a load reaches Redis: one connection, pipelined, or a command at a
 * time through FN (a cluster), whose replies wait here in order until
 * taken, so both read the same way. */
struct stats_view_io {
	redisContext		*c;
	stats_view_cmd_fn	 fn;
	void			*arg;
	redisReply		**q;	/* FN's replies; NULL: it failed */
	size_t			 nq, head;
	char			 err[256];	/* FN's first failure */
	const char		*kw, *kc, *ki;	/* key names (stats.h) */
};

/* Sends a command of ARGC arguments (queued on one connection). */
static void
stats_view_io_send(struct stats_view_io *io, int argc, const char **argv,
    const size_t *argl)
{
	redisReply	*r;
	char		 why[256];

	if (io->c != NULL) {
		redisAppendCommandArgv(io->c, argc, argv, argl);
		return;
	}
	/* After a failure the others are not sent: the load fails. */
	r = NULL;
	if (io->err[0] == '\0' && (r = io->fn(io->arg, argc, argv, argl,
	    why, sizeof why)) == NULL)
		snprintf(io->err, sizeof io->err, "%s", why);
	io->q = xrealloc(io->q, (io->nq + 1) * sizeof *io->q);
	io->q[io->nq++] = r;
}

/* Takes the next reply (caller frees). Returns it, or NULL with a reason
 * in ERR. */
static redisReply *
stats_view_io_get(struct stats_view_io *io, char *err, size_t errlen)
{
	void	*reply;

	if (io->c != NULL) {
		if (redisGetReply(io->c, &reply) == REDIS_OK)
			return reply;
		snprintf(err, errlen, "redis: %s", io->c->errstr[0] ?
		    io->c->errstr : "connection lost");
		return NULL;
	}
	if (io->head < io->nq && io->q[io->head] != NULL)
		return io->q[io->head++];
	snprintf(err, errlen, "redis: %s", io->err[0] != '\0' ? io->err :
	    "no reply");
	return NULL;
}

/* Frees FN's replies not taken. */
static void
stats_view_io_clear(struct stats_view_io *io)
{
	for (; io->head < io->nq; io->head++)
		if (io->q[io->head] != NULL)
			freeReplyObject(io->q[io->head]);
	free(io->q);
}

/* Sends COMMAND KIND+ID [ARG]. */
static void
stats_view_append(struct stats_view_io *io, const char *command,
    const char *prefix, const char *kind, const redisReply *id,
    const char *arg)
{
	const char	*argv[3];
	size_t		 argl[3];
	char		*key;
	size_t		 klen;

	klen = strlen(prefix) + strlen(kind) + id->len;
	key = xmalloc(klen + 1);
	snprintf(key, klen + 1, "%s%s", prefix, kind);
	memcpy(key + strlen(prefix) + strlen(kind), id->str, id->len);
	key[klen] = '\0';
	argv[0] = command;
	argl[0] = strlen(command);
	argv[1] = key;
	argl[1] = klen;
	if (arg != NULL) {
		argv[2] = arg;
		argl[2] = strlen(arg);
	}
	stats_view_io_send(io, arg != NULL ? 3 : 2, argv, argl);
	free(key);
}

/* Sends COMMAND INDEX [ID] and takes its reply (caller frees), or NULL
 * with a reason in ERR. */
static redisReply *
stats_view_index(struct stats_view_io *io, const char *command,
    const char *index, const redisReply *id, char *err, size_t errlen)
{
	const char	*argv[3] = { command, index, NULL };
	size_t		 argl[3] = { strlen(command), strlen(index), 0 };

	if (id != NULL) {
		argv[2] = id->str;
		argl[2] = id->len;
	}
	stats_view_io_send(io, id != NULL ? 3 : 2, argv, argl);
	return stats_view_io_get(io, err, errlen);
}

static int
stats_view_load_io(struct stats_view *v, struct stats_view_io *io,
    const char *prefix, int channels, const char *channel, char *err,
    size_t errlen)
{
	redisReply	*ids, *r;
	char		*index;
	size_t		 i, j, n, per, stale = 0;
	int		*gone = NULL, rc = -1;

	n = strlen(prefix) + strlen(io->ki) + 1;
	index = xmalloc(n);
	snprintf(index, n, "%s%s", prefix, io->ki);
	if ((ids = stats_view_index(io, "SMEMBERS", index, NULL, err,
	    errlen)) == NULL) {
		free(index);
		return -1;
	}
	if (ids->type != REDIS_REPLY_ARRAY) {
		snprintf(err, errlen, "redis: %s", ids->type ==
		    REDIS_REPLY_ERROR ? ids->str : "unexpected SMEMBERS reply");
		goto out;
	}
	n = ids->elements;
	gone = xcalloc(n > 0 ? n : 1, sizeof *gone);
	for (i = 0; i < n; i++) {
		if (ids->element[i]->type != REDIS_REPLY_STRING) {
			snprintf(err, errlen, "redis: unexpected SMEMBERS "
			    "reply");
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		stats_view_append(io, "HGETALL", prefix, io->kw,
		    ids->element[i], NULL);
		if (channels)
			stats_view_append(io, "HGETALL", prefix, io->kc,
			    ids->element[i], NULL);
		if (channel != NULL)
			stats_view_append(io, "HGET", prefix, io->kc,
			    ids->element[i], channel);
	}
	/* Every reply is read, even after a bad one, to keep the
	 * connection in step. */
	rc = 0;
	per = 1 + (channels != 0) + (channel != NULL);
	for (i = 0; i < n; i++) {
		for (j = 0; j < per; j++) {
			if ((r = stats_view_io_get(io, err, errlen)) == NULL) {
				rc = -1;
				goto out;
			}
			if (r->type == REDIS_REPLY_ERROR && rc == 0) {
				snprintf(err, errlen, "redis: %s", r->str);
				rc = -1;
			} else if (j == 0) {
				gone[i] = stats_view_add_reply(v, r) == -1;
				stale += gone[i];
			} else if (gone[i]) {
				;	/* an expired worker's leftovers */
			} else if (r->type == REDIS_REPLY_ARRAY) {
				stats_view_add_channels(v, r);
			} else if (r->type == REDIS_REPLY_STRING) {
				v->ch_subs += stats_view_num(r->str);
				v->ch_workers++;
			}
			freeReplyObject(r);
		}
	}
	if (channels)
		v->loaded_channels = 1;
	/* Dead workers' IDs leave the index (their hashes expired). */
	for (i = 0; rc == 0 && stale > 0 && i < n; i++) {
		if (!gone[i])
			continue;
		if ((r = stats_view_index(io, "SREM", index, ids->element[i],
		    err, errlen)) == NULL)
			break;
		freeReplyObject(r);
	}
out:
	free(gone);
	free(index);
	freeReplyObject(ids);
	return rc;
}

int
stats_view_load(struct stats_view *v, struct redisContext *c,
    const char *prefix, int channels, const char *channel, char *err,
    size_t errlen)
{
	struct stats_view_io	io;

	memset(&io, 0, sizeof io);
	io.c = c;
	io.kw = STATS_KEY_WORKER;
	io.kc = STATS_KEY_CHANNELS;
	io.ki = STATS_KEY_WORKERS;
	return stats_view_load_io(v, &io, prefix, channels, channel, err,
	    errlen);
}

int
stats_view_load_cluster(struct stats_view *v, stats_view_cmd_fn fn,
    void *arg, const char *prefix, int channels, const char *channel,
    char *err, size_t errlen)
{
	struct stats_view_io	io;
	int			rc;

	memset(&io, 0, sizeof io);
	io.fn = fn;
	io.arg = arg;
	io.kw = STATS_CKEY_WORKER;
	io.kc = STATS_CKEY_CHANNELS;
	io.ki = STATS_CKEY_WORKERS;
	rc = stats_view_load_io(v, &io, prefix, channels, channel, err,
	    errlen);
	stats_view_io_clear(&io);
	return rc;
}

static int
stats_view_worker_cmp(const void *a, const void *b)
{
	const struct stats_worker	*x = a, *y = b;
	int				 c;

	if ((c = strcmp(x->host, y->host)) != 0)
		return c;
	return strtoll(x->pid, NULL, 10) < strtoll(y->pid, NULL, 10) ? -1 :
	    strtoll(x->pid, NULL, 10) > strtoll(y->pid, NULL, 10);
}

/* Most subscribers first, then by name: a stable order for equal counts. */
static int
stats_view_chan_cmp(const void *a, const void *b)
{
	const struct stats_vchan	*x, *y;
	size_t				 n;
	int				 c;

	x = *(const struct stats_vchan *const *)a;
	y = *(const struct stats_vchan *const *)b;
	n = x->len < y->len ? x->len : y->len;

	if (x->subs != y->subs)
		return x->subs > y->subs ? -1 : 1;
	if ((c = memcmp(x->name, y->name, n)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

struct stats_view_collect {
	const struct stats_vchan	**v;
	size_t				  n;
};

static void
stats_view_collect(const char *key, size_t klen, void *val, void *arg)
{
	struct stats_view_collect	*c = arg;

	c->v[c->n++] = val;
}

/* Returns the channels sorted for a top list (caller frees) in *N. */
static const struct stats_vchan **
stats_view_sorted(const struct stats_view *v, size_t *n)
{
	struct stats_view_collect	c;

	c.v = xcalloc(dict_count(v->chans) + 1, sizeof *c.v);
	c.n = 0;
	dict_foreach(v->chans, stats_view_collect, &c);
	if (c.n > 1)
		qsort(c.v, c.n, sizeof *c.v, stats_view_chan_cmp);
	*n = c.n;
	return c.v;
}

/* Sorts the rows by host and pid, so answers are stable. Reordering is
 * not a change a reader of a const view can see. */
static void
stats_view_sort_workers(const struct stats_view *v)
{
	if (v->nw > 1)
		qsort(v->w, v->nw, sizeof *v->w, stats_view_worker_cmp);
}

static struct json_object *
stats_view_figs_json(const unsigned long long *figs)
{
	struct json_object	*o = json_object_new_object();
	size_t			 i;

	for (i = 0; i < STATS_NFIGS; i++)
		json_object_object_add(o, stats_figs[i].key,
		    json_object_new_int64((int64_t)figs[i]));
	return o;
}

struct json_object *
stats_view_json(const struct stats_view *v, unsigned top)
{
	const struct stats_vchan	**chans;
	struct json_object		 *o, *a, *row, *figs;
	size_t				  i, n;

	stats_view_sort_workers(v);
	o = json_object_new_object();
	json_object_object_add(o, "workers",
	    json_object_new_int64((int64_t)v->nw));
	json_object_object_add(o, "totals", stats_view_figs_json(v->tot));
	if (v->loaded_channels) {
		chans = stats_view_sorted(v, &n);
		json_object_object_add(o, "channels_distinct",
		    json_object_new_int64((int64_t)n));
		json_object_object_add(o, "channels_partial",
		    json_object_new_boolean(v->partial));
		a = json_object_new_array();
		for (i = 0; i < n && i < top; i++) {
			row = json_object_new_object();
			json_object_object_add(row, "channel",
			    json_object_new_string_len(chans[i]->name,
			    (int)chans[i]->len));
			json_object_object_add(row, "subscribers",
			    json_object_new_int64((int64_t)chans[i]->subs));
			json_object_object_add(row, "workers",
			    json_object_new_int64((int64_t)chans[i]->workers));
			json_object_array_add(a, row);
		}
		json_object_object_add(o, "top_channels", a);
		free(chans);
	}
	a = json_object_new_array();
	for (i = 0; i < v->nw; i++) {
		/* The figures first, then who: one flat row per worker. */
		row = stats_view_figs_json(v->w[i].figs);
		figs = json_object_new_object();
		json_object_object_add(figs, "host",
		    json_object_new_string(v->w[i].host));
		json_object_object_add(figs, "pid", json_object_new_int64(
		    strtoll(v->w[i].pid, NULL, 10)));
		json_object_object_add(figs, "uptime",
		    json_object_new_int64((int64_t)v->w[i].uptime));
		json_object_object_add(figs, "version",
		    json_object_new_string(v->w[i].version));
		json_object_object_foreach(row, key, val)
			json_object_object_add(figs, key, json_object_get(val));
		json_object_put(row);
		json_object_array_add(a, figs);
	}
	json_object_object_add(o, "per_worker", a);
	return o;
}

struct json_object *
stats_view_channel_json(const struct stats_view *v, const char *channel)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "channel", json_object_new_string(channel));
	json_object_object_add(o, "subscribers",
	    json_object_new_int64((int64_t)v->ch_subs));
	json_object_object_add(o, "workers",
	    json_object_new_int64((int64_t)v->ch_workers));
	json_object_object_add(o, "workers_reporting",
	    json_object_new_int64((int64_t)v->nw));
	return o;
}

void
stats_view_prometheus(const struct stats_view *v, FILE *out, unsigned top)
{
	const struct stats_vchan	**chans;
	struct prom_label		  l[2];
	char				  name[256];
	size_t				  i, n;

	stats_view_sort_workers(v);
	prom_family(out, "sse_fcgi_workers", "gauge",
	    "Workers whose stats reports are current.");
	prom_sample(out, "sse_fcgi_workers", NULL, 0, v->nw);
	for (i = 0; i < STATS_NFIGS; i++) {
		if (i == 0 || strcmp(stats_figs[i].metric,
		    stats_figs[i - 1].metric) != 0)
			prom_family(out, stats_figs[i].metric,
			    stats_figs[i].type, stats_figs[i].help);
		l[0].name = "status";
		l[0].value = stats_figs[i].status;
		prom_sample(out, stats_figs[i].metric, l,
		    stats_figs[i].status != NULL, v->tot[i]);
	}
	prom_family(out, "sse_fcgi_worker_uptime_seconds", "gauge",
	    "Seconds since each worker started.");
	for (i = 0; i < v->nw; i++) {
		l[0].name = "host";
		l[0].value = v->w[i].host;
		l[1].name = "pid";
		l[1].value = v->w[i].pid;
		prom_sample(out, "sse_fcgi_worker_uptime_seconds", l, 2,
		    v->w[i].uptime);
	}
	prom_family(out, "sse_fcgi_worker_streams", "gauge",
	    "Event streams open on each worker.");
	for (i = 0; i < v->nw; i++) {
		l[0].name = "host";
		l[0].value = v->w[i].host;
		l[1].name = "pid";
		l[1].value = v->w[i].pid;
		prom_sample(out, "sse_fcgi_worker_streams", l, 2,
		    v->w[i].figs[STATS_STREAMS]);
	}
	if (top == 0 || !v->loaded_channels)
		return;
	chans = stats_view_sorted(v, &n);
	prom_family(out, "sse_fcgi_channel_subscribers", "gauge",
	    "Subscribers of the most subscribed channels.");
	for (i = 0; i < n && i < top; i++) {
		/* Channel names are safe label values (channel.h). */
		snprintf(name, sizeof name, "%.*s", (int)chans[i]->len,
		    chans[i]->name);
		l[0].name = "channel";
		l[0].value = name;
		prom_sample(out, "sse_fcgi_channel_subscribers", l, 1,
		    chans[i]->subs);
	}
	free(chans);
}
