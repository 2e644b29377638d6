/* sse-fcgi - MIT License
 *
 * Who may read and publish which channels. With nothing configured every
 * channel is public, as in the quick start (the worker warns at start).
 * Once any rule or key is configured, a channel may be read when
 *   - it matches a public-channels glob, or
 *   - it matches a user-channels template filled with the web server's
 *     REMOTE_USER ("user.{REMOTE_USER}") or the token's subject
 *     ("user.{sub}"), or
 *   - the request carries a valid token (jwt.h) whose sse.subscribe
 *     patterns match it.
 * A stream of several channels needs every one of them. Publishing is
 * separate: the publisher secret (checked by the acceptor) or a token
 * whose sse.publish patterns match the channel; public and user rules
 * never allow publishing.
 *
 * Placeholders are filled with the value as a literal: a REMOTE_USER or
 * sub that is not a valid channel-name fragment (say "*") fills nothing,
 * so it can never widen a rule.
 */
#ifndef SSE_AUTH_H
#define SSE_AUTH_H

#include <stddef.h>
#include <time.h>

struct auth;
struct cfg;

enum auth_verdict {
	AUTH_ALLOW = 0,
	AUTH_UNAUTHORIZED,	/* 401: no usable credentials */
	AUTH_FORBIDDEN		/* 403: credentials, but not for this */
};

/* The credentials of one request; all borrowed. */
struct auth_subject {
	const char	*remote_user;	/* set by the web server, or NULL */
	const char	*token;		/* as sent, or NULL */
	size_t		 token_len;
};

/* Returns the rules and keys of CFG (which it does not keep), or NULL with
 * a reason in ERR (a bad rule or an unreadable key file). */
struct auth	*auth_create(const struct cfg *cfg, char *err, size_t errlen);
/* Frees A. NULL is ignored. */
void		 auth_free(struct auth *a);
/* Returns 1 once any rule or key is configured (channels are private). */
int		 auth_enabled(const struct auth *a);
/* Returns 1 when tokens can be verified (jwt-secret or jwt-key-file). */
int		 auth_has_keys(const struct auth *a);
/* Decides whether WHO may read the N channels; on AUTH_ALLOW *EXPIRES is
 * when the token that was needed stops being accepted, its exp plus the
 * leeway (0: never). Otherwise a one-line reason, without the token, is
 * in WHY. */
enum auth_verdict auth_subscribe(const struct auth *a,
		    const struct auth_subject *who, char *const *channels,
		    const size_t *lens, size_t n, time_t now, time_t *expires,
		    char *why, size_t whylen);
/* Writes the name of WHO into USER (LEN bytes): REMOTE_USER when the web
 * server set one, else the sub of a token that verifies. For presence
 * (presence.h). Returns 0, or -1 when WHO is anonymous. */
int		 auth_user(const struct auth *a, const struct auth_subject *who,
		    time_t now, char *user, size_t len);
/* Decides whether the LEN-byte TOKEN allows publishing to CHANNEL. */
enum auth_verdict auth_publish(const struct auth *a, const char *token,
		    size_t len, const char *channel, size_t clen, time_t now,
		    char *why, size_t whylen);

#endif
