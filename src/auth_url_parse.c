/* sse-fcgi - MIT License
 *
 * auth-url's pure helpers (declared in auth_url.h): the URL, the
 * X-SSE-User name and the app's reason. Apart from the HTTP client so the
 * configuration (and sse-publish, which reads it) can check an auth-url
 * value without linking libevent's HTTP code.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_url.h"

static int
auth_url_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '-';
}

int
auth_url_user_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > AUTH_URL_USER_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!auth_url_char_ok((unsigned char)s[i]))
			return 0;
	return 1;
}

void
auth_url_reason(const char *body, size_t len, const char *fallback,
    char *out, size_t outlen)
{
	size_t	i, n = 0, max = outlen - 1;

	if (outlen == 0)
		return;
	if (max > AUTH_URL_REASON_MAX)
		max = AUTH_URL_REASON_MAX;
	/* Leading blank lines and spaces are no reason. */
	while (len > 0 && isspace((unsigned char)*body)) {
		body++;
		len--;
	}
	if (len == 0 && fallback != NULL) {
		body = fallback;
		len = strlen(fallback);
	}
	for (i = 0; i < len && n < max; i++) {
		if (body[i] == '\r' || body[i] == '\n')
			break;
		out[n++] = (body[i] >= ' ' && body[i] <= '~') ? body[i] : '?';
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

int
auth_url_parse(const char *url, struct auth_url_target *t, char *err,
    size_t errlen)
{
	const char	*p, *h, *hend;
	unsigned long	 port = 80;
	size_t		 i;

	memset(t, 0, sizeof *t);
	if (strlen(url) >= AUTH_URL_MAX) {
		snprintf(err, errlen, "longer than %d bytes", AUTH_URL_MAX - 1);
		return -1;
	}
	for (i = 0; url[i] != '\0'; i++)
		if ((unsigned char)url[i] <= ' ' || (unsigned char)url[i] > '~') {
			snprintf(err, errlen, "spaces, control or non-ASCII "
			    "bytes in the URL");
			return -1;
		}
	if (strncasecmp(url, "https://", 8) == 0) {
		snprintf(err, errlen, "https is not supported: ask the "
		    "application over http (http://127.0.0.1/auth.php)");
		return -1;
	}
	if (strncasecmp(url, "http://", 7) != 0) {
		snprintf(err, errlen, "expected http://HOST[:PORT]/PATH");
		return -1;
	}
	h = url + 7;
	if (*h == '[') {
		if ((hend = strchr(h, ']')) == NULL) {
			snprintf(err, errlen, "unterminated [IPv6 address]");
			return -1;
		}
		p = hend + 1;
		h++;
		for (i = 0; h + i < hend; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' &&
			    h[i] != '.')
				break;
		if (h + i != hend) {
			snprintf(err, errlen, "bad IPv6 address");
			return -1;
		}
	} else {
		for (hend = h; *hend != '\0' && (isalnum((unsigned char)*hend)
		    || *hend == '.' || *hend == '-'); hend++)
			;
		p = hend;
	}
	if (hend == h || (size_t)(hend - h) >= sizeof t->host) {
		snprintf(err, errlen, "missing or bad host (letters, digits, "
		    "'.' and '-', or [IPv6])");
		return -1;
	}
	memcpy(t->host, h, (size_t)(hend - h));
	t->host[hend - h] = '\0';
	if (*p == ':') {
		p++;
		if (!isdigit((unsigned char)*p)) {
			snprintf(err, errlen, "bad port");
			return -1;
		}
		for (port = 0; isdigit((unsigned char)*p); p++)
			if ((port = port * 10 + (unsigned long)(*p - '0')) >
			    65535)
				break;
		if (port == 0 || port > 65535) {
			snprintf(err, errlen, "port out of range (1..65535)");
			return -1;
		}
	}
	if (*p != '/') {
		snprintf(err, errlen, "expected a path after the host "
		    "(http://HOST[:PORT]/PATH)");
		return -1;
	}
	if (strchr(p, '#') != NULL) {
		snprintf(err, errlen, "a fragment (#) has no place here");
		return -1;
	}
	t->port = (unsigned)port;
	snprintf(t->path, sizeof t->path, "%s", p);
	return 0;
}
