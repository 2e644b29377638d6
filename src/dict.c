/* sse-fcgi - MIT License
 *
 * String-keyed hash table (see dict.h). The key bytes live in the same
 * allocation as the entry, so an entry is one malloc. Channel names come
 * from clients, so the hash is SipHash under the process's secret key: an
 * unkeyed hash would let anyone send names that all share a bucket.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "seed.h"
#include "siphash.h"
#include "xmalloc.h"

struct dict_entry {
	struct dict_entry	*next;
	void			*val;
	uint32_t		 hash;
	size_t			 klen;
	char			 key[];	/* NUL-terminated for convenience */
};

struct dict {
	struct dict_entry	**buckets;
	size_t			  mask;	/* bucket count - 1 */
	size_t			  count;
	/* A copy of the process key, so lookups need no once-check. */
	unsigned char		  key[SIPHASH_KEY_LEN];
};

static uint32_t
dict_hash(const struct dict *d, const char *key, size_t klen)
{
	return (uint32_t)siphash24(d->key, key, klen);
}

struct dict *
dict_create(void)
{
	struct dict	*d;

	d = xcalloc(1, sizeof *d);
	d->mask = 15;
	memcpy(d->key, seed_key(), sizeof d->key);
	d->buckets = xcalloc(d->mask + 1, sizeof *d->buckets);
	return d;
}

void
dict_free(struct dict *d)
{
	struct dict_entry	*e, *next;
	size_t			 i;

	if (d == NULL)
		return;
	for (i = 0; i <= d->mask; i++) {
		for (e = d->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(d->buckets);
	free(d);
}

static struct dict_entry **
dict_slot(const struct dict *d, const char *key, size_t klen, uint32_t h)
{
	struct dict_entry	**pe;

	for (pe = &d->buckets[h & d->mask]; *pe != NULL; pe = &(*pe)->next) {
		if ((*pe)->hash == h && (*pe)->klen == klen &&
		    memcmp((*pe)->key, key, klen) == 0)
			break;
	}
	return pe;
}

static void
dict_grow(struct dict *d)
{
	struct dict_entry	**nb, *e, *next;
	size_t			  i, nmask = d->mask * 2 + 1;

	nb = xcalloc(nmask + 1, sizeof *nb);
	for (i = 0; i <= d->mask; i++) {
		for (e = d->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & nmask];
			nb[e->hash & nmask] = e;
		}
	}
	free(d->buckets);
	d->buckets = nb;
	d->mask = nmask;
}

void *
dict_get(const struct dict *d, const char *key, size_t klen)
{
	struct dict_entry	*e;

	e = *dict_slot(d, key, klen, dict_hash(d, key, klen));
	return e != NULL ? e->val : NULL;
}

const char *
dict_put(struct dict *d, const char *key, size_t klen, void *val)
{
	struct dict_entry	**pe, *e;
	uint32_t		  h = dict_hash(d, key, klen);

	pe = dict_slot(d, key, klen, h);
	if (*pe != NULL) {
		(*pe)->val = val;
		return (*pe)->key;
	}
	if (d->count >= d->mask + 1) {
		dict_grow(d);
		pe = dict_slot(d, key, klen, h);
	}
	e = xmalloc(sizeof *e + klen + 1);
	e->next = NULL;
	e->val = val;
	e->hash = h;
	e->klen = klen;
	memcpy(e->key, key, klen);
	e->key[klen] = '\0';
	*pe = e;
	d->count++;
	return e->key;
}

void *
dict_del(struct dict *d, const char *key, size_t klen)
{
	struct dict_entry	**pe, *e;
	void			 *val;

	pe = dict_slot(d, key, klen, dict_hash(d, key, klen));
	if ((e = *pe) == NULL)
		return NULL;
	*pe = e->next;
	val = e->val;
	free(e);
	d->count--;
	return val;
}

size_t
dict_count(const struct dict *d)
{
	return d->count;
}

void
dict_foreach(const struct dict *d, dict_each_fn fn, void *arg)
{
	struct dict_entry	*e, *next;
	size_t			 i;

	for (i = 0; i <= d->mask; i++) {
		for (e = d->buckets[i]; e != NULL; e = next) {
			next = e->next;
			fn(e->key, e->klen, e->val, arg);
		}
	}
}
