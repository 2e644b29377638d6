/* sse-fcgi - MIT License
 *
 * When a browser should come back. Every answer that sends a client away
 * for a transient reason (Redis unreachable, the worker full) and every
 * stream the worker ends (stopping, max-lifetime, token expiry, history
 * unavailable) is a text/event-stream 200 with a "retry:" of its own:
 * EventSource reconnects after any 200 that ends, but gives up for good on
 * any other status. Each delay is drawn at random around its nominal value,
 * so clients sent away in the same instant do not return in the same
 * instant. Pure functions; the caller owns the random state (one per
 * thread).
 */
#ifndef SSE_RETRY_H
#define SSE_RETRY_H

#include <stddef.h>
#include <stdint.h>

#define RETRY_DEFAULT_MS	3000	/* nominal when the retry option is 0 */
#define RETRY_CAP_MS		60000	/* no delay is longer */
#define RETRY_BODY_MAX		320	/* retry_body()'s output, at most */

/* Seeds a random state from the clock, the process and SALT. */
uint32_t	 retry_seed(uint32_t salt);
/* Returns a delay drawn uniformly from [NOMINAL/2, NOMINAL*3/2), capped at
 * RETRY_CAP_MS; its mean is NOMINAL. NOMINAL 0 means RETRY_DEFAULT_MS. */
unsigned	 retry_jitter(unsigned nominal_ms, uint32_t *state);
/* For a condition that has lasted AGE_MS: the nominal delay is the larger
 * of BASE_MS and AGE_MS (capped), jittered. A client that comes back after
 * each such delay finds the condition older each time, so its delays about
 * double: exponential backoff, without knowing the client's count. */
unsigned	 retry_backoff(unsigned base_ms, uint64_t age_ms,
		    uint32_t *state);
/* Writes "retry: MS\n: WHY\n\n" into BUF of LEN bytes (at least 32; WHY
 * is cut to fit RETRY_BODY_MAX and must pass sse_field_ok()): a block that
 * sets EventSource's reconnection time and dispatches no event. Returns
 * the length, without the NUL it also writes. */
size_t		 retry_body(char *buf, size_t len, unsigned ms,
		    const char *why);

#endif
