/* sse-fcgi - MIT License
 *
 * A complete short HTTP answer, built by an endpoint module (stats_http,
 * publish_http) without seeing the FastCGI request, and written by the
 * acceptor: status line, type, extra header lines and an owned body.
 */
#ifndef SSE_HTTP_ANSWER_H
#define SSE_HTTP_ANSWER_H

#include <stddef.h>

struct json_object;

struct http_answer {
	int		 status;
	const char	*reason;	/* "OK", "Forbidden", ... (static) */
	const char	*type;		/* Content-Type (static) */
	const char	*extra;		/* header lines or "" (static) */
	char		*body;		/* owned; ends in LF */
	size_t		 len;
};

/* Sets *OUT to STATUS with a one-line plain-text body (FMT, printf). */
void	http_answer_text(struct http_answer *out, int status,
	    const char *reason, const char *extra, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Sets *OUT to STATUS with the JSON document O (consumed) as its body. */
void	http_answer_json(struct http_answer *out, int status,
	    const char *reason, const char *extra, struct json_object *o);
/* Frees the body of *OUT. */
void	http_answer_clear(struct http_answer *out);

#endif
