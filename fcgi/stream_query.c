/* sse-fcgi - MIT License
 *
 * Requests the loop answers once instead of streaming (see
 * stream_query.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"
#include "presence.h"
#include "stream.h"
#include "stream_int.h"
#include "stream_query.h"
#include "xmalloc.h"

/* Seconds a 503 asks the client to wait. */
#define STREAM_QUERY_RETRY_AFTER	5

static const char *
stream_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	default:
		return "Service Unavailable";
	}
}

void
stream_answer(struct stream *s, int status, const char *type,
    const char *body)
{
	struct frame	*f;
	const char	*more;
	char		*buf, retry[64] = "";
	size_t		 len;
	int		 n;

	more = s->req != NULL && s->req->headers != NULL ? s->req->headers :
	    "";
	if (status == 503)
		snprintf(retry, sizeof retry, "Retry-After: %d\r\n",
		    STREAM_QUERY_RETRY_AFTER);
	len = strlen(more) + strlen(body) + 256;
	buf = xmalloc(len);
	n = snprintf(buf, len,
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "%s%s"
	    "\r\n"
	    "%s\n", status, stream_status_text(status),
	    type != NULL ? type : "text/plain; charset=utf-8", retry, more,
	    body);
	f = frame_from(buf, n > 0 && (size_t)n < len ? (size_t)n :
	    strlen(buf));
	free(buf);
	stream_push(s, f);
	frame_unref(f);
	s->flags |= STREAM_STARTED;	/* these are its headers */
	stream_end(s, NULL, status == 200 ? "answered" : "refused");
}

void
stream_query_unavailable(struct stream *s, const char *reason)
{
	stream_answer(s, 503, NULL, reason);
}

/* The read's answer for S (ARG). */
static void
stream_on_presence(void *arg, const char *json, const char *err)
{
	struct stream	*s = arg;

	s->more->pq = NULL;
	if (json == NULL) {
		log_warn("stream %d/%u: presence: %s", s->fd, s->request_id,
		    err);
		stream_query_unavailable(s, "presence unavailable; try again "
		    "later");
		return;
	}
	stream_answer(s, 200, "application/json", json);
}

void
stream_query_presence(struct stream *s, struct stream_req *req)
{
	char	err[128];

	s->req = req;
	(void)stream_more(s);
	s->more->pq = presence_query(s->ctx->presence,
	    req->channels[0], req->lens[0], stream_on_presence, s, err,
	    sizeof err);
	if (s->more->pq == NULL) {
		log_warn("stream %d/%u: %s", s->fd, s->request_id, err);
		stream_query_unavailable(s, "presence unavailable; try again "
		    "later");
	}
}

void
stream_query_leave(struct stream *s)
{
	if (s->more == NULL)
		return;
	presence_query_cancel(s->more->pq);
	s->more->pq = NULL;
}
