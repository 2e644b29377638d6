/* sse-fcgi - MIT License
 *
 * A tiny unit-test helper: test_cond() records a pass or a failure with the
 * expression's text and line; test_report() prints the totals and gives the
 * exit status for automake (0 when nothing failed).
 */
#ifndef SSE_TESTLIB_H
#define SSE_TESTLIB_H

#include <stdio.h>

static int test_passed, test_failed;

#define test_cond(descr, cond) do {					\
	if (cond) {							\
		test_passed++;						\
	} else {							\
		test_failed++;						\
		fprintf(stderr, "FAIL %s:%d: %s (%s)\n", __FILE__,	\
		    __LINE__, descr, #cond);				\
	}								\
} while (0)

static inline int
test_report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
	return test_failed == 0 ? 0 : 1;
}

#endif
