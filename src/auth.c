/* sse-fcgi - MIT License
 *
 * Authorization rules (see auth.h). Rules are parsed once at start; a
 * decision is a few glob matches plus, only when a channel needs it, one
 * token verification.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cfg.h"
#include "channel.h"
#include "jwt.h"
#include "pattern.h"
#include "xmalloc.h"

#define AUTH_RULES_MAX	64

enum auth_fill {
	AUTH_FILL_REMOTE_USER,
	AUTH_FILL_SUB
};

/* A user-channels template split at its one placeholder. */
struct auth_template {
	char		*pre;
	char		*post;
	enum auth_fill	 fill;
};

struct auth {
	char			**public;	/* globs */
	size_t			  npublic;
	struct auth_template	 *templates;
	size_t			  ntemplates;
	struct jwt_keys		 *keys;
	unsigned		  leeway;
	char			 *audience;	/* or NULL */
	char			 *issuer;	/* or NULL */
};

/* Returns 1 when S[0..LEN) is only channel-name bytes and globs. */
static int
auth_glob_ok(const char *s, size_t len)
{
	size_t	i;
	char	c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == ':' || c == '-' || c == '*' || c == '?'))
			return 0;
	}
	return 1;
}

/* Calls ADD for each word of the space- or comma-separated LIST. */
static int
auth_words(struct auth *a, const char *list, const char *option,
    int (*add)(struct auth *, const char *, size_t, char *, size_t),
    char *err, size_t errlen)
{
	const char	*p = list, *end;
	char		 why[160];

	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		end = p;
		while (*end != '\0' && *end != ' ' && *end != ',' &&
		    *end != '\t')
			end++;
		if (end == p)
			break;
		if (add(a, p, (size_t)(end - p), why, sizeof why) == -1) {
			snprintf(err, errlen, "%s: \"%.*s\": %s", option,
			    (int)(end - p) > 80 ? 80 : (int)(end - p), p, why);
			return -1;
		}
		p = end;
	}
	return 0;
}

static int
auth_add_public(struct auth *a, const char *w, size_t len, char *why,
    size_t whylen)
{
	if (len > CHANNEL_NAME_MAX || !auth_glob_ok(w, len)) {
		snprintf(why, whylen, "not a channel glob ([A-Za-z0-9._:-], "
		    "* and ?)");
		return -1;
	}
	if (a->npublic == AUTH_RULES_MAX) {
		snprintf(why, whylen, "more than %d patterns", AUTH_RULES_MAX);
		return -1;
	}
	a->public = xrealloc(a->public, (a->npublic + 1) * sizeof *a->public);
	a->public[a->npublic++] = xstrndup(w, len);
	return 0;
}

static int
auth_add_template(struct auth *a, const char *w, size_t len, char *why,
    size_t whylen)
{
	static const struct {
		const char	*text;
		enum auth_fill	 fill;
	} marks[] = {
		{ "{REMOTE_USER}", AUTH_FILL_REMOTE_USER },
		{ "{sub}", AUTH_FILL_SUB },
	};
	struct auth_template	*t;
	const char		*at = NULL, *p;
	size_t			 i, mlen = 0, plen;
	enum auth_fill		 fill = AUTH_FILL_REMOTE_USER;

	for (i = 0; i < sizeof marks / sizeof marks[0] && at == NULL; i++) {
		plen = strlen(marks[i].text);
		for (p = w; p + plen <= w + len; p++)
			if (memcmp(p, marks[i].text, plen) == 0) {
				at = p;
				mlen = plen;
				fill = marks[i].fill;
				break;
			}
	}
	if (at == NULL) {
		snprintf(why, whylen, "needs {REMOTE_USER} or {sub} (use "
		    "public-channels for channels anyone may read)");
		return -1;
	}
	if (!auth_glob_ok(w, (size_t)(at - w)) || !auth_glob_ok(at + mlen,
	    (size_t)(w + len - at - mlen))) {
		snprintf(why, whylen, "one placeholder, the rest channel-name "
		    "bytes and globs");
		return -1;
	}
	if (a->ntemplates == AUTH_RULES_MAX) {
		snprintf(why, whylen, "more than %d templates", AUTH_RULES_MAX);
		return -1;
	}
	a->templates = xrealloc(a->templates, (a->ntemplates + 1) *
	    sizeof *a->templates);
	t = &a->templates[a->ntemplates++];
	t->pre = xstrndup(w, (size_t)(at - w));
	t->post = xstrndup(at + mlen, (size_t)(w + len - at - mlen));
	t->fill = fill;
	return 0;
}

struct auth *
auth_create(const struct cfg *cfg, char *err, size_t errlen)
{
	struct auth	*a;

	a = xcalloc(1, sizeof *a);
	a->keys = jwt_keys_create();
	a->leeway = cfg->jwt_leeway;
	if (cfg->jwt_audience != NULL)
		a->audience = xstrdup(cfg->jwt_audience);
	if (cfg->jwt_issuer != NULL)
		a->issuer = xstrdup(cfg->jwt_issuer);
	if (cfg->jwt_secret != NULL)
		jwt_keys_set_secret(a->keys, cfg->jwt_secret,
		    strlen(cfg->jwt_secret));
	if (cfg->jwt_key_file != NULL && jwt_keys_load_pem(a->keys,
	    cfg->jwt_key_file, err, errlen) == -1)
		goto fail;
	if (cfg->public_channels != NULL && auth_words(a,
	    cfg->public_channels, "public-channels", auth_add_public, err,
	    errlen) == -1)
		goto fail;
	if (cfg->user_channels != NULL && auth_words(a, cfg->user_channels,
	    "user-channels", auth_add_template, err, errlen) == -1)
		goto fail;
	return a;
fail:
	auth_free(a);
	return NULL;
}

void
auth_free(struct auth *a)
{
	size_t	i;

	if (a == NULL)
		return;
	for (i = 0; i < a->npublic; i++)
		free(a->public[i]);
	for (i = 0; i < a->ntemplates; i++) {
		free(a->templates[i].pre);
		free(a->templates[i].post);
	}
	free(a->public);
	free(a->templates);
	jwt_keys_free(a->keys);
	free(a->audience);
	free(a->issuer);
	free(a);
}

int
auth_enabled(const struct auth *a)
{
	return a->npublic > 0 || a->ntemplates > 0 || jwt_keys_any(a->keys);
}

int
auth_has_keys(const struct auth *a)
{
	return jwt_keys_any(a->keys);
}

static int
auth_any_glob(char *const *globs, size_t n, const char *ch, size_t len)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (pattern_match(globs[i], ch, len))
			return 1;
	return 0;
}

/* Returns 1 when a template of kind FILL, filled with VALUE, matches. */
static int
auth_any_template(const struct auth *a, enum auth_fill fill,
    const char *value, const char *ch, size_t len)
{
	const struct auth_template *t;
	char		 glob[3 * CHANNEL_NAME_MAX + 3];
	size_t		 i, vlen;

	/* A value with glob or separator bytes could widen the rule. */
	if (value == NULL || (vlen = strlen(value)) == 0 ||
	    !channel_name_valid(value, vlen, NULL))
		return 0;
	for (i = 0; i < a->ntemplates; i++) {
		t = &a->templates[i];
		if (t->fill != fill)
			continue;
		if (snprintf(glob, sizeof glob, "%s%s%s", t->pre, value,
		    t->post) >= (int)sizeof glob)
			continue;
		if (pattern_match(glob, ch, len))
			return 1;
	}
	return 0;
}

/* Returns 1 when channel CH may be read without a token by USER. */
static int
auth_tokenless(const struct auth *a, const char *user, const char *ch,
    size_t len)
{
	return auth_any_glob(a->public, a->npublic, ch, len) ||
	    auth_any_template(a, AUTH_FILL_REMOTE_USER, user, ch, len);
}

/* Verifies WHO's token into *C. Returns 0, or -1 with the reason. */
static int
auth_token(const struct auth *a, const char *token, size_t len, time_t now,
    struct jwt_claims *c, char *why, size_t whylen)
{
	struct jwt_policy	policy;
	char			err[128];

	policy.now = now;
	policy.leeway = a->leeway;
	policy.audience = a->audience;
	policy.issuer = a->issuer;
	if (jwt_verify(a->keys, token, len, &policy, c, err,
	    sizeof err) == -1) {
		snprintf(why, whylen, "invalid token: %s", err);
		return -1;
	}
	return 0;
}

enum auth_verdict
auth_subscribe(const struct auth *a, const struct auth_subject *who,
    char *const *channels, const size_t *lens, size_t n, time_t now,
    time_t *expires, char *why, size_t whylen)
{
	struct jwt_claims	 c;
	enum auth_verdict	 v = AUTH_ALLOW;
	const char		*user = who->remote_user;
	size_t			 i, need = n;
	int			 have_token;

	*expires = 0;
	if (!auth_enabled(a))
		return AUTH_ALLOW;
	if (user != NULL && user[0] == '\0')
		user = NULL;
	/* First what needs no token; NEED is the first channel left. */
	for (i = 0; i < n; i++) {
		if (auth_tokenless(a, user, channels[i], lens[i]))
			continue;
		need = i;
		break;
	}
	if (need == n)
		return AUTH_ALLOW;
	have_token = who->token != NULL && who->token_len > 0 &&
	    auth_has_keys(a);
	if (!have_token) {
		snprintf(why, whylen, "channel %.*s is not public: %s",
		    (int)lens[need], channels[need], auth_has_keys(a) ?
		    "a token is needed" : user != NULL ? "not allowed for "
		    "this user" : "authentication is needed");
		return user != NULL && !auth_has_keys(a) ? AUTH_FORBIDDEN :
		    AUTH_UNAUTHORIZED;
	}
	if (auth_token(a, who->token, who->token_len, now, &c, why,
	    whylen) == -1)
		return AUTH_UNAUTHORIZED;
	for (i = need; i < n; i++) {
		if (auth_tokenless(a, user, channels[i], lens[i]) ||
		    auth_any_glob(c.subscribe, c.nsubscribe, channels[i],
		    lens[i]) ||
		    (c.has_sub && auth_any_template(a, AUTH_FILL_SUB, c.sub,
		    channels[i], lens[i])))
			continue;
		snprintf(why, whylen, "the token does not allow channel %.*s",
		    (int)lens[i], channels[i]);
		v = AUTH_FORBIDDEN;
		break;
	}
	/* The moment the token would no longer be accepted, so a reconnect
	 * with it is refused instead of looping. */
	if (v == AUTH_ALLOW && c.exp != 0)
		*expires = c.exp + (time_t)a->leeway;
	jwt_claims_clear(&c);
	return v;
}

enum auth_verdict
auth_publish(const struct auth *a, const char *token, size_t len,
    const char *channel, size_t clen, time_t now, char *why, size_t whylen)
{
	struct jwt_claims	c;
	enum auth_verdict	v = AUTH_ALLOW;

	if (!auth_has_keys(a) || token == NULL || len == 0) {
		snprintf(why, whylen, "missing or wrong publisher secret or "
		    "token (Authorization: Bearer ...)");
		return AUTH_UNAUTHORIZED;
	}
	if (auth_token(a, token, len, now, &c, why, whylen) == -1)
		return AUTH_UNAUTHORIZED;
	if (!auth_any_glob(c.publish, c.npublish, channel, clen)) {
		snprintf(why, whylen, "the token does not allow publishing to "
		    "%.*s", (int)clen, channel);
		v = AUTH_FORBIDDEN;
	}
	jwt_claims_clear(&c);
	return v;
}

int
auth_user(const struct auth *a, const struct auth_subject *who, time_t now,
    char *user, size_t len)
{
	struct jwt_claims	c;
	char			why[256];
	int			rc = -1;

	if (who->remote_user != NULL && who->remote_user[0] != '\0') {
		if (strlen(who->remote_user) >= len)
			return -1;
		snprintf(user, len, "%s", who->remote_user);
		return 0;
	}
	if (who->token == NULL || who->token_len == 0 || !auth_has_keys(a) ||
	    auth_token(a, who->token, who->token_len, now, &c, why,
	    sizeof why) == -1)
		return -1;
	if (c.has_sub && c.sub[0] != '\0') {
		snprintf(user, len, "%s", c.sub);
		rc = 0;
	}
	jwt_claims_clear(&c);
	return rc;
}
