/* sse-fcgi - MIT License
 *
 * The application decides (auth-url): before a stream opens, the worker
 * asks the site with a GET to auth-url, passing the browser's Cookie and
 * Authorization headers, the channels (X-SSE-Channels: a,b), the original
 * URI (X-Original-URI) and the client's address (X-Forwarded-For,
 * X-Real-IP). A 2xx answer allows the stream, and its X-SSE-User header
 * names the user; 401 and 403 refuse it with that status and the app's
 * reason (the first line of its body); anything else, a connect error or
 * no answer within auth-timeout means the app is unavailable.
 *
 * Asynchronous on the worker's libevent loop, with libevent's own HTTP
 * client (evhttp): one connection per check, closed after it, with a
 * deadline of its own, so a slow app delays only the streams that wait for
 * it. Plain http only (the app is local: http://127.0.0.1/auth.php); the
 * host name is resolved once, at start, never on the loop.
 *
 * Verdicts (allow, 401, 403) are cached per credentials and channel set
 * (a SHA-256 of Cookie, Authorization and the channels) for auth-cache
 * seconds; streams of the same key share one check, in flight or cached,
 * so N streams with one cookie cost one app request per interval. A key
 * with open streams is asked again every auth-cache seconds; a refusal
 * then reaches each of its streams (auth_url_fn). An unavailable app is
 * not cached. At most AUTH_URL_CACHE_MAX keys without streams are kept
 * (the least recently checked go first); keys with streams are kept as
 * long as their streams, and only they keep the credentials in memory.
 *
 * Loop thread only, except the pure helpers at the end.
 */
#ifndef SSE_AUTH_URL_H
#define SSE_AUTH_URL_H

#include <stddef.h>

struct auth_url;
struct auth_url_sub;
struct cfg;
struct event_base;

#define AUTH_URL_MAX		1024	/* bytes of the auth-url option */
#define AUTH_URL_USER_MAX	64	/* bytes of an X-SSE-User name */
#define AUTH_URL_REASON_MAX	200	/* bytes of a refusal's reason */
#define AUTH_URL_CACHE_MAX	10000	/* keys without streams */

enum auth_url_kind {
	AUTH_URL_ALLOW = 0,	/* 2xx */
	AUTH_URL_UNAUTHORIZED,	/* 401 */
	AUTH_URL_FORBIDDEN,	/* 403 */
	AUTH_URL_UNAVAILABLE	/* anything else, no answer, a bad answer */
};

/* One verdict; the strings are NUL-terminated and borrowed from the
 * cache (valid during the callback, or until the next call). */
struct auth_url_verdict {
	enum auth_url_kind	 kind;
	int			 status;	/* the app's, 0 when none */
	const char		*user;		/* X-SSE-User, "" if none */
	const char		*reason;	/* why, for the answer and log */
};

/* A stream's verdict came (WAITING: its first one), or, for a stream
 * already allowed, a re-check refused it (never called for an allowing or
 * unavailable re-check). The callee may call auth_url_unsubscribe(). */
typedef void (*auth_url_fn)(void *arg, const struct auth_url_verdict *v,
    int waiting);

/* The parts of auth-url. */
struct auth_url_target {
	char		host[256];	/* as written, without brackets */
	unsigned	port;
	char		path[AUTH_URL_MAX];	/* from '/', with the query */
};

/* Returns the checker for CFG's auth-url (NULL when it is not set, with
 * ERR ""), or NULL with a reason in ERR when its host cannot be resolved.
 * BASE and CFG are borrowed and must outlive it. */
struct auth_url	*auth_url_create(struct event_base *base,
		    const struct cfg *cfg, char *err, size_t errlen);
/* Drops checks in flight (no callback) and the cache. Every sub must be
 * unsubscribed first. NULL is ignored. */
void		 auth_url_free(struct auth_url *);

/* What one stream request sends the app; all strings owned. */
struct auth_url_creds;

/* Returns the credentials of a request (each argument may be NULL; all
 * are copied). CHANNELS is "a,b". */
struct auth_url_creds *auth_url_creds_create(const char *cookie,
		    const char *authorization, const char *uri,
		    const char *addr, const char *channels);
/* Frees C. NULL is ignored. */
void		 auth_url_creds_free(struct auth_url_creds *c);

/* Attaches a stream with credentials C (ownership passes) to its key's
 * check. Returns the stream's handle. When the verdict is known now,
 * *NOW is filled and 1 is in *KNOWN; else 0 is, and FN(ARG, verdict, 1)
 * comes later. Either way FN(ARG, verdict, 0) may come on a re-check
 * refusal while the handle lives. */
struct auth_url_sub *auth_url_subscribe(struct auth_url *,
		    struct auth_url_creds *c, auth_url_fn fn, void *arg,
		    struct auth_url_verdict *now, int *known);
/* Detaches the stream; no callback reaches ARG afterwards. NULL is
 * ignored. */
void		 auth_url_unsubscribe(struct auth_url_sub *);
/* Returns the user the app named for SUB's stream ("" if none). */
const char	*auth_url_sub_user(const struct auth_url_sub *);
/* Requests made to the app so far (tests, stats). */
unsigned long	 auth_url_requests(const struct auth_url *);

/* Pure helpers, any thread. */
/* Parses an auth-url value (http://HOST[:PORT]/PATH) into *T. Returns 0,
 * or -1 with a reason in ERR. */
int		 auth_url_parse(const char *url, struct auth_url_target *t,
		    char *err, size_t errlen);
/* Returns 1 when the LEN bytes at S are a valid X-SSE-User: 1 to
 * AUTH_URL_USER_MAX bytes of channel-name bytes ([A-Za-z0-9._:-]), so the
 * name is safe in a channel template, a log line and JSON. */
int		 auth_url_user_valid(const char *s, size_t len);
/* Writes the app's reason, from the first line of the LEN bytes of BODY
 * (or FALLBACK when that is empty), into OUT (OUTLEN bytes): printable
 * ASCII only, other bytes as '?', cut to AUTH_URL_REASON_MAX. */
void		 auth_url_reason(const char *body, size_t len,
		    const char *fallback, char *out, size_t outlen);

#endif
