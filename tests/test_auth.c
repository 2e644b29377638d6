/* sse-fcgi - MIT License
 *
 * Unit tests for the authorization rules: public globs, REMOTE_USER and
 * token-subject templates, token claims, 401 versus 403, expiry, and
 * values that try to widen a template.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "cfg.h"
#include "testlib.h"
#include "b64url.h"

#define NOW	1700000000
#define SECRET	"0123456789abcdef0123456789abcdef"

/* An HS256 token with PAYLOAD, in a static buffer. */
static const char *
token(const char *payload)
{
	static char	 tok[4096];
	unsigned char	 mac[32];
	unsigned int	 mlen;
	size_t		 n;

	b64url((const unsigned char *)"{\"alg\":\"HS256\"}", 15, tok);
	n = strlen(tok);
	tok[n++] = '.';
	b64url((const unsigned char *)payload, strlen(payload), tok + n);
	n = strlen(tok);
	HMAC(EVP_sha256(), SECRET, 32, (unsigned char *)tok, n, mac, &mlen);
	tok[n++] = '.';
	b64url(mac, mlen, tok + n);
	return tok;
}

static struct auth *
make(const char *const *kv)
{
	struct cfg	 c;
	struct auth	*a;
	char		 err[256];

	cfg_defaults(&c);
	for (; kv[0] != NULL; kv += 2)
		if (cfg_set(&c, kv[0], kv[1], "test", err, sizeof err) == -1) {
			fprintf(stderr, "cfg_set %s: %s\n", kv[0], err);
			cfg_clear(&c);
			return NULL;
		}
	a = auth_create(&c, err, sizeof err);
	if (a == NULL)
		fprintf(stderr, "  auth_create: %s\n", err);
	cfg_clear(&c);
	return a;
}

/* Asks for the comma-separated CHANNELS as USER with TOK. */
static enum auth_verdict
ask(struct auth *a, const char *user, const char *tok, const char *channels,
    time_t *exp, char *why)
{
	struct auth_subject	 who = { user, tok, tok ? strlen(tok) : 0 };
	char			 buf[512], *names[16], *p;
	size_t			 lens[16], n = 0;

	snprintf(buf, sizeof buf, "%s", channels);
	for (p = strtok(buf, ","); p != NULL; p = strtok(NULL, ",")) {
		names[n] = p;
		lens[n++] = strlen(p);
	}
	why[0] = '\0';
	return auth_subscribe(a, &who, names, lens, n, NOW, exp, why, 256);
}

static void
test_open(void)
{
	static const char *const none[] = { NULL };
	struct auth	*a = make(none);
	char		 why[256];
	time_t		 exp;

	test_cond("nothing configured: not enabled", !auth_enabled(a));
	test_cond("nothing configured: all public", ask(a, NULL, NULL,
	    "user.1,x", &exp, why) == AUTH_ALLOW && exp == 0);
	test_cond("no keys: publish by token refused", auth_publish(a, "x", 1,
	    "a", 1, NOW, why, sizeof why) == AUTH_UNAUTHORIZED);
	auth_free(a);
}

static void
test_rules(void)
{
	static const char *const kv[] = {
		"public-channels", "news.* ,status",
		"user-channels", "user.{REMOTE_USER} inbox.{REMOTE_USER}.* "
		    "user.{sub}",
		"jwt-secret", SECRET,
		NULL
	};
	struct auth	*a = make(kv);
	char		 why[256], t[4096];
	time_t		 exp;

	test_cond("rules: enabled", a != NULL && auth_enabled(a));
	if (a == NULL)
		return;
	test_cond("public glob", ask(a, NULL, NULL, "news.eu", &exp, why) ==
	    AUTH_ALLOW && exp == 0);
	test_cond("public exact", ask(a, NULL, NULL, "status", &exp, why) ==
	    AUTH_ALLOW);
	test_cond("private without token: 401", ask(a, NULL, NULL, "user.1",
	    &exp, why) == AUTH_UNAUTHORIZED && strstr(why, "user.1") != NULL &&
	    strstr(why, "token") != NULL);
	test_cond("public + private: 401", ask(a, NULL, NULL,
	    "news.eu,user.1", &exp, why) == AUTH_UNAUTHORIZED);
	test_cond("REMOTE_USER own channel", ask(a, "alice", NULL,
	    "user.alice", &exp, why) == AUTH_ALLOW);
	test_cond("REMOTE_USER template glob", ask(a, "alice", NULL,
	    "inbox.alice.7,news.x", &exp, why) == AUTH_ALLOW);
	test_cond("REMOTE_USER other user: needs token", ask(a, "alice", NULL,
	    "user.bob", &exp, why) == AUTH_UNAUTHORIZED);
	test_cond("REMOTE_USER '*' widens nothing", ask(a, "*", NULL,
	    "user.bob", &exp, why) == AUTH_UNAUTHORIZED);
	test_cond("REMOTE_USER with a dot is literal", ask(a, "x.y", NULL,
	    "user.x.y", &exp, why) == AUTH_ALLOW);
	test_cond("REMOTE_USER 'a b' fills nothing", ask(a, "a b", NULL,
	    "user.a", &exp, why) == AUTH_UNAUTHORIZED);
	test_cond("empty REMOTE_USER", ask(a, "", NULL, "user.", &exp, why) ==
	    AUTH_UNAUTHORIZED);

	/* A copy: token() reuses its buffer. */
	snprintf(t, sizeof t, "%s", token("{\"sub\":\"42\",\"exp\":"
	    "1700000600,\"sse\":{\"subscribe\":[\"project.*\"],"
	    "\"publish\":[\"task.*\"]}}"));
	test_cond("token claim", ask(a, NULL, t, "project.9", &exp, why) ==
	    AUTH_ALLOW && exp == 1700000630);
	test_cond("token sub template", ask(a, NULL, t, "user.42,project.1",
	    &exp, why) == AUTH_ALLOW);
	test_cond("token other user: 403", ask(a, NULL, t, "user.43", &exp,
	    why) == AUTH_FORBIDDEN && strstr(why, "user.43") != NULL);
	test_cond("one forbidden of two: 403", ask(a, NULL, t,
	    "project.1,secret", &exp, why) == AUTH_FORBIDDEN &&
	    strstr(why, "secret") != NULL);
	test_cond("public only: token not needed, no expiry", ask(a, NULL, t,
	    "news.x", &exp, why) == AUTH_ALLOW && exp == 0);
	test_cond("bad token on public channel: allowed", ask(a, NULL, "junk",
	    "news.x", &exp, why) == AUTH_ALLOW);
	test_cond("bad token: 401 with reason", ask(a, NULL, "junk",
	    "user.42", &exp, why) == AUTH_UNAUTHORIZED &&
	    strstr(why, "invalid token") != NULL &&
	    strstr(why, "junk") == NULL);
	test_cond("expired token: 401", ask(a, NULL, token("{\"exp\":"
	    "1690000000,"
	    "\"sse\":{\"subscribe\":\"*\"}}"), "user.42", &exp, why) ==
	    AUTH_UNAUTHORIZED && strstr(why, "expired") != NULL);
	test_cond("sub '*' widens nothing", ask(a, NULL, token("{\"sub\":"
	    "\"*\"}"), "user.1", &exp, why) == AUTH_FORBIDDEN);
	test_cond("subscribe claim does not publish", auth_publish(a, t,
	    strlen(t), "project.1", 9, NOW, why, sizeof why) == AUTH_FORBIDDEN);
	test_cond("publish claim", auth_publish(a, t, strlen(t), "task.5", 6,
	    NOW, why, sizeof why) == AUTH_ALLOW);
	test_cond("publish bad token", auth_publish(a, "a.b.c", 5, "task.5", 6,
	    NOW, why, sizeof why) == AUTH_UNAUTHORIZED);
	test_cond("publish no token", auth_publish(a, NULL, 0, "task.5", 6,
	    NOW, why, sizeof why) == AUTH_UNAUTHORIZED);
	auth_free(a);
}

static void
test_remote_user_only(void)
{
	static const char *const kv[] = {
		"user-channels", "user.{REMOTE_USER}",
		NULL
	};
	struct auth	*a = make(kv);
	char		 why[256];
	time_t		 exp;

	test_cond("REMOTE_USER only: own", ask(a, "bob", NULL, "user.bob",
	    &exp, why) == AUTH_ALLOW);
	test_cond("REMOTE_USER only: other is 403", ask(a, "bob", NULL,
	    "user.eve", &exp, why) == AUTH_FORBIDDEN);
	test_cond("REMOTE_USER only: anonymous is 401", ask(a, NULL, NULL,
	    "user.eve", &exp, why) == AUTH_UNAUTHORIZED);
	test_cond("REMOTE_USER only: token ignored", ask(a, NULL,
	    token("{\"sse\":{\"subscribe\":\"*\"}}"), "user.eve", &exp, why) ==
	    AUTH_UNAUTHORIZED);
	auth_free(a);
}

static void
test_bad_config(void)
{
	static const char *const nomark[] = { "user-channels", "user.1", NULL };
	static const char *const two[] = { "user-channels",
	    "u.{REMOTE_USER}.{sub}", NULL };
	static const char *const badglob[] = { "public-channels", "a/b",
	    NULL };
	static const char *const nokey[] = { "jwt-key-file",
	    "/nonexistent.pem", NULL };

	test_cond("template without placeholder", make(nomark) == NULL);
	test_cond("two placeholders", make(two) == NULL);
	test_cond("bad public glob", make(badglob) == NULL);
	test_cond("missing key file", make(nokey) == NULL);
}

/* Who a request is, for presence: REMOTE_USER first, else the sub of a
 * token that verifies; nobody without either. */
static void
test_user(void)
{
	static const char *const keys[] = { "jwt-secret", SECRET, NULL };
	static const char *const none[] = { NULL };
	struct auth	*a = make(keys), *open = make(none);
	struct auth_subject who = { NULL, NULL, 0 };
	char		 user[16], tok[4096], longname[40];

	snprintf(tok, sizeof tok, "%s", token("{\"sub\":\"alice\"}"));
	who.remote_user = "bob";
	test_cond("REMOTE_USER", auth_user(a, &who, NOW, user,
	    sizeof user) == 0 && strcmp(user, "bob") == 0);
	who.token = tok;
	who.token_len = strlen(tok);
	test_cond("REMOTE_USER wins over a token", auth_user(a, &who, NOW,
	    user, sizeof user) == 0 && strcmp(user, "bob") == 0);
	who.remote_user = "";
	test_cond("the token's sub", auth_user(a, &who, NOW, user,
	    sizeof user) == 0 && strcmp(user, "alice") == 0);
	test_cond("no keys: a token names nobody", auth_user(open, &who, NOW,
	    user, sizeof user) == -1);
	tok[strlen(tok) - 2] ^= 1;
	test_cond("a forged token names nobody", auth_user(a, &who, NOW, user,
	    sizeof user) == -1);
	snprintf(tok, sizeof tok, "%s", token("{\"exp\":1}"));
	who.token_len = strlen(tok);
	test_cond("an expired token names nobody", auth_user(a, &who, NOW,
	    user, sizeof user) == -1);
	snprintf(tok, sizeof tok, "%s", token("{\"scope\":\"x\"}"));
	who.token_len = strlen(tok);
	test_cond("a token without sub names nobody", auth_user(a, &who, NOW,
	    user, sizeof user) == -1);
	who.token = NULL;
	who.token_len = 0;
	test_cond("anonymous", auth_user(a, &who, NOW, user,
	    sizeof user) == -1);
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	who.remote_user = longname;
	test_cond("a name longer than the buffer names nobody",
	    auth_user(a, &who, NOW, user, sizeof user) == -1);
	auth_free(a);
	auth_free(open);
}

int
main(void)
{
	test_open();
	test_user();
	test_rules();
	test_remote_user_only();
	test_bad_config();
	return test_report("test_auth");
}
