/* sse-fcgi - MIT License
 *
 * Address allowlists (see cidr.h). Every entry is kept as 16 bytes with a
 * prefix length: IPv4 as its IPv4-mapped IPv6 form (::ffff:a.b.c.d, prefix
 * + 96), so one comparison serves both families and a mapped client
 * address needs no special case.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "xmalloc.h"

#define CIDR_TEXT_MAX	64	/* longest entry, with its "/bits" */

struct cidr_net {
	unsigned char	addr[16];
	unsigned	bits;
};

struct cidr {
	struct cidr_net	*nets;
	size_t		 n;
};

/* Parses a numeric address into its 16-byte form; *V4 tells the family.
 * Returns 0 or -1. */
static int
cidr_addr(const char *s, unsigned char out[16], int *v4)
{
	unsigned char	b4[4];

	if (inet_pton(AF_INET, s, b4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, b4, 4);
		*v4 = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*v4 = 0;
		return 0;
	}
	return -1;
}

/* Clears the bits after the prefix, so "10.1.2.3/8" means 10.0.0.0/8. */
static void
cidr_mask(unsigned char a[16], unsigned bits)
{
	unsigned	i;

	for (i = 0; i < 16; i++) {
		if (bits >= 8) {
			bits -= 8;
			continue;
		}
		a[i] &= (unsigned char)(0xff00 >> bits);
		bits = 0;
	}
}

/* Parses one entry, "ADDR" or "ADDR/BITS", of LEN bytes at S. */
static int
cidr_entry(const char *s, size_t len, struct cidr_net *net, char *err,
    size_t errlen)
{
	char		 text[CIDR_TEXT_MAX];
	char		*slash, *end;
	unsigned long	 bits;
	int		 v4;

	if (len >= sizeof text) {
		snprintf(err, errlen, "\"%.*s...\" is too long for an address",
		    32, s);
		return -1;
	}
	memcpy(text, s, len);
	text[len] = '\0';
	if ((slash = strchr(text, '/')) != NULL)
		*slash++ = '\0';
	if (cidr_addr(text, net->addr, &v4) == -1) {
		snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address "
		    "(host names are not allowed)", text);
		return -1;
	}
	net->bits = 128;
	if (slash != NULL) {
		if (!isdigit((unsigned char)*slash) ||
		    (bits = strtoul(slash, &end, 10), *end != '\0') ||
		    bits > (v4 ? 32UL : 128UL)) {
			snprintf(err, errlen, "\"%.*s\": bad prefix length "
			    "(0..%d)", (int)len, s, v4 ? 32 : 128);
			return -1;
		}
		net->bits = (unsigned)bits + (v4 ? 96 : 0);
	}
	cidr_mask(net->addr, net->bits);
	return 0;
}

struct cidr *
cidr_create(const char *spec, char *err, size_t errlen)
{
	struct cidr	*c;
	const char	*p = spec;
	size_t		 len, cap = 0;

	if (spec == NULL) {
		snprintf(err, errlen, "no address list");
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	p += strspn(p, " ,\t");
	len = strcspn(p, " ,\t");
	if (len == 4 && strncmp(p, "none", 4) == 0 &&
	    p[4 + strspn(p + 4, " ,\t")] == '\0')
		return c;
	for (;;) {
		p += strspn(p, " ,\t");
		if (*p == '\0')
			break;
		len = strcspn(p, " ,\t");
		if (c->n == cap) {
			cap = cap ? cap * 2 : 4;
			c->nets = xrealloc(c->nets, cap * sizeof *c->nets);
		}
		if (cidr_entry(p, len, &c->nets[c->n], err, errlen) == -1) {
			cidr_free(c);
			return NULL;
		}
		c->n++;
		p += len;
	}
	if (c->n == 0) {
		snprintf(err, errlen, "empty address list (use \"none\")");
		cidr_free(c);
		return NULL;
	}
	return c;
}

void
cidr_free(struct cidr *c)
{
	if (c == NULL)
		return;
	free(c->nets);
	free(c);
}

int
cidr_match(const struct cidr *c, const char *addr)
{
	unsigned char	 a[16], m[16];
	char		 text[CIDR_TEXT_MAX];
	size_t		 i, len;
	int		 v4;

	if (c == NULL || addr == NULL)
		return 0;
	len = strcspn(addr, "%");	/* fe80::1%eth0 */
	if (len >= sizeof text)
		return 0;
	memcpy(text, addr, len);
	text[len] = '\0';
	if (cidr_addr(text, a, &v4) == -1)
		return 0;
	for (i = 0; i < c->n; i++) {
		memcpy(m, a, sizeof m);
		cidr_mask(m, c->nets[i].bits);
		if (memcmp(m, c->nets[i].addr, sizeof m) == 0)
			return 1;
	}
	return 0;
}

size_t
cidr_count(const struct cidr *c)
{
	return c != NULL ? c->n : 0;
}
