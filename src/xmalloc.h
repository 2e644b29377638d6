/* sse-fcgi - MIT License
 *
 * Allocation wrappers that abort on out-of-memory. A worker that cannot
 * allocate has no safe way on; its supervisor (spawn-fcgi with a restart
 * policy, mod_fcgid, systemd) starts a fresh one and clients resume.
 */
#ifndef SSE_XMALLOC_H
#define SSE_XMALLOC_H

#include <stddef.h>

/* Each returns memory the caller frees with free(); never NULL. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

#endif
