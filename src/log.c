/* sse-fcgi - MIT License
 *
 * Logging to stderr, a reopenable file or syslog (see log.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_names[] = { "error", "warn", "info", "debug" };
static const int log_priorities[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
    LOG_DEBUG };
static volatile int log_threshold = LOG_LVL_INFO;
static int log_fd = STDERR_FILENO;
static int log_syslog;		/* records go to syslog(3) */
static char log_path[4096];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_set_level(enum log_level lvl)
{
	log_threshold = lvl;
}

enum log_level
log_get_level(void)
{
	return (enum log_level)log_threshold;
}

int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++)
		if (strcasecmp(s, log_names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	return -1;
}

/* Facilities a worker may log to; the local ones are what sites reserve
 * for their own daemons. */
static const struct {
	const char	*name;
	int		 facility;
} log_facilities[] = {
	{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int
log_facility_parse(const char *target)
{
	const char	*name;
	size_t		 i;

	if (strncmp(target, LOG_SYSLOG_PREFIX, strlen(LOG_SYSLOG_PREFIX)) != 0)
		return -2;
	name = target + strlen(LOG_SYSLOG_PREFIX);
	if (*name == '\0')
		return LOG_DAEMON;
	for (i = 0; i < sizeof log_facilities / sizeof log_facilities[0]; i++)
		if (strcasecmp(name, log_facilities[i].name) == 0)
			return log_facilities[i].facility;
	return -1;
}

int
log_open(const char *path)
{
	int	fd, old, facility;

	if (path != NULL && (facility = log_facility_parse(path)) != -2) {
		if (facility == -1) {
			errno = EINVAL;
			return -1;
		}
		/* NDELAY: connect now, before any chroot or fd limit. */
		openlog("sse-fcgi", LOG_PID|LOG_NDELAY, facility);
		pthread_mutex_lock(&log_lock);
		old = log_fd;
		log_fd = STDERR_FILENO;
		log_path[0] = '\0';
		log_syslog = 1;
		pthread_mutex_unlock(&log_lock);
		if (old != STDERR_FILENO)
			close(old);
		return 0;
	}
	if (path == NULL) {
		fd = STDERR_FILENO;
	} else {
		if (strlen(path) >= sizeof log_path) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(path, O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0640);
		if (fd == -1)
			return -1;
	}
	pthread_mutex_lock(&log_lock);
	old = log_fd;
	log_fd = fd;
	log_syslog = 0;
	if (path != NULL)
		strcpy(log_path, path);
	else
		log_path[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	if (old != STDERR_FILENO && old != fd)
		close(old);
	return 0;
}

int
log_reopen(void)
{
	char	path[sizeof log_path];

	pthread_mutex_lock(&log_lock);
	strcpy(path, log_path);
	pthread_mutex_unlock(&log_lock);
	if (path[0] == '\0')
		return 0;
	return log_open(path);
}

void
log_write(enum log_level lvl, const char *func, const char *fmt, ...)
{
	char		 line[2048];
	struct timeval	 tv;
	struct tm	 tm;
	va_list		 ap;
	int		 n, m;

	if ((int)lvl > log_threshold)
		return;
	if (log_syslog) {
		/* syslog adds the time, program and pid itself. */
		n = snprintf(line, sizeof line, "%s: %s: ", log_names[lvl],
		    func);
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof line - n, fmt, ap);
		va_end(ap);
		syslog(log_priorities[lvl], "%s", line);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = snprintf(line, sizeof line,
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ sse-fcgi[%ld] %s: %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000, (long)getpid(),
	    log_names[lvl], func);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	pthread_mutex_lock(&log_lock);
	(void)!write(log_fd, line, n);
	pthread_mutex_unlock(&log_lock);
}
