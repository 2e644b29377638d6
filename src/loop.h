/* sse-fcgi - MIT License
 *
 * The event loop: a thin wrapper over one libevent event_base, plus a
 * thread-safe way for other threads (the FastCGI acceptor) to run a
 * function on the loop thread. Modules that own fds or timers use the
 * event_base directly through loop_base().
 */
#ifndef SSE_LOOP_H
#define SSE_LOOP_H

#include <stddef.h>

struct event_base;
struct loop;

typedef void (*loop_fn)(void *arg);

/* Returns a new loop, or NULL with a reason in ERR. */
struct loop		*loop_create(char *err, size_t errlen);
/* Frees the loop. Posted calls not yet run are dropped (their ARG leaks
 * unless the caller drained them). NULL is ignored. */
void			 loop_free(struct loop *);
/* Returns the libevent base (borrowed). */
struct event_base	*loop_base(struct loop *);
/* Runs until loop_exit(); returns 0, or -1 on a libevent error. */
int			 loop_run(struct loop *);
/* Makes loop_run() return after the current callbacks. */
void			 loop_exit(struct loop *);
/* Runs FN(ARG) on the loop thread soon, in posting order. Any thread. */
void			 loop_post(struct loop *, loop_fn fn, void *arg);

#endif
