/* sse-fcgi - MIT License
 *
 * The stats view without Redis: workers' reports summed, bad reports
 * ignored, per-worker rows, top channels with their order and the
 * "partial" flag, the JSON documents, and the Prometheus text: names
 * (sse_fcgi_*, valid, counters ending in _total), one HELP and TYPE per
 * family before its samples, status labels, host names escaped in labels.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int
main(void)
{
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
	return test_report("test_stats_view");
}
