#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: the portable build (./configure --enable-portable) and the
# shared-hosting tarball (make shared-hosting-dist), using exactly the
# files the tarball holds.
# (a) the tarball: sse-fcgi, sse-publish, events.fcgi, .htaccess,
#     sse-fcgi.conf.sample and README; both binaries statically linked and
#     stripped (file, ldd); their sizes and the tarball's are printed.
# (b) sse-fcgi in a chroot that holds nothing but the binary (and empty
#     dirs), started by spawn-fcgi -c as nobody, lighttpd in front, Redis on
#     127.0.0.1: an event published with redis-cli reaches curl. Once more
#     with Redis given by a name that only the chroot's /etc/hosts knows
#     (resolution without NSS), and through a Sentinel given by such a
#     name that answers with such a name (tests/fake-sentinel.py). A name
#     nobody knows fails at start-up with a clear reason (bad input),
#     within the resolv.conf timeout.
# (c) sse-publish alone in a chroot, Redis by its /etc/hosts name, publishes
#     an event with an id that reaches the stream.
# (d) the .htaccess setup: the tarball's files unpacked into the document
#     root of a private Apache with mod_fcgid (the host's server config
#     only sets FcgidOutputBufferSize 0): an event reaches curl through
#     /api/v1/events/<channel>; the binaries and configs are not
#     downloadable.
# Skips (77) unless the build is portable, or without root (chroot,
# spawn-fcgi -u), spawn-fcgi, lighttpd, apache2 with mod_fcgid and
# mod_rewrite, or the www-data user.
. "$(dirname "$0")/lib.sh"
APACHE2=${APACHE2:-$(command -v apache2 || echo /usr/sbin/apache2)}
MODDIR=${APACHE_MODULES:-/usr/lib/apache2/modules}

grep -q '^#define SSE_PORTABLE 1' "$top_builddir/config.h" 2>/dev/null ||
    { echo "SKIP: not a portable build (./configure --enable-portable)"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: chroot and spawn-fcgi -c need root"; exit 77; }
chroot / true 2>/dev/null || { echo "SKIP: chroot is not permitted here"; exit 77; }
for p in spawn-fcgi lighttpd redis-server curl file python3; do
	command -v "$p" > /dev/null || { echo "SKIP: $p not installed"; exit 77; }
done
[ -x "$APACHE2" ] || { echo "SKIP: apache2 not installed"; exit 77; }
for m in mpm_event fcgid rewrite; do
	[ -r "$MODDIR/mod_$m.so" ] || { echo "SKIP: no $MODDIR/mod_$m.so"; exit 77; }
done
id www-data > /dev/null 2>&1 || { echo "SKIP: no www-data user"; exit 77; }
id nobody > /dev/null 2>&1 || { echo "SKIP: no nobody user"; exit 77; }
NOGROUP=$(id -gn nobody)

# Apache's children and the workers it starts run as www-data, the
# chrooted worker as nobody: they must reach their files in $T.
chmod 755 "$T"

# ---------------------------------------------------------------- (a)
make -s -C "$top_builddir" shared-hosting-dist > "$T/dist.log" 2>&1 ||
    { echo "make shared-hosting-dist failed"; cat "$T/dist.log"; exit 1; }
TARBALL=$(ls -t "$top_builddir"/sse-fcgi-shared-hosting-*.tar.gz | head -1)
mkdir -p "$T/unpacked"
tar -xzf "$TARBALL" -C "$T/unpacked"
D=$(ls -d "$T"/unpacked/sse-fcgi-shared-hosting-*)
check "tarball: one folder named after version and arch" [ -d "$D" ]
check "tarball: exactly the six files" [ "$(cd "$D" && ls -A | sort | tr '\n' ' ')" = \
    ".htaccess README events.fcgi sse-fcgi sse-fcgi.conf.sample sse-publish " ]
for b in sse-fcgi sse-publish; do
	check "$b: statically linked (file)" bash -c "file '$D/$b' | grep -q 'statically linked'"
	check "$b: no shared library (ldd)" bash -c "ldd '$D/$b' 2>&1 | grep -q 'not a dynamic executable'"
	check "$b: stripped" bash -c "file '$D/$b' | grep -q ', stripped'"
	check "$b: no ELF interpreter" bash -c "! file '$D/$b' | grep -q 'interpreter'"
done
check "events.fcgi and the binaries executable" \
    test -x "$D/events.fcgi" -a -x "$D/sse-fcgi" -a -x "$D/sse-publish"
kib() { echo "$(( ($(stat -c %s "$1") + 1023) / 1024 )) KiB"; }
echo "# sizes (stripped): sse-fcgi $(kib "$D/sse-fcgi"), sse-publish $(kib "$D/sse-publish"), $(basename "$TARBALL") $(kib "$TARBALL")"
check "sse-fcgi --version runs" bash -c "'$D/sse-fcgi' --version | grep -q sse-fcgi"

# ---------------------------------------------------------------- (b)
start_redis
# The chroot: the binary, an empty /tmp and a /log for its log file.
C=$T/chroot
mkdir -p "$C/tmp" "$C/log"
cp "$D/sse-fcgi" "$C/sse-fcgi"
chown nobody "$C/log"
chmod 1777 "$C/tmp"
check "the chroot holds the binary and empty folders only" \
    [ "$(cd "$C" && find . ! -type d | tr '\n' ' ')" = "./sse-fcgi " ]
# spawn-fcgi binds after chroot(): the socket is /sse.sock inside.
WSOCK=$C/sse.sock
# spawn_chroot URL: the chrooted worker on $WSOCK; sets WPID.
spawn_chroot() {
	rm -f "$WSOCK" "$T/spawn.pid"
	spawn-fcgi -c "$C" -u nobody -g "$NOGROUP" -s /sse.sock -P "$T/spawn.pid" \
	    -- /sse-fcgi --redis "$1" --keepalive 1 --log-file /log/worker.log \
	    >> "$T/spawn.log" 2>&1 || { echo "spawn-fcgi failed"; cat "$T/spawn.log"; exit 1; }
	WPID=$(cat "$T/spawn.pid"); track "$WPID"
}
stop_worker() {
	kill "$WPID" 2>/dev/null
	wait_until 10 bash -c "! kill -0 $WPID 2>/dev/null"
}
spawn_chroot "redis://127.0.0.1:$RPORT"
start_lighttpd
check "worker runs in the chroot" bash -c "[ \$(readlink /proc/$WPID/root) = '$C' ]"
check "worker runs as nobody" bash -c "[ \$(stat -c %U /proc/$WPID) = nobody ]"
stream c1 "$BASE/api/v1/events/portable.1"
wait_until 20 numsub_is portable.1 1
check "chroot: subscribed through lighttpd" numsub_is portable.1 1
wait_until 20 ready c1
rcli PUBLISH portable.1 'from the chroot' > /dev/null
wait_until 10 body_has c1 'data: from the chroot'
check "chroot: the event reaches curl" body_has c1 'data: from the chroot'
stop_worker

# Redis by a name only the chroot's /etc/hosts knows; the resolv.conf
# points at a port where no DNS server answers, briefly.
mkdir -p "$C/etc"
printf '127.0.0.1\tlocalhost\n127.0.0.1\tredis-host.portable.test redis-host\n127.0.0.1\tsentinel-host\n' > "$C/etc/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > "$C/etc/resolv.conf"
check "the host itself does not know redis-host" bash -c "! getent hosts redis-host > /dev/null"
spawn_chroot "redis://redis-host:$RPORT"
stream c2 "$BASE/api/v1/events/portable.2"
wait_until 20 numsub_is portable.2 1
check "chroot + /etc/hosts name: subscribed" numsub_is portable.2 1
wait_until 20 ready c2
rcli PUBLISH portable.2 'by name' > /dev/null
wait_until 10 body_has c2 'data: by name'
check "chroot + /etc/hosts name: the event reaches curl" body_has c2 'data: by name'
check "worker log names the Redis by its name" grep -q 'redis://redis-host:' "$C/log/worker.log"

stop_worker

# Sentinel: the sentinel is given by name, and it answers with a name (as
# sentinels with resolve-hostnames do): both resolved in the chroot, the
# answer on the worker's lookup thread.
SPORT=$(free_port)
echo "* answer redis-host $RPORT" > "$T/sentinel.mode"
python3 "$top_srcdir/tests/fake-sentinel.py" "$T/sentinel.mode" "$SPORT" > "$T/sentinel.log" 2>&1 &
track $!
wait_until 10 bash -c "(exec 3<>/dev/tcp/127.0.0.1/$SPORT) 2>/dev/null"
spawn_chroot "redis+sentinel://sentinel-host:$SPORT/mymaster"
stream c3 "$BASE/api/v1/events/portable.3"
wait_until 20 numsub_is portable.3 1
check "chroot + sentinel by name answering a name: subscribed" numsub_is portable.3 1
wait_until 20 ready c3
rcli PUBLISH portable.3 'via sentinel' > /dev/null
wait_until 10 body_has c3 'data: via sentinel'
check "chroot + sentinel answering a name: the event reaches curl" body_has c3 'data: via sentinel'
check "worker log: the master's name resolved to 127.0.0.1" grep -qF \
    "master \"mymaster\" at 127.0.0.1:$RPORT (from the sentinels)" "$C/log/worker.log"

# Bad input: a name neither /etc/hosts nor DNS knows.
t0=$(now_us)
chroot "$C" /sse-fcgi --redis "redis://no-such-host.invalid:$RPORT" \
    --listen unix:/tmp/x.sock > "$T/bad.out" 2>&1
rc=$?
ms=$(( ($(now_us) - t0) / 1000 ))
echo "# unknown name: exit $rc after $ms ms: $(grep -m1 "no-such-host" "$T/bad.out")"
check "unknown Redis host: exit 2 or 1, no crash" bash -c "[ $rc = 1 ] || [ $rc = 2 ]"
check "unknown Redis host: the reason names the host and the lookup" bash -c \
    "grep -q 'no-such-host.invalid' '$T/bad.out' && grep -q 'without NSS' '$T/bad.out'"

# ---------------------------------------------------------------- (c)
P=$T/chroot-publish
mkdir -p "$P/etc"
cp "$D/sse-publish" "$P/sse-publish"
cp "$C/etc/hosts" "$P/etc/hosts"
id=$(chroot "$P" /sse-publish --redis "redis://redis-host:$RPORT" -q portable.3 'published statically' 2> "$T/pub.err")
echo "# sse-publish (static, chroot, /etc/hosts name): id $id"
check "sse-publish: printed an id" bash -c "[[ '$id' =~ ^[0-9]+-[0-9]+$ ]]"
wait_until 10 body_has c3 'data: published statically'
check "sse-publish: the event reaches the stream" body_has c3 'data: published statically'
check "sse-publish: with its id" body_has c3 "id: $id"
stop_worker

# ---------------------------------------------------------------- (d)
A=$T/apache
W=$A/www
mkdir -p "$W" "$A/apache-run"
# The whole folder uploaded, the sample copied to sse-fcgi.conf and edited.
cp -a "$D/." "$W/"
sed -e "s|^redis = .*|redis = redis://127.0.0.1:$RPORT|" \
    -e 's|^keepalive = .*|keepalive = 1|' "$D/sse-fcgi.conf.sample" > "$W/sse-fcgi.conf"
check "sample config edited (redis, keepalive)" bash -c \
    "grep -q '^redis = redis://127.0.0.1:$RPORT\$' '$W/sse-fcgi.conf' && grep -q '^keepalive = 1\$' '$W/sse-fcgi.conf'"
# What the host sets in its server config; the rest is .htaccess.
printf 'FcgidOutputBufferSize 0\n' > "$A/site.conf"
APORT=$(free_port)
sed -e "s|@PORT@|$APORT|g" -e "s|@STATEDIR@|$A|g" -e "s|@DOCROOT@|$W|g" \
    -e "s|@ALLOWOVERRIDE@|FileInfo AuthConfig Options=ExecCGI|g" \
    "$top_srcdir/tests/apache-test.conf.in" > "$A/apache.conf"
setsid "$APACHE2" -f "$A/apache.conf" -DFOREGROUND > "$A/apache.out" 2>&1 &
APID=$!; track $APID
if ! wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$APORT/"; then
	echo "apache2 did not start"; cat "$A/apache.out" "$A/apache-error.log"; exit 1
fi
ABASE=http://127.0.0.1:$APORT
stream h1 "$ABASE/api/v1/events/hosting.1"; H1=$CURL_PID
wait_until 30 numsub_is hosting.1 1
check ".htaccess: the rewrite starts the static worker (subscribed)" numsub_is hosting.1 1
wait_until 20 ready h1
check ".htaccess: status 200, event stream" bash -c \
    "grep -q '^HTTP/1.1 200' '$T/h1.hdr' && grep -qi '^Content-Type: text/event-stream' '$T/h1.hdr'"
rcli PUBLISH hosting.1 'through htaccess' > /dev/null
wait_until 10 body_has h1 'data: through htaccess'
check ".htaccess: the event reaches curl" body_has h1 'data: through htaccess'
check ".htaccess: the worker Apache started is the static one" bash -c \
    "pgrep -u www-data -f '$W/sse-fcgi' > /dev/null"
for f in sse-fcgi sse-fcgi.conf sse-publish sse-fcgi.conf.sample; do
	check ".htaccess: $f not downloadable" [ "$(status "$ABASE/$f")" = 403 ]
done
kill "$H1" 2>/dev/null
kill "$APID" 2>/dev/null
wait_until 10 bash -c "! kill -0 $APID 2>/dev/null"
wait_until 30 bash -c "! pgrep -u www-data -f '$W/sse-fcgi' > /dev/null"
check "no worker started by Apache left behind" bash -c "! pgrep -u www-data -f '$W/sse-fcgi' > /dev/null"
if [ $CHECKS_FAILED -ne 0 ]; then
	echo "--- chroot worker log"; tail -n 20 "$C/log/worker.log" 2>/dev/null
	echo "--- apache error log"; tail -n 20 "$A/apache-error.log" 2>/dev/null
fi
finish
