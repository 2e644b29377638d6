/* sse-fcgi - MIT License
 *
 * Unit tests for pattern_match(): a table of patterns, subjects with an
 * explicit length (embedded and missing NULs), a randomized comparison
 * against a naive recursive matcher, and patterns that would take
 * exponential time in a backtracking-by-recursion matcher.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pattern.h"
#include "testlib.h"

struct pattern_case {
	const char	*pattern;
	const char	*s;
	int		 want;
};

static const struct pattern_case cases[] = {
	{ "", "", 1 },
	{ "", "a", 0 },
	{ "*", "", 1 },
	{ "*", "anything.at:all-1", 1 },
	{ "**", "", 1 },
	{ "***", "abc", 1 },
	{ "?", "", 0 },
	{ "?", "a", 1 },
	{ "?", "ab", 0 },
	{ "??", "ab", 1 },
	{ "a", "a", 1 },
	{ "a", "A", 0 },
	{ "a", "ab", 0 },
	{ "ab", "a", 0 },
	{ "task.*", "task.", 1 },
	{ "task.*", "task.1", 1 },
	{ "task.*", "task.a.b.c", 1 },
	{ "task.*", "task", 0 },
	{ "task.*", "tasks.1", 0 },
	{ "task.*", "xtask.1", 0 },
	{ "*.log", "app.log", 1 },
	{ "*.log", ".log", 1 },
	{ "*.log", "app.log.1", 0 },
	{ "*.log", "app.lo", 0 },
	{ "a*b", "ab", 1 },
	{ "a*b", "axxb", 1 },
	{ "a*b", "axxbxb", 1 },
	{ "a*b", "axxbx", 0 },
	{ "a*b*c", "abc", 1 },
	{ "a*b*c", "aXbYc", 1 },
	{ "a*b*c", "acb", 0 },
	{ "a*b*c", "abcbc", 1 },
	{ "*a*", "bab", 1 },
	{ "*a*", "bbb", 0 },
	{ "a?c", "abc", 1 },
	{ "a?c", "ac", 0 },
	{ "a?c", "abbc", 0 },
	{ "?*", "", 0 },
	{ "?*", "x", 1 },
	{ "*?", "x", 1 },
	{ "*?", "", 0 },
	{ "*??*", "a", 0 },
	{ "*??*", "ab", 1 },
	{ "user:*:inbox", "user:42:inbox", 1 },
	{ "user:*:inbox", "user::inbox", 1 },
	{ "user:*:inbox", "user:42:inbox:x", 0 },
	{ "*x", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 1 },
	{ "*xy", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0 },
	{ "*ab*ab*ab", "abababab", 1 },
	{ "*ab*ab*abc", "abababab", 0 },
	{ "mis*is*ip*i", "mississippi", 1 },
	{ "mis*is*ip*ix", "mississippi", 0 },
};

/* The obvious recursive matcher, exponential but fine on short input. */
static int
naive(const char *p, const char *s, size_t len)
{
	if (*p == '\0')
		return len == 0;
	if (*p == '*')
		return naive(p + 1, s, len) || (len > 0 &&
		    naive(p, s + 1, len - 1));
	if (len > 0 && (*p == '?' || *p == *s))
		return naive(p + 1, s + 1, len - 1);
	return 0;
}

static void
test_table(void)
{
	size_t	i;
	int	got;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = pattern_match(cases[i].pattern, cases[i].s,
		    strlen(cases[i].s));
		if (got != cases[i].want)
			fprintf(stderr, "cases[%zu]: \"%s\" vs \"%s\": %d\n", i,
			    cases[i].pattern, cases[i].s, got);
		test_cond(cases[i].pattern, got == cases[i].want);
		test_cond("agrees with naive", got == naive(cases[i].pattern,
		    cases[i].s, strlen(cases[i].s)));
	}
}

/* S is LEN bytes, not a C string. */
static void
test_length(void)
{
	static const char	nul[] = { 'a', '\0', 'b' };
	char			*s;

	test_cond("prefix by length", pattern_match("task", "task.1", 4));
	test_cond("shorter length", !pattern_match("task.1", "task.1", 4));
	test_cond("zero length", pattern_match("*", "xyz", 0) &&
	    !pattern_match("?", "xyz", 0) && !pattern_match("x", "xyz", 0));
	test_cond("NUL is one byte for ?", pattern_match("a?b", nul, 3));
	test_cond("NUL matched by *", pattern_match("a*", nul, 3));
	test_cond("pattern end is not a NUL byte", !pattern_match("a", nul, 2));
	test_cond("NULL subject with length 0", pattern_match("**", NULL, 0));

	/* No NUL after S at all: ASan flags any read past LEN. */
	s = malloc(3);
	memcpy(s, "abc", 3);
	test_cond("unterminated subject", pattern_match("a*c", s, 3) &&
	    pattern_match("*", s, 3) && !pattern_match("abcd", s, 3) &&
	    !pattern_match("*d", s, 3) && pattern_match("???", s, 3));
	free(s);
}

/* Random patterns and subjects over a small alphabet, where mismatches
 * after partial matches are common, must agree with naive(). */
static void
test_random(void)
{
	static const char	pal[] = "ab*?", sal[] = "ab";
	char			p[12], s[12];
	size_t			plen, slen, i;
	unsigned		round, bad = 0;

	srand(12345);
	for (round = 0; round < 200000; round++) {
		plen = rand() % 10;
		slen = rand() % 11;
		for (i = 0; i < plen; i++)
			p[i] = pal[rand() % 4];
		p[plen] = '\0';
		for (i = 0; i < slen; i++)
			s[i] = sal[rand() % 2];
		s[slen] = '\0';
		if (pattern_match(p, s, slen) != naive(p, s, slen)) {
			if (bad++ < 5)
				fprintf(stderr, "random: \"%s\" vs \"%s\"\n",
				    p, s);
		}
	}
	test_cond("random agrees with naive", bad == 0);
}

/* "*a*a*...*a*b" against 200 a's takes 2^n steps when each star recurses;
 * the loop needs at most pattern * subject. */
static void
test_pathological(void)
{
	char	p[256], s[201];
	size_t	i, n = 0;
	clock_t	t0;

	for (i = 0; i < 60; i++) {
		p[n++] = '*';
		p[n++] = 'a';
	}
	p[n++] = '*';
	p[n++] = 'b';
	p[n] = '\0';
	memset(s, 'a', 200);
	s[200] = '\0';
	t0 = clock();
	test_cond("no match", !pattern_match(p, s, 200));
	s[199] = 'b';
	test_cond("match", pattern_match(p, s, 200));
	test_cond("fast", clock() - t0 < CLOCKS_PER_SEC / 2);
}

int
main(void)
{
	test_table();
	test_length();
	test_random();
	test_pathological();
	return test_report("test_pattern");
}
