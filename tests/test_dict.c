/* sse-fcgi - MIT License
 *
 * Hash table: put/get/replace/delete across growth, binary keys; the
 * hash is keyed per process (the same keys land in another order in
 * another process).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dict.h"
#include "testlib.h"

static void
count_each(const char *key, size_t klen, void *val, void *arg)
{
	(*(size_t *)arg)++;
}

#define ORDER_KEYS	64

struct order {
	unsigned char	seq[ORDER_KEYS];
	size_t		n;
};

static void
order_each(const char *key, size_t klen, void *val, void *arg)
{
	struct order	*o = arg;

	if (o->n < ORDER_KEYS)
		o->seq[o->n++] = (unsigned char)(size_t)val;
}

/* In a child: the order in which a dict visits the same ORDER_KEYS keys. */
static int
visit_order(unsigned char *seq, size_t len)
{
	struct dict	*d;
	struct order	 o;
	char		 key[32];
	size_t		 i, n;

	d = dict_create();
	for (i = 0; i < ORDER_KEYS; i++) {
		n = (size_t)snprintf(key, sizeof key, "room.%zu", i);
		dict_put(d, key, n, (void *)i);
	}
	o.n = 0;
	dict_foreach(d, order_each, &o);
	dict_free(d);
	memcpy(seq, o.seq, len);
	return o.n == ORDER_KEYS && len == ORDER_KEYS ? 0 : -1;
}

int
main(void)
{
	struct dict	*d;
	char		 key[32];
	unsigned char	 seq1[ORDER_KEYS], seq2[ORDER_KEYS];
	size_t		 i, n;
	int		 ok;

	/* First, so the children draw their own keys, not this process's. */
	test_cond("two processes hash with different keys",
	    test_in_child(visit_order, seq1, sizeof seq1) == 0 &&
	    test_in_child(visit_order, seq2, sizeof seq2) == 0 &&
	    memcmp(seq1, seq2, sizeof seq1) != 0);

	d = dict_create();
	for (i = 0; i < 5000; i++) {
		n = (size_t)snprintf(key, sizeof key, "chan.%zu", i);
		dict_put(d, key, n, (void *)(i + 1));
	}
	test_cond("count", dict_count(d) == 5000);
	ok = 1;
	for (i = 0; i < 5000; i++) {
		n = (size_t)snprintf(key, sizeof key, "chan.%zu", i);
		if (dict_get(d, key, n) != (void *)(i + 1))
			ok = 0;
	}
	test_cond("all found after growth", ok);
	test_cond("prefix is another key", dict_get(d, "chan.1", 5) == NULL);
	test_cond("replace", dict_put(d, "chan.1", 6, (void *)7) != NULL &&
	    dict_get(d, "chan.1", 6) == (void *)7 && dict_count(d) == 5000);
	test_cond("binary key", dict_put(d, "a\0b", 3, (void *)9) != NULL &&
	    dict_get(d, "a\0b", 3) == (void *)9 &&
	    dict_get(d, "a\0c", 3) == NULL);
	for (i = 0; i < 5000; i += 2) {
		n = (size_t)snprintf(key, sizeof key, "chan.%zu", i);
		dict_del(d, key, n);
	}
	test_cond("deleted", dict_count(d) == 2501 &&
	    dict_get(d, "chan.0", 6) == NULL &&
	    dict_get(d, "chan.3", 6) == (void *)4);
	test_cond("delete absent", dict_del(d, "nope", 4) == NULL);
	n = 0;
	dict_foreach(d, count_each, &n);
	test_cond("foreach visits all", n == 2501);
	dict_free(d);
	dict_free(NULL);
	return test_report("test_dict");
}
