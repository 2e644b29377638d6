/* sse-fcgi - MIT License
 *
 * Sentinel discovery (see sentinel.h). Each sentinel is one redis_dial
 * exchange of one command; a sentinel that does not answer in time, or
 * does not know the master, is skipped and the first good answer wins. A
 * numeric answer is used as it is; a name is resolved by resolve_host()
 * (through redis_url_resolve_host(): getaddrinfo(), or in the portable
 * build /etc/hosts and DNS without NSS) on a short-lived thread that
 * reports back through a pipe, so a slow DNS server never stalls the loop.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "redis_dial.h"
#include "redis_url.h"
#include "sentinel.h"
#include "xmalloc.h"

/* A name lookup on its own thread. Two references, the thread's and the
 * query's; whoever drops the last frees it. */
struct sentinel_lookup {
	atomic_int	 refs;
	int		 fds[2];	/* the thread writes one byte when done */
	char		 host[SENTINEL_HOST_MAX];
	char		 ip[REDIS_URL_IP_MAX];
	char		 why[160];
	int		 rc;
};

struct sentinel_query {
	struct event_base	*base;
	const struct redis_url	*url;
	sentinel_fn		 fn;
	void			*arg;
	size_t			 next;		/* sentinel to ask next */
	struct redis_dial	*dial;
	struct sentinel_lookup	*lookup;
	struct event		*step_ev;	/* the next step, off any stack */
	struct event		*lookup_ev;
	char			 host[SENTINEL_HOST_MAX];
	int			 port;
	char			 err[SENTINEL_ERR_MAX];	/* every reason */
};

static void	sentinel_ask_next(struct sentinel_query *);

/* Adds why the sentinel SN failed to the query's reasons. */
static void
sentinel_why(struct sentinel_query *q, const struct redis_sentinel *sn,
    const char *why)
{
	size_t	n = strlen(q->err);

	if (n + 1 < sizeof q->err)
		snprintf(q->err + n, sizeof q->err - n, "%ssentinel %s:%d: %s",
		    n > 0 ? "; " : "", sn->host, sn->port, why);
}

int
sentinel_parse(const redisReply *r, const char *master, char *host,
    int *port, char *why, size_t whylen)
{
	const redisReply	*h, *p;
	char			*end;
	long			 v;

	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, whylen, "%.*s", (int)r->len, r->str);
		if (why[0] == '\0')	/* empty, or NUL first */
			snprintf(why, whylen, "an empty error reply");
		return -1;
	}
	if (r->type == REDIS_REPLY_NIL) {
		snprintf(why, whylen, "does not know master \"%s\"", master);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		snprintf(why, whylen, "unexpected reply (type %d) about "
		    "master \"%s\"", r->type, master);
		return -1;
	}
	h = r->element[0];
	p = r->element[1];
	if (h->len == 0 || h->len >= SENTINEL_HOST_MAX ||
	    memchr(h->str, '\0', h->len) != NULL) {
		snprintf(why, whylen, "gave a bad address");
		return -1;
	}
	errno = 0;
	v = strtol(p->str, &end, 10);
	if (p->len == 0 || end != p->str + p->len || errno != 0 || v < 1 ||
	    v > 65535) {
		snprintf(why, whylen, "gave a bad port");
		return -1;
	}
	memcpy(host, h->str, h->len + 1);
	*port = (int)v;
	return 0;
}

static void
sentinel_lookup_release(struct sentinel_lookup *l)
{
	if (atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	close(l->fds[0]);
	close(l->fds[1]);
	free(l);
}

static void *
sentinel_lookup_main(void *arg)
{
	struct sentinel_lookup	*l = arg;
	ssize_t			 n;

	l->rc = redis_url_resolve_host(l->host, l->ip, sizeof l->ip, l->why,
	    sizeof l->why);
	do
		n = write(l->fds[1], "", 1);
	while (n == -1 && errno == EINTR);
	sentinel_lookup_release(l);
	return NULL;
}

/* Ends the query: FN runs, then the query is freed. */
static void
sentinel_end(struct sentinel_query *q, const char *ip, const char *err)
{
	q->fn(q->arg, ip, q->port, err);
	sentinel_query_cancel(q);
}

static void
sentinel_on_lookup(evutil_socket_t fd, short what, void *arg)
{
	struct sentinel_query	*q = arg;
	struct sentinel_lookup	*l = q->lookup;
	char			 ip[REDIS_URL_IP_MAX];

	event_free(q->lookup_ev);
	q->lookup_ev = NULL;
	q->lookup = NULL;
	if (l->rc == 0) {
		memcpy(ip, l->ip, sizeof ip);
		sentinel_lookup_release(l);
		sentinel_end(q, ip, NULL);
		return;
	}
	sentinel_why(q, &q->url->sentinels[q->next - 1], l->why);
	sentinel_lookup_release(l);
	sentinel_ask_next(q);
}

/* Resolves Q->host on a thread. Returns 0, or -1 with a reason in WHY. */
static int
sentinel_lookup_start(struct sentinel_query *q, char *why, size_t whylen)
{
	struct sentinel_lookup	*l;
	pthread_attr_t		 attr;
	pthread_t		 t;
	int			 rc;

	l = xcalloc(1, sizeof *l);
	if (pipe2(l->fds, O_CLOEXEC) == -1) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		free(l);
		return -1;
	}
	memcpy(l->host, q->host, sizeof l->host);
	atomic_store(&l->refs, 2);
	q->lookup_ev = event_new(q->base, l->fds[0], EV_READ,
	    sentinel_on_lookup, q);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, sentinel_lookup_main, l);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		snprintf(why, whylen, "cannot start a name lookup: %s",
		    strerror(rc));
		event_free(q->lookup_ev);
		q->lookup_ev = NULL;
		atomic_store(&l->refs, 1);
		sentinel_lookup_release(l);
		return -1;
	}
	q->lookup = l;
	event_add(q->lookup_ev, NULL);
	return 0;
}

static int
sentinel_on_reply(void *arg, size_t n, const redisReply *r, char *why,
    size_t whylen)
{
	struct sentinel_query	*q = arg;

	return sentinel_parse(r, q->url->master, q->host, &q->port, why,
	    whylen);
}

static void
sentinel_on_dial(void *arg, redisContext *c, const char *why)
{
	struct sentinel_query		*q = arg;
	const struct redis_sentinel	*sn = &q->url->sentinels[q->next - 1];
	unsigned char			 bin[16];
	char				 lwhy[160];

	q->dial = NULL;
	if (c == NULL) {
		sentinel_why(q, sn, why);
		sentinel_ask_next(q);
		return;
	}
	redisFree(c);
	if (inet_pton(AF_INET, q->host, bin) == 1 ||
	    inet_pton(AF_INET6, q->host, bin) == 1) {
		sentinel_end(q, q->host, NULL);
		return;
	}
	if (sentinel_lookup_start(q, lwhy, sizeof lwhy) == -1) {
		sentinel_why(q, sn, lwhy);
		sentinel_ask_next(q);
	}
}

/* Asks the next sentinel, or ends the query when none is left. */
static void
sentinel_ask_next(struct sentinel_query *q)
{
	const struct redis_sentinel	*sn;
	struct redis_dial_addr		 addr;
	char				*cmd, why[160];
	const char			*argv[3];
	int				 len;

	while (q->next < q->url->nsentinels) {
		sn = &q->url->sentinels[q->next++];
		argv[0] = "SENTINEL";
		argv[1] = "get-master-addr-by-name";
		argv[2] = q->url->master;
		if ((len = redisFormatCommandArgv(&cmd, 3, argv, NULL)) < 0)
			break;
		memset(&addr, 0, sizeof addr);
		addr.ip = sn->ip;
		addr.port = sn->port;
		q->dial = redis_dial_start(q->base, &addr, cmd, (size_t)len, 1,
		    SENTINEL_TIMEOUT_MS, sentinel_on_reply, sentinel_on_dial,
		    q, why, sizeof why);
		free(cmd);
		if (q->dial != NULL)
			return;
		sentinel_why(q, sn, why);
	}
	if (q->url->nsentinels == 0)
		snprintf(q->err, sizeof q->err, "no sentinel listed");
	else if (strlen(q->err) + 40 < sizeof q->err)
		strcat(q->err, " (no sentinel knows the master)");
	sentinel_end(q, NULL, q->err);
}

static void
sentinel_on_step(evutil_socket_t fd, short what, void *arg)
{
	sentinel_ask_next(arg);
}

struct sentinel_query *
sentinel_query_start(struct event_base *base, const struct redis_url *u,
    sentinel_fn fn, void *arg)
{
	struct sentinel_query	*q;
	struct timeval		 now = { 0, 0 };

	q = xcalloc(1, sizeof *q);
	q->base = base;
	q->url = u;
	q->fn = fn;
	q->arg = arg;
	/* The first step runs from the loop: FN never runs inside here. */
	q->step_ev = evtimer_new(base, sentinel_on_step, q);
	evtimer_add(q->step_ev, &now);
	return q;
}

void
sentinel_query_cancel(struct sentinel_query *q)
{
	if (q == NULL)
		return;
	redis_dial_cancel(q->dial);
	if (q->lookup_ev != NULL)
		event_free(q->lookup_ev);
	if (q->lookup != NULL)
		sentinel_lookup_release(q->lookup);
	if (q->step_ev != NULL)
		event_free(q->step_ev);
	free(q);
}
