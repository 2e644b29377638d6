/* sse-fcgi - MIT License
 *
 * Worker configuration from three sources, later ones winning:
 *   1. built-in defaults,
 *   2. the config file (--config FILE or SSE_FCGI_CONFIG), lines of
 *      "key = value", '#' starts a comment,
 *   3. environment variables SSE_FCGI_<KEY> (key upper-cased, '-' -> '_'),
 *   4. command-line flags --key VALUE or --key=VALUE.
 * Every key has the same name in all three places (see cfg.c's table).
 */
#ifndef SSE_CFG_H
#define SSE_CFG_H

#include <stddef.h>
#include <stdio.h>

struct cfg {
	char		*config_file;	/* or NULL */
	char		*listen;	/* NULL: inherited socket on fd 0 */
	int		 backlog;	/* listen(2) backlog for --listen */
	char		*redis;		/* Redis URL (see redis_url.h) */
	unsigned	 keepalive;	/* seconds between keepalive comments */
	unsigned	 retry_ms;	/* "retry:" sent to clients, 0 = none */
	size_t		 queue_limit;	/* bytes queued per stream before close */
	unsigned	 max_streams;	/* open streams per worker, 0 = no cap */
	unsigned	 shutdown_grace;/* seconds to drain streams on SIGTERM */
	int		 log_level;	/* enum log_level */
	char		*log_file;	/* NULL: stderr */
};

enum cfg_result {
	CFG_OK = 0,	/* run with the configuration */
	CFG_EXIT = 1,	/* --help or --version printed: exit 0 */
	CFG_ERROR = -1	/* bad input: message in err, exit 2 */
};

/* Fills *C with the defaults. */
void		cfg_defaults(struct cfg *c);
/* Frees the strings *C holds. */
void		cfg_clear(struct cfg *c);
/* Sets KEY (a long flag name without dashes) to VALUE; SOURCE names the
 * origin for the error text. Returns 0, or -1 with a reason in ERR. */
int		cfg_set(struct cfg *c, const char *key, const char *value,
		    const char *source, char *err, size_t errlen);
/* Reads a config file. Returns 0, or -1 with "file:line: reason" in ERR. */
int		cfg_load_file(struct cfg *c, const char *path, char *err,
		    size_t errlen);
/* Applies defaults, file, environment (ENVP, NULL-terminated) and ARGV in
 * that order. --help and --version print to OUT and return CFG_EXIT. */
enum cfg_result	cfg_load(struct cfg *c, int argc, char **argv, char **envp,
		    FILE *out, char *err, size_t errlen);
/* Prints the usage text to OUT. */
void		cfg_usage(FILE *out);

#endif
