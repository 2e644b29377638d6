#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: initial events in a real browser. Headless Chromium (as in
# tests/it-browser.sh) opens, through lighttpd and a worker with
# --initial-events 'task.* 1', the quick start's TaskProgress component,
# unchanged (tests/browser/initial/task-progress.jsx), in the middle of a
# task that publishes its progress through the documented Redis script:
# the bar shows the current percent at once, before the next event, then
# follows live with each event once; a page opened later shows the state
# then; a task with no events yet stays at 0 until its first one. The
# control: through a second lighttpd whose worker has no initial events,
# the same page opened mid-task stays at 0. The checks are in
# tests/browser/initial.mjs. Skips (77) as it-browser.sh does.
. "$(dirname "$0")/lib.sh"

need_browser
start_redis
start_workers 1 --initial-events 'task.* 1'
W=$WPIDS
start_lighttpd
INITIAL_BASE=$BASE
WSOCK=$T/plain.sock start_workers 1
WP=$WPIDS
WSOCK=$T/plain.sock start_lighttpd
browser_run "$BROWSER_DIR/initial.mjs" "$INITIAL_BASE" "$T/www/initial" "$RPORT" "$BASE"
check "browser checks ran" [ "$(grep -c '^ok - ' "$T/browser.out")" -ge 6 ]
check "workers $W $WP alive" bash -c "kill -0 $W && kill -0 $WP"
finish
