#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: Redis restarted (append-only file on) while clients stream.
# Exercises: history survives the restart; events published right after
# Redis is back, before the worker has subscribed again, still reach the
# open streams (the worker replays from each stream's last id when its
# connection returns); a client that reconnects with Last-Event-ID after
# the restart gets exactly what it missed.
. "$(dirname "$0")/lib.sh"

SECRET=h-secret
REDIS_AOF=1 start_redis
start_workers 1 --publisher-secret "$SECRET" --keepalive 1
start_lighttpd
U=$BASE/api/v1

stream live "$U/events/h.chan"; L=$CURL_PID
stream live2 "$U/events/h.chan,h.other"; L2=$CURL_PID
wait_until 20 ready live
wait_until 20 ready live2
for i in $(seq 1 10); do pub_http h.chan "p$i" >/dev/null; done
wait_until 20 body_has live 'data: p10'
wait_until 20 body_has live2 'data: p10'
MID=$(ids_of live | sed -n 5p)

kill "$RPID"; wait "$RPID" 2>/dev/null
wait_until 20 grep -q 'lost' "$T/worker.log"
check "publishing while redis is down fails with 503" \
    [ "$(status "$U/publish/h.chan" -X POST -H "Authorization: Bearer $SECRET" -d x)" = 503 ]
REDIS_AOF=1 start_redis "$RPORT"
# Straight away, before the worker's backoff brings it back.
for i in $(seq 11 20); do pub_lua h.chan "p$i" >/dev/null; done
check "history survived the restart" [ "$(rcli XLEN sse:history:h.chan)" = 20 ]
wait_until 30 body_has live 'data: p20'
check "open stream got the events published before the worker was back" \
    diff <(data_of live) <(seq 1 20 | sed 's/^/p/')
wait_until 20 body_has live2 'data: p20'
check "open multi-channel stream too" \
    diff <(data_of live2) <(seq 1 20 | sed 's/^/p/')
check "streams stayed open" bash -c "kill -0 $L && kill -0 $L2"
check "resync logged" grep -q 'resume from their last event id' "$T/worker.log"
for i in $(seq 21 25); do pub_http h.chan "p$i" >/dev/null; done
wait_until 20 body_has live 'data: p25'
check "HTTP publishing works again" body_has live 'data: p25'

stream_until back 'data: p25' "$U/events/h.chan" -H "Last-Event-ID: $MID"
check "client back after the restart gets p6..p25" \
    diff <(data_of back) <(seq 6 25 | sed 's/^/p/')
finish
