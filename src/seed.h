/* sse-fcgi - MIT License
 *
 * Secret random bytes for keyed hashes: the kernel's getrandom(), else
 * /dev/urandom, else (a chroot without either) the clock, the process id
 * and an address mixed together, which still differs between processes
 * but is guessable, so that last case is logged once.
 */
#ifndef SSE_SEED_H
#define SSE_SEED_H

#include <stddef.h>

#define SEED_KEY_LEN	16

/* Fills BUF with LEN unpredictable bytes, falling back as above. */
void		 seed_fill(void *buf, size_t len);
/* Returns this process's hash key, drawn once on first use (thread-safe);
 * the SEED_KEY_LEN bytes stay valid and unchanged until exit. A forked
 * child that has not used it yet draws its own. */
const unsigned char *seed_key(void);

#endif
