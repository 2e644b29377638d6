/* sse-fcgi - MIT License
 *
 * libFuzzer target for request routing (route.h). The input is split on NUL
 * bytes into REQUEST_URI, SCRIPT_NAME, PATH_INFO and QUERY_STRING; a missing
 * field is NULL, as when the front server does not send that variable. The
 * route must be consistent (a target only for the events and publish
 * routes, NUL-terminated at its length, a reason for a 400), and
 * route_query_next() must walk the query string, and the part of
 * REQUEST_URI after '?', to its end with results that fit its buffers, both
 * with the acceptor's buffer sizes and with tiny ones.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

#define FUZZ_FIELDS	4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_route: %s\n", what);
	abort();
}

/* Walks QUERY with KLEN- and VLEN-byte buffers, as the acceptor does. */
static void
fuzz_query(const char *query, size_t klen, size_t vlen)
{
	const char	*q = query, *before;
	char		*key, *val;
	size_t		 steps = 0, qlen = strlen(query);
	int		 rc;

	if ((key = malloc(klen)) == NULL || (val = malloc(vlen)) == NULL)
		abort();
	for (;;) {
		before = q;
		rc = route_query_next(&q, key, klen, val, vlen);
		if (q < before || q > query + qlen)
			fuzz_fail("query pointer moved outside the string");
		if (rc == 0)
			break;
		if (rc != 1 && rc != -1)
			fuzz_fail("route_query_next returned a bad value");
		if (q == before)
			fuzz_fail("route_query_next made no progress");
		if (rc == 1 && (strnlen(key, klen) == klen ||
		    strnlen(val, vlen) == vlen))
			fuzz_fail("key or value not NUL-terminated");
		if (++steps > qlen + 1)
			fuzz_fail("route_query_next does not end");
	}
	if (*q != '\0' && *q != '#')
		fuzz_fail("query walk ended early");
	free(val);
	free(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct route	 rt;
	char		*buf, *f[FUZZ_FIELDS], *p, *end;
	const char	*q;
	size_t		 n;

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, in, size);
	buf[size] = '\0';
	memset(f, 0, sizeof f);
	for (p = buf, end = buf + size, n = 0; n < FUZZ_FIELDS; n++) {
		f[n] = p;
		p += strlen(p) + 1;
		if (p > end)
			break;
	}

	route_parse(f[0], f[1], f[2], &rt);
	switch (rt.kind) {
	case ROUTE_NOT_FOUND:
		if (rt.target_len != 0 || rt.target[0] != '\0')
			fuzz_fail("a target for a route not found");
		break;
	case ROUTE_BAD:
		if (rt.why == NULL || rt.why[0] == '\0')
			fuzz_fail("a 400 without a reason");
		break;
	case ROUTE_EVENTS:
	case ROUTE_PUBLISH:
	case ROUTE_PRESENCE:
		if (rt.target_len > ROUTE_TARGET_MAX ||
		    strlen(rt.target) != rt.target_len)
			fuzz_fail("target length is wrong");
		if (memchr(rt.target, '?', rt.target_len) != NULL &&
		    f[0] != NULL && f[0][0] != '\0' &&
		    strchr(f[0], '?') != NULL &&
		    strstr(f[0], "%3F") == NULL && strstr(f[0], "%3f") == NULL)
			fuzz_fail("the query string leaked into the target");
		break;
	case ROUTE_STATS:
	case ROUTE_METRICS:
		if (rt.target_len != 0 || rt.target[0] != '\0')
			fuzz_fail("a target for stats or metrics");
		break;
	default:
		fuzz_fail("unknown route kind");
	}

	if (f[0] != NULL && (q = strchr(f[0], '?')) != NULL) {
		fuzz_query(q + 1, 32, 512);
		fuzz_query(q + 1, 1, 2);
	}
	if (f[3] != NULL) {
		fuzz_query(f[3], 32, 512);
		fuzz_query(f[3], 1, 2);
	}
	free(buf);
	return 0;
}
