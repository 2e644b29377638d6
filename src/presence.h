/* sse-fcgi - MIT License
 *
 * Presence: who is watching a channel, summed over every worker sharing
 * the Redis. For channels matching a presence pattern each worker keeps
 * its own streams' count and user names, and mirrors them in Redis, under
 * the history prefix P, for the worker ID "<hostname>:<pid>":
 *   P presence:CHANNEL          sorted set: ID -> expiry (unix ms)
 *   P presence:CHANNEL/ID       hash: "n" -> streams, "u:NAME" -> streams
 *                               of user NAME ('/' never occurs in a
 *                               channel name, so the keys cannot meet)
 * The worker is the only writer of its hash and writes absolute values,
 * so a lost write is repaired by the next one. A heartbeat every third of
 * presence-ttl refreshes both expiries (and rewrites a hash Redis lost);
 * a worker killed -9 drops out of every reader's sum once its score is
 * past, within presence-ttl, and its hash expires with it.
 *
 * Redis cost: a join is one HSET (the first stream of a channel on a
 * worker: DEL, HSET, EXPIRE, ZADD, EXPIRE); a leave is one HSET, plus an
 * HDEL when a user's last stream leaves (the last stream of the channel
 * on the worker: DEL and ZREM). Each is O(1) and under 100 bytes plus the
 * names. Changes are announced with at most one PUBLISH per channel, worker
 * and second on P presence/notice (a name no stream can subscribe to),
 * carrying the channel name.
 *
 * On a Redis Cluster (presence_create_cluster) the channel is the keys'
 * hash tag, so a channel's keys share its slot and the read script (one
 * slot) runs at the channel's master:
 *   P presence:{CHANNEL}        the sorted set
 *   P presence:{CHANNEL}/ID     the hash
 * Every command goes through the worker's cluster client to that slot;
 * what one Redis pipelines becomes separate commands there (absolute
 * values: the next heartbeat repairs a lost one). Notices go with
 * SPUBLISH to a sharded channel per presence channel,
 *   P presence/notice{CHANNEL}
 * (same slot), carrying the channel name; a worker watches it (the watch
 * callback: the broker) from its first stream of the channel to its
 * last, so a notice reaches only the workers that read the sum.
 *
 * The sse-presence event: a worker with streams on a presence channel
 * reads the sum (one EVALSHA of a small script, O(workers + users)) when a
 * notice for it arrives and at each heartbeat, at most once a second per
 * channel, and hands the JSON
 *   {"channel":"...","subscribers":N,"users":["alice",...]}
 * to the channel's streams as event sse-presence when it differs from the
 * last one it sent (or a stream joined since). Users are listed sorted,
 * at most PRESENCE_USERS_MAX of them. Event-loop thread only, except the
 * functions marked "any thread".
 */
#ifndef SSE_PRESENCE_H
#define SSE_PRESENCE_H

#include <stddef.h>

struct event_base;
struct hub;
struct cluster_async;
struct presence;
struct redisContext;
struct redisReply;

#define PRESENCE_USER_MAX	200	/* bytes in a user name */
#define PRESENCE_USERS_MAX	1000	/* names listed in the JSON */
#define PRESENCE_KEY		"presence:"
#define PRESENCE_NOTICE		"presence/notice"
#define PRESENCE_EVENT		"sse-presence"
#define PRESENCE_CLUSTER_MS	2000	/* a cluster command's deadline */
#define PRESENCE_STOP_MS	1000	/* a cluster's removal at exit */

/* Returns presence for the space-separated globs PATTERNS (borrowed; NULL
 * or "" matches nothing) over the Redis at URL, keys under PREFIX, entries
 * living TTL seconds past the last heartbeat; events go to HUB's streams
 * when EVENTS is set. Returns NULL with a reason in ERR. Nothing is
 * written until presence_start(). */
struct presence	*presence_create(struct event_base *base,
		    const char *url, const char *prefix, const char *patterns,
		    unsigned ttl, struct hub *hub, int events, char *err,
		    size_t errlen);
/* The same for a Redis Cluster, through CA (the caller's; it outlives
 * presence: freed after presence_free()). */
struct presence	*presence_create_cluster(struct event_base *base,
		    struct cluster_async *ca, const char *prefix,
		    const char *patterns, unsigned ttl, struct hub *hub,
		    int events);
/* Cluster: FN(ARG, NOTICE, LEN, ON) asks for the notice channel NOTICE
 * (borrowed) to be watched (ON 1: the first local stream of its presence
 * channel joined) or no longer (ON 0: the last left); never without
 * EVENTS, as nothing would read on a notice. */
typedef void	(*presence_watch_fn)(void *arg, const char *notice,
		    size_t len, int on);
void		 presence_on_watch(struct presence *p, presence_watch_fn fn,
		    void *arg);
/* Frees P (without removing its entries: see presence_stop). NULL is
 * ignored. */
void		 presence_free(struct presence *p);
/* Connects and starts the heartbeat. */
void		 presence_start(struct presence *p);
/* Removes this worker's entries now (best effort) and writes no more:
 * for a graceful stop. Joins and leaves are still counted. */
void		 presence_stop(struct presence *p);
/* Runs FN(ARG) once the removal presence_stop() sent has been answered
 * or has failed: at once, from here, with one Redis (written at once) or
 * when nothing is out; in a cluster PRESENCE_STOP_MS at most. */
void		 presence_when_removed(struct presence *p, void (*fn)(void *),
		    void *arg);
/* A stream of USER (NULL or "": anonymous; borrowed) joined CHANNEL /
 * left it. Channels that match no pattern are ignored. */
void		 presence_join(struct presence *p, const char *channel,
		    size_t len, const char *user);
void		 presence_leave(struct presence *p, const char *channel,
		    size_t len, const char *user);
/* The Pub/Sub channel the notices go to (valid while P lives); NULL in a
 * cluster, where each presence channel has its own (presence_on_watch). */
const char	*presence_notice_channel(const struct presence *p,
		    size_t *len);
/* Returns 1 if CHANNEL carries P's notices (one Redis: the global notice
 * channel; a cluster: any channel presence_is_cluster_notice() takes). */
int		 presence_is_notice(const struct presence *p,
		    const char *channel, size_t len);
/* A notice arrived with PAYLOAD (a channel name; borrowed). */
void		 presence_on_notice(struct presence *p, const char *payload,
		    size_t len);

/* One read of a channel's sum for a request the loop answers (the
 * endpoint, when auth-url authorizes the channel). FN gets the JSON
 * (borrowed), or NULL with a reason; it is called once, unless the read
 * is cancelled first. */
typedef void	(*presence_query_fn)(void *arg, const char *json,
		    const char *err);
struct presence_query;
/* Starts the read of CHANNEL. Returns a handle, or NULL with a reason in
 * ERR (not connected). */
struct presence_query *presence_query(struct presence *p,
		    const char *channel, size_t len, presence_query_fn fn,
		    void *arg, char *err, size_t errlen);
/* FN will not be called for Q any more. NULL is ignored. */
void		 presence_query_cancel(struct presence_query *q);

/* Returns 1 if CHANNEL matches one of the space-separated globs PATTERNS
 * (may be NULL). Any thread. */
int		 presence_patterns_match(const char *patterns,
		    const char *channel, size_t len);
/* Returns 1 if the LEN bytes at S may name a user: 1..PRESENCE_USER_MAX
 * bytes of UTF-8 without control characters. Any thread. */
int		 presence_user_valid(const char *s, size_t len);
/* Turns the reply R of the presence script into the JSON document for
 * CHANNEL in *JSON (caller frees). Returns 0, or -1 with a reason in ERR
 * for a reply of the wrong shape. Any thread. */
int		 presence_reply_json(const struct redisReply *r,
		    const char *channel, size_t len, char **json, char *err,
		    size_t errlen);
/* Returns "PREFIX presence:CHANNEL", or with CLUSTER set
 * "PREFIX presence:{CHANNEL}" (the sorted set; the hashes add "/ID"), in
 * a new string. Any thread. */
char		*presence_key(const char *prefix, const char *channel,
		    size_t len, int cluster);
/* Returns "PREFIX presence/notice{CHANNEL}", a cluster's notice channel
 * for CHANNEL, in a new string. Any thread. */
char		*presence_cluster_notice(const char *prefix,
		    const char *channel, size_t len);
/* Returns 1 if the LEN bytes at NAME are a cluster notice channel under
 * PREFIX: "PREFIX presence/notice{", a channel name, "}". Any thread. */
int		 presence_is_cluster_notice(const char *prefix,
		    const char *name, size_t len);
/* A blocking command to the master of SLOT (the endpoint's way to the
 * cluster): the reply (caller frees), or NULL with a reason in ERR. */
typedef struct redisReply *(*presence_cmd_fn)(void *arg, unsigned slot,
		    int argc, const char **argv, const size_t *argl, char *err,
		    size_t errlen);
/* Reads CHANNEL's presence on a cluster through CMD (ARG for it), keys
 * under PREFIX, into *JSON (caller frees). Returns 0, or -1 with a reason
 * in ERR. Any thread. */
int		 presence_read_cluster(presence_cmd_fn cmd, void *arg,
		    const char *prefix, const char *channel, size_t len,
		    char **json, char *err, size_t errlen);
/* Reads CHANNEL's presence through the blocking context C (keys under
 * PREFIX) into *JSON (caller frees). Returns 0, or -1 with a reason in
 * ERR (C->err set when the connection failed). Any thread. */
int		 presence_read_sync(struct redisContext *c,
		    const char *prefix, const char *channel, size_t len,
		    char **json, char *err, size_t errlen);

#endif
