/* sse-fcgi - MIT License
 *
 * The FastCGI record layer the stream writer needs once a request has left
 * libfcgi: encoding STDOUT and END_REQUEST records, and a small incremental
 * reader that watches the web server's side of the connection for
 * ABORT_REQUEST while skipping STDIN and anything else. (Requests are
 * accepted and their params read by libfcgi; see acceptor.c.)
 */
#ifndef SSE_FCGI_PROTO_H
#define SSE_FCGI_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define FCGI_VERSION_1		1
#define FCGI_PROTO_HEADER_LEN	8
#define FCGI_PROTO_MAX_CONTENT	65535
#define FCGI_PROTO_END_LEN	24	/* empty STDOUT + END_REQUEST */

#define FCGI_PROTO_BEGIN_REQUEST	1
#define FCGI_PROTO_ABORT_REQUEST	2
#define FCGI_PROTO_END_REQUEST		3
#define FCGI_PROTO_PARAMS		4
#define FCGI_PROTO_STDIN		5
#define FCGI_PROTO_STDOUT		6

/* Writes an 8-byte record header for TYPE with CLEN content bytes and no
 * padding into OUT. Inline: the writer makes one per queued event. */
static inline void
fcgi_proto_header(char out[FCGI_PROTO_HEADER_LEN], int type,
    uint16_t request_id, uint16_t clen)
{
	out[0] = FCGI_VERSION_1;
	out[1] = (char)type;
	out[2] = (char)(request_id >> 8);
	out[3] = (char)(request_id & 0xff);
	out[4] = (char)(clen >> 8);
	out[5] = (char)(clen & 0xff);
	out[6] = 0;	/* padding length */
	out[7] = 0;	/* reserved */
}
/* Writes the end of a response into OUT: an empty STDOUT record, then
 * END_REQUEST with APP_STATUS and FCGI_REQUEST_COMPLETE. */
void	fcgi_proto_end(char out[FCGI_PROTO_END_LEN], uint16_t request_id,
	    uint32_t app_status);

enum fcgi_in_event {
	FCGI_IN_MORE = 0,	/* keep reading */
	FCGI_IN_ABORT,		/* ABORT_REQUEST for our request */
	FCGI_IN_ERROR		/* not FastCGI (bad version byte) */
};

/* Incremental record reader state; zero it to start. */
struct fcgi_in {
	uint8_t		hdr[FCGI_PROTO_HEADER_LEN];
	uint8_t		hlen;		/* header bytes collected */
	uint32_t	skip;		/* content + padding still to skip */
};

/* Consumes LEN bytes from the web server for request REQUEST_ID. */
enum fcgi_in_event fcgi_in_feed(struct fcgi_in *in, const void *buf,
		    size_t len, uint16_t request_id);

#endif
