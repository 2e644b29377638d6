#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: GET <mount>/stats and <mount>/metrics with a Redis Cluster
# (three masters with a replica each, tests/lib.sh start_cluster). Two
# workers through a redis+cluster:// URL, each behind its own lighttpd,
# reporting every second. Exercises: the reports' keys in the {stats}
# slot only (none under the one-Redis names); /stats through either
# worker shows both, with the right stream, channel and delivery counts,
# per-worker rows and top channels; /stats?channel= with the channel's
# history read at its master; /metrics through the format checker
# (tests/prom-check.py); bad input in the stats keys: a garbage figure
# counts 0, a worker listed without a report leaves the index, a report
# of the wrong type is a 503 with Redis's reason and no crash, and /stats
# answers again once it is gone; a worker stopped gracefully (SIGTERM)
# gone from /stats at once, its keys removed, and so one without streams
# (whose loop would end at once) before it exits; the workers' logs
# without an error.
. "$(dirname "$0")/lib.sh"
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}
redis-cli --cluster help 2>&1 | grep -q reshard ||
    { echo "SKIP: redis-cli has no --cluster"; exit 77; }
unset SSE_FCGI_CONFIG SSE_FCGI_REDIS SSE_FCGI_HISTORY_PREFIX

# stats_is BASE EXPR WANT [CURL-ARGS...]: /stats answers EXPR == WANT.
stats_is() {
	local b=$1 e=$2 w=$3; shift 3
	[ "$(get s.json "$b/api/v1/stats" "$@")" = 200 ] &&
	    [ "$(js "$T/s.json" "$e")" = "$w" ]
}
# crcli ARGS...: redis-cli to the cluster, following redirections.
crcli() { redis-cli -c -p "${CPORTS%% *}" "$@"; }
# pub CHANNEL DATA: publishes through the cluster URL, prints the id.
pub() { "$SSE_PUBLISH" -q --redis "$URL" "$1" "$2"; }

start_cluster
URL="redis+cluster://$(printf '127.0.0.1:%s,' $CPORTS | sed 's/,$//')"
WARGS=(--stats-interval 1 --keepalive 2 --log-level debug)

WSOCK=$T/a.sock WREDIS=$URL start_workers 1 "${WARGS[@]}"; A_PID=$WPIDS
WSOCK=$T/a.sock start_lighttpd; A=$BASE
WSOCK=$T/b.sock WREDIS=$URL start_workers 1 "${WARGS[@]}"; B_PID=$WPIDS
WSOCK=$T/b.sock start_lighttpd; B=$BASE
check "no stats-off warning with a cluster URL" bash -c "! grep -q 'not yet in a cluster' '$T/worker.log'"

# Channels on several masters: three streams through A, two through B.
stream a1 "$A/api/v1/events/cs.a"
stream a2 "$A/api/v1/events/cs.a"
stream a3 "$A/api/v1/events/cs.b"
stream b1 "$B/api/v1/events/cs.a"
stream b2 "$B/api/v1/events/cs.c"
for s in a1 a2 a3 b1 b2; do wait_until 20 has "$T/$s.out" '^: ok'; done
check "five streams open" bash -c "grep -l '^: ok' $T/a?.out $T/b?.out | wc -l | grep -qx 5"
masters=$(for c in cs.a cs.b cs.c; do crcli CLUSTER KEYSLOT "$c"; done |
    while read -r s; do cluster_master_of_slot "$s"; done | sort -u | wc -l)
echo "# cs.a, cs.b, cs.c on $masters masters"

# Three events on cs.a (3 subscribers), two on cs.b (1): 11 deliveries.
for i in 1 2 3; do LAST=$(pub cs.a "m$i"); done
pub cs.b x1 > /dev/null; pub cs.b x2 > /dev/null
for s in a1 a2 b1; do wait_until 10 body_has $s "data: m3"; done
check "events arrived" wait_until 10 body_has a3 "data: x2"

check "A: 2 workers in /stats" wait_until 10 stats_is "$A" 'd["workers"]' 2
check "A: 5 streams, 11 deliveries" wait_until 10 stats_is "$A" \
    'd["totals"]["streams"], d["totals"]["delivered"]' "(5, 11)"
check "channels: 4 summed over the workers, 3 distinct" \
    [ "$(js "$T/s.json" 'd["totals"]["channels"], d["channels_distinct"]')" = "(4, 3)" ]
got=$(js "$T/s.json" '" ".join(str(r["pid"]) for r in sorted(d["per_worker"], key=lambda r: r["pid"]))')
want=$(printf '%s\n' $A_PID $B_PID | sort -n | tr '\n' ' ' | sed 's/ $//')
check "rows are the two workers ($got)" [ "$got" = "$want" ]
check "row streams: 3 on A, 2 on B" [ "$(js "$T/s.json" "sorted((r['pid'], r['streams']) for r in d['per_worker']) == sorted([($A_PID, 3), ($B_PID, 2)])")" = True ]
check "row figures add up to the totals" [ "$(js "$T/s.json" 'all(sum(r[k] for r in d["per_worker"]) == v for k, v in d["totals"].items())')" = True ]
check "top channel cs.a, 3 subscribers on 2 workers" [ "$(js "$T/s.json" 'd["top_channels"][0]["channel"], d["top_channels"][0]["subscribers"], d["top_channels"][0]["workers"]')" = "('cs.a', 3, 2)" ]
check "B: the same totals" stats_is "$B" \
    'd["workers"], d["totals"]["streams"], d["totals"]["delivered"]' "(2, 5, 11)"

# The keys: in the {stats} slot, none under the one-Redis names.
check "index sse:{stats}:workers holds both" bash -c \
    "[ \"\$(redis-cli -c -p ${CPORTS%% *} SMEMBERS 'sse:{stats}:workers' | sort | tr '\n' ' ')\" = \"\$(printf '%s\n' \$(hostname):$A_PID \$(hostname):$B_PID | sort | tr '\n' ' ')\" ]"
check "report hash expires (TTL 1..3 s)" bash -c \
    "t=\$(redis-cli -c -p ${CPORTS%% *} TTL 'sse:{stats}:w:$(hostname):$A_PID'); [ \$t -ge 1 ] && [ \$t -le 3 ]"
check "channel hash of B: cs.a 1, cs.c 1" bash -c \
    "[ \"\$(redis-cli -c -p ${CPORTS%% *} HGETALL 'sse:{stats}:c:$(hostname):$B_PID' | paste - - | sort | tr '\t\n' '= ')\" = 'cs.a=1 cs.c=1 ' ]"
check "no key under sse:stats:*" bash -c "for p in $CPORTS; do redis-cli -p \$p --scan --pattern 'sse:stats:*'; done | grep -q . && exit 1 || exit 0"

# One channel, its history at its master.
check "?channel=cs.a: 3 subscribers, 3 events kept" stats_is "$B" \
    'd["subscribers"], d["workers"], d["history"]["length"]' "(3, 2, 3)" -G -d channel=cs.a
check "?channel=cs.a: last id" [ "$(js "$T/s.json" 'd["history"]["last_id"]')" = "$LAST" ]
check "?channel=nobody: 0" stats_is "$A" 'd["subscribers"], d["history"]["length"]' "(0, 0)" -G -d channel=nobody

# Prometheus.
check "/metrics: 200" [ "$(get metrics "$A/api/v1/metrics?top=3")" = 200 ]
if python3 "$top_srcdir/tests/prom-check.py" < "$T/metrics" > "$T/samples"; then ok=1; else ok=0; cat "$T/samples"; fi
check "/metrics passes the format checker" [ $ok = 1 ]
check "sse_fcgi_workers 2" grep -qx 'sse_fcgi_workers 2' "$T/samples"
check "sse_fcgi_streams 5" grep -qx 'sse_fcgi_streams 5' "$T/samples"
check "delivered_total 11" grep -qx 'sse_fcgi_messages_delivered_total 11' "$T/samples"
check "2 per-worker stream gauges" [ "$(grep -c '^sse_fcgi_worker_streams{host=' "$T/samples")" = 2 ]
check "cs.a 3 subscribers" grep -qx 'sse_fcgi_channel_subscribers{channel="cs.a"} 3' "$T/samples"

# Bad input in the stats keys (the reports are rewritten every second:
# the garbage is written by a fake worker the reporters never touch).
crcli HSET 'sse:{stats}:w:fake:1' host fake pid 1 streams abc delivered 12x \
    uptime -3 > /dev/null
crcli SADD 'sse:{stats}:workers' fake:1 gone:2 > /dev/null
check "garbage figures: 200, a third row with 0 streams" stats_is "$A" \
    'd["workers"], d["totals"]["streams"], d["totals"]["delivered"], [r["streams"] for r in d["per_worker"] if r["host"] == "fake"]' "(3, 5, 11, [0])"
check "a listed worker without a report left the index" bash -c \
    "! redis-cli -c -p ${CPORTS%% *} SISMEMBER 'sse:{stats}:workers' gone:2 | grep -qx 1"
crcli DEL 'sse:{stats}:w:fake:1' > /dev/null
crcli SET 'sse:{stats}:w:bad:3' notahash > /dev/null
crcli SADD 'sse:{stats}:workers' bad:3 > /dev/null
check "a report of the wrong type: 503 with Redis's reason" bash -c \
    "[ \"\$(curl -s -m 10 -o '$T/wt' -w '%{http_code}' '$A/api/v1/stats')\" = 503 ] && grep -q WRONGTYPE '$T/wt'"
check "/metrics then: 503" [ "$(get wtm "$B/api/v1/metrics")" = 503 ]
check "both workers alive" bash -c "kill -0 $A_PID && kill -0 $B_PID"
crcli DEL 'sse:{stats}:w:bad:3' > /dev/null
check "once it is gone: 200, 2 workers" wait_until 5 stats_is "$A" 'd["workers"]' 2
check "and the fake IDs left the index" bash -c \
    "[ \$(redis-cli -c -p ${CPORTS%% *} SCARD 'sse:{stats}:workers') = 2 ]"

# A worker stopped gracefully vanishes at once (its expiry is 3 s): its
# streams end too.
kill -TERM "$B_PID"
check "stopped worker gone from /stats within 1 s" wait_until 1 stats_is "$A" 'd["workers"], d["totals"]["streams"]' "(1, 3)"
check "its keys are removed" bash -c \
    "[ \$(redis-cli -c -p ${CPORTS%% *} EXISTS 'sse:{stats}:w:$(hostname):$B_PID' 'sse:{stats}:c:$(hostname):$B_PID') = 0 ] &&
     [ \$(redis-cli -c -p ${CPORTS%% *} SISMEMBER 'sse:{stats}:workers' $(hostname):$B_PID) = 0 ]"
check "it exited" wait_until 10 bash -c "! kill -0 $B_PID 2>/dev/null"

# One without streams: its loop would end at once, but waits for the
# removal to be answered.
WSOCK=$T/c.sock WREDIS=$URL start_workers 1 "${WARGS[@]}"; C_PID=$WPIDS
check "a third worker, no stream: in /stats" wait_until 10 stats_is "$A" 'd["workers"]' 2
kill -TERM "$C_PID"
check "it exited within 2 s" wait_until 2 bash -c "! kill -0 $C_PID 2>/dev/null"
check "its keys are removed, it left the index" bash -c \
    "[ \$(redis-cli -c -p ${CPORTS%% *} EXISTS 'sse:{stats}:w:$(hostname):$C_PID' 'sse:{stats}:c:$(hostname):$C_PID') = 0 ] &&
     [ \$(redis-cli -c -p ${CPORTS%% *} SISMEMBER 'sse:{stats}:workers' $(hostname):$C_PID) = 0 ]"
check "/stats: A alone" stats_is "$A" 'd["workers"], d["per_worker"][0]["pid"]' "(1, $A_PID)"
check "no removal failure logged" bash -c "! grep -q 'cannot remove the stats report' '$T/worker.log'"

check "no error in the workers' log" bash -c "! grep ' error: ' '$T/worker.log' | grep -v -e WRONGTYPE"
grep ' error: ' "$T/worker.log" | grep -v WRONGTYPE | head -5
finish
