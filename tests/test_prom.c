/* sse-fcgi - MIT License
 *
 * Prometheus text writer: name checks, HELP/TYPE lines, samples with and
 * without labels, escaping of label values (backslash, quote, line feed)
 * and of HELP text.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"
#include "testlib.h"

/* Runs FN into a memory stream; returns the text (caller frees). */
static char *
render(void (*fn)(FILE *))
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	if ((fp = open_memstream(&buf, &len)) == NULL) {
		perror("open_memstream");
		exit(1);
	}
	fn(fp);
	fclose(fp);
	return buf;
}

static void
family(FILE *fp)
{
	prom_family(fp, "sse_fcgi_streams", "gauge", "Open event streams.");
}

static void
help_escape(FILE *fp)
{
	prom_family(fp, "x_total", "counter", "a\\b\nc \"q\"");
}

static void
samples(FILE *fp)
{
	struct prom_label	l[2] = { { "host", "web-1" },
				    { "pid", "42" } };

	prom_sample(fp, "sse_fcgi_streams", NULL, 0, 7);
	prom_sample(fp, "sse_fcgi_worker_streams", l, 2, 3);
	prom_sample(fp, "big_total", NULL, 0, 18446744073709551615ULL);
}

static void
label_escape(FILE *fp)
{
	struct prom_label	l = { "host", "a\"b\\c\nd" };

	prom_sample(fp, "m", &l, 1, 0);
}

int
main(void)
{
	static const char *good[] = { "a", "sse_fcgi_streams", "_x", "a:b",
	    "A9_:" };
	static const char *bad[] = { "", "9a", "a-b", "a b", "a.b", "é" };
	char	*s;
	size_t	 i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		test_cond(good[i], prom_name_ok(good[i], 0));
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		test_cond(bad[i], !prom_name_ok(bad[i], 0));
		test_cond(bad[i], !prom_name_ok(bad[i], 1));
	}
	test_cond("NULL name", !prom_name_ok(NULL, 0));
	test_cond("label name", prom_name_ok("host", 1));
	test_cond("no ':' in label names", !prom_name_ok("a:b", 1));
	test_cond("no '__' label names", !prom_name_ok("__name__", 1));

	s = render(family);
	test_cond("HELP and TYPE", strcmp(s, "# HELP sse_fcgi_streams Open "
	    "event streams.\n# TYPE sse_fcgi_streams gauge\n") == 0);
	free(s);
	s = render(help_escape);
	test_cond("HELP escapes \\ and LF, not quotes", strcmp(s,
	    "# HELP x_total a\\\\b\\nc \"q\"\n# TYPE x_total counter\n") == 0);
	free(s);
	s = render(samples);
	test_cond("samples", strcmp(s, "sse_fcgi_streams 7\n"
	    "sse_fcgi_worker_streams{host=\"web-1\",pid=\"42\"} 3\n"
	    "big_total 18446744073709551615\n") == 0);
	free(s);
	s = render(label_escape);
	test_cond("label value escaping", strcmp(s,
	    "m{host=\"a\\\"b\\\\c\\nd\"} 0\n") == 0);
	if (strcmp(s, "m{host=\"a\\\"b\\\\c\\nd\"} 0\n") != 0)
		fprintf(stderr, "got: %s", s);
	free(s);
	return test_report("test_prom");
}
