/* sse-fcgi - MIT License
 *
 * libFuzzer target for what the sentinels and the master answer before the
 * worker trusts them: the input is fed as RESP to a hiredis reader, and
 * each reply it yields goes to sentinel_parse() and to redis_conn_check()
 * for every handshake step. An answer taken must give a host that is as
 * long as the reply's string (no NUL inside), shorter than
 * SENTINEL_HOST_MAX, and a port in 1..65535; a refusal must say why.
 * Inputs announcing an array or string of a million items or bytes or more
 * are skipped: hiredis 0.14 allocates what is announced before reading it,
 * which is its memory to bound, not these parsers'.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "redis_conn.h"
#include "sentinel.h"
#include "resp_guard.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_sentinel: %s\n", what);
	abort();
}

static void
fuzz_reply(const redisReply *r)
{
	char	host[SENTINEL_HOST_MAX], why[256];
	int	port = 0, s;

	why[0] = '\0';
	if (sentinel_parse(r, "mymaster", host, &port, why, sizeof why) == 0) {
		if (port < 1 || port > 65535)
			fuzz_fail("port out of range");
		if (strlen(host) != r->element[0]->len || host[0] == '\0')
			fuzz_fail("host is not the reply's string");
	} else if (why[0] == '\0')
		fuzz_fail("refused without a reason");
	for (s = REDIS_CONN_AUTH; s <= REDIS_CONN_PING; s++) {
		why[0] = '\0';
		if (redis_conn_check((enum redis_conn_step)s, r,
		    "127.0.0.1:6379", why, sizeof why) == -1 && why[0] == '\0')
			fuzz_fail("handshake refused without a reason");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader	*rd;
	void		*r;
	int		 n;

	if (resp_guard_huge(data, size) || (rd = redisReaderCreate()) == NULL)
		return 0;
	redisReaderFeed(rd, (const char *)data, size);
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
