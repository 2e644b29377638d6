# sse-fcgi - MIT License
#
# What the benchmark scripts (bench.sh, callgrind.sh, scale.sh) share:
# a private temp dir, tracking and stopping only the processes they start,
# time-limited waits, free ports, process accounting from /proc, a private
# Redis and lighttpd from the shipped config. Source it after setting
# BENCH_NAME (the name in error messages and of the temp dir) and
# top_srcdir. KEEP_TMP=1 keeps the temp dir.

T=$(mktemp -d "/tmp/sse-$BENCH_NAME.XXXXXX")
PIDS=""

cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ -n "${KEEP_TMP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
track() { PIDS="$PIDS $*"; }
# stop PID...: TERM, up to 10 s, then KILL; only our own processes.
stop() {
	local p i
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for i in $(seq 100); do
		for p in "$@"; do kill -0 "$p" 2>/dev/null && break; done
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	for p in "$@"; do kill -9 "$p" 2>/dev/null; done
	for p in "$@"; do wait "$p" 2>/dev/null; done
}
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
# wait_until SECONDS COMMAND...: polls every 0.1 s.
wait_until() {
	local limit=$(($1 * 10)) i=0; shift
	while [ $i -lt $limit ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done
	return 1
}
listening() { (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; }
# free_port: a port nobody listens on, below the ephemeral range.
free_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % 22000))
		listening $p || { echo $p; return; }
	done
}
# rss_kb PID...: the sum of their VmRSS.
rss_kb() {
	local p t=0 r
	for p in "$@"; do
		r=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		t=$((t + ${r:-0}))
	done
	echo $t
}

# start_redis: a private Redis without persistence; sets RPORT and RPID.
start_redis() {
	RPORT=$(free_port)
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --maxclients 30000 --daemonize no \
	    --dir "$T" > "$T/redis-$RPORT.log" 2>&1 &
	RPID=$!; track $RPID
	wait_until 10 redis-cli -p "$RPORT" PING >/dev/null 2>&1 ||
	    die "redis did not start"
}

# start_lighttpd SOCKET [MAX_CONNECTIONS PROCESSES]: lighttpd from the
# shipped deploy/lighttpd/sse-fcgi.conf.in, to the workers on SOCKET; with
# the limits given, only its fd, connection and process counts change (and
# a longer listen backlog). Sets LPORT and LPID (the master; its workers
# are its children).
start_lighttpd() {
	local sock=$1 maxconn=${2:-} procs=${3:-}
	local -a more=()
	LPORT=$(free_port)
	mkdir -p "$T/www"
	[ -n "$maxconn" ] && more+=(-e 's|^server.max-fds .*|server.max-fds = 20000|'
	    -e "s|^server.max-connections .*|server.max-connections = $maxconn|")
	[ -n "$procs" ] && more+=(-e "s|^#server.max-worker = .*|server.max-worker = $procs|")
	sed -e "s|@PORT@|$LPORT|g" -e "s|@DOCROOT@|$T/www|g" \
	    -e "s|@SOCKET@|$sock|g" -e "s|@STATEDIR@|$T|g" "${more[@]}" \
	    "$top_srcdir/deploy/lighttpd/sse-fcgi.conf.in" > "$T/lighttpd.conf"
	[ -n "$maxconn" ] && echo 'server.listen-backlog = 4096' >> "$T/lighttpd.conf"
	# Own session: lighttpd's master ends its workers with kill(0, TERM).
	setsid lighttpd -D -f "$T/lighttpd.conf" > "$T/lighttpd.out" 2>&1 &
	LPID=$!; track $LPID
	wait_until 10 listening "$LPORT" ||
	    die "lighttpd did not start: $(cat "$T/lighttpd.out")"
}
