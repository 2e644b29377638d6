/* sse-fcgi - MIT License
 *
 * Presence (see presence.h). One struct pchan per presence channel with
 * local streams: its count, its users' counts and two timers (the
 * coalesced notice and the rate-limited read). Writes are pipelined on a
 * hiredis async connection of presence's own (redis_conn.h), opened at
 * start and again at the heartbeat after a loss, when every channel is
 * written out whole; replies are read only for the heartbeat's EXPIRE (0:
 * Redis lost the hash, write it again) and for the reads. A pchan whose
 * last stream left while a reply was due is unlinked at once and freed by
 * the last such reply.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/sha.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "dict.h"
#include "hub.h"
#include "log.h"
#include "pattern.h"
#include "presence.h"
#include "redis_conn.h"
#include "xmalloc.h"

#define PRESENCE_RATE_MS	1000	/* reads and notices per channel */
#define PRESENCE_SHA_LEN	40	/* the script's SHA1, in hex */
#define PRESENCE_ID_MAX		300	/* "<hostname>:<pid>" */

/* Sums the hashes of the workers whose expiry is not past. KEYS[1] the
 * sorted set; ARGV: now (ms), the hash keys' prefix, names to list.
 * Returns {streams, users, name...}. */
static const char PRESENCE_SCRIPT[] =
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])\n"
    "local ws = redis.call('ZRANGE', KEYS[1], 0, -1)\n"
    "local total, seen, names = 0, {}, {}\n"
    "for _, w in ipairs(ws) do\n"
    "  local h = redis.call('HGETALL', ARGV[2] .. w)\n"
    "  for i = 1, #h, 2 do\n"
    "    local f, v = h[i], tonumber(h[i + 1]) or 0\n"
    "    if f == 'n' then total = total + v\n"
    "    elseif v > 0 and string.sub(f, 1, 2) == 'u:' then\n"
    "      local u = string.sub(f, 3)\n"
    "      if not seen[u] then seen[u] = true; names[#names + 1] = u end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "table.sort(names)\n"
    "local out = {total, #names}\n"
    "for i = 1, math.min(#names, tonumber(ARGV[3])) do\n"
    "  out[#out + 1] = names[i]\n"
    "end\n"
    "return out\n";

struct presence;

struct pchan {
	struct presence	*p;
	char		*name;
	size_t		 len;
	char		*zkey;		/* P presence:NAME */
	char		*hkey;		/* P presence:NAME/ID */
	unsigned long	 count;		/* local streams */
	struct dict	*users;		/* "u:NAME" -> streams */
	char		*last_json;	/* last event sent, or NULL */
	uint64_t	 last_read_ms;	/* monotonic */
	uint64_t	 last_notice_ms;
	struct event	*read_ev;	/* a read waiting for its second */
	struct event	*notice_ev;	/* a notice waiting its turn */
	unsigned	 inflight;	/* replies due to this pchan */
	int		 reading;	/* a read is in flight */
	int		 again;		/* read again after it */
	int		 force;		/* a stream joined: send even
					   if the same */
	int		 orphan;	/* unlinked: free at inflight 0 */
};

struct presence {
	struct event_base	*base;
	struct redis_conn	*conn;
	redisAsyncContext	*ac;
	struct hub		*hub;
	char			*patterns;
	char			*prefix;
	char			 id[PRESENCE_ID_MAX];
	char			 sha[PRESENCE_SHA_LEN + 1];	/* EVALSHA */
	char			*notice;	/* P presence/notice */
	size_t			 notice_len;
	unsigned		 ttl;
	int			 events;
	int			 started;
	int			 stopped;
	int			 quiet;		/* failure logged */
	struct event		*beat;
	struct dict		*chans;		/* name -> pchan */
};

static void	presence_read(struct pchan *pc);
static int	presence_send_read(struct presence *p, struct pchan *pc,
		    int full);

/* Writes the script's SHA1 in hex into SHA (PRESENCE_SHA_LEN + 1 bytes):
 * reads send it (EVALSHA), and the script itself only when Redis answers
 * NOSCRIPT (after a restart or SCRIPT FLUSH). */
static void
presence_sha(char *sha)
{
	unsigned char	md[SHA_DIGEST_LENGTH];
	size_t		i;

	SHA1((const unsigned char *)PRESENCE_SCRIPT,
	    sizeof PRESENCE_SCRIPT - 1, md);
	for (i = 0; i < SHA_DIGEST_LENGTH; i++)
		snprintf(sha + 2 * i, 3, "%02x", md[i]);
}

/* Returns 1 if R is Redis's NOSCRIPT error. */
static int
presence_noscript(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0;
}

static uint64_t
presence_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
presence_wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
presence_patterns_match(const char *patterns, const char *channel,
    size_t len)
{
	const char	*p, *e;
	char		 glob[256];
	size_t		 n;

	if (patterns == NULL)
		return 0;
	for (p = patterns; *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		e = p + strcspn(p, " ");
		n = (size_t)(e - p);
		if (n == 0 || n >= sizeof glob)
			continue;
		memcpy(glob, p, n);
		glob[n] = '\0';
		if (pattern_match(glob, channel, len))
			return 1;
	}
	return 0;
}

int
presence_user_valid(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, k, more;
	uint32_t		 cp;

	if (len == 0 || len > PRESENCE_USER_MAX)
		return 0;
	for (i = 0; i < len; i += 1 + more) {
		if (u[i] < 0x80) {
			if (u[i] < 0x20 || u[i] == 0x7f)
				return 0;
			more = 0;
			continue;
		}
		if (u[i] >= 0xc2 && u[i] <= 0xdf) {
			more = 1;
			cp = u[i] & 0x1f;
		} else if (u[i] >= 0xe0 && u[i] <= 0xef) {
			more = 2;
			cp = u[i] & 0x0f;
		} else if (u[i] >= 0xf0 && u[i] <= 0xf4) {
			more = 3;
			cp = u[i] & 0x07;
		} else
			return 0;
		if (len - i - 1 < more)
			return 0;
		for (k = 1; k <= more; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates, past U+10FFFF, C1 controls. */
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
	}
	return 1;
}

int
presence_reply_json(const struct redisReply *r, const char *channel,
    size_t len, char **json, char *err, size_t errlen)
{
	struct json_object	*o, *users;
	const struct redisReply	*e;
	size_t			 i;

	*json = NULL;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER ||
	    r->element[0]->integer < 0 ||
	    r->elements - 2 > PRESENCE_USERS_MAX) {
		if (r != NULL && r->type == REDIS_REPLY_ERROR)
			snprintf(err, errlen, "error from the presence script: "
			    "%.200s", r->str);
		else
			snprintf(err, errlen, "unexpected reply to the "
			    "presence script");
		return -1;
	}
	users = json_object_new_array();
	for (i = 2; i < r->elements; i++) {
		e = r->element[i];
		/* Written by workers, which check names: skip the rest. */
		if (e->type != REDIS_REPLY_STRING ||
		    !presence_user_valid(e->str, e->len))
			continue;
		json_object_array_add(users, json_object_new_string_len(e->str,
		    (int)e->len));
	}
	o = json_object_new_object();
	json_object_object_add(o, "channel", json_object_new_string_len(
	    channel, (int)len));
	json_object_object_add(o, "subscribers",
	    json_object_new_int64(r->element[0]->integer));
	json_object_object_add(o, "users", users);
	*json = xstrdup(json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return 0;
}

/* Writes "P presence:CHANNEL" into a new string. */
static char *
presence_zkey(const char *prefix, const char *channel, size_t len)
{
	size_t	 n = strlen(prefix) + sizeof PRESENCE_KEY + len;
	char	*k = xmalloc(n);

	snprintf(k, n, "%s%s%.*s", prefix, PRESENCE_KEY, (int)len, channel);
	return k;
}

int
presence_read_sync(struct redisContext *c, const char *prefix,
    const char *channel, size_t len, char **json, char *err, size_t errlen)
{
	redisReply	*r;
	char		*zkey, *hpre, now[24], max[24];
	char		 sha[PRESENCE_SHA_LEN + 1];
	int		 rc;

	*json = NULL;
	presence_sha(sha);
	zkey = presence_zkey(prefix, channel, len);
	hpre = xmalloc(strlen(zkey) + 2);
	snprintf(hpre, strlen(zkey) + 2, "%s/", zkey);
	snprintf(now, sizeof now, "%llu",
	    (unsigned long long)presence_wall_ms());
	snprintf(max, sizeof max, "%d", PRESENCE_USERS_MAX);
	r = redisCommand(c, "EVALSHA %s 1 %s %s %s %s", sha, zkey, now, hpre,
	    max);
	if (presence_noscript(r)) {
		freeReplyObject(r);
		r = redisCommand(c, "EVAL %s 1 %s %s %s %s", PRESENCE_SCRIPT,
		    zkey, now, hpre, max);
	}
	free(zkey);
	free(hpre);
	if (r == NULL) {
		snprintf(err, errlen, "redis: %s", c->errstr);
		return -1;
	}
	rc = presence_reply_json(r, channel, len, json, err, errlen);
	freeReplyObject(r);
	return rc;
}

static void
presence_failed(struct presence *p, const char *why)
{
	if (!p->quiet)
		log_warn("presence: redis: %s", why);
	else
		log_debug("presence: redis: %s", why);
	p->quiet = 1;
}

static void
presence_pchan_free(struct pchan *pc)
{
	if (pc->read_ev != NULL)
		event_free(pc->read_ev);
	if (pc->notice_ev != NULL)
		event_free(pc->notice_ev);
	dict_free(pc->users);
	free(pc->name);
	free(pc->zkey);
	free(pc->hkey);
	free(pc->last_json);
	free(pc);
}

/* A reply to PC arrived (or was dropped): frees an orphan at the last. */
static int
presence_pchan_done(struct pchan *pc)
{
	pc->inflight--;
	if (pc->orphan && pc->inflight == 0) {
		presence_pchan_free(pc);
		return 1;
	}
	return pc->orphan;
}

/* Collects the user fields of a pchan for HSET. */
struct presence_argv {
	const char	**argv;
	size_t		 *argl;
	char		(*num)[24];	/* one per user */
	size_t		  n;		/* arguments so far */
	size_t		  k;		/* numbers so far */
};

static void
presence_add_user(const char *key, size_t klen, void *val, void *arg)
{
	struct presence_argv	*a = arg;

	char			*num = a->num[a->k++];

	/* The key holds "u:NAME" (see presence_join). */
	snprintf(num, sizeof a->num[0], "%lu", (unsigned long)(uintptr_t)val);
	a->argv[a->n] = key;
	a->argl[a->n++] = klen;
	a->argv[a->n] = num;
	a->argl[a->n++] = strlen(num);
}

/* Writes PC's whole state: DEL, HSET, EXPIRE, ZADD, EXPIRE. */
static void
presence_write_full(struct presence *p, struct pchan *pc)
{
	struct presence_argv	 a;
	size_t			 n;
	char			 count[24];

	n = 4 + 2 * dict_count(pc->users);
	a.argv = xcalloc(n, sizeof *a.argv);
	a.argl = xcalloc(n, sizeof *a.argl);
	a.num = xcalloc(dict_count(pc->users) + 1, sizeof *a.num);
	snprintf(count, sizeof count, "%lu", pc->count);
	a.argv[0] = "HSET";	a.argl[0] = 4;
	a.argv[1] = pc->hkey;	a.argl[1] = strlen(pc->hkey);
	a.argv[2] = "n";	a.argl[2] = 1;
	a.argv[3] = count;	a.argl[3] = strlen(count);
	a.n = 4;
	a.k = 0;
	dict_foreach(pc->users, presence_add_user, &a);
	redisAsyncCommand(p->ac, NULL, NULL, "DEL %s", pc->hkey);
	redisAsyncCommandArgv(p->ac, NULL, NULL, (int)a.n, a.argv, a.argl);
	redisAsyncCommand(p->ac, NULL, NULL, "EXPIRE %s %u", pc->hkey,
	    p->ttl);
	redisAsyncCommand(p->ac, NULL, NULL, "ZADD %s %llu %s", pc->zkey,
	    (unsigned long long)(presence_wall_ms() + p->ttl * 1000ULL),
	    p->id);
	redisAsyncCommand(p->ac, NULL, NULL, "EXPIRE %s %u", pc->zkey,
	    p->ttl);
	free(a.argv);
	free(a.argl);
	free(a.num);
}

/* Sends the notice for PC now, or when its second is over. */
static void
presence_notice(struct presence *p, struct pchan *pc)
{
	struct timeval	tv;
	uint64_t	now = presence_mono_ms(), wait;

	if (p->ac == NULL || p->stopped ||
	    evtimer_pending(pc->notice_ev, NULL))
		return;
	if (pc->last_notice_ms != 0 &&
	    now - pc->last_notice_ms < PRESENCE_RATE_MS) {
		wait = PRESENCE_RATE_MS - (now - pc->last_notice_ms);
		tv.tv_sec = (time_t)(wait / 1000);
		tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
		evtimer_add(pc->notice_ev, &tv);
		return;
	}
	pc->last_notice_ms = now;
	redisAsyncCommand(p->ac, NULL, NULL, "PUBLISH %s %b", p->notice,
	    pc->name, pc->len);
}

static void
presence_on_notice_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pchan	*pc = arg;

	presence_notice(pc->p, pc);
}

/* The reply to a read: the JSON goes to the channel's streams when it is
 * new. */
static void
presence_on_read(redisAsyncContext *ac, void *r, void *priv)
{
	struct pchan	*pc = priv;
	struct presence	*p = pc->p;
	struct hub_msg	 m;
	char		*json, err[256];

	pc->reading = 0;
	if (presence_pchan_done(pc) || r == NULL)
		return;
	if (presence_noscript(r)) {
		/* Redis lost its scripts: this once, the whole script. */
		if (p->ac != NULL && !p->stopped)
			presence_send_read(p, pc, 1);
		return;
	}
	if (presence_reply_json(r, pc->name, pc->len, &json, err,
	    sizeof err) == -1) {
		presence_failed(p, err);
		return;
	}
	if (pc->force || pc->last_json == NULL ||
	    strcmp(pc->last_json, json) != 0) {
		memset(&m, 0, sizeof m);
		m.event = PRESENCE_EVENT;
		m.data = json;
		m.len = strlen(json);
		pc->force = 0;
		free(pc->last_json);
		pc->last_json = json;
		/* The next read, and so the next event, a second after this
		 * event: however long a reply took, events keep their
		 * second. */
		pc->last_read_ms = presence_mono_ms();
		hub_publish(p->hub, pc->name, pc->len, &m);
	} else
		free(json);
	if (pc->again) {
		pc->again = 0;
		presence_read(pc);
	}
}

/* Sends the read of PC's sum: EVALSHA, or the whole script (FULL).
 * Returns 0, or -1. */
static int
presence_send_read(struct presence *p, struct pchan *pc, int full)
{
	char	*hpre, nowbuf[24], max[24];
	int	 rc;

	hpre = xmalloc(strlen(pc->zkey) + 2);
	snprintf(hpre, strlen(pc->zkey) + 2, "%s/", pc->zkey);
	snprintf(nowbuf, sizeof nowbuf, "%llu",
	    (unsigned long long)presence_wall_ms());
	snprintf(max, sizeof max, "%d", PRESENCE_USERS_MAX);
	rc = redisAsyncCommand(p->ac, presence_on_read, pc,
	    full ? "EVAL %s 1 %s %s %s %s" : "EVALSHA %s 1 %s %s %s %s",
	    full ? PRESENCE_SCRIPT : p->sha, pc->zkey, nowbuf, hpre, max);
	free(hpre);
	if (rc != REDIS_OK)
		return -1;
	pc->reading = 1;
	pc->inflight++;
	return 0;
}

struct presence_query {
	struct presence		*p;
	presence_query_fn	 fn;		/* NULL once cancelled */
	void			*arg;
	char			*channel;
	size_t			 len;
	char			*zkey;
	int			 full;		/* sent the whole script */
};

static int	presence_query_send(struct presence_query *q);

static void
presence_query_free(struct presence_query *q)
{
	free(q->channel);
	free(q->zkey);
	free(q);
}

/* The reply to a query: the JSON to its caller, once. */
static void
presence_on_query(redisAsyncContext *ac, void *r, void *priv)
{
	struct presence_query	*q = priv;
	char			*json = NULL, err[256];

	if (q->fn == NULL) {
		presence_query_free(q);
		return;
	}
	if (r == NULL)
		snprintf(err, sizeof err, "redis connection lost");
	else if (presence_noscript(r) && !q->full && q->p->ac != NULL) {
		q->full = 1;	/* Redis lost its scripts: the whole one */
		if (presence_query_send(q) == 0)
			return;
		snprintf(err, sizeof err, "redis connection lost");
	} else
		(void)presence_reply_json(r, q->channel, q->len, &json, err,
		    sizeof err);
	q->fn(q->arg, json, json != NULL ? NULL : err);
	free(json);
	presence_query_free(q);
}

/* Sends Q's read; returns 0, or -1. */
static int
presence_query_send(struct presence_query *q)
{
	char	*hpre, nowbuf[24], max[24];
	int	 rc;

	hpre = xmalloc(strlen(q->zkey) + 2);
	snprintf(hpre, strlen(q->zkey) + 2, "%s/", q->zkey);
	snprintf(nowbuf, sizeof nowbuf, "%llu",
	    (unsigned long long)presence_wall_ms());
	snprintf(max, sizeof max, "%d", PRESENCE_USERS_MAX);
	rc = redisAsyncCommand(q->p->ac, presence_on_query, q,
	    q->full ? "EVAL %s 1 %s %s %s %s" : "EVALSHA %s 1 %s %s %s %s",
	    q->full ? PRESENCE_SCRIPT : q->p->sha, q->zkey, nowbuf, hpre,
	    max);
	free(hpre);
	return rc == REDIS_OK ? 0 : -1;
}

struct presence_query *
presence_query(struct presence *p, const char *channel, size_t len,
    presence_query_fn fn, void *arg, char *err, size_t errlen)
{
	struct presence_query	*q;

	if (p == NULL || p->ac == NULL) {
		snprintf(err, errlen, "presence: redis is unreachable");
		return NULL;
	}
	q = xcalloc(1, sizeof *q);
	q->p = p;
	q->fn = fn;
	q->arg = arg;
	q->channel = xstrndup(channel, len);
	q->len = len;
	q->zkey = presence_zkey(p->prefix, channel, len);
	if (presence_query_send(q) == -1) {
		presence_query_free(q);
		snprintf(err, errlen, "presence: redis is unreachable");
		return NULL;
	}
	return q;
}

void
presence_query_cancel(struct presence_query *q)
{
	if (q != NULL)
		q->fn = NULL;	/* its reply frees it */
}

/* Reads PC's sum now, or when its second is over. */
static void
presence_read(struct pchan *pc)
{
	struct presence	*p = pc->p;
	struct timeval	 tv;
	uint64_t	 now = presence_mono_ms(), wait;

	if (!p->events || p->ac == NULL || p->stopped || pc->orphan)
		return;
	if (pc->reading) {
		pc->again = 1;
		return;
	}
	if (evtimer_pending(pc->read_ev, NULL))
		return;
	if (pc->last_read_ms != 0 &&
	    now - pc->last_read_ms < PRESENCE_RATE_MS) {
		wait = PRESENCE_RATE_MS - (now - pc->last_read_ms);
		tv.tv_sec = (time_t)(wait / 1000);
		tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
		evtimer_add(pc->read_ev, &tv);
		return;
	}
	if (presence_send_read(p, pc, 0) == 0)
		pc->last_read_ms = now;
}

static void
presence_on_read_timer(evutil_socket_t fd, short what, void *arg)
{
	presence_read(arg);
}

/* The heartbeat's EXPIRE of a hash: 0 means Redis lost it. */
static void
presence_on_expire(redisAsyncContext *ac, void *r, void *priv)
{
	struct pchan	*pc = priv;
	redisReply	*reply = r;

	if (presence_pchan_done(pc) || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0 &&
	    pc->p->ac != NULL && !pc->p->stopped) {
		log_info("presence: redis lost this worker's entry of %s; "
		    "writing it again", pc->name);
		presence_write_full(pc->p, pc);
		presence_notice(pc->p, pc);
	} else if (reply->type == REDIS_REPLY_ERROR)
		presence_failed(pc->p, reply->str);
}

static void
presence_on_connect(const redisAsyncContext *ac, int status)
{
	struct presence	*p = ac->data;

	if (p == NULL)
		return;
	if (status != REDIS_OK) {
		presence_failed(p, ac->errstr);
		if (p->ac == ac)
			p->ac = NULL;
		return;
	}
	if (p->quiet)
		log_info("presence: redis connection is back");
	p->quiet = 0;
}

static void
presence_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct presence	*p = ac->data;

	if (p == NULL)
		return;
	if (status != REDIS_OK)
		presence_failed(p, ac->errstr);
	if (p->ac == ac)
		p->ac = NULL;
}

struct presence_each {
	struct presence	*p;
	int		 full;	/* write everything, else refresh */
};

/* Heartbeat or (re)connect, for one channel. */
static void
presence_beat_one(const char *key, size_t klen, void *val, void *arg)
{
	struct presence_each	*e = arg;
	struct presence		*p = e->p;
	struct pchan		*pc = val;

	if (e->full) {
		presence_write_full(p, pc);
		presence_notice(p, pc);
	} else {
		if (redisAsyncCommand(p->ac, presence_on_expire, pc,
		    "EXPIRE %s %u", pc->hkey, p->ttl) == REDIS_OK)
			pc->inflight++;
		redisAsyncCommand(p->ac, NULL, NULL, "ZADD %s %llu %s",
		    pc->zkey, (unsigned long long)(presence_wall_ms() +
		    p->ttl * 1000ULL), p->id);
		redisAsyncCommand(p->ac, NULL, NULL, "EXPIRE %s %u", pc->zkey,
		    p->ttl);
	}
	/* Catches workers whose entries expired (killed): no notice tells
	 * of them. */
	presence_read(pc);
}

/* The sentinels have answered: connect now rather than at the next
 * heartbeat. */
static void
presence_on_located(void *arg, const char *err);

/* Opens the connection if there is none and writes every channel whole
 * on a new one. Returns 0, or -1. */
static int
presence_connect(struct presence *p)
{
	struct presence_each	 e = { p, 1 };
	redisAsyncContext	*ac;
	char			 why[REDIS_CONN_ERR_MAX];
	int			 pending;

	if (p->ac != NULL)
		return 0;
	ac = redis_conn_async(p->conn, p->base, "presence",
	    presence_on_located, p, &pending, why, sizeof why);
	if (ac == NULL) {
		if (!pending)
			presence_failed(p, why);
		return -1;
	}
	ac->data = p;
	redisAsyncSetConnectCallback(ac, presence_on_connect);
	redisAsyncSetDisconnectCallback(ac, presence_on_disconnect);
	p->ac = ac;
	dict_foreach(p->chans, presence_beat_one, &e);
	return 0;
}

static void
presence_on_located(void *arg, const char *err)
{
	struct presence	*p = arg;

	if (err != NULL)
		presence_failed(p, err);
	else if (!p->stopped)
		presence_connect(p);
}

static void
presence_on_beat(evutil_socket_t fd, short what, void *arg)
{
	struct presence		*p = arg;
	struct presence_each	 e = { p, 0 };

	if (p->stopped)
		return;
	if (p->ac == NULL) {
		presence_connect(p);
		return;
	}
	dict_foreach(p->chans, presence_beat_one, &e);
}

struct presence *
presence_create(struct event_base *base, const char *url, const char *prefix,
    const char *patterns, unsigned ttl, struct hub *hub, int events,
    char *err, size_t errlen)
{
	struct presence	*p;
	char		 host[256];
	size_t		 n;

	p = xcalloc(1, sizeof *p);
	if ((p->conn = redis_conn_create(url, err, errlen)) == NULL) {
		free(p);
		return NULL;
	}
	p->base = base;
	p->hub = hub;
	p->events = events;
	p->ttl = ttl > 0 ? ttl : 1;
	p->patterns = xstrdup(patterns != NULL ? patterns : "");
	p->prefix = xstrdup(prefix);
	if (gethostname(host, sizeof host - 1) == -1 || host[0] == '\0')
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	snprintf(p->id, sizeof p->id, "%s:%ld", host, (long)getpid());
	n = strlen(prefix) + sizeof PRESENCE_NOTICE;
	p->notice = xmalloc(n);
	snprintf(p->notice, n, "%s%s", prefix, PRESENCE_NOTICE);
	p->notice_len = strlen(p->notice);
	presence_sha(p->sha);
	p->chans = dict_create();
	p->beat = event_new(base, -1, EV_PERSIST, presence_on_beat, p);
	return p;
}

static void
presence_free_one(const char *key, size_t klen, void *val, void *arg)
{
	presence_pchan_free(val);
}

static void
presence_unref_one(const char *key, size_t klen, void *val, void *arg)
{
	struct pchan	*pc = val;

	/* Free what no reply will reach any more. */
	pc->inflight = 0;
}

void
presence_free(struct presence *p)
{
	redisAsyncContext	*ac;

	if (p == NULL)
		return;
	if (p->beat != NULL)
		event_free(p->beat);
	if ((ac = p->ac) != NULL) {
		/* Its callbacks run now with no reply; orphans go. */
		p->ac = NULL;
		redisAsyncFree(ac);
	}
	dict_foreach(p->chans, presence_unref_one, NULL);
	dict_foreach(p->chans, presence_free_one, NULL);
	dict_free(p->chans);
	redis_conn_free(p->conn);
	free(p->patterns);
	free(p->prefix);
	free(p->notice);
	free(p);
}

void
presence_start(struct presence *p)
{
	struct timeval	tv;
	unsigned	ms = p->ttl * 1000 / 3;

	if (p->patterns[0] == '\0')
		return;
	p->started = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_add(p->beat, &tv);
	presence_connect(p);
}

static void
presence_remove_one(const char *key, size_t klen, void *val, void *arg)
{
	struct presence	*p = arg;
	struct pchan	*pc = val;

	redisAsyncCommand(p->ac, NULL, NULL, "DEL %s", pc->hkey);
	redisAsyncCommand(p->ac, NULL, NULL, "ZREM %s %s", pc->zkey, p->id);
	redisAsyncCommand(p->ac, NULL, NULL, "PUBLISH %s %b", p->notice,
	    pc->name, pc->len);
}

void
presence_stop(struct presence *p)
{
	if (p->stopped)
		return;
	event_del(p->beat);
	if (p->ac != NULL && (p->ac->c.flags & REDIS_CONNECTED)) {
		dict_foreach(p->chans, presence_remove_one, p);
		/* Now: the loop may end before it would write them. */
		redisAsyncHandleWrite(p->ac);
	}
	p->stopped = 1;
}

const char *
presence_notice_channel(const struct presence *p, size_t *len)
{
	*len = p->notice_len;
	return p->notice;
}

void
presence_on_notice(struct presence *p, const char *payload, size_t len)
{
	struct pchan	*pc;

	if ((pc = dict_get(p->chans, payload, len)) != NULL)
		presence_read(pc);
}

/* Returns the "u:NAME" field of USER in BUF, or NULL when anonymous. */
static const char *
presence_field(const char *user, char *buf, size_t *len)
{
	size_t	n;

	if (user == NULL || (n = strlen(user)) == 0 ||
	    !presence_user_valid(user, n))
		return NULL;
	buf[0] = 'u';
	buf[1] = ':';
	memcpy(buf + 2, user, n);
	buf[n + 2] = '\0';
	*len = n + 2;
	return buf;
}

/* Writes PC's count and the field F (FLEN bytes) with its COUNT: 0 drops
 * it. */
static void
presence_write(struct presence *p, struct pchan *pc, const char *f,
    size_t flen, unsigned long count)
{
	if (p->ac == NULL || p->stopped)
		return;
	if (f == NULL)
		redisAsyncCommand(p->ac, NULL, NULL, "HSET %s n %lu",
		    pc->hkey, pc->count);
	else if (count > 0)
		redisAsyncCommand(p->ac, NULL, NULL, "HSET %s n %lu %b %lu",
		    pc->hkey, pc->count, f, flen, count);
	else {
		redisAsyncCommand(p->ac, NULL, NULL, "HSET %s n %lu",
		    pc->hkey, pc->count);
		redisAsyncCommand(p->ac, NULL, NULL, "HDEL %s %b", pc->hkey,
		    f, flen);
	}
	presence_notice(p, pc);
}

void
presence_join(struct presence *p, const char *channel, size_t len,
    const char *user)
{
	struct pchan	*pc;
	const char	*f;
	char		 buf[PRESENCE_USER_MAX + 3];
	size_t		 flen = 0, n;
	uintptr_t	 c = 0;

	if (p == NULL || !p->started ||
	    !presence_patterns_match(p->patterns, channel, len))
		return;
	if ((pc = dict_get(p->chans, channel, len)) == NULL) {
		pc = xcalloc(1, sizeof *pc);
		pc->p = p;
		pc->name = xstrndup(channel, len);
		pc->len = len;
		pc->zkey = presence_zkey(p->prefix, channel, len);
		n = strlen(pc->zkey) + 1 + strlen(p->id) + 1;
		pc->hkey = xmalloc(n);
		snprintf(pc->hkey, n, "%s/%s", pc->zkey, p->id);
		pc->users = dict_create();
		pc->read_ev = evtimer_new(p->base, presence_on_read_timer, pc);
		pc->notice_ev = evtimer_new(p->base, presence_on_notice_timer,
		    pc);
		dict_put(p->chans, channel, len, pc);
	}
	pc->count++;
	pc->force = 1;
	if ((f = presence_field(user, buf, &flen)) != NULL) {
		c = (uintptr_t)dict_get(pc->users, f, flen) + 1;
		dict_put(pc->users, f, flen, (void *)c);
	}
	if (pc->count == 1) {
		if (p->ac != NULL && !p->stopped) {
			presence_write_full(p, pc);
			presence_notice(p, pc);
		}
	} else
		presence_write(p, pc, f, flen, c);
}

void
presence_leave(struct presence *p, const char *channel, size_t len,
    const char *user)
{
	struct pchan	*pc;
	const char	*f;
	char		 buf[PRESENCE_USER_MAX + 3];
	size_t		 flen = 0;
	uintptr_t	 c = 0;

	if (p == NULL || (pc = dict_get(p->chans, channel, len)) == NULL)
		return;
	if ((f = presence_field(user, buf, &flen)) != NULL &&
	    (c = (uintptr_t)dict_get(pc->users, f, flen)) > 0) {
		if (--c == 0)
			dict_del(pc->users, f, flen);
		else
			dict_put(pc->users, f, flen, (void *)c);
	}
	if (--pc->count > 0) {
		presence_write(p, pc, f, flen, c);
		return;
	}
	/* The last local stream: this worker's entry goes. */
	if (p->ac != NULL && !p->stopped) {
		redisAsyncCommand(p->ac, NULL, NULL, "DEL %s", pc->hkey);
		redisAsyncCommand(p->ac, NULL, NULL, "ZREM %s %s", pc->zkey,
		    p->id);
		redisAsyncCommand(p->ac, NULL, NULL, "PUBLISH %s %b",
		    p->notice, pc->name, pc->len);
	}
	dict_del(p->chans, channel, len);
	if (pc->inflight > 0) {
		pc->orphan = 1;
		event_del(pc->read_ev);
		event_del(pc->notice_ev);
	} else
		presence_pchan_free(pc);
}
