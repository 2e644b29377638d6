#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: real browsers are never left dead by a transient condition.
# Headless Chromium opens the quick start's useSSE page (tests/browser
# patterns, unchanged) through lighttpd while the worker cannot stream it:
#   - Redis not running yet (tests/browser/retry.mjs starts it afterwards);
#   - the worker's max-streams (1) held by another client, which then leaves.
# And a page open across an in-place upgrade of its worker (SIGUSR2) keeps
# receiving, with the same EventSource.
# The worker sends the page away with a 200 and a retry: (a 503 would stop
# EventSource for good); the page must show the first event published once
# it can be streamed, with the same EventSource, without a reload.
# Skips (77) as tests/it-browser.sh does.
. "$(dirname "$0")/lib.sh"

need_browser
RPORT=$(free_port)
mkdir -p "$T/redis-late"
start_workers 1 --retry 1000
DOWN_W=$WPIDS
start_lighttpd
DOWN_BASE=$BASE
WSOCK=$T/cap.sock start_workers 1 --max-streams 1 --retry 1000
WSOCK=$T/cap.sock start_lighttpd
CAP_BASE=$BASE
check "pattern pages built with esbuild" build_patterns "$T/www/patterns"
browser_run "$BROWSER_DIR/retry.mjs" "$DOWN_BASE" "$CAP_BASE" patterns "$RPORT" "$T/redis-late" "$DOWN_W"
check "browser checks ran" [ "$(grep -c '^ok - ' "$T/browser.out")" -ge 10 ]
# The process the upgrade started is not spawn-fcgi's: stopped by PID.
S=$(successor_of "$DOWN_W")
[ -n "$S" ] && kill "$S" 2>/dev/null
# retry.mjs stops the redis-server it started; by its PID here too, in
# case it was cut short.
[ -s "$T/redis-late/pid" ] && kill "$(cat "$T/redis-late/pid")" 2>/dev/null
finish
