#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: a burst larger than queue-limit with the default settings.
# 50 clients that read and 2 that stopped reading after the head, one
# channel; 20,000 events of 200 bytes (about 5 MB per stream, five times
# the default 1 MiB queue-limit) are published as fast as redis-cli --pipe
# sends them. The readers ride it out and get every event in order (their
# sockets keep taking bytes, so they may fall up to 8 x queue-limit
# behind); the two stalled clients are closed as "not reading" once their
# part no longer fits in the kernel's buffers, and nobody is closed as too
# far behind.
. "$(dirname "$0")/lib.sh"
M=20000
CH=burst.all

start_redis
start_workers 1 --keepalive 1
start_lighttpd
SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
awk -v n=$M -v size=185 -v sha="$SHA" -v ch=$CH \
    -f "$top_srcdir/tests/script-burst.awk" > "$T/burst.resp"

"$SSE_CLIENT" -q -u "$BASE/api/v1/events/$CH" -n 52 -S 2 -e $M -d 120 \
    -r "$T/ready" > "$T/client.out" 2> "$T/client.err" &
CPID=$!; track $CPID
check "52 streams open" wait_until 20 test -e "$T/ready"
wait_until 10 numsub_is $CH 1
redis-cli -p "$RPORT" --pipe < "$T/burst.resp" > "$T/pipe.out" 2>&1
check "burst of $M events sent" grep -q "errors: 0, replies: $M" "$T/pipe.out"
check "the 2 stalled clients closed as not reading" wait_until 30 bash -c "[ \$(grep -c 'client not reading' '$T/worker.log') = 2 ]"
kill -USR1 $CPID	# the stalled ones read again: they find their end
wait $CPID; rc=$?
echo "# $(cat "$T/client.out")"
check "the 50 readers got all $M events, in order" [ $rc = 0 ]
check "none closed as too far behind" bash -c "! grep -q 'too far behind' '$T/worker.log'"
check "no reader closed early" grep -q 'closed_early=0' "$T/client.out"
check "worker alive" alive "$WPIDS"
finish
