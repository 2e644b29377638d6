/* sse-fcgi - MIT License
 *
 * libFuzzer target for the stats parsers and writers: the stats-allow
 * list (cidr.h) and a worker's report as read back from Redis
 * (stats_view.h), whose fields may hold any bytes. The input is split on
 * NUL bytes: a stats-allow setting, a client address, then field/value
 * pairs of one report (the first two values go to "host" and "pid" when
 * no such field is given). Checks: a refused list says why; an address
 * given alone as the list matches itself; the Prometheus text stays one
 * sample or comment per line with well-formed, escaped label values; the
 * JSON document parses back.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cidr.h"
#include "stats_view.h"

#define FUZZ_FIELDS	34

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what, const char *line)
{
	fprintf(stderr, "fuzz_stats: %s: %.200s\n", what, line);
	abort();
}

/* Checks one sample line: name{label="value",...} value. */
static void
fuzz_sample(const char *l, size_t n)
{
	size_t	i = 0;

	while (i < n && (l[i] == '_' || l[i] == ':' ||
	    (l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9')))
		i++;
	if (i == 0 || strncmp(l, "sse_fcgi_", 9) != 0)
		fuzz_fail("bad metric name", l);
	if (i < n && l[i] == '{') {
		for (i++; i < n && l[i] != '}'; ) {
			while (i < n && l[i] >= 'a' && l[i] <= 'z')
				i++;
			if (i + 1 >= n || l[i] != '=' || l[i + 1] != '"')
				fuzz_fail("bad label", l);
			for (i += 2; i < n && l[i] != '"'; i++) {
				if (l[i] != '\\')
					continue;
				if (i + 1 >= n || (l[i + 1] != '\\' &&
				    l[i + 1] != '"' && l[i + 1] != 'n'))
					fuzz_fail("bad escape", l);
				i++;
			}
			if (i >= n)
				fuzz_fail("unterminated label value", l);
			if (++i < n && l[i] == ',')
				i++;
		}
		if (i >= n)
			fuzz_fail("unterminated labels", l);
		i++;
	}
	if (i >= n || l[i] != ' ' || i + 1 >= n)
		fuzz_fail("no value", l);
	for (i++; i < n; i++)
		if (l[i] < '0' || l[i] > '9')
			fuzz_fail("value not an integer", l);
}

static void
fuzz_prometheus(const struct stats_view *v)
{
	char	*buf = NULL, *p, *nl;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		abort();
	stats_view_prometheus(v, fp, 5);
	fclose(fp);
	if (len == 0 || buf[len - 1] != '\n' || strlen(buf) != len)
		fuzz_fail("exposition not LF-terminated text", buf);
	for (p = buf; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (strncmp(p, "# HELP sse_fcgi_", 16) == 0 ||
		    strncmp(p, "# TYPE sse_fcgi_", 16) == 0)
			continue;
		fuzz_sample(p, (size_t)(nl - p));
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct stats_view	*v;
	struct cidr		*c;
	struct json_object	*o, *back;
	const char		*names[FUZZ_FIELDS / 2 + 2];
	const char		*values[FUZZ_FIELDS / 2 + 2];
	char			*buf, *f[FUZZ_FIELDS], *p, *end, err[256];
	size_t			 n, i, k = 0;
	int			 host = 0, pid = 0;

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, in, size);
	buf[size] = '\0';
	memset(f, 0, sizeof f);
	for (p = buf, end = buf + size, n = 0; n < FUZZ_FIELDS; ) {
		f[n++] = p;
		p += strlen(p) + 1;
		if (p > end)
			break;
	}

	err[0] = '\0';
	c = cidr_create(f[0], err, sizeof err);
	if (c == NULL && err[0] == '\0')
		fuzz_fail("list refused without a reason", f[0]);
	if (cidr_match(c, n > 1 ? f[1] : NULL) > 1)
		fuzz_fail("match is not 0 or 1", f[0]);
	if (c != NULL && cidr_count(c) == 1 && strpbrk(f[0], "/ ,\t") ==
	    NULL && strcmp(f[0], "none") != 0 && !cidr_match(c, f[0]))
		fuzz_fail("an address does not match itself", f[0]);
	cidr_free(c);

	for (i = 2; i + 1 < n; i += 2) {
		names[k] = f[i];
		values[k++] = f[i + 1];
		host |= strcmp(f[i], "host") == 0;
		pid |= strcmp(f[i], "pid") == 0;
	}
	if (!host && k > 0) {
		names[k] = "host";
		values[k++] = values[0];
	}
	if (!pid && k > 1) {
		names[k] = "pid";
		values[k++] = values[1];
	}
	v = stats_view_create();
	stats_view_add_worker(v, k, names, values);
	if (k > 0)
		stats_view_add_channel(v, values[0], strlen(values[0]), 3);
	fuzz_prometheus(v);
	o = stats_view_json(v, 5);
	back = json_tokener_parse(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	if (back == NULL)
		fuzz_fail("JSON does not parse back", "");
	json_object_put(back);
	json_object_put(o);
	stats_view_free(v);
	free(buf);
	return 0;
}
