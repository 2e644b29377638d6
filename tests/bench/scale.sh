#!/bin/bash
# sse-fcgi - MIT License
#
# scale.sh: the whole stack at 50,000 open streams on this machine (issue
# "performance", target 1). A process may hold at most 20,000 fds here and
# lighttpd holds 2 per stream, so the streams are spread over several
# lighttpd processes (server.max-worker), several sse-fcgi workers (one
# socket, spawn-fcgi -F) and several client processes, each client on its
# own source address 127.0.0.x (about 28,000 ports per source and
# destination). Then:
#   - RSS of the front server and of the workers (Redis apart), in total
#     and per stream, against the same processes with no stream;
#   - one message published by Redis PUBLISH, and whether every stream got
#     it, with the time from publish to the last receipt;
#   - the subscriptions Redis holds (one per worker, whatever the count of
#     streams).
# The figures go to stdout and to tests/bench/results/<UTC date>-scale.txt.
#
# Usage: tests/bench/scale.sh   (needs root: apt-get, 20,000 fds a process)
# Environment: top_builddir (the build with sse-fcgi, tests/sse-client and
# tests/bench/sse-bench-pub); N=50000 streams; LWORKERS=6 lighttpd
# processes; WORKERS=4 sse-fcgi workers; CLIENTS=3 client processes;
# SKIP_INSTALL=1; RESULTS=dir; KEEP_TMP=1. Every step has a time limit;
# only the processes this script started are stopped, by PID.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
N=${N:-50000}
LWORKERS=${LWORKERS:-6}
WORKERS=${WORKERS:-4}
CLIENTS=${CLIENTS:-3}
RESULTS=${RESULTS:-$top_srcdir/tests/bench/results}
SSE_FCGI=$top_builddir/sse-fcgi
CLIENT=$top_builddir/tests/sse-client
PUB=$top_builddir/tests/bench/sse-bench-pub
BENCH_NAME=scale
. "$top_srcdir/tests/bench/lib.sh"

# kv KEY FILE...: the sum of KEY=... over the clients' summary lines.
kv_sum() {
	local k=$1; shift
	cat "$@" 2>/dev/null | grep -o "\b$k=[^ ]*" | cut -d= -f2 |
	    awk '{ s += $1 } END { printf "%d", s }'
}
kv_max() {
	local k=$1; shift
	cat "$@" 2>/dev/null | grep -o "\b$k=[^ ]*" | cut -d= -f2 |
	    awk 'BEGIN { m = 0 } { if ($1 + 0 > m) m = $1 + 0 } END { print m }'
}

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 20000 ] || die "need 20,000 fds a process (run as root)"
for tool in redis-server lighttpd spawn-fcgi; do
	command -v $tool >/dev/null && continue
	[ -n "${SKIP_INSTALL:-}" ] && die "no $tool"
	apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive \
	    timeout 600 apt-get install -y -qq --no-install-recommends \
	    redis-server lighttpd spawn-fcgi >/dev/null || die "no $tool"
done
for f in "$SSE_FCGI" "$CLIENT" "$PUB"; do
	[ -x "$f" ] || die "no $f (make sse-fcgi tests/sse-client tests/bench/sse-bench-pub)"
done
# Room for every process: lighttpd 2 fds a stream, a worker 1, a client 1.
per_l=$(( (N + LWORKERS - 1) / LWORKERS ))
per_w=$(( (N + WORKERS - 1) / WORKERS ))
per_c=$(( (N + CLIENTS - 1) / CLIENTS ))
[ $((per_l * 2 + 100)) -le 20000 ] || die "N/LWORKERS is over 9,950: raise LWORKERS"
[ $((per_c + 100)) -le 20000 ] || die "N/CLIENTS is over 19,900: raise CLIENTS"
[ "$per_c" -le 20000 ] || die "a client would need two source addresses"

# --- The stack ------------------------------------------------------------------

start_redis
spawn-fcgi -s "$T/sse.sock" -b 4096 -F "$WORKERS" -P "$T/spawn.pid" -- \
    "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" \
    --log-file "$T/worker.log" > "$T/spawn.log" 2>&1 ||
    die "spawn-fcgi failed: $(cat "$T/spawn.log")"
WPIDS=$(tr '\n' ' ' < "$T/spawn.pid"); track $WPIDS
start_lighttpd "$T/sse.sock" $((per_l + per_l / 5 + 100)) "$LWORKERS"
sleep 1
LPIDS="$LPID $(ps -o pid= --ppid $LPID | tr '\n' ' ')"; track $LPIDS
[ "$(echo $LPIDS | wc -w)" -eq $((LWORKERS + 1)) ] ||
    die "expected $LWORKERS lighttpd workers, found: $LPIDS"
sleep 2
front0=$(rss_kb $LPIDS); work0=$(rss_kb $WPIDS); redis0=$(rss_kb $RPID)

# --- 50,000 streams ------------------------------------------------------------

CH=scale$(date +%s)
t0=$(date +%s.%N)
left=$N
for c in $(seq 1 "$CLIENTS"); do
	n=$per_c; [ $n -gt $left ] && n=$left; left=$((left - n))
	timeout 600 "$CLIENT" -q -L -u "http://127.0.0.1:$LPORT/api/v1/events/$CH" \
	    -n "$n" -e 1 -d 500 -c 500 -s $((40 + c)) -r "$T/ready.$c" \
	    > "$T/client.$c.out" 2> "$T/client.$c.err" &
	CPIDS="${CPIDS:-} $!"; track $!
done
all_ready() {
	local c
	for c in $(seq 1 "$CLIENTS"); do [ -e "$T/ready.$c" ] || return 1; done
}
wait_until 300 all_ready || die "not every client connected in 300 s: $(cat "$T"/client.*.err | head -5)"
t1=$(date +%s.%N)
sleep 3		# the last subscriptions and heads settle
front1=$(rss_kb $LPIDS); work1=$(rss_kb $WPIDS); redis1=$(rss_kb $RPID)
numsub=$(redis-cli -p "$RPORT" PUBSUB NUMSUB "$CH" | tail -1)
per_worker=""
for p in $WPIDS; do
	per_worker="$per_worker $(($(ls /proc/$p/fd | wc -l)))"
done

# --- One message to all ---------------------------------------------------------

"$PUB" -R "127.0.0.1:$RPORT" -c "$CH" -m 1 -r 0 -s 200 > "$T/pub.out" 2>&1 ||
    die "publish failed: $(cat "$T/pub.out")"
for p in $CPIDS; do wait "$p"; done
outs=$(ls "$T"/client.*.out)
est=$(kv_sum established $outs); recv=$(kv_sum received $outs)
failed=$(kv_sum failed $outs); maxms=$(kv_max max_ms $outs)
p99=$(kv_max p99_ms $outs)

STAMP=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/$STAMP-scale.txt
{
	echo "# sse-fcgi at scale, $STAMP: $(nproc) cores, Linux $(uname -r), lighttpd $(lighttpd -v 2>&1 | sed 's/ .*//;s/.*\///') x$LWORKERS, sse-fcgi workers x$WORKERS, $CLIENTS clients on 127.0.0.41-$((40 + CLIENTS))"
	awk -v n="$N" -v e="$est" -v f="$failed" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
	    'BEGIN { printf "streams: %d asked, %d established, %d failed, connected in %.1f s\n", n, e, f, t }'
	echo "redis subscriptions for the channel: $numsub (one per worker); worker fds:$per_worker"
	awk -v f0="$front0" -v f1="$front1" -v w0="$work0" -v w1="$work1" \
	    -v r0="$redis0" -v r1="$redis1" -v n="$est" 'BEGIN {
		printf "RSS front (lighttpd x%d): %.1f -> %.1f MB, %.0f B per stream\n", '"$LWORKERS"', f0 / 1024, f1 / 1024, (f1 - f0) * 1024 / n
		printf "RSS workers: %.1f -> %.1f MB, %.0f B per stream\n", w0 / 1024, w1 / 1024, (w1 - w0) * 1024 / n
		printf "RSS whole stack (front + workers): %.1f MB, %.2f KB per stream\n", (f1 + w1) / 1024, (f1 + w1 - f0 - w0) / n
		printf "RSS redis (apart): %.1f -> %.1f MB\n", r0 / 1024, r1 / 1024
	}'
	echo "one message: received by $recv of $est streams; publish to last receipt $maxms ms (p99 $p99 ms)"
} | tee "$OUT"
echo "table: $OUT"
kill $LPIDS $WPIDS $RPID 2>/dev/null
[ "$recv" = "$est" ] && [ "$est" = "$N" ] && [ "$numsub" = "$WORKERS" ]
