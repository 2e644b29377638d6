/* sse-fcgi - MIT License
 *
 * A stream and the application's check (see stream_auth.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "auth_url.h"
#include "frame.h"
#include "log.h"
#include "stream.h"
#include "stream_auth.h"
#include "stream_int.h"
#include "stream_query.h"

#define STREAM_BYE_AUTH	"authorization unavailable; reconnect later"

void
stream_ctx_set_auth_url(struct stream_ctx *ctx, struct auth_url *au)
{
	ctx->auth_url = au;
}

/* Answers S with the app's refusal V (401 or 403) and ends it. */
static void
stream_auth_refuse(struct stream *s, const struct auth_url_verdict *v)
{
	stream_answer(s, v->kind == AUTH_URL_UNAUTHORIZED ? 401 : 403, NULL,
	    v->reason);
}

/* Ends S, which streamed, after a re-check refused it: a last comment,
 * no new retry: (see stream_auth.h). */
static void
stream_auth_revoke(struct stream *s, const struct auth_url_verdict *v)
{
	struct frame	*f;
	char		 buf[AUTH_URL_REASON_MAX + 64];
	int		 n;

	n = snprintf(buf, sizeof buf, ": access ended (%d): %s\n\n",
	    v->kind == AUTH_URL_UNAUTHORIZED ? 401 : 403, v->reason);
	if (n < 0 || (size_t)n >= sizeof buf)
		n = (int)strlen(buf);
	f = frame_from(buf, (size_t)n);
	stream_push(s, f);
	frame_unref(f);
	stream_end(s, NULL, "access ended by auth-url");
}

/* Applies the verdict V to S; returns 1 when S ended. */
static int
stream_auth_apply(struct stream *s, const struct auth_url_verdict *v)
{
	switch (v->kind) {
	case AUTH_URL_ALLOW:
		return 0;
	case AUTH_URL_UNAUTHORIZED:
	case AUTH_URL_FORBIDDEN:
		log_info("refused a stream of %s: auth-url %d: %s",
		    s->req != NULL && s->req->nchannels > 0 ?
		    s->req->channels[0] : "?", v->status, v->reason);
		stream_auth_refuse(s, v);
		return 1;
	case AUTH_URL_UNAVAILABLE:
		if (s->req != NULL && s->req->presence)
			stream_query_unavailable(s, STREAM_BYE_AUTH);
		else
			stream_end(s, STREAM_BYE_AUTH, "auth-url unavailable");
		return 1;
	}
	return 1;
}

/* The checker's callback for S (ARG). */
static void
stream_auth_on_verdict(void *arg, const struct auth_url_verdict *v,
    int waiting)
{
	struct stream		*s = arg;
	struct stream_req	*req;

	if (s->flags & (STREAM_DEAD|STREAM_ENDING))
		return;
	if (!waiting) {
		log_info("stream %d/%u: auth-url now says %d (%s); ending it",
		    s->fd, s->request_id, v->status, v->reason);
		stream_auth_revoke(s, v);
		return;
	}
	if (stream_auth_apply(s, v))
		return;
	req = s->req;
	s->req = NULL;
	stream_subscribe(s, req);
}

int
stream_auth_wait(struct stream *s, struct stream_req *req)
{
	struct auth_url_verdict	 v;
	struct auth_url_creds	*c = req->auth;
	int			 known;

	if (c == NULL)
		return 0;
	req->auth = NULL;
	if (s->ctx->auth_url == NULL) {		/* cannot happen */
		auth_url_creds_free(c);
		return 0;
	}
	s->req = req;
	(void)stream_more(s);
	s->more->auth = auth_url_subscribe(s->ctx->auth_url, c,
	    stream_auth_on_verdict, s, &v, &known);
	if (!known)
		return 1;
	if (stream_auth_apply(s, &v))
		return 1;
	s->req = NULL;
	return 0;
}

void
stream_auth_leave(struct stream *s)
{
	if (s->more == NULL)
		return;
	auth_url_unsubscribe(s->more->auth);
	s->more->auth = NULL;
}

const char *
stream_auth_user(const struct stream *s)
{
	const char	*u;

	if (STREAM_MORE(s, auth) == NULL)
		return NULL;
	u = auth_url_sub_user(s->more->auth);
	return u[0] != '\0' ? u : NULL;
}
