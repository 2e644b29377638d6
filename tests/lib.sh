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
ALL_WPIDS=""
# VALGRIND=1: workers run under memcheck; finish() stops them gracefully
# and fails on any error or leak in their reports.
if [ -n "${VALGRIND:-}" ]; then
	TEST_PREFIX="$(command -v valgrind) -q --leak-check=full \
--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
--log-file=$T/vg.%p"
fi
CHECKS_OK=0
CHECKS_FAILED=0
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# Sanitizer reports of a --enable-sanitizers build land here (a worker's
# stderr may be /dev/null under spawn-fcgi); finish() fails on any.
export ASAN_OPTIONS="log_path=$T/asan:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$T/ubsan:print_stacktrace=1:${UBSAN_OPTIONS:-}"

# make distcheck runs the unit tests only: the scenarios already ran twice.
[ -n "${SSE_UNIT_ONLY:-}" ] && { echo "SKIP: SSE_UNIT_ONLY is set"; exit 77; }
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
	local p
	if [ -n "${VALGRIND:-}" ]; then
		for p in $ALL_WPIDS; do kill -TERM "$p" 2>/dev/null; done
		for p in $ALL_WPIDS; do
			wait_until 30 bash -c "! kill -0 $p 2>/dev/null"
		done
		if ! ls "$T"/vg.* >/dev/null 2>&1; then
			CHECKS_FAILED=$((CHECKS_FAILED + 1))
			echo "not ok - valgrind wrote no report"
		elif [ -n "$(cat "$T"/vg.*)" ]; then
			CHECKS_FAILED=$((CHECKS_FAILED + 1))
			echo "not ok - valgrind memcheck found errors or leaks:"
			head -n 80 "$T"/vg.*
		else
			CHECKS_OK=$((CHECKS_OK + 1))
			echo "ok - valgrind memcheck: 0 errors, 0 leaks in $(ls "$T"/vg.* | wc -l) worker(s)"
		fi
	fi
	if ls "$T"/asan.* "$T"/ubsan.* >/dev/null 2>&1; then
		CHECKS_FAILED=$((CHECKS_FAILED + 1))
		echo "not ok - sanitizer reports:"; head -n 60 "$T"/asan.* "$T"/ubsan.* 2>/dev/null
	fi
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

# wait_until SECONDS COMMAND...: polls COMMAND every 0.1 s, for SECONDS
# times WAIT_SCALE (default 1; tests/run.sh raises it for the sanitizer
# and valgrind runs and under CI): a wait ends as soon as COMMAND holds, so
# only a wait that fails takes longer.
wait_until() {
	local limit=$(($1 * 10 * ${WAIT_SCALE:-1})) i=0; shift
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# start_redis [PORT]: sets RPORT, RPID. REDIS_AOF=1: append-only file in
# $T/redis-PORT (kept across restarts on the same port).
start_redis() {
	RPORT=${1:-$(free_port)}
	local aof=no
	mkdir -p "$T/redis-$RPORT"
	[ -n "${REDIS_AOF:-}" ] && aof=yes
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' \
	    --appendonly $aof --appendfsync always --daemonize no \
	    --dir "$T/redis-$RPORT" --maxclients 20000 \
	    >> "$T/redis-$RPORT.log" 2>&1 &
	RPID=$!; track $RPID
	wait_until 10 rcli PING >/dev/null 2>&1 || { echo "redis did not start"; exit 1; }
}
rcli() { redis-cli -p "$RPORT" "$@"; }
# numsub CHANNEL: Redis-side subscriber count of CHANNEL.
numsub() { rcli PUBSUB NUMSUB "$1" | sed -n 2p; }
numsub_is() { [ "$(numsub "$1")" = "$2" ]; }

# start_workers N [ARGS...]: spawn-fcgi workers on $WSOCK (default
# $T/sse.sock), to $WREDIS (default the Redis of start_redis); sets WPIDS.
# spawn-fcgi sends the workers' stderr to /dev/null, hence --log-file.
start_workers() {
	local n=$1; shift
	local sock=${WSOCK:-$T/sse.sock}
	rm -f "$sock" "$T/spawn.pid"
	spawn-fcgi -s "$sock" -F "$n" -P "$T/spawn.pid" -- \
	    $TEST_PREFIX "$SSE_FCGI" --redis "${WREDIS:-redis://127.0.0.1:$RPORT}" \
	    --log-file "$T/worker.log" "$@" >> "$T/worker.log" 2>&1 || { echo "spawn-fcgi failed"; cat "$T/worker.log"; exit 1; }
	WPIDS=$(tr '\n' ' ' < "$T/spawn.pid" | sed 's/ *$//'); track $WPIDS
	ALL_WPIDS="$ALL_WPIDS $WPIDS"
}

# start_lighttpd [EXTRA-CONFIG-LINES]: the shipped template, to the workers
# on $WSOCK (default $T/sse.sock); sets LPORT, LPID, BASE. LIGHTTPD_SED, if
# set, is one more sed expression applied to the template.
start_lighttpd() {
	LPORT=$(free_port)
	mkdir -p "$T/www"
	cp "$top_srcdir/deploy/demo/index.html" "$T/www/" 2>/dev/null || true
	mkdir -p "$T/www/js" && cp "$top_srcdir/deploy/js/sse-fcgi.js" "$T/www/js/" 2>/dev/null || true
	sed -e "s|@PORT@|$LPORT|g" -e "s|@DOCROOT@|$T/www|g" \
	    -e "s|@SOCKET@|${WSOCK:-$T/sse.sock}|g" -e "s|@STATEDIR@|$T|g" \
	    -e "s|lighttpd.pid|lighttpd-$LPORT.pid|" -e "${LIGHTTPD_SED:-}" \
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

# nginx: the shipped server block (deploy/nginx/sse-fcgi.conf) inside the
# test template deploy/nginx/nginx-test.conf.in.
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
FASTCGI_PARAMS=${FASTCGI_PARAMS:-/etc/nginx/fastcgi_params}
# nginx_conf: the shipped snippet with test listeners and socket, in the
# test template. NGINX_SED, if set, is one more sed expression applied to
# the snippet.
nginx_conf() {
	sed -e 's|^\([[:space:]]*\)listen 80;|\1listen 127.0.0.1:@PORT@;\n\1listen 127.0.0.1:@H2PORT@ http2;|' \
	    -e '/^[[:space:]]*listen \[::\]:80;/d' \
	    -e 's|unix:/run/sse-fcgi/sse.sock;|unix:@SOCKET@;|' -e "${NGINX_SED:-}" \
	    "$top_srcdir/deploy/nginx/sse-fcgi.conf" > "$T/sse-fcgi.conf.in"
	grep -q 'listen 127.0.0.1:@H2PORT@ http2;' "$T/sse-fcgi.conf.in" &&
	    grep -q 'unix:@SOCKET@;' "$T/sse-fcgi.conf.in" ||
	    { echo "deploy/nginx/sse-fcgi.conf: no 'listen 80;' or socket line to replace"; exit 1; }
	cp "$FASTCGI_PARAMS" "$T/fastcgi_params"
	mkdir -p "$T/nginx-tmp"
	local subst=(-e "s|@PORT@|$NPORT|g" -e "s|@H2PORT@|$N2PORT|g"
	    -e "s|@SOCKET@|${WSOCK:-$T/sse.sock}|g" -e "s|@STATEDIR@|$T|g")
	sed "${subst[@]}" "$T/sse-fcgi.conf.in" > "$T/sse-fcgi.conf"
	sed "${subst[@]}" "$top_srcdir/deploy/nginx/nginx-test.conf.in" > "$T/nginx.conf"
}
NGINX_ARGS=()
# start_nginx: sets NPORT, N2PORT, NPID, BASE, H2BASE.
start_nginx() {
	NPORT=$(free_port); N2PORT=$(free_port)
	while [ "$N2PORT" = "$NPORT" ]; do N2PORT=$(free_port); done
	nginx_conf
	NGINX_ARGS=(-e "$T/nginx-error.log" -p "$T/" -c "$T/nginx.conf")
	# Own session, like lighttpd: signals to nginx's process group stay there.
	setsid "$NGINX" "${NGINX_ARGS[@]}" > "$T/nginx.out" 2>&1 &
	NPID=$!; track $NPID
	if ! wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$NPORT/" ||
	    ! curl -s -o /dev/null --http2-prior-knowledge "http://127.0.0.1:$N2PORT/"; then
		kill $NPID 2>/dev/null; wait $NPID 2>/dev/null
		[ -n "${1:-}" ] && { echo "nginx did not start"; cat "$T/nginx.out" "$T/nginx-error.log"; exit 1; }
		start_nginx --retried; return   # lost a port race: once more
	fi
	BASE=http://127.0.0.1:$NPORT
	H2BASE=http://127.0.0.1:$N2PORT
}

# stream NAME URL [CURL-ARGS...]: curl -N in the background into $T/NAME.out
# (headers in $T/NAME.hdr); sets CURL_PID.
stream() {
	local name=$1 url=$2; shift 2
	curl -sN -H 'Accept: text/event-stream' -D "$T/$name.hdr" "$@" "$url" \
	    > "$T/$name.out" 2> "$T/$name.err" &
	CURL_PID=$!; track $CURL_PID
}
# js FILE EXPR: a value from a JSON file (d is the document).
js() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@" 2>/dev/null; }
# get NAME URL [CURL-ARGS...]: body to $T/NAME, prints the status.
get() { local n=$1 u=$2; shift 2; curl -s -m 10 -o "$T/$n" -w '%{http_code}' "$@" "$u"; }
# jwt_key: an HS256 key in $T/jwt.key; tok CLAIMS: a token it signs.
jwt_key() { printf '%s\n' "presence-test-secret-0123456789abcdef" > "$T/jwt.key"; }
tok() { python3 "$top_srcdir/tests/jwt-mint.py" HS256 "$T/jwt.key" "$1"; }
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
# val SUMMARY FIELD: FIELD's value in an sse-client summary line.
val() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# Publishing helpers. pub_http CHANNEL DATA [EVENT]: HTTP POST through the
# front server at $BASE with $SECRET; prints the id.
pub_http() {
	local q=""; [ $# -ge 3 ] && q="?event=$3"
	curl -s -m 10 -X POST -H "Authorization: Bearer $SECRET" \
	    --data-binary "$2" "$BASE/api/v1/publish/$1$q" |
	    sed -n 's/.*"id":"\([0-9-]*\)".*/\1/p'
}
# pub_lua CHANNEL DATA [EVENT]: the documented Redis script; prints the id.
pub_lua() {
	rcli --raw EVAL "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")" 2 \
	    "sse:history:$1" sse:clock "$1" "${3:-}" 1000 0 "$2" | head -1
}
# data_of NAME / ids_of NAME: the data or id lines of a stream's body.
data_of() { sed -n 's/^data: //p' "$T/$1.out"; }
ids_of() { sed -n 's/^id: //p' "$T/$1.out"; }
# increasing: are the ids on stdin strictly increasing (by sequence)?
increasing() { awk -F- 'NR > 1 && $2 <= prev { exit 1 } { prev = $2 }'; }

now_us() { local t=$EPOCHREALTIME; echo $(( ${t/[.,]/} )); }
# latencies NAME CHANNEL: publishes 10 events on CHANNEL and measures, in
# ms, until each shows in stream NAME's body. One redis-cli stays connected
# and takes a PUBLISH per line, so no process start is in the figure.
# Sets LATS (the list), LAT_MED and LAT_MAX.
latencies() {
	local name=$1 ch=$2 i t0
	coproc PUBCLI { redis-cli -p "$RPORT" > /dev/null; }
	track $PUBCLI_PID
	LATS=""
	for i in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.05
		t0=$(now_us)
		echo "PUBLISH $ch lat$i" >&"${PUBCLI[1]}"
		until grep -q "^data: lat$i\$" "$T/$name.out"; do
			[ $(( $(now_us) - t0 )) -gt 2000000 ] && break
		done
		LATS="$LATS $(( ($(now_us) - t0) / 1000 ))"
	done
	eval "exec ${PUBCLI[1]}>&-"	# EOF: that redis-cli exits
	LAT_MAX=$(printf '%s\n' $LATS | sort -n | tail -1)
	LAT_MED=$(printf '%s\n' $LATS | sort -n | sed -n 5p)
}

# stream_until NAME TEXT URL [CURL-ARGS...]: a stream that stays open (a
# resume, a first look), read into $T/NAME.out until its body has TEXT (30 s
# at most), then for 0.5 s more, so that anything that should not come
# (a duplicate) has a moment to show, and closed. Instead of a fixed curl
# -m, which a slow machine can outlast before the work is done.
stream_until() {
	local name=$1 text=$2 url=$3; shift 3
	stream "$name" "$url" "$@"
	wait_until 30 body_has "$name" "$text" && sleep 0.5
	kill "$CURL_PID" 2>/dev/null; wait "$CURL_PID" 2>/dev/null
	return 0
}
# ready NAME: stream NAME's response has begun, which the worker does once
# Redis confirmed its channels: events published now reach it, on any
# worker of a pool (PUBSUB NUMSUB counts workers, not streams).
ready() { grep -qx ': ok' "$T/$1.out" 2>/dev/null; }
# stamp_lines < INPUT: each line prefixed with the time it was read, in ms
# (a blocking read, not a polling loop, so the time is when it came).
stamp_lines() {
	local l t
	while IFS= read -r l; do
		t=$EPOCHREALTIME; echo "$(( ${t/[.,]/} / 1000 )) $l"
	done
}
# head_status URL [CURL-ARGS...]: the HTTP status of a request whose
# response may be a stream that stays open, read until its head is in (30 s
# at most) and closed; the head in $T/last.hdr, the body so far in
# $T/last.body. Instead of a curl -m 1 or 2 that a slow machine can outlast
# before the head comes.
head_status() {
	local u=$1 p; shift
	: > "$T/last.hdr"
	curl -s -o "$T/last.body" -D "$T/last.hdr" -m 60 "$@" "$u" 2>/dev/null &
	p=$!
	wait_until 30 bash -c "grep -q \$'^\\r\$' '$T/last.hdr' || ! kill -0 $p 2>/dev/null"
	kill $p 2>/dev/null; wait $p 2>/dev/null
	sed -n 's/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$T/last.hdr" | tail -n 1
}

# Browser scenarios: playwright-core drives Debian's chromium from
# tests/browser/node_modules (cd tests/browser && npm ci); no browser is
# downloaded. need_browser skips the scenario (77) without them.
BROWSER_DIR=$top_srcdir/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
need_browser() {
	local tool m
	for tool in node npm; do
		command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
	done
	[ -x "$CHROMIUM" ] || { echo "SKIP: $CHROMIUM not installed"; exit 77; }
	for m in playwright-core esbuild react react-dom zustand @tanstack/react-query; do
		[ -d "$BROWSER_DIR/node_modules/$m" ] ||
		    { echo "SKIP: $BROWSER_DIR/node_modules/$m missing (cd tests/browser && npm ci)"; exit 77; }
	done
}
# count_checks FILE: prints FILE and counts its "ok - " and "not ok - "
# lines as checks of this scenario (a checker written in another language).
count_checks() {
	local line
	while IFS= read -r line; do
		echo "$line"
		case $line in
		"ok - "*) CHECKS_OK=$((CHECKS_OK + 1)) ;;
		"not ok - "*) CHECKS_FAILED=$((CHECKS_FAILED + 1)) ;;
		esac
	done < "$1"
}
# build_patterns DIR [--shared]: the quick start's pattern pages
# (tests/browser/build.mjs); --shared: with SharedEventSource as EventSource.
build_patterns() {
	node "$BROWSER_DIR/build.mjs" "$@" > "$T/build.log" 2>&1 || { cat "$T/build.log"; return 1; }
}
# browser_run SCRIPT ARGS...: runs a node checker (one "ok - " or "not ok -
# " line per check) with its home in $T, counts its lines as checks of
# this scenario, and checks its exit status. Output in $T/browser.out.
browser_run() {
	local rc line
	mkdir -p "$T/home"
	HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_CACHE_HOME=$T/home/.cache \
	    CHROMIUM=$CHROMIUM timeout -k 5 240 node "$@" > "$T/browser.out" 2>&1
	rc=$?
	count_checks "$T/browser.out"
	check "browser run $(basename "$1") finished cleanly (exit $rc)" [ "$rc" = 0 ]
}

# EventSource-like clients (tests/sse-client -E: they come back after
# retry: with Last-Event-ID, and give up on any answer but 200).
# publish_seq CHANNEL N RATE: events 1..N on CHANNEL through the documented
# script (history and ids), paced by due times, in the background; sets
# PUB. The replies (2 lines an event) go to $T/pub-CHANNEL.out.
publish_seq() {
	local sha
	sha=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
	awk -v n="$2" -v sha="$sha" -v ch="$1" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "EVALSHA %s 2 sse:history:%s sse:clock %s \"\" 1000 0 %d\n", sha, ch, ch, i
	}' | python3 "$top_srcdir/tests/pace.py" "$3" | redis-cli -p "$RPORT" > "$T/pub-$1.out" &
	PUB=$!; track $PUB
}
# es_start NAME N EVENTS URL: N clients that each want EVENTS events (data
# 1, 2, ... in order), in the background; sets ES_PID. Summary in
# $T/NAME.out.
es_start() {
	"$SSE_CLIENT" -q -E -Q -n "$2" -e "$3" -d 900 -u "$4" > "$T/$1.out" 2> "$T/$1.err" &
	ES_PID=$!; track $ES_PID
}
# es_verdict NAME LABEL N EVENTS MIN_RECONNECTS: once the clients have
# ended (120 s at most), checks that each got every event once, in order,
# with no answer but 200, none gave up, and at least MIN_RECONNECTS
# reconnections were made.
es_verdict() {
	local name=$1 label=$2 rc
	wait_until 120 bash -c "! kill -0 $ES_PID 2>/dev/null"
	kill "$ES_PID" 2>/dev/null; wait "$ES_PID"; rc=$?
	echo "# $label: $(cat "$T/$name.out")"
	check "$label: all $3 got all $4 events once, in order" [ $rc = 0 ]
	check "$label: no answer but 200" [ "$(es_field "$name" http_non200)" = 0 ]
	check "$label: no client gave up" [ "$(es_field "$name" dead)" = 0 ]
	check "$label: at least $5 reconnections" [ "$(es_field "$name" reconnects)" -ge "$5" ]
}
# successor_of PID [LOG]: the process that took over from worker PID in an
# in-place upgrade (SIGUSR2), per the log ($T/worker.log by default).
successor_of() {
	sed -n "s/.*sse-fcgi\[$1\] info: .*upgrade: pid \([0-9]*\) accepts now.*/\1/p" \
	    "${2:-$T/worker.log}" | tail -1
}
# es_field NAME KEY: a figure of the clients' summary line.
es_field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$T/$1.out"; }

# Redis Cluster: six nodes on 127.0.0.1, three masters with a replica
# each, every node a redis-server of ours tracked by PID. Each node's bus
# is its port + 10000, so ports come from below 22768 (the bus stays out
# of the ephemeral range too). A cluster-node-timeout of 5 s makes a
# failover take seconds, not the default 15 s plus the election, and is
# still long enough that a node starved by a busy machine is not taken
# for dead (a failover nobody asked for would change the topology).
CLUSTER_NODE_TIMEOUT=${CLUSTER_NODE_TIMEOUT:-5000}
# cluster_free_port: a port that is free with its bus port, and not one
# of ours already.
cluster_free_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % 12700))
		case " ${CPORTS:-} " in *" $p "*) continue ;; esac
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && continue
		(exec 3<>/dev/tcp/127.0.0.1/$((p + 10000))) 2>/dev/null && continue
		echo $p; return
	done
}
# ccli PORT ARGS...: redis-cli to one node, without -c (a MOVED shows).
ccli() { local p=$1; shift; redis-cli -p "$p" "$@"; }
# cluster_start_node: one empty cluster node on a free port, up and
# answering; adds it to CPORTS and CPID. Another scenario may take the
# port (or its bus port) between the pick and the bind: then once more on
# another port, three times at most.
cluster_start_node() {
	local p pid try
	for try in 1 2 3; do
		p=$(cluster_free_port)
		mkdir -p "$T/cluster-$p"
		redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
		    --cluster-config-file "$T/cluster-$p/nodes.conf" \
		    --cluster-node-timeout "$CLUSTER_NODE_TIMEOUT" \
		    --save '' --appendonly no --daemonize no \
		    --dir "$T/cluster-$p" >> "$T/cluster-$p.log" 2>&1 &
		pid=$!; track $pid
		wait_until 20 bash -c "! kill -0 $pid 2>/dev/null ||
		    redis-cli -p $p PING 2>/dev/null | grep -qx PONG"
		if kill -0 $pid 2>/dev/null &&
		    redis-cli -p "$p" PING 2>/dev/null | grep -qx PONG; then
			CPID[$p]=$pid; CPORTS="${CPORTS:+$CPORTS }$p"
			return 0
		fi
		kill $pid 2>/dev/null; wait $pid 2>/dev/null
	done
	echo "cluster node did not start"; tail "$T/cluster-$p.log"; exit 1
}
# start_cluster: sets CPORTS (the live nodes' ports, a space list) and
# CPID[PORT]; exits when the cluster does not form.
declare -A CPID=()
CPORTS=""
start_cluster() {
	local i p addrs=""
	for i in 1 2 3 4 5 6; do cluster_start_node; done
	for p in $CPORTS; do addrs="$addrs 127.0.0.1:$p"; done
	redis-cli --cluster create $addrs --cluster-replicas 1 --cluster-yes \
	    > "$T/cluster-create.log" 2>&1 ||
	    { echo "redis-cli --cluster create failed"; tail -20 "$T/cluster-create.log"; exit 1; }
	wait_until 90 cluster_formed ||
	    { echo "the cluster did not form"; cluster_dump; exit 1; }
}
# cluster_view PORT: what node PORT thinks: one line per master that is
# not failed, "ADDR SLOT-RANGES", sorted (slots being moved left out).
cluster_view() {
	redis-cli -p "$1" CLUSTER NODES 2>/dev/null | awk '
	$3 ~ /master/ && $3 !~ /fail/ {
		s = ""
		for (i = 9; i <= NF; i++) if ($i !~ /^\[/) s = s " " $i
		sub(/@.*/, "", $2); print $2 s
	}' | sort
}
# cluster_settled: every live node reports cluster_state:ok with all
# 16384 slots ok, and all of them see the same masters with the same slots.
cluster_settled() {
	local p first="" v
	for p in $CPORTS; do
		redis-cli -p "$p" CLUSTER INFO 2>/dev/null | tr -d '\r' |
		    grep -qx 'cluster_state:ok' || return 1
		redis-cli -p "$p" CLUSTER INFO 2>/dev/null | tr -d '\r' |
		    grep -qx 'cluster_slots_ok:16384' || return 1
		v=$(cluster_view "$p")
		[ -n "$v" ] || return 1
		if [ -z "$first" ]; then first=$v; else [ "$v" = "$first" ] || return 1; fi
	done
}
# cluster_formed: settled, with three masters that each have a replica
# that is up and linked, as every node sees it.
cluster_formed() {
	local p
	cluster_settled || return 1
	for p in $CPORTS; do
		[ "$(cluster_view "$p" | wc -l)" = 3 ] || return 1
		redis-cli -p "$p" CLUSTER NODES 2>/dev/null | awk '
		$3 ~ /master/ && $3 !~ /fail/ && NF >= 9 { m[$1] = 1 }
		$3 ~ /slave/ && $3 !~ /fail/ && $8 == "connected" { r[$4] = 1 }
		END { for (i in m) if (!(i in r)) exit 1; exit 0 }' || return 1
	done
	# and each replica's own link to its master is up
	for p in $CPORTS; do
		if redis-cli -p "$p" ROLE 2>/dev/null | head -1 | grep -qx slave; then
			redis-cli -p "$p" INFO replication | tr -d '\r' |
			    grep -qx 'master_link_status:up' || return 1
		fi
	done
}
# cluster_dump: each live node's view, for a failure's report.
cluster_dump() {
	local p
	for p in $CPORTS; do
		echo "--- node $p"; redis-cli -p "$p" CLUSTER INFO | head -7
		redis-cli -p "$p" CLUSTER NODES
	done
}
# cluster_master_of_slot SLOT: the port of the master that serves SLOT,
# as the first live node sees it.
cluster_master_of_slot() {
	local p=${CPORTS%% *}
	redis-cli -p "$p" CLUSTER NODES | awk -v s="$1" '
	$3 ~ /master/ && $3 !~ /fail/ {
		for (i = 9; i <= NF; i++) {
			if ($i ~ /^\[/) continue
			n = split($i, r, "-"); lo = r[1]; hi = n > 1 ? r[2] : r[1]
			if (s + 0 >= lo + 0 && s + 0 <= hi + 0) {
				sub(/@.*/, "", $2); sub(/.*:/, "", $2); print $2; exit
			}
		}
	}'
}
# cluster_replicas_of PORT: the ports of PORT's replicas.
cluster_replicas_of() {
	local id
	id=$(redis-cli -p "$1" CLUSTER MYID)
	redis-cli -p "$1" CLUSTER NODES | awk -v id="$id" '
	$3 ~ /slave/ && $4 == id { sub(/@.*/, "", $2); sub(/.*:/, "", $2); print $2 }'
}
# cluster_is_master PORT: node PORT says it is a master.
cluster_is_master() { redis-cli -p "$1" ROLE 2>/dev/null | head -1 | grep -qx master; }
# cluster_failover_kill PORT: kills master PORT (SIGKILL, by its PID) and
# waits until its replica is promoted and the rest of the cluster is
# settled; sets CPROMOTED to the new master's port. Returns 1 on timeout.
cluster_failover_kill() {
	local port=$1 reps r
	reps=$(cluster_replicas_of "$port")
	[ -n "$reps" ] || { echo "node $port has no replica"; return 1; }
	kill -9 "${CPID[$port]}"; wait "${CPID[$port]}" 2>/dev/null
	unset "CPID[$port]"
	CPORTS=$(echo " $CPORTS " | sed "s/ $port / /; s/^ *//; s/ *$//")
	CPROMOTED=""
	wait_until 90 bash -c "for r in $reps; do redis-cli -p \$r ROLE 2>/dev/null | head -1 | grep -qx master && exit 0; done; exit 1" ||
	    { echo "no replica of $port was promoted"; cluster_dump; return 1; }
	for r in $reps; do cluster_is_master "$r" && CPROMOTED=$r; done
	wait_until 90 cluster_settled ||
	    { echo "the cluster did not settle after the failover"; cluster_dump; return 1; }
}
# cluster_move_slots FROM TO N: moves N slots (and their keys) from
# master port FROM to master port TO, and waits until every node agrees.
cluster_move_slots() {
	local from to
	from=$(redis-cli -p "$1" CLUSTER MYID); to=$(redis-cli -p "$2" CLUSTER MYID)
	redis-cli --cluster reshard "127.0.0.1:$1" --cluster-from "$from" \
	    --cluster-to "$to" --cluster-slots "$3" --cluster-yes \
	    > "$T/cluster-reshard.log" 2>&1 ||
	    { echo "redis-cli --cluster reshard failed"; tail -20 "$T/cluster-reshard.log"; return 1; }
	wait_until 90 cluster_settled ||
	    { echo "the cluster did not settle after the reshard"; cluster_dump; return 1; }
}
