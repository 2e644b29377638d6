#!/usr/bin/env bash
# sse-fcgi - MIT License
#
# sse-fcgi quick start: build the worker and run the live demo on this machine.
#
#   deploy/quickstart.sh [start]   install what is missing, build, (re)start
#   deploy/quickstart.sh stop      stop what the last start launched
#   deploy/quickstart.sh restart   stop, then start
#   deploy/quickstart.sh status    show what is running
#
# Meant for a fresh Debian 12, from any directory:
#
#   as root (a stock Debian image has no sudo):  deploy/quickstart.sh
#   as a user with sudo rights:                  sudo deploy/quickstart.sh
#
# Variables go after sudo, which drops the caller's environment otherwise:
#
#   sudo PORT=8081 BIND=0.0.0.0 deploy/quickstart.sh     (or: sudo -E ...)
#
# Run as a normal user without sudo in front, the script runs itself again
# through sudo (keeping the variables below) when sudo is installed; without
# sudo it runs as that user, which works once the packages are installed.
#
# A fresh machine takes about 2-4 minutes (apt-get install, then the build);
# later starts take seconds. The script says which at the start, and prints
# the time it took at the end.
#
#   browser -> lighttpd BIND:PORT --FastCGI (unix socket)--> 2 x sse-fcgi --> redis 127.0.0.1:REDIS_PORT
#
# The demo page (deploy/demo/index.html) is served at http://127.0.0.1:8080/.
# Redis is reused when something already answers PING on its port; otherwise
# a throw-away instance (no persistence) is started and stopped again by
# "stop". Services are stopped by the PIDs recorded in the state directory,
# never by name. When apt-get installs lighttpd or redis-server, Debian
# starts them and enables them at boot (lighttpd would take port 80): the
# script stops and disables again each service that apt-get started here,
# so nothing of the demo runs after "stop" or a reboot.
#
# Environment (all optional):
#   STATE_DIR     state directory: config, sockets, logs, pids
#                 (default /tmp/sse-fcgi-demo)
#   PORT          HTTP port of lighttpd (default 8080)
#   BIND          IPv4 address lighttpd listens on (default 127.0.0.1; 0.0.0.0
#                 listens on every interface, so that the demo opens from the
#                 host of a VM or a container). Redis stays on 127.0.0.1.
#   REDIS_PORT    Redis port (default 6379)
#   WORKERS       number of sse-fcgi processes (default 2)
#   BUILD_DIR     out-of-tree build directory (default <repo>/build)
#   SSE_FCGI_BIN  use this sse-fcgi binary instead of building one
#   SSE_FCGI_ARGS extra worker arguments, e.g. "--keepalive 5 --log-level debug"
#   SKIP_INSTALL  set to 1 to skip the package check
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

# The settings below: those the caller set are passed on when the script
# runs itself through sudo.
ENV_VARS=(STATE_DIR PORT BIND REDIS_PORT WORKERS BUILD_DIR SSE_FCGI_BIN
	SSE_FCGI_ARGS SKIP_INSTALL)
CALLER_ENV=()
for v in "${ENV_VARS[@]}"; do
	if [[ -n ${!v:-} ]]; then CALLER_ENV+=("$v=${!v}"); fi
done
STATE_DIR=${STATE_DIR:-/tmp/sse-fcgi-demo}
PORT=${PORT:-8080}
BIND=${BIND:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}
WORKERS=${WORKERS:-2}
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
SSE_FCGI_BIN=${SSE_FCGI_BIN:-}
SSE_FCGI_ARGS=${SSE_FCGI_ARGS:-}
SKIP_INSTALL=${SKIP_INSTALL:-0}
# Daemons that Debian starts and enables when their package is installed.
APT_SERVICES=(lighttpd redis-server)

PACKAGES=(build-essential autoconf automake libtool pkg-config
	libfcgi-dev libhiredis-dev libjson-c-dev libevent-dev libssl-dev
	redis-server lighttpd spawn-fcgi curl)

# Files in STATE_DIR.
SOCKET="$STATE_DIR/sse.sock"
DOCROOT="$STATE_DIR/www"
LIGHTTPD_CONF="$STATE_DIR/lighttpd.conf"
LIGHTTPD_PID="$STATE_DIR/lighttpd.pid"
WORKER_PID="$STATE_DIR/sse-fcgi.pid"
WORKER_BIN="$STATE_DIR/bin/sse-fcgi"
WORKER_WRAPPER="$STATE_DIR/bin/run-sse-fcgi"
WORKER_LOG="$STATE_DIR/sse-fcgi.log"
REDIS_PID="$STATE_DIR/redis.pid"
REDIS_LOG="$STATE_DIR/redis.log"
PORTS_FILE="$STATE_DIR/ports"

log() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# Not root: run again through sudo, passing the variables the caller set
# (sudo resets the environment; VAR=value arguments survive it).
reexec_with_sudo() {
	is_root && return 0
	command -v sudo >/dev/null 2>&1 || return 0
	log "not root: running again as root through sudo"
	exec sudo "${CALLER_ENV[@]}" bash "$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")" "$@"
}

# True when $1 is a dotted IPv4 address.
valid_ipv4() {
	local a
	local -a o
	[[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
	IFS=. read -ra o <<<"$1"
	for a in "${o[@]}"; do
		((10#$a <= 255)) || return 1
	done
}

# True when $1 is a TCP port number (1-65535).
valid_port() {
	[[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535))
}

# Checks the variables; dies with a message naming the bad one.
check_input() {
	valid_port "$PORT" || die "PORT=$PORT is not a TCP port number (1-65535)"
	valid_port "$REDIS_PORT" || die "REDIS_PORT=$REDIS_PORT is not a TCP port number (1-65535)"
	[[ $WORKERS =~ ^[1-9][0-9]{0,2}$ ]] || die "WORKERS=$WORKERS is not a number of processes (1-999)"
	valid_ipv4 "$BIND" || die "BIND=$BIND is not an IPv4 address (127.0.0.1 for this machine only, 0.0.0.0 for every interface)"
	[[ $SKIP_INSTALL == 0 || $SKIP_INSTALL == 1 ]] || die "SKIP_INSTALL=$SKIP_INSTALL must be 0 or 1"
}

# The address to reach lighttpd at from this machine.
http_host() {
	if [[ $BIND == 0.0.0.0 ]]; then echo 127.0.0.1; else echo "$BIND"; fi
}

# True when something accepts TCP connections on 127.0.0.1:$1 (or on
# address $2).
port_open() {
	(exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null
}

# True when PID $1 is alive and its command name is $2 (guards against a
# recycled PID: we only ever signal the process we started). A zombie
# waiting for init to reap it counts as gone.
pid_is() {
	local pid=$1 comm=$2 stat
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$comm" ]] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# Reads the PIDs (one per line) from file $1.
read_pids() {
	[[ -f $1 ]] || return 0
	grep -Eo '^[0-9]+' "$1" || true
}

# stop_pids NAME COMM TIMEOUT PIDFILE: SIGTERM every recorded PID that is
# still COMM, wait up to TIMEOUT seconds, then SIGKILL what is left.
stop_pids() {
	local name=$1 comm=$2 timeout=$3 file=$4 pid left i
	local -a pids=()
	for pid in $(read_pids "$file"); do
		if pid_is "$pid" "$comm"; then
			pids+=("$pid")
		fi
	done
	rm -f "$file"
	((${#pids[@]})) || return 0
	log "stopping $name (pid ${pids[*]})"
	kill -TERM "${pids[@]}" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		left=0
		for pid in "${pids[@]}"; do
			if pid_is "$pid" "$comm"; then left=1; fi
		done
		((left)) || return 0
		sleep 0.1
	done
	for pid in "${pids[@]}"; do
		if pid_is "$pid" "$comm"; then
			warn "$name pid $pid did not stop in ${timeout}s; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

do_stop() {
	# lighttpd first (no new streams), then the workers (SIGTERM is their
	# graceful stop: every stream is ended cleanly), then Redis if ours.
	stop_pids lighttpd lighttpd 10 "$LIGHTTPD_PID"
	stop_pids sse-fcgi sse-fcgi 15 "$WORKER_PID"
	stop_pids redis-server redis-server 10 "$REDIS_PID"
	rm -f "$SOCKET"
}

do_status() {
	local pid any=0
	# Ports of the last start (status may run with a different environment).
	if [[ -f $PORTS_FILE ]]; then
		PORT=$(sed -n 's/^PORT=\([0-9]*\)$/\1/p' "$PORTS_FILE")
		REDIS_PORT=$(sed -n 's/^REDIS_PORT=\([0-9]*\)$/\1/p' "$PORTS_FILE")
		BIND=$(sed -n 's/^BIND=\([0-9.]*\)$/\1/p' "$PORTS_FILE")
		BIND=${BIND:-127.0.0.1}
	fi
	for pid in $(read_pids "$LIGHTTPD_PID"); do
		pid_is "$pid" lighttpd && { echo "lighttpd  pid $pid  http://$BIND:$PORT/"; any=1; }
	done
	for pid in $(read_pids "$WORKER_PID"); do
		pid_is "$pid" sse-fcgi && { echo "sse-fcgi  pid $pid  $SOCKET"; any=1; }
	done
	for pid in $(read_pids "$REDIS_PID"); do
		pid_is "$pid" redis-server && { echo "redis     pid $pid  127.0.0.1:$REDIS_PORT (started by quickstart)"; any=1; }
	done
	((any)) || echo "nothing running (state directory $STATE_DIR)"
}

# Sets MISSING to the packages that are not installed.
find_missing() {
	local pkg
	MISSING=()
	[[ $SKIP_INSTALL == 1 ]] && return 0
	if ! command -v dpkg-query >/dev/null 2>&1; then
		warn "dpkg-query not found: not a Debian system, skipping the package check"
		return 0
	fi
	for pkg in "${PACKAGES[@]}"; do
		if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) != "install ok installed" ]]; then
			MISSING+=("$pkg")
		fi
	done
}

# Tells how long the start will take, from what is left to do.
say_duration() {
	if ((${#MISSING[@]})); then
		log "installing ${#MISSING[@]} packages, then building: about 2-4 minutes"
	elif [[ -z $SSE_FCGI_BIN && ! -x $BUILD_DIR/sse-fcgi && ! -x $REPO_ROOT/sse-fcgi ]]; then
		log "building, then starting: about 1 minute"
	else
		log "starting: a few seconds"
	fi
}

# Debian starts a daemon and enables it at boot when its package is
# installed (lighttpd would take port 80). The demo runs its own instances:
# stop and disable the service again, with systemd or, without it, with
# the tools Debian's maintainer scripts use (invoke-rc.d, update-rc.d).
undo_apt_service() {
	local svc=$1
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
		systemctl is-enabled --quiet "$svc.service" 2>/dev/null ||
			systemctl is-active --quiet "$svc.service" 2>/dev/null || return 0
		log "apt-get started and enabled $svc.service: stopping and disabling it (the demo runs its own)"
		systemctl disable --now "$svc.service" >/dev/null 2>&1 ||
			warn "could not stop and disable $svc.service"
	elif [[ -x /etc/init.d/$svc ]]; then
		log "apt-get's install starts $svc and enables it at boot: stopping and disabling it (the demo runs its own)"
		# 101: a policy-rc.d forbids it, which also kept apt from starting it.
		invoke-rc.d "$svc" stop >/dev/null 2>&1 || [[ $? == 101 ]] || warn "could not stop $svc"
		update-rc.d "$svc" disable >/dev/null 2>&1 || warn "could not disable $svc at boot"
	fi
}

install_packages() {
	local pkg svc
	((${#MISSING[@]})) || return 0
	is_root || die "missing packages: ${MISSING[*]}
run as root, or: sudo apt-get install -y ${MISSING[*]}"
	log "installing ${MISSING[*]}"
	apt-get -o DPkg::Lock::Timeout=600 update
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y "${MISSING[@]}"
	for svc in "${APT_SERVICES[@]}"; do
		for pkg in "${MISSING[@]}"; do
			[[ $pkg == "$svc" ]] && undo_apt_service "$svc"
		done
	done
	return 0
}

# Builds the worker; sets SSE_FCGI_BIN.
build() {
	if [[ -n $SSE_FCGI_BIN ]]; then
		[[ -x $SSE_FCGI_BIN ]] || die "SSE_FCGI_BIN=$SSE_FCGI_BIN is not an executable"
		log "using prebuilt $SSE_FCGI_BIN"
		return 0
	fi
	if [[ ! -f $BUILD_DIR/Makefile && -f $REPO_ROOT/config.status ]]; then
		# configure refuses an out-of-tree build of a source tree that
		# was configured in place: use the in-tree build instead.
		log "the source tree is configured in place; building in $REPO_ROOT"
		make -C "$REPO_ROOT" -j2
		SSE_FCGI_BIN="$REPO_ROOT/sse-fcgi"
		return 0
	fi
	if [[ ! -f $BUILD_DIR/Makefile ]]; then
		log "autoreconf -fi in $REPO_ROOT"
		(cd "$REPO_ROOT" && autoreconf -fi)
		log "configuring in $BUILD_DIR"
		mkdir -p "$BUILD_DIR"
		(cd "$BUILD_DIR" && "$REPO_ROOT/configure")
	fi
	log "make -j2 in $BUILD_DIR"
	make -C "$BUILD_DIR" -j2
	SSE_FCGI_BIN="$BUILD_DIR/sse-fcgi"
	[[ -x $SSE_FCGI_BIN ]] || die "the build did not produce $SSE_FCGI_BIN"
}

start_redis() {
	local i
	if port_open "$REDIS_PORT"; then
		if [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true) == PONG ]]; then
			log "reusing the Redis already listening on 127.0.0.1:$REDIS_PORT"
			return 0
		fi
		die "127.0.0.1:$REDIS_PORT is in use by something that does not answer Redis PING"
	fi
	log "starting redis-server on 127.0.0.1:$REDIS_PORT"
	# No job control in a script: the background job is not a process group
	# leader, so setsid and nohup exec in place and $! is redis-server itself.
	(cd "$STATE_DIR" && exec setsid nohup redis-server --port "$REDIS_PORT" \
		--bind 127.0.0.1 --save '' --appendonly no --daemonize no \
		>>"$REDIS_LOG" 2>&1 </dev/null) &
	local pid=$!
	for ((i = 0; i < 100; i++)); do
		if [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true) == PONG ]]; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! pid_is "$pid" redis-server; then
		tail -n 20 "$REDIS_LOG" >&2 || true
		die "redis-server did not start (log: $REDIS_LOG)"
	fi
	echo "$pid" >"$REDIS_PID"
	[[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true) == PONG ]] ||
		die "redis-server (pid $pid) does not answer PING (log: $REDIS_LOG)"
}

start_workers() {
	local pid i alive
	local -a spawn_opts=()
	mkdir -p "$STATE_DIR/bin"
	install -m 0755 "$SSE_FCGI_BIN" "$WORKER_BIN"
	# spawn-fcgi sends the workers' stderr to /dev/null: keep it in a log.
	cat >"$WORKER_WRAPPER" <<-EOF
		#!/bin/sh
		# Written by deploy/quickstart.sh: runs one sse-fcgi worker on the
		# listening socket spawn-fcgi passes as fd 0, logging to a file.
		exec "$WORKER_BIN" --redis "redis://127.0.0.1:$REDIS_PORT" $SSE_FCGI_ARGS 2>>"$WORKER_LOG"
	EOF
	chmod 0755 "$WORKER_WRAPPER"
	printf '=== %s quickstart: starting %s workers\n' "$(date -u +%FT%TZ)" "$WORKERS" >>"$WORKER_LOG"
	if is_root; then
		# Workers run as nobody; lighttpd (www-data) may use the socket.
		chown nobody:nogroup "$WORKER_LOG"
		spawn_opts=(-u nobody -g nogroup -U www-data -G www-data -M 0660)
	fi
	rm -f "$SOCKET"
	log "starting $WORKERS sse-fcgi workers on $SOCKET"
	# spawn-fcgi exits non-zero when a worker dies at once (bad arguments,
	# missing library): show why.
	if ! spawn-fcgi -s "$SOCKET" -F "$WORKERS" -P "$WORKER_PID" "${spawn_opts[@]}" \
		-- "$WORKER_WRAPPER" </dev/null >"$STATE_DIR/spawn-fcgi.log" 2>&1; then
		cat "$STATE_DIR/spawn-fcgi.log" >&2 || true
		tail -n 20 "$WORKER_LOG" >&2 || true
		die "spawn-fcgi could not start the workers (log: $WORKER_LOG)"
	fi
	# A worker that rejects its arguments exits at once: give it a moment,
	# then check that every recorded PID lives.
	sleep 1
	alive=0
	for pid in $(read_pids "$WORKER_PID"); do
		for ((i = 0; i < 20; i++)); do
			pid_is "$pid" sse-fcgi && break
			sleep 0.1
		done
		pid_is "$pid" sse-fcgi && alive=$((alive + 1))
	done
	if ((alive < WORKERS)); then
		tail -n 20 "$WORKER_LOG" >&2 || true
		die "only $alive of $WORKERS sse-fcgi workers are running (log: $WORKER_LOG)"
	fi
}

start_lighttpd() {
	local i
	rm -rf "$DOCROOT"
	cp -R "$REPO_ROOT/deploy/demo" "$DOCROOT"
	# The demo's browser client (SharedEventSource), at /js/sse-fcgi.js.
	mkdir -p "$DOCROOT/js" && cp "$REPO_ROOT/deploy/js/sse-fcgi.js" "$DOCROOT/js/"
	chmod -R a+rX "$DOCROOT"
	sed -e "s|@PORT@|$PORT|g" -e "s|@DOCROOT@|$DOCROOT|g" \
		-e "s|@SOCKET@|$SOCKET|g" -e "s|@STATEDIR@|$STATE_DIR|g" \
		-e "s|^server\.bind *= *\"127\.0\.0\.1\"|server.bind          = \"$BIND\"|" \
		"$REPO_ROOT/deploy/lighttpd/sse-fcgi.conf.in" >"$LIGHTTPD_CONF"
	grep -qx "server.bind *= *\"$BIND\"" "$LIGHTTPD_CONF" ||
		die "could not set server.bind in $LIGHTTPD_CONF"
	if is_root; then
		cat >>"$LIGHTTPD_CONF" <<-'EOF'

			# Added by deploy/quickstart.sh (running as root): drop privileges.
			server.username  = "www-data"
			server.groupname = "www-data"
		EOF
		# lighttpd opens its error log after dropping privileges.
		touch "$STATE_DIR/lighttpd-error.log"
		chown www-data:www-data "$STATE_DIR/lighttpd-error.log"
	fi
	lighttpd -tt -f "$LIGHTTPD_CONF" >/dev/null || die "lighttpd rejects $LIGHTTPD_CONF"
	log "starting lighttpd on http://$BIND:$PORT/"
	rm -f "$LIGHTTPD_PID"
	# lighttpd daemonizes itself (new session) and writes its pid file.
	lighttpd -f "$LIGHTTPD_CONF" </dev/null ||
		die "lighttpd did not start (log: $STATE_DIR/lighttpd-error.log)"
	for ((i = 0; i < 50; i++)); do
		[[ -s $LIGHTTPD_PID ]] && break
		sleep 0.1
	done
	[[ -s $LIGHTTPD_PID ]] || die "lighttpd wrote no pid file ($LIGHTTPD_PID)"
}

wait_http() {
	local i
	for ((i = 0; i < 100; i++)); do
		if curl -s -o /dev/null -m 1 "http://$(http_host):$PORT/"; then
			return 0
		fi
		sleep 0.1
	done
	die "http://$(http_host):$PORT/ does not answer after 10 s (log: $STATE_DIR/lighttpd-error.log)"
}

# Opens a stream for a moment: a working setup answers 200. Its own
# channel, not one of the demo's: lighttpd notices a client that left only
# when it next writes to it (the next keepalive, up to 15 s later), so the
# worker keeps this stream subscribed until then, and it must not count as
# a viewer of a demo channel.
check_stream() {
	local code
	code=$(curl -s -N -m 2 -o /dev/null -w '%{http_code}' \
		-H 'Accept: text/event-stream' \
		"http://$(http_host):$PORT/api/v1/events/quickstart.check" || true)
	if [[ $code != 200 ]]; then
		warn "GET /api/v1/events/quickstart.check answered HTTP $code instead of 200; see $WORKER_LOG and $STATE_DIR/lighttpd-error.log"
	fi
}

print_usage_info() {
	local rcli=redis-cli now stop="$REPO_ROOT/deploy/quickstart.sh stop" addr others=""
	[[ $REDIS_PORT == 6379 ]] || rcli="redis-cli -p $REDIS_PORT"
	[[ $STATE_DIR == /tmp/sse-fcgi-demo ]] || stop="STATE_DIR=$STATE_DIR $stop"
	[[ ${SUDO_USER:-} ]] && stop="sudo $stop"
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	if [[ $BIND == 0.0.0.0 ]]; then
		for addr in $(hostname -I 2>/dev/null || true); do
			[[ $addr == *:* ]] && continue
			others+="$(printf '\n  or:    http://%s:%s/' "$addr" "$PORT")"
		done
	fi
	cat <<EOF

sse-fcgi demo is running (started in ${SECONDS}s).

  Open:  http://$(http_host):$PORT/$others

Try it (in another terminal):

  $rcli PUBLISH user.1 '{"type":"notification","object":{"message":"Hello user 1","timestamp":"$now"}}'
  $rcli PUBLISH project.123 '{"type":"notification","object":{"message":"Hello World!","timestamp":"2024-01-01T00:00:00Z"}}'
  $rcli PUBLISH task.7 '{"type":"progress","object":{"percent":42,"status":"running"}}'

Watch the raw stream:

  curl -N -H 'Accept: text/event-stream' http://$(http_host):$PORT/api/v1/events/project.123

Logs:  $WORKER_LOG
       $STATE_DIR/lighttpd-error.log
Stop:  $stop
EOF
}

do_start() {
	SECONDS=0
	check_input
	find_missing
	say_duration
	install_packages
	build
	mkdir -p "$STATE_DIR"
	chmod 0755 "$STATE_DIR"
	# A previous instance from this state directory goes first.
	do_stop
	if port_open "$PORT" "$(http_host)"; then
		die "$(http_host):$PORT is already in use (set PORT=... to use another port)"
	fi
	# On failure, do not leave half a setup running.
	trap 'rc=$?; if ((rc)); then warn "start failed: stopping what was started"; do_stop; fi' EXIT
	printf 'PORT=%s\nREDIS_PORT=%s\nBIND=%s\n' "$PORT" "$REDIS_PORT" "$BIND" >"$PORTS_FILE"
	start_redis
	start_workers
	start_lighttpd
	wait_http
	trap - EXIT
	check_stream
	print_usage_info
}

case ${1:-start} in
start) reexec_with_sudo "$@"; do_start ;;
stop) reexec_with_sudo "$@"; do_stop ;;
restart) reexec_with_sudo "$@"; do_stop; do_start ;;
status) reexec_with_sudo "$@"; do_status ;;
-h | --help | help) sed -n '4,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
*) die "usage: $0 [start|stop|restart|status]" ;;
esac
