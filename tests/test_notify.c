/* sse-fcgi - MIT License
 *
 * notify.c: the service manager's datagram, to a socket path and to an
 * abstract name; nothing without NOTIFY_SOCKET; a bad value is an error.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "testlib.h"

/* Binds a datagram socket to NAME (a path, or "@name"). */
static int
bound(const char *name)
{
	struct sockaddr_un	sun;
	int			fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, name, sizeof sun.sun_path - 1);
	if (name[0] == '@')
		sun.sun_path[0] = '\0';
	if (bind(fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name))) == -1) {
		perror("bind");
		exit(1);
	}
	return fd;
}

static int
received(int fd, const char *want)
{
	char	buf[256];
	ssize_t	n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);

	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strcmp(buf, want) == 0;
}

int
main(void)
{
	char	path[64], abstract[64], big[200];
	int	fd;

	unsetenv("NOTIFY_SOCKET");
	test_cond("no NOTIFY_SOCKET: nothing sent", notify_send("READY=1") == 0);
	setenv("NOTIFY_SOCKET", "", 1);
	test_cond("empty NOTIFY_SOCKET: nothing sent",
	    notify_send("READY=1") == 0);

	snprintf(path, sizeof path, "/tmp/test-notify-%ld.sock", (long)getpid());
	unlink(path);
	fd = bound(path);
	setenv("NOTIFY_SOCKET", path, 1);
	test_cond("sent to a path", notify_send("READY=1") == 1);
	test_cond("the datagram is the message", received(fd, "READY=1"));
	test_cond("several lines in one datagram",
	    notify_send("MAINPID=42\nREADY=1") == 1 &&
	    received(fd, "MAINPID=42\nREADY=1"));
	test_cond("the variable stays for a successor",
	    getenv("NOTIFY_SOCKET") != NULL);
	close(fd);
	unlink(path);
	errno = 0;
	test_cond("nobody listening: an error",
	    notify_send("READY=1") == -1 && errno != 0);

	snprintf(abstract, sizeof abstract, "@test-notify-%ld", (long)getpid());
	fd = bound(abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	test_cond("sent to an abstract name", notify_send("STOPPING=1") == 1 &&
	    received(fd, "STOPPING=1"));
	close(fd);

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	errno = 0;
	test_cond("a relative path is refused",
	    notify_send("READY=1") == -1 && errno == EINVAL);
	memset(big, 'x', sizeof big - 1);
	big[0] = '/';
	big[sizeof big - 1] = '\0';
	setenv("NOTIFY_SOCKET", big, 1);
	errno = 0;
	test_cond("a path too long is refused",
	    notify_send("READY=1") == -1 && errno == EINVAL);
	return test_report("test_notify");
}
