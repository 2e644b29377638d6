/* sse-fcgi - MIT License
 *
 * The stats view without Redis: workers' reports summed, bad reports
 * ignored, per-worker rows, top channels with their order and the
 * "partial" flag, the JSON documents, and the Prometheus text: names
 * (sse_fcgi_*, valid, counters ending in _total), one HELP and TYPE per
 * family before its samples, status labels, host names escaped in labels.
 * Loading from a cluster through a fake command function: the {stats}
 * keys asked for, a garbage figure counted 0, an expired worker removed
 * from the index, an error reply or a failed command ending the load with
 * its reason.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "prom.h"
#include "stats.h"
#include "stats_view.h"
#include "testlib.h"

#define NF	(7 + STATS_NFIGS)

/* Adds a worker on HOST with PID whose figure i is BASE + i. */
static int
add(struct stats_view *v, const char *host, const char *pid,
    unsigned long long base, unsigned long long reported)
{
	const char	*names[NF], *values[NF];
	char		 num[NF][24];
	size_t		 i, n = 0;

	names[n] = "host"; values[n++] = host;
	names[n] = "pid"; values[n++] = pid;
	names[n] = "uptime"; values[n++] = "12";
	names[n] = "version"; values[n++] = "9.9";
	snprintf(num[n], sizeof num[n], "%llu", reported);
	names[n] = "channels_reported"; values[n] = num[n]; n++;
	names[n] = "from_the_future"; values[n++] = "7";
	names[n] = "time"; values[n++] = "1700000000000";
	for (i = 0; i < STATS_NFIGS; i++, n++) {
		snprintf(num[n], sizeof num[n], "%llu", base + i);
		names[n] = stats_figs[i].key;
		values[n] = num[n];
	}
	return stats_view_add_worker(v, n, names, values);
}

static char *
prometheus(const struct stats_view *v, unsigned top)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		abort();
	stats_view_prometheus(v, fp, top);
	fclose(fp);
	return buf;
}

/* Checks the exposition: every line a HELP, a TYPE or a sample of the
 * family just declared, each family declared once. */
static int
well_formed(const char *text, int *nfamilies)
{
	char		 families[64][128], cur[128], name[128];
	const char	*p, *nl;
	int		 n = 0, i, typed = 0;

	cur[0] = '\0';
	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			return 0;
		if (strncmp(p, "# HELP ", 7) == 0) {
			if (sscanf(p + 7, "%127[a-zA-Z0-9_:]", cur) != 1 ||
			    strncmp(cur, "sse_fcgi_", 9) != 0 ||
			    !prom_name_ok(cur, 0))
				return 0;
			for (i = 0; i < n; i++)
				if (strcmp(families[i], cur) == 0)
					return 0;	/* declared twice */
			if (n == 64)
				return 0;
			strcpy(families[n++], cur);
			typed = 0;
		} else if (strncmp(p, "# TYPE ", 7) == 0) {
			if (sscanf(p + 7, "%127s", name) != 1 ||
			    strcmp(name, cur) != 0)
				return 0;
			if (strncmp(p + 8 + strlen(cur), "counter\n", 8) == 0) {
				if (strlen(cur) < 6 || strcmp(cur +
				    strlen(cur) - 6, "_total") != 0)
					return 0;
			} else if (strncmp(p + 8 + strlen(cur), "gauge\n",
			    6) != 0)
				return 0;
			typed = 1;
		} else {
			if (!typed || strncmp(p, cur, strlen(cur)) != 0 ||
			    (p[strlen(cur)] != ' ' && p[strlen(cur)] != '{'))
				return 0;
		}
	}
	*nfamilies = n;
	return 1;
}

static unsigned long long
jnum(struct json_object *o, const char *k1, const char *k2)
{
	struct json_object	*x;

	if (!json_object_object_get_ex(o, k1, &x))
		return ~0ULL;
	if (k2 != NULL && !json_object_object_get_ex(x, k2, &x))
		return ~0ULL;
	return (unsigned long long)json_object_get_int64(x);
}

/* A fake cluster: the {stats} keys of workers w1 (streams 2, cs.a 2),
 * w2 (streams "abc") and w3 (expired); FAIL_AT, when not 0, is the call
 * that fails, ERROR_KEY the key whose read is a WRONGTYPE error. */
struct fake {
	int		 calls, fail_at, srem_w3, bad_key;
	const char	*error_key;
};

static redisReply *
fake_str(const char *s)
{
	redisReply	*r = calloc(1, sizeof *r);

	r->type = REDIS_REPLY_STRING;
	r->str = strdup(s);
	r->len = strlen(s);
	return r;
}

/* An array of the N strings at S (N may be 0). */
static redisReply *
fake_array(size_t n, const char *const *s)
{
	redisReply	*r = calloc(1, sizeof *r);
	size_t		 i;

	r->type = REDIS_REPLY_ARRAY;
	r->elements = n;
	r->element = calloc(n + 1, sizeof *r->element);
	for (i = 0; i < n; i++)
		r->element[i] = fake_str(s[i]);
	return r;
}

static redisReply *
fake_cmd(void *arg, int argc, const char **argv, const size_t *argl,
    char *err, size_t errlen)
{
	struct fake		*f = arg;
	redisReply		*r;
	static const char	*ids[] = { "w1", "w2", "w3" };
	static const char	*w1[] = { "host", "h1", "pid", "1", "streams",
				    "2", "channels", "1",
				    "channels_reported", "1" };
	static const char	*w2[] = { "host", "h2", "pid", "2", "streams",
				    "abc", "delivered", "12x" };
	static const char	*c1[] = { "cs.a", "2" };

	if (++f->calls == f->fail_at) {
		snprintf(err, errlen, "cluster busy (test)");
		return NULL;
	}
	if (argc < 2 || strncmp(argv[1], "sse:{stats}:", 12) != 0)
		f->bad_key = 1;
	if (f->error_key != NULL && argc >= 2 &&
	    strcmp(argv[1], f->error_key) == 0) {
		r = calloc(1, sizeof *r);
		r->type = REDIS_REPLY_ERROR;
		r->str = strdup("WRONGTYPE test");
		r->len = strlen(r->str);
		return r;
	}
	if (strcmp(argv[0], "SMEMBERS") == 0)
		return fake_array(3, ids);
	if (strcmp(argv[0], "SREM") == 0) {
		f->srem_w3 += argc == 3 && argl[2] == 2 &&
		    memcmp(argv[2], "w3", 2) == 0;
		return fake_str("1");
	}
	if (strcmp(argv[1], "sse:{stats}:w:w1") == 0)
		return fake_array(10, w1);
	if (strcmp(argv[1], "sse:{stats}:w:w2") == 0)
		return fake_array(8, w2);
	if (strcmp(argv[1], "sse:{stats}:c:w1") == 0)
		return fake_array(2, c1);
	return fake_array(0, NULL);
}

int
main(void)
{
	struct fake		 f;
	char			 err[256];
	struct stats_view	*v;
	struct json_object	*o, *a, *row;
	const char		*s, *names[2] = { "host", "streams" };
	const char		*values[2] = { "h", "1" };
	char			*text, want[256];
	size_t			 i;
	int			 nfam;

	for (i = 0; i < STATS_NFIGS; i++) {
		test_cond(stats_figs[i].metric,
		    prom_name_ok(stats_figs[i].metric, 0) &&
		    strncmp(stats_figs[i].metric, "sse_fcgi_", 9) == 0);
		test_cond("counters end in _total",
		    (strcmp(stats_figs[i].type, "counter") == 0) ==
		    (strstr(stats_figs[i].metric, "_total") != NULL));
	}

	v = stats_view_create();
	test_cond("worker b", add(v, "web-b", "200", 100, 2) == 0);
	test_cond("worker a", add(v, "web-a", "300", 10, 2) == 0);
	test_cond("odd host", add(v, "we\"b\\c\nd", "7", 1, 0) == 0);
	test_cond("no pid: ignored", stats_view_add_worker(v, 2, names,
	    values) == -1);
	test_cond("3 workers", stats_view_workers(v) == 3);
	stats_view_add_channel(v, "c.two", 5, 4);
	stats_view_add_channel(v, "c.one", 5, 1);
	stats_view_add_channel(v, "c.two", 5, 3);
	stats_view_add_channel(v, "c.three", 7, 7);
	stats_view_add_channel(v, "c.zero", 6, 7);

	o = stats_view_json(v, 2);
	test_cond("workers", jnum(o, "workers", NULL) == 3);
	test_cond("streams summed", jnum(o, "totals", "streams") ==
	    100 + 10 + 1);
	test_cond("deferred summed", jnum(o, "totals", "deferred") ==
	    3 * STATS_DEFERRED + 111);
	test_cond("distinct channels", jnum(o, "channels_distinct", NULL) ==
	    4);
	json_object_object_get_ex(o, "top_channels", &a);
	test_cond("top 2", json_object_array_length(a) == 2);
	row = json_object_array_get_idx(a, 0);
	test_cond("most subscribed first, ties by name",
	    strcmp(json_object_get_string(json_object_object_get(row,
	    "channel")), "c.three") == 0);
	row = json_object_array_get_idx(a, 1);
	test_cond("second: c.two", jnum(row, "subscribers", NULL) == 7 &&
	    jnum(row, "workers", NULL) == 2 &&
	    strcmp(json_object_get_string(json_object_object_get(row,
	    "channel")), "c.two") == 0);
	/* web-b reports channels = 101 with only 2 in its hash. */
	test_cond("partial", json_object_get_boolean(json_object_object_get(o,
	    "channels_partial")));
	json_object_object_get_ex(o, "per_worker", &a);
	test_cond("3 rows", json_object_array_length(a) == 3);
	row = json_object_array_get_idx(a, 0);
	test_cond("rows sorted by host", strcmp(json_object_get_string(
	    json_object_object_get(row, "host")), "we\"b\\c\nd") == 0);
	row = json_object_array_get_idx(a, 1);
	test_cond("then web-a", strcmp(json_object_get_string(
	    json_object_object_get(row, "host")), "web-a") == 0);
	test_cond("row: pid, uptime, streams", jnum(row, "pid", NULL) ==
	    300 && jnum(row, "uptime", NULL) == 12 &&
	    jnum(row, "streams", NULL) == 10);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	test_cond("unknown fields are not echoed",
	    strstr(s, "from_the_future") == NULL);
	json_object_put(o);

	o = stats_view_channel_json(v, "c.two");
	test_cond("channel document", jnum(o, "subscribers", NULL) == 0 &&
	    jnum(o, "workers_reporting", NULL) == 3);
	json_object_put(o);

	text = prometheus(v, 0);
	test_cond("well-formed", well_formed(text, &nfam));
	/* The three refused_* figures share one family. */
	test_cond("families: workers, figures, 2 per-worker",
	    nfam == 1 + STATS_NFIGS - 2 + 2);
	snprintf(want, sizeof want, "\nsse_fcgi_streams_deferred_total %llu\n",
	    3ULL * STATS_DEFERRED + 111);
	test_cond("deferred family", strstr(text, want) != NULL);
	test_cond("workers gauge", strstr(text, "\nsse_fcgi_workers 3\n") !=
	    NULL);
	snprintf(want, sizeof want, "\nsse_fcgi_streams_refused_total"
	    "{status=\"401\"} %llu\n", 3ULL * STATS_REFUSED_401 + 111);
	test_cond("status label", strstr(text, want) != NULL);
	test_cond("host escaped", strstr(text, "sse_fcgi_worker_streams"
	    "{host=\"we\\\"b\\\\c\\nd\",pid=\"7\"} 1\n") != NULL);
	test_cond("uptime per worker", strstr(text,
	    "sse_fcgi_worker_uptime_seconds{host=\"web-a\",pid=\"300\"} 12\n")
	    != NULL);
	test_cond("no channels without top",
	    strstr(text, "channel_subscribers") == NULL);
	if (!well_formed(text, &nfam))
		fprintf(stderr, "%s", text);
	free(text);
	text = prometheus(v, 3);
	test_cond("well-formed with channels", well_formed(text, &nfam));
	test_cond("top 3 channels", strstr(text,
	    "sse_fcgi_channel_subscribers{channel=\"c.three\"} 7\n"
	    "sse_fcgi_channel_subscribers{channel=\"c.two\"} 7\n"
	    "sse_fcgi_channel_subscribers{channel=\"c.zero\"} 7\n") != NULL);
	free(text);
	stats_view_free(v);

	v = stats_view_create();
	text = prometheus(v, 5);
	test_cond("empty view: well-formed", well_formed(text, &nfam));
	test_cond("empty view: 0 workers",
	    strstr(text, "sse_fcgi_workers 0\n") != NULL);
	free(text);
	o = stats_view_json(v, 5);
	test_cond("empty view: no channel list",
	    !json_object_object_get_ex(o, "top_channels", NULL));
	json_object_put(o);
	stats_view_free(v);
	stats_view_free(NULL);

	memset(&f, 0, sizeof f);
	v = stats_view_create();
	test_cond("cluster: loads",
	    stats_view_load_cluster(v, fake_cmd, &f, "sse:", 1, NULL, err,
	    sizeof err) == 0);
	test_cond("cluster: only {stats} keys", !f.bad_key);
	test_cond("cluster: SMEMBERS, 3 x 2 HGETALL, one SREM",
	    f.calls == 8 && f.srem_w3 == 1);
	test_cond("cluster: 2 workers (w3 expired)",
	    stats_view_workers(v) == 2);
	o = stats_view_json(v, 5);
	test_cond("cluster: garbage counts 0: 2 streams, 0 delivered",
	    jnum(o, "totals", "streams") == 2 &&
	    jnum(o, "totals", "delivered") == 0);
	test_cond("cluster: cs.a on top", json_object_object_get_ex(o,
	    "top_channels", &a) && json_object_array_length(a) == 1);
	json_object_put(o);
	stats_view_free(v);

	memset(&f, 0, sizeof f);
	f.error_key = "sse:{stats}:w:w2";
	v = stats_view_create();
	test_cond("cluster: an error reply fails the load",
	    stats_view_load_cluster(v, fake_cmd, &f, "sse:", 1, "cs.a", err,
	    sizeof err) == -1);
	test_cond("cluster: with its reason",
	    strcmp(err, "redis: WRONGTYPE test") == 0);
	test_cond("cluster: no SREM after an error", f.srem_w3 == 0);
	stats_view_free(v);

	memset(&f, 0, sizeof f);
	f.fail_at = 3;
	v = stats_view_create();
	test_cond("cluster: a failed command fails the load",
	    stats_view_load_cluster(v, fake_cmd, &f, "sse:", 1, NULL, err,
	    sizeof err) == -1);
	test_cond("cluster: with its reason, nothing sent after it",
	    strcmp(err, "redis: cluster busy (test)") == 0 && f.calls == 3);
	stats_view_free(v);

	memset(&f, 0, sizeof f);
	f.fail_at = 1;
	v = stats_view_create();
	test_cond("cluster: SMEMBERS failing fails the load",
	    stats_view_load_cluster(v, fake_cmd, &f, "sse:", 0, NULL, err,
	    sizeof err) == -1 && strstr(err, "cluster busy") != NULL);
	stats_view_free(v);
	return test_report("test_stats_view");
}
