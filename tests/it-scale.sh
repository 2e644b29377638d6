#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: one worker process behind lighttpd holds 5,000 concurrent
# streams (SCALE_STREAMS overrides), all on one channel but for a share on
# many small channels; one PUBLISH per channel reaches every stream; the
# worker runs with at most 4 threads. Prints the worker's RSS per stream.
. "$(dirname "$0")/lib.sh"

N=${SCALE_STREAMS:-5000}
K=100		# streams spread over K channels for the second half
start_redis
start_workers 1
start_lighttpd 'server.max-worker = 2'
W=$WPIDS
# Idle: once connected to Redis.
wait_until 30 grep -q 'connected to redis' "$T/worker.log"
rss0=$(rss_kb $W)

half=$((N / 2))
"$SSE_CLIENT" -q -u "$BASE/api/v1/events/scale.all" -n $half -e 2 -d 120 \
    -r "$T/ready1" > "$T/c1.out" 2>&1 &
C1=$!; track $C1
"$SSE_CLIENT" -q -u "$BASE/api/v1/events/scale.k{i%$K}" -n $((N - half)) -e 1 -d 120 \
    -r "$T/ready2" > "$T/c2.out" 2>&1 &
C2=$!; track $C2
wait_until 100 test -e "$T/ready1" -a -e "$T/ready2"
check "clients ready" test -e "$T/ready1" -a -e "$T/ready2"
wait_until 30 numsub_is scale.k$((K - 1)) 1
open=$(ls /proc/$W/fd | wc -l)
check "worker holds $N streams (fds: $open)" [ "$open" -ge "$N" ]
th=$(threads $W)
check "worker uses at most 4 threads ($th)" [ "$th" -le 4 ]
rss1=$(rss_kb $W)
echo "# worker RSS: ${rss0} kB idle, ${rss1} kB with $N streams:" \
    "$(( (rss1 - rss0) * 1024 / N )) bytes per stream"

check "one publish reaches one worker" [ "$(rcli PUBLISH scale.all first)" = 1 ]
rcli PUBLISH scale.all second >/dev/null
for i in $(seq 0 $((K - 1))); do rcli PUBLISH scale.k$i "to-k$i" >/dev/null; done
wait $C1; r1=$?
wait $C2; r2=$?
cat "$T/c1.out" "$T/c2.out"
check "all $half streams on one channel got both events" [ $r1 = 0 ]
check "all $((N - half)) streams on $K channels got their event" [ $r2 = 0 ]
check "worker alive" alive $W
finish
