#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: one Redis connection per worker, shared by all its streams.
# Exercises: a channel is subscribed when its first local subscriber
# arrives and unsubscribed when the last leaves (PUBSUB NUMSUB), many
# streams and channels share one connection (CLIENT LIST), rapid
# subscribe/unsubscribe churn on one channel leaves a consistent state.
. "$(dirname "$0")/lib.sh"

start_redis
start_workers 1
start_lighttpd
U=$BASE/api/v1

check "no subscription before any client" numsub_is c1 0
pids=""
for i in 1 2 3; do stream c1_$i "$U/events/c1"; pids="$pids $CURL_PID"; done
stream c2 "$U/events/c2"; P2=$CURL_PID
wait_until 20 numsub_is c1 1
wait_until 20 numsub_is c2 1
check "three local subscribers, one redis subscription" numsub_is c1 1
check "second channel subscribed" numsub_is c2 1
conns=$(rcli CLIENT LIST | grep -c 'cmd=subscribe\|cmd=unsubscribe\|sub=[1-9]')
check "one subscriber connection for the worker" [ "$conns" = 1 ]
check "that connection holds both channels" bash -c "redis-cli -p $RPORT CLIENT LIST | grep -q 'sub=2 '"

rcli PUBLISH c1 to-all-three >/dev/null
for i in 1 2 3; do wait_until 20 body_has c1_$i 'data: to-all-three'; done
check "every local subscriber got it" bash -c "grep -l 'data: to-all-three' $T/c1_*.out | wc -l | grep -qx 3"

set -- $pids
W=$WPIDS
fds=$(ls /proc/$W/fd | wc -l)
kill $1 $2; wait $1 $2 2>/dev/null
# lighttpd notices a closed client on the next write: keepalive or event;
# then the worker has closed those two streams (their fds).
rcli PUBLISH c1 nudge >/dev/null
wait_until 20 body_has c1_3 'data: nudge'
wait_until 30 bash -c "[ \$(ls /proc/$W/fd | wc -l) -le $((fds - 2)) ]"
check "the worker closed the two streams" [ "$(ls /proc/$W/fd | wc -l)" -le $((fds - 2)) ]
check "still subscribed while one stream remains" numsub_is c1 1
kill $3; wait $3 2>/dev/null
rcli PUBLISH c1 nudge >/dev/null
wait_until 30 numsub_is c1 0
check "unsubscribed after the last one left" numsub_is c1 0
check "other channel unaffected" numsub_is c2 1

# Churn: 30 short-lived streams on one channel, 3 at a time, closed once
# the channel is subscribed (some of the three may still be opening), not
# after a fixed time that a slow machine may need just to open them.
for i in $(seq 1 10); do
	cp=""
	for j in 1 2 3; do curl -s -m 30 -o /dev/null "$U/events/churn" & cp="$cp $!"; done
	wait_until 20 numsub_is churn 1
	rcli PUBLISH churn x >/dev/null
	kill $cp 2>/dev/null; wait $cp 2>/dev/null
done
rcli PUBLISH churn x >/dev/null
wait_until 30 numsub_is churn 0
check "churn leaves no subscription behind" numsub_is churn 0
stream late "$U/events/churn"
wait_until 20 numsub_is churn 1
rcli PUBLISH churn after-churn >/dev/null
wait_until 20 body_has late 'data: after-churn'
check "subscribing again after churn works" body_has late 'data: after-churn'
check "worker alive" alive "$WPIDS"
finish
