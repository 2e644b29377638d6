/* sse-fcgi - MIT License
 *
 * The application's check (auth_url.h): the auth-url parser, X-SSE-User
 * validation and the reason's cleaning, table-driven; then the client and
 * its cache against an in-process HTTP server (libevent's evhttp on
 * 127.0.0.1) that answers as the test says: what the app is sent, one
 * request for many streams of one key, a cached verdict, 401/403 with the
 * reason, 500 and bad X-SSE-User not cached, the auth-timeout deadline, a
 * stream that leaves while it waits, the re-check that refuses an open
 * stream (and one that finds the app unavailable and keeps it), and
 * freeing the checker with a request in flight.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "auth_url.h"
#include "cfg.h"
#include "testlib.h"

/* ---------------------------------------------------------------- pure */

struct parse_case {
	const char	*url;
	int		 ok;
	const char	*host;		/* or the error substring */
	unsigned	 port;
	const char	*path;
};

static const struct parse_case parse_cases[] = {
	{ "http://127.0.0.1/auth.php", 1, "127.0.0.1", 80, "/auth.php" },
	{ "http://127.0.0.1:8080/a?b=c&d", 1, "127.0.0.1", 8080, "/a?b=c&d" },
	{ "HTTP://App-1.example/x", 1, "App-1.example", 80, "/x" },
	{ "http://[::1]:81/", 1, "::1", 81, "/" },
	{ "http://h:65535/", 1, "h", 65535, "/" },
	{ "https://h/a", 0, "https is not supported", 0, NULL },
	{ "ftp://h/a", 0, "expected http://", 0, NULL },
	{ "h/a", 0, "expected http://", 0, NULL },
	{ "http://", 0, "missing or bad host", 0, NULL },
	{ "http:///a", 0, "missing or bad host", 0, NULL },
	{ "http://h", 0, "expected a path", 0, NULL },
	{ "http://h?a", 0, "expected a path", 0, NULL },
	{ "http://user@h/a", 0, "expected a path", 0, NULL },
	{ "http://h:/a", 0, "bad port", 0, NULL },
	{ "http://h:0/a", 0, "port out of range", 0, NULL },
	{ "http://h:65536/a", 0, "port out of range", 0, NULL },
	{ "http://h:99999999999999999999/a", 0, "port out of range", 0, NULL },
	{ "http://[::1/a", 0, "unterminated", 0, NULL },
	{ "http://[g::1]/a", 0, "bad IPv6", 0, NULL },
	{ "http://h/a b", 0, "spaces, control", 0, NULL },
	{ "http://h/a\r\nX: y", 0, "spaces, control", 0, NULL },
	{ "http://h/\xc3\xa9", 0, "spaces, control", 0, NULL },
	{ "http://h/a#b", 0, "fragment", 0, NULL },
};

static void
test_parse(void)
{
	struct auth_url_target	 t;
	char			 err[256], long_url[AUTH_URL_MAX + 16];
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];

		err[0] = '\0';
		rc = auth_url_parse(c->url, &t, err, sizeof err);
		if (c->ok)
			test_cond(c->url, rc == 0 && strcmp(t.host, c->host) ==
			    0 && t.port == c->port && strcmp(t.path, c->path) ==
			    0);
		else
			test_cond(c->url, rc == -1 && strstr(err, c->host) !=
			    NULL);
		if (!(c->ok ? rc == 0 : rc == -1))
			fprintf(stderr, "  %s: rc %d err \"%s\"\n", c->url, rc,
			    err);
	}
	memcpy(long_url, "http://h/", 9);
	memset(long_url + 9, 'a', AUTH_URL_MAX);
	long_url[AUTH_URL_MAX] = '\0';
	test_cond("too long", auth_url_parse(long_url, &t, err, sizeof err) ==
	    -1 && strstr(err, "longer than") != NULL);
	long_url[AUTH_URL_MAX - 1] = '\0';
	test_cond("longest", auth_url_parse(long_url, &t, err, sizeof err) ==
	    0);
}

static void
test_user(void)
{
	static const struct {
		const char	*s;
		int		 ok;
	} cases[] = {
		{ "42", 1 }, { "alice", 1 }, { "a.b_c:d-e", 1 }, { "A9", 1 },
		{ "", 0 }, { " ", 0 }, { "a b", 0 }, { "*", 0 }, { "a?", 0 },
		{ "a,b", 0 }, { "a/b", 0 }, { "a\"b", 0 }, { "a\\b", 0 },
		{ "\xc3\xa9", 0 }, { "a\tb", 0 }, { "{sub}", 0 },
	};
	char	buf[AUTH_URL_USER_MAX + 2];
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		test_cond(cases[i].s, auth_url_user_valid(cases[i].s,
		    strlen(cases[i].s)) == cases[i].ok);
	test_cond("NUL inside", !auth_url_user_valid("a\0b", 3));
	memset(buf, 'u', sizeof buf);
	test_cond("64 bytes", auth_url_user_valid(buf, AUTH_URL_USER_MAX));
	test_cond("65 bytes", !auth_url_user_valid(buf, AUTH_URL_USER_MAX + 1));
}

static void
test_reason(void)
{
	char	out[AUTH_URL_REASON_MAX + 1], big[600], small[8];

	auth_url_reason("not yours\nmore", 14, "Forbidden", out, sizeof out);
	test_cond("first line", strcmp(out, "not yours") == 0);
	auth_url_reason("a\r\nb", 4, NULL, out, sizeof out);
	test_cond("CRLF ends it", strcmp(out, "a") == 0);
	auth_url_reason("\n\n  why  \n", 10, NULL, out, sizeof out);
	test_cond("leading blank lines, trailing spaces", strcmp(out,
	    "why") == 0);
	auth_url_reason("", 0, "Forbidden", out, sizeof out);
	test_cond("empty body: the fallback", strcmp(out, "Forbidden") == 0);
	auth_url_reason(" \n", 2, "Unauthorized", out, sizeof out);
	test_cond("blank body: the fallback", strcmp(out,
	    "Unauthorized") == 0);
	auth_url_reason("a\x01\x7f\xc3\xa9\0z", 7, NULL, out, sizeof out);
	test_cond("other bytes as ?", strcmp(out, "a?????z") == 0);
	memset(big, 'r', sizeof big);
	auth_url_reason(big, sizeof big, NULL, out, sizeof out);
	test_cond("cut to the maximum", strlen(out) == AUTH_URL_REASON_MAX);
	auth_url_reason("abcdefghij", 10, NULL, small, sizeof small);
	test_cond("cut to the buffer", strcmp(small, "abcdefg") == 0);
	auth_url_reason("x", 1, NULL, small, 0);
	test_cond("no buffer: no write", 1);
}

/* ---------------------------------------------------------- the server */

enum mode { M_ALLOW, M_401, M_403, M_500, M_HOLD, M_BADUSER, M_NOUSER };

static struct event_base	*base;
static enum mode		 mode;
static int			 served;
static int			 served_s6;	/* of cookie s=6 alone */
static char			 seen[1024];	/* the last request's headers */
static struct evhttp_request	*held;

static const char *
hdr(struct evkeyvalq *in, const char *name)
{
	const char	*h = evhttp_find_header(in, name);

	return h != NULL ? h : "-";
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*b = evbuffer_new();

	served++;
	/* Open streams are re-checked every second; a check that counts
	 * one key's requests must not see theirs. */
	if (strcmp(hdr(in, "Cookie"), "s=6") == 0)
		served_s6++;
	snprintf(seen, sizeof seen, "uri=%s cookie=%s auth=%s ch=%s "
	    "orig=%s ff=%s ip=%s", evhttp_request_get_uri(req),
	    hdr(in, "Cookie"), hdr(in, "Authorization"),
	    hdr(in, "X-SSE-Channels"), hdr(in, "X-Original-URI"),
	    hdr(in, "X-Forwarded-For"), hdr(in, "X-Real-IP"));
	switch (mode) {
	case M_ALLOW:
		evhttp_add_header(out, "X-SSE-User", "42");
		evbuffer_add_printf(b, "ok\n");
		evhttp_send_reply(req, 200, "OK", b);
		break;
	case M_NOUSER:
		evhttp_send_reply(req, 204, "No Content", b);
		break;
	case M_BADUSER:
		evhttp_add_header(out, "X-SSE-User", "a*b");
		evhttp_send_reply(req, 200, "OK", b);
		break;
	case M_401:
		evhttp_send_reply(req, 401, "Unauthorized", b);
		break;
	case M_403:
		evbuffer_add_printf(b, "not yours\nsecond line\n");
		evhttp_send_reply(req, 403, "Forbidden", b);
		break;
	case M_500:
		evbuffer_add_printf(b, "oops\n");
		evhttp_send_reply(req, 500, "Internal Server Error", b);
		break;
	case M_HOLD:
		held = req;	/* never answered */
		break;
	}
	evbuffer_free(b);
}

/* ---------------------------------------------------------- the streams */

struct fake {
	int			 calls;
	int			 waiting;	/* of the last call */
	enum auth_url_kind	 kind;
	int			 status;
	char			 user[AUTH_URL_USER_MAX + 1];
	char			 reason[AUTH_URL_REASON_MAX + 1];
	struct auth_url_sub	*sub;
	int			 leave;		/* unsubscribe in the callback */
};

static void
on_verdict(void *arg, const struct auth_url_verdict *v, int waiting)
{
	struct fake	*f = arg;

	f->calls++;
	f->waiting = waiting;
	f->kind = v->kind;
	f->status = v->status;
	snprintf(f->user, sizeof f->user, "%s", v->user);
	snprintf(f->reason, sizeof f->reason, "%s", v->reason);
	if (f->leave) {
		auth_url_unsubscribe(f->sub);
		f->sub = NULL;
	}
}

/* Runs the loop until *FLAG is set or MS milliseconds have passed. */
static void
run_until(const int *flag, int ms)
{
	struct timespec	ts = { 0, 1000 * 1000 };
	int		i;

	for (i = 0; i < ms && !*flag; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		nanosleep(&ts, NULL);
	}
}

static struct auth_url_creds *
creds(const char *cookie, const char *channels)
{
	return auth_url_creds_create(cookie, "Bearer t0k",
	    "/api/v1/events/x?y=1", "192.0.2.7", channels);
}

/* Subscribes F and returns 1 when the verdict was known at once. */
static int
sub(struct auth_url *au, struct fake *f, const char *cookie,
    const char *channels)
{
	struct auth_url_verdict	v;
	int			known;

	memset(f, 0, sizeof *f);
	f->sub = auth_url_subscribe(au, creds(cookie, channels), on_verdict,
	    f, &v, &known);
	if (known) {
		f->kind = v.kind;
		f->status = v.status;
		snprintf(f->user, sizeof f->user, "%s", v.user);
		snprintf(f->reason, sizeof f->reason, "%s", v.reason);
	}
	return known;
}

static void
test_client(void)
{
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	struct sockaddr_in		 sin;
	socklen_t			 slen = sizeof sin;
	struct cfg			 cfg;
	struct auth_url			*au;
	struct fake			 a, b, c, d, e;
	char				 url[128], err[256];
	int				 n0, never = 0;

	base = event_base_new();
	http = evhttp_new(base);
	bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	test_cond("test server listens", bound != NULL);
	if (bound == NULL)
		return;
	getsockname(evhttp_bound_socket_get_fd(bound),
	    (struct sockaddr *)&sin, &slen);
	evhttp_set_gencb(http, on_request, NULL);
	cfg_defaults(&cfg);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/auth?site=1",
	    ntohs(sin.sin_port));
	test_cond("auth-url set", cfg_set(&cfg, "auth-url", url, NULL, err,
	    sizeof err) == 0);
	cfg.auth_timeout_ms = 300;
	cfg.auth_cache = 1;
	test_cond("no auth-url: no checker, no error",
	    auth_url_create(base, &(struct cfg){ 0 }, err, sizeof err) ==
	    NULL && err[0] == '\0');
	au = auth_url_create(base, &cfg, err, sizeof err);
	test_cond("checker", au != NULL);

	/* Allowed; what the app is sent. */
	mode = M_ALLOW;
	test_cond("first: asked", !sub(au, &a, "s=1", "user.42"));
	run_until(&a.calls, 3000);
	test_cond("allowed, with the user", a.calls == 1 && a.waiting &&
	    a.kind == AUTH_URL_ALLOW && a.status == 200 &&
	    strcmp(a.user, "42") == 0);
	test_cond("the app is sent what it needs", strcmp(seen,
	    "uri=/auth?site=1 cookie=s=1 auth=Bearer t0k ch=user.42 "
	    "orig=/api/v1/events/x?y=1 ff=192.0.2.7 ip=192.0.2.7") == 0);
	if (a.calls != 1)
		fprintf(stderr, "  seen: %s\n", seen);
	test_cond("sub's user", strcmp(auth_url_sub_user(a.sub), "42") == 0);
	/* The same key: cached, no request. */
	n0 = served;
	test_cond("same key: known at once", sub(au, &b, "s=1", "user.42") &&
	    b.kind == AUTH_URL_ALLOW && strcmp(b.user, "42") == 0);
	test_cond("and no request", served == n0 &&
	    auth_url_requests(au) == 1);
	/* Another channel set is another key. */
	test_cond("other channels: asked", !sub(au, &c, "s=1",
	    "user.42,user.7"));
	/* Three streams of a new key at once: one request. */
	mode = M_403;
	test_cond("new key, three streams", !sub(au, &d, "s=2", "user.7"));
	{
		struct fake	d2, d3;

		test_cond("second waits too", !sub(au, &d2, "s=2", "user.7"));
		test_cond("third waits too", !sub(au, &d3, "s=2", "user.7"));
		run_until(&d3.calls, 3000);
		run_until(&c.calls, 3000);
		test_cond("one request for the three", served == n0 + 2);
		test_cond("all three refused with the reason", d.calls == 1 &&
		    d2.calls == 1 && d3.calls == 1 && d3.kind ==
		    AUTH_URL_FORBIDDEN && d3.status == 403 && strcmp(d3.reason,
		    "not yours") == 0);
		test_cond("no user on a refusal", d3.user[0] == '\0');
		auth_url_unsubscribe(d2.sub);
		auth_url_unsubscribe(d3.sub);
	}
	auth_url_unsubscribe(d.sub);
	test_cond("a refusal is cached", sub(au, &d, "s=2", "user.7") &&
	    d.kind == AUTH_URL_FORBIDDEN);
	auth_url_unsubscribe(d.sub);
	auth_url_unsubscribe(c.sub);

	/* 401. */
	mode = M_401;
	sub(au, &d, NULL, "user.42");
	run_until(&d.calls, 3000);
	test_cond("401, the status line as the reason", d.kind ==
	    AUTH_URL_UNAUTHORIZED && strcmp(d.reason, "Unauthorized") == 0);
	auth_url_unsubscribe(d.sub);

	/* Unavailable answers are not cached. */
	mode = M_500;
	sub(au, &d, "s=3", "user.42");
	run_until(&d.calls, 3000);
	test_cond("500: unavailable", d.kind == AUTH_URL_UNAVAILABLE &&
	    d.status == 500 && strstr(d.reason, "answered 500") != NULL);
	auth_url_unsubscribe(d.sub);
	mode = M_BADUSER;
	test_cond("not cached: asked again", !sub(au, &d, "s=3", "user.42"));
	run_until(&d.calls, 3000);
	test_cond("bad X-SSE-User: unavailable", d.kind ==
	    AUTH_URL_UNAVAILABLE && strstr(d.reason, "X-SSE-User") != NULL);
	auth_url_unsubscribe(d.sub);
	mode = M_NOUSER;
	sub(au, &d, "s=4", "user.42");
	run_until(&d.calls, 3000);
	test_cond("204 without X-SSE-User: allowed, no user", d.kind ==
	    AUTH_URL_ALLOW && d.user[0] == '\0' &&
	    auth_url_sub_user(d.sub)[0] == '\0');
	auth_url_unsubscribe(d.sub);

	/* No answer: the deadline. */
	mode = M_HOLD;
	sub(au, &d, "s=5", "user.42");
	run_until(&d.calls, 3000);
	test_cond("no answer: unavailable at auth-timeout", d.calls == 1 &&
	    d.kind == AUTH_URL_UNAVAILABLE && strstr(d.reason,
	    "auth-timeout (300 ms)") != NULL);
	auth_url_unsubscribe(d.sub);

	/* A stream that leaves while it waits hears nothing; the answer is
	 * still cached. */
	mode = M_ALLOW;
	sub(au, &d, "s=6", "user.42");
	auth_url_unsubscribe(d.sub);
	run_until(&never, 300);
	test_cond("left while waiting: no callback", d.calls == 0 &&
	    served_s6 == 1);
	{
		int	i, known = 0;

		/* Until the answer is in (a slow build may need longer):
		 * each try joins the check in flight, none asks again. */
		for (i = 0; i < 60 && !known; i++) {
			known = sub(au, &d, "s=6", "user.42");
			if (!known)
				auth_url_unsubscribe(d.sub);
			if (!known)
				run_until(&never, 50);
		}
		test_cond("its answer is cached", known && d.kind ==
		    AUTH_URL_ALLOW && served_s6 == 1);
		if (known)
			auth_url_unsubscribe(d.sub);
	}

	/* Re-check: A and B (key s=1, user.42) are open. The app now finds
	 * it unavailable: they stay; then it says 401: they hear it. B leaves
	 * in its callback. */
	mode = M_500;
	n0 = served;
	a.calls = b.calls = 0;
	run_until(&never, 2500);
	test_cond("re-checked within two intervals", served > n0);
	test_cond("unavailable at a re-check: no call, streams kept",
	    a.calls == 0 && b.calls == 0);
	mode = M_401;
	b.leave = 1;
	run_until(&a.calls, 3000);
	test_cond("401 at a re-check reaches the open streams", a.calls == 1 &&
	    !a.waiting && a.kind == AUTH_URL_UNAUTHORIZED && b.calls == 1 &&
	    b.sub == NULL);
	auth_url_unsubscribe(a.sub);

	/* Freed with a request in flight: no callback, nothing leaks. */
	mode = M_HOLD;
	sub(au, &e, "s=7", "user.42");
	run_until(&never, 50);
	auth_url_unsubscribe(e.sub);
	auth_url_free(au);
	test_cond("freed with a check in flight", e.calls == 0);
	auth_url_free(NULL);
	cfg_clear(&cfg);
	evhttp_free(http);
	event_base_free(base);
}

int
main(void)
{
	test_parse();
	test_user();
	test_reason();
	test_client();
	return test_report("test_auth_url");
}
