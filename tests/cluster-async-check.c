/* sse-fcgi - MIT License
 *
 * cluster-async-check: the worker's cluster client (cluster_async) on a
 * real cluster, for tests/it-cluster-async.sh.
 *
 *   cluster-async-check [-n KEYS] [-c LANES] [-t MS] [-w MS] [-s SECONDS]
 *       [-q MS] [-p PREFIX] redis+cluster://SEEDS
 *
 * On one event loop, LANES lanes each SET a key (PREFIX:I, the value
 * naming the key and the round) through cluster_async_command(), then GET
 * it back and compare, then take the next key: every one of the KEYS keys
 * once, or, with -s, round after round for SECONDS seconds or until
 * SIGTERM (the commands out are then waited for; a key another lane has
 * out is passed over). Each command has MS
 * (-t, 5000) to succeed; -w waits MS before the first; -q frees the
 * client MS after the start, with the commands still out. Prints one line
 *   sets=N gets=N failed=N wrong=N maps=N announced=N shards=N seconds=N
 *   closed=N
 * (commands that succeeded; failed, with the first reasons on standard
 * error as "fail KEY: REASON"; GETs that read another value; maps fetched
 * and maps announced to the map callback; shards of the last map that
 * serve some key; commands failed by cluster_async_free). A callback that
 * runs inside cluster_async_command() aborts. Exits 0 when every command
 * succeeded, 1 otherwise, 2 on a bad command line.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "cluster_async.h"
#include "cluster_map.h"

#define CHECK_LANES_MAX		256
#define CHECK_REASONS_MAX	10

struct check;

struct lane {
	struct check	*ck;
	int		 busy;
	unsigned long	 key;
	char		 name[64];
	char		 value[96];
};

struct check {
	struct event_base	*base;
	struct cluster_async	*ca;
	const char		*prefix;
	unsigned long		 nkeys, next, round;
	unsigned		 timeout_ms;
	int			 loop, stop, in_call;
	unsigned long		 sets, gets, failed, wrong, announced, closed;
	struct lane		 lanes[CHECK_LANES_MAX];
	int			 nlanes;
};

static void	lane_next(struct lane *);

static void
check_fail(struct check *ck, const char *key, const char *why)
{
	if (strstr(why, "closed") != NULL)
		ck->closed++;
	if (ck->failed++ < CHECK_REASONS_MAX)
		fprintf(stderr, "fail %s: %s\n", key, why);
}

/* Every lane idle and nothing more to do: the loop ends. */
static void
check_maybe_done(struct check *ck)
{
	int	i;

	for (i = 0; i < ck->nlanes; i++)
		if (ck->lanes[i].busy)
			return;
	event_base_loopbreak(ck->base);
}

static void
lane_send(struct lane *l, int get, cluster_async_fn fn)
{
	const char	*argv[3];
	size_t		 argl[3];
	int		 argc = 2;

	argv[0] = get ? "GET" : "SET";
	argl[0] = 3;
	argv[1] = l->name;
	argl[1] = strlen(l->name);
	if (!get) {
		argv[2] = l->value;
		argl[2] = strlen(l->value);
		argc = 3;
	}
	l->ck->in_call = 1;
	cluster_async_command(l->ck->ca, cluster_keyslot(l->name, argl[1]),
	    argc, argv, argl, l->ck->timeout_ms, fn, l);
	l->ck->in_call = 0;
}

/* The interface promises callbacks from the loop only. */
static void
lane_called(struct lane *l)
{
	if (l->ck->in_call) {
		fprintf(stderr, "a callback ran inside "
		    "cluster_async_command\n");
		abort();
	}
}

static void
lane_on_get(void *arg, const redisReply *r, const char *err)
{
	struct lane	*l = arg;
	struct check	*ck = l->ck;

	lane_called(l);
	if (r == NULL)
		check_fail(ck, l->name, err);
	else if (r->type == REDIS_REPLY_ERROR)
		check_fail(ck, l->name, r->str);
	else {
		ck->gets++;
		if (r->type != REDIS_REPLY_STRING ||
		    strcmp(r->str, l->value) != 0) {
			if (ck->wrong++ < CHECK_REASONS_MAX)
				fprintf(stderr, "wrong %s: %s, not %s\n",
				    l->name, r->type == REDIS_REPLY_STRING ?
				    r->str : "(not a string)", l->value);
		}
	}
	lane_next(l);
}

static void
lane_on_set(void *arg, const redisReply *r, const char *err)
{
	struct lane	*l = arg;
	struct check	*ck = l->ck;

	lane_called(l);
	if (r == NULL)
		check_fail(ck, l->name, err);
	else if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK") != 0)
		check_fail(ck, l->name, r->type == REDIS_REPLY_ERROR ? r->str :
		    "not OK");
	else {
		ck->sets++;
		lane_send(l, 1, lane_on_get);
		return;
	}
	lane_next(l);
}

/* Whether a lane other than L has KEY out. */
static int
check_key_out(const struct check *ck, const struct lane *l,
    unsigned long key)
{
	int	i;

	for (i = 0; i < ck->nlanes; i++)
		if (&ck->lanes[i] != l && ck->lanes[i].busy &&
		    ck->lanes[i].key == key)
			return 1;
	return 0;
}

/* The lane's next key, if there is one to do. A key another lane still
 * has out (its commands waiting for a map while the rest went round) is
 * passed over: two lanes writing one key could read each other's. */
static void
lane_next(struct lane *l)
{
	struct check	*ck = l->ck;
	unsigned long	 tries;

	for (tries = 0;; tries++) {
		if (ck->stop || (!ck->loop && ck->next >= ck->nkeys) ||
		    tries == ck->nkeys) {
			l->busy = 0;
			check_maybe_done(ck);
			return;
		}
		if (ck->next >= ck->nkeys) {
			ck->next = 0;
			ck->round++;
		}
		if (!check_key_out(ck, l, ck->next))
			break;
		ck->next++;
	}
	l->busy = 1;
	l->key = ck->next++;
	snprintf(l->name, sizeof l->name, "%s:%lu", ck->prefix, l->key);
	snprintf(l->value, sizeof l->value, "%s=r%lu", l->name, ck->round);
	lane_send(l, 0, lane_on_set);
}

static void
check_on_map(void *arg, const struct cluster_map *m)
{
	struct check	*ck = arg;

	ck->announced++;
}

static void
check_on_start(evutil_socket_t fd, short what, void *arg)
{
	struct check	*ck = arg;
	int		 i;

	for (i = 0; i < ck->nlanes; i++)
		lane_next(&ck->lanes[i]);
}

static void
check_on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct check	*ck = arg;

	ck->stop = 1;
}

/* -q: out of the loop with the commands still out. */
static void
check_on_quit(evutil_socket_t fd, short what, void *arg)
{
	struct check	*ck = arg;

	ck->stop = 1;
	event_base_loopbreak(ck->base);
}

/* Shards of the last map that serve one of the keys. */
static unsigned
check_shards(const struct check *ck)
{
	const struct cluster_map	*m = cluster_async_map(ck->ca);
	char				 name[64];
	unsigned char			*seen;
	unsigned long			 i;
	unsigned			 n = 0, slot;

	if (m == NULL)
		return 0;
	seen = calloc(m->nshards + 1, 1);
	for (i = 0; i < ck->nkeys && seen != NULL; i++) {
		snprintf(name, sizeof name, "%s:%lu", ck->prefix, i);
		slot = cluster_keyslot(name, strlen(name));
		if (m->owner[slot] != CLUSTER_NO_SHARD &&
		    !seen[m->owner[slot]]) {
			seen[m->owner[slot]] = 1;
			n++;
		}
	}
	free(seen);
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: cluster-async-check [-n KEYS] [-c LANES] "
	    "[-t MS] [-w MS] [-s SECONDS] [-p PREFIX] redis+cluster://...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct check	 ck;
	struct event	*start_ev, *stop_ev, *quit_ev, *term_ev, *int_ev;
	struct timeval	 tv;
	struct timespec	 t0, t1;
	char		 err[1500];
	long		 wait_ms = 0, seconds = 0, quit_ms = -1;
	unsigned long	 maps;
	unsigned	 shards;
	int		 ch, i;

	memset(&ck, 0, sizeof ck);
	ck.nkeys = 1000;
	ck.nlanes = 16;
	ck.timeout_ms = 5000;
	ck.prefix = "ca";
	while ((ch = getopt(argc, argv, "n:c:t:w:s:q:p:")) != -1) {
		switch (ch) {
		case 'n':
			ck.nkeys = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			ck.nlanes = atoi(optarg);
			break;
		case 't':
			ck.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			wait_ms = atol(optarg);
			break;
		case 's':
			seconds = atol(optarg);
			ck.loop = 1;
			break;
		case 'q':
			quit_ms = atol(optarg);
			break;
		case 'p':
			ck.prefix = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc || ck.nkeys == 0 || ck.nlanes < 1 ||
	    ck.nlanes > CHECK_LANES_MAX || wait_ms < 0 || seconds < 0 ||
	    strlen(ck.prefix) > 30)
		usage();
	signal(SIGPIPE, SIG_IGN);
	ck.base = event_base_new();
	if ((ck.ca = cluster_async_create(ck.base, argv[optind], err,
	    sizeof err)) == NULL) {
		fprintf(stderr, "cluster-async-check: %s\n", err);
		return 2;
	}
	for (i = 0; i < ck.nlanes; i++)
		ck.lanes[i].ck = &ck;
	cluster_async_on_map(ck.ca, check_on_map, &ck);
	cluster_async_start(ck.ca);
	start_ev = evtimer_new(ck.base, check_on_start, &ck);
	tv.tv_sec = wait_ms / 1000;
	tv.tv_usec = (wait_ms % 1000) * 1000;
	evtimer_add(start_ev, &tv);
	stop_ev = evtimer_new(ck.base, check_on_stop, &ck);
	if (ck.loop) {
		tv.tv_sec = seconds + wait_ms / 1000;
		tv.tv_usec = (wait_ms % 1000) * 1000;
		evtimer_add(stop_ev, &tv);
	}
	quit_ev = evtimer_new(ck.base, check_on_quit, &ck);
	if (quit_ms >= 0) {
		tv.tv_sec = quit_ms / 1000;
		tv.tv_usec = (quit_ms % 1000) * 1000;
		evtimer_add(quit_ev, &tv);
	}
	term_ev = evsignal_new(ck.base, SIGTERM, check_on_stop, &ck);
	int_ev = evsignal_new(ck.base, SIGINT, check_on_stop, &ck);
	evsignal_add(term_ev, NULL);
	evsignal_add(int_ev, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	event_base_dispatch(ck.base);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	shards = check_shards(&ck);
	maps = cluster_async_maps(ck.ca);
	/* With -q, the commands out fail here. */
	cluster_async_free(ck.ca);
	printf("sets=%lu gets=%lu failed=%lu wrong=%lu maps=%lu announced=%lu "
	    "shards=%u seconds=%ld closed=%lu\n", ck.sets, ck.gets, ck.failed,
	    ck.wrong, maps, ck.announced, shards,
	    (long)(t1.tv_sec - t0.tv_sec), ck.closed);
	event_free(start_ev);
	event_free(stop_ev);
	event_free(quit_ev);
	event_free(term_ev);
	event_free(int_ev);
	event_base_free(ck.base);
	return ck.failed == 0 && ck.wrong == 0 && ck.sets > 0 ? 0 : 1;
}
