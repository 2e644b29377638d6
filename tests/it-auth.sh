#!/bin/bash
# sse-fcgi - MIT License
#
# Authorization through lighttpd: public channels, JWT HS256/RS256/ES256
# from the query, a cookie or the Authorization header, claim patterns and
# the {sub} template, 401 versus 403 with reasons (never the token in the
# log), a stream that ends when its token expires, REMOTE_USER rules behind
# lighttpd's own basic auth, publisher authorization by secret or claim,
# bad configuration refused at start, and the warning when nothing is set.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
MINT="python3 $top_srcdir/tests/jwt-mint.py"
SECRET=pub-secret-for-auth-test

# Keys as an application would hold them; the worker gets the public half.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/rsa.key" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ec.key" 2>/dev/null
{ openssl pkey -in "$T/rsa.key" -pubout; openssl pkey -in "$T/ec.key" -pubout; } > "$T/keys.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.key" 2>/dev/null
echo "hs256-secret-0123456789abcdef0123456789" > "$T/jwt.secret"
chmod 600 "$T/jwt.secret"
NOW=$(date +%s)
hs() { $MINT HS256 "$T/jwt.secret" "$1"; }

start_redis
start_workers 1 --jwt-secret-file "$T/jwt.secret" --jwt-key-file "$T/keys.pem" \
    --public-channels 'news.* status' --user-channels 'user.{REMOTE_USER} user.{sub}' \
    --jwt-leeway 1 --publisher-secret "$SECRET" --log-level debug
# A second mount behind lighttpd's basic auth: REMOTE_USER reaches the worker.
printf 'alice:alicepw\nbob:bobpw\n' > "$T/htpasswd"
LIGHTTPD_SED='s|"mod_fastcgi",|"mod_auth", "mod_authn_file", "mod_fastcgi",|'
start_lighttpd \
    'auth.backend = "plain"' \
    "auth.backend.plain.userfile = \"$T/htpasswd\"" \
    'auth.require = ( "/private" => ( "method" => "basic", "realm" => "sse", "require" => "valid-user" ) )' \
    "fastcgi.server += ( \"/private\" => (( \"socket\" => \"$T/sse.sock\", \"check-local\" => \"disable\" )) )"
U=$BASE/api/v1/events
P=$BASE/private/events
check "no warning about public channels" bash -c "! grep -q 'every channel is public' '$T/worker.log'"

# code URL [CURL-ARGS]: status of a stream request, cut once its head is in.
code() { head_status "$@"; }

stream pub "$U/news.eu"
stream keeper "$U/status"
KEEP_PID=$CURL_PID
check "public channel needs no token" wait_until 5 has "$T/pub.hdr" '^HTTP/1.1 200'
check "private channel without a token: 401" [ "$(code "$U/user.1")" = 401 ]
check "401 says why" grep -q 'channel user.1 is not public: a token is needed' "$T/last.body"
check "401 has WWW-Authenticate" grep -qi '^WWW-Authenticate: Bearer realm="sse-fcgi"' "$T/last.hdr"
check "public and private together: 401" [ "$(code "$U/news.eu,user.1")" = 401 ]

# One token per algorithm, each read from a different place.
CLAIM='"sse":{"subscribe":["project.*"]}'
TH=$(hs "{\"sub\":\"42\",\"exp\":$((NOW + 600)),$CLAIM}")
TR=$($MINT RS256 "$T/rsa.key" "{\"sub\":\"42\",$CLAIM}")
TE=$($MINT ES256 "$T/ec.key" "{\"sub\":\"42\",$CLAIM}")
stream hq "$U/project.7?token=$TH"
stream hc "$U/project.7" -b "theme=dark; sse_token=$TR"
stream hh "$U/project.7" -H "Authorization: Bearer $TE"
stream sub "$U/user.42?token=$TH"
for n in hq hc hh sub; do wait_until 5 has "$T/$n.hdr" '^HTTP/1.1 200'; done
check "HS256 token in the query: 200" has "$T/hq.hdr" '^HTTP/1.1 200'
check "RS256 token in a cookie: 200" has "$T/hc.hdr" '^HTTP/1.1 200'
check "ES256 token in Authorization: 200" has "$T/hh.hdr" '^HTTP/1.1 200'
check "user.{sub} template: 200" has "$T/sub.hdr" '^HTTP/1.1 200'
wait_until 5 numsub_is project.7 1
pub_lua project.7 p1 >/dev/null
pub_lua user.42 u1 >/dev/null
pub_lua news.eu n1 >/dev/null
for n in hq hc hh; do wait_until 5 body_has $n 'data: p1'; done
check "events reach every authorized stream" bash -c "grep -q 'data: p1' '$T/hq.out' &&
    grep -q 'data: p1' '$T/hc.out' && grep -q 'data: p1' '$T/hh.out'"
check "user.42 stream gets its event" wait_until 5 body_has sub 'data: u1'
check "public stream gets its event" wait_until 5 body_has pub 'data: n1'

check "token for project.* asks user.43: 403" [ "$(code "$U/user.43?token=$TH")" = 403 ]
check "403 names the channel" grep -q 'the token does not allow channel user.43' "$T/last.body"
check "one forbidden channel in a set: 403" [ "$(code "$U/project.1,secret.x?token=$TH")" = 403 ]
check "public + allowed set: 200" [ "$(code "$U/news.eu,project.1?token=$TH")" = 200 ]
check "token signed by another key: 401" [ "$(code "$U/project.1?token=$($MINT RS256 "$T/other.key" "{$CLAIM}")")" = 401 ]
check "bad signature reason" grep -q 'invalid token: bad signature' "$T/last.body"
check "WWW-Authenticate invalid_token" grep -qi 'error="invalid_token"' "$T/last.hdr"
check "expired token: 401" [ "$(code "$U/project.1?token=$(hs "{\"exp\":$((NOW - 60)),$CLAIM}")")" = 401 ]
check "expired reason" grep -q 'invalid token: token expired' "$T/last.body"
check "token not valid yet: 401" [ "$(code "$U/project.1?token=$(hs "{\"nbf\":$((NOW + 600)),$CLAIM}")")" = 401 ]
check "alg none: 401" [ "$(code "$U/project.1?token=$($MINT none x "{$CLAIM}")")" = 401 ]
TAMPERED=$(echo "$TH" | awk -F. '{print $1"."$2"x."$3}')
check "tampered token: 401" [ "$(code "$U/project.1?token=$TAMPERED")" = 401 ]
check "garbage token: 401" [ "$(code "$U/project.1" -H 'Authorization: Bearer %%%')" = 401 ]
LONG=$(head -c 9000 /dev/zero | tr '\0' a)
check "oversized token: 400 or 401, no crash" bash -c "c=\$(curl -s -o /dev/null -w '%{http_code}' -m 10 -b 'sse_token=$LONG' '$U/project.1'); [ \$c = 401 ] || [ \$c = 400 ] || [ \$c = 431 ]"
check "tokens never logged" bash -c "! grep -qF -e '$TH' -e '$TR' -e '$TE' -e '${TAMPERED:0:40}' '$T/worker.log'"
check "refusals logged with a reason" grep -q 'refused a stream of user.43: the token does not allow channel user.43' "$T/worker.log"

# A stream ends when its token stops being accepted (exp + 1 s leeway),
# cleanly, and the same token is then refused.
TX=$(hs "{\"exp\":$(( $(date +%s) + 2 )),$CLAIM}")
stream exp "$U/project.9?token=$TX"
CP=$CURL_PID
check "short-lived token: stream opens" wait_until 5 has "$T/exp.hdr" '^HTTP/1.1 200'
check "stream ends at token expiry" wait_until 8 bash -c "! kill -0 $CP 2>/dev/null"
wait $CP; check "clean end (curl exit 0)" [ $? = 0 ]
check "last comment says why" body_has exp ': token expired; reconnect with a new one'
check "reconnect with the expired token: 401" [ "$(code "$U/project.9?token=$TX")" = 401 ]

# REMOTE_USER set by lighttpd's basic auth.
check "no login on the private mount: lighttpd's 401" [ "$(code "$P/user.alice")" = 401 ]
stream alice "$P/user.alice" -u alice:alicepw
check "alice reads user.alice" wait_until 5 has "$T/alice.hdr" '^HTTP/1.1 200'
check "alice cannot read user.bob" [ "$(code "$P/user.bob" -u alice:alicepw)" = 401 ]
check "without login user.alice is private" [ "$(code "$U/user.alice")" = 401 ]
wait_until 5 numsub_is user.alice 1
pub_lua user.alice a1 >/dev/null
check "alice gets her event" wait_until 5 body_has alice 'data: a1'

# Publishing: the secret, or a token with a publish claim.
PUBT=$(hs '{"sse":{"publish":["task.*"]}}')
pcode() { curl -s -o "$T/last.body" -w '%{http_code}' -m 5 -X POST --data-binary x "$@"; }
check "publish with the secret: 200" [ "$(pcode -H "Authorization: Bearer $SECRET" "$BASE/api/v1/publish/project.7")" = 200 ]
check "publish with a publish claim: 200" [ "$(pcode -H "Authorization: Bearer $PUBT" "$BASE/api/v1/publish/task.1")" = 200 ]
check "publish claim elsewhere: 403" [ "$(pcode -H "Authorization: Bearer $PUBT" "$BASE/api/v1/publish/project.7")" = 403 ]
check "subscribe token cannot publish: 403" [ "$(pcode -H "Authorization: Bearer $TH" "$BASE/api/v1/publish/project.7")" = 403 ]
check "garbage bearer: 401" [ "$(pcode -H "Authorization: Bearer nope" "$BASE/api/v1/publish/task.1")" = 401 ]
check "token in the query does not publish: 401" [ "$(pcode "$BASE/api/v1/publish/task.1?token=$PUBT")" = 401 ]
check "secret published to open streams" wait_until 5 body_has hq 'data: x'

check "other streams untouched" bash -c "kill -0 $KEEP_PID && kill -0 ${WPIDS%% *}"
pub_lua status s1 >/dev/null
check "and still delivered to" wait_until 5 body_has keeper 'data: s1'

# Bad settings stop the worker at start with exit 2 and a reason.
badcfg() {
	"$SSE_FCGI" --listen "unix:$T/bad.sock" --redis "redis://127.0.0.1:$RPORT" "$@" \
	    > "$T/bad.out" 2>&1 & local p=$!
	wait_until 5 bash -c "! kill -0 $p 2>/dev/null" || { kill $p; return 1; }
	wait $p; [ $? = 2 ]
}
check "user-channels without a placeholder: exit 2" badcfg --user-channels user.1
check "reason printed" grep -q 'needs {REMOTE_USER} or {sub}' "$T/bad.out"
check "missing key file: exit 2" badcfg --jwt-key-file "$T/none.pem"
check "private key as key file: exit 2" badcfg --jwt-key-file "$T/rsa.key"
check "short jwt-secret: exit 2" badcfg --jwt-secret short
check "short secret not echoed" bash -c "! grep -q short '$T/bad.out'"
check "bad public glob: exit 2" badcfg --public-channels 'a/b'

# Nothing configured: every channel public, and a warning says so.
"$SSE_FCGI" --listen "unix:$T/open.sock" --redis "redis://127.0.0.1:$RPORT" \
    > "$T/open.out" 2>&1 & OPID=$!; track $OPID
check "warns when no authorization is configured" wait_until 5 grep -q 'no authorization configured: every channel is public' "$T/open.out"
kill $OPID
finish
