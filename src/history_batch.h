/* sse-fcgi - MIT License
 *
 * A batch of history reads: the pages that streams resuming at once ask
 * for, gathered into one run of the resume script (src/resume.lua). Reads
 * of the same channel after the same id with the same budget are one key
 * of the script however many streams asked, and each entry of a key is
 * framed once for all of them (history_entry.frames). No I/O here:
 * history.c sends the arguments and hands the reply back, so the parsing
 * and the sharing are testable without Redis.
 * Event-loop thread only.
 */
#ifndef SSE_HISTORY_BATCH_H
#define SSE_HISTORY_BATCH_H

#include <stddef.h>

#include "history.h"

struct history_batch;
struct redisReply;

#define HISTORY_BATCH_ENTRIES	1000	/* per read and page, at most */
#define HISTORY_BATCH_KEYS	256	/* reads per batch: then it goes */
#define HISTORY_BATCH_BYTES	(32u << 20)	/* sum of the budgets: idem */

/* Returns an empty batch for keys under PREFIX (copied). */
struct history_batch *history_batch_create(const char *prefix);
/* Returns an empty batch of reads of CHANNEL only (LEN bytes, copied)
 * in a Redis Cluster: its keys carry the channel as their hash tag,
 * <prefix>history:{<channel>} and its own clock <prefix>clock:{<channel>},
 * so the script runs at the channel's master. */
struct history_batch *history_batch_create_cluster(const char *prefix,
		    const char *channel, size_t len);
/* Adds a request (see history_resume(); the arguments are borrowed).
 * Returns its ticket, owned by B and valid until its callback runs or it
 * is cancelled, or NULL when AFTER is not an event id. */
struct history_req *history_batch_add(struct history_batch *b,
		    const char *const *channels, const size_t *lens, size_t n,
		    const char *after, size_t budget, history_fn fn,
		    void *arg);
/* Like history_batch_add(), with FROM[i] (borrowed) as the start of
 * CHANNELS[i] (see history_resume_from()). Never NULL. */
struct history_req *history_batch_add_from(struct history_batch *b,
		    const char *const *channels, const size_t *lens, size_t n,
		    const struct history_from *from, size_t budget,
		    history_fn fn, void *arg);
/* Tells whether B holds as much as one call should carry. */
int		 history_batch_full(const struct history_batch *b);
/* Returns the number of distinct reads (script keys) in B. */
size_t		 history_batch_nreads(const struct history_batch *b);
/* Sets *ARGV and *ARGL to B's EVAL command (owned by B, valid until it is
 * finished) and returns its argument count. */
int		 history_batch_command(struct history_batch *b,
		    const char ***argv, const size_t **argl);
/* Runs the callback of each request not cancelled with its page of the
 * script's reply R (borrowed), or with an error when R is NULL (ERR says
 * why) or malformed; returns the parse error (static or R's text), or
 * NULL. Frees B: the tickets and the frames no stream kept. */
const char	*history_batch_finish(struct history_batch *b,
		    const struct redisReply *r, const char *err);

#endif
