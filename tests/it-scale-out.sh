#!/bin/bash
# sse-fcgi - MIT License
#
# Scale-out: two front servers (lighttpd and nginx, as on two web hosts),
# each with its own pool of two workers, share one Redis. 200 streams on
# each; 100 numbered events are published over HTTP, alternately through
# either front server. Every stream on both gets every event exactly once,
# in order; Redis sees one subscriber per worker holding streams and each
# publish reports that many receiving workers.
. "$(dirname "$0")/lib.sh"
[ -x "$NGINX" ] && [ -r "$FASTCGI_PARAMS" ] || { echo "SKIP: nginx not installed"; exit 77; }
SECRET=scale-out-secret
N=${SCALE_OUT_CLIENTS:-200}
E=100

start_redis
WSOCK=$T/a.sock start_workers 2 --publisher-secret "$SECRET"
WSOCK=$T/a.sock start_lighttpd; LBASE=$BASE
WSOCK=$T/b.sock start_workers 2 --publisher-secret "$SECRET"
WSOCK=$T/b.sock start_nginx; NBASE=$BASE

"$SSE_CLIENT" -q -Q -u "$LBASE/api/v1/events/out.all" -n $N -e $E -d 120 \
    -r "$T/ready-l" > "$T/l.out" 2> "$T/l.err" & LC=$!; track $LC
"$SSE_CLIENT" -q -Q -u "$NBASE/api/v1/events/out.all" -n $N -e $E -d 120 \
    -r "$T/ready-n" > "$T/n.out" 2> "$T/n.err" & NC=$!; track $NC
check "$N streams through lighttpd" wait_until 30 test -e "$T/ready-l"
check "$N streams through nginx" wait_until 30 test -e "$T/ready-n"
# Each pool's two workers share one listening socket, so on a busy machine
# one of them may take all of its pool's streams: 2 to 4 workers hold
# streams, and each holds one Redis subscription, whatever the split.
check "one Redis subscriber per worker with streams (2..4)" wait_until 10 bash -c \
    "n=\$(redis-cli -p $RPORT PUBSUB NUMSUB out.all | sed -n 2p); [ \"\$n\" -ge 2 ] && [ \"\$n\" -le 4 ]"
W=$(numsub out.all)
echo "# workers subscribed: $W"

: > "$T/receivers"
for i in $(seq 1 $E); do
	if [ $((i % 2)) = 1 ]; then b=$LBASE; else b=$NBASE; fi
	curl -s -m 10 -X POST -H "Authorization: Bearer $SECRET" --data-binary "$i" \
	    "$b/api/v1/publish/out.all" | sed -n 's/.*"receivers":\([0-9]*\).*/\1/p' >> "$T/receivers"
done
check "every publish reached those $W workers" [ "$(sort -u "$T/receivers")" = "$W" ]
wait $LC; lrc=$?
wait $NC; nrc=$?
echo "# lighttpd side: $(cat "$T/l.out")"
echo "# nginx side: $(cat "$T/n.out")"
check "every lighttpd stream got 1..$E once, in order" [ $lrc = 0 ]
check "every nginx stream got 1..$E once, in order" [ $nrc = 0 ]
finish
