/* sse-fcgi - MIT License
 *
 * Host name to numeric address, blocking: at start-up, or on a thread of
 * its own (sentinel.c), never on the event loop.
 *
 * The normal build asks the C library (getaddrinfo: /etc/nsswitch.conf,
 * so files, DNS, LDAP, mDNS...). The portable build (--enable-portable, a
 * static binary for hosts whose C library is older or different) cannot:
 * a static glibc loads its NSS modules with dlopen from the host, which
 * may not match. There a name is looked up without NSS, as
 * docs/shared-hosting.md explains: numeric addresses as they are,
 * "localhost", then /etc/hosts, then the DNS servers of /etc/resolv.conf
 * (libevent's evdns, with its search and ndots options).
 */
#ifndef SSE_RESOLVE_H
#define SSE_RESOLVE_H

#include <stddef.h>

/* Resolves HOST into a numeric address written in IP (IPLEN bytes; 46 is
 * enough): the first the C library gives, or in the portable build the
 * first IPv4 address, else the first IPv6 one. Returns 0, or -1 with a
 * short reason in ERR. Safe on several threads. */
int	resolve_host(const char *host, char *ip, size_t iplen, char *err,
	    size_t errlen);

#endif
