/* sse-fcgi - MIT License
 *
 * The portable build only (--enable-portable): replacements for the C
 * library functions that a static glibc would serve through NSS modules
 * or dlopen, loaded at run time from the host (whose glibc may be older or
 * different: the binary would then fail or crash). Linked as an object
 * into sse-fcgi and sse-publish, so the linker never takes glibc's own.
 *
 * - getaddrinfo/freeaddrinfo (hiredis connects through it, always with the
 *   numeric address resolve.c found) and gethostbyname (libfcgi's
 *   "--listen HOST:PORT"): numeric addresses, then resolve_host(), which
 *   reads /etc/hosts and asks DNS itself. Service names are not looked up
 *   (/etc/services is NSS): ports must be numbers.
 * - getservbyname, getprotobynumber (libevent's fallbacks for names the
 *   project never passes): no answer.
 * - dlopen and the rest of <dlfcn.h> (OpenSSL's loadable engines and
 *   providers, which the project does not use: its HMAC, RSA and ECDSA are
 *   built in): dlopen (wrapped at link time) always fails, and says why
 *   through dlerror.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "resolve.h"

void	*__wrap_dlopen(const char *, int);

/* One answer: the addrinfo and its address in one block. */
struct portable_ai {
	struct addrinfo		ai;
	struct sockaddr_storage	ss;
};

/* Parses SERVICE, a port number (or NULL for 0). */
static int
portable_port(const char *service, unsigned short *port)
{
	char	*end;
	long	 v;

	if (service == NULL) {
		*port = 0;
		return 0;
	}
	errno = 0;
	v = strtol(service, &end, 10);
	if (*service == '\0' || *end != '\0' || errno != 0 || v < 0 ||
	    v > 65535)
		return -1;
	*port = htons((unsigned short)v);
	return 0;
}

/* Fills the address of HOST (numeric, or resolved) for FAMILY. */
static int
portable_addr(const char *host, int family, int flags,
    struct sockaddr_storage *ss, int *famp)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;
	char			 ip[64], why[160];

	if (host == NULL) {
		/* AI_PASSIVE: the wildcard; otherwise the loopback. */
		if (family == AF_INET6) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = (flags & AI_PASSIVE) ?
			    in6addr_any : in6addr_loopback;
		} else {
			sin->sin_family = AF_INET;
			sin->sin_addr.s_addr = htonl((flags & AI_PASSIVE) ?
			    INADDR_ANY : INADDR_LOOPBACK);
		}
		*famp = ss->ss_family;
		return 0;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else if (flags & AI_NUMERICHOST)
		return EAI_NONAME;
	else if (resolve_host(host, ip, sizeof ip, why, sizeof why) == -1)
		return EAI_NONAME;
	else if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		return EAI_FAIL;
	if (family != AF_UNSPEC && family != ss->ss_family)
		return EAI_ADDRFAMILY;
	*famp = ss->ss_family;
	return 0;
}

/* getaddrinfo(3) without NSS: one answer, for one socket type. */
int
getaddrinfo(const char *host, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct portable_ai	*p;
	unsigned short		 port;
	int			 family = AF_UNSPEC, flags = 0, rc, fam;

	if (host == NULL && service == NULL)
		return EAI_NONAME;
	if (hints != NULL) {
		family = hints->ai_family;
		flags = hints->ai_flags;
	}
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return EAI_FAMILY;
	if (portable_port(service, &port) == -1)
		return EAI_SERVICE;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return EAI_MEMORY;
	if ((rc = portable_addr(host, family, flags, &p->ss, &fam)) != 0) {
		free(p);
		return rc;
	}
	if (fam == AF_INET6) {
		((struct sockaddr_in6 *)(void *)&p->ss)->sin6_port = port;
		p->ai.ai_addrlen = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)(void *)&p->ss)->sin_port = port;
		p->ai.ai_addrlen = sizeof(struct sockaddr_in);
	}
	p->ai.ai_family = fam;
	p->ai.ai_socktype = hints != NULL && hints->ai_socktype != 0 ?
	    hints->ai_socktype : SOCK_STREAM;
	p->ai.ai_protocol = hints != NULL && hints->ai_protocol != 0 ?
	    hints->ai_protocol : p->ai.ai_socktype == SOCK_DGRAM ?
	    IPPROTO_UDP : IPPROTO_TCP;
	p->ai.ai_addr = (struct sockaddr *)(void *)&p->ss;
	*res = &p->ai;
	return 0;
}

/* Frees what getaddrinfo() above returned: one block per answer. */
void
freeaddrinfo(struct addrinfo *ai)
{
	struct addrinfo	*next;

	for (; ai != NULL; ai = next) {
		next = ai->ai_next;
		free(ai);	/* the block starts with its addrinfo */
	}
}

/* gethostbyname(3) without NSS, IPv4 only; not thread-safe, as the C
 * library's is not. */
struct hostent *
gethostbyname(const char *name)
{
	static struct hostent	 he;
	static struct in_addr	 addr;
	static char		*list[2];
	static char		 hname[256];
	struct sockaddr_storage	 ss;
	int			 fam;

	memset(&ss, 0, sizeof ss);
	if (name == NULL || strlen(name) >= sizeof hname ||
	    portable_addr(name, AF_INET, 0, &ss, &fam) != 0) {
		h_errno = HOST_NOT_FOUND;
		return NULL;
	}
	addr = ((struct sockaddr_in *)(void *)&ss)->sin_addr;
	memcpy(hname, name, strlen(name) + 1);
	list[0] = (char *)&addr;
	list[1] = NULL;
	he.h_name = hname;
	he.h_aliases = list + 1;
	he.h_addrtype = AF_INET;
	he.h_length = sizeof addr;
	he.h_addr_list = list;
	return &he;
}

/* No /etc/services without NSS: callers fall back to numbers. */
struct servent *
getservbyname(const char *name, const char *proto)
{
	return NULL;
}

/* No /etc/protocols without NSS. */
struct protoent *
getprotobynumber(int proto)
{
	return NULL;
}

/* No shared objects in a static binary: dlopen fails and the rest has
 * nothing to work on. The link wraps dlopen (-Wl,--wrap=dlopen): the C
 * library keeps its own for its internal use, and would warn about any
 * reference to it by name. */
void *
__wrap_dlopen(const char *file, int mode)
{
	return NULL;
}

/* Why dlopen failed. */
char *
dlerror(void)
{
	static char	why[] = "no dlopen in the portable (static) build";

	return why;
}

/* Nothing was opened, so there is nothing to look up. */
void *
dlsym(void *handle, const char *name)
{
	return NULL;
}

/* Nothing was opened, so there is nothing to close. */
int
dlclose(void *handle)
{
	return -1;
}

/* No shared objects to report on. */
int
dladdr(const void *addr, Dl_info *info)
{
	return 0;
}
