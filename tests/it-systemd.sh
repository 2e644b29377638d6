#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: the shipped systemd units and sample config (deploy/systemd/).
# Exercises: systemd-analyze accepts sse-fcgi.socket and sse-fcgi@.service;
# the socket is the path every shipped front-server config uses, for the
# web server's group; the service's ExecStart, run as systemd runs it
# (socket activation: tests/socket-holder.py holds the socket as systemd
# would, the worker takes it on fd 3) with paths substituted and the
# sample config, serves streams through lighttpd, says READY=1
# (Type=notify); SIGHUP (log reopening) keeps it running; a reload
# (ExecReload: the in-place upgrade) hands over to a new process that
# systemd follows (MAINPID=) and the client comes back to it; a restart
# (systemctl restart) ends the stream
# cleanly and the client comes back on the same socket; SIGTERM (systemctl
# stop) makes the worker exit 0.
. "$(dirname "$0")/lib.sh"

SOCKET_UNIT=$top_srcdir/deploy/systemd/sse-fcgi.socket
UNIT=$top_srcdir/deploy/systemd/sse-fcgi@.service
start_redis
sed -e "s|redis://127.0.0.1:6379|redis://127.0.0.1:$RPORT|" -e 's|^keepalive = 15|keepalive = 1|' \
    "$top_srcdir/deploy/systemd/sse-fcgi.conf" > "$T/sse-fcgi.conf"

if command -v systemd-analyze >/dev/null; then
	sed "s|/usr/local/bin/sse-fcgi|$SSE_FCGI|" "$UNIT" > "$T/sse-fcgi@.service"
	cp "$SOCKET_UNIT" "$T/sse-fcgi.socket"
	out=$(cd "$T" && systemd-analyze verify --man=no "$T/sse-fcgi.socket" "$T/sse-fcgi@1.service" 2>&1 |
	    grep -v "User.*sse-fcgi\|Group.*sse-fcgi"); rc=$?
	check "systemd-analyze verify accepts both units ($out)" [ -z "$out" ]
fi
# unit_value FILE KEY: the value of KEY= in a unit file.
unit_value() { sed -n "s/^$2=//p" "$1"; }
SOCK_PATH=$(unit_value "$SOCKET_UNIT" ListenStream)
check "the socket is /run/sse-fcgi/sse.sock" [ "$SOCK_PATH" = /run/sse-fcgi/sse.sock ]
for f in deploy/nginx/sse-fcgi.conf deploy/apache/sse-fcgi-proxy.conf; do
	check "$f uses that socket" grep -q "unix:$SOCK_PATH[;|]" "$top_srcdir/$f"
done
check "for the web server's group (www-data, 0660)" bash -c \
    "[ '$(unit_value "$SOCKET_UNIT" SocketGroup)' = www-data ] && [ '$(unit_value "$SOCKET_UNIT" SocketMode)' = 0660 ]"
check "the service takes the socket unit's socket" \
    [ "$(unit_value "$UNIT" Sockets)" = sse-fcgi.socket ]
check "Type=notify, so systemd follows an upgrade's new process" \
    [ "$(unit_value "$UNIT" Type)" = notify ]
RELOAD_SIG=$(unit_value "$UNIT" ExecReload | sed -n 's|^/bin/kill -\([A-Z0-9]*\) \$MAINPID$|\1|p')
check "reload is the in-place upgrade (SIGUSR2)" [ "$RELOAD_SIG" = USR2 ]

# ExecStart as systemd runs it, under a stand-in for the socket unit; root
# here, so without User=.
CMD=$(unit_value "$UNIT" ExecStart | sed -e "s|/usr/local/bin/sse-fcgi|$SSE_FCGI|" \
    -e "s|/etc/sse-fcgi/sse-fcgi.conf|$T/sse-fcgi.conf|")
check "ExecStart found" [ -n "$CMD" ]
mkdir -p "$T/run"
SOCK=$T/run/sse.sock
python3 "$top_srcdir/tests/socket-holder.py" "$SOCK" "$T/worker.pid" -- \
    $TEST_PREFIX $CMD --log-file "$T/worker.log" > "$T/holder.out" 2>&1 &
HOLDER=$!; track $HOLDER
wait_until 20 grep -qs 'ready: socket on fd 3' "$T/worker.log"
check "the worker listens on the socket systemd passes" grep -q 'ready: socket on fd 3 (systemd)' "$T/worker.log"
check "mode 0660 so the web server's group can connect" [ "$(stat -c %a "$SOCK")" = 660 ]
W=$(cat "$T/worker.pid")
WSOCK=$SOCK start_lighttpd
stream a "$BASE/api/v1/events/sd.chan"; A=$CURL_PID
wait_until 20 numsub_is sd.chan 1
rcli PUBLISH sd.chan hello >/dev/null
wait_until 20 body_has a 'data: hello'
check "streams through the unit's worker" body_has a 'data: hello'
# Within 10 s: the sample's own keepalive is 15 s.
check "sample config applied (keepalive 1 s)" wait_until 10 body_has a ': keepalive'
kill -HUP $W
# Once it has handled the signal (it logs that), it must still run.
wait_until 20 grep -q 'SIGHUP: log file reopened' "$T/worker.log"
check "SIGHUP (reopen the log) keeps the worker" alive $W
check "READY=1 to systemd once it accepts" grep -q "^$W READY=1" "$T/worker.pid.notify.log"
INODE=$(stat -c %i "$SOCK")
kill -"$RELOAD_SIG" $W		# systemctl reload
wait_until 30 bash -c "! kill -0 $A 2>/dev/null"
wait $A; rc=$?
check "reload: the client saw a clean end with a retry:" \
    bash -c "[ $rc = 0 ] && grep -q '^retry: ' '$T/a.out'"
check "reload: systemd follows the new process (MAINPID)" \
    wait_until 30 bash -c "[ \"\$(cat '$T/worker.pid')\" != $W ] && ! kill -0 $W 2>/dev/null"
W=$(cat "$T/worker.pid")
check "reload: the new process took the same socket over" \
    grep -q "sse-fcgi\[$W\] info: .*ready: socket on fd 3, taken over from pid" "$T/worker.log"
stream a "$BASE/api/v1/events/sd.chan"; A=$CURL_PID
wait_until 20 numsub_is sd.chan 1
rcli PUBLISH sd.chan reloaded >/dev/null
check "reload: streams again" wait_until 20 body_has a 'data: reloaded'
kill -HUP $HOLDER	# systemctl restart: SIGTERM, wait, start again
wait_until 30 bash -c "! kill -0 $A 2>/dev/null"
wait $A; rc=$?
check "restart: the client saw a clean end with a retry:" \
    bash -c "[ $rc = 0 ] && grep -q '^retry: ' '$T/a.out'"
check "restart: a new worker on the same socket" \
    wait_until 30 bash -c "[ -s '$T/worker.pid' ] && [ \"\$(cat '$T/worker.pid')\" != $W ] && grep -q 'ready: socket on fd 3' '$T/worker.log'"
check "restart: the same socket all along" [ "$(stat -c %i "$SOCK")" = "$INODE" ]
stream b "$BASE/api/v1/events/sd.chan"; B=$CURL_PID
wait_until 20 numsub_is sd.chan 1
rcli PUBLISH sd.chan again >/dev/null
check "restart: streams again" wait_until 20 body_has b 'data: again'
W=$(cat "$T/worker.pid")
kill -TERM $HOLDER	# systemctl stop
wait_until 30 bash -c "! kill -0 $W 2>/dev/null"
check "stop (SIGTERM): the worker exits, cleanly" grep -q "sse-fcgi\[$W\] info: main: stopped" "$T/worker.log"
wait $B; check "stop: the client saw a clean end" [ $? = 0 ]
finish
