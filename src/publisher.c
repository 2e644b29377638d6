/* sse-fcgi - MIT License
 *
 * Synchronous publishing (see publisher.h). The script is loaded once per
 * connection (SCRIPT LOAD) and run with EVALSHA; after a Redis restart or
 * SCRIPT FLUSH the NOSCRIPT error makes it load the script again. An I/O
 * error drops the connection and the call is tried once more on a fresh
 * one, so a Redis restart between two publishes goes unnoticed. Locating,
 * connecting and the handshake are redis_conn's (its blocking form).
 *
 * With a redis+cluster:// URL the keys carry the channel as their hash tag
 * (<prefix>history:{<channel>}, <prefix>clock:{<channel>}), so the script
 * runs on the master of the channel's slot and announces the event there
 * with SPUBLISH; cluster_sync finds that master and follows the cluster's
 * changes, and a node that lacks the script gets it (SCRIPT LOAD) on its
 * NOSCRIPT.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "cluster_map.h"
#include "cluster_sync.h"
#include "publisher.h"
#include "redis_conn.h"
#include "redis_url.h"
#include "scripts.h"
#include "sse.h"
#include "xmalloc.h"

struct publisher {
	struct redis_conn	*conn;		/* NULL for a cluster */
	struct cluster_sync	*cluster;	/* or NULL */
	char			*prefix;
	unsigned		 timeout_ms;
	redisContext		*ctx;
	char			 sha[41];	/* "" until loaded */
};

struct publisher *
publisher_create(const char *url, const char *prefix, unsigned timeout_ms,
    char *err, size_t errlen)
{
	struct publisher	*p;
	struct redis_url	 u;
	int			 cluster;

	if (redis_url_parse(url, &u, err, errlen) == -1)
		return NULL;
	cluster = u.cluster;
	redis_url_clear(&u);
	/* A brace in the prefix would make the hash tag its own, not the
	 * channel: every key in one slot, the channel's SPUBLISH in
	 * another. */
	if (cluster && strchr(prefix, '{') != NULL) {
		snprintf(err, errlen, "history-prefix \"%s\" holds a '{': "
		    "with a redis+cluster:// URL the channel name is the "
		    "keys' hash tag", prefix);
		return NULL;
	}
	p = xcalloc(1, sizeof *p);
	if (cluster)
		p->cluster = cluster_sync_create(url, err, errlen);
	else
		p->conn = redis_conn_create(url, err, errlen);
	if (p->conn == NULL && p->cluster == NULL) {
		free(p);
		return NULL;
	}
	p->prefix = xstrdup(prefix);
	p->timeout_ms = timeout_ms;
	return p;
}

static void
publisher_close(struct publisher *p)
{
	if (p->ctx != NULL)
		redisFree(p->ctx);
	p->ctx = NULL;
	p->sha[0] = '\0';
}

void
publisher_free(struct publisher *p)
{
	if (p == NULL)
		return;
	publisher_close(p);
	redis_conn_free(p->conn);
	cluster_sync_free(p->cluster);
	free(p->prefix);
	free(p);
}

/* Runs one command; returns the reply (caller frees) or NULL with ERR set,
 * in which case the connection was dropped. */
static redisReply *
publisher_call(struct publisher *p, int argc, const char **argv,
    const size_t *argl, char *err, size_t errlen)
{
	redisReply	*r;

	r = redisCommandArgv(p->ctx, argc, argv, argl);
	if (r == NULL) {
		snprintf(err, errlen, "redis: %s", p->ctx->errstr[0] ?
		    p->ctx->errstr : "connection lost");
		publisher_close(p);
	}
	return r;
}

/* Keeps the sha of R, SCRIPT LOAD's reply. Returns 0, or -1 with a reason
 * in ERR. */
static int
publisher_sha(struct publisher *p, const redisReply *r, char *err,
    size_t errlen)
{
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		snprintf(err, errlen, "redis SCRIPT LOAD: %.200s",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		return -1;
	}
	memcpy(p->sha, r->str, 40);
	p->sha[40] = '\0';
	return 0;
}

/* Connects (redis_conn: sentinels, AUTH, SELECT, ROLE) and loads the
 * script. Returns 0 or -1. */
static int
publisher_connect(struct publisher *p, char *err, size_t errlen)
{
	redisReply	*r;
	const char	*argv[3];
	size_t		 argl[3];
	char		 why[REDIS_CONN_ERR_MAX];

	if (p->ctx != NULL && p->sha[0] != '\0')
		return 0;
	publisher_close(p);
	p->ctx = redis_conn_open_sync(p->conn, p->timeout_ms, why,
	    sizeof why);
	if (p->ctx == NULL) {
		snprintf(err, errlen, "cannot connect to redis: %s", why);
		return -1;
	}
	argv[0] = "SCRIPT";
	argv[1] = "LOAD";
	argv[2] = SCRIPT_PUBLISH;
	argl[0] = 6;
	argl[1] = 4;
	argl[2] = strlen(SCRIPT_PUBLISH);
	if ((r = publisher_call(p, 3, argv, argl, err, errlen)) == NULL)
		return -1;
	if (publisher_sha(p, r, err, errlen) == -1) {
		freeReplyObject(r);
		publisher_close(p);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

/* Reads R, the publish script's reply (freed here), into ID and
 * *RECEIVERS. Returns 0, or -1 with a reason in ERR. */
static int
publisher_result(struct publisher *p, redisReply *r, char *id,
    long long *receivers, char *err, size_t errlen)
{
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "redis: %s", r->str);
		/* A demoted master: find the new one next time. */
		if (strncmp(r->str, "READONLY", 8) == 0)
			publisher_close(p);
		freeReplyObject(r);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[0]->len >= EVENT_ID_MAX ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		snprintf(err, errlen, "redis: unexpected reply to the "
		    "publish script");
		freeReplyObject(r);
		return -1;
	}
	memcpy(id, r->element[0]->str, r->element[0]->len + 1);
	*receivers = r->element[1]->integer;
	freeReplyObject(r);
	return 0;
}

/* cluster_sync's fix: a node without the script (new, restarted, or
 * taking the slot over) gets it. */
static int
publisher_cluster_fix(void *arg, redisContext *c, const redisReply *r,
    char *err, size_t errlen)
{
	struct publisher	*p = arg;
	redisReply		*lr;
	const char		*argv[3] = { "SCRIPT", "LOAD", SCRIPT_PUBLISH };
	size_t			 argl[3] = { 6, 4, sizeof SCRIPT_PUBLISH - 1 };
	int			 rc;

	if (r->len < 8 || strncmp(r->str, "NOSCRIPT", 8) != 0)
		return 0;
	if ((lr = redisCommandArgv(c, 3, argv, argl)) == NULL) {
		snprintf(err, errlen, "redis SCRIPT LOAD: %s", c->errstr);
		return -1;
	}
	rc = publisher_sha(p, lr, err, errlen);
	freeReplyObject(lr);
	return rc == 0 ? 1 : -1;
}

/* Fills ARGV and ARGL with the publish script's call: EVALSHA, its keys K1
 * and K2, then its arguments, "spublish" last on a cluster. Returns the
 * count (11 at most). */
static int
publisher_script_call(const struct publisher *p, const char **argv,
    size_t *argl, const char *k1, const char *k2, const char *channel,
    const char *event, const char *smaxlen, const char *smaxage,
    const char *data, size_t len)
{
	int	n = 0, i;

	argv[n++] = "EVALSHA";
	argv[n++] = p->sha;
	argv[n++] = "2";
	argv[n++] = k1;
	argv[n++] = k2;
	argv[n++] = channel;
	argv[n++] = event;
	argv[n++] = smaxlen;
	argv[n++] = smaxage;
	argv[n++] = data;
	if (p->cluster != NULL)
		argv[n++] = "spublish";
	for (i = 0; i < n; i++)
		argl[i] = i == 9 ? len : strlen(argv[i]);
	return n;
}

/* Publishes through the cluster: see the top of this file. */
static int
publisher_publish_cluster(struct publisher *p, const char *channel,
    const char *event, const char *data, size_t len, const char *smaxlen,
    const char *smaxage, char *id, long long *receivers, char *err,
    size_t errlen)
{
	redisReply	*r;
	const char	*argv[11];
	size_t		 argl[11], i;
	char		 k1[512], k2[512], why[CLUSTER_SYNC_ERR_MAX];
	unsigned	 slot;
	int		 n;

	snprintf(k1, sizeof k1, "%shistory:{%s}", p->prefix, channel);
	snprintf(k2, sizeof k2, "%sclock:{%s}", p->prefix, channel);
	slot = cluster_keyslot(channel, strlen(channel));
	if (p->sha[0] == '\0') {
		argv[0] = "SCRIPT";
		argv[1] = "LOAD";
		argv[2] = SCRIPT_PUBLISH;
		for (i = 0; i < 3; i++)
			argl[i] = strlen(argv[i]);
		if ((r = cluster_sync_command(p->cluster, slot, 3, argv, argl,
		    p->timeout_ms, NULL, NULL, why, sizeof why)) == NULL) {
			snprintf(err, errlen, "redis: %s", why);
			return -1;
		}
		i = (size_t)publisher_sha(p, r, err, errlen);
		freeReplyObject(r);
		if (i != 0)
			return -1;
	}
	n = publisher_script_call(p, argv, argl, k1, k2, channel, event,
	    smaxlen, smaxage, data, len);
	if ((r = cluster_sync_command(p->cluster, slot, n, argv, argl,
	    p->timeout_ms, publisher_cluster_fix, p, why, sizeof why)) ==
	    NULL) {
		snprintf(err, errlen, "redis: %s", why);
		return -1;
	}
	return publisher_result(p, r, id, receivers, err, errlen);
}

int
publisher_publish(struct publisher *p, const char *channel,
    const char *event, const char *data, size_t len, unsigned long maxlen,
    unsigned long maxage_ms, char *id, long long *receivers, char *err,
    size_t errlen)
{
	redisReply	*r = NULL;
	const char	*argv[11];
	size_t		 argl[11];
	char		 k1[512], k2[128], smaxlen[24], smaxage[24];
	int		 attempt, n;

	if (event == NULL)
		event = "";
	if (strlen(event) > 255 || !sse_field_ok(event, strlen(event))) {
		snprintf(err, errlen, "event name longer than 255 bytes or "
		    "holding CR, LF or NUL");
		return -1;
	}
	snprintf(k1, sizeof k1, "%shistory:%s", p->prefix, channel);
	snprintf(k2, sizeof k2, "%sclock", p->prefix);
	snprintf(smaxlen, sizeof smaxlen, "%lu", maxlen);
	snprintf(smaxage, sizeof smaxage, "%lu", maxage_ms);
	if (p->cluster != NULL)
		return publisher_publish_cluster(p, channel, event, data, len,
		    smaxlen, smaxage, id, receivers, err, errlen);
	for (attempt = 0; attempt < 2; attempt++) {
		if (publisher_connect(p, err, errlen) == -1)
			continue;
		n = publisher_script_call(p, argv, argl, k1, k2, channel,
		    event, smaxlen, smaxage, data, len);
		if ((r = publisher_call(p, n, argv, argl, err, errlen)) ==
		    NULL)
			continue;
		if (r->type == REDIS_REPLY_ERROR &&
		    strncmp(r->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(r);
			r = NULL;
			p->sha[0] = '\0';	/* flushed: load again */
			snprintf(err, errlen, "redis: script not loaded");
			continue;
		}
		break;
	}
	if (r == NULL)
		return -1;
	return publisher_result(p, r, id, receivers, err, errlen);
}

/* Copies the id of the first entry of an XRANGE/XREVRANGE reply. */
static void
publisher_entry_id(const redisReply *r, char *out)
{
	const redisReply	*e;

	out[0] = '\0';
	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		return;
	e = r->element[0];
	if (e->type == REDIS_REPLY_ARRAY && e->elements > 0 &&
	    e->element[0]->type == REDIS_REPLY_STRING &&
	    e->element[0]->len < EVENT_ID_MAX)
		memcpy(out, e->element[0]->str, e->element[0]->len + 1);
}

/* publisher_info() on a cluster: the three reads at the channel's slot. */
static int
publisher_info_cluster(struct publisher *p, const char *channel,
    struct publisher_info *info, char *err, size_t errlen)
{
	redisReply	*r;
	const char	*argv[3][6] = {
		{ "XLEN", NULL },
		{ "XRANGE", NULL, "-", "+", "COUNT", "1" },
		{ "XREVRANGE", NULL, "+", "-", "COUNT", "1" }
	};
	const int	 argc[3] = { 2, 6, 6 };
	size_t		 argl[6];
	char		 key[512], why[CLUSTER_SYNC_ERR_MAX];
	int		 i, j;

	snprintf(key, sizeof key, "%shistory:{%s}", p->prefix, channel);
	for (i = 0; i < 3; i++) {
		argv[i][1] = key;
		for (j = 0; j < argc[i]; j++)
			argl[j] = strlen(argv[i][j]);
		if ((r = cluster_sync_command(p->cluster,
		    cluster_keyslot(channel, strlen(channel)), argc[i],
		    argv[i], argl, p->timeout_ms, NULL, NULL, why,
		    sizeof why)) == NULL) {
			snprintf(err, errlen, "redis: %s", why);
			return -1;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "redis: %.200s", r->str);
			freeReplyObject(r);
			return -1;
		}
		if (i == 0)
			info->length = r->type == REDIS_REPLY_INTEGER ?
			    r->integer : 0;
		else
			publisher_entry_id(r, i == 1 ? info->first_id :
			    info->last_id);
		freeReplyObject(r);
	}
	return 0;
}

int
publisher_info(struct publisher *p, const char *channel,
    struct publisher_info *info, char *err, size_t errlen)
{
	redisReply	*r[3];
	char		 key[512];
	int		 i, attempt, ok = 0;
	void		*reply;

	memset(info, 0, sizeof *info);
	if (p->cluster != NULL)
		return publisher_info_cluster(p, channel, info, err, errlen);
	snprintf(key, sizeof key, "%shistory:%s", p->prefix, channel);
	for (attempt = 0; attempt < 2 && !ok; attempt++) {
		if (publisher_connect(p, err, errlen) == -1)
			continue;
		redisAppendCommand(p->ctx, "XLEN %s", key);
		redisAppendCommand(p->ctx, "XRANGE %s - + COUNT 1", key);
		redisAppendCommand(p->ctx, "XREVRANGE %s + - COUNT 1", key);
		for (i = 0; i < 3; i++) {
			if (redisGetReply(p->ctx, &reply) != REDIS_OK) {
				snprintf(err, errlen, "redis: %s",
				    p->ctx->errstr);
				while (--i >= 0)
					freeReplyObject(r[i]);
				publisher_close(p);
				break;
			}
			r[i] = reply;
		}
		ok = i == 3;
	}
	if (!ok)
		return -1;
	for (i = 0; i < 3; i++) {
		if (r[i]->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "redis: %s", r[i]->str);
			ok = 0;
		}
	}
	if (ok) {
		info->length = r[0]->type == REDIS_REPLY_INTEGER ?
		    r[0]->integer : 0;
		publisher_entry_id(r[1], info->first_id);
		publisher_entry_id(r[2], info->last_id);
	}
	for (i = 0; i < 3; i++)
		freeReplyObject(r[i]);
	return ok ? 0 : -1;
}

redisContext *
publisher_redis(struct publisher *p, char *err, size_t errlen)
{
	if (p->cluster != NULL) {
		snprintf(err, errlen, "not available with a redis+cluster:// "
		    "URL");
		return NULL;
	}
	if (p->ctx != NULL && p->ctx->err)
		publisher_close(p);
	if (publisher_connect(p, err, errlen) == -1)
		return NULL;
	return p->ctx;
}

redisReply *
publisher_cluster_command(struct publisher *p, unsigned slot, int argc,
    const char **argv, const size_t *argl, char *err, size_t errlen)
{
	redisReply	*r;
	char		 why[CLUSTER_SYNC_ERR_MAX];

	if (p->cluster == NULL) {
		snprintf(err, errlen, "not a redis+cluster:// URL");
		return NULL;
	}
	if ((r = cluster_sync_command(p->cluster, slot, argc, argv, argl,
	    p->timeout_ms, NULL, NULL, why, sizeof why)) == NULL)
		snprintf(err, errlen, "%s", why);
	return r;
}

int
publisher_is_cluster(const struct publisher *p)
{
	return p->cluster != NULL;
}

void
publisher_reset(struct publisher *p)
{
	publisher_close(p);
}
