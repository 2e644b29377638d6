#!/bin/bash
# sse-fcgi - MIT License
#
# cluster_map against a real Redis Cluster (three masters with a replica
# each, tests/lib.sh start_cluster), through tests/cluster-map-check, whose
# first seed is a port nobody listens on:
#   - the map names, for every one of the 16384 slots, the master that
#     CLUSTER NODES names;
#   - for 1,000 keys (hash-tagged ones and channel names like user.42,
#     task.7 and project.123 among them) the slot is CLUSTER KEYSLOT's, and
#     the master the map names takes a SET of the key without MOVED;
#   - a MOVED (a write to the wrong master) and an ASK (a slot being
#     migrated) read as the slot and the address the node gave;
#   - after 100 slots are moved (redis-cli --cluster reshard) and after a
#     master is killed and its replica promoted, a map fetched again
#     follows (all of the above again).
# Before that, the worker refuses a cluster URL with no seed with one line,
# and sse-publish one with a database.
. "$(dirname "$0")/lib.sh"
CHECK=${CLUSTER_MAP_CHECK:-$top_builddir/tests/cluster-map-check}
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}
redis-cli --cluster help 2>&1 | grep -q reshard ||
    { echo "SKIP: redis-cli has no --cluster"; exit 77; }

"$SSE_FCGI" --redis redis+cluster:///0 \
    --listen "unix:$T/x.sock" 2> "$T/worker-cluster.err" < /dev/null; rc=$?
check "the worker refuses a cluster URL with no seed (exit 2, one line)" \
    bash -c "[ $rc = 2 ] && [ \$(grep -c 'no seed node' '$T/worker-cluster.err') = 1 ]"
"$SSE_PUBLISH" --redis redis+cluster://127.0.0.1:1/2 cl.chan x \
    > /dev/null 2> "$T/pub-db.err"; rc=$?
check "a cluster URL with a database: refused as such" bash -c \
    "[ $rc = 2 ] && grep -q 'database 0 only' '$T/pub-db.err'"

t0=$SECONDS
start_cluster
echo "# cluster of $CPORTS formed in $((SECONDS - t0)) s"
DOWN=$(free_port)
URL="redis+cluster://127.0.0.1:$DOWN,$(printf '127.0.0.1:%s,' $CPORTS | sed 's/,$//')"

# The 1,000 keys.
{
	seq -f 'key:%g' 1 400
	for i in $(seq 1 150); do echo "{user$i}.following"; echo "{user$i}.followers"; done
	seq -f 'user.%g' 1 100
	seq -f 'task.%g' 1 100
	seq -f 'project.%g' 101 195
	printf '%s\n' 'foo{}{bar}' 'foo{{bar}}zap' '{}' 'a{b' 'sse:history:{project.123}'
} > "$T/keys"
check "1,000 distinct keys" [ "$(sort -u "$T/keys" | wc -l)" = 1000 ]

# expected_owners PORT: "SLOT ADDR" for every assigned slot, as node PORT's
# CLUSTER NODES has it.
expected_owners() {
	cluster_view "$1" | awk '{
		for (i = 2; i <= NF; i++) {
			n = split($i, r, "-"); hi = n > 1 ? r[2] : r[1]
			for (s = r[1]; s <= hi; s++) print s, $1
		}
	}' | sort -n
}
# owners_take FILE: SETs each key of FILE ("KEY SLOT ADDR" lines) at the
# master the map names, each master's keys through one redis-cli; prints
# how many were not taken with OK (a MOVED, or no owner).
owners_take() {
	local o n bad=0
	for o in $(awk '{ print $3 }' "$1" | sort -u); do
		if [ "$o" = - ]; then
			bad=$((bad + $(awk '$3 == "-"' "$1" | wc -l)))
			continue
		fi
		n=$(awk -v o="$o" '$3 == o { print "SET " $1 " v" }' "$1" |
		    redis-cli -p "${o##*:}" 2>&1 | grep -cvx OK)
		bad=$((bad + n))
	done
	echo "$bad"
}
# map_checks LABEL: the whole map, the keys' slots and owners.
map_checks() {
	local label=$1 p=${CPORTS%% *}
	"$CHECK" -a "$URL" > "$T/all.out" 2> "$T/check.err"
	check "$label: the map names CLUSTER NODES's master for all 16384 slots" \
	    diff -q <(expected_owners "$p") "$T/all.out"
	"$CHECK" "$URL" - < "$T/keys" > "$T/map.out" 2>> "$T/check.err"
	sed 's/^/CLUSTER KEYSLOT /' "$T/keys" | redis-cli -p "$p" > "$T/keyslot.out"
	check "$label: 1,000 keys, our slot is CLUSTER KEYSLOT's" \
	    diff -q <(awk '{ print $2 }' "$T/map.out") "$T/keyslot.out"
	check "$label: the master the map names takes every key without MOVED" \
	    [ "$(owners_take "$T/map.out")" = 0 ]
	# Moves leave keys behind only where they were: none are lost.
	check "$label: the keys, counted on their masters" [ "$(
	    for o in $(awk '{ print $3 }' "$T/map.out" | sort -u); do
		redis-cli -p "${o##*:}" DBSIZE; done | awk '{ n += $1 } END { print n }')" = 1000 ]
}
# moved_check LABEL KEY PORT: a write of KEY to master PORT (not its owner)
# gets a MOVED that reads as KEY's slot and the owner the map names.
moved_check() {
	local label=$1 key=$2 port=$3 moved line
	moved=$(ccli "$port" SET "$key" v)
	line=$("$CHECK" "$URL" "$key" 2>> "$T/check.err")
	"$CHECK" -m "$moved" "$URL" > "$T/moved.out" 2>> "$T/check.err"
	echo "# $label: $key at $port: $moved; map: $line"
	check "$label: MOVED read: the key's slot, the map's owner" [ \
	    "$(sed -n 1p "$T/moved.out")" = "moved $(echo "$line" | awk '{ print $2, $3 }')" -a \
	    "$(sed -n 2p "$T/moved.out")" = "owner $(echo "$line" | awk '{ print $3 }')" ]
}
# wrong_master ADDR: a master's port other than ADDR's.
wrong_master() { cluster_view "${CPORTS%% *}" | awk -v o="$1" '$1 != o { sub(/.*:/, "", $1); print $1; exit }'; }
# summary: the map's shards (cluster-map-check -s).
summary() { "$CHECK" -s "$URL" 2>> "$T/check.err"; }

summary > "$T/summary.out"
check "three shards, each a master with one replica, no unowned slot" bash -c \
    "[ \$(grep -c 'replicas 1 slots [1-9]' '$T/summary.out') = 3 ] && grep -qx 'unowned 0' '$T/summary.out'"
check "seeds: the one that is down was skipped" grep -q "seed 127.0.0.1:$DOWN" "$T/check.err"
map_checks "formed"
check "hash tags: {userN}.following and .followers share their slot" [ \
    "$(awk '/^\{user[0-9]*\}\.follow/ { sub(/\..*/, "", $1); print $1, $2 }' "$T/map.out" | sort -u | wc -l)" = 150 ]
ours=$(grep -E '^(user\.42|task\.7|project\.123) ' "$T/map.out" | awk '{ print $2 }' | tr '\n' ' ')
theirs=$(printf 'CLUSTER KEYSLOT %s\n' user.42 task.7 project.123 | redis-cli -p "${CPORTS%% *}" | tr '\n' ' ')
echo "# user.42 task.7 project.123: slots $ours(CLUSTER KEYSLOT: $theirs)"
check "the guides' channel names: the slots Redis gives" [ "$ours" = "$theirs" ]
owner=$(grep '^foo{}{bar} ' "$T/map.out" | awk '{ print $3 }')
moved_check "formed" 'foo{}{bar}' "$(wrong_master "$owner")"

# ASK: a slot half-way to another master; a key not yet there.
akey=ask-test
aslot=$(ccli "${CPORTS%% *}" CLUSTER KEYSLOT $akey)
aowner=$("$CHECK" "$URL" $akey 2>> "$T/check.err" | awk '{ print $3 }'); A=${aowner##*:}
B=$(wrong_master "$aowner")
ccli "$B" CLUSTER SETSLOT "$aslot" IMPORTING "$(ccli "$A" CLUSTER MYID)" > /dev/null
ccli "$A" CLUSTER SETSLOT "$aslot" MIGRATING "$(ccli "$B" CLUSTER MYID)" > /dev/null
ask=$(ccli "$A" GET $akey)
"$CHECK" -m "$ask" "$URL" > "$T/ask.out" 2>> "$T/check.err"
echo "# $akey at $A during a migration to $B: $ask"
check "ASK read: the slot and the master it is moving to" [ \
    "$(sed -n 1p "$T/ask.out")" = "ask $aslot 127.0.0.1:$B" ]
check "and the map still names the master it is leaving" [ \
    "$(sed -n 2p "$T/ask.out")" = "owner 127.0.0.1:$A" ]
ccli "$A" CLUSTER SETSLOT "$aslot" STABLE > /dev/null
ccli "$B" CLUSTER SETSLOT "$aslot" STABLE > /dev/null

# 100 slots from the master of slot 0 to the master of slot 16383.
FROM=$(cluster_master_of_slot 0); TO=$(cluster_master_of_slot 16383)
cp "$T/all.out" "$T/all-before.out"
before=$(awk -v t="127.0.0.1:$TO" '$2 == t' "$T/all.out" | wc -l)
t0=$SECONDS
check "100 slots moved from $FROM to $TO" cluster_move_slots "$FROM" "$TO" 100
echo "# reshard settled in $((SECONDS - t0)) s"
map_checks "resharded"
check "resharded: $TO serves 100 slots more" [ \
    "$("$CHECK" -a "$URL" 2>> "$T/check.err" | awk -v t="127.0.0.1:$TO" '$2 == t' | wc -l)" = $((before + 100)) ]
# A key of a slot that moved, written to the master it left.
join <(awk -v f="127.0.0.1:$FROM" '$2 == f { print $1 }' "$T/all-before.out" | sort) \
    <(awk -v t="127.0.0.1:$TO" '$2 == t { print $1 }' "$T/all.out" | sort) > "$T/moved-slots"
check "resharded: 100 slots went from $FROM to $TO" [ "$(wc -l < "$T/moved-slots")" = 100 ]
mkey=$(seq -f 'moved:%g' 1 5000 | "$CHECK" "$URL" - 2>> "$T/check.err" |
    awk 'NR == FNR { m[$1] = 1; next } ($2 in m) { print $1; exit }' "$T/moved-slots" -)
moved_check "resharded" "${mkey:-key:1}" "$FROM"

# Kill the master of slot 8000 (a master the reshard left alone, if any).
KILL=$(cluster_master_of_slot 8000)
# Every write acknowledged by its replica first (replication is
# asynchronous: Redis itself may lose the last writes of a dying master).
ccli "$KILL" WAIT 1 5000 > /dev/null
t0=$SECONDS
check "master $KILL killed, a replica promoted, the cluster settled" cluster_failover_kill "$KILL"
echo "# failover of $KILL to ${CPROMOTED:-?} settled in $((SECONDS - t0)) s"
map_checks "failed over"
check "failed over: slot 8000 is the promoted replica's ($CPROMOTED)" \
    grep -qx "8000 127.0.0.1:$CPROMOTED" "$T/all.out"
check "failed over: the dead master owns nothing" bash -c \
    "! grep -q ' 127.0.0.1:$KILL\$' '$T/all.out'"
summary > "$T/summary2.out"
check "failed over: no unowned slot" grep -qx 'unowned 0' "$T/summary2.out"
moved_check "failed over" 'foo{}{bar}' "$(wrong_master "$(grep '^foo{}{bar} ' "$T/map.out" | awk '{ print $3 }')")"
finish
