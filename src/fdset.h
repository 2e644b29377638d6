/* sse-fcgi - MIT License
 *
 * Readiness of many sockets through one epoll set that the event loop
 * watches as a single fd. A libevent event per socket costs about 170
 * bytes (its struct event and the base's per-fd entry); a stream only
 * needs "readable" (the web server closed or aborted) and, while its
 * queue waits, "writable", so the set keeps nothing per socket in user
 * space but the caller's pointer, stored in the kernel's entry.
 *
 * Level-triggered, like EV_PERSIST: a socket that stays ready is
 * reported again on the next pass. Each pass takes at most a bounded
 * batch, so one busy set cannot starve the loop's other events. A socket
 * removed during a pass is not reported later in that pass, so a
 * callback may remove (and its owner free) any member.
 *
 * The set belongs to the thread of the event_base it was made on; the
 * caller owns the sockets and their pointers.
 */
#ifndef SSE_FDSET_H
#define SSE_FDSET_H

#include <stddef.h>

struct event_base;
struct fdset;

#define FDSET_READ	0x01	/* data, end of file, error or hang-up */
#define FDSET_WRITE	0x02	/* room to write */

/* A member is READY for FDSET_READ and/or FDSET_WRITE; ARG is its own. */
typedef void (*fdset_fn)(void *arg, int ready);

/* Returns a set whose members' readiness calls FN on BASE's loop, or NULL
 * with a reason in ERR. */
struct fdset	*fdset_new(struct event_base *base, fdset_fn fn, char *err,
		    size_t errlen);
/* Frees the set; its members' fds stay open. NULL is ignored. */
void		 fdset_free(struct fdset *);

/* Adds FD, watched for reading, and for writing too when WRITING;
 * FN gets ARG. Returns 0, or -1 with errno set. */
int		 fdset_add(struct fdset *, int fd, int writing, void *arg);
/* Watches FD (a member) for reading, and for writing when WRITING.
 * Returns 0, or -1 with errno set. */
int		 fdset_watch(struct fdset *, int fd, int writing, void *arg);
/* Removes FD (a member; call before closing it): no callback for it or
 * its ARG runs after this, not even later in the current pass. */
void		 fdset_del(struct fdset *, int fd, void *arg);

#endif
