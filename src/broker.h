/* sse-fcgi - MIT License
 *
 * The Redis broker: the worker's one SUBSCRIBE connection, shared by all
 * of its streams (with a Redis Cluster: one SSUBSCRIBE connection per
 * master that serves a watched channel). The hub tells it when a channel gets its first local
 * subscriber (broker_watch) and loses its last (broker_unwatch); it sends
 * SUBSCRIBE/UNSUBSCRIBE accordingly and hands every message to a callback.
 * When the connection is lost it reconnects with exponential backoff
 * (100 ms doubling to 5 s) and subscribes again to every watched channel.
 *
 * The connection is driven by hand on the event loop with hiredis's
 * non-blocking context and reply reader, not hiredis's async layer: in
 * hiredis 0.14 that layer aborts when a SUBSCRIBE reply arrives right after
 * an UNSUBSCRIBE reply that dropped the count to zero, which ordinary
 * subscriber churn produces. Here a per-channel state machine keeps at most
 * one SUBSCRIBE or UNSUBSCRIBE in flight per channel.
 *
 * Event-loop thread only, except broker_is_up(), broker_was_up() and
 * broker_down_ms(), which any thread may call.
 */
#ifndef SSE_BROKER_H
#define SSE_BROKER_H

#include <stddef.h>
#include <stdint.h>

struct broker;
struct cluster_async;
struct event_base;

/* A message on CHANNEL; both buffers are borrowed for the call. */
typedef void (*broker_message_fn)(void *arg, const char *channel,
    size_t clen, const char *payload, size_t plen);

/* Returns a broker for the Redis at URL (see redis_url.h), not yet
 * connected, or NULL with a reason in ERR (bad URL, unknown host). */
struct broker	*broker_create(struct event_base *base, const char *url,
		    broker_message_fn on_message, void *arg, char *err,
		    size_t errlen);
/* Returns a broker for the Redis Cluster CA (borrowed; it must outlive
 * the broker): a subscriber connection to each master that serves one of
 * the watched channels, SSUBSCRIBE there, the channels moved when the map
 * changes (cluster_async.h). */
struct broker	*broker_create_cluster(struct event_base *base,
		    struct cluster_async *ca, broker_message_fn on_message,
		    void *arg);
/* Closes the connection and frees the broker. NULL is ignored. */
void		 broker_free(struct broker *);
/* Starts connecting (and keeps reconnecting until broker_free). */
void		 broker_start(struct broker *);
/* Wants CHANNEL subscribed / no longer subscribed. */
void		 broker_watch(struct broker *, const char *channel, size_t len);
void		 broker_unwatch(struct broker *, const char *channel,
		    size_t len);
/* Called when Redis confirms the subscription to CHANNEL (borrowed): from
 * then on every message published to it reaches the hub. */
typedef void (*broker_ready_fn)(void *arg, const char *channel, size_t len);

/* Called when the connection is back after a loss, before the channels
 * are subscribed again: messages published meanwhile were missed. */
typedef void (*broker_reconnect_fn)(void *arg);

/* Called when an established connection is lost: no subscription holds
 * until the channels are confirmed again. */
typedef void (*broker_down_fn)(void *arg);

/* Cluster only: CHANNEL's subscription lapsed (its master was lost or
 * changed, or stopped serving its slot): messages published to it may be
 * missed until it is confirmed again (on_ready). One Redis reports its
 * loss as a whole instead (on_down, on_reconnect). */
typedef void (*broker_lost_fn)(void *arg, const char *channel, size_t len);

/* Set the callbacks (ARG as for on_message). */
void		 broker_on_ready(struct broker *, broker_ready_fn fn);
void		 broker_on_down(struct broker *, broker_down_fn fn);
void		 broker_on_reconnect(struct broker *, broker_reconnect_fn fn);
void		 broker_on_lost(struct broker *, broker_lost_fn fn);
/* Returns 1 if Redis has confirmed the subscription to CHANNEL. */
int		 broker_channel_ready(const struct broker *, const char *channel,
		    size_t len);
/* Returns 1 while the connection is established and authenticated. */
int		 broker_is_up(const struct broker *);
/* Returns 1 once the broker has been up at least once. Any thread. */
int		 broker_was_up(const struct broker *);
/* Returns how long, in ms, Redis has been unreachable (since the
 * connection was lost, or since the broker was created if it never came
 * up); 0 while up. Any thread. */
uint64_t	 broker_down_ms(const struct broker *);
/* Returns how many times the connection was re-established. */
unsigned long	 broker_reconnects(const struct broker *);

#endif
