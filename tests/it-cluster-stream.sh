#!/bin/bash
# sse-fcgi - MIT License
#
# The worker on a real Redis Cluster (three masters with a replica each,
# tests/lib.sh start_cluster), behind lighttpd, through a redis+cluster://
# URL whose first seed is a port nobody listens on; sse-publish publishes
# through the same URL. 203 channels: user.0-66, task.0-66, project.0-65
# (on all three masters), one stream each, and three hot.N picked by their
# slot (one in the slots that will move, one on the master that will be
# killed, one on the master that takes the slots), five streams each, and
# five streams of the three hot channels together (/events/A,B,C: their
# id a position per channel, ~ID~ID~ID): 220 EventSource-like streams
# (tests/sse-client -E -Q, -K for the three-channel ones: back after
# retry: with Last-Event-ID; any answer but 200 is final). Three publishers go round
# by round, each round at its due time (1 s apart), event r of a phase
# carrying data "r PHASE" on every channel. Each phase opens fresh
# streams, and each stream must get the phase's events 1..R exactly once,
# in order (no gap, no duplicate), each with an id, with no answer but
# 200 and none giving up:
#   1. formed: the cluster as created (5 rounds); a stream from the start
#      of a channel's history (lastEventId=0-0) gets it all, with ids, and
#      so does one of the three hot channels (lastEventId=~0-0~0-0~0-0);
#   2. failover (12 rounds): the master of slot 8192 is killed (SIGKILL)
#      while streams are open and publishers run, its replica promoted;
#      the worker stays up;
#   3. reshard (10 rounds): 1,000 slots of the master of slot 0, with 5
#      streamed channels at least in them, move to the master of slot
#      16383 while streams are open and publishers run;
#   4. worker restart (10 rounds): a new worker takes the socket, the old
#      one is stopped by its PID (SIGTERM) while publishers run; every
#      stream comes back with Last-Event-ID and gets exactly the events it
#      missed, from the history (the new worker counts them replayed).
# 5. HTTP publishing through the worker, and a raw SPUBLISH as existing
#    publishers send it, on a channel of each master.
# Besides: a stream of several channels with a Last-Event-ID that is not
# a position for each (a plain id, a field too few or too many, a field
# not an id) is refused with 400 naming the positions, and so are
# several channels in poll mode and 65 in one stream; a worker given a
# history-prefix with '{' and a cluster URL exits 2 with one error line
# naming it; every channel's history (at
# its master) holds each published event once, in order, so a publisher's
# fault is told apart from the worker's; /stats answers, with no stream
# left open; the worker log has no error but of Redis nodes or the
# cluster's changes.
# A worker that refuses the URL fails the scenario at once, one "not ok"
# line with its reason, instead of running the phases into their timeouts.
. "$(dirname "$0")/lib.sh"
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}
redis-cli --cluster help 2>&1 | grep -q reshard ||
    { echo "SKIP: redis-cli has no --cluster"; exit 77; }
# A failover takes seconds: a publish may wait that long.
export SSE_FCGI_PUBLISH_TIMEOUT=60000
unset SSE_FCGI_CONFIG SSE_FCGI_REDIS SSE_FCGI_HISTORY_PREFIX
PERIOD_MS=1000		# between a phase's rounds
NPUB=3			# publishers, each with a third of the channels
MOVE=1000		# slots moved in phase 3
# retry: 1 s: a stream ended by its worker comes back after about that,
# so events are published while it is away.
SECRET=cluster-publish-secret
WARGS=(--retry 1000 --keepalive 5 --log-level debug --publisher-secret "$SECRET")

DOWN=$(free_port)
# A history-prefix holding a '{' (the channel must be the keys' hash
# tag): refused before any connection.
timeout -k 5 20 "$SSE_FCGI" --redis "redis+cluster://127.0.0.1:$DOWN" \
    --history-prefix 'x{y}:' --listen "unix:$T/prefix.sock" \
    > /dev/null 2> "$T/prefix.err" < /dev/null; rc=$?
grep ' error: ' "$T/prefix.err" > "$T/prefix.errors"
echo "# history-prefix x{y}: with a cluster URL: exit $rc: $(head -c 300 "$T/prefix.errors")"
check "a history-prefix with '{' and a cluster URL: exit 2, one error line, naming it" bash -c \
    "[ $rc = 2 ] && [ \$(wc -l < '$T/prefix.errors') = 1 ] && grep -q history-prefix '$T/prefix.errors'"

t0=$SECONDS
start_cluster
echo "# cluster of $CPORTS formed in $((SECONDS - t0)) s"
URL="redis+cluster://127.0.0.1:$DOWN,$(printf '127.0.0.1:%s,' $CPORTS | sed 's/,$//')"

# slot_owners: "SLOT ADDR" for every slot, as the first live node says.
slot_owners() {
	cluster_view "${CPORTS%% *}" | awk '{
		for (i = 2; i <= NF; i++) {
			n = split($i, r, "-"); hi = n > 1 ? r[2] : r[1]
			for (s = r[1]; s <= hi; s++) print s, $1
		}
	}'
}
# slots_of FILE: "CHANNEL SLOT" for each channel of FILE.
slots_of() {
	paste -d ' ' "$1" <(sed 's/^/CLUSTER KEYSLOT /' "$1" | redis-cli -p "${CPORTS%% *}")
}
# owners FILE: "CHANNEL PORT" of the master of each channel of FILE.
owners() {
	awk 'NR == FNR { o[$1] = $2; next } { a = o[$2]; sub(/.*:/, "", a); print $1, a }' \
	    <(slot_owners) <(slots_of "$1")
}

# The channels: 200 on all three masters, and three picked by slot.
{ seq -f 'user.%g' 0 66; seq -f 'task.%g' 0 66; seq -f 'project.%g' 0 65; } > "$T/chans"
owners "$T/chans" > "$T/chans.owners"
echo "# channels per master: $(awk '{ n[$2]++ } END { for (p in n) printf "%s:%d ", p, n[p] }' "$T/chans.owners")"
check "200 channels, on all three masters (30 at least on each)" bash -c "
    [ \$(sort -u '$T/chans' | wc -l) = 200 ] &&
    [ \$(awk '{ n[\$2]++ } END { for (p in n) if (n[p] >= 30) k++; print k + 0 }' '$T/chans.owners') = 3 ]"
FROM=$(cluster_master_of_slot 0)	# gives its lowest slots in phase 3
KILL=$(cluster_master_of_slot 8192)	# killed in phase 2
TO=$(cluster_master_of_slot 16383)	# takes the slots in phase 3
# redis-cli --cluster reshard takes the source's lowest slots first.
LO=$(slot_owners | awk -v f="127.0.0.1:$FROM" '$2 == f { print $1 }' | sort -n | head -$MOVE | tail -1)
seq -f 'hot.%g' 0 3000 > "$T/hot-cands"
slots_of "$T/hot-cands" > "$T/hot-slots"
# pick_hot PORT [MAXSLOT]: the first hot.N served by PORT (at a slot up to
# MAXSLOT).
pick_hot() {
	awk -v p="$1" -v m="${2:-16383}" 'NR == FNR { a = $2; sub(/.*:/, "", a); o[$1] = a; next }
	    o[$2] == p && $2 <= m { print $1; exit }' <(slot_owners) "$T/hot-slots"
}
HOTA=$(pick_hot "$FROM" "$LO"); HOTB=$(pick_hot "$KILL"); HOTC=$(pick_hot "$TO")
echo "# FROM $FROM (slots up to $LO move), KILL $KILL, TO $TO; hot: $HOTA $HOTB $HOTC"
check "three masters, one hot channel on each as planned" bash -c "
    [ -n '$FROM' ] && [ -n '$KILL' ] && [ -n '$TO' ] && [ \$(printf '%s\n' $FROM $KILL $TO | sort -u | wc -l) = 3 ] &&
    [ -n '$HOTA' ] && [ -n '$HOTB' ] && [ -n '$HOTC' ]"
cat "$T/chans" > "$T/all"; printf '%s\n' $HOTA $HOTB $HOTC >> "$T/all"
NCH=$(wc -l < "$T/all")
awk -v lo="$LO" -v f="$FROM" 'NR == FNR { a = $2; sub(/.*:/, "", a); if (a == f) own[$1] = 1; next }
    ($2 in own) && $2 <= lo { print $1 }' <(slot_owners) <(slots_of "$T/all") > "$T/moving"
echo "# channels in the slots that will move: $(wc -l < "$T/moving")"
check "5 streamed channels at least in the $MOVE slots that will move" \
    [ "$(wc -l < "$T/moving")" -ge 5 ]

# The worker takes the URL and stays up (today it refuses it: then the
# phases would only time out, so the scenario ends here).
timeout -k 5 20 "$SSE_FCGI" --redis "$URL" --listen "unix:$T/probe.sock" \
    --log-file "$T/worker-probe.log" < /dev/null > /dev/null 2> "$T/probe.err" &
PROBE=$!; track $PROBE
sleep 2
if kill -0 $PROBE 2>/dev/null; then
	kill $PROBE; wait $PROBE 2>/dev/null
	check "the worker takes the cluster URL" true
else
	wait $PROBE; rc=$?
	echo "# the worker exited $rc: $(grep -h ' error: ' "$T/probe.err" "$T/worker-probe.log" | head -c 300)"
	check "the worker takes the cluster URL (exited $rc)" false
	finish
fi

WREDIS=$URL start_workers 1 "${WARGS[@]}"
W1=$WPIDS
start_lighttpd
U=$BASE/api/v1
check "the worker answers through lighttpd" wait_until 20 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -m 5 -I '$U/events/probe.1')\" = 200 ]"

# A stream of several channels resumes from a position per channel:
# anything else is refused.
bad=0
for id in 1700000000000-1 '~1-1' '~1-1~2-2~3-3' '~1-1~x' '~1-1~~2-2' '~'; do
	st=$(status "$U/events/user.1,task.1" -H "Last-Event-ID: $id")
	grep -qi 'position for each of the 2 channels' "$T/last.body" || st="$st, $(head -c 200 "$T/last.body")"
	echo "# /events/user.1,task.1 after $id: $st"
	case $st in 400) ;; *) bad=$((bad + 1)) ;; esac
done
check "several channels, Last-Event-ID not a position for each: 6 of 6 answered 400 naming the positions" [ $bad = 0 ]
# Straight to a worker (cgi-fcgi) in poll mode and with max-channels
# 100: several channels in poll mode, and 65 channels in one stream, are
# refused with 400 and say why.
if command -v cgi-fcgi >/dev/null; then
	"$SSE_FCGI" --redis "$URL" --listen "unix:$T/poll.sock" --poll-hold 5 \
	    --max-channels 100 --log-file "$T/worker-poll.log" < /dev/null > /dev/null 2>&1 &
	PPOLL=$!; track $PPOLL
	wait_until 20 test -S "$T/poll.sock"
	many=$(seq -f 'm.%g' 1 65 | paste -sd,)
	for path in "user.1,task.1:poll mode" "$many:at most 64"; do
		env -i REQUEST_METHOD=GET REQUEST_URI="/api/v1/events/${path%%:*}" \
		    cgi-fcgi -bind -connect "$T/poll.sock" > "$T/fcgi.out" 2>&1
		check "FastCGI, a stream of $(echo "${path%%:*}" | tr ',' '\n' | wc -l) channels (${path#*:}): 400 saying why" \
		    bash -c "grep -q '^Status: 400' '$T/fcgi.out' && grep -q '${path#*:}' '$T/fcgi.out'"
	done
	kill $PPOLL; wait $PPOLL 2>/dev/null
else
	echo "# SKIP direct FastCGI checks: cgi-fcgi (libfcgi-bin) not installed"
fi

# publish_rounds TAG R: rounds 1..R of phase TAG, round r due at the
# start + (r - 1) * PERIOD_MS, event r on each channel of $T/all carrying
# "r TAG", by NPUB publishers in the background (each its share of the
# channels, in order); sets PUBS. Each published event is a line
# "CHANNEL r ID" in $T/pub-TAG.K, each failure one in $T/pub-TAG.fail. A
# publisher stops at 240 s whatever it did (a failure a line each then).
publish_rounds() {
	local tag=$1 n=$2 k
	PUBS=""
	: > "$T/pub-$tag.fail"
	for ((k = 0; k < NPUB; k++)); do
		(
			mapfile -t mine < <(awk -v k=$k -v n=$NPUB '(NR - 1) % n == k' "$T/all")
			start=$(now_us); stop=$((start + 240000000))
			for ((r = 1; r <= n; r++)); do
				left=$((start + (r - 1) * PERIOD_MS * 1000 - $(now_us)))
				[ $left -gt 0 ] && sleep "$((left / 1000000)).$(printf '%06d' $((left % 1000000)))"
				for ch in "${mine[@]}"; do
					if [ "$(now_us)" -gt $stop ]; then
						echo "$ch $r past the publishers' deadline" >> "$T/pub-$tag.fail"
					elif id=$("$SSE_PUBLISH" -q --maxlen 10000 --maxage 0 \
					    --redis "$URL" "$ch" "$r $tag" 2>> "$T/pub-$tag.err"); then
						echo "$ch $r $id"
					else
						echo "$ch $r exit $?" >> "$T/pub-$tag.fail"
					fi
				done
			done
		) > "$T/pub-$tag.$k" &
		PUBS="$PUBS $!"; track $!
	done
}
# published TAG: events of phase TAG published so far.
published() { cat "$T"/pub-"$1".[0-9]* 2>/dev/null | wc -l; }
at_least() { [ "$(published "$1")" -ge "$2" ]; }
pubs_running() { local p; for p in $PUBS; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
pubs_done() { ! pubs_running; }
# pubs_verdict TAG LABEL R: waits for the publishers (300 s at most),
# checks they published all R rounds.
pubs_verdict() {
	local tag=$1 label=$2 n=$3 t=$SECONDS
	wait_until 300 pubs_done
	kill $PUBS 2>/dev/null; wait $PUBS 2>/dev/null
	echo "# $label: $(published "$tag") events published ($((SECONDS - t)) s waited for the last)"
	[ -s "$T/pub-$tag.fail" ] && { echo "# failures:"; head -5 "$T/pub-$tag.fail"; tail -3 "$T/pub-$tag.err"; }
	check "$label: all $((n * NCH)) events published ($n rounds on $NCH channels)" bash -c \
	    "[ $(published "$tag") = $((n * NCH)) ] && [ ! -s '$T/pub-$tag.fail' ]"
}

# The streams: user.{i}, task.{i}, project.{i} one each, the hot
# channels five each.
declare -A CL=()
CLGROUPS="user task project $HOTA $HOTB $HOTC multi"
NMULTI=5
NSTREAMS=$((67 + 67 + 66 + 15 + NMULTI))
# clients_start TAG R: fresh streams (no Last-Event-ID at first), each to
# get R events, data 1..R in order; waits until every one is open (its
# answer's head comes once the worker has subscribed its channel). The
# first stream of each group records its events ($T/cl-TAG-GROUP.rec).
clients_ready() {
	local g
	for g in $CLGROUPS; do [ -e "$T/cl-$1-$g.ready" ] || return 1; done
}
clients_start() {
	local tag=$1 e=$2 g n u
	for g in user:67 task:67 project:66 "$HOTA:5" "$HOTB:5" "$HOTC:5" multi:$NMULTI; do
		n=${g##*:}; g=${g%:*}
		q=-Q; k=1
		case $g in
		user|task|project) u="$U/events/$g.{i}" ;;
		multi) u="$U/events/$HOTA,$HOTB,$HOTC"; q=-K; k=3 ;;
		*) u="$U/events/$g" ;;
		esac
		"$SSE_CLIENT" -q -E $q -n "$n" -e "$((k * e))" -d 400 -r "$T/cl-$tag-$g.ready" \
		    -o "$T/cl-$tag-$g.rec" -u "$u" > "$T/cl-$tag-$g.out" 2> "$T/cl-$tag-$g.err" &
		CL[$tag-$g]=$!; track $!
	done
	check "$tag: $NSTREAMS streams open" wait_until 60 clients_ready "$tag"
}
# clients_verdict TAG LABEL R MIN_RECONNECTS: once the streams have ended
# (90 s at most after the last publish: then they are stopped and count as
# short), each got its R events once, in order, with no answer but 200 and
# none gave up; MIN_RECONNECTS reconnections at least; each recorded
# event had an id.
fig() { local v; v=$(val "$1" "$2"); echo "${v:-0}"; }
clients_verdict() {
	local tag=$1 label=$2 e=$3 minrec=$4 g pid rc line n pids="" ok=1
	local non200=0 dead=0 rec=0 seqerr=0 ooo=0 got=0 withid=0
	for g in $CLGROUPS; do pids="$pids ${CL[$tag-$g]}"; done
	wait_until 90 bash -c "for p in $pids; do kill -0 \$p 2>/dev/null && exit 1; done; exit 0" ||
	    echo "# $label: streams still short 90 s after the last publish: stopped"
	for g in $CLGROUPS; do
		pid=${CL[$tag-$g]}
		kill "$pid" 2>/dev/null; wait "$pid"; rc=$?
		line=$(cat "$T/cl-$tag-$g.out")
		echo "# $label, $g: $line"
		if [ "$rc" != 0 ]; then ok=0; sed 's/^/#   /' "$T/cl-$tag-$g.err" | head -5; fi
		non200=$((non200 + $(fig "$line" http_non200)))
		dead=$((dead + $(fig "$line" dead)))
		rec=$((rec + $(fig "$line" reconnects)))
		seqerr=$((seqerr + $(fig "$line" seq_errors)))
		ooo=$((ooo + $(fig "$line" out_of_order)))
		got=$((got + $(fig "$line" received)))
		if [ "$g" = multi ]; then
			n=$(grep -cE $'^id=(~[0-9]+-[0-9]+){3}\tevent=('"$HOTA|$HOTB|$HOTC"$')\tdata=[0-9]+ '"$tag\$" "$T/cl-$tag-$g.rec" 2>/dev/null)
			n=$(( ${n:-0} / 3 ))
		else
			n=$(grep -cE $'^id=[0-9]+-[0-9]+\tevent=\tdata=[0-9]+ '"$tag\$" "$T/cl-$tag-$g.rec" 2>/dev/null)
		fi
		withid=$((withid + ${n:-0}))
	done
	echo "# $label: $got events received, $seqerr sequence errors, $ooo ids out of order, $rec reconnections"
	check "$label: all $NSTREAMS streams got all their events ($e a channel) once, in order" \
	    [ $ok = 1 -a $seqerr = 0 -a $ooo = 0 -a $got = $(((NSTREAMS - NMULTI) * e + NMULTI * 3 * e)) ]
	check "$label: no answer but 200" [ $non200 = 0 ]
	check "$label: no stream gave up" [ $dead = 0 ]
	check "$label: each event of the $(echo $CLGROUPS | wc -w) recorded streams had an id" \
	    [ $withid = $(($(echo $CLGROUPS | wc -w) * e)) ]
	[ "$minrec" -gt 0 ] &&
	    check "$label: $minrec reconnections at least (with Last-Event-ID)" [ $rec -ge "$minrec" ]
	return 0
}
worker_up() { alive "$1"; }

# 1. The cluster as formed.
R1=5
clients_start f $R1
publish_rounds f $R1
pubs_verdict f "formed" $R1
clients_verdict f "formed" $R1 0
# Every event with an id: one stream per group recorded.
# A stream from the start of the history (lastEventId=0-0).
"$SSE_CLIENT" -q -Q -n 1 -e $R1 -d 30 -o "$T/ids.rec" \
    -u "$U/events/user.0?lastEventId=0-0" > "$T/ids.out" 2>&1
echo "# user.0 from the start: $(cat "$T/ids.out")"
check "formed: user.0's history from the start: its $R1 events, in order, with ids" bash -c "
    [ \$(grep -cE $'^id=[0-9]+-[0-9]+\tevent=\tdata=[0-9]+ f\$' '$T/ids.rec') = $R1 ]"
# The three hot channels from the start of each one's history.
"$SSE_CLIENT" -q -K -n 1 -e $((3 * R1)) -d 30 -o "$T/vec.rec" \
    -u "$U/events/$HOTA,$HOTB,$HOTC?lastEventId=~0-0~0-0~0-0" > "$T/vec.out" 2>&1
echo "# $HOTA,$HOTB,$HOTC from the start: $(cat "$T/vec.out")"
check "formed: three channels from the start: $R1 events each, in order, the last id their positions" bash -c "
    grep -q seq_errors=0 '$T/vec.out' &&
    [ \$(grep -cE $'^id=(~[0-9]+-[0-9]+){3}\tevent=[a-z.0-9]+\tdata=[0-9]+ f\$' '$T/vec.rec') = $((3 * R1)) ] &&
    tail -1 '$T/vec.rec' | grep -qE '^id=~[0-9]+-$R1~[0-9]+-$R1~[0-9]+-$R1'"

# 2. A master killed while streams are open and publishers run.
R2=12
clients_start fo $R2
publish_rounds fo $R2
wait_until 120 at_least fo $((2 * NCH))
t0=$SECONDS
check "failover: master $KILL killed while publishing, a replica promoted" cluster_failover_kill "$KILL"
echo "# failover: $KILL to ${CPROMOTED:-?} settled in $((SECONDS - t0)) s; $(published fo) events published by then"
check "failover: the publishers were still at work when it settled" pubs_running
pubs_verdict fo "failover" $R2
clients_verdict fo "failover" $R2 0
check "failover: the worker stayed up" worker_up "$W1"

# 3. Slots move while streams are open and publishers run.
R3=10
clients_start rs $R3
publish_rounds rs $R3
wait_until 120 at_least rs $((2 * NCH))
t0=$SECONDS
check "reshard: $MOVE slots moved from $FROM to $TO while publishing" cluster_move_slots "$FROM" "$TO" $MOVE
echo "# reshard took $((SECONDS - t0)) s; $(published rs) events published by then"
check "reshard: the publishers were still at work when it ended" pubs_running
check "reshard: the $(wc -l < "$T/moving") channels in those slots are now at $TO" \
    [ "$(owners "$T/moving" | awk -v t="$TO" '$2 != t' | wc -l)" = 0 ]
pubs_verdict rs "reshard" $R3
clients_verdict rs "reshard" $R3 0
check "reshard: the worker stayed up" worker_up "$W1"

# 4. The worker restarted while publishers run: a new one takes the
# socket (lighttpd connects to it from then on), the old one is stopped
# by its PID; each of its streams ends and comes back with Last-Event-ID.
R4=10
clients_start rw $R4
publish_rounds rw $R4
wait_until 120 at_least rw $((3 * NCH))
WREDIS=$URL start_workers 1 "${WARGS[@]}"
W2=$WPIDS
kill -TERM "$W1"
check "restart: the old worker ($W1) stopped" wait_until 30 bash -c "! kill -0 $W1 2>/dev/null"
echo "# restart: $(published rw) events published when the old worker was gone"
check "restart: the publishers were still at work" pubs_running
pubs_verdict rw "restart" $R4
clients_verdict rw "restart" $R4 $NSTREAMS
check "restart: the new worker is up" worker_up "$W2"
# Events the new worker replayed from history (its debug lines).
replayed=$(grep "sse-fcgi\[$W2\]" "$T/worker.log" | awk '/resumed: [0-9]+ events replayed/ { n += $(NF - 2) } END { print n + 0 }')
echo "# restart: the new worker replayed ${replayed:-?} events to the streams that came back"
check "restart: what the streams missed came from the history (replayed > 0)" [ "${replayed:-0}" -gt 0 ]

# The publishers' side: each channel's history, read at its master of
# the moment, holds every event published once, in order.
owners "$T/all" | while read -r ch port; do
	ccli "$port" XRANGE "sse:history:{$ch}" - + | awk -v c="$ch" 'NR % 5 == 3 { print c, $0 }'
done > "$T/history"
while read -r ch; do
	for tag in "f $R1" "fo $R2" "rs $R3" "rw $R4"; do
		seq -f "$ch %g ${tag% *}" 1 "${tag#* }"
	done
done < "$T/all" > "$T/want"
diff "$T/want" "$T/history" | head -5 | sed 's/^/# history: /'
check "every channel's history holds each published event once, in order" \
    cmp -s "$T/want" "$T/history"

# 5. HTTP publishing through the worker (POST <mount>/publish/CHANNEL):
# one channel on each master; each event lands in its channel's history at
# that master and reaches the channel's stream once, with its id.
seq -f 'http.%g' 0 40 > "$T/http.cand"
owners "$T/http.cand" | awk '!seen[$2]++ { print $1 }' > "$T/http.chans"
check "HTTP publishing: a channel on each of the three masters" \
    [ "$(wc -l < "$T/http.chans")" = 3 ]
HPIDS=()
for ch in $(cat "$T/http.chans"); do
	stream "h-$ch" "$U/events/$ch"; HPIDS+=("$CURL_PID")
done
http_open() {
	local ch
	for ch in $(cat "$T/http.chans"); do
		grep -q '^HTTP/1.1 200' "$T/h-$ch.hdr" 2>/dev/null || return 1
	done
}
check "HTTP publishing: the three streams are open" wait_until 30 http_open
ok=0
for i in $(seq 1 20); do
	for ch in $(cat "$T/http.chans"); do
		[ "$(status "$U/publish/$ch" -X POST -H "Authorization: Bearer $SECRET" \
		    --data-binary "h$i")" = 200 ] && ok=$((ok + 1))
	done
done
check "HTTP publishing: 60 of 60 POSTs answered 200" [ $ok = 60 ]
http_got() {
	local ch
	for ch in $(cat "$T/http.chans"); do
		[ "$(grep -c '^data: h' "$T/h-$ch.out")" = 20 ] || return 1
	done
}
check "HTTP publishing: each stream got its 20 events" wait_until 30 http_got
http_exact() {
	local ch
	for ch in $(cat "$T/http.chans"); do
		[ "$(grep '^data: h' "$T/h-$ch.out" | tr '\n' ' ')" = "$(seq -f 'data: h%g' 1 20 | tr '\n' ' ')" ] || return 1
		[ "$(grep -c '^id: [0-9]*-[0-9]*$' "$T/h-$ch.out")" = 20 ] || return 1
	done
}
check "HTTP publishing: once each, in order, each with an id" http_exact
http_history() {
	local ch port
	owners "$T/http.chans" | while read -r ch port; do
		[ "$(ccli "$port" XLEN "sse:history:{$ch}")" = 20 ] || echo "$ch"
	done
}
check "HTTP publishing: 20 events in each channel's history at its master" \
    [ -z "$(http_history)" ]
# A raw SPUBLISH, as an existing publisher sends it (redis-cli at the
# channel's master, the quick start's JSON): each stream gets it once, as
# data with no id, as a raw PUBLISH on one Redis.
owners "$T/http.chans" | while read -r ch port; do
	ccli "$port" SPUBLISH "$ch" "{\"type\":\"notification\",\"ch\":\"$ch\"}" > /dev/null
done
raw_got() {
	local ch
	for ch in $(cat "$T/http.chans"); do
		[ "$(grep -c "^data: {\"type\":\"notification\",\"ch\":\"$ch\"}\$" "$T/h-$ch.out")" = 1 ] || return 1
	done
}
check "raw SPUBLISH at each master: each stream got the JSON once, as data" wait_until 30 raw_got
check "raw SPUBLISH: no id with it (20 ids, for the 20 scripted events)" \
    bash -c "for ch in \$(cat '$T/http.chans'); do [ \$(grep -c '^id: ' \"$T/h-\$ch.out\") = 20 ] || exit 1; done"
kill "${HPIDS[@]}" 2>/dev/null

# No subscription is left once every stream is gone: the worker let each
# channel go (SUNSUBSCRIBE) at the master of the moment.
shard_channels() {
	local p n=0
	for p in $CPORTS; do
		n=$((n + $(ccli "$p" PUBSUB SHARDCHANNELS | grep -c .)))
	done
	echo $n
}
no_channel_left() { [ "$(shard_channels)" = 0 ]; }
check "no shard channel left subscribed once the streams are gone" \
    wait_until 30 no_channel_left
grep ' error: ' "$T/worker.log" > "$T/errors"
echo "# worker log: $(wc -l < "$T/errors") errors, $(grep -c ' warn: ' "$T/worker.log") warnings"
grep -viE 'redis|cluster|node|slot|moved|ask|connect|lost|refused|reset|failover|master|shard|timed out|timeout' \
    "$T/errors" > "$T/errors.other"
[ -s "$T/errors.other" ] && head -5 "$T/errors.other" | sed 's/^/# /'
check "worker log: no error but of Redis nodes or the cluster's changes" [ ! -s "$T/errors.other" ]
finish
