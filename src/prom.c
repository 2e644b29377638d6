/* sse-fcgi - MIT License
 *
 * Prometheus text format writer (see prom.h). Names are not checked when
 * writing: they are the program's constants, and the stats tests run them
 * through prom_name_ok().
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "prom.h"

int
prom_name_ok(const char *name, int label)
{
	const char	*p;
	unsigned char	 c;

	if (name == NULL || *name == '\0')
		return 0;
	if (label && strncmp(name, "__", 2) == 0)
		return 0;	/* reserved for Prometheus itself */
	for (p = name; *p != '\0'; p++) {
		c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (c == ':' && !label))
			continue;
		if (c >= '0' && c <= '9' && p != name)
			continue;
		return 0;
	}
	return 1;
}

void
prom_escape(FILE *out, const char *s, int label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"' && label)
			fputs("\\\"", out);
		else
			putc(*s, out);
	}
}

void
prom_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s ", name);
	prom_escape(out, help, 0);
	fprintf(out, "\n# TYPE %s %s\n", name, type);
}

void
prom_sample(FILE *out, const char *name, const struct prom_label *labels,
    size_t n, unsigned long long value)
{
	size_t	i;

	fputs(name, out);
	for (i = 0; i < n; i++) {
		fprintf(out, "%c%s=\"", i == 0 ? '{' : ',', labels[i].name);
		prom_escape(out, labels[i].value, 1);
		putc('"', out);
	}
	fprintf(out, "%s %llu\n", n > 0 ? "}" : "", value);
}
