#!/bin/bash
# sse-fcgi - MIT License
#
# presence.sh (make bench-presence): N streams (default 10,000) joining one
# presence channel. Two sse-fcgi workers (--presence 'room.*') on one
# socket behind lighttpd (the shipped config, LWORKERS processes), one
# Redis; tests/sse-client opens N anonymous streams of room.big, 500 at a
# time, as fast as they are accepted. Reported per sitting:
#   - the time from the first connection to GET <mount>/presence/room.big
#     answering subscribers N (asked every 0.2 s), and to every stream
#     being open;
#   - the Redis commands the joins cost, by command (from INFO
#     commandstats, the endpoint's own EVALSHAs taken out), per join;
#   - both workers' CPU from the first connection until the count and the
#     events have settled;
#   - the sse-presence events the streams got: on average, and the first
#     stream's, with the subscriber counts it was told (coalescing: at most
#     one event a second per channel and worker);
#   - the same for the N leaving (the client stops): time to 0, commands.
# Then one sitting without --presence (the CPU of accepting the streams).
# Then, once, the exact commands and bytes of single joins and leaves
# (redis-cli MONITOR during them, RESP bytes counted from the arguments):
# a user's first stream on a worker, a second user, an anonymous stream,
# and their leaves. SITTINGS sittings; the summary gives the median of
# each figure with its range.
# Figures on stdout and in tests/bench/results/<UTC time>-presence.txt.
#
# Usage: tests/bench/presence.sh   (needs 2 x N fds for the client and
# lighttpd: run it where the hard limit allows)
# Environment: top_builddir; N=10000; SITTINGS=3; LWORKERS=4; RESULTS=dir;
# KEEP_TMP=1. Every wait has a time limit; only the processes this script
# started are stopped, by PID.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
N=${N:-10000}
SITTINGS=${SITTINGS:-3}
LWORKERS=${LWORKERS:-4}
RESULTS=${RESULTS:-$top_srcdir/tests/bench/results}
SSE_FCGI=$top_builddir/sse-fcgi
CLIENT=$top_builddir/tests/sse-client
MINT="python3 $top_srcdir/tests/jwt-mint.py"
BENCH_NAME=presence
. "$top_srcdir/tests/bench/lib.sh"

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
for f in "$SSE_FCGI" "$CLIENT"; do
	[ -x "$f" ] || die "no $f (make sse-fcgi tests/sse-client)"
done
for tool in redis-server redis-cli lighttpd spawn-fcgi curl python3; do
	command -v $tool >/dev/null || die "no $tool"
done
[ "$(ulimit -n)" -gt $((N + 100)) ] || die "the client needs $((N + 100)) fds; the limit is $(ulimit -n)"

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now_ms() { local t=$EPOCHREALTIME; echo $(( ${t/[.,]/} / 1000 )); }
kv() { grep -o "\b$1=[^ ]*" "$2" | head -1 | cut -d= -f2; }
# calls CMD: the calls of CMD so far (INFO commandstats).
calls() { redis-cli -p "$RPORT" INFO commandstats | awk -F'[=,:]' -v c="cmdstat_$1" '$1 == c { print $3; f = 1 } END { if (!f) print 0 }'; }
CMDS="hset hdel del expire zadd zrem publish eval evalsha"
snap() { local c; for c in $CMDS; do printf '%s=%s ' $c "$(calls $c)"; done; }
# diffs A B: "cmd=delta ..." of two snaps.
diffs() { awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); split(b, y, " "); for (i = 1; i <= n; i++) { split(x[i], p, "="); split(y[i], q, "="); printf "%s=%d ", p[1], q[2] - p[2] } }'; }
count() { curl -s -m 5 "$BASEURL/api/v1/presence/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["subscribers"])' 2>/dev/null; }
POLLS=0
# wait_count CHANNEL WANT SECONDS: asks the endpoint every 0.2 s (counted
# in POLLS) until it says WANT.
wait_count() {
	local i limit=$(($3 * 5))
	for ((i = 0; i < limit; i++)); do
		POLLS=$((POLLS + 1))
		[ "$(count "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

STAMP=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/$STAMP-presence.txt
HZ=$(getconf CLK_TCK)
echo "# $STAMP $(nproc) cores; presence.sh: $N streams join room.big, 2 workers, lighttpd x$LWORKERS, $SITTINGS sittings" | tee -a "$OUT"
printf '%s\n' "presence-bench-secret-0123456789abcdef" > "$T/jwt.key"

# start DIR WORKERS: Redis, the workers, lighttpd; sets WPIDS, LPIDS,
# BASEURL. A client that goes is noticed at the next write to its stream
# (lighttpd), a keepalive at the latest: keepalive 5.
start() {
	local d=$1
	mkdir -p "$d"
	start_redis
	spawn-fcgi -s "$d/sse.sock" -b 4096 -F "$2" -P "$d/spawn.pid" -- \
	    "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" --keepalive 5 \
	    --stats-interval 0 ${PRESENCE_ARG[@]+"${PRESENCE_ARG[@]}"} --public-channels 'room.*' \
	    --jwt-secret-file "$T/jwt.key" --log-file "$d/worker.log" \
	    "${EXTRA[@]}" > "$d/spawn.log" 2>&1 || die "spawn-fcgi failed: $(cat "$d/spawn.log")"
	WPIDS=$(tr '\n' ' ' < "$d/spawn.pid"); track $WPIDS
	start_lighttpd "$d/sse.sock" $((N / LWORKERS * 2 + 500)) "$LWORKERS"
	LPIDS="$LPID $(ps -o pid= --ppid $LPID | tr '\n' ' ')"
	track $LPIDS
	BASEURL=http://127.0.0.1:$LPORT
	[ ${#PRESENCE_ARG[@]} = 0 ] || wait_count room.big 0 30 ||
	    die "the endpoint does not answer"
}
PRESENCE_ARG=(--presence 'room.*')
EXTRA=()
cpu_all() { local p t=0; for p in $WPIDS; do t=$((t + $(cpu_ticks $p))); done; echo $t; }

sitting() {
	local s=$1 d=$T/s$1 t0 t_count t_open t_settled c0 c1 a b p0 cpid
	local leave0 leave1 t_gone recv ev0 told
	start "$d" 2
	redis-cli -p "$RPORT" CONFIG RESETSTAT > /dev/null
	a=$(snap); p0=$POLLS; c0=$(cpu_all)
	t0=$(now_ms)
	"$CLIENT" -q -u "$BASEURL/api/v1/events/room.big" -n "$N" -e 1000000 \
	    -d 600 -c 500 -s 41 -r "$d/ready" -o "$d/first.txt" \
	    > "$d/client.out" 2> "$d/client.err" &
	cpid=$!; track $cpid
	wait_count room.big "$N" 300 || die "sitting $s: the count did not reach $N: $(count room.big)"
	t_count=$(( $(now_ms) - t0 ))
	wait_until 300 test -e "$d/ready" || die "sitting $s: not every stream connected"
	t_open=$(stat -c %Y "$d/ready")
	# Settled: the first stream was told N, and a second later still
	# nothing new came.
	wait_until 60 grep -q "\"subscribers\":$N," "$d/first.txt" ||
	    die "sitting $s: the first stream was never told $N"
	wait_until 30 bash -c "l=\$(wc -l < '$d/first.txt'); sleep 1.2; [ \$(wc -l < '$d/first.txt') = \$l ]"
	t_settled=$(( $(now_ms) - t0 ))
	c1=$(cpu_all)
	b=$(snap)
	local joins; joins=$(diffs "$a" "$b")
	# The endpoint's own EVALSHAs are not the workers'.
	joins=$(echo "$joins" | awk -v p=$((POLLS - p0)) '{ for (i = 1; i <= NF; i++) { split($i, q, "="); if (q[1] == "evalsha") q[2] -= p; printf "%s=%d ", q[1], q[2] } }')
	kill -TERM $cpid; wait $cpid 2>/dev/null
	recv=$(kv received "$d/client.out")
	ev0=$(grep -c 'event=sse-presence' "$d/first.txt")
	told=$(sed -n 's/.*"subscribers":\([0-9]*\).*/\1/p' "$d/first.txt" | tr '\n' ',' | sed 's/,$//')
	# Leaving.
	leave0=$(snap); p0=$POLLS; t0=$(now_ms)
	wait_count room.big 0 300 || die "sitting $s: the count did not fall to 0: $(count room.big)"
	t_gone=$(( $(now_ms) - t0 ))
	leave1=$(diffs "$leave0" "$(snap)")
	leave1=$(echo "$leave1" | awk -v p=$((POLLS - p0)) '{ for (i = 1; i <= NF; i++) { split($i, q, "="); if (q[1] == "evalsha") q[2] -= p; printf "%s=%d ", q[1], q[2] } }')
	awk -v s="$s" -v n="$N" -v tc="$t_count" -v ts="$t_settled" \
	    -v cpu="$(( c1 - c0 ))" -v hz="$HZ" -v recv="${recv:-0}" \
	    -v ev0="$ev0" -v told="$told" -v j="$joins" -v l="$leave1" \
	    -v tg="$t_gone" 'BEGIN {
		nj = split(j, x, " "); tot = 0; for (i = 1; i <= nj; i++) { split(x[i], q, "="); tot += q[2] }
		nl = split(l, y, " "); totl = 0; for (i = 1; i <= nl; i++) { split(y[i], q, "="); totl += q[2] }
		printf "sitting %d: count_ms=%d settled_ms=%d worker_cpu_s=%.2f redis_cmds_join=%d per_join=%.3f events_avg=%.2f events_first=%d leave_ms=%d redis_cmds_leave=%d per_leave=%.3f\n", s, tc, ts, cpu / hz, tot, tot / n, recv / n, ev0, tg, totl, totl / n
		printf "  joins: %s\n  leaves: %s\n  first stream told: %s\n", j, l, told
	}' | tee -a "$OUT"
	stop $cpid $LPIDS $WPIDS $RPID
}

# One join and one leave at a time, under MONITOR, on one worker: the
# exact commands and their RESP bytes. Between steps a little more than a
# second passes, the coalescing window, so each step's notice and reads
# are its own.
hsum() {	# the streams of room.cost in Redis
	local k t=0 v
	for k in $(redis-cli -p "$RPORT" KEYS 'sse:presence:room.cost/*'); do
		v=$(redis-cli -p "$RPORT" HGET "$k" n); t=$((t + ${v:-0}))
	done
	echo $t
}
hhas() {	# hhas FIELD: a worker's hash of room.cost has FIELD
	local k
	for k in $(redis-cli -p "$RPORT" KEYS 'sse:presence:room.cost/*'); do
		[ "$(redis-cli -p "$RPORT" HEXISTS "$k" "$1")" = 1 ] && return 0
	done
	return 1
}
hsum_is() { [ "$(hsum)" = "$1" ]; }
hhas_not() { ! hhas "$1"; }
zcard_is() { [ "$(redis-cli -p "$RPORT" ZCARD "$1")" = "$2" ]; }
monitor_costs() {
	local d=$T/mon mpid alice bob s1 s2 s3
	# No heartbeat during the steps (it comes every presence-ttl / 3).
	EXTRA=(--presence-ttl 3600); start "$d" 1; EXTRA=()
	alice=$($MINT HS256 "$T/jwt.key" '{"sub":"alice"}')
	bob=$($MINT HS256 "$T/jwt.key" '{"sub":"bob"}')
	redis-cli -p "$RPORT" MONITOR > "$d/monitor.txt" &
	mpid=$!; track $mpid
	wait_until 10 bash -c "redis-cli -p $RPORT CLIENT LIST | grep -q 'cmd=monitor'"
	step() {	# step LABEL: marks the MONITOR stream
		redis-cli -p "$RPORT" ECHO "step $1" > /dev/null
	}
	step "join: the channel's first stream on the worker (alice)"
	curl -sN -o /dev/null "$BASEURL/api/v1/events/room.cost?token=$alice" &
	s1=$!; track $s1
	wait_until 20 hsum_is 1 || die "alice did not join"
	sleep 1.2
	step "join: another user (bob)"
	curl -sN -o /dev/null "$BASEURL/api/v1/events/room.cost?token=$bob" &
	s2=$!; track $s2
	wait_until 20 hhas u:bob || die "bob did not join"
	sleep 1.2
	step "join: an anonymous stream"
	curl -sN -o /dev/null "$BASEURL/api/v1/events/room.cost" &
	s3=$!; track $s3
	wait_until 20 hsum_is 3 || die "the anonymous stream did not join"
	sleep 1.2
	step "leave: the anonymous stream"
	kill $s3
	wait_until 20 hsum_is 2 || die "the anonymous stream did not leave"
	sleep 1.2
	step "leave: bob, the user's last stream"
	kill $s2
	wait_until 20 hhas_not u:bob || die "bob did not leave"
	sleep 1.2
	step "leave: alice, the channel's last stream on the worker"
	kill $s1
	wait_until 20 zcard_is sse:presence:room.cost 0 || die "alice did not leave"
	sleep 1.2
	step end
	stop $mpid
	python3 - "$d/monitor.txt" <<'EOF' | tee -a "$OUT"
import re, sys
# RESP size of a command: *N\r\n then $len\r\narg\r\n per argument.
def resp(args):
    n = len("*%d\r\n" % len(args))
    for a in args:
        n += len("$%d\r\n" % len(a)) + len(a) + 2
    return n
tok = re.compile(r'"((?:[^"\\]|\\.)*)"')
step, rows = None, {}
for line in open(sys.argv[1], encoding="latin-1"):
    args = [bytes(t, "latin-1").decode("unicode_escape").encode("latin-1")
            for t in tok.findall(line)]
    if not args:
        continue
    cmd = args[0].decode().upper()
    if cmd == "ECHO" and args[1].startswith(b"step "):
        step = args[1][5:].decode()
        rows[step] = []
        continue
    # Not presence's: the tools of this script, the broker's subscription
    # of the stream's channel, and what the read script runs inside EVAL.
    if step is None or " lua]" in line or cmd in ("INFO", "CLIENT", "ZCARD",
            "KEYS", "HGET", "HEXISTS", "PING", "MONITOR", "ECHO", "SUBSCRIBE",
            "UNSUBSCRIBE"):
        continue
    rows[step].append((cmd, resp(args)))
for step, cmds in rows.items():
    if step == "end":
        continue
    writes = [(c, b) for c, b in cmds if c not in ("EVAL", "EVALSHA")]
    reads = [(c, b) for c, b in cmds if c in ("EVAL", "EVALSHA")]
    print("%s: %d writes, %d bytes (%s); reads: %d, %d bytes" % (
        step, len(writes), sum(b for _, b in writes),
        " ".join("%s:%d" % w for w in writes), len(reads),
        sum(b for _, b in reads)))
EOF
	stop $LPIDS $WPIDS $RPID
}

# The same N streams without --presence: the worker CPU that accepting
# and holding them costs anyway.
baseline() {
	local d=$T/base t0 c0 c1 cpid
	PRESENCE_ARG=(); start "$d" 2; PRESENCE_ARG=(--presence 'room.*')
	c0=$(cpu_all); t0=$(now_ms)
	"$CLIENT" -q -u "$BASEURL/api/v1/events/room.big" -n "$N" -e 1000000 \
	    -d 600 -c 500 -s 41 -r "$d/ready" > "$d/client.out" 2> "$d/client.err" &
	cpid=$!; track $cpid
	wait_until 300 test -e "$d/ready" || die "baseline: not every stream connected"
	c1=$(cpu_all)
	echo "baseline without --presence: open_ms=$(( $(now_ms) - t0 )) worker_cpu_s=$(awk -v c=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.2f", c / hz }')" | tee -a "$OUT"
	kill -TERM $cpid; wait $cpid 2>/dev/null
	stop $LPIDS $WPIDS $RPID
}

for s in $(seq 1 "$SITTINGS"); do sitting "$s"; done
baseline
monitor_costs
# The median of each figure over the sittings, with its range.
grep '^sitting ' "$OUT" | tail -n "$SITTINGS" | python3 -c '
import sys, statistics
rows = [dict(kv.split("=") for kv in l.split(": ", 1)[1].split()) for l in sys.stdin]
for k in rows[0]:
    v = sorted(float(r[k]) for r in rows)
    print("median %s=%g (range %g..%g)" % (k, statistics.median(v), v[0], v[-1]))
' | tee -a "$OUT"
echo "figures in $OUT"
