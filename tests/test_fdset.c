/* sse-fcgi - MIT License
 *
 * Unit tests for src/fdset.c on real socket pairs and a real event_base:
 * readable and writable reports, switching the write watch on and off,
 * the end of file, a member removed by an earlier callback of the same
 * pass, the batch bound and a pass per batch, removal of a non-member.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "fdset.h"
#include "testlib.h"

#define NMANY	300

struct member {
	int		 fd, peer;
	int		 reads, writes;
	int		 drain;		/* read what is there when reported */
	struct member	*victim;	/* removed by this one's callback */
	struct fdset	*set;
};

static int	calls;

static void
on_ready(void *arg, int ready)
{
	struct member	*m = arg;
	char		 buf[64];

	calls++;
	if (ready & FDSET_READ)
		m->reads++;
	if (ready & FDSET_WRITE)
		m->writes++;
	if (m->drain)
		while (read(m->fd, buf, sizeof buf) > 0)
			;
	if (m->victim != NULL) {
		fdset_del(m->set, m->victim->fd, m->victim);
		m->victim->victim = NULL;	/* it will not run */
		m->victim = NULL;
	}
}

static void
pair(struct member *m, struct fdset *set)
{
	int	sv[2];

	memset(m, 0, sizeof *m);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		perror("socketpair");
		exit(1);
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	m->fd = sv[0];
	m->peer = sv[1];
	m->set = set;
}

/* One pass of the loop; returns the callbacks it made. */
static int
pass(struct event_base *base)
{
	calls = 0;
	event_base_loop(base, EVLOOP_ONCE|EVLOOP_NONBLOCK);
	return calls;
}

int
main(void)
{
	struct event_base	*base;
	struct fdset		*set;
	struct member		 a, b, many[NMANY];
	char			 err[128];
	int			 i, n, total, passes, all_once;

	base = event_base_new();
	set = fdset_new(base, on_ready, err, sizeof err);
	test_cond("a set is made", set != NULL);

	pair(&a, set);
	test_cond("a socket is added", fdset_add(set, a.fd, 0, &a) == 0);
	test_cond("adding it twice fails", fdset_add(set, a.fd, 0, &a) == -1 &&
	    errno == EEXIST);
	test_cond("nothing to read: no callback", pass(base) == 0);

	(void)!write(a.peer, "x", 1);
	n = pass(base);
	test_cond("readable: one callback", n == 1 && a.reads == 1 &&
	    a.writes == 0);
	n = pass(base);
	test_cond("still readable: reported again (level-triggered)",
	    n == 1 && a.reads == 2);
	a.drain = 1;
	pass(base);
	a.reads = a.writes = 0;
	test_cond("drained: no callback", pass(base) == 0);

	test_cond("the write watch is set", fdset_watch(set, a.fd, 1, &a) == 0);
	n = pass(base);
	test_cond("room to write: reported", n == 1 && a.writes == 1 &&
	    a.reads == 0);
	test_cond("the write watch is cleared", fdset_watch(set, a.fd, 0, &a) ==
	    0);
	test_cond("then no callback", pass(base) == 0);

	/* Each of two ready members removes the other: whichever runs
	 * first, the other is not called in that pass or later. */
	pair(&b, set);
	fdset_add(set, b.fd, 0, &b);
	a.victim = &b;
	b.victim = &a;
	a.reads = b.reads = 0;
	(void)!write(a.peer, "x", 1);
	(void)!write(b.peer, "x", 1);
	n = pass(base);
	test_cond("a member removed earlier in the pass is not called",
	    n == 1 && a.reads + b.reads == 1);
	n = pass(base);
	test_cond("and the survivor alone is reported after",
	    n <= 1 && a.reads + b.reads == 1 + n);

	/* The end of file is readable. */
	fdset_del(set, a.fd, &a);
	fdset_del(set, b.fd, &b);
	fdset_del(set, b.fd, &b);	/* twice: harmless */
	test_cond("removed members: no callback", pass(base) == 0);
	close(a.fd);
	close(b.fd);
	close(b.peer);
	pair(&b, set);
	fdset_add(set, b.fd, 0, &b);
	close(b.peer);
	n = pass(base);
	test_cond("the peer's close is reported as readable, not writable",
	    n == 1 && b.reads == 1 && b.writes == 0);
	fdset_del(set, b.fd, &b);
	close(b.fd);
	close(a.peer);

	/* More ready members than a batch: every one reported once, in more
	 * than one pass, none lost. */
	for (i = 0; i < NMANY; i++) {
		pair(&many[i], set);
		many[i].drain = 1;
		fdset_add(set, many[i].fd, 0, &many[i]);
		(void)!write(many[i].peer, "x", 1);
	}
	total = passes = 0;
	for (i = 0; i < 10 && total < NMANY; i++) {
		n = pass(base);
		test_cond("a pass takes a bounded batch", n <= 256);
		total += n;
		passes += n > 0;
	}
	all_once = 1;
	for (i = 0; i < NMANY; i++)
		all_once &= many[i].reads == 1;
	test_cond("300 ready members: each reported once", total == NMANY &&
	    all_once);
	test_cond("in more than one pass", passes >= 2);
	for (i = 0; i < NMANY; i++) {
		fdset_del(set, many[i].fd, &many[i]);
		close(many[i].fd);
		close(many[i].peer);
	}

	fdset_free(set);
	fdset_free(NULL);
	event_base_free(base);
	return test_report("test_fdset");
}
