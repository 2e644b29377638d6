#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: streaming through nginx + spawn-fcgi, with the shipped server
# block (deploy/nginx/sse-fcgi.conf) inside deploy/nginx/nginx-test.conf.in.
# Exercises: the snippet passes nginx -t; headers and the first comment
# through nginx, no gzip on the stream although the site gzips
# text/event-stream; an event published with redis-cli reaches curl -N
# unbuffered (under 1 s; the latency is printed); keepalive comments pass;
# HTTP/2 (h2c) streams;
# a worker's graceful stop ends the stream cleanly through nginx; a client
# that disconnects frees the worker's subscription at once (well before any
# keepalive); Authorization and Last-Event-ID reach the worker (HTTP
# publish, resume); a 1 MiB POST is accepted and streamed, 1 MiB + 1 is a
# 413; nginx reload while a client streams loses no event for a client that
# reconnects with its last id.
. "$(dirname "$0")/lib.sh"
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
[ -x "$NGINX" ] || { echo "SKIP: nginx not installed"; exit 77; }
FASTCGI_PARAMS=${FASTCGI_PARAMS:-/etc/nginx/fastcgi_params}
[ -r "$FASTCGI_PARAMS" ] || { echo "SKIP: no $FASTCGI_PARAMS"; exit 77; }

# events_of NAME: "ID<TAB>DATA" per complete event (ended by its blank
# line) of a stream's body; comments and a cut-off last event are left out.
events_of() {
	awk '/^id: /{ id = substr($0, 5) }
	     /^data: /{ d = substr($0, 7); hd = 1 }
	     /^$/{ if (hd) print id "\t" d; id = ""; hd = 0 }' "$T/$1.out"
}
SECRET=nginx-secret
AUTH="Authorization: Bearer $SECRET"
start_redis
start_workers 1 --keepalive 1 --publisher-secret "$SECRET"
W1=$WPIDS
nginx_conf_check() {
	NPORT=1 N2PORT=2 nginx_conf
	"$NGINX" -t -q -e "$T/nginx-error.log" -p "$T/" -c "$T/nginx.conf" 2>&1
}
check "shipped snippet passes nginx -t inside the test template" nginx_conf_check
start_nginx
U=$BASE/api/v1

# 1. Headers, first comment, no gzip; latency of a redis-cli PUBLISH.
stream lat "$U/events/n.lat" -H 'Accept-Encoding: gzip'
LAT=$CURL_PID
wait_until 20 numsub_is n.lat 1
check "subscribed through nginx" numsub_is n.lat 1
check "status 200" has "$T/lat.hdr" '^HTTP/1.1 200'
check "content type" grep -qi '^Content-Type: text/event-stream' "$T/lat.hdr"
check "cache-control" grep -qi '^Cache-Control: no-cache' "$T/lat.hdr"
check "not gzipped although the client and the site ask for it" \
    bash -c "! grep -qi '^Content-Encoding' '$T/lat.hdr'"
check "comment first" bash -c "head -c 5 '$T/lat.out' | grep -q '^: ok'"
latencies lat n.lat
lats=$LATS max=$LAT_MAX med=$LAT_MED
echo "# PUBLISH -> curl -N through nginx, ms:$lats (median $med, max $max)"
# Not held (a buffering server holds them until the 2 s cap): under 1 s
# leaves room for a busy machine; the figures above are the measure.
check "every event through nginx unbuffered, under 1 s (max $max ms)" [ "$max" -lt 1000 ]

# 2. Keepalive comments pass (--keepalive 1).
wait_until 10 body_has lat ': keepalive'
check "keepalive comment (1 s) within 10 s" body_has lat ': keepalive'

# 3. HTTP/2 (h2c).
stream h2 "$H2BASE/api/v1/events/n.h2" --http2-prior-knowledge
H2=$CURL_PID
wait_until 20 numsub_is n.h2 1
check "h2c: status 200 over HTTP/2" has "$T/h2.hdr" '^HTTP/2 200'
t0=$(now_us)
rcli PUBLISH n.h2 'over h2' > /dev/null
wait_until 20 body_has h2 'data: over h2'
h2ms=$(( ($(now_us) - t0) / 1000 ))
echo "# PUBLISH -> curl over h2c through nginx: ~$h2ms ms (0.1 s polling)"
check "h2c: event received" body_has h2 $'data: over h2\n\n'
check "h2c: stream still open" alive $H2

# 4. A worker's graceful stop ends the streams cleanly through nginx.
kill -TERM $W1
wait_until 30 bash -c "! kill -0 $LAT 2>/dev/null && ! kill -0 $H2 2>/dev/null"
wait $LAT; rc=$?
check "worker stop: HTTP/1.1 stream ended cleanly (curl exit $rc)" [ $rc = 0 ]
wait $H2; rc=$?
check "worker stop: HTTP/2 stream ended cleanly (curl exit $rc)" [ $rc = 0 ]

# New pool: 2 workers with a long keepalive, so a freed subscription below
# can only come from nginx closing the FastCGI connection.
start_workers 2 --keepalive 30 --publisher-secret "$SECRET"
W2=$WPIDS

# 5. Disconnects free the worker's state at once (HTTP/1.1 and HTTP/2).
for proto in h1 h2; do
	if [ $proto = h1 ]; then stream gone "$U/events/n.gone.$proto"
	else stream gone "$H2BASE/api/v1/events/n.gone.$proto" --http2-prior-knowledge; fi
	G=$CURL_PID
	wait_until 20 numsub_is n.gone.$proto 1
	wait_until 20 ready gone
	t0=$(now_us)
	kill $G
	wait_until 20 numsub_is n.gone.$proto 0
	ms=$(( ($(now_us) - t0) / 1000 ))
	echo "# $proto client killed -> NUMSUB 0 after $ms ms (keepalive 30 s)"
	# At once: well before the first keepalive write (20-30 s) could
	# reveal the closed client; 10 s leaves room for a busy machine.
	check "$proto disconnect frees the subscription before a keepalive ($ms ms)" \
	    [ "$(numsub n.gone.$proto)" = 0 -a $ms -lt 10000 ]
done

# 6. Resume with Last-Event-ID; publishing with Authorization.
stream r "$U/events/n.resume"; R=$CURL_PID
wait_until 20 numsub_is n.resume 1
for i in 1 2 3; do pub_http n.resume "a$i" > /dev/null; done
wait_until 20 body_has r 'data: a3'
check "HTTP publish through nginx (Authorization passed)" \
    [ "$(events_of r | cut -f2 | tr '\n' ' ')" = "a1 a2 a3 " ]
check "unauthorized publish is a 401" \
    [ "$(status "$U/publish/n.resume" -X POST --data-binary x)" = 401 ]
LAST=$(events_of r | tail -1 | cut -f1)
kill $R
for i in 4 5 6 7 8; do pub_http n.resume "a$i" > /dev/null; done
stream_until r2 'data: a8' "$U/events/n.resume" -H "Last-Event-ID: $LAST"
check "Last-Event-ID through nginx: exactly the 5 missed events" \
    diff <(events_of r2 | cut -f2) <(printf 'a%s\n' 4 5 6 7 8)
stream_until r3 'data: a8' "$H2BASE/api/v1/events/n.resume?lastEventId=0-0" \
    --http2-prior-knowledge -H "Last-Event-ID: $LAST"
check "Last-Event-ID over HTTP/2 (header wins over the query)" \
    diff <(events_of r3 | cut -f2) <(printf 'a%s\n' 4 5 6 7 8)

# 7. A 1 MiB POST (client_max_body_size = max-message) through nginx.
head -c 1048576 /dev/zero | tr '\0' x > "$T/big"
stream big "$U/events/n.big"
wait_until 20 numsub_is n.big 1
code=$(curl -s -o "$T/big.json" -w '%{http_code}' -m 60 -X POST -H "$AUTH" \
    --data-binary @"$T/big" "$U/publish/n.big")
check "1 MiB POST accepted ($code)" bash -c "[ '$code' = 200 ] && grep -q '\"id\":\"' '$T/big.json'"
big_done() { [ "$(events_of big | wc -l)" -ge 1 ]; }
wait_until 30 big_done
check "1 MiB event streamed intact" \
    [ "$(events_of big | cut -f2 | awk '{ print length($0) }')" = 1048576 ]
printf x >> "$T/big"
check "1 MiB + 1 byte is a 413" \
    [ "$(status "$U/publish/n.big" -X POST -H "$AUTH" --data-binary @"$T/big")" = 413 ]

# 8. nginx reload while a client streams: it reconnects with its last id
# and gets every event published across the reload.
stream rl "$U/events/n.reload"; RL=$CURL_PID
wait_until 20 numsub_is n.reload 1
: > "$T/reload.pub"
( for i in $(seq 1 30); do
	echo "r$i $(pub_http n.reload "r$i")" >> "$T/reload.pub"
	sleep 0.07
  done ) &
PUB=$!; track $PUB
# The reload once events are flowing.
wait_until 20 body_has rl 'data: r3'
OLDW=$(pgrep -P $NPID | tr '\n' ' ')
kill -HUP $NPID
t0=$(now_us)
wait_until 20 bash -c "! kill -0 $RL 2>/dev/null"
ms=$(( ($(now_us) - t0) / 1000 ))
echo "# reload: the old nginx worker ended the stream after $ms ms (worker_shutdown_timeout 1s)"
check "reload: old worker let the stream go (worker_shutdown_timeout)" bash -c "! kill -0 $RL 2>/dev/null"
LAST=$(events_of rl | tail -1 | cut -f1)
stream rl2 "$U/events/n.reload" -H "Last-Event-ID: $LAST"
wait $PUB
wait_until 30 body_has rl2 'data: r30'
check "reload: every publish across it succeeded" \
    [ "$(awk 'NF == 2' "$T/reload.pub" | wc -l)" = 30 ]
before=$(events_of rl | wc -l)
echo "# reload: $before events on the first stream, $(events_of rl2 | wc -l) after reconnecting"
check "reload: first stream + reconnect = r1..r30, no loss, no duplicate" \
    diff <( (events_of rl; events_of rl2) | cut -f2) <(seq 1 30 | sed 's/^/r/')
check "reload: the ids match the publishers'" \
    diff <( (events_of rl; events_of rl2) | cut -f1) <(cut -d' ' -f2 "$T/reload.pub")
check "reload: new nginx workers serve" bash -c \
    "[ -n \"\$(pgrep -P $NPID)\" ] && [ \"\$(pgrep -P $NPID | tr '\n' ' ')\" != '$OLDW' ]"
check "workers alive" bash -c "kill -0 $W2"

# Stop nginx (and its workers) before the generic cleanup.
kill $NPID
wait_until 20 bash -c "! kill -0 $NPID 2>/dev/null"
[ $CHECKS_FAILED -ne 0 ] && { echo "--- nginx error log"; tail -n 30 "$T/nginx-error.log"; }
finish
