/* sse-fcgi - MIT License
 *
 * Worker configuration from four sources, later ones winning:
 *   1. built-in defaults,
 *   2. the config file (--config FILE or SSE_FCGI_CONFIG), lines of
 *      "key = value", '#' starts a comment,
 *   3. environment variables SSE_FCGI_<KEY> (key upper-cased, '-' -> '_'),
 *   4. command-line flags --key VALUE or --key=VALUE.
 * Every key has the same name in all three places (see cfg.c's table).
 *
 * "history" is the one list: each file line and each --history flag adds a
 * rule, and SSE_FCGI_HISTORY holds one or more rules split by ';'. Rules
 * from every source are kept, and cfg_load() orders them so that flag rules
 * come first, then environment rules, then file rules (each group in the
 * order given). cfg_history_for() takes the first rule that matches, so a
 * flag or environment rule overrides a file rule for the same channels; the
 * built-in rule "* 1000 24h" applies when none matches.
 * "initial-events" is a second list, "PATTERN N" rules, kept and ordered
 * the same way (SSE_FCGI_INITIAL_EVENTS splits rules at ';').
 */
#ifndef SSE_CFG_H
#define SSE_CFG_H

#include <stddef.h>
#include <stdio.h>

/* One history rule, "PATTERN MAXLEN MAXAGE". */
struct cfg_history {
	char		*pattern;	/* glob over channel names, owned */
	unsigned long	 maxlen;	/* messages kept, 0 = no history */
	unsigned long	 maxage_ms;	/* oldest kept, 0 = no age limit */
};

/* One initial-events rule, "PATTERN N" (see initial.h). */
struct cfg_initial {
	char		*pattern;	/* glob over channel names, owned */
	unsigned	 count;		/* events sent on open, 0 = none */
};

struct cfg {
	char		*config_file;	/* or NULL */
	char		*listen;	/* NULL: inherited socket on fd 0 */
	int		 backlog;	/* listen(2) backlog for --listen */
	char		*redis;		/* Redis URL (see redis_url.h) */
	int		 redis_cluster;	/* it is a redis+cluster:// URL */
	unsigned	 keepalive;	/* seconds between keepalive comments */
	unsigned	 retry_ms;	/* "retry:" sent to clients, 0 = none */
	size_t		 queue_limit;	/* unsent bytes allowed per stream */
	unsigned	 max_streams;	/* streams per worker, 0 = no cap */
	unsigned	 max_channels;	/* channels one stream may ask for */
	size_t		 max_header;	/* request headers, URI and query */
	unsigned	 shutdown_grace;/* seconds to drain on SIGTERM */
	unsigned	 max_lifetime;	/* seconds a stream may last, 0 = any */
	int		 poll_hold_ms;	/* poll mode: ms a stream waits
					   for an event; -1 = off */
	int		 log_level;	/* enum log_level */
	char		*log_file;	/* NULL: stderr; or "syslog:..." */
	unsigned	 stats_interval;/* seconds between reports, 0 = off */
	char		*stats_allow;	/* who may read stats (cidr.h) */
	char		*stats_secret;	/* bearer admitting to stats, or NULL */
	struct cfg_history *history;	/* lookup order, see above; owned */
	size_t		 nhistory;
	char		*history_prefix;/* of the Redis keys holding history */
	/* Bearer secret for HTTP publishing, or NULL (publishing is off);
	 * filled from publisher_secret_file when that is set. */
	char		*publisher_secret;
	char		*publisher_secret_file;	/* or NULL */
	char		*cors_origins;	/* allowed origins, or NULL: no CORS */
	unsigned	 publish_timeout_ms;/* synchronous Redis calls */
	size_t		 max_message;	/* largest payload one may publish */
	/* Authorization (see auth.h); all NULL: every channel is public. */
	char		*public_channels;	/* globs anyone may read */
	char		*user_channels;		/* templates, {REMOTE_USER} */
	char		*jwt_secret;		/* HS256 key, or NULL */
	char		*jwt_secret_file;	/* or NULL */
	char		*jwt_key_file;		/* PEM public keys, or NULL */
	char		*jwt_cookie;		/* cookie holding a token */
	char		*jwt_query;		/* query parameter, same */
	unsigned	 jwt_leeway;		/* seconds of clock skew */
	char		*jwt_audience;		/* required aud, or NULL */
	char		*jwt_issuer;		/* required iss, or NULL */
	/* The application's check (see auth_url.h), or NULL. */
	char		*auth_url;		/* http://HOST[:PORT]/PATH */
	unsigned	 auth_timeout_ms;	/* its answer's deadline */
	unsigned	 auth_cache;		/* seconds a verdict holds */
	/* Initial events: a list ordered like history's, first match wins;
	 * owned. */
	struct cfg_initial *initial;
	size_t		 ninitial;
	/* Presence (see presence.h). */
	char		*presence;	/* space-separated globs, or NULL */
	unsigned	 presence_ttl;	/* seconds a dead worker stays */
};

enum cfg_result {
	CFG_OK = 0,	/* run with the configuration */
	CFG_EXIT = 1,	/* --help or --version printed: exit 0 */
	CFG_ERROR = -1	/* bad input: message in err, exit 2 */
};

/* Fills *C with the defaults (and no history rules). */
void		cfg_defaults(struct cfg *c);
/* Frees the strings and history rules *C holds. */
void		cfg_clear(struct cfg *c);
/* Sets KEY (a long flag name without dashes) to VALUE; SOURCE names the
 * origin for the error text. "history" appends one rule. Returns 0, or -1
 * with a reason in ERR and *C unchanged. */
int		cfg_set(struct cfg *c, const char *key, const char *value,
		    const char *source, char *err, size_t errlen);
/* Reads a config file. Returns 0, or -1 with "file:line: reason" in ERR. */
int		cfg_load_file(struct cfg *c, const char *path, char *err,
		    size_t errlen);
/* Applies the environment layer (ENVP's SSE_FCGI_* variables) on top of
 * what *C holds, as cfg_load() does: its history rules go ahead of those
 * already there. For tools that share the worker's settings. Returns 0, or
 * -1 with a reason in ERR. */
int		cfg_apply_env(struct cfg *c, char **envp, char *err,
		    size_t errlen);
/* Applies defaults, file, environment (ENVP, NULL-terminated) and ARGV in
 * that order, then reads publisher-secret-file into publisher_secret and
 * jwt-secret-file into jwt_secret (it is an error to give both of a pair). --help and --version print to OUT and return
 * CFG_EXIT. */
enum cfg_result	cfg_load(struct cfg *c, int argc, char **argv, char **envp,
		    FILE *out, char *err, size_t errlen);
/* Returns the history rule for CHANNEL (never NULL: the built-in default
 * applies last). The rule is borrowed from *C, or static. */
const struct cfg_history *cfg_history_for(const struct cfg *c,
		    const char *channel, size_t len);
/* Returns the number of initial events for CHANNEL: the first
 * initial-events rule that matches, else 0. */
unsigned	cfg_initial_for(const struct cfg *c, const char *channel,
		    size_t len);
/* Prints the usage text to OUT. */
void		cfg_usage(FILE *out);

#endif
