#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: presence (--presence), who is watching a channel. Two workers,
# each behind its own lighttpd (A and B), one Redis, presence on room.*
# with presence-ttl 3, HS256 tokens (user-channels off: a token's
# sse.subscribe patterns or public-channels decide). Exercises: join and
# leave counted on GET <mount>/presence/<channel>, the two workers summed
# (asked of either), users named by their token's sub, anonymous streams
# counted but not named, the sse-presence event to the channel's streams
# when it changes, at most one per second per channel under a burst of
# joins and leaves (coalesced), reads after Redis forgot the script
# (SCRIPT FLUSH), a worker killed -9 leaving the sum within
# its ttl (its keys expire in Redis too), a graceful stop removing its
# entry at once, the endpoint's authorization (401 without a token, 403
# with one for other channels, 200 for a reader, public channels open to
# all), 404 for channels without presence, 400 for bad channel names, 405
# for POST, and bad --presence / --presence-ttl values refused at start.
. "$(dirname "$0")/lib.sh"
jwt_key
ALICE=$(tok '{"sub":"alice","sse":{"subscribe":["room.*"]}}')
BOB=$(tok '{"sub":"bob","sse":{"subscribe":["room.*"]}}')
CAROL=$(tok '{"sub":"carol","sse":{"subscribe":["room.*"]}}')
OTHER=$(tok '{"sub":"eve","sse":{"subscribe":["other.*"]}}')
ARGS=(--jwt-secret-file "$T/jwt.key" --public-channels "room.pub other.*"
    --presence "room.*" --presence-ttl 3 --keepalive 1 --log-level debug)

# pres_is BASE CHANNEL EXPR WANT [CURL-ARGS...]: the endpoint answers EXPR.
pres_is() {
	local b=$1 c=$2 e=$3 w=$4; shift 4
	[ "$(get p.json "$b/api/v1/presence/$c" "$@")" = 200 ] &&
	    [ "$(js "$T/p.json" "$e")" = "$w" ]
}
# tstream NAME URL: a stream whose lines are stamped with their arrival
# time in ms ($T/NAME.out); sets CURL_PID.
tstream() {
	curl -sN -H 'Accept: text/event-stream' "$2" > >(stamp_lines > "$T/$1.out") 2>/dev/null &
	CURL_PID=$!; track $CURL_PID
}
# events NAME: the sse-presence data lines a stamped stream got, "MS JSON".
events() { awk '$2 == "event:" && $3 == "sse-presence" { e = 1; next } e && $2 == "data:" { print $1, substr($0, index($0, "data: ") + 6) } { e = 0 }' "$T/$1.out"; }
# last_event_is NAME EXPR WANT: EXPR of the last event's JSON.
last_event_is() {
	events "$1" | tail -n 1 | cut -d' ' -f2- > "$T/ev.json"
	[ "$(js "$T/ev.json" "$2")" = "$3" ]
}
stamped_ready() { grep -q ' : ok$' "$T/$1.out" 2>/dev/null; }

# Bad values stop the worker at start, with the reason.
bad_start() {
	"$SSE_FCGI" --listen "$T/never.sock" "$@" > "$T/bad.out" 2>&1
	local rc=$?
	[ $rc = 2 ] && grep -q "$BAD_WANT" "$T/bad.out"
}
BAD_WANT='pattern "room/\*" may only contain'
check "--presence room/* refused" bad_start --presence 'room/*'
BAD_WANT='presence-ttl: "1" is out of range (3..3600)'
check "--presence-ttl 1 refused" bad_start --presence 'room.*' --presence-ttl 1
BAD_WANT='SSE_FCGI_PRESENCE: pattern "a,b" may only contain'
check "SSE_FCGI_PRESENCE=a,b refused" env SSE_FCGI_PRESENCE='a,b' bash -c \
    "'$SSE_FCGI' --listen '$T/never.sock' > '$T/bad.out' 2>&1; [ \$? = 2 ] && grep -q '$BAD_WANT' '$T/bad.out'"

start_redis
WSOCK=$T/a.sock start_workers 1 "${ARGS[@]}"; A_PID=$WPIDS
WSOCK=$T/a.sock start_lighttpd; A=$BASE
WSOCK=$T/b.sock start_workers 1 "${ARGS[@]}"; B_PID=$WPIDS
WSOCK=$T/b.sock start_lighttpd; B=$BASE

# Nobody yet.
check "empty room: 0 subscribers" pres_is "$A" room.1 'd["subscribers"], d["users"]' "(0, [])" -H "Authorization: Bearer $ALICE"
check "answer names the channel" [ "$(js "$T/p.json" 'd["channel"]')" = room.1 ]

# Join: alice on A, bob on B, one anonymous reader of the public room.pub.
tstream alice "$A/api/v1/events/room.1?token=$ALICE"; ALICE_PID=$CURL_PID
stream bob "$B/api/v1/events/room.1?token=$BOB"; BOB_PID=$CURL_PID
stream anon "$A/api/v1/events/room.pub"
wait_until 10 stamped_ready alice; wait_until 10 ready bob; wait_until 10 ready anon
check "two workers summed (asked of A)" wait_until 10 pres_is "$A" room.1 'd["subscribers"], d["users"]' "(2, ['alice', 'bob'])" -H "Authorization: Bearer $ALICE"
check "the same asked of B" pres_is "$B" room.1 'd["subscribers"], d["users"]' "(2, ['alice', 'bob'])" -H "Authorization: Bearer $BOB"
check "anonymous reader counted, not named" pres_is "$B" room.pub 'd["subscribers"], d["users"]' "(1, [])"
check "alice's stream got sse-presence: 2, alice and bob" wait_until 10 last_event_is alice 'd["subscribers"], d["users"]' "(2, ['alice', 'bob'])"
check "bob's stream got it too" wait_until 10 bash -c "grep -A1 '^event: sse-presence' '$T/bob.out' | grep -qF '\"subscribers\":2'"
check "the public reader got room.pub's own" wait_until 10 bash -c "grep -A1 '^event: sse-presence' '$T/anon.out' | grep -qF '{\"channel\":\"room.pub\",\"subscribers\":1,\"users\":[]}'"
check "Redis: one sorted-set member per worker" [ "$(rcli ZCARD sse:presence:room.1)" = 2 ]

# Leave: bob's client goes; his worker notices at its next keepalive.
kill $BOB_PID
check "leave: 1 subscriber, alice" wait_until 15 pres_is "$A" room.1 'd["subscribers"], d["users"]' "(1, ['alice'])" -H "Authorization: Bearer $ALICE"
check "alice was told" wait_until 10 last_event_is alice 'd["subscribers"], d["users"]' "(1, ['alice'])"
check "B's entry left Redis" [ "$(rcli ZCARD sse:presence:room.1)" = 1 ]

# Redis forgets its scripts: reads send the script again (NOSCRIPT), on
# the endpoint here and in the workers in the burst below.
rcli SCRIPT FLUSH > /dev/null
stream flush "$A/api/v1/events/room.1?token=$CAROL"; FLUSH_PID=$CURL_PID
check "after SCRIPT FLUSH the worker reads again: alice told 2" wait_until 10 last_event_is alice 'd["subscribers"], d["users"]' "(2, ['alice', 'carol'])"
kill $FLUSH_PID
rcli SCRIPT FLUSH > /dev/null
check "after SCRIPT FLUSH the endpoint answers" wait_until 15 pres_is "$A" room.1 'd["subscribers"]' 1 -H "Authorization: Bearer $ALICE"

# Coalescing: 12 streams join and leave room.1 on A within about 2 s;
# alice's stream may get at most one event per second.
n0=$(events alice | wc -l)
t0=$(( $(now_us) / 1000 ))
for i in $(seq 1 12); do
	stream burst$i "$A/api/v1/events/room.1?token=$CAROL"
	eval "BURST$i=$CURL_PID"
	sleep 0.05
done
for i in $(seq 1 12); do wait_until 10 ready burst$i; done
for i in $(seq 1 6); do eval "kill \$BURST$i"; done
check "burst: 7 subscribers after it" wait_until 15 pres_is "$A" room.1 'd["subscribers"], d["users"]' "(7, ['alice', 'carol'])" -H "Authorization: Bearer $ALICE"
check "alice sees 7" wait_until 10 last_event_is alice 'd["subscribers"]' 7
t1=$(( $(now_us) / 1000 ))
n1=$(events alice | wc -l)
secs=$(( (t1 - t0 + 999) / 1000 ))
echo "# burst: 12 joins and 6 leaves, $((n1 - n0)) events to alice in $((t1 - t0)) ms"
check "coalesced: $((n1 - n0)) events in $secs s (at most one a second)" [ $((n1 - n0)) -le $((secs + 1)) ]
check "no two events within 0.9 s (one a second, with delivery jitter)" bash -c "awk '\$2 == \"event:\" && \$3 == \"sse-presence\" { if (p != \"\" && \$1 - p < 900) bad = 1; p = \$1 } END { exit bad }' '$T/alice.out'"
for i in $(seq 7 12); do eval "kill \$BURST$i"; done
check "burst gone: 1 subscriber" wait_until 15 pres_is "$A" room.1 'd["subscribers"]' 1 -H "Authorization: Bearer $ALICE"

# A worker killed -9: its entry leaves the sum within presence-ttl (3 s)
# plus a heartbeat, and its keys expire in Redis.
stream carol "$B/api/v1/events/room.1?token=$CAROL"
wait_until 10 ready carol
check "carol on B: 2 subscribers" wait_until 10 pres_is "$A" room.1 'd["subscribers"], d["users"]' "(2, ['alice', 'carol'])" -H "Authorization: Bearer $ALICE"
check "B's hash in Redis" [ "$(rcli EXISTS "sse:presence:room.1/$(hostname):$B_PID")" = 1 ]
kill -9 $B_PID
t0=$(( $(now_us) / 1000 ))
check "killed worker gone from the sum" wait_until 15 pres_is "$A" room.1 'd["subscribers"], d["users"]' "(1, ['alice'])" -H "Authorization: Bearer $ALICE"
echo "# killed -9: gone from the endpoint after $(( $(now_us) / 1000 - t0 )) ms"
check "alice was told (no notice comes from a dead worker)" wait_until 10 last_event_is alice 'd["subscribers"], d["users"]' "(1, ['alice'])"
echo "# killed -9: alice told after $(( $(now_us) / 1000 - t0 )) ms"
check "its hash expired in Redis" wait_until 10 bash -c "[ \"\$(redis-cli -p $RPORT EXISTS 'sse:presence:room.1/$(hostname):$B_PID')\" = 0 ]"

# The endpoint's authorization: as a stream of the channel.
check "no token: 401" [ "$(get p401 "$A/api/v1/presence/room.1")" = 401 ]
check "token for other channels: 403" [ "$(get p403 "$A/api/v1/presence/room.1" -H "Authorization: Bearer $OTHER")" = 403 ]
check "token in the query: 200" [ "$(get pq "$A/api/v1/presence/room.1?token=$ALICE")" = 200 ]
check "bad token: 401" [ "$(get pbad "$A/api/v1/presence/room.1" -H "Authorization: Bearer x.y.z")" = 401 ]
check "public channel: no token needed" [ "$(get ppub "$A/api/v1/presence/room.pub")" = 200 ]
check "no presence for other.x: 404" [ "$(get p404 "$A/api/v1/presence/other.x")" = 404 ]
check "404 says why" grep -q "matches no presence pattern" "$T/p404"
check "bad channel name: 400" [ "$(get p400 "$A/api/v1/presence/a%20b")" = 400 ]
check "400 says why" grep -q "bad channel name" "$T/p400"
check "empty channel name: 400" [ "$(get p400e "$A/api/v1/presence/")" = 400 ]
check "channel name of 201 bytes: 400" [ "$(get p400l "$A/api/v1/presence/room.$(head -c 196 /dev/zero | tr '\0' x)")" = 400 ]
check "bad percent-encoding: 400" [ "$(get p400p "$A/api/v1/presence/room.%zz")" = 400 ]
check "POST: 405" [ "$(get p405 "$A/api/v1/presence/room.pub" -d x)" = 405 ]
check "JSON content type" bash -c "curl -s -D - -o /dev/null '$A/api/v1/presence/room.pub' | grep -qi '^Content-Type: application/json'"
check "the 404 for unknown paths names the endpoint" bash -c "curl -s '$A/api/v1/nothing' | grep -q '<mount>/presence/<channel>'"

# A graceful stop removes the worker's entry at once.
check "A's hash in Redis" [ "$(rcli EXISTS "sse:presence:room.1/$(hostname):$A_PID")" = 1 ]
kill -TERM $A_PID
check "graceful stop: A's entry removed" wait_until 10 bash -c "[ \"\$(redis-cli -p $RPORT EXISTS 'sse:presence:room.1/$(hostname):$A_PID')\" = 0 ] && [ \"\$(redis-cli -p $RPORT ZCARD sse:presence:room.1)\" = 0 ]"
check "the worker stopped" wait_until 15 bash -c "! kill -0 $A_PID 2>/dev/null"
check "no worker crashed" bash -c "! grep -qiE 'AddressSanitizer|runtime error|assert' '$T/worker.log'"
finish
