/* sse-fcgi - MIT License
 *
 * upgrade.c, the hand-over of the listening socket to a successor: the
 * successor's environment; which descriptors it inherits (the socket and
 * the ready pipe, not the predecessor's connections); what the successor
 * accepts from the environment; and the whole life cycle with this test
 * binary as the successor: ready, exits before ready, never ready.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "upgrade.h"
#include "testlib.h"

/* Open descriptors of this process, /proc/self/fd's own excepted. */
static int
open_fds(int *out, int max)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	int		 n = 0, fd;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd != dirfd(d) && n < max)
			out[n++] = fd;
	}
	closedir(d);
	return n;
}

static int
has_fd(const int *fds, int n, int fd)
{
	int	i;

	for (i = 0; i < n; i++)
		if (fds[i] == fd)
			return 1;
	return 0;
}

/* The successor side, run as "test_upgrade successor MODE". Its exit
 * status says what it found: 0 all as expected, 10+ something wrong. */
static int
successor(const char *mode)
{
	char	err[256];
	int	fds[64], n, lfd;

	lfd = upgrade_inherited(err, sizeof err);
	if (lfd < 0)
		return 10;
	if (getenv(UPGRADE_ENV) != NULL)
		return 11;	/* must not reach its own children */
	n = open_fds(fds, 64);
	/* 0-2, the socket, the ready pipe: nothing else. */
	if (n != 5 || !has_fd(fds, n, lfd))
		return 12;
	if (strcmp(mode, "ready") == 0) {
		upgrade_announce();
		upgrade_announce();	/* once only */
		return 0;
	}
	if (strcmp(mode, "fail") == 0)
		return 3;
	sleep(30);	/* "hang": never ready */
	return 0;
}

struct outcome {
	struct event_base	*base;
	int			 calls;
	pid_t			 pid;
};

static void
on_done(void *arg, pid_t pid)
{
	struct outcome	*o = arg;

	o->calls++;
	o->pid = pid;
	event_base_loopbreak(o->base);
}

static int
listening_socket(void)
{
	struct sockaddr_un	sun;
	int			fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path,
	    "/tmp/test-upgrade-%ld.sock", (long)getpid());
	unlink(sun.sun_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(fd, 16) == -1) {
		perror("listen");
		exit(1);
	}
	unlink(sun.sun_path);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

/* One upgrade with the successor in MODE; returns what FN was told and
 * puts the successor's exit status (or -1) in *STATUS. */
static struct outcome
run(const char *self, const char *mode, int lfd, unsigned timeout_ms,
    int *status)
{
	char		 succ[] = "successor", m[16];
	char		*argv[] = { (char *)self, succ, m, NULL };
	char		 err[256];
	struct upgrade	*u;
	struct outcome	 o = { NULL, 0, 0 };
	int		 st;

	snprintf(m, sizeof m, "%s", mode);
	o.base = event_base_new();
	u = upgrade_create(o.base, argv, self, err, sizeof err);
	*status = -1;
	if (upgrade_start(u, lfd, timeout_ms, on_done, &o, err,
	    sizeof err) == -1) {
		fprintf(stderr, "upgrade_start: %s\n", err);
		goto out;
	}
	test_cond("pending while the successor starts", upgrade_pending(u));
	test_cond("a second upgrade is refused meanwhile",
	    upgrade_start(u, lfd, timeout_ms, on_done, &o, err,
	    sizeof err) == -1 && strstr(err, "already") != NULL);
	event_base_dispatch(o.base);
	test_cond("not pending after the outcome", !upgrade_pending(u));
	if (o.pid > 0 && waitpid(o.pid, &st, 0) == o.pid && WIFEXITED(st))
		*status = WEXITSTATUS(st);
out:
	upgrade_free(u);
	event_base_free(o.base);
	return o;
}

int
main(int argc, char **argv)
{
	char		 e0[] = "PATH=/bin", e1[] = UPGRADE_ENV "=1:2:3",
			 e2[] = UPGRADE_ENV "X=keep", e3[] = "HOME=/";
	char		*env_in[] = { e0, e1, e2, e3, NULL };
	char		**env, self[4096], err[256], buf[64];
	struct outcome	 o;
	ssize_t		 n;
	int		 lfd, sp[2], status, fds[64], k;
	pid_t		 pid;

	if (argc == 3 && strcmp(argv[1], "successor") == 0)
		return successor(argv[2]);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return 77;	/* no /proc: skip */
	self[n] = '\0';

	env = upgrade_env(env_in, 77, 5, 9);
	test_cond("the hand-over variable comes first",
	    strcmp(env[0], UPGRADE_ENV "=77:5:9") == 0);
	test_cond("an inherited one is replaced, the rest kept in order",
	    strcmp(env[1], "PATH=/bin") == 0 &&
	    strcmp(env[2], UPGRADE_ENV "X=keep") == 0 &&
	    strcmp(env[3], "HOME=/") == 0 && env[4] == NULL);
	upgrade_env_free(env);
	env = upgrade_env(NULL, 1, 0, 4);
	test_cond("an empty environment", strcmp(env[0], UPGRADE_ENV "=1:0:4")
	    == 0 && env[1] == NULL);
	upgrade_env_free(env);

	/* Which descriptors survive: the kept ones and 0-2. */
	if ((pid = fork()) == 0) {
		int	keep[] = { 40, 11 };

		dup2(1, 10);
		dup2(1, 11);
		dup2(1, 12);
		dup2(1, 40);
		dup2(1, 41);
		upgrade_close_others(keep, 2);
		_exit(fcntl(10, F_GETFD) == -1 && fcntl(12, F_GETFD) == -1 &&
		    fcntl(41, F_GETFD) == -1 && fcntl(11, F_GETFD) != -1 &&
		    fcntl(40, F_GETFD) != -1 && fcntl(2, F_GETFD) != -1 ?
		    0 : 1);
	}
	test_cond("close_others keeps 0-2 and the listed, closes the rest",
	    waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);

	/* What a successor accepts from its environment. */
	unsetenv(UPGRADE_ENV);
	test_cond("no variable: not a successor",
	    upgrade_inherited(err, sizeof err) == -1);
	lfd = listening_socket();
	snprintf(buf, sizeof buf, "%ld:%d:%d", (long)getppid() + 1, lfd, 2);
	setenv(UPGRADE_ENV, buf, 1);
	test_cond("meant for another process: ignored",
	    upgrade_inherited(err, sizeof err) == -1);
	test_cond("... and removed", getenv(UPGRADE_ENV) == NULL);
	setenv(UPGRADE_ENV, "12:x", 1);
	test_cond("garbage: an error", upgrade_inherited(err, sizeof err) ==
	    -2 && strstr(err, "PPID:LISTEN_FD:READY_FD") != NULL);
	snprintf(buf, sizeof buf, "%ld:%d:%d", (long)getppid(), 1, 2);
	setenv(UPGRADE_ENV, buf, 1);
	test_cond("a descriptor that is no listening socket: an error",
	    upgrade_inherited(err, sizeof err) == -2 &&
	    strstr(err, "not a listening socket") != NULL);
	snprintf(buf, sizeof buf, "%ld:%d:%d", (long)getppid(), lfd, 999);
	setenv(UPGRADE_ENV, buf, 1);
	test_cond("a listening socket is taken",
	    upgrade_inherited(err, sizeof err) == lfd);
	upgrade_announce();	/* fd 999 is not open: nothing to say */

	/* The whole life cycle. An open connection stands for a stream the
	 * predecessor holds: the successor must not inherit it, or the web
	 * server would never see that stream end. */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
	o = run(self, "ready", lfd, 10000, &status);
	test_cond("ready: told once, with the successor's pid",
	    o.calls == 1 && o.pid > 0);
	test_cond("ready: the successor had the socket, the pipe and 0-2 "
	    "only", status == 0);
	o = run(self, "fail", lfd, 10000, &status);
	test_cond("exits before ready: told once, failed",
	    o.calls == 1 && o.pid == -1);
	o = run(self, "hang", lfd, 300, &status);
	test_cond("never ready: told once, failed", o.calls == 1 &&
	    o.pid == -1);
	test_cond("no child left behind", waitpid(-1, NULL, WNOHANG) == -1 &&
	    errno == ECHILD);
	k = open_fds(fds, 64);
	test_cond("the predecessor keeps its socket and connections",
	    has_fd(fds, k, lfd) && has_fd(fds, k, sp[0]) &&
	    has_fd(fds, k, sp[1]));
	{
		char		 x[] = "x";
		char		*bad[] = { x, NULL };
		struct upgrade	*u;
		struct event_base *b = event_base_new();

		u = upgrade_create(b, bad, "/nonexistent/sse-fcgi", err,
		    sizeof err);
		test_cond("a binary that is gone: refused, still serving",
		    upgrade_start(u, lfd, 1000, on_done, NULL, err,
		    sizeof err) == -1 && strstr(err, "/nonexistent") != NULL &&
		    !upgrade_pending(u));
		upgrade_free(u);
		event_base_free(b);
	}
	return test_report("test_upgrade");
}
