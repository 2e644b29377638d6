/* sse-fcgi - MIT License
 *
 * What the fuzz targets that feed bytes to hiredis's RESP reader share
 * (fuzz_cluster_map, fuzz_history, fuzz_presence, fuzz_sentinel): inputs
 * announcing an array or string of a million elements or bytes are
 * skipped, since the reader would wait for (or allocate) them, which says
 * nothing about the code under test and only slows the search.
 */
#ifndef SSE_FUZZ_RESP_GUARD_H
#define SSE_FUZZ_RESP_GUARD_H

#include <stddef.h>
#include <stdint.h>

/* Returns 1 if DATA announces a length of seven digits or more. */
static inline int
resp_guard_huge(const uint8_t *data, size_t size)
{
	size_t	i, d;

	for (i = 0; i < size; i++) {
		if (data[i] != '*' && data[i] != '$')
			continue;
		for (d = 0; i + 1 + d < size && data[i + 1 + d] >= '0' &&
		    data[i + 1 + d] <= '9'; d++)
			;
		if (d >= 7)
			return 1;
	}
	return 0;
}

#endif
