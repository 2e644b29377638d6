/* sse-fcgi - MIT License
 *
 * CORS allowlist (see cors.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cors.h"
#include "xmalloc.h"

#define CORS_ORIGIN_MAX	256

struct cors {
	char	**origins;
	size_t	  n;
	int	  any;		/* "*" listed */
};

/* Returns 1 if S looks like scheme://host[:port] with nothing after. */
static int
cors_origin_ok(const char *s, size_t len)
{
	const char	*p;
	size_t		 i, skip;

	if (len > 8 && strncmp(s, "https://", 8) == 0)
		skip = 8;
	else if (len > 7 && strncmp(s, "http://", 7) == 0)
		skip = 7;
	else
		return 0;
	for (i = skip, p = s; i < len; i++) {
		if (p[i] == '/' || p[i] == '?' || p[i] == '#' ||
		    (unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
			return 0;
	}
	return 1;
}

struct cors *
cors_create(const char *spec, char *err, size_t errlen)
{
	struct cors	*c;
	const char	*p = spec;
	size_t		 len;

	if (spec == NULL)
		return NULL;
	c = xcalloc(1, sizeof *c);
	for (;;) {
		p += strspn(p, " ,\t");
		if (*p == '\0')
			break;
		len = strcspn(p, " ,\t");
		if (len == 1 && *p == '*') {
			c->any = 1;
		} else if (len >= CORS_ORIGIN_MAX || !cors_origin_ok(p, len)) {
			snprintf(err, errlen, "cors-origins: \"%.*s\" is not an "
			    "origin like https://app.example or "
			    "http://localhost:3000", (int)(len > 80 ? 80 : len),
			    p);
			cors_free(c);
			return NULL;
		} else {
			c->origins = xrealloc(c->origins,
			    (c->n + 1) * sizeof *c->origins);
			c->origins[c->n++] = xstrndup(p, len);
		}
		p += len;
	}
	if (c->n == 0 && !c->any) {
		snprintf(err, errlen, "cors-origins: empty list");
		cors_free(c);
		return NULL;
	}
	return c;
}

void
cors_free(struct cors *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->origins[i]);
	free(c->origins);
	free(c);
}

int
cors_check(const struct cors *c, const char *origin, const char *host,
    char *out)
{
	const char	*h;
	size_t		 i;

	out[0] = '\0';
	if (c == NULL || origin == NULL || origin[0] == '\0')
		return 1;
	/* Same origin: http(s)://HOST; no other scheme is a web origin. */
	if (host != NULL && (strncmp(origin, "http://", 7) == 0 ||
	    strncmp(origin, "https://", 8) == 0) &&
	    (h = strstr(origin, "://")) != NULL && strcmp(h + 3, host) == 0)
		return 1;
	for (i = 0; i < c->n; i++) {
		if (strcmp(origin, c->origins[i]) == 0) {
			snprintf(out, CORS_HEADERS_MAX,
			    "Access-Control-Allow-Origin: %s\r\n"
			    "Access-Control-Allow-Credentials: true\r\n"
			    "Vary: Origin\r\n", c->origins[i]);
			return 1;
		}
	}
	if (c->any) {
		snprintf(out, CORS_HEADERS_MAX,
		    "Access-Control-Allow-Origin: *\r\n");
		return 1;
	}
	return 0;
}
