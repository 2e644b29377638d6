/* sse-fcgi - MIT License
 *
 * Unit tests for the broker on a Redis Cluster: a real cluster_async and
 * broker_create_cluster() on an event loop against two fake nodes, each a
 * child process on 127.0.0.1 that serves many connections and is scripted
 * by the test over a socket pair. Both answer CLUSTER SHARDS with the map
 * the test wrote to a file (node A the low half of the slots, node B the
 * high half, then whatever a phase needs), SSUBSCRIBE and SUNSUBSCRIBE as
 * a node does, and on demand push frames to their subscriber connections
 * (smessage, an unsolicited sunsubscribe, malformed ones), answer an
 * SSUBSCRIBE with -MOVED, drop every connection and refuse new ones, or
 * leave what its subscribers send unread for a while. Each reports the
 * SSUBSCRIBE and SUNSUBSCRIBE it got. Checked: a channel is subscribed at
 * its slot's master and reported ready once, its messages delivered;
 * unwatch unsubscribes at that node; a map that moves a slot moves its
 * channel (lost once, unsubscribed at the old master, subscribed at the
 * new one, the old master's late messages dropped) and leaves the others
 * alone, and one that moves it back before the old master answered
 * subscribes it there once; a node's own sunsubscribe makes the channel
 * lost and subscribed again after the next map; a MOVED answer is not a
 * confirmation and the channel follows the map; a node lost makes its
 * channels lost, the broker down until it is back or its channels moved;
 * malformed frames are ignored.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "broker.h"
#include "cluster_async.h"
#include "cluster_map.h"
#include "testlib.h"

/* The fake node's side. */

static void
fn_send(int fd, const char *s)
{
	size_t	len = strlen(s), off = 0;
	ssize_t	n;

	while (off < len && (n = write(fd, s + off, len - off)) > 0)
		off += (size_t)n;
}

#define FN_CONNS	32
#define FN_RULES	8
#define FN_BUF		65536

struct fn_conn {
	int		 fd;
	redisReader	*rd;
	int		 nsubs;		/* channels it subscribed */
	int		 sub;		/* sent an SSUBSCRIBE once */
};

struct fn_rule {
	char		 channel[64];	/* "": unused */
	unsigned	 slot;
	int		 port;
};

struct fn_state {
	int		 ctl;
	const char	*mapfile;
	struct fn_conn	 conns[FN_CONNS];
	struct fn_rule	 rules[FN_RULES];
	int		 down;		/* refuses every connection */
	int		 hold;		/* reads no subscriber connection */
};

static void
fn_report(struct fn_state *st, char what, const char *channel, size_t len)
{
	char	msg[256];
	int	n;

	n = snprintf(msg, sizeof msg, "%c %.*s", what, (int)len, channel);
	send(st->ctl, msg, (size_t)n, 0);
}

static void
fn_drop(struct fn_conn *c)
{
	close(c->fd);
	redisReaderFree(c->rd);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

static void
fn_shards(struct fn_state *st, int fd)
{
	static char	buf[FN_BUF];
	ssize_t		n;
	int		mfd;

	if ((mfd = open(st->mapfile, O_RDONLY)) < 0) {
		fn_send(fd, "-ERR no map\r\n");
		return;
	}
	n = read(mfd, buf, sizeof buf - 1);
	close(mfd);
	buf[n > 0 ? n : 0] = '\0';
	fn_send(fd, buf);
}

/* One (S)SUBSCRIBE-style reply: KIND, CHANNEL, COUNT. */
static void
fn_sub_reply(int fd, const char *kind, const char *channel, size_t len,
    int count)
{
	char	buf[512];

	snprintf(buf, sizeof buf, "*3\r\n$%zu\r\n%s\r\n$%zu\r\n%.*s\r\n:%d\r\n",
	    strlen(kind), kind, len, (int)len, channel, count);
	fn_send(fd, buf);
}

static void
fn_command(struct fn_state *st, struct fn_conn *c, redisReply *r)
{
	struct fn_rule	*ru;
	const char	*cmd;
	char		 out[256];
	size_t		 i, j;

	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		fn_send(c->fd, "-ERR what\r\n");
		return;
	}
	cmd = r->element[0]->str;
	if (strcasecmp(cmd, "PING") == 0)
		fn_send(c->fd, "+PONG\r\n");
	else if (strcasecmp(cmd, "AUTH") == 0)
		fn_send(c->fd, "+OK\r\n");
	else if (strcasecmp(cmd, "HELLO") == 0)
		fn_send(c->fd, "-NOPROTO unsupported protocol version\r\n");
	else if (strcasecmp(cmd, "CLUSTER") == 0)
		fn_shards(st, c->fd);
	else if (strcasecmp(cmd, "SSUBSCRIBE") == 0) {
		for (i = 1; i < r->elements; i++) {
			for (j = 0; j < FN_RULES; j++) {
				ru = &st->rules[j];
				if (ru->channel[0] != '\0' &&
				    strlen(ru->channel) == r->element[i]->len &&
				    memcmp(ru->channel, r->element[i]->str,
				    r->element[i]->len) == 0)
					break;
			}
			if (j < FN_RULES) {
				snprintf(out, sizeof out, "-MOVED %u 127.0.0.1:"
				    "%d\r\n", ru->slot, ru->port);
				ru->channel[0] = '\0';
				fn_report(st, 'M', r->element[i]->str,
				    r->element[i]->len);
				fn_send(c->fd, out);
				continue;
			}
			c->sub = 1;
			c->nsubs++;
			fn_report(st, 'S', r->element[i]->str,
			    r->element[i]->len);
			fn_sub_reply(c->fd, "ssubscribe", r->element[i]->str,
			    r->element[i]->len, c->nsubs);
		}
	} else if (strcasecmp(cmd, "SUNSUBSCRIBE") == 0) {
		for (i = 1; i < r->elements; i++) {
			if (c->nsubs > 0)
				c->nsubs--;
			fn_report(st, 'U', r->element[i]->str,
			    r->element[i]->len);
			fn_sub_reply(c->fd, "sunsubscribe", r->element[i]->str,
			    r->element[i]->len, c->nsubs);
		}
	} else
		fn_send(c->fd, "-ERR unknown command\r\n");
}

/* A message from the test: 'P' and bytes to push to the subscriber
 * connections, 'M' "channel slot port" (the next SSUBSCRIBE of channel
 * answered with MOVED), 'D' (every connection dropped, new ones closed
 * at once), 'U' (served again), 'H' (what the subscriber connections
 * send is left unread), 'R' (read again). Returns -1 when the test is
 * gone. */
static int
fn_control(struct fn_state *st)
{
	static char	 buf[FN_BUF];
	struct fn_rule	*ru;
	ssize_t		 n;
	size_t		 i;

	if ((n = recv(st->ctl, buf, sizeof buf - 1, 0)) <= 0)
		return n < 0 && errno == EINTR ? 0 : -1;
	buf[n] = '\0';
	switch (buf[0]) {
	case 'P':
		for (i = 0; i < FN_CONNS; i++)
			if (st->conns[i].fd >= 0 && st->conns[i].sub)
				fn_send(st->conns[i].fd, buf + 1);
		break;
	case 'M':
		for (i = 0; i < FN_RULES; i++)
			if (st->rules[i].channel[0] == '\0')
				break;
		if (i == FN_RULES)
			break;
		ru = &st->rules[i];
		if (sscanf(buf + 1, "%63s %u %d", ru->channel, &ru->slot,
		    &ru->port) != 3)
			ru->channel[0] = '\0';
		break;
	case 'D':
		st->down = 1;
		for (i = 0; i < FN_CONNS; i++)
			if (st->conns[i].fd >= 0)
				fn_drop(&st->conns[i]);
		break;
	case 'U':
		st->down = 0;
		break;
	case 'H':
		st->hold = 1;
		break;
	case 'R':
		st->hold = 0;
		break;
	}
	/* Done: the test may go on. */
	send(st->ctl, "K", 1, 0);
	return 0;
}

static void
fn_serve(int lfd, int ctl, const char *mapfile)
{
	static struct fn_state	 st;
	struct pollfd		 pfd[FN_CONNS + 2];
	int			 map[FN_CONNS + 2];
	char			 buf[4096];
	void			*v;
	ssize_t			 n;
	size_t			 i, np;
	int			 fd;

	st.ctl = ctl;
	st.mapfile = mapfile;
	for (i = 0; i < FN_CONNS; i++)
		st.conns[i].fd = -1;
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = ctl;
		pfd[1].events = POLLIN;
		np = 2;
		for (i = 0; i < FN_CONNS; i++)
			if (st.conns[i].fd >= 0 && !(st.hold &&
			    st.conns[i].sub)) {
				pfd[np].fd = st.conns[i].fd;
				pfd[np].events = POLLIN;
				map[np++] = (int)i;
			}
		if (poll(pfd, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (pfd[1].revents != 0 && fn_control(&st) == -1)
			return;
		if (pfd[0].revents & POLLIN) {
			if ((fd = accept(lfd, NULL, NULL)) >= 0) {
				for (i = 0; i < FN_CONNS; i++)
					if (st.conns[i].fd < 0)
						break;
				if (st.down || i == FN_CONNS)
					close(fd);
				else {
					st.conns[i].fd = fd;
					st.conns[i].rd = redisReaderCreate();
				}
			}
		}
		for (i = 2; i < np; i++) {
			struct fn_conn	*c = &st.conns[map[i]];

			if (pfd[i].revents == 0 || c->fd != pfd[i].fd)
				continue;
			if ((n = read(c->fd, buf, sizeof buf)) <= 0) {
				fn_drop(c);
				continue;
			}
			redisReaderFeed(c->rd, buf, (size_t)n);
			while (c->fd >= 0 && redisReaderGetReply(c->rd, &v) ==
			    REDIS_OK && v != NULL) {
				fn_command(&st, c, v);
				freeReplyObject(v);
			}
		}
	}
}

/* The test's side. */

struct fnode {
	pid_t		 pid;
	int		 port;
	int		 ctl;
	int		 acks;		/* control messages done */
	struct event	*ev;
	char		 log[FN_BUF];	/* "S chan\n", "U chan\n", "M chan\n" */
	size_t		 loglen;
};

/* Starts a fake node; returns 0, or -1. */
static int
fnode_start(struct fnode *nd, const char *mapfile)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 lfd, sv[2], one = 1, fd;

	memset(nd, 0, sizeof *nd);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0)
		return -1;
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	if ((nd->pid = fork()) == 0) {
		/* Nothing of the test's but its two ends. */
		for (fd = 3; fd < 1024; fd++)
			if (fd != lfd && fd != sv[1])
				close(fd);
		fn_serve(lfd, sv[1], mapfile);
		_exit(0);
	}
	close(lfd);
	close(sv[1]);
	nd->ctl = sv[0];
	nd->port = ntohs(sin.sin_port);
	return nd->pid > 0 ? 0 : -1;
}

static void
fnode_stop(struct fnode *nd)
{
	if (nd->ev != NULL)
		event_free(nd->ev);
	nd->ev = NULL;
	if (nd->pid > 0) {
		kill(nd->pid, SIGKILL);
		waitpid(nd->pid, NULL, 0);
	}
	nd->pid = 0;
	close(nd->ctl);
}

static void
fnode_on_ctl(evutil_socket_t fd, short what, void *arg)
{
	struct fnode	*nd = arg;
	char		 buf[512];
	ssize_t		 n;

	if ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) <= 0)
		return;
	if (n == 1 && buf[0] == 'K') {
		nd->acks++;
		return;
	}
	if (nd->loglen + (size_t)n + 2 < sizeof nd->log) {
		memcpy(nd->log + nd->loglen, buf, (size_t)n);
		nd->loglen += (size_t)n;
		nd->log[nd->loglen++] = '\n';
		nd->log[nd->loglen] = '\0';
	}
}

/* How many times node ND reported WHAT ('S', 'U', 'M') for CHANNEL. */
static int
fnode_count(const struct fnode *nd, char what, const char *channel)
{
	char		 line[128];
	const char	*p = nd->log;
	int		 n = 0;

	snprintf(line, sizeof line, "%c %s\n", what, channel);
	while ((p = strstr(p, line)) != NULL) {
		if (p == nd->log || p[-1] == '\n')
			n++;
		p++;
	}
	return n;
}

static void
fnode_clear(struct fnode *nd)
{
	nd->loglen = 0;
	nd->log[0] = '\0';
}

/* The whole harness. */

#define NCHANS	4
enum { A1, A2, B1, B2 };
static char	names[NCHANS][32];

static struct {
	struct event_base	*base;
	struct event		*tick;
	struct cluster_async	*ca;
	struct broker		*b;
	struct fnode		 node[2];
	char			 mapfile[128];
	unsigned char		 owner[CLUSTER_SLOTS];	/* 0: A, 1: B */
	int			 ready[NCHANS], lost[NCHANS], other;
	int			 up_at_lost;	/* broker_is_up() in on_lost */
	char			 msgs[8192];	/* "chan=payload\n" */
	size_t			 msglen;
	int			 nmsgs;
} H;

#define NA	(&H.node[0])
#define NB	(&H.node[1])

static uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the loop until COND holds or MS have passed. */
#define run_until(cond, ms) do {					\
	uint64_t end_ = now_ms() + (ms);				\
	while (!(cond) && now_ms() < end_)				\
		event_base_loop(H.base, EVLOOP_ONCE);			\
} while (0)

static void
settle(unsigned ms)
{
	run_until(0, ms);
}

static int
chan_index(const char *channel, size_t len)
{
	int	i;

	for (i = 0; i < NCHANS; i++)
		if (strlen(names[i]) == len && memcmp(names[i], channel,
		    len) == 0)
			return i;
	return -1;
}

static void
on_message(void *arg, const char *channel, size_t clen, const char *payload,
    size_t plen)
{
	int	n;

	n = snprintf(H.msgs + H.msglen, sizeof H.msgs - H.msglen,
	    "%.*s=%.*s\n", (int)clen, channel, (int)plen, payload);
	if (n > 0 && (size_t)n < sizeof H.msgs - H.msglen)
		H.msglen += (size_t)n;
	H.nmsgs++;
}

static void
on_ready(void *arg, const char *channel, size_t len)
{
	int	i = chan_index(channel, len);

	if (i >= 0)
		H.ready[i]++;
	else
		H.other++;
}

static void
on_lost(void *arg, const char *channel, size_t len)
{
	int	i = chan_index(channel, len);

	if (i >= 0)
		H.lost[i]++;
	else
		H.other++;
	H.up_at_lost = broker_is_up(H.b);
}

static int
got(const char *channel, const char *payload)
{
	char	line[128];

	snprintf(line, sizeof line, "%s=%s\n", channel, payload);
	return strstr(H.msgs, line) != NULL;
}

/* Writes the map of H.owner as CLUSTER SHARDS would answer it. */
static int
map_write(void)
{
	static char	 buf[FN_BUF];
	char		 tmp[160], slots[2][8192];
	size_t		 off = 0, soff[2] = { 0, 0 };
	int		 nr[2] = { 0, 0 }, nsh = 0, s, lo, k, fd;

	for (lo = 0; lo < CLUSTER_SLOTS; lo = s) {
		k = H.owner[lo];
		for (s = lo; s < CLUSTER_SLOTS && H.owner[s] == k; s++)
			;
		soff[k] += (size_t)snprintf(slots[k] + soff[k],
		    sizeof slots[k] - soff[k], ":%d\r\n:%d\r\n", lo, s - 1);
		nr[k]++;
	}
	for (k = 0; k < 2; k++)
		nsh += nr[k] > 0;
	off += (size_t)snprintf(buf + off, sizeof buf - off, "*%d\r\n", nsh);
	for (k = 0; k < 2; k++) {
		if (nr[k] == 0)
			continue;
		off += (size_t)snprintf(buf + off, sizeof buf - off,
		    "*4\r\n$5\r\nslots\r\n*%d\r\n%s$5\r\nnodes\r\n*1\r\n"
		    "*14\r\n$2\r\nid\r\n$2\r\nn%d\r\n$4\r\nport\r\n:%d\r\n"
		    "$2\r\nip\r\n$9\r\n127.0.0.1\r\n$8\r\nendpoint\r\n"
		    "$1\r\n?\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
		    "$18\r\nreplication-offset\r\n:1\r\n$6\r\nhealth\r\n"
		    "$6\r\nonline\r\n", nr[k] * 2, slots[k], k,
		    H.node[k].port);
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", H.mapfile);
	if ((fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC, 0600)) < 0)
		return -1;
	if (write(fd, buf, off) != (ssize_t)off) {
		close(fd);
		return -1;
	}
	close(fd);
	return rename(tmp, H.mapfile);
}

/* Node A the low half, node B the high half. */
static void
map_halves(void)
{
	memset(H.owner, 0, CLUSTER_SLOTS / 2);
	memset(H.owner + CLUSTER_SLOTS / 2, 1, CLUSTER_SLOTS / 2);
}

/* Sends the control message OP BODY to ND and waits until it is done. */
static void
fnode_ctl(struct fnode *nd, char op, const char *body)
{
	char	buf[4096];
	int	acks = nd->acks;
	int	n;

	n = snprintf(buf, sizeof buf, "%c%s", op, body);
	send(nd->ctl, buf, (size_t)n, 0);
	run_until(nd->acks > acks, 3000);
}

static void
push_msg(struct fnode *nd, const char *channel, const char *payload)
{
	char	buf[512];

	snprintf(buf, sizeof buf, "*3\r\n$8\r\nsmessage\r\n$%zu\r\n%s\r\n"
	    "$%zu\r\n%s\r\n", strlen(channel), channel, strlen(payload),
	    payload);
	fnode_ctl(nd, 'P', buf);
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Names for A1..B2: two channels in each half, on distinct slots away
 * from the ends of the halves. */
static void
pick_names(void)
{
	unsigned	seen[NCHANS], slot;
	int		i, j, n = 0, k;

	for (i = 0; i < NCHANS; i++) {
		for (k = 0;; k++) {
			snprintf(names[i], sizeof names[i], "ch-%d", n++);
			slot = cluster_keyslot(names[i], strlen(names[i]));
			if (i < 2 ? (slot < 1 || slot > 8190) :
			    (slot < 8193 || slot > 16382))
				continue;
			for (j = 0; j < i; j++)
				if (seen[j] == slot)
					break;
			if (j == i)
				break;
		}
		seen[i] = slot;
	}
}

static unsigned
slot_of(int i)
{
	return cluster_keyslot(names[i], strlen(names[i]));
}

/* Two fake nodes serving halves, a cluster_async seeded with both, a
 * broker on it, its first map in. Channels in WATCH_FIRST are watched
 * before it starts. Returns 0, or -1. */
static int
setup(const int *watch_first, int nwatch)
{
	struct timeval	tv = { 0, 10000 };
	char		url[128], err[256];
	int		i;

	memset(&H, 0, sizeof H);
	snprintf(H.mapfile, sizeof H.mapfile, "/tmp/test_broker_cluster.%d"
	    ".map", (int)getpid());
	if (fnode_start(NA, H.mapfile) != 0 || fnode_start(NB,
	    H.mapfile) != 0)
		return -1;
	map_halves();
	if (map_write() != 0)
		return -1;
	H.base = event_base_new();
	H.tick = event_new(H.base, -1, EV_PERSIST, tick, NULL);
	event_add(H.tick, &tv);
	for (i = 0; i < 2; i++) {
		H.node[i].ev = event_new(H.base, H.node[i].ctl,
		    EV_READ|EV_PERSIST, fnode_on_ctl, &H.node[i]);
		event_add(H.node[i].ev, NULL);
	}
	snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d,127.0.0.1:%d",
	    NA->port, NB->port);
	if ((H.ca = cluster_async_create(H.base, url, err, sizeof err)) ==
	    NULL) {
		fprintf(stderr, "cluster_async_create: %s\n", err);
		return -1;
	}
	H.b = broker_create_cluster(H.base, H.ca, on_message, NULL);
	broker_on_ready(H.b, on_ready);
	broker_on_lost(H.b, on_lost);
	for (i = 0; i < nwatch; i++)
		broker_watch(H.b, names[watch_first[i]],
		    strlen(names[watch_first[i]]));
	broker_start(H.b);
	run_until(cluster_async_maps(H.ca) > 0, 3000);
	return cluster_async_maps(H.ca) > 0 ? 0 : -1;
}

static void
teardown(void)
{
	broker_free(H.b);
	cluster_async_free(H.ca);
	fnode_stop(NA);
	fnode_stop(NB);
	event_free(H.tick);
	event_base_free(H.base);
	unlink(H.mapfile);
}

static void
watch(int i)
{
	broker_watch(H.b, names[i], strlen(names[i]));
}

static int
is_ready(int i)
{
	return broker_channel_ready(H.b, names[i], strlen(names[i]));
}

/* 1, 2, 3: subscribed where the slot is, unwatched there, moved with the
 * map. */
static void
test_subscribe_move(void)
{
	static const int	first[] = { A1 };

	if (setup(first, 1) != 0) {
		test_cond("set up", 0);
		teardown();
		return;
	}
	test_cond("up once the map came", broker_is_up(H.b));
	watch(B1);
	run_until(H.ready[A1] == 1 && H.ready[B1] == 1, 5000);
	settle(200);
	test_cond("a channel watched before the map: ready once",
	    H.ready[A1] == 1 && is_ready(A1));
	test_cond("subscribed at the node of its slot",
	    fnode_count(NA, 'S', names[A1]) == 1);
	test_cond("not at the other", fnode_count(NB, 'S', names[A1]) == 0);
	test_cond("a channel watched after the map: ready once at its node",
	    H.ready[B1] == 1 && is_ready(B1) &&
	    fnode_count(NB, 'S', names[B1]) == 1 &&
	    fnode_count(NA, 'S', names[B1]) == 0);

	push_msg(NA, names[A1], "hello");
	run_until(got(names[A1], "hello"), 3000);
	test_cond("a message from the node delivered", got(names[A1],
	    "hello") && H.nmsgs == 1);
	push_msg(NB, names[B1], "hi-b");
	run_until(got(names[B1], "hi-b"), 3000);
	test_cond("and one from the other node's link", got(names[B1],
	    "hi-b") && H.nmsgs == 2);

	/* 2: unwatch unsubscribes at the channel's node. */
	broker_unwatch(H.b, names[B1], strlen(names[B1]));
	run_until(fnode_count(NB, 'U', names[B1]) == 1, 3000);
	settle(100);
	test_cond("unwatch: SUNSUBSCRIBE at its node",
	    fnode_count(NB, 'U', names[B1]) == 1 && !is_ready(B1));
	test_cond("none at the other", fnode_count(NA, 'U', names[B1]) == 0);
	test_cond("no lost for an unwatched channel", H.lost[B1] == 0);

	/* 3: A1's slot moves to B; A2 stays at A. */
	watch(A2);
	run_until(H.ready[A2] == 1, 3000);
	test_cond("a second channel at A ready", H.ready[A2] == 1);
	fnode_clear(NA);
	fnode_clear(NB);
	H.owner[slot_of(A1)] = 1;
	test_cond("map written", map_write() == 0);
	cluster_async_refresh(H.ca);
	run_until(H.ready[A1] == 2 && fnode_count(NA, 'U', names[A1]) == 1 &&
	    fnode_count(NB, 'S', names[A1]) == 1, 5000);
	settle(100);
	test_cond("moved: ready again", H.ready[A1] == 2 && is_ready(A1));
	test_cond("moved: lost once", H.lost[A1] == 1);
	test_cond("moved: SUNSUBSCRIBE at the old master",
	    fnode_count(NA, 'U', names[A1]) == 1);
	test_cond("moved: SSUBSCRIBE at the new one, not the old",
	    fnode_count(NB, 'S', names[A1]) == 1 &&
	    fnode_count(NA, 'S', names[A1]) == 0);
	test_cond("the channel that stayed: not lost, not subscribed again",
	    H.lost[A2] == 0 && H.ready[A2] == 1 &&
	    fnode_count(NA, 'S', names[A2]) == 0 &&
	    fnode_count(NA, 'U', names[A2]) == 0 && is_ready(A2));

	/* The old master's late message, then a marker on its link. */
	push_msg(NA, names[A1], "stale");
	push_msg(NA, names[A2], "marker");
	run_until(got(names[A2], "marker"), 3000);
	test_cond("the old master's link still delivers its own channels",
	    got(names[A2], "marker"));
	test_cond("the old master's message for the moved channel dropped",
	    !got(names[A1], "stale"));
	push_msg(NB, names[A1], "fresh");
	run_until(got(names[A1], "fresh"), 3000);
	test_cond("the new master's message delivered", got(names[A1],
	    "fresh"));
	settle(300);
	test_cond("lost still once, ready still twice", H.lost[A1] == 1 &&
	    H.ready[A1] == 2 && H.lost[A2] == 0 && H.other == 0);
	teardown();
}

/* 3, again: a slot that moves away and back before the old master
 * answered the SUNSUBSCRIBE that let its channel go. */
static void
test_move_back(void)
{
	static const int	first[] = { A1 };

	if (setup(first, 1) != 0) {
		test_cond("set up", 0);
		teardown();
		return;
	}
	run_until(H.ready[A1] == 1, 5000);
	test_cond("ready at A", H.ready[A1] == 1);
	fnode_ctl(NA, 'H', "");
	H.owner[slot_of(A1)] = 1;
	test_cond("map written", map_write() == 0);
	cluster_async_refresh(H.ca);
	run_until(H.ready[A1] == 2 && fnode_count(NB, 'S', names[A1]) == 1,
	    5000);
	test_cond("moved to B: ready there", H.ready[A1] == 2 &&
	    H.lost[A1] == 1);
	/* Back to A, whose answer to the SUNSUBSCRIBE is still to come. */
	H.owner[slot_of(A1)] = 0;
	test_cond("map written", map_write() == 0);
	cluster_async_refresh(H.ca);
	run_until(fnode_count(NB, 'U', names[A1]) == 1, 5000);
	test_cond("moved back: lost at B", H.lost[A1] == 2 &&
	    fnode_count(NB, 'U', names[A1]) == 1);
	fnode_clear(NA);
	fnode_ctl(NA, 'R', "");
	run_until(H.ready[A1] == 3 && fnode_count(NA, 'S', names[A1]) >= 1,
	    5000);
	settle(300);
	test_cond("back at A: the old SUNSUBSCRIBE then one SSUBSCRIBE",
	    fnode_count(NA, 'U', names[A1]) == 1 &&
	    fnode_count(NA, 'S', names[A1]) == 1);
	test_cond("back at A: ready once more, not twice", H.ready[A1] == 3 &&
	    is_ready(A1) && H.lost[A1] == 2);
	push_msg(NA, names[A1], "home");
	run_until(got(names[A1], "home"), 3000);
	test_cond("delivered from A again", got(names[A1], "home"));
	teardown();
}

/* 3, once more: a slot that moves away and back before its node answered
 * the channel's first SSUBSCRIBE: that answer and the SUNSUBSCRIBE's are
 * not about its return; it is ready at A once, on the last SSUBSCRIBE. */
static void
test_move_back_subscribing(void)
{
	static const int	first[] = { A1 };

	if (setup(first, 1) != 0) {
		test_cond("set up", 0);
		teardown();
		return;
	}
	run_until(H.ready[A1] == 1, 5000);
	fnode_ctl(NA, 'H', "");
	watch(A2);			/* its SSUBSCRIBE left unread at A */
	settle(100);
	H.owner[slot_of(A2)] = 1;
	test_cond("map written", map_write() == 0);
	cluster_async_refresh(H.ca);
	run_until(H.ready[A2] == 1 && fnode_count(NB, 'S', names[A2]) == 1,
	    5000);
	test_cond("subscribing at A, moved to B: ready there once",
	    H.ready[A2] == 1 && H.lost[A2] == 0);
	H.owner[slot_of(A2)] = 0;
	test_cond("map written", map_write() == 0);
	cluster_async_refresh(H.ca);
	run_until(fnode_count(NB, 'U', names[A2]) == 1, 5000);
	fnode_clear(NA);
	fnode_ctl(NA, 'R', "");
	run_until(H.ready[A2] >= 2 && fnode_count(NA, 'S', names[A2]) == 2,
	    5000);
	settle(300);
	test_cond("back at A: SSUBSCRIBE, SUNSUBSCRIBE, SSUBSCRIBE there",
	    fnode_count(NA, 'S', names[A2]) == 2 &&
	    fnode_count(NA, 'U', names[A2]) == 1);
	test_cond("back at A: ready once, on the last SSUBSCRIBE",
	    H.ready[A2] == 2 && is_ready(A2) && H.lost[A2] == 1);
	push_msg(NA, names[A2], "home2");
	run_until(got(names[A2], "home2"), 3000);
	test_cond("delivered from A", got(names[A2], "home2"));
	teardown();
}

/* 4: the node drops a channel by itself. */
static void
test_node_drops(void)
{
	static const int	first[] = { A1, A2 };
	char			frame[256];

	if (setup(first, 2) != 0) {
		test_cond("set up", 0);
		teardown();
		return;
	}
	run_until(H.ready[A1] == 1 && H.ready[A2] == 1, 5000);
	test_cond("both ready", H.ready[A1] == 1 && H.ready[A2] == 1);

	snprintf(frame, sizeof frame, "*3\r\n$12\r\nsunsubscribe\r\n"
	    "$%zu\r\n%s\r\n:1\r\n", strlen(names[A1]), names[A1]);
	fnode_ctl(NA, 'P', frame);
	run_until(H.lost[A1] == 1, 3000);
	test_cond("dropped by the node: lost", H.lost[A1] == 1 &&
	    !is_ready(A1));
	test_cond("the other channel not lost", H.lost[A2] == 0 &&
	    is_ready(A2));
	run_until(H.ready[A1] == 2 && fnode_count(NA, 'S', names[A1]) == 2,
	    5000);
	test_cond("after the next map: subscribed again, ready",
	    H.ready[A1] == 2 && is_ready(A1) &&
	    fnode_count(NA, 'S', names[A1]) == 2);
	test_cond("the map was asked for", cluster_async_maps(H.ca) >= 2);
	push_msg(NA, names[A1], "again");
	run_until(got(names[A1], "again"), 3000);
	test_cond("its messages delivered again", got(names[A1], "again"));

	/* The slot went to B: the next map sends it there, lost once. */
	H.owner[slot_of(A1)] = 1;
	test_cond("map written", map_write() == 0);
	fnode_ctl(NA, 'P', frame);
	run_until(H.ready[A1] == 3 && fnode_count(NB, 'S', names[A1]) == 1,
	    5000);
	settle(100);
	test_cond("dropped as its slot migrated: subscribed at the new "
	    "master", H.ready[A1] == 3 && fnode_count(NB, 'S', names[A1]) ==
	    1 && fnode_count(NA, 'S', names[A1]) == 2);
	test_cond("lost once for it", H.lost[A1] == 2);
	push_msg(NB, names[A1], "there");
	run_until(got(names[A1], "there"), 3000);
	test_cond("delivered from the new master", got(names[A1], "there"));
	test_cond("the other channel untouched", H.lost[A2] == 0 &&
	    H.ready[A2] == 1 && H.other == 0);
	teardown();
}

/* 5: an SSUBSCRIBE answered with MOVED. */
static void
test_moved(void)
{
	static const int	first[] = { A2 };
	char			rule[128];

	if (setup(first, 1) != 0) {
		test_cond("set up", 0);
		teardown();
		return;
	}
	run_until(H.ready[A2] == 1, 5000);
	snprintf(rule, sizeof rule, "%s %u %d", names[A1], slot_of(A1),
	    NB->port);
	fnode_ctl(NA, 'M', rule);
	H.owner[slot_of(A1)] = 1;
	test_cond("map written", map_write() == 0);
	watch(A1);
	run_until(fnode_count(NA, 'M', names[A1]) == 1, 3000);
	settle(100);
	test_cond("MOVED answered at the old master", fnode_count(NA, 'M',
	    names[A1]) == 1);
	test_cond("refused: not ready", H.ready[A1] == 0 && !is_ready(A1));
	test_cond("refused: never confirmed, so not lost", H.lost[A1] == 0);
	run_until(H.ready[A1] == 1 && fnode_count(NB, 'S', names[A1]) == 1,
	    5000);
	settle(100);
	test_cond("after the map: subscribed at the node it names, ready",
	    H.ready[A1] == 1 && is_ready(A1) &&
	    fnode_count(NB, 'S', names[A1]) == 1);
	test_cond("not asked again at the old master",
	    fnode_count(NA, 'S', names[A1]) == 0);
	push_msg(NB, names[A1], "moved");
	run_until(got(names[A1], "moved"), 3000);
	test_cond("its messages delivered", got(names[A1], "moved"));
	test_cond("nothing lost", H.lost[A1] == 0 && H.lost[A2] == 0 &&
	    H.other == 0);
	teardown();
}

/* 6: node B lost. */
static void
test_node_lost(void)
{
	static const int	first[] = { A1, B1, B2 };
	int			up_meanwhile;

	if (setup(first, 3) != 0) {
		test_cond("set up", 0);
		teardown();
		return;
	}
	run_until(H.ready[A1] == 1 && H.ready[B1] == 1 && H.ready[B2] == 1,
	    5000);
	test_cond("all ready, up", H.ready[A1] == 1 && H.ready[B1] == 1 &&
	    H.ready[B2] == 1 && broker_is_up(H.b));

	H.up_at_lost = -1;
	fnode_ctl(NB, 'D', "");
	run_until(H.lost[B1] == 1 && H.lost[B2] == 1, 3000);
	test_cond("B lost: its channels lost", H.lost[B1] == 1 &&
	    H.lost[B2] == 1 && !is_ready(B1) && !is_ready(B2));
	test_cond("down when told", H.up_at_lost == 0);
	test_cond("A's channel not lost", H.lost[A1] == 0 && is_ready(A1));
	settle(400);
	up_meanwhile = broker_is_up(H.b);
	test_cond("down while B is", !up_meanwhile && broker_down_ms(H.b) > 0);
	fnode_ctl(NB, 'U', "");
	run_until(broker_is_up(H.b) && H.ready[B1] == 2 && H.ready[B2] == 2 &&
	    fnode_count(NB, 'S', names[B1]) == 2, 8000);
	test_cond("B back: up, its channels ready again", broker_is_up(H.b) &&
	    H.ready[B1] == 2 && H.ready[B2] == 2 &&
	    fnode_count(NB, 'S', names[B1]) == 2);
	test_cond("reconnect counted", broker_reconnects(H.b) >= 1);
	test_cond("lost once each", H.lost[B1] == 1 && H.lost[B2] == 1 &&
	    H.lost[A1] == 0 && H.ready[A1] == 1);
	push_msg(NB, names[B1], "back");
	run_until(got(names[B1], "back"), 3000);
	test_cond("B's messages delivered again", got(names[B1], "back"));

	/* B lost again, its slots now A's: up once they moved. */
	memset(H.owner, 0, sizeof H.owner);
	test_cond("map written", map_write() == 0);
	H.up_at_lost = -1;
	fnode_ctl(NB, 'D', "");
	run_until(H.lost[B1] == 2 && H.lost[B2] == 2, 3000);
	test_cond("lost again: down", H.lost[B1] == 2 && H.lost[B2] == 2 &&
	    H.up_at_lost == 0);
	run_until(broker_is_up(H.b) && H.ready[B1] == 3 && H.ready[B2] == 3 &&
	    fnode_count(NA, 'S', names[B1]) == 1 &&
	    fnode_count(NA, 'S', names[B2]) == 1, 8000);
	test_cond("its channels moved to A: up, ready", broker_is_up(H.b) &&
	    H.ready[B1] == 3 && H.ready[B2] == 3 &&
	    fnode_count(NA, 'S', names[B1]) == 1 &&
	    fnode_count(NA, 'S', names[B2]) == 1);
	settle(400);
	test_cond("stays up with B gone", broker_is_up(H.b));
	test_cond("lost once more each, A's never", H.lost[B1] == 2 &&
	    H.lost[B2] == 2 && H.lost[A1] == 0 && H.other == 0);
	push_msg(NA, names[B2], "at-a");
	run_until(got(names[B2], "at-a"), 3000);
	test_cond("delivered from A", got(names[B2], "at-a"));
	teardown();
}

/* 7: frames of unexpected shapes. */
static void
test_bad_frames(void)
{
	static const int	first[] = { A1 };
	char			frame[2048];
	const char		*a1 = names[A1];
	size_t			 n = strlen(a1);

	if (setup(first, 1) != 0) {
		test_cond("set up", 0);
		teardown();
		return;
	}
	run_until(H.ready[A1] == 1, 5000);
	snprintf(frame, sizeof frame,
	    "*2\r\n$8\r\nsmessage\r\n$1\r\nx\r\n"
	    "*3\r\n$8\r\nsmessage\r\n:5\r\n$1\r\np\r\n"
	    "*3\r\n$8\r\nsmessage\r\n$%zu\r\n%s\r\n:7\r\n"
	    "*3\r\n$8\r\nsmessage\r\n$-1\r\n$1\r\np\r\n"
	    "*3\r\n$8\r\nsmessage\r\n*0\r\n$1\r\np\r\n"
	    "*3\r\n:1\r\n$%zu\r\n%s\r\n$1\r\np\r\n"
	    "*3\r\n$-1\r\n$%zu\r\n%s\r\n$1\r\np\r\n"
	    "*3\r\n$0\r\n\r\n$%zu\r\n%s\r\n$1\r\np\r\n"
	    "*3\r\n$1\r\ns\r\n$%zu\r\n%s\r\n$1\r\np\r\n"
	    "*3\r\n$7\r\nmessage\r\n$%zu\r\n%s\r\n$1\r\np\r\n"
	    "*4\r\n$8\r\nsmessage\r\n$%zu\r\n%s\r\n$1\r\np\r\n$1\r\nq\r\n"
	    "*3\r\n$8\r\nsmessage\r\n$2\r\nzz\r\n$1\r\np\r\n"
	    "*3\r\n$10\r\nssubscribe\r\n:1\r\n:1\r\n"
	    "*3\r\n$12\r\nsunsubscribe\r\n:1\r\n:0\r\n"
	    "*3\r\n$10\r\nssubscribe\r\n$%zu\r\n%s\r\n:1\r\n"
	    "*3\r\n$12\r\nsunsubscribe\r\n$2\r\nzz\r\n:0\r\n"
	    "*1\r\n$8\r\nsmessage\r\n"
	    "*0\r\n"
	    ":7\r\n"
	    "$3\r\nabc\r\n"
	    "+OK\r\n"
	    "-ERR out of the blue\r\n"
	    "*2\r\n*1\r\n$1\r\nx\r\n$1\r\ny\r\n"
	    "*3\r\n$8\r\nsmessage\r\n$%zu\r\n%s\r\n$2\r\nok\r\n",
	    n, a1, n, a1, n, a1, n, a1, n, a1, n, a1, n, a1, n, a1, n, a1);
	fnode_ctl(NA, 'P', frame);
	run_until(got(a1, "ok"), 3000);
	test_cond("frames of unexpected shapes ignored, the next delivered",
	    got(a1, "ok") && H.nmsgs == 1);
	settle(200);
	test_cond("the link kept, the channel still ready", is_ready(A1) &&
	    H.ready[A1] == 1 && H.lost[A1] == 0 &&
	    fnode_count(NA, 'S', a1) == 1 && broker_is_up(H.b));
	push_msg(NA, a1, "later");
	run_until(got(a1, "later"), 3000);
	test_cond("later messages delivered", got(a1, "later") &&
	    H.nmsgs == 2);
	teardown();
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	pick_names();
	test_subscribe_move();
	test_move_back();
	test_move_back_subscribing();
	test_node_drops();
	test_moved();
	test_node_lost();
	test_bad_frames();
	return test_report("test_broker_cluster");
}
