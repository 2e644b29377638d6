#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: the sse-publish tool, against a private Redis and one worker
# behind lighttpd. Exercises: stdout holds only the id (MS-SEQ), stderr the
# "published to" line unless -q; the event lands in the history and reaches
# a stream with its id, data and --event name; data from an argument, from
# "-" and from standard input when omitted, binary-safe (a NUL byte is
# stored intact); 1 MiB from standard input reaches the stream complete,
# 1 MiB + 1 byte exits 3; ids increase, also across channels; --maxlen
# trims; bad arguments exit 2 with a message and publish nothing; an
# unreachable Redis exits 1 with the reason; settings from the config
# file, then the environment, then the flags.
. "$(dirname "$0")/lib.sh"
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}

start_redis
start_workers 1
start_lighttpd
R="redis://127.0.0.1:$RPORT"
P() { "$SSE_PUBLISH" -q --redis "$R" "$@"; }
# clock_seq: the deployment's id counter, bumped by every publish.
clock_seq() { rcli HGET sse:clock seq; }
# before A B: is id A older than id B (milliseconds, then sequence)?
before() {
	local a=$1 b=$2
	[[ $a =~ ^[0-9]+-[0-9]+$ && $b =~ ^[0-9]+-[0-9]+$ ]] || return 1
	[ "${a%-*}" -lt "${b%-*}" ] ||
	    { [ "${a%-*}" -eq "${b%-*}" ] && [ "${a#*-}" -lt "${b#*-}" ]; }
}
# failed_with RC WANT NAME: exit status WANT, a message on $T/NAME.err,
# nothing on $T/NAME.out.
failed_with() {
	[ "$1" = "$2" ] && [ -s "$T/$3.err" ] && [ ! -s "$T/$3.out" ]
}

stream a "$BASE/api/v1/events/cli.chan"
stream big "$BASE/api/v1/events/cli.big"
wait_until 5 numsub_is cli.chan 1
wait_until 5 numsub_is cli.big 1

# The id, alone on stdout; the report on stderr.
"$SSE_PUBLISH" --redis "$R" cli.chan 'from argv' > "$T/id.out" 2> "$T/id.err"
ID=$(cat "$T/id.out")
check "prints an id" grep -Eqx '[0-9]+-[0-9]+' "$T/id.out"
check "stdout holds only the id" [ "$(wc -l < "$T/id.out")" = 1 ]
check "stderr: published to CHANNEL as ID (N workers received it)" \
    grep -qx "published to cli.chan as $ID (1 workers received it)" \
    "$T/id.err"
P cli.chan quiet > /dev/null 2> "$T/q.err"
check "-q: nothing on stderr" [ ! -s "$T/q.err" ]
check "stored in the history" [ "$(rcli XLEN sse:history:cli.chan)" = 2 ]

ID2=$(printf 'from stdin' | P --event progress cli.chan -)
ID3=$(printf 'stdin, no dash' | P cli.chan)
wait_until 5 body_has a 'data: stdin, no dash'
check "the stream got the id" body_has a "id: $ID"
check "the stream got the data" body_has a 'data: from argv'
named() {
	grep -A1 -x 'event: progress' "$T/a.out" | grep -qx 'data: from stdin'
}
check "--event progress gives event: progress" named
check "- reads standard input" grep -qx "id: $ID2" "$T/a.out"
check "DATA omitted reads standard input" body_has a 'data: stdin, no dash'
check "ids of consecutive publishes increase" \
    eval 'before "$ID" "$ID2" && before "$ID2" "$ID3"'
IDX=$(P cli.other x)
IDY=$(P cli.other2 y)
check "ids increase across channels" \
    eval 'before "$ID3" "$IDX" && before "$IDX" "$IDY"'

# Binary-safe: the history entry holds exactly a NUL b LF c.
printf 'a\0b\nc' | P cli.bin - > "$T/bin.id"
printf '%s\nd\na\0b\nc\ne\n\n' "$(cat "$T/bin.id")" > "$T/bin.want"
rcli --raw XRANGE sse:history:cli.bin - + > "$T/bin.got"
check "binary-safe: NUL byte stored intact" cmp -s "$T/bin.want" "$T/bin.got"

# 1 MiB (base64, one line) from stdin, through Redis, worker and lighttpd.
head -c 786432 /dev/urandom | base64 -w0 > "$T/big"
check "the payload is 1 MiB" [ "$(wc -c < "$T/big")" = 1048576 ]
P cli.big < "$T/big" > "$T/big.id"; rc=$?
check "1 MiB from stdin: exit 0" [ $rc = 0 ]
# big_complete: do the data lines of stream big add up to the payload?
big_complete() {
	sed -n 's/^data: //p' "$T/big.out" | tr -d '\n' > "$T/big.got"
	cmp -s "$T/big" "$T/big.got"
}
wait_until 10 big_complete
check "1 MiB arrives complete through the stream" big_complete
check "1 MiB: same sha256" \
    [ "$(sha256sum < "$T/big")" = "$(sha256sum < "$T/big.got")" ]
check "1 MiB: one event with the printed id" eval \
    '[ "$(grep -c "^data: " "$T/big.out")" = 1 ] &&
    grep -qx "id: $(cat "$T/big.id")" "$T/big.out"'
s0=$(clock_seq)
head -c 1048577 /dev/zero | P cli.big - > "$T/big1.out" 2> "$T/big1.err"
rc=$?
check "1 MiB + 1 byte: exit 3" [ $rc = 3 ]
check "1 MiB + 1 byte: says why" grep -q max-message "$T/big1.err"
check "1 MiB + 1 byte: publishes nothing" \
    eval '[ ! -s "$T/big1.out" ] && [ "$(clock_seq)" = "$s0" ]'

for i in 1 2 3 4 5; do P --maxlen 3 cli.trim "t$i" > /dev/null; done
check "--maxlen 3 keeps 3 of 5" [ "$(rcli XLEN sse:history:cli.trim)" = 3 ]
check "--maxlen keeps the newest" eval '[ "$(rcli --raw XRANGE \
    sse:history:cli.trim - + | grep -x "t[0-9]" | tr -d "\n")" = t3t4t5 ]'

# Bad arguments: exit 2, a message, nothing published.
s0=$(clock_seq)
bad() {
	local what=$1 rc; shift
	P "$@" < /dev/null > "$T/bad.out" 2> "$T/bad.err"; rc=$?
	check "$what: exit 2 with a message" failed_with $rc 2 bad
}
bad "no channel"
bad "bad channel a/b" a/b x
bad "too many arguments" cli.chan x y
bad "unknown flag" --nope cli.chan x
bad "event name with a newline" --event "$(printf 'a\nb')" cli.chan x
bad "event name over 255 bytes" --event "$(printf 'e%.0s' {1..256})" cli.chan x
bad "--maxlen abc" --maxlen abc cli.chan x
bad "--maxage 1w" --maxage 1w cli.chan x
bad "--event without a value" cli.chan x --event
bad "bad redis URL" --redis foo://bar cli.chan x
check "bad arguments published nothing" [ "$(clock_seq)" = "$s0" ]

"$SSE_PUBLISH" --redis redis://127.0.0.1:1 cli.chan x \
    > "$T/down.out" 2> "$T/down.err"; rc=$?
check "redis unreachable: exit 1 with a message" failed_with $rc 1 down
check "redis unreachable: the reason" grep -qi 'connect' "$T/down.err"

# Settings: config file < environment < flags, as for the worker.
printf 'redis = redis://127.0.0.1:1\nhistory = cli.cfg 2 0\n' > "$T/pub.conf"
for i in 1 2 3; do
	SSE_FCGI_REDIS=$R "$SSE_PUBLISH" -q --config "$T/pub.conf" \
	    cli.cfg "c$i" > /dev/null
done
check "environment over config file (redis); file history rule" \
    [ "$(rcli XLEN sse:history:cli.cfg)" = 2 ]
for i in 1 2 3 4 5; do
	SSE_FCGI_CONFIG=$T/pub.conf SSE_FCGI_HISTORY='x 1 0; cli.cfg 4 0' \
	    "$SSE_PUBLISH" -q --redis "$R" cli.cfg "d$i" > /dev/null
done
check "SSE_FCGI_CONFIG read; SSE_FCGI_HISTORY over the file's rule" \
    [ "$(rcli XLEN sse:history:cli.cfg)" = 4 ]
SSE_FCGI_REDIS=redis://127.0.0.1:1 P cli.cfg flag > /dev/null; rc=$?
check "--redis over SSE_FCGI_REDIS" [ $rc = 0 ]
SSE_FCGI_MAX_MESSAGE=10 P cli.cfg 01234567890 2> /dev/null; rc=$?
check "SSE_FCGI_MAX_MESSAGE=10: 11 bytes exit 3" [ $rc = 3 ]
printf 'no-such-key = 1\n' > "$T/bad.conf"
"$SSE_PUBLISH" --config "$T/bad.conf" cli.cfg x > "$T/conf.out" \
    2> "$T/conf.err"; rc=$?
check "bad config file: exit 2" failed_with $rc 2 conf
check "bad config file: names file:line" grep -q 'bad.conf:1' "$T/conf.err"

"$SSE_PUBLISH" --help > "$T/help.out"; rc=$?
check "--help exits 0 and lists the exit status" \
    eval '[ $rc = 0 ] && grep -q "Exit status" "$T/help.out"'
"$SSE_PUBLISH" --version > "$T/version.out"; rc=$?
check "--version exits 0" eval '[ $rc = 0 ] && [ -s "$T/version.out" ]'
finish
