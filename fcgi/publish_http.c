/* sse-fcgi - MIT License
 *
 * The publish endpoint (see publish_http.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "auth.h"
#include "cfg.h"
#include "channel.h"
#include "event_id.h"
#include "http_answer.h"
#include "log.h"
#include "publish_http.h"
#include "publisher.h"
#include "route.h"
#include "sse.h"
#include "xmalloc.h"

#define PUBLISH_HTTP_RETRY	"Retry-After: 5\r\n"
#define PUBLISH_HTTP_EVENT_MAX	255

enum publish_http_body_err {
	BODY_SHORT,		/* fewer bytes than Content-Length */
	BODY_TOO_BIG,		/* over max-message */
	BODY_BAD_LENGTH		/* Content-Length is not a number */
};

/* Reads a body of CONTENT_LENGTH bytes up to MAX. Returns it (caller
 * frees) with *LEN, or NULL with the reason in *WHY. */
static char *
publish_http_body(const char *cl, publish_http_read_fn read, void *arg,
    size_t max, size_t *len, enum publish_http_body_err *why)
{
	char			*body, *end;
	unsigned long long	 want = 0;
	int			 n;

	*why = BODY_SHORT;
	if (cl != NULL && cl[0] != '\0') {
		want = strtoull(cl, &end, 10);
		if (*end != '\0' || cl[0] < '0' || cl[0] > '9') {
			*why = BODY_BAD_LENGTH;
			return NULL;
		}
	}
	if (want > max) {
		*why = BODY_TOO_BIG;
		return NULL;
	}
	body = xmalloc((size_t)want + 1);
	*len = 0;
	while (*len < want && (n = read(arg, body + *len,
	    (int)(want - *len))) > 0)
		*len += (size_t)n;
	if (*len != want) {
		free(body);
		return NULL;
	}
	body[*len] = '\0';
	return body;
}

static struct json_object *
publish_http_error(const char *msg)
{
	struct json_object	*o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/* Who may publish: the publisher-secret, or a token allowing CHANNEL.
 * Returns 1, or 0 with the refusal in *OUT. */
static int
publish_http_allowed(struct http_answer *out, const struct auth *auth,
    const struct publish_http_req *req)
{
	enum auth_verdict	 v;
	char			 err[512];

	if (req->secret_ok)
		return 1;
	v = auth_publish(auth, req->bearer, req->bearer != NULL ?
	    strlen(req->bearer) : 0, req->channel, req->clen, time(NULL),
	    err, sizeof err);
	if (v == AUTH_ALLOW)
		return 1;
	log_warn("publish to %.*s refused: %s", (int)req->clen, req->channel,
	    err);
	if (v == AUTH_FORBIDDEN)
		http_answer_text(out, 403, "Forbidden", "", "%s", err);
	else
		http_answer_text(out, 401, "Unauthorized",
		    "WWW-Authenticate: Bearer realm=\"sse-fcgi publish\"\r\n",
		    "%s", err);
	return 0;
}

/* GET: the channel's history length and first and last id. */
static void
publish_http_info(struct http_answer *out, struct publisher *pub,
    const char *channel)
{
	struct publisher_info	 info;
	struct json_object	*o;
	char			 err[512];

	if (publisher_info(pub, channel, &info, err, sizeof err) == -1) {
		log_error("channel info %s: %s", channel, err);
		http_answer_json(out, 503, "Service Unavailable",
		    PUBLISH_HTTP_RETRY, publish_http_error(err));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "channel", json_object_new_string(channel));
	publish_http_info_json(&info, o);
	http_answer_json(out, 200, "OK", "", o);
}

void
publish_http_info_json(const struct publisher_info *info,
    struct json_object *o)
{
	json_object_object_add(o, "length",
	    json_object_new_int64(info->length));
	json_object_object_add(o, "first_id", info->first_id[0] ?
	    json_object_new_string(info->first_id) : NULL);
	json_object_object_add(o, "last_id", info->last_id[0] ?
	    json_object_new_string(info->last_id) : NULL);
}

void
publish_http_answer(struct http_answer *out, const struct cfg *cfg,
    const struct auth *auth, struct publisher *pub,
    const struct publish_http_req *req, publish_http_read_fn read,
    void *read_arg)
{
	const struct cfg_history *rule;
	struct json_object	*o;
	const char		*why, *q, *event = req->event;
	char			 key[32], val[512], err[512], id[EVENT_ID_MAX];
	char			*body;
	size_t			 len;
	long long		 receivers;
	enum publish_http_body_err why_body;
	int			 rc;

	if (strcmp(req->method, "POST") != 0 &&
	    strcmp(req->method, "GET") != 0) {
		http_answer_text(out, 405, "Method Not Allowed",
		    "Allow: GET, POST\r\n", "method not allowed: POST to "
		    "publish, GET for channel info");
		return;
	}
	if (cfg->publisher_secret == NULL && !auth_has_keys(auth)) {
		http_answer_text(out, 403, "Forbidden", "", "publishing over "
		    "HTTP is disabled: set publisher-secret (or a jwt key)");
		return;
	}
	if (!channel_name_valid(req->channel, req->clen, &why)) {
		http_answer_text(out, 400, "Bad Request", "",
		    "bad channel name: %s", why);
		return;
	}
	if (!publish_http_allowed(out, auth, req))
		return;
	if (pub == NULL) {
		http_answer_text(out, 503, "Service Unavailable",
		    PUBLISH_HTTP_RETRY, "publishing is unavailable on this "
		    "worker");
		return;
	}
	if (strcmp(req->method, "GET") == 0) {
		publish_http_info(out, pub, req->channel);
		return;
	}
	q = req->query;
	while (q != NULL && (rc = route_query_next(&q, key, sizeof key, val,
	    sizeof val)) != 0) {
		if (rc == -1) {
			http_answer_text(out, 400, "Bad Request", "",
			    "bad query string (or %%00 in it)");
			return;
		}
		if (strcmp(key, "event") == 0)
			event = val;
	}
	if (event != NULL && (strlen(event) > PUBLISH_HTTP_EVENT_MAX ||
	    !sse_field_ok(event, strlen(event)))) {
		http_answer_text(out, 400, "Bad Request", "", "bad event name: "
		    "at most %d bytes, no CR or LF", PUBLISH_HTTP_EVENT_MAX);
		return;
	}
	body = publish_http_body(req->content_length, read, read_arg,
	    cfg->max_message, &len, &why_body);
	if (body == NULL) {
		if (why_body == BODY_TOO_BIG)
			http_answer_text(out, 413, "Payload Too Large", "",
			    "message larger than max-message (%zu bytes)",
			    cfg->max_message);
		else if (why_body == BODY_BAD_LENGTH)
			http_answer_text(out, 400, "Bad Request", "",
			    "bad Content-Length");
		else
			http_answer_text(out, 400, "Bad Request", "",
			    "request body shorter than its Content-Length");
		return;
	}
	rule = cfg_history_for(cfg, req->channel, req->clen);
	rc = publisher_publish(pub, req->channel, event, body, len,
	    rule->maxlen, rule->maxage_ms, id, &receivers, err, sizeof err);
	free(body);
	if (rc == -1) {
		log_error("publish to %s: %s", req->channel, err);
		http_answer_json(out, 503, "Service Unavailable",
		    PUBLISH_HTTP_RETRY, publish_http_error(err));
		return;
	}
	log_debug("published %zu bytes to %s as %s (%lld workers)", len,
	    req->channel, id, receivers);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "channel",
	    json_object_new_string(req->channel));
	json_object_object_add(o, "receivers",
	    json_object_new_int64(receivers));
	http_answer_json(out, 200, "OK", "", o);
}
