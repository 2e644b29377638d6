/* sse-fcgi - MIT License
 *
 * Envelope parsing (see envelope.h).
 */
#include "config.h"

#include <string.h>

#include "envelope.h"
#include "sse.h"

#define ENVELOPE_MAGIC		"\0sse1\0"
#define ENVELOPE_MAGIC_LEN	6

enum envelope_kind
envelope_parse(const char *msg, size_t len, struct envelope *out)
{
	const char	*p, *end = msg + len, *nul;
	size_t		 n;

	memset(out, 0, offsetof(struct envelope, data));
	out->data = msg;
	out->len = len;
	if (len < ENVELOPE_MAGIC_LEN ||
	    memcmp(msg, ENVELOPE_MAGIC, ENVELOPE_MAGIC_LEN) != 0)
		return ENVELOPE_RAW;
	p = msg + ENVELOPE_MAGIC_LEN;
	if ((nul = memchr(p, '\0', (size_t)(end - p))) == NULL)
		return ENVELOPE_BAD;
	n = (size_t)(nul - p);
	if (n >= sizeof out->id_text || event_id_parse(p, n, &out->id) == -1)
		return ENVELOPE_BAD;
	memcpy(out->id_text, p, n);
	out->id_text[n] = '\0';
	out->has_id = 1;
	p = nul + 1;
	if (p > end || (nul = memchr(p, '\0', (size_t)(end - p))) == NULL)
		return ENVELOPE_BAD;
	n = (size_t)(nul - p);
	if (n >= sizeof out->event || !sse_field_ok(p, n))
		return ENVELOPE_BAD;
	memcpy(out->event, p, n);
	out->event[n] = '\0';
	out->data = nul + 1;
	out->len = (size_t)(end - out->data);
	return ENVELOPE_EVENT;
}
