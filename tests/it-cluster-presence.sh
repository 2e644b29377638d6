#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: presence (--presence) on a Redis Cluster (three masters with a
# replica each, tests/lib.sh start_cluster). Two workers A and B through a
# redis+cluster:// URL, each behind its own lighttpd, presence on room.*
# with presence-ttl 60 (a heartbeat every 20 s, so an event within
# seconds came from a notice, not from a heartbeat's read), HS256 tokens.
# Exercises: the worker starts with presence and a cluster URL (the old
# refusal is gone); three presence channels whose slots are on the three
# masters, a stream of alice on A and of bob on B on each; GET
# <mount>/presence/<channel> asked of either worker answers the sum; the
# sse-presence event reaching alice's stream on A when bob's stream on B
# leaves and when carol's joins on B (the notice goes through the
# channel's own sharded notice channel, watched by each worker with
# streams there and dropped with its last one); the keys tagged by the
# channel (in its slot, at its master, none under the one-Redis names);
# reads after every node forgot its scripts (NOSCRIPT: the script sent
# whole); a lone stream told at once; a third worker C (presence-ttl 3)
# killed -9 leaving the sum within its ttl while a fourth (D) stays, C's
# hash expiring; a hash the master lost written again at D's heartbeat;
# bad input: a presence key of the wrong type (WRONGTYPE logged, the
# endpoint 503 with the reason, no crash, the other channels fine); a
# graceful stop of B removing its entries at once and telling A's
# streams; the workers' logs without another error.
. "$(dirname "$0")/lib.sh"
redis-cli --cluster help 2>&1 | grep -q reshard ||
    { echo "SKIP: redis-cli has no --cluster"; exit 77; }
unset SSE_FCGI_CONFIG SSE_FCGI_REDIS SSE_FCGI_HISTORY_PREFIX SSE_FCGI_PRESENCE
jwt_key
ALICE=$(tok '{"sub":"alice","sse":{"subscribe":["room.*"]}}')
BOB=$(tok '{"sub":"bob","sse":{"subscribe":["room.*"]}}')
CAROL=$(tok '{"sub":"carol","sse":{"subscribe":["room.*"]}}')
DAVE=$(tok '{"sub":"dave","sse":{"subscribe":["room.*"]}}')
ERIN=$(tok '{"sub":"erin","sse":{"subscribe":["room.*"]}}')
ARGS=(--jwt-secret-file "$T/jwt.key" --presence "room.*" --keepalive 1
    --log-level debug)

# pres_is BASE CHANNEL EXPR WANT: the endpoint answers EXPR (as alice).
pres_is() {
	[ "$(get p.json "$1/api/v1/presence/$2" -H "Authorization: Bearer $ALICE")" = 200 ] &&
	    [ "$(js "$T/p.json" "$3")" = "$4" ]
}
# events NAME: the sse-presence data lines of a stream, one JSON a line.
events() { awk '$1 == "event:" && $2 == "sse-presence" { e = 1; next } e && $1 == "data:" { print substr($0, 7) } { e = 0 }' "$T/$1.out"; }
# last_event_is NAME EXPR WANT: EXPR of the last event's JSON.
last_event_is() {
	events "$1" | tail -n 1 > "$T/ev.json"
	[ "$(js "$T/ev.json" "$2")" = "$3" ]
}
# crcli ARGS...: redis-cli to the cluster, following redirections.
crcli() { redis-cli -c -p "${CPORTS%% *}" "$@"; }
slot_of() { crcli CLUSTER KEYSLOT "$1"; }
master_of() { cluster_master_of_slot "$(slot_of "$1")"; }
# shardnumsub CHANNEL: subscribers of a sharded channel at its master.
shardnumsub() { ccli "$(master_of "$1")" PUBSUB SHARDNUMSUB "$1" | sed -n 2p; }
shardnumsub_is() { [ "$(shardnumsub "$1")" = "$2" ]; }
# at_master_is KEY WANT ARGS...: the command's answer at KEY's master,
# asked without following redirections (so the key is there).
at_master_is() {
	local k=$1 w=$2; shift 2
	[ "$(ccli "$(master_of "$k")" "$@")" = "$w" ]
}
# hash_is KEY WANT: the hash at KEY's master, "field=value " sorted.
hash_is() {
	[ "$(ccli "$(master_of "$1")" HGETALL "$1" | paste - - | sort | tr '\t\n' '= ')" = "$2" ]
}
HOST=$(hostname)

start_cluster
URL="redis+cluster://$(printf '127.0.0.1:%s,' $CPORTS | sed 's/,$//')"

# Three channels, one on each master.
R=(); seen=" "
for i in $(seq 1 200); do
	m=$(master_of "room.$i")
	case "$seen" in *" $m "*) continue ;; esac
	seen="$seen$m "; R+=("room.$i")
	[ ${#R[@]} = 3 ] && break
done
echo "# channels ${R[*]} on masters$seen"
check "three channels on three masters" [ ${#R[@]} = 3 ]

WSOCK=$T/a.sock WREDIS=$URL start_workers 1 "${ARGS[@]}" --presence-ttl 60; A_PID=$WPIDS
WSOCK=$T/a.sock start_lighttpd; A=$BASE
WSOCK=$T/b.sock WREDIS=$URL start_workers 1 "${ARGS[@]}" --presence-ttl 60; B_PID=$WPIDS
WSOCK=$T/b.sock start_lighttpd; B=$BASE
check "workers start with presence and a cluster URL" wait_until 10 bash -c \
    "[ \$(grep -c ' ready: ' '$T/worker.log') = 2 ] && kill -0 $A_PID && kill -0 $B_PID"
check "no refusal logged" bash -c "! grep -q 'presence needs one Redis' '$T/worker.log'"

check "nobody yet: 0" pres_is "$A" "${R[0]}" 'd["subscribers"], d["users"]' "(0, [])"

for i in 0 1 2; do
	stream a$i "$A/api/v1/events/${R[$i]}?token=$ALICE"
	stream b$i "$B/api/v1/events/${R[$i]}?token=$BOB"; eval "B${i}_CURL=$CURL_PID"
done
for i in 0 1 2; do wait_until 10 ready a$i; wait_until 10 ready b$i; done
for i in 0 1 2; do
	c=${R[$i]}
	check "$c: the sum of both workers (asked of A)" wait_until 10 pres_is "$A" "$c" 'd["subscribers"], d["users"]' "(2, ['alice', 'bob'])"
	check "$c: the same asked of B" pres_is "$B" "$c" 'd["channel"], d["subscribers"], d["users"]' "('$c', 2, ['alice', 'bob'])"
	check "$c: alice's stream told 2" wait_until 10 last_event_is a$i 'd["channel"], d["subscribers"], d["users"]' "('$c', 2, ['alice', 'bob'])"
	check "$c: bob's stream told 2" wait_until 10 last_event_is b$i 'd["subscribers"]' 2
done

# The keys: the channel is the hash tag, so all of them are at the
# channel's master; nothing under the one-Redis names.
for i in 0 1 2; do
	c=${R[$i]}
	check "$c: sorted set in the channel's slot" [ "$(slot_of "sse:presence:{$c}")" = "$(slot_of "$c")" ]
	check "$c: notice channel in the channel's slot" [ "$(slot_of "sse:presence/notice{$c}")" = "$(slot_of "$c")" ]
	check "$c: both workers in the sorted set, at the master" at_master_is "sse:presence:{$c}" 2 ZCARD "sse:presence:{$c}"
	check "$c: A's hash at the master: n 1, u:alice 1" hash_is "sse:presence:{$c}/$HOST:$A_PID" "n=1 u:alice=1 "
	check "$c: both workers watch its notice channel" wait_until 10 shardnumsub_is "sse:presence/notice{$c}" 2
done
check "no key under the one-Redis names" bash -c "for p in $CPORTS; do redis-cli -p \$p --scan --pattern 'sse:presence:room*'; done | grep -q . && exit 1 || exit 0"
check "nobody on the global notice channel" bash -c "for p in $CPORTS; do redis-cli -p \$p PUBSUB SHARDCHANNELS 'sse:presence/notice'; redis-cli -p \$p PUBSUB CHANNELS 'sse:presence/notice'; done | grep -q . && exit 1 || exit 0"

# A stream alone on a channel is told at once (1, alice): its worker's
# own notice may reach the master before the worker's subscription to it
# does, and the heartbeat's read is 20 s away.
stream solo "$A/api/v1/events/room.solo?token=$ALICE"
wait_until 10 ready solo
check "a lone stream told (1, alice)" wait_until 10 last_event_is solo 'd["channel"], d["subscribers"], d["users"]' "('room.solo', 1, ['alice'])"

# Leave on B: A's stream is told through the notice (A's heartbeat is
# 20 s away); B no longer watches that notice channel.
c=${R[1]}
kill "$B1_CURL"
check "leave on B: A's stream of $c told (1, alice)" wait_until 10 last_event_is a1 'd["subscribers"], d["users"]' "(1, ['alice'])"
check "B's entry of $c left" at_master_is "sse:presence:{$c}" 1 ZCARD "sse:presence:{$c}"
check "B's hash of $c removed" at_master_is "sse:presence:{$c}" 0 EXISTS "sse:presence:{$c}/$HOST:$B_PID"
check "B unwatched the notice channel of $c" wait_until 10 shardnumsub_is "sse:presence/notice{$c}" 1
# Join on B: told again, after every node forgot its scripts (the reads
# send the script whole to a master that answers NOSCRIPT).
for p in $CPORTS; do ccli "$p" SCRIPT FLUSH > /dev/null; done
stream carol "$B/api/v1/events/$c?token=$CAROL"; CAROL_CURL=$CURL_PID
wait_until 10 ready carol
check "join on B: A's stream of $c told (2, alice and carol)" wait_until 10 last_event_is a1 'd["subscribers"], d["users"]' "(2, ['alice', 'carol'])"
check "B watches the notice channel of $c again" wait_until 10 shardnumsub_is "sse:presence/notice{$c}" 2
for p in $CPORTS; do ccli "$p" SCRIPT FLUSH > /dev/null; done
check "the endpoint after SCRIPT FLUSH: (2, alice and carol)" pres_is "$B" "$c" 'd["subscribers"], d["users"]' "(2, ['alice', 'carol'])"

# A worker killed -9 leaves the sum within its presence-ttl: C and D run
# with presence-ttl 3 (a heartbeat a second). D stays: its heartbeat keeps
# the sorted set's key alive, whose expiry the last worker to write it set
# (so A's and B's entries, with presence-ttl 60, stay in it).
c=${R[2]}
WSOCK=$T/c.sock WREDIS=$URL start_workers 1 "${ARGS[@]}" --presence-ttl 3; C_PID=$WPIDS
WSOCK=$T/c.sock start_lighttpd; C=$BASE
WSOCK=$T/d.sock WREDIS=$URL start_workers 1 "${ARGS[@]}" --presence-ttl 3; D_PID=$WPIDS
WSOCK=$T/d.sock start_lighttpd; D=$BASE
stream dave "$C/api/v1/events/$c?token=$DAVE"
stream erin "$D/api/v1/events/$c?token=$ERIN"
wait_until 10 ready dave; wait_until 10 ready erin
check "C and D joined $c: 4 subscribers" wait_until 10 pres_is "$A" "$c" 'd["subscribers"], d["users"]' "(4, ['alice', 'bob', 'dave', 'erin'])"
check "A's stream of $c told 4" wait_until 10 last_event_is a2 'd["subscribers"]' 4
kill -9 "$C_PID"
t0=$(( $(now_us) / 1000 ))
check "killed worker gone from the sum of $c" wait_until 10 pres_is "$A" "$c" 'd["subscribers"], d["users"]' "(3, ['alice', 'bob', 'erin'])"
echo "# killed -9 (presence-ttl 3): gone from the endpoint after $(( $(now_us) / 1000 - t0 )) ms"
check "its hash expired" wait_until 10 at_master_is "sse:presence:{$c}/$HOST:$C_PID" 0 EXISTS "sse:presence:{$c}/$HOST:$C_PID"
check "its member left the sorted set at the next read" at_master_is "sse:presence:{$c}" "" ZSCORE "sse:presence:{$c}" "$HOST:$C_PID"
# The master loses D's hash: D's next heartbeat (a second) writes it again.
crcli DEL "sse:presence:{$c}/$HOST:$D_PID" > /dev/null
check "a lost hash is written again at the heartbeat" wait_until 10 hash_is "sse:presence:{$c}/$HOST:$D_PID" "n=1 u:erin=1 "
check "and logged" grep -q "redis lost this worker's entry of $c" "$T/worker.log"

# Bad input: a presence key of the wrong type.
crcli SET "sse:presence:{room.bad}" garbage > /dev/null
stream bad "$A/api/v1/events/room.bad?token=$ALICE"
wait_until 10 ready bad
check "WRONGTYPE logged" wait_until 10 grep -q 'presence: redis: .*WRONGTYPE' "$T/worker.log"
check "the endpoint: 503 with the reason" bash -c \
    "[ \"\$(curl -s -m 10 -o '$T/wt' -w '%{http_code}' -H 'Authorization: Bearer $ALICE' '$A/api/v1/presence/room.bad')\" = 503 ] && grep -q WRONGTYPE '$T/wt'"
check "the workers alive" bash -c "kill -0 $A_PID && kill -0 $B_PID && kill -0 $D_PID"
check "the other channels fine" pres_is "$B" "${R[0]}" 'd["subscribers"], d["users"]' "(2, ['alice', 'bob'])"
crcli DEL "sse:presence:{room.bad}" > /dev/null
check "once it is gone: room.bad counts alice" wait_until 10 pres_is "$A" room.bad 'd["subscribers"], d["users"]' "(1, ['alice'])"

# A graceful stop of B removes its entries at once and tells A's streams.
kill -TERM "$B_PID"
check "B's hashes removed" wait_until 5 bash -c "for c in ${R[*]}; do [ \"\$(redis-cli -c -p ${CPORTS%% *} EXISTS \"sse:presence:{\$c}/$HOST:$B_PID\")\" = 0 ] || exit 1; done"
check "B left the sorted sets" bash -c "for c in ${R[*]}; do [ -z \"\$(redis-cli -c -p ${CPORTS%% *} ZSCORE \"sse:presence:{\$c}\" $HOST:$B_PID)\" ] || exit 1; done"
check "A's stream of ${R[0]} told (1, alice)" wait_until 10 last_event_is a0 'd["subscribers"], d["users"]' "(1, ['alice'])"
check "A's stream of ${R[1]} told (1, alice)" wait_until 10 last_event_is a1 'd["subscribers"], d["users"]' "(1, ['alice'])"
check "B exited" wait_until 10 bash -c "! kill -0 $B_PID 2>/dev/null"
check "no removal failure logged" bash -c "! grep -q 'cannot remove this worker' '$T/worker.log'"

check "no worker crashed" bash -c "! grep -qiE 'AddressSanitizer|runtime error|assert' '$T/worker.log'"
check "no other error in the workers' log" bash -c "! grep ' error: ' '$T/worker.log' | grep -v WRONGTYPE | grep -q ."
grep ' error: ' "$T/worker.log" | grep -v WRONGTYPE | head -5
finish
