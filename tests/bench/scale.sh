#!/bin/bash
# sse-fcgi - MIT License
#
# scale.sh: the whole stack at N open streams on this machine (issue "a
# million streams on one small machine"; 50,000 by default). lighttpd holds
# 2 fds per stream, a worker 1, a client 1, and a process may hold at most
# its RLIMIT_NOFILE (raised here up to fs.nr_open when the shell may; else
# its hard limit, 20,000 on the reference machine). So the streams are
# spread over several lighttpd processes (server.max-worker), several
# sse-fcgi workers (one socket, spawn-fcgi -F) and several client
# processes, each client on its own source addresses 127.0.0.x (20,000
# connections per address, within one ephemeral port range per source and
# destination). The counts follow from N and the fd limit. Then:
#   - RSS of the front server and of the workers (Redis and the clients
#     apart), in total and per stream, against the same processes with no
#     stream;
#   - kernel memory per stream: /proc/meminfo Slab and SUnreclaim, the
#     largest slab caches (/proc/slabinfo), TCP buffer pages
#     (/proc/net/sockstat), before and with the streams open;
#   - one message published by Redis PUBLISH, whether every stream got it,
#     the time from publish to the last receipt and the TCP buffer peak
#     meanwhile;
#   - the subscriptions Redis holds (one per worker holding streams).
# The figures go to stdout and to tests/bench/results/<UTC date>-scale.txt.
#
# System settings: only those the run needs are changed (fs.nr_open,
# fs.file-max, net.core.somaxconn, net.ipv4.ip_local_port_range), each
# printed with its value, and every one is restored on exit. Free memory is
# watched while the streams open: under MEM_FLOOR_MB of MemAvailable the
# run stops opening, reports what it holds then and fails.
#
# Usage: tests/bench/scale.sh   (needs root: apt-get, fd limits, sysctls)
# Environment: top_builddir (the build with sse-fcgi, tests/sse-client and
# tests/bench/sse-bench-pub); N=50000 streams; LWORKERS lighttpd
# processes, WORKERS sse-fcgi workers, CLIENTS client processes,
# KEEPALIVE seconds (each computed from N unless set); MEM_FLOOR_MB=2560; CONNECT_S (the time
# limit to open them all, 120 + N / 500 s); SKIP_INSTALL=1; RESULTS=dir;
# KEEP_TMP=1. Every step has a time limit; only the processes this script
# started are stopped, by PID.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
N=${N:-50000}
MEM_FLOOR_MB=${MEM_FLOOR_MB:-2560}
CONNECT_S=${CONNECT_S:-$((120 + N / 500))}
RESULTS=${RESULTS:-$top_srcdir/tests/bench/results}
SSE_FCGI=$top_builddir/sse-fcgi
CLIENT=$top_builddir/tests/sse-client
PUB=$top_builddir/tests/bench/sse-bench-pub
BENCH_NAME=scale
. "$top_srcdir/tests/bench/lib.sh"
case $N in ''|*[!0-9]*) die "N=$N: want a number" ;; esac
[ "$N" -ge 1 ] || die "N=$N: want at least 1"

# --- System settings, restored on exit ----------------------------------------

SAVED=()		# "key=original value" of each sysctl changed
SETTINGS=()		# what the run used, for the table
sysctl_path() { echo "/proc/sys/${1//.//}"; }
sysctl_get() { tr '\t' ' ' < "$(sysctl_path "$1")"; }
# sysctl_set KEY VALUE: remembers the original once, then writes.
sysctl_set() {
	local k=$1 v=$2 old s
	old=$(sysctl_get "$k")
	for s in "${SAVED[@]}"; do [ "${s%%=*}" = "$k" ] && break; s=; done
	[ -n "${s:-}" ] || SAVED+=("$k=$old")
	echo "$v" > "$(sysctl_path "$k")" || die "cannot set $k to $v"
	echo "scale: set $k = $v (was $old)"
}
restore_sysctls() {
	local s
	for s in "${SAVED[@]}"; do
		echo "${s#*=}" > "$(sysctl_path "${s%%=*}")" &&
		    echo "scale: restored ${s%%=*} = ${s#*=}"
	done
	SAVED=()
}
scale_exit() { cleanup; restore_sysctls; }
trap scale_exit EXIT
setting() { SETTINGS+=("$1 = $(sysctl_get "$1")${2:+ ($2)}"); }
# kv_sum KEY FILE...: the sum of KEY=... over the clients' summary lines.
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
mem_avail_mb() { awk '/^MemAvailable:/ { printf "%d", $2 / 1024 }' /proc/meminfo; }
meminfo_kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
# tcp_inuse, tcp_mem_pages: /proc/net/sockstat's TCP line.
tcp_inuse() { awk '$1 == "TCP:" { print $3 }' /proc/net/sockstat; }
tcp_mem_pages() { awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat; }
# netstat KEY: a TcpExt counter of /proc/net/netstat (ListenOverflows...).
netstat() {
	awk -v k="$1" '$1 == "TcpExt:" { if (!h) { for (i = 2; i <= NF; i++) c[$i] = i; h = 1 } else print $c[k] }' /proc/net/netstat
}
# slab_aliases CACHE: the other caches SLUB merged with CACHE, if any.
slab_aliases() {
	local t n
	t=$(readlink "/sys/kernel/slab/$1" 2>/dev/null) || return 0
	for n in /sys/kernel/slab/*; do
		[ "$(readlink "$n")" = "$t" ] && [ "${n##*/}" != "$1" ] && printf '%s ' "${n##*/}"
	done | sed 's/ $//'
}
# slab_snapshot FILE: "cache bytes" of every slab cache.
slab_snapshot() { awk 'NR > 2 { print $1, $3 * $4 }' /proc/slabinfo > "$1"; }

# --- Per-process fds: as many as the run wants, up to fs.nr_open -----------

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
[ -r /proc/slabinfo ] || die "cannot read /proc/slabinfo (run as root)"

# A client or a worker could use N + 200 fds; more than 2^20 buys nothing.
want_fds=$((N + 200)); [ $want_fds -gt 1048576 ] && want_fds=1048576
hard0=$(ulimit -Hn)
fds_note="hard limit $hard0"
if [ "$hard0" != unlimited ] && [ "$want_fds" -gt "$hard0" ]; then
	if (ulimit -Hn $((hard0 + 1))) 2>/dev/null; then
		[ "$(sysctl_get fs.nr_open)" -lt $want_fds ] && sysctl_set fs.nr_open $want_fds
		ulimit -Hn $want_fds 2>/dev/null
		fds_note="hard limit raised from $hard0"
	else
		fds_note="hard limit $hard0: this shell may not raise it (no CAP_SYS_RESOURCE)"
	fi
fi
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=1048576
[ $want_fds -gt "$hard" ] && want_fds=$hard
ulimit -n $want_fds 2>/dev/null || die "cannot set ulimit -n $want_fds"
FDMAX=$(ulimit -n)
[ "$FDMAX" -ge 1000 ] || die "only $FDMAX fds a process"
setting fs.nr_open

# --- Process counts from N and FDMAX ------------------------------------------

# lighttpd: 2 fds a stream, max-fds and max-connections in 16 bits. It
# stops accepting at max-connections, and its processes take streams
# unevenly (the first to wake accepts), so 15 % more room than N.
lmaxfds=$FDMAX; [ $lmaxfds -gt 65535 ] && lmaxfds=65535
lcap=$(( (lmaxfds - 100) / 2 ))
LWORKERS=${LWORKERS:-$(( (N * 115 / 100 + lcap - 1) / lcap ))}
# Workers: 1 fd a stream; one at its limit pauses accepting (EMFILE) and
# the others of the pool take the streams: 25 % more room.
wcap=$((FDMAX - 100))
WORKERS=${WORKERS:-$(( (N * 125 / 100 + wcap - 1) / wcap ))}
[ "$WORKERS" -ge 2 ] || WORKERS=2
# Clients: 1 fd a connection.
ccap=$((FDMAX - 100))
CLIENTS=${CLIENTS:-$(( (N + ccap - 1) / ccap ))}
[ "$CLIENTS" -ge 1 ] || CLIENTS=1
per_l=$(( (N + LWORKERS - 1) / LWORKERS ))
per_c=$(( (N + CLIENTS - 1) / CLIENTS ))
[ $per_l -le $lcap ] || die "N/LWORKERS = $per_l is over $lcap streams a lighttpd process: raise LWORKERS"
[ $((per_c + 100)) -le "$FDMAX" ] || die "N/CLIENTS = $per_c is over $((FDMAX - 100)): raise CLIENTS"
# Source addresses: sse-client -a puts SRC_PER_ADDR connections on each,
# from 127.0.0.41 up; each address to the one destination has the
# ephemeral port range to itself. connect() searches that range for a free
# port, and the search slows as the range fills: at 20,000 of its 28,232
# ports a client spent its time in the kernel and streams opened at 270 a
# second. 5,000 an address keeps it short (200 addresses for 10^6).
SRC_PER_ADDR=${SRC_PER_ADDR:-5000}
addrs_per_c=$(( (per_c + SRC_PER_ADDR - 1) / SRC_PER_ADDR ))
last_addr=$((40 + CLIENTS * addrs_per_c))
[ $last_addr -le 254 ] || die "$CLIENTS clients x $addrs_per_c addresses run past 127.0.0.254"
# The workers' keepalive comment goes to every idle stream: N / KEEPALIVE
# writes a second through worker, lighttpd and client. At 300,000 streams
# the default 15 s (20,000 a second) took the 2 cores, and streams opened
# at 100 a second. So at most about 3,000 a second: N / 3000 s, 15 s at
# least (lighttpd's idle timeouts here are 3600 s).
KEEPALIVE=${KEEPALIVE:-$((N / 3000))}; [ "$KEEPALIVE" -lt 15 ] && KEEPALIVE=15
[ "$KEEPALIVE" -gt 3600 ] && KEEPALIVE=3600
# Each client opens at most CONC at a time: about 1,500 in all, within the
# listen backlogs (4096).
CONC=$((1500 / CLIENTS)); [ $CONC -lt 25 ] && CONC=25

# --- Sysctls the run needs -----------------------------------------------------

read -r plo phi < <(sysctl_get net.ipv4.ip_local_port_range)
if [ $((phi - plo + 1)) -lt $((SRC_PER_ADDR + 1000)) ]; then
	sysctl_set net.ipv4.ip_local_port_range "1024 65535"
fi
setting net.ipv4.ip_local_port_range "$SRC_PER_ADDR connections per source address"
# Every stream: 4 files (client socket, lighttpd's 2, the worker's).
files_used=$(awk '{ print $1 }' /proc/sys/fs/file-nr)
files_need=$((files_used + 4 * N + 50000))
[ "$(sysctl_get fs.file-max)" -lt $files_need ] && sysctl_set fs.file-max $files_need
setting fs.file-max "4 files a stream"
[ "$(sysctl_get net.core.somaxconn)" -lt 4096 ] && sysctl_set net.core.somaxconn 4096
setting net.core.somaxconn "lighttpd and spawn-fcgi backlogs 4096"
setting net.ipv4.tcp_mem "pages; unchanged"
setting net.ipv4.tcp_rmem "unchanged"
setting net.ipv4.tcp_wmem "unchanged"
conntrack=/proc/sys/net/netfilter/nf_conntrack_count
[ -r $conntrack ] && ct0=$(cat $conntrack)

echo "scale: N=$N; fds per process $FDMAX ($fds_note); lighttpd x$LWORKERS (max-fds $lmaxfds, max-connections $lcap), workers x$WORKERS (--keepalive $KEEPALIVE), clients x$CLIENTS (127.0.0.41-$last_addr, $CONC connecting at a time each); MemAvailable $(mem_avail_mb) MB, floor $MEM_FLOOR_MB MB"
for s in "${SETTINGS[@]}"; do echo "scale: $s"; done
[ "$(mem_avail_mb)" -gt $((MEM_FLOOR_MB + 1024)) ] ||
    die "MemAvailable $(mem_avail_mb) MB: not 1 GB above the floor of $MEM_FLOOR_MB MB"

# --- The stack ------------------------------------------------------------------

start_redis
spawn-fcgi -s "$T/sse.sock" -b 4096 -F "$WORKERS" -P "$T/spawn.pid" -- \
    "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" \
    --keepalive "$KEEPALIVE" --log-file "$T/worker.log" > "$T/spawn.log" 2>&1 ||
    die "spawn-fcgi failed: $(cat "$T/spawn.log")"
WPIDS=$(tr '\n' ' ' < "$T/spawn.pid"); track $WPIDS
LMAXFDS=$lmaxfds start_lighttpd "$T/sse.sock" "$lcap" "$LWORKERS"
lworkers_up() { [ "$(ps -o pid= --ppid $LPID | wc -l)" -eq "$LWORKERS" ]; }
wait_until 60 lworkers_up || die "expected $LWORKERS lighttpd workers, found $(ps -o pid= --ppid $LPID | wc -l)"
LPIDS="$LPID $(ps -o pid= --ppid $LPID | tr '\n' ' ')"; track $LPIDS
sleep 2
front0=$(rss_kb $LPIDS); work0=$(rss_kb $WPIDS); redis0=$(rss_kb $RPID)
declare -A fd0		# each server process's fds with no stream
for p in $WPIDS $LPIDS; do fd0[$p]=$(ls /proc/$p/fd | wc -l); done
slab_snapshot "$T/slab0"
slab0=$(meminfo_kb Slab); sunr0=$(meminfo_kb SUnreclaim)
tcpmem0=$(tcp_mem_pages); inuse0=$(tcp_inuse); avail0=$(mem_avail_mb)
lo0=$(netstat ListenOverflows); ld0=$(netstat ListenDrops)

# --- N streams -------------------------------------------------------------------

CH=scale$(date +%s)
CPIDS=""
t0=$(date +%s.%N)
left=$N
for c in $(seq 1 "$CLIENTS"); do
	n=$per_c; [ $n -gt $left ] && n=$left; left=$((left - n))
	[ $n -gt 0 ] || break
	"$CLIENT" -q -L -u "http://127.0.0.1:$LPORT/api/v1/events/$CH" \
	    -n "$n" -e 1 -d $((CONNECT_S + 300)) -c "$CONC" \
	    -s $((41 + (c - 1) * addrs_per_c)) -a $SRC_PER_ADDR -r "$T/ready.$c" \
	    > "$T/client.$c.out" 2> "$T/client.$c.err" &
	CPIDS="$CPIDS $!"; track $!
done
NCLI=$(echo $CPIDS | wc -w)
all_ready() {
	local c
	for c in $(seq 1 "$NCLI"); do [ -e "$T/ready.$c" ] || return 1; done
}
# Until every client is ready, CONNECT_S at most; every second the free
# memory, every 30 s a progress line.
ABORT=""; i=0
while ! all_ready; do
	if [ $((i % 5)) -eq 0 ]; then
		avail=$(mem_avail_mb)
		if [ "$avail" -lt "$MEM_FLOOR_MB" ]; then
			ABORT="MemAvailable $avail MB under the floor of $MEM_FLOOR_MB MB at about $(( ($(tcp_inuse) - inuse0) / 2 )) streams"
			break
		fi
		[ $((i % 150)) -eq 0 ] && [ $i -gt 0 ] &&
		    echo "scale: $((i / 5)) s: about $(( ($(tcp_inuse) - inuse0) / 2 )) streams, MemAvailable $avail MB"
	fi
	if [ $i -ge $((CONNECT_S * 5)) ]; then
		ABORT="not every client connected in $CONNECT_S s: $(cat "$T"/client.*.err | head -3)"
		break
	fi
	sleep 0.2; i=$((i + 1))
done
t1=$(date +%s.%N)
[ -n "$ABORT" ] && echo "scale: stopping: $ABORT"
[ -z "$ABORT" ] && sleep $((3 + N / 100000))	# the last subscriptions and heads settle
front1=$(rss_kb $LPIDS); work1=$(rss_kb $WPIDS); redis1=$(rss_kb $RPID)
cli1=$(rss_kb $CPIDS)
slab_snapshot "$T/slab1"
slab1=$(meminfo_kb Slab); sunr1=$(meminfo_kb SUnreclaim)
tcpmem1=$(tcp_mem_pages); inuse1=$(tcp_inuse); avail1=$(mem_avail_mb)
lo1=$(netstat ListenOverflows); ld1=$(netstat ListenDrops)
rt=$(for f in "$T"/ready.*; do stat -c %.3Y "$f"; done 2>/dev/null | sort -n |
    awk -v a="$t0" 'NR == 1 { f = $1 } { l = $1 } END { if (NR) printf "%.1f-%.1f s", f - a, l - a; else print "-" }')
[ -r $conntrack ] && ct1=$(cat $conntrack)
numsub=$(redis-cli -p "$RPORT" PUBSUB NUMSUB "$CH" | tail -1)
wmin=-1; wmax=0; wholding=0
for p in $WPIDS; do
	s=$(( $(ls /proc/$p/fd | wc -l) - ${fd0[$p]} ))
	[ $s -gt 0 ] && wholding=$((wholding + 1))
	[ $s -gt $wmax ] && wmax=$s
	{ [ $wmin -lt 0 ] || [ $s -lt $wmin ]; } && wmin=$s
done
lmin=-1; lmax=0
for p in $(ps -o pid= --ppid $LPID); do
	s=$(( ($(ls /proc/$p/fd | wc -l) - ${fd0[$p]:-0}) / 2 ))
	[ $s -gt $lmax ] && lmax=$s
	{ [ $lmin -lt 0 ] || [ $s -lt $lmin ]; } && lmin=$s
done

# --- One message to all ---------------------------------------------------------

peak=$tcpmem1
if [ -z "$ABORT" ]; then
	tp=$(date +%s.%N)
	"$PUB" -R "127.0.0.1:$RPORT" -c "$CH" -m 1 -r 0 -s 200 > "$T/pub.out" 2>&1 ||
	    die "publish failed: $(cat "$T/pub.out")"
	# Every client exits once its streams have the event (-e 1), or at
	# its own deadline; 300 s at most here. Meanwhile the TCP buffer peak.
	clients_gone() {
		local p
		for p in $CPIDS; do kill -0 "$p" 2>/dev/null && return 1; done
		return 0
	}
	i=0; amin=$avail1
	while ! clients_gone && [ $i -lt 1500 ]; do
		m=$(tcp_mem_pages); [ "$m" -gt "$peak" ] && peak=$m
		a=$(mem_avail_mb); [ "$a" -lt "$amin" ] && amin=$a
		if [ "$a" -lt "$MEM_FLOOR_MB" ]; then
			ABORT="MemAvailable $a MB under the floor of $MEM_FLOOR_MB MB during the delivery"
			echo "scale: stopping: $ABORT"
			break
		fi
		sleep 0.2; i=$((i + 1))
	done
	td=$(date +%s.%N)
	clients_gone || echo "scale: clients still running 300 s after the publish: stopped"
fi
stop $CPIDS
outs=$(ls "$T"/client.*.out)
est=$(kv_sum established $outs); recv=$(kv_sum received $outs)
failed=$(kv_sum failed $outs); maxms=$(kv_max max_ms $outs)
p99=$(kv_max p99_ms $outs)
[ "$est" -gt 0 ] || die "no stream established: $(cat "$T"/client.*.err | head -5)"

STAMP=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/$STAMP-scale.txt
{
	echo "# sse-fcgi at scale, $STAMP: $(nproc) cores, $(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo) GiB, Linux $(uname -r), lighttpd $(lighttpd -v 2>&1 | sed 's/ .*//;s/.*\///') x$LWORKERS, sse-fcgi workers x$WORKERS, $NCLI clients on 127.0.0.41-$last_addr"
	echo "settings: fds per process $FDMAX ($fds_note); lighttpd server.max-fds $lmaxfds, server.max-connections $lcap; sse-fcgi --keepalive $KEEPALIVE; $CONC connecting at a time per client"
	for s in "${SETTINGS[@]}"; do echo "settings: $s"; done
	[ -n "$ABORT" ] && echo "STOPPED: $ABORT"
	awk -v n="$N" -v e="$est" -v f="$failed" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
	    -v rt="$rt" -v lo=$((lo1 - lo0)) -v ld=$((ld1 - ld0)) \
	    'BEGIN { printf "streams: %d asked, %d established, %d failed, connected in %.1f s (%.0f a second; clients ready after %s; listen overflows %d, drops %d)\n", n, e, f, t, e / t, rt, lo, ld }'
	echo "redis subscriptions for the channel: $numsub (one per worker holding streams: $wholding of $WORKERS); streams per worker $wmin-$wmax, per lighttpd process $lmin-$lmax"
	awk -v f0="$front0" -v f1="$front1" -v w0="$work0" -v w1="$work1" \
	    -v r0="$redis0" -v r1="$redis1" -v c1="$cli1" -v n="$est" \
	    -v lw="$LWORKERS" -v nc="$NCLI" 'BEGIN {
		printf "user RSS front (lighttpd x%d): %.1f -> %.1f MB, %.0f B per stream\n", lw + 1, f0 / 1024, f1 / 1024, (f1 - f0) * 1024 / n
		printf "user RSS workers: %.1f -> %.1f MB, %.0f B per stream\n", w0 / 1024, w1 / 1024, (w1 - w0) * 1024 / n
		printf "user RSS whole stack (front + workers): %.1f MB, %.2f KB per stream\n", (f1 + w1) / 1024, (f1 + w1 - f0 - w0) / n
		printf "user RSS redis (apart): %.1f -> %.1f MB; clients (apart, x%d): %.1f MB, %.0f B per stream\n", r0 / 1024, r1 / 1024, nc, c1 / 1024, c1 * 1024 / n
	}'
	awk -v s0="$slab0" -v s1="$slab1" -v u0="$sunr0" -v u1="$sunr1" \
	    -v m0="$tcpmem0" -v m1="$tcpmem1" -v pk="$peak" -v a0="$avail0" \
	    -v a1="$avail1" -v n="$est" 'BEGIN {
		printf "kernel Slab: %.1f -> %.1f MB, %.2f KB per stream (SUnreclaim %.2f KB per stream)\n", s0 / 1024, s1 / 1024, (s1 - s0) / n, (u1 - u0) / n
		printf "kernel TCP buffers (sockstat mem): %.1f -> %.1f MB idle, %.1f MB at the peak of the delivery\n", m0 * 4 / 1024, m1 * 4 / 1024, pk * 4 / 1024
		printf "MemAvailable: %d -> %d MB, %.2f KB per stream (whole machine: stack, clients, kernel, and other users)\n", a0, a1, (a0 - a1) * 1024 / n
	}'
	# The slab caches that grew most, per stream (the whole system's).
	# SLUB merges caches of one size: such a cache is shown with the
	# names it stands for (signal_cache may hold the UNIX sockets).
	line=""
	while read -r d c; do
		names=$(slab_aliases "$c")
		line="$line${line:+, }$c${names:+ [$names]} $((d / est)) B"
	done < <(awk 'NR == FNR { b[$1] = $2; next }
	    { d = $2 - b[$1]; if (d > 0) printf "%d %s\n", d, $1 }' "$T/slab0" "$T/slab1" |
	    sort -rn | head -8)
	echo "kernel slab per stream, largest: $line"
	echo "tcp sockets in use: $inuse0 -> $inuse1; conntrack entries: ${ct0:--} -> ${ct1:--}"
	[ -n "${tp:-}" ] &&
	    echo "one message: received by $recv of $est streams; publish to last receipt $maxms ms (p99 $p99 ms); every client done $(awk -v a="$tp" -v b="$td" 'BEGIN { printf "%.1f", b - a }') s after the publish; MemAvailable at least $amin MB meanwhile"
} | tee "$OUT"
echo "table: $OUT"

# --- Teardown: the stack, then wait (60 s at most) for the sockets to go --------

t2=$(date +%s.%N)
stop $LPIDS $WPIDS $RPID
sockets_back() { [ "$(tcp_inuse)" -le $((inuse0 + 1000)) ]; }
wait_until 60 sockets_back || echo "scale: $(tcp_inuse) TCP sockets still in use 60 s after the stop"
echo "scale: stack stopped and its sockets gone in $(awk -v a="$t2" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
[ -z "$ABORT" ] && [ "$recv" = "$est" ] && [ "$est" = "$N" ] && [ "$numsub" = "$wholding" ]
