#!/bin/bash
# sse-fcgi - MIT License
#
# Scenario: Chromium's EventSource on a Redis Cluster (three masters with
# a replica each, tests/lib.sh start_cluster), through lighttpd and a
# worker with a redis+cluster:// URL, on one stream of three channels
# whose masters differ: resumed across two in-place upgrades of the
# worker (SIGUSR2), one of them before any event (the position the worker
# sends alone), every event once, in order; lastEventId the vector of the
# channels' positions. The checks are in tests/browser/cluster.mjs. Skips
# (77) as tests/it-browser.sh does, or without redis-cli --cluster.
. "$(dirname "$0")/lib.sh"
SSE_PUBLISH=${SSE_PUBLISH:-$top_builddir/sse-publish}

need_browser
redis-cli --cluster help 2>&1 | grep -q reshard ||
    { echo "SKIP: redis-cli has no --cluster"; exit 77; }
unset SSE_FCGI_CONFIG SSE_FCGI_REDIS SSE_FCGI_HISTORY_PREFIX
start_cluster
URL="redis+cluster://$(printf '127.0.0.1:%s,' $CPORTS | sed 's/,$//')"
# One channel on each master.
CHS=""; seen=" "
for i in $(seq 0 200); do
	m=$(cluster_master_of_slot "$(ccli "${CPORTS%% *}" CLUSTER KEYSLOT "room.$i")")
	case $seen in *" $m "*) continue ;; esac
	seen="$seen$m "; CHS="$CHS${CHS:+,}room.$i"
	[ "$(echo "$CHS" | tr ',' '\n' | wc -l)" = 3 ] && break
done
echo "# channels $CHS on masters$seen"
check "three channels, one on each master" [ "$(echo "$CHS" | tr ',' '\n' | wc -l)" = 3 ]
# retry: 8 s: the page stays away long enough to publish while it is.
WREDIS=$URL start_workers 1 --retry 8000 --keepalive 5
echo "$WPIDS" > "$T/current.pid"
start_lighttpd
# The upgrade: SIGUSR2 to the current worker; done when its successor
# accepts and it has gone.
cat > "$T/restart.sh" <<EOS
old=\$(cat "$T/current.pid")
kill -USR2 "\$old" || exit 1
for i in \$(seq 1 600); do
	s=\$(sed -n "s/.*sse-fcgi\[\$old\] info: .*upgrade: pid \([0-9]*\) accepts now.*/\1/p" "$T/worker.log" | tail -1)
	if [ -n "\$s" ] && ! kill -0 "\$old" 2>/dev/null; then
		echo "\$s" > "$T/current.pid"; echo "\$s" >> "$T/successors"; exit 0
	fi
	sleep 0.1
done
exit 1
EOS
export SSE_FCGI_PUBLISH_TIMEOUT=30000
browser_run "$BROWSER_DIR/cluster.mjs" "$BASE" "$T/www/cluster" "$CHS" "$SSE_PUBLISH" "$URL" "$T/restart.sh"
check "browser checks ran" [ "$(grep -c '^ok - ' "$T/browser.out")" -ge 5 ]
check "the worker is up after two upgrades" alive "$(cat "$T/current.pid")"
# The upgrades' processes are not spawn-fcgi's: stopped by PID.
[ -s "$T/successors" ] && kill $(cat "$T/successors") 2>/dev/null
finish
