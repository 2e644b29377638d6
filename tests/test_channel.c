/* sse-fcgi - MIT License
 *
 * Channel name grammar: valid and invalid names, lengths at the edges.
 */
#include "config.h"

#include <string.h>

#include "channel.h"
#include "testlib.h"

int
main(void)
{
	static const char *good[] = { "project.123", "user.1", "task.7",
	    "a", "A-Z_0:9.x", "orders:eu-west-1", "___" };
	static const char *bad[] = { "", "a/b", "a,b", "a b", "ä", "a%20",
	    "a\nb", "a\rb", "*", "a?b", "a#b", "<script>", "a+b" };
	char		 name[CHANNEL_NAME_MAX + 2];
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		test_cond(good[i], channel_name_valid(good[i],
		    strlen(good[i]), NULL));
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		test_cond(bad[i], !channel_name_valid(bad[i], strlen(bad[i]),
		    &why) && why != NULL);
	}
	test_cond("NUL inside", !channel_name_valid("a\0b", 3, NULL));
	memset(name, 'x', sizeof name);
	test_cond("200 bytes", channel_name_valid(name, 200, NULL));
	test_cond("201 bytes", !channel_name_valid(name, 201, &why) &&
	    strstr(why, "200") != NULL);
	return test_report("test_channel");
}
