/* sse-fcgi - MIT License
 *
 * Hash table: put/get/replace/delete across growth, binary keys.
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

int
main(void)
{
	struct dict	*d;
	char		 key[32];
	size_t		 i, n;
	int		 ok;

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
