#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: bad requests get a clear status and one-line reason, and leave
# an open stream untouched: 400 bad channel names (characters, length,
# encoding), 404 unknown paths, 405 wrong methods; when max-streams are
# open or Redis is down at connect time, a 200 text/event-stream with a
# jittered retry:, a comment saying why and a clean end (any other status
# would stop a browser's EventSource for good), nothing streamed; 431
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

# max-streams: a worker that is full sends the client away to come back
# (200, retry:, a reason, the end), each client with a delay of its own.
WSOCK=$T/cap.sock start_workers 1 --max-streams 2
WSOCK=$T/cap.sock start_lighttpd
stream cap1 "$BASE/api/v1/events/cap"; CAP1=$CURL_PID
stream cap2 "$BASE/api/v1/events/cap"
wait_until 30 bash -c "grep -q '^: ok' '$T/cap1.out' && grep -q '^: ok' '$T/cap2.out'"
code=$(curl -s -D "$T/cap.hdr" -o "$T/cap.body" -w '%{http_code}' -m 30 "$BASE/api/v1/events/cap"); rc=$?
# deferred NAME CODE RC: a complete 200 event stream with a retry: in the
# default's range (3000 ms +- half) and no event, no ": ok".
deferred() {
	[ "$2" = 200 ] && [ "$3" = 0 ] &&
	    grep -qi '^Content-Type: text/event-stream' "$T/$1.hdr" &&
	    grep -qE '^retry: [0-9]+$' "$T/$1.body" &&
	    awk '/^retry: / { r = $2 } END { exit !(r >= 1500 && r < 4500) }' "$T/$1.body" &&
	    ! grep -qE '^(data|id|event):|^: ok' "$T/$1.body"
}
check "full worker: 200 event stream, retry: 1.5-4.5 s, nothing streamed, clean end" deferred cap "$code" "$rc"
check "full worker: the comment says why" grep -q '^: too many streams' "$T/cap.body"
for i in $(seq 1 20); do
	curl -s -m 30 "$BASE/api/v1/events/cap" | sed -n 's/^retry: //p'
done > "$T/cap.retries"
echo "# retry: values for 20 deferred clients: $(sort -n "$T/cap.retries" | tr '\n' ' ')"
check "20 deferred clients, 20 answers with retry:" [ "$(wc -l < "$T/cap.retries")" = 20 ]
check "their delays are spread (at least 15 distinct)" [ "$(sort -u "$T/cap.retries" | wc -l)" -ge 15 ]
kill "$CAP1"
check "a freed slot is taken by a client coming back" wait_until 20 bash -c \
    "curl -s -N -m 10 '$BASE/api/v1/events/cap' 2>/dev/null | grep -q -m1 '^: ok'"

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

# Redis down when a client connects: sent away to come back, as above.
kill "$RPID"; wait "$RPID" 2>/dev/null
wait_until 30 grep -q 'lost' "$T/worker.log"
code=$(curl -s -D "$T/down.hdr" -o "$T/down.body" -w '%{http_code}' -m 30 "$U/events/x"); rc=$?
# The delay grows with the outage (at first the default's 1.5-4.5 s, but a
# slow machine may already be past it), so only its presence here.
check "redis down: 200 event stream, retry:, nothing streamed, clean end" bash -c \
    "[ '$code' = 200 ] && [ '$rc' = 0 ] && grep -qi '^Content-Type: text/event-stream' '$T/down.hdr' &&
    grep -qE '^retry: [0-9]+\$' '$T/down.body' && ! grep -qE '^(data|id|event):|^: ok' '$T/down.body'"
check "redis down: the comment names redis" grep -q '^: redis is unreachable' "$T/down.body"
# After 8 s of outage the nominal delay is the outage's age: 4-12 s.
sleep 8
curl -s -m 30 -o "$T/down2.body" "$U/events/x"
echo "# redis down 8 s: $(grep '^retry:' "$T/down2.body")"
check "redis down 8 s: the retry: has grown (4 s at least, 60 s at most)" \
    awk '/^retry: / { r = $2 } END { exit !(r >= 4000 && r <= 60000) }' "$T/down2.body"
check "worker alive after deferring" bash -c "for p in $WPIDS; do kill -0 \$p || exit 1; done"
finish
