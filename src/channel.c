/* sse-fcgi - MIT License
 *
 * Channel name grammar (see channel.h).
 */
#include "config.h"

#include "channel.h"

static int
channel_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '-';
}

int
channel_name_valid(const char *s, size_t len, const char **why)
{
	size_t	i;

	if (len == 0) {
		if (why != NULL)
			*why = "channel name is empty";
		return 0;
	}
	if (len > CHANNEL_NAME_MAX) {
		if (why != NULL)
			*why = "channel name is longer than 200 bytes";
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (!channel_char_ok((unsigned char)s[i])) {
			if (why != NULL)
				*why = "channel name may only contain "
				    "A-Z a-z 0-9 . _ : -";
			return 0;
		}
	}
	return 1;
}
