/* sse-fcgi - MIT License
 *
 * Unit tests for the Cookie header lookup.
 */
#include "config.h"

#include <string.h>

#include "cookie.h"
#include "testlib.h"

static int
got(const char *header, const char *name, const char *want)
{
	const char	*v;
	size_t		 len;

	if (!cookie_find(header, name, &v, &len))
		return want == NULL;
	return want != NULL && len == strlen(want) &&
	    memcmp(v, want, len) == 0;
}

int
main(void)
{
	static const struct {
		const char	*header, *name, *want;
	} cases[] = {
		{ "sse_token=abc", "sse_token", "abc" },
		{ "a=1; sse_token=abc.def-_; b=2", "sse_token", "abc.def-_" },
		{ "a=1;sse_token=x", "sse_token", "x" },
		{ "  sse_token = x  ", "sse_token", "x" },
		{ "sse_token=\"quoted\"", "sse_token", "quoted" },
		{ "sse_token=\"", "sse_token", "\"" },
		{ "sse_token=", "sse_token", "" },
		{ "sse_token=first; sse_token=second", "sse_token", "first" },
		{ "xsse_token=1", "sse_token", NULL },
		{ "sse_tokenx=1", "sse_token", NULL },
		{ "sse_token", "sse_token", NULL },
		{ "a=sse_token=1", "sse_token", NULL },
		{ ";;;", "sse_token", NULL },
		{ "", "sse_token", NULL },
		{ "a=1; b", "b", NULL },
		{ "a=1;", "a", "1" },
		{ "A=1", "a", NULL },
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		test_cond(cases[i].header, got(cases[i].header, cases[i].name,
		    cases[i].want));
	test_cond("NULL header", got(NULL, "a", NULL));
	test_cond("empty name", got("=1", "", NULL));
	return test_report("test_cookie");
}
