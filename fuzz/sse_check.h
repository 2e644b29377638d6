/* sse-fcgi - MIT License
 *
 * The invariants of one framed SSE event, shared by the fuzz targets that
 * frame (fuzz_sse, fuzz_envelope). They are what proves that no payload can
 * inject a field or end an event early: no CR anywhere, the optional "id: "
 * and "event: " lines first, then only "data: " lines, one blank line at the
 * very end, and the data lines joined by LF give back the payload with its
 * CR, LF and CRLF breaks turned into LF. Any mismatch aborts, which
 * libFuzzer reports as a crash.
 */
#ifndef SSE_FUZZ_SSE_CHECK_H
#define SSE_FUZZ_SSE_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
sse_check_fail(const char *what)
{
	fprintf(stderr, "sse_check: %s\n", what);
	abort();
}

/* Checks that BUF[0..BLEN) is exactly the event for ID and EVENT (NULL for
 * none) and DATA[0..LEN). */
static void
sse_check_event(const char *buf, size_t blen, const char *id,
    const char *event, const char *data, size_t len)
{
	const char	*p = buf, *end = buf + blen, *nl;
	char		*want, *got;
	size_t		 i, nwant = 0, ngot = 0, n, lines = 0;

	if (blen < 2 || memcmp(end - 2, "\n\n", 2) != 0)
		sse_check_fail("event does not end with a blank line");
	if (memchr(buf, '\r', blen) != NULL)
		sse_check_fail("CR in the framed event");
	if (id != NULL) {
		n = strlen(id);
		if ((size_t)(end - p) < 5 + n || memcmp(p, "id: ", 4) != 0 ||
		    memcmp(p + 4, id, n) != 0 || p[4 + n] != '\n')
			sse_check_fail("bad id line");
		p += 5 + n;
	}
	if (event != NULL) {
		n = strlen(event);
		if ((size_t)(end - p) < 8 + n || memcmp(p, "event: ", 7) != 0 ||
		    memcmp(p + 7, event, n) != 0 || p[7 + n] != '\n')
			sse_check_fail("bad event line");
		p += 8 + n;
	}

	/* The payload as EventSource must rebuild it. */
	want = malloc(len + 1);
	got = malloc(blen + 1);
	if (want == NULL || got == NULL)
		abort();
	for (i = 0; i < len; i++) {
		if (data[i] == '\r') {
			want[nwant++] = '\n';
			if (i + 1 < len && data[i + 1] == '\n')
				i++;
		} else
			want[nwant++] = data[i];
	}

	/* One or more "data: " lines, then the blank line and nothing else. */
	for (;;) {
		if ((size_t)(end - p) < 6 || memcmp(p, "data: ", 6) != 0)
			sse_check_fail("a line that is not \"data: \"");
		p += 6;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			sse_check_fail("unterminated data line");
		if (lines++ > 0)
			got[ngot++] = '\n';
		memcpy(got + ngot, p, (size_t)(nl - p));
		ngot += (size_t)(nl - p);
		p = nl + 1;
		if (p < end && *p == '\n') {
			if (p + 1 != end)
				sse_check_fail("blank line before the end");
			break;
		}
	}
	if (ngot != nwant || memcmp(got, want, ngot) != 0)
		sse_check_fail("data lines do not give back the payload");
	free(got);
	free(want);
}

#endif
