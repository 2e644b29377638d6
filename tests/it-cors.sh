#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: CORS (cors-origins). Exercises: an allowlisted origin is echoed
# with Vary: Origin and Access-Control-Allow-Credentials: true; another
# origin gets 403 and no stream; no Origin and same-origin requests need
# nothing; OPTIONS preflight answered (204) or refused (403); the publish
# endpoint too; "*" admits any origin but never with credentials; a bad
# list stops the worker with exit 2; in headless Chromium a cross-origin
# EventSource with withCredentials works from the allowed origin and is
# refused from another.
. "$(dirname "$0")/lib.sh"

SECRET=c-secret
start_redis
"$SSE_FCGI" --cors-origins 'example.com' --listen "unix:$T/bad.sock" \
    < /dev/null 2> "$T/bad.err"; rc=$?
check "a bad cors-origins list is refused (exit 2, reason)" \
    bash -c "[ $rc = 2 ] && grep -q 'not an origin' '$T/bad.err'"

start_lighttpd			# the pages and the API share this port
cp "$top_srcdir/tests/browser/cors.html" "$T/www/"
P=$LPORT; PAGE_BASE=$BASE
ALLOWED="http://localhost:$P"
start_workers 1 --cors-origins "$ALLOWED https://app.example" --publisher-secret "$SECRET"
U=$BASE/api/v1

# hdr [CURL-ARGS...] URL: the response head, once it is in (a stream stays open).
hdr() { local u=${!#}; head_status "$u" "${@:1:$#-1}" > /dev/null; cat "$T/last.hdr"; }
hdr -H "Origin: https://app.example" "$U/events/cors.chan" > "$T/ok.hdr"
check "allowed origin: 200" grep -q '^HTTP/1.1 200' "$T/ok.hdr"
check "allowed origin echoed" grep -qi '^Access-Control-Allow-Origin: https://app.example' "$T/ok.hdr"
check "credentials allowed for it" grep -qi '^Access-Control-Allow-Credentials: true' "$T/ok.hdr"
check "Vary: Origin" grep -qi '^Vary: Origin' "$T/ok.hdr"
code=$(status "$U/events/cors.chan" -H "Origin: https://evil.example")
check "other origin: 403" [ "$code" = 403 ]
check "403 says why" grep -q 'origin not allowed' "$T/last.body"
hdr "$U/events/cors.chan" > "$T/none.hdr"
check "no Origin: 200 without CORS headers" bash -c "grep -q '^HTTP/1.1 200' '$T/none.hdr' && ! grep -qi '^Access-Control' '$T/none.hdr'"
hdr -H "Origin: http://127.0.0.1:$P" "$U/events/cors.chan" > "$T/same.hdr"
check "same origin: 200" grep -q '^HTTP/1.1 200' "$T/same.hdr"
hdr -X OPTIONS -H "Origin: https://app.example" \
    -H 'Access-Control-Request-Method: GET' \
    -H 'Access-Control-Request-Headers: last-event-id' "$U/events/cors.chan" > "$T/pre.hdr"
check "preflight: 204" grep -q '^HTTP/1.1 204' "$T/pre.hdr"
check "preflight: methods and headers" bash -c "grep -qi '^Access-Control-Allow-Methods: .*POST' '$T/pre.hdr' && grep -qi '^Access-Control-Allow-Headers: .*Last-Event-ID' '$T/pre.hdr'"
check "preflight from another origin: 403" \
    [ "$(status "$U/publish/cors.chan" -X OPTIONS -H 'Origin: https://evil.example')" = 403 ]
curl -s -D "$T/pub.hdr" -o "$T/pub.json" -X POST -H "Origin: https://app.example" \
    -H "Authorization: Bearer $SECRET" -d x "$U/publish/cors.chan"
check "publish from the allowed origin, with CORS headers" bash -c "grep -q '\"id\"' '$T/pub.json' && grep -qi '^Access-Control-Allow-Origin: https://app.example' '$T/pub.hdr'"
check "publish from another origin: 403" \
    [ "$(status "$U/publish/cors.chan" -X POST -H 'Origin: https://evil.example' -H "Authorization: Bearer $SECRET" -d x)" = 403 ]

# "*": any origin, never with credentials.
WSOCK=$T/any.sock start_workers 1 --cors-origins '*'
WSOCK=$T/any.sock start_lighttpd
hdr -H "Origin: https://anyone.example" "$BASE/api/v1/events/cors.any" > "$T/any.hdr"
check "*: any origin gets Access-Control-Allow-Origin: *" grep -qi '^Access-Control-Allow-Origin: \*' "$T/any.hdr"
check "*: never with credentials" bash -c "! grep -qi '^Access-Control-Allow-Credentials' '$T/any.hdr'"
REFUSED_BASE=$BASE
cp "$top_srcdir/tests/browser/cors.html" "$T/www/" 2>/dev/null

# The browser: page from http://localhost:P (allowed) and from the other
# lighttpd's origin (refused), both opening http://127.0.0.1:P's stream.
B=$top_srcdir/tests/browser
if command -v node >/dev/null && [ -x /usr/bin/chromium ] && [ -d "$B/node_modules/playwright-core" ]; then
	TARGET="http://127.0.0.1:$P/api/v1/events/cors.browser"
	node "$B/cors.mjs" "http://localhost:$P/cors.html?target=$TARGET" \
	    "$REFUSED_BASE/cors.html?target=$TARGET" "$RPORT" cors.browser > "$T/browser.out" 2>&1
	rc=$?
	cat "$T/browser.out"
	check "browser: cross-origin EventSource checks ($(grep -c '^ok' "$T/browser.out") ok)" \
	    bash -c "[ $rc = 0 ] && [ \$(grep -c '^ok' '$T/browser.out') = 3 ]"
else
	# As it-browser.sh: the browser part needs Node 20+ and npm ci there.
	echo "# SKIP browser part: node, /usr/bin/chromium or tests/browser/node_modules missing"
fi
finish
