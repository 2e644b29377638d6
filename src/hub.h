/* sse-fcgi - MIT License
 *
 * The hub: which local subscribers listen to which channel, and fan-out.
 * A published message is framed once (sse.c) and the same frame is handed
 * to every subscriber of its channel. The hub knows nothing of FastCGI or
 * Redis: subscribers are opaque owners with a deliver callback, and the
 * hub reports a channel's first subscriber and its last leaving through
 * callbacks (the Redis broker subscribes and unsubscribes there).
 *
 * The hub also knows which channels Redis has confirmed: a channel is
 * born waiting, hub_channel_ready() marks it ready and tells each of its
 * subscribers (only that channel's), and hub_channels_lost() makes every
 * channel wait again when the subscription connection is lost. A channel
 * is either ready or waiting with all its subscribers, so a confirmation
 * costs the subscribers it concerns and nothing else.
 * Event-loop thread only.
 */
#ifndef SSE_HUB_H
#define SSE_HUB_H

#include <stddef.h>

struct event_id;
struct frame;
struct hub;
struct hub_channel;

/* One message as it arrived: raw (no id, no name) or from the publish
 * script (id and maybe an event name). */
struct hub_msg {
	const struct event_id	*id;		/* NULL for a raw message */
	const char		*id_text;	/* NULL for a raw message */
	const char		*event;		/* NULL or "" for none */
	const char		*data;
	size_t			 len;
};

struct hub_sub;

/* The kinds of subscriber, each sent its own frame of an event. */
#define HUB_PLAIN	0	/* the event as published */
#define HUB_TAGGED	1	/* its name carries the channel (hub_frame) */
#define HUB_TAGGED_OPEN	2	/* tagged, with no id and no end: the
				   subscriber ends it with its own id line
				   (a cluster's streams of several channels) */
#define HUB_KINDS	3

/* What a subscriber is told. Both callbacks may unsubscribe their own
 * owner's subscriptions, nothing else. */
struct hub_sub_ops {
	/* One message on SUB's channel, with a borrowed frame of SUB's
	 * kind (take a reference to keep it). ID is the message's id or
	 * NULL. */
	void	(*deliver)(void *owner, struct hub_sub *sub, struct frame *f,
		    const struct event_id *id);
	/* Redis confirmed SUB's channel, which was waiting when SUB
	 * subscribed (or was lost since). */
	void	(*ready)(void *owner, struct hub_sub *sub);
	/* SUB's channel, which was ready, waits again: its subscription
	 * lapsed alone (hub_channel_lost), so messages may have been
	 * missed. May be NULL. */
	void	(*lost)(void *owner, struct hub_sub *sub);
};

/* One subscriber's place on a channel. The subscriber owns the storage
 * (a stream embeds its first one), so subscribing allocates nothing; the
 * fields are the hub's. */
struct hub_sub {
	struct hub_sub		*prev, *next;
	struct hub_channel	*chan;		/* NULL once unsubscribed */
	const struct hub_sub_ops *ops;
	void			*owner;
	int			 tagged;	/* HUB_PLAIN, ... */
};

/* First subscriber arrived / last one left CHANNEL (borrowed). */
typedef void (*hub_channel_fn)(void *arg, const char *channel, size_t len);

/* Returns a new hub; ON_FIRST and ON_LAST may be NULL. */
struct hub	*hub_create(hub_channel_fn on_first, hub_channel_fn on_last,
		    void *arg);
/* Frees the hub. All subscriptions must be gone. NULL is ignored. */
void		 hub_free(struct hub *);
/* Subscribes OWNER to CHANNEL (copied) in the caller's SUB, which must
 * stay in place until hub_unsubscribe(), as a subscriber of kind TAGGED
 * (HUB_PLAIN, HUB_TAGGED for streams of several channels: their frames'
 * event name carries the channel, see hub_frame; HUB_TAGGED_OPEN). Returns 1 if the channel is ready, else 0: OPS->ready is
 * called for SUB once it is. */
int		 hub_subscribe(struct hub *, struct hub_sub *sub,
		    const char *channel, size_t len, int tagged,
		    const struct hub_sub_ops *ops, void *owner);
/* Tells whether SUB is subscribed (zeroed storage is not). */
static inline int
hub_sub_active(const struct hub_sub *sub)
{
	return sub->chan != NULL;
}
/* Tells whether SUB's channel is ready (SUB must be subscribed). */
int		 hub_sub_ready(const struct hub_sub *sub);
/* Redis confirmed CHANNEL: if it was waiting, it is ready now and each of
 * its subscribers is told (OPS->ready). Unknown channels are ignored. */
void		 hub_channel_ready(struct hub *, const char *channel,
		    size_t len);
/* CHANNEL's subscription lapsed (a cluster's shard was lost, or the
 * channel's slot moved): if it was ready, it waits again and each of its
 * subscribers is told (OPS->lost). Unknown channels are ignored. */
void		 hub_channel_lost(struct hub *, const char *channel,
		    size_t len);
/* The subscription connection was lost: every channel waits again. */
void		 hub_channels_lost(struct hub *);
/* Returns SUB's channel name (NUL-terminated) and its length in *LEN. */
const char	*hub_sub_channel(const struct hub_sub *sub, size_t *len);
/* Ends a subscription; SUB's storage is the caller's again. */
void		 hub_unsubscribe(struct hub *, struct hub_sub *sub);
/* Frames M once (once more for tagged subscribers, if any) and delivers
 * it to every subscriber of CHANNEL. Returns the number of deliveries. */
size_t		 hub_publish(struct hub *, const char *channel, size_t len,
		    const struct hub_msg *m);
/* Returns a new frame for M on CHANNEL for subscribers of KIND: plain,
 * the event as published; tagged, the event name is "<channel>" or
 * "<channel>/<event>"; tagged open, that without the id line and the
 * blank line that ends the event. */
struct frame	*hub_frame(const char *channel, size_t len, int kind,
		    const struct hub_msg *m);
/* Returns the number of channels with at least one subscriber. */
size_t		 hub_channel_count(const struct hub *);
/* Returns the number of subscribers of CHANNEL. */
size_t		 hub_subscriber_count(const struct hub *, const char *channel,
		    size_t len);
/* Called with each channel (borrowed) and its subscriber count. */
typedef void (*hub_each_fn)(void *arg, const char *channel, size_t len,
    size_t nsubs);
/* Calls FN for every channel; FN must not subscribe or unsubscribe. */
void		 hub_foreach_channel(const struct hub *, hub_each_fn fn,
		    void *arg);
/* Returns the messages received and the deliveries made so far. */
void		 hub_counters(const struct hub *, unsigned long long *messages,
		    unsigned long long *deliveries);

#endif
