#!/bin/bash
# sse-fcgi - MIT License
#
# Redis Sentinel failover: a primary, a replica and three sentinels; the
# workers and sse-publish find the master through a redis+sentinel:// URL
# whose first sentinel is down. The primary is killed (SIGKILL) while 50
# streams are open; the sentinels promote the replica, the workers follow
# it, resubscribe and resume every stream from its last id, and events
# published after the failover reach every stream: each stream ends with
# every number exactly once, in order.
. "$(dirname "$0")/lib.sh"
N=50
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}

start_redis; P1=$RPORT; P1PID=$RPID
start_redis; P2=$RPORT; P2PID=$RPID
redis-cli -p $P2 REPLICAOF 127.0.0.1 $P1 >/dev/null
wait_until 10 bash -c "redis-cli -p $P2 INFO replication | grep -q 'master_link_status:up'"
SENT=""
for i in 1 2 3; do
	sp=$(free_port)
	mkdir -p "$T/sentinel-$sp"
	cat > "$T/sentinel-$sp/sentinel.conf" <<EOF
port $sp
bind 127.0.0.1
daemonize no
dir $T/sentinel-$sp
sentinel monitor mymaster 127.0.0.1 $P1 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
sentinel parallel-syncs mymaster 1
EOF
	redis-server "$T/sentinel-$sp/sentinel.conf" --sentinel > "$T/sentinel-$sp.log" 2>&1 &
	track $!
	SENT="$SENT,127.0.0.1:$sp"; eval "S$i=$sp"
done
master_port() { redis-cli -p $S1 SENTINEL get-master-addr-by-name mymaster 2>/dev/null | sed -n 2p; }
check "sentinels know the master" wait_until 10 bash -c "[ \"\$(redis-cli -p $S1 SENTINEL get-master-addr-by-name mymaster | sed -n 2p)\" = $P1 ]"
# Each sentinel must have found the others, or no failover can be agreed.
wait_until 15 bash -c "redis-cli -p $S1 SENTINEL sentinels mymaster | grep -c '^ip$' | grep -qx 2"

DEAD=$(free_port)
URL="redis+sentinel://127.0.0.1:$DEAD$SENT/mymaster"
RPORT=$P1	# for start_workers' --redis, replaced by the flag below
start_workers 2 --redis "$URL" --keepalive 2 --publisher-secret fo-secret
start_lighttpd
check "workers found the master through the sentinels" wait_until 10 grep -q "connected to redis master \"mymaster\" at 127.0.0.1:$P1" "$T/worker.log"

"$SSE_CLIENT" -q -Q -u "$BASE/api/v1/events/fo.all" -n $N -e 21 -d 90 \
    -r "$T/ready" > "$T/client.out" 2> "$T/client.err" &
CPID=$!; track $CPID
check "$N streams open" wait_until 30 test -e "$T/ready"
# One subscriber per worker that holds streams (the kernel may have given
# all 50 to one of the two): the same count must come back after failover.
wait_until 5 bash -c "[ \$(redis-cli -p $P1 PUBSUB NUMSUB fo.all | sed -n 2p) = 2 ]"
SUBS=$(redis-cli -p $P1 PUBSUB NUMSUB fo.all | sed -n 2p)

export SSE_FCGI_REDIS="$URL"
for i in $(seq 1 10); do "$SSE_PUBLISH" -q fo.all "$i" >/dev/null || echo "publish $i failed"; done
check "sse-publish through the sentinels" [ "$(redis-cli -p $P1 XLEN sse:history:fo.all)" = 10 ]
# Acknowledged by the replica before the primary dies (replication is
# asynchronous: Redis itself may lose the last writes of a dying primary).
redis-cli -p $P1 WAIT 1 2000 >/dev/null

kill -9 $P1PID; wait $P1PID 2>/dev/null
check "sentinels promote the replica" wait_until 30 bash -c "[ \"\$(redis-cli -p $S1 SENTINEL get-master-addr-by-name mymaster | sed -n 2p)\" = $P2 ]"
n=11; tries=0
while [ $n -le 20 ] && [ $tries -lt 200 ]; do
	if "$SSE_PUBLISH" -q fo.all "$n" >/dev/null 2>>"$T/pub.err"; then n=$((n + 1)); else
		tries=$((tries + 1)); sleep 0.1
		last=$(redis-cli -p $P2 --raw XREVRANGE sse:history:fo.all + - COUNT 1 2>/dev/null | sed -n 3p)
		[ "$last" = "$n" ] && n=$((n + 1))
	fi
done
check "sse-publish follows the failover" [ $n = 21 ]
check "workers follow the failover" wait_until 20 bash -c "[ \$(grep -c 'connected to redis master \"mymaster\" at 127.0.0.1:$P2' '$T/worker.log') -ge 2 ]"
check "every subscribed worker ($SUBS) subscribed again on the new master" wait_until 10 bash -c "[ \$(redis-cli -p $P2 PUBSUB NUMSUB fo.all | sed -n 2p) = $SUBS ]"
# The last event lets the clients finish (and leave) after that check.
"$SSE_PUBLISH" -q fo.all 21 >/dev/null
wait $CPID; rc=$?
echo "# client: $(cat "$T/client.out")"
check "every stream got 1..21 exactly once, in order" [ $rc = 0 ]
check "no stream closed" grep -q 'closed_early=0' "$T/client.out"
check "HTTP publishing after the failover" [ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 -X POST \
    -H 'Authorization: Bearer fo-secret' --data-binary x "$BASE/api/v1/publish/fo.http")" = 200 ]
check "and it went to the new master" [ "$(redis-cli -p $P2 XLEN sse:history:fo.http)" = 1 ]
finish
