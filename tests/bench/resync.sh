#!/bin/bash
# sse-fcgi - MIT License
#
# resync.sh (make bench-resync): one notification channel per user, and
# Redis dropping the worker's subscriber connection under load. For each N
# in NS: one sse-fcgi worker behind lighttpd (the shipped config) holds N
# streams on N distinct channels (user.0 .. user.N-1); every stream first
# gets one event, so each has a last event id; then events go out through
# the publish script at RATE per second, round robin over the channels,
# and a third of the way through Redis drops the subscriber connection
# (CLIENT KILL TYPE pubsub). The worker reconnects, subscribes N channels
# again and every stream resumes from its last id. Reported per N:
#   - events lost (every event reaches its one stream: received = sent);
#   - the largest and the p99 latency of all events (publish time to
#     receipt; the events published while the connection was down arrive
#     by the history replay);
#   - the worker's CPU for the resync: its CPU in the 4 s after the kill
#     minus its CPU in the 4 s before (the steady publishing), and the
#     same per 1,000 streams, to show the cost grows linearly with N;
#   - Redis calls per resuming stream (EVAL of the resume script).
# One worker holds at most the process fd limit (20,000 here) minus its
# own: the largest N is 19,500. lighttpd holds 2 fds a stream and runs as
# several processes.
# Figures on stdout and in tests/bench/results/<UTC time>-resync.txt.
#
# Usage: tests/bench/resync.sh   (root: 20,000 fds a process)
# Environment: top_builddir; NS="5000 10000 19500"; RATE=2000;
# SECONDS_TOTAL=18; LWORKERS=4; RESULTS=dir; KEEP_TMP=1. Every wait has a
# time limit; only the processes this script started are stopped, by PID.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
NS=${NS:-5000 10000 19500}
RATE=${RATE:-2000}
TOTAL_S=${SECONDS_TOTAL:-18}
LWORKERS=${LWORKERS:-4}
RESULTS=${RESULTS:-$top_srcdir/tests/bench/results}
SSE_FCGI=$top_builddir/sse-fcgi
CLIENT=$top_builddir/tests/sse-client
PUB=$top_builddir/tests/bench/sse-bench-pub
SCRIPT=$top_srcdir/deploy/redis/sse-publish.lua
BENCH_NAME=resync
. "$top_srcdir/tests/bench/lib.sh"

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
for f in "$SSE_FCGI" "$CLIENT" "$PUB"; do
	[ -x "$f" ] || die "no $f (make sse-fcgi tests/sse-client tests/bench/sse-bench-pub)"
done
for tool in redis-server redis-cli lighttpd spawn-fcgi; do
	command -v $tool >/dev/null || die "no $tool"
done

# cpu_ticks PID: user + system time so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
kv() { grep -o "\b$1=[^ ]*" "$2" | head -1 | cut -d= -f2; }

STAMP=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/$STAMP-resync.txt
HZ=$(getconf CLK_TCK)
echo "# $STAMP $(nproc) cores; resync.sh: N streams on N channels, 1 worker, lighttpd x$LWORKERS, $RATE events/s through the publish script, CLIENT KILL TYPE pubsub at $((TOTAL_S / 3)) s" | tee -a "$OUT"

run_one() {
	local n=$1 d=$T/n$1 m per c0 c1 c2 evals0 evals1 killed_at
	mkdir -p "$d"
	start_redis
	local rport=$RPORT rpid=$RPID
	spawn-fcgi -s "$d/sse.sock" -b 4096 -F 1 -P "$d/spawn.pid" -- \
	    "$SSE_FCGI" --redis "redis://127.0.0.1:$rport" --keepalive 30 \
	    --log-file "$d/worker.log" > "$d/spawn.log" 2>&1 ||
	    die "spawn-fcgi failed: $(cat "$d/spawn.log")"
	local wpid; wpid=$(cat "$d/spawn.pid"); track $wpid
	start_lighttpd "$d/sse.sock" $((n / LWORKERS * 2 + 500)) "$LWORKERS"
	local lpids="$LPID $(ps -o pid= --ppid $LPID | tr '\n' ' ')"
	track $lpids
	# Every event reaches one stream; each stream gets its first event
	# and then its share of the timed ones.
	m=$(( (RATE * TOTAL_S + n - 1) / n * n ))
	per=$((m / n + 1))
	timeout $((TOTAL_S + 400)) "$CLIENT" -q -L -u "http://127.0.0.1:$LPORT/api/v1/events/user.{i}" \
	    -n "$n" -e "$per" -d $((TOTAL_S + 300)) -c 500 -s 41 -r "$d/ready" \
	    > "$d/client.out" 2> "$d/client.err" &
	local cpid=$!; track $cpid
	wait_until 300 test -e "$d/ready" ||
	    die "N=$n: not every stream connected in 300 s: $(head -3 "$d/client.err")"
	wait_until 120 sh -c "[ \$(redis-cli -p $rport PUBSUB CHANNELS 'user.*' | wc -l) -ge $n ]" ||
	    die "N=$n: the worker did not subscribe $n channels"
	# One event on every channel, as fast as Redis takes them: now each
	# stream has a last event id.
	"$PUB" -R "127.0.0.1:$rport" -E "$SCRIPT" -c 'user.{j}' -m "$n" -r 0 \
	    -s 100 > "$d/pub0.out" 2>&1 || die "N=$n: first publish: $(cat "$d/pub0.out")"
	sleep 2
	"$PUB" -R "127.0.0.1:$rport" -E "$SCRIPT" -c "user.{j%$n}" -m "$m" \
	    -r "$RATE" -s 100 > "$d/pub.out" 2>&1 &
	local ppid=$!; track $ppid
	sleep $((TOTAL_S / 3 - 4))
	c0=$(cpu_ticks $wpid)
	sleep 4
	c1=$(cpu_ticks $wpid)
	evals0=$(redis-cli -p "$rport" INFO commandstats | awk -F'[=,:]' '/^cmdstat_eval:/ { print $3 }')
	redis-cli -p "$rport" CLIENT KILL TYPE pubsub > "$d/kill.out"
	sleep 4
	c2=$(cpu_ticks $wpid)
	wait "$ppid"
	wait "$cpid"
	evals1=$(redis-cli -p "$rport" INFO commandstats | awk -F'[=,:]' '/^cmdstat_eval:/ { print $3 }')
	local recv loss maxms p99 resumed
	recv=$(kv received "$d/client.out"); loss=$(kv loss "$d/client.out")
	maxms=$(kv max_ms "$d/client.out"); p99=$(kv p99_ms "$d/client.out")
	resumed=$(grep -o 'redis is back: [0-9]* streams' "$d/worker.log" | tail -1 | awk '{ print $4 }')
	awk -v n="$n" -v m="$m" -v r="$recv" -v l="$loss" -v mx="$maxms" \
	    -v p="$p99" -v c0="$c0" -v c1="$c1" -v c2="$c2" -v hz="$HZ" \
	    -v e0="${evals0:-0}" -v e1="${evals1:-0}" -v k="$(cat "$d/kill.out")" \
	    -v rs="${resumed:-0}" 'BEGIN {
		cpu = ((c2 - c1) - (c1 - c0)) / hz
		printf "N=%d: %d of %d events received (loss %d); latency max %.0f ms, p99 %.0f ms; pubsub connections killed %s, streams resumed %d\n", n, r, m + n, l, mx, p, k, rs
		printf "  worker CPU for the resync %.2f s (%.3f s per 1,000 streams); steady %.2f s per 4 s; EVAL per resuming stream %.2f\n", cpu, cpu * 1000 / n, (c1 - c0) / hz, (rs > 0 ? (e1 - e0) / rs : 0)
	}' | tee -a "$OUT"
	stop $lpids $wpid $rpid
}

for n in $NS; do
	[ "$n" -le 19500 ] || die "N=$n: one worker holds at most 19,500 streams here"
	run_one "$n"
done
echo "figures in $OUT"
