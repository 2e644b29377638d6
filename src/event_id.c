/* sse-fcgi - MIT License
 *
 * Event id parsing and ordering (see event_id.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "event_id.h"

/* Parses 1-20 digits of S[0..LEN) into *V; returns the digits used or 0. */
static size_t
event_id_number(const char *s, size_t len, uint64_t *v)
{
	size_t	i;
	unsigned d;

	*v = 0;
	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		d = (unsigned)(s[i] - '0');
		if (i == 20 || *v > (UINT64_MAX - d) / 10)
			return 0;
		*v = *v * 10 + d;
	}
	return i;
}

int
event_id_parse(const char *s, size_t len, struct event_id *out)
{
	size_t	a, b;

	a = event_id_number(s, len, &out->ms);
	if (a == 0 || a >= len || s[a] != '-')
		return -1;
	b = event_id_number(s + a + 1, len - a - 1, &out->seq);
	if (b == 0 || a + 1 + b != len)
		return -1;
	return 0;
}

int
event_id_cmp(const struct event_id *a, const struct event_id *b)
{
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	return 0;
}

size_t
event_id_format(const struct event_id *id, char *buf)
{
	return (size_t)snprintf(buf, EVENT_ID_MAX, "%llu-%llu",
	    (unsigned long long)id->ms, (unsigned long long)id->seq);
}

int
event_id_is_vec(const char *s, size_t len)
{
	return len > 0 && s[0] == '~';
}

int
event_id_vec_parse(const char *s, size_t len, struct event_id *out,
    size_t n)
{
	const char	*end = s + len, *f, *next;
	size_t		 i;

	if (!event_id_is_vec(s, len))
		return -1;
	for (i = 0, f = s + 1; i < n; i++, f = next + 1) {
		next = memchr(f, '~', (size_t)(end - f));
		if (next == NULL)
			next = end;
		if (event_id_parse(f, (size_t)(next - f), &out[i]) == -1)
			return -1;
		if (next == end)
			return i + 1 == n ? 0 : -1;
	}
	return -1;	/* more fields than channels */
}

size_t
event_id_vec_format(const struct event_id *v, size_t n, char *buf)
{
	size_t	i, len = 0;

	for (i = 0; i < n; i++) {
		buf[len++] = '~';
		len += event_id_format(&v[i], buf + len);
	}
	buf[len] = '\0';
	return len;
}
