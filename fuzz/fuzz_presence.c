/* sse-fcgi - MIT License
 *
 * libFuzzer target for what presence takes from outside: user names
 * (presence_user_valid(), which decides what may be listed) and the
 * presence script's reply as Redis sends it (presence_reply_json()). The
 * input is "NAME NUL RESP". A name taken must hold no control character
 * and come back unchanged from the JSON that carries it (json-c parses
 * the document the endpoint would send); the whole input is also tried as
 * a name. Each reply the RESP yields must either be refused with a reason
 * or give a JSON object with the channel, a count of at least 0 and at
 * most PRESENCE_USERS_MAX valid names. RESP announcing a million items or
 * bytes is skipped, as in fuzz_sentinel.c.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "presence.h"
#include "resp_guard.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_presence: %s\n", what);
	abort();
}

static void
fuzz_name(const char *s, size_t len)
{
	struct json_object	*o, *back;
	const char		*text;
	size_t			 i;

	if (!presence_user_valid(s, len))
		return;
	if (len == 0 || len > PRESENCE_USER_MAX)
		fuzz_fail("a name of a bad length taken");
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			fuzz_fail("a control character taken");
	o = json_object_new_string_len(s, (int)len);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if ((back = json_tokener_parse(text)) == NULL ||
	    !json_object_is_type(back, json_type_string) ||
	    (size_t)json_object_get_string_len(back) != len ||
	    memcmp(json_object_get_string(back), s, len) != 0)
		fuzz_fail("a name taken does not survive JSON");
	json_object_put(back);
	json_object_put(o);
}

static void
fuzz_reply(const redisReply *r)
{
	struct json_object	*o, *v;
	char			*json, err[256];
	size_t			 i, n = 0;

	err[0] = '\0';
	if (presence_reply_json(r, "room.1", 6, &json, err, sizeof err) == -1) {
		if (err[0] == '\0' || json != NULL)
			fuzz_fail("refused without a reason");
		return;
	}
	if ((o = json_tokener_parse(json)) == NULL)
		fuzz_fail("not JSON");
	if (!json_object_object_get_ex(o, "channel", &v) ||
	    strcmp(json_object_get_string(v), "room.1") != 0)
		fuzz_fail("no channel");
	if (!json_object_object_get_ex(o, "subscribers", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		fuzz_fail("bad subscribers");
	if (!json_object_object_get_ex(o, "users", &v) ||
	    !json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) > PRESENCE_USERS_MAX)
		fuzz_fail("bad users");
	for (i = 0; i < n; i++) {
		struct json_object *u = json_object_array_get_idx(v, i);

		if (!presence_user_valid(json_object_get_string(u),
		    (size_t)json_object_get_string_len(u)))
			fuzz_fail("an invalid name listed");
	}
	json_object_put(o);
	free(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*s = (const char *)data, *nul;
	redisReader	*rd;
	void		*r;
	size_t		 nlen;
	int		 n;

	fuzz_name(s, size);
	nul = memchr(s, '\0', size);
	nlen = nul != NULL ? (size_t)(nul - s) : size;
	fuzz_name(s, nlen);
	if (nul == NULL || resp_guard_huge(data, size) ||
	    (rd = redisReaderCreate()) == NULL)
		return 0;
	redisReaderFeed(rd, nul + 1, size - nlen - 1);
	for (n = 0; n < 16; n++) {
		r = NULL;
		if (redisReaderGetReply(rd, &r) != REDIS_OK || r == NULL)
			break;
		fuzz_reply(r);
		freeReplyObject(r);
	}
	redisReaderFree(rd);
	return 0;
}
