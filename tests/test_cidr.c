/* sse-fcgi - MIT License
 *
 * Address allowlists: parsing (good and bad lists, "none") and matching
 * for IPv4, IPv6, IPv4-mapped IPv6, prefix edges and zone ids.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cidr.h"
#include "testlib.h"

struct match_case {
	const char	*spec;
	const char	*addr;
	int		 want;
};

static const struct match_case cases[] = {
	{ "127.0.0.0/8 ::1", "127.0.0.1", 1 },
	{ "127.0.0.0/8 ::1", "127.255.255.254", 1 },
	{ "127.0.0.0/8 ::1", "128.0.0.1", 0 },
	{ "127.0.0.0/8 ::1", "::1", 1 },
	{ "127.0.0.0/8 ::1", "::2", 0 },
	{ "127.0.0.0/8 ::1", "::ffff:127.0.0.1", 1 },
	{ "127.0.0.0/8 ::1", "::ffff:10.0.0.1", 0 },
	{ "127.0.0.0/8 ::1", "localhost", 0 },
	{ "127.0.0.0/8 ::1", "", 0 },
	{ "127.0.0.0/8 ::1", NULL, 0 },
	{ "10.1.2.3", "10.1.2.3", 1 },
	{ "10.1.2.3", "10.1.2.4", 0 },
	{ "10.1.2.3/32", "10.1.2.3", 1 },
	{ "192.168.0.0/23", "192.168.1.255", 1 },
	{ "192.168.0.0/23", "192.168.2.0", 0 },
	{ "192.168.1.77/24", "192.168.1.1", 1 },	/* host bits dropped */
	{ "10.0.0.0/7", "11.255.0.1", 1 },
	{ "10.0.0.0/7", "12.0.0.1", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "2001:db8::1", 0 },
	{ "::/0", "2001:db8::1", 1 },
	{ "::/0", "203.0.113.9", 1 },	/* mapped: inside ::/0 */
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "2001:db8::/33", "2001:db8:7fff::1", 1 },
	{ "2001:db8::/33", "2001:db8:8000::1", 0 },
	{ "fe80::/10", "fe80::1%eth0", 1 },
	{ "::ffff:10.0.0.0/104", "10.9.9.9", 1 },
	{ "a, 10.0.0.1", "10.0.0.1", -1 },		/* bad list */
	{ "10.0.0.1,10.0.0.2", "10.0.0.2", 1 },
	{ " 10.0.0.1 ,\t10.0.0.2 ", "10.0.0.1", 1 },
	{ "none", "127.0.0.1", 0 },
	{ "none", "::1", 0 },
};

int
main(void)
{
	static const char *bad[] = { "", " , ", "localhost", "10.0.0.1/33",
	    "::1/129", "10.0.0.1/", "10.0.0.1/x", "10.0.0.1/-1",
	    "10.0.0.1/+8", "10.0.0.256", "1.2.3", "none 10.0.0.1",
	    "10.0.0.1/8/8", "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789" };
	struct cidr	*c;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		c = cidr_create(bad[i], err, sizeof err);
		if (c != NULL)
			fprintf(stderr, "accepted \"%s\"\n", bad[i]);
		test_cond(bad[i], c == NULL && err[0] != '\0');
		cidr_free(c);
	}
	test_cond("NULL spec", cidr_create(NULL, err, sizeof err) == NULL);
	c = cidr_create("10.0.0.1/x", err, sizeof err);
	test_cond("error names the entry", c == NULL &&
	    strstr(err, "10.0.0.1/x") != NULL);
	c = cidr_create("example.com", err, sizeof err);
	test_cond("error says no host names", c == NULL &&
	    strstr(err, "host names") != NULL);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = cidr_create(cases[i].spec, err, sizeof err);
		if (cases[i].want == -1) {
			test_cond(cases[i].spec, c == NULL);
			continue;
		}
		if (c == NULL || cidr_match(c, cases[i].addr) !=
		    cases[i].want)
			fprintf(stderr, "case %zu: %s in [%s]: %s\n", i,
			    cases[i].addr ? cases[i].addr : "(null)",
			    cases[i].spec, c == NULL ? err : "wrong");
		test_cond("match", c != NULL &&
		    cidr_match(c, cases[i].addr) == cases[i].want);
		cidr_free(c);
	}
	c = cidr_create("none", err, sizeof err);
	test_cond("none is empty", c != NULL && cidr_count(c) == 0);
	cidr_free(c);
	c = cidr_create("127.0.0.0/8 ::1", err, sizeof err);
	test_cond("two entries", cidr_count(c) == 2);
	cidr_free(c);
	test_cond("NULL list matches nothing", cidr_match(NULL, "::1") == 0);
	cidr_free(NULL);
	return test_report("test_cidr");
}
