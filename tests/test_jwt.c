/* sse-fcgi - MIT License
 *
 * Unit tests for JWT verification: tokens are signed here with keys made
 * on the spot (HS256, RS256, ES256), then verified, tampered with, expired
 * and malformed. The keys reach jwt.c as PEM files, as in production.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "jwt.h"
#include "testlib.h"
#include "b64url.h"

#define NOW		1700000000
#define SECRET		"0123456789abcdef0123456789abcdef"

static char	 tmpdir[] = "/tmp/test_jwt.XXXXXX";

/* Signs HEADER.PAYLOAD (JSON texts) with ALG and KEY (a secret for HS256,
 * else an EVP_PKEY); returns a token in a static buffer. */
static const char *
sign(const char *alg, const void *key, const char *header,
    const char *payload)
{
	static char	 tok[16384];
	unsigned char	 sig[1024], *der;
	char		 hdr[512];
	size_t		 n, slen = sizeof sig;
	unsigned int	 mlen;
	EVP_MD_CTX	*md;
	ECDSA_SIG	*es;
	const unsigned char *p;

	if (header == NULL) {
		snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
		    alg);
		header = hdr;
	}
	b64url((const unsigned char *)header, strlen(header), tok);
	n = strlen(tok);
	tok[n++] = '.';
	b64url((const unsigned char *)payload, strlen(payload), tok + n);
	n = strlen(tok);
	if (strcmp(alg, "HS256") == 0) {
		HMAC(EVP_sha256(), key, (int)strlen(key),
		    (unsigned char *)tok, n, sig, &mlen);
		slen = mlen;
	} else if (strcmp(alg, "none") == 0) {
		slen = 0;
	} else {
		md = EVP_MD_CTX_new();
		EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
		    (EVP_PKEY *)key);
		EVP_DigestSign(md, sig, &slen, (unsigned char *)tok, n);
		EVP_MD_CTX_free(md);
		if (strcmp(alg, "ES256") == 0) {
			der = malloc(slen);
			memcpy(der, sig, slen);
			p = der;
			es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
			BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
			BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
			ECDSA_SIG_free(es);
			free(der);
			slen = 64;
		}
	}
	tok[n++] = '.';
	b64url(sig, slen, tok + n);
	return tok;
}

static const char *
path_of(const char *name)
{
	static char	 path[256];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

/* Writes the public halves of the keys to a PEM file; returns its path. */
static const char *
pem(const char *name, EVP_PKEY *k1, EVP_PKEY *k2)
{
	const char	*path = path_of(name);
	FILE		*fp;

	fp = fopen(path, "w");
	PEM_write_PUBKEY(fp, k1);
	if (k2 != NULL)
		PEM_write_PUBKEY(fp, k2);
	fclose(fp);
	return path;
}

static int
verify(const struct jwt_keys *keys, const char *tok, struct jwt_claims *c,
    char *err)
{
	struct jwt_policy	p = { NOW, 30, NULL, NULL };

	return jwt_verify(keys, tok, strlen(tok), &p, c, err, 128);
}

/* Returns 1 when TOK is refused with a reason containing WHY. */
static int
refused(const struct jwt_keys *keys, const char *tok, const char *why)
{
	struct jwt_claims	c;
	char			err[128] = "";

	if (verify(keys, tok, &c, err) == 0) {
		jwt_claims_clear(&c);
		return 0;
	}
	if (strstr(err, why) == NULL)
		fprintf(stderr, "  reason \"%s\", expected \"%s\"\n", err, why);
	return strstr(err, why) != NULL && c.nsubscribe == 0 &&
	    c.subscribe == NULL;
}

static int
accepted(const struct jwt_keys *keys, const char *tok)
{
	struct jwt_claims	c;
	char			err[128] = "";
	int			ok;

	ok = verify(keys, tok, &c, err) == 0;
	if (!ok)
		fprintf(stderr, "  refused: %s\n", err);
	jwt_claims_clear(&c);
	return ok;
}

static void
test_hs256(void)
{
	struct jwt_keys		*k = jwt_keys_create();
	struct jwt_claims	 c;
	const char		*t;
	char			 err[128], bad[16384];

	jwt_keys_set_secret(k, SECRET, strlen(SECRET));
	t = sign("HS256", SECRET, NULL, "{\"sub\":\"42\",\"exp\":1700000100,"
	    "\"sse\":{\"subscribe\":[\"user.42\",\"project.*\"],"
	    "\"publish\":\"task.9\"}}");
	test_cond("HS256 valid", verify(k, t, &c, err) == 0);
	test_cond("exp read", c.exp == 1700000100);
	test_cond("sub read", c.has_sub && strcmp(c.sub, "42") == 0);
	test_cond("subscribe list", c.nsubscribe == 2 &&
	    strcmp(c.subscribe[0], "user.42") == 0 &&
	    strcmp(c.subscribe[1], "project.*") == 0);
	test_cond("publish as one string", c.npublish == 1 &&
	    strcmp(c.publish[0], "task.9") == 0);
	jwt_claims_clear(&c);
	test_cond("cleared", c.subscribe == NULL && c.nsubscribe == 0);

	/* One flipped byte anywhere: refused. */
	strcpy(bad, t);
	bad[strlen(bad) / 2] ^= 1;
	test_cond("tampered payload", !accepted(k, bad));
	strcpy(bad, t);
	bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
	test_cond("tampered signature", refused(k, bad, "bad signature"));
	test_cond("other secret", refused(k, sign("HS256",
	    "another secret of thirty-two bytes..", NULL, "{}"),
	    "bad signature"));
	test_cond("alg none", refused(k, sign("none", NULL, NULL, "{}"),
	    "alg not accepted"));
	test_cond("alg None", refused(k, sign("none", NULL,
	    "{\"alg\":\"None\"}", "{}"), "alg not accepted"));
	test_cond("alg HS512", refused(k, sign("HS256", SECRET,
	    "{\"alg\":\"HS512\"}", "{}"), "alg not accepted"));
	test_cond("no alg", refused(k, sign("HS256", SECRET, "{\"typ\":"
	    "\"JWT\"}", "{}"), "no alg"));
	test_cond("crit", refused(k, sign("HS256", SECRET, "{\"alg\":"
	    "\"HS256\",\"crit\":[\"x\"]}", "{}"), "crit"));
	test_cond("RS256 without a public key", refused(k, sign("HS256",
	    SECRET, "{\"alg\":\"RS256\"}", "{}"), "no key configured"));
	test_cond("minimal token", accepted(k, sign("HS256", SECRET, NULL,
	    "{}")));

	/* Time claims, with the 30 s leeway. */
	test_cond("expired", refused(k, sign("HS256", SECRET, NULL,
	    "{\"exp\":1699999900}"), "expired"));
	test_cond("expired within leeway", accepted(k, sign("HS256", SECRET,
	    NULL, "{\"exp\":1699999980}")));
	test_cond("expired at leeway", refused(k, sign("HS256", SECRET, NULL,
	    "{\"exp\":1699999970}"), "expired"));
	test_cond("float exp", accepted(k, sign("HS256", SECRET, NULL,
	    "{\"exp\":1700000100.5}")));
	test_cond("string exp", refused(k, sign("HS256", SECRET, NULL,
	    "{\"exp\":\"1700000100\"}"), "exp is not a number"));
	test_cond("huge exp", accepted(k, sign("HS256", SECRET, NULL,
	    "{\"exp\":1e300}")));
	test_cond("nbf future", refused(k, sign("HS256", SECRET, NULL,
	    "{\"nbf\":1700000100}"), "not valid yet"));
	test_cond("nbf within leeway", accepted(k, sign("HS256", SECRET, NULL,
	    "{\"nbf\":1700000020}")));
	test_cond("bad nbf", refused(k, sign("HS256", SECRET, NULL,
	    "{\"nbf\":null}"), "nbf is not a number"));

	/* Claim shapes. */
	test_cond("sse not object", refused(k, sign("HS256", SECRET, NULL,
	    "{\"sse\":[\"a\"]}"), "claim sse"));
	test_cond("subscribe of numbers", refused(k, sign("HS256", SECRET,
	    NULL, "{\"sse\":{\"subscribe\":[1]}}"), "sse.subscribe"));
	test_cond("empty pattern", refused(k, sign("HS256", SECRET, NULL,
	    "{\"sse\":{\"subscribe\":[\"\"]}}"), "sse.subscribe"));
	test_cond("NUL in pattern", refused(k, sign("HS256", SECRET, NULL,
	    "{\"sse\":{\"subscribe\":[\"a\\u0000b\"]}}"), "sse.subscribe"));
	test_cond("publish of object", refused(k, sign("HS256", SECRET, NULL,
	    "{\"sse\":{\"publish\":{}}}"), "sse.publish"));
	test_cond("sub not string", refused(k, sign("HS256", SECRET, NULL,
	    "{\"sub\":42}"), "sub is not"));

	/* Shapes of the token itself. */
	test_cond("empty", refused(k, "", "empty"));
	test_cond("two parts", refused(k, "abc.def", "not a JWT"));
	test_cond("four parts", refused(k, "a.b.c.d", "not a JWT"));
	snprintf(bad, sizeof bad, "%s=", t);
	test_cond("padding", refused(k, bad, "bad signature"));
	test_cond("payload array", refused(k, sign("HS256", SECRET, NULL,
	    "[1]"), "payload is not one JSON object"));
	test_cond("trailing bytes after JSON", refused(k, sign("HS256",
	    SECRET, NULL, "{} x"), "payload is not one JSON object"));
	test_cond("two objects", refused(k, sign("HS256", SECRET, NULL,
	    "{}{}"), "payload is not one JSON object"));
	test_cond("header not base64url", refused(k, "ab+c.e30.xx",
	    "header is not base64url"));
	test_cond("empty header", refused(k, ".e30.xx",
	    "header is not base64url"));
	memset(bad, 'A', JWT_TOKEN_MAX + 1);
	bad[JWT_TOKEN_MAX + 1] = '\0';
	test_cond("too long", refused(k, bad, "longer than"));
	jwt_keys_free(k);
}

static void
test_policy(void)
{
	struct jwt_keys		*k = jwt_keys_create();
	struct jwt_policy	 p = { NOW, 0, "sse", "https://id.example" };
	struct jwt_claims	 c;
	char			 err[128];
	const char		*t;

	jwt_keys_set_secret(k, SECRET, strlen(SECRET));
	t = sign("HS256", SECRET, NULL, "{\"aud\":[\"x\",\"sse\"],\"iss\":"
	    "\"https://id.example\"}");
	test_cond("aud in list, iss", jwt_verify(k, t, strlen(t), &p, &c, err,
	    sizeof err) == 0);
	jwt_claims_clear(&c);
	t = sign("HS256", SECRET, NULL, "{\"aud\":\"sse\",\"iss\":"
	    "\"https://id.example\"}");
	test_cond("aud string", jwt_verify(k, t, strlen(t), &p, &c, err,
	    sizeof err) == 0);
	jwt_claims_clear(&c);
	t = sign("HS256", SECRET, NULL, "{\"aud\":\"other\",\"iss\":"
	    "\"https://id.example\"}");
	test_cond("wrong aud", jwt_verify(k, t, strlen(t), &p, &c, err,
	    sizeof err) == -1 && strstr(err, "aud") != NULL);
	t = sign("HS256", SECRET, NULL, "{\"aud\":\"sse\"}");
	test_cond("no iss", jwt_verify(k, t, strlen(t), &p, &c, err,
	    sizeof err) == -1 && strstr(err, "iss") != NULL);
	t = sign("HS256", SECRET, NULL, "{\"exp\":1700000000}");
	p.audience = p.issuer = NULL;
	test_cond("exp == now without leeway", jwt_verify(k, t, strlen(t), &p,
	    &c, err, sizeof err) == -1);
	jwt_keys_free(k);
}

static void
test_public_keys(void)
{
	struct jwt_keys	*k;
	EVP_PKEY	*rsa, *rsa2, *ec, *ec2, *small, *p384;
	char		 err[256], rsapem[8192];
	FILE		*fp;
	size_t		 n;

	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");

	k = jwt_keys_create();
	test_cond("RSA + EC file", jwt_keys_load_pem(k, pem("a.pem", rsa, ec),
	    err, sizeof err) == 2);
	test_cond("RS256 valid", accepted(k, sign("RS256", rsa, NULL,
	    "{\"sub\":\"1\"}")));
	test_cond("ES256 valid", accepted(k, sign("ES256", ec, NULL,
	    "{\"sub\":\"1\"}")));
	test_cond("RS256 other key", refused(k, sign("RS256", rsa2, NULL,
	    "{}"), "bad signature"));
	test_cond("ES256 other key", refused(k, sign("ES256", ec2, NULL,
	    "{}"), "bad signature"));
	test_cond("ES256 DER signature refused", refused(k, "eyJhbGciOiJFUzI1"
	    "NiJ9.e30.MEUCIQD", "bad signature"));
	test_cond("ES256 header, RSA signature", refused(k, sign("RS256", rsa,
	    "{\"alg\":\"ES256\"}", "{}"), "bad signature"));
	test_cond("HS256 without a secret", refused(k, sign("HS256", SECRET,
	    NULL, "{}"), "no key configured"));

	/* The classic confusion: the public key PEM used as HMAC secret. */
	fp = fopen(pem("rsa.pem", rsa, NULL), "r");
	n = fread(rsapem, 1, sizeof rsapem - 1, fp);
	rsapem[n] = '\0';
	fclose(fp);
	test_cond("HS256 signed with the public key", refused(k,
	    sign("HS256", rsapem, NULL, "{}"), "no key configured"));
	jwt_keys_free(k);

	/* Rotation: two keys of one kind in one file, both accepted. */
	k = jwt_keys_create();
	test_cond("two RSA keys", jwt_keys_load_pem(k, pem("b.pem", rsa, rsa2),
	    err, sizeof err) == 2);
	test_cond("old key", accepted(k, sign("RS256", rsa, NULL, "{}")));
	test_cond("new key", accepted(k, sign("RS256", rsa2, NULL, "{}")));
	jwt_keys_free(k);

	k = jwt_keys_create();
	test_cond("RSA 1024 refused", jwt_keys_load_pem(k, pem("c.pem", small,
	    NULL), err, sizeof err) == -1 && strstr(err, "2048") != NULL);
	test_cond("P-384 refused", jwt_keys_load_pem(k, pem("d.pem", p384,
	    NULL), err, sizeof err) == -1 && strstr(err, "P-256") != NULL);
	test_cond("missing file", jwt_keys_load_pem(k, "/nonexistent/k.pem",
	    err, sizeof err) == -1 && strstr(err, "No such file") != NULL);
	fp = fopen(path_of("e.pem"), "w");
	PEM_write_PrivateKey(fp, rsa, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	test_cond("private key block refused", jwt_keys_load_pem(k,
	    path_of("e.pem"), err, sizeof err) == -1 &&
	    strstr(err, "PRIVATE KEY") != NULL);
	fp = fopen(path_of("f.pem"), "w");
	fputs("not a pem file\n", fp);
	fclose(fp);
	test_cond("no PEM", jwt_keys_load_pem(k, path_of("f.pem"), err,
	    sizeof err) == -1 && strstr(err, "no PEM") != NULL);
	test_cond("nothing loaded", !jwt_keys_any(k));
	jwt_keys_free(k);

	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
	EVP_PKEY_free(small);
	EVP_PKEY_free(p384);
}

int
main(void)
{
	char	cmd[128];

	if (mkdtemp(tmpdir) == NULL)
		return 99;
	test_hs256();
	test_policy();
	test_public_keys();
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 99;
	return test_report("test_jwt");
}
