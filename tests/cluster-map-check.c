/* sse-fcgi - MIT License
 *
 * cluster-map-check: what cluster_map makes of a real cluster, for
 * tests/it-cluster-map.sh to hold against what the nodes themselves say.
 *
 *   cluster-map-check [-as] [-m TEXT]... redis+cluster://SEEDS [KEY... | -]
 *
 * Asks the seeds in order (the first that answers wins, one that is down
 * is skipped) for CLUSTER SHARDS, builds the map, then prints
 *   -a          per slot "SLOT HOST:PORT" of its master ("-" for none)
 *   -s          per shard "shard I master HOST:PORT replicas N slots N"
 *               and a last line "unowned N"
 *   -m TEXT     what a MOVED or ASK error says: "moved SLOT HOST:PORT"
 *               or "ask SLOT HOST:PORT", then "owner HOST:PORT" of the
 *               map for that slot (or "owner -")
 *   KEY         per key "KEY SLOT HOST:PORT" of its master ("-" for no
 *               owner); "-" reads the keys from standard input, one a line
 * Exits 0, 1 when no seed gave a map (the reasons on standard error), 2 on
 * a bad command line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "cluster_map.h"
#include "redis_url.h"

#define CHECK_MOVED_MAX	16

/* Asks seed HOST:PORT for its shards; NULL and a reason on stderr. */
static struct cluster_map *
check_fetch(const struct redis_url *u, const struct redis_seed *sd)
{
	struct timeval		 tv = { 5, 0 };
	struct cluster_map	*m = NULL;
	redisContext		*c;
	redisReply		*r;
	char			 why[256];

	c = redisConnectWithTimeout(sd->ip, sd->port, tv);
	if (c == NULL || c->err) {
		fprintf(stderr, "seed %s:%d: %s\n", sd->host, sd->port,
		    c != NULL ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (u->password != NULL) {
		r = u->user != NULL ? redisCommand(c, "AUTH %s %s", u->user,
		    u->password) : redisCommand(c, "AUTH %s", u->password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			fprintf(stderr, "seed %s:%d: AUTH failed\n", sd->host,
			    sd->port);
			freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	if ((r = redisCommand(c, "CLUSTER SHARDS")) == NULL)
		fprintf(stderr, "seed %s:%d: %s\n", sd->host, sd->port,
		    c->errstr);
	else if ((m = cluster_map_parse(r, why, sizeof why)) == NULL)
		fprintf(stderr, "seed %s:%d: %s\n", sd->host, sd->port, why);
	freeReplyObject(r);
	redisFree(c);
	return m;
}

static void
check_owner(const struct cluster_map *m, unsigned slot)
{
	const struct cluster_shard	*sh = cluster_map_shard(m, slot);

	if (sh == NULL)
		printf("-");
	else
		printf(strchr(sh->master.host, ':') != NULL ? "[%s]:%d" :
		    "%s:%d", sh->master.host, sh->master.port);
}

static void
check_key(const struct cluster_map *m, const char *key, size_t len)
{
	unsigned	slot = cluster_keyslot(key, len);

	printf("%.*s %u ", (int)len, key, slot);
	check_owner(m, slot);
	printf("\n");
}

static void
usage(void)
{
	fprintf(stderr, "usage: cluster-map-check [-as] [-m TEXT]... "
	    "redis+cluster://SEEDS [KEY... | -]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct cluster_redirect	 rd;
	struct cluster_map	*m = NULL;
	struct redis_url	 u;
	const char		*moved[CHECK_MOVED_MAX];
	char			 ip[REDIS_URL_IP_MAX], err[256], *line = NULL;
	size_t			 nmoved = 0, i, cap = 0;
	ssize_t			 n;
	unsigned		 slot;
	int			 ch, all = 0, summary = 0;

	while ((ch = getopt(argc, argv, "asm:")) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 's':
			summary = 1;
			break;
		case 'm':
			if (nmoved == CHECK_MOVED_MAX)
				usage();
			moved[nmoved++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	if (redis_url_prepare(argv[optind], &u, ip, sizeof ip, err,
	    sizeof err) == -1 || !u.cluster) {
		fprintf(stderr, "cluster-map-check: %s\n", u.cluster ? err :
		    "not a redis+cluster:// URL");
		return 2;
	}
	for (i = 0; i < u.nseeds && m == NULL; i++)
		m = check_fetch(&u, &u.seeds[i]);
	redis_url_clear(&u);
	if (m == NULL)
		return 1;

	for (slot = 0; all && slot < CLUSTER_SLOTS; slot++) {
		printf("%u ", slot);
		check_owner(m, slot);
		printf("\n");
	}
	if (summary) {
		for (i = 0; i < m->nshards; i++) {
			printf("shard %zu master ", i);
			if (m->shards[i].has_master)
				printf("%s:%d", m->shards[i].master.host,
				    m->shards[i].master.port);
			else
				printf("-");
			printf(" replicas %zu slots %zu\n",
			    m->shards[i].nreplicas, m->shards[i].nslots);
		}
		printf("unowned %zu\n", m->unowned);
	}
	for (i = 0; i < nmoved; i++) {
		if (cluster_redirect_parse(moved[i], strlen(moved[i]), &rd,
		    err, sizeof err) == -1) {
			printf("refused %s\n", err);
			continue;
		}
		printf("%s %u %s:%d\nowner ", rd.ask ? "ask" : "moved",
		    rd.slot, rd.host, rd.port);
		check_owner(m, rd.slot);
		printf("\n");
	}
	for (i = (size_t)optind + 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "-") != 0) {
			check_key(m, argv[i], strlen(argv[i]));
			continue;
		}
		while ((n = getline(&line, &cap, stdin)) > 0) {
			if (line[n - 1] == '\n')
				n--;
			check_key(m, line, (size_t)n);
		}
	}
	free(line);
	cluster_map_free(m);
	return fflush(stdout) == 0 ? 0 : 1;
}
