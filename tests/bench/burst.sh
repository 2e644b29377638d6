#!/bin/bash
# sse-fcgi - MIT License
#
# burst.sh (make bench-burst): a burst with readers that pause. One
# sse-fcgi worker (--queue-limit QUEUE_LIMIT) behind one lighttpd (the
# shipped config), one Redis. N readers (tests/sse-client -Q -P PAUSE) on
# one channel: each stops reading for 1.5 s of every 2 s, their pauses
# spread over the period, as a page in a background tab or a phone on a bad
# network does. Then M events of SIZE bytes are published at once, through
# the project's history script (deploy/redis/sse-publish.lua, EVALSHA by
# redis-cli --pipe, history length HISTORY); event i's data is "i " and
# padding, so every reader checks it gets 1, 2, ... in order. Measured per
# sitting:
#   growth_mb         the worker's peak RSS during the burst (VmRSS every
#                     0.1 s, and VmHWM reset before it) minus its RSS just
#                     before it
#   closed            streams the worker closed as not keeping up (its log's
#                     "...; closing it" lines: queue-limit)
#   received          events the readers got / the N x M expected
#   seq_errors        gaps, repeats or disorder the readers saw
#   deliveries_per_s  received / (first publish to the last event read)
#   drain_s           the end of the publishing to the last event read
# The readers run until each has its M events or was closed (at most
# DEADLINE seconds). What a paused reader's kernel takes in before the
# worker sees its socket full is its receive buffer: Linux grows it up to
# the maximum of net.ipv4.tcp_rmem (noted in the results), unless RCVBUF
# fixes it (sse-client -B), which makes the figures independent of that. SITTINGS sittings, each with fresh processes; then the
# median of each figure with its [min-max]. Figures on stdout and appended
# to tests/bench/results/<UTC time>-burst.txt.
#
# Usage: tests/bench/burst.sh   (or make bench-burst; the client and
# lighttpd need N + 100 and 2 x N + 100 fds: with N = 1000 the usual 4096
# suffice, more may need root)
# Environment: top_builddir (the build with sse-fcgi and tests/sse-client);
# N=1000; M=10000; SIZE=2048 (bytes of data per event); QUEUE_LIMIT=4m;
# PAUSE=1500/2000 (ms paused / period); RCVBUF= (bytes, SO_RCVBUF of each
# reader; empty: the kernel's autotuning); HISTORY=1000; DEADLINE=300;
# SITTINGS=3; SKIP_INSTALL=1 (never apt-get a missing redis-server,
# lighttpd or spawn-fcgi); RESULTS=dir; KEEP_TMP=1. Every wait has a time
# limit; only the processes this script started are stopped, by PID.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
N=${N:-1000}
M=${M:-10000}
SIZE=${SIZE:-2048}
QUEUE_LIMIT=${QUEUE_LIMIT:-4m}
PAUSE=${PAUSE:-1500/2000}
RCVBUF=${RCVBUF:-}
HISTORY=${HISTORY:-1000}
DEADLINE=${DEADLINE:-300}
SITTINGS=${SITTINGS:-3}
RESULTS=${RESULTS:-$top_srcdir/tests/bench/results}
SSE_FCGI=${SSE_FCGI:-$top_builddir/sse-fcgi}
CLIENT=${SSE_CLIENT:-$top_builddir/tests/sse-client}
CH=burst.pause
BENCH_NAME=burst
. "$top_srcdir/tests/bench/lib.sh"

for tool in redis-server redis-cli; do
	command -v $tool >/dev/null || install_pkgs redis-server || die "no $tool"
done
command -v lighttpd >/dev/null && command -v spawn-fcgi >/dev/null ||
    install_pkgs lighttpd spawn-fcgi || die "no lighttpd or spawn-fcgi"
command -v python3 >/dev/null || die "no python3"
for f in "$SSE_FCGI" "$CLIENT"; do
	[ -x "$f" ] || die "no $f (make sse-fcgi tests/sse-client)"
done
NEED=$((2 * N + 200))
[ "$NEED" -lt 4096 ] && NEED=4096
ulimit -n "$NEED" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((2 * N + 100)) ] ||
    die "lighttpd needs $((2 * N + 100)) fds; the limit is $(ulimit -n) (run as root)"

now_ms() { local t=$EPOCHREALTIME; echo $(( ${t/[.,]/} / 1000 )); }
kv() { grep -o "\b$1=[^ ]*" "$2" 2>/dev/null | head -1 | cut -d= -f2; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
numsub_is() { [ "$(redis-cli -p "$RPORT" PUBSUB NUMSUB "$1" | sed -n 2p)" = "$2" ]; }

# burst_file FILE SHA: the M EVALSHA calls in RESP, for redis-cli --pipe.
burst_file() {
	awk -v n="$M" -v size="$SIZE" -v sha="$2" -v ch="$CH" -v hist="$HISTORY" \
	    -f "$top_srcdir/tests/script-burst.awk" > "$1"
}

# peak_poll PID FILE: writes PID's highest VmRSS (kB) seen, every 0.1 s,
# to FILE; ends with PID or after DEADLINE + 60 s. Sets POLLER.
peak_poll() {
	(
		local max=0 k v rest i
		for ((i = 0; i < (DEADLINE + 60) * 10; i++)); do
			kill -0 "$1" 2>/dev/null || break
			while read -r k v rest; do
				[ "$k" = VmRSS: ] || continue
				[ "$v" -gt "$max" ] && { max=$v; echo "$max" > "$2"; }
				break
			done < "/proc/$1/status"
			sleep 0.1
		done
	) &
	POLLER=$!; track $POLLER
}

STAMP=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/$STAMP-burst.txt
REV=$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "# $STAMP $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); burst.sh at $REV: $N readers paused $PAUSE ms (receive buffer ${RCVBUF:-autotuned, tcp_rmem $(tr -s '\t ' ' ' < /proc/sys/net/ipv4/tcp_rmem)}), $M x $SIZE bytes at once, queue-limit $QUEUE_LIMIT, history $HISTORY, $SITTINGS sittings" | tee -a "$OUT"

sitting() {
	local s=$1 d=$T/s$1 w sha cpid before peak hwm t0 t1 last
	local recv exp seqe closed stalled behind early
	mkdir -p "$d"
	start_redis
	spawn-fcgi -s "$d/sse.sock" -F 1 -P "$d/spawn.pid" -- \
	    "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" \
	    --queue-limit "$QUEUE_LIMIT" --stats-interval 0 \
	    --log-file "$d/worker.log" > "$d/spawn.log" 2>&1 ||
	    die "spawn-fcgi failed: $(cat "$d/spawn.log")"
	w=$(cat "$d/spawn.pid"); track $w
	start_lighttpd "$d/sse.sock" $((N + 500))
	sha=$(redis-cli -p "$RPORT" SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
	[ -s "$T/burst.resp" ] || burst_file "$T/burst.resp" "$sha"
	grep -q "$sha" <(head -c 200 "$T/burst.resp") || die "the script's SHA changed"

	"$CLIENT" -q -Q -P "$PAUSE" ${RCVBUF:+-B "$RCVBUF"} -u "http://127.0.0.1:$LPORT/api/v1/events/$CH" \
	    -n "$N" -e "$M" -c 500 -d "$DEADLINE" -r "$d/ready" \
	    > "$d/client.out" 2> "$d/client.err" &
	cpid=$!; track $cpid
	wait_until 60 test -e "$d/ready" || die "sitting $s: the readers did not connect"
	wait_until 10 numsub_is $CH 1 || die "sitting $s: the worker did not subscribe"
	sleep 1		# settled, and the pauses under way
	before=$(status_kb "$w" VmRSS)
	echo 5 > "/proc/$w/clear_refs" 2>/dev/null && hwm=1 || hwm=
	: > "$d/peak"
	peak_poll "$w" "$d/peak"

	t0=$(now_ms)
	redis-cli -p "$RPORT" --pipe < "$T/burst.resp" > "$d/pipe.out" 2>&1
	t1=$(now_ms)
	grep -q "errors: 0, replies: $M" "$d/pipe.out" ||
	    die "sitting $s: the burst was not published: $(tail -n 3 "$d/pipe.out")"
	wait_until $((DEADLINE + 30)) bash -c "! kill -0 $cpid 2>/dev/null" ||
	    echo "sitting $s: the readers did not finish in time" >&2
	stop $cpid
	peak=$(cat "$d/peak" 2>/dev/null)
	if [ -n "$hwm" ]; then
		hwm=$(status_kb "$w" VmHWM)
		[ "${hwm:-0}" -gt "${peak:-0}" ] && peak=$hwm
	fi
	stop $POLLER

	recv=$(kv received "$d/client.out"); exp=$(kv expected "$d/client.out")
	seqe=$(kv seq_errors "$d/client.out"); early=$(kv closed_early "$d/client.out")
	last=$(kv last_event_epoch_ms "$d/client.out")
	closed=$(grep -c 'closing it' "$d/worker.log")
	stalled=$(grep -c 'client not reading.*closing it' "$d/worker.log")
	behind=$(grep -c 'client too far behind.*closing it' "$d/worker.log")
	[ -n "$recv" ] || die "sitting $s: no summary from the client: $(cat "$d/client.err")"
	[ "${last:-0}" -gt 0 ] || last=$t0
	awk -v s="$s" -v b="$before" -v p="${peak:-0}" -v c="$closed" \
	    -v r="$recv" -v e="$exp" -v q="$seqe" -v t0="$t0" -v t1="$t1" \
	    -v l="$last" -v ns="$stalled" -v nb="$behind" -v early="$early" \
	    -v est="$(kv established "$d/client.out")" \
	    -v pauses="$(kv pauses "$d/client.out")" 'BEGIN {
		span = (l - t0) / 1000; if (span <= 0) span = 0.001
		drain = (l - t1) / 1000; if (drain < 0) drain = 0
		printf "sitting %d: growth_mb=%.1f closed=%d received=%d/%d seq_errors=%d deliveries_per_s=%.0f drain_s=%.2f\n", s, (p - b) / 1024, c, r, e, q, r / span, drain
		printf "  rss_before_mb=%.1f rss_peak_mb=%.1f closed_not_reading=%d closed_too_far_behind=%d readers=%d ended_early=%d publish_s=%.2f first_publish_to_last_event_s=%.2f pauses=%d\n", b / 1024, p / 1024, ns, nb, est, early, (t1 - t0) / 1000, span, pauses
	}' | tee -a "$OUT"
	stop $LPID $w $RPID
	if [ -n "${KEEP_TMP:-}" ]; then :; else rm -rf "$d"; fi
}

for s in $(seq 1 "$SITTINGS"); do sitting "$s"; done
rm -f "$T/burst.resp"
# The median of each figure over the sittings, with its [min-max].
grep '^sitting ' "$OUT" | tail -n "$SITTINGS" | python3 -c '
import sys, statistics
rows = [dict(kv.split("=") for kv in l.split(": ", 1)[1].split()) for l in sys.stdin]
def fig(v):
    return ("%.2f" % v).rstrip("0").rstrip(".")
out = []
for k in rows[0]:
    if "/" in rows[0][k]:
        v = sorted(float(r[k].split("/")[0]) for r in rows)
        w = sorted(float(r[k].split("/")[1]) for r in rows)
        tail = "/" + fig(statistics.median(w))
    else:
        v = sorted(float(r[k]) for r in rows)
        tail = ""
    out.append("%s=%s%s [%s-%s]" % (k, fig(statistics.median(v)), tail, fig(v[0]), fig(v[-1])))
print("median of %d: %s" % (len(rows), " ".join(out)))
' | tee -a "$OUT"
echo "figures in $OUT"
