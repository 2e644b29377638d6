/* sse-fcgi - MIT License
 *
 * Random bytes for hash keys (see seed.h). Reads are retried on EINTR and
 * short reads; a source that fails part-way hands over to the next one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_SYS_RANDOM_H
#include <sys/random.h>
#endif

#include "log.h"
#include "seed.h"
#include "siphash.h"

static unsigned char	seed_process_key[SEED_KEY_LEN];
static pthread_once_t	seed_once = PTHREAD_ONCE_INIT;

/* Returns how many bytes getrandom() gave (it may be missing or refused,
 * as under an old kernel or a seccomp filter). */
static size_t
seed_getrandom(unsigned char *p, size_t len)
{
	size_t	done = 0;
#ifdef HAVE_GETRANDOM
	ssize_t	n;

	while (done < len) {
		n = getrandom(p + done, len - done, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
#endif
	return done;
}

static size_t
seed_urandom(unsigned char *p, size_t len)
{
	size_t	done = 0;
	ssize_t	n;
	int	fd;

	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while (done < len) {
		n = read(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	return done;
}

/* The last resort: clock, pid and a stack address (ASLR), each mixed in
 * with SipHash so every output byte depends on all of them. */
static void
seed_weak(unsigned char *p, size_t len)
{
	struct timespec	 ts[2];
	unsigned char	 key[SIPHASH_KEY_LEN];
	uint64_t	 mix[4], h;
	size_t		 i, n;

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	clock_gettime(CLOCK_MONOTONIC, &ts[1]);
	mix[0] = (uint64_t)ts[0].tv_sec ^ (uint64_t)ts[1].tv_nsec << 20;
	mix[1] = (uint64_t)ts[0].tv_nsec ^ (uint64_t)ts[1].tv_sec << 32;
	mix[2] = (uint64_t)getpid() << 16 ^ (uint64_t)getppid();
	mix[3] = (uint64_t)(uintptr_t)&ts;
	memset(key, 0, sizeof key);
	for (i = 0; i < len; i += n) {
		key[0] = (unsigned char)i;
		h = siphash24(key, mix, sizeof mix);
		n = len - i < sizeof h ? len - i : sizeof h;
		memcpy(p + i, &h, n);
	}
}

void
seed_fill(void *buf, size_t len)
{
	unsigned char	*p = buf;
	size_t		 done;

	done = seed_getrandom(p, len);
	if (done < len)
		done += seed_urandom(p + done, len - done);
	if (done < len) {
		log_warn("no getrandom() or /dev/urandom: hash keys come "
		    "from the clock and pid");
		seed_weak(p + done, len - done);
	}
}

static void
seed_init(void)
{
	seed_fill(seed_process_key, sizeof seed_process_key);
}

const unsigned char *
seed_key(void)
{
	pthread_once(&seed_once, seed_init);
	return seed_process_key;
}
