/* sse-fcgi - MIT License
 *
 * Event ids: valid and malformed ids, ordering, format round trip.
 */
#include "config.h"

#include <string.h>

#include "event_id.h"
#include "testlib.h"

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
	return test_report("test_event_id");
}
