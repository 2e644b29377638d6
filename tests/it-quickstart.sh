#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: the quick start, unchanged. Publishes exactly as its Python
# publisher (broadcaster) does, a plain Redis PUBLISH of its JSON, and
# reads it with the quick start's own curl line through lighttpd mounted
# at /api/v1.
. "$(dirname "$0")/lib.sh"

start_redis
start_workers 2
start_lighttpd

MSG='{"type":"notification","object":{"message":"Hello World!","timestamp":"2024-01-01T00:00:00Z"}}'
curl -N -s -H 'Accept: text/event-stream' \
    "http://127.0.0.1:$LPORT/api/v1/events/project.123" > "$T/qs.out" &
track $!
wait_until 5 numsub_is project.123 1
check "worker subscribed" numsub_is project.123 1
check "publish reaches one worker" [ "$(rcli PUBLISH project.123 "$MSG")" = 1 ]
wait_until 5 grep -qF "data: $MSG" "$T/qs.out"
check "event carries the JSON verbatim" grep -qxF "data: $MSG" "$T/qs.out"
check "event ends with a blank line" bash -c "grep -A1 -F 'Hello World' '$T/qs.out' | tail -1 | grep -qx ''"
finish
