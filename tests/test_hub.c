/* sse-fcgi - MIT License
 *
 * Hub: first/last callbacks, one frame shared by every subscriber, and a
 * subscriber that leaves from inside its own delivery.
 */
#include "config.h"

#include <string.h>

#include "frame.h"
#include "event_id.h"
#include "hub.h"
#include "testlib.h"

struct owner {
	struct hub	*hub;
	struct hub_sub	*sub;
	struct hub_sub	 storage;
	struct frame	*last;
	int		 got;
	int		 leave_on_delivery;
};

static int firsts, lasts;
static char last_first[64];

static void
on_first(void *arg, const char *c, size_t len)
{
	firsts++;
	memcpy(last_first, c, len);
	last_first[len] = '\0';
}

static void
on_last(void *arg, const char *c, size_t len)
{
	lasts++;
}

static void
deliver(void *arg, struct frame *f, const struct event_id *id)
{
	struct owner	*o = arg;

	o->got++;
	frame_unref(o->last);
	o->last = frame_ref(f);
	if (o->leave_on_delivery) {
		hub_unsubscribe(o->hub, o->sub);
		o->sub = NULL;
	}
}

int
main(void)
{
	struct hub		*h;
	struct owner		 o[3];
	unsigned long long	 msgs, dels;
	struct event_id		 id = { 5, 7 };
	struct hub_msg		 raw = { NULL, NULL, NULL, "x", 1 };
	struct hub_msg		 named = { &id, "5-7", "progress", "y", 1 };
	const char		*want_named =
	    "id: 5-7\nevent: task.7/progress\ndata: y\n\n";
	const char		*want_plain =
	    "id: 5-7\nevent: progress\ndata: y\n\n";
	struct frame		*f;
	int			 i;

	memset(o, 0, sizeof o);
	h = hub_create(on_first, on_last, NULL);
	for (i = 0; i < 3; i++) {
		o[i].hub = h;
		o[i].sub = &o[i].storage;
		hub_subscribe(h, o[i].sub, "project.123", 11, i == 2,
		    deliver, &o[i]);
	}
	test_cond("first once", firsts == 1 &&
	    strcmp(last_first, "project.123") == 0);
	test_cond("counts", hub_channel_count(h) == 1 &&
	    hub_subscriber_count(h, "project.123", 11) == 3);
	test_cond("publish reaches 3", hub_publish(h, "project.123", 11, &raw) == 3);
	test_cond("same frame for the untagged", o[0].last == o[1].last);
	test_cond("untagged frame is the payload alone",
	    o[0].last->len == 9 && memcmp(o[0].last->data, "data: x\n\n", 9) == 0);
	test_cond("tagged frame names the channel", o[2].last->len == 28 &&
	    memcmp(o[2].last->data, "event: project.123\ndata: x\n\n", 28) == 0);
	test_cond("other channel reaches 0", hub_publish(h, "user.1", 6, &raw) == 0);
	f = hub_frame("task.7", 6, 1, &named);
	test_cond("tagged named event", f->len == strlen(want_named) &&
	    memcmp(f->data, want_named, f->len) == 0);
	frame_unref(f);
	f = hub_frame("task.7", 6, 0, &named);
	test_cond("untagged named event", f->len == strlen(want_plain) &&
	    memcmp(f->data, want_plain, f->len) == 0);
	frame_unref(f);

	/* Everyone leaves during one fan-out: the channel survives the walk
	 * and is released after it, with one on_last. */
	for (i = 0; i < 3; i++)
		o[i].leave_on_delivery = 1;
	test_cond("publish while leaving",
	    hub_publish(h, "project.123", 11, &named) == 3);
	test_cond("last once", lasts == 1 && hub_channel_count(h) == 0);
	hub_counters(h, &msgs, &dels);
	test_cond("counters", msgs == 3 && dels == 6);

	/* Subscribe again after the channel went away. */
	o[0].leave_on_delivery = 0;
	o[0].sub = &o[0].storage;
	hub_subscribe(h, o[0].sub, "project.123", 11, 0, deliver, &o[0]);
	test_cond("first again", firsts == 2);
	test_cond("subscribed storage is active", hub_sub_active(o[0].sub));
	hub_unsubscribe(h, o[0].sub);
	test_cond("last again", lasts == 2);
	test_cond("storage inactive after leaving", !hub_sub_active(o[0].sub));
	for (i = 0; i < 3; i++)
		frame_unref(o[i].last);
	hub_free(h);
	hub_free(NULL);
	return test_report("test_hub");
}
