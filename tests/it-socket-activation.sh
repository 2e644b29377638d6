#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: socket activation, as the shipped sse-fcgi.socket unit gives it
# (tests/socket-holder.py stands in for systemd: it owns the listening
# socket and passes it on fd 3 with LISTEN_FDS / LISTEN_PID). The worker
# takes its socket from there; a restart (systemctl restart: SIGTERM, wait,
# start) under 200 EventSource-like clients (tests/sse-client -E) and
# steady publishing never refuses a connection, because the socket outlives
# the worker: every client gets every event once, in order, and no answer
# but 200. Then bad activation variables get a clear error.
. "$(dirname "$0")/lib.sh"

start_redis
mkdir -p "$T/run"
SOCK=$T/run/sse.sock
python3 "$top_srcdir/tests/socket-holder.py" "$SOCK" "$T/worker.pid" -- \
    $TEST_PREFIX "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" --keepalive 2 \
    --log-level debug --log-file "$T/worker.log" > "$T/holder.out" 2>&1 &
HOLDER=$!; track $HOLDER
wait_until 20 grep -qs 'ready: socket on fd 3' "$T/worker.log"
check "the worker takes the socket systemd passes (fd 3)" grep -q 'ready: socket on fd 3' "$T/worker.log"
W1=$(cat "$T/worker.pid")
WSOCK=$SOCK start_lighttpd

N=200 EVENTS=300
es_start es $N $EVENTS "$BASE/api/v1/events/sa.chan?lastEventId=0-0"
wait_until 30 numsub_is sa.chan 1
publish_seq sa.chan $EVENTS 30
# published EVENTS: at least that many events are out (2 reply lines each).
published() { [ "$(wc -l < "$T/pub-sa.chan.out")" -ge $(($1 * 2)) ]; }
# all_back PID: that worker has opened a stream for each of the N clients.
all_back() { [ "$(grep -c "sse-fcgi\[$1\] debug: stream_open: stream .* opened" "$T/worker.log")" -ge $N ]; }
for at in 60 150; do
	wait_until 60 all_back "$W1"
	wait_until 60 published $at
	kill -HUP $HOLDER		# systemctl restart
	wait_until 30 bash -c "[ \"\$(cat '$T/worker.pid' 2>/dev/null)\" != '$W1' ]"
	W1=$(cat "$T/worker.pid")
	echo "# restarted after $at events: worker $W1"
done
wait $PUB
es_verdict es "$N clients, $EVENTS events, 2 restarts" $N $EVENTS $((N * 2))
check "lighttpd logged no backend error" bash -c "! grep -qiE 'connect|disabled|overload' '$T/lighttpd-error.log'"
kill -TERM $HOLDER; wait $HOLDER 2>/dev/null

# Bad activation: a clear error, exit 2; a LISTEN_PID of another process
# is not for this one.
out=$(LISTEN_PID=$$ LISTEN_FDS=1 "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" 2>&1 < /dev/null); rc=$?
check "LISTEN_PID of another process: ignored (fd 0 is not a socket either)" \
    bash -c "[ $rc = 2 ] && grep -q 'no socket from systemd' <<< '$out'"
out=$(bash -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --redis "redis://127.0.0.1:'"$RPORT"'" 3< /dev/null' "$SSE_FCGI" 2>&1); rc=$?
check "activated, fd 3 not a socket: exit 2 with the reason" \
    bash -c "[ $rc = 2 ] && grep -q 'fd 3 is not a listening socket' <<< '$out'"
out=$(bash -c 'LISTEN_PID=$$ LISTEN_FDS=x exec "$0" --redis "redis://127.0.0.1:'"$RPORT"'" 3< /dev/null' "$SSE_FCGI" 2>&1); rc=$?
check "activated, LISTEN_FDS not a number: exit 2" bash -c "[ $rc = 2 ] && grep -q 'LISTEN_FDS=x is not a count' <<< '$out'"
finish
