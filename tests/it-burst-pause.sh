#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: a burst with readers that pause, as a page in a background tab
# or a phone on a bad network does. One worker (--queue-limit 1m) behind
# lighttpd, one channel, 500 readers that stop reading for 1.5 s of every
# 2 s (pauses spread over the period) with a 64 KB receive buffer each, so
# the kernel cannot absorb the burst for them, and 2 clients that never
# read after the response head. Then 2,500 events of 2 KB (5 MB, five
# times the queue-limit) are published at once through the Redis script.
# Under sanitizers or valgrind, whose worker is several times slower, 100
# readers: relaying 500 x 5 MB there can keep a reader's queue from
# moving for the whole 5 s window on 2 busy cores, which is the machine's
# speed, not the reader's (the memory bound is not checked there either).
# Checks:
#   - every reader gets all 4,000 events, in order, none closed: a pause
#     is well inside the 5 s stall window, and a reader is "reading" while
#     its queue shrinks at all, even if lighttpd's buffers hide it;
#   - the 2 that never read are still closed as not reading;
#   - the worker's peak RSS grows by the events once, not once per reader:
#     a reader behind on the channel holds one run of its log, not a slot
#     per event (with a slot per event: 2,500 x 16 B x 500 readers, and
#     the rings growing to hold them).
. "$(dirname "$0")/lib.sh"
SLOW_BUILD=
if ldd "$SSE_FCGI" 2>/dev/null | grep -q libasan || [ -n "${VALGRIND:-}" ]; then
	SLOW_BUILD=1
fi
N=${BURST_READERS:-$([ -n "$SLOW_BUILD" ] && echo 100 || echo 500)}
STALLED=2
M=${BURST_EVENTS:-2500}
SIZE=2048
CH=burst.pause

start_redis
start_workers 1 --queue-limit 1m --stats-interval 0
start_lighttpd
W=$WPIDS
wait_until 30 grep -q 'connected to redis' "$T/worker.log"
SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
# Event i's data is "i " and padding: the readers (-Q) check the order.
awk -v n=$M -v size=$SIZE -v sha="$SHA" -v ch=$CH \
    -f "$top_srcdir/tests/script-burst.awk" > "$T/burst.resp"

"$SSE_CLIENT" -q -Q -P 1500/2000 -B 65536 -u "$BASE/api/v1/events/$CH" \
    -n $((N + STALLED)) -S $STALLED -e $M -c 500 -d 240 -r "$T/ready" \
    > "$T/client.out" 2> "$T/client.err" &
CPID=$!; track $CPID
check "$((N + STALLED)) streams open" wait_until 60 test -e "$T/ready"
wait_until 10 numsub_is $CH 1
sleep 2		# the pauses under way
rss0=$(rss_kb $W)
echo 5 > /proc/$W/clear_refs 2>/dev/null	# VmHWM := VmRSS
redis-cli -p "$RPORT" --pipe < "$T/burst.resp" > "$T/pipe.out" 2>&1
check "burst of $M x $SIZE B sent" grep -q "errors: 0, replies: $M" "$T/pipe.out"

stalled_closed() { [ "$(grep -c 'client not reading' "$T/worker.log")" -ge $STALLED ]; }
check "the $STALLED clients that never read closed as not reading" \
    wait_until 120 stalled_closed
kill -USR1 $CPID	# they read again: they find their end
wait $CPID; rc=$?
sum=$(cat "$T/client.out")
echo "# $sum"
check "the $N readers got all $M events (${N}x$M), in order" \
    [ $rc = 0 -a "$(val "$sum" received)" -ge $((N * M)) -a \
      "$(val "$sum" seq_errors)" = 0 ]
check "no reader closed by the worker" \
    [ "$(grep -c 'closing it' "$T/worker.log")" = $STALLED ]
check "none ended early but the $STALLED" \
    [ "$(val "$sum" closed_early)" = 0 ]
peak=$(awk '/^VmHWM:/{print $2}' /proc/$W/status)
# The events once (data and frame, with allocator overhead), 1 KB a
# stream, 8 MiB for malloc and Redis replies.
bound_kb=$(( M * (SIZE + 100) / 1024 + N + 8192 ))
echo "# worker RSS ${rss0} kB before, peak ${peak} kB (+$((peak - rss0)) kB, bound +$bound_kb kB)"
grep -m1 'client not reading' "$T/worker.log" | sed 's/^[^ ]* /# /'
if [ -n "$SLOW_BUILD" ]; then
	echo "# RSS bound not checked: sanitizer or valgrind build"
else
	check "peak RSS within +$bound_kb kB (the events once)" \
	    [ $((peak - rss0)) -le $bound_kb ]
fi
check "worker alive" alive $W
finish
