/* sse-fcgi - MIT License
 *
 * Unit tests for cfg: defaults, cfg_set on good and bad values, the config
 * file parser (from temporary files in /tmp), the environment and argv
 * parsers, precedence (default < file < environment < flag), --help and
 * --version, and a round trip that reads the defaults back out of the
 * usage text and checks they give the same struct as cfg_defaults().
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
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
	else if (strcmp(key, "backlog") == 0)
		snprintf(buf, len, "%d", c->backlog);
	else if (strcmp(key, "keepalive") == 0)
		snprintf(buf, len, "%u", c->keepalive);
	else if (strcmp(key, "retry") == 0)
		snprintf(buf, len, "%u", c->retry_ms);
	else if (strcmp(key, "queue-limit") == 0)
		snprintf(buf, len, "%zu", c->queue_limit);
	else if (strcmp(key, "max-streams") == 0)
		snprintf(buf, len, "%u", c->max_streams);
	else if (strcmp(key, "shutdown-grace") == 0)
		snprintf(buf, len, "%u", c->shutdown_grace);
	else if (strcmp(key, "log-level") == 0)
		snprintf(buf, len, "%d", c->log_level);
	else
		snprintf(buf, len, "?unknown key %s", key);
	if (sp != NULL)
		snprintf(buf, len, "%s", *sp != NULL ? *sp : "(null)");
	return buf;
}

static int
cfg_equal(const struct cfg *a, const struct cfg *b)
{
	return streq_null(a->config_file, b->config_file) &&
	    streq_null(a->listen, b->listen) && a->backlog == b->backlog &&
	    streq_null(a->redis, b->redis) && a->keepalive == b->keepalive &&
	    a->retry_ms == b->retry_ms && a->queue_limit == b->queue_limit &&
	    a->max_streams == b->max_streams &&
	    a->shutdown_grace == b->shutdown_grace &&
	    a->log_level == b->log_level &&
	    streq_null(a->log_file, b->log_file);
}

static int
cfg_strings_null(const struct cfg *c)
{
	return c->config_file == NULL && c->listen == NULL &&
	    c->redis == NULL && c->log_file == NULL;
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
	struct cfg	c;

	memset(&c, 0xa5, sizeof c);
	cfg_defaults(&c);
	test_cond("config", c.config_file == NULL);
	test_cond("listen", c.listen == NULL);
	test_cond("backlog", c.backlog == 1024);
	test_cond("redis", streq_null(c.redis, "redis://127.0.0.1:6379"));
	test_cond("keepalive", c.keepalive == 15);
	test_cond("retry", c.retry_ms == 3000);
	test_cond("queue-limit", c.queue_limit == 262144);
	test_cond("max-streams", c.max_streams == 10000);
	test_cond("shutdown-grace", c.shutdown_grace == 5);
	test_cond("log-level", c.log_level == LOG_LVL_INFO);
	test_cond("log-file", c.log_file == NULL);
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
	{ "log-level", "3", "is not one of" },
};

static void
test_set(void)
{
	struct cfg	 c;
	char		 err[256], buf[64];
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
	  "262144" },
	{ { "--retry", "5" }, { "SSE_FCGI_RETRY=6" }, CFG_OK, "retry", "5" },
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
	char		 err[256], buf[64];
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
	    c.queue_limit == 262144 && c.backlog == 1024);
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
	    10000 && streq_null(c.config_file, path2));
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
	    "256k") != NULL);
	test_cond("redis", strstr(buf, "SSE_FCGI_REDIS, default "
	    "redis://127.0.0.1:6379\n") != NULL);
	test_cond("log-level", strstr(buf, "SSE_FCGI_LOG_LEVEL, default "
	    "info\n") != NULL);
	test_cond("listen", strstr(buf, "SSE_FCGI_LISTEN, no default\n") !=
	    NULL);
	test_cond("config", strstr(buf, "SSE_FCGI_CONFIG, no default\n") !=
	    NULL);
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
	char		 set[256], got[128], want[128];
	char		*envp[2], *argv[1];
	FILE		*fp;
	const char	*p, *q, *r;
	int		 nopts = 0, ndefs = 0, ok;

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
		if (r != NULL && r < q)
			sscanf(r, ", range %63[0-9]", want);
		else if (strcmp(key, "log-level") == 0)
			snprintf(want, sizeof want, "%d", LOG_LVL_DEBUG);
		else
			snprintf(want, sizeof want, "/x/%s", key);
		snprintf(set, sizeof set, "%s=%s", env,
		    strcmp(key, "log-level") == 0 ? "debug" : want);
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
	test_cond("11 options listed", nopts == 11);
	test_cond("8 defaults listed", ndefs == 8);
	test_cond("usage defaults == cfg_defaults()", cfg_equal(&c, &d));
	cfg_clear(&c);
	cfg_clear(&d);
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
	test_help_version();
	test_usage_round_trip();
	return test_report("test_cfg");
}
