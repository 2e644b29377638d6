/* sse-fcgi - MIT License
 *
 * Worker configuration (see cfg.h). One table, cfg_opts[], names every
 * setting with its type, place in struct cfg, range, default and help; the
 * flag, config-file and environment parsers, the defaults and the usage
 * text are all driven by it, so they cannot drift apart. Defaults are
 * stored as text and parsed like any other value, which is what lets
 * --help print them and the tests read them back.
 *
 * "history" is a repeatable option (CFG_T_HISTORY): each value adds a
 * rule instead of replacing the last, and cfg_load() moves each layer's
 * rules ahead of the layers before it, giving the lookup order cfg.h
 * promises. publisher-secret-file and jwt-secret-file are read only once
 * every layer is in, so a flag can point elsewhere than a broken path in
 * the file. "initial-events" (CFG_T_INITIAL) is a second list kept the
 * same way, in its own block below.
 *
 * Limits: no inline comments in the file ('#' may appear in passwords), no
 * escapes inside "quoted" values, no short flags besides -h and -V.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_url.h"
#include "cfg.h"
#include "channel.h"
#include "pattern.h"
#include "log.h"
#include "xmalloc.h"

#define CFG_LINE_MAX	4096		/* bytes per config-file line */
#define CFG_ENV_PREFIX	"SSE_FCGI_"
#define CFG_ENV_MAX	64		/* room for any env name we build */
#define CFG_SECRET_MAX	4096		/* bytes in a secret */
#define CFG_MAXLEN_MAX	10000000ULL	/* history MAXLEN */
#define CFG_MAXAGE_MAX	(365ULL * 24 * 3600 * 1000)	/* MAXAGE, in ms */
#define CFG_INITIAL_MAX	1000		/* initial events per channel */

enum cfg_type {
	CFG_T_STRING,			/* char *, owned, never empty */
	CFG_T_TOKEN,			/* same, min..max bytes of [!-~] */
	CFG_T_SECRET,			/* a token never echoed in errors */
	CFG_T_INT,			/* int */
	CFG_T_UINT,			/* unsigned */
	CFG_T_SIZE,			/* size_t, with k/m suffixes */
	CFG_T_LOGLEVEL,			/* int, via log_level_parse() */
	CFG_T_HOLD,			/* int ms: "off" (-1) or seconds with
					   up to 3 decimals, min..max s */
	CFG_T_HISTORY,			/* appends to cfg.history */
	CFG_T_INITIAL,			/* appends to cfg.initial */
	CFG_T_GLOBS			/* char *, space-separated globs,
					   each value's appended */
};

struct cfg_opt {
	const char		*name;	/* long flag and file key */
	enum cfg_type		 type;
	size_t			 off;	/* offset in struct cfg */
	unsigned long long	 min;	/* range (or token length) */
	unsigned long long	 max;
	const char		*def;	/* default as text, or NULL */
	const char		*arg;	/* placeholder in the usage text */
	const char		*help;	/* lines, no trailing period */
};

#define CFG_OFF(f)	offsetof(struct cfg, f)

static const struct cfg_opt cfg_opts[] = {
	{ "config", CFG_T_STRING, CFG_OFF(config_file), 0, 0, NULL, "FILE",
	  "read settings from FILE (\"key = value\" lines, # comments)" },
	{ "listen", CFG_T_STRING, CFG_OFF(listen), 0, 0, NULL, "ADDR",
	  "HOST:PORT or unix:PATH to listen on, not the socket on fd 0" },
	{ "backlog", CFG_T_INT, CFG_OFF(backlog), 1, 65535, "1024", "N",
	  "listen(2) backlog for --listen" },
	{ "redis", CFG_T_STRING, CFG_OFF(redis), 0, 0,
	  "redis://127.0.0.1:6379", "URL",
	  "redis://[[user]:password@]host[:port][/db] or unix:/path.sock" },
	{ "keepalive", CFG_T_UINT, CFG_OFF(keepalive), 1, 3600, "15",
	  "SECONDS", "seconds between keepalive comments on idle streams" },
	{ "retry", CFG_T_UINT, CFG_OFF(retry_ms), 0, 3600000, "3000", "MS",
	  "\"retry:\" as a stream opens (0 = none); jittered at its end" },
	{ "queue-limit", CFG_T_SIZE, CFG_OFF(queue_limit), 4096,
	  1024ULL * 1024 * 1024, "1m", "BYTES",
	  "unsent bytes a stalled stream may hold (reading ones: 8x; k, m)" },
	{ "max-streams", CFG_T_UINT, CFG_OFF(max_streams), 0, 1000000,
	  "0", "N", "open streams per worker, 0 = as many as fds allow" },
	{ "max-channels", CFG_T_UINT, CFG_OFF(max_channels), 1, 1024, "16",
	  "N", "channels one stream may subscribe to" },
	{ "max-header", CFG_T_SIZE, CFG_OFF(max_header), 1024,
	  1024ULL * 1024, "16k", "BYTES",
	  "refuse (431) a request whose headers, URI and query string take\n"
	  "more bytes than this (k, m suffixes)" },
	{ "shutdown-grace", CFG_T_UINT, CFG_OFF(shutdown_grace), 0, 3600,
	  "5", "SECONDS", "seconds to let streams drain on SIGTERM" },
	{ "max-lifetime", CFG_T_UINT, CFG_OFF(max_lifetime), 0, 604800,
	  "0", "SECONDS", "end streams cleanly after SECONDS, 0 = never "
	  "(< FcgidBusyTimeout)" },
	{ "poll-hold", CFG_T_HOLD, CFG_OFF(poll_hold_ms), 0, 300, "off",
	  "SECONDS", "poll mode: a stream sends what was missed, or waits up "
	  "to SECONDS\n"
	  "(decimals allowed; 0 = answer at once) for the next event, then "
	  "ends;\n"
	  "retry: brings EventSource back; off = streams stay open" },
	{ "log-level", CFG_T_LOGLEVEL, CFG_OFF(log_level), 0, 0, "info",
	  "LEVEL", "error, warn, info or debug" },
	{ "log-file", CFG_T_STRING, CFG_OFF(log_file), 0, 0, NULL, "FILE",
	  "append log lines to FILE (reopened on SIGHUP), not stderr;\n"
	  "\"syslog:\" or \"syslog:FACILITY\" (daemon, user, local0..7): "
	  "to syslog" },
	{ "stats-interval", CFG_T_UINT, CFG_OFF(stats_interval), 0, 3600,
	  "5", "SECONDS", "seconds between this worker's reports to Redis "
	  "for /stats and\n/metrics, 0 = no reports, endpoints off (404)" },
	{ "stats-allow", CFG_T_STRING, CFG_OFF(stats_allow), 0, 0,
	  "127.0.0.0/8 ::1", "LIST",
	  "client addresses/networks (REMOTE_ADDR) that may read /stats and\n"
	  "/metrics, or \"none\"" },
	{ "stats-secret", CFG_T_SECRET, CFG_OFF(stats_secret), 1,
	  CFG_SECRET_MAX, NULL, "SECRET",
	  "bearer secret that also admits a client to /stats and /metrics" },
	{ "history", CFG_T_HISTORY, CFG_OFF(history), 0, 0, NULL, "RULE",
	  "\"PATTERN MAXLEN MAXAGE\", e.g. \"task.* 100 1h\": keep the last "
	  "MAXLEN\n"
	  "messages (0 = none), up to MAXAGE old (s, m, h, d suffix; 0 = no "
	  "limit;\n"
	  "max 365d), of channels matching the glob PATTERN (* and ?); "
	  "repeatable:\n"
	  "the first match wins, flags before env before file, then "
	  "\"* 1000 24h\"" },
	{ "initial-events", CFG_T_INITIAL, CFG_OFF(initial), 0, 0, NULL,
	  "RULE", "\"PATTERN N\", e.g. \"task.* 1\": a stream without "
	  "Last-Event-ID first\n"
	  "gets the last N (0..1000) retained events of each channel "
	  "matching\n"
	  "PATTERN, then live ones; repeatable: the first match wins, flags "
	  "first" },
	{ "history-prefix", CFG_T_TOKEN, CFG_OFF(history_prefix), 1, 64,
	  "sse:", "PREFIX",
	  "prefix of the Redis keys holding history (printable, no spaces)" },
	{ "publisher-secret", CFG_T_SECRET, CFG_OFF(publisher_secret), 1,
	  CFG_SECRET_MAX, NULL, "SECRET",
	  "bearer secret HTTP publishers must send (ps(1) shows flags: "
	  "prefer\n"
	  "--publisher-secret-file)" },
	{ "publisher-secret-file", CFG_T_STRING,
	  CFG_OFF(publisher_secret_file), 0, 0, NULL, "FILE",
	  "read the publisher secret from the first line of FILE" },
	{ "cors-origins", CFG_T_STRING, CFG_OFF(cors_origins), 0, 0, NULL,
	  "LIST", "origins allowed cross-origin, space-separated "
	  "(* = any, no cookies)" },
	{ "publish-timeout", CFG_T_UINT, CFG_OFF(publish_timeout_ms), 10,
	  60000, "2000", "MS",
	  "timeout of the worker's Redis calls when publishing over HTTP" },
	{ "max-message", CFG_T_SIZE, CFG_OFF(max_message), 1,
	  512ULL * 1024 * 1024, "1m", "BYTES",
	  "largest message payload accepted for publishing (k, m suffixes)" },
	{ "public-channels", CFG_T_STRING, CFG_OFF(public_channels), 0, 0,
	  NULL, "LIST", "channel globs anyone may read once any auth is "
	  "set (e.g. \"news.*\")" },
	{ "user-channels", CFG_T_STRING, CFG_OFF(user_channels), 0, 0, NULL,
	  "LIST", "templates a user may read: \"user.{REMOTE_USER}\" "
	  "(web server login)\n"
	  "or \"user.{sub}\" (token subject)" },
	{ "jwt-secret", CFG_T_SECRET, CFG_OFF(jwt_secret), 32,
	  CFG_SECRET_MAX, NULL, "SECRET",
	  "HS256 key for tokens, 32 bytes or more (prefer --jwt-secret-file)" },
	{ "jwt-secret-file", CFG_T_STRING, CFG_OFF(jwt_secret_file), 0, 0,
	  NULL, "FILE", "read the HS256 key from the first line of FILE" },
	{ "jwt-key-file", CFG_T_STRING, CFG_OFF(jwt_key_file), 0, 0, NULL,
	  "FILE", "PEM public keys for RS256 (RSA) and ES256 (P-256) tokens" },
	{ "jwt-cookie", CFG_T_TOKEN, CFG_OFF(jwt_cookie), 1, 64, "sse_token",
	  "NAME", "cookie that may carry the token" },
	{ "jwt-query", CFG_T_TOKEN, CFG_OFF(jwt_query), 1, 31, "token",
	  "NAME", "query parameter that may carry the token (EventSource)" },
	{ "jwt-leeway", CFG_T_UINT, CFG_OFF(jwt_leeway), 0, 600, "30",
	  "SECONDS", "clock skew allowed when checking exp and nbf" },
	{ "jwt-audience", CFG_T_STRING, CFG_OFF(jwt_audience), 0, 0, NULL,
	  "AUD", "tokens must name AUD in their aud claim" },
	{ "jwt-issuer", CFG_T_STRING, CFG_OFF(jwt_issuer), 0, 0, NULL,
	  "ISS", "tokens must have ISS as their iss claim" },
	{ "auth-url", CFG_T_STRING, CFG_OFF(auth_url), 0, 0, NULL, "URL",
	  "ask the application (http://HOST[:PORT]/PATH, GET with the "
	  "browser's\n"
	  "Cookie and Authorization) whether a stream the rules do not allow "
	  "may\n"
	  "open: 2xx allows (X-SSE-User names the user), 401/403 refuse" },
	{ "auth-timeout", CFG_T_UINT, CFG_OFF(auth_timeout_ms), 10, 60000,
	  "2000", "MS", "the app's answer must come within MS, else the "
	  "stream is sent away\nwith retry: (nothing streamed)" },
	{ "auth-cache", CFG_T_UINT, CFG_OFF(auth_cache), 1, 86400, "30",
	  "SECONDS", "app verdicts are cached per credentials and channels "
	  "for SECONDS,\nand open streams are checked again at that "
	  "interval" },
	{ "presence", CFG_T_GLOBS, CFG_OFF(presence), 0, 0, NULL, "PATTERN",
	  "channel glob(s) whose watchers are counted and named:\n"
	  "GET <mount>/presence/<channel>, event sse-presence; repeatable" },
	{ "presence-ttl", CFG_T_UINT, CFG_OFF(presence_ttl), 3, 3600, "30",
	  "SECONDS", "a worker killed without a stop leaves presence after "
	  "SECONDS" },
};

#define CFG_NOPTS	(sizeof cfg_opts / sizeof cfg_opts[0])

/* One flag from argv, applied after the file and the environment. */
struct cfg_arg {
	const struct cfg_opt	*opt;
	const char		*value;	/* borrowed from argv */
};

static const struct cfg_opt *
cfg_find(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < CFG_NOPTS; i++)
		if (strlen(cfg_opts[i].name) == len &&
		    strncmp(cfg_opts[i].name, name, len) == 0)
			return &cfg_opts[i];
	return NULL;
}

/* Writes "SSE_FCGI_QUEUE_LIMIT" for "queue-limit" into BUF. */
static void
cfg_env_name(const struct cfg_opt *o, char *buf, size_t len)
{
	size_t	i, n;

	n = strlen(CFG_ENV_PREFIX);
	memcpy(buf, CFG_ENV_PREFIX, n);
	for (i = 0; o->name[i] != '\0' && n + 1 < len; i++, n++)
		buf[n] = o->name[i] == '-' ? '_' :
		    toupper((unsigned char)o->name[i]);
	buf[n] = '\0';
}

/* A suffix a number may carry; '\0' gives the unit of a bare number. */
struct cfg_unit {
	char			suffix;
	unsigned long long	mult;	/* 0 ends a table */
};

static const struct cfg_unit cfg_units_plain[] = {
	{ '\0', 1 }, { 0, 0 }
};
static const struct cfg_unit cfg_units_size[] = {
	{ '\0', 1 }, { 'k', 1024 }, { 'K', 1024 }, { 'm', 1024 * 1024 },
	{ 'M', 1024 * 1024 }, { 0, 0 }
};
static const struct cfg_unit cfg_units_ms[] = {	/* durations, in ms */
	{ '\0', 1000 }, { 's', 1000 }, { 'm', 60 * 1000 },
	{ 'h', 3600 * 1000 }, { 'd', 24 * 3600 * 1000 }, { 0, 0 }
};

/* Parses decimal digits with at most one suffix from UNITS. A number too
 * big for the type saturates, so it fails the range check. */
static int
cfg_parse_number(const char *s, const struct cfg_unit *units,
    unsigned long long *out)
{
	unsigned long long	v = 0;
	unsigned		d;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		d = *s - '0';
		v = v > (~0ULL - d) / 10 ? ~0ULL : v * 10 + d;
	}
	for (; units->mult != 0; units++)
		if (units->suffix == *s)
			break;
	if (units->mult == 0 || (*s != '\0' && s[1] != '\0'))
		return -1;
	*out = v > ~0ULL / units->mult ? ~0ULL : v * units->mult;
	return 0;
}

static char *
cfg_trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Returns 1 if S is MIN..MAX bytes of printable ASCII other than space. */
static int
cfg_token_ok(const char *s, unsigned long long min, unsigned long long max)
{
	size_t	n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= ' ' || (unsigned char)s[n] > '~')
			return 0;
	return n >= min && n <= max;
}

/* Returns 1 if C may appear in a history pattern: the channel-name
 * grammar of channel.h plus the two wildcards. */
static int
cfg_glob_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '-' || c == '*' || c == '?';
}

/* Parses RULE, "PATTERN MAXLEN MAXAGE", into *H; the pattern is allocated
 * only on success. SOURCE starts the error text. */
static int
cfg_history_parse(const char *rule, void *out, const char *source,
    char *err, size_t errlen)
{
	struct cfg_history	*h = out;
	unsigned long long	 maxlen, maxage;
	char			*buf, *p, *f[4];
	size_t			 n = 0, i;
	int			 rc = -1;

	buf = xstrdup(rule);
	for (p = buf; n < 4; n++) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		f[n] = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	if (n != 3) {
		snprintf(err, errlen, "%s: history rule \"%.64s\" is not "
		    "\"PATTERN MAXLEN MAXAGE\"%s", source, rule,
		    strchr(rule, ';') != NULL ? " (only SSE_FCGI_HISTORY "
		    "splits rules at \";\")" : "");
		goto out;
	}
	for (i = 0; f[0][i] != '\0'; i++) {
		if (!cfg_glob_char_ok((unsigned char)f[0][i])) {
			snprintf(err, errlen, "%s: history pattern \"%.64s\" "
			    "may only contain A-Z a-z 0-9 . _ : - * ?", source,
			    f[0]);
			goto out;
		}
	}
	if (i > CHANNEL_NAME_MAX) {
		snprintf(err, errlen, "%s: history pattern is longer than %d "
		    "bytes", source, CHANNEL_NAME_MAX);
		goto out;
	}
	if (cfg_parse_number(f[1], cfg_units_plain, &maxlen) == -1) {
		snprintf(err, errlen, "%s: history MAXLEN \"%.64s\" is not a "
		    "number", source, f[1]);
		goto out;
	}
	if (maxlen > CFG_MAXLEN_MAX) {
		snprintf(err, errlen, "%s: history MAXLEN \"%.64s\" is out of "
		    "range (0..%llu)", source, f[1], CFG_MAXLEN_MAX);
		goto out;
	}
	if (cfg_parse_number(f[2], cfg_units_ms, &maxage) == -1) {
		snprintf(err, errlen, "%s: history MAXAGE \"%.64s\" is not a "
		    "duration (seconds, or a number with suffix s, m, h or d)",
		    source, f[2]);
		goto out;
	}
	/* The second test only bites where unsigned long is 32 bits. */
	if (maxage > CFG_MAXAGE_MAX || maxage > ULONG_MAX) {
		snprintf(err, errlen, "%s: history MAXAGE \"%.64s\" is out of "
		    "range (0..365d)", source, f[2]);
		goto out;
	}
	h->pattern = xstrdup(f[0]);
	h->maxlen = (unsigned long)maxlen;
	h->maxage_ms = (unsigned long)maxage;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* Initial events: "PATTERN N" rules, a list kept like history's. */

/* Parses RULE into *R; the pattern is allocated only on success. */
static int
cfg_initial_parse(const char *rule, void *out, const char *source,
    char *err, size_t errlen)
{
	struct cfg_initial	*r = out;
	unsigned long long	 n;
	char			*buf, *p, *f[3];
	size_t			 nf = 0, i;
	int			 rc = -1;

	buf = xstrdup(rule);
	for (p = buf; nf < 3; nf++) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		f[nf] = p;
		while (*p != '\0' && !isspace((unsigned char)*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';
	}
	if (nf != 2) {
		snprintf(err, errlen, "%s: initial-events rule \"%.64s\" is "
		    "not \"PATTERN N\"%s", source, rule, strchr(rule, ';') !=
		    NULL ? " (only SSE_FCGI_INITIAL_EVENTS splits rules at "
		    "\";\")" : "");
		goto out;
	}
	for (i = 0; f[0][i] != '\0'; i++) {
		if (!cfg_glob_char_ok((unsigned char)f[0][i])) {
			snprintf(err, errlen, "%s: initial-events pattern "
			    "\"%.64s\" may only contain A-Z a-z 0-9 . _ : - * "
			    "?", source, f[0]);
			goto out;
		}
	}
	if (i > CHANNEL_NAME_MAX) {
		snprintf(err, errlen, "%s: initial-events pattern is longer "
		    "than %d bytes", source, CHANNEL_NAME_MAX);
		goto out;
	}
	if (cfg_parse_number(f[1], cfg_units_plain, &n) == -1) {
		snprintf(err, errlen, "%s: initial-events N \"%.64s\" is not "
		    "a number", source, f[1]);
		goto out;
	}
	if (n > CFG_INITIAL_MAX) {
		snprintf(err, errlen, "%s: initial-events N \"%.64s\" is out "
		    "of range (0..%d)", source, f[1], CFG_INITIAL_MAX);
		goto out;
	}
	r->pattern = xstrdup(f[0]);
	r->count = (unsigned)n;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* The rule lists (history, initial-events): an array in struct cfg of
 * rules that each start with their owned pattern, and its count. Both are
 * kept alike: a value appends one rule, an environment list appends all
 * of its ';'-separated rules or none, and a later layer's rules are moved
 * ahead of the older ones (the first match wins). */
struct cfg_rules {
	const char	*what;		/* for errors: "history", ... */
	size_t		 size;		/* bytes per rule */
	size_t		 list, count;	/* offsets in struct cfg */
	int		(*parse)(const char *rule, void *out,
			    const char *source, char *err, size_t errlen);
};

static const struct cfg_rules cfg_rules_history = {
	"history", sizeof(struct cfg_history), offsetof(struct cfg, history),
	offsetof(struct cfg, nhistory), cfg_history_parse
};
static const struct cfg_rules cfg_rules_initial = {
	"initial-events", sizeof(struct cfg_initial),
	offsetof(struct cfg, initial), offsetof(struct cfg, ninitial),
	cfg_initial_parse
};

/* The list of kind K in C, read and written through memcpy: the field is
 * a pointer to the rule's own type. */
static char *
cfg_rules_get(const struct cfg *c, const struct cfg_rules *k)
{
	char	*list;

	memcpy(&list, (const char *)c + k->list, sizeof list);
	return list;
}

static void
cfg_rules_set(struct cfg *c, const struct cfg_rules *k, char *list)
{
	memcpy((char *)c + k->list, &list, sizeof list);
}

/* The count beside it (a size_t field: the offset keeps its alignment). */
static size_t *
cfg_rules_count(struct cfg *c, const struct cfg_rules *k)
{
	return (size_t *)(void *)((char *)c + k->count);
}

/* Appends the rule RULE to C's list of kind K. */
static int
cfg_rules_add(struct cfg *c, const struct cfg_rules *k, const char *rule,
    const char *source, char *err, size_t errlen)
{
	size_t	*n = cfg_rules_count(c, k);
	char	*r = xmalloc(k->size), *list;

	if (k->parse(rule, r, source, err, errlen) == -1) {
		free(r);
		return -1;
	}
	list = xrealloc(cfg_rules_get(c, k), (*n + 1) * k->size);
	memcpy(list + *n * k->size, r, k->size);
	cfg_rules_set(c, k, list);
	(*n)++;
	free(r);
	return 0;
}

/* Drops the rules of kind K from index N on. */
static void
cfg_rules_truncate(struct cfg *c, const struct cfg_rules *k, size_t n)
{
	size_t	*count = cfg_rules_count(c, k);
	char	*list = cfg_rules_get(c, k), *pattern;

	while (*count > n) {
		--*count;
		memcpy(&pattern, list + *count * k->size, sizeof pattern);
		free(pattern);
	}
	if (*count == 0) {
		free(list);
		cfg_rules_set(c, k, NULL);
	}
}

/* Appends the ';'-separated rules in LIST (blank ones skipped), all or
 * none. Errors name the rule by its position, from 1. */
static int
cfg_rules_add_list(struct cfg *c, const struct cfg_rules *k,
    const char *list, const char *source, char *err, size_t errlen)
{
	char		*buf, *rule, *next, where[CFG_ENV_MAX + 32];
	size_t		 n0 = *cfg_rules_count(c, k);
	unsigned	 pos = 0;
	int		 rc = -1;

	buf = xstrdup(list);
	for (rule = buf; rule != NULL; rule = next) {
		if ((next = strchr(rule, ';')) != NULL)
			*next++ = '\0';
		pos++;
		rule = cfg_trim(rule);
		if (*rule == '\0')
			continue;
		snprintf(where, sizeof where, "%s rule %u", source, pos);
		if (cfg_rules_add(c, k, rule, where, err, errlen) == -1)
			goto out;
	}
	if (*cfg_rules_count(c, k) == n0) {
		snprintf(err, errlen, "%s: no %s rule in \"%.64s\"", source,
		    k->what, list);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		cfg_rules_truncate(c, k, n0);
	free(buf);
	return rc;
}

/* Moves the rules of kind K from index FROM on ahead of the older ones,
 * keeping the order within each group: a later layer's rules are looked
 * at first. */
static void
cfg_rules_front(struct cfg *c, const struct cfg_rules *k, size_t from)
{
	char	*list = cfg_rules_get(c, k), *tmp;
	size_t	 n = *cfg_rules_count(c, k), sz = k->size;

	if (from == 0 || from == n)
		return;
	tmp = xcalloc(n, sz);
	memcpy(tmp, list + from * sz, (n - from) * sz);
	memcpy(tmp + (n - from) * sz, list, from * sz);
	free(list);
	cfg_rules_set(c, k, tmp);
}

unsigned
cfg_initial_for(const struct cfg *c, const char *channel, size_t len)
{
	size_t	i;

	for (i = 0; i < c->ninitial; i++)
		if (pattern_match(c->initial[i].pattern, channel, len))
			return c->initial[i].count;
	return 0;
}

/* Appends the space-separated globs of VALUE to the list at *SP (a string
 * of globs split by single spaces), all or none. */
static int
cfg_globs_add(char **sp, const char *value, const char *source, char *err,
    size_t errlen)
{
	const char	*p, *e;
	size_t		 i, n, old, added = 0;
	char		*list;

	for (p = value; *p != '\0'; p = e) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, " \t");
		for (i = 0; p + i < e; i++) {
			if (!cfg_glob_char_ok((unsigned char)p[i])) {
				snprintf(err, errlen, "%s: pattern "
				    "\"%.64s\" may only contain A-Z a-z 0-9 "
				    ". _ : - * ? (patterns are split by "
				    "spaces)", source, value);
				return -1;
			}
		}
		if (i > CHANNEL_NAME_MAX) {
			snprintf(err, errlen, "%s: pattern is longer than %d "
			    "bytes", source, CHANNEL_NAME_MAX);
			return -1;
		}
	}
	old = *sp != NULL ? strlen(*sp) : 0;
	list = xmalloc(old + strlen(value) + 2);
	n = 0;
	if (old > 0) {
		memcpy(list, *sp, old);
		n = old;
	}
	for (p = value; *p != '\0'; p = e) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, " \t");
		if (e == p)
			continue;
		if (n > 0)
			list[n++] = ' ';
		memcpy(list + n, p, (size_t)(e - p));
		n += (size_t)(e - p);
		added++;
	}
	list[n] = '\0';
	if (added == 0) {
		free(list);
		snprintf(err, errlen, "%s: no pattern", source);
		return -1;
	}
	free(*sp);
	*sp = list;
	return 0;
}

/* Stores VALUE into the field O describes; SOURCE prefixes any error. */
/* Parses VALUE, "off" or seconds with up to three decimals in O's range,
 * into *MS (-1 for off). */
static int
cfg_hold_parse(const struct cfg_opt *o, const char *value, int *ms,
    const char *source, char *err, size_t errlen)
{
	unsigned long long	 v = 0;
	const char		*s = value;
	int			 frac = -1;

	if (strcmp(value, "off") == 0) {
		*ms = -1;
		return 0;
	}
	for (; *s != '\0'; s++) {
		if (*s == '.' && frac == -1 && s != value && s[1] != '\0')
			frac = 0;
		else if (isdigit((unsigned char)*s) && frac < 3) {
			if (v <= o->max * 1000)
				v = v * 10 + (unsigned long long)(*s - '0');
			if (frac >= 0)
				frac++;
		} else {
			snprintf(err, errlen, "%s: \"%.64s\" is not \"off\" "
			    "or seconds (e.g. 2 or 0.5, at most 3 decimals)",
			    source, value);
			return -1;
		}
	}
	for (frac = frac < 0 ? 0 : frac; frac < 3; frac++)
		v = v > o->max * 1000 ? v : v * 10;
	if (v < o->min * 1000 || v > o->max * 1000) {
		snprintf(err, errlen, "%s: \"%.64s\" is out of range "
		    "(%llu..%llu seconds, or off)", source, value, o->min,
		    o->max);
		return -1;
	}
	*ms = (int)v;
	return 0;
}

/* Stores VALUE into the field O describes; SOURCE prefixes any error. */
static int
cfg_apply(struct cfg *c, const struct cfg_opt *o, const char *value,
    const char *source, char *err, size_t errlen)
{
	void			*field = (char *)c + o->off;
	char			**sp;
	unsigned long long	 v;
	int			 lvl;
	struct auth_url_target	 target;
	char			 why[160];

	if (value == NULL) {
		snprintf(err, errlen, "%s: missing value", source);
		return -1;
	}
	if (*value == '\0') {
		snprintf(err, errlen, "%s: empty value", source);
		return -1;
	}
	switch (o->type) {
	case CFG_T_STRING:
	case CFG_T_TOKEN:
	case CFG_T_SECRET:
		if (o->type != CFG_T_STRING &&
		    !cfg_token_ok(value, o->min, o->max)) {
			/* Never echo a secret, not even a bad one. */
			if (o->type == CFG_T_SECRET)
				snprintf(err, errlen, "%s: the secret is not "
				    "%llu..%llu bytes of printable ASCII "
				    "without spaces", source, o->min, o->max);
			else
				snprintf(err, errlen, "%s: \"%.64s\" is not "
				    "%llu..%llu bytes of printable ASCII "
				    "without spaces", source, value, o->min,
				    o->max);
			return -1;
		}
		/* The one string with a syntax of its own: a bad facility
		 * is refused here, with the flag or file:line. */
		if (o->off == CFG_OFF(log_file) &&
		    log_facility_parse(value) == -1) {
			snprintf(err, errlen, "%s: \"%.64s\": unknown syslog "
			    "facility (daemon, user, local0..local7)", source,
			    value);
			return -1;
		}
		if (o->off == CFG_OFF(auth_url) &&
		    auth_url_parse(value, &target, why, sizeof why) == -1) {
			snprintf(err, errlen, "%s: \"%.64s\": %s", source,
			    value, why);
			return -1;
		}
		sp = field;
		free(*sp);
		*sp = xstrdup(value);
		return 0;
	case CFG_T_HISTORY:
		return cfg_rules_add(c, &cfg_rules_history, value, source, err,
		    errlen);
	case CFG_T_INITIAL:
		return cfg_rules_add(c, &cfg_rules_initial, value, source, err,
		    errlen);
	case CFG_T_GLOBS:
		return cfg_globs_add(field, value, source, err, errlen);
	case CFG_T_LOGLEVEL:
		if ((lvl = log_level_parse(value)) == -1) {
			snprintf(err, errlen, "%s: \"%.64s\" is not one of "
			    "error, warn, info, debug", source, value);
			return -1;
		}
		*(int *)field = lvl;
		return 0;
	case CFG_T_HOLD:
		return cfg_hold_parse(o, value, field, source, err, errlen);
	case CFG_T_INT:
	case CFG_T_UINT:
	case CFG_T_SIZE:
		break;
	}
	if (cfg_parse_number(value, o->type == CFG_T_SIZE ? cfg_units_size :
	    cfg_units_plain, &v) == -1) {
		if (o->type == CFG_T_SIZE)
			snprintf(err, errlen, "%s: \"%.64s\" is not a size "
			    "(bytes, or a number with suffix k or m)", source,
			    value);
		else
			snprintf(err, errlen, "%s: \"%.64s\" is not a number",
			    source, value);
		return -1;
	}
	if (v < o->min || v > o->max) {
		snprintf(err, errlen, "%s: \"%.64s\" is out of range "
		    "(%llu..%llu)", source, value, o->min, o->max);
		return -1;
	}
	switch (o->type) {
	case CFG_T_INT:
		*(int *)field = (int)v;
		break;
	case CFG_T_UINT:
		*(unsigned *)field = (unsigned)v;
		break;
	default:
		*(size_t *)field = (size_t)v;
		break;
	}
	return 0;
}

/* Fills *C with the table's defaults, dropping whatever *C held. */
void
cfg_defaults(struct cfg *c)
{
	char	err[256];
	size_t	i;

	memset(c, 0, sizeof *c);
	for (i = 0; i < CFG_NOPTS; i++) {
		if (cfg_opts[i].def == NULL)
			continue;
		if (cfg_apply(c, &cfg_opts[i], cfg_opts[i].def, "default",
		    err, sizeof err) == -1) {
			fprintf(stderr, "%s: %s\n", __func__, err);
			abort();
		}
	}
}

/* Frees the strings and history rules *C holds and sets them to NULL;
 * numbers stay. */
void
cfg_clear(struct cfg *c)
{
	char	**sp;
	void	 *field;
	size_t	  i;

	for (i = 0; i < CFG_NOPTS; i++) {
		if (cfg_opts[i].type != CFG_T_STRING &&
		    cfg_opts[i].type != CFG_T_TOKEN &&
		    cfg_opts[i].type != CFG_T_SECRET &&
		    cfg_opts[i].type != CFG_T_GLOBS)
			continue;
		field = (char *)c + cfg_opts[i].off;
		sp = field;
		free(*sp);
		*sp = NULL;
	}
	cfg_rules_truncate(c, &cfg_rules_history, 0);
	cfg_rules_truncate(c, &cfg_rules_initial, 0);
}

/* Walks the rules in lookup order; the first whose glob matches wins. */
const struct cfg_history *
cfg_history_for(const struct cfg *c, const char *channel, size_t len)
{
	static char			any[] = "*";
	static const struct cfg_history	def = { any, 1000,
					    24UL * 3600 * 1000 };
	size_t				i;

	for (i = 0; i < c->nhistory; i++)
		if (pattern_match(c->history[i].pattern, channel, len))
			return &c->history[i];
	return &def;
}

/* Sets KEY to VALUE, replacing (and freeing) an old string or appending a
 * history rule; SOURCE, or KEY when NULL, starts the error text. */
int
cfg_set(struct cfg *c, const char *key, const char *value,
    const char *source, char *err, size_t errlen)
{
	const struct cfg_opt	*o;

	if (source == NULL)
		source = key;
	if ((o = cfg_find(key, strlen(key))) == NULL) {
		snprintf(err, errlen, "%s: unknown key \"%.64s\"", source, key);
		return -1;
	}
	return cfg_apply(c, o, value, source, err, errlen);
}

/* Applies one "key = value" line; WHERE is "file:line". */
static int
cfg_file_line(struct cfg *c, char *line, const char *where, char *err,
    size_t errlen)
{
	char	*s, *eq, *key, *value;
	size_t	 n;

	s = cfg_trim(line);
	if (*s == '\0' || *s == '#')
		return 0;
	if ((eq = strchr(s, '=')) == NULL) {
		snprintf(err, errlen, "%s: missing \"=\" after \"%.64s\"",
		    where, s);
		return -1;
	}
	*eq = '\0';
	key = cfg_trim(s);
	value = cfg_trim(eq + 1);
	if (*key == '\0') {
		snprintf(err, errlen, "%s: missing key before \"=\"", where);
		return -1;
	}
	if (*value == '"') {
		n = strlen(value);
		if (n < 2 || value[n - 1] != '"') {
			snprintf(err, errlen, "%s: unterminated quote", where);
			return -1;
		}
		value[n - 1] = '\0';
		value++;
	}
	if (strcmp(key, "config") == 0) {
		snprintf(err, errlen, "%s: \"config\" cannot be set in a "
		    "config file", where);
		return -1;
	}
	return cfg_set(c, key, value, where, err, errlen);
}

/* Reads PATH line by line, refusing NUL bytes and lines longer than
 * CFG_LINE_MAX without buffering them. */
int
cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
	FILE		*fp;
	char		*line, *where;
	size_t		 n, wlen;
	unsigned	 lineno = 0;
	int		 ch, rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	line = xmalloc(CFG_LINE_MAX + 1);
	wlen = strlen(path) + 16;
	where = xmalloc(wlen);
	for (;;) {
		n = 0;
		while ((ch = getc(fp)) != EOF && ch != '\n') {
			if (n == CFG_LINE_MAX) {
				snprintf(err, errlen, "%s:%u: line longer "
				    "than %d bytes", path, lineno + 1,
				    CFG_LINE_MAX);
				goto out;
			}
			if (ch == '\0') {
				snprintf(err, errlen, "%s:%u: NUL byte in "
				    "line", path, lineno + 1);
				goto out;
			}
			line[n++] = ch;
		}
		if (ch == EOF && ferror(fp)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (ch == EOF && n == 0)
			break;
		line[n] = '\0';
		lineno++;
		snprintf(where, wlen, "%s:%u", path, lineno);
		if (cfg_file_line(c, line, where, err, errlen) == -1)
			goto out;
		if (ch == EOF)
			break;
	}
	rc = 0;
out:
	free(where);
	free(line);
	fclose(fp);
	return rc;
}

/* Returns the value of the last NAME=... in ENVP, or NULL; an empty
 * value counts as unset. */
static const char *
cfg_getenv(char **envp, const char *name)
{
	const char	*v = NULL;
	size_t		 n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			v = *envp + n + 1;
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Applies every SSE_FCGI_<KEY>=value in ENVP. Other names are ignored, and
 * so are empty values: "SSE_FCGI_RETRY= cmd" means unset, as in the shell,
 * not "empty". SSE_FCGI_HISTORY holds a list of rules; like any other
 * variable, its last non-empty occurrence wins. */
static int
cfg_load_env(struct cfg *c, char **envp, char *err, size_t errlen)
{
	char			 name[CFG_ENV_MAX];
	const char		*e, *eq, *list = NULL, *ilist = NULL;
	const struct cfg_opt	*lopt = NULL, *iopt = NULL;
	size_t			 i;

	for (; envp != NULL && *envp != NULL; envp++) {
		e = *envp;
		if (strncmp(e, CFG_ENV_PREFIX, strlen(CFG_ENV_PREFIX)) != 0 ||
		    (eq = strchr(e, '=')) == NULL || eq[1] == '\0')
			continue;
		for (i = 0; i < CFG_NOPTS; i++) {
			cfg_env_name(&cfg_opts[i], name, sizeof name);
			if (strlen(name) == (size_t)(eq - e) &&
			    strncmp(name, e, eq - e) == 0)
				break;
		}
		if (i == CFG_NOPTS)
			continue;
		if (cfg_opts[i].type == CFG_T_HISTORY) {
			lopt = &cfg_opts[i];
			list = eq + 1;
			continue;
		}
		if (cfg_opts[i].type == CFG_T_INITIAL) {
			iopt = &cfg_opts[i];
			ilist = eq + 1;
			continue;
		}
		if (cfg_apply(c, &cfg_opts[i], eq + 1, name, err,
		    errlen) == -1)
			return -1;
	}
	if (list != NULL) {
		cfg_env_name(lopt, name, sizeof name);
		if (cfg_rules_add_list(c, &cfg_rules_history, list, name, err,
		    errlen) == -1)
			return -1;
	}
	if (ilist != NULL) {
		cfg_env_name(iopt, name, sizeof name);
		return cfg_rules_add_list(c, &cfg_rules_initial, ilist, name,
		    err, errlen);
	}
	return 0;
}

int
cfg_apply_env(struct cfg *c, char **envp, char *err, size_t errlen)
{
	size_t	n0 = c->nhistory, i0 = c->ninitial;

	if (cfg_load_env(c, envp, err, errlen) == -1)
		return -1;
	cfg_rules_front(c, &cfg_rules_history, n0);
	cfg_rules_front(c, &cfg_rules_initial, i0);
	return 0;
}

/* Reads a secret from the first line of the file option FILE_KEY, without
 * its trailing white space, into *SECRET (the option SECRET_KEY), at least
 * MIN bytes; refuses to run with both set. Error text never quotes the
 * file's contents. */
static int
cfg_load_secret(const char *path, char **secret, const char *secret_key,
    const char *file_key, size_t min, char *err, size_t errlen)
{
	FILE		*fp;
	char		*line;
	size_t		 n = 0;
	int		 ch, rc = -1;

	if (path == NULL)
		return 0;
	if (*secret != NULL) {
		snprintf(err, errlen, "%s and %s are both set; use one",
		    secret_key, file_key);
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s %s: %s", file_key, path,
		    strerror(errno));
		return -1;
	}
	line = xmalloc(CFG_SECRET_MAX + 1);
	while ((ch = getc(fp)) != EOF && ch != '\n') {
		if (n == CFG_SECRET_MAX) {
			snprintf(err, errlen, "%s %s: first line longer than "
			    "%d bytes", file_key, path, CFG_SECRET_MAX);
			goto out;
		}
		line[n++] = ch;
	}
	if (ch == EOF && ferror(fp)) {
		snprintf(err, errlen, "%s %s: %s", file_key, path,
		    strerror(errno));
		goto out;
	}
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		n--;
	line[n] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "%s %s: no secret on the first line",
		    file_key, path);
		goto out;
	}
	if (memchr(line, '\0', n) != NULL ||
	    !cfg_token_ok(line, min, CFG_SECRET_MAX)) {
		snprintf(err, errlen, "%s %s: the secret is not printable "
		    "ASCII without spaces, %zu..%d bytes", file_key, path, min,
		    CFG_SECRET_MAX);
		goto out;
	}
	*secret = line;
	line = NULL;
	rc = 0;
out:
	if (line != NULL)
		memset(line, 0, CFG_SECRET_MAX + 1);
	free(line);
	fclose(fp);
	return rc;
}

/* Splits ARGV into ARGS without applying anything. Returns CFG_OK, or
 * CFG_EXIT once --help or --version has printed, or CFG_ERROR. */
static enum cfg_result
cfg_scan_argv(int argc, char **argv, struct cfg_arg *args, size_t *nargs,
    FILE *out, char *err, size_t errlen)
{
	const struct cfg_opt	*o;
	const char		*a, *name, *eq;
	size_t			 len;
	int			 i;

	*nargs = 0;
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cfg_usage(out);
			return CFG_EXIT;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			fprintf(out, "sse-fcgi %s\n", PACKAGE_VERSION);
			return CFG_EXIT;
		}
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc) {
				snprintf(err, errlen, "unexpected argument "
				    "\"%.64s\"", argv[i + 1]);
				return CFG_ERROR;
			}
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			snprintf(err, errlen, "unexpected argument \"%.64s\"",
			    a);
			return CFG_ERROR;
		}
		if (a[1] != '-') {
			snprintf(err, errlen, "unknown option \"%.64s\"", a);
			return CFG_ERROR;
		}
		name = a + 2;
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if ((len == 4 && strncmp(name, "help", 4) == 0) ||
		    (len == 7 && strncmp(name, "version", 7) == 0)) {
			snprintf(err, errlen, "--%.*s: takes no value",
			    (int)len, name);
			return CFG_ERROR;
		}
		if ((o = cfg_find(name, len)) == NULL) {
			snprintf(err, errlen, "unknown option \"--%.*s\"",
			    (int)(len > 64 ? 64 : len), name);
			return CFG_ERROR;
		}
		args[*nargs].opt = o;
		if (eq != NULL)
			args[*nargs].value = eq + 1;
		else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
			args[*nargs].value = argv[++i];
		else {
			snprintf(err, errlen, "--%s: missing value", o->name);
			return CFG_ERROR;
		}
		(*nargs)++;
	}
	return CFG_OK;
}

/* Applies defaults, file, environment and flags in that order, putting
 * each layer's history rules ahead of the earlier layers', then reads the
 * secret file. On CFG_EXIT and CFG_ERROR the strings and rules in *C are
 * already freed, so calling cfg_clear() afterwards is optional but
 * harmless. */
enum cfg_result
cfg_load(struct cfg *c, int argc, char **argv, char **envp, FILE *out,
    char *err, size_t errlen)
{
	struct cfg_arg		*args;
	const char		*path = NULL, *source = NULL;
	char			 flag[CFG_ENV_MAX];
	size_t			 nargs, i, nrules, ninit;
	enum cfg_result		 rc;

	cfg_defaults(c);
	args = xcalloc(argc > 0 ? argc : 1, sizeof *args);
	rc = cfg_scan_argv(argc, argv, args, &nargs, out, err, errlen);
	if (rc != CFG_OK)
		goto done;
	rc = CFG_ERROR;

	for (i = 0; i < nargs; i++) {
		if (strcmp(args[i].opt->name, "config") == 0) {
			path = args[i].value;
			source = "--config";
		}
	}
	if (path == NULL && (path = cfg_getenv(envp, CFG_ENV_PREFIX
	    "CONFIG")) != NULL)
		source = CFG_ENV_PREFIX "CONFIG";
	if (path != NULL) {
		if (cfg_set(c, "config", path, source, err, errlen) == -1 ||
		    cfg_load_file(c, c->config_file, err, errlen) == -1)
			goto done;
	}

	nrules = c->nhistory;
	ninit = c->ninitial;
	if (cfg_load_env(c, envp, err, errlen) == -1)
		goto done;
	cfg_rules_front(c, &cfg_rules_history, nrules);
	cfg_rules_front(c, &cfg_rules_initial, ninit);

	nrules = c->nhistory;
	ninit = c->ninitial;
	for (i = 0; i < nargs; i++) {
		snprintf(flag, sizeof flag, "--%s", args[i].opt->name);
		if (cfg_apply(c, args[i].opt, args[i].value, flag, err,
		    errlen) == -1)
			goto done;
	}
	cfg_rules_front(c, &cfg_rules_history, nrules);
	cfg_rules_front(c, &cfg_rules_initial, ninit);

	if (cfg_load_secret(c->publisher_secret_file, &c->publisher_secret,
	    "publisher-secret", "publisher-secret-file", 1, err,
	    errlen) == -1 || cfg_load_secret(c->jwt_secret_file,
	    &c->jwt_secret, "jwt-secret", "jwt-secret-file", 32, err,
	    errlen) == -1)
		goto done;
	c->redis_cluster = c->redis != NULL &&
	    strncasecmp(c->redis, "redis+cluster://", 16) == 0;
	rc = CFG_OK;
done:
	free(args);
	if (rc != CFG_OK)
		cfg_clear(c);
	return rc;
}

/* Prints every option with its environment name, range and default. */
void
cfg_usage(FILE *out)
{
	const struct cfg_opt	*o;
	const char		*h, *nl;
	char			 env[CFG_ENV_MAX];
	size_t			 i;

	fprintf(out,
	    "usage: sse-fcgi [-hV] [--key value | --key=value]...\n"
	    "\n"
	    "Streams Redis Pub/Sub channels as Server-Sent Events over "
	    "FastCGI.\n"
	    "Each setting is taken from, later ones winning: built-in "
	    "default <\n"
	    "config file (\"key = value\") < environment SSE_FCGI_<KEY> < "
	    "command line.\n"
	    "An empty SSE_FCGI_ variable counts as unset. History rules from "
	    "every source\n"
	    "are kept, flag rules tried first (see --history).\n"
	    "\n"
	    "  -h, --help\n"
	    "      print this help and exit\n"
	    "  -V, --version\n"
	    "      print the version and exit\n");
	for (i = 0; i < CFG_NOPTS; i++) {
		o = &cfg_opts[i];
		cfg_env_name(o, env, sizeof env);
		fprintf(out, "  --%s %s\n", o->name, o->arg);
		for (h = o->help; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
			fprintf(out, "      %.*s\n", (int)(nl - h), h);
		fprintf(out, "      %s\n      env %s", h, env);
		if (o->type == CFG_T_HISTORY || o->type == CFG_T_INITIAL)
			fprintf(out, " (rules split by \";\"), repeatable");
		else if (o->def != NULL)
			fprintf(out, ", default %s", o->def);
		else
			fprintf(out, ", no default");
		if (o->type == CFG_T_INT || o->type == CFG_T_UINT ||
		    o->type == CFG_T_SIZE || o->type == CFG_T_HOLD)
			fprintf(out, ", range %llu..%llu", o->min, o->max);
		else if (o->type == CFG_T_TOKEN || o->type == CFG_T_SECRET)
			fprintf(out, ", %llu..%llu bytes", o->min, o->max);
		fprintf(out, "\n");
	}
}
