#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: Sentinel discovery never stalls the worker. A worker found its
# master through three sentinels (tests/fake-sentinel.py) and holds open
# streams (keepalive 1 s, stats reports every second); then the sentinels
# stop answering (they take the connection and say nothing, so each costs
# the full per-sentinel timeout) and the master dies, so the broker and the
# stats reporter ask them again and again. Exercises: the open streams
# keep their keepalives on time (no gap over 2.5 s) and a new stream
# request is answered while discovery fails, also when one sentinel starts
# an answer and never finishes it; sentinels answering garbage, integers,
# a short array, a bad port, nil or an error are each logged with the
# reason and skipped; an ACL AUTH error on the master is logged by the
# worker and by sse-publish; the worker recovers once the sentinels answer
# and the password is right again, and delivers.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3"; exit 77; }
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}
GAP_MAX=2.5

start_redis
acl() { rcli ACL SETUSER app on ">$1" '~*' '&*' '+@all' >/dev/null; }
acl s3cret
S1=$(free_port); S2=$(free_port); S3=$(free_port)
while [ $S2 = $S1 ]; do S2=$(free_port); done
while [ $S3 = $S1 ] || [ $S3 = $S2 ]; do S3=$(free_port); done
MODES=$T/sentinel-modes
sentinels() { printf '%s\n' "$@" > "$MODES.t" && mv "$MODES.t" "$MODES"; }
sentinels "* answer 127.0.0.1 $RPORT"
python3 "$top_srcdir/tests/fake-sentinel.py" "$MODES" $S1 $S2 $S3 > "$T/sentinels.log" 2>&1 &
track $!
for p in $S1 $S2 $S3; do
	wait_until 5 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null"
done
URL="redis+sentinel://app:s3cret@127.0.0.1:$S1,127.0.0.1:$S2,127.0.0.1:$S3/mymaster"
start_workers 1 --redis "$URL" --keepalive 1 --stats-interval 1 --log-level debug
start_lighttpd
check "the worker found the master through the sentinels" wait_until 20 \
    grep -q "connected to redis master \"mymaster\" at 127.0.0.1:$RPORT" "$T/worker.log"

# ts_stream NAME: a stream whose lines are written with the time they came.
ts_stream() {
	python3 -u -c '
import sys, time, urllib.request
r = urllib.request.urlopen(sys.argv[1], timeout=600)
for line in r:
    print("%.3f %s" % (time.time(), line.decode().rstrip()), flush=True)
' "$BASE/api/v1/events/sa.chan" > "$T/$1.ts" 2>&1 &
	track $!
}
# max_gap NAME FROM: the longest time between keepalives of NAME after
# FROM (epoch seconds), counting up to now.
max_gap() {
	awk -v from="$2" -v now="$(date +%s.%N)" '
	$2 == ":" && $3 == "keepalive" && $1 >= from { if (last) { g = $1 - last; if (g > m) m = g } last = $1 }
	END { if (!last) { print 999; exit } g = now - last; if (g > m) m = g; printf "%.2f\n", m }' "$T/$1.ts"
}
gap_ok() { awk -v g="$1" -v max=$GAP_MAX 'BEGIN { exit !(g < max) }'; }
keepalives() { grep -c ': keepalive' "$T/$1.ts" 2>/dev/null || echo 0; }
# asked PORT FROM: how many questions the sentinel on PORT got since FROM.
asked() { awk -v p="$1" -v from="$2" '$2 == p && $1 >= from' "$T/sentinels.log" | wc -l; }
# new_stream_answered: a new stream request gets its 200 (with a retry:
# while Redis is away) within 5 s.
new_stream_answered() {
	[ "$(curl -s -o "$T/new.body" -w '%{http_code}' -m 5 -H 'Accept: text/event-stream' \
	    "$BASE/api/v1/events/sa.new")" = 200 ]
}

ts_stream a; ts_stream b
check "two streams get keepalives" wait_until 20 bash -c \
    "[ \$(grep -c ': keepalive' '$T/a.ts') -ge 2 ] && [ \$(grep -c ': keepalive' '$T/b.ts') -ge 2 ]"

# 1. Every sentinel silent, the master gone.
sentinels "* silent"
kill -9 $RPID; wait $RPID 2>/dev/null
check "the loss is logged" wait_until 20 grep -q 'redis connection to .* lost' "$T/worker.log"
FROM=$(date +%s.%N)
sleep 8
for p in $S1 $S2 $S3; do
	check "sentinel $p asked again and again while silent ($(asked $p $FROM) times)" \
	    [ "$(asked $p $FROM)" -ge 3 ]
done
check "each silent sentinel cost the full timeout" grep -q "sentinel 127.0.0.1:$S3: timed out" "$T/worker.log"
echo "# silent sentinels: longest keepalive gap $(max_gap a $FROM) s and $(max_gap b $FROM) s"
check "stream a kept its keepalives on time" gap_ok "$(max_gap a $FROM)"
check "stream b kept its keepalives on time" gap_ok "$(max_gap b $FROM)"
check "a new stream request is answered" new_stream_answered
check "and told to come back" grep -q '^retry:' "$T/new.body"

# 2. One sentinel starts an answer and never ends it.
sentinels "$S3 trickle" "* silent"
FROM=$(date +%s.%N)
sleep 6
check "the trickling sentinel was asked" [ "$(asked $S3 $FROM)" -ge 1 ]
echo "# a trickling sentinel: longest keepalive gap $(max_gap a $FROM) s and $(max_gap b $FROM) s"
check "stream a kept its keepalives on time" gap_ok "$(max_gap a $FROM)"
check "stream b kept its keepalives on time" gap_ok "$(max_gap b $FROM)"
check "a new stream request is answered" new_stream_answered

# 3. Answers that are wrong in every way: logged with the reason, skipped.
sentinels "$S1 garbage" "$S2 wrongtype" "$S3 nil"
FROM=$(date +%s.%N)
check "garbage: protocol error" wait_until 20 grep -q "sentinel 127.0.0.1:$S1: protocol error" "$T/worker.log"
check "integers: unexpected reply" wait_until 20 grep -q "sentinel 127.0.0.1:$S2: unexpected reply" "$T/worker.log"
check "nil: unknown master" wait_until 20 grep -q "sentinel 127.0.0.1:$S3: does not know master \"mymaster\"" "$T/worker.log"
sentinels "$S1 short" "$S2 badport" "$S3 error"
check "one string: unexpected reply; port 99999: bad port" wait_until 20 bash -c \
    "[ \$(grep -c 'sentinel 127.0.0.1:$S2: gave a bad port' '$T/worker.log') -ge 1 ] &&
     [ \$(grep -c 'sentinel 127.0.0.1:$S1: unexpected reply' '$T/worker.log') -ge 1 ]"
check "error reply: its text" wait_until 20 grep -q "sentinel 127.0.0.1:$S3: ERR injected sentinel error" "$T/worker.log"
check "stream a kept its keepalives on time" gap_ok "$(max_gap a $FROM)"
check "worker alive" alive $WPIDS

# 4. The sentinels answer again, but the master refuses the ACL user.
start_redis $RPORT
acl other
sentinels "* answer 127.0.0.1 $RPORT"
check "AUTH refused: the broker says why" wait_until 20 grep -q "AUTH: WRONGPASS" "$T/worker.log"
check "AUTH refused: the stats reporter says why" wait_until 20 grep -q "stats connection setup: AUTH: WRONGPASS" "$T/worker.log"
SSE_FCGI_REDIS="$URL" "$SSE_PUBLISH" -q sa.chan x > /dev/null 2> "$T/pub.err"; rc=$?
check "AUTH refused: sse-publish fails" [ $rc != 0 ]
check "and says why" grep -q "WRONGPASS" "$T/pub.err"
check "worker alive" alive $WPIDS

# 5. The right password: back, and delivering.
acl s3cret
check "the worker reconnects" wait_until 30 bash -c \
    "[ \$(grep -c 'connected to redis master \"mymaster\" at 127.0.0.1:$RPORT' '$T/worker.log') -ge 2 ]"
check "and subscribes again" wait_until 10 bash -c "[ \"\$(redis-cli -p $RPORT PUBSUB NUMSUB sa.chan | sed -n 2p)\" = 1 ]"
SSE_FCGI_REDIS="$URL" "$SSE_PUBLISH" -q sa.chan back > /dev/null
check "an event published through the sentinels arrives" wait_until 10 grep -q 'data: back' "$T/a.ts"
check "on both streams" wait_until 10 grep -q 'data: back' "$T/b.ts"
finish
