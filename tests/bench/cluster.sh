#!/bin/bash
# sse-fcgi - MIT License
#
# cluster.sh (make bench-cluster): what Redis carries for sse-fcgi with one
# shard and with SHARDS shards of a Redis Cluster (masters only, all on
# this machine), per sitting:
#   history_pub_s   publishes a second through the project's publish
#                   script (deploy/redis/sse-publish.lua: EVALSHA with the
#                   cluster's keys <prefix>history:{<channel>} and
#                   <prefix>clock:{<channel>}, ARGV[6] spublish, history
#                   1000), one redis-benchmark per master at once (-c 8
#                   -P 16, REQUESTS each, on a channel that master owns,
#                   which has the SUBS subscribers below), summed
#   copies_s        message copies a second: SPUBLISH to a channel per
#                   master with SUBS shard subscribers each (the
#                   connections SUBS workers would hold), publishes a
#                   second x SUBS, summed over the masters
# SIZE-byte payloads. The shards share the machine's cores with the load
# generators and the subscribers, so the gain from more shards is bounded
# by the cores, not by Redis; each sitting notes the cores and the load.
# SITTINGS sittings; then the median of each figure with its [min-max],
# and the ratio of SHARDS shards to one within each sitting. Figures on
# stdout and appended to tests/bench/results/<UTC time>-cluster.txt.
#
# Usage: make bench-cluster   (env: SHARDS=3 REQUESTS=200000 SUBS=8
# SIZE=200 SITTINGS=3 RESULTS=dir KEEP_TMP=1). Needs redis-server,
# redis-cli and redis-benchmark 7 (CLUSTER SHARDS, SPUBLISH). Private temp
# dir and ports; stops only its own processes, by PID.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARDS=${SHARDS:-3}
REQUESTS=${REQUESTS:-200000}
SUBS=${SUBS:-8}
SIZE=${SIZE:-200}
SITTINGS=${SITTINGS:-3}
RESULTS=${RESULTS:-$top_srcdir/tests/bench/results}
SCRIPT=$top_srcdir/deploy/redis/sse-publish.lua
BENCH_NAME=cluster
. "$top_srcdir/tests/bench/lib.sh"

for tool in redis-server redis-cli redis-benchmark; do
	command -v $tool >/dev/null || die "no $tool"
done
redis-server --version | grep -q 'v=[7-9]' || die "needs Redis 7 or later"
grep -q spublish "$SCRIPT" || die "$SCRIPT has no spublish argument"
case $SHARDS in [2-9] | [1-9][0-9]) ;; *) die "SHARDS=$SHARDS: 2 to 99" ;; esac

# A port free with its cluster bus port (port + 10000).
node_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % 12700))
		listening $p || listening $((p + 10000)) || { echo $p; return; }
	done
}
# start_shards N: N empty masters, slots split evenly, all agreeing; sets
# NODES (their ports).
start_shards() {
	local n=$1 i p lo hi
	NODES=""
	for ((i = 0; i < n; i++)); do
		p=$(node_port)
		mkdir -p "$T/n$p"
		redis-server --port $p --bind 127.0.0.1 --cluster-enabled yes \
		    --cluster-config-file "$T/n$p/nodes.conf" --dir "$T/n$p" \
		    --save '' --appendonly no --daemonize no > "$T/n$p.log" 2>&1 &
		track $!
		wait_until 20 bash -c "redis-cli -p $p PING 2>/dev/null | grep -qx PONG" ||
		    die "node $p did not start"
		NODES="${NODES:+$NODES }$p"
	done
	i=0
	for p in $NODES; do
		lo=$((16384 * i / n)); hi=$((16384 * (i + 1) / n - 1)); i=$((i + 1))
		redis-cli -p $p CLUSTER ADDSLOTSRANGE $lo $hi >/dev/null
		redis-cli -p $p CLUSTER MEET 127.0.0.1 ${NODES%% *} >/dev/null
	done
	wait_until 60 settled || die "the cluster of $n did not settle"
}
settled() {
	local p
	for p in $NODES; do
		redis-cli -p $p CLUSTER INFO | tr -d '\r' | grep -qx cluster_state:ok || return 1
		redis-cli -p $p CLUSTER INFO | tr -d '\r' |
		    grep -qx "cluster_known_nodes:$(echo $NODES | wc -w)" || return 1
	done
}
stop_shards() {
	local p
	for p in $NODES; do redis-cli -p $p SHUTDOWN NOSAVE >/dev/null 2>&1; done
	for p in $NODES; do wait_until 10 bash -c "! redis-cli -p $p PING >/dev/null 2>&1"; done
}
# channel_of PORT: a channel (task.N) whose slot node PORT owns.
channel_of() {
	local i ch
	for ((i = 1; i < 100000; i++)); do
		ch=task.$i
		redis-cli -p $1 GET "sse:history:{$ch}" 2>&1 | grep -q MOVED || { echo $ch; return; }
	done
	die "no channel found for node $1"
}
# rps FILE: requests a second from redis-benchmark -q output.
rps() { tr '\r' '\n' < "$1" | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -1; }
# run_all LABEL COMMAND-WORDS...: one redis-benchmark per master at once,
# each with its own channel in place of @CH@; prints the summed rate.
run_all() {
	local label=$1 p pids="" words w sum=0 r; shift
	for p in $NODES; do
		words=()
		for w in "$@"; do words+=("${w//@CH@/${CH[$p]}}"); done
		redis-benchmark -h 127.0.0.1 -p $p -c 8 -P 16 -n $REQUESTS -q \
		    "${words[@]}" > "$T/$label.$p" 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do wait $p; done
	for p in $NODES; do
		r=$(rps "$T/$label.$p")
		[ -n "$r" ] || { cat "$T/$label.$p" >&2; die "$label on $p: no rate"; }
		sum=$(awk -v a=$sum -v b=$r 'BEGIN { printf "%.0f", a + b }')
	done
	echo $sum
}
# sitting_of N: both figures with N shards, in HIST and COPIES.
sitting_of() {
	local n=$1 p i sha subs="" pub
	declare -gA CH=()
	start_shards $n
	for p in $NODES; do
		CH[$p]=$(channel_of $p)
		sha=$(redis-cli -p $p SCRIPT LOAD "$(cat "$SCRIPT")")
	done
	DATA=$(head -c "$SIZE" /dev/zero | tr '\0' x)
	for p in $NODES; do
		for ((i = 0; i < SUBS; i++)); do
			redis-cli -p $p SSUBSCRIBE "${CH[$p]}" > /dev/null 2>&1 &
			subs="$subs $!"; track $!
		done
	done
	for p in $NODES; do
		wait_until 30 bash -c "[ \"\$(redis-cli -p $p PUBSUB SHARDNUMSUB ${CH[$p]} | sed -n 2p)\" = $SUBS ]" ||
		    die "the subscribers of ${CH[$p]} did not all arrive"
	done
	HIST=$(run_all hist EVALSHA $sha 2 'sse:history:{@CH@}' 'sse:clock:{@CH@}' \
	    '@CH@' '' 1000 0 "$DATA" spublish)
	pub=$(run_all pub SPUBLISH '@CH@' "$DATA")
	COPIES=$((pub * SUBS))
	stop $subs
	stop_shards
}
ratio() { awk -v a=$1 -v b=$2 'BEGIN { printf "%.2f", a / b }'; }

STAMP=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/$STAMP-cluster.txt
echo "# $STAMP $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); cluster.sh at $(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null): 1 and $SHARDS shards (masters only), $REQUESTS requests per master, $SUBS shard subscribers per channel, $SIZE-byte payloads, $SITTINGS sittings; $(redis-server --version | cut -d' ' -f1-3)" | tee -a "$OUT"
for ((s = 1; s <= SITTINGS; s++)); do
	sitting_of 1; h1=$HIST c1=$COPIES
	sitting_of $SHARDS; hn=$HIST cn=$COPIES
	echo "sitting $s: history_pub_s_1=$h1 history_pub_s_$SHARDS=$hn history_ratio=$(ratio $hn $h1) copies_s_1=$c1 copies_s_$SHARDS=$cn copies_ratio=$(ratio $cn $c1) load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT"
done
# The median of each figure over the sittings, with its [min-max].
for key in history_pub_s_1 history_pub_s_$SHARDS history_ratio copies_s_1 copies_s_$SHARDS copies_ratio; do
	grep '^sitting ' "$OUT" | tail -n "$SITTINGS" | sed -n "s/.* $key=\([0-9.]*\).*/\1/p" |
	    sort -g | awk -v k=$key '{ v[NR] = $1 } END { if (NR) printf "median %s=%s [%s-%s]\n", k, v[int((NR + 1) / 2)], v[1], v[NR] }'
done | tee -a "$OUT"
echo "figures in $OUT"
