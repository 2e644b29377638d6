/* sse-fcgi - MIT License
 *
 * Short HTTP answers (see http_answer.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http_answer.h"
#include "xmalloc.h"

void
http_answer_text(struct http_answer *out, int status, const char *reason,
    const char *extra, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	out->status = status;
	out->reason = reason;
	out->type = "text/plain; charset=utf-8";
	out->extra = extra;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	out->body = xmalloc((size_t)n + 2);
	va_start(ap, fmt);
	vsnprintf(out->body, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out->body[n] = '\n';
	out->body[n + 1] = '\0';
	out->len = (size_t)n + 1;
}

void
http_answer_json(struct http_answer *out, int status, const char *reason,
    const char *extra, struct json_object *o)
{
	const char	*s = json_object_to_json_string_ext(o,
			    JSON_C_TO_STRING_PLAIN);

	out->status = status;
	out->reason = reason;
	out->type = "application/json";
	out->extra = extra;
	out->len = strlen(s) + 1;
	out->body = xmalloc(out->len + 1);
	memcpy(out->body, s, out->len - 1);
	out->body[out->len - 1] = '\n';
	out->body[out->len] = '\0';
	json_object_put(o);
}

void
http_answer_clear(struct http_answer *out)
{
	free(out->body);
	out->body = NULL;
	out->len = 0;
}
