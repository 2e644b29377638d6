/* sse-fcgi - MIT License
 *
 * The monotonic clock in milliseconds, for deadlines and pauses.
 */
#ifndef SSE_MONOTIME_H
#define SSE_MONOTIME_H

#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC (from an unspecified start). */
static inline long long
monotime_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
