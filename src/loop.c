/* sse-fcgi - MIT License
 *
 * Event loop wrapper and cross-thread posting (see loop.h). Posted calls
 * go on a mutex-protected FIFO; an eventfd wakes the loop, which drains
 * the whole FIFO per wake-up, so a burst of new streams costs one wake.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "loop.h"
#include "xmalloc.h"

struct loop_call {
	struct loop_call	*next;
	loop_fn			 fn;
	void			*arg;
};

struct loop {
	struct event_base	*base;
	struct event		*wake_ev;
	int			 wake_fd;
	pthread_mutex_t		 lock;
	struct loop_call	*head, *tail;	/* posted, not yet run */
};

static void
loop_on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct loop		*l = arg;
	struct loop_call	*c, *next;
	uint64_t		 v;

	(void)!read(fd, &v, sizeof v);
	pthread_mutex_lock(&l->lock);
	c = l->head;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->lock);
	for (; c != NULL; c = next) {
		next = c->next;
		c->fn(c->arg);
		free(c);
	}
}

struct loop *
loop_create(char *err, size_t errlen)
{
	struct loop	*l;

	l = xcalloc(1, sizeof *l);
	l->wake_fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	if ((l->base = event_base_new()) == NULL) {
		snprintf(err, errlen, "event_base_new failed");
		goto fail;
	}
	l->wake_fd = eventfd(0, EFD_NONBLOCK|EFD_CLOEXEC);
	if (l->wake_fd == -1) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	l->wake_ev = event_new(l->base, l->wake_fd, EV_READ|EV_PERSIST,
	    loop_on_wake, l);
	if (l->wake_ev == NULL || event_add(l->wake_ev, NULL) == -1) {
		snprintf(err, errlen, "cannot watch the wake-up fd");
		goto fail;
	}
	return l;
fail:
	loop_free(l);
	return NULL;
}

void
loop_free(struct loop *l)
{
	struct loop_call	*c, *next;

	if (l == NULL)
		return;
	for (c = l->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	if (l->wake_ev != NULL)
		event_free(l->wake_ev);
	if (l->wake_fd != -1)
		close(l->wake_fd);
	if (l->base != NULL)
		event_base_free(l->base);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

struct event_base *
loop_base(struct loop *l)
{
	return l->base;
}

int
loop_run(struct loop *l)
{
	return event_base_dispatch(l->base) == -1 ? -1 : 0;
}

void
loop_exit(struct loop *l)
{
	event_base_loopbreak(l->base);
}

void
loop_post(struct loop *l, loop_fn fn, void *arg)
{
	struct loop_call	*c;
	uint64_t		 one = 1;
	int			 wake;

	c = xmalloc(sizeof *c);
	c->next = NULL;
	c->fn = fn;
	c->arg = arg;
	pthread_mutex_lock(&l->lock);
	wake = l->head == NULL;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	pthread_mutex_unlock(&l->lock);
	if (wake)
		(void)!write(l->wake_fd, &one, sizeof one);
}
