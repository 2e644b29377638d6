#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: lighttpd spawns the workers itself (deploy/lighttpd/
# sse-fcgi-spawned.conf, "bin-path"). Exercises: the shipped file, with
# paths and ports substituted, starts max-procs workers with their settings
# from bin-environment; an event reaches curl; worker logs reach
# server.breakagelog; after a lighttpd restart a client resuming with its last id
# misses nothing.
. "$(dirname "$0")/lib.sh"

SECRET=sp-secret
start_redis
# The streaming settings of the main template, our spawned block instead of
# its fastcgi.server (":=" replaces it).
SPAWNED=$(sed -e "s|/run/lighttpd/sse-fcgi.sock|$T/spawned.sock|" \
    -e "s|/usr/local/bin/sse-fcgi|$SSE_FCGI|" \
    -e "s|/var/log/lighttpd/sse-fcgi.log|$T/breakage.log|" \
    -e "s|redis://127.0.0.1:6379|redis://127.0.0.1:$RPORT|" \
    -e 's|"SSE_FCGI_KEEPALIVE" => "15",|"SSE_FCGI_KEEPALIVE" => "1", "SSE_FCGI_PUBLISHER_SECRET" => "'"$SECRET"'",|' \
    -e 's|^fastcgi.server = (|fastcgi.server := (|' \
    -e '/^server.modules/d' -e '/^server.stream-response-body/d' \
    "$top_srcdir/deploy/lighttpd/sse-fcgi-spawned.conf")
start_lighttpd "$SPAWNED"
U=$BASE/api/v1

wait_until 20 bash -c "[ \$(pgrep -P $LPID -c -f '$SSE_FCGI') -ge 2 ]"
check "lighttpd started max-procs (2) workers" [ "$(pgrep -P $LPID -c -f "$SSE_FCGI")" = 2 ]
stream a "$U/events/sp.chan"
wait_until 20 numsub_is sp.chan 1
pub_http sp.chan first >/dev/null
wait_until 20 body_has a 'data: first'
check "event through lighttpd-spawned workers" body_has a 'data: first'
# Within 10 s: the shipped value is 15 s.
wait_until 10 body_has a ': keepalive'
check "settings from bin-environment (keepalive 1 s)" body_has a ': keepalive'
check "worker logs in server.breakagelog" grep -q 'sse-fcgi.*ready' "$T/breakage.log"

LAST=$(ids_of a | tail -1)
# Until lighttpd's workers are gone (by PID: a pgrep -f of the socket path
# matched the waiting shell's own command line, so it always ran out).
OLDW=$(pgrep -P $LPID -f "$SSE_FCGI" | tr '\n' ' ')
kill $LPID; wait $LPID 2>/dev/null
wait_until 30 bash -c "for p in $OLDW; do kill -0 \$p 2>/dev/null && exit 1; done; exit 0"
pub_lua sp.chan during >/dev/null
start_lighttpd "$SPAWNED"
U=$BASE/api/v1
wait_until 20 bash -c "[ \$(pgrep -P $LPID -c -f '$SSE_FCGI') -ge 2 ]"
pub_lua sp.chan after >/dev/null
stream_until b 'data: after' "$U/events/sp.chan" -H "Last-Event-ID: $LAST"
check "after a lighttpd restart the client resumes without loss" \
    diff <(data_of b) <(printf 'during\nafter\n')
finish
