/* sse-fcgi - MIT License
 *
 * Channel table and fan-out (see hub.h). Each channel keeps an intrusive
 * doubly linked list of subscriptions, so subscribe and unsubscribe are
 * O(1) and fan-out walks the list once. During fan-out the channel is
 * pinned: if its last subscriber leaves from inside a deliver callback,
 * the channel is freed only after the walk. Each channel's frames form
 * its event log (frame.h): a stream behind on it queues a run, not a
 * slot per event.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "frame.h"
#include "hub.h"
#include "sse.h"
#include "xmalloc.h"

struct hub_channel {
	const char	*name;		/* the dict's copy of the key */
	size_t		 len;
	struct hub_sub	*head;
	size_t		 nsubs;
	size_t		 nkind[HUB_KINDS];	/* of nsubs, each kind */
	unsigned	 pinned;	/* fan-outs in progress */
	int		 ready;		/* Redis confirmed it */
	struct frame	*tail[HUB_KINDS]; /* the newest event of each kind:
					   weak (frame.h), NULL once freed */
};

struct hub {
	struct dict		*channels;
	hub_channel_fn		 on_first, on_last;
	void			*arg;
	unsigned long long	 messages, deliveries;
};

struct hub *
hub_create(hub_channel_fn on_first, hub_channel_fn on_last, void *arg)
{
	struct hub	*h;

	h = xcalloc(1, sizeof *h);
	h->channels = dict_create();
	h->on_first = on_first;
	h->on_last = on_last;
	h->arg = arg;
	return h;
}

/* Frees C; the frames still queued outlive it, so they forget it. */
static void
hub_channel_free(struct hub_channel *c)
{
	int	k;

	for (k = 0; k < HUB_KINDS; k++)
		frame_unchain(&c->tail[k]);
	free(c);
}

static void
hub_free_channel(const char *key, size_t klen, void *val, void *arg)
{
	hub_channel_free(val);
}

void
hub_free(struct hub *h)
{
	if (h == NULL)
		return;
	dict_foreach(h->channels, hub_free_channel, NULL);
	dict_free(h->channels);
	free(h);
}

int
hub_subscribe(struct hub *h, struct hub_sub *s, const char *channel,
    size_t len, int tagged, const struct hub_sub_ops *ops, void *owner)
{
	struct hub_channel	*c;

	c = dict_get(h->channels, channel, len);
	if (c == NULL) {
		c = xcalloc(1, sizeof *c);
		c->name = dict_put(h->channels, channel, len, c);
		c->len = len;
	}
	s->prev = NULL;
	s->next = c->head;
	if (c->head != NULL)
		c->head->prev = s;
	c->head = s;
	s->chan = c;
	s->ops = ops;
	s->owner = owner;
	s->tagged = tagged;
	c->nkind[tagged]++;
	if (c->nsubs++ == 0 && h->on_first != NULL)
		h->on_first(h->arg, c->name, c->len);
	return c->ready;
}

int
hub_sub_ready(const struct hub_sub *s)
{
	return s->chan->ready;
}

const char *
hub_sub_channel(const struct hub_sub *s, size_t *len)
{
	*len = s->chan->len;
	return s->chan->name;
}

/* Frees an empty, unpinned channel and tells the broker. */
static void
hub_release_channel(struct hub *h, struct hub_channel *c)
{
	if (c->nsubs > 0 || c->pinned > 0)
		return;
	if (h->on_last != NULL)
		h->on_last(h->arg, c->name, c->len);
	dict_del(h->channels, c->name, c->len);
	hub_channel_free(c);
}

void
hub_unsubscribe(struct hub *h, struct hub_sub *s)
{
	struct hub_channel	*c = s->chan;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		c->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	c->nkind[s->tagged]--;
	s->chan = NULL;
	s->prev = s->next = NULL;
	c->nsubs--;
	hub_release_channel(h, c);
}

void
hub_channel_ready(struct hub *h, const char *channel, size_t len)
{
	struct hub_channel	*c;
	struct hub_sub		*s, *next;

	if ((c = dict_get(h->channels, channel, len)) == NULL || c->ready)
		return;
	c->ready = 1;
	c->pinned++;
	for (s = c->head; s != NULL; s = next) {
		next = s->next;	/* S may unsubscribe itself */
		s->ops->ready(s->owner, s);
	}
	c->pinned--;
	hub_release_channel(h, c);
}

void
hub_channel_lost(struct hub *h, const char *channel, size_t len)
{
	struct hub_channel	*c;
	struct hub_sub		*s, *next;

	if ((c = dict_get(h->channels, channel, len)) == NULL || !c->ready)
		return;
	c->ready = 0;
	c->pinned++;
	for (s = c->head; s != NULL; s = next) {
		next = s->next;	/* S may unsubscribe itself */
		if (s->ops->lost != NULL)
			s->ops->lost(s->owner, s);
	}
	c->pinned--;
	hub_release_channel(h, c);
}

static void
hub_lose_channel(const char *key, size_t klen, void *val, void *arg)
{
	struct hub_channel	*c = val;

	c->ready = 0;
}

void
hub_channels_lost(struct hub *h)
{
	dict_foreach(h->channels, hub_lose_channel, NULL);
}

struct frame *
hub_frame(const char *channel, size_t len, int kind, const struct hub_msg *m)
{
	struct frame	*f;
	const char	*event = m->event != NULL && m->event[0] != '\0' ?
			    m->event : NULL;
	char		*name;

	if (kind == HUB_PLAIN)
		return sse_frame_event(m->id_text, event, m->data, m->len);
	name = xmalloc(len + 1 + (event != NULL ? strlen(event) : 0) + 1);
	memcpy(name, channel, len);
	if (event != NULL) {
		name[len] = '/';
		strcpy(name + len + 1, event);
	} else
		name[len] = '\0';
	f = sse_frame_event(kind == HUB_TAGGED ? m->id_text : NULL, name,
	    m->data, m->len);
	free(name);
	/* Open: without the blank line that ends the event, which the
	 * subscriber's own id line brings. */
	if (kind == HUB_TAGGED_OPEN)
		f->len--;
	return f;
}

size_t
hub_publish(struct hub *h, const char *channel, size_t len,
    const struct hub_msg *m)
{
	struct hub_channel	*c;
	struct hub_sub		*s, *next;
	struct frame		*f[HUB_KINDS] = { NULL };
	size_t			 n = 0;
	int			 k;

	h->messages++;
	if ((c = dict_get(h->channels, channel, len)) == NULL)
		return 0;
	/* Framed once per kind of subscriber, shared by all of that kind. */
	for (k = 0; k < HUB_KINDS; k++) {
		if (c->nkind[k] > 0) {
			f[k] = hub_frame(channel, len, k, m);
			frame_chain(&c->tail[k], f[k]);
		} else
			frame_unchain(&c->tail[k]);
	}
	c->pinned++;
	for (s = c->head; s != NULL; s = next) {
		next = s->next;	/* S may unsubscribe itself */
		s->ops->deliver(s->owner, s, f[s->tagged], m->id);
		n++;
	}
	c->pinned--;
	hub_release_channel(h, c);
	for (k = 0; k < HUB_KINDS; k++)
		frame_unref(f[k]);
	h->deliveries += n;
	return n;
}

size_t
hub_channel_count(const struct hub *h)
{
	return dict_count(h->channels);
}

size_t
hub_subscriber_count(const struct hub *h, const char *channel, size_t len)
{
	struct hub_channel	*c;

	c = dict_get(h->channels, channel, len);
	return c != NULL ? c->nsubs : 0;
}

struct hub_each {
	hub_each_fn	 fn;
	void		*arg;
};

static void
hub_each_channel(const char *key, size_t klen, void *val, void *arg)
{
	struct hub_each		*e = arg;
	struct hub_channel	*c = val;

	e->fn(e->arg, c->name, c->len, c->nsubs);
}

void
hub_foreach_channel(const struct hub *h, hub_each_fn fn, void *arg)
{
	struct hub_each	e = { fn, arg };

	dict_foreach(h->channels, hub_each_channel, &e);
}

void
hub_counters(const struct hub *h, unsigned long long *messages,
    unsigned long long *deliveries)
{
	*messages = h->messages;
	*deliveries = h->deliveries;
}
