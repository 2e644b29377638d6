/* sse-fcgi - MIT License
 *
 * One non-blocking Redis connection set up on an event loop: connect to an
 * address (numeric IP and port, or a unix socket), send a fixed pipeline of
 * commands, hand each reply to a checker, and finish when the last reply
 * passed, with one deadline over the whole exchange. Nothing blocks: the
 * caller's loop drives it. The sentinel query (sentinel.h) and the
 * handshake with the master (redis_conn.h) are both such exchanges.
 * Event-loop thread only.
 */
#ifndef SSE_REDIS_DIAL_H
#define SSE_REDIS_DIAL_H

#include <stddef.h>

struct event_base;
struct redis_dial;
struct redisContext;
struct redisReply;

/* Checks reply N (from 0; borrowed for the call). Returns 0 to go on, or
 * -1 with a reason in WHY to fail the exchange. */
typedef int (*redis_dial_check_fn)(void *arg, size_t n,
    const struct redisReply *r, char *why, size_t whylen);
/* The end of the exchange, exactly once: C connected, non-blocking, with
 * every reply read (the callee owns it: redisFree), or NULL and WHY
 * (borrowed). The dial is freed right after FN returns: FN must forget it
 * and must not cancel it. */
typedef void (*redis_dial_done_fn)(void *arg, struct redisContext *c,
    const char *why);

/* Where to connect: PATH (a unix socket) when not NULL, else IP:PORT. */
struct redis_dial_addr {
	const char	*ip;
	int		 port;
	const char	*path;
};

/* Starts connecting to ADDR and sends the LEN bytes of CMDS (commands in
 * RESP, copied), expecting NREPLIES replies within TIMEOUT_MS. Returns
 * the dial, or NULL with a reason in ERR (FN then never runs). */
struct redis_dial *redis_dial_start(struct event_base *base,
		    const struct redis_dial_addr *addr, const char *cmds,
		    size_t len, size_t nreplies, unsigned timeout_ms,
		    redis_dial_check_fn check, redis_dial_done_fn done,
		    void *arg, char *err, size_t errlen);
/* Drops a dial before its end: FN will not run. NULL is ignored. */
void		 redis_dial_cancel(struct redis_dial *);

#endif
