#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: Redis lost mid-stream. Streams stay open while Redis is away;
# the worker logs the loss, reconnects with backoff, logs that, resubscribes
# every channel it still serves, and the open streams receive again.
. "$(dirname "$0")/lib.sh"

start_redis
start_workers 1 --keepalive 1
start_lighttpd
U=$BASE/api/v1

stream a "$U/events/r.a"; A=$CURL_PID
stream b "$U/events/r.b"; B=$CURL_PID
wait_until 20 numsub_is r.a 1
wait_until 20 numsub_is r.b 1
rcli PUBLISH r.a before >/dev/null
wait_until 20 body_has a 'data: before'
check "delivered before the outage" body_has a 'data: before'

kill "$RPID"; wait "$RPID" 2>/dev/null
wait_until 20 grep -q 'lost' "$T/worker.log"
check "loss logged" grep -q 'redis connection to .* lost' "$T/worker.log"
# The outage lasts two keepalives (1 s) on stream a, however long they take.
ka=$(grep -c ': keepalive' "$T/a.out")
check "keepalives continue during the outage" \
    wait_until 30 bash -c "[ \$(grep -c ': keepalive' '$T/a.out') -ge $((ka + 2)) ]"
check "stream a open during the outage" alive $A
check "stream b open during the outage" alive $B

start_redis "$RPORT"
wait_until 30 numsub_is r.a 1
wait_until 30 numsub_is r.b 1
check "resubscribed r.a" numsub_is r.a 1
check "resubscribed r.b" numsub_is r.b 1
check "reconnect logged" bash -c "grep -c 'connected to redis' '$T/worker.log' | grep -qx 2"
rcli PUBLISH r.a after-a >/dev/null
rcli PUBLISH r.b after-b >/dev/null
wait_until 20 body_has a 'data: after-a'
wait_until 20 body_has b 'data: after-b'
check "stream a receives after reconnect" body_has a 'data: after-a'
check "stream b receives after reconnect" body_has b 'data: after-b'
finish
