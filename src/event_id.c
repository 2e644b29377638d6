/* sse-fcgi - MIT License
 *
 * Event id parsing and ordering (see event_id.h).
 */
#include "config.h"

#include <stdio.h>

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
