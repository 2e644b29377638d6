#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: stream and worker lifecycle.
# Exercises: a closed client frees its state (fds back to baseline, channel
# unsubscribed); SIGHUP reopens the log file (rotation); SIGTERM ends every
# stream with a final comment, a retry: of its own and a clean FastCGI
# END_REQUEST (curl sees a complete response and exits 0) and the worker
# exits 0.
. "$(dirname "$0")/lib.sh"

start_redis
start_workers 1 --keepalive 1 --log-file "$T/worker-file.log" --log-level debug
start_lighttpd
U=$BASE/api/v1
W=$WPIDS

# The baseline once the worker holds its Redis connections.
wait_until 30 grep -q 'connected to redis' "$T/worker-file.log"
base_fds=$(ls /proc/$W/fd | wc -l)
echo "# worker $W holds $base_fds fds before the streams"
pids=""
for i in $(seq 1 20); do stream s$i "$U/events/life.$((i % 4))"; pids="$pids $CURL_PID"; done
wait_until 20 numsub_is life.3 1
wait_until 30 bash -c "[ \$(( \$(ls /proc/$W/fd | wc -l) - $base_fds )) -ge 20 ]"
check "20 streams hold 20 more fds" [ $(( $(ls /proc/$W/fd | wc -l) - base_fds )) -ge 20 ]
kill $pids; wait $pids 2>/dev/null
wait_until 30 bash -c "[ \$(ls /proc/$W/fd | wc -l) -le $base_fds ]"
check "fds back to baseline after clients left" [ "$(ls /proc/$W/fd | wc -l)" -le "$base_fds" ]
# Redis answers the UNSUBSCRIBE after the fds are closed.
check "channels unsubscribed" wait_until 20 numsub_is life.0 0
check "disconnects logged at debug, with channel and reason" grep -q 'closed after [0-9]*s, channels life\.[0-3]: web server closed the connection' "$T/worker-file.log"

# Log rotation.
mv "$T/worker-file.log" "$T/worker-file.log.1"
kill -HUP "$W"
wait_until 20 test -s "$T/worker-file.log"
check "SIGHUP reopened the log file" grep -q 'log file reopened' "$T/worker-file.log"
check "worker alive after SIGHUP" alive "$W"

# Graceful stop: every stream ends cleanly with a retry: of its own, so
# the browsers do not all come back in the same instant.
stream last "$U/events/life.x"; C=$CURL_PID
byes=""
for i in $(seq 1 20); do stream bye$i "$U/events/life.y"; byes="$byes $CURL_PID"; done
wait_until 20 numsub_is life.x 1
wait_until 20 bash -c "for i in \$(seq 1 20); do grep -q '^: ok' '$T'/bye\$i.out || exit 1; done"
kill -TERM "$W"
wait_until 30 bash -c "! kill -0 $C 2>/dev/null"
wait $C; rc=$?
check "curl saw a clean end of stream (exit 0)" [ "$rc" = 0 ]
check "final comment before the end" body_has last ': worker restarting; reconnect'
wait_until 30 bash -c "for p in $byes; do kill -0 \$p 2>/dev/null && exit 1; done; exit 0"
for i in $(seq 1 20); do tail -n 3 "$T/bye$i.out" | sed -n 's/^retry: //p'; done > "$T/bye.retries"
echo "# retry: values at the end of 20 streams: $(sort -n "$T/bye.retries" | tr '\n' ' ')"
check "each of 20 streams ended with its own retry: (1.5-4.5 s)" bash -c \
    "[ \$(wc -l < '$T/bye.retries') = 20 ] && awk '\$1 < 1500 || \$1 >= 4500 { exit 1 }' '$T/bye.retries'"
check "their delays are spread (at least 15 distinct)" [ "$(sort -u "$T/bye.retries" | wc -l)" -ge 15 ]
wait_until 30 bash -c "! kill -0 $W 2>/dev/null"
check "worker exited after SIGTERM" bash -c "! kill -0 $W 2>/dev/null"
check "stop logged" grep -q 'stopped' "$T/worker-file.log"
finish
