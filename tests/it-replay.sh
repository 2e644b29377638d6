#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: bounded, shared history replay. One worker behind lighttpd
# (queue-limit 1m, the default).
# Part 1: 16 channels each hold 1,000 events of 8 KB in their history
# (128 MB in all). 50 clients resume from 0-0 on all 16 and never read; a
# few clients on another channel read live events; one client resumes from
# 0-0 on all 16 and reads. Checks:
#   - the reading client gets all 16,000 events once, in id order (the
#     channels interleave: a merge across channels, page after page);
#   - the 50 are closed as "client not reading";
#   - the worker's peak RSS stays under idle + 51 streams x (queue-limit
#     + one page of about queue-limit) + 64 MB (a batch's reply and the
#     allocator's slack): history is read a page at a time as a client
#     takes it, so a client that never reads costs about queue-limit plus
#     a page, not its 128 MB of history (not checked under sanitizers or
#     valgrind, whose allocators keep freed memory);
#   - the clients on the other channel get every live event.
# Part 2: 5,000 streams (REPLAY_STREAMS) on 500 channels, each with 4
# events in history, resume from 0-0 at once: each gets its 4 events, and
# the worker's history reads are batched: Redis runs the resume script
# (EVAL) well under once per stream (< 0.5; printed).
. "$(dirname "$0")/lib.sh"

NCH=16
PER=${REPLAY_PER_CHANNEL:-1000}
SIZE=8192
SLOW=50
LIVE=20
N2=${REPLAY_STREAMS:-5000}
K2=500
QL=1048576
ulimit -n 20000 2>/dev/null || true

start_redis
start_workers 1 --queue-limit $QL
start_lighttpd
W=$WPIDS
wait_until 30 grep -q 'connected to redis' "$T/worker.log"
rss_idle=$(rss_kb $W)
SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")

# publish_file FILE CHANNEL-EXPR COUNT SIZE: COUNT EVALSHA calls of the
# publish script (history length 100000, no age limit); event i goes to
# channel CHANNEL-EXPR(i) and its data is "i" then padding to SIZE bytes
# (SIZE 0: "i" alone, for sse-client -Q).
publish_file() {
	awk -v n=$3 -v size=$4 -v sha="$SHA" -v nch=$NCH -v k2=$K2 \
	    -v which="$2" 'BEGIN {
	pad = "x"; while (length(pad) < size) pad = pad pad
	for (i = 1; i <= n; i++) {
		if (which == "rp") ch = "rp." (i - 1) % nch
		else if (which == "live") ch = "rp.live"
		else ch = "st." (i - 1) % k2
		key = "sse:history:" ch
		d = size > 0 ? substr(i " " pad, 1, size) : i
		printf "*10\r\n$7\r\nEVALSHA\r\n$%d\r\n%s\r\n$1\r\n2\r\n", length(sha), sha
		printf "$%d\r\n%s\r\n$9\r\nsse:clock\r\n$%d\r\n%s\r\n", length(key), key, length(ch), ch
		printf "$0\r\n\r\n$6\r\n100000\r\n$1\r\n0\r\n$%d\r\n%s\r\n", length(d), d
	}}' > "$1"
}
M=$((NCH * PER))
publish_file "$T/history.resp" rp $M $SIZE
redis-cli -p "$RPORT" --pipe < "$T/history.resp" > "$T/pipe.out" 2>&1
check "$M events of $SIZE bytes in the history of $NCH channels" \
    grep -q "errors: 0, replies: $M" "$T/pipe.out" || finish
rm -f "$T/history.resp"

CHS=$(seq -s, -f 'rp.%g' 0 $((NCH - 1)))
URL="$BASE/api/v1/events/$CHS?lastEventId=0-0"
echo 5 > /proc/$W/clear_refs 2>/dev/null	# VmHWM := VmRSS

# The live readers on another channel.
"$SSE_CLIENT" -q -u "$BASE/api/v1/events/rp.live" -n 3 -e $LIVE -Q -d 300 \
    -r "$T/ready.live" > "$T/live.out" 2> "$T/live.err" &
LC=$!; track $LC
wait_until 20 test -e "$T/ready.live"
wait_until 10 numsub_is rp.live 1
# The 50 that never read (they stop after the response head).
"$SSE_CLIENT" -q -u "$URL" -n $SLOW -S $SLOW -e 1000000 -d 600 \
    -r "$T/ready.slow" > "$T/slow.out" 2> "$T/slow.err" &
SC=$!; track $SC
wait_until 30 test -e "$T/ready.slow"
# The one that reads, resuming with them.
t0=$(now_us)
"$SSE_CLIENT" -q -u "$URL" -n 1 -e $M -d 300 > "$T/reader.out" \
    2> "$T/reader.err" &
RC=$!; track $RC

publish_file "$T/live.resp" live $LIVE 0
redis-cli -p "$RPORT" --pipe < "$T/live.resp" > /dev/null 2>&1

not_reading() { [ "$(grep -c 'client not reading' "$T/worker.log")" -ge $SLOW ]; }
wait_until 180 not_reading
closed=$(grep -c 'client not reading' "$T/worker.log")
check "the $SLOW that never read were closed as not reading ($closed)" \
    [ "$closed" = $SLOW ]
grep -m1 'client not reading' "$T/worker.log" | sed 's/^[^ ]* /# /'

wait $RC; rc=$?
t1=$(now_us)
sum=$(cat "$T/reader.out")
echo "# reader: $sum ($(( (t1 - t0) / 1000 )) ms)"
# $M increasing ids out of the $M published: each once, in order.
check "the reading client got all $M events once, in id order" \
    [ $rc = 0 -a "$(val "$sum" received)" = $M -a \
    "$(val "$sum" out_of_order)" = 0 ]
peak=$(awk '/^VmHWM:/{print $2}' /proc/$W/status)
# A page is about queue-limit of data (its framing adds < 1%).
bound=$(( rss_idle + (SLOW + 1) * 2 * QL / 1024 + 65536 ))
echo "# worker RSS: idle ${rss_idle} kB, peak ${peak} kB, bound ${bound} kB" \
    "(history: $((M * SIZE / 1048576)) MB per resuming stream)"
if ldd "$SSE_FCGI" 2>/dev/null | grep -q libasan || [ -n "${VALGRIND:-}" ]; then
	echo "# RSS bound not checked: sanitizer or valgrind build"
else
	check "worker peak RSS ${peak} kB under ${bound} kB" [ "$peak" -lt "$bound" ]
fi
wait $LC; lrc=$?
echo "# live: $(cat "$T/live.out")"
check "the live clients got their $LIVE events in order" [ $lrc = 0 ]
kill -USR1 $SC 2>/dev/null	# the stalled ones read: they find their end
wait $SC
echo "# slow: $(cat "$T/slow.out")"
check "worker alive" alive $W

# Part 2: a storm of resumes, read in batches.
publish_file "$T/storm.resp" st $((K2 * 4)) 64
redis-cli -p "$RPORT" --pipe < "$T/storm.resp" > /dev/null 2>&1
rcli CONFIG RESETSTAT > /dev/null
"$SSE_CLIENT" -q -u "$BASE/api/v1/events/st.{i%$K2}?lastEventId=0-0" \
    -n $N2 -c 1000 -e 4 -d 300 > "$T/storm.out" 2> "$T/storm.err"
src=$?
echo "# storm: $(cat "$T/storm.out")"
check "$N2 resuming streams got their 4 events each" [ $src = 0 ]
evals=$(rcli INFO commandstats | tr -d '\r' |
    sed -n 's/^cmdstat_eval:calls=\([0-9]*\),.*/\1/p')
evals=${evals:-0}
per=$(awk -v e=$evals -v n=$N2 'BEGIN { printf "%.3f", e / n }')
echo "# Redis per resuming stream: $per EVAL ($evals for $N2 streams)"
check "history reads batched: $per EVAL per stream < 0.5" \
    awk -v e=$evals -v n=$N2 'BEGIN { exit !(e > 0 && e / n < 0.5) }'
check "worker alive" alive $W
finish
