/* sse-fcgi - MIT License
 *
 * The publish endpoint's decisions, without a Redis (the publisher points
 * at a closed port, so a request that passes every check ends in 503 with
 * the reason): 405, 403 when HTTP publishing is off, 400 for bad channel
 * names, 401/403 without the secret or a token allowing the channel, 503
 * without a publisher, 400 for a bad query or event name, 413 over
 * max-message (the body is not read), 400 for a short body or a bad
 * Content-Length (each with its own reason), and 503 with Retry-After when Redis is unreachable.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cfg.h"
#include "http_answer.h"
#include "log.h"
#include "publish_http.h"
#include "publisher.h"
#include "testlib.h"

/* A body source: BODY, handed out at most CHUNK bytes a call. */
struct body {
	const char	*p;
	size_t		 left;
	int		 reads;
};

static int
body_read(void *arg, char *buf, int len)
{
	struct body	*b = arg;
	size_t		 n = (size_t)len < b->left ? (size_t)len : b->left;

	n = n > 7 ? 7 : n;
	memcpy(buf, b->p, n);
	b->p += n;
	b->left -= n;
	b->reads++;
	return (int)n;
}

struct pcase {
	const char	*method;
	const char	*channel;
	int		 secret_ok;
	const char	*event;
	const char	*query;
	const char	*clen;
	const char	*body;
	int		 status;
	const char	*text;		/* substring of the body */
};

static const struct pcase cases[] = {
	{ "PUT", "a", 1, NULL, NULL, "1", "x", 405, "POST to publish" },
	{ "DELETE", "a", 1, NULL, NULL, NULL, "", 405, "method not allowed" },
	{ "POST", "a b", 1, NULL, NULL, "1", "x", 400, "bad channel name" },
	{ "POST", "", 1, NULL, NULL, "1", "x", 400, "bad channel name" },
	{ "POST", "a", 0, NULL, NULL, "1", "x", 401, "" },
	{ "GET", "a", 0, NULL, NULL, NULL, "", 401, "" },
	{ "POST", "a", 1, "bad\nname", NULL, "1", "x", 400, "bad event name" },
	{ "POST", "a", 1, NULL, "event=x%0Dy", "1", "x", 400,
	  "bad event name" },
	{ "POST", "a", 1, NULL, "event=x%00y", "1", "x", 400,
	  "bad query string" },
	{ "POST", "a", 1, NULL, "%zz", "1", "x", 400, "bad query string" },
	{ "POST", "a", 1, NULL, NULL, "2000000", "x", 413,
	  "larger than max-message (1048576 bytes)" },
	{ "POST", "a", 1, NULL, NULL, "10", "short", 400,
	  "shorter than its Content-Length" },
	{ "POST", "a", 1, NULL, NULL, "-1", "x", 400, "bad Content-Length" },
	{ "POST", "a", 1, NULL, NULL, "12abc", "x", 400,
	  "bad Content-Length" },
	{ "POST", "a", 1, NULL, NULL, " 1", "x", 400, "bad Content-Length" },
	{ "POST", "a", 1, NULL, "event=ok&other=1", "15",
	  "{\"type\":\"task\"}", 503, "{\"error\":" },
	{ "POST", "a", 1, "named", NULL, NULL, "", 503, "{\"error\":" },
	{ "GET", "a", 1, NULL, NULL, NULL, "", 503, "{\"error\":" },
};

int
main(void)
{
	struct http_answer	 a;
	struct publish_http_req	 r;
	struct cfg		 c;
	struct auth		*auth;
	struct publisher	*pub;
	struct body		 b;
	char			 err[256];
	size_t			 i;

	log_set_level(LOG_LVL_ERROR);
	log_open("/dev/null");
	cfg_defaults(&c);
	auth = auth_create(&c, err, sizeof err);
	test_cond("auth without keys", auth != NULL);

	/* No secret, no key: HTTP publishing is off, whoever asks. */
	memset(&r, 0, sizeof r);
	r.method = "POST";
	r.channel = "a";
	r.clen = 1;
	r.secret_ok = 1;
	publish_http_answer(&a, &c, auth, NULL, &r, body_read, &b);
	test_cond("off: 403", a.status == 403 &&
	    strstr(a.body, "publishing over HTTP is disabled") != NULL);
	http_answer_clear(&a);

	test_cond("set the secret", cfg_set(&c, "publisher-secret",
	    "0123456789abcdef", NULL, err, sizeof err) == 0);
	r.secret_ok = 1;
	publish_http_answer(&a, &c, auth, NULL, &r, body_read, &b);
	test_cond("no publisher: 503 with Retry-After", a.status == 503 &&
	    strstr(a.extra, "Retry-After:") != NULL &&
	    strstr(a.body, "unavailable on this worker") != NULL);
	http_answer_clear(&a);

	pub = publisher_create("redis://127.0.0.1:1", "sse:", 200, err,
	    sizeof err);
	test_cond("publisher (not connected)", pub != NULL);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&r, 0, sizeof r);
		r.method = cases[i].method;
		r.channel = cases[i].channel;
		r.clen = strlen(cases[i].channel);
		r.secret_ok = cases[i].secret_ok;
		r.event = cases[i].event;
		r.query = cases[i].query;
		r.content_length = cases[i].clen;
		b.p = cases[i].body;
		b.left = strlen(cases[i].body);
		b.reads = 0;
		publish_http_answer(&a, &c, auth, pub, &r, body_read, &b);
		if (a.status != cases[i].status ||
		    strstr(a.body, cases[i].text) == NULL)
			fprintf(stderr, "case %zu: %d %s", i, a.status, a.body);
		test_cond("status and reason", a.status == cases[i].status &&
		    strstr(a.body, cases[i].text) != NULL);
		test_cond("body ends in LF", a.len > 0 &&
		    a.body[a.len - 1] == '\n' && strlen(a.body) == a.len);
		if (a.status == 405)
			test_cond("Allow header", strcmp(a.extra,
			    "Allow: GET, POST\r\n") == 0);
		if (a.status == 401)
			test_cond("WWW-Authenticate", strstr(a.extra,
			    "WWW-Authenticate: Bearer") != NULL);
		if (a.status == 413)
			test_cond("413 reads no body", b.reads == 0);
		if (a.status == 503)
			test_cond("503 has Retry-After", strstr(a.extra,
			    "Retry-After:") != NULL);
		http_answer_clear(&a);
	}
	publisher_free(pub);
	auth_free(auth);
	cfg_clear(&c);
	return test_report("test_publish_http");
}
