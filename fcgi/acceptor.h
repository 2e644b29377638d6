/* sse-fcgi - MIT License
 *
 * The acceptor thread: loops on libfcgi's FCGX_Accept_r (which blocks
 * while it reads a request's params, so it cannot run on the event loop),
 * routes each request, answers short ones (errors) itself with the normal
 * FCGX calls, and hands streams to the event loop with the connection fd.
 */
#ifndef SSE_ACCEPTOR_H
#define SSE_ACCEPTOR_H

struct acceptor;
struct auth;
struct broker;
struct cfg;
struct cors;
struct stream_ctx;

/* Returns an acceptor for the listening socket LISTEN_FD; the other
 * arguments are borrowed and must outlive it (CORS may be NULL). */
struct acceptor	*acceptor_create(int listen_fd, const struct cfg *cfg,
		    struct broker *broker, struct stream_ctx *streams,
		    const struct cors *cors, const struct auth *auth);
/* Starts the thread. Returns 0, or -1 with errno set. */
int		 acceptor_start(struct acceptor *);
/* Stops accepting and joins the thread (waiting at most about a second
 * for a request being read). */
void		 acceptor_stop(struct acceptor *);
/* Frees a stopped acceptor. NULL is ignored. */
void		 acceptor_free(struct acceptor *);

#endif
