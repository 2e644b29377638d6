/* sse-fcgi - MIT License
 *
 * Logging: one line per record on stderr (which every front server collects
 * from FastCGI workers) or in a file given by --log-file, reopened on SIGHUP
 * for log rotation, or to syslog(3) when --log-file is "syslog:FACILITY".
 * Each line carries UTC time, pid, level and the function (syslog adds its
 * own time and pid). Safe to call from any thread: each record is one
 * write(2) or one syslog(3) call.
 */
#ifndef SSE_LOG_H
#define SSE_LOG_H

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG
};

/* Sets the threshold; records above it are dropped. */
void	log_set_level(enum log_level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns -1 on anything else. */
int	log_level_parse(const char *);
#define LOG_SYSLOG_PREFIX	"syslog:"

/* Sends records to PATH (appending), or back to stderr when PATH is NULL,
 * or to syslog for "syslog:" and "syslog:FACILITY". Returns 0, or -1 with
 * errno set (EINVAL: unknown facility) and the old target kept. */
int	log_open(const char *path);
/* Returns the syslog facility TARGET names: "syslog:" is daemon,
 * "syslog:local3" local3 (daemon, user, local0..local7); -1 for another
 * name, -2 when TARGET is not a "syslog:" target (a file name). */
int	log_facility_parse(const char *target);
/* Reopens the current file (after rotation). No-op on stderr and syslog. */
int	log_reopen(void);

void	log_write(enum log_level, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#define log_error(...)	log_write(LOG_LVL_ERROR, __func__, __VA_ARGS__)
#define log_warn(...)	log_write(LOG_LVL_WARN, __func__, __VA_ARGS__)
#define log_info(...)	log_write(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define log_debug(...)	log_write(LOG_LVL_DEBUG, __func__, __VA_ARGS__)

#endif
