#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: every publish path, big payloads and concurrent publishers.
# Exercises: a 1 MiB payload through HTTP POST, the Redis script
# (redis-cli -x), sse-publish and raw PUBLISH arrives intact, as one event;
# over max-message is a 413; named events from every path; 4 concurrent
# publishers on one channel: every subscriber sees the same order; the
# publish endpoint's auth (401), its channel info (GET), bad input.
. "$(dirname "$0")/lib.sh"
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}

SECRET=p-secret
start_redis
start_workers 2 --publisher-secret "$SECRET"
start_lighttpd
U=$BASE/api/v1
AUTH="Authorization: Bearer $SECRET"

# 1 MiB through every path.
head -c 786432 /dev/urandom | base64 -w0 > "$T/big"
check "payload is 1 MiB" [ "$(stat -c %s "$T/big")" = 1048576 ]
stream big "$U/events/p.big"
wait_until 20 numsub_is p.big 1
curl -s -X POST -H "$AUTH" --data-binary @"$T/big" "$U/publish/p.big?event=blob" > "$T/post.json"
check "HTTP POST of 1 MiB accepted" grep -q '"id":"' "$T/post.json"
check "receivers counts the subscribed workers" grep -q '"receivers":1' "$T/post.json"
SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
rcli -x EVALSHA "$SHA" 2 sse:history:p.big sse:clock p.big blob 1000 0 < "$T/big" > /dev/null
if [ -x "$SSE_PUBLISH" ]; then
	"$SSE_PUBLISH" -q --redis "redis://127.0.0.1:$RPORT" --event blob p.big - < "$T/big" > /dev/null
else
	rcli -x EVALSHA "$SHA" 2 sse:history:p.big sse:clock p.big blob 1000 0 < "$T/big" > /dev/null
fi
rcli -x PUBLISH p.big < "$T/big" > /dev/null
wait_until 30 bash -c "[ \$(grep -c '^data: ' '$T/big.out') -ge 4 ]"
want=$(sha256sum < "$T/big" | cut -d' ' -f1)
n=0
while IFS= read -r line; do
	[ "$(printf %s "$line" | sha256sum | cut -d' ' -f1)" = "$want" ] && n=$((n + 1))
done < <(data_of big)
check "1 MiB arrived intact by HTTP, script, sse-publish and raw PUBLISH ($n/4)" [ $n = 4 ]
check "named events from every history path" [ "$(grep -c '^event: blob' "$T/big.out")" = 3 ]
head -c 1048577 /dev/zero | tr '\0' x > "$T/toobig"
check "1 MiB + 1 byte is a 413" [ "$(status "$U/publish/p.big" -X POST -H "$AUTH" --data-binary @"$T/toobig")" = 413 ]

# Four publishers at once on one channel, three subscribers.
for s in 1 2 3; do stream o$s "$U/events/p.order"; done
# Two workers: each stream's response begins once its worker subscribed.
for s in 1 2 3; do wait_until 20 ready o$s; done
pids=""
for p in 1 2 3 4; do
	( for i in $(seq 1 50); do
		curl -s -o /dev/null -X POST -H "$AUTH" --data-binary "w$p-$i" "$U/publish/p.order"
	done ) &
	pids="$pids $!"
done
wait $pids
for s in 1 2 3; do wait_until 30 bash -c "[ \$(grep -c '^data: w' '$T/o$s.out') -ge 200 ]"; done
check "subscriber 1 got all 200" [ "$(data_of o1 | grep -c '^w')" = 200 ]
check "subscribers 1 and 2 saw the same order" diff <(data_of o1) <(data_of o2)
check "subscribers 1 and 3 saw the same order" diff <(data_of o1) <(data_of o3)
ids_of o1 | increasing; check "ids strictly increase" [ $? = 0 ]
ok=1
for p in 1 2 3 4; do
	diff <(data_of o1 | grep "^w$p-") <(seq 1 50 | sed "s/^/w$p-/") >/dev/null || ok=0
done
check "each publisher's events in its own order" [ $ok = 1 ]

# The endpoint's own checks.
check "no secret: 401" [ "$(status "$U/publish/p.x" -X POST -d x)" = 401 ]
check "401 names the scheme" bash -c "curl -s -D - -o /dev/null -X POST -d x '$U/publish/p.x' | grep -qi '^WWW-Authenticate: Bearer'"
check "wrong secret: 401" [ "$(status "$U/publish/p.x" -X POST -H 'Authorization: Bearer nope' -d x)" = 401 ]
check "secret prefix is not enough: 401" [ "$(status "$U/publish/p.x" -X POST -H "Authorization: Bearer ${SECRET%?}" -d x)" = 401 ]
check "bad channel: 400" [ "$(status "$U/publish/a%20b" -X POST -H "$AUTH" -d x)" = 400 ]
check "event name with LF: 400" [ "$(status "$U/publish/p.x?event=a%0Ab" -X POST -H "$AUTH" -d x)" = 400 ]
check "event name with NUL: 400" [ "$(status "$U/publish/p.x?event=a%00b" -X POST -H "$AUTH" -d x)" = 400 ]
check "event name from the SSE-Event header" bash -c "curl -s -X POST -H '$AUTH' -H 'SSE-Event: hdr' -d v '$U/publish/p.info' | grep -q '\"id\"'"
check "PUT: 405" [ "$(status "$U/publish/p.x" -X PUT -H "$AUTH" -d x)" = 405 ]
curl -s -H "$AUTH" "$U/publish/p.big" > "$T/info.json"
check "GET: channel info with length" grep -q '"length":3' "$T/info.json"
check "GET: first and last id" grep -q '"first_id":"[0-9]*-[0-9]*","last_id":"[0-9]*-[0-9]*"' "$T/info.json"
curl -s -H "$AUTH" "$U/publish/p.none" > "$T/none.json"
check "GET: empty channel" grep -q '"length":0,"first_id":null,"last_id":null' "$T/none.json"
check "GET without secret: 401" [ "$(status "$U/publish/p.big")" = 401 ]
check "workers alive" bash -c "for p in $WPIDS; do kill -0 \$p || exit 1; done"
finish
