#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: GET <mount>/stats and <mount>/metrics for the whole deployment.
# Two worker pools (two spawn-fcgi sets on two sockets, two lighttpd), one
# Redis. Pool A: 2 workers, default stats-allow (loopback), reports every
# 2 s. Pool B: 2 workers, stats-allow a network 127.0.0.1 is not in plus
# a stats-secret, reports every second. Exercises: totals of both pools
# from either front server (streams open, messages delivered, per-worker
# rows, top channels), /stats?channel= with its history, the Prometheus
# text through a format checker (tests/prom-check.py), refused stream
# requests counted, 403 for an address not allowed and with a wrong
# bearer, 200 with the right one, 400 for bad query input, 405, 404 with
# stats-interval 0, a worker killed with -9 gone after its expiry, one
# stopped gracefully gone at once, the debug connect/disconnect log lines
# with channels and reason, syslog (only if a syslog daemon listens on
# /dev/log) and 503 with a reason when Redis is down.
. "$(dirname "$0")/lib.sh"
SECRET=stats-s3cret

# stats_is BASE EXPR WANT [CURL-ARGS...]: /stats answers EXPR == WANT.
stats_is() {
	local b=$1 e=$2 w=$3; shift 3
	[ "$(get s.json "$b/api/v1/stats" "$@")" = 200 ] &&
	    [ "$(js "$T/s.json" "$e")" = "$w" ]
}

start_redis
WSOCK=$T/a.sock start_workers 2 --stats-interval 2 --log-level debug \
    --keepalive 2
A_PIDS=$WPIDS
WSOCK=$T/a.sock start_lighttpd; A=$BASE
WSOCK=$T/b.sock start_workers 2 --stats-interval 1 \
    --stats-allow "10.9.9.0/24, 2001:db8::/32" --stats-secret "$SECRET"
B_PIDS=$WPIDS
WSOCK=$T/b.sock start_lighttpd; B=$BASE
AUTH="Authorization: Bearer $SECRET"

# Three streams through A, two through B.
stream a1 "$A/api/v1/events/st.a"
stream a2 "$A/api/v1/events/st.a"
stream a3 "$A/api/v1/events/st.b,st.a"
stream b1 "$B/api/v1/events/st.a"
stream b2 "$B/api/v1/events/st.c"; B2_CURL=$CURL_PID
for s in a1 a2 a3 b1 b2; do wait_until 10 has "$T/$s.out" '^: ok'; done
check "five streams open" bash -c "grep -l '^: ok' $T/a?.out $T/b?.out | wc -l | grep -qx 5"
check "refused stream: bad channel is a 400" [ "$(status "$A/api/v1/events/a%20b")" = 400 ]

# Four events on st.a (4 subscribers), two on st.b (1): 18 deliveries.
for i in 1 2 3 4; do LAST=$(pub_lua st.a "m$i"); done
pub_lua st.b x1 > /dev/null; pub_lua st.b x2 > /dev/null
for s in a1 a2 a3 b1; do wait_until 10 body_has $s "data: m4"; done
check "events arrived" body_has a3 "data: x2"

check "A: 4 workers in /stats" wait_until 10 stats_is "$A" 'd["workers"]' 4
check "A: 5 streams open in both pools" wait_until 10 stats_is "$A" 'd["totals"]["streams"]' 5
check "A: 18 deliveries" wait_until 10 stats_is "$A" 'd["totals"]["delivered"]' 18
check "A: 4 per-worker rows" [ "$(js "$T/s.json" 'len(d["per_worker"])')" = 4 ]
want=$(printf '%s\n' $A_PIDS $B_PIDS | sort -n | tr '\n' ' ')
got=$(js "$T/s.json" '" ".join(str(r["pid"]) for r in sorted(d["per_worker"], key=lambda r: r["pid"]))')
check "rows are the four workers ($got)" [ "$got " = "$want" ]
check "rows carry host, uptime, streams" [ "$(js "$T/s.json" 'all(r["host"] and r["uptime"] >= 0 and "streams" in r for r in d["per_worker"])')" = True ]
check "row streams add up" [ "$(js "$T/s.json" 'sum(r["streams"] for r in d["per_worker"])')" = 5 ]
check "messages in counted" [ "$(js "$T/s.json" 'd["totals"]["messages_in"] >= 6')" = True ]
check "row figures add up to the totals" [ "$(js "$T/s.json" 'all(sum(r[k] for r in d["per_worker"]) == v for k, v in d["totals"].items())')" = True ]
check "bytes out counted" [ "$(js "$T/s.json" 'd["totals"]["bytes_out"] > 0')" = True ]
check "streams opened: 5" [ "$(js "$T/s.json" 'd["totals"]["streams_opened"]')" = 5 ]
check "refused 400 counted" wait_until 5 stats_is "$A" 'd["totals"]["refused_400"]' 1
check "top channel st.a, 4 subscribers" [ "$(js "$T/s.json" 'd["top_channels"][0]["channel"], d["top_channels"][0]["subscribers"]')" = "('st.a', 4)" ]
check "3 distinct channels" [ "$(js "$T/s.json" 'd["channels_distinct"]')" = 3 ]
check "?top=1 lists one" stats_is "$A" 'len(d["top_channels"])' 1 -G -d top=1
cp "$T/s.json" "$T/stats-a.json"

# B: only with the secret.
check "B without the secret: 403" [ "$(get s403 "$B/api/v1/stats")" = 403 ]
check "403 says why" grep -q "127.0.0.1 is not in stats-allow" "$T/s403"
check "B /metrics without the secret: 403" [ "$(get m403 "$B/api/v1/metrics")" = 403 ]
check "B with a wrong secret: 403" [ "$(get s403 "$B/api/v1/stats" -H 'Authorization: Bearer nope')" = 403 ]
check "B with the secret: same totals" stats_is "$B" 'd["totals"]["streams"], d["totals"]["delivered"], d["workers"]' "(5, 18, 4)" -H "$AUTH"

# One channel.
check "?channel=st.a: 4 subscribers, 4 events kept" stats_is "$A" 'd["subscribers"], d["history"]["length"]' "(4, 4)" -G -d channel=st.a
check "?channel=st.a: last id" [ "$(js "$T/s.json" 'd["history"]["last_id"]')" = "$LAST" ]
check "?channel=nobody: 0" stats_is "$A" 'd["subscribers"], d["workers"], d["history"]["length"]' "(0, 0, 0)" -G -d channel=nobody

# Prometheus.
check "/metrics: 200" [ "$(get metrics "$A/api/v1/metrics")" = 200 ]
check "/metrics: content type 0.0.4" bash -c "curl -s -D - -o /dev/null '$A/api/v1/metrics' | grep -qi '^Content-Type: text/plain; version=0.0.4'"
if python3 "$top_srcdir/tests/prom-check.py" < "$T/metrics" > "$T/samples"; then ok=1; else ok=0; cat "$T/samples"; fi
check "/metrics passes the format checker" [ $ok = 1 ]
check "sse_fcgi_workers 4" grep -qx 'sse_fcgi_workers 4' "$T/samples"
check "sse_fcgi_streams 5" grep -qx 'sse_fcgi_streams 5' "$T/samples"
check "delivered_total 18" grep -qx 'sse_fcgi_messages_delivered_total 18' "$T/samples"
check "refused by status" grep -qx 'sse_fcgi_streams_refused_total{status="400"} 1' "$T/samples"
check "4 per-worker stream gauges" [ "$(grep -c '^sse_fcgi_worker_streams{host=' "$T/samples")" = 4 ]
check "4 per-worker uptimes" [ "$(grep -c '^sse_fcgi_worker_uptime_seconds{host=' "$T/samples")" = 4 ]
check "every name is sse_fcgi_*" bash -c "! grep -v '^sse_fcgi_' '$T/samples'"
check "no channels by default" bash -c "! grep -q channel_subscribers '$T/samples'"
get metrics "$B/api/v1/metrics?top=2" -H "$AUTH" > /dev/null
python3 "$top_srcdir/tests/prom-check.py" < "$T/metrics" > "$T/samples"
check "/metrics?top=2 through B: valid, st.a first" grep -qx 'sse_fcgi_channel_subscribers{channel="st.a"} 4' "$T/samples"
check "/metrics?top=2: two channels" [ "$(grep -c channel_subscribers "$T/samples")" = 2 ]

# Bad input.
check "unknown parameter: 400" [ "$(get bad "$A/api/v1/stats?x=1")" = 400 ]
check "400 names it" grep -q 'unknown query parameter "x"' "$T/bad"
check "bad channel: 400" [ "$(get bad "$A/api/v1/stats?channel=a%20b")" = 400 ]
check "bad top: 400" [ "$(get bad "$A/api/v1/stats?top=x")" = 400 ]
check "top over 1000: 400" [ "$(get bad "$A/api/v1/stats?top=1001")" = 400 ]
check "channel on /metrics: 400" [ "$(get bad "$A/api/v1/metrics?channel=st.a")" = 400 ]
check "POST: 405" [ "$(get bad "$A/api/v1/stats" -X POST -d x)" = 405 ]
check "events/stats is still a channel" bash -c "curl -s -m 10 -N '$A/api/v1/events/stats' | grep -q '^: ok'"

# stats-interval 0: the endpoints are off and the worker reports nothing.
WSOCK=$T/c.sock start_workers 1 --stats-interval 0; C_PID=$WPIDS
WSOCK=$T/c.sock start_lighttpd; C=$BASE
check "stats-interval 0: 404" [ "$(get off "$C/api/v1/stats")" = 404 ]
check "404 says stats are off" grep -q "stats are off" "$T/off"
check "stats-interval 0: /metrics 404" [ "$(get off "$C/api/v1/metrics")" = 404 ]
sleep 1
check "that worker does not report" stats_is "$A" 'd["workers"]' 4

# Logs: connect and disconnect lines with channels and reason (pool A
# runs at debug level).
check "connect line with channels" has "$T/worker.log" 'opened, channels st.b,st.a'
kill "$(pgrep -f "events/st.b,st.a" | head -1)" 2>/dev/null
# (lighttpd notices the client gone at the next keepalive, 2 s)
check "disconnect line with channels and reason" wait_until 10 has "$T/worker.log" 'closed after [0-9]*s, channels st.b,st.a: web server'

# A worker killed hard vanishes after its expiry (3 intervals of 1 s).
kill -9 ${B_PIDS%% *}
check "killed worker still listed at first" stats_is "$A" 'd["workers"]' 4
check "killed worker gone after expiry" wait_until 8 stats_is "$A" 'd["workers"]' 3
check "its pid is gone from the rows" [ "$(js "$T/s.json" "${B_PIDS%% *} in [r['pid'] for r in d['per_worker']]")" = False ]
check "its id left the index" wait_until 5 bash -c "[ \$(redis-cli -p $RPORT SCARD sse:stats:workers) = 3 ]"

# A worker stopped gracefully vanishes at once (its expiry is 6 s).
kill -TERM ${A_PIDS##* }
check "stopped worker gone within 2 s" wait_until 2 stats_is "$A" 'd["workers"]' 2

# --log-file syslog:FACILITY: refused when unknown; lines reach syslog
# when a daemon listens.
"$SSE_FCGI" --log-file syslog:nope --listen "127.0.0.1:$(free_port)" > "$T/sl.out" 2>&1
check "unknown syslog facility: exit 2" [ $? = 2 ]
check "it says why" grep -q "unknown syslog facility" "$T/sl.out"
SYSLOG_FILE=$(ls /var/log/syslog /var/log/messages 2>/dev/null | head -1)
if [ -S /dev/log ] && [ -r "${SYSLOG_FILE:-/nonexistent}" ]; then
	SP=$(free_port)
	"$SSE_FCGI" --log-file syslog:local0 --listen "127.0.0.1:$SP" \
	    --redis "redis://127.0.0.1:$RPORT" --stats-interval 0 & SLP=$!; track $SLP
	check "syslog gets the ready line" wait_until 10 grep -q "sse-fcgi\[$SLP\].*ready" "$SYSLOG_FILE"
	kill $SLP
else
	echo "# skip: no syslog daemon (/dev/log) with a readable log file; syslog delivery not checked"
fi

# Redis down: 503 with the reason.
kill $RPID; wait $RPID 2>/dev/null
check "Redis down: 503" [ "$(get down "$A/api/v1/stats")" = 503 ]
check "503 says why" grep -q "redis" "$T/down"
check "Redis down: /metrics 503" [ "$(get down "$A/api/v1/metrics")" = 503 ]
check "workers alive" bash -c "for p in ${A_PIDS% *} ${B_PIDS#* } $C_PID; do kill -0 \$p || exit 1; done"
finish
