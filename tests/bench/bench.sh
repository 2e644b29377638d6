#!/bin/bash
# sse-fcgi - MIT License
#
# bench.sh: the project's benchmark (see BENCHMARKS.md). It runs the
# five load scenarios against two systems in one sitting,
# with the same client (tests/sse-client -L) and the same publisher
# (tests/bench/sse-bench-pub). Both systems are up (each with its own
# Redis) for the whole run and take turns scenario by scenario, so a busy
# spell on a shared machine hits both alike:
#
#   sse-fcgi  spawn-fcgi workers on a unix socket behind lighttpd, configured
#             from the shipped deploy/lighttpd/sse-fcgi.conf.in; published
#             by raw Redis PUBLISH (what the quick start's publishers do)
#   sse-fcgi-lua  the same servers, published through the project's
#             history script (deploy/redis/sse-publish.lua by EVALSHA: an
#             id and history of 1,000 per channel; what the README
#             recommends); not in D, whose servers are the same
#   nchan     Debian nginx + libnginx-mod-nchan in Redis mode; published by
#             HTTP POST /pub/<channel> (a raw PUBLISH does not reach Nchan)
#
# Scenarios:
#   A  1,000 subscribers on one channel, 200 messages at 50/s
#   B  10,000 subscribers on one channel, 50 messages at 10/s
#   C  5,000 subscribers on 5,000 channels, one message each, at full speed
#   D  server RSS with 0, 1,000 and 10,000 idle subscribers
#   E  200 subscribers on one channel, 10,000 messages at full speed
#      (deliveries per second = 2,000,000 / span)
#   F  the reconnect storm: 5,000 EventSource-like subscribers on 500
#      channels, 200 messages/s with ids and history; every sse-fcgi worker
#      upgraded in place (SIGUSR2), Nchan's nginx stopped and started
#      again. Answers other than 200, clients with every event once, time
#      until every client is back, Redis calls per reconnection
#      (tests/bench/restart.sh upgrade nchan, which starts its own servers)
# Payloads are about 200 bytes of JSON with "ts" (µs) and "seq".
#
# Accounting: CPU-seconds of the server processes (front
# server and workers; Redis apart) read from /proc, split into the connect
# phase (client start to 2 s after every stream got its head) and the
# deliver phase (publishing until the client has every event and exits, so
# the teardown of the streams is in it too); RSS of the servers and of Redis
# once connected; the client's own CPU. Before each scenario all servers
# must be idle (< 0.05 CPU-s per s, at most 30 s), and the sse-fcgi workers
# must have dropped the last scenario's streams: lighttpd notices a client
# that left only when it next writes to it, so a worker holds such streams
# (and their Redis subscriptions) until its next keepalive (15 s).
#
# Output: a table, one row per system and scenario, with the ratios
# sse-fcgi/nchan per column, printed and written to
# tests/bench/results/<UTC date>-<host>.txt; the latency CDFs of scenario B
# to results/latency-B.dat and, with gnuplot, results/latency-B.png.
#
# Usage: tests/bench/bench.sh   (or make bench; needs root for apt-get and
# for 20,000 fds a process). Environment:
#   top_builddir  the build with sse-fcgi and tests/sse-client (default: the
#                 source tree); sse-bench-pub is built into the temp dir
#                 with pkg-config if the build does not have it
#   SYSTEMS="sse-fcgi nchan"  SCENARIOS=ABCDEF  (SYSTEMS may add sse-fcgi-lua)
#   WORKERS=2     sse-fcgi worker processes (spawn-fcgi -F)
#   LWORKERS=2    lighttpd processes (server.max-worker): it holds 2 fds per
#                 stream and a process may hold 20,000 here, so 10k streams
#                 need 2
#   WORKER_ARGS   more sse-fcgi flags (default none: the shipped defaults)
#   NWORKERS=auto nginx worker_processes
#   SCALE=1       divide subscriber and message counts (SCALE=10: a quick
#                 trial of about a minute per system)
#   SKIP_INSTALL=1  never apt-get; RESULTS=dir  KEEP_TMP=1
# Every process runs from a private temp dir on private ports on
# 127.0.0.1; each step has a time limit; only the processes this script
# started are stopped, by PID.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
SYSTEMS=${SYSTEMS:-"sse-fcgi nchan"}
SCENARIOS=${SCENARIOS:-ABCDEF}
WORKERS=${WORKERS:-2}
WORKER_ARGS=${WORKER_ARGS:-}
LWORKERS=${LWORKERS:-2}
NWORKERS=${NWORKERS:-auto}
SCALE=${SCALE:-1}
RESULTS=${RESULTS:-$top_srcdir/tests/bench/results}
SSE_FCGI=${SSE_FCGI:-$top_builddir/sse-fcgi}
CLIENT=${SSE_CLIENT:-$top_builddir/tests/sse-client}
PUB=${SSE_BENCH_PUB:-$top_builddir/tests/bench/sse-bench-pub}
TCK=$(getconf CLK_TCK)
BENCH_NAME=bench
. "$top_srcdir/tests/bench/lib.sh"

# --- Tools --------------------------------------------------------------------

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
for tool in redis-server redis-cli; do
	command -v $tool >/dev/null || install_pkgs redis-server || die "no $tool"
done
case " $SYSTEMS " in *" sse-fcgi "* | *" sse-fcgi-lua "*)
	command -v lighttpd >/dev/null && command -v spawn-fcgi >/dev/null ||
	    install_pkgs lighttpd spawn-fcgi || die "no lighttpd or spawn-fcgi"
	[ -x "$SSE_FCGI" ] || die "no worker at $SSE_FCGI (set top_builddir)";;
esac
case " $SYSTEMS " in *" nchan "*)
	command -v nginx >/dev/null && [ -e $NCHAN_SO ] ||
	    install_pkgs nginx libnginx-mod-nchan || die "no nginx with Nchan";;
esac
command -v gnuplot >/dev/null || install_pkgs gnuplot-nox ||
    echo "bench: no gnuplot, no plot" >&2
[ -x "$CLIENT" ] || die "no client at $CLIENT (make tests/sse-client)"
if [ ! -x "$PUB" ]; then
	PUB=$T/sse-bench-pub
	cc -O2 -I"$top_builddir" $(pkg-config --cflags hiredis) -o "$PUB" \
	    "$top_srcdir/tests/bench/sse-bench-pub.c" \
	    $(pkg-config --libs hiredis) || die "cannot build sse-bench-pub"
fi

# --- Accounting ---------------------------------------------------------------

# cpu_s PID...: user + system CPU-seconds of the live ones.
cpu_s() {
	local p t=0 f
	for p in "$@"; do
		f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
		set -- $f
		t=$((t + ${12} + ${13}))
	done
	awk -v t=$t -v k="$TCK" 'BEGIN { printf "%.2f", t / k }'
}
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
# kv KEY FILE: the value of KEY=... in the client's summary line.
kv() { grep -o "\b$1=[^ ]*" "$2" 2>/dev/null | head -1 | cut -d= -f2; }
# settle: wait (at most 30 s) until the servers use < 0.05 CPU-s per second.
settle() {
	local i a b
	for i in $(seq 30); do
		a=$(cpu_s $(all_server_pids)); sleep 1; b=$(cpu_s $(all_server_pids))
		awk -v d="$(minus "$b" "$a")" 'BEGIN { exit !(d < 0.05) }' && return
	done
	echo "bench: servers not idle after 30 s" >&2
}
all_server_pids() {
	[ -n "${LPID:-}" ] && ssefcgi_pids
	[ -n "${NPID:-}" ] && nchan_pids
	return 0
}
# drain: wait (at most 40 s) until the sse-fcgi workers dropped the
# previous scenario's streams, whichever system ran it or runs next.
drain() {
	[ -n "${S_BASE_CHANNELS:-}" ] || return 0
	wait_until 40 bash -c "[ \$(redis-cli -p $S_RPORT PUBSUB CHANNELS | grep -c .) -le $S_BASE_CHANNELS ]" ||
	    echo "bench: sse-fcgi still subscribed after 40 s" >&2
}
# Scaled counts: at least 1.
sc() { local v=$(($1 / SCALE)); [ $v -lt 1 ] && v=1; echo $v; }
SRC=10		# client source address 127.0.0.SRC, new for every run
FMT='%-12s %-3s %6s %6s %5s %8s %8s %6s %8s %8s %8s %8s %9s %8s %7s %7s %7s %9s %8s %6s\n'
header() {
	printf "$FMT" system scn subs estab fail events expect loss p50ms p90ms \
	    p99ms maxms span_ms deliv/s cpuConn cpuDeliv redisCPU srvRSSkB \
	    redisRSS cliCPU
}

# scn NAME SUBS URL EVENTS_PER_SUB SECONDS CHANNEL MESSAGES RATE SIZE
scn() {
	local name=$1 n=$2 url=$3 exp=$4 dur=$5 ch=$6 m=$7 rate=$8 size=$9
	local out=$T/$SYS-$name.out rf=$T/ready cdf="" c0 c1 c2 r0 r2 rss rrss lp
	local recv span dps w1 w2 wrss
	[ "$name" = B ] && cdf="-l $T/$SYS-B.cdf"
	rm -f "$rf"; drain; settle
	c0=$(cpu_s $(server_pids)); r0=$(cpu_s $(redis_pids))
	timeout $((dur + 60)) "$CLIENT" -q -L $cdf -u "$url" -n "$n" -e "$exp" \
	    -d "$dur" -c 500 -s $SRC -r "$rf" > "$out" 2> "$out.err" &
	lp=$!; track $lp; SRC=$((SRC + 1))
	wait_until 120 bash -c "[ -e $rf ] || ! kill -0 $lp 2>/dev/null"
	sleep 2		# let the servers finish subscribing after the heads
	c1=$(cpu_s $(server_pids)); w1=$(cpu_s $(worker_pids))
	rss=$(rss_kb $(server_pids)); rrss=$(rss_kb $(redis_pids))
	wrss=$(rss_kb $(worker_pids))
	echo "$SYS $name: $(pub "$ch" "$m" "$rate" "$size" 2>&1)" >> "$T/pubs"
	wait $lp
	c2=$(cpu_s $(server_pids)); r2=$(cpu_s $(redis_pids))
	w2=$(cpu_s $(worker_pids))
	[ -n "$(worker_pids)" ] && echo "$SYS $name: cpuDeliv $(minus "$c2" \
	    "$c1") = front $(minus "$(minus "$c2" "$c1")" "$(minus "$w2" \
	    "$w1")") + workers $(minus "$w2" "$w1"); worker RSS $wrss kB" >> "$T/pubs"
	recv=$(kv received "$out"); span=$(kv span_ms "$out")
	dps=$(awk -v r="${recv:-0}" -v s="${span:-0}" \
	    'BEGIN { printf "%.0f", (s > 0 ? r * 1000 / s : 0) }')
	printf "$FMT" $SYS $name $n $(kv established "$out") \
	    $(kv failed "$out") ${recv:--} $(kv expected "$out") \
	    $(kv loss "$out") $(kv p50_ms "$out") $(kv p90_ms "$out") \
	    $(kv p99_ms "$out") $(kv max_ms "$out") ${span:--} $dps \
	    $(minus "$c1" "$c0") $(minus "$c2" "$c1") $(minus "$r2" "$r0") \
	    $rss $rrss $(awk -v u="$(kv cpu_user_s "$out")" \
	    -v s="$(kv cpu_sys_s "$out")" 'BEGIN { printf "%.2f", u + s }') |
	    tee -a "$T/rows"
}

# idle N URL: server RSS with N idle subscribers (scenario D).
idle() {
	local n=$1 url=$2 out=$T/$SYS-D$1.out rf=$T/ready lp="" c0 c1 rss rrss est
	rm -f "$rf"; drain; settle
	c0=$(cpu_s $(server_pids))
	if [ "$n" -gt 0 ]; then
		timeout 150 "$CLIENT" -q -u "$url" -n "$n" -d 90 -c 500 -s $SRC \
		    -r "$rf" > "$out" 2> "$out.err" &
		lp=$!; track $lp; SRC=$((SRC + 1))
		wait_until 120 bash -c "[ -e $rf ] || ! kill -0 $lp 2>/dev/null"
		sleep 3
	fi
	c1=$(cpu_s $(server_pids))
	rss=$(rss_kb $(server_pids)); rrss=$(rss_kb $(redis_pids))
	[ -n "$(worker_pids)" ] &&
	    echo "$SYS $n $rss $(rss_kb $(worker_pids))" >> "$T/dsplit"
	[ -n "$lp" ] && stop $lp	# SIGTERM: the client prints its counts
	est=$(kv established "$out")
	printf "$FMT" $SYS D $n ${est:-0} \
	    - - - - - - - - - - $(minus "$c1" "$c0") - - $rss $rrss - |
	    tee -a "$T/rows"
	sleep 2
}

# run_scenarios: every scenario on every system in turn.
run_scenarios() {
	local t=$(date +%s) n s u
	# D first, on fresh servers: RSS high-water marks stay after big runs.
	if [[ $SCENARIOS == *D* ]]; then
		for n in 0 "$(sc 1000)" "$(sc 10000)"; do
			for s in $SYSTEMS; do
				[ $s = sse-fcgi-lua ] && continue
				use $s; idle "$n" "${SUB_URL}d$t"
			done
		done
	fi
	for s in $SYSTEMS; do
		use $s; u=$SUB_URL
		[[ $SCENARIOS == *A* ]] && scn A "$(sc 1000)" "${u}a$t" \
		    "$(sc 200)" 45 "a$t" "$(sc 200)" 50 200
	done
	for s in $SYSTEMS; do
		use $s; u=$SUB_URL
		[[ $SCENARIOS == *B* ]] && scn B "$(sc 10000)" "${u}b$t" \
		    "$(sc 50)" 60 "b$t" "$(sc 50)" 10 200
	done
	for s in $SYSTEMS; do
		use $s; u=$SUB_URL
		[[ $SCENARIOS == *C* ]] && scn C "$(sc 5000)" "${u}c${t}_{i}" \
		    1 60 "c${t}_{j}" "$(sc 5000)" 0 200
	done
	for s in $SYSTEMS; do
		use $s; u=$SUB_URL
		[[ $SCENARIOS == *E* ]] && scn E "$(sc 200)" "${u}e$t" \
		    "$(sc 10000)" 90 "e$t" "$(sc 10000)" 0 200
	done
	return 0
}

# --- sse-fcgi behind lighttpd --------------------------------------------------

start_ssefcgi() {
	start_redis; S_RPORT=$RPORT; S_RPID=$RPID
	rm -f "$T/sse.sock"
	spawn-fcgi -s "$T/sse.sock" -b 4096 -F "$WORKERS" -P "$T/spawn.pid" -- \
	    "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" \
	    --log-file "$T/worker.log" $WORKER_ARGS > "$T/spawn.log" 2>&1 ||
	    die "spawn-fcgi failed: $(cat "$T/spawn.log")"
	WPIDS=$(tr '\n' ' ' < "$T/spawn.pid"); track $WPIDS
	# The shipped config; only its fd and connection limits are raised
	# for 10k streams, and its commented max-worker line switched on.
	start_lighttpd "$T/sse.sock" 9500 "$LWORKERS"
	sleep 1
	track $(ps -o pid= --ppid $LPID)
	S_URL=http://127.0.0.1:$LPORT/api/v1/events/
	S_BASE_CHANNELS=$(redis-cli -p "$RPORT" PUBSUB CHANNELS | grep -c .)
	echo "# sse-fcgi: lighttpd $(lighttpd -v 2>&1 | sed 's/ .*//;s/.*\///') x$LWORKERS, sse-fcgi workers x$WORKERS${WORKER_ARGS:+ ($WORKER_ARGS)}, Redis PUBLISH" >> "$T/systems"
	case " $SYSTEMS " in *" sse-fcgi-lua "*)
		echo "# sse-fcgi-lua: the same servers, published by EVALSHA of deploy/redis/sse-publish.lua (history 1000)" >> "$T/systems";;
	esac
}
# Server processes: lighttpd's master and its workers, and the sse-fcgi
# workers.
ssefcgi_pids() { echo $LPID $(ps -o pid= --ppid $LPID) $WPIDS; }
ssefcgi_pub() {
	timeout 300 "$PUB" -R "127.0.0.1:$S_RPORT" -c "$1" -m "$2" -r "$3" \
	    -s "$4"
}
ssefcgi_lua_pub() {
	timeout 300 "$PUB" -E "$top_srcdir/deploy/redis/sse-publish.lua" \
	    -k 1000 -R "127.0.0.1:$S_RPORT" -c "$1" -m "$2" -r "$3" -s "$4"
}

# --- nginx + Nchan ---------------------------------------------------------------

start_nchan() {
	local nport
	start_redis; N_RPORT=$RPORT; N_RPID=$RPID
	nport=$(free_port)
	NCHAN_WORKERS=$NWORKERS start_nchan_nginx "$T/nginx" "$nport" "$RPORT" newest
	NPID=$NCHAN_PID
	N_URL=http://127.0.0.1:$nport/api/v1/events/
	NCHAN_PORT=$nport
	echo "# nchan: nginx $(nginx -v 2>&1 | sed 's/.*\///') x$(ps -o pid= --ppid $NPID | wc -l), Nchan $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null | sed 's/^[0-9]*://'), HTTP POST" >> "$T/systems"
}
nchan_pids() { echo $NPID $(ps -o pid= --ppid $NPID); }
nchan_pub() {
	timeout 300 "$PUB" -H "127.0.0.1:$NCHAN_PORT" -P '/pub/{ch}' -c "$1" \
	    -m "$2" -r "$3" -s "$4"
}

# --- The run ---------------------------------------------------------------------

: > "$T/rows"; : > "$T/pubs"; : > "$T/systems"; : > "$T/dsplit"
STAMP=$(date -u +%Y-%m-%dT%H%MZ)
HOST=$(hostname -s 2>/dev/null || hostname)
# use SYS: the system the next scenario measures.
use() {
	SYS=$1
	case $SYS in
	sse-fcgi | sse-fcgi-lua)
		server_pids() { ssefcgi_pids; }; pub() { ssefcgi_pub "$@"; }
		[ "$SYS" = sse-fcgi-lua ] && pub() { ssefcgi_lua_pub "$@"; }
		worker_pids() { echo $WPIDS; }
		redis_pids() { echo $S_RPID; }
		SUB_URL=$S_URL;;
	nchan)
		server_pids() { nchan_pids; }; pub() { nchan_pub "$@"; }
		worker_pids() { :; }
		redis_pids() { echo $N_RPID; }
		SUB_URL=$N_URL;;
	esac
}
for SYS in $SYSTEMS; do
	case $SYS in
	sse-fcgi | sse-fcgi-lua) [ -n "${LPID:-}" ] || start_ssefcgi;;
	nchan)		start_nchan;;
	*)		die "unknown system $SYS";;
	esac
done
header
run_scenarios
[ -n "${LPID:-}" ] && stop $LPID $(ps -o pid= --ppid $LPID) $WPIDS $S_RPID
[ -n "${NPID:-}" ] && stop $NPID $(ps -o pid= --ppid $NPID) $N_RPID
# F: the storm, on servers of its own, once the others are stopped.
: > "$T/F.txt"
if [[ $SCENARIOS == *F* ]]; then
	fmodes=""
	for s in $SYSTEMS; do
		case $s in sse-fcgi) fmodes="$fmodes upgrade";; nchan) fmodes="$fmodes nchan";; esac
	done
	N=$(sc 5000) K=$(sc 500) WORKERS=$WORKERS RESULTS=$T/F top_srcdir=$top_srcdir \
	    top_builddir=$top_builddir timeout 900 bash "$top_srcdir/tests/bench/restart.sh" \
	    $fmodes 2>&1 | grep -v '^# figures in' | tee "$T/F.txt"
fi

# Ratios sse-fcgi/nchan, per scenario (D by subscriber count) and column.
ratios() {
	awk '
	{
		key = $2 ($2 == "D" ? $3 : "")
		row[$1, key] = $0
		if (!(key in seen)) { seen[key] = 1; order[++n] = key }
	}
	END {
		split("p50ms p90ms p99ms maxms span_ms deliv/s cpuConn cpuDeliv redisCPU srvRSSkB redisRSS cliCPU", name, " ")
		printf "%-6s", "ratio"
		for (c = 1; c <= 12; c++) printf " %9s", name[c]
		printf "\n"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (!(("sse-fcgi", k) in row) || !(("nchan", k) in row)) continue
			split(row["sse-fcgi", k], a, " "); split(row["nchan", k], b, " ")
			printf "%-6s", k
			for (c = 1; c <= 12; c++) {
				x = a[c + 8]; y = b[c + 8]
				if (x == "-" || y == "-" || y + 0 == 0) printf " %9s", "-"
				else printf " %9.2f", x / y
			}
			printf "\n"
		}
	}' "$T/rows"
}
# D: RSS per idle subscriber, from the largest count against 0.
per_sub() {
	awk '$2 == "D" { if ($3 == 0) z[$1] = $18; else if ($3 > n[$1]) { n[$1] = $3; r[$1] = $18 } }
	END { for (s in n) printf "%s: D server RSS per idle subscriber %.1f KB (%d subscribers)\n", s, (r[s] - z[s]) / n[s], n[s] }' "$T/rows"
	# The front server and the workers apart, in bytes per subscriber.
	[ -s "$T/dsplit" ] && awk '{ if ($2 == 0) { z[$1] = $3; zw[$1] = $4 }
		else if ($2 > n[$1]) { n[$1] = $2; r[$1] = $3; w[$1] = $4 } }
	END { for (s in n) printf "%s: D per idle subscriber %.3f KB = front %.0f B + workers %.0f B (%d subscribers)\n", s, (r[s] - z[s]) / n[s], ((r[s] - w[s]) - (z[s] - zw[s])) * 1024 / n[s], (w[s] - zw[s]) * 1024 / n[s], n[s] }' "$T/dsplit"
	return 0
}

mkdir -p "$RESULTS"
OUT=$RESULTS/$STAMP-$HOST.txt
{
	echo "# sse-fcgi benchmark, $STAMP on $HOST: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null), Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
	echo "# scenarios $SCENARIOS, SCALE=$SCALE; latency ms; CPU in CPU-seconds; RSS in kB"
	cat "$T/systems"
	header
	for SYS in $SYSTEMS; do awk -v s="$SYS" '$1 == s' "$T/rows"; done
	echo
	per_sub
	echo
	ratios
	echo
	echo "# publishers, and the sse-fcgi CPU split:"
	sed 's/^/#   /' "$T/pubs"
	if [ -s "$T/F.txt" ]; then
		echo
		echo "# F, the reconnect storm (tests/bench/restart.sh):"
		cat "$T/F.txt"
	fi
} > "$OUT"
echo; per_sub; echo; ratios; echo; echo "table: $OUT"

# Scenario B's latency CDFs, one data block per system, and the plot.
if [ -s "$T/sse-fcgi-B.cdf" ] || [ -s "$T/nchan-B.cdf" ]; then
	DAT=$RESULTS/latency-B.dat
	{
		echo "# scenario B latency CDF ($(basename "$OUT")); blocks: $SYSTEMS"
		for SYS in $SYSTEMS; do
			echo "# $SYS"
			cat "$T/$SYS-B.cdf" 2>/dev/null
			printf '\n\n'
		done
	} > "$DAT"
	if command -v gnuplot >/dev/null; then
		i=0; plots=""
		for SYS in $SYSTEMS; do
			plots="$plots${plots:+, }'$DAT' index $i using 1:2 with lines lw 2 title '$SYS'"
			i=$((i + 1))
		done
		gnuplot <<-PLOT && echo "plot: $RESULTS/latency-B.png"
		set terminal pngcairo size 800,500 noenhanced
		set output '$RESULTS/latency-B.png'
		set title 'Scenario B: $(sc 10000) subscribers, one channel, $(sc 50) messages at 10/s ($STAMP)'
		set logscale x
		set xlabel 'latency, ms (publish to receipt)'
		set ylabel 'fraction of events'
		set yrange [0:1]
		set grid
		set key bottom right
		plot $plots
		PLOT
	fi
fi
