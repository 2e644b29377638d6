/* sse-fcgi - MIT License
 *
 * The presence endpoint (see presence_http.h). Redis is read through the
 * publisher's synchronous connection (publisher_redis()), once more on a
 * fresh connection when it had broken, as the stats endpoint does; on a
 * Redis Cluster through the publisher's cluster client (the keys and the
 * script at the master of the channel's slot, see presence.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cfg.h"
#include "channel.h"
#include "http_answer.h"
#include "log.h"
#include "presence.h"
#include "presence_http.h"
#include "publisher.h"

int
presence_http_check(struct http_answer *out, const struct cfg *cfg,
    const char *method, const char *channel, size_t len)
{
	const char	*why;

	memset(out, 0, sizeof *out);
	if (method == NULL || (strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0)) {
		http_answer_text(out, 405, "Method Not Allowed",
		    "Allow: GET, HEAD\r\n", "method not allowed: use GET");
		return 1;
	}
	if (!channel_name_valid(channel, len, &why)) {
		http_answer_text(out, 400, "Bad Request", "",
		    "bad channel name: %s", why);
		return 1;
	}
	if (!presence_patterns_match(cfg->presence, channel, len)) {
		http_answer_text(out, 404, "Not Found", "", "no presence for "
		    "channel %.*s (it matches no presence pattern)", (int)len,
		    channel);
		return 1;
	}
	return 0;
}

/* presence_read_cluster's way to the cluster: the publisher's. */
static redisReply *
presence_http_cluster_cmd(void *arg, unsigned slot, int argc,
    const char **argv, const size_t *argl, char *err, size_t errlen)
{
	return publisher_cluster_command(arg, slot, argc, argv, argl, err,
	    errlen);
}

void
presence_http_answer(struct http_answer *out, const struct cfg *cfg,
    struct publisher *pub, const char *channel, size_t len)
{
	redisContext	*c;
	char		*json = NULL, err[512];
	int		 attempt;

	memset(out, 0, sizeof *out);
	snprintf(err, sizeof err, "presence is unavailable on this worker");
	if (pub != NULL && publisher_is_cluster(pub))
		(void)presence_read_cluster(presence_http_cluster_cmd, pub,
		    cfg->history_prefix, channel, len, &json, err, sizeof err);
	for (attempt = 0; attempt < 2 && pub != NULL &&
	    !publisher_is_cluster(pub); attempt++) {
		if ((c = publisher_redis(pub, err, sizeof err)) == NULL)
			continue;
		if (presence_read_sync(c, cfg->history_prefix, channel, len,
		    &json, err, sizeof err) == 0)
			break;
		if (!c->err)
			break;		/* Redis answered: no retry */
		publisher_reset(pub);
	}
	if (json == NULL) {
		log_error("presence of %.*s: %s", (int)len, channel, err);
		http_answer_text(out, 503, "Service Unavailable",
		    "Retry-After: 5\r\n", "presence unavailable: %s", err);
		return;
	}
	http_answer_text(out, 200, "OK", "", "%s", json);
	out->type = "application/json";
	free(json);
}
