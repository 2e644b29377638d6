/* sse-fcgi - MIT License
 *
 * libFuzzer target for the CORS allowlist (cors.h). The input is split on
 * NUL bytes into the cors-origins setting, an Origin header and a Host
 * header (a missing field is NULL). A refused setting must say why; for an
 * accepted one, cors_check() must answer with at most CORS_HEADERS_MAX
 * bytes of well-formed header lines (CRLF only at line ends, no other
 * control bytes: no header injection) that echo either "*" or exactly the
 * request's origin, and requests without an Origin always pass.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cors.h"

#define FUZZ_FIELDS	3
#define ACAO		"Access-Control-Allow-Origin: "

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_cors: %s\n", what);
	abort();
}

/* Checks one answer of cors_check() for ORIGIN. */
static void
fuzz_headers(int ok, const char *origin, const char *out)
{
	const char	*p, *v;
	size_t		 n, i;

	n = strnlen(out, CORS_HEADERS_MAX);
	if (n == CORS_HEADERS_MAX)
		fuzz_fail("headers not NUL-terminated in CORS_HEADERS_MAX");
	if (!ok && n != 0)
		fuzz_fail("headers for a refused origin");
	if (n == 0)
		return;
	if (n < 2 || memcmp(out + n - 2, "\r\n", 2) != 0)
		fuzz_fail("headers do not end with CRLF");
	for (i = 0; i < n; i++) {
		if (out[i] == '\r' && out[i + 1] != '\n')
			fuzz_fail("bare CR in the headers");
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			fuzz_fail("bare LF in the headers");
		if ((unsigned char)out[i] < ' ' && out[i] != '\r' &&
		    out[i] != '\n')
			fuzz_fail("control byte in the headers");
	}
	if (strncmp(out, ACAO, strlen(ACAO)) != 0)
		fuzz_fail("headers without Access-Control-Allow-Origin");
	v = out + strlen(ACAO);
	p = strstr(v, "\r\n");
	if (!(p - v == 1 && *v == '*') && (origin == NULL ||
	    (size_t)(p - v) != strlen(origin) ||
	    memcmp(v, origin, strlen(origin)) != 0))
		fuzz_fail("allowed origin is neither * nor the request's");
	if (*v == '*' && strstr(out, "Credentials") != NULL)
		fuzz_fail("credentials with the wildcard");
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct cors	*c;
	char		*buf, *f[FUZZ_FIELDS], *p, *end;
	char		 err[256], out[CORS_HEADERS_MAX];
	size_t		 n;
	int		 ok;

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, in, size);
	buf[size] = '\0';
	memset(f, 0, sizeof f);
	for (p = buf, end = buf + size, n = 0; n < FUZZ_FIELDS; n++) {
		f[n] = p;
		p += strlen(p) + 1;
		if (p > end)
			break;
	}

	err[0] = '\0';
	c = cors_create(f[0], err, sizeof err);
	if (c == NULL && err[0] == '\0')
		fuzz_fail("setting refused without a reason");

	ok = cors_check(c, f[1], f[2], out);
	fuzz_headers(ok, f[1], out);
	if ((c == NULL || f[1] == NULL || f[1][0] == '\0') &&
	    (!ok || out[0] != '\0'))
		fuzz_fail("CORS applied with no allowlist or no origin");
	ok = cors_check(c, f[1], NULL, out);
	fuzz_headers(ok, f[1], out);
	cors_free(c);
	free(buf);
	return 0;
}
