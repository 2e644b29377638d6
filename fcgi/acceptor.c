/* sse-fcgi - MIT License
 *
 * The acceptor thread (see acceptor.h). For each request it reads the
 * params and the whole (empty, for GET) body through libfcgi, so the
 * connection is at a record boundary when the stream writer takes it over.
 * To hand the connection over it takes ipcFd and requestId, releases
 * libfcgi's buffers with FCGX_Free(r, 0) and sets ipcFd to -1; without
 * that, the next FCGX_Accept_r would reuse or shut down the socket.
 *
 * Stopping: the thread is woken out of accept(2) by ACCEPTOR_WAKE, a
 * realtime signal no one sends from outside (handler installed without
 * SA_RESTART, FCGI_FAIL_ACCEPT_ON_INTR set); SIGUSR2 is the upgrade.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "acceptor.h"
#include "auth.h"
#include "auth_url.h"
#include "broker.h"
#include "cfg.h"
#include "channel.h"
#include "cookie.h"
#include "cors.h"
#include "event_id.h"
#include "history.h"
#include "http_answer.h"
#include "jwt.h"
#include "log.h"
#include "presence.h"
#include "presence_http.h"
#include "publish_http.h"
#include "publisher.h"
#include "retry.h"
#include "route.h"
#include "stats_http.h"
#include "stream.h"
#include "xmalloc.h"

/* Body bytes read and dropped on requests other than publish (413 above):
 * a stream request has none, but must be read to its end before the
 * hand-off. Publish bodies are bounded by max-message instead. */
#define ACCEPTOR_BODY_MAX	65536
#define ACCEPTOR_FIRST_WAIT_MS	2000	/* for Redis, right after start */
#define ACCEPTOR_WAKE		SIGRTMIN	/* interrupts accept(2) */

struct acceptor {
	int			 listen_fd;
	const struct cfg	*cfg;
	struct broker		*broker;
	struct stream_ctx	*streams;
	struct publisher	*publisher;	/* this thread's own */
	const struct cors	*cors;		/* or NULL: no CORS */
	const struct auth	*auth;
	const struct cidr	*stats_allow;
	atomic_ulong		 refused[ACCEPTOR_REFUSED_N];
	uint32_t		 rnd;		/* retry.h's state */
	char			 cors_hdr[CORS_HEADERS_MAX];	/* this request's */
	pthread_t		 thread;
	int			 started;
	int			 abandoned;	/* thread left running */
	atomic_int		 stop;
	atomic_int		 done;
};

static void
acceptor_on_wake(int sig)
{
	(void)sig;	/* only interrupts accept(2) */
}

struct acceptor *
acceptor_create(int listen_fd, const struct cfg *cfg, struct broker *broker,
    struct stream_ctx *streams, const struct cors *cors,
    const struct auth *auth, const struct cidr *stats_allow)
{
	struct acceptor	*a;
	char		 err[256];

	a = xcalloc(1, sizeof *a);
	a->listen_fd = listen_fd;
	a->cfg = cfg;
	a->broker = broker;
	a->streams = streams;
	a->cors = cors;
	a->auth = auth;
	a->stats_allow = stats_allow;
	a->rnd = retry_seed((uint32_t)listen_fd + 7919u);
	a->publisher = publisher_create(cfg->redis, cfg->history_prefix,
	    cfg->publish_timeout_ms, err, sizeof err);
	if (a->publisher == NULL)
		log_error("HTTP publishing unavailable: %s", err);
	return a;
}

void
acceptor_free(struct acceptor *a)
{
	if (a != NULL && !a->abandoned) {
		publisher_free(a->publisher);
		free(a);
	}
}

void
acceptor_refused(struct acceptor *a, unsigned long long *out)
{
	size_t	i;

	for (i = 0; i < ACCEPTOR_REFUSED_N; i++)
		out[i] = atomic_load_explicit(&a->refused[i],
		    memory_order_relaxed);
}

/* Counts a refused stream request by its status (400, 401, 403). */
static void
acceptor_count_refused(struct acceptor *a, int status)
{
	static const int	statuses[ACCEPTOR_DEFERRED] = { 400, 401, 403 };
	size_t			i;

	for (i = 0; i < ACCEPTOR_DEFERRED; i++)
		if (statuses[i] == status)
			atomic_fetch_add_explicit(&a->refused[i], 1,
			    memory_order_relaxed);
}

/* Sends a complete short response. EXTRA holds more header lines (each
 * ending in \r\n) or is "". */
static void
acceptor_respond(struct acceptor *a, FCGX_Request *r, int status,
    const char *reason, const char *type, const char *extra, const char *body)
{
	FCGX_FPrintF(r->out,
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s%s"
	    "\r\n"
	    "%s\n", status, reason, type, a->cors_hdr, extra, body);
	log_debug("%d %s: %s", status, reason, body);
}

/* Sends a complete short response with a one-line plain-text body. */
static void
acceptor_reply(struct acceptor *a, FCGX_Request *r, int status,
    const char *reason, const char *extra, const char *body)
{
	acceptor_respond(a, r, status, reason, "text/plain; charset=utf-8",
	    extra, body);
}

/* Sends a stream request away for a transient reason, the one way
 * EventSource takes it: 200 text/event-stream with a retry: of its own
 * (retry.h) and a comment saying WHY, then the end. Any other status would
 * stop the browser's EventSource for good. Nothing of any channel is
 * streamed. */
static void
acceptor_defer(struct acceptor *a, FCGX_Request *r, unsigned retry_ms,
    const char *why)
{
	char	body[RETRY_BODY_MAX];

	atomic_fetch_add_explicit(&a->refused[ACCEPTOR_DEFERRED], 1,
	    memory_order_relaxed);
	retry_body(body, sizeof body, retry_ms, why);
	/* Not acceptor_respond(): its body is one plain-text line, and its
	 * log line would carry the block's line breaks. */
	FCGX_FPrintF(r->out,
	    "Status: 200 OK\r\n"
	    "Content-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\n"
	    "%s"
	    "\r\n"
	    "%s", a->cors_hdr, body);
	log_debug("deferred a stream (retry %u ms): %s", retry_ms, why);
}

/* Reads and drops the request body. Returns its length, or -1 if it is
 * longer than ACCEPTOR_BODY_MAX. */
static long
acceptor_drain_body(FCGX_Request *r)
{
	char	buf[4096];
	long	total = 0;
	int	n;

	while ((n = FCGX_GetStr(buf, sizeof buf, r->in)) > 0) {
		total += n;
		if (total > ACCEPTOR_BODY_MAX)
			return -1;
	}
	return total;
}

/* Returns the bytes of the request the client controls, as the front
 * server passes them: each HTTP_* param (name=value), REQUEST_URI and
 * QUERY_STRING. libfcgi has read them all by now; max-header bounds what
 * the worker goes on to parse, and says why in a 431. */
static size_t
acceptor_header_size(FCGX_ParamArray envp)
{
	size_t	n = 0;

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, "HTTP_", 5) == 0 ||
		    strncmp(*envp, "REQUEST_URI=", 12) == 0 ||
		    strncmp(*envp, "QUERY_STRING=", 13) == 0)
			n += strlen(*envp);
	return n;
}

/* Right after start, give the broker a moment before calling Redis down:
 * only within ACCEPTOR_FIRST_WAIT_MS of the start, so a Redis that never
 * came up does not hold every request (the acceptor serves one at a time)
 * for that long. */
static int
acceptor_redis_up(struct acceptor *a)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };

	while (!broker_is_up(a->broker)) {
		if (broker_was_up(a->broker) || atomic_load(&a->stop) ||
		    broker_down_ms(a->broker) >= ACCEPTOR_FIRST_WAIT_MS)
			return 0;
		nanosleep(&ts, NULL);
	}
	return 1;
}

/* Hands the connection to the stream writer; REQ becomes its. */
static void
acceptor_handoff(struct acceptor *a, FCGX_Request *r, struct stream_req *req)
{
	req->fd = r->ipcFd;
	req->request_id = (uint16_t)r->requestId;
	FCGX_Free(r, 0);
	r->ipcFd = -1;
	/* A freshly accepted socket has no other status flags to keep, and
	 * the worker never executes a program (no FD_CLOEXEC needed): one
	 * system call per stream instead of three. */
	fcntl(req->fd, F_SETFL, O_NONBLOCK);
	stream_submit(a->streams, req);
}

/* Adds the channel NAME[0..LEN) to REQ unless it is there already.
 * Returns 0, or -1 with a reason in ERR. */
static int
acceptor_add_channel(struct acceptor *a, struct stream_req *req,
    const char *name, size_t len, char *err, size_t errlen)
{
	const char	*why;
	size_t		 i;

	if (!channel_name_valid(name, len, &why)) {
		snprintf(err, errlen, "bad channel name: %s", why);
		return -1;
	}
	for (i = 0; i < req->nchannels; i++)
		if (req->lens[i] == len && memcmp(req->channels[i], name,
		    len) == 0)
			return 0;
	if (req->nchannels == a->cfg->max_channels) {
		snprintf(err, errlen, "too many channels in one stream "
		    "(max-channels is %u)", a->cfg->max_channels);
		return -1;
	}
	req->channels[req->nchannels] = xstrndup(name, len);
	req->lens[req->nchannels++] = len;
	return 0;
}

/* Tells whether lighttpd serves this request with no proxy in front of it.
 * Only nginx reads X-Accel-Buffering; lighttpd keeps every response header
 * for the life of the response (about 400 bytes a stream for this one),
 * so the header is left out there unless a proxy (maybe nginx) forwarded
 * the request. Apache is often behind nginx on shared hosting: it gets the
 * header. */
static int
acceptor_direct_lighttpd(FCGX_Request *r)
{
	static const char *const proxied[] = { "HTTP_X_FORWARDED_FOR=",
	    "HTTP_X_REAL_IP=", "HTTP_FORWARDED=", "HTTP_VIA=" };
	const char	*sw = FCGX_GetParam("SERVER_SOFTWARE", r->envp);
	char		**e;
	size_t		 i;

	/* "lighttpd/1.4.69", or "lighttpd" as the shipped server.tag says. */
	if (sw == NULL || strncmp(sw, "lighttpd", 8) != 0)
		return 0;
	for (e = r->envp; *e != NULL; e++) {
		if (strncmp(*e, "HTTP_", 5) != 0)
			continue;
		for (i = 0; i < sizeof proxied / sizeof proxied[0]; i++)
			if (strncmp(*e, proxied[i], strlen(proxied[i])) == 0)
				return 0;
	}
	return 1;
}

/* Reads the position vector HDR of REQ's channels into REQ->from (the
 * stream resumes each channel after its own). Returns 0, or -1 with a
 * reason for a 400 in ERR. */
static int
acceptor_vector(struct stream_req *req, const char *hdr, char *err,
    size_t errlen)
{
	struct event_id	 v[STREAM_VEC_MAX];
	size_t		 i;

	if (event_id_vec_parse(hdr,
	    strlen(hdr), v, req->nchannels) == -1) {
		snprintf(err, errlen, "malformed Last-Event-ID: expected a "
		    "position for each of the %zu channels, like "
		    "~1700000000000-42~1700000000000-7", req->nchannels);
		return -1;
	}
	req->from = xcalloc(req->nchannels, sizeof *req->from);
	for (i = 0; i < req->nchannels; i++) {
		req->from[i].after = v[i];
		req->from[i].last = -1;
	}
	return 0;
}

/* Builds the stream request: channels from the path ("a,b") and from
 * channel= parameters, the resume id from Last-Event-ID or lastEventId,
 * and the token parameter (jwt-query) into QTOKEN (JWT_TOKEN_MAX + 1
 * bytes). Returns it, or NULL with a reason for a 400 in ERR. */
static struct stream_req *
acceptor_stream_req(struct acceptor *a, FCGX_Request *r, const char *target,
    size_t tlen, char *qtoken, char *err, size_t errlen)
{
	struct stream_req	*req;
	struct event_id		 id;
	const char		*p, *comma, *q, *hdr;
	char			 key[32], val[JWT_TOKEN_MAX + 1];
	char			 qid[EVENT_ID_VEC_MAX(STREAM_VEC_MAX)];
	int			 rc;

	req = stream_req_create(a->cfg->max_channels);
	qid[0] = '\0';
	for (p = target; p <= target + tlen; p = comma + 1) {
		comma = memchr(p, ',', (size_t)(target + tlen - p));
		if (comma == NULL)
			comma = target + tlen;
		if (acceptor_add_channel(a, req, p, (size_t)(comma - p), err,
		    errlen) == -1)
			goto bad;
	}
	q = FCGX_GetParam("QUERY_STRING", r->envp);
	while (q != NULL && (rc = route_query_next(&q, key, sizeof key, val,
	    sizeof val)) != 0) {
		if (rc == -1) {
			snprintf(err, errlen, "bad query string");
			goto bad;
		}
		if (strcmp(key, "channel") == 0) {
			if (acceptor_add_channel(a, req, val, strlen(val), err,
			    errlen) == -1)
				goto bad;
		} else if (strcmp(key, "lastEventId") == 0) {
			if (strlen(val) >= sizeof qid) {
				snprintf(err, errlen, "malformed lastEventId");
				goto bad;
			}
			strcpy(qid, val);
		} else if (strcmp(key, a->cfg->jwt_query) == 0)
			strcpy(qtoken, val);
	}
	/* The header wins: EventSource sends it on every reconnect, while
	 * the URL keeps the lastEventId of the first connect. */
	hdr = FCGX_GetParam("HTTP_LAST_EVENT_ID", r->envp);
	if (hdr == NULL || hdr[0] == '\0')
		hdr = qid;
	/* In a cluster ids count per channel: a stream of several channels
	 * keeps a position in each, its id a vector (docs/cluster.md). */
	if (a->cfg->redis_cluster && req->nchannels > 1) {
		if (req->nchannels > STREAM_VEC_MAX) {
			snprintf(err, errlen, "at most %d channels in one "
			    "stream with a Redis Cluster", STREAM_VEC_MAX);
			goto bad;
		}
		if (a->cfg->poll_hold_ms >= 0) {
			snprintf(err, errlen, "several channels in one stream "
			    "are not supported in poll mode with a Redis "
			    "Cluster: open one stream per channel");
			goto bad;
		}
		if (hdr[0] != '\0' && acceptor_vector(req, hdr, err,
		    errlen) == -1)
			goto bad;
	} else if (hdr[0] != '\0') {
		if (strlen(hdr) >= sizeof req->last_id ||
		    event_id_parse(hdr, strlen(hdr), &id) == -1) {
			snprintf(err, errlen, "malformed Last-Event-ID: "
			    "expected an id like 1700000000000-42");
			goto bad;
		}
		strcpy(req->last_id, hdr);
	}
	/* The stream keeps these for its life: no unused slots. */
	req->channels = xrealloc(req->channels,
	    req->nchannels * sizeof *req->channels);
	req->lens = xrealloc(req->lens, req->nchannels * sizeof *req->lens);
	return req;
bad:
	stream_req_free(req);
	return NULL;
}

/* Returns the bearer token of the Authorization header, or NULL. */
static const char *
acceptor_bearer(FCGX_Request *r)
{
	const char	*h = FCGX_GetParam("HTTP_AUTHORIZATION", r->envp);

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	for (h += 7; *h == ' '; h++)
		;
	return *h != '\0' ? h : NULL;
}

/* Gives REQ what the app is asked with (auth-url): the browser's Cookie
 * and Authorization, the request's URI and client address, the channels.
 * The stream then waits for the app's verdict on the loop. */
static void
acceptor_ask_app(FCGX_Request *r, struct stream_req *req)
{
	char	*chans, *p;
	size_t	 i, n = 1;

	for (i = 0; i < req->nchannels; i++)
		n += req->lens[i] + 1;
	p = chans = xmalloc(n);
	for (i = 0; i < req->nchannels; i++) {
		if (i > 0)
			*p++ = ',';
		memcpy(p, req->channels[i], req->lens[i]);
		p += req->lens[i];
	}
	*p = '\0';
	req->auth = auth_url_creds_create(
	    FCGX_GetParam("HTTP_COOKIE", r->envp),
	    FCGX_GetParam("HTTP_AUTHORIZATION", r->envp),
	    FCGX_GetParam("REQUEST_URI", r->envp),
	    FCGX_GetParam("REMOTE_ADDR", r->envp), chans);
	free(chans);
}

/* Names the user of REQ for presence, when one of its channels has
 * presence: REMOTE_USER, else the sub of a valid token (auth_user). An
 * app-given name (X-SSE-User, from auth-url) takes precedence once the
 * app has answered (stream_subscribe). A name presence cannot list stays
 * anonymous. */
static void
acceptor_presence_user(struct acceptor *a, struct stream_req *req,
    const struct auth_subject *who)
{
	char	user[PRESENCE_USER_MAX + 1];
	size_t	i;

	for (i = 0; i < req->nchannels; i++)
		if (presence_patterns_match(a->cfg->presence, req->channels[i],
		    req->lens[i]))
			break;
	if (i == req->nchannels || auth_user(a->auth, who, time(NULL), user,
	    sizeof user) == -1)
		return;
	if (!presence_user_valid(user, strlen(user))) {
		log_info("presence: user name not listed (more than %d bytes, "
		    "control characters or not UTF-8)", PRESENCE_USER_MAX);
		return;
	}
	req->user = xstrdup(user);
}

/* Decides whether REQ's channels may be read (auth.h), taking the token
 * from the Authorization header, then the query, then the cookie. Sets
 * the stream's expiry. Returns 0, or -1 once it answered 401 or 403. */
static int
acceptor_authorize_stream(struct acceptor *a, FCGX_Request *r,
    struct stream_req *req, const char *qtoken)
{
	struct auth_subject	 who;
	enum auth_verdict	 v;
	const char		*tok;
	char			 why[512], hdr[256];
	size_t			 len = 0;

	who.remote_user = FCGX_GetParam("REMOTE_USER", r->envp);
	if ((tok = acceptor_bearer(r)) != NULL)
		len = strlen(tok);
	else if (qtoken[0] != '\0') {
		tok = qtoken;
		len = strlen(tok);
	} else if (!cookie_find(FCGX_GetParam("HTTP_COOKIE", r->envp),
	    a->cfg->jwt_cookie, &tok, &len))
		tok = NULL;
	who.token = tok;
	who.token_len = len;
	v = auth_subscribe(a->auth, &who, req->channels, req->lens,
	    req->nchannels, time(NULL), &req->expires, why, sizeof why);
	/* auth-url: what the rules do not allow (all, with no rule set) is
	 * the application's to decide, on the loop. Its X-SSE-User, if any,
	 * then names the user for presence instead (stream_subscribe). */
	if (a->cfg->auth_url != NULL && (v != AUTH_ALLOW ||
	    !auth_enabled(a->auth))) {
		acceptor_presence_user(a, req, &who);
		acceptor_ask_app(r, req);
		return 0;
	}
	if (v == AUTH_ALLOW) {
		acceptor_presence_user(a, req, &who);
		return 0;
	}
	/* The reason, never the token: it would outlive it in the log. */
	log_info("refused a stream of %.*s%s: %s", (int)req->lens[0],
	    req->channels[0], req->nchannels > 1 ? ",..." : "", why);
	acceptor_count_refused(a, v == AUTH_FORBIDDEN ? 403 : 401);
	if (v == AUTH_FORBIDDEN)
		acceptor_reply(a, r, 403, "Forbidden", "", why);
	else {
		snprintf(hdr, sizeof hdr, "WWW-Authenticate: Bearer "
		    "realm=\"sse-fcgi\"%s\r\n", strncmp(why, "invalid token",
		    13) == 0 ? ", error=\"invalid_token\"" : "");
		acceptor_reply(a, r, 401, "Unauthorized", hdr, why);
	}
	return -1;
}

/* Compares the Authorization header with SECRET (may be NULL) in time
 * independent of where they differ. Returns 1 when it matches. */
static int
acceptor_bearer_is(FCGX_Request *r, const char *secret)
{
	const char	*h = acceptor_bearer(r);
	size_t		 i, n, m;
	unsigned char	 diff;

	if (h == NULL || secret == NULL)
		return 0;
	n = strlen(h);
	m = strlen(secret);
	if (m == 0)
		return 0;
	diff = n != m;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)h[i] ^ (unsigned char)secret[i % m];
	return diff == 0;
}

/* Body reads for publish_http: FCGX_GetStr on the request's input. */
static int
acceptor_read_body(void *arg, char *buf, int len)
{
	return FCGX_GetStr(buf, len, ((FCGX_Request *)arg)->in);
}

/* Writes an endpoint's answer (http_answer.h), whose body may be large. */
static void
acceptor_answer(struct acceptor *a, FCGX_Request *r,
    const struct http_answer *ans)
{
	FCGX_FPrintF(r->out,
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s%s"
	    "\r\n", ans->status, ans->reason, ans->type, a->cors_hdr,
	    ans->extra);
	FCGX_PutStr(ans->body, (int)ans->len, r->out);
	if (ans->status != 200)
		log_debug("%d %s: %.*s", ans->status, ans->reason,
		    (int)ans->len - 1, ans->body);
}

/* Answers GET <mount>/presence/<channel> (presence_http.h), authorized
 * as a stream of the channel would be. */
static void
acceptor_presence(struct acceptor *a, FCGX_Request *r, const char *method,
    const struct route *rt)
{
	struct http_answer	 ans;
	struct stream_req	*req;
	const char		*q;
	char			 key[32], val[JWT_TOKEN_MAX + 1];
	char			 qtoken[JWT_TOKEN_MAX + 1];
	int			 rc;

	if (presence_http_check(&ans, a->cfg, method, rt->target,
	    rt->target_len)) {
		acceptor_answer(a, r, &ans);
		http_answer_clear(&ans);
		return;
	}
	qtoken[0] = '\0';
	q = FCGX_GetParam("QUERY_STRING", r->envp);
	while (q != NULL && (rc = route_query_next(&q, key, sizeof key, val,
	    sizeof val)) != 0)
		if (rc == 1 && strcmp(key, a->cfg->jwt_query) == 0)
			strcpy(qtoken, val);
	req = stream_req_create(1);
	req->channels[0] = xstrndup(rt->target, rt->target_len);
	req->lens[0] = rt->target_len;
	req->nchannels = 1;
	if (acceptor_authorize_stream(a, r, req, qtoken) == -1)
		;				/* answered */
	else if (req->auth != NULL) {
		/* The app's verdict comes on the loop: answered there, after
		 * it (stream_query.h). Counted as a stream while it waits. */
		if (stream_ctx_reserve(a->streams) == -1) {
			acceptor_reply(a, r, 503, "Service Unavailable",
			    "Retry-After: 5\r\n", "too many requests on this "
			    "worker; try again later");
		} else {
			req->presence = 1;
			if (a->cors_hdr[0] != '\0')
				req->headers = xstrdup(a->cors_hdr);
			acceptor_handoff(a, r, req);
			return;
		}
	} else {
		presence_http_answer(&ans, a->cfg, a->publisher, rt->target,
		    rt->target_len);
		acceptor_answer(a, r, &ans);
		http_answer_clear(&ans);
	}
	stream_req_free(req);
}

/* Routes one request: answers it, or hands it over as a stream. */
static void
acceptor_handle(struct acceptor *a, FCGX_Request *r)
{
	struct route		 rt;
	struct stream_req	*req;
	struct http_answer	 ans;
	struct publish_http_req	 pr;
	const char		*method;
	char			 err[512];
	char			 qtoken[JWT_TOKEN_MAX + 1];
	size_t			 hlen;
	int			 allowed;

	/* One request per connection: a kept-alive idle connection would
	 * block this thread in its next read. */
	r->keepConnection = 0;
	a->cors_hdr[0] = '\0';
	method = FCGX_GetParam("REQUEST_METHOD", r->envp);
	if (method == NULL)
		method = "";
	allowed = cors_check(a->cors, FCGX_GetParam("HTTP_ORIGIN", r->envp),
	    FCGX_GetParam("HTTP_HOST", r->envp), a->cors_hdr);
	if (!allowed) {
		acceptor_drain_body(r);
		log_info("refused origin %s (not in cors-origins)",
		    FCGX_GetParam("HTTP_ORIGIN", r->envp));
		acceptor_reply(a, r, 403, "Forbidden", "",
		    "origin not allowed (cors-origins)");
		return;
	}
	if ((hlen = acceptor_header_size(r->envp)) > a->cfg->max_header) {
		acceptor_drain_body(r);
		snprintf(err, sizeof err, "request headers too large: %zu bytes "
		    "of headers, URI and query string (max-header is %zu)",
		    hlen, a->cfg->max_header);
		log_info("%s", err);
		acceptor_reply(a, r, 431, "Request Header Fields Too Large", "",
		    err);
		return;
	}
	if (strcmp(method, "OPTIONS") == 0 && a->cors != NULL) {
		acceptor_drain_body(r);
		acceptor_reply(a, r, 204, "No Content",
		    "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
		    "Access-Control-Allow-Headers: Authorization, "
		    "Last-Event-ID, Content-Type, SSE-Event\r\n"
		    "Access-Control-Max-Age: 600\r\n", "");
		return;
	}
	route_parse(FCGX_GetParam("REQUEST_URI", r->envp),
	    FCGX_GetParam("SCRIPT_NAME", r->envp),
	    FCGX_GetParam("PATH_INFO", r->envp), &rt);
	if (rt.kind == ROUTE_PUBLISH) {
		pr.method = method;
		pr.channel = rt.target;
		pr.clen = rt.target_len;
		pr.secret_ok = acceptor_bearer_is(r, a->cfg->publisher_secret);
		pr.bearer = acceptor_bearer(r);
		pr.event = FCGX_GetParam("HTTP_SSE_EVENT", r->envp);
		pr.query = FCGX_GetParam("QUERY_STRING", r->envp);
		pr.content_length = FCGX_GetParam("CONTENT_LENGTH", r->envp);
		publish_http_answer(&ans, a->cfg, a->auth, a->publisher, &pr,
		    acceptor_read_body, r);
		acceptor_answer(a, r, &ans);
		http_answer_clear(&ans);
		return;
	}
	if (rt.kind == ROUTE_STATS || rt.kind == ROUTE_METRICS) {
		acceptor_drain_body(r);
		stats_http_answer(&ans, a->cfg, a->stats_allow, a->publisher,
		    rt.kind == ROUTE_METRICS, method,
		    FCGX_GetParam("REMOTE_ADDR", r->envp),
		    acceptor_bearer_is(r, a->cfg->stats_secret),
		    FCGX_GetParam("QUERY_STRING", r->envp));
		acceptor_answer(a, r, &ans);
		http_answer_clear(&ans);
		return;
	}
	if (acceptor_drain_body(r) == -1) {
		acceptor_reply(a, r, 413, "Payload Too Large", "",
		    "request body too large");
		return;
	}
	if (rt.kind == ROUTE_PRESENCE) {
		acceptor_presence(a, r, method, &rt);
		return;
	}
	switch (rt.kind) {
	case ROUTE_NOT_FOUND:
		acceptor_reply(a, r, 404, "Not Found", "", "unknown path: "
		    "expected <mount>/events/<channel>, "
		    "<mount>/publish/<channel>, <mount>/presence/<channel>, "
		    "<mount>/stats or <mount>/metrics");
		return;
	case ROUTE_BAD:
		acceptor_reply(a, r, 400, "Bad Request", "", rt.why);
		return;
	case ROUTE_EVENTS:
	case ROUTE_PUBLISH:
	case ROUTE_STATS:
	case ROUTE_METRICS:
	case ROUTE_PRESENCE:
		break;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		acceptor_reply(a, r, 405, "Method Not Allowed",
		    "Allow: GET, HEAD\r\n", "method not allowed: use GET");
		return;
	}
	qtoken[0] = '\0';
	req = acceptor_stream_req(a, r, rt.target, rt.target_len, qtoken, err,
	    sizeof err);
	if (req == NULL) {
		acceptor_count_refused(a, 400);
		acceptor_reply(a, r, 400, "Bad Request", "", err);
		return;
	}
	if (acceptor_authorize_stream(a, r, req, qtoken) == -1) {
		stream_req_free(req);
		return;
	}
	if (!acceptor_redis_up(a)) {
		stream_req_free(req);
		acceptor_defer(a, r, retry_backoff(a->cfg->retry_ms,
		    broker_down_ms(a->broker), &a->rnd),
		    "redis is unreachable; reconnect later");
		return;
	}
	if (strcmp(method, "HEAD") == 0) {
		stream_req_free(req);
		FCGX_FPrintF(r->out, "Status: 200 OK\r\n"
		    "Content-Type: text/event-stream\r\n"
		    "Cache-Control: no-cache\r\n\r\n");
		return;
	}
	if (stream_ctx_reserve(a->streams) == -1) {
		stream_req_free(req);
		log_warn("deferring a stream: max-streams (%u) reached",
		    a->cfg->max_streams);
		acceptor_defer(a, r, retry_jitter(a->cfg->retry_ms, &a->rnd),
		    "too many streams on this worker; reconnect later");
		return;
	}
	if (a->cors_hdr[0] != '\0')
		req->headers = xstrdup(a->cors_hdr);
	req->no_accel = acceptor_direct_lighttpd(r);
	acceptor_handoff(a, r, req);
}

static void *
acceptor_main(void *arg)
{
	struct acceptor		*a = arg;
	struct timespec		 pause = { 0, 100 * 1000 * 1000 };
	FCGX_Request		 r;
	sigset_t		 set;
	int			 rc;

	/* Signals belong to the loop thread, except our wake-up call. */
	sigfillset(&set);
	sigdelset(&set, ACCEPTOR_WAKE);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	FCGX_InitRequest(&r, a->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!atomic_load(&a->stop)) {
		rc = FCGX_Accept_r(&r);
		if (rc < 0) {
			if (atomic_load(&a->stop))
				break;
			if (rc != -EINTR) {
				log_error("accept: %s", strerror(-rc));
				nanosleep(&pause, NULL);	/* EMFILE */
			}
			continue;
		}
		acceptor_handle(a, &r);
	}
	FCGX_Finish_r(&r);
	atomic_store(&a->done, 1);
	return NULL;
}

int
acceptor_start(struct acceptor *a)
{
	struct sigaction	sa;
	int			rc;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = acceptor_on_wake;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept(2) must return */
	sigaction(ACCEPTOR_WAKE, &sa, NULL);
	if ((rc = pthread_create(&a->thread, NULL, acceptor_main, a)) != 0) {
		errno = rc;
		return -1;
	}
	a->started = 1;
	return 0;
}

void
acceptor_stop(struct acceptor *a)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		i;

	if (!a->started)
		return;
	atomic_store(&a->stop, 1);
	for (i = 0; i < 100 && !atomic_load(&a->done); i++) {
		pthread_kill(a->thread, ACCEPTOR_WAKE);
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&a->done))
		pthread_join(a->thread, NULL);
	else {
		log_warn("acceptor busy with a request; not waiting for it");
		pthread_detach(a->thread);
		a->abandoned = 1;
	}
	a->started = 0;
}
