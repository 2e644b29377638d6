/* sse-fcgi - MIT License
 *
 * Hub: first/last callbacks, one frame shared by every subscriber, a
 * subscriber that leaves from inside its own delivery, and readiness: a
 * confirmation reaches its own channel's subscribers only, once. The
 * event log: a channel's frames of one kind chain in publish order, the
 * two kinds apart, and a freed channel or frame leaves no dangling link.
 */
#include "config.h"

#include <stdio.h>
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
	int		 readies;
	int		 leave_on_ready;
	int		 losses;
	int		 leave_on_lost;
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
deliver(void *arg, struct hub_sub *sub, struct frame *f,
    const struct event_id *id)
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

static void
ready(void *arg, struct hub_sub *sub)
{
	struct owner	*o = arg;

	o->readies++;
	if (o->leave_on_ready) {
		hub_unsubscribe(o->hub, sub);
		o->sub = NULL;
	}
}

static void
lost(void *arg, struct hub_sub *sub)
{
	struct owner	*o = arg;

	o->losses++;
	if (o->leave_on_lost) {
		hub_unsubscribe(o->hub, sub);
		o->sub = NULL;
	}
}

static const struct hub_sub_ops ops = { deliver, ready, lost };

/* One channel lost alone (a cluster's shard): it waits again and tells
 * its own subscribers, once; the others stay ready; a subscriber may
 * leave when told, and the last one leaving frees the channel. */
static void
test_lost(void)
{
	struct owner	 o[3];
	struct hub	*h;
	int		 i;

	memset(o, 0, sizeof o);
	lasts = 0;
	h = hub_create(NULL, on_last, NULL);
	for (i = 0; i < 3; i++) {
		o[i].hub = h;
		o[i].sub = &o[i].storage;
	}
	hub_subscribe(h, o[0].sub, "user.1", 6, 0, &ops, &o[0]);
	hub_subscribe(h, o[1].sub, "user.1", 6, 0, &ops, &o[1]);
	hub_subscribe(h, o[2].sub, "user.2", 6, 0, &ops, &o[2]);
	hub_channel_lost(h, "user.1", 6);
	test_cond("a channel not ready yet is not lost", o[0].losses == 0 &&
	    o[1].losses == 0);
	hub_channel_ready(h, "user.1", 6);
	hub_channel_ready(h, "user.2", 6);
	hub_channel_lost(h, "user.1", 6);
	test_cond("a lost channel tells each of its subscribers once",
	    o[0].losses == 1 && o[1].losses == 1);
	test_cond("and waits again", !hub_sub_ready(o[0].sub) &&
	    !hub_sub_ready(o[1].sub));
	test_cond("another channel stays ready and is not told",
	    hub_sub_ready(o[2].sub) && o[2].losses == 0);
	hub_channel_lost(h, "user.1", 6);
	hub_channel_lost(h, "nobody", 6);
	test_cond("lost again while waiting, or unknown: nobody told",
	    o[0].losses == 1 && o[1].losses == 1 && o[2].losses == 0);
	hub_channel_ready(h, "user.1", 6);
	test_cond("confirmed again: ready, each told",
	    hub_sub_ready(o[0].sub) && o[0].readies == 2 &&
	    o[1].readies == 2);
	o[0].leave_on_lost = o[1].leave_on_lost = 1;
	hub_channel_lost(h, "user.1", 6);
	test_cond("every subscriber may leave when told; the channel goes",
	    o[0].sub == NULL && o[1].sub == NULL && lasts == 1 &&
	    hub_channel_count(h) == 1);
	hub_unsubscribe(h, o[2].sub);
	hub_free(h);
}

/* Readiness per channel: born waiting, ready once confirmed, waiting
 * again after the connection is lost. */
static void
test_ready(void)
{
	enum { NCHAN = 10000 };
	static struct owner	 many[NCHAN];
	struct owner		 o[4];
	struct hub		*h;
	char			 name[32];
	int			 i, n, total;

	memset(o, 0, sizeof o);
	h = hub_create(NULL, NULL, NULL);
	for (i = 0; i < 4; i++) {
		o[i].hub = h;
		o[i].sub = &o[i].storage;
	}
	test_cond("a new channel waits", hub_subscribe(h, o[0].sub,
	    "user.1", 6, 0, &ops, &o[0]) == 0 && !hub_sub_ready(o[0].sub));
	test_cond("its second subscriber waits too", hub_subscribe(h,
	    o[1].sub, "user.1", 6, 0, &ops, &o[1]) == 0);
	hub_subscribe(h, o[2].sub, "user.2", 6, 0, &ops, &o[2]);
	hub_channel_ready(h, "user.1", 6);
	test_cond("the confirmation reaches its channel's subscribers",
	    o[0].readies == 1 && o[1].readies == 1 &&
	    hub_sub_ready(o[0].sub));
	test_cond("and no other channel's", o[2].readies == 0 &&
	    !hub_sub_ready(o[2].sub));
	hub_channel_ready(h, "user.1", 6);
	test_cond("a second confirmation tells nobody",
	    o[0].readies == 1 && o[1].readies == 1);
	hub_channel_ready(h, "nobody", 6);
	test_cond("an unknown channel is ignored", hub_channel_count(h) == 2);
	test_cond("a subscriber of a ready channel is ready at once",
	    hub_subscribe(h, o[3].sub, "user.1", 6, 0, &ops, &o[3]) == 1);
	hub_channels_lost(h);
	test_cond("after a loss every channel waits",
	    !hub_sub_ready(o[0].sub) && !hub_sub_ready(o[2].sub));
	o[1].leave_on_ready = 1;
	hub_channel_ready(h, "user.1", 6);
	test_cond("confirmed again: each subscriber told once more",
	    o[0].readies == 2 && o[1].readies == 2 && o[3].readies == 1);
	test_cond("a subscriber may leave when told", o[1].sub == NULL &&
	    hub_subscriber_count(h, "user.1", 6) == 2);
	hub_unsubscribe(h, o[0].sub);
	hub_unsubscribe(h, o[3].sub);
	o[2].leave_on_ready = 1;
	hub_channel_ready(h, "user.2", 6);
	test_cond("the last one leaving when told frees the channel",
	    o[2].readies == 1 && hub_channel_count(h) == 0);

	/* One subscriber on each of NCHAN channels, each confirmed: NCHAN
	 * calls in all, not one per waiting subscriber per confirmation. */
	for (i = 0; i < NCHAN; i++) {
		many[i].hub = h;
		many[i].sub = &many[i].storage;
		n = snprintf(name, sizeof name, "user.%d", i);
		hub_subscribe(h, many[i].sub, name, (size_t)n, 0, &ops,
		    &many[i]);
	}
	for (i = 0; i < NCHAN; i++) {
		n = snprintf(name, sizeof name, "user.%d", i);
		hub_channel_ready(h, name, (size_t)n);
	}
	for (i = 0, total = 0; i < NCHAN; i++)
		total += many[i].readies;
	test_cond("one call per confirmed subscriber", total == NCHAN);
	for (i = 0; i < NCHAN; i++)
		hub_unsubscribe(h, many[i].sub);
	hub_free(h);
}

/* Frames kept by a subscriber that holds every one it is given. */
struct keeper {
	struct frame	*f[8];
	int		 n;
	struct hub_sub	*sub;		/* of the last delivery */
};

static void
keep(void *arg, struct hub_sub *sub, struct frame *f,
    const struct event_id *id)
{
	struct keeper	*k = arg;

	k->sub = sub;
	if (k->n < 8)
		k->f[k->n++] = frame_ref(f);
}

static const struct hub_sub_ops keep_ops = { keep, ready, NULL };

/* The three kinds on one channel: each its own frame; the open kind has
 * no id and no end, and the subscriber is named in each delivery. */
static void
test_kinds(void)
{
	struct hub		*h;
	struct hub_sub		 sp, st, so;
	struct keeper		 k[3];
	struct event_id		 id = { 5, 7 };
	struct hub_msg		 m = { &id, "5-7", "progress", "y", 1 };
	static const char	*open_want = "event: task.7/progress\ndata: y\n";
	static const char	*tagged_want =
	    "id: 5-7\nevent: task.7/progress\ndata: y\n\n";
	int			 i;

	memset(k, 0, sizeof k);
	h = hub_create(NULL, NULL, NULL);
	hub_subscribe(h, &sp, "task.7", 6, HUB_PLAIN, &keep_ops, &k[0]);
	hub_subscribe(h, &st, "task.7", 6, HUB_TAGGED, &keep_ops, &k[1]);
	hub_subscribe(h, &so, "task.7", 6, HUB_TAGGED_OPEN, &keep_ops, &k[2]);
	test_cond("kinds: one delivery each", hub_publish(h, "task.7", 6,
	    &m) == 3 && k[0].n == 1 && k[1].n == 1 && k[2].n == 1);
	test_cond("kinds: each told its own sub", k[0].sub == &sp &&
	    k[1].sub == &st && k[2].sub == &so);
	test_cond("kinds: tagged as before", k[1].f[0]->len ==
	    strlen(tagged_want) && memcmp(k[1].f[0]->data, tagged_want,
	    k[1].f[0]->len) == 0);
	test_cond("kinds: open has no id and no end", k[2].f[0]->len ==
	    strlen(open_want) && memcmp(k[2].f[0]->data, open_want,
	    k[2].f[0]->len) == 0);
	test_cond("kinds: three frames", k[0].f[0] != k[1].f[0] &&
	    k[1].f[0] != k[2].f[0]);
	hub_unsubscribe(h, &so);
	hub_publish(h, "task.7", 6, &m);
	test_cond("kinds: no open frame once its kind left", k[2].n == 1 &&
	    k[0].n == 2 && k[1].n == 2);
	hub_unsubscribe(h, &sp);
	hub_unsubscribe(h, &st);
	for (i = 0; i < 3; i++)
		while (k[i].n > 0)
			frame_unref(k[i].f[--k[i].n]);
	hub_free(h);
}

static void
test_chain(void)
{
	struct hub		*h;
	struct hub_sub		 sp, st, sq;
	struct keeper		 plain = { { NULL }, 0, NULL };
	struct keeper		 tagged = { { NULL }, 0, NULL };
	struct owner		 o;
	struct hub_msg		 m = { NULL, NULL, NULL, "x", 1 };
	int			 i;

	h = hub_create(NULL, NULL, NULL);
	hub_subscribe(h, &sp, "c", 1, 0, &keep_ops, &plain);
	hub_subscribe(h, &st, "c", 1, 1, &keep_ops, &tagged);
	for (i = 0; i < 3; i++)
		hub_publish(h, "c", 1, &m);
	test_cond("plain frames chain in order",
	    plain.f[0]->next == plain.f[1] && plain.f[1]->next == plain.f[2] &&
	    plain.f[2]->next == NULL);
	test_cond("tagged frames chain apart",
	    tagged.f[0]->next == tagged.f[1] && tagged.f[1]->next ==
	    tagged.f[2] && tagged.f[0] != plain.f[0]);
	test_cond("a link is a reference", plain.f[1]->refs == 2 &&
	    plain.f[0]->refs == 1);
	test_cond("the newest is the channel's weak tail",
	    plain.f[2]->weak != NULL && plain.f[1]->weak == NULL &&
	    tagged.f[2]->weak != NULL);
	/* Nobody kept the newest: freed at once, the tail forgotten, and
	 * the next event starts a new log. */
	memset(&o, 0, sizeof o);
	hub_unsubscribe(h, &st);
	hub_unsubscribe(h, &sp);
	test_cond("a freed channel unlinks its tails",
	    plain.f[2]->weak == NULL && tagged.f[2]->weak == NULL);
	o.hub = h;
	o.sub = &o.storage;
	hub_subscribe(h, &sq, "d", 1, 0, &ops, &o);
	hub_publish(h, "d", 1, &m);
	frame_unref(o.last);	/* the only holder: tail cleared by free */
	o.last = NULL;
	hub_publish(h, "d", 1, &m);
	test_cond("after a freed tail the log restarts",
	    o.last != NULL && o.last->refs == 1 && o.last->weak != NULL);
	hub_unsubscribe(h, &sq);
	frame_unref(o.last);
	for (i = 0; i < 3; i++) {
		frame_unref(plain.f[i]);
		frame_unref(tagged.f[i]);
	}
	hub_free(h);
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
		    &ops, &o[i]);
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
	hub_subscribe(h, o[0].sub, "project.123", 11, 0, &ops, &o[0]);
	test_cond("first again", firsts == 2);
	test_cond("subscribed storage is active", hub_sub_active(o[0].sub));
	hub_unsubscribe(h, o[0].sub);
	test_cond("last again", lasts == 2);
	test_cond("storage inactive after leaving", !hub_sub_active(o[0].sub));
	for (i = 0; i < 3; i++)
		frame_unref(o[i].last);
	hub_free(h);
	hub_free(NULL);
	test_ready();
	test_lost();
	test_chain();
	test_kinds();
	return test_report("test_hub");
}
