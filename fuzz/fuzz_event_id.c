/* sse-fcgi - MIT License
 *
 * libFuzzer target for event ids (event_id.h), as they come in a
 * Last-Event-ID header, a ?lastEventId= or an envelope. event_id_parse() is
 * checked against a plain reference (1 to 20 digits, '-', 1 to 20 digits,
 * each at most UINT64_MAX); an id it takes must format back to text that
 * parses to the same id, and that text must equal the input when the input
 * has no leading zeros. The input split at its first space also gives two
 * ids whose order event_id_cmp() must report consistently. As a position
 * vector (a cluster's stream of several channels: "~ID~ID..."), it must
 * parse with exactly as many fields as it has '~', each field as
 * event_id_parse() takes it alone, and format back to a vector that parses
 * to the same ids.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_id.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_fail(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "fuzz_event_id: %s: \"%.*s\"\n", what, (int)len, s);
	abort();
}

/* Reference: parses 1-20 digits at S[0..LEN) into *V via strtoull.
 * Returns the digits used, or 0 if none or the value is over UINT64_MAX. */
static size_t
ref_number(const char *s, size_t len, uint64_t *v, int *canonical)
{
	char	buf[21];
	size_t	n = 0, z = 0;

	while (n < len && s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n > 20)
		return 0;
	while (z + 1 < n && s[z] == '0')
		z++;
	/* Without leading zeros: shorter than 20 digits, or not above max. */
	if (n - z == 20 && memcmp(s + z, "18446744073709551615", 20) > 0)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*v = strtoull(buf, NULL, 10);
	*canonical = z == 0;
	return n;
}

static int
ref_parse(const char *s, size_t len, struct event_id *out, int *canonical)
{
	size_t	a, b;
	int	c1 = 0, c2 = 0;

	if ((a = ref_number(s, len, &out->ms, &c1)) == 0 || a == len ||
	    s[a] != '-')
		return -1;
	if ((b = ref_number(s + a + 1, len - a - 1, &out->seq, &c2)) == 0 ||
	    a + 1 + b != len)
		return -1;
	*canonical = c1 && c2;
	return 0;
}

/* Parses S both ways, checks they agree and that the id round-trips.
 * Returns what event_id_parse() returned. */
static int
fuzz_one(const char *s, size_t len, struct event_id *id)
{
	struct event_id	 ref, back;
	char		 buf[EVENT_ID_MAX];
	size_t		 n;
	int		 rc, canonical = 0;

	rc = event_id_parse(s, len, id);
	if (rc != ref_parse(s, len, &ref, &canonical))
		fuzz_fail("parse disagrees with the reference", s, len);
	if (rc != 0)
		return rc;
	if (id->ms != ref.ms || id->seq != ref.seq)
		fuzz_fail("parsed value differs from the reference", s, len);
	n = event_id_format(id, buf);
	if (n >= EVENT_ID_MAX || n != strlen(buf))
		fuzz_fail("formatted id too long", buf, strlen(buf));
	if (event_id_parse(buf, n, &back) != 0 ||
	    event_id_cmp(id, &back) != 0 || back.ms != id->ms ||
	    back.seq != id->seq)
		fuzz_fail("formatted id does not parse back", buf, n);
	if (canonical && (n != len || memcmp(buf, s, n) != 0))
		fuzz_fail("round trip changed a canonical id", s, len);
	return 0;
}

static int
sign(int v)
{
	return (v > 0) - (v < 0);
}

#define FUZZ_VEC_MAX	16

/* The input as a position vector, checked field by field. */
static void
fuzz_vec(const char *s, size_t len)
{
	struct event_id	 v[FUZZ_VEC_MAX], back[FUZZ_VEC_MAX], one;
	char		 buf[EVENT_ID_VEC_MAX(FUZZ_VEC_MAX)];
	const char	*f, *next, *end = s + len;
	size_t		 n = 0, i, blen;
	int		 ok = len > 0 && s[0] == '~';

	for (i = 0; i < len; i++)
		n += s[i] == '~';
	if (n == 0 || n > FUZZ_VEC_MAX)
		return;
	/* The reference: every field between two '~' is an id. */
	for (f = s + 1; ok && f <= end; f = next + 1) {
		next = memchr(f, '~', (size_t)(end - f));
		if (next == NULL)
			next = end;
		ok = event_id_parse(f, (size_t)(next - f), &one) == 0;
		if (next == end)
			break;
	}
	if ((event_id_vec_parse(s, len, v, n) == 0) != ok)
		fuzz_fail("vector parse disagrees with its fields", s, len);
	if (n > 1 && event_id_vec_parse(s, len, v, n - 1) == 0)
		fuzz_fail("vector parsed with a field too few", s, len);
	if (n < FUZZ_VEC_MAX && event_id_vec_parse(s, len, v, n + 1) == 0)
		fuzz_fail("vector parsed with a field too many", s, len);
	if (!ok)
		return;
	blen = event_id_vec_format(v, n, buf);
	if (blen != strlen(buf) || blen >= sizeof buf ||
	    event_id_vec_parse(buf, blen, back, n) != 0)
		fuzz_fail("formatted vector does not parse back", buf, blen);
	for (i = 0; i < n; i++)
		if (back[i].ms != v[i].ms || back[i].seq != v[i].seq)
			fuzz_fail("vector round trip changed a field", s, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct event_id	 a, b;
	const char	*s;
	char		*copy, *sp;

	/* An exact-size copy: the parser must not read past LEN. */
	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(copy, in, size);
	s = copy;

	fuzz_one(s, size, &a);
	fuzz_vec(s, size);
	if ((sp = memchr(copy, ' ', size)) != NULL &&
	    fuzz_one(s, (size_t)(sp - s), &a) == 0 &&
	    fuzz_one(sp + 1, size - (size_t)(sp + 1 - s), &b) == 0) {
		if (event_id_cmp(&a, &a) != 0 ||
		    sign(event_id_cmp(&a, &b)) != -sign(event_id_cmp(&b, &a)))
			fuzz_fail("event_id_cmp is not antisymmetric", s, size);
		/* The order is SEQ first, then MS. */
		if ((a.seq != b.seq && sign(event_id_cmp(&a, &b)) !=
		    (a.seq < b.seq ? -1 : 1)) || (a.seq == b.seq &&
		    sign(event_id_cmp(&a, &b)) != (a.ms < b.ms ? -1 :
		    a.ms > b.ms)))
			fuzz_fail("event_id_cmp order", s, size);
	}
	free(copy);
	return 0;
}
