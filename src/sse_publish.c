/* sse-fcgi - MIT License
 *
 * sse-publish: publishes one event with an id and history from the command
 * line (a shell script, a cron job, a deploy hook). It runs the same Redis
 * script as the worker's HTTP endpoint (deploy/redis/sse-publish.lua,
 * through publisher.c) and reads the same settings: defaults < config file
 * (--config or SSE_FCGI_CONFIG) < environment (every SSE_FCGI_* variable,
 * checked as the worker checks them; it uses redis, history, history-prefix,
 * max-message and publish-timeout) < its own flags. The other settings are
 * checked but unused; publisher-secret-file is never read.
 *
 * The data comes from an argument or, binary-safe, from standard input; it
 * is held in memory whole (at most max-message bytes, 512 MiB at most).
 * Channel and event name are checked before Redis is contacted. The id
 * goes to standard output, alone; everything else to standard error.
 *
 * A redis+cluster:// URL publishes to a Redis Cluster (see publisher.h):
 * the channel's keys hash-tagged, SPUBLISH; publish-timeout then bounds the
 * wait for a failover or a resharding too.
 *
 * Exit status: 0 published, 1 Redis unreachable or refused (or standard
 * input unreadable), 2 bad arguments or configuration, 3 payload larger
 * than max-message.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "channel.h"
#include "publisher.h"
#include "redis_url.h"
#include "sse.h"
#include "xmalloc.h"

#define EXIT_PUBLISHED	0
#define EXIT_REDIS	1
#define EXIT_USAGE	2
#define EXIT_TOO_BIG	3

extern char **environ;

#define EVENT_NAME_MAX	255		/* bytes, as the script allows */
#define MAXLEN_MAX	10000000UL	/* as cfg.c's history MAXLEN */
#define MAXAGE_MAX_S	(365UL * 86400)	/* as cfg.c's MAXAGE, seconds */
#define READ_CHUNK	65536

/* What the command line asked for; strings are borrowed from argv. */
struct opts {
	const char	*event;		/* NULL: plain message */
	const char	*redis;		/* NULL: env, file or default */
	const char	*config;	/* NULL: SSE_FCGI_CONFIG, or none */
	const char	*channel;
	const char	*data;		/* NULL or "-": standard input */
	unsigned long	 maxlen;
	unsigned long	 maxage_ms;
	int		 have_maxlen;
	int		 have_maxage;
	int		 quiet;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: sse-publish [--event NAME] [--redis URL] [--config FILE]\n"
	    "                   [--maxlen N] [--maxage DURATION] [-q] "
	    "CHANNEL [DATA | -]\n"
	    "       sse-publish -h | --help | -V | --version\n"
	    "\n"
	    "Publishes DATA on CHANNEL for the sse-fcgi workers, with an event "
	    "id and\n"
	    "history, and prints the id. Without DATA, or with -, the data is "
	    "read from\n"
	    "standard input (binary-safe, at most max-message bytes).\n"
	    "\n"
	    "  --event NAME       event name (at most 255 bytes, no CR, LF)\n"
	    "  --redis URL        Redis to publish to (default: "
	    "SSE_FCGI_REDIS, else\n"
	    "                     the config file's, else "
	    "redis://127.0.0.1:6379);\n"
	    "                     redis+cluster://HOST:PORT[,HOST:PORT...] "
	    "for a cluster\n"
	    "  --config FILE      sse-fcgi config file to take settings from\n"
	    "                     (default: SSE_FCGI_CONFIG)\n"
	    "  --maxlen N         events kept in the channel's history "
	    "(0 = none),\n"
	    "                     instead of the matching history rule\n"
	    "  --maxage DURATION  age of the history kept: seconds, or 30s, "
	    "10m, 1h,\n"
	    "                     7d (0 = no limit, at most 365d)\n"
	    "  -q                 print only the id (no message on stderr)\n"
	    "  -h, --help         print this help and exit\n"
	    "  -V, --version      print the version and exit\n"
	    "\n"
	    "Environment: SSE_FCGI_CONFIG, SSE_FCGI_REDIS, "
	    "SSE_FCGI_HISTORY_PREFIX,\n"
	    "SSE_FCGI_MAX_MESSAGE, SSE_FCGI_PUBLISH_TIMEOUT, SSE_FCGI_HISTORY "
	    "(as for\n"
	    "sse-fcgi). Precedence: default < config file < environment < "
	    "flags.\n"
	    "\n"
	    "Exit status: 0 published; 1 Redis unreachable or it refused; "
	    "2 bad\n"
	    "arguments or configuration; 3 payload larger than "
	    "max-message.\n");
}

/* Parses a decimal number of at most MAX into *OUT. */
static int
parse_number(const char *s, unsigned long max, unsigned long *out,
    const char **end)
{
	unsigned long	v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	*end = s;
	return 0;
}

/* Parses N (events, 0..MAXLEN_MAX). */
static int
parse_maxlen(const char *s, unsigned long *n)
{
	const char	*end;

	return parse_number(s, MAXLEN_MAX, n, &end) == -1 || *end != '\0' ?
	    -1 : 0;
}

/* Parses a duration, seconds or a number with an s/m/h/d suffix, of at
 * most 365 days, into milliseconds. */
static int
parse_duration(const char *s, unsigned long *ms)
{
	const char	*end;
	unsigned long	 v, mul;

	if (parse_number(s, MAXAGE_MAX_S, &v, &end) == -1)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		mul = 1;
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > MAXAGE_MAX_S / mul)
		return -1;
	*ms = v * mul * 1000;
	return 0;
}

/* The long options that take a value. */
enum flag {
	FLAG_EVENT,
	FLAG_REDIS,
	FLAG_CONFIG,
	FLAG_MAXLEN,
	FLAG_MAXAGE
};
static const char *const flag_names[] = {
	"event", "redis", "config", "maxlen", "maxage"
};

/* Returns the flag spelt by A, "--NAME" or "--NAME=VALUE", with *VALUE
 * set to the attached value or NULL; -1 when A is no such flag. */
static int
flag_find(const char *a, const char **value)
{
	size_t	i, n;

	if (strncmp(a, "--", 2) != 0)
		return -1;
	a += 2;
	for (i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
		n = strlen(flag_names[i]);
		if (strncmp(a, flag_names[i], n) != 0 ||
		    (a[n] != '\0' && a[n] != '='))
			continue;
		*value = a[n] == '=' ? a + n + 1 : NULL;
		return (int)i;
	}
	return -1;
}

/* Fills *O from the command line. Returns 0, 1 after --help or --version,
 * or -1 with a message printed. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	const char	*a, *v, *why, *pos[2];
	int		 i, f, npos = 0, dashdash = 0;

	memset(o, 0, sizeof *o);
	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (dashdash || a[0] != '-' || strcmp(a, "-") == 0) {
			if (npos < 2)
				pos[npos] = a;
			npos++;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("sse-publish (%s) %s\n", PACKAGE_NAME,
			    PACKAGE_VERSION);
			return 1;
		}
		if (strcmp(a, "-q") == 0) {
			o->quiet = 1;
			continue;
		}
		if ((f = flag_find(a, &v)) == -1) {
			fprintf(stderr, "sse-publish: unknown option "
			    "%.64s\n", a);
			return -1;
		}
		if (v == NULL) {
			if (i + 1 == argc) {
				fprintf(stderr, "sse-publish: %s needs a "
				    "value\n", a);
				return -1;
			}
			v = argv[++i];
		}
		switch (f) {
		case FLAG_EVENT:
			o->event = v;
			break;
		case FLAG_REDIS:
			o->redis = v;
			break;
		case FLAG_CONFIG:
			o->config = v;
			break;
		case FLAG_MAXLEN:
			if (parse_maxlen(v, &o->maxlen) == -1) {
				fprintf(stderr, "sse-publish: --maxlen: "
				    "\"%.64s\" is not a number of events "
				    "(0..%lu)\n", v, MAXLEN_MAX);
				return -1;
			}
			o->have_maxlen = 1;
			break;
		case FLAG_MAXAGE:
			if (parse_duration(v, &o->maxage_ms) == -1) {
				fprintf(stderr, "sse-publish: --maxage: "
				    "\"%.64s\" is not a duration (seconds, "
				    "or like 30s, 10m, 1h, 7d; at most 365d)\n",
				    v);
				return -1;
			}
			o->have_maxage = 1;
			break;
		}
	}

	if (npos == 0) {
		fprintf(stderr, "sse-publish: no channel given\n");
		return -1;
	}
	if (npos > 2) {
		fprintf(stderr, "sse-publish: too many arguments (%d); quote "
		    "the data, or give it on standard input\n", npos);
		return -1;
	}
	o->channel = pos[0];
	o->data = npos == 2 ? pos[1] : NULL;
	if (!channel_name_valid(o->channel, strlen(o->channel), &why)) {
		fprintf(stderr, "sse-publish: bad channel name \"%.64s\": %s\n",
		    o->channel, why);
		return -1;
	}
	if (o->event != NULL && (strlen(o->event) > EVENT_NAME_MAX ||
	    !sse_field_ok(o->event, strlen(o->event)))) {
		fprintf(stderr, "sse-publish: --event: an event name is at "
		    "most %d bytes, without CR or LF\n", EVENT_NAME_MAX);
		return -1;
	}
	return 0;
}

/* Builds the settings: defaults, config file, environment, flags. */
static int
load_settings(struct cfg *c, const struct opts *o, char *err, size_t errlen)
{
	const char	*config = o->config, *source = "--config";

	if (config == NULL && (config = getenv("SSE_FCGI_CONFIG")) != NULL) {
		source = "SSE_FCGI_CONFIG";
		if (*config == '\0')
			config = NULL;
	}
	if (config != NULL && (cfg_set(c, "config", config, source, err,
	    errlen) == -1 || cfg_load_file(c, config, err, errlen) == -1))
		return -1;
	if (cfg_apply_env(c, environ, err, errlen) == -1)
		return -1;
	if (o->redis != NULL && cfg_set(c, "redis", o->redis, "--redis", err,
	    errlen) == -1)
		return -1;
	return 0;
}

/* Reads standard input, keeping at most MAX + 1 bytes: *LEN > MAX means
 * the data is too big. Returns the bytes (caller frees), or NULL with
 * errno set. */
static char *
read_input(size_t max, size_t *len)
{
	char	*buf;
	size_t	 cap, n = 0;
	ssize_t	 r;

	cap = max < READ_CHUNK ? max + 1 : READ_CHUNK;
	buf = xmalloc(cap);
	while (n <= max) {
		if (n == cap) {
			cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r == 0)
			break;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return NULL;
		}
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

/* Opens /dev/null on a closed stdout or stderr, so that the Redis socket
 * cannot take that descriptor and receive the id or a message. */
static void
guard_fds(void)
{
	int	fd, null;

	for (fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if ((null = open("/dev/null", O_WRONLY)) == -1)
			exit(EXIT_REDIS);
		if (null != fd) {
			if (dup2(null, fd) == -1)
				exit(EXIT_REDIS);
			close(null);
		}
	}
}

/* Publishes one event as the command line says; see sse-publish(1). */
int
main(int argc, char **argv)
{
	struct cfg			 c;
	struct opts			 o;
	struct redis_url		 url;
	struct publisher		*pub = NULL;
	const struct cfg_history	*rule;
	char				 err[512], id[EVENT_ID_MAX];
	char				*data = NULL;
	size_t				 len;
	long long			 receivers;
	unsigned long			 maxlen, maxage_ms;
	int				 rc = EXIT_USAGE;

	guard_fds();
	cfg_defaults(&c);
	switch (parse_args(argc, argv, &o)) {
	case 1:
		rc = EXIT_PUBLISHED;
		goto out;
	case -1:
		goto usage;
	}
	if (load_settings(&c, &o, err, sizeof err) == -1) {
		fprintf(stderr, "sse-publish: %s\n", err);
		goto usage;
	}
	/* A malformed URL is a configuration error; a host that does not
	 * resolve, below, is an unreachable Redis. */
	if (redis_url_parse(c.redis, &url, err, sizeof err) == -1) {
		fprintf(stderr, "sse-publish: redis URL: %s\n", err);
		goto usage;
	}
	/* The channel must be the keys' hash tag (publisher.c). */
	if (url.cluster && strchr(c.history_prefix, '{') != NULL) {
		fprintf(stderr, "sse-publish: history-prefix \"%.64s\": no '{' "
		    "with a redis+cluster:// URL\n", c.history_prefix);
		redis_url_clear(&url);
		goto usage;
	}
	redis_url_clear(&url);

	if (o.data == NULL || strcmp(o.data, "-") == 0) {
		if ((data = read_input(c.max_message, &len)) == NULL) {
			fprintf(stderr, "sse-publish: standard input: %s\n",
			    strerror(errno));
			rc = EXIT_REDIS;
			goto out;
		}
	} else {
		len = strlen(o.data);
		if (len <= c.max_message)
			data = xstrndup(o.data, len);
	}
	if (len > c.max_message) {
		fprintf(stderr, "sse-publish: the data is larger than "
		    "max-message (%zu bytes)\n", c.max_message);
		rc = EXIT_TOO_BIG;
		goto out;
	}

	rule = cfg_history_for(&c, o.channel, strlen(o.channel));
	maxlen = o.have_maxlen ? o.maxlen : rule->maxlen;
	maxage_ms = o.have_maxage ? o.maxage_ms : rule->maxage_ms;
	rc = EXIT_REDIS;
	pub = publisher_create(c.redis, c.history_prefix, c.publish_timeout_ms,
	    err, sizeof err);
	if (pub == NULL || publisher_publish(pub, o.channel, o.event, data,
	    len, maxlen, maxage_ms, id, &receivers, err, sizeof err) == -1) {
		fprintf(stderr, "sse-publish: not published: %s\n", err);
		goto out;
	}
	rc = EXIT_PUBLISHED;
	if (printf("%s\n", id) < 0 || fflush(stdout) == EOF)
		fprintf(stderr, "sse-publish: published as %s, but writing "
		    "the id failed: %s\n", id, strerror(errno));
	if (!o.quiet)
		fprintf(stderr, "published to %s as %s (%lld workers received "
		    "it)\n", o.channel, id, receivers);
	goto out;

usage:
	fprintf(stderr, "Try 'sse-publish --help'.\n");
	rc = EXIT_USAGE;
out:
	publisher_free(pub);
	free(data);
	cfg_clear(&c);
	return rc;
}
