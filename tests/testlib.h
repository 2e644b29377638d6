/* sse-fcgi - MIT License
 *
 * A tiny unit-test helper: test_cond() records a pass or a failure with the
 * expression's text and line; test_report() prints the totals and gives the
 * exit status for automake (0 when nothing failed). test_in_child() runs a
 * function in a fresh process, for what must differ between processes.
 */
#ifndef SSE_TESTLIB_H
#define SSE_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int test_passed, test_failed;

#define test_cond(descr, cond) do {					\
	if (cond) {							\
		test_passed++;						\
	} else {							\
		test_failed++;						\
		fprintf(stderr, "FAIL %s:%d: %s (%s)\n", __FILE__,	\
		    __LINE__, descr, #cond);				\
	}								\
} while (0)

/* Runs FN, which fills LEN bytes and returns 0, in a child process and
 * copies what it filled into OUT. Returns 0, or -1 when the fork, the pipe
 * or FN failed. */
static inline int
test_in_child(int (*fn)(unsigned char *, size_t), unsigned char *out,
    size_t len)
{
	unsigned char	*buf;
	ssize_t		 n;
	size_t		 got = 0;
	pid_t		 pid;
	int		 fd[2], status;

	if (pipe(fd) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		close(fd[0]);
		buf = calloc(1, len);
		if (buf == NULL || fn(buf, len) != 0 ||
		    write(fd[1], buf, len) != (ssize_t)len)
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	while (got < len && (n = read(fd[0], out + got, len - got)) > 0)
		got += (size_t)n;
	close(fd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return got == len ? 0 : -1;
}

static inline int
test_report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
	return test_failed == 0 ? 0 : 1;
}

#endif
