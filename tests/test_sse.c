/* sse-fcgi - MIT License
 *
 * SSE framer: table of payloads and the exact bytes they frame to, plus a
 * round trip through a small EventSource-style parser for hostile input.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "sse.h"
#include "testlib.h"

struct framing_case {
	const char	*id, *event, *data;
	size_t		 len;
	const char	*want;
};

#define S(x)	x, sizeof(x) - 1

static const struct framing_case cases[] = {
	{ NULL, NULL, S("hello"), "data: hello\n\n" },
	{ NULL, NULL, S(""), "data: \n\n" },
	{ NULL, NULL, S("a\nb"), "data: a\ndata: b\n\n" },
	{ NULL, NULL, S("a\rb"), "data: a\ndata: b\n\n" },
	{ NULL, NULL, S("a\r\nb"), "data: a\ndata: b\n\n" },
	{ NULL, NULL, S("a\n\nb"), "data: a\ndata: \ndata: b\n\n" },
	{ NULL, NULL, S("a\n"), "data: a\ndata: \n\n" },
	{ NULL, NULL, S("\r\n\r"), "data: \ndata: \ndata: \n\n" },
	{ NULL, NULL, S("data: x\nid: 9\n\nevent: e"),
	  "data: data: x\ndata: id: 9\ndata: \ndata: event: e\n\n" },
	{ NULL, NULL, S(": not a comment"), "data: : not a comment\n\n" },
	{ "7", NULL, S("x"), "id: 7\ndata: x\n\n" },
	{ "1-0", "progress", S("{\"p\":1}"),
	  "id: 1-0\nevent: progress\ndata: {\"p\":1}\n\n" },
	{ NULL, "ping", S(" lead"), "event: ping\ndata:  lead\n\n" },
};

/* A minimal EventSource parser: returns the data of the single event in
 * BUF (joined with LF), or NULL if BUF is not exactly one event. */
static char *
parse_one(const char *buf, size_t len, size_t *outlen)
{
	char	*out = malloc(len + 1);
	size_t	 i = 0, n = 0, start;
	int	 events = 0, have = 0;

	while (i < len) {
		start = i;
		while (i < len && buf[i] != '\n' && buf[i] != '\r')
			i++;
		if (i == start) {		/* blank line: dispatch */
			if (have)
				events++;
			have = 0;
		} else if (i - start >= 5 && memcmp(buf + start, "data:", 5) == 0) {
			size_t	 s = start + 5;

			if (s < i && buf[s] == ' ')
				s++;
			if (have)
				out[n++] = '\n';
			memcpy(out + n, buf + s, i - s);
			n += i - s;
			have = 1;
		}
		if (i < len && buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
			i++;
		i++;
	}
	if (events != 1) {
		free(out);
		return NULL;
	}
	*outlen = n;
	return out;
}

int
main(void)
{
	struct frame	*f;
	size_t		 i, n, j;
	char		*back, bin[512];

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct framing_case *c = &cases[i];

		f = sse_frame_event(c->id, c->event, c->data, c->len);
		test_cond(c->want, f->len == strlen(c->want) &&
		    memcmp(f->data, c->want, f->len) == 0);
		test_cond("length matches", sse_event_len(c->id, c->event,
		    c->data, c->len) == f->len);
		frame_unref(f);
	}

	/* Round trip: LF-only payloads come back byte-identical, as one
	 * event, whatever they contain (NUL, field names, colons). */
	for (j = 0; j < 200; j++) {
		n = (j * 7) % sizeof bin;
		for (i = 0; i < n; i++) {
			static const char alphabet[] = "ab\n:d\0ata:id: \x01\xff";
			bin[i] = alphabet[(i * 31 + j * 17) %
			    (sizeof alphabet - 1)];
		}
		f = sse_frame_event(NULL, NULL, bin, n);
		back = parse_one(f->data, f->len, &i);
		test_cond("round trip is one event", back != NULL);
		if (back != NULL)
			test_cond("round trip is identical",
			    i == n && memcmp(back, bin, n) == 0);
		free(back);
		frame_unref(f);
	}

	f = sse_frame_comment("keepalive");
	test_cond("comment", f->len == 13 &&
	    memcmp(f->data, ": keepalive\n\n", 13) == 0);
	frame_unref(f);

	test_cond("field ok", sse_field_ok("abc-1", 5));
	test_cond("field CR", !sse_field_ok("a\rb", 3));
	test_cond("field LF", !sse_field_ok("a\nb", 3));
	test_cond("field NUL", !sse_field_ok("a\0b", 3));

	f = frame_from("xy", 2);
	test_cond("ref", frame_ref(f) == f && f->refs == 2);
	frame_unref(f);
	frame_unref(f);
	frame_unref(NULL);
	return test_report("test_sse");
}
