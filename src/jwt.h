/* sse-fcgi - MIT License
 *
 * JSON Web Tokens (RFC 7519) in compact form, verified with OpenSSL's
 * libcrypto: HS256 with a shared secret, RS256 and ES256 (P-256) with
 * public keys read from PEM. Only the algorithm a configured key is for is
 * accepted, so an RS256 key can never be used as an HMAC secret and "none"
 * is never accepted; a header with "crit" is refused.
 *
 * The claims the worker uses: exp and nbf (checked with a leeway in
 * seconds), aud and iss (checked when configured), sub, and the object
 *   "sse": { "subscribe": [PATTERN...], "publish": [PATTERN...] }
 * whose globs (see pattern.h) name the channels the holder may read and
 * publish to. A single string is accepted where a list is expected.
 *
 * Error texts say what is wrong with a token, never what it contains.
 */
#ifndef SSE_JWT_H
#define SSE_JWT_H

#include <stddef.h>
#include <time.h>

#define JWT_TOKEN_MAX		8192	/* bytes in a token */
#define JWT_SUB_MAX		200	/* bytes in the sub claim we keep */
#define JWT_PATTERNS_MAX	64	/* patterns per claim list */
#define JWT_KEYS_MAX		8	/* public keys, for rotation */

struct jwt_keys;

/* What a valid token says. Filled by jwt_verify(); free with
 * jwt_claims_clear(). */
struct jwt_claims {
	time_t		  exp;		/* 0 when the token has none */
	int		  has_sub;
	char		  sub[JWT_SUB_MAX + 1];
	char		**subscribe;	/* patterns, owned */
	size_t		  nsubscribe;
	char		**publish;	/* patterns, owned */
	size_t		  npublish;
};

/* What a token must satisfy besides its signature. */
struct jwt_policy {
	time_t		 now;
	unsigned	 leeway;	/* seconds of clock skew allowed */
	const char	*audience;	/* required in aud, or NULL */
	const char	*issuer;	/* required as iss, or NULL */
};

/* Returns an empty key set. */
struct jwt_keys	*jwt_keys_create(void);
/* Frees KEYS. NULL is ignored. */
void		 jwt_keys_free(struct jwt_keys *keys);
/* Sets the HS256 secret (LEN bytes, copied). */
void		 jwt_keys_set_secret(struct jwt_keys *keys, const char *secret,
		    size_t len);
/* Adds every public key (RSA of at least 2048 bits for RS256, or EC P-256
 * for ES256) in the PEM file PATH: PUBLIC KEY blocks or certificates.
 * Returns the number added, or -1 with a reason in ERR. */
int		 jwt_keys_load_pem(struct jwt_keys *keys, const char *path,
		    char *err, size_t errlen);
/* Returns 1 when KEYS can verify some token, else 0. */
int		 jwt_keys_any(const struct jwt_keys *keys);

/* Verifies the LEN-byte TOKEN with KEYS under POLICY. Returns 0 and fills
 * *OUT, or -1 with a reason in ERR (and *OUT empty). */
int		 jwt_verify(const struct jwt_keys *keys, const char *token,
		    size_t len, const struct jwt_policy *policy,
		    struct jwt_claims *out, char *err, size_t errlen);
/* Frees what *C holds and empties it. */
void		 jwt_claims_clear(struct jwt_claims *c);

#endif
