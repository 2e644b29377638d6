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
wait_until 5 numsub_is ka.busy 1
wait_until 5 numsub_is ka.idle 1
t0=$(date +%s%N)
for i in $(seq 1 24); do
	rcli PUBLISH ka.busy "e$i" >/dev/null
	sleep 0.25
done
t1=$(date +%s%N)
echo "# published 24 events to ka.busy over $(( (t1 - t0) / 1000000 )) ms (keepalive 2 s)"
check "busy stream got every event" body_has busy 'data: e24'
check "busy stream got no keepalive in $(( (t1 - t0) / 1000000 )) ms" bash -c "! grep -q ': keepalive' '$T/busy.out'"
n=$(grep -c ': keepalive' "$T/idle.out")
echo "# idle stream: $n keepalives in the same time"
check "idle stream got keepalives ($n in ~6 s at 2 s)" [ "$n" -ge 2 ]
wait_until 4 body_has busy ': keepalive'
check "busy stream gets one once it falls quiet" body_has busy ': keepalive'

# Gaps between keepalives of an idle stream: at most keepalive + the tick.
: > "$T/gaps"
stream gap "$U/events/ka.gap"
wait_until 5 numsub_is ka.gap 1
start=$(date +%s%N); prev=$start; seen=0
while [ $seen -lt 3 ] && [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 12000 ]; do
	c=$(grep -c ': keepalive' "$T/gap.out")
	if [ "$c" -gt "$seen" ]; then
		now=$(date +%s%N); echo $(( (now - prev) / 1000000 )) >> "$T/gaps"
		prev=$now; seen=$c
	fi
	sleep 0.05
done
echo "# idle keepalive gaps, ms: $(tr '\n' ' ' < "$T/gaps")"
check "three keepalives within 12 s" [ "$seen" -ge 3 ]
check "no gap under 1 s (keepalive 2 s, up to a third early, less a tick)" bash -c "[ \$(sort -n '$T/gaps' | head -1) -ge 1000 ]"
check "no gap over 2.6 s (keepalive 2 s + the 0.25 s tick)" bash -c "[ \$(sort -n '$T/gaps' | tail -1) -le 2600 ]"

# max-lifetime is checked every second.
WSOCK=$T/life.sock start_workers 1 --keepalive 30 --max-lifetime 2
WSOCK=$T/life.sock start_lighttpd
stream life "$BASE/api/v1/events/ka.life"
wait_until 5 numsub_is ka.life 1
t0=$(date +%s%N)
wait_until 6 bash -c "! kill -0 $CURL_PID 2>/dev/null"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "max-lifetime 2 s ended the stream in ${ms} ms (keepalive 30 s)" [ "$ms" -le 3500 ]
check "with the lifetime comment" body_has life ': stream lifetime reached'
finish
