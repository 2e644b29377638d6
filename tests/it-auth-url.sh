#!/bin/bash
# sse-fcgi - MIT License
#
# auth-url: the site's own PHP session authorizes streams. A real PHP
# application (tests/auth-app/, Debian's php-cgi) behind the same lighttpd
# as the workers, then behind Apache (mod_proxy_fcgi to the worker and to
# php-cgi):
#   - a logged-in user reads user.{their id} and gets its events, and is
#     refused user.{someone else} (403, the app's reason); no cookie: 401;
#   - what the worker sends the app (channels, URI, client address,
#     Cookie, Authorization);
#   - public-channels still open without asking the app;
#   - cache: N streams with the same cookie cost one app request per
#     auth-cache interval (counted from the worker's log);
#   - logout ends the open streams at the next check (a last comment), and
#     the reconnect is refused;
#   - app unavailable (500, sleeping past auth-timeout, nothing listening,
#     bad answers: invalid or doubled X-SSE-User, a redirect, a huge body):
#     200 + retry:, then the end, and no event leaks, even to a resume;
#   - a slow app does not delay another stream's events (measured);
#   - bad settings refused at start.
. "$(dirname "$0")/lib.sh"
PHPCGI=${PHPCGI:-$(command -v php-cgi || echo /usr/bin/php-cgi)}
[ -x "$PHPCGI" ] || { echo "SKIP: php-cgi not installed"; exit 77; }
APACHE2=${APACHE2:-$(command -v apache2 || echo /usr/sbin/apache2)}

# The site: the PHP app in the document root, sessions in $T.
mkdir -p "$T/www" "$T/sessions"
cp "$top_srcdir"/tests/auth-app/*.php "$T/www/"
PHPARGS="-d session.save_path=$T/sessions -d display_errors=0"

start_redis
start_lighttpd \
    "fastcgi.server += ( \".php\" => (( \"bin-path\" => \"$PHPCGI $PHPARGS\"," \
    "    \"socket\" => \"$T/php.sock\", \"max-procs\" => 1," \
    "    \"bin-environment\" => ( \"PHP_FCGI_CHILDREN\" => \"4\" ) )) )" \
    "fastcgi.server += ( \"/b/\" => (( \"socket\" => \"$T/b.sock\", \"check-local\" => \"disable\" )) )" \
    "fastcgi.server += ( \"/d/\" => (( \"socket\" => \"$T/d.sock\", \"check-local\" => \"disable\" )) )"
check "php-cgi behind lighttpd answers" [ "$(status "$BASE/auth.php")" = 401 ]

# Worker A: the site's auth.php; worker B: the misbehaving one; worker D:
# an address where nothing listens.
start_workers 1 --auth-url "$BASE/auth.php" --auth-cache 2 --auth-timeout 2000 \
    --public-channels 'news.*' --presence 'user.*' --keepalive 1 --log-level debug --log-file "$T/worker-a.log"
WA=$WPIDS
WSOCK=$T/b.sock start_workers 1 --auth-url "$BASE/broken.php" --auth-timeout 2500 \
    --keepalive 1 --log-file "$T/worker-b.log"
WB=$WPIDS
WSOCK=$T/d.sock start_workers 1 --auth-url "http://127.0.0.1:$(free_port)/auth.php" \
    --auth-timeout 1000 --presence 'user.*' --log-file "$T/worker-d.log"
U=$BASE/api/v1/events

login() { curl -s -m 10 -c "$T/$1.jar" -b "$T/$1.jar" "$BASE/login.php?user=$2"; }
check "login.php logs in as 42" bash -c "[ \"\$(curl -s -m 10 -c '$T/u42.jar' '$BASE/login.php?user=42')\" = 'logged in as 42' ]"
login u7 7 >/dev/null
# app_asks: worker A's app requests for 42's cookie on user.42 so far (one
# debug line each).
app_asks() { grep -c 'auth-url: 200 for user.42, user 42$' "$T/worker-a.log"; }

# ------------------------------------------------ allowed, refused
stream a42 "$U/user.42" -b "$T/u42.jar"
A42=$CURL_PID
check "logged-in user reads user.42: 200" wait_until 10 ready a42
check "the app named the user (X-SSE-User 42)" grep -q 'auth-url: 200 for user.42, user 42$' "$T/worker-a.log"
wait_until 10 numsub_is user.42 1
pub_lua user.42 '{"n":1}' >/dev/null
check "and gets its event" wait_until 10 body_has a42 'data: {"n":1}'
check "user.43 with 42's session: 403" [ "$(head_status "$U/user.43" -b "$T/u42.jar")" = 403 ]
check "403 carries the app's reason" grep -qx 'channel user.43 is not yours' "$T/last.body"
check "a set with another's channel: 403" [ "$(head_status "$U/user.42,user.7" -b "$T/u42.jar")" = 403 ]
check "user 7 reads user.7" [ "$(head_status "$U/user.7" -b "$T/u7.jar")" = 200 ]
check "user 7: user.42 is 403" [ "$(head_status "$U/user.42" -b "$T/u7.jar")" = 403 ]
check "no cookie: 401" [ "$(head_status "$U/user.42")" = 401 ]
check "401 carries the app's reason" grep -qx 'not logged in' "$T/last.body"
check "a forged session cookie: 401" [ "$(head_status "$U/user.42" -b 'PHPSESSID=0123456789abcdefghijklmnop')" = 401 ]
check "nothing of user.43 was subscribed" [ "$(numsub user.43)" = 0 ]
check "public channel: 200 without asking the app" [ "$(head_status "$U/news.x")" = 200 ]
check "public channel cost no app request" bash -c "! grep -q 'auth-url: [0-9]* for news' '$T/worker-a.log'"
check "refusals logged with the app's reason" grep -q 'refused a stream of user.43: auth-url 403: channel user.43 is not yours' "$T/worker-a.log"

# ------------------------------------------------ presence, authorized by the app
# GET <mount>/presence/user.42 is asked of the app as a stream would be;
# the open stream a42 is listed under the app's X-SSE-User.
P42=$BASE/api/v1/presence/user.42
check "presence with 42's session: 200, a42 listed as the app's user 42" wait_until 10 bash -c \
    "curl -s -m 5 -D '$T/p42.hdr' -b '$T/u42.jar' '$P42' > '$T/p42.json' &&
     grep -q '^HTTP/1.1 200' '$T/p42.hdr' && grep -qF '\"subscribers\":1' '$T/p42.json' &&
     grep -qF '\"users\":[\"42\"]' '$T/p42.json'"
check "presence answer is JSON of the channel" bash -c \
    "grep -qi '^Content-Type: application/json' '$T/p42.hdr' && grep -qF '\"channel\":\"user.42\"' '$T/p42.json'"
check "presence of user.42 with 7's session: 403" [ "$(status "$P42" -b "$T/u7.jar")" = 403 ]
check "with the app's reason" grep -qx 'channel user.42 is not yours' "$T/last.body"
check "presence without a cookie: 401" [ "$(status "$P42")" = 401 ]
check "presence with the app down: 503 with Retry-After" bash -c \
    "[ \"\$(curl -s -o /dev/null -D '$T/pd.hdr' -w '%{http_code}' -m 10 -b '$T/u42.jar' '$BASE/d/presence/user.42')\" = 503 ] &&
     grep -qi '^Retry-After: ' '$T/pd.hdr'"
check "presence requests joined nothing: still one subscriber" bash -c \
    "curl -s -m 5 -b '$T/u42.jar' '$P42' | grep -qF '\"subscribers\":1'"

# ------------------------------------------------ what the app is sent
stream echo "$BASE/b/events/user.42,user.7?mode=echo" -b "$T/u42.jar" -H 'Authorization: Bearer abc.def'
wait_until 10 bash -c "! kill -0 $CURL_PID 2>/dev/null"
check "the app is sent X-SSE-Channels, X-Original-URI, X-Forwarded-For, X-Real-IP, Cookie, Authorization" \
    body_has echo 'channels=user.42,user.7 uri=/b/events/user.42,user.7?mode=echo for=127.0.0.1 real=127.0.0.1 cookie=yes auth=Bearer abc.def'

# ------------------------------------------------ cache and re-check
# 20 more streams with the same cookie and channel, within one interval.
N0=$(app_asks)
for i in $(seq 1 20); do stream c$i "$U/user.42" -b "$T/u42.jar"; done
for i in $(seq 1 20); do wait_until 10 ready c$i; done
OPEN=0; for i in $(seq 1 20); do ready c$i && OPEN=$((OPEN + 1)); done
N1=$(app_asks)
check "20 streams with one cookie opened ($OPEN)" [ "$OPEN" = 20 ]
echo "# 20 streams with one cookie: $((N1 - N0)) app requests to open them"
check "they cost at most one app request" [ $((N1 - N0)) -le 1 ]
# Re-checks while the 21 streams stay open: one request per interval.
sleep 6.5; N2=$(app_asks)
echo "# 21 open streams with one cookie, auth-cache 2 s: $((N2 - N1)) app requests in 6.5 s"
check "re-checked once per interval, not per stream (2..4 in 6.5 s)" bash -c "[ $((N2 - N1)) -ge 2 ] && [ $((N2 - N1)) -le 4 ]"
pub_lua user.42 '{"n":2}' >/dev/null
check "every stream of the cookie gets the next event" wait_until 10 bash -c \
    "for i in \$(seq 1 20); do grep -qF 'data: {\"n\":2}' '$T/c'\$i.out || exit 1; done; grep -qF 'data: {\"n\":2}' '$T/a42.out'"

# ------------------------------------------------ logout
TL=$(now_us)
check "logout.php" bash -c "[ \"\$(curl -s -m 10 -b '$T/u42.jar' '$BASE/logout.php')\" = 'logged out' ]"
check "logout ends the open stream at the next check" wait_until 10 bash -c "! kill -0 $A42 2>/dev/null"
echo "# logout to the stream's end: $(( ($(now_us) - TL) / 1000 )) ms (auth-cache 2 s)"
check "with a last comment saying why" body_has a42 ': access ended (401): not logged in'
check "and no retry storm: no new retry: in its last lines" bash -c "! tail -n 3 '$T/a42.out' | grep -q '^retry:'"
check "the 20 other streams of that session end too" wait_until 10 bash -c \
    "for i in \$(seq 1 20); do ! grep -q 'access ended' '$T/c'\$i.out && exit 1; done; exit 0"
check "their reconnect is refused: 401" [ "$(head_status "$U/user.42" -b "$T/u42.jar" -H 'Last-Event-ID: 1-1')" = 401 ]
pub_lua user.42 '{"n":3}' >/dev/null
sleep 0.5
check "nothing after the logout reached any of them" bash -c "! grep -qF 'data: {\"n\":3}' '$T'/c*.out '$T/a42.out'"

# ------------------------------------------------ app unavailable
login u42 42 >/dev/null
pub_lua user.42 '{"n":4}' >/dev/null
# unavailable NAME URL: a resume (Last-Event-ID 0-1, so history would be
# replayed if anything leaked) answered 200 with retry: and ended; no data.
unavailable() {
	stream "$1" "$2" -b "$T/u42.jar" -H 'Last-Event-ID: 1-1'
	local p=$CURL_PID
	wait_until 15 bash -c "! kill -0 $p 2>/dev/null" &&
	    grep -q '^HTTP/1.1 200' "$T/$1.hdr" && body_has "$1" 'retry: ' &&
	    body_has "$1" ': authorization unavailable; reconnect later' &&
	    ! grep -q '^data:' "$T/$1.out" && ! grep -q '^id:' "$T/$1.out"
}
check "app answers 500: 200 + retry:, ended, no event" unavailable u500 "$BASE/b/events/user.42?mode=500"
check "app sleeps past auth-timeout: the same" unavailable uslow "$BASE/b/events/user.42?mode=slow&ms=4000"
check "nothing listening at auth-url: the same" unavailable udown "$BASE/d/events/user.42"
check "X-SSE-User with a space: the same" unavailable ubad1 "$BASE/b/events/user.42?mode=baduser&u=a%20b"
check "X-SSE-User '*': the same" unavailable ubad2 "$BASE/b/events/user.42?mode=baduser&u=*"
check "X-SSE-User of 65 bytes: the same" unavailable ubad3 "$BASE/b/events/user.42?mode=baduser&u=$(head -c 65 /dev/zero | tr '\0' a)"
check "X-SSE-User twice: the same" unavailable ubad4 "$BASE/b/events/user.42?mode=twousers"
check "a redirect (302): the same" unavailable uredir "$BASE/b/events/user.42?mode=redirect"
check "bad answers logged with the reason" grep -q "X-SSE-User is not 1..64 bytes" "$T/worker-b.log"
check "timeout logged" grep -q 'no answer within auth-timeout (2500 ms)' "$T/worker-b.log"
check "a 403 with a 100 kB body: refused or unavailable, no crash" bash -c \
    "c=\$(curl -s -o /dev/null -w '%{http_code}' -m 10 -b '$T/u42.jar' '$BASE/b/events/user.42,big.1?mode=bigbody'); [ \$c = 403 ] || [ \$c = 200 ]"
check "a reason with control and non-ASCII bytes: 403, first line, bytes replaced" bash -c \
    "[ \"\$(curl -s -m 10 -b '$T/u42.jar' '$BASE/b/events/user.42,junk.1?mode=junk')\" = 'bad???? reason' ]"
check "the 64-byte X-SSE-User is accepted" [ "$(head_status "$BASE/b/events/user.42,u64.1?mode=baduser&u=$(head -c 64 /dev/zero | tr '\0' a)" -b "$T/u42.jar")" = 200 ]
check "workers alive" bash -c "kill -0 $WA && kill -0 $WB"

# ------------------------------------------------ a slow app delays no one else
# Stream S is open (worker B, the app at 2 s); 8 other sessions then
# open streams whose checks take 2 s each (4 PHP children: about 4 s in
# all). Events to S meanwhile are timed.
stream slow "$BASE/b/events/user.42?mode=slow&ms=2000" -b "$T/u42.jar"
check "a stream through the slow app opens (after 2 s)" wait_until 15 ready slow
for i in 1 2 3 4 5 6 7 8; do
	login s$i $((100 + i)) >/dev/null
	stream s$i "$BASE/b/events/user.$((100 + i))?mode=slow&ms=2000" -b "$T/s$i.jar"
done
sleep 0.3
waiting() { local i n=0; for i in 1 2 3 4 5 6 7 8; do ready s$i || n=$((n + 1)); done; echo $n; }
W0=$(waiting)
latencies slow user.42
W1=$(waiting)
echo "# while $W0..$W1 of 8 streams waited for the slow app: event latency median ${LAT_MED} ms, max ${LAT_MAX} ms ($LATS)"
check "other streams waited for the app all through the measurement" [ "$W1" -ge 1 ]
check "events to an open stream not delayed (max < 500 ms)" [ "$LAT_MAX" -lt 500 ]
check "the slow checks all end allowed" wait_until 20 bash -c "for i in 1 2 3 4 5 6 7 8; do grep -qx ': ok' '$T/s'\$i.out || exit 1; done"

# ------------------------------------------------ bad settings
badcfg() {
	"$SSE_FCGI" --listen "unix:$T/bad.sock" --redis "redis://127.0.0.1:$RPORT" "$@" \
	    > "$T/bad.out" 2>&1 & local p=$!
	wait_until 5 bash -c "! kill -0 $p 2>/dev/null" || { kill $p; return 1; }
	wait $p; [ $? = 2 ]
}
env_badcfg() { SSE_FCGI_AUTH_URL=junk badcfg; }
check "https auth-url: exit 2" badcfg --auth-url https://127.0.0.1/auth.php
check "reason printed" grep -q 'https is not supported' "$T/bad.out"
check "auth-url without a path: exit 2" badcfg --auth-url http://127.0.0.1
check "auth-url host that does not resolve: exit 2" badcfg --auth-url http://no-such-host.invalid/auth.php
check "reason printed" grep -q 'auth-url: cannot resolve no-such-host.invalid' "$T/bad.out"
check "auth-timeout 0: exit 2" badcfg --auth-url "$BASE/auth.php" --auth-timeout 0
check "auth-cache 0: exit 2" badcfg --auth-url "$BASE/auth.php" --auth-cache 0
check "SSE_FCGI_AUTH_URL=junk: exit 2" env_badcfg
check "reason printed" grep -q 'SSE_FCGI_AUTH_URL: "junk": expected http://HOST' "$T/bad.out"
check "no 'every channel is public' warning with auth-url" bash -c "! grep -q 'every channel is public' '$T'/worker-*.log"

# ------------------------------------------------ behind Apache
if [ -x "$APACHE2" ] && [ -f /usr/lib/apache2/modules/mod_proxy_fcgi.so ]; then
	# Apache's children run as www-data: sockets and files reachable.
	chmod 755 "$T" "$T/www"; chmod 644 "$T"/www/*.php; chmod 1777 "$T/sessions"
	rm -f "$T/spawn.pid"
	spawn-fcgi -s "$T/aphp.sock" -M 0666 -P "$T/aphp.pid" -- $PHPCGI $PHPARGS >/dev/null 2>&1
	PHPPID=$(cat "$T/aphp.pid"); track $PHPPID
	APORT=$(free_port)
	mkdir -p "$T/apache/apache-run"
	sed -e "s|@PORT@|$APORT|g" -e "s|@STATEDIR@|$T/apache|g" -e "s|@DOCROOT@|$T/www|g" \
	    -e "s|@ALLOWOVERRIDE@|None|g" "$top_srcdir/tests/apache-test.conf.in" > "$T/apache/apache.conf"
	sed -e "s|unix:/run/sse-fcgi/sse.sock|unix:$T/ap.sock|" "$top_srcdir/deploy/apache/sse-fcgi-proxy.conf" > "$T/apache/site.conf"
	cat >> "$T/apache/site.conf" <<EOF
<FilesMatch "\.php\$">
    SetHandler "proxy:unix:$T/aphp.sock|fcgi://localhost"
    # php-cgi (unlike php-fpm) wants SCRIPT_FILENAME as a plain path.
    ProxyFCGIBackendType GENERIC
</FilesMatch>
EOF
	WSOCK=$T/ap.sock start_workers 1 --auth-url "http://127.0.0.1:$APORT/auth.php" \
	    --auth-cache 2 --log-file "$T/worker-ap.log"
	WAP=$WPIDS
	chmod 666 "$T/ap.sock"
	setsid "$APACHE2" -f "$T/apache/apache.conf" -DFOREGROUND > "$T/apache/apache.out" 2>&1 &
	APID=$!; track $APID
	if wait_until 10 curl -s -o /dev/null "http://127.0.0.1:$APORT/"; then
		AB=http://127.0.0.1:$APORT
		check "apache: php-cgi answers" [ "$(status "$AB/auth.php")" = 401 ]
		curl -s -m 10 -c "$T/ap.jar" "$AB/login.php?user=42" >/dev/null
		stream ap "$AB/api/v1/events/user.42" -b "$T/ap.jar"
		APC=$CURL_PID
		check "apache: logged-in user reads user.42" wait_until 10 ready ap
		wait_until 10 numsub_is user.42 1
		pub_lua user.42 '{"n":"ap"}' >/dev/null
		check "apache: and gets its event" wait_until 10 body_has ap 'data: {"n":"ap"}'
		check "apache: user.43 is 403" [ "$(head_status "$AB/api/v1/events/user.43" -b "$T/ap.jar")" = 403 ]
		check "apache: no cookie: 401" [ "$(head_status "$AB/api/v1/events/user.42")" = 401 ]
		curl -s -m 10 -b "$T/ap.jar" "$AB/logout.php" >/dev/null
		check "apache: logout ends the stream at the next check" wait_until 10 bash -c "! kill -0 $APC 2>/dev/null"
		check "apache: with the last comment" body_has ap ': access ended (401): not logged in'
	else
		check "apache started" false
		cat "$T/apache/apache.out" "$T/apache/apache-error.log" 2>/dev/null | tail -5
	fi
	kill $APID 2>/dev/null
	wait_until 10 bash -c "! kill -0 $APID 2>/dev/null"
else
	echo "# SKIP apache part: apache2 with mod_proxy_fcgi not installed"
fi
finish
