#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: stream and worker lifecycle.
# Exercises: a closed client frees its state (fds back to baseline, channel
# unsubscribed); SIGHUP reopens the log file (rotation); SIGTERM ends every
# stream with a final comment and a clean FastCGI END_REQUEST (curl sees a
# complete response and exits 0) and the worker exits 0.
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

# Graceful stop.
stream last "$U/events/life.x"; C=$CURL_PID
wait_until 20 numsub_is life.x 1
kill -TERM "$W"
wait_until 30 bash -c "! kill -0 $C 2>/dev/null"
wait $C; rc=$?
check "curl saw a clean end of stream (exit 0)" [ "$rc" = 0 ]
check "final comment before the end" body_has last ': worker restarting; reconnect'
wait_until 30 bash -c "! kill -0 $W 2>/dev/null"
check "worker exited after SIGTERM" bash -c "! kill -0 $W 2>/dev/null"
check "stop logged" grep -q 'stopped' "$T/worker-file.log"
finish
