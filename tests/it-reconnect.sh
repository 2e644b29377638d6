#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: browsers never give up. Clients that reconnect exactly as
# EventSource does (tests/sse-client -E: after the last retry:, with
# Last-Event-ID; any answer but 200 is final) meet the transient conditions
# a worker sends them away for, and every one of them still gets every
# event once, in order, with no answer other than 200:
#   1. Redis unreachable when they connect (the worker starts first);
#   2. max-streams reached (5 slots for 15 clients).
# Each client asks for the channel's history from the start
# (?lastEventId=0-0), so coming back late loses nothing.
. "$(dirname "$0")/lib.sh"

SHA=
# publish_seq CHANNEL N RATE: events 1..N through the documented script,
# paced by due times (tests/pace.py), in the background; sets PUB.
publish_seq() {
	awk -v n="$2" -v sha="$SHA" -v ch="$1" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "EVALSHA %s 2 sse:history:%s sse:clock %s \"\" 1000 0 %d\n", sha, ch, ch, i
	}' | python3 "$top_srcdir/tests/pace.py" "$3" | redis-cli -p "$RPORT" > "$T/pub-$1.out" &
	PUB=$!; track $PUB
}
load_script() {
	SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
}
# es_result NAME: the client's summary line, once it has exited.
es_field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$T/$1.out"; }

# 1. Redis down as the clients connect.
RPORT=$(free_port)
start_workers 1 --log-level debug
start_lighttpd
"$SSE_CLIENT" -q -E -Q -n 20 -e 100 -d 300 \
    -u "$BASE/api/v1/events/rc.down?lastEventId=0-0" > "$T/down.out" 2> "$T/down.err" &
DOWN=$!; track $DOWN
check "clients are sent back while redis is down" \
    wait_until 30 bash -c "[ \$(grep -c 'deferred a stream' '$T/worker.log') -ge 20 ]"
start_redis "$RPORT"
load_script
publish_seq rc.down 100 20
wait $PUB
wait_until 120 bash -c "! kill -0 $DOWN 2>/dev/null"
wait $DOWN; rc=$?
echo "# redis down at connect: $(cat "$T/down.out")"
check "redis down: all 20 got all 100 events once, in order" [ $rc = 0 ]
check "redis down: no answer but 200" [ "$(es_field down http_non200)" = 0 ]
check "redis down: no client gave up" [ "$(es_field down dead)" = 0 ]
check "redis down: every client came back at least once" [ "$(es_field down reconnects)" -ge 20 ]

# 2. max-streams: 5 slots, 15 clients; each leaves once it has every event.
WSOCK=$T/cap.sock start_workers 1 --max-streams 5 --log-level debug
WSOCK=$T/cap.sock start_lighttpd
"$SSE_CLIENT" -q -E -Q -n 15 -e 60 -d 300 \
    -u "$BASE/api/v1/events/rc.cap?lastEventId=0-0" > "$T/cap.out" 2> "$T/cap.err" &
CAP=$!; track $CAP
check "clients over max-streams are sent back" \
    wait_until 30 bash -c "[ \$(grep -c 'deferring a stream' '$T/worker.log') -ge 10 ]"
publish_seq rc.cap 60 20
wait $PUB
wait_until 120 bash -c "! kill -0 $CAP 2>/dev/null"
wait $CAP; rc=$?
echo "# max-streams 5 for 15 clients: $(cat "$T/cap.out")"
check "max-streams: all 15 got all 60 events once, in order" [ $rc = 0 ]
check "max-streams: no answer but 200" [ "$(es_field cap http_non200)" = 0 ]
check "max-streams: no client gave up" [ "$(es_field cap dead)" = 0 ]
check "max-streams: the 10 over the limit came back" [ "$(es_field cap reconnects)" -ge 10 ]
finish
