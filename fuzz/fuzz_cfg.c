/* sse-fcgi - MIT License
 *
 * libFuzzer target for the configuration parser (cfg.h). Each input is
 * read twice:
 *   - whole, as a config file by cfg_load_file() into a defaults-filled
 *     struct cfg; the file is a memfd reached through /proc/self/fd, so
 *     cfg.c needs no in-memory API;
 *   - split at its first NUL (else its first '=') into a key and a value
 *     for cfg_set(), which on error must leave the struct exactly as it was,
 *     and must never echo a publisher secret.
 * Leaks (cfg_clear() missing something) are ASan findings.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cfg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	fuzz_fd = -1;
static char	fuzz_path[64];

static void
fuzz_fail(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_cfg: %s: %s\n", what, err);
	abort();
}

/* Makes the scratch file once: an anonymous memory file (memfd), so no
 * input is left behind and a disk's writeback does not slow each run. */
static void
fuzz_file_init(void)
{
	if ((fuzz_fd = memfd_create("fuzz_cfg", 0)) == -1) {
		perror("fuzz_cfg: memfd_create");
		abort();
	}
	snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d", fuzz_fd);
}

static void
fuzz_file_write(const uint8_t *in, size_t size)
{
	size_t	off = 0;
	ssize_t	n;

	if (ftruncate(fuzz_fd, 0) == -1)
		abort();
	while (off < size) {
		if ((n = pwrite(fuzz_fd, in + off, size - off,
		    (off_t)off)) <= 0)
			abort();
		off += (size_t)n;
	}
}

/* Checks what every parsed configuration must satisfy. */
static void
fuzz_check(const struct cfg *c)
{
	const struct cfg_history	*h;
	size_t				 i;

	for (i = 0; i < c->nhistory; i++) {
		h = &c->history[i];
		if (h->pattern == NULL || h->pattern[0] == '\0' ||
		    strlen(h->pattern) > 200)
			fuzz_fail("bad history pattern", "");
		if (h->maxlen > 10000000UL ||
		    h->maxage_ms > 365UL * 24 * 3600 * 1000)
			fuzz_fail("history rule out of range", h->pattern);
	}
	for (i = 0; i < c->ninitial; i++)
		if (c->initial[i].pattern == NULL ||
		    c->initial[i].pattern[0] == '\0' ||
		    strlen(c->initial[i].pattern) > 200 ||
		    c->initial[i].count > 1000)
			fuzz_fail("bad initial-events rule", "");
	if (cfg_history_for(c, "user.42", 7) == NULL)
		fuzz_fail("no history rule", "user.42");
	if (c->keepalive < 1 || c->keepalive > 3600)
		fuzz_fail("keepalive out of range", "");
}

static void
fuzz_set(const char *key, const char *value)
{
	struct cfg	 c, before, c2;
	char		 err[512], err2[512];
	int		 rc;

	cfg_defaults(&c);
	memcpy(&before, &c, sizeof c);	/* padding too, for memcmp */
	err[0] = '\0';
	rc = cfg_set(&c, key, value, NULL, err, sizeof err);
	if (rc == -1) {
		if (err[0] == '\0')
			fuzz_fail("cfg_set failed without a reason", key);
		if (memcmp(&before, &c, sizeof c) != 0)
			fuzz_fail("cfg_set failed but changed the config",
			    err);
		/* A refused secret's message must not depend on it. */
		if (strcmp(key, "publisher-secret") == 0 && value[0] != '\0') {
			cfg_defaults(&c2);
			if (cfg_set(&c2, key, " ", NULL, err2,
			    sizeof err2) != -1 || strcmp(err, err2) != 0)
				fuzz_fail("error text depends on the secret",
				    err);
			cfg_clear(&c2);
		}
	} else {
		if (rc != 0)
			fuzz_fail("cfg_set returned a bad value", key);
		if (strcmp(key, "history") == 0 &&
		    c.nhistory != before.nhistory + 1)
			fuzz_fail("history rule not added", value);
		if (strcmp(key, "initial-events") == 0 &&
		    c.ninitial != before.ninitial + 1)
			fuzz_fail("initial-events rule not added", value);
		fuzz_check(&c);
		/* Setting it again replaces (or appends) without a leak. */
		if (cfg_set(&c, key, value, NULL, err, sizeof err) != 0)
			fuzz_fail("cfg_set refused what it took before", err);
	}
	cfg_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	struct cfg	 c;
	char		 err[512], *buf, *sep;

	if (fuzz_fd == -1)
		fuzz_file_init();
	fuzz_file_write(in, size);
	cfg_defaults(&c);
	err[0] = '\0';
	if (cfg_load_file(&c, fuzz_path, err, sizeof err) == 0)
		fuzz_check(&c);
	else if (strncmp(err, fuzz_path, strlen(fuzz_path)) != 0)
		fuzz_fail("file error without file:line", err);
	cfg_clear(&c);

	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, in, size);
	buf[size] = '\0';
	if ((sep = memchr(buf, '\0', size)) == NULL)
		sep = strchr(buf, '=');
	if (sep != NULL) {
		*sep = '\0';
		fuzz_set(buf, sep + 1);
	}
	free(buf);
	return 0;
}
