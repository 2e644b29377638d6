/* sse-fcgi - MIT License
 *
 * libFuzzer target for what auth-url parses (auth_url.h): the auth-url
 * setting, the app's X-SSE-User header and the reason of its refusal. The
 * input is split on NUL bytes into those three (a missing field is
 * empty). A refused setting must say why, an accepted one must give a
 * host of host bytes, a port in 1..65535 and a path from '/' with no
 * space or control byte; a name is valid exactly when a plain reference
 * check says so; a reason is at most AUTH_URL_REASON_MAX bytes of
 * printable ASCII (no CR or LF: it goes into a status answer and an SSE
 * comment).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_url.h"

#define FUZZ_FIELDS	3

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_auth_url: %s\n", what);
	abort();
}

/* The reference: 1..64 bytes of [A-Za-z0-9._:-]. */
static int
fuzz_user_ref(const char *s, size_t len)
{
	size_t	i;

	if (len < 1 || len > 64)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._:-", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct auth_url_target	 t;
	const char		*f[FUZZ_FIELDS], *p, *end;
	char			*buf, err[256], out[AUTH_URL_REASON_MAX + 1];
	size_t			 n, i, flen[FUZZ_FIELDS];

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, in, size);
	buf[size] = '\0';
	for (n = 0; n < FUZZ_FIELDS; n++) {
		f[n] = "";
		flen[n] = 0;
	}
	for (p = buf, end = buf + size, n = 0; n < FUZZ_FIELDS && p <= end;
	    n++) {
		f[n] = p;
		/* The last field keeps its NUL bytes (a body may hold some). */
		flen[n] = n + 1 < FUZZ_FIELDS ? strlen(p) : (size_t)(end - p);
		p += flen[n] + 1;
	}

	err[0] = '\0';
	if (auth_url_parse(f[0], &t, err, sizeof err) == -1) {
		if (err[0] == '\0')
			fuzz_fail("auth-url refused without a reason");
	} else {
		if (t.host[0] == '\0' || t.port < 1 || t.port > 65535 ||
		    t.path[0] != '/')
			fuzz_fail("accepted auth-url with a bad part");
		for (i = 0; t.host[i] != '\0'; i++)
			if (strchr("/?#@ []", t.host[i]) != NULL)
				fuzz_fail("host with a delimiter");
		for (i = 0; t.path[i] != '\0'; i++)
			if ((unsigned char)t.path[i] <= ' ' ||
			    (unsigned char)t.path[i] > '~' || t.path[i] == '#')
				fuzz_fail("path with a space, control byte or #");
	}

	if (auth_url_user_valid(f[1], flen[1]) != fuzz_user_ref(f[1], flen[1]))
		fuzz_fail("X-SSE-User validity differs from the reference");

	auth_url_reason(f[2], flen[2], "Forbidden", out, sizeof out);
	n = strlen(out);
	if (n > AUTH_URL_REASON_MAX)
		fuzz_fail("reason too long");
	for (i = 0; i < n; i++)
		if (out[i] < ' ' || out[i] > '~')
			fuzz_fail("reason with a control or non-ASCII byte");
	if (n > 0 && out[n - 1] == ' ')
		fuzz_fail("reason with a trailing space");
	free(buf);
	return 0;
}
