/* sse-fcgi - MIT License
 *
 * CORS allowlist: parsing (good and bad lists) and the decision for
 * allowed, same-origin, wildcard and refused origins.
 */
#include "config.h"

#include <string.h>

#include "cors.h"
#include "testlib.h"

int
main(void)
{
	static const char *bad[] = { "", " , ", "example.com", "ftp://x",
	    "https://a.example/", "https://a.example/path", "https://",
	    "https://a b", "https://a.example?x", "http://a\x01" };
	struct cors	*c;
	char		 err[256], out[CORS_HEADERS_MAX];
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		c = cors_create(bad[i], err, sizeof err);
		test_cond(bad[i], c == NULL && err[0] != '\0');
	}
	test_cond("no list, no CORS", cors_create(NULL, err, sizeof err) ==
	    NULL);
	test_cond("no CORS allows", cors_check(NULL, "https://evil.example",
	    "h", out) == 1 && out[0] == '\0');

	c = cors_create("https://app.example, http://localhost:3000",
	    err, sizeof err);
	test_cond("list parses", c != NULL);
	test_cond("listed origin echoed with credentials",
	    cors_check(c, "https://app.example", "api.example", out) == 1 &&
	    strstr(out, "Access-Control-Allow-Origin: https://app.example\r\n")
	    != NULL && strstr(out, "Access-Control-Allow-Credentials: true")
	    != NULL && strstr(out, "Vary: Origin") != NULL);
	test_cond("second origin", cors_check(c, "http://localhost:3000",
	    "x", out) == 1 && strstr(out, "localhost:3000") != NULL);
	test_cond("exact match only", cors_check(c, "https://app.example.evil",
	    "x", out) == 0);
	test_cond("scheme matters", cors_check(c, "http://app.example", "x",
	    out) == 0);
	test_cond("no Origin: allowed, nothing added", cors_check(c, NULL,
	    "x", out) == 1 && out[0] == '\0');
	test_cond("same origin: allowed, nothing added", cors_check(c,
	    "http://api.example:8080", "api.example:8080", out) == 1 &&
	    out[0] == '\0');
	test_cond("same host, other scheme: refused", cors_check(c,
	    "foo://api.example:8080", "api.example:8080", out) == 0);
	cors_free(c);

	c = cors_create("* https://app.example", err, sizeof err);
	test_cond("wildcard: any origin, no credentials", cors_check(c,
	    "https://other.example", "x", out) == 1 &&
	    strcmp(out, "Access-Control-Allow-Origin: *\r\n") == 0);
	test_cond("wildcard: listed origin keeps credentials", cors_check(c,
	    "https://app.example", "x", out) == 1 &&
	    strstr(out, "Credentials: true") != NULL);
	cors_free(c);
	cors_free(NULL);
	return test_report("test_cors");
}
