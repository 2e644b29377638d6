#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: ids, history and gap-free resume.
# Exercises: a worker killed with SIGKILL mid-stream, 100 events published
# meanwhile through the Redis script, the client back with Last-Event-ID
# gets exactly those 100 in order; the same through a different worker
# pool behind a different lighttpd; resuming while a publisher keeps
# publishing gives every client a consecutive sequence (no gap, no
# duplicate); the lastEventId query parameter; a malformed id is a 400; an
# id older than the retained history and an unknown id replay what is kept
# and say so with an "sse-gap" event; raw PUBLISH is still delivered,
# without id.
. "$(dirname "$0")/lib.sh"

SECRET=resume-secret
start_redis
WARGS=(--publisher-secret "$SECRET" --history 'r.trim 3 0')
start_workers 1 "${WARGS[@]}"
W1=$WPIDS
start_lighttpd
BASE1=$BASE
U=$BASE/api/v1

# 1. kill -9 mid-stream.
stream a "$U/events/r.kill"; A=$CURL_PID
wait_until 20 numsub_is r.kill 1
for i in 1 2 3 4 5; do pub_http r.kill "m$i" >/dev/null; done
wait_until 20 body_has a 'data: m5'
check "live events carry ids" [ "$(ids_of a | wc -l)" = 5 ]
ids_of a | increasing; check "ids increase" [ $? = 0 ]
LAST=$(ids_of a | tail -1)
kill -9 $W1
wait_until 30 bash -c "! kill -0 $A 2>/dev/null"
check "client noticed the dead worker" bash -c "! kill -0 $A 2>/dev/null"
for i in $(seq 1 100); do pub_lua r.kill "k$i" >/dev/null; done
start_workers 1 "${WARGS[@]}"
W2=$WPIDS
stream_until a2 'data: k100' "$U/events/r.kill" -H "Last-Event-ID: $LAST"
seq 1 100 | sed 's/^/k/' > "$T/want100"
check "exactly the 100 missed events, in order" diff <(data_of a2) "$T/want100"
check "replayed events carry increasing ids" bash -c "[ \$(sed -n 's/^id: //p' '$T/a2.out' | wc -l) = 100 ]"

# 2. Another worker pool behind another lighttpd.
LAST2=$(ids_of a2 | sed -n 50p)
WSOCK=$T/sse2.sock start_workers 1 "${WARGS[@]}"
WSOCK=$T/sse2.sock start_lighttpd
U2=$BASE/api/v1
BASE=$BASE1
stream_until b 'data: k100' "$U2/events/r.kill" -H "Last-Event-ID: $LAST2"
check "other worker, other front server: the same 50 events" \
    diff <(data_of b) <(sed -n '51,100p' "$T/want100")

# 3. Resuming while a publisher keeps publishing: consecutive sequences.
stream x "$U/events/r.race"
wait_until 20 numsub_is r.race 1
# 100 a second, each at its due time (one redis-cli, the script by its
# sha), and a client resumes after every 50 the live one got: mid-publish
# however fast the machine is.
SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
seq 1 300 | sed "s/^/EVALSHA $SHA 2 sse:history:r.race sse:clock r.race \"\" 1000 0 n/" |
    python3 "$top_srcdir/tests/pace.py" 100 | redis-cli -p "$RPORT" > /dev/null &
PUB=$!; track $PUB
rpids=""
for k in 1 2 3 4 5; do
	wait_until 30 bash -c "[ \$(grep -c '^data: n' '$T/x.out') -ge $((50 * k)) ]"
	id=$(ids_of x | tail -1)
	[ -n "$id" ] || continue
	from=$(grep -A1 "^id: $id\$" "$T/x.out" | sed -n 's/^data: n//p')
	echo "$from" > "$T/r$k.from"
	# -N: written as it comes (the wait below reads it), not at exit.
	curl -sN -m 60 -H "Last-Event-ID: $id" "$U/events/r.race" > "$T/r$k.out" &
	rpids="$rpids $!"
done
wait $PUB
# Until each has the last event (a loaded machine publishes slowly).
for k in 1 2 3 4 5; do
	[ -s "$T/r$k.from" ] && wait_until 30 grep -qx 'data: n300' "$T/r$k.out"
done
kill $rpids 2>/dev/null
wait $rpids 2>/dev/null
ok=1; n=0
for k in 1 2 3 4 5; do
	[ -s "$T/r$k.from" ] || continue
	n=$((n + 1))
	from=$(cat "$T/r$k.from")
	diff <(data_of r$k) <(seq $((from + 1)) 300 | sed 's/^/n/') > /dev/null || {
		ok=0; echo "# client $k resumed after n$from: not n$((from + 1))..n300"; }
done
check "resumed $n clients mid-publish: each got a consecutive sequence" [ $ok = 1 -a $n -ge 3 ]
check "the live client got all 300 in order" diff <(data_of x | grep '^n') <(seq 1 300 | sed 's/^/n/')

# 4. lastEventId on the first connect; the header wins over it.
FIRST=$(ids_of a2 | sed -n 98p)
stream_until q 'data: k100' "$U/events/r.kill?lastEventId=$FIRST"
check "lastEventId query parameter resumes" diff <(data_of q) <(printf 'k99\nk100\n')
stream_until q2 'data: k100' "$U/events/r.kill?lastEventId=$FIRST" \
    -H "Last-Event-ID: $(ids_of a2 | sed -n 99p)"
check "Last-Event-ID header wins over the query" diff <(data_of q2) <(echo k100)

# 5. Malformed ids.
for bad in "abc" "1-2-3" "-1" "1-" "12345678901234567890123-1"; do
	check "malformed id '$bad' is a 400" [ "$(status "$U/events/r.kill" -H "Last-Event-ID: $bad")" = 400 ]
done
check "malformed lastEventId is a 400" [ "$(status "$U/events/r.kill?lastEventId=x")" = 400 ]

# 6. Older than the retained history (r.trim keeps 3), and unknown ids.
T1=$(pub_http r.trim t1); for i in 2 3 4 5 6; do pub_http r.trim t$i >/dev/null; done
stream_until t 'data: t6' "$U/events/r.trim" -H "Last-Event-ID: $T1"
check "trimmed: sse-gap event" grep -q '^event: sse-gap' "$T/t.out"
check "trimmed: reason given" grep -q '"reason":"trimmed"' "$T/t.out"
check "trimmed: the retained events follow" diff <(data_of t | grep '^t') <(printf 't4\nt5\nt6\n')
stream_until u 'data: t6' "$U/events/r.trim" -H 'Last-Event-ID: 99999999999999-99999999'
check "unknown id: sse-gap with reason unknown" grep -q '"reason":"unknown"' "$T/u.out"
check "unknown id: all retained events replayed" diff <(data_of u | grep '^t') <(printf 't4\nt5\nt6\n')

# 7. Raw PUBLISH next to published events: delivered, without id.
stream raw "$U/events/r.raw"
wait_until 20 numsub_is r.raw 1
pub_http r.raw with-id >/dev/null
rcli PUBLISH r.raw 'raw payload' >/dev/null
wait_until 20 body_has raw 'data: raw payload'
check "raw PUBLISH delivered" body_has raw 'data: raw payload'
check "raw PUBLISH has no id line" bash -c "grep -B1 'data: raw payload' '$T/raw.out' | head -1 | grep -vq '^id:'"
check "worker alive" alive $W2
finish
