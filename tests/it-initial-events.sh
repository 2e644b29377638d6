#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: initial events (--initial-events 'PATTERN N') behind lighttpd.
# (a) bad rules (flag, environment, config file) are refused with a clear
#     message and exit 2.
# (b) a stream without Last-Event-ID gets the last N retained events of its
#     channel, with their ids, then live ones; with Last-Event-ID or
#     ?lastEventId it resumes as before (no initial events); a channel no
#     rule matches gets none; the first matching rule wins (0 = none); N is
#     bounded by the channel's history length.
# (c) several channels in one stream: each channel's last N, merged in id
#     order, then live.
# (d) opened while events are published (STREAMS streams at staggered
#     moments, events through the history script at RATE a second): each
#     stream's events are consecutive up to the last, nothing twice and
#     nothing missing between the initial events and the live ones.
# (e) a large N over large events: read page by page (queue-limit 256k),
#     every one of the last 1000 once, in order.
# (f) poll mode (--poll-hold): a first poll gets the initial events, then
#     its position (the last id published) and ends; the next poll from
#     that position waits for the next event.
. "$(dirname "$0")/lib.sh"

STREAMS=${INITIAL_STREAMS:-20}
EVENTS=${INITIAL_EVENTS:-400}
RATE=${INITIAL_RATE:-200}

# (a) ---------------------------------------------------------------------
bad_rule() {
	local out rc
	out=$("$@" 2>&1 < /dev/null); rc=$?
	[ $rc = 2 ] && printf '%s\n' "$out" | grep -qF -- "$BAD_WANT"
}
BAD_WANT='--initial-events: initial-events N "1001" is out of range (0..1000)'
check "--initial-events 'task.* 1001' refused" bad_rule "$SSE_FCGI" --initial-events 'task.* 1001'
BAD_WANT='--initial-events: initial-events rule "task.*" is not "PATTERN N"'
check "--initial-events 'task.*' refused" bad_rule "$SSE_FCGI" --initial-events 'task.*'
BAD_WANT='--initial-events: initial-events N "-3" is not a number'
check "--initial-events 'task.* -3' refused" bad_rule "$SSE_FCGI" --initial-events 'task.* -3'
BAD_WANT='--initial-events: initial-events pattern "task/*" may only contain'
check "--initial-events 'task/* 1' refused" bad_rule "$SSE_FCGI" --initial-events 'task/* 1'
BAD_WANT='SSE_FCGI_INITIAL_EVENTS rule 2: initial-events N "x" is not a number'
check "SSE_FCGI_INITIAL_EVENTS='a.* 1;b.* x' refused" bad_rule env 'SSE_FCGI_INITIAL_EVENTS=a.* 1;b.* x' "$SSE_FCGI"
printf 'initial-events = task.* 1 2\n' > "$T/bad.conf"
BAD_WANT=':1: initial-events rule "task.* 1 2" is not "PATTERN N"'
check "initial-events = task.* 1 2 in a config file refused" bad_rule "$SSE_FCGI" --config "$T/bad.conf"
"$SSE_FCGI" --help > "$T/help.txt" 2>&1
check "--help lists --initial-events and its variable" bash -c "grep -q -- '--initial-events RULE' '$T/help.txt' && grep -q 'env SSE_FCGI_INITIAL_EVENTS' '$T/help.txt'"

# (b) ---------------------------------------------------------------------
SECRET=i-secret
start_redis
start_workers 1 --publisher-secret "$SECRET" --queue-limit 256k \
    --initial-events 'task.quiet 0' --initial-events 'task.* 3' \
    --initial-events 'small.* 5' --history 'small.* 2 1h' \
    --initial-events 'big.* 1000'
start_lighttpd
U=$BASE/api/v1

for i in 1 2 3 4 5 6; do pub_lua task.1 "t$i" > /dev/null; done
ids_in() { rcli --raw XRANGE "sse:history:$1" - + | grep -E '^[0-9]+-[0-9]+$'; }
I4=$(ids_in task.1 | sed -n 4p)
stream f "$U/events/task.1"
wait_until 20 body_has f 'data: t6'
check "opened without id: the last 3 events at once" diff <(data_of f) <(printf 't4\nt5\nt6\n')
check "with their ids (the history's)" diff <(ids_of f) <(ids_in task.1 | sed -n '4,6p')
pub_lua task.1 t7 > /dev/null
wait_until 20 body_has f 'data: t7'
check "then live" diff <(data_of f) <(printf 't4\nt5\nt6\nt7\n')
kill $CURL_PID; wait $CURL_PID 2>/dev/null

stream_until r 'data: t7' "$U/events/task.1" -H "Last-Event-ID: $I4"
check "with Last-Event-ID: a resume, no initial events" diff <(data_of r) <(printf 't5\nt6\nt7\n')
stream_until q 'data: t7' "$U/events/task.1?lastEventId=$I4"
check "with ?lastEventId: the same" diff <(data_of q) <(printf 't5\nt6\nt7\n')

for i in 1 2 3; do pub_lua other.1 "o$i" > /dev/null; pub_lua task.quiet "q$i" > /dev/null; done
stream o "$U/events/other.1"
stream z "$U/events/task.quiet"
wait_until 20 ready o; wait_until 20 ready z
pub_lua other.1 o4 > /dev/null; pub_lua task.quiet q4 > /dev/null
wait_until 20 body_has o 'data: o4'; wait_until 20 body_has z 'data: q4'
check "a channel no rule matches: live only" diff <(data_of o) <(echo o4)
check "the first matching rule wins (task.quiet 0): live only" diff <(data_of z) <(echo q4)

# small.* keeps 2 (pub_http honours the history rule): N 5 gives 2.
for i in 1 2 3 4; do pub_http small.1 "s$i" > /dev/null; done
stream_until s 'data: s4' "$U/events/small.1"
check "N is bounded by the history kept (5 asked, 2 kept)" diff <(data_of s) <(printf 's3\ns4\n')

# (c) ---------------------------------------------------------------------
for i in 1 2 3 4 5; do pub_lua task.a "a$i" > /dev/null; pub_lua task.b "b$i" > /dev/null; done
pub_lua task.a a6 > /dev/null; pub_lua task.a a7 > /dev/null
stream m "$U/events/task.a,task.b"
wait_until 20 body_has m 'data: b5'
wait_until 20 body_has m 'data: a7'
pub_lua task.b b6 > /dev/null
wait_until 20 body_has m 'data: b6'
check "two channels: each one's last 3, in id order, then live" diff <(data_of m) <(printf 'b3\nb4\na5\nb5\na6\na7\nb6\n')
ids_of m | increasing; check "ids increase across the channels" [ $? = 0 ]
kill $CURL_PID; wait $CURL_PID 2>/dev/null

# (d) ---------------------------------------------------------------------
# Streams open one after another while events 1..EVENTS go out, stream n
# once the publisher has had n/(STREAMS+1) of them answered; each reads
# until the last.
publish_seq task.race "$EVENTS" "$RATE"
RPIDS=""
for n in $(seq 1 "$STREAMS"); do
	wait_until 30 bash -c "[ \$(wc -l < '$T/pub-task.race.out') -ge $((2 * n * EVENTS / (STREAMS + 1))) ]"
	stream race$n "$U/events/task.race"
	RPIDS="$RPIDS $CURL_PID"
done
wait_until 60 bash -c "for n in \$(seq 1 $STREAMS); do grep -qx 'data: $EVENTS' '$T/race'\$n'.out' || exit 1; done"
sleep 0.5	# a duplicate of the last would show now
kill $RPIDS 2>/dev/null; wait $RPIDS 2>/dev/null
ok=0; first=""
for n in $(seq 1 "$STREAMS"); do
	data_of race$n | awk -v last="$EVENTS" 'NR == 1 { prev = $1; next }
	    $1 != prev + 1 { exit 1 } { prev = $1 } END { exit prev != last }' && ok=$((ok + 1))
	first="$first $(data_of race$n | head -1)"
done
echo "# first events of the $STREAMS streams:$first"
check "opened during publishing: $ok of $STREAMS streams got consecutive events up to $EVENTS (no gap, no duplicate)" [ "$ok" = "$STREAMS" ]
wait $PUB 2>/dev/null

# (e) ---------------------------------------------------------------------
# 1100 events of 2 kB: the last 1000 are 2 MB, 8 pages of queue-limit.
sha=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
pad=$(head -c 2000 /dev/zero | tr '\0' x)
awk -v sha="$sha" -v pad="$pad" 'BEGIN { for (i = 1; i <= 1100; i++)
    printf "EVALSHA %s 2 sse:history:big.1 sse:clock big.1 \"\" 2000 0 %d%s\n", sha, i, pad }' |
    redis-cli -p "$RPORT" > /dev/null
evals() { rcli INFO commandstats | sed -n 's/^cmdstat_eval:calls=\([0-9]*\),.*/\1/p'; }
EV0=$(evals)
stream_until b "data: 1100$pad" "$U/events/big.1"
EV1=$(evals)
check "N 1000 over 2 MB: events 101..1100 once, in order" diff <(data_of b | sed 's/x*$//') <(seq 101 1100)
echo "# the 1000 initial events took $((EV1 - EV0)) runs of the resume script; worker RSS $(rss_kb "$WPIDS") kB"
check "read page by page (at least 7 pages of 256k)" [ $((EV1 - EV0)) -ge 7 ]

# (f) ---------------------------------------------------------------------
WSOCK=$T/poll.sock start_workers 1 --publisher-secret "$SECRET" \
    --poll-hold 2 --retry 1000 --initial-events 'task.* 3'
WSOCK=$T/poll.sock start_lighttpd
U=$BASE/api/v1
LAST=$(pub_lua task.1 t8)
curl -s -m 20 "$U/events/task.1" > "$T/p1.out"; rc=$?
check "first poll ends by itself" [ $rc = 0 ]
check "first poll: the last 3 events" diff <(data_of p1) <(printf 't6\nt7\nt8\n')
check "then its position, the last id published" [ "$(ids_of p1 | tail -1)" = "$LAST" ]
check "and retry:" grep -q '^retry: ' "$T/p1.out"
stream p2 "$U/events/task.1" -H "Last-Event-ID: $LAST"
wait_until 20 ready p2
sleep 0.3
check "the next poll from there waits" bash -c "! grep -q '^data:' '$T/p2.out'"
pub_lua task.1 t9 > /dev/null
wait_until 20 bash -c "! kill -0 $CURL_PID 2>/dev/null"
check "and gets the next event only" diff <(data_of p2) <(echo t9)
finish
