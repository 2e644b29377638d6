#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: real browsers. Headless Chromium (Debian's chromium, driven by
# playwright-core from tests/browser/node_modules; no browser is downloaded)
# opens, through lighttpd + spawn-fcgi workers:
#   - the demo page (deploy/demo/index.html at /): its three streams open,
#     the quick-start notification and a task.7 progress event published
#     with redis-cli PUBLISH show up; a screenshot is kept as
#     $SSE_ARTIFACTS/demo.png (default $top_builddir/tests/artifacts);
#   - the quick start's own front-end patterns (tests/browser/patterns,
#     bundled with esbuild into $T/www/patterns): plain EventSource with
#     onmessage + JSON.parse, the React useSSE hook, the Zustand
#     EventSource store, React Query setQueryData, the notifications list
#     and the task progress bar; each receives what is published;
#   - EventSource's own reconnection with Last-Event-ID against a second
#     worker pool with --max-lifetime 2, mounted at /life: events published
#     between two connections arrive once, in order.
# The checks themselves are in tests/browser/run.mjs (one line each).
# Skips (77) without node, npm, chromium or tests/browser/node_modules
# (cd tests/browser && npm ci).
. "$(dirname "$0")/lib.sh"

need_browser
ARTIFACTS=${SSE_ARTIFACTS:-$top_builddir/tests/artifacts}
mkdir -p "$ARTIFACTS" && rm -f "$ARTIFACTS/demo.png"

start_redis
# The demo and the patterns: two workers, as deployed.
start_workers 2 --keepalive 1
POOL=$WPIDS
# Streams that end by themselves after 2 s (at a 1 s keepalive tick), for
# the browser's own reconnection; retry 1500 ms leaves a gap to publish in.
WSOCK=$T/life.sock start_workers 1 --keepalive 1 --max-lifetime 2 --retry 1500
POOL="$POOL $WPIDS"
start_lighttpd 'fastcgi.server += ( "/life" => (( "socket" => "'"$T"'/life.sock", "check-local" => "disable" )) )'

check "pattern pages built with esbuild" build_patterns "$T/www/patterns"

browser_run "$BROWSER_DIR/run.mjs" "$BASE" "$T/www/patterns" "$ARTIFACTS" "$RPORT" \
    /life/events/browser.resume
check "browser checks ran" [ "$(grep -c '^ok - ' "$T/browser.out")" -ge 20 ]
check "screenshot $ARTIFACTS/demo.png kept, a non-empty PNG" \
    bash -c "[ -s '$ARTIFACTS/demo.png' ] && [ \"\$(head -c 8 '$ARTIFACTS/demo.png' | od -An -tx1 | tr -d ' \n')\" = 89504e470d0a1a0a ]"
for p in $POOL; do check "worker $p alive" alive $p; done
finish
