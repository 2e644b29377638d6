/* sse-fcgi - MIT License
 *
 * A tiny glob matcher for channel names: '*' matches any run of bytes
 * (including none), '?' matches exactly one byte, and every other byte
 * matches itself, case-sensitively. There are no classes and no escapes:
 * '*' and '?' never occur in channel names (see channel.h), so none are
 * needed. Matching is iterative and takes O(pattern * subject) time at
 * worst, whatever the pattern.
 */
#ifndef SSE_PATTERN_H
#define SSE_PATTERN_H

#include <stddef.h>

/* Returns 1 if the NUL-terminated PATTERN matches all LEN bytes at S,
 * else 0. S need not be NUL-terminated; both are borrowed. */
int	pattern_match(const char *pattern, const char *s, size_t len);

#endif
