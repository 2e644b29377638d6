/* sse-fcgi - MIT License
 *
 * sse-bench-pub: the benchmark's publisher (tests/bench/bench.sh). It
 * publishes M messages at R per second (0: as fast as each reply comes
 * back) of about S bytes, each
 *
 *   {"type":"notification","object":{"message":"xxx...","ts":US,"seq":J}}
 *
 * where ts is the send time in microseconds since the epoch (read back by
 * sse-client -L) and J the message number. The channel is a template:
 * {j} becomes J, {j%K} J modulo K, so one run can cover many channels.
 *
 * Three ways in, one at a time:
 *   -R  raw Redis PUBLISH, what the quick start's publishers do (default);
 *   -E  the project's publish script (deploy/redis/sse-publish.lua) by
 *       EVALSHA, which adds an id and history;
 *   -H  HTTP POST, e.g. to Nchan's publisher location or to the worker's
 *       own publish endpoint (-A for the bearer header).
 * One connection, one request at a time (no pipelining), as a web app
 * publishing per request does: the round trip is part of what is measured. A
 * closed HTTP connection is redialled once per message.
 *
 * Prints one line: published, errors, elapsed time, achieved rate, mean
 * and max round trip, and (Redis) the receivers Redis reported. Exit 0 if
 * every message was accepted, 1 if not, 2 for a usage error.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define PUB_SIZE_MAX	(1024 * 1024)	/* -s */
#define PUB_BASE_SIZE	70		/* the payload without its padding */
#define PUB_CHANNEL_MAX	512
#define PUB_HTTP_BUF	65536		/* an HTTP response head */
#define PUB_TIMEOUT_S	10		/* a reply, either protocol */

enum pub_mode {
	MODE_PUBLISH = 0,
	MODE_SCRIPT,
	MODE_HTTP
};

struct options {
	enum pub_mode	 mode;
	const char	*hostport;	/* -R, -H */
	const char	*script;	/* -E: path of sse-publish.lua */
	const char	*path;		/* -P, with {ch} */
	const char	*header;	/* -A */
	const char	*channel;	/* -c, with {j}, {j%K} */
	const char	*prefix;	/* -p */
	const char	*event;		/* -e */
	long long	 messages;	/* -m */
	double		 rate;		/* -r */
	long long	 size;		/* -s */
	long long	 maxlen;	/* -k */
	long long	 maxage_ms;	/* -a */
};

/* One HTTP connection and what has been read from it. */
struct http {
	struct sockaddr_in addr;
	int		 fd;
	char		 buf[PUB_HTTP_BUF];
	size_t		 len;
};

static struct options	opt;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: sse-bench-pub [-R HOST:PORT | -E SCRIPT [-R HOST:PORT] |"
	    " -H HOST:PORT [-P PATH] [-A HEADER]]\n"
	    "                     [-c CHANNEL] [-m MESSAGES] [-r RATE] "
	    "[-s SIZE]\n"
	    "                     [-p PREFIX] [-e EVENT] [-k MAXLEN] "
	    "[-a MAXAGE_MS]\n"
	    "  -R Redis for PUBLISH (default 127.0.0.1:6379); -E SCRIPT: "
	    "EVALSHA of\n"
	    "  sse-publish.lua there instead (keys PREFIXhistory:CH "
	    "PREFIXclock, prefix\n"
	    "  sse:, maxlen 1000, maxage 0); -H: HTTP POST to PATH "
	    "(default /pub/{ch}).\n"
	    "  CHANNEL may hold {j} or {j%%K} (message number); RATE 0 is as "
	    "fast as\n"
	    "  possible; SIZE is the payload size in bytes (default 200).\n");
	exit(2);
}

static long long
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long
parse_num(const char *s, long long min, long long max, const char *what)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		errx(2, "%s: %s is not a number from %lld to %lld", what, s,
		    min, max);
	return v;
}

static void
parse_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char	*colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= hostlen || colon == s)
		errx(2, "%s: want HOST:PORT", s);
	memcpy(host, s, colon - s);
	host[colon - s] = '\0';
	*port = (int)parse_num(colon + 1, 1, 65535, "port");
}

/* Writes TPL with {j} and {j%K} replaced for J into OUT (CAP bytes). */
static void
channel_expand(char *out, size_t cap, const char *tpl, long long j)
{
	const char	*q;
	char		*end;
	size_t		 o = 0;
	long long	 k, v;
	int		 w;

	while (*tpl != '\0' && o + 24 < cap) {
		if (tpl[0] == '{' && tpl[1] == 'j') {
			v = j;
			q = tpl + 2;
			if (*q == '%') {
				k = strtoll(q + 1, &end, 10);
				q = end;
				if (k > 0)
					v = j % k;
			}
			if (*q == '}') {
				w = snprintf(out + o, cap - o, "%lld", v);
				o += w;
				tpl = q + 1;
				continue;
			}
		}
		out[o++] = *tpl++;
	}
	out[o] = '\0';
}

/* Reads a file whole; the caller frees the result. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*p;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		err(2, "%s", path);
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		err(2, "%s", path);
	if ((p = malloc(n + 1)) == NULL)
		err(2, "malloc");
	if (fread(p, 1, n, f) != (size_t)n)
		err(2, "%s: short read", path);
	p[n] = '\0';
	fclose(f);
	return p;
}

/* (Re)connects H with TCP_NODELAY; -1 on failure. */
static int
http_dial(struct http *h)
{
	int	one = 1;

	if (h->fd != -1)
		close(h->fd);
	h->len = 0;
	if ((h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(h->fd, (struct sockaddr *)&h->addr, sizeof h->addr) == -1) {
		warn("connect");
		close(h->fd);
		h->fd = -1;
		return -1;
	}
	return 0;
}

/* Reads more of the response; -1 at EOF or on error. */
static int
http_fill(struct http *h)
{
	ssize_t	n;

	if (h->len >= sizeof h->buf - 1)
		return -1;
	do
		n = read(h->fd, h->buf + h->len, sizeof h->buf - 1 - h->len);
	while (n == -1 && errno == EINTR);
	if (n <= 0)
		return -1;
	h->len += n;
	h->buf[h->len] = '\0';
	return 0;
}

static void
http_consume(struct http *h, size_t n)
{
	memmove(h->buf, h->buf + n, h->len - n);
	h->len -= n;
	h->buf[h->len] = '\0';
}

/* Reads one response and skips its body (Content-Length, chunked or
 * none); returns the status, or -1 if the connection ended first. */
static int
http_reply(struct http *h)
{
	char		*end, *cl, *te, *last;
	size_t		 hlen;
	long long	 blen;
	int		 status = 0;

	while ((end = strstr(h->buf, "\r\n\r\n")) == NULL)
		if (http_fill(h) == -1)
			return -1;
	*end = '\0';
	hlen = end + 4 - h->buf;
	if (sscanf(h->buf, "HTTP/%*s %d", &status) != 1)
		status = 0;
	cl = strcasestr(h->buf, "\ncontent-length:");
	te = strcasestr(h->buf, "\ntransfer-encoding:");
	*end = '\r';
	if (cl != NULL) {
		blen = strtoll(cl + 16, NULL, 10);
		if (blen < 0 || (size_t)blen > sizeof h->buf - 1 - hlen)
			return -1;
		while (h->len < hlen + blen)
			if (http_fill(h) == -1)
				return -1;
		http_consume(h, hlen + blen);
	} else if (te != NULL && strcasestr(te, "chunked") != NULL) {
		while ((last = strstr(h->buf + hlen, "\r\n0\r\n\r\n")) == NULL &&
		    strncmp(h->buf + hlen, "0\r\n\r\n", 5) != 0)
			if (http_fill(h) == -1)
				return -1;
		http_consume(h, last != NULL ? (size_t)(last + 7 - h->buf) :
		    hlen + 5);
	} else
		http_consume(h, hlen);
	return status;
}

/* One POST of DATA to the channel CH; returns the status or -1. */
static int
http_post(struct http *h, const char *host, const char *ch, const char *data,
    size_t dlen)
{
	char		 path[PUB_CHANNEL_MAX * 2], req[2048];
	const char	*p, *t;
	size_t		 o = 0;
	int		 n, tries, status;

	for (p = opt.path; *p != '\0' && o + PUB_CHANNEL_MAX + 1 <
	    sizeof path; ) {
		if (strncmp(p, "{ch}", 4) == 0) {
			for (t = ch; *t != '\0'; t++)
				path[o++] = *t;
			p += 4;
		} else
			path[o++] = *p++;
	}
	path[o] = '\0';
	n = snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\n%s%s"
	    "Content-Length: %zu\r\n\r\n", path, host,
	    opt.header != NULL ? opt.header : "",
	    opt.header != NULL ? "\r\n" : "", dlen);
	if (n < 0 || (size_t)n >= sizeof req)
		errx(2, "request head too long");
	for (tries = 0; tries < 2; tries++) {
		if (h->fd == -1 && http_dial(h) == -1)
			return -1;
		if (write(h->fd, req, n) == n &&
		    write(h->fd, data, dlen) == (ssize_t)dlen &&
		    (status = http_reply(h)) != -1)
			return status;
		close(h->fd);		/* keepalive ended: dial again */
		h->fd = -1;
	}
	return -1;
}

/* Sleeps until DUE_US on the wall clock (pacing for -r). */
static void
sleep_until(long long due_us)
{
	struct timespec	ts;
	long long	d;

	if ((d = due_us - now_us()) <= 0)
		return;
	ts.tv_sec = d / 1000000;
	ts.tv_nsec = (d % 1000000) * 1000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
parse_args(int argc, char **argv)
{
	char	*end;
	int	 ch;

	opt.channel = "ch";
	opt.prefix = "sse:";
	opt.event = "";
	opt.path = "/pub/{ch}";
	opt.messages = 10;
	opt.rate = 10;
	opt.size = 200;
	opt.maxlen = 1000;
	while ((ch = getopt(argc, argv, "A:a:c:E:e:H:k:m:P:p:R:r:s:")) != -1) {
		switch (ch) {
		case 'A':
			if (strpbrk(optarg, "\r\n") != NULL ||
			    strchr(optarg, ':') == NULL)
				errx(2, "-A %s: want 'Name: value'", optarg);
			opt.header = optarg;
			break;
		case 'a':
			opt.maxage_ms = parse_num(optarg, 0, LLONG_MAX, "-a");
			break;
		case 'c':
			opt.channel = optarg;
			break;
		case 'E':
			opt.script = optarg;
			break;
		case 'e':
			opt.event = optarg;
			break;
		case 'H':
			if (opt.mode == MODE_HTTP || opt.hostport != NULL)
				usage();
			opt.mode = MODE_HTTP;
			opt.hostport = optarg;
			break;
		case 'k':
			opt.maxlen = parse_num(optarg, 0, 10000000, "-k");
			break;
		case 'm':
			opt.messages = parse_num(optarg, 1, 1000000000, "-m");
			break;
		case 'P':
			opt.path = optarg;
			break;
		case 'p':
			opt.prefix = optarg;
			break;
		case 'R':
			if (opt.mode == MODE_HTTP || opt.hostport != NULL)
				usage();
			opt.hostport = optarg;
			break;
		case 'r':
			errno = 0;
			opt.rate = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(opt.rate >= 0 && opt.rate <= 1e7))
				errx(2, "-r %s: want messages per second, "
				    "0 for as fast as possible", optarg);
			break;
		case 's':
			opt.size = parse_num(optarg, 1, PUB_SIZE_MAX, "-s");
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (opt.script != NULL) {
		if (opt.mode == MODE_HTTP)
			usage();
		opt.mode = MODE_SCRIPT;
	}
	if (opt.hostport == NULL)
		opt.hostport = "127.0.0.1:6379";
}

int
main(int argc, char **argv)
{
	struct http	 http;
	struct timeval	 tv = { PUB_TIMEOUT_S, 0 };
	redisContext	*rc = NULL;
	redisReply	*r;
	char		 host[256], chan[PUB_CHANNEL_MAX], hkey[PUB_CHANNEL_MAX +
			     64], ckey[128], sha[41], maxlen[24], maxage[24];
	char		*pad, *msg, *body;
	size_t		 plen, mlen = 0;
	long long	 j, t0, ts, rtt, rtt_sum = 0, rtt_max = 0, errors = 0,
			 receivers = 0;
	double		 el;
	int		 port, status;

	parse_args(argc, argv);
	parse_hostport(opt.hostport, host, sizeof host, &port);
	signal(SIGPIPE, SIG_IGN);

	plen = opt.size > PUB_BASE_SIZE ? opt.size - PUB_BASE_SIZE : 1;
	if ((pad = malloc(plen + 1)) == NULL ||
	    (msg = malloc(plen + 128)) == NULL)
		err(1, "malloc");
	memset(pad, 'x', plen);
	pad[plen] = '\0';

	memset(&http, 0, sizeof http);
	http.fd = -1;
	if (opt.mode == MODE_HTTP) {
		http.addr.sin_family = AF_INET;
		http.addr.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &http.addr.sin_addr) != 1)
			errx(2, "-H %s: want an IPv4 address", opt.hostport);
		if (http_dial(&http) == -1)
			return 1;
	} else {
		rc = redisConnectWithTimeout(host, port, tv);
		if (rc == NULL || rc->err)
			errx(1, "redis %s: %s", opt.hostport,
			    rc != NULL ? rc->errstr : "out of memory");
		redisSetTimeout(rc, tv);
	}
	if (opt.mode == MODE_SCRIPT) {
		/* Loaded once; each message then sends only the digest. */
		body = slurp(opt.script);
		r = redisCommand(rc, "SCRIPT LOAD %s", body);
		free(body);
		if (r == NULL || r->type != REDIS_REPLY_STRING ||
		    r->len != 40)
			errx(1, "SCRIPT LOAD %s: %s", opt.script, r != NULL &&
			    r->type == REDIS_REPLY_ERROR ? r->str : rc->errstr);
		memcpy(sha, r->str, 41);
		freeReplyObject(r);
		snprintf(ckey, sizeof ckey, "%sclock", opt.prefix);
		snprintf(maxlen, sizeof maxlen, "%lld", opt.maxlen);
		snprintf(maxage, sizeof maxage, "%lld", opt.maxage_ms);
	}

	t0 = now_us();
	for (j = 0; j < opt.messages; j++) {
		if (opt.rate > 0)
			sleep_until(t0 + (long long)(j * 1e6 / opt.rate));
		channel_expand(chan, sizeof chan, opt.channel, j);
		ts = now_us();
		mlen = snprintf(msg, plen + 128, "{\"type\":\"notification\","
		    "\"object\":{\"message\":\"%s\",\"ts\":%lld,\"seq\":%lld}}",
		    pad, ts, j);
		switch (opt.mode) {
		case MODE_PUBLISH:
			r = redisCommand(rc, "PUBLISH %s %b", chan, msg, mlen);
			if (r == NULL)
				errx(1, "redis: %s", rc->errstr);
			if (r->type == REDIS_REPLY_INTEGER)
				receivers += r->integer;
			else
				errors++;
			freeReplyObject(r);
			break;
		case MODE_SCRIPT:
			snprintf(hkey, sizeof hkey, "%shistory:%s", opt.prefix,
			    chan);
			r = redisCommand(rc, "EVALSHA %s 2 %s %s %s %s %s %s %b",
			    sha, hkey, ckey, chan, opt.event, maxlen, maxage,
			    msg, mlen);
			if (r == NULL)
				errx(1, "redis: %s", rc->errstr);
			if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
			    r->element[1]->type == REDIS_REPLY_INTEGER)
				receivers += r->element[1]->integer;
			else
				errors++;
			freeReplyObject(r);
			break;
		case MODE_HTTP:
			status = http_post(&http, opt.hostport, chan, msg,
			    mlen);
			if (status == -1)
				errx(1, "%s: connection lost at message %lld",
				    opt.hostport, j);
			if (status < 200 || status > 299)
				errors++;
			break;
		}
		rtt = now_us() - ts;
		rtt_sum += rtt;
		if (rtt > rtt_max)
			rtt_max = rtt;
	}
	el = (now_us() - t0) / 1e6;
	printf("published=%lld errors=%lld elapsed_s=%.3f rate=%.1f "
	    "mean_rtt_us=%lld max_rtt_us=%lld payload_bytes=%zu", opt.messages,
	    errors, el, el > 0 ? opt.messages / el : 0.0,
	    rtt_sum / opt.messages, rtt_max, mlen);
	if (opt.mode != MODE_HTTP)
		printf(" receivers=%lld", receivers);
	putchar('\n');
	if (rc != NULL)
		redisFree(rc);
	if (http.fd != -1)
		close(http.fd);
	free(pad);
	free(msg);
	return errors == 0 ? 0 : 1;
}
