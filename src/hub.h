/* sse-fcgi - MIT License
 *
 * The hub: which local subscribers listen to which channel, and fan-out.
 * A published message is framed once (sse.c) and the same frame is handed
 * to every subscriber of its channel. The hub knows nothing of FastCGI or
 * Redis: subscribers are opaque owners with a deliver callback, and the
 * hub reports a channel's first subscriber and its last leaving through
 * callbacks (the Redis broker subscribes and unsubscribes there).
 * Event-loop thread only.
 */
#ifndef SSE_HUB_H
#define SSE_HUB_H

#include <stddef.h>

struct frame;
struct hub;
struct hub_sub;

/* Called with a borrowed frame; take a reference to keep it. A deliver
 * callback may unsubscribe its own owner's subscriptions, nothing else. */
typedef void (*hub_deliver_fn)(void *owner, struct frame *f);
/* First subscriber arrived / last one left CHANNEL (borrowed). */
typedef void (*hub_channel_fn)(void *arg, const char *channel, size_t len);

/* Returns a new hub; ON_FIRST and ON_LAST may be NULL. */
struct hub	*hub_create(hub_channel_fn on_first, hub_channel_fn on_last,
		    void *arg);
/* Frees the hub. All subscriptions must be gone. NULL is ignored. */
void		 hub_free(struct hub *);
/* Subscribes OWNER to CHANNEL (copied). Returns the subscription, valid
 * until hub_unsubscribe(). */
struct hub_sub	*hub_subscribe(struct hub *, const char *channel, size_t len,
		    hub_deliver_fn deliver, void *owner);
/* Ends a subscription; SUB is invalid afterwards. */
void		 hub_unsubscribe(struct hub *, struct hub_sub *sub);
/* Frames the message once and delivers it to every subscriber of CHANNEL.
 * ID and EVENT may be NULL. Returns the number of deliveries. */
size_t		 hub_publish(struct hub *, const char *channel, size_t len,
		    const char *id, const char *event, const char *data,
		    size_t dlen);
/* Delivers an already framed F to every subscriber of CHANNEL. */
size_t		 hub_deliver(struct hub *, const char *channel, size_t len,
		    struct frame *f);
/* Returns the number of channels with at least one subscriber. */
size_t		 hub_channel_count(const struct hub *);
/* Returns the number of subscribers of CHANNEL. */
size_t		 hub_subscriber_count(const struct hub *, const char *channel,
		    size_t len);
/* Returns the messages received and the deliveries made so far. */
void		 hub_counters(const struct hub *, unsigned long long *messages,
		    unsigned long long *deliveries);

#endif
