/* sse-fcgi - MIT License
 *
 * SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed 64-bit hash. With a secret key, whoever chooses the input
 * cannot choose colliding inputs, which is what a hash table filled with
 * client-chosen keys needs. Pure function, thread-safe.
 */
#ifndef SSE_SIPHASH_H
#define SSE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN	16

/* Returns SipHash-2-4 of the LEN bytes at IN under the 16-byte KEY (read
 * as two little-endian 64-bit words, as in the paper). */
uint64_t	 siphash24(const unsigned char key[SIPHASH_KEY_LEN],
		    const void *in, size_t len);

#endif
