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
 *
 * On a cluster every command goes through the worker's cluster_async
 * (not ours) to the slot of its channel, each with a ticket that names
 * what its reply is for; the cluster answers each one exactly once, by
 * its deadline or at cluster_async_free(), so presence_free() leaves
 * itself to the last ticket (p->out) and a pchan to its last
 * (pc->inflight), as above.
 */
#include "config.h"

#include <stdarg.h>
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

#include "channel.h"
#include "cluster_async.h"
#include "cluster_map.h"
#include "dict.h"
#include "hub.h"
#include "log.h"
#include "monotime.h"
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
	char		*notice;	/* cluster: P presence/notice{NAME} */
	unsigned	 slot;		/* cluster: NAME's */
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
	struct redis_conn	*conn;		/* one Redis */
	redisAsyncContext	*ac;
	struct cluster_async	*ca;		/* a cluster (not ours) */
	unsigned		 out;		/* cluster commands out */
	int			 freed;		/* the last one frees */
	unsigned		 removing;	/* the stop's removal out */
	void			(*removed_fn)(void *);
	void			*removed_arg;
	presence_watch_fn	 watch;
	void			*watch_arg;
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

struct presence_query;

static void	presence_read(struct pchan *pc);
static int	presence_send_read(struct presence *p, struct pchan *pc,
		    int full);
static void	presence_free_rest(struct presence *p);
static void	presence_query_free(struct presence_query *q);

/* Returns 1 when commands may be sent: a cluster always (its client
 * waits out what is down), one Redis while connected. */
static int
presence_up(const struct presence *p)
{
	return p->ca != NULL || p->ac != NULL;
}

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

char *
presence_key(const char *prefix, const char *channel, size_t len,
    int cluster)
{
	size_t	 n = strlen(prefix) + sizeof PRESENCE_KEY + len + 2;
	char	*k = xmalloc(n);

	/* In a cluster the channel is the hash tag (it holds no braces:
	 * channel.h), so the set, the hashes and the notice channel share
	 * its slot. */
	if (cluster)
		snprintf(k, n, "%s%s{%.*s}", prefix, PRESENCE_KEY, (int)len,
		    channel);
	else
		snprintf(k, n, "%s%s%.*s", prefix, PRESENCE_KEY, (int)len,
		    channel);
	return k;
}

char *
presence_cluster_notice(const char *prefix, const char *channel, size_t len)
{
	size_t	 n = strlen(prefix) + sizeof PRESENCE_NOTICE + len + 2;
	char	*k = xmalloc(n);

	snprintf(k, n, "%s%s{%.*s}", prefix, PRESENCE_NOTICE, (int)len,
	    channel);
	return k;
}

int
presence_is_cluster_notice(const char *prefix, const char *name, size_t len)
{
	size_t		 plen = strlen(prefix), nlen = sizeof PRESENCE_NOTICE - 1;
	const char	*why;

	if (len < plen + nlen + 3 || memcmp(name, prefix, plen) != 0 ||
	    memcmp(name + plen, PRESENCE_NOTICE, nlen) != 0 ||
	    name[plen + nlen] != '{' || name[len - 1] != '}')
		return 0;
	return channel_name_valid(name + plen + nlen + 1,
	    len - plen - nlen - 2, &why);
}

/* The read's arguments after the script: KEYS[1], now, the hashes'
 * prefix, names to list (the caller frees ARGS->hpre). */
struct presence_read_args {
	char	*hpre;
	char	 now[24];
	char	 max[24];
};

static void
presence_read_args(struct presence_read_args *a, const char *zkey)
{
	size_t	n = strlen(zkey) + 2;

	a->hpre = xmalloc(n);
	snprintf(a->hpre, n, "%s/", zkey);
	snprintf(a->now, sizeof a->now, "%llu",
	    (unsigned long long)presence_wall_ms());
	snprintf(a->max, sizeof a->max, "%d", PRESENCE_USERS_MAX);
}

/* Fills ARGV/ARGL with the read of ZKEY (EVALSHA SHA, or EVAL of the
 * script when FULL); returns the count, 7. */
static int
presence_read_argv(const char **argv, size_t *argl, int full,
    const char *sha, const char *zkey, const struct presence_read_args *a)
{
	int	i;

	argv[0] = full ? "EVAL" : "EVALSHA";
	argv[1] = full ? PRESENCE_SCRIPT : sha;
	argv[2] = "1";
	argv[3] = zkey;
	argv[4] = a->now;
	argv[5] = a->hpre;
	argv[6] = a->max;
	for (i = 0; i < 7; i++)
		argl[i] = strlen(argv[i]);
	return 7;
}

int
presence_read_cluster(presence_cmd_fn cmd, void *arg, const char *prefix,
    const char *channel, size_t len, char **json, char *err, size_t errlen)
{
	struct presence_read_args	 a;
	redisReply			*r;
	const char			*argv[7];
	size_t				 argl[7];
	char				*zkey, sha[PRESENCE_SHA_LEN + 1];
	unsigned			 slot;
	int				 rc, argc;

	*json = NULL;
	presence_sha(sha);
	zkey = presence_key(prefix, channel, len, 1);
	slot = cluster_keyslot(zkey, strlen(zkey));
	presence_read_args(&a, zkey);
	argc = presence_read_argv(argv, argl, 0, sha, zkey, &a);
	r = cmd(arg, slot, argc, argv, argl, err, errlen);
	if (presence_noscript(r)) {
		/* This master never saw the script (or lost it). */
		freeReplyObject(r);
		argc = presence_read_argv(argv, argl, 1, sha, zkey, &a);
		r = cmd(arg, slot, argc, argv, argl, err, errlen);
	}
	free(zkey);
	free(a.hpre);
	if (r == NULL)
		return -1;
	rc = presence_reply_json(r, channel, len, json, err, errlen);
	freeReplyObject(r);
	return rc;
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
	zkey = presence_key(prefix, channel, len, 0);
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
	free(pc->notice);
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

/* Cluster: what a command's reply is for. */
typedef void	(*presence_ca_fn)(struct presence *p, struct pchan *pc,
		    struct presence_query *q, const redisReply *r,
		    const char *err);

struct presence_ticket {
	struct presence		*p;
	struct pchan		*pc;	/* or NULL; counted in its inflight */
	struct presence_query	*q;	/* or NULL; its reply frees it */
	presence_ca_fn		 fn;	/* NULL: errors are logged */
};

/* The cluster's answer to a command, exactly once (at the latest at its
 * deadline or at cluster_async_free()). */
static void
presence_ca_reply(void *arg, const redisReply *r, const char *err)
{
	struct presence_ticket	*t = arg;
	struct presence		*p = t->p;

	p->out--;
	if (t->pc != NULL && presence_pchan_done(t->pc))
		;	/* unlinked: nobody to tell */
	else if (p->freed) {
		if (t->q != NULL)
			presence_query_free(t->q);
	} else if (t->fn != NULL)
		t->fn(p, t->pc, t->q, r, err);
	else if (r == NULL || r->type == REDIS_REPLY_ERROR)
		presence_failed(p, r == NULL ? err : r->str);
	if (p->freed && p->out == 0)
		presence_free_rest(p);
	free(t);
}

/* Cluster: sends the command of ARGC arguments to SLOT's master; FN gets
 * its reply for PC (tracked: it stays until then) or Q. */
static void
presence_ca_argv(struct presence *p, unsigned slot, struct pchan *pc,
    struct presence_query *q, presence_ca_fn fn, int argc,
    const char **argv, const size_t *argl)
{
	struct presence_ticket	*t;

	t = xcalloc(1, sizeof *t);
	t->p = p;
	t->pc = pc;
	t->q = q;
	t->fn = fn;
	p->out++;
	if (pc != NULL)
		pc->inflight++;
	/* The stop's removal has less time: the worker waits for it. */
	cluster_async_command(p->ca, slot, argc, argv, argl, p->stopped ?
	    PRESENCE_STOP_MS : PRESENCE_CLUSTER_MS, presence_ca_reply, t);
}

#define PRESENCE_CA_ARGS	8

/* The same for NUL-terminated arguments, the list ended by NULL. */
static void
presence_ca(struct presence *p, unsigned slot, struct pchan *pc,
    presence_ca_fn fn, ...)
{
	va_list		 ap;
	const char	*argv[PRESENCE_CA_ARGS], *a;
	size_t		 argl[PRESENCE_CA_ARGS];
	int		 argc = 0;

	va_start(ap, fn);
	while (argc < PRESENCE_CA_ARGS && (a = va_arg(ap, const char *)) !=
	    NULL) {
		argv[argc] = a;
		argl[argc++] = strlen(a);
	}
	va_end(ap);
	presence_ca_argv(p, slot, pc, NULL, fn, argc, argv, argl);
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

/* Writes "<ttl>" and "<now + ttl in ms>" (24 bytes each). */
static void
presence_expiry(const struct presence *p, char *ttl, char *score)
{
	snprintf(ttl, 24, "%u", p->ttl);
	snprintf(score, 24, "%llu", (unsigned long long)(presence_wall_ms() +
	    p->ttl * 1000ULL));
}

/* The cluster's write of PC's whole state, HSET's arguments in A. */
static void
presence_write_full_cluster(struct presence *p, struct pchan *pc,
    const struct presence_argv *a)
{
	char	ttl[24], score[24];

	presence_expiry(p, ttl, score);
	presence_ca(p, pc->slot, NULL, NULL, "DEL", pc->hkey, NULL);
	presence_ca_argv(p, pc->slot, NULL, NULL, NULL, (int)a->n, a->argv,
	    a->argl);
	presence_ca(p, pc->slot, NULL, NULL, "EXPIRE", pc->hkey, ttl, NULL);
	presence_ca(p, pc->slot, NULL, NULL, "ZADD", pc->zkey, score, p->id,
	    NULL);
	presence_ca(p, pc->slot, NULL, NULL, "EXPIRE", pc->zkey, ttl, NULL);
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
	if (p->ca != NULL) {
		presence_write_full_cluster(p, pc, &a);
		free(a.argv);
		free(a.argl);
		free(a.num);
		return;
	}
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
	uint64_t	now = (uint64_t)monotime_ms(), wait;

	if (!presence_up(p) || p->stopped ||
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
	if (p->ca != NULL)
		presence_ca(p, pc->slot, NULL, NULL, "SPUBLISH", pc->notice,
		    pc->name, NULL);
	else
		redisAsyncCommand(p->ac, NULL, NULL, "PUBLISH %s %b",
		    p->notice, pc->name, pc->len);
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
presence_read_reply(struct pchan *pc, const redisReply *r)
{
	struct presence	*p = pc->p;
	struct hub_msg	 m;
	char		*json, err[256];

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
		pc->last_read_ms = (uint64_t)monotime_ms();
		hub_publish(p->hub, pc->name, pc->len, &m);
	} else
		free(json);
	if (pc->again) {
		pc->again = 0;
		presence_read(pc);
	}
}

static void
presence_on_read(redisAsyncContext *ac, void *r, void *priv)
{
	struct pchan	*pc = priv;
	struct presence	*p = pc->p;

	pc->reading = 0;
	if (presence_pchan_done(pc) || r == NULL)
		return;
	if (presence_noscript(r)) {
		/* Redis lost its scripts: this once, the whole script. */
		if (p->ac != NULL && !p->stopped)
			presence_send_read(p, pc, 1);
		return;
	}
	presence_read_reply(pc, r);
}

/* The same through a cluster. */
static void
presence_ca_on_read(struct presence *p, struct pchan *pc,
    struct presence_query *q, const redisReply *r, const char *err)
{
	pc->reading = 0;
	if (r == NULL) {
		presence_failed(p, err);
		return;
	}
	if (presence_noscript(r)) {
		/* This master never saw the script, or lost it. */
		if (!p->stopped)
			presence_send_read(p, pc, 1);
		return;
	}
	presence_read_reply(pc, r);
}

/* Sends the read of PC's sum: EVALSHA, or the whole script (FULL).
 * Returns 0, or -1. */
static int
presence_send_read(struct presence *p, struct pchan *pc, int full)
{
	struct presence_read_args	 ra;
	const char			*argv[7];
	size_t				 argl[7];
	char				*hpre, nowbuf[24], max[24];
	int				 rc, argc;

	if (p->ca != NULL) {
		presence_read_args(&ra, pc->zkey);
		argc = presence_read_argv(argv, argl, full, p->sha, pc->zkey,
		    &ra);
		presence_ca_argv(p, pc->slot, pc, NULL, presence_ca_on_read,
		    argc, argv, argl);
		free(ra.hpre);
		pc->reading = 1;
		return 0;
	}
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

/* The same through a cluster. */
static void
presence_ca_on_query(struct presence *p, struct pchan *pc,
    struct presence_query *q, const redisReply *r, const char *err)
{
	char	*json = NULL, why[256];

	if (q->fn == NULL) {
		presence_query_free(q);
		return;
	}
	if (r == NULL)
		snprintf(why, sizeof why, "%s", err);
	else if (presence_noscript(r) && !q->full) {
		q->full = 1;	/* this master lacks the script */
		presence_query_send(q);
		return;
	} else
		(void)presence_reply_json(r, q->channel, q->len, &json, why,
		    sizeof why);
	q->fn(q->arg, json, json != NULL ? NULL : why);
	free(json);
	presence_query_free(q);
}

/* Sends Q's read; returns 0, or -1. */
static int
presence_query_send(struct presence_query *q)
{
	struct presence_read_args	 ra;
	const char			*argv[7];
	size_t				 argl[7];
	char				*hpre, nowbuf[24], max[24];
	int				 rc, argc;

	if (q->p->ca != NULL) {
		presence_read_args(&ra, q->zkey);
		argc = presence_read_argv(argv, argl, q->full, q->p->sha,
		    q->zkey, &ra);
		presence_ca_argv(q->p, cluster_keyslot(q->zkey,
		    strlen(q->zkey)), NULL, q, presence_ca_on_query, argc,
		    argv, argl);
		free(ra.hpre);
		return 0;
	}

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

	if (p == NULL || !presence_up(p)) {
		snprintf(err, errlen, "presence: redis is unreachable");
		return NULL;
	}
	q = xcalloc(1, sizeof *q);
	q->p = p;
	q->fn = fn;
	q->arg = arg;
	q->channel = xstrndup(channel, len);
	q->len = len;
	q->zkey = presence_key(p->prefix, channel, len, p->ca != NULL);
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
	uint64_t	 now = (uint64_t)monotime_ms(), wait;

	if (!p->events || !presence_up(p) || p->stopped || pc->orphan)
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
static void	presence_expire_reply(struct pchan *pc,
		    const redisReply *reply);

static void
presence_on_expire(redisAsyncContext *ac, void *r, void *priv)
{
	struct pchan	*pc = priv;

	if (presence_pchan_done(pc) || r == NULL)
		return;
	presence_expire_reply(pc, r);
}

/* The same through a cluster: an answer ends a failure's quiet. */
static void
presence_ca_on_expire(struct presence *p, struct pchan *pc,
    struct presence_query *q, const redisReply *r, const char *err)
{
	if (r == NULL) {
		presence_failed(p, err);
		return;
	}
	if (r->type == REDIS_REPLY_INTEGER && p->quiet) {
		log_info("presence: redis answers again");
		p->quiet = 0;
	}
	presence_expire_reply(pc, r);
}

static void
presence_expire_reply(struct pchan *pc, const redisReply *reply)
{
	if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0 &&
	    presence_up(pc->p) && !pc->p->stopped) {
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
	} else if (p->ca != NULL) {
		char	ttl[24], score[24];

		presence_expiry(p, ttl, score);
		presence_ca(p, pc->slot, pc, presence_ca_on_expire, "EXPIRE",
		    pc->hkey, ttl, NULL);
		presence_ca(p, pc->slot, NULL, NULL, "ZADD", pc->zkey, score,
		    p->id, NULL);
		presence_ca(p, pc->slot, NULL, NULL, "EXPIRE", pc->zkey, ttl,
		    NULL);
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
	if (!presence_up(p)) {
		presence_connect(p);
		return;
	}
	dict_foreach(p->chans, presence_beat_one, &e);
}

/* What both kinds of presence share. */
static void
presence_init(struct presence *p, struct event_base *base,
    const char *prefix, const char *patterns, unsigned ttl, struct hub *hub,
    int events)
{
	char		 host[256];
	size_t		 n;

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
}

struct presence *
presence_create(struct event_base *base, const char *url, const char *prefix,
    const char *patterns, unsigned ttl, struct hub *hub, int events,
    char *err, size_t errlen)
{
	struct presence	*p;

	p = xcalloc(1, sizeof *p);
	if ((p->conn = redis_conn_create(url, err, errlen)) == NULL) {
		free(p);
		return NULL;
	}
	presence_init(p, base, prefix, patterns, ttl, hub, events);
	return p;
}

struct presence *
presence_create_cluster(struct event_base *base, struct cluster_async *ca,
    const char *prefix, const char *patterns, unsigned ttl, struct hub *hub,
    int events)
{
	struct presence	*p;

	p = xcalloc(1, sizeof *p);
	p->ca = ca;
	presence_init(p, base, prefix, patterns, ttl, hub, events);
	return p;
}

void
presence_on_watch(struct presence *p, presence_watch_fn fn, void *arg)
{
	p->watch = fn;
	p->watch_arg = arg;
}

static void
presence_free_one(const char *key, size_t klen, void *val, void *arg)
{
	presence_pchan_free(val);
}

/* Cluster: frees PC, or leaves it to its last reply. */
static void
presence_orphan_one(const char *key, size_t klen, void *val, void *arg)
{
	struct pchan	*pc = val;

	if (pc->inflight == 0) {
		presence_pchan_free(pc);
		return;
	}
	pc->orphan = 1;
	event_del(pc->read_ev);
	event_del(pc->notice_ev);
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
	p->beat = NULL;
	if (p->ca != NULL) {
		/* Replies still due find orphans; the last frees P. */
		dict_foreach(p->chans, presence_orphan_one, NULL);
		dict_free(p->chans);
		p->chans = NULL;
		p->removed_fn = NULL;
		if (p->out > 0)
			p->freed = 1;
		else
			presence_free_rest(p);
		return;
	}
	if ((ac = p->ac) != NULL) {
		/* Its callbacks run now with no reply; orphans go. */
		p->ac = NULL;
		redisAsyncFree(ac);
	}
	dict_foreach(p->chans, presence_unref_one, NULL);
	dict_foreach(p->chans, presence_free_one, NULL);
	dict_free(p->chans);
	p->chans = NULL;
	presence_free_rest(p);
}

/* Frees what is left of P once no reply can reach it. */
static void
presence_free_rest(struct presence *p)
{
	if (p->conn != NULL)
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
	if (p->ca == NULL)
		presence_connect(p);
}

/* The answer to one command of the stop's removal (cluster). */
static void
presence_ca_on_removed(struct presence *p, struct pchan *pc,
    struct presence_query *q, const redisReply *r, const char *err)
{
	void	(*fn)(void *);

	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		log_debug("presence: cannot remove this worker's entry: %s",
		    r == NULL ? err : r->str);
	if (--p->removing > 0 || (fn = p->removed_fn) == NULL)
		return;
	p->removed_fn = NULL;
	fn(p->removed_arg);
}

static void
presence_remove_one(const char *key, size_t klen, void *val, void *arg)
{
	struct presence	*p = arg;
	struct pchan	*pc = val;

	if (p->ca != NULL) {
		p->removing += 3;
		presence_ca(p, pc->slot, NULL, presence_ca_on_removed, "DEL",
		    pc->hkey, NULL);
		presence_ca(p, pc->slot, NULL, presence_ca_on_removed, "ZREM",
		    pc->zkey, p->id, NULL);
		presence_ca(p, pc->slot, NULL, presence_ca_on_removed,
		    "SPUBLISH", pc->notice, pc->name, NULL);
		return;
	}

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
	if (p->ca != NULL) {
		/* First: the removal goes with PRESENCE_STOP_MS. */
		p->stopped = 1;
		dict_foreach(p->chans, presence_remove_one, p);
		return;
	}
	if (p->ac != NULL && (p->ac->c.flags & REDIS_CONNECTED)) {
		dict_foreach(p->chans, presence_remove_one, p);
		/* Now: the loop may end before it would write them. */
		redisAsyncHandleWrite(p->ac);
	}
	p->stopped = 1;
}

void
presence_when_removed(struct presence *p, void (*fn)(void *), void *arg)
{
	if (p->removing == 0) {
		fn(arg);
		return;
	}
	p->removed_fn = fn;
	p->removed_arg = arg;
}

const char *
presence_notice_channel(const struct presence *p, size_t *len)
{
	if (p->ca != NULL) {
		*len = 0;
		return NULL;
	}
	*len = p->notice_len;
	return p->notice;
}

int
presence_is_notice(const struct presence *p, const char *channel,
    size_t len)
{
	if (p->ca != NULL)
		return presence_is_cluster_notice(p->prefix, channel, len);
	return len == p->notice_len && memcmp(channel, p->notice, len) == 0;
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

/* The same through a cluster (F NUL-terminated). */
static void
presence_write_cluster(struct presence *p, struct pchan *pc, const char *f,
    unsigned long count)
{
	char	n[24], c[24];

	snprintf(n, sizeof n, "%lu", pc->count);
	snprintf(c, sizeof c, "%lu", count);
	if (f == NULL)
		presence_ca(p, pc->slot, NULL, NULL, "HSET", pc->hkey, "n", n,
		    NULL);
	else if (count > 0)
		presence_ca(p, pc->slot, NULL, NULL, "HSET", pc->hkey, "n", n,
		    f, c, NULL);
	else {
		presence_ca(p, pc->slot, NULL, NULL, "HSET", pc->hkey, "n", n,
		    NULL);
		presence_ca(p, pc->slot, NULL, NULL, "HDEL", pc->hkey, f,
		    NULL);
	}
}

/* Writes PC's count and the field F (FLEN bytes) with its COUNT: 0 drops
 * it. */
static void
presence_write(struct presence *p, struct pchan *pc, const char *f,
    size_t flen, unsigned long count)
{
	if (!presence_up(p) || p->stopped)
		return;
	if (p->ca != NULL)
		presence_write_cluster(p, pc, f, count);
	else if (f == NULL)
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

/* Cluster: PC's notice channel is watched (or no longer: ON 0) by a
 * worker that sends events; the others never read on a notice. */
static void
presence_cluster_watch(struct presence *p, struct pchan *pc, int on)
{
	if (p->watch != NULL && p->events)
		p->watch(p->watch_arg, pc->notice, strlen(pc->notice), on);
}

/* Cluster: PC's slot and notice channel, watched from now on. */
static void
presence_cluster_chan(struct presence *p, struct pchan *pc)
{
	pc->slot = cluster_keyslot(pc->zkey, strlen(pc->zkey));
	pc->notice = presence_cluster_notice(p->prefix, pc->name, pc->len);
	presence_cluster_watch(p, pc, 1);
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
		pc->zkey = presence_key(p->prefix, channel, len,
		    p->ca != NULL);
		n = strlen(pc->zkey) + 1 + strlen(p->id) + 1;
		pc->hkey = xmalloc(n);
		snprintf(pc->hkey, n, "%s/%s", pc->zkey, p->id);
		if (p->ca != NULL)
			presence_cluster_chan(p, pc);
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
		if (presence_up(p) && !p->stopped) {
			presence_write_full(p, pc);
			presence_notice(p, pc);
			/* A cluster's notice channel was watched just now: the
			 * notice may reach the master before the subscription
			 * does. The read goes after the writes, on the same
			 * connection. */
			if (p->ca != NULL)
				presence_read(pc);
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
	if (p->ca != NULL) {
		if (!p->stopped) {
			presence_ca(p, pc->slot, NULL, NULL, "DEL", pc->hkey,
			    NULL);
			presence_ca(p, pc->slot, NULL, NULL, "ZREM", pc->zkey,
			    p->id, NULL);
			presence_ca(p, pc->slot, NULL, NULL, "SPUBLISH",
			    pc->notice, pc->name, NULL);
		}
		presence_cluster_watch(p, pc, 0);
	} else if (p->ac != NULL && !p->stopped) {
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
