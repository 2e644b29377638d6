#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: the sse-publish tool. Exercises: it prints the id; the event is
# in the history and reaches a stream through lighttpd with its id and
# name; data from an argument, from "-" and from standard input when
# omitted, binary-safe; 1 MiB is accepted and 1 MiB + 1 byte refused (exit
# 3); --maxlen trims; ids increase across channels; bad arguments exit 2
# and publish nothing; an unreachable Redis exits 1.
. "$(dirname "$0")/lib.sh"
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}

start_redis
start_workers 1
start_lighttpd
P() { "$SSE_PUBLISH" -q --redis "redis://127.0.0.1:$RPORT" "$@"; }

stream a "$BASE/api/v1/events/cli.chan"
wait_until 5 numsub_is cli.chan 1
ID=$(P cli.chan 'from argv')
check "prints an id" grep -qx '[0-9]*-[0-9]*' <<<"$ID"
check "stored in the history" [ "$(rcli XLEN sse:history:cli.chan)" = 1 ]
ID2=$(echo -n 'from stdin' | P --event progress cli.chan -)
ID3=$(echo -n 'stdin, no dash' | P cli.chan)
wait_until 5 body_has a 'data: stdin, no dash'
check "the stream got the id" body_has a "id: $ID"
check "the stream got the data" body_has a 'data: from argv'
check "--event gives event:" bash -c "grep -A1 '^event: progress' '$T/a.out' | grep -q 'data: from stdin'"
check "data omitted reads stdin" body_has a 'data: stdin, no dash'
check "ids increase" bash -c "[ ${ID2#*-} -gt ${ID#*-} ] && [ ${ID3#*-} -gt ${ID2#*-} ]"
IDX=$(P cli.other x)
check "ids increase across channels" [ "${IDX#*-}" -gt "${ID3#*-}" ]
printf 'a\0b\nc' | P cli.bin - >/dev/null
check "binary-safe (NUL kept)" bash -c "redis-cli -p $RPORT --raw XRANGE sse:history:cli.bin - + | od -c | grep -q 'a  \\\\0   b'"
head -c 786432 /dev/urandom | base64 -w0 > "$T/big"
check "1 MiB from stdin accepted" bash -c "'$SSE_PUBLISH' -q --redis redis://127.0.0.1:$RPORT cli.big - < '$T/big' >/dev/null"
check "1 MiB stored intact" bash -c "[ \$(redis-cli -p $RPORT XRANGE sse:history:cli.big - + | sed -n 3p | tr -d '\\n' | wc -c) = 1048576 ]"
head -c 1048577 /dev/zero | P cli.big - 2> "$T/big.err"; rc=$?
check "1 MiB + 1 byte: exit 3" [ $rc = 3 ]
for i in 1 2 3 4 5; do P --maxlen 3 cli.trim "t$i" >/dev/null; done
check "--maxlen 3 keeps 3" [ "$(rcli XLEN sse:history:cli.trim)" = 3 ]
before=$(rcli XLEN sse:history:cli.chan)
for bad in "" "a/b x" "cli.chan x y" "--nope cli.chan x" "--maxlen abc cli.chan x" \
    "--maxage 1w cli.chan x" "--event"; do
	P $bad < /dev/null > /dev/null 2> "$T/bad.err"; rc=$?
	check "bad arguments '$bad': exit 2 with a message" bash -c "[ $rc = 2 ] && [ -s '$T/bad.err' ]"
done
P --event "$(printf 'a\nb')" cli.chan x 2>/dev/null; rc=$?
check "event name with a newline: exit 2" [ $rc = 2 ]
check "bad arguments published nothing" [ "$(rcli XLEN sse:history:cli.chan)" = "$before" ]
"$SSE_PUBLISH" --redis redis://127.0.0.1:1 cli.chan x 2> "$T/down.err"; rc=$?
check "redis unreachable: exit 1 with the reason" bash -c "[ $rc = 1 ] && grep -q 'connect' '$T/down.err'"
check "--help exits 0" bash -c "'$SSE_PUBLISH' --help >/dev/null"
finish
