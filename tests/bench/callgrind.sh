#!/bin/bash
# sse-fcgi - MIT License
#
# callgrind.sh: a repeatable cost figure for the worker, independent of the
# machine's load: instructions (Ir) the worker executes per delivered event,
# under valgrind --tool=callgrind, with fixed inputs:
#   one worker behind one lighttpd (the shipped config), STREAMS streams on
#   one channel, MESSAGES messages of SIZE bytes published by raw Redis
#   PUBLISH at RATE per second (default 200, 500, 200, 50: one message per
#   worker wakeup, so batching does not vary between runs).
# Connect and setup are left out: the counters are zeroed (callgrind_control
# -z) once every stream is open and subscribed, and dumped (-d) once
# connection 0 has the last event and the worker has been quiet for 2 s,
# before any stream closes. The figure is Ir(worker, delivery phase) /
# events delivered; the top functions follow (callgrind_annotate, self and
# inclusive). The dump stays in $T (KEEP_TMP=1) for kcachegrind.
#
# Usage: tests/bench/callgrind.sh   (env: top_builddir, STREAMS, MESSAGES,
# SIZE, RATE, TOP=25). Needs valgrind, lighttpd, redis-server; the publisher
# is built as bench.sh builds it. Private temp dir and ports; stops only its
# own processes, by PID; every wait is bounded.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
STREAMS=${STREAMS:-200}
MESSAGES=${MESSAGES:-500}
SIZE=${SIZE:-200}
RATE=${RATE:-50}
TOP=${TOP:-25}
SSE_FCGI=${SSE_FCGI:-$top_builddir/sse-fcgi}
CLIENT=${SSE_CLIENT:-$top_builddir/tests/sse-client}
PUB=${SSE_BENCH_PUB:-$top_builddir/tests/bench/sse-bench-pub}
BENCH_NAME=callgrind
. "$top_srcdir/tests/bench/lib.sh"
numsub() { redis-cli -p "$RPORT" PUBSUB NUMSUB "$1" | sed -n 2p; }
lines() { wc -l < "$1" 2>/dev/null || echo 0; }

for tool in valgrind callgrind_control callgrind_annotate lighttpd \
    redis-server redis-cli; do
	command -v $tool >/dev/null || die "$tool not installed"
done
[ -x "$SSE_FCGI" ] && [ -x "$CLIENT" ] ||
    die "no sse-fcgi or tests/sse-client under $top_builddir"
if [ ! -x "$PUB" ]; then
	PUB=$T/sse-bench-pub
	cc -O2 -I"$top_builddir" $(pkg-config --cflags hiredis) -o "$PUB" \
	    "$top_srcdir/tests/bench/sse-bench-pub.c" \
	    $(pkg-config --libs hiredis) || die "cannot build sse-bench-pub"
fi

start_redis

# The worker alone under callgrind; a long keepalive keeps timers out of
# the window.
valgrind --tool=callgrind --callgrind-out-file="$T/callgrind.out" \
    --log-file="$T/valgrind.log" "$SSE_FCGI" --listen "unix:$T/sse.sock" \
    --redis "redis://127.0.0.1:$RPORT" --keepalive 600 \
    --log-file "$T/worker.log" &
VPID=$!; track $VPID
wait_until 60 test -S "$T/sse.sock" || die "worker did not start: $(cat "$T/valgrind.log")"

start_lighttpd "$T/sse.sock"

CH=cg$$
# No -e: the client keeps every stream open until it is told to stop, so
# no teardown falls in the window; -o follows connection 0.
"$CLIENT" -q -u "http://127.0.0.1:$LPORT/api/v1/events/$CH" -n "$STREAMS" \
    -d 600 -r "$T/ready" -o "$T/conn0" > "$T/client.out" 2>&1 &
CPID=$!; track $CPID
wait_until 120 test -e "$T/ready" || die "streams did not open"
wait_until 30 bash -c "[ \"\$(redis-cli -p $RPORT PUBSUB NUMSUB $CH | sed -n 2p)\" = 1 ]" ||
    die "worker did not subscribe"
sleep 2
callgrind_control -z $VPID > "$T/ctl-z.log" 2>&1 ||
    die "callgrind_control -z failed: $(cat "$T/ctl-z.log")"

timeout 600 "$PUB" -R "127.0.0.1:$RPORT" -c "$CH" -m "$MESSAGES" -r "$RATE" \
    -s "$SIZE" > "$T/pub.out" 2>&1 || die "publisher: $(cat "$T/pub.out")"
wait_until 300 bash -c "[ \$(wc -l < $T/conn0) -ge $MESSAGES ]" ||
    echo "callgrind: connection 0 has only $(lines "$T/conn0") events" >&2
# Quiet for 2 s: the worker's last writes are done.
sleep 2
callgrind_control -d $VPID > "$T/ctl-d.log" 2>&1 ||
    die "callgrind_control -d failed: $(cat "$T/ctl-d.log")"
DUMP=$(ls -t "$T"/callgrind.out.* 2>/dev/null | head -1)
[ -n "$DUMP" ] || die "no dump: $(cat "$T/ctl-d.log")"
kill -TERM $CPID; wait $CPID 2>/dev/null

RECV=$(grep -o 'received=[0-9]*' "$T/client.out" | cut -d= -f2)
IR=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$DUMP" | head -1)
[ -n "$RECV" ] && [ "$RECV" -gt 0 ] && [ -n "$IR" ] ||
    die "no figure: received=${RECV:-?} Ir=${IR:-?}"
echo "callgrind: $("$SSE_FCGI" --version 2>&1 | head -1), $STREAMS streams, $MESSAGES messages of ~$SIZE bytes at $([ "$RATE" = 0 ] && echo "full speed" || echo "$RATE/s")"
echo "callgrind: publisher: $(cat "$T/pub.out")"
echo "callgrind: delivered $RECV of $((STREAMS * MESSAGES)) events"
awk -v ir="$IR" -v n="$RECV" -v m="$MESSAGES" 'BEGIN {
	printf "callgrind: Ir(worker, delivery phase) = %d; per delivered event %.0f; per message %.0f\n", ir, ir / n, ir / m
}'
echo
# The frames that were running when the counters were zeroed (main, the
# loop) show their whole inclusive cost even in the self view; they say
# nothing in either view: left out.
echo "--- top $TOP functions, self cost (Ir, share, per delivered event)"
callgrind_annotate --threshold=100 "$DUMP" 2>/dev/null |
    sed -n '/file:function/,$p' | grep -v '^-*$' | sed 1d |
    grep -v '(\(100\.0\|99\.[0-9]\)%)' | head -n "$TOP" |
    awk -v n="$RECV" '{ c = $1; gsub(",", "", c); printf "%7.1f  %s\n", c / n, $0 }'
echo
echo "--- top $TOP functions, inclusive cost (Ir, share, per delivered event)"
callgrind_annotate --inclusive=yes --threshold=100 "$DUMP" 2>/dev/null |
    sed -n '/file:function/,$p' | grep -v '^-*$' | sed 1d |
    grep -v '(\(100\.0\|99\.[0-9]\)%)' | head -n "$TOP" |
    awk -v n="$RECV" '{ c = $1; gsub(",", "", c); printf "%7.1f  %s\n", c / n, $0 }'
