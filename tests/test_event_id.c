/* sse-fcgi - MIT License
 *
 * Event ids: valid and malformed ids, ordering, format round trip.
 */
#include "config.h"

#include <string.h>

#include "event_id.h"
#include "testlib.h"

/* Position vectors (a cluster's streams of several channels). */
static void
test_vectors(void)
{
	static const char *bad[] = { "", "~", "~~", "1-2~3-4", "~1-2~",
	    "~1-2~~3-4", "~1-2~3-4~5-6", "~1-2", "~1-2~x", "~1-2 ~3-4",
	    "~1-2~3-4\n", "~-~3-4" };
	struct event_id	 v[3], w[2];
	char		 buf[EVENT_ID_VEC_MAX(16)];
	size_t		 i, n;

	test_cond("vec: two fields", event_id_vec_parse("~1-2~30-4", 9, w,
	    2) == 0 && w[0].ms == 1 && w[0].seq == 2 && w[1].ms == 30 &&
	    w[1].seq == 4);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		test_cond(bad[i], event_id_vec_parse(bad[i], strlen(bad[i]),
		    w, 2) == -1);
	test_cond("vec: one field for one", event_id_vec_parse("~0-0", 4, w,
	    1) == 0 && w[0].seq == 0);
	test_cond("vec: is_vec", event_id_is_vec("~1-2", 4) &&
	    !event_id_is_vec("1-2", 3) && !event_id_is_vec("", 0));
	v[0].ms = 1700000000000ULL; v[0].seq = 7;
	v[1].ms = 0; v[1].seq = 0;
	v[2].ms = UINT64_MAX; v[2].seq = UINT64_MAX;
	n = event_id_vec_format(v, 3, buf);
	test_cond("vec: format", n == strlen(buf) && strcmp(buf,
	    "~1700000000000-7~0-0~18446744073709551615-18446744073709551615")
	    == 0);
	test_cond("vec: round trip", event_id_vec_parse(buf, n, w, 2) == -1);
	{
		struct event_id	 x[3];

		test_cond("vec: round trip, 3", event_id_vec_parse(buf, n, x,
		    3) == 0 && x[2].seq == UINT64_MAX && x[0].seq == 7);
	}
	{
		struct event_id	 big[16];

		for (i = 0; i < 16; i++)
			big[i].ms = big[i].seq = UINT64_MAX;
		n = event_id_vec_format(big, 16, buf);
		test_cond("vec: 16 of the largest fit", n + 1 <=
		    EVENT_ID_VEC_MAX(16) && buf[n] == '\0');
	}
}

int
main(void)
{
	static const char *good[] = { "0-0", "1700000000000-42",
	    "18446744073709551615-18446744073709551615", "007-1" };
	static const char *bad[] = { "", "-", "1-", "-1", "1", "1-2-3",
	    "a-1", "1-a", " 1-2", "1-2 ", "+1-2", "1--2",
	    "18446744073709551616-0", "0-18446744073709551616",
	    "123456789012345678901-0", "1.5-2", "1-2\n" };
	struct event_id	 a, b;
	char		 buf[EVENT_ID_MAX];
	size_t		 i, n;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		test_cond(good[i], event_id_parse(good[i], strlen(good[i]),
		    &a) == 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		test_cond(bad[i], event_id_parse(bad[i], strlen(bad[i]),
		    &a) == -1);
	test_cond("NUL inside", event_id_parse("1-2\0003", 5, &a) == -1);
	event_id_parse("1700000000000-42", 16, &a);
	test_cond("fields", a.ms == 1700000000000ULL && a.seq == 42);
	n = event_id_format(&a, buf);
	test_cond("format", n == 16 && strcmp(buf, "1700000000000-42") == 0);
	event_id_parse("18446744073709551615-18446744073709551615", 41, &a);
	n = event_id_format(&a, buf);
	test_cond("format max fits", n == 41 && buf[41] == '\0');
	event_id_parse("5-10", 4, &a);
	event_id_parse("9-9", 3, &b);
	test_cond("order is the sequence", event_id_cmp(&a, &b) > 0 &&
	    event_id_cmp(&b, &a) < 0 && event_id_cmp(&a, &a) == 0);
	test_vectors();
	return test_report("test_event_id");
}
