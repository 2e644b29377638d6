/* sse-fcgi - MIT License
 *
 * Address allowlists ("127.0.0.0/8 ::1 10.1.2.3"): which clients may read
 * the stats endpoints, matched against the REMOTE_ADDR the front server
 * passes. Entries are IPv4 or IPv6 addresses, each with an optional prefix
 * length; "none" is the empty list. An IPv4-mapped IPv6 client address
 * (::ffff:127.0.0.1, from a dual-stack socket) is matched as IPv4. No host
 * names: nothing here may block on DNS.
 */
#ifndef SSE_CIDR_H
#define SSE_CIDR_H

#include <stddef.h>

struct cidr;

/* Returns the list parsed from SPEC (entries split by spaces or commas),
 * or NULL with a reason in ERR. */
struct cidr	*cidr_create(const char *spec, char *err, size_t errlen);
/* Frees C. NULL is ignored. */
void		 cidr_free(struct cidr *c);
/* Returns 1 if ADDR (numeric text, maybe with a %zone) is in C, else 0;
 * NULL or unparsable ADDR is never in. */
int		 cidr_match(const struct cidr *c, const char *addr);
/* Returns the number of entries. */
size_t		 cidr_count(const struct cidr *c);

#endif
