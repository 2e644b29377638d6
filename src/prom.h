/* sse-fcgi - MIT License
 *
 * Writing the Prometheus text exposition format 0.0.4: one "# HELP" and
 * one "# TYPE" line per metric family, then its samples,
 * name{label="value",...} value. Label values are escaped (backslash,
 * double quote, line feed) since host names go into them; HELP text
 * escapes backslash and line feed. Names are checked, not escaped: they are
 * the program's own constants.
 */
#ifndef SSE_PROM_H
#define SSE_PROM_H

#include <stdio.h>

#define PROM_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct prom_label {
	const char	*name;
	const char	*value;		/* any bytes but NUL */
};

/* Returns 1 if NAME is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), or
 * with LABEL set a valid label name (no ':', no leading "__"). */
int	prom_name_ok(const char *name, int label);
/* Writes the HELP and TYPE lines of the family NAME; TYPE is "counter",
 * "gauge" or "untyped". */
void	prom_family(FILE *out, const char *name, const char *type,
	    const char *help);
/* Writes one sample of NAME with the N LABELS (N may be 0). */
void	prom_sample(FILE *out, const char *name,
	    const struct prom_label *labels, size_t n,
	    unsigned long long value);
/* Writes S escaped for a label value (LABEL set) or for HELP text. */
void	prom_escape(FILE *out, const char *s, int label);

#endif
