#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: the shipped systemd unit and sample config (deploy/systemd/).
# Exercises: systemd-analyze accepts the unit; its ExecStart line, run as
# systemd would run it (spawn-fcgi -n becomes the worker, same PID) with
# paths substituted and the sample config, serves streams through
# lighttpd; SIGTERM (systemctl stop/restart) ends them cleanly and the
# worker exits 0; SIGHUP (systemctl reload) keeps it running.
. "$(dirname "$0")/lib.sh"

UNIT=$top_srcdir/deploy/systemd/sse-fcgi@.service
start_redis
mkdir -p "$T/run"
sed -e "s|redis://127.0.0.1:6379|redis://127.0.0.1:$RPORT|" -e 's|^keepalive = 15|keepalive = 1|' \
    "$top_srcdir/deploy/systemd/sse-fcgi.conf" > "$T/sse-fcgi.conf"

if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/local/bin/sse-fcgi|$SSE_FCGI|" "$UNIT" > "$T/sse-fcgi@.service"
	out=$(cd "$T" && systemd-analyze verify --man=no "$T/sse-fcgi@1.service" 2>&1); rc=$?
	check "systemd-analyze verify accepts the unit ($out)" [ $rc = 0 -a -z "$out" ]
fi

# ExecStart as systemd runs it; root here, so without the user switches.
CMD=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$UNIT" | sed 's/\\$//' | tr '\n' ' ' |
    sed -e 's/^ExecStart=//' -e 's/%i/1/g' -e "s|/run/sse-fcgi|$T/run|g" \
    -e "s|/usr/local/bin/sse-fcgi|$SSE_FCGI|" -e "s|/etc/sse-fcgi/sse-fcgi.conf|$T/sse-fcgi.conf|" \
    -e 's/ -U [^ ]* -G [^ ]*//' -e 's/ -u [^ ]* -g [^ ]*//')
check "ExecStart found" [ -n "$CMD" ]
$CMD --log-file "$T/worker.log" > "$T/exec.out" 2>&1 &
W=$!; track $W
wait_until 20 test -S "$T/run/sse-1.sock"
check "socket /run/sse-fcgi/sse-%i.sock created" test -S "$T/run/sse-1.sock"
check "mode 0660 so the web server's group can connect" [ "$(stat -c %a "$T/run/sse-1.sock")" = 660 ]
WSOCK=$T/run/sse-1.sock start_lighttpd
stream a "$BASE/api/v1/events/sd.chan"; A=$CURL_PID
wait_until 20 numsub_is sd.chan 1
check "spawn-fcgi -n became the worker (same PID subscribed)" bash -c "[ \$(redis-cli -p $RPORT CLIENT LIST | grep -c 'sub=1') -ge 1 ] && grep -q 'sse-fcgi' /proc/$W/comm"
rcli PUBLISH sd.chan hello >/dev/null
wait_until 20 body_has a 'data: hello'
check "streams through the unit's worker" body_has a 'data: hello'
# Within 10 s: the sample's own keepalive is 15 s.
check "sample config applied (keepalive 1 s)" wait_until 10 body_has a ': keepalive'
kill -HUP $W
# Once it has handled the signal (it logs that), it must still run.
wait_until 20 grep -q 'SIGHUP: log file reopened' "$T/worker.log"
check "reload (SIGHUP) keeps the worker" alive $W
kill -TERM $W
wait $W; rc=$?
check "stop (SIGTERM): worker exits 0" [ $rc = 0 ]
wait $A; check "stop: the client saw a clean end" [ $? = 0 ]
finish
