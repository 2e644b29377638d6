/* sse-fcgi - MIT License
 *
 * Host name resolution (see resolve.h). The portable build's lookup runs a
 * private event loop with its own evdns base per call, so it shares no
 * state with the worker's loop; a mutex serialises the calls, because
 * libevent's random source (DNS query ids) is not locked unless libevent
 * threading is set up, which the worker does not need elsewhere.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#ifdef SSE_PORTABLE
#include <pthread.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#endif

#include "resolve.h"

/* Writes the address in SA (AF_INET or AF_INET6) into IP. */
static void
resolve_ntop(const struct sockaddr *sa, char *ip, size_t iplen)
{
	const void	*addr;

	/* Through void *: resolvers align ai_addr for its family, which
	 * clang's -Wcast-align cannot know. */
	if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr;
	else
		addr = &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr;
	inet_ntop(sa->sa_family, addr, ip, (socklen_t)iplen);
}

#ifndef SSE_PORTABLE

/* Resolves HOST through the C library (NSS). */
int
resolve_host(const char *host, char *ip, size_t iplen, char *err,
    size_t errlen)
{
	struct addrinfo	 hints, *res;
	int		 rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s", gai_strerror(rc));
		return -1;
	}
	resolve_ntop(res->ai_addr, ip, iplen);
	freeaddrinfo(res);
	return 0;
}

#else /* SSE_PORTABLE */

static pthread_mutex_t	resolve_lock = PTHREAD_MUTEX_INITIALIZER;

struct resolve_wait {
	int			 done;
	int			 rc;	/* an EVUTIL_EAI_* code, or 0 */
	struct evutil_addrinfo	*res;
};

static void
resolve_on_answer(int rc, struct evutil_addrinfo *res, void *arg)
{
	struct resolve_wait	*w = arg;

	w->rc = rc;
	w->res = res;
	w->done = 1;
}

/* evdns reports lost name servers and odd resolv.conf lines on stderr by
 * default; a failed lookup's reason reaches the caller anyway. */
static void
resolve_quiet(int is_warning, const char *msg)
{
}

/* Looks HOST up in /etc/hosts, then in DNS (/etc/resolv.conf). */
static int
resolve_evdns(const char *host, char *ip, size_t iplen, char *err,
    size_t errlen)
{
	struct event_base		*base;
	struct evdns_base		*dns = NULL;
	struct evutil_addrinfo		 hints, *ai, *pick = NULL;
	struct resolve_wait		 w;
	int				 rc = -1;

	memset(&w, 0, sizeof w);
	if ((base = event_base_new()) == NULL) {
		snprintf(err, errlen, "cannot create an event loop");
		return -1;
	}
	evdns_set_log_fn(resolve_quiet);
	if ((dns = evdns_base_new(base, 0)) == NULL) {
		snprintf(err, errlen, "cannot create a DNS resolver");
		goto out;
	}
	/* Reads /etc/hosts, then /etc/resolv.conf (name servers, search,
	 * ndots, timeout, attempts). A missing or unreadable resolv.conf
	 * (as in a chroot) means the name server on 127.0.0.1, as for the C
	 * library: /etc/hosts still answers. */
	(void)evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL,
	    "/etc/resolv.conf");
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	/* The answer may come at once (hosts file), or later on BASE. */
	if (evdns_getaddrinfo(dns, host, NULL, &hints, resolve_on_answer,
	    &w) == NULL && !w.done) {
		snprintf(err, errlen, "cannot start a DNS query");
		goto out;
	}
	while (!w.done && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	if (!w.done) {
		snprintf(err, errlen, "DNS query did not finish");
		goto out;
	}
	if (w.rc != 0) {
		snprintf(err, errlen, "%s (looked up without NSS: "
		    "/etc/hosts, then DNS)", evutil_gai_strerror(w.rc));
		goto out;
	}
	for (ai = w.res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
		if (ai->ai_family == AF_INET6 && pick == NULL)
			pick = ai;
	}
	if (pick == NULL) {
		snprintf(err, errlen, "no IPv4 or IPv6 address");
		goto out;
	}
	resolve_ntop(pick->ai_addr, ip, iplen);
	rc = 0;
out:
	if (w.res != NULL)
		evutil_freeaddrinfo(w.res);
	if (dns != NULL)
		evdns_base_free(dns, 0);
	event_base_free(base);
	return rc;
}

/* Resolves HOST without NSS: numbers, localhost, /etc/hosts, DNS. */
int
resolve_host(const char *host, char *ip, size_t iplen, char *err,
    size_t errlen)
{
	unsigned char	bin[sizeof(struct in6_addr)];
	int		rc;

	if (inet_pton(AF_INET, host, bin) == 1 ||
	    inet_pton(AF_INET6, host, bin) == 1) {
		snprintf(ip, iplen, "%s", host);
		return 0;
	}
	/* RFC 6761: localhost is the loopback, even with no /etc/hosts (as
	 * in a chroot). */
	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0) {
		snprintf(ip, iplen, "127.0.0.1");
		return 0;
	}
	pthread_mutex_lock(&resolve_lock);
	rc = resolve_evdns(host, ip, iplen, err, errlen);
	pthread_mutex_unlock(&resolve_lock);
	return rc;
}

#endif /* SSE_PORTABLE */
