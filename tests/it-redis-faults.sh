#!/bin/bash
# sse-fcgi - MIT License
#
# Redis faults under load: 1,000 streams on two workers behind lighttpd
# while a publisher keeps publishing numbered events through the history
# path (sse-publish, retrying until each number is in). Redis is stopped
# and started, killed with SIGKILL and restarted, and frozen with SIGSTOP
# for 10 s. Every stream must stay open and end with every number exactly
# once, in order (sse-client -Q); the workers log each loss, a frozen
# Redis is noticed by the PING liveness check, and both workers come back.
. "$(dirname "$0")/lib.sh"
N=${FAULT_CLIENTS:-1000}
TOTAL=${FAULT_EVENTS:-400}
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}

REDIS_AOF=1 start_redis
start_workers 2 --keepalive 2
start_lighttpd
CH=faults.all

"$SSE_CLIENT" -q -Q -u "$BASE/api/v1/events/$CH" -n $N -c 200 -e $TOTAL -d 600 \
    -r "$T/ready" > "$T/client.out" 2> "$T/client.err" &
CPID=$!; track $CPID
check "$N streams open" wait_until 60 test -e "$T/ready"
wait_until 30 bash -c "[ \$(redis-cli -p $RPORT PUBSUB NUMSUB $CH | sed -n 2p) = 2 ]"

# The publisher: number n goes in once. A failed call is retried unless
# the history shows it landed (Redis died after running the script).
export SSE_FCGI_REDIS="redis://127.0.0.1:$RPORT" SSE_FCGI_PUBLISH_TIMEOUT=20000
(
	n=1; fails=0
	while [ $n -le $TOTAL ]; do
		if "$SSE_PUBLISH" -q "$CH" "$n" > /dev/null 2>> "$T/pub.err"; then
			n=$((n + 1))
		else
			fails=$((fails + 1)); sleep 0.2
			# Whether n landed can only be read from a Redis that
			# answers (it is being restarted, or frozen): asked
			# while it is down, n would go in twice.
			wait_until 120 bash -c "redis-cli -p $RPORT PING 2>/dev/null | grep -qx PONG"
			last=$(redis-cli -p $RPORT --raw XREVRANGE "sse:history:$CH" + - COUNT 1 2>/dev/null | sed -n 3p)
			[ "$last" = "$n" ] && n=$((n + 1))
		fi
		sleep 0.02
	done
	echo "$fails" > "$T/pub.fails"
) &
PUBPID=$!; track $PUBPID
at() { wait_until 120 bash -c "[ \$(redis-cli -p $RPORT --raw XLEN sse:history:$CH 2>/dev/null || echo 0) -ge $1 ]"; }
both_subscribed() { wait_until 20 bash -c "[ \$(redis-cli -p $RPORT PUBSUB NUMSUB $CH | sed -n 2p) = 2 ]"; }

# 1. Stop (SIGTERM: Redis saves and exits) and start again.
at 50
kill "$RPID"; wait "$RPID" 2>/dev/null
sleep 2
REDIS_AOF=1 start_redis "$RPORT"
check "stop/start: both workers noticed" wait_until 30 bash -c "[ \$(grep -c 'redis connection to .* lost' '$T/worker.log') -ge 2 ]"
check "stop/start: both resubscribed" both_subscribed

# 2. SIGKILL and restart.
at 150
kill -9 "$RPID"; wait "$RPID" 2>/dev/null
sleep 2
REDIS_AOF=1 start_redis "$RPORT"
check "kill -9: both workers noticed" wait_until 30 bash -c "[ \$(grep -c 'redis connection to .* lost' '$T/worker.log') -ge 4 ]"
check "kill -9: both resubscribed" both_subscribed

# 3. Frozen for 10 s: the connection stays up but nothing answers.
at 250
kill -STOP "$RPID"; STOPPED=$SECONDS
# Due ~6 s in (3 s idle, 3 s for the PONG); the freeze lasts until it
# fired, so a busy machine's slowness is not a failure, only no check is.
check "SIGSTOP: liveness check fires while Redis is frozen" \
    wait_until 30 grep -q 'no reply to PING' "$T/worker.log"
echo "# SIGSTOP: liveness check fired after $((SECONDS - STOPPED)) s"
sleep $((10 - (SECONDS - STOPPED) > 0 ? 10 - (SECONDS - STOPPED) : 0))
kill -CONT "$RPID"
check "SIGSTOP: both resubscribed" both_subscribed

check "publisher finished" wait_until 400 test -s "$T/pub.fails"
wait $CPID; rc=$?
echo "# client: $(cat "$T/client.out"); publisher retries: $(cat "$T/pub.fails" 2>/dev/null)"
check "every stream stayed open and got all $TOTAL events once, in order" [ $rc = 0 ]
check "no sequence error" grep -q 'seq_errors=0' "$T/client.out"
check "no stream closed early" grep -q 'closed_early=0' "$T/client.out"
check "both workers alive" bash -c "for p in $WPIDS; do kill -0 \$p || exit 1; done"
check "reconnects logged" bash -c "[ \$(grep -c 'connected to redis' '$T/worker.log') -ge 8 ]"
finish
