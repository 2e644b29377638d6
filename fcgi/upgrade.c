/* sse-fcgi - MIT License
 *
 * In-place restart and upgrade (see upgrade.h). The fork runs on the loop
 * thread while the acceptor thread may hold locks, so between fork and
 * exec the child only calls async-signal-safe functions; everything it
 * needs (path, argv, environment) is built before the fork.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "upgrade.h"
#include "xmalloc.h"

extern char **environ;

struct upgrade {
	struct event_base	*base;
	char			*exe;
	char			**argv;		/* owned copy */
	struct event		*wait_ev;	/* the ready pipe; NULL: idle */
	int			 ready_fd;	/* our end of the pipe */
	pid_t			 child;
	upgrade_fn		 fn;
	void			*arg;
};

/* The successor's end of the ready pipe, from upgrade_inherited(). */
static int upgrade_announce_fd = -1;

/* Returns the path of this process's binary. /proc/self/exe names the
 * file as it was opened; the path is what a later upgrade runs again. */
static char *
upgrade_self_path(char *const argv[], char *err, size_t errlen)
{
	char	buf[PATH_MAX];
	ssize_t	n;

	n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = '\0';
		return xstrdup(buf);
	}
	if (argv[0] != NULL && argv[0][0] == '/')
		return xstrdup(argv[0]);
	snprintf(err, errlen, "cannot tell which file this program was run "
	    "from (no /proc/self/exe and argv[0] \"%s\" is not absolute)",
	    argv[0] != NULL ? argv[0] : "");
	return NULL;
}

struct upgrade *
upgrade_create(struct event_base *base, char *const argv[], const char *exe,
    char *err, size_t errlen)
{
	struct upgrade	*u;
	size_t		 n, i;
	char		*path;

	path = exe != NULL ? xstrdup(exe) : upgrade_self_path(argv, err,
	    errlen);
	if (path == NULL)
		return NULL;
	u = xcalloc(1, sizeof *u);
	u->base = base;
	u->exe = path;
	for (n = 0; argv[n] != NULL; n++)
		;
	u->argv = xcalloc(n + 1, sizeof *u->argv);
	for (i = 0; i < n; i++)
		u->argv[i] = xstrdup(argv[i]);
	u->ready_fd = -1;
	u->child = -1;
	return u;
}

char **
upgrade_env(char *const envp[], pid_t ppid, int listen_fd, int ready_fd)
{
	size_t	 n = 0, k = 1, plen = strlen(UPGRADE_ENV);
	char	**env, buf[64];

	while (envp != NULL && envp[n] != NULL)
		n++;
	env = xcalloc(n + 2, sizeof *env);
	snprintf(buf, sizeof buf, "%s=%ld:%d:%d", UPGRADE_ENV, (long)ppid,
	    listen_fd, ready_fd);
	env[0] = xstrdup(buf);
	for (n = 0; envp != NULL && envp[n] != NULL; n++)
		if (strncmp(envp[n], UPGRADE_ENV, plen) != 0 ||
		    envp[n][plen] != '=')
			env[k++] = envp[n];
	env[k] = NULL;
	return env;
}

void
upgrade_env_free(char **env)
{
	if (env != NULL) {
		free(env[0]);
		free(env);
	}
}

/* close_range(2) where the kernel has it (5.9), else one close(2) per
 * descriptor up to the limit. */
static void
upgrade_close_range(unsigned lo, unsigned hi)
{
	unsigned	fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	for (fd = lo; fd <= hi && fd < 1048576u; fd++)
		close((int)fd);
}

void
upgrade_close_others(const int *keep, size_t n)
{
	long		max = sysconf(_SC_OPEN_MAX);
	unsigned	lo = 3, top = max > 0 ? (unsigned)max - 1 : 1048575u;
	size_t		i;
	int		next;

	for (;;) {
		/* The lowest kept descriptor at or above LO. */
		next = -1;
		for (i = 0; i < n; i++)
			if (keep[i] >= (int)lo && (next == -1 || keep[i] < next))
				next = keep[i];
		if (next == -1) {
			upgrade_close_range(lo, top > lo ? top : lo);
			return;
		}
		if ((unsigned)next > lo)
			upgrade_close_range(lo, (unsigned)next - 1);
		lo = (unsigned)next + 1;
	}
}

static void
upgrade_finish(struct upgrade *u, pid_t successor)
{
	event_free(u->wait_ev);
	u->wait_ev = NULL;
	close(u->ready_fd);
	u->ready_fd = -1;
	u->child = -1;
	u->fn(u->arg, successor);
}

/* Reaps a successor that failed (KILL_IT: or is no longer wanted). One
 * that closed the pipe is exiting; it gets a second before SIGKILL. */
static void
upgrade_reap(pid_t pid, int kill_it)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	int		st = 0, i;
	pid_t		r = 0;

	if (kill_it)
		kill(pid, SIGKILL);
	for (i = 0; i < 100 && (r = waitpid(pid, &st, WNOHANG)) == 0; i++)
		nanosleep(&ts, NULL);
	if (r == 0) {
		kill(pid, SIGKILL);
		while ((r = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
			;
	}
	if (kill_it || r != pid)
		return;
	if (WIFEXITED(st))
		log_error("upgrade: the new process (pid %ld) exited with "
		    "status %d before it was ready; still serving",
		    (long)pid, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		log_error("upgrade: the new process (pid %ld) was killed by "
		    "signal %d before it was ready; still serving", (long)pid,
		    WTERMSIG(st));
}

static void
upgrade_on_ready(evutil_socket_t fd, short what, void *arg)
{
	struct upgrade	*u = arg;
	pid_t		 pid = u->child;
	char		 c;
	ssize_t		 n;

	if (what & EV_TIMEOUT) {
		log_error("upgrade: the new process (pid %ld) was not ready in "
		    "time; killed it; still serving", (long)pid);
		upgrade_reap(pid, 1);
		upgrade_finish(u, -1);
		return;
	}
	while ((n = read(fd, &c, 1)) == -1 && errno == EINTR)
		;
	if (n == -1 && errno == EAGAIN)
		return;
	if (n == 1) {
		upgrade_finish(u, pid);
		return;
	}
	/* EOF: it exited (or exec failed) without saying it was ready. */
	upgrade_reap(pid, 0);
	upgrade_finish(u, -1);
}

int
upgrade_start(struct upgrade *u, int listen_fd, unsigned timeout_ms,
    upgrade_fn fn, void *arg, char *err, size_t errlen)
{
	struct timeval	 tv;
	char		**env;
	int		 p[2], keep[2];
	pid_t		 pid;

	if (u->wait_ev != NULL) {
		snprintf(err, errlen, "an upgrade is already under way (new "
		    "process %ld)", (long)u->child);
		return -1;
	}
	if (access(u->exe, X_OK) == -1) {
		snprintf(err, errlen, "%s: %s", u->exe, strerror(errno));
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	env = upgrade_env(environ, getpid(), listen_fd, p[1]);
	keep[0] = listen_fd;
	keep[1] = p[1];
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		upgrade_env_free(env);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t	none;

		/* The child: async-signal-safe calls only, until exec. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		fcntl(listen_fd, F_SETFD, 0);
		fcntl(p[1], F_SETFD, 0);
		upgrade_close_others(keep, 2);
		execve(u->exe, u->argv, env);
		_exit(127);
	}
	upgrade_env_free(env);
	close(p[1]);
	evutil_make_socket_nonblocking(p[0]);
	u->ready_fd = p[0];
	u->child = pid;
	u->fn = fn;
	u->arg = arg;
	u->wait_ev = event_new(u->base, p[0], EV_READ | EV_PERSIST,
	    upgrade_on_ready, u);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	event_add(u->wait_ev, &tv);
	return 0;
}

int
upgrade_pending(const struct upgrade *u)
{
	return u != NULL && u->wait_ev != NULL;
}

void
upgrade_cancel(struct upgrade *u)
{
	if (!upgrade_pending(u))
		return;
	log_warn("upgrade: stopping; the new process (pid %ld) is not "
	    "ready yet, killed it", (long)u->child);
	upgrade_reap(u->child, 1);
	event_free(u->wait_ev);
	u->wait_ev = NULL;
	close(u->ready_fd);
	u->ready_fd = -1;
	u->child = -1;
}

void
upgrade_free(struct upgrade *u)
{
	size_t	i;

	if (u == NULL)
		return;
	upgrade_cancel(u);
	for (i = 0; u->argv[i] != NULL; i++)
		free(u->argv[i]);
	free(u->argv);
	free(u->exe);
	free(u);
}

int
upgrade_fd_listens(int fd)
{
	struct stat	st;
	int		on = 0;
	socklen_t	len = sizeof on;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

int
upgrade_inherited(char *err, size_t errlen)
{
	const char	*v = getenv(UPGRADE_ENV);
	long		 ppid;
	int		 lfd, rfd;

	if (v == NULL)
		return -1;
	if (sscanf(v, "%ld:%d:%d", &ppid, &lfd, &rfd) != 3 || lfd < 0 ||
	    rfd < 0) {
		snprintf(err, errlen, "%s=%s: expected PPID:LISTEN_FD:READY_FD",
		    UPGRADE_ENV, v);
		unsetenv(UPGRADE_ENV);
		return -2;
	}
	unsetenv(UPGRADE_ENV);
	if (ppid != (long)getppid())
		return -1;	/* meant for another process */
	if (!upgrade_fd_listens(lfd)) {
		snprintf(err, errlen, "upgrade: fd %d passed by pid %ld is not "
		    "a listening socket", lfd, ppid);
		return -2;
	}
	if (fcntl(rfd, F_GETFD) != -1) {
		fcntl(rfd, F_SETFD, FD_CLOEXEC);
		upgrade_announce_fd = rfd;
	}
	if (lfd > 2)
		fcntl(lfd, F_SETFD, FD_CLOEXEC);
	return lfd;
}

void
upgrade_announce(void)
{
	ssize_t	n;

	if (upgrade_announce_fd == -1)
		return;
	while ((n = write(upgrade_announce_fd, "1", 1)) == -1 &&
	    errno == EINTR)
		;
	close(upgrade_announce_fd);
	upgrade_announce_fd = -1;
}
