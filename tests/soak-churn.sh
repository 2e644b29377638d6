#!/bin/bash
# sse-fcgi - MIT License
#
# Churn soak (tests/run.sh runs it in the normal build; not under the
# sanitizers, whose allocators make RSS meaningless): two workers behind
# lighttpd; clients connect and leave at RATE per second (default 600) on
# 50 channels while a publisher publishes steadily and 20 long-lived
# streams must receive every event exactly once. After a warm-up the
# workers' RSS and fd counts are recorded; after SOAK_SECONDS (default 300)
# RSS must be within 10% of that and fds back to the idle baseline.
#   SOAK_SECONDS=3600 bash tests/soak-churn.sh    # longer by hand
. "$(dirname "$0")/lib.sh"
SOAK=${SOAK_SECONDS:-300}
WARM=${SOAK_WARMUP:-30}
RATE=${SOAK_RATE:-600}
K=50

start_redis
start_workers 2 --keepalive 2
start_lighttpd
fds() { ls "/proc/$1/fd" | wc -l; }
W1=${WPIDS%% *}; W2=${WPIDS##* }
# Idle baseline: the workers have Redis and their sockets, no stream.
wait_until 10 grep -q 'connected to redis' "$T/worker.log"
sleep 1
FD1=$(fds $W1); FD2=$(fds $W2)

# Steady publishing: one number per 20 ms on soak.steady (counted by the
# long-lived streams) and a message on a churn channel beside each. The
# publisher is paced by due times (tests/pace.py), so it takes its nominal
# WARM + SOAK seconds on a busy machine too; the steady client's deadline
# is a backstop only: it is waited for once publishing has ended.
TOTAL=$(( (WARM + SOAK) * 50 ))
SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
"$SSE_CLIENT" -q -Q -u "$BASE/api/v1/events/soak.steady" -n 20 -e $TOTAL \
    -d $(( (WARM + SOAK) * 4 + 600 )) -r "$T/steady.ready" > "$T/steady.out" 2> "$T/steady.err" &
STEADY=$!; track $STEADY
wait_until 20 test -e "$T/steady.ready"
PUB_START=$EPOCHSECONDS
(awk -v n=$TOTAL -v sha="$SHA" -v k=$K 'BEGIN {
	for (i = 1; i <= n; i++) {
		printf "EVALSHA %s 2 sse:history:soak.steady sse:clock soak.steady \"\" 1000 0 %d\n", sha, i
		printf "PUBLISH soak.%d churn-%d\n", i % k, i
	}
}' | python3 "$top_srcdir/tests/pace.py" 50 2 | redis-cli -p "$RPORT" > "$T/publisher.out"
    echo $EPOCHSECONDS > "$T/publisher.end") &
PUB=$!; track $PUB

# Churn: each client reads its head (the worker subscribed it) and leaves.
# -R paces the starts by due times; the deadline is a backstop for a
# machine several times slower than nominal, not a speed check.
churn() {
	"$SSE_CLIENT" -q -x -e 0 -R $RATE -c 64 -n $(($1 * RATE)) -s 2 \
	    -u "$BASE/api/v1/events/soak.{i%$K}" -d $(($1 * 4 + 120)) > "$T/churn-$2.out" 2> "$T/churn-$2.err"
}
T0=$SECONDS
churn $WARM warm
sleep 3
RSS1=$(rss_kb $W1); RSS2=$(rss_kb $W2)
echo "# after warm-up ($((SECONDS - T0)) s): $(cat "$T/churn-warm.out")"
echo "# worker RSS after warm-up: $RSS1 kB, $RSS2 kB; idle fds: $FD1, $FD2"

T1=$SECONDS
churn $SOAK soak
DUR=$((SECONDS - T1))
read -r EST FAILED <<< "$(sed -n 's/^established=\([0-9]*\) failed=\([0-9]*\).*/\1 \2/p' "$T/churn-soak.out")"
echo "# soak: $(cat "$T/churn-soak.out")"
echo "# soak: $EST streams opened and closed in $DUR s = $((EST / (DUR > 0 ? DUR : 1))) per second (nominal $RATE)"
# Counts, not speed: every churn stream opened and closed.
check "all $((SOAK * RATE)) churn streams opened and closed" [ "$EST" = $((SOAK * RATE)) ]
check "no churn connection failed" [ "$FAILED" = 0 ]

# The last event can arrive only after the publisher has sent it: wait for
# the publisher, then give the steady streams DRAIN seconds from then.
wait $PUB
PUB_END=$(cat "$T/publisher.end")
echo "# publisher: $TOTAL events in $((PUB_END - PUB_START)) s (nominal $((WARM + SOAK)) s)"
check "publisher sent all $TOTAL events, no error" [ "$(grep -cE '^[0-9]+-[0-9]+$' "$T/publisher.out")" = $TOTAL ] &&
    ! grep -q ERR "$T/publisher.out"
DRAIN=$(( ${SOAK_DRAIN:-60} - (EPOCHSECONDS - PUB_END) ))
wait_until $(( DRAIN > 5 ? DRAIN : 5 )) bash -c "! kill -0 $STEADY 2>/dev/null" ||
    { echo "# steady streams still short ${SOAK_DRAIN:-60} s after the last publish: stopping them"; kill $STEADY; }
wait $STEADY; rc=$?
echo "# steady streams ($((EPOCHSECONDS - PUB_END)) s after the last publish): $(cat "$T/steady.out")"
check "20 long-lived streams got all $TOTAL events once, in order" [ $rc = 0 ]
sleep 3
R1=$(rss_kb $W1); R2=$(rss_kb $W2)
echo "# worker RSS at the end: $R1 kB ($(( (R1 - RSS1) * 100 / RSS1 ))%), $R2 kB ($(( (R2 - RSS2) * 100 / RSS2 ))%)"
check "worker 1 RSS within 10% of its post-warm-up value" [ $((R1 * 100)) -le $((RSS1 * 110)) ]
check "worker 2 RSS within 10% of its post-warm-up value" [ $((R2 * 100)) -le $((RSS2 * 110)) ]
check "worker fds back to baseline" wait_until 10 bash -c "[ \$(ls /proc/$W1/fd | wc -l) = $FD1 ] && [ \$(ls /proc/$W2/fd | wc -l) = $FD2 ]"
echo "# fds at the end: $(fds $W1), $(fds $W2)"
check "no channel left subscribed" wait_until 10 bash -c "[ -z \"\$(redis-cli -p $RPORT PUBSUB CHANNELS 'soak.*')\" ]"
finish
