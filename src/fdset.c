/* sse-fcgi - MIT License
 *
 * One epoll set for many sockets, watched by one libevent event (see
 * fdset.h). A pass runs when the set's own fd is readable: it takes up to
 * FDSET_BATCH ready members and calls back for each one still a member.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <event2/event.h>

#include "fdset.h"
#include "xmalloc.h"

/* Ready members taken per pass: enough to amortize the wake-up, few
 * enough that timers and Redis are not kept waiting behind a storm. */
#define FDSET_BATCH	256

struct fdset {
	int			 epfd;
	struct event		*ev;
	fdset_fn		 fn;
	/* The pass under way: members removed meanwhile are cleared from
	 * it, so their callbacks never run. */
	struct epoll_event	 batch[FDSET_BATCH];
	int			 nbatch;
	int			 next;
};

static void
fdset_on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct fdset		*set = arg;
	struct epoll_event	*e;
	int			 n, ready;

	n = epoll_wait(set->epfd, set->batch, FDSET_BATCH, 0);
	if (n <= 0)
		return;
	set->nbatch = n;
	for (set->next = 0; set->next < set->nbatch; set->next++) {
		e = &set->batch[set->next];
		if (e->data.ptr == NULL)
			continue;	/* removed earlier in this pass */
		/* A hang-up or an error is for the reader to find: a
		 * write to a closed peer would only add EPIPE. */
		ready = 0;
		if (e->events & (EPOLLIN|EPOLLRDHUP|EPOLLHUP|EPOLLERR))
			ready |= FDSET_READ;
		if (e->events & EPOLLOUT)
			ready |= FDSET_WRITE;
		set->fn(e->data.ptr, ready);
	}
	set->nbatch = 0;
}

struct fdset *
fdset_new(struct event_base *base, fdset_fn fn, char *err, size_t errlen)
{
	struct fdset	*set;

	set = xcalloc(1, sizeof *set);
	set->fn = fn;
	set->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (set->epfd == -1) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		free(set);
		return NULL;
	}
	set->ev = event_new(base, set->epfd, EV_READ|EV_PERSIST,
	    fdset_on_ready, set);
	if (set->ev == NULL || event_add(set->ev, NULL) == -1) {
		snprintf(err, errlen, "cannot watch the epoll set");
		fdset_free(set);
		return NULL;
	}
	return set;
}

void
fdset_free(struct fdset *set)
{
	if (set == NULL)
		return;
	if (set->ev != NULL)
		event_free(set->ev);
	close(set->epfd);
	free(set);
}

static int
fdset_ctl(struct fdset *set, int op, int fd, int writing, void *arg)
{
	struct epoll_event	e;

	memset(&e, 0, sizeof e);
	e.events = EPOLLIN | (writing ? EPOLLOUT : 0);
	e.data.ptr = arg;
	return epoll_ctl(set->epfd, op, fd, &e);
}

int
fdset_add(struct fdset *set, int fd, int writing, void *arg)
{
	return fdset_ctl(set, EPOLL_CTL_ADD, fd, writing, arg);
}

int
fdset_watch(struct fdset *set, int fd, int writing, void *arg)
{
	return fdset_ctl(set, EPOLL_CTL_MOD, fd, writing, arg);
}

void
fdset_del(struct fdset *set, int fd, void *arg)
{
	struct epoll_event	e;	/* kernels before 2.6.9 wanted one */
	int			i;

	memset(&e, 0, sizeof e);
	(void)epoll_ctl(set->epfd, EPOLL_CTL_DEL, fd, &e);
	for (i = set->next + 1; i < set->nbatch; i++)
		if (set->batch[i].data.ptr == arg)
			set->batch[i].data.ptr = NULL;
}
