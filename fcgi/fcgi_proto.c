/* sse-fcgi - MIT License
 *
 * FastCGI record encoding and the post-handoff reader (see fcgi_proto.h).
 */
#include "config.h"

#include <string.h>

#include "fcgi_proto.h"

#define FCGI_REQUEST_COMPLETE	0

void
fcgi_proto_end(char out[FCGI_PROTO_END_LEN], uint16_t request_id,
    uint32_t app_status)
{
	fcgi_proto_header(out, FCGI_PROTO_STDOUT, request_id, 0);
	fcgi_proto_header(out + 8, FCGI_PROTO_END_REQUEST, request_id, 8);
	out[16] = (char)(app_status >> 24);
	out[17] = (char)(app_status >> 16);
	out[18] = (char)(app_status >> 8);
	out[19] = (char)app_status;
	out[20] = FCGI_REQUEST_COMPLETE;
	memset(out + 21, 0, 3);
}

enum fcgi_in_event
fcgi_in_feed(struct fcgi_in *in, const void *buf, size_t len,
    uint16_t request_id)
{
	const uint8_t	*p = buf;
	size_t		 take;
	uint16_t	 rid;

	while (len > 0) {
		if (in->skip > 0) {
			take = len < in->skip ? len : in->skip;
			in->skip -= (uint32_t)take;
			p += take;
			len -= take;
			continue;
		}
		take = FCGI_PROTO_HEADER_LEN - in->hlen;
		if (take > len)
			take = len;
		memcpy(in->hdr + in->hlen, p, take);
		in->hlen += (uint8_t)take;
		p += take;
		len -= take;
		if (in->hlen < FCGI_PROTO_HEADER_LEN)
			break;
		in->hlen = 0;
		if (in->hdr[0] != FCGI_VERSION_1)
			return FCGI_IN_ERROR;
		rid = (uint16_t)(in->hdr[2] << 8 | in->hdr[3]);
		in->skip = (uint32_t)(in->hdr[4] << 8 | in->hdr[5]) +
		    in->hdr[6];
		if (in->hdr[1] == FCGI_PROTO_ABORT_REQUEST &&
		    rid == request_id)
			return FCGI_IN_ABORT;
	}
	return FCGI_IN_MORE;
}
