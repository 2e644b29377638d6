/* sse-fcgi - MIT License
 *
 * The application's check (see auth_url.h): the HTTP client on the loop,
 * the cache of verdicts and the re-check of open streams.
 *
 * Each key (credentials and channels) is one entry. Entries sit on one
 * list in the order they were last asked (a check moves its entry to the
 * tail), so a once-a-second tick finds the stale ones at the head: those
 * with streams are asked again, those without are dropped. An entry in
 * flight owns its evhttp connection (freed by libevent after the answer,
 * or by the deadline timer, which then answers "unavailable" itself).
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>

#include "auth_url.h"
#include "cfg.h"
#include "dict.h"
#include "log.h"
#include "monotime.h"
#include "resolve.h"
#include "xmalloc.h"

#define AUTH_URL_KEY_LEN	32	/* SHA-256 */
#define AUTH_URL_BODY_MAX	65536	/* bytes of an answer's body */
#define AUTH_URL_HEADERS_MAX	16384	/* bytes of its headers */

struct auth_url_creds {
	char	*cookie;
	char	*authorization;
	char	*uri;
	char	*addr;
	char	*channels;
};

struct auth_url_entry;

struct auth_url_sub {
	struct auth_url_entry	*e;
	struct auth_url_sub	*prev, *next;	/* the entry's streams */
	auth_url_fn		 fn;
	void			*arg;
	int			 waiting;	/* no verdict given yet */
};

struct auth_url_entry {
	unsigned char		 key[AUTH_URL_KEY_LEN];
	struct auth_url		*au;
	struct auth_url_entry	*prev, *next;	/* by the time last asked */
	struct auth_url_sub	*subs;
	unsigned		 nsubs;
	struct auth_url_creds	*creds;		/* while it has streams */
	int			 has_verdict;
	enum auth_url_kind	 kind;
	int			 status;
	char			 user[AUTH_URL_USER_MAX + 1];
	char			 reason[AUTH_URL_REASON_MAX + 1];
	int64_t			 asked;		/* monotonic ms */
	struct evhttp_connection *conn;		/* the check in flight */
	struct event		*deadline;
	int			 busy;		/* calling its streams */
};

struct auth_url {
	struct event_base	*base;
	const struct cfg	*cfg;
	struct auth_url_target	 t;
	char			 ip[64];	/* the host, resolved at start */
	char			 host_hdr[300];
	struct dict		*cache;
	struct auth_url_entry	*head, *tail;
	struct event		*tick;
	unsigned long		 requests;
};

static void	auth_url_ask(struct auth_url_entry *e);

/* Whether E's verdict, asked at e->asked, still holds at NOW (ms: in
 * whole seconds a verdict asked late in one could expire early in the
 * next, at once for auth-cache 1). */
static int
auth_url_fresh(const struct auth_url_entry *e, int64_t now)
{
	return now - e->asked < (int64_t)e->au->cfg->auth_cache * 1000;
}

struct auth_url_creds *
auth_url_creds_create(const char *cookie, const char *authorization,
    const char *uri, const char *addr, const char *channels)
{
	struct auth_url_creds	*c;

	c = xcalloc(1, sizeof *c);
	c->cookie = cookie != NULL && *cookie != '\0' ? xstrdup(cookie) : NULL;
	c->authorization = authorization != NULL && *authorization != '\0' ?
	    xstrdup(authorization) : NULL;
	c->uri = xstrdup(uri != NULL ? uri : "");
	c->addr = xstrdup(addr != NULL ? addr : "");
	c->channels = xstrdup(channels != NULL ? channels : "");
	return c;
}

void
auth_url_creds_free(struct auth_url_creds *c)
{
	if (c == NULL)
		return;
	/* Credentials do not linger in freed memory. */
	if (c->cookie != NULL)
		memset(c->cookie, 0, strlen(c->cookie));
	if (c->authorization != NULL)
		memset(c->authorization, 0, strlen(c->authorization));
	free(c->cookie);
	free(c->authorization);
	free(c->uri);
	free(c->addr);
	free(c->channels);
	free(c);
}

/* The cache key of C: Cookie, Authorization and channels, each with a
 * presence byte, so no two different triples meet. */
static void
auth_url_key(const struct auth_url_creds *c, unsigned char *key)
{
	EVP_MD_CTX	*ctx;
	const char	*parts[3];
	unsigned char	 tag;
	unsigned int	 n;
	size_t		 i;

	parts[0] = c->cookie;
	parts[1] = c->authorization;
	parts[2] = c->channels;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	for (i = 0; i < 3; i++) {
		tag = parts[i] != NULL ? 1 : 0;
		EVP_DigestUpdate(ctx, &tag, 1);
		if (parts[i] != NULL)
			EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]) + 1);
	}
	EVP_DigestFinal_ex(ctx, key, &n);
	EVP_MD_CTX_free(ctx);
}

/* Unlinks E from the list. */
static void
auth_url_unlink(struct auth_url_entry *e)
{
	struct auth_url	*au = e->au;

	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		au->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		au->tail = e->prev;
	e->prev = e->next = NULL;
}

/* Puts E at the tail (the most recently asked). */
static void
auth_url_append(struct auth_url_entry *e)
{
	struct auth_url	*au = e->au;

	e->prev = au->tail;
	e->next = NULL;
	if (au->tail != NULL)
		au->tail->next = e;
	else
		au->head = e;
	au->tail = e;
}

/* Frees E (no streams); a check in flight is dropped. */
static void
auth_url_entry_free(struct auth_url_entry *e)
{
	if (e->conn != NULL)
		evhttp_connection_free(e->conn);
	event_free(e->deadline);
	auth_url_unlink(e);
	dict_del(e->au->cache, (const char *)e->key, sizeof e->key);
	auth_url_creds_free(e->creds);
	free(e);
}

/* E has no stream left: its credentials go; without a verdict to cache
 * and no check in flight, so does E. */
static void
auth_url_entry_idle(struct auth_url_entry *e)
{
	auth_url_creds_free(e->creds);
	e->creds = NULL;
	if (!e->has_verdict && e->conn == NULL)
		auth_url_entry_free(e);
}

static void
auth_url_fill(const struct auth_url_entry *e, struct auth_url_verdict *v)
{
	v->kind = e->kind;
	v->status = e->status;
	v->user = e->user;
	v->reason = e->reason;
}

/* A check of E ended with V: cached (unless unavailable) and given to
 * the streams that wait, and a refusal to those already streaming. */
static void
auth_url_settle(struct auth_url_entry *e, const struct auth_url_verdict *v)
{
	struct auth_url_sub	*s, *next;
	struct auth_url_verdict	 give = *v;

	if (v->kind != AUTH_URL_UNAVAILABLE) {
		e->has_verdict = 1;
		e->kind = v->kind;
		e->status = v->status;
		snprintf(e->user, sizeof e->user, "%s", v->user);
		snprintf(e->reason, sizeof e->reason, "%s", v->reason);
		auth_url_fill(e, &give);
	} else if (e->has_verdict && e->nsubs > 0)
		log_warn("auth-url unavailable (%s); %u open streams keep "
		    "their last verdict until the next check", v->reason,
		    e->nsubs);
	e->busy = 1;
	for (s = e->subs; s != NULL; s = next) {
		next = s->next;
		if (s->waiting) {
			s->waiting = 0;
			s->fn(s->arg, &give, 1);
		} else if (give.kind == AUTH_URL_UNAUTHORIZED ||
		    give.kind == AUTH_URL_FORBIDDEN)
			s->fn(s->arg, &give, 0);
	}
	e->busy = 0;
	if (e->nsubs == 0)
		auth_url_entry_idle(e);
}

/* Reads the app's answer into *V (strings in BUF). */
static void
auth_url_judge(struct evhttp_request *req, struct auth_url_verdict *v,
    char *user, char *reason)
{
	struct evkeyvalq	*hdrs;
	struct evkeyval		*kv;
	struct evbuffer		*body;
	const char		*line, *name = NULL;
	char			*text;
	size_t			 len;
	int			 code, n = 0;

	user[0] = '\0';
	v->user = user;
	v->reason = reason;
	v->kind = AUTH_URL_UNAVAILABLE;
	v->status = 0;
	if (req == NULL || (code = evhttp_request_get_response_code(req)) ==
	    0) {
		snprintf(reason, AUTH_URL_REASON_MAX + 1, "no answer "
		    "(connection refused, reset or too large)");
		return;
	}
	v->status = code;
	if (code >= 200 && code <= 299) {
		hdrs = evhttp_request_get_input_headers(req);
		for (kv = hdrs->tqh_first; kv != NULL; kv = kv->next.tqe_next)
			if (strcasecmp(kv->key, "X-SSE-User") == 0) {
				name = kv->value;
				n++;
			}
		if (n > 1 || (name != NULL &&
		    !auth_url_user_valid(name, strlen(name)))) {
			snprintf(reason, AUTH_URL_REASON_MAX + 1, "the app's "
			    "X-SSE-User is not 1..%d bytes of [A-Za-z0-9._:-]"
			    "%s", AUTH_URL_USER_MAX, n > 1 ? " (sent twice)" :
			    "");
			return;
		}
		if (name != NULL)
			snprintf(user, AUTH_URL_USER_MAX + 1, "%s", name);
		v->kind = AUTH_URL_ALLOW;
		snprintf(reason, AUTH_URL_REASON_MAX + 1, "allowed");
		return;
	}
	if (code != 401 && code != 403) {
		snprintf(reason, AUTH_URL_REASON_MAX + 1, "auth-url answered "
		    "%d", code);
		return;
	}
	v->kind = code == 401 ? AUTH_URL_UNAUTHORIZED : AUTH_URL_FORBIDDEN;
	body = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(body);
	if (len > AUTH_URL_REASON_MAX + 64)
		len = AUTH_URL_REASON_MAX + 64;
	text = (char *)evbuffer_pullup(body, (ev_ssize_t)len);
	line = evhttp_request_get_response_code_line(req);
	auth_url_reason(text != NULL ? text : "", text != NULL ? len : 0,
	    line != NULL && *line != '\0' ? line : code == 401 ?
	    "Unauthorized" : "Forbidden", reason, AUTH_URL_REASON_MAX + 1);
}

/* evhttp callback: the check of ARG (an entry) has an answer or failed.
 * libevent frees the connection after this returns. */
static void
auth_url_on_done(struct evhttp_request *req, void *arg)
{
	struct auth_url_entry	*e = arg;
	struct auth_url_verdict	 v;
	char			 user[AUTH_URL_USER_MAX + 1];
	char			 reason[AUTH_URL_REASON_MAX + 1];

	event_del(e->deadline);
	e->conn = NULL;
	auth_url_judge(req, &v, user, reason);
	if (v.kind == AUTH_URL_UNAVAILABLE)
		log_warn("auth-url %s: %s", e->au->cfg->auth_url, reason);
	else
		log_debug("auth-url: %d for %s%s%s", v.status,
		    e->creds != NULL ? e->creds->channels : "?",
		    user[0] ? ", user " : "", user);
	auth_url_settle(e, &v);
}

/* The deadline: no answer within auth-timeout (or the request could not
 * be made). The connection is dropped without its callback. */
static void
auth_url_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct auth_url_entry	*e = arg;
	struct auth_url_verdict	 v;
	char			 reason[AUTH_URL_REASON_MAX + 1];

	if (e->conn != NULL) {
		evhttp_connection_free(e->conn);
		e->conn = NULL;
		snprintf(reason, sizeof reason, "no answer within auth-timeout "
		    "(%u ms)", e->au->cfg->auth_timeout_ms);
	} else
		snprintf(reason, sizeof reason, "cannot send the request");
	log_warn("auth-url %s: %s", e->au->cfg->auth_url, reason);
	v.kind = AUTH_URL_UNAVAILABLE;
	v.status = 0;
	v.user = "";
	v.reason = reason;
	auth_url_settle(e, &v);
}

static void
auth_url_header(struct evkeyvalq *h, const char *name, const char *value)
{
	/* evhttp refuses values with CR or LF: the header is left out. */
	if (value != NULL && *value != '\0' &&
	    evhttp_add_header(h, name, value) == -1)
		log_warn("auth-url: %s header not passed (bad bytes)", name);
}

/* Sends E's check (E has credentials); the answer or the deadline
 * settles it. */
static void
auth_url_ask(struct auth_url_entry *e)
{
	struct auth_url		*au = e->au;
	struct auth_url_creds	*c = e->creds;
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	struct timeval		 tv;

	/* evhttp's own timeouts a second later: the deadline decides. */
	tv.tv_sec = au->cfg->auth_timeout_ms / 1000 + 1;
	tv.tv_usec = (au->cfg->auth_timeout_ms % 1000) * 1000;
	e->asked = (int64_t)monotime_ms();
	auth_url_unlink(e);
	auth_url_append(e);
	au->requests++;
	e->conn = evhttp_connection_base_new(au->base, NULL, au->ip,
	    (unsigned short)au->t.port);
	if (e->conn == NULL)
		goto fail;
	evhttp_connection_set_timeout_tv(e->conn, &tv);
	tv.tv_sec--;
	evhttp_connection_set_retries(e->conn, 0);
	evhttp_connection_set_max_body_size(e->conn, AUTH_URL_BODY_MAX);
	evhttp_connection_set_max_headers_size(e->conn, AUTH_URL_HEADERS_MAX);
	evhttp_connection_free_on_completion(e->conn);
	req = evhttp_request_new(auth_url_on_done, e);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", au->host_hdr);
	evhttp_add_header(h, "User-Agent", "sse-fcgi/" PACKAGE_VERSION);
	evhttp_add_header(h, "Connection", "close");
	auth_url_header(h, "Cookie", c->cookie);
	auth_url_header(h, "Authorization", c->authorization);
	auth_url_header(h, "X-SSE-Channels", c->channels);
	auth_url_header(h, "X-Original-URI", c->uri);
	auth_url_header(h, "X-Forwarded-For", c->addr);
	auth_url_header(h, "X-Real-IP", c->addr);
	if (evhttp_make_request(e->conn, req, EVHTTP_REQ_GET,
	    au->t.path) == -1) {
		/* The request is freed; the connection is still ours. */
		evhttp_connection_free(e->conn);
		e->conn = NULL;
		goto fail;
	}
	evtimer_add(e->deadline, &tv);
	return;
fail:
	/* Settled from the loop, never inside the caller. */
	tv.tv_sec = 0;
	tv.tv_usec = 0;
	evtimer_add(e->deadline, &tv);
}

struct auth_url_sub *
auth_url_subscribe(struct auth_url *au, struct auth_url_creds *c,
    auth_url_fn fn, void *arg, struct auth_url_verdict *now, int *known)
{
	struct auth_url_entry	*e;
	struct auth_url_sub	*s;
	unsigned char		 key[AUTH_URL_KEY_LEN];

	auth_url_key(c, key);
	e = dict_get(au->cache, (const char *)key, sizeof key);
	if (e == NULL) {
		e = xcalloc(1, sizeof *e);
		memcpy(e->key, key, sizeof key);
		e->au = au;
		e->asked = (int64_t)monotime_ms();
		e->deadline = evtimer_new(au->base, auth_url_on_deadline, e);
		dict_put(au->cache, (const char *)e->key, sizeof e->key, e);
		auth_url_append(e);
	}
	s = xcalloc(1, sizeof *s);
	s->e = e;
	s->fn = fn;
	s->arg = arg;
	s->next = e->subs;
	if (e->subs != NULL)
		e->subs->prev = s;
	e->subs = s;
	e->nsubs++;
	if (e->creds == NULL)
		e->creds = c;
	else
		auth_url_creds_free(c);
	*known = 0;
	if (e->has_verdict && auth_url_fresh(e, (int64_t)monotime_ms())) {
		auth_url_fill(e, now);
		*known = 1;
		return s;
	}
	s->waiting = 1;
	if (e->conn == NULL && !evtimer_pending(e->deadline, NULL))
		auth_url_ask(e);
	return s;
}

void
auth_url_unsubscribe(struct auth_url_sub *s)
{
	struct auth_url_entry	*e;

	if (s == NULL)
		return;
	e = s->e;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		e->subs = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	e->nsubs--;
	free(s);
	if (e->nsubs == 0 && !e->busy)
		auth_url_entry_idle(e);
}

const char *
auth_url_sub_user(const struct auth_url_sub *s)
{
	return s->e->has_verdict ? s->e->user : "";
}

unsigned long
auth_url_requests(const struct auth_url *au)
{
	return au->requests;
}

/* Once a second: entries asked auth-cache seconds ago are asked again
 * when they have streams, else dropped; then the idle ones over
 * AUTH_URL_CACHE_MAX go, the least recently asked first. */
static void
auth_url_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct auth_url		*au = arg;
	struct auth_url_entry	*e, *next, *stop = au->tail;
	int64_t			 now = (int64_t)monotime_ms();
	size_t			 idle = 0;
	int			 last;

	for (e = au->head, last = 0; e != NULL && !last; e = next) {
		next = e->next;
		last = e == stop;
		if (auth_url_fresh(e, now))
			break;
		if (e->conn != NULL || evtimer_pending(e->deadline, NULL))
			continue;
		if (e->nsubs > 0)
			auth_url_ask(e);	/* moves E to the tail */
		else
			auth_url_entry_free(e);
	}
	for (e = au->head; e != NULL; e = e->next)
		idle += e->nsubs == 0;
	for (e = au->head; e != NULL && idle > AUTH_URL_CACHE_MAX; e = next) {
		next = e->next;
		if (e->nsubs == 0 && e->conn == NULL &&
		    !evtimer_pending(e->deadline, NULL)) {
			auth_url_entry_free(e);
			idle--;
		}
	}
}

struct auth_url *
auth_url_create(struct event_base *base, const struct cfg *cfg, char *err,
    size_t errlen)
{
	struct auth_url	*au;
	struct timeval	 tv = { 1, 0 };
	char		 why[256];

	err[0] = '\0';
	if (cfg->auth_url == NULL)
		return NULL;
	au = xcalloc(1, sizeof *au);
	au->base = base;
	au->cfg = cfg;
	if (auth_url_parse(cfg->auth_url, &au->t, why, sizeof why) == -1) {
		snprintf(err, errlen, "auth-url: %s", why);
		goto fail;
	}
	/* Once, here: no name is resolved on the loop. */
	if (resolve_host(au->t.host, au->ip, sizeof au->ip, why,
	    sizeof why) == -1) {
		snprintf(err, errlen, "auth-url: cannot resolve %s: %s",
		    au->t.host, why);
		goto fail;
	}
	if (strchr(au->t.host, ':') != NULL)
		snprintf(au->host_hdr, sizeof au->host_hdr, "[%s]", au->t.host);
	else
		snprintf(au->host_hdr, sizeof au->host_hdr, "%s", au->t.host);
	if (au->t.port != 80)
		snprintf(au->host_hdr + strlen(au->host_hdr),
		    sizeof au->host_hdr - strlen(au->host_hdr), ":%u",
		    au->t.port);
	au->cache = dict_create();
	au->tick = event_new(base, -1, EV_PERSIST, auth_url_on_tick, au);
	event_add(au->tick, &tv);
	return au;
fail:
	free(au);
	return NULL;
}

void
auth_url_free(struct auth_url *au)
{
	if (au == NULL)
		return;
	while (au->head != NULL)
		auth_url_entry_free(au->head);
	event_free(au->tick);
	dict_free(au->cache);
	free(au);
}
