#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: browsers never give up. Clients that reconnect exactly as
# EventSource does (tests/sse-client -E: after the last retry:, with
# Last-Event-ID; any answer but 200 is final) meet the transient conditions
# a worker sends them away for, and every one of them still gets every
# event once, in order, with no answer other than 200:
#   1. Redis unreachable when they connect (the worker starts first);
#   2. max-streams reached (5 slots for 15 clients; each client leaves once
#      it has every event, as a page that closes).
# Each client asks for the channel's history from the start
# (?lastEventId=0-0), so coming back late loses nothing.
. "$(dirname "$0")/lib.sh"

# 1. Redis down as the clients connect.
RPORT=$(free_port)
start_workers 1 --log-level debug
start_lighttpd
es_start down 20 100 "$BASE/api/v1/events/rc.down?lastEventId=0-0"
check "clients are sent back while redis is down" \
    wait_until 30 bash -c "[ \$(grep -c 'deferred a stream' '$T/worker.log') -ge 20 ]"
start_redis "$RPORT"
publish_seq rc.down 100 20
wait $PUB
es_verdict down "redis down at connect" 20 100 20

# 2. max-streams: 5 slots, 15 clients.
WSOCK=$T/cap.sock start_workers 1 --max-streams 5 --log-level debug
WSOCK=$T/cap.sock start_lighttpd
es_start cap 15 60 "$BASE/api/v1/events/rc.cap?lastEventId=0-0"
check "clients over max-streams are sent back" \
    wait_until 30 bash -c "[ \$(grep -c 'deferring a stream' '$T/worker.log') -ge 10 ]"
publish_seq rc.cap 60 20
wait $PUB
es_verdict cap "max-streams 5 for 15 clients" 15 60 10
finish
