/* sse-fcgi - MIT License
 *
 * Unpadded base64url encoding (RFC 4648 section 5) for the tests and the
 * fuzz target that sign their own JWTs; the worker only decodes
 * (src/jwt.c).
 */
#ifndef SSE_TEST_B64URL_H
#define SSE_TEST_B64URL_H

#include <stddef.h>

/* Encodes LEN bytes at IN into OUT (room for LEN * 4 / 3 + 3 bytes),
 * NUL-terminated; returns the length written. */
static inline size_t
b64url(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned long	acc = 0;
	size_t		i, bits = 0, n = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = tab[(acc >> bits) & 63];
		}
		acc &= (1UL << bits) - 1;
	}
	if (bits > 0)
		out[n++] = tab[(acc << (6 - bits)) & 63];
	out[n] = '\0';
	return n;
}

#endif
