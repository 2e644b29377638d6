/* sse-fcgi - MIT License
 *
 * Unit tests for retry.c: the delays stay in their range and are spread,
 * backoff grows with the age of the condition up to the cap, and the body
 * is a block EventSource reads as a reconnection time and no event.
 */
#include "config.h"

#include <string.h>

#include "retry.h"
#include "testlib.h"

static void
test_jitter(void)
{
	uint32_t	st = 12345;
	unsigned	d, lo = ~0u, hi = 0, seen_low = 0, seen_high = 0;
	unsigned long long sum = 0;
	int		i, in_range = 1;

	for (i = 0; i < 10000; i++) {
		d = retry_jitter(3000, &st);
		if (d < 1500 || d >= 4500)
			in_range = 0;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		seen_low += d < 2000;
		seen_high += d >= 4000;
		sum += d;
	}
	test_cond("every delay in [nominal/2, nominal*3/2)", in_range);
	test_cond("spread over the range", hi - lo > 2800);
	test_cond("both ends drawn", seen_low > 1000 && seen_high > 1000);
	test_cond("mean near the nominal", sum / 10000 > 2900 &&
	    sum / 10000 < 3100);
	st = 1;
	d = retry_jitter(0, &st);
	test_cond("0 means the default", d >= RETRY_DEFAULT_MS / 2 &&
	    d < RETRY_DEFAULT_MS * 3 / 2);
	st = 0;		/* a zero state must not stick at zero */
	test_cond("zero state still draws", retry_jitter(1000, &st) >= 500 &&
	    st != 0);
	for (i = 0, in_range = 1; i < 1000; i++)
		if (retry_jitter(4000000, &st) > RETRY_CAP_MS)
			in_range = 0;
	test_cond("capped", in_range);
	for (i = 0, in_range = 1; i < 1000; i++)
		if (retry_jitter(1, &st) > 1)
			in_range = 0;
	test_cond("a 1 ms nominal stays tiny", in_range);
}

static void
test_backoff(void)
{
	uint32_t	st = 777;
	unsigned	d;
	int		i, ok = 1;

	for (i = 0; i < 1000; i++) {
		d = retry_backoff(2000, 0, &st);
		if (d < 1000 || d >= 3000)
			ok = 0;
	}
	test_cond("fresh condition: the base", ok);
	for (i = 0, ok = 1; i < 1000; i++) {
		d = retry_backoff(2000, 16000, &st);
		if (d < 8000 || d >= 24000)
			ok = 0;
	}
	test_cond("16 s old: about 16 s", ok);
	for (i = 0, ok = 1; i < 1000; i++) {
		d = retry_backoff(2000, 86400000ULL * 365, &st);
		if (d < RETRY_CAP_MS / 2 || d > RETRY_CAP_MS)
			ok = 0;
	}
	test_cond("a year old: capped", ok);
	d = retry_backoff(0, 0, &st);
	test_cond("base 0 means the default", d >= RETRY_DEFAULT_MS / 2 &&
	    d < RETRY_DEFAULT_MS * 3 / 2);
}

static void
test_body(void)
{
	char	buf[RETRY_BODY_MAX], small[8], longwhy[1000];
	size_t	n;

	n = retry_body(buf, sizeof buf, 4321, "redis is unreachable");
	test_cond("body", strcmp(buf, "retry: 4321\n: redis is unreachable"
	    "\n\n") == 0);
	test_cond("length", n == strlen(buf));
	memset(longwhy, 'x', sizeof longwhy - 1);
	longwhy[sizeof longwhy - 1] = '\0';
	n = retry_body(buf, sizeof buf, 60000, longwhy);
	test_cond("long reason cut, block still ends", n < RETRY_BODY_MAX &&
	    strncmp(buf, "retry: 60000\n: xxx", 18) == 0 &&
	    strcmp(buf + n - 2, "\n\n") == 0 && strlen(buf) == n);
	n = retry_body(small, sizeof small, 1000, "x");
	test_cond("too small a buffer: nothing", n == 0 && small[0] == '\0');
}

int
main(void)
{
	test_jitter();
	test_backoff();
	test_body();
	return test_report("test_retry");
}
