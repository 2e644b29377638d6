/* sse-fcgi - MIT License
 *
 * The stats endpoints (see stats_http.h). Redis is read through the
 * publisher's synchronous connection (publisher_redis()): once more on a
 * fresh connection when it had broken, as publishing does. With a
 * cluster, through the publisher's cluster client: the {stats} keys at
 * their slot's master, a channel's history at the channel's (cluster_sync
 * waits out a failover within the publish timeout, so no second try).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "cfg.h"
#include "channel.h"
#include "cidr.h"
#include "cluster_map.h"
#include "log.h"
#include "prom.h"
#include "publish_http.h"
#include "publisher.h"
#include "route.h"
#include "http_answer.h"
#include "stats.h"
#include "stats_http.h"
#include "stats_view.h"
#include "xmalloc.h"

#define STATS_HTTP_RETRY	"Retry-After: 5\r\n"

/* stats_view's way to the cluster: the {stats} slot's master. */
static redisReply *
stats_http_cluster_cmd(void *arg, int argc, const char **argv,
    const size_t *argl, char *err, size_t errlen)
{
	return publisher_cluster_command(arg, cluster_keyslot(
	    STATS_CLUSTER_TAG, sizeof STATS_CLUSTER_TAG - 1), argc, argv,
	    argl, err, errlen);
}

/* Reads every worker's report; returns the view, or NULL with a reason
 * in ERR. */
static struct stats_view *
stats_http_load(const struct cfg *cfg, struct publisher *pub, int channels,
    const char *channel, char *err, size_t errlen)
{
	struct stats_view	*v;
	redisContext		*c;
	int			 attempt;

	snprintf(err, errlen, "stats are unavailable on this worker");
	if (pub != NULL && publisher_is_cluster(pub)) {
		v = stats_view_create();
		if (stats_view_load_cluster(v, stats_http_cluster_cmd, pub,
		    cfg->history_prefix, channels, channel, err, errlen) == 0)
			return v;
		stats_view_free(v);
		return NULL;
	}
	for (attempt = 0; attempt < 2 && pub != NULL; attempt++) {
		if ((c = publisher_redis(pub, err, errlen)) == NULL)
			continue;
		v = stats_view_create();
		if (stats_view_load(v, c, cfg->history_prefix, channels,
		    channel, err, errlen) == 0)
			return v;
		stats_view_free(v);
		if (!c->err)
			break;		/* Redis answered: no retry */
		publisher_reset(pub);
	}
	return NULL;
}

/* Adds the channel's history to the /stats?channel= document O. */
static int
stats_http_history(struct publisher *pub, const char *channel,
    struct json_object *o, char *err, size_t errlen)
{
	struct publisher_info	 info;
	struct json_object	*h;

	if (publisher_info(pub, channel, &info, err, errlen) == -1)
		return -1;
	h = json_object_new_object();
	publish_http_info_json(&info, h);
	json_object_object_add(o, "history", h);
	return 0;
}

void
stats_http_answer(struct http_answer *out, const struct cfg *cfg,
    const struct cidr *allow, struct publisher *pub, int metrics,
    const char *method, const char *remote_addr, int bearer_ok,
    const char *query)
{
	struct stats_view	*v;
	struct json_object	*o;
	const char		*what = metrics ? "/metrics" : "/stats";
	const char		*why;
	char			 key[32], val[256], err[512], *end;
	char			*channel = NULL;
	unsigned long		 top;
	FILE			*fp;
	int			 rc;

	memset(out, 0, sizeof *out);
	top = metrics ? 0 : STATS_HTTP_TOP_DEFAULT;
	if (cfg->stats_interval == 0) {
		http_answer_text(out, 404, "Not Found", "", "stats are off on "
		    "this worker (stats-interval 0)");
		return;
	}
	if (method == NULL || (strcmp(method, "GET") != 0 &&
	    strcmp(method, "HEAD") != 0)) {
		http_answer_text(out, 405, "Method Not Allowed",
		    "Allow: GET, HEAD\r\n", "method not allowed: use GET");
		return;
	}
	/* Who asks comes first: nothing else is told to a stranger. */
	if (!cidr_match(allow, remote_addr) && !bearer_ok) {
		http_answer_text(out, 403, "Forbidden", "", "%s: client address "
		    "%s is not in stats-allow%s", what, remote_addr != NULL ?
		    remote_addr : "(unknown)", cfg->stats_secret != NULL ?
		    " and no valid stats-secret bearer was sent" : "");
		log_info("refused %s", out->body);
		return;
	}
	while (query != NULL && (rc = route_query_next(&query, key,
	    sizeof key, val, sizeof val)) != 0) {
		if (rc == -1) {
			http_answer_text(out, 400, "Bad Request", "",
			    "bad query string");
			goto out;
		}
		if (strcmp(key, "top") == 0) {
			top = strtoul(val, &end, 10);
			if (val[0] < '0' || val[0] > '9' || *end != '\0' ||
			    top > STATS_VIEW_TOP_MAX) {
				http_answer_text(out, 400, "Bad Request", "",
				    "bad top: expected 0..%d",
				    STATS_VIEW_TOP_MAX);
				goto out;
			}
		} else if (strcmp(key, "channel") == 0 && !metrics &&
		    channel == NULL) {
			if (!channel_name_valid(val, strlen(val), &why)) {
				http_answer_text(out, 400, "Bad Request", "",
				    "bad channel name: %s", why);
				goto out;
			}
			channel = xstrdup(val);
		} else {
			http_answer_text(out, 400, "Bad Request", "",
			    "unknown query parameter \"%.31s\" (%s takes %s)",
			    key, what, metrics ? "top" : "top or one channel");
			goto out;
		}
	}

	v = stats_http_load(cfg, pub, channel == NULL && top > 0, channel,
	    err, sizeof err);
	o = NULL;
	if (v != NULL && channel != NULL) {
		o = stats_view_channel_json(v, channel);
		if (stats_http_history(pub, channel, o, err, sizeof err) ==
		    -1) {
			json_object_put(o);
			stats_view_free(v);
			v = NULL;
		}
	}
	if (v == NULL) {
		log_error("%s: %s", what, err);
		if (metrics)
			http_answer_text(out, 503, "Service Unavailable",
			    STATS_HTTP_RETRY, "%s", err);
		else {
			o = json_object_new_object();
			json_object_object_add(o, "error",
			    json_object_new_string(err));
			http_answer_json(out, 503, "Service Unavailable",
			    STATS_HTTP_RETRY, o);
		}
		goto out;
	}
	if (metrics) {
		out->status = 200;
		out->reason = "OK";
		out->type = PROM_CONTENT_TYPE;
		out->extra = "";
		if ((fp = open_memstream(&out->body, &out->len)) == NULL)
			abort();	/* out of memory: see xmalloc.h */
		stats_view_prometheus(v, fp, (unsigned)top);
		fclose(fp);
	} else
		http_answer_json(out, 200, "OK", "", o != NULL ? o :
		    stats_view_json(v, (unsigned)top));
	stats_view_free(v);
out:
	free(channel);
}
