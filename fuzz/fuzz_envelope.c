/* sse-fcgi - MIT License
 *
 * libFuzzer target for the announce format (envelope.h): the input is a
 * Pub/Sub message as it arrives from Redis, parsed by envelope_parse() and
 * framed the way worker.c and the hub do it, for a plain and for a tagged
 * (multi-channel) subscriber. The parse must stay inside the message, an
 * enveloped event must carry a valid id and a safe name, and both frames
 * must pass sse_check_event().
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "event_id.h"
#include "frame.h"
#include "hub.h"
#include "sse.h"
#include "sse_check.h"

#define FUZZ_CHANNEL	"user.42"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Frames M as the hub does for CHANNEL and checks the bytes. */
static void
fuzz_frame(const struct hub_msg *m, int tagged)
{
	struct frame	*f;
	const char	*event = m->event != NULL && m->event[0] != '\0' ?
			    m->event : NULL;
	char		 name[sizeof FUZZ_CHANNEL + 256];

	f = hub_frame(FUZZ_CHANNEL, strlen(FUZZ_CHANNEL), tagged, m);
	if (tagged) {
		/* The event name is "<channel>" or "<channel>/<event>". */
		strcpy(name, FUZZ_CHANNEL);
		if (event != NULL) {
			strcat(name, "/");
			strcat(name, event);
		}
		event = name;
	}
	sse_check_event(f->data, f->len, m->id_text, event, m->data, m->len);
	frame_unref(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct envelope	 env;
	struct event_id	 id;
	struct hub_msg	 m;
	const char	*msg;
	char		*copy;
	size_t		 n;

	/* An exact-size copy, so ASan sees any read past the message. */
	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(copy, in, size);
	msg = copy;

	memset(&m, 0, sizeof m);
	switch (envelope_parse(msg, size, &env)) {
	case ENVELOPE_BAD:
	case ENVELOPE_RAW:
		if (env.data != msg || env.len != size)
			sse_check_fail("raw message not delivered whole");
		m.data = msg;
		m.len = size;
		break;
	case ENVELOPE_EVENT:
		n = strnlen(env.id_text, sizeof env.id_text);
		if (!env.has_id || n == sizeof env.id_text ||
		    event_id_parse(env.id_text, n, &id) != 0 ||
		    event_id_cmp(&id, &env.id) != 0)
			sse_check_fail("event with a bad id");
		if (strnlen(env.event, sizeof env.event) == sizeof env.event ||
		    !sse_field_ok(env.event, strlen(env.event)))
			sse_check_fail("event with an unsafe name");
		if (env.data < msg || env.data + env.len != msg + size)
			sse_check_fail("event data outside the message");
		m.id = &env.id;
		m.id_text = env.id_text;
		m.event = env.event;
		m.data = env.data;
		m.len = env.len;
		break;
	default:
		sse_check_fail("unknown envelope kind");
	}
	fuzz_frame(&m, 0);
	fuzz_frame(&m, 1);
	free(copy);
	return 0;
}
