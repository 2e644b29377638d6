/* sse-fcgi - MIT License
 *
 * libFuzzer target for the token parser (jwt.h) and the Cookie header
 * lookup (cookie.h). The first byte picks the mode:
 *   0: the rest is a token, verified as it is against an HS256 secret and
 *      an RSA and an EC public key (made once, at start);
 *   1: the rest is "HEADER NUL PAYLOAD": both are base64url-encoded and
 *      signed with the HS256 secret here, so the JSON and claim checks run
 *      behind a valid signature;
 *   else: the rest is a Cookie header searched for "sse_token".
 * Invariants: a refused token leaves the claims empty with a reason; an
 * accepted one has at most JWT_PATTERNS_MAX non-empty NUL-free patterns
 * per list and a sub that fits; a cookie value lies inside the header.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "cookie.h"
#include "jwt.h"
#include "../tests/b64url.h"

#define SECRET	"fuzz-secret-0123456789abcdef0123456789"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct jwt_keys	*keys;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	EVP_PKEY	*rsa, *ec;
	char		 path[] = "/tmp/fuzz_jwt.XXXXXX", err[256];
	FILE		*fp;
	int		 fd;

	(void)argc;
	(void)argv;
	keys = jwt_keys_create();
	jwt_keys_set_secret(keys, SECRET, strlen(SECRET));
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (rsa == NULL || ec == NULL || (fd = mkstemp(path)) == -1 ||
	    (fp = fdopen(fd, "w")) == NULL)
		abort();
	PEM_write_PUBKEY(fp, rsa);
	PEM_write_PUBKEY(fp, ec);
	fclose(fp);
	if (jwt_keys_load_pem(keys, path, err, sizeof err) != 2)
		abort();
	unlink(path);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	return 0;
}

static void
check_claims(int rc, const struct jwt_claims *c, const char *err)
{
	size_t	i;

	if (rc == -1) {
		if (err[0] == '\0' || c->subscribe != NULL ||
		    c->publish != NULL || c->nsubscribe != 0 ||
		    c->npublish != 0 || c->has_sub || c->exp != 0)
			abort();
		return;
	}
	if (c->nsubscribe > JWT_PATTERNS_MAX || c->npublish > JWT_PATTERNS_MAX)
		abort();
	for (i = 0; i < c->nsubscribe; i++)
		if (c->subscribe[i][0] == '\0')
			abort();
	for (i = 0; i < c->npublish; i++)
		if (c->publish[i][0] == '\0')
			abort();
	if (c->has_sub && strlen(c->sub) > JWT_SUB_MAX)
		abort();
}

static void
verify(const char *tok, size_t len)
{
	struct jwt_policy	 p = { 1700000000, 30, NULL, NULL };
	struct jwt_claims	 c;
	char			 err[128] = "";
	int			 rc;

	rc = jwt_verify(keys, tok, len, &p, &c, err, sizeof err);
	check_claims(rc, &c, err);
	jwt_claims_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	const char	*val, *nul;
	char		*buf, *tok;
	unsigned char	 mac[32];
	unsigned int	 mlen;
	size_t		 vlen, hlen, n;

	if (size == 0)
		return 0;
	buf = malloc(size);
	memcpy(buf, in + 1, size - 1);
	buf[size - 1] = '\0';
	if (in[0] == 0) {
		verify(buf, size - 1);
	} else if (in[0] == 1) {
		nul = memchr(buf, '\0', size - 1);
		hlen = nul != NULL ? (size_t)(nul - buf) : size - 1;
		tok = malloc(2 * size + 64);
		n = b64url((unsigned char *)buf, hlen, tok);
		tok[n++] = '.';
		if (nul != NULL)
			n += b64url((const unsigned char *)nul + 1,
			    size - 1 - hlen - 1, tok + n);
		HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
		    (unsigned char *)tok, n, mac, &mlen);
		tok[n++] = '.';
		n += b64url(mac, mlen, tok + n);
		verify(tok, n);
		free(tok);
	} else if (cookie_find(buf, "sse_token", &val, &vlen) &&
	    (val < buf || val + vlen > buf + strlen(buf)))
		abort();
	free(buf);
	return 0;
}
