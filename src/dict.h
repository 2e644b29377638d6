/* sse-fcgi - MIT License
 *
 * A string-keyed hash table (chained, power-of-two buckets, SipHash-2-4
 * under a per-process random key, so clients cannot pick colliding keys).
 * Keys are byte strings with a length and are copied in; values are
 * borrowed pointers the caller owns. Iteration order differs from process
 * to process. Not thread-safe.
 */
#ifndef SSE_DICT_H
#define SSE_DICT_H

#include <stddef.h>

struct dict;

typedef void (*dict_each_fn)(const char *key, size_t klen, void *val,
    void *arg);

/* Returns an empty table; free with dict_free(). */
struct dict	*dict_create(void);
/* Frees the table and its keys, not the values. NULL is ignored. */
void		 dict_free(struct dict *);
/* Returns the value stored under KEY, or NULL. */
void		*dict_get(const struct dict *, const char *key, size_t klen);
/* Stores VAL under KEY, replacing any old value; returns the key's copy
 * kept by the table (valid until the entry is deleted). */
const char	*dict_put(struct dict *, const char *key, size_t klen,
		    void *val);
/* Removes KEY; returns its value, or NULL if it was absent. */
void		*dict_del(struct dict *, const char *key, size_t klen);
/* Returns the number of entries. */
size_t		 dict_count(const struct dict *);
/* Calls FN for every entry. FN must not add or delete entries. */
void		 dict_foreach(const struct dict *, dict_each_fn fn, void *arg);

#endif
