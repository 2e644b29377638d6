/* sse-fcgi - MIT License
 *
 * libFuzzer target for channel names (channel.h) and the history globs
 * (pattern.h). The input is "PATTERN NUL NAME" (no NUL: the whole input is
 * both). channel_name_valid() is checked against the grammar written out
 * again, pattern_match() against a dynamic-programming matcher that is
 * obviously right. libFuzzer's -timeout catches a pattern that makes the
 * matcher slow (there is a unit test for the known bad cases too).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "pattern.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_channel: %s\n", what);
	abort();
}

static int
ref_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > CHANNEL_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789._:-", s[i]) == NULL)
			return 0;
	return 1;
}

/* m[j]: the pattern's first i bytes match S's first j bytes. */
static int
ref_match(const char *pat, const char *s, size_t len)
{
	unsigned char	*m;
	size_t		 i, j, np = strlen(pat);
	unsigned char	 diag, up;
	int		 r;

	if ((m = calloc(len + 1, 1)) == NULL)
		abort();
	m[0] = 1;
	for (i = 0; i < np; i++) {
		diag = m[0];
		m[0] = m[0] && pat[i] == '*';
		for (j = 1; j <= len; j++) {
			up = m[j];
			if (pat[i] == '*')
				m[j] = up || m[j - 1];
			else
				m[j] = diag && (pat[i] == '?' ||
				    pat[i] == s[j - 1]);
			diag = up;
		}
	}
	r = m[len];
	free(m);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	const char	*why, *pat, *name;
	char		*buf, *nul, *exact;
	size_t		 len;
	int		 ok;

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, in, size);
	buf[size] = '\0';
	pat = name = buf;
	len = size;
	if ((nul = memchr(buf, '\0', size)) != NULL) {
		name = nul + 1;
		len = size - (size_t)(name - buf);
	}

	/* An exact-size copy of the name: no reads past LEN. */
	if ((exact = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(exact, name, len);

	why = NULL;
	ok = channel_name_valid(exact, len, &why);
	if (ok != ref_valid(exact, len))
		fuzz_fail("channel_name_valid disagrees with the grammar");
	if (!ok && (why == NULL || why[0] == '\0'))
		fuzz_fail("invalid name without a reason");
	if (channel_name_valid(exact, len, NULL) != ok)
		fuzz_fail("result depends on WHY");

	if (pattern_match(pat, exact, len) != ref_match(pat, exact, len))
		fuzz_fail("pattern_match disagrees with the reference");
	free(exact);
	free(buf);
	return 0;
}
