#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: the browser client deploy/js/sse-fcgi.js (SharedEventSource) in
# headless Chromium, through lighttpd + two workers + Redis:
#   - four tabs of one origin open the same channel: one stream (stats);
#     events published with the history script reach each tab once, in
#     order; the leading tab closes while events are published and the
#     other three go on with nothing lost or doubled, still on one stream;
#     a tab that comes back behind the leader is replayed the gap;
#   - several channels of one page share one stream and each object gets
#     only its own channel's events, named ones included;
#   - a pool mounted at /late whose socket does not exist yet (lighttpd
#     answers 503): SharedEventSource keeps trying and streams once the
#     worker is there, plain EventSource gives up; its worker killed under
#     the stream: the client comes back with Last-Event-ID and no gap; the
#     page left and opened again resumes from its last id (sessionStorage);
#     a stream dropped while offline: no attempt until online, then a
#     resume;
#   - the quick start's hooks (useSSE, Zustand, React Query; the pattern
#     pages bundled with EventSource replaced by SharedEventSource), and the
#     demo page's three channels on one stream.
# The checks are in tests/browser/shared.mjs. Skips (77) as
# tests/it-browser.sh does.
. "$(dirname "$0")/lib.sh"

need_browser
start_redis
start_workers 2 --stats-interval 1 --retry 1000
POOL=$WPIDS
# /late: no worker on its socket until shared.mjs starts one (LATE_START).
start_lighttpd 'fastcgi.server += ( "/late" => (( "socket" => "'"$T"'/late.sock", "check-local" => "disable" )) )'
cp "$BROWSER_DIR/shared.html" "$T/www/"
check "pattern pages built with SharedEventSource in place of EventSource" \
    build_patterns "$T/www/shared-patterns" --shared
export LATE_START="spawn-fcgi -s '$T/late.sock' -P '$T/late.pid' -- \
    '$SSE_FCGI' --redis redis://127.0.0.1:$RPORT --log-file '$T/worker-late.log' --retry 1000"
export LATE_PIDFILE=$T/late.pid
browser_run "$BROWSER_DIR/shared.mjs" "$BASE" "$RPORT" "$top_srcdir/deploy/redis/sse-publish.lua"
check "browser checks ran" [ "$(grep -c '^ok - ' "$T/browser.out")" -ge 15 ]
[ -s "$T/late.pid" ] && kill "$(cat "$T/late.pid")" 2>/dev/null
for p in $POOL; do check "worker $p alive" alive $p; done
finish
