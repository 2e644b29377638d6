#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: no payload can inject a field or end an event early. Payloads
# with CR, LF, CRLF, NUL and lines that begin "data:", "id:", "event:",
# "retry:" and ":" are published through every path (HTTP POST with the
# publisher secret, sse-publish, the Lua script by EVALSHA, raw PUBLISH)
# and each arrives as exactly one event whose data, rebuilt as EventSource
# does (data lines joined by LF), is the payload with CR, LF and CRLF all
# become LF (SSE has no other line end and no escape, so a CR cannot
# survive) and NUL kept as it is. Checked three ways: the bytes on the wire
# (curl: no id:, event: or retry: line but the worker's own), sse-client's
# parser, and Chromium's EventSource (MessageEvent.data and lastEventId).
# Event names with CR, LF or NUL are refused at publish time: HTTP ?event=
# and SSE-Event (400; lighttpd refuses such a header itself, so the worker's
# own check is reached with cgi-fcgi), sse-publish --event (exit 2), the
# Lua script (error); an envelope with a bad id or event name sent by raw
# PUBLISH is dropped with a log line. The browser part needs node, Chromium
# and tests/browser/node_modules (see it-browser.sh); it is skipped
# otherwise.
. "$(dirname "$0")/lib.sh"
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }

SECRET=inj-secret
CH=inj.chan
start_redis
start_workers 1 --publisher-secret "$SECRET"
start_lighttpd
U=$BASE/api/v1
AUTH="Authorization: Bearer $SECRET"
SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")

# The payloads, one file each.
mkdir -p "$T/p"
python3 - "$T/p" <<'EOF'
import sys
payloads = [
    b"a\rb", b"a\nb", b"a\r\nb", b"a\x00b",
    b"data: x", b"id: 1-1", b"event: evil", b"retry: 1", b": comment",
    b"x\ndata: injected\nid: 999-1\nevent: evil\nretry: 1\n: c\n\nafter",
    b"\r\rid: 5\revent: evil\r\r\ndata: y\r",
    b"\nlead and trail\r\n", b"\x00id: 7\x00\nevent: evil\x00",
    b"\n", b"\r\n\r\n", b" space\n  two",
    b'{"m":"a\\nb","t":"x\\r\\ny"}\n{"second":"line"}',
]
for i, p in enumerate(payloads):
    open("%s/%02d" % (sys.argv[1], i), "wb").write(p)
EOF
NP=$(ls "$T/p" | wc -l)
TOTAL=$((4 * NP + 1))

stream wire "$U/events/$CH"
"$SSE_CLIENT" -u "$U/events/$CH" -e $TOTAL -d 60 -o "$T/client.rec" \
    -r "$T/client.ready" > "$T/client.out" 2>&1 &
CL=$!; track $CL
B=$top_srcdir/tests/browser
BROWSER=
if command -v node >/dev/null && [ -x "${CHROMIUM:-/usr/bin/chromium}" ] &&
    [ -d "$B/node_modules/playwright-core" ]; then
	BROWSER=1
	cp "$B/injection.html" "$T/www/"
	mkdir -p "$T/home"
	HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_CACHE_HOME=$T/home/.cache \
	    timeout -k 5 90 node "$B/injection.mjs" \
	    "$BASE/injection.html?target=/api/v1/events/$CH" "$T/browser.ready" \
	    $TOTAL "$T/browser.json" > "$T/browser.out" 2>&1 &
	BR=$!; track $BR
	wait_until 30 test -e "$T/browser.ready"
	check "browser: EventSource open" test -e "$T/browser.ready"
fi
wait_until 10 test -e "$T/client.ready"
wait_until 10 grep -q '^: ok' "$T/wire.out"
wait_until 10 numsub_is $CH 1

# Every payload by every path, in order; the ids as each path reports them.
: > "$T/published"
for f in "$T"/p/*; do
	n=$(basename "$f")
	id=$(curl -s -m 10 -X POST -H "$AUTH" --data-binary @"$f" "$U/publish/$CH" |
	    sed -n 's/.*"id":"\([0-9-]*\)".*/\1/p')
	printf 'http %s %s\n' "$n" "$id" >> "$T/published"
	id=$("$SSE_PUBLISH" -q --redis "redis://127.0.0.1:$RPORT" $CH - < "$f")
	printf 'cli %s %s\n' "$n" "$id" >> "$T/published"
	id=$(rcli --raw -x EVALSHA "$SHA" 2 "sse:history:$CH" sse:clock $CH '' 1000 0 < "$f" | head -1)
	printf 'lua %s %s\n' "$n" "$id" >> "$T/published"
	rcli -x PUBLISH $CH < "$f" > /dev/null
	printf 'raw %s -\n' "$n" >> "$T/published"
done
check "every history path reported an id" \
    [ "$(awk '$1 != "raw" && $3 ~ /^[0-9]+-[0-9]+$/' "$T/published" | wc -l)" = $((3 * NP)) ]

# Bad event names, refused where they are published.
for ev in 'a%0Ab' 'a%0Db' 'a%0D%0Aid:%209' 'a%00b'; do
	check "HTTP ?event=$ev: 400" \
	    [ "$(status "$U/publish/$CH?event=$ev" -X POST -H "$AUTH" -d bad)" = 400 ]
done
check "HTTP SSE-Event with CR: 400 (from lighttpd)" \
    [ "$(status "$U/publish/$CH" -X POST -H "$AUTH" -H $'SSE-Event: a\rb' -d bad)" = 400 ]
if command -v cgi-fcgi >/dev/null; then
	# Straight to the worker: what a front server without that check sends.
	for ev in $'a\rb' $'a\nid: 9' $'a\r\nevent: x'; do
		printf bad | env -i REQUEST_METHOD=POST REQUEST_URI=/api/v1/publish/$CH \
		    HTTP_AUTHORIZATION="Bearer $SECRET" HTTP_SSE_EVENT="$ev" \
		    CONTENT_LENGTH=3 cgi-fcgi -bind -connect "$T/sse.sock" > "$T/fcgi.out" 2>&1
		check "FastCGI SSE-Event $(printf %q "$ev"): 400 from the worker" \
		    grep -q '^Status: 400' "$T/fcgi.out"
	done
else
	echo "# SKIP direct FastCGI checks: cgi-fcgi (libfcgi-bin) not installed"
fi
for ev in $'a\nb' $'a\rb' $'a\r\nid: 9'; do
	"$SSE_PUBLISH" -q --redis "redis://127.0.0.1:$RPORT" --event "$ev" $CH bad \
	    > /dev/null 2> "$T/cli.err"
	rc=$?
	check "sse-publish --event $(printf %q "$ev"): exit 2" [ $rc = 2 ]
done
check "sse-publish says why" grep -q 'without CR or LF' "$T/cli.err"
for ev in $'a\nb' $'a\rb' $'a\r\nid: 9'; do
	check "Lua script, event $(printf %q "$ev"): error" bash -c \
	    "redis-cli -p $RPORT EVALSHA $SHA 2 sse:history:$CH sse:clock $CH \$'${ev//$'\n'/\\n}' 1000 0 bad 2>&1 |
	    grep -q 'event name'"
done
# An event name with NUL cannot be a shell argument: RESP by --pipe.
printf '*10\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$1\r\n2\r\n$%d\r\nsse:history:%s\r\n$9\r\nsse:clock\r\n$%d\r\n%s\r\n$3\r\na\0b\r\n$4\r\n1000\r\n$1\r\n0\r\n$3\r\nbad\r\n' \
    "$SHA" $((12 + ${#CH})) $CH ${#CH} $CH | rcli --pipe > "$T/nul.out" 2>&1
check "Lua script, event with NUL: error" grep -q 'errors: 1, replies: 1' "$T/nul.out"
# Envelopes the script would never write, sent by raw PUBLISH.
printf '\0sse1\0%s\0%s\0%s' 1-1 $'evil\nid: 9' bad > "$T/env1"
printf '\0sse1\0%s\0%s\0%s' $'1-1\r\nevent: evil' '' bad > "$T/env2"
printf '\0sse1\0%s\0%s\0%s' 'x-1' '' bad > "$T/env3"
for e in env1 env2 env3; do rcli -x PUBLISH $CH < "$T/$e" > /dev/null; done
wait_until 5 bash -c "[ \$(grep -c 'malformed event envelope' '$T/worker.log') -ge 3 ]"
check "3 malformed envelopes dropped with a log line" \
    [ "$(grep -c 'malformed event envelope.*dropped' "$T/worker.log")" = 3 ]
# The last event: the stream carries exactly what was published.
rcli PUBLISH $CH end > /dev/null
printf 'raw end -\n' >> "$T/published"
printf end > "$T/p/end"

wait $CL; rc=$?
check "sse-client got $TOTAL events, no more ($(cat "$T/client.out"))" [ $rc = 0 ]
wait_until 5 body_has wire 'data: end'
[ -n "$BROWSER" ] && { wait $BR; echo "# browser: $(cat "$T/browser.out")"; }

# Compare each view with what was published.
python3 - "$T" "$TOTAL" "${BROWSER:-0}" > "$T/compare.out" <<'EOF'
import json, os, sys
T, total, browser = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
pub = [l.split() for l in open(T + "/published")]
def norm(b):	# what EventSource can rebuild: every line end is LF
	return b.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
want = [(p, norm(open("%s/p/%s" % (T, n), "rb").read()),
    "" if i == "-" else i) for p, n, i in pub]
ok = lambda name, cond: print(("ok - " if cond else "not ok - ") + name)

# The wire: only the worker's own fields.
lines = open(T + "/wire.out", "rb").read().split(b"\n")
ok("wire: %d id: lines, one per event with an id" % sum(l.startswith(b"id:") for l in lines),
   sum(l.startswith(b"id:") for l in lines) == sum(1 for w in want if w[2]))
ok("wire: no event: line", not any(l.startswith(b"event:") for l in lines))
ok("wire: one retry: line, the worker's", sum(l.startswith(b"retry:") for l in lines) == 1)
ok("wire: every line is data:, id:, retry:, a comment or blank",
   all(l == b"" or l.startswith((b"data: ", b"id: ", b"retry: ", b": ")) for l in lines))
ok("wire: no CR at all", b"\r" not in b"\n".join(lines))

# sse-client: id of the event's own block, data with \n and \\ escaped.
rec = open(T + "/client.rec", "rb").read().split(b"\n")[:-1]
exp = [b"id=%s\tevent=\tdata=%s" % (i.encode(),
    d.replace(b"\\", b"\\\\").replace(b"\n", b"\\n")) for p, d, i in want]
ok("sse-client: %d events, one per publish" % len(rec), len(rec) == total)
bad = [k for k in range(min(len(rec), len(exp))) if rec[k] != exp[k]]
for k in bad[:5]:
	print("#   %s %s: got %r want %r" % (pub[k][0], pub[k][1], rec[k], exp[k]))
ok("sse-client: data and id of each as published (NUL kept, CR/CRLF as LF)",
   not bad and len(rec) == len(exp))

if browser:
	got = json.load(open(T + "/browser.json"))
	last, exp = "", []
	for p, d, i in want:
		last = i or last	# lastEventId carries over to events without id
		exp.append({"type": "message", "data": d.decode(), "id": last})
	ok("browser: %d MessageEvents, one per publish, none named evil" % len(got),
	   len(got) == total and all(g["type"] == "message" for g in got))
	bad = [k for k in range(min(len(got), len(exp))) if got[k] != exp[k]]
	for k in bad[:5]:
		print("#   %s %s: got %r want %r" % (pub[k][0], pub[k][1], got[k], exp[k]))
	ok("browser: MessageEvent.data and lastEventId as published (NUL kept, CR/CRLF as LF)",
	   not bad and len(got) == len(exp))
	nul = [g for g in got if "\x00" in g["data"]]
	ok("browser: NUL reaches MessageEvent.data (%d events)" % len(nul), len(nul) == 8)
EOF
count_checks "$T/compare.out"
[ -n "$BROWSER" ] || echo "# SKIP browser part: node, chromium or tests/browser/node_modules missing"
check "worker alive" alive "$WPIDS"
finish
