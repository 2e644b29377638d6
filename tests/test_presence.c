/* sse-fcgi - MIT License
 *
 * Presence's pure parts: which channels have presence, which user names
 * may be listed (the UTF-8 check), and the reading of the presence
 * script's reply, well-formed and not, into the endpoint's and the
 * event's JSON; the keys and notice channels, on one Redis and on a
 * cluster (where the channel is the hash tag), and the recognition of a
 * cluster's notice channels.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cluster_map.h"
#include "presence.h"
#include "testlib.h"

static void
test_patterns(void)
{
	test_cond("none", !presence_patterns_match(NULL, "a", 1));
	test_cond("empty", !presence_patterns_match("", "a", 1));
	test_cond("one", presence_patterns_match("room.*", "room.1", 6));
	test_cond("second", presence_patterns_match("a.* room.?", "room.1",
	    6));
	test_cond("spaces", presence_patterns_match("  x   room.1 ", "room.1",
	    6));
	test_cond("no match", !presence_patterns_match("a.* room.?",
	    "room.12", 7));
	test_cond("prefix only", !presence_patterns_match("room", "room.1",
	    6));
}

static void
test_users(void)
{
	static const struct { const char *s; int ok; } cases[] = {
		{ "alice", 1 },
		{ "Jos\xc3\xa9", 1 },			/* é */
		{ "\xe6\x97\xa5\xe6\x9c\xac", 1 },	/* CJK */
		{ "\xf0\x9f\x98\x80", 1 },		/* emoji */
		{ "a b@example.org", 1 },
		{ "", 0 },
		{ "a\nb", 0 },
		{ "a\rb", 0 },
		{ "a\tb", 0 },
		{ "a\x7f", 0 },
		{ "\xc2\x85", 0 },			/* C1 NEL */
		{ "\xc3", 0 },				/* cut */
		{ "\xe6\x97", 0 },			/* cut */
		{ "\xc0\xaf", 0 },			/* overlong */
		{ "\xe0\x80\xaf", 0 },			/* overlong */
		{ "\xed\xa0\x80", 0 },			/* surrogate */
		{ "\xf4\x90\x80\x80", 0 },		/* > U+10FFFF */
		{ "\xff", 0 },
		{ "\x80", 0 },
		{ "a\xc3\x28", 0 },
	};
	char	 longname[PRESENCE_USER_MAX + 2];
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		test_cond(cases[i].s, presence_user_valid(cases[i].s,
		    strlen(cases[i].s)) == cases[i].ok);
	test_cond("NUL inside", !presence_user_valid("a\0b", 3));
	memset(longname, 'x', sizeof longname);
	test_cond("200 bytes", presence_user_valid(longname,
	    PRESENCE_USER_MAX));
	test_cond("201 bytes", !presence_user_valid(longname,
	    PRESENCE_USER_MAX + 1));
}

/* Builds a reply: TYPE with an integer or string. */
static redisReply *
reply(int type, long long n, const char *s)
{
	redisReply	*r = calloc(1, sizeof *r);

	r->type = type;
	r->integer = n;
	if (s != NULL) {
		r->str = strdup(s);
		r->len = strlen(s);
	}
	return r;
}

static redisReply *
array(size_t n, ...)
{
	redisReply	*r = reply(REDIS_REPLY_ARRAY, 0, NULL);
	va_list		 ap;
	size_t		 i;

	r->elements = n;
	r->element = calloc(n + 1, sizeof *r->element);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		r->element[i] = va_arg(ap, redisReply *);
	va_end(ap);
	return r;
}

#define INT(n)	reply(REDIS_REPLY_INTEGER, (n), NULL)
#define STR(s)	reply(REDIS_REPLY_STRING, 0, (s))

static int
json_is(redisReply *r, const char *want)
{
	char	*json, err[128];
	int	 ok;

	ok = presence_reply_json(r, "room.1", 6, &json, err,
	    sizeof err) == 0 && strcmp(json, want) == 0;
	if (!ok)
		fprintf(stderr, "got %s\n", json != NULL ? json : err);
	free(json);
	freeReplyObject(r);
	return ok;
}

static int
json_bad(redisReply *r)
{
	char	*json, err[128];
	int	 ok;

	err[0] = '\0';
	ok = presence_reply_json(r, "room.1", 6, &json, err,
	    sizeof err) == -1 && json == NULL && err[0] != '\0';
	freeReplyObject(r);
	return ok;
}

static void
test_reply(void)
{
	test_cond("empty", json_is(array(2, INT(0), INT(0)),
	    "{\"channel\":\"room.1\",\"subscribers\":0,\"users\":[]}"));
	test_cond("users", json_is(array(4, INT(3), INT(2), STR("alice"),
	    STR("bob")), "{\"channel\":\"room.1\",\"subscribers\":3,"
	    "\"users\":[\"alice\",\"bob\"]}"));
	test_cond("escaped", json_is(array(3, INT(1), INT(1),
	    STR("a\"b\\c</")), "{\"channel\":\"room.1\",\"subscribers\":1,"
	    "\"users\":[\"a\\\"b\\\\c<\\/\"]}"));
	test_cond("bad names skipped", json_is(array(5, INT(2), INT(3),
	    STR("a\nb"), INT(7), STR("ok")), "{\"channel\":\"room.1\","
	    "\"subscribers\":2,\"users\":[\"ok\"]}"));
	test_cond("NULL", json_bad(NULL));
	test_cond("error", json_bad(reply(REDIS_REPLY_ERROR, 0,
	    "NOSCRIPT x")));
	test_cond("empty error", json_bad(reply(REDIS_REPLY_ERROR, 0, "")));
	test_cond("not an array", json_bad(STR("x")));
	test_cond("short", json_bad(array(1, INT(1))));
	test_cond("count a string", json_bad(array(2, STR("1"), INT(0))));
	test_cond("users a string", json_bad(array(2, INT(1), STR("0"))));
	test_cond("negative", json_bad(array(2, INT(-1), INT(0))));
	test_cond("nil", json_bad(reply(REDIS_REPLY_NIL, 0, NULL)));
}

/* Returns 1 if S (a new string) equals WANT; frees S. */
static int
str_is(char *s, const char *want)
{
	int	ok = s != NULL && strcmp(s, want) == 0;

	free(s);
	return ok;
}

static void
test_names(void)
{
	char	*k, *n, h[64];

	test_cond("key", str_is(presence_key("sse:", "room.1", 6, 0),
	    "sse:presence:room.1"));
	test_cond("key, length", str_is(presence_key("sse:", "room.12", 6,
	    0), "sse:presence:room.1"));
	test_cond("cluster key", str_is(presence_key("sse:", "room.1", 6, 1),
	    "sse:presence:{room.1}"));
	test_cond("cluster key, no prefix", str_is(presence_key("", "a", 1,
	    1), "presence:{a}"));
	test_cond("notice", str_is(presence_cluster_notice("sse:", "room.1",
	    6), "sse:presence/notice{room.1}"));
	/* The set, a hash and the notice channel all in the channel's
	 * slot. */
	k = presence_key("sse:", "room.1", 6, 1);
	n = presence_cluster_notice("sse:", "room.1", 6);
	test_cond("key slot", cluster_keyslot(k, strlen(k)) ==
	    cluster_keyslot("room.1", 6));
	test_cond("notice slot", cluster_keyslot(n, strlen(n)) ==
	    cluster_keyslot("room.1", 6));
	free(n);
	snprintf(h, sizeof h, "%s/host:42", k);
	test_cond("hash slot", cluster_keyslot(h, strlen(h)) ==
	    cluster_keyslot("room.1", 6));
	free(k);
}

static int
notice_is(const char *prefix, const char *name)
{
	return presence_is_cluster_notice(prefix, name, strlen(name));
}

static void
test_notice_match(void)
{
	test_cond("notice", notice_is("sse:", "sse:presence/notice{room.1}"));
	test_cond("no prefix", notice_is("", "presence/notice{a}"));
	test_cond("other prefix", !notice_is("sse:",
	    "sso:presence/notice{room.1}"));
	test_cond("global", !notice_is("sse:", "sse:presence/notice"));
	test_cond("empty tag", !notice_is("sse:", "sse:presence/notice{}"));
	test_cond("unclosed", !notice_is("sse:", "sse:presence/notice{a"));
	test_cond("tail", !notice_is("sse:", "sse:presence/notice{a}b"));
	test_cond("nested", !notice_is("sse:", "sse:presence/notice{a{b}"));
	test_cond("bad char", !notice_is("sse:", "sse:presence/notice{a b}"));
	test_cond("a channel", !notice_is("sse:", "room.1"));
	test_cond("short", !notice_is("sse:", "sse:"));
	test_cond("cut", !presence_is_cluster_notice("sse:",
	    "sse:presence/notice{room.1}", 20));
}

int
main(void)
{
	test_patterns();
	test_users();
	test_reply();
	test_names();
	test_notice_match();
	return test_report("test_presence");
}
