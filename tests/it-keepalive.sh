#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: keepalive comments go only to idle streams.
# Exercises: a stream that gets an event at least every keepalive seconds
# never gets a keepalive comment (under load every stream is busy, and a
# worker-wide keepalive pass would hold up the next events behind
# thousands of writes); an idle stream gets one at most keepalive seconds
# (plus a quarter-second tick) after the last thing it was sent; max-lifetime
# ends a stream within a tick or so of its limit, not at the next
# keepalive.
. "$(dirname "$0")/lib.sh"

start_redis
start_workers 1 --keepalive 2
start_lighttpd
U=$BASE/api/v1

stream busy "$U/events/ka.busy"
stream idle "$U/events/ka.idle"
wait_until 20 numsub_is ka.busy 1
wait_until 20 numsub_is ka.idle 1
# One event every 0.25 s, each at its due time (one redis-cli for all).
t0=$(date +%s%N)
seq 1 24 | sed 's/^/PUBLISH ka.busy e/' | python3 "$top_srcdir/tests/pace.py" 4 |
    redis-cli -p "$RPORT" > /dev/null
t1=$(date +%s%N)
echo "# published 24 events to ka.busy over $(( (t1 - t0) / 1000000 )) ms (keepalive 2 s)"
check "busy stream got every event" wait_until 20 body_has busy 'data: e24'
# From the first event to the last: before, it waited for the publisher
# to start (seconds on a busy machine), after, it is the next check's.
check "busy stream got no keepalive between its events" \
    bash -c "sed -n '/^data: e1\$/,/^data: e24\$/p' '$T/busy.out' | grep -c ': keepalive' | grep -qx 0"
n=$(grep -c ': keepalive' "$T/idle.out")
echo "# idle stream: $n keepalives in the same time"
check "idle stream got keepalives ($n in ~6 s at 2 s)" [ "$n" -ge 2 ]
wait_until 10 body_has busy ': keepalive'
check "busy stream gets one once it falls quiet" body_has busy ': keepalive'

# Gaps between keepalives of an idle stream: at most keepalive + the tick.
# Each line is stamped when it arrives (a blocking read, not polling), and
# the gaps are between keepalives only: the time to subscribe is not one.
curl -sN "$U/events/ka.gap" 2>/dev/null > >(stamp_lines > "$T/gap.out") &
track $!
check "four keepalives in a row" \
    wait_until 30 bash -c "[ \$(grep -c ': keepalive\$' '$T/gap.out') -ge 4 ]"
awk '/: keepalive$/ { if (p) print $1 - p; p = $1 }' "$T/gap.out" | head -n 3 > "$T/gaps"
echo "# idle keepalive gaps, ms: $(tr '\n' ' ' < "$T/gaps")"
check "no gap under 1 s (keepalive 2 s, up to a third early, less a tick)" \
    bash -c "[ -s '$T/gaps' ] && [ \$(sort -n '$T/gaps' | head -1) -ge 1000 ]"
# Due at most 2.25 s apart; 3 s leaves room for a busy machine and still
# fails a keepalive that waits for the next interval (4 s).
check "no gap over 3 s (keepalive 2 s + the 0.25 s tick)" \
    bash -c "[ -s '$T/gaps' ] && [ \$(sort -n '$T/gaps' | tail -1) -le 3000 ]"

# max-lifetime is checked every second.
WSOCK=$T/life.sock start_workers 1 --keepalive 30 --max-lifetime 2
WSOCK=$T/life.sock start_lighttpd
stream life "$BASE/api/v1/events/ka.life"
wait_until 20 numsub_is ka.life 1
t0=$(date +%s%N)
wait_until 40 bash -c "! kill -0 $CURL_PID 2>/dev/null"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# max-lifetime 2 s: the stream ended ${ms} ms after it was subscribed"
# Due within ~3 s; 12 s leaves room for a busy machine and still fails an
# end at the next keepalive (30 s).
check "max-lifetime 2 s ended the stream before the keepalive (${ms} ms, keepalive 30 s)" [ "$ms" -le 12000 ]
check "with the lifetime comment" body_has life ': stream lifetime reached'
finish
