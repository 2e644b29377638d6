/* sse-fcgi - MIT License
 *
 * SipHash-2-4, written from the paper (see siphash.h): four 64-bit words of
 * state, two compression rounds per 8-byte block, the last block carrying
 * the length in its top byte, then 0xff and four finalisation rounds.
 * Loads are byte by byte, so any alignment and either byte order work.
 */
#include "config.h"

#include "siphash.h"

#define ROTL(x, b)	(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND(v0, v1, v2, v3) do {					\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
load_le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

uint64_t
siphash24(const unsigned char key[SIPHASH_KEY_LEN], const void *in,
    size_t len)
{
	const unsigned char	*p = in, *end = p + (len & ~(size_t)7);
	uint64_t		 k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t		 v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t		 v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t		 v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t		 v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t		 m, b = (uint64_t)len << 56;

	for (; p != end; p += 8) {
		m = load_le64(p);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	switch (len & 7) {	/* the tail, low byte first */
	case 7: b |= (uint64_t)p[6] << 48;	/* FALLTHROUGH */
	case 6: b |= (uint64_t)p[5] << 40;	/* FALLTHROUGH */
	case 5: b |= (uint64_t)p[4] << 32;	/* FALLTHROUGH */
	case 4: b |= (uint64_t)p[3] << 24;	/* FALLTHROUGH */
	case 3: b |= (uint64_t)p[2] << 16;	/* FALLTHROUGH */
	case 2: b |= (uint64_t)p[1] << 8;	/* FALLTHROUGH */
	case 1: b |= (uint64_t)p[0];		break;
	case 0: break;
	}
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}
