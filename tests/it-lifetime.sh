#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: --max-lifetime. A stream older than the limit ends cleanly
# (final comment, END_REQUEST: curl exits 0) at the next keepalive tick, so
# a front server's own request timeout (mod_fcgid's FcgidBusyTimeout) never
# kills it; the client reconnects with Last-Event-ID and misses nothing.
. "$(dirname "$0")/lib.sh"

SECRET=l-secret
start_redis
start_workers 1 --keepalive 1 --max-lifetime 2 --publisher-secret "$SECRET"
start_lighttpd
U=$BASE/api/v1

stream a "$U/events/l.chan"; A=$CURL_PID
wait_until 20 numsub_is l.chan 1
pub_http l.chan e1 >/dev/null
wait_until 30 bash -c "! kill -0 $A 2>/dev/null"
wait $A; rc=$?
check "stream ended by itself after max-lifetime, cleanly (curl exit 0)" [ $rc = 0 ]
check "the final comment says why" body_has a ': stream lifetime reached; reconnect'
check "with a retry: of its own (default 3 s, +- half)" bash -c \
    "tail -n 3 '$T/a.out' | awk '/^retry: / { r = \$2 } END { exit !(r >= 1500 && r < 4500) }'"
LAST=$(ids_of a | tail -1)
pub_http l.chan e2 >/dev/null
pub_http l.chan e3 >/dev/null
# This stream too ends by itself at max-lifetime; -m is only a backstop.
curl -s -m 60 -H "Last-Event-ID: $LAST" "$U/events/l.chan" > "$T/b.out"
check "the client resumes without loss" diff <(data_of b) <(printf 'e2\ne3\n')
check "worker alive" alive $WPIDS
finish
