/* sse-fcgi - MIT License
 *
 * Unit tests for cfg: defaults, cfg_set on good and bad values, the config
 * file parser (from temporary files in /tmp), the environment and argv
 * parsers, precedence (default < file < environment < flag), history rules
 * (syntax, lookup order flag > env > file > built-in), the publisher secret
 * file, --help and --version, and a round trip that reads the defaults back
 * out of the usage text and checks they give the same struct as
 * cfg_defaults(). pattern_match() has its own tests in test_glob.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "channel.h"
#include "log.h"
#include "testlib.h"

#define NARGS	8

static int
streq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Formats the history rules as "pattern maxlen maxage_ms|...", or "" when
 * there are none. */
static const char *
rules(const struct cfg *c, char *buf, size_t len)
{
	size_t	i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < c->nhistory && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s %lu %lu", i ? "|" : "",
		    c->history[i].pattern, c->history[i].maxlen,
		    c->history[i].maxage_ms);
	return buf;
}

/* Formats the initial-events rules as "pattern n|...". */
static const char *
initial_rules(const struct cfg *c, char *buf, size_t len)
{
	size_t	i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < c->ninitial && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s %u", i ? "|" : "",
		    c->initial[i].pattern, c->initial[i].count);
	return buf;
}

/* Formats the field KEY names as text, so tables can state expectations;
 * a NULL string reads "(null)". */
static const char *
field(const struct cfg *c, const char *key, char *buf, size_t len)
{
	const char	*const *sp = NULL;

	if (strcmp(key, "config") == 0)
		sp = (const char *const *)&c->config_file;
	else if (strcmp(key, "listen") == 0)
		sp = (const char *const *)&c->listen;
	else if (strcmp(key, "redis") == 0)
		sp = (const char *const *)&c->redis;
	else if (strcmp(key, "log-file") == 0)
		sp = (const char *const *)&c->log_file;
	else if (strcmp(key, "history-prefix") == 0)
		sp = (const char *const *)&c->history_prefix;
	else if (strcmp(key, "publisher-secret") == 0)
		sp = (const char *const *)&c->publisher_secret;
	else if (strcmp(key, "publisher-secret-file") == 0)
		sp = (const char *const *)&c->publisher_secret_file;
	else if (strcmp(key, "cors-origins") == 0)
		sp = (const char *const *)&c->cors_origins;
	else if (strcmp(key, "public-channels") == 0)
		sp = (const char *const *)&c->public_channels;
	else if (strcmp(key, "user-channels") == 0)
		sp = (const char *const *)&c->user_channels;
	else if (strcmp(key, "jwt-secret") == 0)
		sp = (const char *const *)&c->jwt_secret;
	else if (strcmp(key, "jwt-secret-file") == 0)
		sp = (const char *const *)&c->jwt_secret_file;
	else if (strcmp(key, "jwt-key-file") == 0)
		sp = (const char *const *)&c->jwt_key_file;
	else if (strcmp(key, "presence") == 0)
		sp = (const char *const *)&c->presence;
	else if (strcmp(key, "jwt-cookie") == 0)
		sp = (const char *const *)&c->jwt_cookie;
	else if (strcmp(key, "jwt-query") == 0)
		sp = (const char *const *)&c->jwt_query;
	else if (strcmp(key, "jwt-audience") == 0)
		sp = (const char *const *)&c->jwt_audience;
	else if (strcmp(key, "jwt-issuer") == 0)
		sp = (const char *const *)&c->jwt_issuer;
	else if (strcmp(key, "auth-url") == 0)
		sp = (const char *const *)&c->auth_url;
	else if (strcmp(key, "auth-timeout") == 0)
		snprintf(buf, len, "%u", c->auth_timeout_ms);
	else if (strcmp(key, "auth-cache") == 0)
		snprintf(buf, len, "%u", c->auth_cache);
	else if (strcmp(key, "stats-allow") == 0)
		sp = (const char *const *)&c->stats_allow;
	else if (strcmp(key, "stats-secret") == 0)
		sp = (const char *const *)&c->stats_secret;
	else if (strcmp(key, "stats-interval") == 0)
		snprintf(buf, len, "%u", c->stats_interval);
	else if (strcmp(key, "jwt-leeway") == 0)
		snprintf(buf, len, "%u", c->jwt_leeway);
	else if (strcmp(key, "history") == 0)
		rules(c, buf, len);
	else if (strcmp(key, "initial-events") == 0)
		initial_rules(c, buf, len);
	else if (strcmp(key, "max-channels") == 0)
		snprintf(buf, len, "%u", c->max_channels);
	else if (strcmp(key, "max-header") == 0)
		snprintf(buf, len, "%zu", c->max_header);
	else if (strcmp(key, "publish-timeout") == 0)
		snprintf(buf, len, "%u", c->publish_timeout_ms);
	else if (strcmp(key, "max-message") == 0)
		snprintf(buf, len, "%zu", c->max_message);
	else if (strcmp(key, "backlog") == 0)
		snprintf(buf, len, "%d", c->backlog);
	else if (strcmp(key, "keepalive") == 0)
		snprintf(buf, len, "%u", c->keepalive);
	else if (strcmp(key, "presence-ttl") == 0)
		snprintf(buf, len, "%u", c->presence_ttl);
	else if (strcmp(key, "retry") == 0)
		snprintf(buf, len, "%u", c->retry_ms);
	else if (strcmp(key, "queue-limit") == 0)
		snprintf(buf, len, "%zu", c->queue_limit);
	else if (strcmp(key, "max-streams") == 0)
		snprintf(buf, len, "%u", c->max_streams);
	else if (strcmp(key, "shutdown-grace") == 0)
		snprintf(buf, len, "%u", c->shutdown_grace);
	else if (strcmp(key, "max-lifetime") == 0)
		snprintf(buf, len, "%u", c->max_lifetime);
	else if (strcmp(key, "poll-hold") == 0)
		snprintf(buf, len, "%d", c->poll_hold_ms);
	else if (strcmp(key, "log-level") == 0)
		snprintf(buf, len, "%d", c->log_level);
	else
		snprintf(buf, len, "?unknown key %s", key);
	if (sp != NULL)
		snprintf(buf, len, "%s", *sp != NULL ? *sp : "(null)");
	return buf;
}

static int
history_equal(const struct cfg *a, const struct cfg *b)
{
	size_t	i;

	if (a->nhistory != b->nhistory)
		return 0;
	for (i = 0; i < a->nhistory; i++)
		if (strcmp(a->history[i].pattern, b->history[i].pattern) != 0 ||
		    a->history[i].maxlen != b->history[i].maxlen ||
		    a->history[i].maxage_ms != b->history[i].maxage_ms)
			return 0;
	return 1;
}

static int
cfg_equal(const struct cfg *a, const struct cfg *b)
{
	return history_equal(a, b) &&
	    streq_null(a->history_prefix, b->history_prefix) &&
	    streq_null(a->publisher_secret, b->publisher_secret) &&
	    streq_null(a->publisher_secret_file, b->publisher_secret_file) &&
	    streq_null(a->cors_origins, b->cors_origins) &&
	    a->max_channels == b->max_channels &&
	    a->max_header == b->max_header &&
	    a->publish_timeout_ms == b->publish_timeout_ms &&
	    a->max_message == b->max_message &&
	    streq_null(a->config_file, b->config_file) &&
	    streq_null(a->listen, b->listen) && a->backlog == b->backlog &&
	    streq_null(a->redis, b->redis) && a->keepalive == b->keepalive &&
	    a->retry_ms == b->retry_ms && a->queue_limit == b->queue_limit &&
	    a->max_streams == b->max_streams &&
	    a->shutdown_grace == b->shutdown_grace &&
	    a->poll_hold_ms == b->poll_hold_ms &&
	    a->log_level == b->log_level &&
	    streq_null(a->log_file, b->log_file) &&
	    a->stats_interval == b->stats_interval &&
	    streq_null(a->stats_allow, b->stats_allow) &&
	    streq_null(a->stats_secret, b->stats_secret);
}

static int
cfg_strings_null(const struct cfg *c)
{
	return c->config_file == NULL && c->listen == NULL &&
	    c->redis == NULL && c->log_file == NULL &&
	    c->history_prefix == NULL && c->publisher_secret == NULL &&
	    c->publisher_secret_file == NULL && c->history == NULL &&
	    c->nhistory == 0;
}

/* Writes LEN bytes of DATA to a new file in /tmp; its name goes to PATH. */
static void
write_tmp(const char *data, size_t len, char *path, size_t pathlen)
{
	FILE	*fp;
	int	 fd;

	snprintf(path, pathlen, "/tmp/test_cfg.XXXXXX");
	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		perror("mkstemp");
		exit(1);
	}
	if (fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
		perror("write");
		exit(1);
	}
}

static void
test_defaults(void)
{
	struct cfg			 c;
	const struct cfg_history	*h;

	memset(&c, 0xa5, sizeof c);
	cfg_defaults(&c);
	test_cond("config", c.config_file == NULL);
	test_cond("listen", c.listen == NULL);
	test_cond("backlog", c.backlog == 1024);
	test_cond("redis", streq_null(c.redis, "redis://127.0.0.1:6379"));
	test_cond("keepalive", c.keepalive == 15);
	test_cond("retry", c.retry_ms == 3000);
	test_cond("queue-limit", c.queue_limit == 1048576);
	test_cond("max-streams", c.max_streams == 0);
	test_cond("shutdown-grace", c.shutdown_grace == 5);
	test_cond("log-level", c.log_level == LOG_LVL_INFO);
	test_cond("log-file", c.log_file == NULL);
	test_cond("stats-interval", c.stats_interval == 5);
	test_cond("stats-allow", streq_null(c.stats_allow,
	    "127.0.0.0/8 ::1"));
	test_cond("stats-secret", c.stats_secret == NULL);
	test_cond("max-channels", c.max_channels == 16);
	test_cond("max-header", c.max_header == 16384);
	test_cond("history", c.history == NULL && c.nhistory == 0);
	test_cond("history-prefix", streq_null(c.history_prefix, "sse:"));
	test_cond("publisher-secret", c.publisher_secret == NULL);
	test_cond("publisher-secret-file", c.publisher_secret_file == NULL);
	test_cond("publish-timeout", c.publish_timeout_ms == 2000);
	test_cond("max-message", c.max_message == 1048576);
	h = cfg_history_for(&c, "any.thing", 9);
	test_cond("built-in history rule", h != NULL &&
	    strcmp(h->pattern, "*") == 0 && h->maxlen == 1000 &&
	    h->maxage_ms == 24UL * 3600 * 1000);
	test_cond("built-in rule for an empty name",
	    cfg_history_for(&c, "", 0) == h);
	cfg_clear(&c);
	test_cond("clear", cfg_strings_null(&c));
	cfg_clear(&c);
	test_cond("clear twice", cfg_strings_null(&c));
}

struct set_case {
	const char	*key;
	const char	*value;
	const char	*want;	/* field as text, or the error substring */
};

static const struct set_case set_good[] = {
	{ "listen", "127.0.0.1:9000", "127.0.0.1:9000" },
	{ "listen", "/run/sse.sock", "/run/sse.sock" },
	{ "config", "/etc/sse-fcgi.conf", "/etc/sse-fcgi.conf" },
	{ "redis", "unix:/r.sock", "unix:/r.sock" },
	{ "redis", " spaces kept ", " spaces kept " },
	{ "log-file", "/var/log/sse.log", "/var/log/sse.log" },
	{ "backlog", "1", "1" },
	{ "backlog", "65535", "65535" },
	{ "keepalive", "1", "1" },
	{ "keepalive", "3600", "3600" },
	{ "poll-hold", "off", "-1" },
	{ "poll-hold", "0", "0" },
	{ "poll-hold", "1", "1000" },
	{ "poll-hold", "0.05", "50" },
	{ "poll-hold", "1.5", "1500" },
	{ "poll-hold", "2.250", "2250" },
	{ "poll-hold", "007", "7000" },
	{ "poll-hold", "300", "300000" },
	{ "poll-hold", "300.000", "300000" },
	{ "keepalive", "0030", "30" },
	{ "retry", "0", "0" },
	{ "retry", "3600000", "3600000" },
	{ "queue-limit", "4096", "4096" },
	{ "queue-limit", "4k", "4096" },
	{ "queue-limit", "4K", "4096" },
	{ "queue-limit", "256k", "262144" },
	{ "queue-limit", "1m", "1048576" },
	{ "queue-limit", "1024M", "1073741824" },
	{ "queue-limit", "1073741824", "1073741824" },
	{ "max-streams", "0", "0" },
	{ "max-streams", "1000000", "1000000" },
	{ "shutdown-grace", "0", "0" },
	{ "shutdown-grace", "3600", "3600" },
	{ "log-level", "error", "0" },
	{ "log-level", "warn", "1" },
	{ "log-level", "warning", "1" },
	{ "log-level", "info", "2" },
	{ "log-level", "DEBUG", "3" },
	{ "max-channels", "1", "1" },
	{ "max-channels", "1024", "1024" },
	{ "max-header", "1024", "1024" },
	{ "max-header", "2k", "2048" },
	{ "max-header", "1m", "1048576" },
	{ "history-prefix", "x", "x" },
	{ "history-prefix", "app:{sse}:", "app:{sse}:" },
	{ "history-prefix",
	  "0123456789012345678901234567890123456789012345678901234567890123",
	  "0123456789012345678901234567890123456789012345678901234567890123" },
	{ "publisher-secret", "s3cr3t", "s3cr3t" },
	{ "publisher-secret", "a#b=c\"d", "a#b=c\"d" },
	{ "publisher-secret-file", "/etc/sse/secret", "/etc/sse/secret" },
	{ "publish-timeout", "10", "10" },
	{ "publish-timeout", "60000", "60000" },
	{ "max-message", "1", "1" },
	{ "max-message", "64k", "65536" },
	{ "max-message", "512m", "536870912" },
	{ "max-message", "536870912", "536870912" },
	{ "log-file", "syslog:", "syslog:" },
	{ "log-file", "syslog:local3", "syslog:local3" },
	{ "log-file", "syslog:DAEMON", "syslog:DAEMON" },
	{ "log-file", "syslog", "syslog" },	/* a file of that name */
	{ "stats-interval", "0", "0" },
	{ "stats-interval", "3600", "3600" },
	{ "stats-allow", "none", "none" },
	{ "stats-allow", "10.0.0.0/8, ::1", "10.0.0.0/8, ::1" },
	{ "stats-secret", "m3trics", "m3trics" },
};

static const struct set_case set_bad[] = {
	{ "nope", "1", "src: unknown key \"nope\"" },
	{ "keep-alive", "1", "unknown key" },
	{ "Keepalive", "1", "unknown key" },
	{ "listen", "", "src: empty value" },
	{ "redis", "", "empty value" },
	{ "config", "", "empty value" },
	{ "log-file", "", "empty value" },
	{ "keepalive", "", "empty value" },
	{ "log-level", "", "empty value" },
	{ "keepalive", "abc", "src: \"abc\" is not a number" },
	{ "keepalive", "15x", "\"15x\" is not a number" },
	{ "keepalive", "15 ", "is not a number" },
	{ "keepalive", " 15", "is not a number" },
	{ "keepalive", "-1", "is not a number" },
	{ "keepalive", "+1", "is not a number" },
	{ "keepalive", "1.5", "is not a number" },
	{ "keepalive", "0x10", "is not a number" },
	{ "keepalive", "1k", "is not a number" },
	{ "keepalive", "0", "src: \"0\" is out of range (1..3600)" },
	{ "keepalive", "3601", "out of range (1..3600)" },
	{ "keepalive", "99999999999999999999999", "out of range" },
	{ "keepalive", "18446744073709551615", "out of range" },
	{ "poll-hold", "", "empty value" },
	{ "poll-hold", "301", "out of range (0..300 seconds, or off)" },
	{ "poll-hold", "300.001", "out of range (0..300 seconds, or off)" },
	{ "poll-hold", "99999999999999999999999", "out of range" },
	{ "poll-hold", "-1", "src: \"-1\" is not \"off\" or seconds" },
	{ "poll-hold", "1.2345", "at most 3 decimals" },
	{ "poll-hold", ".5", "is not \"off\" or seconds" },
	{ "poll-hold", "1.", "is not \"off\" or seconds" },
	{ "poll-hold", "1.2.3", "is not \"off\" or seconds" },
	{ "poll-hold", "2s", "is not \"off\" or seconds" },
	{ "poll-hold", "0x1", "is not \"off\" or seconds" },
	{ "poll-hold", "OFF", "is not \"off\" or seconds" },
	{ "poll-hold", "yes", "is not \"off\" or seconds" },
	{ "poll-hold", " 1", "is not \"off\" or seconds" },
	{ "backlog", "0", "out of range (1..65535)" },
	{ "backlog", "65536", "out of range" },
	{ "backlog", "4294967297", "out of range" },
	{ "retry", "3600001", "out of range (0..3600000)" },
	{ "retry", "3s", "is not a number" },
	{ "max-streams", "1000001", "out of range" },
	{ "shutdown-grace", "3601", "out of range" },
	{ "queue-limit", "4095",
	  "\"4095\" is out of range (4096..1073741824)" },
	{ "queue-limit", "3k", "out of range" },
	{ "queue-limit", "1025m", "out of range" },
	{ "queue-limit", "1g", "is not a size" },
	{ "queue-limit", "4kb", "is not a size" },
	{ "queue-limit", "k", "is not a size" },
	{ "queue-limit", "4 k", "is not a size" },
	{ "queue-limit", "17592186044416m", "out of range" },
	{ "queue-limit", "18014398509481984k", "out of range" },
	{ "queue-limit", "99999999999999999999999k", "out of range" },
	{ "queue-limit", "99999999999999999999999x", "is not a size" },
	{ "log-level", "loud", "\"loud\" is not one of error, warn" },
	{ "log-file", "syslog:kern", "unknown syslog facility" },
	{ "log-file", "syslog:local8", "unknown syslog facility" },
	{ "stats-interval", "3601", "out of range (0..3600)" },
	{ "stats-interval", "5s", "is not a number" },
	{ "stats-secret", "a b", "is not 1..4096 bytes" },
	{ "log-level", "3", "is not one of" },
	{ "max-channels", "0", "\"0\" is out of range (1..1024)" },
	{ "max-channels", "1025", "out of range (1..1024)" },
	{ "max-channels", "8k", "is not a number" },
	{ "max-header", "1023", "\"1023\" is out of range (1024..1048576)" },
	{ "max-header", "1025k", "out of range" },
	{ "max-header", "8kb", "is not a size" },
	{ "publish-timeout", "9", "\"9\" is out of range (10..60000)" },
	{ "publish-timeout", "60001", "out of range" },
	{ "publish-timeout", "2s", "is not a number" },
	{ "max-message", "0", "\"0\" is out of range (1..536870912)" },
	{ "max-message", "513m", "out of range" },
	{ "max-message", "536870913", "out of range" },
	{ "max-message", "1g", "is not a size" },
	{ "history-prefix", "", "empty value" },
	{ "history-prefix", "a b", "\"a b\" is not 1..64 bytes of printable "
	  "ASCII without spaces" },
	{ "history-prefix", "a\tb", "is not 1..64 bytes" },
	{ "history-prefix", "sse\x7f", "is not 1..64 bytes" },
	{ "history-prefix", "caf\xc3\xa9:", "is not 1..64 bytes" },
	{ "history-prefix",
	  "01234567890123456789012345678901234567890123456789012345678901234",
	  "is not 1..64 bytes" },
	{ "publisher-secret", "", "empty value" },
	{ "publisher-secret", "two words",
	  "src: the secret is not 1..4096 bytes" },
	{ "publisher-secret", "Bearer\tx", "the secret is not" },
	{ "publisher-secret", "x\r", "the secret is not" },
	{ "publisher-secret-file", "", "empty value" },
	{ "history", "", "empty value" },
	{ "history", "*", "src: history rule \"*\" is not \"PATTERN MAXLEN "
	  "MAXAGE\"" },
	{ "history", "* 10", "is not \"PATTERN MAXLEN MAXAGE\"" },
	{ "history", "* 10 1h x", "is not \"PATTERN MAXLEN MAXAGE\"" },
	{ "history", "   ", "is not \"PATTERN MAXLEN MAXAGE\"" },
	{ "history", "a.* 1 1h;b.* 2 2h", "(only SSE_FCGI_HISTORY splits "
	  "rules at \";\")" },
	{ "history", "task/* 100 1h", "src: history pattern \"task/*\" may "
	  "only contain A-Z a-z 0-9 . _ : - * ?" },
	{ "history", "[ab] 100 1h", "may only contain" },
	{ "history", "a\\* 100 1h", "may only contain" },
	{ "history", "caf\xc3\xa9 100 1h", "may only contain" },
	{ "history", "a,b 100 1h", "may only contain" },
	{ "history", "* -1 1h", "src: history MAXLEN \"-1\" is not a number" },
	{ "history", "* 1k 1h", "MAXLEN \"1k\" is not a number" },
	{ "history", "* ten 1h", "MAXLEN \"ten\" is not a number" },
	{ "history", "* 10000001 1h",
	  "src: history MAXLEN \"10000001\" is out of range (0..10000000)" },
	{ "history", "* 99999999999999999999999 1h", "MAXLEN" },
	{ "history", "* 100 1w", "src: history MAXAGE \"1w\" is not a "
	  "duration (seconds, or a number with suffix s, m, h or d)" },
	{ "history", "* 100 1H", "MAXAGE \"1H\" is not a duration" },
	{ "history", "* 100 1ms", "is not a duration" },
	{ "history", "* 100 h", "is not a duration" },
	{ "history", "* 100 -1", "is not a duration" },
	{ "history", "* 100 1.5h", "is not a duration" },
	{ "history", "* 100 366d",
	  "src: history MAXAGE \"366d\" is out of range (0..365d)" },
	{ "history", "* 100 31536001", "out of range (0..365d)" },
	{ "history", "* 100 8761h", "out of range" },
	{ "history", "* 100 525601m", "out of range" },
	{ "history", "* 100 99999999999999999999d", "out of range" },
	{ "initial-events", "", "empty value" },
	{ "initial-events", "task.*", "src: initial-events rule \"task.*\" "
	  "is not \"PATTERN N\"" },
	{ "initial-events", "   ", "is not \"PATTERN N\"" },
	{ "initial-events", "task.* 1 1h", "is not \"PATTERN N\"" },
	{ "initial-events", "a.* 1;b.* 2", "(only SSE_FCGI_INITIAL_EVENTS "
	  "splits rules at \";\")" },
	{ "initial-events", "task/* 1", "src: initial-events pattern "
	  "\"task/*\" may only contain A-Z a-z 0-9 . _ : - * ?" },
	{ "initial-events", "caf\xc3\xa9 1", "may only contain" },
	{ "initial-events", "a,b 1", "may only contain" },
	{ "initial-events",
	  "x234567890123456789012345678901234567890123456789012345678901234"
	  "567890123456789012345678901234567890123456789012345678901234567890"
	  "123456789012345678901234567890123456789012345678901234567890123456"
	  "78901 1", "initial-events pattern is longer than 200 bytes" },
	{ "initial-events", "* -1", "src: initial-events N \"-1\" is not a "
	  "number" },
	{ "initial-events", "* 1k", "N \"1k\" is not a number" },
	{ "initial-events", "* one", "N \"one\" is not a number" },
	{ "initial-events", "* 1.5", "is not a number" },
	{ "initial-events", "* 1001", "src: initial-events N \"1001\" is out "
	  "of range (0..1000)" },
	{ "initial-events", "* 99999999999999999999999", "out of range" },
};

static void
test_set(void)
{
	struct cfg	 c;
	char		 err[256], buf[128];
	size_t		 i;
	int		 rc;

	cfg_defaults(&c);
	for (i = 0; i < sizeof set_good / sizeof set_good[0]; i++) {
		rc = cfg_set(&c, set_good[i].key, set_good[i].value, "src",
		    err, sizeof err);
		field(&c, set_good[i].key, buf, sizeof buf);
		if (rc != 0 || strcmp(buf, set_good[i].want) != 0)
			fprintf(stderr, "set_good[%zu] %s=%s: rc %d, got "
			    "\"%s\"\n", i, set_good[i].key, set_good[i].value,
			    rc, rc == 0 ? buf : err);
		test_cond(set_good[i].value, rc == 0 &&
		    strcmp(buf, set_good[i].want) == 0);
	}
	cfg_clear(&c);

	for (i = 0; i < sizeof set_bad / sizeof set_bad[0]; i++) {
		struct cfg	d;

		cfg_defaults(&c);
		cfg_defaults(&d);
		err[0] = '\0';
		rc = cfg_set(&c, set_bad[i].key, set_bad[i].value, "src",
		    err, sizeof err);
		if (rc != -1 || strstr(err, set_bad[i].want) == NULL)
			fprintf(stderr, "set_bad[%zu] %s=%s: rc %d err \"%s\""
			    ", want \"%s\"\n", i, set_bad[i].key,
			    set_bad[i].value, rc, err, set_bad[i].want);
		test_cond(set_bad[i].value, rc == -1 &&
		    strncmp(err, "src: ", 5) == 0 &&
		    strstr(err, set_bad[i].want) != NULL);
		test_cond("bad value leaves cfg alone", cfg_equal(&c, &d));
		cfg_clear(&c);
		cfg_clear(&d);
	}

	cfg_defaults(&c);
	test_cond("NULL source names the key",
	    cfg_set(&c, "retry", "x", NULL, err, sizeof err) == -1 &&
	    strncmp(err, "retry: ", 7) == 0);
	test_cond("NULL value", cfg_set(&c, "retry", NULL, "s", err,
	    sizeof err) == -1 && strstr(err, "missing value") != NULL);
	test_cond("long value is cut in the message",
	    cfg_set(&c, "retry", "1111111111111111111111111111111111111111"
	    "111111111111111111111111111111111111111111111111x", "s", err,
	    sizeof err) == -1 && strlen(err) < 120);
	/* Replacing a string frees the old one: ASan reports any leak. */
	test_cond("replace 1", cfg_set(&c, "listen", "a", "s", err,
	    sizeof err) == 0);
	test_cond("replace 2", cfg_set(&c, "listen", "b", "s", err,
	    sizeof err) == 0 && streq_null(c.listen, "b"));
	test_cond("replace default", cfg_set(&c, "redis", "redis://h", "s",
	    err, sizeof err) == 0 && streq_null(c.redis, "redis://h"));
	cfg_clear(&c);
}

struct file_case {
	const char	*text;
	const char	*key;	/* checked field, or NULL on error */
	const char	*want;	/* field as text, or error after "path:" */
};

static const struct file_case file_cases[] = {
	{ "", "keepalive", "15" },
	{ "\n\n   \n\t\n", "keepalive", "15" },
	{ "# only a comment\n", "keepalive", "15" },
	{ "keepalive = 20\n", "keepalive", "20" },
	{ "poll-hold = 10\n", "poll-hold", "10000" },
	{ "keepalive=20", "keepalive", "20" },
	{ "   keepalive\t=\t20   \n", "keepalive", "20" },
	{ "keepalive = 20\r\n", "keepalive", "20" },
	{ "  # indented comment\nkeepalive = 21\n", "keepalive", "21" },
	{ "keepalive = 1\nkeepalive = 2\n", "keepalive", "2" },
	{ "listen = \"/run/a b.sock\"\n", "listen", "/run/a b.sock" },
	{ "listen = \" padded \"\n", "listen", " padded " },
	{ "listen = a\"b\"\n", "listen", "a\"b\"" },
	{ "redis = redis://:p#w=x@h/1\n", "redis", "redis://:p#w=x@h/1" },
	{ "log-file = /var/log/x # not a comment\n", "log-file",
	  "/var/log/x # not a comment" },
	{ "queue-limit = 1m\n", "queue-limit", "1048576" },
	{ "log-level = debug\n", "log-level", "3" },
	{ "history = task.* 100 1h\n", "history", "task.* 100 3600000" },
	{ "history = \"task.*\t100  1h\"\n", "history", "task.* 100 3600000" },
	{ "history = a 1 1\nhistory = b 2 2m\nhistory = a 3 0\n", "history",
	  "a 1 1000|b 2 120000|a 3 0" },
	{ "history = a 1 1\nkeepalive = 3\nhistory = b 2 2\n", "history",
	  "a 1 1000|b 2 2000" },
	{ "history-prefix = app:\n", "history-prefix", "app:" },
	{ "publisher-secret = p#w=x\n", "publisher-secret", "p#w=x" },
	{ "max-message = 64k\n", "max-message", "65536" },
	{ "history = a 1 1\nhistory = a 1\n", NULL,
	  ":2: history rule \"a 1\" is not \"PATTERN MAXLEN MAXAGE\"" },
	{ "history = a b 1 1\n", NULL, ":1: history rule" },
	{ "history = a 1 1d # daily\n", NULL, ":1: history rule" },
	{ "history = a/b 1 1\n", NULL, ":1: history pattern \"a/b\"" },
	{ "\nhistory = a 1 1y\n", NULL, ":2: history MAXAGE \"1y\"" },
	{ "history = a 10000001 1\n", NULL, ":1: history MAXLEN" },
	{ "history-prefix = \"a b\"\n", NULL, ":1: \"a b\" is not 1..64" },
	{ "publisher-secret = \"a b\"\n", NULL, ":1: the secret is not" },
	{ "foo = 1\n", NULL, ":1: unknown key \"foo\"" },
	{ "# c\n\nfoo = 1\n", NULL, ":3: unknown key \"foo\"" },
	{ "keepalive\n", NULL, ":1: missing \"=\" after \"keepalive\"" },
	{ "keepalive 20\n", NULL, ":1: missing \"=\"" },
	{ " = 20\n", NULL, ":1: missing key" },
	{ "keepalive =\n", NULL, ":1: empty value" },
	{ "listen = \"\"\n", NULL, ":1: empty value" },
	{ "listen = \"abc\n", NULL, ":1: unterminated quote" },
	{ "listen = \"\n", NULL, ":1: unterminated quote" },
	{ "keepalive = abc\n", NULL, ":1: \"abc\" is not a number" },
	{ "keepalive = 15x\n", NULL, ":1: \"15x\" is not a number" },
	{ "keepalive = 0\n", NULL, ":1: \"0\" is out of range" },
	{ "log-level = loud\n", NULL, ":1: \"loud\" is not one of" },
	{ "config = /etc/other.conf\n", NULL, ":1: \"config\" cannot be set" },
	{ "keep alive = 1\n", NULL, ":1: unknown key \"keep alive\"" },
	{ "KEEPALIVE = 1\n", NULL, ":1: unknown key" },
	{ "keepalive = 1\nretry = x\n", NULL, ":2: \"x\" is not a number" },
};

static void
test_file(void)
{
	struct cfg	 c;
	char		 path[64], err[256], buf[64], want[128];
	size_t		 i;
	int		 rc, ok;

	for (i = 0; i < sizeof file_cases / sizeof file_cases[0]; i++) {
		write_tmp(file_cases[i].text, strlen(file_cases[i].text),
		    path, sizeof path);
		cfg_defaults(&c);
		err[0] = '\0';
		rc = cfg_load_file(&c, path, err, sizeof err);
		if (file_cases[i].key != NULL) {
			field(&c, file_cases[i].key, buf, sizeof buf);
			ok = rc == 0 && strcmp(buf, file_cases[i].want) == 0;
		} else {
			snprintf(want, sizeof want, "%s%s", path,
			    file_cases[i].want);
			ok = rc == -1 && strstr(err, want) == err;
		}
		if (!ok)
			fprintf(stderr, "file_cases[%zu]: rc %d err \"%s\"\n",
			    i, rc, err);
		test_cond(file_cases[i].text, ok);
		cfg_clear(&c);
		unlink(path);
	}
}

/* Line-length limit, NUL bytes and files that cannot be read. */
static void
test_file_limits(void)
{
	struct cfg	 c;
	char		 path[64], err[256], want[128];
	char		*text;
	size_t		 n;

	/* 4096 bytes exactly is fine, newline or not; 4097 is refused. */
	text = malloc(8192);
	memset(text, 'a', 8192);
	memcpy(text, "log-file = ", 11);
	text[4096] = '\n';
	write_tmp(text, 4097, path, sizeof path);
	cfg_defaults(&c);
	test_cond("4096-byte line", cfg_load_file(&c, path, err,
	    sizeof err) == 0 && c.log_file != NULL &&
	    strlen(c.log_file) == 4096 - 11);
	cfg_clear(&c);
	unlink(path);

	write_tmp(text, 4096, path, sizeof path);
	cfg_defaults(&c);
	test_cond("4096-byte line at EOF", cfg_load_file(&c, path, err,
	    sizeof err) == 0 && strlen(c.log_file) == 4096 - 11);
	cfg_clear(&c);
	unlink(path);

	text[4096] = 'a';
	memcpy(text, "# comment\n", 10);
	memcpy(text + 10, "log-file = ", 11);
	text[10 + 4097] = '\n';
	for (n = 10 + 4097; n <= 10 + 4098; n++) {
		write_tmp(text, n, path, sizeof path);
		cfg_defaults(&c);
		snprintf(want, sizeof want, "%s:2: line longer than 4096 "
		    "bytes", path);
		test_cond("4097-byte line", cfg_load_file(&c, path, err,
		    sizeof err) == -1 && strcmp(err, want) == 0);
		cfg_clear(&c);
		unlink(path);
	}
	free(text);

	write_tmp("keepalive = 2\0 0\n", 17, path, sizeof path);
	cfg_defaults(&c);
	snprintf(want, sizeof want, "%s:1: NUL byte in line", path);
	test_cond("NUL byte", cfg_load_file(&c, path, err, sizeof err) ==
	    -1 && strcmp(err, want) == 0);
	cfg_clear(&c);
	unlink(path);

	cfg_defaults(&c);
	snprintf(want, sizeof want, "/nonexistent/x.conf: %s",
	    strerror(ENOENT));
	test_cond("missing file", cfg_load_file(&c, "/nonexistent/x.conf",
	    err, sizeof err) == -1 && strcmp(err, want) == 0);
	snprintf(want, sizeof want, "/tmp: %s", strerror(EISDIR));
	test_cond("directory", cfg_load_file(&c, "/tmp", err, sizeof err) ==
	    -1 && strcmp(err, want) == 0);
	cfg_clear(&c);
}

struct load_case {
	const char	*argv[NARGS];	/* after argv[0] */
	const char	*envp[NARGS];
	int		 rc;
	const char	*key;		/* checked field when rc is CFG_OK */
	const char	*want;		/* field as text, or error substring */
};

static const struct load_case load_cases[] = {
	{ { NULL }, { NULL }, CFG_OK, "keepalive", "15" },
	{ { "--keepalive", "30" }, { NULL }, CFG_OK, "keepalive", "30" },
	{ { "--keepalive=30" }, { NULL }, CFG_OK, "keepalive", "30" },
	{ { "--keepalive=30", "--keepalive", "31" }, { NULL }, CFG_OK,
	  "keepalive", "31" },
	{ { "--listen=a=b" }, { NULL }, CFG_OK, "listen", "a=b" },
	{ { "--listen", "-" }, { NULL }, CFG_OK, "listen", "-" },
	{ { "--listen=--odd" }, { NULL }, CFG_OK, "listen", "--odd" },
	{ { "--queue-limit", "64k" }, { NULL }, CFG_OK, "queue-limit",
	  "65536" },
	{ { "--log-level", "warn" }, { NULL }, CFG_OK, "log-level", "1" },
	{ { "--redis", "unix:/r.sock", "--" }, { NULL }, CFG_OK, "redis",
	  "unix:/r.sock" },
	{ { NULL }, { "SSE_FCGI_RETRY=0" }, CFG_OK, "retry", "0" },
	{ { NULL }, { "SSE_FCGI_QUEUE_LIMIT=8k" }, CFG_OK, "queue-limit",
	  "8192" },
	{ { NULL }, { "SSE_FCGI_SHUTDOWN_GRACE=9" }, CFG_OK, "shutdown-grace",
	  "9" },
	{ { NULL }, { "SSE_FCGI_LOG_FILE=/x.log" }, CFG_OK, "log-file",
	  "/x.log" },
	{ { NULL }, { "SSE_FCGI_RETRY=1", "SSE_FCGI_RETRY=2" }, CFG_OK,
	  "retry", "2" },
	{ { NULL }, { "SSE_FCGI_NOPE=1", "SSE_FCGI_=1", "SSE_FCGI_RETRY",
	  "SSE_FCGI_retry=x", "SSE_FCGI_RETRYX=x", "RETRY=x",
	  "XSSE_FCGI_RETRY=x" }, CFG_OK, "retry", "3000" },
	{ { NULL }, { "SSE_FCGI_QUEUE-LIMIT=1" }, CFG_OK, "queue-limit",
	  "1048576" },
	{ { "--retry", "5" }, { "SSE_FCGI_RETRY=6" }, CFG_OK, "retry", "5" },
	{ { "--max-channels", "64" }, { NULL }, CFG_OK, "max-channels", "64" },
	{ { NULL }, { "SSE_FCGI_MAX_CHANNELS=2" }, CFG_OK, "max-channels",
	  "2" },
	{ { "--publish-timeout=500" }, { NULL }, CFG_OK, "publish-timeout",
	  "500" },
	{ { NULL }, { "SSE_FCGI_MAX_MESSAGE=2m" }, CFG_OK, "max-message",
	  "2097152" },
	{ { "--history-prefix", "q:" }, { "SSE_FCGI_HISTORY_PREFIX=e:" },
	  CFG_OK, "history-prefix", "q:" },
	{ { NULL }, { "SSE_FCGI_PUBLISHER_SECRET=tok" }, CFG_OK,
	  "publisher-secret", "tok" },
	{ { "--publisher-secret=flag" }, { "SSE_FCGI_PUBLISHER_SECRET=env" },
	  CFG_OK, "publisher-secret", "flag" },
	/* History: every source adds, flags first, then env, each in order. */
	{ { "--history", "a 1 1s" }, { NULL }, CFG_OK, "history",
	  "a 1 1000" },
	{ { "--history=a 1 1s", "--history", "b 2 2s" }, { NULL }, CFG_OK,
	  "history", "a 1 1000|b 2 2000" },
	{ { NULL }, { "SSE_FCGI_HISTORY=a 1 1s" }, CFG_OK, "history",
	  "a 1 1000" },
	{ { NULL }, { "SSE_FCGI_HISTORY=a 1 1s;b 2 2s; c 3 3s ;" }, CFG_OK,
	  "history", "a 1 1000|b 2 2000|c 3 3000" },
	{ { NULL }, { "SSE_FCGI_HISTORY=;;a 1 1s" }, CFG_OK, "history",
	  "a 1 1000" },
	{ { "--history", "f 1 1s" }, { "SSE_FCGI_HISTORY=e 2 2s;e2 3 3s" },
	  CFG_OK, "history", "f 1 1000|e 2 2000|e2 3 3000" },
	{ { NULL }, { "SSE_FCGI_HISTORY=a 1 1s", "SSE_FCGI_HISTORY=b 2 2s" },
	  CFG_OK, "history", "b 2 2000" },
	{ { NULL }, { "SSE_FCGI_HISTORY=a 1 1s", "SSE_FCGI_HISTORY=" },
	  CFG_OK, "history", "a 1 1000" },
	{ { NULL }, { "SSE_FCGI_HISTORY=" }, CFG_OK, "history", "" },
	{ { NULL }, { "SSE_FCGI_HISTORY=a 1 1s;b 2" }, CFG_ERROR, NULL,
	  "SSE_FCGI_HISTORY rule 2: history rule \"b 2\" is not" },
	{ { NULL }, { "SSE_FCGI_HISTORY=a 1 1s;;b/ 2 2" }, CFG_ERROR, NULL,
	  "SSE_FCGI_HISTORY rule 3: history pattern \"b/\"" },
	{ { NULL }, { "SSE_FCGI_HISTORY= ; ;" }, CFG_ERROR, NULL,
	  "SSE_FCGI_HISTORY: no history rule in \" ; ;\"" },
	{ { "--history", "a 1 1x" }, { NULL }, CFG_ERROR, NULL,
	  "--history: history MAXAGE \"1x\" is not a duration" },
	{ { "--history=" }, { NULL }, CFG_ERROR, NULL,
	  "--history: empty value" },
	{ { "--history" }, { NULL }, CFG_ERROR, NULL,
	  "--history: missing value" },
	{ { "--history=a 1 1;b 1 1" }, { NULL }, CFG_ERROR, NULL,
	  "(only SSE_FCGI_HISTORY splits rules" },
	{ { "--max-message=0" }, { NULL }, CFG_ERROR, NULL,
	  "--max-message: \"0\" is out of range (1..536870912)" },
	{ { NULL }, { "SSE_FCGI_PUBLISH_TIMEOUT=5" }, CFG_ERROR, NULL,
	  "SSE_FCGI_PUBLISH_TIMEOUT: \"5\" is out of range (10..60000)" },
	{ { NULL }, { "SSE_FCGI_HISTORY_PREFIX=a b" }, CFG_ERROR, NULL,
	  "SSE_FCGI_HISTORY_PREFIX: \"a b\" is not 1..64 bytes" },
	{ { "--publisher-secret", "a b" }, { NULL }, CFG_ERROR, NULL,
	  "--publisher-secret: the secret is not" },
	/* The secret and its file exclude each other, whatever the layers. */
	{ { "--publisher-secret=x", "--publisher-secret-file=/nonexistent" },
	  { NULL }, CFG_ERROR, NULL, "publisher-secret and "
	  "publisher-secret-file are both set; use one" },
	{ { "--publisher-secret-file=/nonexistent" },
	  { "SSE_FCGI_PUBLISHER_SECRET=x" }, CFG_ERROR, NULL,
	  "are both set" },
	{ { "--publisher-secret-file=/nonexistent/s" }, { NULL }, CFG_ERROR,
	  NULL, "publisher-secret-file /nonexistent/s: No such file or "
	  "directory" },
	{ { NULL }, { "SSE_FCGI_PUBLISHER_SECRET_FILE=/tmp" }, CFG_ERROR,
	  NULL, "publisher-secret-file /tmp: Is a directory" },
	{ { "--nope" }, { NULL }, CFG_ERROR, NULL,
	  "unknown option \"--nope\"" },
	{ { "--nope=secret" }, { NULL }, CFG_ERROR, NULL,
	  "unknown option \"--nope\"" },
	{ { "--retry=x", "--nope" }, { NULL }, CFG_ERROR, NULL,
	  "unknown option \"--nope\"" },
	{ { "-x" }, { NULL }, CFG_ERROR, NULL, "unknown option \"-x\"" },
	{ { "-hV" }, { NULL }, CFG_ERROR, NULL, "unknown option \"-hV\"" },
	{ { "---keepalive=1" }, { NULL }, CFG_ERROR, NULL,
	  "unknown option" },
	{ { "--=1" }, { NULL }, CFG_ERROR, NULL, "unknown option" },
	{ { "serve" }, { NULL }, CFG_ERROR, NULL,
	  "unexpected argument \"serve\"" },
	{ { "-" }, { NULL }, CFG_ERROR, NULL, "unexpected argument \"-\"" },
	{ { "--", "x" }, { NULL }, CFG_ERROR, NULL,
	  "unexpected argument \"x\"" },
	{ { "--keepalive", "30", "extra" }, { NULL }, CFG_ERROR, NULL,
	  "unexpected argument \"extra\"" },
	{ { "--keepalive" }, { NULL }, CFG_ERROR, NULL,
	  "--keepalive: missing value" },
	{ { "--listen", "--keepalive", "3" }, { NULL }, CFG_ERROR, NULL,
	  "--listen: missing value" },
	{ { "--keepalive", "abc" }, { NULL }, CFG_ERROR, NULL,
	  "--keepalive: \"abc\" is not a number" },
	{ { "--keepalive=15x" }, { NULL }, CFG_ERROR, NULL,
	  "--keepalive: \"15x\" is not a number" },
	{ { "--keepalive=0" }, { NULL }, CFG_ERROR, NULL,
	  "--keepalive: \"0\" is out of range (1..3600)" },
	{ { "--keepalive=" }, { NULL }, CFG_ERROR, NULL,
	  "--keepalive: empty value" },
	{ { "--listen=" }, { NULL }, CFG_ERROR, NULL,
	  "--listen: empty value" },
	{ { "--redis", "" }, { NULL }, CFG_ERROR, NULL,
	  "--redis: empty value" },
	{ { "--queue-limit=1g" }, { NULL }, CFG_ERROR, NULL,
	  "--queue-limit: \"1g\" is not a size" },
	{ { "--log-level=loud" }, { NULL }, CFG_ERROR, NULL,
	  "--log-level: \"loud\" is not one of" },
	{ { "--help=1" }, { NULL }, CFG_ERROR, NULL,
	  "--help: takes no value" },
	{ { "--version=1" }, { NULL }, CFG_ERROR, NULL,
	  "--version: takes no value" },
	{ { NULL }, { "SSE_FCGI_RETRY=15x" }, CFG_ERROR, NULL,
	  "SSE_FCGI_RETRY: \"15x\" is not a number" },
	{ { NULL }, { "SSE_FCGI_KEEPALIVE=9999" }, CFG_ERROR, NULL,
	  "SSE_FCGI_KEEPALIVE: \"9999\" is out of range (1..3600)" },
	{ { NULL }, { "SSE_FCGI_POLL_HOLD=20" }, CFG_OK, "poll-hold",
	  "20000" },
	{ { NULL }, { "SSE_FCGI_POLL_HOLD=1h" }, CFG_ERROR, NULL,
	  "SSE_FCGI_POLL_HOLD: \"1h\" is not \"off\" or seconds" },
	{ { "--poll-hold=0.5" }, { "SSE_FCGI_POLL_HOLD=20" }, CFG_OK,
	  "poll-hold", "500" },
	{ { "--poll-hold=off" }, { "SSE_FCGI_POLL_HOLD=20" }, CFG_OK,
	  "poll-hold", "-1" },
	{ { "--poll-hold=999" }, { NULL }, CFG_ERROR, NULL,
	  "--poll-hold: \"999\" is out of range (0..300 seconds, or off)" },
	/* An empty variable counts as unset. */
	{ { NULL }, { "SSE_FCGI_LISTEN=" }, CFG_OK, "listen", "(null)" },
	{ { NULL }, { "SSE_FCGI_RETRY=" }, CFG_OK, "retry", "3000" },
	{ { NULL }, { "SSE_FCGI_RETRY=7", "SSE_FCGI_RETRY=" }, CFG_OK,
	  "retry", "7" },
	{ { NULL }, { "SSE_FCGI_CONFIG=" }, CFG_OK, "config", "(null)" },
	{ { NULL }, { "SSE_FCGI_LOG_LEVEL=loud" }, CFG_ERROR, NULL,
	  "SSE_FCGI_LOG_LEVEL: \"loud\"" },
	{ { "--keepalive=2" }, { "SSE_FCGI_RETRY=x" }, CFG_ERROR, NULL,
	  "SSE_FCGI_RETRY: \"x\" is not a number" },
	{ { "--config", "/nonexistent/x.conf" }, { NULL }, CFG_ERROR, NULL,
	  "/nonexistent/x.conf: No such file or directory" },
	{ { "--config=" }, { NULL }, CFG_ERROR, NULL,
	  "--config: empty value" },
	{ { NULL }, { "SSE_FCGI_CONFIG=/nonexistent/y.conf" }, CFG_ERROR,
	  NULL, "/nonexistent/y.conf: No such file or directory" },
	{ { "--config", "/nonexistent/x.conf" },
	  { "SSE_FCGI_CONFIG=/nonexistent/y.conf" }, CFG_ERROR, NULL,
	  "/nonexistent/x.conf:" },
	/* The first of --help and a bad flag decides. */
	{ { "--nope", "--help" }, { NULL }, CFG_ERROR, NULL,
	  "unknown option" },
	{ { "--help", "--nope" }, { NULL }, CFG_EXIT, NULL, "" },
	{ { "--keepalive=abc", "--help" }, { NULL }, CFG_EXIT, NULL, "" },
	{ { "-h" }, { "SSE_FCGI_RETRY=x" }, CFG_EXIT, NULL, "" },
	{ { "--config=/nonexistent", "-V" }, { NULL }, CFG_EXIT, NULL, "" },
	/* auth-url, auth-timeout, auth-cache (auth_url.h). */
	{ { NULL }, { NULL }, CFG_OK, "auth-url", "(null)" },
	{ { NULL }, { NULL }, CFG_OK, "auth-timeout", "2000" },
	{ { NULL }, { NULL }, CFG_OK, "auth-cache", "30" },
	{ { "--auth-url", "http://127.0.0.1:8080/auth.php?x=1" }, { NULL },
	  CFG_OK, "auth-url", "http://127.0.0.1:8080/auth.php?x=1" },
	{ { "--auth-url=HTTP://[::1]/a" }, { NULL }, CFG_OK, "auth-url",
	  "HTTP://[::1]/a" },
	{ { NULL }, { "SSE_FCGI_AUTH_URL=http://app.local/auth" }, CFG_OK,
	  "auth-url", "http://app.local/auth" },
	{ { "--auth-url", "https://127.0.0.1/auth.php" }, { NULL }, CFG_ERROR,
	  NULL, "--auth-url: \"https://127.0.0.1/auth.php\": https is not "
	  "supported" },
	{ { "--auth-url", "ftp://x/a" }, { NULL }, CFG_ERROR, NULL,
	  "expected http://HOST[:PORT]/PATH" },
	{ { "--auth-url", "http://127.0.0.1" }, { NULL }, CFG_ERROR, NULL,
	  "expected a path after the host" },
	{ { "--auth-url", "http://127.0.0.1:0/a" }, { NULL }, CFG_ERROR, NULL,
	  "port out of range" },
	{ { "--auth-url", "http://127.0.0.1:65536/a" }, { NULL }, CFG_ERROR,
	  NULL, "port out of range" },
	{ { "--auth-url", "http://127.0.0.1:x/a" }, { NULL }, CFG_ERROR,
	  NULL, "bad port" },
	{ { "--auth-url", "http:///a" }, { NULL }, CFG_ERROR, NULL,
	  "missing or bad host" },
	{ { "--auth-url", "http://a_b/a" }, { NULL }, CFG_ERROR, NULL,
	  "expected a path after the host" },
	{ { "--auth-url", "http://[::1/a" }, { NULL }, CFG_ERROR, NULL,
	  "unterminated [IPv6 address]" },
	{ { "--auth-url", "http://[zz]/a" }, { NULL }, CFG_ERROR, NULL,
	  "bad IPv6 address" },
	{ { "--auth-url", "http://h/a b" }, { NULL }, CFG_ERROR, NULL,
	  "spaces, control or non-ASCII" },
	{ { "--auth-url", "http://h/a#f" }, { NULL }, CFG_ERROR, NULL,
	  "a fragment (#)" },
	{ { "--auth-url=" }, { NULL }, CFG_ERROR, NULL,
	  "--auth-url: empty value" },
	{ { NULL }, { "SSE_FCGI_AUTH_URL=x" }, CFG_ERROR, NULL,
	  "SSE_FCGI_AUTH_URL: \"x\": expected http://" },
	{ { "--auth-timeout", "9" }, { NULL }, CFG_ERROR, NULL,
	  "--auth-timeout: \"9\" is out of range (10..60000)" },
	{ { "--auth-timeout", "60001" }, { NULL }, CFG_ERROR, NULL,
	  "out of range (10..60000)" },
	{ { "--auth-timeout", "1s" }, { NULL }, CFG_ERROR, NULL,
	  "--auth-timeout: \"1s\" is not a number" },
	{ { "--auth-timeout", "500" }, { NULL }, CFG_OK, "auth-timeout",
	  "500" },
	{ { "--auth-cache", "0" }, { NULL }, CFG_ERROR, NULL,
	  "--auth-cache: \"0\" is out of range (1..86400)" },
	{ { "--auth-cache", "86401" }, { NULL }, CFG_ERROR, NULL,
	  "out of range (1..86400)" },
	{ { "--auth-cache", "-1" }, { NULL }, CFG_ERROR, NULL,
	  "--auth-cache: \"-1\" is not a number" },
	{ { NULL }, { "SSE_FCGI_AUTH_CACHE=abc" }, CFG_ERROR, NULL,
	  "SSE_FCGI_AUTH_CACHE: \"abc\" is not a number" },
	{ { "--auth-cache", "5" }, { NULL }, CFG_OK, "auth-cache", "5" },
};

/* Builds a NULL-terminated argv with "sse-fcgi" as argv[0]. */
static int
make_argv(const char *const *in, char **argv)
{
	int	n = 0;

	argv[n++] = (char *)"sse-fcgi";
	while (n <= NARGS && in[n - 1] != NULL) {
		argv[n] = (char *)in[n - 1];
		n++;
	}
	argv[n] = NULL;
	return n;
}

static void
test_load(void)
{
	struct cfg	 c;
	char		*argv[NARGS + 2], *envp[NARGS + 1];
	char		 err[256], buf[128];
	FILE		*null;
	size_t		 i, j;
	int		 argc, rc, ok;

	if ((null = fopen("/dev/null", "w")) == NULL) {
		perror("/dev/null");
		exit(1);
	}
	for (i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
		argc = make_argv(load_cases[i].argv, argv);
		for (j = 0; j < NARGS && load_cases[i].envp[j] != NULL; j++)
			envp[j] = (char *)load_cases[i].envp[j];
		envp[j] = NULL;
		err[0] = '\0';
		memset(&c, 0xa5, sizeof c);	/* cfg_load must initialise */
		rc = cfg_load(&c, argc, argv, envp, null, err, sizeof err);
		if (rc == CFG_OK) {
			field(&c, load_cases[i].key, buf, sizeof buf);
			ok = rc == load_cases[i].rc &&
			    strcmp(buf, load_cases[i].want) == 0;
		} else
			ok = rc == load_cases[i].rc &&
			    strstr(err, load_cases[i].want) != NULL &&
			    strchr(err, '\n') == NULL && cfg_strings_null(&c);
		if (!ok)
			fprintf(stderr, "load_cases[%zu]: rc %d err \"%s\"\n",
			    i, rc, err);
		test_cond(load_cases[i].want, ok);
		cfg_clear(&c);
	}

	/* A NULL envp and argc 0 are allowed. */
	rc = cfg_load(&c, 0, NULL, NULL, null, err, sizeof err);
	test_cond("argc 0, envp NULL", rc == CFG_OK && c.keepalive == 15 &&
	    streq_null(c.redis, "redis://127.0.0.1:6379"));
	cfg_clear(&c);
	fclose(null);
}

/* Writes a config file, then layers environment and flags on top. */
static void
test_precedence(void)
{
	static const char text[] =
	    "# every layer sets some of these\n"
	    "keepalive = 20\n"
	    "retry = 100\n"
	    "max-streams = 7\n"
	    "log-level = warn\n"
	    "listen = \"/run/file.sock\"\n";
	static const char text2[] = "keepalive = 40\n";
	struct cfg	 c;
	char		 path[64], path2[64], err[256], envcfg[96], want[128];
	char		 cfgflag[96];
	char		*argv[8], *envp[6];
	int		 rc;

	write_tmp(text, sizeof text - 1, path, sizeof path);
	write_tmp(text2, sizeof text2 - 1, path2, sizeof path2);

	/* file < env < flag, with the file named by --config */
	argv[0] = (char *)"sse-fcgi";
	argv[1] = (char *)"--max-streams";
	argv[2] = (char *)"9";
	argv[3] = (char *)"--config";
	argv[4] = path;
	argv[5] = NULL;
	envp[0] = (char *)"PATH=/bin";
	envp[1] = (char *)"SSE_FCGI_RETRY=200";
	envp[2] = (char *)"SSE_FCGI_MAX_STREAMS=8";
	envp[3] = (char *)"SSE_FCGI_LISTEN=/run/env.sock";
	envp[4] = NULL;
	rc = cfg_load(&c, 5, argv, envp, stderr, err, sizeof err);
	test_cond("load", rc == CFG_OK);
	test_cond("file beats default", c.keepalive == 20);
	test_cond("file beats default (level)", c.log_level == LOG_LVL_WARN);
	test_cond("env beats file", c.retry_ms == 200);
	test_cond("env beats file (string)",
	    streq_null(c.listen, "/run/env.sock"));
	test_cond("flag beats env and file", c.max_streams == 9);
	test_cond("default stays", c.shutdown_grace == 5 &&
	    c.queue_limit == 1048576 && c.backlog == 1024);
	test_cond("config_file recorded", streq_null(c.config_file, path));
	cfg_clear(&c);

	/* the file named by SSE_FCGI_CONFIG */
	snprintf(envcfg, sizeof envcfg, "SSE_FCGI_CONFIG=%s", path);
	envp[0] = envcfg;
	envp[1] = (char *)"SSE_FCGI_KEEPALIVE=30";
	envp[2] = (char *)"SSE_FCGI_RETRY=";	/* empty: file value stays */
	envp[3] = NULL;
	rc = cfg_load(&c, 1, argv, envp, stderr, err, sizeof err);
	test_cond("env config", rc == CFG_OK && c.retry_ms == 100 &&
	    c.max_streams == 7 && c.keepalive == 30 &&
	    streq_null(c.config_file, path));
	cfg_clear(&c);

	/* --config=FILE wins over SSE_FCGI_CONFIG; only one file is read */
	snprintf(cfgflag, sizeof cfgflag, "--config=%s", path2);
	argv[1] = cfgflag;
	argv[2] = NULL;
	envp[1] = NULL;
	rc = cfg_load(&c, 2, argv, envp, stderr, err, sizeof err);
	test_cond("--config beats SSE_FCGI_CONFIG", rc == CFG_OK &&
	    c.keepalive == 40 && c.retry_ms == 3000 && c.max_streams ==
	    0 && streq_null(c.config_file, path2));
	cfg_clear(&c);

	/* a bad line in the file fails the load with file:line */
	unlink(path2);
	write_tmp("\nkeepalive = 20\nfoo = 1\n", 24, path2, sizeof path2);
	argv[1] = (char *)"--keepalive=5";
	argv[2] = NULL;
	snprintf(envcfg, sizeof envcfg, "SSE_FCGI_CONFIG=%s", path2);
	rc = cfg_load(&c, 2, argv, envp, stderr, err, sizeof err);
	snprintf(want, sizeof want, "%s:3: unknown key \"foo\"", path2);
	test_cond("file error", rc == CFG_ERROR && strcmp(err, want) == 0 &&
	    cfg_strings_null(&c));
	cfg_clear(&c);

	unlink(path2);
	unlink(path);
}

struct lookup_case {
	const char	*channel;
	const char	*pattern;	/* of the rule that must win */
	unsigned long	 maxlen;
};

/* The file, env and flags each add rules; lookup must try the flag rules,
 * then the env rules, then the file rules, each in the order given, and
 * fall back on "* 1000 24h". */
static void
test_history(void)
{
	static const char text[] =
	    "history = task.* 100 1h\n"
	    "history = user.* 500 7d\n"
	    "history = task.urgent 1 1\n"	/* shadowed by task.* */
	    "history = a?c 7 0\n"
	    "history = user.vip 2 2\n";		/* ditto: user.* wins */
	static const struct lookup_case cases[] = {
		{ "task.1", "task.*", 999 },	/* flag rule */
		{ "task.", "task.*", 999 },
		{ "task.urgent", "task.*", 999 },
		{ "user.vip", "user.v*", 42 },	/* env rule 1 */
		{ "user.v", "user.v*", 42 },
		{ "user.x", "user.*", 43 },	/* env rule 2 */
		{ "abc", "a?c", 7 },		/* file rule */
		{ "a.c", "a?c", 7 },
		{ "ac", "*", 1000 },		/* built-in */
		{ "task", "*", 1000 },
		{ "Task.1", "*", 1000 },
		{ "", "*", 1000 },
	};
	const struct cfg_history	*h;
	struct cfg			 c;
	char				 path[64], cfgflag[96], err[256];
	char				 buf[256], pat[256];
	char				*argv[6], *envp[3];
	size_t				 i;
	int				 rc;

	write_tmp(text, sizeof text - 1, path, sizeof path);
	snprintf(cfgflag, sizeof cfgflag, "--config=%s", path);
	argv[0] = (char *)"sse-fcgi";
	argv[1] = (char *)"--history";
	argv[2] = (char *)"task.* 999 10m";
	argv[3] = cfgflag;
	argv[4] = (char *)"--history=nope 0 0";
	argv[5] = NULL;
	envp[0] = (char *)"SSE_FCGI_HISTORY=user.v* 42 1d;user.* 43 30s";
	envp[1] = (char *)"SSE_FCGI_KEEPALIVE=9";
	envp[2] = NULL;
	rc = cfg_load(&c, 5, argv, envp, stderr, err, sizeof err);
	test_cond("history load", rc == CFG_OK);
	test_cond("history order: flags, env, file", strcmp(rules(&c, buf,
	    sizeof buf), "task.* 999 600000|nope 0 0|user.v* 42 86400000|"
	    "user.* 43 30000|task.* 100 3600000|user.* 500 604800000|"
	    "task.urgent 1 1000|a?c 7 0|user.vip 2 2000") == 0);
	if (rc == CFG_OK && strstr(buf, "task.* 999") != buf)
		fprintf(stderr, "history: \"%s\"\n", buf);
	for (i = 0; rc == CFG_OK && i < sizeof cases / sizeof cases[0];
	    i++) {
		h = cfg_history_for(&c, cases[i].channel,
		    strlen(cases[i].channel));
		test_cond(cases[i].channel, h != NULL &&
		    strcmp(h->pattern, cases[i].pattern) == 0 &&
		    h->maxlen == cases[i].maxlen);
	}
	/* LEN, not the NUL, ends the channel name. */
	h = cfg_history_for(&c, "task.1xyz", 4);
	test_cond("explicit length", h->maxlen == 1000);
	h = cfg_history_for(&c, "abcdef", 3);
	test_cond("explicit length 2", h->maxlen == 7);
	test_cond("nope matches itself", cfg_history_for(&c, "nope",
	    4)->maxlen == 0 && cfg_history_for(&c, "nope", 4)->maxage_ms ==
	    0);
	cfg_clear(&c);
	test_cond("clear frees the rules", c.history == NULL &&
	    c.nhistory == 0);

	/* With no flags the env rules come first; a file alone keeps its
	 * order; a failed load frees what the file had added. */
	argv[1] = cfgflag;
	argv[2] = NULL;
	rc = cfg_load(&c, 2, argv, envp, stderr, err, sizeof err);
	test_cond("env before file", rc == CFG_OK && strncmp(rules(&c, buf,
	    sizeof buf), "user.v* 42 86400000|user.* 43 30000|task.* 100 "
	    "3600000|", 49) == 0 && c.nhistory == 7);
	cfg_clear(&c);
	rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
	test_cond("file alone", rc == CFG_OK && c.nhistory == 5 &&
	    strcmp(c.history[0].pattern, "task.*") == 0 &&
	    strcmp(c.history[4].pattern, "user.vip") == 0);
	cfg_clear(&c);
	argv[2] = (char *)"--history=x 1";
	argv[3] = NULL;
	memset(&c, 0xa5, sizeof c);
	rc = cfg_load(&c, 3, argv, envp, stderr, err, sizeof err);
	test_cond("bad flag rule after file and env rules", rc ==
	    CFG_ERROR && strstr(err, "--history: history rule \"x 1\"") ==
	    err && cfg_strings_null(&c));
	cfg_clear(&c);
	unlink(path);

	/* cfg_set appends, and a failure leaves the list alone. */
	cfg_defaults(&c);
	test_cond("set 1", cfg_set(&c, "history", "a* 5 5m", NULL, err,
	    sizeof err) == 0);
	test_cond("set bad", cfg_set(&c, "history", "b* 5 5y", NULL, err,
	    sizeof err) == -1 && strncmp(err, "history: history MAXAGE",
	    23) == 0);
	test_cond("set 2", cfg_set(&c, "history", "\tb*  0\t 365d ", NULL,
	    err, sizeof err) == 0);
	test_cond("set result", strcmp(rules(&c, buf, sizeof buf),
	    "a* 5 300000|b* 0 31536000000") == 0 ||
	    sizeof(unsigned long) < 8);
	test_cond("maxlen 0", cfg_history_for(&c, "bee", 3)->maxlen == 0);
	test_cond("limits", cfg_set(&c, "history", "z 10000000 0", NULL,
	    err, sizeof err) == 0 && cfg_set(&c, "history", "z 0 31536000",
	    NULL, err, sizeof err) == 0 && cfg_set(&c, "history",
	    "z 0 525600m", NULL, err, sizeof err) == 0 && cfg_set(&c,
	    "history", "z 0 8760h", NULL, err, sizeof err) == 0 &&
	    cfg_set(&c, "history", "z 00 0007s", NULL, err, sizeof err) == 0);
	test_cond("limits stored", c.nhistory == 7 &&
	    c.history[2].maxlen == 10000000 && c.history[6].maxage_ms ==
	    7000);

	/* A pattern may be as long as a channel name, not longer. */
	memset(pat, 'p', sizeof pat);
	memcpy(pat + 200, " 1 1", 5);
	test_cond("200-byte pattern", cfg_set(&c, "history", pat, "s", err,
	    sizeof err) == 0 && cfg_history_for(&c, pat, 200)->maxlen == 1);
	memset(pat, '*', 201);
	memcpy(pat + 201, " 1 1", 5);
	test_cond("201-byte pattern", cfg_set(&c, "history", pat, "s", err,
	    sizeof err) == -1 && strcmp(err, "s: history pattern is longer "
	    "than 200 bytes") == 0 && c.nhistory == 8);
	cfg_clear(&c);
}

/* publisher-secret-file: the first line, trailing white space off. */
struct secret_case {
	const char	*text;
	size_t		 len;		/* 0: strlen(text) */
	const char	*want;		/* the secret, or NULL on error */
	const char	*errpart;	/* error text after "FILE: " */
};

static const struct secret_case secret_cases[] = {
	{ "s3cret", 0, "s3cret", NULL },
	{ "s3cret\n", 0, "s3cret", NULL },
	{ "s3cret\r\n", 0, "s3cret", NULL },
	{ "s3cret \t \n", 0, "s3cret", NULL },
	{ "s3cret\nsecond line ignored\n", 0, "s3cret", NULL },
	{ "a#b=c\"d'e\n", 0, "a#b=c\"d'e", NULL },
	{ "", 0, NULL, "no secret on the first line" },
	{ "\n", 0, NULL, "no secret on the first line" },
	{ "  \r\n", 0, NULL, "no secret on the first line" },
	{ "\nsecret on line 2\n", 0, NULL, "no secret on the first line" },
	{ " lead\n", 0, NULL, "the secret is not printable ASCII without "
	  "spaces" },
	{ "two words\n", 0, NULL, "the secret is not printable" },
	{ "Bearer\tx\n", 0, NULL, "the secret is not printable" },
	{ "a\0b\n", 4, NULL, "the secret is not printable" },
	{ "caf\xc3\xa9\n", 0, NULL, "the secret is not printable" },
};

/* initial-events: rules kept from every source, flags first, then env,
 * then file; the first match gives N; no match gives 0; a bad rule in
 * any source is refused with its source named. */
static void
test_initial(void)
{
	static const char text[] =
	    "initial-events = task.* 5\n"
	    "initial-events = user.? 1\n";
	struct cfg	 c;
	char		 path[64], cfgflag[96], err[256], buf[256];
	char		*argv[5], *envp[2];
	int		 rc;

	write_tmp(text, sizeof text - 1, path, sizeof path);
	snprintf(cfgflag, sizeof cfgflag, "--config=%s", path);
	argv[0] = (char *)"sse-fcgi";
	argv[1] = (char *)"--initial-events";
	argv[2] = (char *)"task.big 1000";
	argv[3] = cfgflag;
	argv[4] = NULL;
	envp[0] = (char *)"SSE_FCGI_INITIAL_EVENTS=task.quiet 0; p.* 2 ;";
	envp[1] = NULL;
	rc = cfg_load(&c, 4, argv, envp, stderr, err, sizeof err);
	test_cond("initial load", rc == CFG_OK);
	test_cond("initial order: flags, env, file", rc == CFG_OK &&
	    strcmp(initial_rules(&c, buf, sizeof buf), "task.big 1000|"
	    "task.quiet 0|p.* 2|task.* 5|user.? 1") == 0);
	test_cond("initial flag rule", cfg_initial_for(&c, "task.big", 8) ==
	    1000);
	test_cond("initial env rule 0", cfg_initial_for(&c, "task.quiet",
	    10) == 0);
	test_cond("initial file rule", cfg_initial_for(&c, "task.7", 6) == 5);
	test_cond("initial env rule", cfg_initial_for(&c, "p.x", 3) == 2);
	test_cond("initial ?", cfg_initial_for(&c, "user.1", 6) == 1 &&
	    cfg_initial_for(&c, "user.12", 7) == 0);
	test_cond("initial no match", cfg_initial_for(&c, "other", 5) == 0);
	cfg_clear(&c);
	test_cond("initial cleared", c.initial == NULL && c.ninitial == 0);

	envp[0] = (char *)"SSE_FCGI_INITIAL_EVENTS=a.* 1;b.* x";
	rc = cfg_load(&c, 1, argv, envp, stderr, err, sizeof err);
	test_cond("initial bad env rule", rc == CFG_ERROR && strcmp(err,
	    "SSE_FCGI_INITIAL_EVENTS rule 2: initial-events N \"x\" is not "
	    "a number") == 0);
	cfg_clear(&c);
	envp[0] = (char *)"SSE_FCGI_INITIAL_EVENTS= ; ";
	rc = cfg_load(&c, 1, argv, envp, stderr, err, sizeof err);
	test_cond("initial empty env list", rc == CFG_ERROR && strstr(err,
	    "SSE_FCGI_INITIAL_EVENTS: no initial-events rule") == err);
	cfg_clear(&c);
	argv[1] = (char *)"--initial-events=task.* 1001";
	rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
	test_cond("initial bad flag", rc == CFG_ERROR && strcmp(err,
	    "--initial-events: initial-events N \"1001\" is out of range "
	    "(0..1000)") == 0);
	cfg_clear(&c);
	unlink(path);
	write_tmp("initial-events = task.*\n", 24, path, sizeof path);
	argv[1] = cfgflag;
	snprintf(cfgflag, sizeof cfgflag, "--config=%s", path);
	rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
	test_cond("initial bad file rule", rc == CFG_ERROR && strstr(err,
	    ":1: initial-events rule \"task.*\" is not \"PATTERN N\"") !=
	    NULL);
	cfg_clear(&c);
	unlink(path);
}

static void
test_secret_file(void)
{
	struct cfg	 c;
	char		 path[64], flag[96], err[256], want[160];
	char		*argv[3], *text;
	size_t		 i, len;
	int		 rc, ok;

	argv[0] = (char *)"sse-fcgi";
	argv[1] = flag;
	argv[2] = NULL;
	for (i = 0; i < sizeof secret_cases / sizeof secret_cases[0]; i++) {
		len = secret_cases[i].len ? secret_cases[i].len :
		    strlen(secret_cases[i].text);
		write_tmp(secret_cases[i].text, len, path, sizeof path);
		snprintf(flag, sizeof flag, "--publisher-secret-file=%s",
		    path);
		err[0] = '\0';
		rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
		if (secret_cases[i].want != NULL)
			ok = rc == CFG_OK && streq_null(c.publisher_secret,
			    secret_cases[i].want) &&
			    streq_null(c.publisher_secret_file, path);
		else {
			snprintf(want, sizeof want, "publisher-secret-file "
			    "%s: %s", path, secret_cases[i].errpart);
			ok = rc == CFG_ERROR && strstr(err, want) == err &&
			    cfg_strings_null(&c);
		}
		if (!ok)
			fprintf(stderr, "secret_cases[%zu]: rc %d err \"%s\"\n",
			    i, rc, err);
		test_cond(secret_cases[i].text, ok);
		cfg_clear(&c);
		unlink(path);
	}

	/* 4096 bytes is the most; the error never quotes the file. */
	text = malloc(4099);
	memset(text, 'k', 4099);
	text[4096] = '\n';
	write_tmp(text, 4097, path, sizeof path);
	snprintf(flag, sizeof flag, "--publisher-secret-file=%s", path);
	rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
	test_cond("4096-byte secret", rc == CFG_OK &&
	    strlen(c.publisher_secret) == 4096);
	cfg_clear(&c);
	unlink(path);
	text[4096] = 'k';
	write_tmp(text, 4097, path, sizeof path);
	snprintf(flag, sizeof flag, "--publisher-secret-file=%s", path);
	rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
	snprintf(want, sizeof want, "publisher-secret-file %s: first line "
	    "longer than 4096 bytes", path);
	test_cond("4097-byte secret", rc == CFG_ERROR &&
	    strcmp(err, want) == 0);
	cfg_clear(&c);
	unlink(path);
	free(text);

	write_tmp("two words\n", 10, path, sizeof path);
	snprintf(flag, sizeof flag, "--publisher-secret-file=%s", path);
	rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
	test_cond("secret not echoed", rc == CFG_ERROR &&
	    strstr(err, "two") == NULL && strstr(err, "words") == NULL);
	test_cond("flag secret not echoed", cfg_set(&c, "publisher-secret",
	    "two words", "s", err, sizeof err) == -1 &&
	    strstr(err, "two") == NULL);
	cfg_clear(&c);
	unlink(path);

	/* A flag may point at a good file where the config file names a
	 * missing one: only the winner is read. */
	write_tmp("publisher-secret-file = /nonexistent/secret\n", 44, want,
	    sizeof want);
	snprintf(err, sizeof err, "SSE_FCGI_CONFIG=%s", want);
	{
		char	*envp[2] = { err, NULL };
		char	 e2[256];

		write_tmp("good\n", 5, path, sizeof path);
		snprintf(flag, sizeof flag, "--publisher-secret-file=%s",
		    path);
		rc = cfg_load(&c, 2, argv, envp, stderr, e2, sizeof e2);
		test_cond("only the winning file is read", rc == CFG_OK &&
		    streq_null(c.publisher_secret, "good"));
		cfg_clear(&c);
		rc = cfg_load(&c, 1, argv, envp, stderr, e2, sizeof e2);
		test_cond("missing file from the config file", rc ==
		    CFG_ERROR && strstr(e2, "/nonexistent/secret: No such "
		    "file") != NULL);
		cfg_clear(&c);
	}
	unlink(want);
	unlink(path);
}

/* Reads all of FP (rewound) into BUF. */
static const char *
slurp(FILE *fp, char *buf, size_t len)
{
	size_t	n;

	rewind(fp);
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	return buf;
}

static void
test_help_version(void)
{
	struct cfg	 c;
	char		*argv[3], err[256], buf[8192];
	FILE		*fp;
	const char	*p;

	argv[0] = (char *)"sse-fcgi";
	argv[1] = (char *)"--version";
	argv[2] = NULL;
	fp = tmpfile();
	test_cond("version", cfg_load(&c, 2, argv, NULL, fp, err,
	    sizeof err) == CFG_EXIT && cfg_strings_null(&c));
	test_cond("version text", strcmp(slurp(fp, buf, sizeof buf),
	    "sse-fcgi " PACKAGE_VERSION "\n") == 0);
	fclose(fp);

	argv[1] = (char *)"-V";
	fp = tmpfile();
	test_cond("-V", cfg_load(&c, 2, argv, NULL, fp, err, sizeof err) ==
	    CFG_EXIT);
	test_cond("-V text", strcmp(slurp(fp, buf, sizeof buf),
	    "sse-fcgi " PACKAGE_VERSION "\n") == 0);
	fclose(fp);

	argv[1] = (char *)"--help";
	fp = tmpfile();
	test_cond("help", cfg_load(&c, 2, argv, NULL, fp, err, sizeof err) ==
	    CFG_EXIT && cfg_strings_null(&c));
	slurp(fp, buf, sizeof buf);
	fclose(fp);
	test_cond("usage line", strncmp(buf, "usage: sse-fcgi", 15) == 0);
	test_cond("precedence stated", strstr(buf, "built-in default <\n"
	    "config file") != NULL && strstr(buf, "SSE_FCGI_<KEY> < "
	    "command line") != NULL);
	test_cond("-h listed", strstr(buf, "-h, --help") != NULL);
	test_cond("-V listed", strstr(buf, "-V, --version") != NULL);
	test_cond("keepalive", strstr(buf, "--keepalive SECONDS\n") != NULL &&
	    strstr(buf, "env SSE_FCGI_KEEPALIVE, default 15, range 1..3600\n")
	    != NULL);
	test_cond("queue-limit", strstr(buf, "SSE_FCGI_QUEUE_LIMIT, default "
	    "1m") != NULL);
	test_cond("redis", strstr(buf, "SSE_FCGI_REDIS, default "
	    "redis://127.0.0.1:6379\n") != NULL);
	test_cond("log-level", strstr(buf, "SSE_FCGI_LOG_LEVEL, default "
	    "info\n") != NULL);
	test_cond("listen", strstr(buf, "SSE_FCGI_LISTEN, no default\n") !=
	    NULL);
	test_cond("config", strstr(buf, "SSE_FCGI_CONFIG, no default\n") !=
	    NULL);
	test_cond("history", strstr(buf, "  --history RULE\n      \"PATTERN "
	    "MAXLEN MAXAGE\"") != NULL && strstr(buf, "then \"* 1000 24h\"\n"
	    "      env SSE_FCGI_HISTORY (rules split by \";\"), repeatable\n")
	    != NULL);
	test_cond("history-prefix", strstr(buf, "SSE_FCGI_HISTORY_PREFIX, "
	    "default sse:, 1..64 bytes\n") != NULL);
	test_cond("publisher-secret", strstr(buf, "--publisher-secret SECRET"
	    "\n") != NULL && strstr(buf, "SSE_FCGI_PUBLISHER_SECRET, no "
	    "default, 1..4096 bytes\n") != NULL);
	test_cond("publisher-secret-file", strstr(buf,
	    "--publisher-secret-file FILE\n") != NULL);
	test_cond("max-message", strstr(buf, "SSE_FCGI_MAX_MESSAGE, default "
	    "1m, range 1..536870912\n") != NULL);
	test_cond("max-channels", strstr(buf, "SSE_FCGI_MAX_CHANNELS, default "
	    "16, range 1..1024\n") != NULL);
	test_cond("publish-timeout", strstr(buf, "SSE_FCGI_PUBLISH_TIMEOUT, "
	    "default 2000, range 10..60000\n") != NULL);
	for (p = buf; *p != '\0'; p += strcspn(p, "\n") + 1) {
		test_cond("usage fits 80 columns", strcspn(p, "\n") < 80);
		if (p[strcspn(p, "\n")] == '\0')
			break;
	}

	argv[1] = (char *)"-h";
	fp = fopen("/dev/null", "w");
	test_cond("-h", cfg_load(&c, 2, argv, NULL, fp, err, sizeof err) ==
	    CFG_EXIT);
	fclose(fp);
}

/* Reads "  --KEY ARG" and "      env NAME, default VALUE, range MIN..MAX"
 * back out of the usage text. Applying the defaults to a zeroed struct
 * must give cfg_defaults(), and each NAME must reach its KEY. */
static void
test_usage_round_trip(void)
{
	struct cfg	 c, d, e;
	char		 buf[8192], key[64], val[256], env[64], err[256];
	char		 set[256], got[128], want[128], secret[64];
	char		 jwtsecret[64];
	char		*envp[2], *argv[1];
	FILE		*fp;
	const char	*p, *q, *r;
	int		 nopts = 0, ndefs = 0, ok;

	write_tmp("s3cret\n", 7, secret, sizeof secret);
	write_tmp("0123456789abcdef0123456789abcdef\n", 33, jwtsecret,
	    sizeof jwtsecret);
	fp = tmpfile();
	cfg_usage(fp);
	slurp(fp, buf, sizeof buf);
	fclose(fp);

	cfg_defaults(&d);
	memset(&c, 0, sizeof c);
	key[0] = '\0';
	argv[0] = (char *)"sse-fcgi";
	for (p = buf; (q = strchr(p, '\n')) != NULL; p = q + 1) {
		if (strncmp(p, "  --", 4) == 0 &&
		    sscanf(p + 4, "%63[a-z-]", key) == 1) {
			nopts++;
			continue;
		}
		if (sscanf(p, "      env %63[A-Z_], ", env) != 1)
			continue;
		if (sscanf(p, "      env %*[A-Z_], default %255[^,\n]",
		    val) == 1) {
			ndefs++;
			test_cond("default applies", cfg_set(&c, key, val,
			    "usage", err, sizeof err) == 0);
		}

		/* Set the smallest value the range allows (or a string)
		 * through NAME and check that KEY took it. */
		r = strstr(p, ", range ");
		if (r != NULL && r < q) {
			sscanf(r, ", range %63[0-9]", want);
			/* A minimum that is the default proves nothing. */
			if (strcmp(field(&d, key, val, sizeof val), want) == 0)
				sscanf(r, ", range %*[0-9]..%63[0-9]", want);
		}
		else if (strcmp(key, "log-level") == 0)
			snprintf(want, sizeof want, "%d", LOG_LVL_DEBUG);
		else if (strcmp(key, "history") == 0)
			snprintf(want, sizeof want, "x.* 1 1000");
		else if (strcmp(key, "initial-events") == 0)
			snprintf(want, sizeof want, "x.* 3");
		else if (strcmp(key, "presence") == 0)
			snprintf(want, sizeof want, "x.*");
		else if (strcmp(key, "publisher-secret-file") == 0)
			snprintf(want, sizeof want, "%s", secret);
		else if (strcmp(key, "jwt-secret-file") == 0)
			snprintf(want, sizeof want, "%s", jwtsecret);
		else if (strcmp(key, "jwt-secret") == 0)
			snprintf(want, sizeof want, "/x/%s/%s", key,
			    "0123456789abcdef0123456789");
		else if (strcmp(key, "auth-url") == 0)
			snprintf(want, sizeof want, "http://x/%s", key);
		else
			snprintf(want, sizeof want, "/x/%s", key);
		snprintf(set, sizeof set, "%s=%s", env,
		    strcmp(key, "log-level") == 0 ? "debug" :
		    strcmp(key, "history") == 0 ? "x.* 1 1s" : want);
		envp[0] = set;
		envp[1] = NULL;
		ok = cfg_load(&e, 1, argv, envp, stderr, err, sizeof err) ==
		    CFG_OK;
		if (strcmp(key, "config") == 0)
			ok = !ok && strstr(err, "/x/config: ") == err;
		else
			ok = ok && strcmp(field(&e, key, got, sizeof got),
			    want) == 0 && strcmp(field(&d, key, val,
			    sizeof val), want) != 0;
		if (!ok)
			fprintf(stderr, "env %s for %s: %s\n", set, key, err);
		test_cond("env name matches key", ok);
		cfg_clear(&e);
	}
	test_cond("41 options listed", nopts == 41);
	test_cond("23 defaults listed", ndefs == 23);
	test_cond("usage defaults == cfg_defaults()", cfg_equal(&c, &d));
	cfg_clear(&c);
	cfg_clear(&d);
	unlink(secret);
	unlink(jwtsecret);
}

/* jwt-secret-file: 32 bytes at least (RFC 7518 3.2), one source only. */
static void
test_jwt_secret_file(void)
{
	struct cfg	 c;
	char		 path[64], flag[96], err[256];
	char		*argv[4];
	int		 rc;

	argv[0] = (char *)"sse-fcgi";
	argv[1] = flag;
	write_tmp("0123456789abcdef0123456789abcde\n", 32, path, sizeof path);
	snprintf(flag, sizeof flag, "--jwt-secret-file=%s", path);
	rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
	test_cond("31-byte jwt secret refused", rc == CFG_ERROR &&
	    strstr(err, "32..4096 bytes") != NULL &&
	    strstr(err, "0123") == NULL);
	unlink(path);
	write_tmp("0123456789abcdef0123456789abcdef\n", 33, path, sizeof path);
	snprintf(flag, sizeof flag, "--jwt-secret-file=%s", path);
	rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
	test_cond("32-byte jwt secret", rc == CFG_OK &&
	    streq_null(c.jwt_secret, "0123456789abcdef0123456789abcdef"));
	cfg_clear(&c);
	argv[2] = (char *)"--jwt-secret=0123456789abcdef0123456789abcdefXY";
	rc = cfg_load(&c, 3, argv, NULL, stderr, err, sizeof err);
	test_cond("jwt-secret and its file both set", rc == CFG_ERROR &&
	    strstr(err, "both set") != NULL);
	unlink(path);
	argv[1] = (char *)"--jwt-secret=short";
	rc = cfg_load(&c, 2, argv, NULL, stderr, err, sizeof err);
	test_cond("short jwt-secret flag refused", rc == CFG_ERROR &&
	    strstr(err, "32..4096") != NULL && strstr(err, "short") == NULL);
}

/* Presence: patterns add up over values and layers; bad ones are refused
 * whole, with the source named; presence-ttl's range. */
static void
test_presence(void)
{
	static const struct { const char *value, *why; } bad[] = {
		{ "", "src: empty value" },
		{ "   ", "src: no pattern" },
		{ "room/*", "src: pattern \"room/*\" may only contain" },
		{ "room.* a,b", "may only contain" },
		{ "caf\xc3\xa9", "may only contain" },
		{ "x\r", "may only contain" },
	};
	static const struct { const char *value, *why; } badttl[] = {
		{ "2", "src: \"2\" is out of range (3..3600)" },
		{ "3601", "out of range" },
		{ "ten", "\"ten\" is not a number" },
		{ "-1", "is not a number" },
		{ "", "empty value" },
	};
	char		*argv[] = { (char *)"sse-fcgi", (char *)"--presence",
			    (char *)"c.*", (char *)"--presence",
			    (char *)"d.? e", NULL };
	char		*envp[] = { (char *)"SSE_FCGI_PRESENCE=b.*", NULL };
	char		 err[256], longpat[CHANNEL_NAME_MAX + 2];
	struct cfg	 c;
	size_t		 i;

	cfg_defaults(&c);
	test_cond("presence off by default", c.presence == NULL);
	test_cond("presence-ttl default", c.presence_ttl == 30);
	test_cond("presence", cfg_set(&c, "presence", " room.*  lobby ",
	    "src", err, sizeof err) == 0 && strcmp(c.presence,
	    "room.* lobby") == 0);
	test_cond("presence repeats", cfg_set(&c, "presence", "a", "src", err,
	    sizeof err) == 0 && strcmp(c.presence, "room.* lobby a") == 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		test_cond(bad[i].value, cfg_set(&c, "presence", bad[i].value,
		    "src", err, sizeof err) == -1 && strstr(err,
		    bad[i].why) != NULL && strcmp(c.presence,
		    "room.* lobby a") == 0);
	}
	memset(longpat, 'a', sizeof longpat - 1);
	longpat[sizeof longpat - 1] = '\0';
	test_cond("pattern too long", cfg_set(&c, "presence", longpat, "src",
	    err, sizeof err) == -1 && strstr(err, "longer than") != NULL);
	test_cond("presence-ttl", cfg_set(&c, "presence-ttl", "3", "src", err,
	    sizeof err) == 0 && c.presence_ttl == 3);
	for (i = 0; i < sizeof badttl / sizeof badttl[0]; i++) {
		err[0] = '\0';
		test_cond(badttl[i].value, cfg_set(&c, "presence-ttl",
		    badttl[i].value, "src", err, sizeof err) == -1 &&
		    strstr(err, badttl[i].why) != NULL &&
		    c.presence_ttl == 3);
	}
	cfg_clear(&c);
	test_cond("presence from env and flags", cfg_load(&c, 5, argv, envp,
	    NULL, err, sizeof err) == CFG_OK && c.presence != NULL &&
	    strcmp(c.presence, "b.* c.* d.? e") == 0);
	cfg_clear(&c);
}

int
main(void)
{
	test_defaults();
	test_set();
	test_file();
	test_file_limits();
	test_load();
	test_precedence();
	test_history();
	test_initial();
	test_secret_file();
	test_jwt_secret_file();
	test_help_version();
	test_usage_round_trip();
	test_presence();
	return test_report("test_cfg");
}
