#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: deploy/quickstart.sh itself, as root, with a private state
# directory and private ports, the package check skipped and the worker
# from this build (SKIP_INSTALL=1, SSE_FCGI_BIN). Exercises: start brings up
# Redis, the workers and lighttpd and says how long it took; a stream
# through its lighttpd gets a published event; status lists each process;
# stop leaves none of the processes it started; a normal user's run goes
# through sudo with the variables kept; bad PORT, REDIS_PORT,
# WORKERS and BIND values are refused with a message naming the variable
# and start nothing; through sudo with PORT and BIND=0.0.0.0 passed on
# sudo's command line, lighttpd listens on 0.0.0.0:PORT and streams, and
# stop ends it all again.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the quick start drops privileges to nobody and www-data)"; exit 77; }
command -v ss >/dev/null || { echo "SKIP: ss (iproute2) not installed"; exit 77; }
[ -x "$SSE_FCGI" ] || { echo "SKIP: $SSE_FCGI not built"; exit 77; }

QS=$top_srcdir/deploy/quickstart.sh
# The workers (nobody) and lighttpd (www-data) must reach the state dir.
chmod 0755 "$T"
SD=$T/qs
PORT=$(free_port)
REDIS_PORT=$(free_port)
while [ "$REDIS_PORT" = "$PORT" ]; do REDIS_PORT=$(free_port); done
export SKIP_INSTALL=1 SSE_FCGI_BIN=$SSE_FCGI STATE_DIR=$SD REDIS_PORT

# qs_pids: every PID the quick start recorded (lighttpd, workers, Redis).
qs_pids() { grep -hEo '^[0-9]+' "$SD"/lighttpd.pid "$SD"/sse-fcgi.pid "$SD"/redis.pid 2>/dev/null; }
# none_alive PIDS...: true when none of them is a live process.
none_alive() {
	local p
	for p in "$@"; do
		[ -d "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && return 1
	done
	return 0
}
# At exit, whatever happened: the quick start stops what it started.
trap 'bash "$QS" stop >/dev/null 2>&1; cleanup' EXIT

# Bad input: a clear message naming the variable, nothing started.
bad() {
	local var=$1 val=$2 out rc
	out=$(env PORT="$PORT" "$var=$val" bash "$QS" start 2>&1); rc=$?
	check "$var=$val is refused (exit $rc: $(echo "$out" | tail -1))" \
	    bash -c "[ $rc -ne 0 ] && printf '%s' \"\$1\" | grep -q \"ERROR: $var=\"" _ "$out"
}
bad PORT abc
bad PORT 70000
bad REDIS_PORT 12x
bad WORKERS 0
bad BIND garbage
bad BIND 300.1.2.3
bad BIND 127.0.0.1:80
check "bad input started nothing" [ -z "$(qs_pids)" ]

# A plain start as root (no sudo), on 127.0.0.1.
PORT=$PORT bash "$QS" start > "$T/start.out" 2>&1; rc=$?
check "start exits 0" [ $rc = 0 ]
check "start tells how long it will take" grep -q '^==> starting: a few seconds' "$T/start.out"
check "and how long it took ($(grep -o 'started in [0-9]*s' "$T/start.out"))" grep -q 'demo is running (started in [0-9]*s)' "$T/start.out"
check "lighttpd listens on 127.0.0.1:$PORT only" bash -c "ss -Hltn 'sport = :$PORT' | grep -q '127.0.0.1:$PORT' && ! ss -Hltn 'sport = :$PORT' | grep -q '0.0.0.0:$PORT'"
[ $rc = 0 ] || { cat "$T/start.out"; tail -20 "$SD"/*.log; }
FIRST=$(qs_pids | tr '\n' ' ')
check "it recorded lighttpd, 2 workers and Redis ($FIRST)" [ "$(echo $FIRST | wc -w)" = 4 ]

RPORT=$REDIS_PORT
MSG='{"type":"notification","object":{"message":"from the quick start"}}'
# start checks a stream of its own; lighttpd keeps such a stream open
# until its next write (up to 15 s), so it must not sit on a demo channel.
check "start's own check stream is not on a demo channel (project.123: $(numsub project.123))" numsub_is project.123 0
curl -sN -m 120 -H 'Accept: text/event-stream' \
    "http://127.0.0.1:$PORT/api/v1/events/project.123" > "$T/s1.out" 2> "$T/s1.err" &
track $!
t0=$(date +%s%3N)
wait_until 60 numsub_is project.123 1
# Exactly 1: the start's own check stream (still open for lighttpd until
# its next keepalive) is on a channel of its own.
check "the stream's channel is subscribed, once ($(( $(date +%s%3N) - t0 )) ms)" numsub_is project.123 1
numsub_is project.123 1 || rcli CLIENT LIST | sed 's/^/#   /'
rcli PUBLISH project.123 "$MSG" >/dev/null
t0=$(date +%s%3N)
wait_until 60 grep -qxF "data: $MSG" "$T/s1.out"
check "a stream through the demo gets a published event ($(( $(date +%s%3N) - t0 )) ms)" grep -qxF "data: $MSG" "$T/s1.out"
grep -qxF "data: $MSG" "$T/s1.out" || { echo "# stream:"; sed 's/^/#   /' "$T/s1.out" "$T/s1.err"; tail -20 "$SD"/sse-fcgi.log | sed 's/^/#   /'; }
check "the demo page is served" [ "$(status "http://127.0.0.1:$PORT/")" = 200 ]

bash "$QS" status > "$T/status.out" 2>&1
check "status lists lighttpd, 2 workers and Redis" bash -c \
    "grep -c '^lighttpd  pid' '$T/status.out' | grep -qx 1 && grep -c '^sse-fcgi  pid' '$T/status.out' | grep -qx 2 && grep -c '^redis     pid' '$T/status.out' | grep -qx 1"

bash "$QS" stop > "$T/stop.out" 2>&1
check "stop exits 0" [ $? = 0 ]
wait_until 20 none_alive $FIRST
check "stop leaves none of the processes it started" none_alive $FIRST
check "status then says nothing runs" bash -c "bash '$QS' status | grep -q '^nothing running'"

# Run by a normal user, the script runs itself through sudo and passes the
# variables on sudo's command line (a stand-in sudo records its arguments).
if command -v runuser >/dev/null && runuser -u nobody -- test -r "$QS"; then
	mkdir -p "$T/fakebin"
	printf '#!/bin/sh\nprintf "%%s\\n" "$@" > "$FAKE_SUDO_OUT"\n' > "$T/fakebin/sudo"
	chmod 0755 "$T/fakebin" "$T/fakebin/sudo"
	install -m 0666 /dev/null "$T/sudo-args"
	runuser -u nobody -- env PATH="$T/fakebin:$PATH" FAKE_SUDO_OUT="$T/sudo-args" \
	    PORT=8081 BIND=0.0.0.0 bash "$QS" status > "$T/user.out" 2>&1
	check "a normal user's run goes through sudo with PORT and BIND passed ($(tr '\n' ' ' < "$T/sudo-args"))" \
	    bash -c "grep -qx PORT=8081 '$T/sudo-args' && grep -qx BIND=0.0.0.0 '$T/sudo-args' &&
	    grep -qx bash '$T/sudo-args' && [ \"\$(tail -1 '$T/sudo-args')\" = status ]"
else
	echo "# SKIP sudo re-run as a normal user: nobody cannot read $QS"
fi

# Through sudo: variables on sudo's command line pass (sudo drops the
# caller's environment), BIND=0.0.0.0 listens on every interface.
if command -v sudo >/dev/null; then
	P2=$(free_port)
	sudo PORT=$P2 BIND=0.0.0.0 STATE_DIR="$SD" REDIS_PORT="$REDIS_PORT" \
	    SKIP_INSTALL=1 SSE_FCGI_BIN="$SSE_FCGI" "$QS" start > "$T/sudo.out" 2>&1; rc=$?
	check "sudo PORT=$P2 BIND=0.0.0.0 deploy/quickstart.sh starts" [ $rc = 0 ]
	[ $rc = 0 ] || { cat "$T/sudo.out"; tail -20 "$SD"/*.log; }
	check "lighttpd listens on 0.0.0.0:$P2 (PORT passed through sudo)" bash -c "ss -Hltn 'sport = :$P2' | grep -q '0.0.0.0:$P2'"
	SECOND=$(qs_pids | tr '\n' ' ')
	check "it recorded lighttpd, 2 workers and Redis ($SECOND)" [ "$(echo $SECOND | wc -w)" = 4 ]
	curl -sN -m 120 -H 'Accept: text/event-stream' \
	    "http://127.0.0.1:$P2/api/v1/events/task.7" > "$T/s2.out" &
	track $!
	wait_until 60 numsub_is task.7 1
	check "its stream's channel is subscribed" numsub_is task.7 1
	rcli PUBLISH task.7 '{"percent":42}' >/dev/null
	wait_until 60 grep -qxF 'data: {"percent":42}' "$T/s2.out"
	check "a stream through it gets a published event" grep -qxF 'data: {"percent":42}' "$T/s2.out"
	sudo STATE_DIR="$SD" "$QS" stop > "$T/stop2.out" 2>&1
	wait_until 20 none_alive $SECOND
	check "sudo ... stop leaves none of the processes it started ($SECOND)" none_alive $SECOND
else
	echo "# SKIP sudo part: sudo not installed"
fi
finish
