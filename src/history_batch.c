/* sse-fcgi - MIT License
 *
 * Batched history reads (see history_batch.h). A batch holds its distinct
 * reads (channel, after id, budget) and the requests pointing at them; the
 * reply is parsed once per read, then each request gets the entries of its
 * channels merged in id order up to its frontier: the smallest last id of
 * its channels whose read was cut. Past the frontier a cut channel may
 * hold events not read yet, so nothing after it is given: the next page
 * starts there and order stays exact. A read of a channel's last N
 * (initial events) is keyed by N and its bound instead of an id; the
 * script reports the id it started after, which each request gets as its
 * start.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "event_id.h"
#include "frame.h"
#include "history_batch.h"
#include "scripts.h"
#include "xmalloc.h"

/* One distinct read: a script key and what the reply said of it. */
struct hb_read {
	char			*name;		/* <prefix>history:<channel> */
	size_t			 len;		/* of the channel, at name+off */
	size_t			 off;
	struct event_id		 after;
	long			 last;		/* the last N, or -1 */
	struct event_id		 start;		/* what it read after */
	size_t			 budget;
	char			 after_text[EVENT_ID_MAX + 24];
	char			 budget_text[24];
	struct history_entry	*entries;	/* from the reply, in id order */
	size_t			 nentries;
	struct frame		**frames;	/* HISTORY_FRAME_KINDS per entry,
						   see history.h */
	int			 gap;
	int			 more;
};

struct history_req {
	struct history_req	*next;
	history_fn		 fn;		/* NULL once cancelled */
	void			*arg;
	size_t			 nchannels;
	size_t			*reads;		/* per channel, into b->reads */
};

struct history_batch {
	char			*prefix;
	int			 cluster;	/* keys hash-tagged by channel */
	char			*clock;		/* <prefix>clock */
	struct hb_read		*reads;
	size_t			 nreads, cap;
	size_t			 budgets;	/* sum, for the size cap */
	struct history_req	*reqs, **reqs_tail;
	const char		**argv;		/* the command, once made */
	size_t			*argl;
	char			 nkeys[24], count[24];
};

struct history_batch *
history_batch_create(const char *prefix)
{
	struct history_batch	*b;

	b = xcalloc(1, sizeof *b);
	b->prefix = xstrdup(prefix);
	b->clock = xmalloc(strlen(prefix) + 6);
	snprintf(b->clock, strlen(prefix) + 6, "%sclock", prefix);
	b->reqs_tail = &b->reqs;
	return b;
}

struct history_batch *
history_batch_create_cluster(const char *prefix, const char *channel,
    size_t len)
{
	struct history_batch	*b;
	size_t			 n = strlen(prefix) + len + 9;

	b = xcalloc(1, sizeof *b);
	b->prefix = xstrdup(prefix);
	b->cluster = 1;
	b->clock = xmalloc(n);
	snprintf(b->clock, n, "%sclock:{%.*s}", prefix, (int)len, channel);
	b->reqs_tail = &b->reqs;
	return b;
}

/* Returns the index of the read of CHANNEL after AFTER with BUDGET,
 * added if B has none. */
static size_t
history_batch_read(struct history_batch *b, const char *channel, size_t len,
    const struct event_id *after, long last, size_t budget)
{
	struct hb_read	*r;
	size_t		 i, plen = strlen(b->prefix) + 8, n;

	for (i = 0; i < b->nreads; i++) {
		r = &b->reads[i];
		if (r->len == len && r->budget == budget && r->last == last &&
		    event_id_cmp(&r->after, after) == 0 &&
		    memcmp(r->name + r->off, channel, len) == 0)
			return i;
	}
	if (b->nreads == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->reads = xrealloc(b->reads, b->cap * sizeof *b->reads);
	}
	r = &b->reads[b->nreads];
	memset(r, 0, sizeof *r);
	r->name = xmalloc(plen + len + 3);
	if (b->cluster) {
		snprintf(r->name, plen + len + 3, "%shistory:{%.*s}",
		    b->prefix, (int)len, channel);
		r->off = plen + 1;
	} else {
		snprintf(r->name, plen + len + 1, "%shistory:%.*s",
		    b->prefix, (int)len, channel);
		r->off = plen;
	}
	r->len = len;
	r->after = *after;
	r->start = *after;
	r->last = last;
	r->budget = budget;
	if (last < 0)
		event_id_format(after, r->after_text);
	else {
		/* "~N", or "~N:ID" with a bound (see resume.lua). */
		n = (size_t)snprintf(r->after_text, sizeof r->after_text,
		    "~%ld", last);
		if (after->ms != 0 || after->seq != 0) {
			r->after_text[n++] = ':';
			event_id_format(after, r->after_text + n);
		}
	}
	snprintf(r->budget_text, sizeof r->budget_text, "%zu", budget);
	b->budgets += budget;
	return b->nreads++;
}

struct history_req *
history_batch_add(struct history_batch *b, const char *const *channels,
    const size_t *lens, size_t n, const char *after, size_t budget,
    history_fn fn, void *arg)
{
	struct history_req	*q;
	struct event_id		 id;
	size_t			 i;

	if (event_id_parse(after, strlen(after), &id) == -1)
		return NULL;
	q = xcalloc(1, sizeof *q);
	q->fn = fn;
	q->arg = arg;
	q->nchannels = n;
	q->reads = xcalloc(n ? n : 1, sizeof *q->reads);
	for (i = 0; i < n; i++)
		q->reads[i] = history_batch_read(b, channels[i], lens[i], &id,
		    -1, budget);
	*b->reqs_tail = q;
	b->reqs_tail = &q->next;
	return q;
}

struct history_req *
history_batch_add_from(struct history_batch *b, const char *const *channels,
    const size_t *lens, size_t n, const struct history_from *from,
    size_t budget, history_fn fn, void *arg)
{
	struct history_req	*q;
	size_t			 i;

	q = xcalloc(1, sizeof *q);
	q->fn = fn;
	q->arg = arg;
	q->nchannels = n;
	q->reads = xcalloc(n ? n : 1, sizeof *q->reads);
	for (i = 0; i < n; i++)
		q->reads[i] = history_batch_read(b, channels[i], lens[i],
		    &from[i].after, from[i].last < 0 ? -1 : from[i].last,
		    budget);
	*b->reqs_tail = q;
	b->reqs_tail = &q->next;
	return q;
}

int
history_batch_full(const struct history_batch *b)
{
	return b->nreads >= HISTORY_BATCH_KEYS ||
	    b->budgets >= HISTORY_BATCH_BYTES;
}

size_t
history_batch_nreads(const struct history_batch *b)
{
	return b->nreads;
}

int
history_batch_command(struct history_batch *b, const char ***argv,
    const size_t **argl)
{
	size_t	i, argc = 0, max = 5 + 3 * b->nreads;

	free(b->argv);
	free(b->argl);
	b->argv = xcalloc(max, sizeof *b->argv);
	b->argl = xcalloc(max, sizeof *b->argl);
	snprintf(b->nkeys, sizeof b->nkeys, "%zu", b->nreads + 1);
	snprintf(b->count, sizeof b->count, "%d", HISTORY_BATCH_ENTRIES);
	b->argv[argc++] = "EVAL";
	b->argv[argc++] = SCRIPT_RESUME;
	b->argv[argc++] = b->nkeys;
	b->argv[argc++] = b->clock;
	for (i = 0; i < b->nreads; i++)
		b->argv[argc++] = b->reads[i].name;
	b->argv[argc++] = b->count;
	for (i = 0; i < b->nreads; i++) {
		b->argv[argc++] = b->reads[i].after_text;
		b->argv[argc++] = b->reads[i].budget_text;
	}
	for (i = 0; i < argc; i++)
		b->argl[i] = strlen(b->argv[i]);
	*argv = b->argv;
	*argl = b->argl;
	return (int)argc;
}

static int
hb_is_str(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS;
}

/* Reads one entry { id, { field, value, ... } } into *V. Returns 0, or
 * -1 when it is malformed. */
static int
hb_parse_entry(const redisReply *e, struct history_entry *v)
{
	const redisReply	*fields, *k, *val;
	size_t			 i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    !hb_is_str(e->element[0]) ||
	    e->element[1]->type != REDIS_REPLY_ARRAY ||
	    event_id_parse(e->element[0]->str, e->element[0]->len,
	    &v->id) == -1)
		return -1;
	v->id_text = e->element[0]->str;
	v->event = "";
	v->data = "";
	fields = e->element[1];
	for (i = 0; i + 1 < fields->elements; i += 2) {
		k = fields->element[i];
		val = fields->element[i + 1];
		if (!hb_is_str(k) || !hb_is_str(val))
			return -1;
		if (strcmp(k->str, "d") == 0) {
			v->data = val->str;
			v->len = val->len;
		} else if (strcmp(k->str, "e") == 0)
			v->event = val->str;
	}
	return 0;
}

/* Reads one read's part { exists, max_deleted_id, more, entries } of the
 * reply into R; CLOCK is the reply's clock. Returns NULL, or what is
 * wrong. */
static const char *
hb_parse_read(struct hb_read *r, const redisReply *ch, uint64_t clock)
{
	const redisReply	*ents, *st;
	struct event_id		 maxdel;
	size_t			 j;

	if (ch->type != REDIS_REPLY_ARRAY || ch->elements < 4 ||
	    ch->elements > 5 ||
	    ch->element[0]->type != REDIS_REPLY_INTEGER ||
	    !hb_is_str(ch->element[1]) ||
	    ch->element[2]->type != REDIS_REPLY_INTEGER ||
	    ch->element[3]->type != REDIS_REPLY_ARRAY ||
	    event_id_parse(ch->element[1]->str, ch->element[1]->len,
	    &maxdel) == -1)
		return "malformed channel in the resume script's reply";
	ents = ch->element[3];
	/* The id the read started after comes fifth (a read of the last N
	 * needs it; else it is the id asked for). */
	if (ch->elements == 5) {
		st = ch->element[4];
		if (!hb_is_str(st) || event_id_parse(st->str, st->len,
		    &r->start) == -1)
			return "malformed start in the resume script's reply";
	} else if (r->last >= 0)
		return "resume script: no start for a read of the last events";
	r->more = ch->element[2]->integer != 0;
	/* A cut read with nothing in it would never move on. */
	if (r->more && ents->elements == 0)
		return "resume script: a cut read without entries";
	r->gap = HISTORY_GAP_NONE;
	if (r->last >= 0)
		;	/* the last N: nothing was asked after an id */
	else if (r->after.seq > clock)
		r->gap = HISTORY_GAP_UNKNOWN;
	else if (event_id_cmp(&maxdel, &r->after) > 0)
		r->gap = HISTORY_GAP_TRIMMED;
	if (ents->elements == 0)
		return NULL;
	r->entries = xcalloc(ents->elements, sizeof *r->entries);
	r->frames = xcalloc(HISTORY_FRAME_KINDS * ents->elements,
	    sizeof *r->frames);
	for (j = 0; j < ents->elements; j++) {
		if (hb_parse_entry(ents->element[j], &r->entries[j]) == -1)
			return "malformed history entry in the resume "
			    "script's reply";
		/* The frontier needs each read in id order. */
		if (j > 0 && event_id_cmp(&r->entries[j - 1].id,
		    &r->entries[j].id) >= 0)
			return "resume script: entries out of order";
		/* A read of the last N starts after its start. */
		if (j == 0 && r->last >= 0 && event_id_cmp(&r->start,
		    &r->entries[0].id) >= 0)
			return "resume script: an entry before the start";
		r->entries[j].frames = &r->frames[HISTORY_FRAME_KINDS * j];
		r->nentries++;
	}
	return NULL;
}

/* Parses R into B's reads; returns NULL, or what is wrong. */
static const char *
hb_parse(struct history_batch *b, const redisReply *r, uint64_t *clock,
    uint64_t *clock_ms)
{
	const char	*err;
	const redisReply *ms;
	size_t		 i;

	if (r->type == REDIS_REPLY_ERROR)
		return r->str != NULL && r->str[0] != '\0' ? r->str :
		    "an empty error from redis";
	if (r->type != REDIS_REPLY_ARRAY || r->elements < b->nreads + 1 ||
	    r->elements > b->nreads + 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[0]->integer < 0)
		return "unexpected reply to the resume script";
	*clock = (uint64_t)r->element[0]->integer;
	/* The clock's ms comes last (0 when left out). */
	*clock_ms = 0;
	if (r->elements == b->nreads + 2) {
		ms = r->element[b->nreads + 1];
		if (ms->type != REDIS_REPLY_INTEGER || ms->integer < 0)
			return "unexpected reply to the resume script";
		*clock_ms = (uint64_t)ms->integer;
	}
	for (i = 0; i < b->nreads; i++)
		if ((err = hb_parse_read(&b->reads[i], r->element[i + 1],
		    *clock)) != NULL)
			return err;
	return NULL;
}

static int
hb_entry_cmp(const void *a, const void *b)
{
	return event_id_cmp(&((const struct history_entry *)a)->id,
	    &((const struct history_entry *)b)->id);
}

/* Gives Q its page: its channels' entries up to the frontier, merged, in
 * V and GAP (scratch big enough for Q). */
static void
hb_answer(struct history_batch *b, struct history_req *q, uint64_t clock,
    uint64_t clock_ms, struct history_entry *v, int *gap,
    struct event_id *start)
{
	struct history_snapshot	 snap;
	const struct hb_read	*r;
	const struct event_id	*frontier = NULL, *last;
	size_t			 i, j, n = 0;

	for (i = 0; i < q->nchannels; i++) {
		r = &b->reads[q->reads[i]];
		gap[i] = r->gap;
		start[i] = r->start;
		if (!r->more)
			continue;
		last = &r->entries[r->nentries - 1].id;
		if (frontier == NULL || event_id_cmp(last, frontier) < 0)
			frontier = last;
	}
	for (i = 0; i < q->nchannels; i++) {
		r = &b->reads[q->reads[i]];
		for (j = 0; j < r->nentries; j++) {
			if (frontier != NULL &&
			    event_id_cmp(&r->entries[j].id, frontier) > 0)
				break;
			v[n] = r->entries[j];
			v[n++].channel = i;
		}
	}
	if (q->nchannels > 1 && n > 1)
		qsort(v, n, sizeof *v, hb_entry_cmp);
	memset(&snap, 0, sizeof snap);
	snap.clock_seq = clock;
	snap.clock_ms = clock_ms;
	snap.gap = gap;
	snap.entries = v;
	snap.nentries = n;
	snap.more = frontier != NULL;
	snap.start = start;
	q->fn(q->arg, &snap, NULL);
}

/* Frees B and what it holds. */
static void
hb_free(struct history_batch *b)
{
	struct history_req	*q, *next;
	struct hb_read		*r;
	size_t			 i, j;

	for (q = b->reqs; q != NULL; q = next) {
		next = q->next;
		free(q->reads);
		free(q);
	}
	for (i = 0; i < b->nreads; i++) {
		r = &b->reads[i];
		if (r->frames != NULL)
			for (j = 0; j < HISTORY_FRAME_KINDS * r->nentries; j++)
				frame_unref(r->frames[j]);
		free(r->frames);
		free(r->entries);
		free(r->name);
	}
	free(b->reads);
	free(b->argv);
	free(b->argl);
	free(b->clock);
	free(b->prefix);
	free(b);
}

const char *
history_batch_finish(struct history_batch *b, const struct redisReply *r,
    const char *err)
{
	struct history_req	*q;
	struct history_entry	*v = NULL;
	const char		*perr = NULL;
	uint64_t		 clock = 0, clock_ms = 0;
	size_t			 i, n, most = 0, wide = 1;
	int			*gap;
	struct event_id		*start;

	if (r != NULL && (perr = hb_parse(b, r, &clock, &clock_ms)) != NULL)
		err = perr;
	if (r != NULL && perr == NULL) {
		for (q = b->reqs; q != NULL; q = q->next) {
			for (i = 0, n = 0; i < q->nchannels; i++)
				n += b->reads[q->reads[i]].nentries;
			most = n > most ? n : most;
			wide = q->nchannels > wide ? q->nchannels : wide;
		}
		v = xcalloc(most ? most : 1, sizeof *v);
	}
	gap = xcalloc(wide, sizeof *gap);
	start = xcalloc(wide, sizeof *start);
	/* A callback may cancel a later request (never free the batch). */
	for (q = b->reqs; q != NULL; q = q->next) {
		if (q->fn == NULL)
			continue;
		if (v != NULL)
			hb_answer(b, q, clock, clock_ms, v, gap, start);
		else
			q->fn(q->arg, NULL, err != NULL ? err :
			    "history read failed");
		q->fn = NULL;
	}
	free(gap);
	free(start);
	free(v);
	hb_free(b);
	return perr;
}

void
history_cancel(struct history_req *q)
{
	if (q != NULL)
		q->fn = NULL;
}
