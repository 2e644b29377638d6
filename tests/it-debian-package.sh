#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: the Debian package (debian/), built, installed, used through
# each web server and removed, on this machine (root, Debian 12).
# Exercises: dpkg-buildpackage builds it from a copy of the tree; lintian
# finds no error; `apt-get install ./sse-fcgi_*.deb` creates the system
# user sse-fcgi, the conffile /etc/sse-fcgi/sse-fcgi.conf, /var/log/sse-fcgi,
# the units (systemd-analyze verify accepts them) with sse-fcgi.socket
# enabled; every shipped front-server config and the units name the one
# socket /run/sse-fcgi/sse.sock, and the nginx server block holds the
# snippet's locations. The worker runs as the unit runs it (ExecStart as
# user sse-fcgi, the socket passed as systemd does, with the unit's group
# and mode: www-data, 0660), and an event published with the installed
# sse-publish arrives through lighttpd (lighty-enable-mod sse-fcgi), Apache
# (a2enmod proxy_fcgi, a2enconf sse-fcgi) and nginx (Debian's default site
# with `include snippets/sse-fcgi.conf;`), each run from its Debian
# configuration on a private port, its workers as www-data; and through
# lighttpd again with the workers started by spawn-fcgi as
# docs/hosting.md does (as sse-fcgi, the socket for www-data). apt-get remove
# disables the lighttpd module and the Apache conf; purge removes the
# configuration, the user, the group and the logs. The machine is left as
# it was: whatever the test enabled is disabled again, the package purged.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (installs and removes the package)"; exit 77; }
for tool in dpkg-buildpackage dh lintian apt-get lighty-enable-mod a2enconf nginx apache2 \
    setpriv python3; do
	command -v $tool >/dev/null ||
	    { echo "SKIP: $tool not installed (packages dpkg-dev debhelper lintian lighttpd apache2 nginx)"; exit 77; }
done
if dpkg-query -W -f='${Status}' sse-fcgi 2>/dev/null | grep -q ' installed'; then
	echo "SKIP: the sse-fcgi package is installed already; the test would remove it"
	exit 77
fi
SOCK=/run/sse-fcgi/sse.sock
[ -e /run/sse-fcgi ] && { echo "SKIP: /run/sse-fcgi exists (workers of this machine?)"; exit 77; }
APT="apt-get -o DPkg::Lock::Timeout=600 -y -q"
export DEBIAN_FRONTEND=noninteractive

# What the machine had enabled before, to restore it afterwards.
was_mod() { [ -e "/etc/apache2/mods-enabled/$1.load" ]; }
was_proxy=; was_mod proxy && was_proxy=1
was_proxy_fcgi=; was_mod proxy_fcgi && was_proxy_fcgi=1
was_fastcgi=; ls /etc/lighttpd/conf-enabled/??-fastcgi.conf >/dev/null 2>&1 && was_fastcgi=1
FRONT_PIDS=""
deb_cleanup() {
	local p
	for p in $FRONT_PIDS; do kill "$p" 2>/dev/null; done
	for p in $FRONT_PIDS; do wait_until 10 bash -c "! kill -0 $p 2>/dev/null"; done
	[ -n "${HOLDER:-}" ] && kill "$HOLDER" 2>/dev/null &&
	    wait_until 20 bash -c "! kill -0 $HOLDER 2>/dev/null"
	[ -n "${SPIDS:-}" ] && kill $SPIDS 2>/dev/null &&
	    wait_until 20 bash -c "! pgrep -u sse-fcgi >/dev/null"
	if dpkg-query -W -f='${Status}' sse-fcgi 2>/dev/null | grep -q 'install\|config-files'; then
		$APT purge sse-fcgi > "$T/apt-purge-cleanup.log" 2>&1
	fi
	[ -z "$was_proxy_fcgi" ] && was_mod proxy_fcgi && a2dismod -q proxy_fcgi > /dev/null
	[ -z "$was_proxy" ] && was_mod proxy && a2dismod -q -f proxy > /dev/null
	[ -z "$was_fastcgi" ] && ls /etc/lighttpd/conf-enabled/??-fastcgi.conf >/dev/null 2>&1 &&
	    lighty-disable-mod fastcgi > /dev/null
	rm -rf /run/sse-fcgi
	cleanup
}
trap deb_cleanup EXIT
chmod 755 "$T"

# --- build ------------------------------------------------------------------
mkdir -p "$T/build/src"
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	# The tree as it is (committed or not), without build products.
	(cd "$top_srcdir" && git ls-files -co --exclude-standard -z |
	    tar --null -cf - -T -) | tar -xf - -C "$T/build/src"
else
	(cd "$top_srcdir" && tar --exclude='./build*' --exclude=./debian/sse-fcgi \
	    --exclude=./tests/browser/node_modules --exclude=./.git \
	    -cf - .) | tar -xf - -C "$T/build/src"
fi
t0=$(now_us)
(cd "$T/build/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
    dpkg-buildpackage -us -uc -b > "$T/build.log" 2>&1)
rc=$?
DEB=$(ls "$T"/build/sse-fcgi_*_*.deb 2>/dev/null | head -1)
echo "# dpkg-buildpackage: exit $rc in $(( ($(now_us) - t0) / 1000000 )) s: $(basename "${DEB:-none}") ($(stat -c %s "${DEB:-/dev/null}") bytes)"
check "dpkg-buildpackage -us -uc -b builds sse-fcgi_*.deb" [ $rc = 0 -a -n "$DEB" ]
[ -n "$DEB" ] || { tail -n 30 "$T/build.log"; finish; }
lintian --pedantic -I "$T"/build/sse-fcgi_*.changes > "$T/lintian.log" 2>&1
sed 's/^/# lintian: /' "$T/lintian.log" | grep -v 'root privileges'
check "lintian: no error ($(grep -c '^E:' "$T/lintian.log") E, $(grep -c '^W:' "$T/lintian.log") W)" \
    bash -c "! grep -q '^E:' '$T/lintian.log'"
dpkg-deb -c "$DEB" > "$T/contents"
check "the package holds the binaries, man pages and the Redis script" bash -c \
    "for f in usr/bin/sse-fcgi usr/bin/sse-publish usr/share/man/man8/sse-fcgi.8.gz \
         usr/share/man/man1/sse-publish.1.gz usr/share/sse-fcgi/sse-publish.lua; do
         grep -q \" ./\$f\$\" '$T/contents' || exit 1; done"

# --- the shipped configs fit together ---------------------------------------
for f in deploy/lighttpd/20-sse-fcgi.conf deploy/apache/sse-fcgi-proxy.conf \
    deploy/nginx/sse-fcgi-snippet.conf deploy/nginx/sse-fcgi.conf deploy/systemd/sse-fcgi.socket; do
	check "$f names $SOCK" grep -q "$SOCK" "$top_srcdir/$f"
done
# directives FILE: its lines from "location /api/v1/ {" on, comments and
# indentation dropped.
directives() {
	sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1" |
	    sed -n '/^location \/api\/v1\/ {/,$p'
}
check "nginx: the server block's locations are the snippet's" diff \
    <(directives "$top_srcdir/deploy/nginx/sse-fcgi-snippet.conf") \
    <(directives "$top_srcdir/deploy/nginx/sse-fcgi.conf" | sed '$d')

# --- install ----------------------------------------------------------------
t0=$(now_us)
cp "$DEB" "$T/pkg.deb" && chmod 644 "$T/pkg.deb"
$APT install "$T/pkg.deb" > "$T/apt-install.log" 2>&1
rc=$?
check "apt-get install ./sse-fcgi_*.deb (exit $rc, $(( ($(now_us) - t0) / 1000 )) ms)" [ $rc = 0 ]
[ $rc = 0 ] || { tail -n 30 "$T/apt-install.log"; finish; }
check "/usr/bin/sse-fcgi runs ($(/usr/bin/sse-fcgi --version 2>&1))" /usr/bin/sse-fcgi --version > /dev/null
pw=$(getent passwd sse-fcgi)
echo "# user: $pw"
check "system user sse-fcgi (uid < 1000, no login shell)" bash -c \
    "[ -n '$pw' ] && [ \$(echo '$pw' | cut -d: -f3) -lt 1000 ] &&
     case '$pw' in *:/usr/sbin/nologin|*:/bin/false) true;; *) false;; esac"
check "group sse-fcgi" getent group sse-fcgi > /dev/null
check "/etc/sse-fcgi/sse-fcgi.conf is a conffile" bash -c \
    "dpkg-query -W -f='\${Conffiles}' sse-fcgi | grep -q '^ /etc/sse-fcgi/sse-fcgi.conf '"
check "the web server confs are conffiles" bash -c \
    "c=\$(dpkg-query -W -f='\${Conffiles}' sse-fcgi) &&
     echo \"\$c\" | grep -q ' /etc/lighttpd/conf-available/20-sse-fcgi.conf ' &&
     echo \"\$c\" | grep -q ' /etc/apache2/conf-available/sse-fcgi.conf ' &&
     echo \"\$c\" | grep -q ' /etc/nginx/snippets/sse-fcgi.conf '"
check "/var/log/sse-fcgi belongs to sse-fcgi (0750)" \
    [ "$(stat -c '%U:%G %a' /var/log/sse-fcgi 2>/dev/null)" = "sse-fcgi:sse-fcgi 750" ]
check "logrotate rule for /var/log/sse-fcgi" grep -q '^/var/log/sse-fcgi/\*.log' /etc/logrotate.d/sse-fcgi
if command -v logrotate >/dev/null; then
	logrotate -d -s "$T/logrotate.state" /etc/logrotate.d/sse-fcgi > "$T/logrotate.log" 2>&1
	check "logrotate accepts the rule (exit $?)" bash -c "! grep -qi 'error' '$T/logrotate.log' &&
	    grep -q 'rotating pattern: /var/log/sse-fcgi/\*.log' '$T/logrotate.log'"
fi
# The upgrade path of the maintainer scripts (the same version again): a
# changed conffile stays as the admin left it, the user too.
echo "# changed by the admin" >> /etc/sse-fcgi/sse-fcgi.conf
$APT install --reinstall "$T/pkg.deb" > "$T/apt-reinstall.log" 2>&1
rc=$?
check "reinstall (prerm upgrade, postinst configure OLD): exit $rc, the changed conffile kept" \
    bash -c "[ $rc = 0 ] && tail -1 /etc/sse-fcgi/sse-fcgi.conf | grep -q 'changed by the admin' &&
             getent passwd sse-fcgi >/dev/null"
UNITDIR=/lib/systemd/system
check "sse-fcgi.socket enabled" [ -L /etc/systemd/system/sockets.target.wants/sse-fcgi.socket ]
unit_value() { sed -n "s/^$2=//p" "$1"; }
UNIT=$UNITDIR/sse-fcgi@.service
check "the unit runs /usr/bin/sse-fcgi as sse-fcgi, logs may go to /var/log/sse-fcgi" bash -c \
    "unit_value() { sed -n \"s/^\$2=//p\" \"\$1\"; }
     unit_value $UNIT ExecStart | grep -q '^/usr/bin/sse-fcgi ' &&
     [ \"\$(unit_value $UNIT User)\" = sse-fcgi ] && [ \"\$(unit_value $UNIT LogsDirectory)\" = sse-fcgi ]"
check "the socket unit listens on $SOCK" [ "$(unit_value $UNITDIR/sse-fcgi.socket ListenStream)" = $SOCK ]
if command -v systemd-analyze >/dev/null; then
	out=$(systemd-analyze verify --man=no $UNITDIR/sse-fcgi.socket $UNITDIR/sse-fcgi@1.service 2>&1)
	check "systemd-analyze verify accepts the installed units ($out)" [ -z "$out" ]
fi

# --- the worker, as the units run it -----------------------------------------
start_redis
install -d -m "0$(unit_value $UNITDIR/sse-fcgi.socket DirectoryMode | sed 's/^0//')" /run/sse-fcgi
CMD=$(unit_value "$UNIT" ExecStart)
# The config's Redis is 6379; the test's runs elsewhere (the environment
# comes before the file).
SSE_FCGI_REDIS=redis://127.0.0.1:$RPORT python3 "$top_srcdir/tests/socket-holder.py" \
    "$SOCK" "$T/worker.pid" -- setpriv --reuid=sse-fcgi --regid=sse-fcgi --init-groups \
    $CMD --log-file /var/log/sse-fcgi/test.log > "$T/holder.out" 2>&1 &
HOLDER=$!
wait_until 20 grep -qs 'ready: socket on fd 3' /var/log/sse-fcgi/test.log
check "the worker runs as sse-fcgi and logs to /var/log/sse-fcgi" bash -c \
    "grep -q 'ready: socket on fd 3' /var/log/sse-fcgi/test.log &&
     [ \"\$(ps -o user= -p \$(head -1 '$T/worker.pid'))\" = sse-fcgi ]"
chown "$(unit_value $UNITDIR/sse-fcgi.socket SocketUser)":"$(unit_value $UNITDIR/sse-fcgi.socket SocketGroup)" $SOCK
chmod "$(unit_value $UNITDIR/sse-fcgi.socket SocketMode)" $SOCK
check "the socket: root:www-data 0660, as the unit makes it" \
    [ "$(stat -c '%U:%G %a' $SOCK)" = "root:www-data 660" ]

# through NAME BASE: one stream through a front server, one event published
# with the installed sse-publish (and the installed config).
through() {
	local name=$1 base=$2 ch=deb.$1
	stream "$name" "$base/api/v1/events/$ch"
	wait_until 20 numsub_is "$ch" 1
	sse-publish --config /etc/sse-fcgi/sse-fcgi.conf --redis "redis://127.0.0.1:$RPORT" -q \
	    "$ch" "hello through $name" > "$T/$name.pub" 2>&1
	wait_until 10 body_has "$name" "data: hello through $name"
	check "$name: 200 text/event-stream, the event arrives while the stream is open" bash -c \
	    "head -1 '$T/$name.hdr' | grep -q ' 200' &&
	     grep -qi '^content-type: text/event-stream' '$T/$name.hdr' &&
	     grep -qF 'data: hello through $name' '$T/$name.out' && kill -0 $CURL_PID"
	echo "# $name: $(head -1 "$T/$name.hdr" | tr -d '\r'), $(grep -c '^data:' "$T/$name.out") event(s)"
	kill $CURL_PID 2>/dev/null
}
# serve NAME PORT CMD...: starts a front server in its own session.
serve() {
	local name=$1 port=$2; shift 2
	setsid "$@" > "$T/$name.run.log" 2>&1 &
	FPID=$!; FRONT_PIDS="$FRONT_PIDS $FPID"
	wait_until 20 curl -s -o /dev/null "http://127.0.0.1:$port/" ||
	    { echo "# $name did not start:"; tail -n 20 "$T/$name.run.log"; }
}
stop_front() {
	kill "$FPID" 2>/dev/null
	wait_until 15 bash -c "! kill -0 $FPID 2>/dev/null"
}

# lighttpd: Debian's lighttpd.conf with its conf-enabled/, on a private port.
lighty-enable-mod sse-fcgi > "$T/lighty-enable.log" 2>&1
check "lighty-enable-mod sse-fcgi enables the module" [ -L /etc/lighttpd/conf-enabled/20-sse-fcgi.conf ]
LPORT=$(free_port)
sed -e "s|^server.port .*|server.port = $LPORT\nserver.bind = \"127.0.0.1\"|" \
    -e '/use-ipv6.pl/d' \
    -e "s|^server.errorlog .*|server.errorlog = \"$T/lighttpd-log/error.log\"|" \
    -e "s|^server.pid-file .*|server.pid-file = \"$T/lighttpd.pid\"|" \
    /etc/lighttpd/lighttpd.conf > "$T/lighttpd.conf"
# lighttpd opens its error log as www-data.
install -d -o www-data -g www-data "$T/lighttpd-log"
check "lighttpd: Debian's config with the module passes lighttpd -tt" lighttpd -tt -f "$T/lighttpd.conf"
serve lighttpd $LPORT lighttpd -D -f "$T/lighttpd.conf"
through lighttpd "http://127.0.0.1:$LPORT"
stop_front

# Apache: a copy of /etc/apache2 (ports changed) after Debian's tools ran
# on the real one.
{ a2enmod -q proxy_fcgi && a2enconf -q sse-fcgi; } > "$T/a2en.log" 2>&1
check "a2enmod proxy_fcgi && a2enconf sse-fcgi" bash -c \
    "a2query -c sse-fcgi >/dev/null && a2query -m proxy_fcgi >/dev/null"
APORT=$(free_port)
A=$T/apache2
cp -a /etc/apache2 "$A"
mkdir -p "$T/apache-run" "$T/apache-lock" "$T/apache-log" "$T/apache-fcgid"
sed -i -e "s|^Listen 80$|Listen 127.0.0.1:$APORT|" -e '/Listen 443/d' "$A/ports.conf"
sed -i "s|<VirtualHost \*:80>|<VirtualHost *:$APORT>|" "$A/sites-available/000-default.conf"
[ -e "$A/mods-available/fcgid.conf" ] &&
    sed -i "s|/var/lib/apache2/fcgid|$T/apache-fcgid|g" "$A/mods-available/fcgid.conf"
export APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data APACHE_PID_FILE=$T/apache.pid \
    APACHE_RUN_DIR=$T/apache-run APACHE_LOCK_DIR=$T/apache-lock APACHE_LOG_DIR=$T/apache-log
check "apache2: Debian's config with the conf passes -t" bash -c \
    "apache2 -d '$A' -f '$A/apache2.conf' -t > '$T/apache-t.log' 2>&1"
serve apache $APORT apache2 -d "$A" -f "$A/apache2.conf" -DFOREGROUND
through apache "http://127.0.0.1:$APORT"
stop_front

# nginx: a copy of /etc/nginx, the snippet included in the default site.
NPORT=$(free_port)
N=$T/nginx
cp -a /etc/nginx "$N"
mkdir -p "$T/nginx-log"
sed -i -e "s|/etc/nginx/|$N/|g" -e "s|^pid .*|pid $T/nginx.pid;|" \
    -e "s|/var/log/nginx/|$T/nginx-log/|g" "$N/nginx.conf"
sed -i -e "s|^\([[:space:]]*\)listen 80 default_server;|\1listen 127.0.0.1:$NPORT default_server;|" \
    -e '/listen \[::\]:80 default_server;/d' \
    -e 's|^\([[:space:]]*\)server_name _;|&\n\1include snippets/sse-fcgi.conf;|' \
    "$N/sites-available/default"
# Debian's link is absolute (to /etc/nginx): point it at the copy.
ln -sf "$N/sites-available/default" "$N/sites-enabled/default"
check "nginx: the snippet is included in the default site" \
    grep -q 'include snippets/sse-fcgi.conf;' "$N/sites-enabled/default"
check "nginx: the default site with the snippet passes nginx -t" \
    nginx -q -t -e "$T/nginx-log/error.log" -c "$N/nginx.conf"
serve nginx $NPORT nginx -e "$T/nginx-log/error.log" -c "$N/nginx.conf" -g 'daemon off;'
through nginx "http://127.0.0.1:$NPORT"
check "nginx: the default site still serves / (no 404 from a second server)" \
    [ "$(status "http://127.0.0.1:$NPORT/")" = 200 ]
stop_front

# --- the workers under spawn-fcgi, as docs/hosting.md starts them -----------
kill "$HOLDER" 2>/dev/null
wait_until 20 bash -c "! kill -0 $HOLDER 2>/dev/null"
rm -f $SOCK
SSE_FCGI_REDIS=redis://127.0.0.1:$RPORT spawn-fcgi -s /run/sse-fcgi/sse.sock -u sse-fcgi -g sse-fcgi \
    -U sse-fcgi -G www-data -M 0660 -F 2 -P /run/sse-fcgi/pids -- \
    /usr/bin/sse-fcgi --config /etc/sse-fcgi/sse-fcgi.conf \
    --log-file /var/log/sse-fcgi/sse-fcgi.log > "$T/spawn.out" 2>&1
SPIDS=$(cat /run/sse-fcgi/pids 2>/dev/null | tr '\n' ' '); track $SPIDS
wait_until 20 bash -c "[ \$(grep -c 'ready' /var/log/sse-fcgi/sse-fcgi.log 2>/dev/null) -ge 2 ]"
check "spawn-fcgi: 2 workers as sse-fcgi, socket sse-fcgi:www-data 0660" bash -c \
    "[ \"\$(ps -o user= -p '${SPIDS% }' | sort -u)\" = sse-fcgi ] &&
     [ \"\$(stat -c '%U:%G %a' $SOCK)\" = 'sse-fcgi:www-data 660' ]"
serve lighttpd $LPORT lighttpd -D -f "$T/lighttpd.conf"
through lighttpd-spawn-fcgi "http://127.0.0.1:$LPORT"
stop_front
kill $SPIDS 2>/dev/null

# --- remove, purge ------------------------------------------------------------
wait_until 20 bash -c "! pgrep -u sse-fcgi >/dev/null"
$APT remove sse-fcgi > "$T/apt-remove.log" 2>&1
rc=$?
check "apt-get remove sse-fcgi (exit $rc)" [ $rc = 0 ]
check "remove: binaries gone, configuration kept" bash -c \
    "[ ! -e /usr/bin/sse-fcgi ] && [ -f /etc/sse-fcgi/sse-fcgi.conf ]"
check "remove: the lighttpd module is disabled" [ ! -e /etc/lighttpd/conf-enabled/20-sse-fcgi.conf ]
check "remove: the Apache conf is disabled" [ ! -e /etc/apache2/conf-enabled/sse-fcgi.conf ]
# As `systemctl enable sse-fcgi@2` would (no systemd runs here).
mkdir -p /etc/systemd/system/multi-user.target.wants
ln -sf $UNIT /etc/systemd/system/multi-user.target.wants/sse-fcgi@2.service
$APT purge sse-fcgi > "$T/apt-purge.log" 2>&1
rc=$?
check "apt-get purge sse-fcgi (exit $rc)" [ $rc = 0 ]
check "purge: /etc/sse-fcgi and the web server confs are gone" bash -c \
    "[ ! -e /etc/sse-fcgi ] && [ ! -e /etc/lighttpd/conf-available/20-sse-fcgi.conf ] &&
     [ ! -e /etc/apache2/conf-available/sse-fcgi.conf ] && [ ! -e /etc/nginx/snippets/sse-fcgi.conf ]"
check "purge: user and group sse-fcgi are gone" bash -c \
    "! getent passwd sse-fcgi >/dev/null && ! getent group sse-fcgi >/dev/null"
check "purge: /var/log/sse-fcgi is gone" [ ! -e /var/log/sse-fcgi ]
check "purge: the socket unit and worker instances are no longer enabled" bash -c \
    "[ ! -e /etc/systemd/system/sockets.target.wants/sse-fcgi.socket ] &&
     [ ! -L /etc/systemd/system/multi-user.target.wants/sse-fcgi@2.service ]"
check "purge: dpkg knows nothing of sse-fcgi" bash -c \
    "! dpkg-query -W -f='\${Status}' sse-fcgi 2>/dev/null | grep -q 'install\|config-files'"
finish
