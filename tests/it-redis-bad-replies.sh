#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: hostile or broken Redis replies (tests/fake-redis.py; a real
# server cannot send them). Exercises: malformed and unexpected replies on
# the subscriber connection are logged and ignored, an unsolicited
# UNSUBSCRIBE is repaired by subscribing again, bytes that are not RESP
# drop the connection and the worker reconnects; the stream stays open,
# receives the good messages, and the worker never crashes.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3"; exit 77; }

RPORT=$(free_port)
python3 "$top_srcdir/tests/fake-redis.py" "$RPORT" > "$T/fake.log" 2>&1 &
track $!
wait_until 5 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$RPORT) 2>/dev/null"
start_workers 1
start_lighttpd

stream s "$BASE/api/v1/events/bad.replies"; S=$CURL_PID
wait_until 10 body_has s 'data: good-2'
check "message after the garbage delivered" body_has s 'data: good-1'
check "message after the reconnect delivered" body_has s 'data: good-2'
check "nothing else became an event" [ "$(grep -c '^data:' "$T/s.out")" = 2 ]
check "protocol error logged" grep -q 'protocol error' "$T/worker.log"
check "unexpected replies logged" grep -q 'unexpected' "$T/worker.log"
check "error reply logged" grep -q 'injected error' "$T/worker.log"
check "stream stayed open" alive $S
check "worker alive" alive $WPIDS
finish
