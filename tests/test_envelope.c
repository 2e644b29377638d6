/* sse-fcgi - MIT License
 *
 * Envelopes: raw messages pass through, well-formed envelopes split into
 * id, event and data (binary-safe), broken ones are flagged.
 */
#include "config.h"

#include <string.h>

#include "envelope.h"
#include "testlib.h"

#define S(x)	x, sizeof(x) - 1

int
main(void)
{
	struct envelope	e;

	test_cond("raw json", envelope_parse(S("{\"type\":1}"), &e) ==
	    ENVELOPE_RAW && e.len == 10 && !e.has_id);
	test_cond("raw empty", envelope_parse(S(""), &e) == ENVELOPE_RAW);
	test_cond("raw starting with NUL", envelope_parse(S("\0ss"), &e) ==
	    ENVELOPE_RAW);
	test_cond("event", envelope_parse(S("\0sse1\0" "12-3\0progress\0"
	    "{\"p\":1}"), &e) == ENVELOPE_EVENT && e.has_id &&
	    e.id.ms == 12 && e.id.seq == 3 && strcmp(e.id_text, "12-3") == 0 &&
	    strcmp(e.event, "progress") == 0 && e.len == 7 &&
	    memcmp(e.data, "{\"p\":1}", 7) == 0);
	test_cond("no name, binary data", envelope_parse(S("\0sse1\0" "1-1\0\0"
	    "a\0b\nc"), &e) == ENVELOPE_EVENT && e.event[0] == '\0' &&
	    e.len == 5 && memcmp(e.data, "a\0b\nc", 5) == 0);
	test_cond("empty data", envelope_parse(S("\0sse1\0" "1-1\0e\0"), &e) ==
	    ENVELOPE_EVENT && e.len == 0);
	test_cond("bad id", envelope_parse(S("\0sse1\0" "x-1\0\0d"), &e) ==
	    ENVELOPE_BAD);
	test_cond("no id end", envelope_parse(S("\0sse1\0" "1-1"), &e) ==
	    ENVELOPE_BAD);
	test_cond("no event end", envelope_parse(S("\0sse1\0" "1-1\0ev"), &e) ==
	    ENVELOPE_BAD);
	test_cond("event with LF", envelope_parse(S("\0sse1\0" "1-1\0a\nb\0d"),
	    &e) == ENVELOPE_BAD);
	test_cond("event with CR", envelope_parse(S("\0sse1\0" "1-1\0a\rb\0d"),
	    &e) == ENVELOPE_BAD);
	test_cond("event with CRLF", envelope_parse(S("\0sse1\0" "1-1\0"
	    "a\r\nid: 9\0d"), &e) == ENVELOPE_BAD);
	test_cond("id with CR", envelope_parse(S("\0sse1\0" "1-1\r\0\0d"),
	    &e) == ENVELOPE_BAD);
	test_cond("id with LF and a field", envelope_parse(S("\0sse1\0"
	    "1-1\nevent: x\0\0d"), &e) == ENVELOPE_BAD);
	test_cond("empty id", envelope_parse(S("\0sse1\0" "\0\0d"), &e) ==
	    ENVELOPE_BAD);
	test_cond("event of 256 bytes", envelope_parse(S("\0sse1\0" "1-1\0"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "\0d"), &e) == ENVELOPE_BAD);
	test_cond("data keeps CR, LF, NUL and fields", envelope_parse(S(
	    "\0sse1\0" "1-1\0e\0a\r\nid: 2\0\nevent: x"), &e) ==
	    ENVELOPE_EVENT && e.len == 18 && memcmp(e.data,
	    "a\r\nid: 2\0\nevent: x", 18) == 0);
	return test_report("test_envelope");
}
