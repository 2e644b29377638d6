/* sse-fcgi - MIT License
 *
 * Request routing (see route.h).
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "route.h"

static int
route_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes LEN bytes of S into OUT (ROUTE_TARGET_MAX + 1 bytes).
 * Returns the decoded length, or -1 with *WHY set. */
static long
route_decode(const char *s, size_t len, char *out, const char **why)
{
	size_t	i, n = 0;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (n == ROUTE_TARGET_MAX) {
			*why = "request path is too long";
			return -1;
		}
		if (s[i] != '%') {
			out[n++] = s[i];
			continue;
		}
		if (i + 2 >= len) {
			*why = "bad percent-encoding in the request path";
			return -1;
		}
		hi = route_hex((unsigned char)s[i + 1]);
		lo = route_hex((unsigned char)s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			*why = "bad percent-encoding in the request path";
			return -1;
		}
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[n] = '\0';
	return (long)n;
}

void
route_parse(const char *request_uri, const char *script_name,
    const char *path_info, struct route *out)
{
	char		 joined[ROUTE_TARGET_MAX * 2 + 2];
	const char	*path, *end, *last, *prev;
	long		 n;

	memset(out, 0, offsetof(struct route, target));
	out->target[0] = '\0';
	if (request_uri != NULL && request_uri[0] != '\0') {
		path = request_uri;
		end = path + strcspn(path, "?#");
	} else {
		snprintf(joined, sizeof joined, "%s%s",
		    script_name != NULL ? script_name : "",
		    path_info != NULL ? path_info : "");
		path = joined;
		end = path + strlen(path);
	}
	/* The last segment is the target, the one before names the route. */
	for (last = end; last > path && last[-1] != '/'; last--)
		;
	if (last == path)
		return;
	for (prev = last - 1; prev > path && prev[-1] != '/'; prev--)
		;
	if ((size_t)(last - 1 - prev) == 6 && memcmp(prev, "events", 6) == 0)
		out->kind = ROUTE_EVENTS;
	else if ((size_t)(last - 1 - prev) == 7 &&
	    memcmp(prev, "publish", 7) == 0)
		out->kind = ROUTE_PUBLISH;
	else if ((size_t)(last - 1 - prev) == 8 &&
	    memcmp(prev, "presence", 8) == 0)
		out->kind = ROUTE_PRESENCE;
	else {
		/* <mount>/stats, <mount>/metrics: no target. */
		if (end - last == 5 && memcmp(last, "stats", 5) == 0)
			out->kind = ROUTE_STATS;
		else if (end - last == 7 && memcmp(last, "metrics", 7) == 0)
			out->kind = ROUTE_METRICS;
		return;
	}
	n = route_decode(last, (size_t)(end - last), out->target, &out->why);
	if (n < 0) {
		out->kind = ROUTE_BAD;
		return;
	}
	out->target_len = (size_t)n;
}

/* Decodes one query component S[0..LEN) into OUT[0..CAP). */
static int
route_query_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t	i, n = 0;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (n + 1 >= cap)
			return -1;
		if (s[i] == '+') {
			out[n++] = ' ';
		} else if (s[i] == '%') {
			if (i + 2 >= len)
				return -1;
			hi = route_hex((unsigned char)s[i + 1]);
			lo = route_hex((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[n++] = s[i];
	}
	out[n] = '\0';
	return (int)n;
}

int
route_query_next(const char **query, char *key, size_t klen, char *val,
    size_t vlen)
{
	const char	*p = *query, *amp, *eq;
	size_t		 len;

	while (*p == '&')
		p++;
	if (*p == '\0' || *p == '#') {
		*query = p;
		return 0;
	}
	len = strcspn(p, "&#");
	amp = p + len;
	*query = amp;
	eq = memchr(p, '=', len);
	if (eq == NULL)
		eq = amp;
	if (route_query_decode(p, (size_t)(eq - p), key, klen) < 0)
		return -1;
	if (eq == amp) {
		val[0] = '\0';
		return 1;
	}
	if (route_query_decode(eq + 1, (size_t)(amp - eq - 1), val, vlen) < 0)
		return -1;
	return 1;
}
