/* sse-fcgi - MIT License
 *
 * Routing: the events endpoint wherever it is mounted, percent-decoding,
 * the stats endpoints, and what is not found or malformed.
 */
#include "config.h"

#include <string.h>

#include "route.h"
#include "testlib.h"

struct route_case {
	const char	*uri, *script, *info;
	enum route_kind	 kind;
	const char	*target;
};

static const struct route_case cases[] = {
	{ "/api/v1/events/project.123", NULL, NULL, ROUTE_EVENTS, "project.123" },
	{ "/events/user.1?lastEventId=5", NULL, NULL, ROUTE_EVENTS, "user.1" },
	{ "/~u/events.fcgi/events/task.7", NULL, NULL, ROUTE_EVENTS, "task.7" },
	{ "/api/v1/events/a%2Eb", NULL, NULL, ROUTE_EVENTS, "a.b" },
	{ "/api/v1/events/a%2Fb", NULL, NULL, ROUTE_EVENTS, "a/b" },
	{ "/api/v1/events/a,b", NULL, NULL, ROUTE_EVENTS, "a,b" },
	{ "/api/v1/events/", NULL, NULL, ROUTE_EVENTS, "" },
	{ "/api/v1/events/x#frag", NULL, NULL, ROUTE_EVENTS, "x" },
	{ "/api/v1/events/%zz", NULL, NULL, ROUTE_BAD, NULL },
	{ "/api/v1/events/%4", NULL, NULL, ROUTE_BAD, NULL },
	{ "/api/v1/events/a%00", NULL, NULL, ROUTE_BAD, NULL },
	{ "/api/v1/events", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "/api/v1/events/x/", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "/api/v1/event/x", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "/api/v1/xevents/x", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "/", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "nothing", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ NULL, "/api/v1", "/events/user.2", ROUTE_EVENTS, "user.2" },
	{ NULL, "/sse.fcgi", "/events/x", ROUTE_EVENTS, "x" },
	{ NULL, NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "/api/v1/stats", NULL, NULL, ROUTE_STATS, "" },
	{ "/api/v1/stats?channel=x", NULL, NULL, ROUTE_STATS, "" },
	{ "/stats", NULL, NULL, ROUTE_STATS, "" },
	{ "/api/v1/metrics", NULL, NULL, ROUTE_METRICS, "" },
	{ NULL, "/sse.fcgi", "/metrics", ROUTE_METRICS, "" },
	{ "/api/v1/events/stats", NULL, NULL, ROUTE_EVENTS, "stats" },
	{ "/api/v1/publish/metrics", NULL, NULL, ROUTE_PUBLISH, "metrics" },
	{ "/api/v1/stats/", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "/api/v1/stats/x", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "/api/v1/xstats", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "stats", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "/api/v1/presence/room.1", NULL, NULL, ROUTE_PRESENCE, "room.1" },
	{ NULL, "/sse.fcgi", "/presence/room.1", ROUTE_PRESENCE, "room.1" },
	{ "/api/v1/presence/a%2Fb?x=1", NULL, NULL, ROUTE_PRESENCE, "a/b" },
	{ "/api/v1/presence/%zz", NULL, NULL, ROUTE_BAD, NULL },
	{ "/api/v1/presence", NULL, NULL, ROUTE_NOT_FOUND, NULL },
	{ "/api/v1/events/presence", NULL, NULL, ROUTE_EVENTS, "presence" },
};

int
main(void)
{
	struct route	 rt;
	char		 longuri[ROUTE_TARGET_MAX + 64];
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct route_case *c = &cases[i];

		route_parse(c->uri, c->script, c->info, &rt);
		test_cond(c->uri ? c->uri : "(cgi vars)", rt.kind == c->kind);
		if (c->target != NULL)
			test_cond(c->target, strcmp(rt.target, c->target) == 0 &&
			    rt.target_len == strlen(c->target));
		if (c->kind == ROUTE_BAD)
			test_cond("reason", rt.why != NULL);
	}
	memcpy(longuri, "/events/", 8);
	memset(longuri + 8, 'a', ROUTE_TARGET_MAX + 10);
	longuri[8 + ROUTE_TARGET_MAX + 10] = '\0';
	route_parse(longuri, NULL, NULL, &rt);
	test_cond("too long is bad", rt.kind == ROUTE_BAD);
	return test_report("test_route");
}
