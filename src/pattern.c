/* sse-fcgi - MIT License
 *
 * Glob matching (see pattern.h). The classic star-backtracking loop: on a
 * mismatch, go back to the last '*' seen and let it swallow one more byte
 * of S. Only the last star matters, because whatever an earlier star could
 * swallow the later one can too, so there is no recursion and no
 * exponential case.
 */
#include "config.h"

#include <stddef.h>

#include "pattern.h"

int
pattern_match(const char *pattern, const char *s, size_t len)
{
	const char	*p = pattern, *star = NULL;
	size_t		 i = 0, mark = 0;

	while (i < len) {
		if (*p == '*') {
			/* Try the star on nothing first; remember where. */
			star = ++p;
			mark = i;
		} else if (*p != '\0' && (*p == '?' || *p == s[i])) {
			p++;
			i++;
		} else if (star != NULL) {
			/* Backtrack: the last star takes one more byte. */
			p = star;
			i = ++mark;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}
