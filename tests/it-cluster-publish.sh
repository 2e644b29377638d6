#!/bin/bash
# sse-fcgi - MIT License
#
# sse-publish to a real Redis Cluster (three masters with a replica each,
# tests/lib.sh start_cluster) through a redis+cluster:// URL whose first
# seed is a port nobody listens on:
#   - 1,000 events over 200 channels (user.N, task.N, project.N): each
#     lands in its channel's history stream, <prefix>history:{<channel>},
#     at the master that serves the channel's slot, once, under the id
#     sse-publish printed; ids increase per channel; each channel's clock,
#     <prefix>clock:{<channel>}, counted its events; subscribers of three
#     channels (SSUBSCRIBE at the slot's master) got every event of their
#     channel exactly once;
#   - a channel whose slot is being migrated, its keys already moved: the
#     event follows the ASK and lands at the importing master;
#   - 1,000 events published while 150 slots move to another master (half
#     the channels in those slots) and 1,000 while a master is killed and
#     its replica promoted: none lost, none twice, every one at the
#     channel's master of the moment;
#   - the script itself on a cluster node: ARGV[6] other than "spublish"
#     is an error, 5 arguments still PUBLISH;
#   - bad inputs: no reachable seed, or a seed that is a plain Redis,
#     exit 1 with the reason; a history-prefix with '{' exits 2, for the
#     worker too.
. "$(dirname "$0")/lib.sh"
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}
SCRIPT=$top_srcdir/deploy/redis/sse-publish.lua
redis-cli --cluster help 2>&1 | grep -q reshard ||
    { echo "SKIP: redis-cli has no --cluster"; exit 77; }
# A failover takes seconds: the whole publish may wait that long.
export SSE_FCGI_PUBLISH_TIMEOUT=60000
unset SSE_FCGI_CONFIG SSE_FCGI_REDIS SSE_FCGI_HISTORY_PREFIX

# Bad inputs first, without a cluster.
DOWN=$(free_port)
"$SSE_PUBLISH" --redis "redis+cluster://127.0.0.1:$DOWN" a.b x \
    > "$T/none.out" 2> "$T/none.err"; rc=$?
cat "$T/none.err"
check "no reachable seed: exit 1, the seed and its reason named" bash -c \
    "[ $rc = 1 ] && [ ! -s '$T/none.out' ] && grep -q \"no seed of redis+cluster://127.0.0.1:$DOWN gave the cluster's shards: 127.0.0.1:$DOWN: Connection refused\" '$T/none.err'"
start_redis
"$SSE_PUBLISH" --redis "redis+cluster://127.0.0.1:$DOWN,127.0.0.1:$RPORT" \
    a.b x > "$T/plain.out" 2> "$T/plain.err"; rc=$?
cat "$T/plain.err"
check "a seed that is a plain Redis: exit 1, its refusal named" bash -c \
    "[ $rc = 1 ] && [ ! -s '$T/plain.out' ] && grep -q '127.0.0.1:$RPORT: ERR This instance has cluster support disabled' '$T/plain.err'"
check "and nothing was written there" [ "$(rcli DBSIZE)" = 0 ]
SSE_FCGI_HISTORY_PREFIX='{app}:' "$SSE_PUBLISH" --redis \
    "redis+cluster://127.0.0.1:$DOWN" a.b x > /dev/null 2> "$T/brace.err"; rc=$?
check "a history-prefix with '{': exit 2" bash -c \
    "[ $rc = 2 ] && grep -q \"history-prefix .* no '{'\" '$T/brace.err'"
SSE_FCGI_HISTORY_PREFIX='{app}:' "$SSE_FCGI" --redis \
    "redis+cluster://127.0.0.1:$DOWN" --listen "unix:$T/x.sock" \
    2> "$T/worker.err" < /dev/null; rc=$?
check "the worker too: a history-prefix with '{' exits 2, one line" \
    bash -c "[ $rc = 2 ] && [ \$(grep -c \"history-prefix .* holds a '{'\" '$T/worker.err') = 1 ]"

t0=$SECONDS
start_cluster
echo "# cluster of $CPORTS formed in $((SECONDS - t0)) s"
URL="redis+cluster://127.0.0.1:$DOWN,$(printf '127.0.0.1:%s,' $CPORTS | sed 's/,$//')"
P1=${CPORTS%% *}

# slot_owners: "SLOT ADDR" for every slot, as the first live node says.
slot_owners() {
	cluster_view "${CPORTS%% *}" | awk '{
		for (i = 2; i <= NF; i++) {
			n = split($i, r, "-"); hi = n > 1 ? r[2] : r[1]
			for (s = r[1]; s <= hi; s++) print s, $1
		}
	}'
}
# owners FILE: "CHANNEL PORT" of the master of each channel of FILE.
owners() {
	local p=${CPORTS%% *}
	paste -d ' ' "$1" <(sed 's/^/CLUSTER KEYSLOT /' "$1" | redis-cli -p "$p") |
	    awk 'NR == FNR { o[$1] = $2; next } { a = o[$2]; sub(/.*:/, "", a); print $1, a }' \
	    <(slot_owners) -
}
# publish_batch TAG CHANNELS N OUT: N events, event i on line i mod (lines)
# of file CHANNELS with data TAG-i; OUT gets "CHANNEL ID DATA" per event
# published, OUT.fail a line per failure, OUT.err the messages.
publish_batch() {
	local tag=$1 n=$3 out=$4 i ch id rc chs
	mapfile -t chs < "$2"
	: > "$out"; : > "$out.fail"; : > "$out.err"
	for ((i = 0; i < n; i++)); do
		ch=${chs[$((i % ${#chs[@]}))]}
		id=$("$SSE_PUBLISH" -q --maxlen 100000 --maxage 0 --redis "$URL" \
		    "$ch" "$tag-$i" 2>> "$out.err"); rc=$?
		if [ $rc = 0 ]; then echo "$ch $id $tag-$i" >> "$out"
		else echo "$ch $tag-$i exit $rc" >> "$out.fail"; fi
	done
}
# history_of CHANNELS: "CHANNEL ID DATA" of every entry of each channel's
# history, read at the channel's master (a MOVED there would show).
history_of() {
	local ch port
	owners "$1" | while read -r ch port; do
		ccli "$port" XRANGE "sse:history:{$ch}" - + |
		    awk -v c="$ch" 'NR % 5 == 1 { id = $0 } NR % 5 == 3 { print c, id, $0 }'
	done
}
# redirections: "MOVED n ASK n TRYAGAIN n CLUSTERDOWN n", summed over the
# live nodes' INFO errorstats (what the publishers were told to follow).
redirections() {
	local p
	for p in $CPORTS; do redis-cli -p "$p" INFO errorstats; done | tr -d '\r' |
	    awk -F'[_:=,]' '/^errorstat_/ { n[$2] += $4 }
	    END { printf "MOVED %d ASK %d TRYAGAIN %d CLUSTERDOWN %d\n", n["MOVED"], n["ASK"], n["TRYAGAIN"], n["CLUSTERDOWN"] }'
}
# batch_checks LABEL TAG OUT N: the batch's events, each in its channel's
# history once under its id, ids increasing per channel.
batch_checks() {
	local label=$1 tag=$2 out=$3 n=$4
	[ -s "$out.fail" ] && { echo "# failures:"; head "$out.fail"; tail -3 "$out.err"; }
	check "$label: $n events published (exit 0)" bash -c \
	    "[ \$(wc -l < '$out') = $n ] && [ ! -s '$out.fail' ]"
	awk '{ print $1 }' "$out" | sort -u > "$out.chans"
	history_of "$out.chans" | grep " $tag-" | sort > "$out.hist"
	sort "$out" > "$out.sorted"
	check "$label: each in its channel's history at the slot's master, once, under its id" \
	    diff "$out.sorted" "$out.hist"
	check "$label: ids increase per channel" awk '{
		split($2, a, "-")
		if ($1 in ms && (a[1] < ms[$1] || (a[1] == ms[$1] && a[2] <= seq[$1]))) bad++
		ms[$1] = a[1]; seq[$1] = a[2]
	} END { exit bad > 0 }' "$out"
}

# The script on a cluster node: ARGV[6].
ch=project.7
echo $ch > "$T/one"
owner=$(owners "$T/one" | awk '{ print $2 }')
ccli "$owner" EVAL "$(cat "$SCRIPT")" 2 "x:history:{$ch}" "x:clock:{$ch}" \
    $ch '' 10 0 data SPUBLISH > "$T/argv6.out" 2>&1
check "ARGV[6] other than \"spublish\": an error reply" \
    grep -q 'ARGV\[6\] must be "spublish" or absent' "$T/argv6.out"
check "and nothing written" [ "$(ccli "$owner" EXISTS "x:history:{$ch}")" = 0 ]
ccli "$owner" EVAL "$(cat "$SCRIPT")" 2 "x:history:{$ch}" "x:clock:{$ch}" \
    $ch '' 10 0 data > "$T/argv5.out" 2>&1
check "5 arguments: published (PUBLISH), id and receivers" \
    grep -qE '^[0-9]+-1$' "$T/argv5.out"

# 1,000 events over 200 channels, three of them watched.
{ seq -f 'user.%g' 1 67; seq -f 'task.%g' 1 67; seq -f 'project.%g' 1 66; } > "$T/chans"
check "200 channels" [ "$(sort -u "$T/chans" | wc -l)" = 200 ]
printf '%s\n' user.42 task.7 project.66 > "$T/watched"
owners "$T/watched" > "$T/watched.owners"
while read -r ch port; do
	redis-cli -p "$port" SSUBSCRIBE "$ch" > "$T/sub-$ch.out" 2>&1 &
	track $!
	wait_until 30 bash -c "[ \"\$(redis-cli -p $port PUBSUB SHARDNUMSUB $ch | sed -n 2p)\" = 1 ]" ||
	    echo "# subscriber of $ch at $port not confirmed"
done < "$T/watched.owners"
echo "# watched: $(tr '\n' ' ' < "$T/watched.owners")"
t0=$SECONDS
publish_batch ev "$T/chans" 1000 "$T/b1"
echo "# 1,000 published in $((SECONDS - t0)) s"
batch_checks "formed" ev "$T/b1" 1000
owners "$T/chans" | while read -r ch port; do
	ccli "$port" HGET "sse:clock:{$ch}" seq; done | sort | uniq -c > "$T/clocks"
check "formed: each channel's clock counted its 5 events" \
    [ "$(awk '{ print $1, $2 }' "$T/clocks")" = "200 5" ]
check "formed: no key outside the hash-tagged ones (no sse:clock)" bash -c "
    for p in $CPORTS; do redis-cli -p \$p --scan --pattern 'sse:*'; done | grep -v '{' | wc -l | grep -qx 0"
# received CHANNEL: the ids a subscriber got, one a line.
received() { tr '\0' '\n' < "$T/sub-$1.out" | grep -A1 -x sse1 | grep -E '^[0-9]+-[0-9]+$'; }
while read -r ch port; do
	wait_until 30 bash -c "[ \$(tr '\0' '\n' < '$T/sub-$ch.out' | grep -cx sse1) -ge 5 ]"
	check "formed: the subscriber of $ch (at $port) got its 5 events exactly once" \
	    diff <(awk -v c="$ch" '$1 == c { print $2 }' "$T/b1") <(received "$ch")
done < "$T/watched.owners"

# ASK: the slot of a channel half-way to another master, the channel's
# keys already there (the importing node serves them after ASKING only).
ach=task.3
echo $ach > "$T/ask-ch"
A=$(owners "$T/ask-ch" | awk '{ print $2 }')
aslot=$(ccli "$P1" CLUSTER KEYSLOT $ach)
B=$(cluster_view "$P1" | awk -v a="127.0.0.1:$A" '$1 != a { sub(/.*:/, "", $1); print $1; exit }')
ccli "$B" CLUSTER SETSLOT "$aslot" IMPORTING "$(ccli "$A" CLUSTER MYID)" > /dev/null
ccli "$A" CLUSTER SETSLOT "$aslot" MIGRATING "$(ccli "$B" CLUSTER MYID)" > /dev/null
ccli "$A" MIGRATE 127.0.0.1 "$B" "" 0 5000 KEYS \
    $(ccli "$A" CLUSTER GETKEYSINSLOT "$aslot" 1000) > /dev/null
for p in $CPORTS; do ccli "$p" CONFIG RESETSTAT > /dev/null; done
aid=$("$SSE_PUBLISH" -q --maxlen 100000 --maxage 0 --redis "$URL" $ach ask-1 2> "$T/ask.err")
echo "# $ach (slot $aslot) moving from $A to $B: published as ${aid:-nothing} ($(cat "$T/ask.err")); $(redirections)"
printf 'ASKING\nXREVRANGE sse:history:{%s} + - COUNT 1\n' $ach | redis-cli -p "$B" > "$T/ask.out"
check "ASK: published at the importing master ($B)" [ -n "$aid" -a \
    "$(sed -n 2p "$T/ask.out")" = "$aid" -a "$(sed -n 4p "$T/ask.out")" = ask-1 ]
check "ASK: $A answered ASK" [ "$(redirections | awk '{ print $4 }')" -ge 1 ]
for p in $A $B; do ccli "$p" CLUSTER SETSLOT "$aslot" NODE "$(ccli "$B" CLUSTER MYID)" > /dev/null; done
check "the slot's move finished, the cluster settled" wait_until 90 cluster_settled
check "ASK: $ach's history at $B: its 5 events then ask-1, ids increasing" bash -c "
    [ \"\$(redis-cli -p $B XRANGE 'sse:history:{$ach}' - + | awk 'NR % 5 == 3' | tr '\n' ' ')\" = \"\$(awk '\$1 == \"$ach\" { printf \"%s \", \$3 }' '$T/b1')ask-1 \" ] &&
    [ \"\$(redis-cli -p $B XREVRANGE 'sse:history:{$ach}' + - COUNT 1 | head -1)\" = '$aid' ]"

# 1,000 events while 150 slots move: half the channels in those slots.
FROM=$(cluster_master_of_slot 0); TO=$(cluster_master_of_slot 16383)
# redis-cli --cluster reshard takes the source's lowest slots first.
seq -f 'CLUSTER KEYSLOT task.%g' 1000 60000 | redis-cli -p "$P1" |
    paste -d ' ' <(seq -f 'task.%g' 1000 60000) - > "$T/task-slots"
lo=$(slot_owners | awk -v f="127.0.0.1:$FROM" '$2 == f { print $1 }' | sort -n | head -150 | tail -1)
awk -v lo="$lo" -v f="127.0.0.1:$FROM" 'NR == FNR { if ($2 == f) own[$1] = 1; next }
    ($2 in own) && $2 <= lo { print $1 }' <(slot_owners) "$T/task-slots" | head -100 > "$T/chans2"
head -100 "$T/chans" >> "$T/chans2"
check "200 channels, 100 in the slots that will move" [ "$(sort -u "$T/chans2" | wc -l)" = 200 ]
for p in $CPORTS; do ccli "$p" CONFIG RESETSTAT > /dev/null; done
publish_batch rs "$T/chans2" 1000 "$T/b2" & bpid=$!; track $bpid
wait_until 120 bash -c "[ \$(wc -l < '$T/b2') -ge 100 ]"
t0=$SECONDS
check "150 slots moved from $FROM to $TO while publishing" cluster_move_slots "$FROM" "$TO" 150
echo "# reshard took $((SECONDS - t0)) s; $(wc -l < "$T/b2") events published by then"
check "the publisher was still at work when the reshard ended" kill -0 $bpid
wait $bpid
echo "# errors replied during the batch: $(redirections)"
head -100 "$T/chans2" > "$T/moving"
check "resharded: the 100 channels' slots now at $TO" [ "$(owners "$T/moving" | awk -v t="$TO" '$2 == t' | wc -l)" = 100 ]
batch_checks "resharded" rs "$T/b2" 1000

# 1,000 events while the master of the most channels is killed.
KILL=$(owners "$T/chans" | awk '{ n[$2]++ } END { for (p in n) print n[p], p }' | sort -rn | head -1 | awk '{ print $2 }')
for p in $CPORTS; do ccli "$p" CONFIG RESETSTAT > /dev/null; done
publish_batch fo "$T/chans" 1000 "$T/b3" & bpid=$!; track $bpid
wait_until 120 bash -c "[ \$(wc -l < '$T/b3') -ge 100 ]"
t0=$SECONDS
check "master $KILL killed while publishing, a replica promoted" cluster_failover_kill "$KILL"
echo "# failover of $KILL to ${CPROMOTED:-?} settled in $((SECONDS - t0)) s; $(wc -l < "$T/b3") events published by then"
wait $bpid
echo "# errors replied during the batch (live nodes): $(redirections)"
batch_checks "failed over" fo "$T/b3" 1000
owners "$T/chans" > "$T/chans.owners"
check "failed over: $CPROMOTED has the channels $KILL had, $KILL none" [ \
    "$(awk -v k="$KILL" '$2 == k' "$T/chans.owners" | wc -l)" = 0 -a \
    "$(awk -v p="$CPROMOTED" '$2 == p' "$T/chans.owners" | wc -l)" -gt 0 ]
history_of "$T/b1.chans" | grep ' ev-' | sort > "$T/b1.hist2"
check "failed over: the first batch still all there, once" diff "$T/b1.sorted" "$T/b1.hist2"
finish
