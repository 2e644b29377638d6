/* sse-fcgi - MIT License
 *
 * In-place restart and upgrade (SIGUSR2): the worker starts a fresh copy of
 * its binary, the file on disk now, on its own listening socket. The
 * successor accepts alongside; once it says it is ready (one byte on a
 * pipe) the predecessor stops accepting, ends its streams with a jittered
 * retry: and exits, so the socket is never closed and no connection is
 * refused. The successor is the predecessor's child; the environment
 * variable SSE_FCGI_HANDOVER=PPID:LISTEN_FD:READY_FD tells it what it
 * inherits, and every other descriptor is closed before it starts.
 *
 * Predecessor side: upgrade_create, upgrade_start, upgrade_cancel (loop
 * thread). Successor side: upgrade_inherited, upgrade_announce.
 */
#ifndef SSE_UPGRADE_H
#define SSE_UPGRADE_H

#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct upgrade;

#define UPGRADE_ENV	"SSE_FCGI_HANDOVER"

/* Called once per upgrade_start(): SUCCESSOR is the ready process's PID,
 * or -1 when it failed (exited, or was not ready in time: then killed). */
typedef void (*upgrade_fn)(void *arg, pid_t successor);

/* Remembers what to start: ARGV (copied) run as EXE, or as this process's
 * own binary file when EXE is NULL (its path now, so a file replaced since
 * is the one started). Returns NULL with ERR set if the path is unknown. */
struct upgrade	*upgrade_create(struct event_base *base, char *const argv[],
		    const char *exe, char *err, size_t errlen);
/* Starts the successor on LISTEN_FD and waits for it on the loop, at most
 * TIMEOUT_MS; then calls FN. Returns 0, or -1 with ERR set (an upgrade
 * already running, or no process could be started). */
int		 upgrade_start(struct upgrade *, int listen_fd,
		    unsigned timeout_ms, upgrade_fn fn, void *arg, char *err,
		    size_t errlen);
/* Returns 1 while a successor is starting. */
int		 upgrade_pending(const struct upgrade *);
/* Kills a successor that is not ready yet (FN is not called). */
void		 upgrade_cancel(struct upgrade *);
/* Frees U (cancelling first). NULL is ignored. */
void		 upgrade_free(struct upgrade *);

/* Successor: returns the inherited listening socket and removes the
 * variable, or -1 when this process was not started by an upgrade (no
 * variable, or one meant for another process), or -2 with ERR set when
 * it names no listening socket. */
int		 upgrade_inherited(char *err, size_t errlen);
/* Returns 1 if FD is a listening socket: what the successor checks it
 * inherited, and the worker of any socket it is given. */
int		 upgrade_fd_listens(int fd);
/* Successor: tells the predecessor it accepts now. Once; no-op when not a
 * successor. */
void		 upgrade_announce(void);

/* For the tests: returns ENVP (not modified) with every UPGRADE_ENV entry
 * left out and "UPGRADE_ENV=PPID:LISTEN_FD:READY_FD" put first, as a
 * NULL-terminated array whose strings are borrowed except that first
 * one (upgrade_env_free frees it and the array). */
char		**upgrade_env(char *const envp[], pid_t ppid, int listen_fd,
		    int ready_fd);
void		 upgrade_env_free(char **env);
/* For the tests: closes every descriptor from 3 up except the N in KEEP.
 * Async-signal-safe (it runs between fork and exec). */
void		 upgrade_close_others(const int *keep, size_t n);

#endif
