/* sse-fcgi - MIT License
 *
 * Reading one cookie from a Cookie request header (RFC 6265 5.4:
 * "name=value" pairs split by ';'). Names compare exactly; a value in
 * double quotes loses them; the first pair with the name wins.
 */
#ifndef SSE_COOKIE_H
#define SSE_COOKIE_H

#include <stddef.h>

/* Finds the cookie NAME in the Cookie header HEADER (may be NULL). Returns
 * 1 with *VAL pointing into HEADER and *LEN, or 0 when it is absent. */
int	cookie_find(const char *header, const char *name, const char **val,
	    size_t *len);

#endif
