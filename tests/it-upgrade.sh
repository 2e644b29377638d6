#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: in-place restart and upgrade (SIGUSR2). A worker starts the
# file its binary is on disk now, on its own listening socket; the new
# process accepts before the old one stops accepting, then the old one ends
# its streams with a retry: of their own and exits. Under EventSource-like
# clients (tests/sse-client -E) and steady publishing, every client gets
# every event once, in order, with no answer but 200:
#   1. lighttpd, spawn-fcgi -F 2: SIGUSR2 to both, twice; the second time
#      the file was replaced meanwhile, and the new file is what runs;
#   2. nginx in front, the same;
#   3. lighttpd spawning the workers itself (bin-path): it keeps using the
#      socket the new processes accept on;
#   4. under a service manager (tests/socket-holder.py as systemd with
#      Type=notify): READY=1, then MAINPID= names the new process, which
#      the manager then stops and restarts as its own;
#   5. what cannot work says why and changes nothing: the binary gone, a
#      binary that fails to start, a bad hand-over variable.
. "$(dirname "$0")/lib.sh"

REAL=$SSE_FCGI
mkdir -p "$T/bin"
cp "$REAL" "$T/bin/sse-fcgi"
SSE_FCGI=$T/bin/sse-fcgi	# the file an upgrade starts again
start_redis

# upgrade PIDS [LOG]: SIGUSR2 to each at once; waits until each has a
# successor and is gone; sets NEW (the successors, tracked).
upgrade() {
	local p s log=${2:-$T/worker.log}
	NEW=""
	for p in $1; do kill -USR2 "$p"; done
	for p in $1; do
		wait_until 30 has "$log" "sse-fcgi\[$p\] info: .*upgrade: pid [0-9]* accepts now"
		s=$(successor_of "$p" "$log")
		wait_until 30 bash -c "! kill -0 $p 2>/dev/null"
		NEW="$NEW $s"
	done
	NEW=${NEW# }
	track $NEW
}
all_alive() { local p; for p in $1; do kill -0 "$p" 2>/dev/null || return 1; done; }
all_gone() { local p; for p in $1; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
# published CHANNEL N: at least N events of publish_seq are out.
published() { [ "$(wc -l < "$T/pub-$1.out")" -ge $(($2 * 2)) ]; }
# opened N: N streams were opened since the log began (debug lines).
opened() { [ "$(grep -c 'debug: stream_open: stream .* opened' "${2:-$T/worker.log}")" -ge "$1" ]; }
late_ok() { [ "$(es_field "$1" late_max_ms)" -lt 10000 ]; }

# 1. lighttpd and spawn-fcgi -F 2.
N=200 EVENTS=300
start_workers 2 --log-level debug
start_lighttpd
W=$WPIDS
es_start l $N $EVENTS "$BASE/api/v1/events/up.l?lastEventId=0-0"
wait_until 60 opened $N
publish_seq up.l $EVENTS 30
wait_until 60 published up.l 60
upgrade "$W"
echo "# upgraded $W to $NEW"
check "each worker has a successor and is gone" [ "$(wc -w <<< "$NEW")" = 2 ]
check "the successors took the socket over" \
    grep -q "sse-fcgi\[${NEW%% *}\] info: .*ready: socket on fd 0, taken over from pid" "$T/worker.log"
W=$NEW
# The file replaced, as a package upgrade does: the new file runs.
printf '#!/bin/sh\necho $$ >> %s\nexec %s "$@"\n' "$T/new-file.ran" "$REAL" > "$T/bin/sse-fcgi.new"
chmod +x "$T/bin/sse-fcgi.new"
mv -f "$T/bin/sse-fcgi.new" "$T/bin/sse-fcgi"
wait_until 60 opened $((N * 2))
wait_until 60 published up.l 150
upgrade "$W"
check "the second upgrade ran the file on disk now" [ "$(wc -l < "$T/new-file.ran" 2>/dev/null)" = 2 ]
wait $PUB
es_verdict l "lighttpd, 2 upgrades of 2 workers" $N $EVENTS $((N * 2))
check "lighttpd: every stream back within its retry: + 10 s" late_ok l
check "lighttpd logged no backend error" bash -c "! grep -qiE 'connect|disabled|overload|all handlers' '$T/lighttpd-error.log'"
cp "$REAL" "$T/bin/sse-fcgi"
LW=$NEW

# 2. nginx in front.
if command -v "$NGINX" >/dev/null; then
	WSOCK=$T/ng.sock start_workers 2 --log-level debug --log-file "$T/ng-worker.log"
	WSOCK=$T/ng.sock start_nginx
	W=$WPIDS
	es_start n $N 200 "$BASE/api/v1/events/up.n?lastEventId=0-0"
	wait_until 60 opened $N "$T/ng-worker.log"
	publish_seq up.n 200 30
	wait_until 60 published up.n 60
	upgrade "$W" "$T/ng-worker.log"
	wait $PUB
	es_verdict n "nginx, an upgrade of 2 workers" $N 200 $N
	check "nginx: every stream back within its retry: + 10 s" late_ok n
	check "nginx logged no upstream error" bash -c "! grep -qiE 'connect\(\) (to|failed)|no live upstreams' '$T/nginx-error.log'"
	kill "$NPID"; wait "$NPID" 2>/dev/null
fi

# 3. lighttpd spawns the workers (the shipped bin-path block).
kill "$LPID"; wait "$LPID" 2>/dev/null
SPAWNED=$(sed -e "s|/run/lighttpd/sse-fcgi.sock|$T/spawned.sock|" \
    -e "s|/usr/local/bin/sse-fcgi|$SSE_FCGI|" \
    -e "s|/var/log/lighttpd/sse-fcgi.log|$T/breakage.log|" \
    -e "s|redis://127.0.0.1:6379|redis://127.0.0.1:$RPORT|" \
    -e 's|"SSE_FCGI_KEEPALIVE" => "15",|"SSE_FCGI_KEEPALIVE" => "15", "SSE_FCGI_LOG_LEVEL" => "debug",|' \
    -e 's|^fastcgi.server = (|fastcgi.server := (|' \
    -e '/^server.modules/d' -e '/^server.stream-response-body/d' \
    "$top_srcdir/deploy/lighttpd/sse-fcgi-spawned.conf")
start_lighttpd "$SPAWNED"
wait_until 20 bash -c "[ \$(pgrep -P $LPID -c -f '$SSE_FCGI') -ge 2 ]"
W=$(pgrep -P $LPID -f "$SSE_FCGI" | tr '\n' ' '); W=${W% }
es_start b 100 200 "$BASE/api/v1/events/up.b?lastEventId=0-0"
wait_until 60 opened 100 "$T/breakage.log"
publish_seq up.b 200 30
wait_until 60 published up.b 60
upgrade "$W" "$T/breakage.log"
wait $PUB
es_verdict b "lighttpd bin-path, an upgrade of both workers" 100 200 100
check "bin-path: lighttpd did not start workers of its own meanwhile" \
    bash -c "[ \$(pgrep -P $LPID -c -f '$SSE_FCGI') = 0 ]"
check "bin-path: the successors still serve" all_alive "$NEW"
kill "$LPID"; wait "$LPID" 2>/dev/null
# No longer lighttpd's children: stopped by PID here (under systemd, the
# lighttpd unit's cgroup stops them with it).
kill $NEW 2>/dev/null
wait_until 30 all_gone "$NEW"

# 4. Under a service manager (Type=notify, socket activation).
python3 "$top_srcdir/tests/socket-holder.py" "$T/act.sock" "$T/svc.pid" -- \
    "$SSE_FCGI" --redis "redis://127.0.0.1:$RPORT" --log-file "$T/svc.log" \
    > "$T/holder.out" 2>&1 &
HOLDER=$!; track $HOLDER
wait_until 20 test -s "$T/svc.pid"
S1=$(cat "$T/svc.pid")
check "service: READY=1 once the worker accepts" \
    wait_until 20 grep -q "^$S1 READY=1" "$T/svc.pid.notify.log"
upgrade "$S1" "$T/svc.log"
S2=$NEW
check "service: the old process named its successor (MAINPID=$S2)" \
    grep -q "^$S1 .*MAINPID=$S2" "$T/svc.pid.notify.log"
check "service: the manager follows it" wait_until 20 bash -c "[ \"\$(cat '$T/svc.pid')\" = $S2 ]"
check "service: the successor does not claim READY itself" bash -c "! grep -q '^$S2 ' '$T/svc.pid.notify.log'"
check "service: no restart when the old process exits" bash -c "sleep 1.5; [ \"\$(cat '$T/svc.pid')\" = $S2 ] && kill -0 $S2"
kill -HUP $HOLDER	# systemctl restart stops the new main process
check "service: a restart stops the successor and starts afresh" \
    wait_until 30 bash -c "! kill -0 $S2 2>/dev/null && [ \"\$(cat '$T/svc.pid')\" != $S2 ]"
kill $HOLDER; wait $HOLDER 2>/dev/null

# 5. What cannot work changes nothing.
WSOCK=$T/bad.sock start_workers 1 --log-file "$T/bad.log"
B=$WPIDS
WSOCK=$T/bad.sock start_lighttpd
stream bad "$BASE/api/v1/events/up.bad"
wait_until 20 ready bad
rm -f "$T/bin/sse-fcgi"
kill -USR2 "$B"
check "binary gone: says so, still serving" \
    wait_until 20 grep -q "upgrade: .*sse-fcgi: No such file or directory; still serving" "$T/bad.log"
printf '#!/bin/sh\necho broken >&2\nexit 1\n' > "$T/bin/sse-fcgi"; chmod +x "$T/bin/sse-fcgi"
kill -USR2 "$B"
check "binary that fails: says so, still serving" \
    wait_until 20 grep -q "upgrade: the new process (pid [0-9]*) exited with status 1 before it was ready; still serving" "$T/bad.log"
pub_lua up.bad after > /dev/null
check "the worker and its streams are untouched" wait_until 20 body_has bad 'data: after'
check "the worker is still the same process" alive "$B"
out=$(SSE_FCGI_HANDOVER=junk "$REAL" --redis "redis://127.0.0.1:$RPORT" 2>&1 < /dev/null); rc=$?
check "a bad hand-over variable: exit 2 with the reason" \
    bash -c "[ $rc = 2 ] && grep -q 'SSE_FCGI_HANDOVER=junk: expected PPID:LISTEN_FD:READY_FD' <<< '$out'"
out=$(SSE_FCGI_HANDOVER=1:0:1 "$REAL" --redis "redis://127.0.0.1:$RPORT" 2>&1 < /dev/null); rc=$?
check "a hand-over variable for another process: ignored" \
    bash -c "[ $rc = 2 ] && grep -q 'no --listen given' <<< '$out'"
finish
