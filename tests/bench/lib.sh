# sse-fcgi - MIT License
#
# What the benchmark scripts (bench.sh, callgrind.sh, scale.sh) share:
# a private temp dir, tracking and stopping only the processes they start,
# time-limited waits, free ports, process accounting from /proc, a private
# Redis and lighttpd from the shipped config. Source it after setting
# BENCH_NAME (the name in error messages and of the temp dir) and
# top_srcdir. KEEP_TMP=1 keeps the temp dir.

T=$(mktemp -d "/tmp/sse-$BENCH_NAME.XXXXXX")
PIDS=""

cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ -n "${KEEP_TMP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
track() { PIDS="$PIDS $*"; }
# stop PID...: TERM, up to 10 s, then KILL; only our own processes.
stop() {
	local p i
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for i in $(seq 100); do
		for p in "$@"; do kill -0 "$p" 2>/dev/null && break; done
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	for p in "$@"; do kill -9 "$p" 2>/dev/null; done
	for p in "$@"; do wait "$p" 2>/dev/null; done
}
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }
# install_pkgs PACKAGE...: apt-get them, unless SKIP_INSTALL is set.
install_pkgs() {
	[ -n "${SKIP_INSTALL:-}" ] && return 1
	echo "$BENCH_NAME: apt-get install $*" >&2
	apt-get update -qq >/dev/null &&
	    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq \
	    --no-install-recommends "$@" >/dev/null
}
# wait_until SECONDS COMMAND...: polls every 0.1 s.
wait_until() {
	local limit=$(($1 * 10)) i=0; shift
	while [ $i -lt $limit ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done
	return 1
}
listening() { (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; }
# free_port: a port nobody listens on, below the ephemeral range.
free_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % 22000))
		listening $p || { echo $p; return; }
	done
}
# rss_kb PID...: the sum of their VmRSS.
rss_kb() {
	local p t=0 r
	for p in "$@"; do
		r=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		t=$((t + ${r:-0}))
	done
	echo $t
}

# start_redis: a private Redis without persistence; sets RPORT and RPID.
start_redis() {
	RPORT=$(free_port)
	redis-server --port "$RPORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --maxclients 30000 --daemonize no \
	    --dir "$T" > "$T/redis-$RPORT.log" 2>&1 &
	RPID=$!; track $RPID
	wait_until 10 redis-cli -p "$RPORT" PING >/dev/null 2>&1 ||
	    die "redis did not start"
}

# start_lighttpd SOCKET [MAX_CONNECTIONS PROCESSES]: lighttpd from the
# shipped deploy/lighttpd/sse-fcgi.conf.in, to the workers on SOCKET; with
# the limits given, only its fd, connection and process counts change (and
# a longer listen backlog). server.max-fds is LMAXFDS (20000 unless set;
# lighttpd 1.4 keeps it and max-connections in 16 bits, 65535 at most).
# Sets LPORT and LPID (the master; its workers are its children).
start_lighttpd() {
	local sock=$1 maxconn=${2:-} procs=${3:-}
	local -a more=()
	LPORT=$(free_port)
	mkdir -p "$T/www"
	[ -n "$maxconn" ] && more+=(-e "s|^server.max-fds .*|server.max-fds = ${LMAXFDS:-20000}|"
	    -e "s|^server.max-connections .*|server.max-connections = $maxconn|")
	[ -n "$procs" ] && more+=(-e "s|^#server.max-worker = .*|server.max-worker = $procs|")
	tuned_in lighttpd "$top_srcdir/deploy/lighttpd/sse-fcgi.conf.in" ||
	    die "deploy/lighttpd/sse-fcgi.conf.in: not tuned"
	strip_args lighttpd; more+=("${STRIP[@]}")
	sed -e "s|@PORT@|$LPORT|g" -e "s|@DOCROOT@|$T/www|g" \
	    -e "s|@SOCKET@|$sock|g" -e "s|@STATEDIR@|$T|g" "${more[@]}" \
	    "$top_srcdir/deploy/lighttpd/sse-fcgi.conf.in" > "$T/lighttpd.conf"
	[ -n "$maxconn" ] && echo 'server.listen-backlog = 4096' >> "$T/lighttpd.conf"
	# Own session: lighttpd's master ends its workers with kill(0, TERM).
	setsid lighttpd -D -f "$T/lighttpd.conf" > "$T/lighttpd.out" 2>&1 &
	LPID=$!; track $LPID
	wait_until 10 listening "$LPORT" ||
	    die "lighttpd did not start: $(cat "$T/lighttpd.out")"
}

# The front servers of restart.sh's FRONT=, each from its shipped config
# with test ports and paths. UNTUNED=1 strips the settings that keep a
# short backend gap short (untuned_sed), to compare with the defaults.
# strip_args FRONT: sets STRIP to the sed arguments that strip them from
# FRONT's file (none unless UNTUNED is set).
strip_args() {
	STRIP=()
	[ -n "${UNTUNED:-}" ] || return 0
	case $1 in
	lighttpd) STRIP=(-e '/"disable-time"/d') ;;
	nginx) STRIP=(-e '/error_page 502 504 = @sse-fcgi-gap;/d') ;;
	apache) STRIP=(-e 's/ retry=0//') ;;
	esac
}
# tuned_in FRONT FILE: FILE has the settings strip_args strips (so
# UNTUNED=1 does strip something).
tuned_in() {
	case $1 in
	lighttpd) grep -q '"disable-time"' "$2" ;;
	nginx) grep -q 'error_page 502 504 = @sse-fcgi-gap;' "$2" ;;
	apache) grep -q ' retry=0' "$2" ;;
	esac
}

# start_nginx SOCKET MAX_CONNECTIONS: nginx with the shipped server block
# (deploy/nginx/sse-fcgi.conf) inside deploy/nginx/nginx-test.conf.in, on a
# free port, to the workers on SOCKET; only its connection and fd limits
# change. Sets NPORT and NPID (the master).
start_nginx() {
	local sock=$1 maxconn=$2 nginx
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	tuned_in nginx "$top_srcdir/deploy/nginx/sse-fcgi.conf" || die "deploy/nginx/sse-fcgi.conf: not tuned"
	strip_args nginx
	NPORT=$(free_port)
	mkdir -p "$T/nginx-tmp" "$T/www"
	cp "${FASTCGI_PARAMS:-/etc/nginx/fastcgi_params}" "$T/fastcgi_params"
	sed -e "s|^\([[:space:]]*\)listen 80;|\1listen 127.0.0.1:$NPORT backlog=4096;|" \
	    -e '/^[[:space:]]*listen \[::\]:80;/d' -e "s|root /var/www/html;|root $T/www;|" \
	    -e "s|unix:/run/sse-fcgi/sse.sock;|unix:$sock;|" "${STRIP[@]}" \
	    "$top_srcdir/deploy/nginx/sse-fcgi.conf" > "$T/sse-fcgi.conf"
	grep -q "unix:$sock;" "$T/sse-fcgi.conf" || die "deploy/nginx/sse-fcgi.conf: no socket line to replace"
	sed -e "s|@STATEDIR@|$T|g" \
	    -e "s|worker_connections 1024;|worker_connections $((maxconn * 2 + 100));|" \
	    -e "s|^worker_processes 1;|worker_processes 1;\nworker_rlimit_nofile $((maxconn * 2 + 200));|" \
	    "$top_srcdir/deploy/nginx/nginx-test.conf.in" > "$T/nginx.conf"
	setsid "$nginx" -e "$T/nginx-error.log" -p "$T/" -c "$T/nginx.conf" > "$T/nginx.out" 2>&1 &
	NPID=$!; track $NPID
	wait_until 10 listening "$NPORT" ||
	    die "nginx did not start: $(cat "$T/nginx.out" "$T/nginx-error.log" 2>/dev/null)"
}

# start_apache SOCKET MAX_CONNECTIONS: Apache with the shipped
# deploy/apache/sse-fcgi-proxy.conf inside tests/apache-test.conf.in, on a
# free port, to the workers on SOCKET (which www-data must reach); room
# for MAX_CONNECTIONS streams (one thread each). Sets APORT and APID.
start_apache() {
	local sock=$1 maxconn=$2 d=$T/apache servers apache2
	apache2=$(command -v apache2 || echo /usr/sbin/apache2)
	tuned_in apache "$top_srcdir/deploy/apache/sse-fcgi-proxy.conf" || die "deploy/apache/sse-fcgi-proxy.conf: not tuned"
	strip_args apache
	APORT=$(free_port)
	servers=$(( (maxconn + 63) / 64 + 1 ))
	mkdir -p "$d/www" "$d/apache-run"
	chmod 755 "$T" "$d"
	sed -e "s|unix:/run/sse-fcgi/sse.sock|unix:$sock|" "${STRIP[@]}" \
	    "$top_srcdir/deploy/apache/sse-fcgi-proxy.conf" > "$d/site.conf"
	grep -q "unix:$sock|" "$d/site.conf" || die "deploy/apache/sse-fcgi-proxy.conf: no socket to replace"
	sed -e "s|@PORT@|$APORT|g" -e "s|@STATEDIR@|$d|g" -e "s|@DOCROOT@|$d/www|g" \
	    -e "s|@ALLOWOVERRIDE@|None|g" -e "s|^ServerLimit .*|ServerLimit $servers|" \
	    -e "s|^ThreadsPerChild .*|ThreadsPerChild 64\nThreadLimit 64\nListenBacklog 4096|" \
	    -e "s|^MaxRequestWorkers .*|MaxRequestWorkers $((servers * 64))|" \
	    -e "s|^StartServers .*|StartServers $servers|" \
	    "$top_srcdir/tests/apache-test.conf.in" > "$d/apache.conf"
	setsid "$apache2" -f "$d/apache.conf" -DFOREGROUND > "$d/apache.out" 2>&1 &
	APID=$!; track $APID
	wait_until 20 listening "$APORT" ||
	    die "apache2 did not start: $(cat "$d/apache.out" "$d/apache-error.log" 2>/dev/null)"
}

# start_nchan_nginx DIR PORT REDIS_PORT FIRST [MORE]: nginx with Nchan in
# Redis mode, the way its documentation sets up EventSource: subscribers
# on /api/v1/events/<channel> (FIRST: nchan_subscriber_first_message,
# "newest" or "oldest"; MORE: more directives for that location), HTTP
# publishing on /pub/<channel>. NCHAN_WORKERS (default auto) nginx
# workers. Sets NCHAN_PID (the master; its workers are its children).
NCHAN_SO=/usr/lib/nginx/modules/ngx_nchan_module.so
start_nchan_nginx() {
	local d=$1 port=$2 rport=$3 first=$4 more=${5:-}
	mkdir -p "$d/logs"
	cat > "$d/nginx.conf" <<-CONF
	load_module $NCHAN_SO;
	worker_processes ${NCHAN_WORKERS:-auto};
	worker_rlimit_nofile 20000;
	pid $d/nginx.pid;
	error_log $d/logs/error.log warn;
	events { worker_connections 16384; }
	http {
	  access_log off;
	  keepalive_requests 1000000;  # one keep-alive publisher connection
	  client_body_temp_path $d/body;
	  upstream redis_server { nchan_redis_server redis://127.0.0.1:$rport; }
	  server {
	    listen 127.0.0.1:$port backlog=4096;
	    location ~ ^/api/v1/events/([\w.]+)\$ {
	      nchan_subscriber eventsource;
	      nchan_channel_id \$1;
	      nchan_subscriber_first_message $first;
	      nchan_redis_pass redis_server;
	      $more
	    }
	    location ~ ^/pub/([\w.]+)\$ {
	      nchan_publisher;
	      nchan_channel_id \$1;
	      nchan_redis_pass redis_server;
	      $more
	    }
	  }
	}
	CONF
	setsid nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off;' \
	    -e "$d/logs/error.log" > "$d/out" 2>&1 &
	NCHAN_PID=$!; track $NCHAN_PID
	wait_until 10 listening "$port" ||
	    die "nginx did not start: $(cat "$d/out" "$d/logs/error.log")"
	sleep 1.5	# Nchan connects to Redis after the listener is up
	track $(ps -o pid= --ppid $NCHAN_PID)
}
