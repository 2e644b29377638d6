#!/bin/bash
# sse-fcgi - MIT License
#
# The worker's cluster client (cluster_async) against a real Redis Cluster
# (three masters with a replica each, tests/lib.sh start_cluster), through
# tests/cluster-async-check on one event loop, with a first seed that is a
# port nobody listens on:
#   - 1,000 keys, over all three shards, written and read back;
#   - keys written and read in a loop while 300 slots move to another
#     master: every command succeeds (MOVED and ASK followed) and the map
#     was fetched again, more often than the periodic refresh alone does;
#   - 1,000 keys written and read from just after a master is killed: the
#     commands wait out the failover (30 s each) and all succeed on the
#     promoted replica; a loop running through the kill fails only the
#     commands that were out on the dead master's connection;
#   - bad inputs: no reachable seed, a seed that is a plain Redis, a seed
#     that never answers (the next one is asked after 2 s): every command
#     fails with the reasons, no crash;
#   - the client freed with commands out: each fails once, as closed;
#   - when valgrind is there, runs under memcheck (keys, commands out at
#     the free, no seed): no error, no leak.
. "$(dirname "$0")/lib.sh"
CHECK=${CLUSTER_ASYNC_CHECK:-$top_builddir/tests/cluster-async-check}
redis-cli --cluster help 2>&1 | grep -q reshard ||
    { echo "SKIP: redis-cli has no --cluster"; exit 77; }

# field FILE NAME: a figure of the checker's line.
field() { sed -n "s/.*\<$2=\([0-9]*\).*/\1/p" "$1"; }

# Bad inputs first, without a cluster.
DOWN=$(free_port)
"$CHECK" -n 3 -t 3000 "redis+cluster://127.0.0.1:$DOWN" > "$T/none.out" 2> "$T/none.err"; rc=$?
cat "$T/none.out" "$T/none.err"
check "no reachable seed: exit 1, every command failed" bash -c \
    "[ $rc = 1 ] && grep -q '^sets=0 gets=0 failed=3 ' '$T/none.out'"
check "no reachable seed: the seed and its reason named" [ "$(grep -c \
    "^fail ca:[0-9]: no seed of redis+cluster://127.0.0.1:$DOWN gave the cluster's shards: 127.0.0.1:$DOWN: Connection refused" \
    "$T/none.err")" = 3 ]
start_redis
"$CHECK" -n 3 -t 3000 "redis+cluster://127.0.0.1:$DOWN,127.0.0.1:$RPORT" \
    > "$T/plain.out" 2> "$T/plain.err"; rc=$?
cat "$T/plain.out" "$T/plain.err"
check "a seed that is a plain Redis: exit 1, every command failed" bash -c \
    "[ $rc = 1 ] && grep -q '^sets=0 gets=0 failed=3 ' '$T/plain.out'"
check "a seed that is a plain Redis: its refusal named" [ "$(grep -c \
    "^fail ca:[0-9]: .*127.0.0.1:$RPORT: ERR This instance has cluster support disabled" "$T/plain.err")" = 3 ]
check "and nothing was written there" [ "$(rcli DBSIZE)" = 0 ]
# A seed that takes connections and never answers: the next one is asked.
SILENT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); held = []
while True: held.append(s.accept()[0])' "$SILENT" &
track $!
wait_until 10 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$SILENT) 2>/dev/null"
"$CHECK" -n 3 -t 5000 "redis+cluster://127.0.0.1:$SILENT,127.0.0.1:$RPORT" \
    > "$T/silent.out" 2> "$T/silent.err"; rc=$?
cat "$T/silent.out" "$T/silent.err"
check "a seed that never answers: given up after 2 s, the next one asked" bash -c \
    "[ $rc = 1 ] && [ \$(grep -c '^fail ca:[0-9]: .*127.0.0.1:$SILENT: no answer in 2000 ms; 127.0.0.1:$RPORT: ERR This instance has cluster support disabled' '$T/silent.err') = 3 ]"

t0=$SECONDS
start_cluster
echo "# cluster of $CPORTS formed in $((SECONDS - t0)) s"
URL="redis+cluster://127.0.0.1:$DOWN,$(printf '127.0.0.1:%s,' $CPORTS | sed 's/,$//')"

# keys_on_masters: the keys every master holds, added up.
keys_on_masters() {
	local p n=0
	for p in $CPORTS; do
		cluster_is_master "$p" && n=$((n + $(ccli "$p" DBSIZE)))
	done
	echo $n
}

"$CHECK" -n 1000 "$URL" > "$T/all.out" 2> "$T/all.err"; rc=$?
cat "$T/all.out"; head -5 "$T/all.err"
check "1,000 keys written and read back, none failed" bash -c \
    "[ $rc = 0 ] && grep -q '^sets=1000 gets=1000 failed=0 wrong=0 ' '$T/all.out'"
check "the keys are on all three shards" [ "$(field "$T/all.out" shards)" = 3 ]
check "one map fetched, and announced" [ "$(field "$T/all.out" maps)" = 1 ]
check "every map fetched was announced" [ "$(field "$T/all.out" maps)" = "$(field "$T/all.out" announced)" ]
check "the masters hold the 1,000 keys" [ "$(keys_on_masters)" = 1000 ]
check "the seed that is down cost no command" [ ! -s "$T/all.err" ]

# Freed with 8 commands out: each fails, once, as the client closes.
"$CHECK" -s 60 -c 8 -q 300 -p q "$URL" > "$T/quit.out" 2> "$T/quit.err"; rc=$?
cat "$T/quit.out"; head -3 "$T/quit.err"
check "freed with 8 commands out: each failed once, 'closed'" bash -c \
    "[ $rc = 1 ] && grep -q ' failed=8 wrong=0 .* closed=8\$' '$T/quit.out'"

# A loop through a reshard of 300 slots.
FROM=$(cluster_master_of_slot 0); TO=$(cluster_master_of_slot 16383)
"$CHECK" -s 300 -n 1000 -p rs -t 30000 "$URL" > "$T/rs.out" 2> "$T/rs.err" &
rspid=$!; track $rspid
sleep 1
t0=$SECONDS
check "300 slots moved from $FROM to $TO" cluster_move_slots "$FROM" "$TO" 300
echo "# reshard settled in $((SECONDS - t0)) s"
sleep 1
kill -TERM $rspid; wait $rspid; rc=$?
cat "$T/rs.out"; head -5 "$T/rs.err"
check "during the reshard: every command succeeded" bash -c \
    "[ $rc = 0 ] && [ \$(grep -c . '$T/rs.err') = 0 ] && grep -q ' failed=0 wrong=0 ' '$T/rs.out'"
check "during the reshard: thousands of commands" [ "$(field "$T/rs.out" sets)" -ge 1000 ]
rs_maps=$(field "$T/rs.out" maps); rs_secs=$(field "$T/rs.out" seconds)
check "during the reshard: maps fetched again ($rs_maps in $rs_secs s)" \
    [ "$rs_maps" -gt $((2 + rs_secs / 10)) ]

# Kill the master of slot 8000: a loop runs through it; a batch starts
# just after it, before any replica can be promoted (5 s node timeout).
KILL=$(cluster_master_of_slot 8000)
ccli "$KILL" WAIT 1 5000 > /dev/null
"$CHECK" -s 300 -n 1000 -c 4 -p fl -t 30000 "$URL" > "$T/fl.out" 2> "$T/fl.err" &
flpid=$!; track $flpid
"$CHECK" -w 1000 -n 1000 -p fo -t 30000 "$URL" > "$T/fo.out" 2> "$T/fo.err" &
fopid=$!; track $fopid
sleep 0.5
t0=$SECONDS
check "master $KILL killed, a replica promoted, the cluster settled" cluster_failover_kill "$KILL"
echo "# failover of $KILL to ${CPROMOTED:-?} settled in $((SECONDS - t0)) s"
wait $fopid; rc=$?
cat "$T/fo.out"; head -5 "$T/fo.err"
check "through the failover: 1,000 keys written and read back (30 s each)" bash -c \
    "[ $rc = 0 ] && grep -q '^sets=1000 gets=1000 failed=0 wrong=0 ' '$T/fo.out'"
check "through the failover: it waited for the promotion" [ "$(field "$T/fo.out" seconds)" -ge 3 ]
sleep 1
kill -TERM $flpid; wait $flpid; rc=$?
cat "$T/fl.out"; grep -v 'warn:' "$T/fl.err"
check "the loop through the kill: no crash, commands went on" bash -c \
    "[ $rc -le 1 ] && [ \$(sed -n 's/.*sets=\([0-9]*\).*/\1/p' '$T/fl.out') -ge 100 ]"
# A connection made while the dying node still listened may take one
# command more per lane: a few, never more than that.
check "the loop through the kill: only commands sent to the dead master failed, a few" bash -c \
    "[ $(field "$T/fl.out" failed) -le 10 ] && ! grep '^fail' '$T/fl.err' | grep -qv '127.0.0.1:$KILL: connection lost after the command was sent'"
"$CHECK" -n 1000 -p after "$URL" > "$T/after.out" 2> "$T/after.err"; rc=$?
cat "$T/after.out"; head -5 "$T/after.err"
check "after the failover: 1,000 keys written and read back at once" bash -c \
    "[ $rc = 0 ] && grep -q '^sets=1000 gets=1000 failed=0 wrong=0 ' '$T/after.out'"

# memcheck cannot run a build that carries AddressSanitizer's runtime.
if ldd "$CHECK" 2>/dev/null | grep -q libasan; then
	echo "# SKIP valgrind runs: the checker is built with AddressSanitizer"
elif command -v valgrind > /dev/null; then
	valgrind -q --leak-check=full --error-exitcode=9 --log-file="$T/vg.out" \
	    "$CHECK" -n 200 -p vg "$URL" > "$T/vg-run.out" 2>&1; rc=$?
	cat "$T/vg-run.out"
	check "under valgrind memcheck: 200 keys, no error, no leak" bash -c \
	    "[ $rc = 0 ] && [ ! -s '$T/vg.out' ]"
	head -40 "$T/vg.out"
	valgrind -q --leak-check=full --error-exitcode=9 --log-file="$T/vg3.out" \
	    "$CHECK" -s 60 -c 8 -q 300 -p vq "$URL" > "$T/vg3-run.out" 2>&1; rc=$?
	check "under valgrind memcheck: freed with commands out, no error, no leak" bash -c \
	    "[ $rc = 1 ] && grep -q ' closed=8\$' '$T/vg3-run.out' && [ ! -s '$T/vg3.out' ]"
	head -40 "$T/vg3.out"
	DOWN2=$(free_port)
	valgrind -q --leak-check=full --error-exitcode=9 --log-file="$T/vg2.out" \
	    "$CHECK" -n 3 -t 2000 "redis+cluster://127.0.0.1:$DOWN2" > /dev/null 2>&1; rc=$?
	check "under valgrind memcheck: no seed, no error, no leak" bash -c \
	    "[ $rc = 1 ] && [ ! -s '$T/vg2.out' ]"
	head -40 "$T/vg2.out"
else
	echo "# SKIP valgrind runs: valgrind not installed"
fi
finish
