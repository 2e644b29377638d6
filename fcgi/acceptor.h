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
struct cidr;
struct cors;
struct stream_ctx;

/* Stream requests refused, counted by status (400, 401, 403), then those
 * sent away to come back later (200 with retry:; see retry.h). */
#define ACCEPTOR_DEFERRED	3	/* the index of the last */
#define ACCEPTOR_REFUSED_N	4

/* Returns an acceptor for the listening socket LISTEN_FD; the other
 * arguments are borrowed and must outlive it (CORS may be NULL;
 * STATS_ALLOW lists who may read the stats endpoints). */
struct acceptor	*acceptor_create(int listen_fd, const struct cfg *cfg,
		    struct broker *broker, struct stream_ctx *streams,
		    const struct cors *cors, const struct auth *auth,
		    const struct cidr *stats_allow);
/* Copies the refused-stream counters (ACCEPTOR_REFUSED_N, in the order
 * above) into OUT. Any thread. */
void		 acceptor_refused(struct acceptor *,
		    unsigned long long *out);
/* Starts the thread. Returns 0, or -1 with errno set. */
int		 acceptor_start(struct acceptor *);
/* Stops accepting and joins the thread (waiting at most about a second
 * for a request being read). */
void		 acceptor_stop(struct acceptor *);
/* Frees a stopped acceptor. NULL is ignored. */
void		 acceptor_free(struct acceptor *);

#endif
