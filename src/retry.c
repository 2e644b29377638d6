/* sse-fcgi - MIT License
 *
 * Reconnect delays (see retry.h).
 */
#include "config.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "retry.h"

/* xorshift32: cheap, good enough to spread reconnects; never 0. */
static uint32_t
retry_next(uint32_t *state)
{
	uint32_t	x = *state != 0 ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

uint32_t
retry_seed(uint32_t salt)
{
	struct timespec	ts;
	uint32_t	s;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	s = (uint32_t)ts.tv_nsec ^ ((uint32_t)ts.tv_sec << 20) ^
	    ((uint32_t)getpid() * 2654435761u) ^ (salt * 0x85ebca6bu);
	return s != 0 ? s : 1;
}

unsigned
retry_jitter(unsigned nominal_ms, uint32_t *state)
{
	unsigned	d;

	if (nominal_ms == 0)
		nominal_ms = RETRY_DEFAULT_MS;
	if (nominal_ms > RETRY_CAP_MS)
		nominal_ms = RETRY_CAP_MS;
	d = nominal_ms / 2 + retry_next(state) % nominal_ms;
	return d < RETRY_CAP_MS ? d : RETRY_CAP_MS;
}

unsigned
retry_backoff(unsigned base_ms, uint64_t age_ms, uint32_t *state)
{
	uint64_t	nominal = base_ms != 0 ? base_ms : RETRY_DEFAULT_MS;

	if (age_ms > nominal)
		nominal = age_ms;
	if (nominal > RETRY_CAP_MS)
		nominal = RETRY_CAP_MS;
	return retry_jitter((unsigned)nominal, state);
}

size_t
retry_body(char *buf, size_t len, unsigned ms, const char *why)
{
	int	n;

	if (len < 32) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	if (len > RETRY_BODY_MAX)
		len = RETRY_BODY_MAX;
	/* The delay goes first: a long WHY is cut, never the retry line. */
	n = snprintf(buf, len, "retry: %u\n: %s", ms, why);
	if (n < 0)
		n = 0;
	if ((size_t)n > len - 3)
		n = (int)len - 3;
	buf[n++] = '\n';
	buf[n++] = '\n';
	buf[n] = '\0';
	return (size_t)n;
}
