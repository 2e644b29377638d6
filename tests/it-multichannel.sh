#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: several channels in one stream.
# Exercises: channels from the path ("a,b") and from channel= parameters,
# duplicates folded, each event named after its channel ("<channel>" or
# "<channel>/<event>"), one subscription per channel in Redis, resume of
# the whole set with one id (events of all channels, in id order, nothing
# twice), the max-channels cap (400), a bad name among several (400);
# history kept by age as well as by count.
. "$(dirname "$0")/lib.sh"

SECRET=m-secret
start_redis
start_workers 1 --publisher-secret "$SECRET" --max-channels 3 --history 'm.age 100 1s'
start_lighttpd
U=$BASE/api/v1

stream m "$U/events/m.a,m.b?channel=m.c&channel=m.a"
wait_until 20 bash -c "[ \$(redis-cli -p $RPORT PUBSUB NUMSUB m.a m.b m.c | grep -cx 1) = 3 ]"
check "path and query channels subscribed" bash -c "[ \$(redis-cli -p $RPORT PUBSUB NUMSUB m.a m.b m.c | grep -cx 1) = 3 ]"
I1=$(pub_http m.a one)
pub_http m.b two progress >/dev/null
pub_http m.c three >/dev/null
rcli PUBLISH m.b raw-b >/dev/null
wait_until 20 body_has m 'data: raw-b'
check "plain event named after its channel" bash -c "grep -B0 -A1 '^event: m.a$' '$T/m.out' | grep -q 'data: one'"
check "named event is channel/name" bash -c "grep -A1 '^event: m.b/progress$' '$T/m.out' | grep -q 'data: two'"
check "third channel from the query" bash -c "grep -A1 '^event: m.c$' '$T/m.out' | grep -q 'data: three'"
check "raw message on a multi-channel stream is named too" bash -c "grep -A1 '^event: m.b$' '$T/m.out' | grep -q 'data: raw-b'"
check "duplicate channel folded: one copy of each event" [ "$(grep -c '^data: one' "$T/m.out")" = 1 ]

# Resume the set after the first event: the rest of all three, in order.
pub_http m.c four >/dev/null
pub_http m.a five >/dev/null
stream_until r 'data: five' "$U/events/m.a,m.b,m.c" -H "Last-Event-ID: $I1"
check "set resumed with one id, in id order" diff <(data_of r) <(printf 'two\nthree\nfour\nfive\n')
ids_of r | increasing; check "ids increase across channels" [ $? = 0 ]
stream_until r2 'data: five' "$U/events/m.c?channel=m.a" -H "Last-Event-ID: $I1"
check "a subset resumes with the same id" diff <(data_of r2) <(printf 'three\nfour\nfive\n')

check "4 channels over max-channels 3: 400" [ "$(status "$U/events/m.a,m.b,m.c,m.d")" = 400 ]
check "the reason names max-channels" grep -q 'max-channels' "$T/last.body"
check "bad name among several: 400" [ "$(status "$U/events/m.a,m%20b")" = 400 ]
check "empty name between commas: 400" [ "$(status "$U/events/m.a,,m.b")" = 400 ]
check "bad channel= value: 400" [ "$(status "$U/events/m.a?channel=a/b")" = 400 ]

# History by age: m.age keeps 1 s.
pub_http m.age old >/dev/null
sleep 1.3
pub_http m.age new >/dev/null
check "age limit trims old events" [ "$(rcli XLEN sse:history:m.age)" = 1 ]
check "age limit sets an expiry" [ "$(rcli PTTL sse:history:m.age)" -gt 0 ]
finish
