/* sse-fcgi - MIT License
 *
 * FastCGI records: header and END_REQUEST bytes, and the post-handoff
 * reader fed byte by byte and in bulk.
 */
#include "config.h"

#include <string.h>

#include "fcgi_proto.h"
#include "testlib.h"

static size_t
record(unsigned char *out, int type, int id, size_t clen, int pad)
{
	out[0] = 1;
	out[1] = (unsigned char)type;
	out[2] = (unsigned char)(id >> 8);
	out[3] = (unsigned char)id;
	out[4] = (unsigned char)(clen >> 8);
	out[5] = (unsigned char)clen;
	out[6] = (unsigned char)pad;
	out[7] = 0;
	memset(out + 8, 'z', clen + pad);
	return 8 + clen + pad;
}

int
main(void)
{
	char		 h[8], end[FCGI_PROTO_END_LEN];
	unsigned char	 in[2000];
	struct fcgi_in	 st;
	size_t		 n = 0, i;
	enum fcgi_in_event ev = FCGI_IN_MORE;

	fcgi_proto_header(h, FCGI_PROTO_STDOUT, 0x1234, 65535);
	test_cond("header", memcmp(h, "\1\6\x12\x34\xff\xff\0\0", 8) == 0);
	fcgi_proto_end(end, 1, 0);
	test_cond("end", memcmp(end, "\1\6\0\1\0\0\0\0" "\1\3\0\1\0\x08\0\0"
	    "\0\0\0\0\0\0\0\0", 24) == 0);

	/* STDIN records and a foreign ABORT are skipped; ours aborts. */
	n += record(in + n, FCGI_PROTO_STDIN, 1, 300, 4);
	n += record(in + n, FCGI_PROTO_STDIN, 1, 0, 0);
	n += record(in + n, FCGI_PROTO_ABORT_REQUEST, 2, 0, 0);
	n += record(in + n, FCGI_PROTO_PARAMS, 1, 1000, 7);
	n += record(in + n, FCGI_PROTO_ABORT_REQUEST, 1, 0, 0);
	memset(&st, 0, sizeof st);
	test_cond("bulk abort", fcgi_in_feed(&st, in, n, 1) == FCGI_IN_ABORT);
	memset(&st, 0, sizeof st);
	for (i = 0; i < n; i++) {
		ev = fcgi_in_feed(&st, in + i, 1, 1);
		if (ev != FCGI_IN_MORE)
			break;
	}
	test_cond("byte-wise abort at the last byte",
	    ev == FCGI_IN_ABORT && i == n - 1);
	memset(&st, 0, sizeof st);
	test_cond("other request only", fcgi_in_feed(&st, in, n - 8, 1) ==
	    FCGI_IN_MORE);
	memset(&st, 0, sizeof st);
	test_cond("garbage", fcgi_in_feed(&st, "GET / HTTP/1.1\r\n", 16, 1) ==
	    FCGI_IN_ERROR);
	return test_report("test_fcgi_proto");
}
