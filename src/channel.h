/* sse-fcgi - MIT License
 *
 * Channel names: the grammar every entry point (URL, publish, config) shares.
 * A name is 1 to CHANNEL_NAME_MAX bytes of [A-Za-z0-9._:-]; anything else
 * (slash, comma, space, control bytes, non-ASCII) is refused, so a name is
 * always safe in a URL path, a Redis key and a log line.
 */
#ifndef SSE_CHANNEL_H
#define SSE_CHANNEL_H

#include <stddef.h>

#define CHANNEL_NAME_MAX	200

/* Returns 1 if the LEN bytes at S form a valid channel name, else 0 with a
 * static one-line reason in *WHY (when WHY is not NULL). */
int	channel_name_valid(const char *s, size_t len, const char **why);

#endif
