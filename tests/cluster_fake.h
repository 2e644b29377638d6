/* sse-fcgi - MIT License
 *
 * A fake Redis Cluster node for the cluster clients' unit tests
 * (test_cluster_sync, test_cluster_async): a child process on 127.0.0.1
 * that claims slots as one shard whose master it is, and answers the
 * command under test from a script (enum fake_mode). Static functions,
 * for one test program each.
 */
#ifndef SSE_TESTS_CLUSTER_FAKE_H
#define SSE_TESTS_CLUSTER_FAKE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cluster_map.h"

/* The fake node: what it answers to the command under test ("SET"), one
 * script a connection; everything else as a cluster node would. */
enum fake_mode {
	FAKE_FOLLOW,	/* TRYAGAIN, MOVED to itself, ASK to itself, +DONE */
	FAKE_NOSCRIPT,	/* NOSCRIPT until SCRIPT LOAD, then +DONE */
	FAKE_OTHER_SLOT,	/* MOVED for another slot */
	FAKE_GARBAGE,	/* CLUSTER SHARDS answered with :1 */
	FAKE_PART,	/* serves slots 0-100 only */
	FAKE_CLOSE,	/* closes the connection on the command */
	FAKE_COUNT,	/* +DONE shards=N: the CLUSTER SHARDS it answered
			 * on this connection before */
	FAKE_SILENT	/* no answer to it on the first connection that
			 * sends it (a peer gone without a reset), +DONE
			 * on the later ones */
};

static int	fake_silenced;	/* FAKE_SILENT: a connection was */

static void
fake_send(int fd, const char *s)
{
	size_t	len = strlen(s), off = 0;
	ssize_t	n;

	while (off < len && (n = write(fd, s + off, len - off)) > 0)
		off += (size_t)n;
}

/* CLUSTER SHARDS: one shard, this node its master, slots 0 to LAST. */
static void
fake_shards(int fd, int port, int last)
{
	char	buf[512];

	snprintf(buf, sizeof buf, "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n"
	    ":%d\r\n$5\r\nnodes\r\n*1\r\n*14\r\n$2\r\nid\r\n$1\r\na\r\n"
	    "$4\r\nport\r\n:%d\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n"
	    "$8\r\nendpoint\r\n$1\r\n?\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
	    "$18\r\nreplication-offset\r\n:1\r\n$6\r\nhealth\r\n"
	    "$6\r\nonline\r\n", last, port);
	fake_send(fd, buf);
}

static void
fake_serve(int fd, enum fake_mode mode, int port, unsigned slot)
{
	redisReader	*rd = redisReaderCreate();
	redisReply	*r;
	void		*v;
	char		 buf[4096], out[256];
	ssize_t		 n;
	int		 step = 0, asking = 0, shards = 0, loaded = 0;
	int		 silent = mode == FAKE_SILENT && !fake_silenced;

	while ((n = read(fd, buf, sizeof buf)) > 0) {
		redisReaderFeed(rd, buf, (size_t)n);
		while (redisReaderGetReply(rd, &v) == REDIS_OK && v != NULL) {
			r = v;
			if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
				fake_send(fd, "-ERR what\r\n");
			} else if (strcmp(r->element[0]->str, "PING") == 0) {
				fake_send(fd, "+PONG\r\n");
			} else if (strcmp(r->element[0]->str, "AUTH") == 0) {
				fake_send(fd, r->elements == 3 &&
				    strcmp(r->element[1]->str, "u") == 0 &&
				    strcmp(r->element[2]->str, "pw") == 0 ?
				    "+OK\r\n" : "-WRONGPASS invalid username-"
				    "password pair\r\n");
			} else if (strcmp(r->element[0]->str, "CLUSTER") ==
			    0) {
				shards++;
				if (mode == FAKE_GARBAGE)
					fake_send(fd, ":1\r\n");
				else
					fake_shards(fd, port, mode ==
					    FAKE_PART ? 100 : 16383);
			} else if (strcmp(r->element[0]->str, "ASKING") == 0) {
				asking = 1;
				fake_send(fd, "+OK\r\n");
			} else if (strcmp(r->element[0]->str, "SCRIPT") == 0) {
				loaded = 1;
				fake_send(fd, "$40\r\n0123456789012345678901234"
				    "567890123456789\r\n");
			} else if (mode == FAKE_FOLLOW && step == 0) {
				step++;
				fake_send(fd, "-TRYAGAIN Multiple keys\r\n");
			} else if (mode == FAKE_FOLLOW && step == 1) {
				step++;
				snprintf(out, sizeof out, "-MOVED %u :%d\r\n",
				    slot, port);
				fake_send(fd, out);
			} else if (mode == FAKE_FOLLOW && step == 2) {
				step++;
				snprintf(out, sizeof out, "-ASK %u 127.0.0.1:"
				    "%d\r\n", slot, port);
				fake_send(fd, out);
			} else if (mode == FAKE_FOLLOW) {
				snprintf(out, sizeof out, "+DONE asking=%d "
				    "shards=%d\r\n", asking, shards);
				fake_send(fd, out);
			} else if (mode == FAKE_NOSCRIPT && !loaded) {
				fake_send(fd, "-NOSCRIPT No matching script\r\n");
			} else if (mode == FAKE_NOSCRIPT) {
				fake_send(fd, "+DONE\r\n");
			} else if (mode == FAKE_CLOSE) {
				freeReplyObject(r);
				redisReaderFree(rd);
				close(fd);
				return;
			} else if (mode == FAKE_COUNT) {
				snprintf(out, sizeof out, "+DONE shards=%d\r\n",
				    shards);
				fake_send(fd, out);
			} else if (silent) {
				fake_silenced = 1;	/* swallowed */
			} else if (mode == FAKE_OTHER_SLOT) {
				snprintf(out, sizeof out, "-MOVED %u :%d\r\n",
				    (slot + 1) % CLUSTER_SLOTS, port);
				fake_send(fd, out);
			} else {
				fake_send(fd, "+DONE\r\n");
			}
			/* ASKING holds for the next command only. */
			if (r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
			    strcmp(r->element[0]->str, "ASKING") != 0)
				asking = 0;
			freeReplyObject(r);
		}
	}
	redisReaderFree(rd);
	close(fd);
}

/* Starts a fake node in a child; returns its port, and its pid in *PID. */
static int
fake_start(enum fake_mode mode, unsigned slot, pid_t *pid)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 lfd, fd, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	if ((*pid = fork()) == 0) {
		/* One connection at a time: the client keeps one. */
		while ((fd = accept(lfd, NULL, NULL)) >= 0)
			fake_serve(fd, mode, ntohs(sin.sin_port), slot);
		_exit(0);
	}
	close(lfd);
	return ntohs(sin.sin_port);
}

static void
fake_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#endif
