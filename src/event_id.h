/* sse-fcgi - MIT License
 *
 * Event ids: "MS-SEQ", two decimal numbers, as the publish script makes
 * them. On one Redis (or Sentinel) SEQ comes from one counter per
 * deployment, so ids are totally ordered across every channel: one id
 * marks a client's position in all the channels of its stream, and
 * resuming is "every retained event after it". On a Redis Cluster each
 * channel counts its own, and a stream of several channels marks its
 * place with a vector of them (below).
 */
#ifndef SSE_EVENT_ID_H
#define SSE_EVENT_ID_H

#include <stddef.h>
#include <stdint.h>

#define EVENT_ID_MAX	42	/* two 20-digit numbers, '-', NUL */

struct event_id {
	uint64_t	ms;	/* publish time (non-decreasing) */
	uint64_t	seq;	/* global counter: the order */
};

/* Parses LEN bytes at S. Returns 0, or -1 if S is not exactly
 * digits '-' digits (each at most 20 digits, no overflow). */
int	event_id_parse(const char *s, size_t len, struct event_id *out);
/* Returns <0, 0 or >0 as A is before, the same as or after B. */
int	event_id_cmp(const struct event_id *a, const struct event_id *b);
/* Writes "MS-SEQ" into BUF (EVENT_ID_MAX bytes); returns its length. */
size_t	event_id_format(const struct event_id *id, char *buf);

/*
 * A position vector: the id of a stream of several channels on a Redis
 * Cluster, where each channel counts its own ids (docs/cluster.md):
 * "~MS-SEQ~MS-SEQ...", one field per channel in the stream's order, 0-0
 * for a channel that had no event yet.
 */
#define EVENT_ID_VEC_MAX(n)	((n) * EVENT_ID_MAX + 1)

/* Tells whether the LEN bytes at S look like a vector (start with '~'). */
int	event_id_is_vec(const char *s, size_t len);
/* Parses exactly N fields of the vector at S into OUT[0..N). Returns 0,
 * or -1 when the count differs or a field is not an id. */
int	event_id_vec_parse(const char *s, size_t len, struct event_id *out,
	    size_t n);
/* Writes the vector of V[0..N) into BUF (EVENT_ID_VEC_MAX(N) bytes);
 * returns its length. */
size_t	event_id_vec_format(const struct event_id *v, size_t n, char *buf);

#endif
