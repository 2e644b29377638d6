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
SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
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
"$SSE_CLIENT" -q -E -Q -n $N -e $EVENTS -d 600 \
    -u "$BASE/api/v1/events/sa.chan?lastEventId=0-0" > "$T/es.out" 2> "$T/es.err" &
ES=$!; track $ES
wait_until 30 numsub_is sa.chan 1
awk -v n=$EVENTS -v sha="$SHA" 'BEGIN {
	for (i = 1; i <= n; i++)
		printf "EVALSHA %s 2 sse:history:sa.chan sse:clock sa.chan \"\" 1000 0 %d\n", sha, i
}' | python3 "$top_srcdir/tests/pace.py" 30 | redis-cli -p "$RPORT" > "$T/pub.out" &
PUB=$!; track $PUB
# published EVENTS: at least that many events are out (2 reply lines each).
published() { [ "$(wc -l < "$T/pub.out")" -ge $(($1 * 2)) ]; }
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
wait_until 120 bash -c "! kill -0 $ES 2>/dev/null"
wait $ES; rc=$?
echo "# $N clients, $EVENTS events, 2 restarts: $(cat "$T/es.out")"
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$T/es.out"; }
check "every client got every event once, in order, across 2 restarts" [ $rc = 0 ]
check "no answer but 200 (the socket never refused)" [ "$(field http_non200)" = 0 ]
check "no client gave up" [ "$(field dead)" = 0 ]
check "every client reconnected on each restart" [ "$(field reconnects)" -ge $((N * 2)) ]
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
check "activated, LISTEN_FDS not a number: exit 2" bash -c "[ $rc = 2 ] && grep -q 'LISTEN_FDS=x' <<< '$out'"
finish
