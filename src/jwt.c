/* sse-fcgi - MIT License
 *
 * JWT verification (see jwt.h). The token is split at its two dots, the
 * header and payload are strict base64url (no padding, no stray bytes),
 * each must be exactly one JSON object, and the signature is checked over
 * the first two parts as sent. ES256 signatures are raw r||s (RFC 7518
 * 3.4) and are turned into DER for OpenSSL.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jwt.h"
#include "xmalloc.h"

#define JWT_PATTERN_MAX	256	/* bytes in one channel pattern */

enum jwt_alg {
	JWT_HS256,
	JWT_RS256,
	JWT_ES256
};

struct jwt_keys {
	unsigned char	*secret;	/* HS256, or NULL */
	size_t		 secret_len;
	EVP_PKEY	*pub[JWT_KEYS_MAX];
	enum jwt_alg	 pub_alg[JWT_KEYS_MAX];
	size_t		 npub;
};

struct jwt_keys *
jwt_keys_create(void)
{
	return xcalloc(1, sizeof(struct jwt_keys));
}

void
jwt_keys_free(struct jwt_keys *keys)
{
	size_t	i;

	if (keys == NULL)
		return;
	for (i = 0; i < keys->npub; i++)
		EVP_PKEY_free(keys->pub[i]);
	if (keys->secret != NULL)
		OPENSSL_cleanse(keys->secret, keys->secret_len);
	free(keys->secret);
	free(keys);
}

void
jwt_keys_set_secret(struct jwt_keys *keys, const char *secret, size_t len)
{
	if (keys->secret != NULL)
		OPENSSL_cleanse(keys->secret, keys->secret_len);
	free(keys->secret);
	keys->secret = xmalloc(len > 0 ? len : 1);
	memcpy(keys->secret, secret, len);
	keys->secret_len = len;
}

int
jwt_keys_any(const struct jwt_keys *keys)
{
	return keys->secret != NULL || keys->npub > 0;
}

/* Decides which algorithm PKEY verifies. Returns 0, or -1 with a reason. */
static int
jwt_key_alg(EVP_PKEY *pkey, enum jwt_alg *alg, char *err, size_t errlen)
{
	char	group[64];

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pkey) < 2048) {
			snprintf(err, errlen, "RSA key of %d bits: RS256 needs "
			    "at least 2048", EVP_PKEY_get_bits(pkey));
			return -1;
		}
		*alg = JWT_RS256;
		return 0;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
		    NULL) != 1 || strcmp(group, "prime256v1") != 0) {
			snprintf(err, errlen, "EC key is not on P-256: ES256 "
			    "needs prime256v1");
			return -1;
		}
		*alg = JWT_ES256;
		return 0;
	default:
		snprintf(err, errlen, "key is neither RSA nor EC P-256");
		return -1;
	}
}

int
jwt_keys_load_pem(struct jwt_keys *keys, const char *path, char *err,
    size_t errlen)
{
	FILE		*fp;
	EVP_PKEY	*pkey;
	X509		*x509;
	char		 why[128];
	char		*name = NULL, *header = NULL;
	unsigned char	*data = NULL;
	const unsigned char *p;
	long		 len;
	int		 added = 0, rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Block by block, so one file can hold the old and the new key. */
	while (PEM_read(fp, &name, &header, &data, &len) == 1) {
		p = data;
		pkey = NULL;
		if (strcmp(name, "PUBLIC KEY") == 0)
			pkey = d2i_PUBKEY(NULL, &p, len);
		else if (strcmp(name, "CERTIFICATE") == 0) {
			if ((x509 = d2i_X509(NULL, &p, len)) != NULL) {
				pkey = X509_get_pubkey(x509);
				X509_free(x509);
			}
		} else {
			snprintf(err, errlen, "%s: a \"%s\" block; expected "
			    "PUBLIC KEY or CERTIFICATE", path, name);
			goto out;
		}
		if (pkey == NULL) {
			snprintf(err, errlen, "%s: unreadable %s block", path,
			    name);
			goto out;
		}
		if (keys->npub == JWT_KEYS_MAX) {
			EVP_PKEY_free(pkey);
			snprintf(err, errlen, "%s: more than %d keys", path,
			    JWT_KEYS_MAX);
			goto out;
		}
		if (jwt_key_alg(pkey, &keys->pub_alg[keys->npub], why,
		    sizeof why) == -1) {
			EVP_PKEY_free(pkey);
			snprintf(err, errlen, "%s: %s", path, why);
			goto out;
		}
		keys->pub[keys->npub++] = pkey;
		added++;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	if (added == 0) {
		snprintf(err, errlen, "%s: no PEM public key in it", path);
		goto out;
	}
	rc = added;
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	fclose(fp);
	return rc;
}

/* Decodes strict unpadded base64url. Returns the length written to OUT
 * (room for len * 3 / 4 + 1 bytes), or -1 on a bad byte or length. */
static long
jwt_b64url_decode(const char *in, size_t len, unsigned char *out)
{
	unsigned long	acc = 0;
	size_t		i, bits = 0, n = 0;
	int		v;
	char		c;

	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		c = in[i];
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '-')
			v = 62;
		else if (c == '_')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	/* Leftover bits must be zero, so each token has one spelling. */
	if (acc != 0)
		return -1;
	return (long)n;
}

/* Decodes one part into a JSON object. Returns it (caller puts), or NULL
 * with a reason. */
static struct json_object *
jwt_json_part(const char *part, size_t len, const char *what, char *err,
    size_t errlen)
{
	struct json_tokener	*tok;
	struct json_object	*o = NULL;
	unsigned char		*buf;
	long			 n;

	buf = xmalloc(len * 3 / 4 + 1);
	if ((n = jwt_b64url_decode(part, len, buf)) <= 0) {
		snprintf(err, errlen, "%s is not base64url", what);
		goto out;
	}
	tok = json_tokener_new();
	o = json_tokener_parse_ex(tok, (const char *)buf, (int)n);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != (size_t)n ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
		snprintf(err, errlen, "%s is not one JSON object", what);
	}
	json_tokener_free(tok);
out:
	free(buf);
	return o;
}

/* Checks the LEN-byte SIG over the LEN-byte signing input with the keys
 * for ALG. Returns 1 when one of them verifies it. */
static int
jwt_check_sig(const struct jwt_keys *keys, enum jwt_alg alg,
    const char *input, size_t ilen, const unsigned char *sig, size_t slen)
{
	unsigned char	 mac[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int	 maclen = 0;
	const unsigned char *vsig = sig;
	EVP_MD_CTX	*md;
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	size_t		 i, vlen = slen;
	int		 ok = 0, dlen;

	if (alg == JWT_HS256) {
		if (HMAC(EVP_sha256(), keys->secret, (int)keys->secret_len,
		    (const unsigned char *)input, ilen, mac, &maclen) == NULL)
			return 0;
		return slen == maclen && CRYPTO_memcmp(mac, sig, slen) == 0;
	}
	if (alg == JWT_ES256) {
		if (slen != 64)
			return 0;
		es = ECDSA_SIG_new();
		r = BN_bin2bn(sig, 32, NULL);
		s = BN_bin2bn(sig + 32, 32, NULL);
		if (es == NULL || r == NULL || s == NULL ||
		    ECDSA_SIG_set0(es, r, s) != 1) {
			BN_free(r);
			BN_free(s);
			ECDSA_SIG_free(es);
			return 0;
		}
		dlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (dlen <= 0)
			return 0;
		vsig = der;
		vlen = (size_t)dlen;
	}
	for (i = 0; i < keys->npub && !ok; i++) {
		if (keys->pub_alg[i] != alg)
			continue;
		if ((md = EVP_MD_CTX_new()) == NULL)
			break;
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
		    keys->pub[i]) == 1 && EVP_DigestVerify(md, vsig, vlen,
		    (const unsigned char *)input, ilen) == 1;
		EVP_MD_CTX_free(md);
	}
	OPENSSL_free(der);
	return ok;
}

/* Reads the header: which algorithm, and whether KEYS has a key for it. */
static int
jwt_header(const struct jwt_keys *keys, struct json_object *h,
    enum jwt_alg *alg, char *err, size_t errlen)
{
	struct json_object	*v;
	const char		*name;
	size_t			 i;

	if (json_object_object_get_ex(h, "crit", NULL)) {
		snprintf(err, errlen, "header has crit: not supported");
		return -1;
	}
	if (!json_object_object_get_ex(h, "alg", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "header has no alg");
		return -1;
	}
	name = json_object_get_string(v);
	if (strcmp(name, "HS256") == 0)
		*alg = JWT_HS256;
	else if (strcmp(name, "RS256") == 0)
		*alg = JWT_RS256;
	else if (strcmp(name, "ES256") == 0)
		*alg = JWT_ES256;
	else {
		snprintf(err, errlen, "alg not accepted (HS256, RS256 or "
		    "ES256)");
		return -1;
	}
	if (*alg == JWT_HS256 && keys->secret != NULL)
		return 0;
	for (i = 0; i < keys->npub; i++)
		if (keys->pub_alg[i] == *alg)
			return 0;
	snprintf(err, errlen, "no key configured for alg %s", name);
	return -1;
}

/* Reads a NumericDate claim. Returns 1 and *T, 0 when absent, -1 when it
 * is not a number. */
static int
jwt_time(struct json_object *p, const char *name, double *t)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(p, name, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return -1;
	*t = json_object_get_double(v);
	return isfinite(*t) ? 1 : -1;
}

/* Reads a list of channel patterns (or one string) into *LIST. */
static int
jwt_patterns(struct json_object *v, char ***list, size_t *n)
{
	struct json_object	*e;
	size_t			 i, count;
	int			 one;

	one = json_object_is_type(v, json_type_string);
	if (!one && !json_object_is_type(v, json_type_array))
		return -1;
	count = one ? 1 : json_object_array_length(v);
	if (count > JWT_PATTERNS_MAX)
		return -1;
	*list = xcalloc(count > 0 ? count : 1, sizeof **list);
	*n = 0;
	for (i = 0; i < count; i++) {
		e = one ? v : json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string) ||
		    json_object_get_string_len(e) == 0 ||
		    json_object_get_string_len(e) > JWT_PATTERN_MAX ||
		    strlen(json_object_get_string(e)) !=
		    (size_t)json_object_get_string_len(e))
			return -1;
		(*list)[(*n)++] = xstrdup(json_object_get_string(e));
	}
	return 0;
}

/* Checks aud against the one audience we are. */
static int
jwt_audience_ok(struct json_object *p, const char *want)
{
	struct json_object	*v, *e;
	size_t			 i;

	if (!json_object_object_get_ex(p, "aud", &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strcmp(json_object_get_string(v), want) == 0;
	if (!json_object_is_type(v, json_type_array))
		return 0;
	for (i = 0; i < json_object_array_length(v); i++) {
		e = json_object_array_get_idx(v, i);
		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), want) == 0)
			return 1;
	}
	return 0;
}

/* Checks the registered claims and reads ours. */
static int
jwt_payload(struct json_object *p, const struct jwt_policy *policy,
    struct jwt_claims *out, char *err, size_t errlen)
{
	struct json_object	*v, *sse;
	double			 t;
	int			 rc;

	if ((rc = jwt_time(p, "exp", &t)) == -1) {
		snprintf(err, errlen, "exp is not a number");
		return -1;
	}
	if (rc == 1) {
		if ((double)policy->now >= t + policy->leeway) {
			snprintf(err, errlen, "token expired");
			return -1;
		}
		/* Clamped: a double past time_t's range is undefined. */
		out->exp = t > 1e15 ? (time_t)1e15 : (time_t)t;
		if ((double)out->exp < t)
			out->exp++;	/* a fraction still counts */
	}
	if ((rc = jwt_time(p, "nbf", &t)) == -1) {
		snprintf(err, errlen, "nbf is not a number");
		return -1;
	}
	if (rc == 1 && (double)policy->now + policy->leeway < t) {
		snprintf(err, errlen, "token not valid yet (nbf)");
		return -1;
	}
	if (policy->audience != NULL && !jwt_audience_ok(p,
	    policy->audience)) {
		snprintf(err, errlen, "aud does not name this service");
		return -1;
	}
	if (policy->issuer != NULL && (!json_object_object_get_ex(p, "iss",
	    &v) || !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), policy->issuer) != 0)) {
		snprintf(err, errlen, "iss is not the configured issuer");
		return -1;
	}
	if (json_object_object_get_ex(p, "sub", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) > JWT_SUB_MAX) {
			snprintf(err, errlen, "sub is not a string of at most "
			    "%d bytes", JWT_SUB_MAX);
			return -1;
		}
		memcpy(out->sub, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v) + 1);
		out->has_sub = 1;
	}
	if (!json_object_object_get_ex(p, "sse", &sse))
		return 0;
	if (!json_object_is_type(sse, json_type_object)) {
		snprintf(err, errlen, "claim sse is not an object");
		return -1;
	}
	if (json_object_object_get_ex(sse, "subscribe", &v) &&
	    jwt_patterns(v, &out->subscribe, &out->nsubscribe) == -1) {
		snprintf(err, errlen, "sse.subscribe is not a list of at most "
		    "%d channel patterns", JWT_PATTERNS_MAX);
		return -1;
	}
	if (json_object_object_get_ex(sse, "publish", &v) &&
	    jwt_patterns(v, &out->publish, &out->npublish) == -1) {
		snprintf(err, errlen, "sse.publish is not a list of at most "
		    "%d channel patterns", JWT_PATTERNS_MAX);
		return -1;
	}
	return 0;
}

int
jwt_verify(const struct jwt_keys *keys, const char *token, size_t len,
    const struct jwt_policy *policy, struct jwt_claims *out, char *err,
    size_t errlen)
{
	struct json_object	*h = NULL, *p = NULL;
	const char		*dot1, *dot2, *sig;
	unsigned char		*raw = NULL;
	enum jwt_alg		 alg;
	size_t			 slen;
	long			 n;
	int			 rc = -1;

	memset(out, 0, sizeof *out);
	if (len == 0 || len > JWT_TOKEN_MAX) {
		snprintf(err, errlen, len == 0 ? "empty token" :
		    "token longer than %d bytes", JWT_TOKEN_MAX);
		return -1;
	}
	if ((dot1 = memchr(token, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', (size_t)(token + len - dot1 -
	    1))) == NULL || memchr(dot2 + 1, '.', (size_t)(token + len -
	    dot2 - 1)) != NULL) {
		snprintf(err, errlen, "not a JWT (header.payload.signature)");
		return -1;
	}
	if ((h = jwt_json_part(token, (size_t)(dot1 - token), "header", err,
	    errlen)) == NULL || jwt_header(keys, h, &alg, err, errlen) == -1)
		goto out;
	sig = dot2 + 1;
	slen = (size_t)(token + len - sig);
	raw = xmalloc(slen * 3 / 4 + 1);
	if ((n = jwt_b64url_decode(sig, slen, raw)) <= 0 ||
	    !jwt_check_sig(keys, alg, token, (size_t)(dot2 - token), raw,
	    (size_t)n)) {
		snprintf(err, errlen, "bad signature");
		goto out;
	}
	/* Only a signed payload is looked at. */
	if ((p = jwt_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload",
	    err, errlen)) == NULL ||
	    jwt_payload(p, policy, out, err, errlen) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		jwt_claims_clear(out);
	json_object_put(h);
	json_object_put(p);
	free(raw);
	return rc;
}

void
jwt_claims_clear(struct jwt_claims *c)
{
	size_t	i;

	for (i = 0; i < c->nsubscribe; i++)
		free(c->subscribe[i]);
	for (i = 0; i < c->npublish; i++)
		free(c->publish[i]);
	free(c->subscribe);
	free(c->publish);
	memset(c, 0, sizeof *c);
}
