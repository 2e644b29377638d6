# sse-fcgi - MIT License
#
# Shared helpers for the integration scenarios (tests/it-*.sh), sourced.
# Every service runs from a private temp dir on private ports on 127.0.0.1
# and is stopped by PID on exit. Honours TEST_PREFIX (e.g. "valgrind -q")
# for the worker. Each scenario reports one line per check and exits 1 if
# any check failed (automake counts the scenario as one test).
set -u
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/.." && pwd)}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
SSE_FCGI=${SSE_FCGI:-$top_builddir/sse-fcgi}
SSE_CLIENT=${SSE_CLIENT:-$top_builddir/tests/sse-client}
TEST_PREFIX=${TEST_PREFIX:-}
T=$(mktemp -d /tmp/sse-it.XXXXXX)
PIDS=""
CHECKS_OK=0
CHECKS_FAILED=0
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

for tool in redis-server redis-cli spawn-fcgi lighttpd curl; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ "${KEEP_TMP:-}" = "" ]; then rm -rf "$T"; else echo "kept $T"; fi
}
trap cleanup EXIT

# track PID: stop it at exit.
track() { PIDS="$PIDS $*"; }

# check DESCRIPTION COMMAND...: runs COMMAND, records ok / not ok.
check() {
	local d=$1; shift
	if "$@"; then
		CHECKS_OK=$((CHECKS_OK + 1)); echo "ok - $d"
	else
		CHECKS_FAILED=$((CHECKS_FAILED + 1)); echo "not ok - $d"
	fi
}

# finish: the scenario's verdict.
finish() {
	echo "# $(basename "$0"): $CHECKS_OK checks passed, $CHECKS_FAILED failed"
	if [ "$CHECKS_FAILED" -ne 0 ]; then
		echo "--- worker log"; tail -n 40 "$T"/worker*.log 2>/dev/null
		echo "--- lighttpd log"; tail -n 20 "$T"/lighttpd-error.log 2>/dev/null
		exit 1
	fi
	exit 0
}

# free_port: prints a TCP port nobody listens on, below the ephemeral
# range (32768+) so no client connection can be holding it.
free_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % 22000))
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
	done
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
	local limit=$(($1 * 10)) i=0; shift
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# start_redis [PORT]: sets RPORT, RPID.
start_redis() {
	RPORT=${1:-$(free_port)}
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --daemonize no --dir "$T" --maxclients 20000 \
	    > "$T/redis-$RPORT.log" 2>&1 &
	RPID=$!; track $RPID
	wait_until 10 rcli PING >/dev/null 2>&1 || { echo "redis did not start"; exit 1; }
}
rcli() { redis-cli -p "$RPORT" "$@"; }
# numsub CHANNEL: Redis-side subscriber count of CHANNEL.
numsub() { rcli PUBSUB NUMSUB "$1" | sed -n 2p; }
numsub_is() { [ "$(numsub "$1")" = "$2" ]; }

# start_workers N [ARGS...]: spawn-fcgi workers on $T/sse.sock; sets WPIDS.
# spawn-fcgi sends the workers' stderr to /dev/null, hence --log-file.
start_workers() {
	local n=$1; shift
	SOCK=$T/sse.sock
	rm -f "$SOCK" "$T/spawn.pid"
	spawn-fcgi -s "$SOCK" -F "$n" -P "$T/spawn.pid" -- \
	    $TEST_PREFIX "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" \
	    --log-file "$T/worker.log" "$@" >> "$T/worker.log" 2>&1 || { echo "spawn-fcgi failed"; cat "$T/worker.log"; exit 1; }
	WPIDS=$(tr '\n' ' ' < "$T/spawn.pid"); track $WPIDS
}

# start_lighttpd [EXTRA-CONFIG-LINES]: the shipped template; sets LPORT.
start_lighttpd() {
	LPORT=$(free_port)
	mkdir -p "$T/www"
	cp "$top_srcdir/deploy/demo/index.html" "$T/www/" 2>/dev/null || true
	sed -e "s|@PORT@|$LPORT|g" -e "s|@DOCROOT@|$T/www|g" \
	    -e "s|@SOCKET@|$T/sse.sock|g" -e "s|@STATEDIR@|$T|g" \
	    "$top_srcdir/deploy/lighttpd/sse-fcgi.conf.in" > "$T/lighttpd.conf"
	local retried=
	[ "${1:-}" = "--retried" ] && { retried=1; shift; }
	[ $# -gt 0 ] && printf '%s\n' "$@" >> "$T/lighttpd.conf"
	# Own session: with server.max-worker, lighttpd's master ends its
	# workers with kill(0, SIGTERM), which would hit this script too.
	setsid lighttpd -D -f "$T/lighttpd.conf" > "$T/lighttpd.out" 2>&1 &
	LPID=$!; track $LPID
	if ! wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$LPORT/"; then
		# Lost a race for the port with a parallel scenario: once more.
		kill $LPID 2>/dev/null; wait $LPID 2>/dev/null
		[ -n "$retried" ] && { echo "lighttpd did not start"; cat "$T/lighttpd.out"; exit 1; }
		start_lighttpd --retried "$@"; return
	fi
	BASE=http://127.0.0.1:$LPORT
}

# stream NAME URL [CURL-ARGS...]: curl -N in the background into $T/NAME.out
# (headers in $T/NAME.hdr); sets CURL_PID.
stream() {
	local name=$1 url=$2; shift 2
	curl -sN -H 'Accept: text/event-stream' -D "$T/$name.hdr" "$@" "$url" \
	    > "$T/$name.out" 2> "$T/$name.err" &
	CURL_PID=$!; track $CURL_PID
}
# has FILE PATTERN: grep -q in the file.
has() { grep -q -- "$2" "$1" 2>/dev/null; }
# body_has NAME TEXT: fixed-string match in a stream's body.
body_has() { grep -qF -- "$2" "$T/$1.out" 2>/dev/null; }
# status URL [CURL-ARGS...]: prints the HTTP status of a short request.
status() { local u=$1; shift; curl -s -o "$T/last.body" -w '%{http_code}' -m 5 "$@" "$u"; }
# alive PID
alive() { kill -0 "$1" 2>/dev/null; }
# threads PID: the process's thread count.
threads() { awk '/^Threads:/{print $2}' "/proc/$1/status"; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
