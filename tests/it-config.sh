#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: configuration from flags, environment and a config file.
# Exercises: --help and --version, bad flags and values (exit 2, message,
# no crash), precedence file < environment < flag, --listen unix:PATH and
# HOST:PORT standalone behind lighttpd, no listening socket on fd 0, a bad
# Redis URL.
. "$(dirname "$0")/lib.sh"

start_redis

"$SSE_FCGI" --help > "$T/help.out"; rc=$?
check "--help exits 0" [ $rc = 0 ]
check "--help lists --keepalive and its env var" bash -c "grep -q -- '--keepalive' '$T/help.out' && grep -q SSE_FCGI_KEEPALIVE '$T/help.out'"
check "--help fits 80 columns" bash -c "! awk 'length > 79' '$T/help.out' | grep -q ."
check "--version" bash -c "'$SSE_FCGI' --version | grep -q '^sse-fcgi [0-9]'"
for bad in "--nope" "--keepalive" "--keepalive abc" "--keepalive 0" "--retry -1" \
    "--queue-limit 12q" "--log-level loud" "extra-arg" "--listen nowhere"; do
	"$SSE_FCGI" $bad </dev/null > "$T/bad.out" 2> "$T/bad.err"; rc=$?
	check "bad input '$bad' exits 2 with a message" bash -c "[ $rc = 2 ] && [ -s '$T/bad.err' ]"
done
"$SSE_FCGI" --redis 'http://x' --listen "unix:$T/x.sock" 2> "$T/badurl.err" </dev/null; rc=$?
check "bad redis URL refused" bash -c "[ $rc = 2 ] && grep -q -- '--redis' '$T/badurl.err'"
"$SSE_FCGI" < /dev/null 2> "$T/nofd.err"; rc=$?
check "no socket on fd 0 explained" bash -c "[ $rc = 2 ] && grep -q 'spawn-fcgi' '$T/nofd.err'"
printf 'keepalive = 7\nbogus = 1\n' > "$T/bad.conf"
"$SSE_FCGI" --config "$T/bad.conf" 2> "$T/badconf.err" </dev/null; rc=$?
check "unknown key in config file names file and line" bash -c "[ $rc = 2 ] && grep -q 'bad.conf:2' '$T/badconf.err'"
"$SSE_FCGI" --config "$T/missing.conf" 2> "$T/miss.err" </dev/null; rc=$?
check "missing config file refused" [ $rc = 2 ]

# Precedence: the file says retry 1111, the environment 2222, the flag 3333.
printf '# test\nredis = redis://127.0.0.1:%s\nretry = 1111\nkeepalive = 1\n' "$RPORT" > "$T/w.conf"
run_standalone() {
	LPORT_W=$(free_port)
	SSE_FCGI_RETRY=${ENV_RETRY:-} $TEST_PREFIX "$SSE_FCGI" --config "$T/w.conf" \
	    --listen "127.0.0.1:$LPORT_W" "$@" >> "$T/worker.log" 2>&1 &
	WP=$!; track $WP
	wait_until 20 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$LPORT_W) 2>/dev/null"
}
light_tcp() {
	start_lighttpd 'fastcgi.server := ( "/api/v1" => (( "host" => "127.0.0.1", "port" => '"$LPORT_W"', "check-local" => "disable" )) )'
}
run_standalone
light_tcp
stream_until p1 'retry: ' "$BASE/api/v1/events/cfg"
check "config file value used (retry 1111)" grep -q 'retry: 1111' "$T/p1.out"
kill $WP $LPID; wait $WP $LPID 2>/dev/null
ENV_RETRY=2222 run_standalone
light_tcp
stream_until p2 'retry: ' "$BASE/api/v1/events/cfg"
check "environment beats file (retry 2222)" grep -q 'retry: 2222' "$T/p2.out"
kill $WP $LPID; wait $WP $LPID 2>/dev/null
ENV_RETRY=2222 run_standalone --retry 3333
light_tcp
stream_until p3 'retry: ' "$BASE/api/v1/events/cfg"
check "flag beats environment (retry 3333)" grep -q 'retry: 3333' "$T/p3.out"
check "standalone HOST:PORT streams" grep -q '^: ok' "$T/p3.out"
kill $WP $LPID; wait $WP $LPID 2>/dev/null

# Standalone on a unix socket.
$TEST_PREFIX "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" --listen "unix:$T/sse.sock" >> "$T/worker.log" 2>&1 &
WP=$!; track $WP
wait_until 20 test -S "$T/sse.sock"
start_lighttpd
stream u "$BASE/api/v1/events/unix.chan"
wait_until 20 numsub_is unix.chan 1
rcli PUBLISH unix.chan via-unix >/dev/null
wait_until 20 body_has u 'data: via-unix'
check "standalone unix:PATH streams" body_has u 'data: via-unix'
finish
