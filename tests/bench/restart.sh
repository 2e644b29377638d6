#!/bin/bash
# sse-fcgi - MIT License
#
# restart.sh (make bench-restart): the reconnect storm. N streams, one per
# client, on K channels (user.0 .. user.K-1) through a front server with its
# shipped config (FRONT=lighttpd, nginx or apache: deploy/lighttpd/
# sse-fcgi.conf.in, deploy/nginx/sse-fcgi.conf, deploy/apache/
# sse-fcgi-proxy.conf) and WORKERS workers; the clients reconnect exactly as
# EventSource does (tests/sse-client -E: after retry:, with Last-Event-ID;
# an answer other than 200 is final, as in a browser). Events go out
# through the documented script at RATE per second, round robin over the
# channels. A third of the way through, every worker is restarted:
#   spawn       spawn-fcgi workers: SIGTERM to all, wait, spawn-fcgi again
#               (the socket file is gone meanwhile, as in any plain
#               stop/start);
#   activation  the socket held as a systemd .socket unit holds it
#               (tests/socket-holder.py), the workers restarted under it;
#   upgrade     spawn-fcgi workers, each sent SIGUSR2 (the in-place
#               upgrade: a new process on the same socket, then the old one
#               ends its streams and exits);
#   nchan       for comparison, nginx with Nchan in Redis mode instead of
#               the front server and workers (its message buffer replays
#               after Last-Event-ID), stopped and started again; published
#               by HTTP (tests/bench/http-pub.py, which sends a message
#               again until the restarted nginx takes it).
# For each: answers other than 200 (each one a browser tab that stays dead
# until reloaded), clients that finished with every event once and in
# order, reconnections, the longest gap from a stream's end to its next
# 200 and the longest part of it past the retry: the stream was given,
# the time from the restart until every client was back, and the Redis
# calls per reconnection.
# Figures on stdout and in tests/bench/results/<UTC time>-restart.txt.
#
# Usage: tests/bench/restart.sh [spawn|activation|upgrade|nchan]...
# (default: spawn activation upgrade)
# Environment: top_builddir; N=5000; K=500; WORKERS=2; RATE=200;
# SECONDS_TOTAL=30; GAP_MS=0 (spawn: the socket stays gone that much
# longer, as with a start slower than this machine's); FRONT=lighttpd;
# UNTUNED=1 strips from the front server's config the settings that keep a
# short backend gap short (tests/bench/lib.sh strip_args), to compare;
# RESULTS=dir; KEEP_TMP=1. Every wait has a time limit; only the processes
# this script started are stopped, by PID.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
N=${N:-5000}
K=${K:-500}
WORKERS=${WORKERS:-2}
RATE=${RATE:-200}
TOTAL_S=${SECONDS_TOTAL:-30}
FRONT=${FRONT:-lighttpd}
GAP_MS=${GAP_MS:-0}
GAP_LABEL=
[ "$GAP_MS" -gt 0 ] && GAP_LABEL=", the socket gone $GAP_MS ms longer"
UNTUNED=${UNTUNED:-}
RESULTS=${RESULTS:-$top_srcdir/tests/bench/results}
SSE_FCGI=$top_builddir/sse-fcgi
CLIENT=$top_builddir/tests/sse-client
BENCH_NAME=restart
. "$top_srcdir/tests/bench/lib.sh"
[ -x "$SSE_FCGI" ] && [ -x "$CLIENT" ] || die "build sse-fcgi and tests/sse-client first (make bench-restart)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null
EVENTS=$((RATE * TOTAL_S))
PER_CHANNEL=$((EVENTS / K))
[ $PER_CHANNEL -ge 1 ] || die "RATE x SECONDS_TOTAL must be at least K"
case $FRONT in
lighttpd|nginx|apache) ;;
*) die "FRONT=$FRONT: lighttpd, nginx or apache" ;;
esac
FRONT_LABEL="$FRONT, shipped config${UNTUNED:+ untuned (UNTUNED=1)}"
# Apache's children run as www-data: the socket must be theirs to reach.
SOCK_MODE=()
[ "$FRONT" = apache ] && SOCK_MODE=(-M 0666)
EVENTS=$((PER_CHANNEL * K))
mkdir -p "$RESULTS"
OUT=$RESULTS/$(date -u +%Y-%m-%dT%H%MZ)-restart.txt

# field NAME KEY: a figure of the clients' summary line.
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$T/$1.out"; }
# calls: the EVALs Redis ran (the workers' history reads; publishing here
# uses EVALSHA, so it is not counted).
calls() { redis-cli -p "$RPORT" INFO commandstats | awk -F'[=,:]' '/^cmdstat_eval:/ { n += $3 } END { print n + 0 }'; }
# allcalls: every command Redis ran (publishing included).
allcalls() { redis-cli -p "$RPORT" INFO commandstats | awk -F'[=,:]' '/^cmdstat_/ { n += $3 } END { print n + 0 }'; }
# upgraded LOG PIDS: every worker in PIDS logged its successor and is gone.
upgraded() {
	local p
	for p in $2; do
		grep -q "sse-fcgi\[$p\] info: .*upgrade: pid [0-9]* accepts now" "$1" || return 1
		kill -0 "$p" 2>/dev/null && return 1
	done
	return 0
}

run() {
	local mode=$1 sock=$T/$1.sock wpids="" holder="" t_restart t_back calls0 calls1 rc
	rm -f "$sock" "$T/$mode.pids"
	start_redis
	local sha
	sha=$(redis-cli -p "$RPORT" SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
	local -a worker=("$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" --log-file "$T/$mode-worker.log")
	case $mode in
	spawn|upgrade)
		spawn-fcgi -s "$sock" "${SOCK_MODE[@]}" -F "$WORKERS" -P "$T/$mode.pids" -- "${worker[@]}" > /dev/null 2>&1 ||
		    die "spawn-fcgi failed"
		wpids=$(tr '\n' ' ' < "$T/$mode.pids"); track $wpids ;;
	activation)
		python3 "$top_srcdir/tests/socket-holder.py" -n "$WORKERS" "$sock" "$T/$mode.pids" -- \
		    "${worker[@]}" > "$T/$mode-holder.out" 2>&1 &
		holder=$!; track $holder
		wait_until 20 test -S "$sock" || die "socket-holder did not start"
		[ "$FRONT" = apache ] && chmod 666 "$sock" ;;
	esac
	local port front label=$FRONT_LABEL url_q="?lastEventId=0-0"
	case $mode/$FRONT in
	nchan/*)
		port=$(free_port)
		# A buffer that holds the whole run: a client comes back for
		# what it missed, as from sse-fcgi's history.
		start_nchan_nginx "$T/nchan" "$port" "$RPORT" oldest \
		    "nchan_message_buffer_length 1000; nchan_message_timeout 1h;"
		front=$NCHAN_PID url_q="" label="nginx $(nginx -v 2>&1 | sed 's/.*\///') + Nchan, Redis mode" ;;
	*/lighttpd) start_lighttpd "$sock" 12000; port=$LPORT front=$LPID ;;
	# nginx holds a client and an upstream connection per stream, and
	# in the storm the clients' old connections (idle keep-alive) besides
	# the new ones: with less room it closes new connections still
	# reading their request ("worker_connections are not enough, reusing
	# connections"), and each such client comes back once more.
	*/nginx) start_nginx "$sock" $((N * 3 / 2 + 100)); port=$NPORT front=$NPID ;;
	*/apache) start_apache "$sock" $((N + 100)); port=$APORT front=$APID ;;
	esac
	"$CLIENT" -q -E -Q -n "$N" -c 500 -e "$PER_CHANNEL" -d $((TOTAL_S * 4 + 300)) \
	    -r "$T/$mode.ready" -u "http://127.0.0.1:$port/api/v1/events/user.{i%$K}$url_q" \
	    > "$T/$mode.out" 2> "$T/$mode.err" &
	local es=$!; track $es
	wait_until 120 test -e "$T/$mode.ready" || die "$mode: the streams did not open"
	if [ "$mode" = nchan ]; then
		awk -v n=$EVENTS -v k=$K 'BEGIN {
			for (i = 0; i < n; i++) printf "user.%d %d\n", i % k, int(i / k) + 1
		}' | python3 "$top_srcdir/tests/pace.py" "$RATE" |
		    python3 "$top_srcdir/tests/bench/http-pub.py" "http://127.0.0.1:$port/pub/" \
		    > "$T/$mode.pub" 2> "$T/$mode.http" &
		local pub=$! per_event=1; track $pub
	else
		awk -v n=$EVENTS -v k=$K -v sha="$sha" 'BEGIN {
			for (i = 0; i < n; i++)
				printf "EVALSHA %s 2 sse:history:user.%d sse:clock user.%d \"\" 1000 0 %d\n", sha, i % k, i % k, int(i / k) + 1
		}' | python3 "$top_srcdir/tests/pace.py" "$RATE" | redis-cli -p "$RPORT" > "$T/$mode.pub" &
		local pub=$! per_event=2; track $pub	# redis-cli: 2 lines an event
	fi
	wait_until $((TOTAL_S * 3)) bash -c "[ \$(wc -l < '$T/$mode.pub') -ge $((EVENTS * per_event / 3)) ]"
	calls0=$(calls); all0=$(allcalls)
	t_restart=$(date +%s%3N)
	case $mode in
	spawn)
		stop $wpids
		rm -f "$sock"
		[ "$GAP_MS" -gt 0 ] && sleep "$(awk -v m="$GAP_MS" 'BEGIN { printf "%.3f", m / 1000 }')"
		spawn-fcgi -s "$sock" "${SOCK_MODE[@]}" -F "$WORKERS" -P "$T/$mode.pids" -- "${worker[@]}" > /dev/null 2>&1 ||
		    die "spawn-fcgi failed again"
		wpids=$(tr '\n' ' ' < "$T/$mode.pids"); track $wpids ;;
	activation)
		local old
		old=$(cat "$T/$mode.pids")
		kill -HUP "$holder"	# systemctl restart: stop all, start all
		wait_until 60 bash -c "[ -s '$T/$mode.pids' ] && [ \"\$(cat '$T/$mode.pids')\" != '$old' ]" ;;
	upgrade)
		kill -USR2 $wpids
		wait_until 60 upgraded "$T/$mode-worker.log" "$wpids" || die "upgrade: the workers did not hand over"
		local p new=""
		for p in $wpids; do
			new="$new $(sed -n "s/.*sse-fcgi\[$p\] info: .*upgrade: pid \([0-9]*\) accepts now.*/\1/p" "$T/$mode-worker.log")"
		done
		wpids=$new; track $wpids ;;
	nchan)
		stop $front $(ps -o pid= --ppid "$front")	# nginx stop
		start_nchan_nginx "$T/nchan" "$port" "$RPORT" oldest \
		    "nchan_message_buffer_length 1000; nchan_message_timeout 1h;"
		front=$NCHAN_PID ;;
	esac
	t_back=$(( $(date +%s%3N) - t_restart ))
	wait "$pub"
	wait_until $((TOTAL_S + 120)) bash -c "! kill -0 $es 2>/dev/null"
	kill "$es" 2>/dev/null; wait "$es"; rc=$?
	calls1=$(calls); all1=$(allcalls)
	local rec=$(field "$mode" reconnects) back=$(field "$mode" last_back_epoch_ms)
	local what="$WORKERS workers, $EVENTS events at $RATE/s, all workers restarted once$GAP_LABEL"
	[ "$mode" = nchan ] && what="$EVENTS events at $RATE/s, nginx stopped and started again"
	{
		echo "$mode ($label): $N streams on $K channels, $what"
		echo "  answers other than 200 (dead tabs): $(field "$mode" http_non200)"
		echo "  clients with every event once, in order: $(field "$mode" complete) of $N (exit $rc; seq_errors $(field "$mode" seq_errors), out_of_order $(field "$mode" out_of_order))"
		echo "  reconnections: $rec; longest gap from a stream's end to its next 200: $(field "$mode" back_max_ms) ms, of which past its retry: $(field "$mode" late_max_ms) ms"
		echo "  restart to every client back: $([ "${back:-0}" -gt 0 ] && echo $((back - t_restart)) || echo -) ms; the restart itself took $t_back ms"
		echo "  Redis per reconnection: $(awk -v c=$((calls1 - calls0)) -v r="$rec" 'BEGIN { printf "%.2f", r ? c / r : 0 }') EVAL (history reads), $(awk -v c=$((all1 - all0)) -v r="$rec" 'BEGIN { printf "%.2f", r ? c / r : 0 }') commands of any kind (publishing included)"
	} | tee -a "$OUT"
	stop $es $pub $wpids $holder $front
	stop "$RPID"
}

MODES=${*:-spawn activation upgrade}
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores; FRONT=$FRONT${UNTUNED:+ UNTUNED=1} restart.sh $MODES" | tee -a "$OUT"
for mode in $MODES; do
	case $mode in
	spawn|activation|upgrade) run "$mode" ;;
	nchan)
		[ -e "$NCHAN_SO" ] && command -v nginx > /dev/null ||
		    die "nchan: needs nginx and libnginx-mod-nchan (apt-get install libnginx-mod-nchan)"
		run nchan ;;
	*) die "unknown mode $mode (spawn, activation, upgrade or nchan)" ;;
	esac
done
echo "# figures in ${OUT#$top_srcdir/}"
