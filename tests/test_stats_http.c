/* sse-fcgi - MIT License
 *
 * The stats endpoints' decisions that need no Redis: 404 when stats are
 * off, 405, 403 (address not allowed, with and without a secret set; the
 * bearer admits), 400 for bad query input on /stats and /metrics, and 503
 * with a reason when the worker has no Redis connection.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cidr.h"
#include "log.h"
#include "http_answer.h"
#include "stats_http.h"
#include "testlib.h"

struct http_case {
	int		 metrics;
	const char	*method;
	const char	*addr;
	int		 bearer_ok;
	const char	*query;
	int		 status;
	const char	*body;		/* substring */
};

static const struct http_case cases[] = {
	{ 0, "POST", "127.0.0.1", 0, NULL, 405, "use GET" },
	{ 0, NULL, "127.0.0.1", 0, NULL, 405, "use GET" },
	{ 0, "GET", "10.1.2.3", 0, NULL, 403,
	  "/stats: client address 10.1.2.3 is not in stats-allow and no "
	  "valid stats-secret bearer was sent" },
	{ 1, "GET", "10.1.2.3", 0, NULL, 403, "/metrics: client address" },
	{ 0, "GET", NULL, 0, NULL, 403, "(unknown) is not in stats-allow" },
	{ 0, "GET", "10.1.2.3", 0, "x=1", 403, "not in stats-allow" },
	{ 0, "GET", "10.1.2.3", 1, "x=1", 400,
	  "unknown query parameter \"x\"" },
	{ 0, "GET", "127.0.0.1", 0, "x=1", 400, "(/stats takes top or one" },
	{ 0, "GET", "::1", 0, "top=x", 400, "bad top: expected 0..1000" },
	{ 0, "GET", "::1", 0, "top=-1", 400, "bad top" },
	{ 0, "GET", "::1", 0, "top=1001", 400, "bad top" },
	{ 0, "GET", "::1", 0, "top=", 400, "bad top" },
	{ 0, "GET", "::1", 0, "channel=a%20b", 400, "bad channel name" },
	{ 0, "GET", "::1", 0, "channel=", 400, "bad channel name" },
	{ 0, "GET", "::1", 0, "channel=a&channel=b", 400,
	  "unknown query parameter \"channel\"" },
	{ 0, "GET", "::1", 0, "%zz", 400, "bad query string" },
	{ 1, "GET", "::1", 0, "channel=a", 400, "(/metrics takes top)" },
	{ 0, "GET", "127.0.0.1", 0, "top=5&channel=a.b", 503,
	  "{\"error\":\"stats are unavailable on this worker\"}" },
	{ 0, "HEAD", "127.0.0.1", 0, NULL, 503, "unavailable" },
	{ 1, "GET", "::ffff:127.0.0.1", 0, "top=1000", 503,
	  "stats are unavailable on this worker\n" },
};

int
main(void)
{
	struct http_answer	 a;
	struct cfg		 c;
	struct cidr		*allow;
	char			 err[256];
	size_t			 i;

	log_set_level(LOG_LVL_ERROR);
	log_open("/dev/null");
	cfg_defaults(&c);
	allow = cidr_create(c.stats_allow, err, sizeof err);
	test_cond("default allowlist", allow != NULL);
	test_cond("set the secret", cfg_set(&c, "stats-secret", "s", NULL,
	    err, sizeof err) == 0);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		stats_http_answer(&a, &c, allow, NULL, cases[i].metrics,
		    cases[i].method, cases[i].addr, cases[i].bearer_ok,
		    cases[i].query);
		if (a.status != cases[i].status ||
		    strstr(a.body, cases[i].body) == NULL)
			fprintf(stderr, "case %zu: %d %s", i, a.status, a.body);
		test_cond("status and reason", a.status == cases[i].status &&
		    strstr(a.body, cases[i].body) != NULL);
		test_cond("body ends in LF", a.len > 0 &&
		    a.body[a.len - 1] == '\n' && strlen(a.body) == a.len);
		if (a.status == 405)
			test_cond("Allow header", strcmp(a.extra,
			    "Allow: GET, HEAD\r\n") == 0);
		if (a.status == 503)
			test_cond("Retry-After", strstr(a.extra,
			    "Retry-After:") != NULL);
		http_answer_clear(&a);
	}
	/* Without a secret the 403 does not mention one. */
	free(c.stats_secret);
	c.stats_secret = NULL;
	stats_http_answer(&a, &c, allow, NULL, 0, "GET", "192.0.2.1", 0, NULL);
	test_cond("403 without a secret configured", a.status == 403 &&
	    strstr(a.body, "bearer") == NULL);
	http_answer_clear(&a);
	c.stats_interval = 0;
	stats_http_answer(&a, &c, allow, NULL, 0, "GET", "127.0.0.1", 0, NULL);
	test_cond("stats off: 404 first", a.status == 404 &&
	    strstr(a.body, "stats-interval 0") != NULL);
	http_answer_clear(&a);
	stats_http_answer(&a, &c, allow, NULL, 1, "POST", "10.0.0.1", 0, NULL);
	test_cond("stats off: 404 even for POST from afar", a.status == 404);
	http_answer_clear(&a);
	cidr_free(allow);
	cfg_clear(&c);
	return test_report("test_stats_http");
}
