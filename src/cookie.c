/* sse-fcgi - MIT License
 *
 * Cookie header lookup (see cookie.h). Browsers send "a=1; b=2"; spaces
 * and tabs around names and values are skipped, pairs without '=' are
 * ignored, and nothing is decoded: tokens are base64url, which needs none.
 */
#include "config.h"

#include <string.h>

#include "cookie.h"

int
cookie_find(const char *header, const char *name, const char **val,
    size_t *len)
{
	const char	*p = header, *end, *eq, *k, *kend, *v, *vend;
	size_t		 nlen = strlen(name);

	if (header == NULL || nlen == 0)
		return 0;
	while (*p != '\0') {
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			for (k = p; k < eq && (*k == ' ' || *k == '\t'); k++)
				;
			for (kend = eq; kend > k && (kend[-1] == ' ' ||
			    kend[-1] == '\t'); kend--)
				;
			for (v = eq + 1; v < end && (*v == ' ' || *v == '\t');
			    v++)
				;
			for (vend = end; vend > v && (vend[-1] == ' ' ||
			    vend[-1] == '\t'); vend--)
				;
			if ((size_t)(kend - k) == nlen &&
			    memcmp(k, name, nlen) == 0) {
				if (vend - v >= 2 && *v == '"' &&
				    vend[-1] == '"') {
					v++;
					vend--;
				}
				*val = v;
				*len = (size_t)(vend - v);
				return 1;
			}
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return 0;
}
