/* sse-fcgi - MIT License
 *
 * The acceptor thread (see acceptor.h). For each request it reads the
 * params and the whole (empty, for GET) body through libfcgi, so the
 * connection is at a record boundary when the stream writer takes it over.
 * To hand the connection over it takes ipcFd and requestId, releases
 * libfcgi's buffers with FCGX_Free(r, 0) and sets ipcFd to -1; without
 * that, the next FCGX_Accept_r would reuse or shut down the socket.
 *
 * Stopping: the thread is woken out of accept(2) by SIGUSR2 (handler
 * installed without SA_RESTART, FCGI_FAIL_ACCEPT_ON_INTR set).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "acceptor.h"
#include "broker.h"
#include "cfg.h"
#include "channel.h"
#include "log.h"
#include "route.h"
#include "stream.h"
#include "xmalloc.h"

#define ACCEPTOR_BODY_MAX	65536	/* a stream request has no body */
#define ACCEPTOR_RETRY_AFTER	5	/* seconds, on 503 */
#define ACCEPTOR_FIRST_WAIT_MS	2000	/* for Redis, right after start */

struct acceptor {
	int			 listen_fd;
	const struct cfg	*cfg;
	struct broker		*broker;
	struct stream_ctx	*streams;
	pthread_t		 thread;
	int			 started;
	int			 abandoned;	/* thread left running */
	atomic_int		 stop;
	atomic_int		 done;
};

static void
acceptor_on_wake(int sig)
{
	(void)sig;	/* only interrupts accept(2) */
}

struct acceptor *
acceptor_create(int listen_fd, const struct cfg *cfg, struct broker *broker,
    struct stream_ctx *streams)
{
	struct acceptor	*a;

	a = xcalloc(1, sizeof *a);
	a->listen_fd = listen_fd;
	a->cfg = cfg;
	a->broker = broker;
	a->streams = streams;
	return a;
}

void
acceptor_free(struct acceptor *a)
{
	if (a != NULL && !a->abandoned)
		free(a);
}

/* Sends a complete short response with a plain-text body. EXTRA holds
 * more header lines (each ending in \r\n) or is "". */
static void
acceptor_reply(FCGX_Request *r, int status, const char *reason,
    const char *extra, const char *body)
{
	FCGX_FPrintF(r->out,
	    "Status: %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s"
	    "\r\n"
	    "%s\n", status, reason, extra, body);
	log_debug("%d %s: %s", status, reason, body);
}

/* Reads and drops the request body. Returns its length, or -1 if it is
 * longer than ACCEPTOR_BODY_MAX. */
static long
acceptor_drain_body(FCGX_Request *r)
{
	char	buf[4096];
	long	total = 0;
	int	n;

	while ((n = FCGX_GetStr(buf, sizeof buf, r->in)) > 0) {
		total += n;
		if (total > ACCEPTOR_BODY_MAX)
			return -1;
	}
	return total;
}

/* Right after start, give the broker a moment before calling Redis down. */
static int
acceptor_redis_up(struct acceptor *a)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		i;

	if (broker_is_up(a->broker))
		return 1;
	if (broker_was_up(a->broker))
		return 0;
	for (i = 0; i < ACCEPTOR_FIRST_WAIT_MS / 10; i++) {
		nanosleep(&ts, NULL);
		if (broker_is_up(a->broker))
			return 1;
		if (atomic_load(&a->stop))
			return 0;
	}
	return 0;
}

/* Hands the connection to the stream writer. */
static void
acceptor_handoff(struct acceptor *a, FCGX_Request *r, const char *channel,
    size_t len)
{
	struct stream_req	*req;
	int			 fl;

	req = xcalloc(1, sizeof *req);
	req->fd = r->ipcFd;
	req->request_id = (uint16_t)r->requestId;
	memcpy(req->channel, channel, len);
	req->channel_len = len;
	FCGX_Free(r, 0);
	r->ipcFd = -1;
	fl = fcntl(req->fd, F_GETFL);
	fcntl(req->fd, F_SETFL, fl | O_NONBLOCK);
	fcntl(req->fd, F_SETFD, FD_CLOEXEC);
	stream_submit(a->streams, req);
}

/* Routes one request: answers it, or hands it over as a stream. */
static void
acceptor_handle(struct acceptor *a, FCGX_Request *r)
{
	struct route	 rt;
	const char	*method, *why;
	char		 body[512], extra[64];

	/* One request per connection: a kept-alive idle connection would
	 * block this thread in its next read. */
	r->keepConnection = 0;
	method = FCGX_GetParam("REQUEST_METHOD", r->envp);
	if (acceptor_drain_body(r) == -1) {
		acceptor_reply(r, 413, "Payload Too Large", "",
		    "request body too large");
		return;
	}
	route_parse(FCGX_GetParam("REQUEST_URI", r->envp),
	    FCGX_GetParam("SCRIPT_NAME", r->envp),
	    FCGX_GetParam("PATH_INFO", r->envp), &rt);
	switch (rt.kind) {
	case ROUTE_NOT_FOUND:
		acceptor_reply(r, 404, "Not Found", "", "unknown path: "
		    "expected <mount>/events/<channel>");
		return;
	case ROUTE_BAD:
		acceptor_reply(r, 400, "Bad Request", "", rt.why);
		return;
	case ROUTE_EVENTS:
		break;
	}
	if (method == NULL || (strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0)) {
		acceptor_reply(r, 405, "Method Not Allowed",
		    "Allow: GET, HEAD\r\n", "method not allowed: use GET");
		return;
	}
	if (!channel_name_valid(rt.target, rt.target_len, &why)) {
		snprintf(body, sizeof body, "bad channel name: %s", why);
		acceptor_reply(r, 400, "Bad Request", "", body);
		return;
	}
	snprintf(extra, sizeof extra, "Retry-After: %d\r\n",
	    ACCEPTOR_RETRY_AFTER);
	if (!acceptor_redis_up(a)) {
		acceptor_reply(r, 503, "Service Unavailable", extra,
		    "redis is unreachable; try again later");
		return;
	}
	if (strcmp(method, "HEAD") == 0) {
		FCGX_FPrintF(r->out, "Status: 200 OK\r\n"
		    "Content-Type: text/event-stream\r\n"
		    "Cache-Control: no-cache\r\n\r\n");
		return;
	}
	if (stream_ctx_reserve(a->streams) == -1) {
		log_warn("refusing a stream: max-streams (%u) reached",
		    a->cfg->max_streams);
		acceptor_reply(r, 503, "Service Unavailable", extra,
		    "too many streams on this worker; try again later");
		return;
	}
	acceptor_handoff(a, r, rt.target, rt.target_len);
}

static void *
acceptor_main(void *arg)
{
	struct acceptor		*a = arg;
	struct timespec		 pause = { 0, 100 * 1000 * 1000 };
	FCGX_Request		 r;
	sigset_t		 set;
	int			 rc;

	/* Signals belong to the loop thread, except our wake-up call. */
	sigfillset(&set);
	sigdelset(&set, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &set, NULL);

	FCGX_InitRequest(&r, a->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!atomic_load(&a->stop)) {
		rc = FCGX_Accept_r(&r);
		if (rc < 0) {
			if (atomic_load(&a->stop))
				break;
			if (rc != -EINTR) {
				log_error("accept: %s", strerror(-rc));
				nanosleep(&pause, NULL);	/* EMFILE */
			}
			continue;
		}
		acceptor_handle(a, &r);
	}
	FCGX_Finish_r(&r);
	atomic_store(&a->done, 1);
	return NULL;
}

int
acceptor_start(struct acceptor *a)
{
	struct sigaction	sa;
	int			rc;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = acceptor_on_wake;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept(2) must return */
	sigaction(SIGUSR2, &sa, NULL);
	if ((rc = pthread_create(&a->thread, NULL, acceptor_main, a)) != 0) {
		errno = rc;
		return -1;
	}
	a->started = 1;
	return 0;
}

void
acceptor_stop(struct acceptor *a)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		i;

	if (!a->started)
		return;
	atomic_store(&a->stop, 1);
	for (i = 0; i < 100 && !atomic_load(&a->done); i++) {
		pthread_kill(a->thread, SIGUSR2);
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&a->done))
		pthread_join(a->thread, NULL);
	else {
		log_warn("acceptor busy with a request; not waiting for it");
		pthread_detach(a->thread);
		a->abandoned = 1;
	}
	a->started = 0;
}
