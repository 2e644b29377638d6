/* sse-fcgi - MIT License
 *
 * sse-publish: publish one event with an id and history from the command
 * line (or a cron job, a shell script, a deploy hook). It runs the same
 * Redis script as the worker's HTTP endpoint and reads the same settings:
 * defaults < config file (--config or SSE_FCGI_CONFIG) < environment
 * (SSE_FCGI_REDIS, SSE_FCGI_HISTORY_PREFIX, SSE_FCGI_MAX_MESSAGE,
 * SSE_FCGI_PUBLISH_TIMEOUT, SSE_FCGI_HISTORY) < its own flags.
 *
 * Exit status: 0 published, 1 Redis unreachable or refusing, 2 bad
 * arguments or configuration, 3 payload larger than max-message.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "channel.h"
#include "publisher.h"
#include "sse.h"
#include "xmalloc.h"

#define EXIT_REDIS	1
#define EXIT_USAGE	2
#define EXIT_TOO_BIG	3

extern char **environ;

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: sse-publish [--event NAME] [--redis URL] [--config FILE]\n"
	    "                   [--maxlen N] [--maxage DURATION] [-q]\n"
	    "                   CHANNEL [DATA | -]\n"
	    "\n"
	    "Publishes DATA (or standard input, when DATA is - or missing) on\n"
	    "CHANNEL with an event id and history, and prints the id.\n"
	    "\n"
	    "  --event NAME      event name (EventSource addEventListener)\n"
	    "  --redis URL       Redis (default from the config, then\n"
	    "                    redis://127.0.0.1:6379)\n"
	    "  --config FILE     sse-fcgi config file to read settings from\n"
	    "  --maxlen N        history length for this channel (overrides\n"
	    "                    the history rules)\n"
	    "  --maxage DURATION history age, e.g. 30s, 10m, 1h, 7d\n"
	    "  -q                print only the id\n"
	    "  -h, --help        this help;  -V, --version  the version\n"
	    "\n"
	    "Exit status: 0 published, 1 Redis unreachable or refused,\n"
	    "2 bad arguments or configuration, 3 payload larger than\n"
	    "max-message.\n");
}

/* Parses a duration (seconds, or with an s/m/h/d suffix) into ms. */
static int
parse_duration(const char *s, unsigned long *ms)
{
	char			*end;
	unsigned long long	 v, mul = 1000;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end != '\0') {
		if (end[1] != '\0')
			return -1;
		switch (*end) {
		case 's': mul = 1000; break;
		case 'm': mul = 60000; break;
		case 'h': mul = 3600000; break;
		case 'd': mul = 86400000; break;
		default: return -1;
		}
	}
	if (v > 365ULL * 86400 * 1000 / mul)
		return -1;
	*ms = (unsigned long)(v * mul);
	return 0;
}

static int
parse_count(const char *s, unsigned long *n)
{
	char			*end;
	unsigned long long	 v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 10000000)
		return -1;
	*n = (unsigned long)v;
	return 0;
}

/* Reads standard input up to MAX bytes; *LEN > MAX means too big. */
static char *
read_stdin(size_t max, size_t *len)
{
	char	*buf;
	size_t	 cap = 65536, n = 0;
	ssize_t	 r;

	buf = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			cap *= 2;
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

/* Applies the environment variables sse-publish shares with the worker. */
static int
load_env(struct cfg *c, char *err, size_t errlen)
{
	static const char *keys[] = { "redis", "history-prefix",
	    "max-message", "publish-timeout", "history" };
	char		 name[64], *p;
	const char	*v;
	size_t		 i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(name, sizeof name, "SSE_FCGI_%s", keys[i]);
		for (p = name; *p != '\0'; p++)
			*p = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ?
			    *p - 32 : *p);
		if ((v = getenv(name)) == NULL || v[0] == '\0')
			continue;
		if (strcmp(keys[i], "history") == 0) {
			char	*copy = xstrdup(v), *rule, *save = NULL;
			int	 rc = 0;

			for (rule = strtok_r(copy, ";", &save); rule != NULL &&
			    rc == 0; rule = strtok_r(NULL, ";", &save))
				rc = cfg_set(c, "history", rule, name, err,
				    errlen);
			free(copy);
			if (rc == -1)
				return -1;
			continue;
		}
		if (cfg_set(c, keys[i], v, name, err, errlen) == -1)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct cfg		 c;
	struct publisher	*pub = NULL;
	const struct cfg_history *rule;
	const char		*event = NULL, *config = NULL, *redis = NULL;
	const char		*channel = NULL, *arg_data = NULL, *why, *val;
	char			 err[512], id[EVENT_ID_MAX];
	char			*data = NULL;
	unsigned long		 maxlen = 0, maxage = 0;
	int			 have_maxlen = 0, have_maxage = 0, quiet = 0;
	int			 i, npos = 0, rc = EXIT_USAGE;
	size_t			 len;
	long long		 receivers;

	cfg_defaults(&c);
	for (i = 1; i < argc; i++) {
		const char	*a = argv[i];
		const char	*eq = NULL;
		char		 flag[32];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("sse-publish %s\n", PACKAGE_VERSION);
			rc = 0;
			goto out;
		}
		if (strcmp(a, "-q") == 0) {
			quiet = 1;
			continue;
		}
		if (strcmp(a, "-") == 0 || a[0] != '-' || strcmp(a, "--") == 0) {
			if (strcmp(a, "--") == 0) {
				for (i++; i < argc; i++) {
					if (npos == 0)
						channel = argv[i];
					else if (npos == 1)
						arg_data = argv[i];
					npos++;
				}
				break;
			}
			if (npos == 0)
				channel = a;
			else if (npos == 1)
				arg_data = a;
			npos++;
			continue;
		}
		/* --flag VALUE or --flag=VALUE */
		if (strncmp(a, "--", 2) != 0 || strlen(a) >= sizeof flag) {
			fprintf(stderr, "sse-publish: unknown option %s\n", a);
			goto usage;
		}
		strcpy(flag, a);
		if ((eq = strchr(flag, '=')) != NULL) {
			flag[eq - flag] = '\0';
			val = a + (eq - flag) + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "sse-publish: %s needs a value\n", a);
			goto usage;
		}
		if (strcmp(flag, "--event") == 0)
			event = val;
		else if (strcmp(flag, "--redis") == 0)
			redis = val;
		else if (strcmp(flag, "--config") == 0)
			config = val;
		else if (strcmp(flag, "--maxlen") == 0) {
			if (parse_count(val, &maxlen) == -1) {
				fprintf(stderr, "sse-publish: --maxlen: \"%s\" "
				    "is not a number of events (0..10000000)\n",
				    val);
				goto usage;
			}
			have_maxlen = 1;
		} else if (strcmp(flag, "--maxage") == 0) {
			if (parse_duration(val, &maxage) == -1) {
				fprintf(stderr, "sse-publish: --maxage: \"%s\" "
				    "is not a duration (like 30s, 10m, 1h, 7d; "
				    "at most 365d)\n", val);
				goto usage;
			}
			have_maxage = 1;
		} else {
			fprintf(stderr, "sse-publish: unknown option %s\n",
			    flag);
			goto usage;
		}
	}
	if (npos == 0) {
		fprintf(stderr, "sse-publish: no channel given\n");
		goto usage;
	}
	if (npos > 2) {
		fprintf(stderr, "sse-publish: too many arguments (quote the "
		    "data)\n");
		goto usage;
	}
	if (!channel_name_valid(channel, strlen(channel), &why)) {
		fprintf(stderr, "sse-publish: bad channel name \"%s\": %s\n",
		    channel, why);
		goto usage;
	}
	if (event != NULL && (strlen(event) > 255 ||
	    !sse_field_ok(event, strlen(event)))) {
		fprintf(stderr, "sse-publish: bad event name: at most 255 "
		    "bytes, no CR or LF\n");
		goto usage;
	}
	if (config == NULL && (val = getenv("SSE_FCGI_CONFIG")) != NULL &&
	    val[0] != '\0')
		config = val;
	if ((config != NULL && cfg_load_file(&c, config, err,
	    sizeof err) == -1) || load_env(&c, err, sizeof err) == -1 ||
	    (redis != NULL && cfg_set(&c, "redis", redis, "--redis", err,
	    sizeof err) == -1)) {
		fprintf(stderr, "sse-publish: %s\n", err);
		goto out;
	}

	if (arg_data == NULL || strcmp(arg_data, "-") == 0) {
		data = read_stdin(c.max_message, &len);
		if (data == NULL) {
			fprintf(stderr, "sse-publish: reading standard input: "
			    "%s\n", strerror(errno));
			rc = EXIT_REDIS;
			goto out;
		}
	} else {
		len = strlen(arg_data);
		data = xstrndup(arg_data, len);
	}
	if (len > c.max_message) {
		fprintf(stderr, "sse-publish: payload larger than max-message "
		    "(%zu bytes)\n", c.max_message);
		rc = EXIT_TOO_BIG;
		goto out;
	}
	rule = cfg_history_for(&c, channel, strlen(channel));
	if (!have_maxlen)
		maxlen = rule->maxlen;
	if (!have_maxage)
		maxage = rule->maxage_ms;
	pub = publisher_create(c.redis, c.history_prefix, c.publish_timeout_ms,
	    err, sizeof err);
	if (pub == NULL) {
		fprintf(stderr, "sse-publish: --redis: %s\n", err);
		goto out;
	}
	if (publisher_publish(pub, channel, event, data, len, maxlen, maxage,
	    id, &receivers, err, sizeof err) == -1) {
		fprintf(stderr, "sse-publish: %s\n", err);
		rc = EXIT_REDIS;
		goto out;
	}
	printf("%s\n", id);
	if (!quiet)
		fprintf(stderr, "published to %s as %s (%lld workers received "
		    "it)\n", channel, id, receivers);
	rc = 0;
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
