/* sse-fcgi - MIT License
 *
 * SipHash-2-4 against the reference vectors (key 00..0f, message of
 * length N the bytes 00..N-1; every tail length and two whole blocks), the
 * key's effect on the result, and the hash keys seed.c draws: different
 * in two processes. Prints the hash's speed on short names, for reading
 * only: the machine may be loaded.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "seed.h"
#include "siphash.h"
#include "testlib.h"

/* The reference outputs as the reference code prints them (little-endian
 * bytes), for messages of length 0 to 16. */
static const unsigned char vectors[17][8] = {
	{ 0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72 },
	{ 0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74 },
	{ 0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d },
	{ 0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85 },
	{ 0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf },
	{ 0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18 },
	{ 0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb },
	{ 0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab },
	{ 0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93 },
	{ 0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e },
	{ 0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a },
	{ 0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4 },
	{ 0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75 },
	{ 0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14 },
	{ 0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7 },
	{ 0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1 },
	{ 0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f },
};

static uint64_t
le64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* In a child: the key that process draws. */
static int
draw_key(unsigned char *key, size_t len)
{
	memcpy(key, seed_key(), len);
	return 0;
}

static void
print_speed(void)
{
	static const char	*names[] = { "news", "user.1234", "chat.room-42",
	    "org.example.alerts.critical" };
	struct timespec		 t0, t1;
	uint64_t		 acc = 0;
	double			 ns;
	size_t			 i, n = 2000000;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		acc += siphash24(seed_key(), names[i & 3],
		    strlen(names[i & 3]));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	    (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;
	printf("# siphash24 on 4-27 byte names: %.1f ns a hash (%llx)\n", ns,
	    (unsigned long long)(acc & 0xf));
}

int
main(void)
{
	unsigned char	 key[SIPHASH_KEY_LEN], msg[16], k1[SEED_KEY_LEN],
			 k2[SEED_KEY_LEN], zero[SEED_KEY_LEN];
	const unsigned char *pk;
	size_t		 i;
	int		 ok;

	for (i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)i;
	for (i = 0; i < sizeof msg; i++)
		msg[i] = (unsigned char)i;
	ok = 1;
	for (i = 0; i < 17; i++) {
		if (siphash24(key, msg, i) != le64(vectors[i])) {
			fprintf(stderr, "vector %zu differs\n", i);
			ok = 0;
		}
	}
	test_cond("reference vectors 0-16", ok);
	test_cond("paper's example (15 bytes)",
	    siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
	test_cond("unaligned input", siphash24(key, msg + 1, 14) ==
	    siphash24(key, (unsigned char[14]){ 1, 2, 3, 4, 5, 6, 7, 8, 9,
	    10, 11, 12, 13, 14 }, 14));

	key[0] ^= 1;
	test_cond("the key changes the hash",
	    siphash24(key, "chan.1", 6) != siphash24(msg, "chan.1", 6));

	/* Before this process draws its own, or the children inherit it. */
	memset(zero, 0, sizeof zero);
	test_cond("two processes draw different keys", test_in_child(draw_key, k1,
	    sizeof k1) == 0 && test_in_child(draw_key, k2, sizeof k2) == 0 && memcmp(k1, k2, sizeof k1) != 0 &&
	    memcmp(k1, zero, sizeof k1) != 0);
	pk = seed_key();
	test_cond("key drawn", memcmp(pk, zero, SEED_KEY_LEN) != 0);
	test_cond("key stable", seed_key() == pk &&
	    memcmp(seed_key(), pk, SEED_KEY_LEN) == 0);
	memset(k1, 0, sizeof k1);
	memset(k2, 0, sizeof k2);
	seed_fill(k1, sizeof k1);
	seed_fill(k2, sizeof k2);
	test_cond("seed_fill draws anew", memcmp(k1, k2, sizeof k1) != 0);
	print_speed();
	return test_report("test_siphash");
}
