#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: poll mode (--poll-hold) under Apache mod_fcgid with
# FcgidMaxProcessesPerClass 4, as on a shared host that caps an account's
# processes (the real apache2 in tests/apache-test.conf.in, the worker
# started by mod_fcgid).
# (a) bad poll-hold values (flag, environment) are refused with a clear
#     message and exit 2.
# (b) one poll at a time with curl: a first poll (no Last-Event-ID) gets
#     200, its position (the last id published) and retry:, and ends at
#     once; a poll with nothing missed waits for the hold, then ends; one
#     that missed events gets them and ends at once; one waiting gets the
#     next event and ends; a raw PUBLISH reaches a waiting poll only, and
#     the worker warns about it.
# (c) POLL_CLIENTS EventSource-like clients (tests/sse-client -E -Q, which
#     reconnect after retry: with Last-Event-ID) on 10 channels while
#     events go through the history script at POLL_RATE a second: every
#     client gets every event of its channel once and in order, no answer
#     but 200, and the worker processes, sampled throughout, never number
#     more than 4. The request rate, the time per poll and each worker's
#     PSS (/proc/PID/smaps_rollup) are printed. The load runs with
#     poll-hold 0 (POLL_LOAD_HOLD): with 4 processes for 200 clients a
#     hold would keep a process from the others (see docs/poll-mode.md).
. "$(dirname "$0")/lib.sh"
APACHE2=${APACHE2:-$(command -v apache2 || echo /usr/sbin/apache2)}
MODDIR=${APACHE_MODULES:-/usr/lib/apache2/modules}
[ -x "$APACHE2" ] || { echo "SKIP: apache2 not installed"; exit 77; }
for m in mpm_event fcgid; do
	[ -r "$MODDIR/mod_$m.so" ] || { echo "SKIP: no $MODDIR/mod_$m.so"; exit 77; }
done
id www-data > /dev/null 2>&1 || { echo "SKIP: no www-data user"; exit 77; }
command -v pgrep > /dev/null || { echo "SKIP: pgrep not installed"; exit 77; }

CLIENTS=${POLL_CLIENTS:-200}
NCH=10
EVENTS=${POLL_EVENTS:-30}	# per channel
RATE=${POLL_RATE:-20}		# events a second, all channels
HOLD=${POLL_HOLD:-2}		# seconds, for (b)
LOAD_HOLD=${POLL_LOAD_HOLD:-0}	# for (c): answer at once
RETRY=${POLL_RETRY:-1000}
MAXPROC=4

# (a) ---------------------------------------------------------------------
bad_hold() {
	local out rc
	out=$("$@" 2>&1 < /dev/null); rc=$?
	[ $rc = 2 ] && printf '%s\n' "$out" | grep -qF -- "$BAD_WANT"
}
BAD_WANT='--poll-hold: "301" is out of range (0..300 seconds, or off)'
check "--poll-hold 301 refused" bad_hold "$SSE_FCGI" --poll-hold 301
BAD_WANT='--poll-hold: "2s" is not "off" or seconds'
check "--poll-hold 2s refused" bad_hold "$SSE_FCGI" --poll-hold 2s
BAD_WANT='SSE_FCGI_POLL_HOLD: "-1" is not "off" or seconds'
check "SSE_FCGI_POLL_HOLD=-1 refused" bad_hold env SSE_FCGI_POLL_HOLD=-1 "$SSE_FCGI"
printf 'poll-hold = forever\n' > "$T/bad.conf"
BAD_WANT=':1: "forever" is not "off" or seconds'
check "poll-hold = forever in a config file refused" bad_hold "$SSE_FCGI" --config "$T/bad.conf"

# Apache and its workers run as www-data: they must reach the binary and
# the state directory.
chmod 755 "$T"
mkdir -p "$T/bin"
cp "$SSE_FCGI" "$T/bin/sse-fcgi" && chmod 755 "$T/bin/sse-fcgi"
start_redis

APID=""
poll_cleanup() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null
	[ -n "$APID" ] && wait_until 10 bash -c "! kill -0 $APID 2>/dev/null"
	cleanup
}
trap poll_cleanup EXIT

# start_site NAME HOLD: Apache with the worker under mod_fcgid in poll mode
# with poll-hold HOLD, at most $MAXPROC processes; state in $T/NAME; sets
# APID, BASE, D. Every poll is logged to $D/polls.log as "STATUS
# MICROSECONDS LAST-EVENT-ID URL START-MS".
start_site() {
	local port
	D=$T/$1
	mkdir -p "$D/www" "$D/apache-run"
	cat > "$D/site.conf" <<EOF
Alias "/api/v1" "$T/bin/sse-fcgi"
<Directory "$T/bin">
    <Files "sse-fcgi">
        SetHandler fcgid-script
        Options +ExecCGI
        AcceptPathInfo On
        Require all granted
    </Files>
</Directory>
FcgidInitialEnv SSE_FCGI_REDIS redis://127.0.0.1:$RPORT
FcgidInitialEnv SSE_FCGI_POLL_HOLD $2
FcgidInitialEnv SSE_FCGI_RETRY $RETRY
FcgidInitialEnv SSE_FCGI_LOG_FILE $D/worker.log
FcgidOutputBufferSize 0
FcgidIOTimeout 60
FcgidBusyTimeout 300
FcgidMaxProcessesPerClass $MAXPROC
CustomLog "$D/polls.log" "%>s %D %{Last-Event-ID}i %U %{msec}t"
EOF
	# Room in Apache for every client at once (the workers are the
	# limit).
	port=$(free_port)
	sed -e "s|@PORT@|$port|g" -e "s|@STATEDIR@|$D|g" -e "s|@DOCROOT@|$D/www|g" \
	    -e "s|@ALLOWOVERRIDE@|None|g" -e "s|^ThreadsPerChild .*|ThreadsPerChild 64|" \
	    -e "s|^MaxRequestWorkers .*|MaxRequestWorkers 256|" \
	    "$top_srcdir/tests/apache-test.conf.in" > "$D/apache.conf"
	touch "$D/worker.log" && chmod 666 "$D/worker.log"
	setsid "$APACHE2" -f "$D/apache.conf" -DFOREGROUND > "$D/apache.out" 2>&1 &
	APID=$!; track $APID
	wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$port/" ||
	    { echo "apache2 did not start"; cat "$D/apache.out" "$D/apache-error.log"; exit 1; }
	BASE=http://127.0.0.1:$port
}
stop_site() {
	kill "$APID" 2>/dev/null
	wait_until 10 bash -c "! kill -0 $APID 2>/dev/null"
	APID=""
}
start_site one "$HOLD"
check "apache2 -t accepts the poll-mode site" bash -c \
    "'$APACHE2' -t -f '$D/apache.conf' 2>&1 | grep -q 'Syntax OK'"

nprocs() { pgrep -c -f "^$T/bin/sse-fcgi" || true; }
SHA=$(rcli SCRIPT LOAD "$(cat "$top_srcdir/deploy/redis/sse-publish.lua")")
# pub CHANNEL DATA: one event through the history script; prints its id.
pub() { rcli --raw EVALSHA "$SHA" 2 "sse:history:$1" sse:clock "$1" "" 1000 0 "$2" | head -1; }
# poll NAME [LAST-EVENT-ID]: one request to channel one.1; body in
# $T/NAME.out, status and time (s) in $T/NAME.st.
poll() {
	local h=()
	[ -n "${2:-}" ] && h=(-H "Last-Event-ID: $2")
	curl -s -N -m 20 "${h[@]}" -o "$T/$1.out" -w '%{http_code} %{time_total}' \
	    "$BASE/api/v1/events/one.1" > "$T/$1.st"
}

# (b) ---------------------------------------------------------------------
ID0=$(pub one.1 before)
poll p1
check "first poll: 200, ends at once (< 2 s: $(cut -d' ' -f2 "$T/p1.st") s)" \
    awk '$1 == 200 && $2 < 2 { ok = 1 } END { exit !ok }' "$T/p1.st"
check "first poll: its position is the last id ($ID0), retry: and no data" bash -c \
    "grep -qx 'id: $ID0' '$T/p1.out' && grep -q '^retry: ' '$T/p1.out' && ! grep -q '^data:' '$T/p1.out'"
# footprint: PSS, private dirty and RSS (kB) of each worker process.
footprint() {
	local p
	for p in $(pgrep -f "^$T/bin/sse-fcgi"); do
		awk '/^Rss:/{ r = $2 } /^Pss:/{ s = $2 } /^Private_Dirty:/{ d = $2 }
		    END { printf "pss=%d private_dirty=%d rss=%d; ", s, d, r }' "/proc/$p/smaps_rollup"
	done
}
FP_IDLE=$(footprint)
poll p2 "$ID0" &
P2=$!
subscribed() { [ "$(rcli PUBSUB NUMSUB one.1 | sed -n 2p)" -ge 1 ]; }
wait_until 10 subscribed
FP_ONE=$(footprint)
wait $P2
echo "# mod_fcgid worker footprint, idle: $FP_IDLE"
echo "# mod_fcgid worker footprint, one poll held: $FP_ONE"
check "nothing missed: ends at the hold ($HOLD s <= $(cut -d' ' -f2 "$T/p2.st") s < $((HOLD + 2)) s)" \
    awk -v h="$HOLD" '$1 == 200 && $2 >= h - 0.05 && $2 < h + 2 { ok = 1 } END { exit !ok }' "$T/p2.st"
check "nothing missed: no data, retry:" bash -c \
    "! grep -q '^data:' '$T/p2.out' && grep -q '^retry: ' '$T/p2.out'"
ID1=$(pub one.1 m1); ID2=$(pub one.1 m2)
poll p3 "$ID0"
check "missed two: both, in order, at once ($(cut -d' ' -f2 "$T/p3.st") s)" bash -c \
    "[ \"\$(sed -n 's/^data: //p' '$T/p3.out' | tr '\n' ' ')\" = 'm1 m2 ' ] &&
     grep -qx 'id: $ID2' '$T/p3.out' && awk '\$1 == 200 && \$2 < $HOLD' '$T/p3.st' | grep -q ."
poll p4 "$ID2" &
P4=$!
wait_until 10 subscribed
pub one.1 live > /dev/null
wait $P4
check "waiting: the next event ends it ($(cut -d' ' -f2 "$T/p4.st") s)" bash -c \
    "[ \"\$(sed -n 's/^data: //p' '$T/p4.out')\" = live ] && grep -q '^200' '$T/p4.st'"
# A raw PUBLISH (no id, no history) reaches a poll waiting at that moment
# only; the worker says so in its log once.
ID3=$(ids_of p4 | tail -1)
unsubscribed() { [ "$(rcli PUBSUB NUMSUB one.1 | sed -n 2p)" = 0 ]; }
wait_until 10 unsubscribed	# not p4's subscription, on its way out
poll p5 "$ID3" &
P5=$!
wait_until 10 subscribed
rcli PUBLISH one.1 rawmsg > /dev/null
wait $P5
check "raw PUBLISH: a waiting poll gets it, without id" bash -c \
    "[ \"\$(sed -n 's/^data: //p' '$T/p5.out')\" = rawmsg ] && ! grep -q '^id:' '$T/p5.out'"
check "raw PUBLISH: the worker warns that polls between requests miss it" \
    grep -q 'poll mode: an event without id' "$D/worker.log"

# (c) ---------------------------------------------------------------------
stop_site
start_site load "$LOAD_HOLD"
echo 0 > "$T/maxproc"
sampler() {
	local n max=0
	while :; do
		n=$(nprocs)
		[ "$n" -gt "$max" ] && { max=$n; echo "$max" > "$T/maxproc"; }
		echo "$n" >> "$T/procs"
		sleep 0.2
	done
}
sampler &
SAMPLER=$!; track $SAMPLER
"$SSE_CLIENT" -q -E -Q -n "$CLIENTS" -e "$EVENTS" -d 240 \
    -u "$BASE/api/v1/events/poll.{i%$NCH}" > "$T/es.out" 2> "$T/es.err" &
ES=$!; track $ES
# Every client has its position once its first poll (no Last-Event-ID)
# was answered 200.
first_polls() { [ "$(awk '$1 == 200 && $3 == "-"' "$D/polls.log" | wc -l)" -ge "$CLIENTS" ]; }
wait_until 60 first_polls
check "$CLIENTS first polls answered ($(awk '$3 == "-"' "$D/polls.log" | wc -l))" first_polls
T0=$(now_us)
awk -v n="$EVENTS" -v sha="$SHA" -v k="$NCH" 'BEGIN {
	for (i = 1; i <= n; i++)
		for (c = 0; c < k; c++)
			printf "EVALSHA %s 2 sse:history:poll.%d sse:clock poll.%d \"\" 1000 0 %d\n", sha, c, c, i
}' | python3 "$top_srcdir/tests/pace.py" "$RATE" | redis-cli -p "$RPORT" > "$T/pub.out"
PUBS=$(( $(now_us) - T0 ))
# PSS of each worker (kB).
pss() {
	local p
	for p in $(pgrep -f "^$T/bin/sse-fcgi"); do
		awk '/^Pss:/{ print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null
	done | tr '\n' ' '
}
PSS_BUSY=$(pss)
es_done() { ! kill -0 "$ES" 2>/dev/null; }
wait_until 120 es_done
kill "$ES" 2>/dev/null; wait "$ES"; RC=$?
SPAN=$(( $(now_us) - T0 ))
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
PSS_IDLE=$(pss)
echo "# clients: $(cat "$T/es.out")"
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$T/es.out"; }
check "every client got all $EVENTS events of its channel once, in order" [ "$RC" = 0 ]
check "no answer but 200" [ "$(field http_non200)" = 0 ]
check "no client gave up" [ "$(field dead)" = 0 ]
check "no id out of order" [ "$(field out_of_order)" = 0 ]
check "the publisher's events all went out ($((EVENTS * NCH)))" \
    [ "$(grep -c -- '-' "$T/pub.out")" = $((EVENTS * NCH)) ]
MAXP=$(cat "$T/maxproc")
maxp_ok() { [ "$MAXP" -ge 1 ] && [ "$MAXP" -le "$MAXPROC" ]; }
check "worker processes: at most $MAXPROC throughout (max $MAXP over $(wc -l < "$T/procs") samples)" maxp_ok
# The polls from the first publish on: rate and time per poll (%D).
NPOLL=$(awk '$4 ~ /^\/api\/v1\/events\/poll/' "$D/polls.log" | wc -l)
awk '$4 ~ /^\/api\/v1\/events\/poll/ { print $2 }' "$D/polls.log" | sort -n |
    awk -v n="$NPOLL" -v span="$SPAN" -v pubs="$PUBS" -v c="$CLIENTS" '{ d[NR] = $1 }
	END { printf "# %d clients, %d polls in all; from the first publish to the last client done %.1f s (publishing %.1f s)\n", c, n, span / 1e6, pubs / 1e6;
	    printf "# time per poll ms (Apache %%D, waiting for a process included): median %.1f, p90 %.1f, p99 %.1f, max %.1f\n",
	    d[int((n + 1) / 2)] / 1000, d[int(n * 0.9)] / 1000, d[int(n * 0.99)] / 1000, d[n] / 1000 }'
awk -v t0="$((T0 / 1000))" -v t1="$(((T0 + PUBS) / 1000))" '$5 >= t0 && $5 < t1 { n++ }
    END { printf "# polls a second while publishing: %.0f (%d in %.1f s)\n", n / ((t1 - t0) / 1000), n, (t1 - t0) / 1000 }' "$D/polls.log"
echo "# status codes: $(awk '$4 ~ /^\/api\/v1\// { print $1 }' "$D/polls.log" | sort | uniq -c | tr '\n' ' ')"
echo "# worker PSS kB, while polling: $PSS_BUSY; idle after: $PSS_IDLE"
no_non200() { ! awk '$4 ~ /^\/api\/v1\// { print $1 }' "$D/polls.log" | grep -qv '^200$'; }
check "no answer but 200 in Apache's log" no_non200
grep -iE 'error|warn' "$D/worker.log" | grep -v 'no authorization configured' | tail -n 3 | sed 's/^/# worker log: /'
finish
