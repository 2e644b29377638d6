#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: bad requests get a clear status and one-line reason, and leave
# an open stream untouched: 400 bad channel names (characters, length,
# encoding), 404 unknown paths, 405 wrong methods, 503 with Retry-After
# when max-streams are open and when Redis is down at connect time; 431
# from the worker over max-header (set to 2k, below lighttpd's own 8 KiB
# limit), for a header, a query string and a publish; 413 for a stream
# request with a body over 64 KiB.
. "$(dirname "$0")/lib.sh"

start_redis
start_workers 1
start_lighttpd
U=$BASE/api/v1

stream good "$U/events/ok.chan"
wait_until 5 numsub_is ok.chan 1

check "400 bad character" [ "$(status "$U/events/a%20b")" = 400 ]
check "400 reason names the grammar" grep -q 'A-Z a-z 0-9' "$T/last.body"
check "400 reason is one line" [ "$(wc -l < "$T/last.body")" = 1 ]
check "400 slash inside" [ "$(status "$U/events/a%2Fb")" = 400 ]
check "400 empty channel" [ "$(status "$U/events/")" = 400 ]
LONG=$(head -c 201 /dev/zero | tr '\0' x)
check "400 201-byte name" [ "$(status "$U/events/$LONG")" = 400 ]
check "200-byte name accepted" [ "$(head_status "$U/events/${LONG:1}")" = 200 ]
check "400 bad percent-encoding" [ "$(status "$U/events/%zz")" = 400 ]
check "400 NUL" [ "$(status "$U/events/a%00b")" = 400 ]
check "404 unknown path" [ "$(status "$U/nothing/here")" = 404 ]
check "404 events without channel segment" [ "$(status "$U/events")" = 404 ]
check "405 POST" [ "$(status "$U/events/x" -X POST -d 'x=1')" = 405 ]
check "405 DELETE" [ "$(status "$U/events/x" -X DELETE)" = 405 ]
check "405 has Allow" bash -c "curl -s -D - -o /dev/null -X PUT '$U/events/x' | grep -qi '^Allow: GET'"
check "400 on huge header is not a crash" bash -c "curl -s -m 5 -o /dev/null -H \"X-Big: \$(head -c 60000 /dev/zero | tr '\\\\0' y)\" '$U/events/x'; true"

rcli PUBLISH ok.chan still-here >/dev/null
wait_until 5 body_has good 'data: still-here'
check "open stream untouched by bad requests" body_has good 'data: still-here'
check "worker alive" alive "$WPIDS"

# max-streams: a worker that is full says so (503, Retry-After).
WSOCK=$T/cap.sock start_workers 1 --max-streams 2
WSOCK=$T/cap.sock start_lighttpd
stream cap1 "$BASE/api/v1/events/cap"; stream cap2 "$BASE/api/v1/events/cap"
wait_until 5 bash -c "grep -q '^: ok' '$T/cap1.out' && grep -q '^: ok' '$T/cap2.out'"
code=$(curl -s -D "$T/cap.hdr" -o "$T/cap.body" -w '%{http_code}' -m 5 "$BASE/api/v1/events/cap")
check "503 when max-streams are open" [ "$code" = 503 ]
check "503 says why" grep -q 'too many streams' "$T/cap.body"
check "Retry-After on the full worker" grep -qi '^Retry-After: [0-9]' "$T/cap.hdr"

# max-header: this worker's limit is below lighttpd's, so it answers.
WSOCK=$T/hdr.sock start_workers 1 --max-header 2k
WSOCK=$T/hdr.sock start_lighttpd
H=$BASE/api/v1
BIG=$(head -c 3072 /dev/zero | tr '\0' y)
code=$(curl -s -D "$T/431.hdr" -o "$T/431.body" -w '%{http_code}' -m 5 \
    -H "X-Big: $BIG" "$H/events/hdr")
check "431 for a 3 KiB header over max-header 2k" [ "$code" = 431 ]
check "431 from the worker, with the sizes" \
    grep -q '^request headers too large: [0-9]* bytes.*max-header is 2048' "$T/431.body"
check "431 for a 3 KiB query string" [ "$(status "$H/events/hdr?x=$BIG")" = 431 ]
check "431 on publishing too" \
    [ "$(status "$H/publish/hdr" -X POST -H "X-Big: $BIG" -d x)" = 431 ]
check "a 1 KiB header passes" \
    [ "$(head_status "$H/events/hdr" -H "X-Small: ${BIG:0:1024}")" = 200 ]
BIGGER=$(head -c 9000 /dev/zero | tr '\0' y)
check "above 8 KiB lighttpd answers first (431, not from the worker)" bash -c \
    "[ \"\$(curl -s -o '$T/l431.body' -w '%{http_code}' -m 5 -H 'X-Big: $BIGGER' '$H/events/hdr')\" = 431 ] &&
    ! grep -q max-header '$T/l431.body'"
head -c 70000 /dev/zero > "$T/body70k"
check "413 for a 70 kB body on a stream path (before its 405)" \
    [ "$(status "$H/events/hdr" --data-binary @"$T/body70k")" = 413 ]
check "the worker logged the 431" grep -q 'request headers too large' "$T/worker.log"

# Redis down when a client connects: 503 + Retry-After.
kill "$RPID"; wait "$RPID" 2>/dev/null
wait_until 5 grep -q 'lost' "$T/worker.log"
code=$(curl -s -D "$T/503.hdr" -o "$T/503.body" -w '%{http_code}' -m 5 "$U/events/x")
check "503 when redis is down" [ "$code" = 503 ]
check "Retry-After on 503" grep -qi '^Retry-After: [0-9]' "$T/503.hdr"
check "503 reason" grep -q 'redis' "$T/503.body"
check "worker alive after 503" bash -c "for p in $WPIDS; do kill -0 \$p || exit 1; done"
finish
