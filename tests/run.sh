#!/bin/bash
# sse-fcgi - MIT License
#
# The test command: installs what is missing (Debian 12, as root), builds,
# and runs every test:
#   1. a normal build with warnings as errors: unit tests + integration
#      scenarios against real redis-server, spawn-fcgi and lighttpd;
#   2. the same suite built with ASan + UBSan (--enable-sanitizers);
#   3. make distcheck (the tarball builds, installs and passes its unit
#      tests; the scenarios already ran twice);
#   4. five scenarios with the workers under valgrind memcheck;
#   5. the churn soak (tests/soak-churn.sh, SOAK_SECONDS, default 300);
#   6. every libFuzzer target for 60 s, two at a time (tests/fuzz.sh, a
#      clang build with --enable-fuzzing in build-fuzz; ~4 minutes);
#   7. make install into a DESTDIR.
# Ends with "N passed, M failed" and exits non-zero on any failure.
# Set SKIP_INSTALL=1 to skip apt-get, JOBS=n for make -j (default 2).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-2}
PACKAGES="build-essential autoconf automake libtool pkg-config libfcgi-dev libfcgi-bin
libhiredis-dev libjson-c-dev libevent-dev libssl-dev redis-server lighttpd
spawn-fcgi curl procps iproute2 python3 nginx chromium valgrind apache2
libapache2-mod-fcgid clang libclang-rt-14-dev debhelper lintian logrotate"
passed=0
failed=0

install_packages() {
	local missing="" p
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		    missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages:$missing (run as root to install them)" >&2
		return 1
	fi
	echo "== installing:$missing"
	apt-get update -qq &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

# count_suite DIR LABEL: adds the automake results of DIR/test-suite.log.
count_suite() {
	local log=$1/test-suite.log p f
	if [ ! -f "$log" ]; then
		echo "== $2: no test-suite.log"; failed=$((failed + 1)); return
	fi
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
	f=$(( $(sed -n 's/^# FAIL: *//p' "$log" | head -1) + \
	    $(sed -n 's/^# ERROR: *//p' "$log" | head -1) + \
	    $(sed -n 's/^# XPASS: *//p' "$log" | head -1) ))
	echo "== $2: $p passed, $f failed"
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" -gt 0 ] && grep -E '^(FAIL|ERROR|XPASS):' "$log"
}

# step LABEL COMMAND...: one pass/fail for a whole command.
step() {
	local label=$1; shift
	echo "== $label"
	if "$@"; then passed=$((passed + 1)); else
		echo "== $label: FAILED"; failed=$((failed + 1)); fi
}

# build DIR CONFIGURE-ARGS...: configures and builds out of tree.
build() {
	local dir=$1; shift
	mkdir -p "$dir" && cd "$dir" &&
	    "$ROOT/configure" -q --enable-werror "$@" && make -s -j"$JOBS"
	local rc=$?; cd "$ROOT"; return $rc
}

suite() {
	local dir=$1 label=$2; shift 2
	if build "$dir" "$@"; then
		(cd "$dir" && make -s -j"$JOBS" check >/dev/null 2>&1)
		count_suite "$dir" "$label"
	else
		echo "== $label: build failed"; failed=$((failed + 1))
	fi
}

cd "$ROOT" || exit 1
[ "${SKIP_INSTALL:-}" = 1 ] || install_packages || { echo "0 passed, 1 failed"; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# Browser tests: playwright-core drives Debian's chromium (never a download).
if command -v npm >/dev/null && [ -f "$ROOT/tests/browser/package-lock.json" ]; then
	echo "== npm ci (tests/browser)"
	(cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
	    echo "== npm ci failed: browser tests will be skipped"
fi
echo "== autoreconf"
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

suite "$ROOT/build-test" "unit + integration"
suite "$ROOT/build-asan" "unit + integration under ASan+UBSan" --enable-sanitizers
# Memcheck: a few scenarios with every worker under valgrind.
for scn in it-stream it-resume it-multichannel it-publish-paths it-auth; do
	step "valgrind memcheck: $scn" bash -c "cd '$ROOT/build-test' &&
	    top_builddir='$ROOT/build-test' top_srcdir='$ROOT' VALGRIND=1 \
	    bash '$ROOT/tests/$scn.sh' > '$ROOT/build-test/valgrind-$scn.log' 2>&1 ||
	    { grep -E '^not ok' -A30 '$ROOT/build-test/valgrind-$scn.log' | head -60; exit 1; }"
done
# Churn soak: 5 minutes of 600 connects/disconnects per second (RSS, fds).
step "churn soak (${SOAK_SECONDS:-300} s)" bash -c "cd '$ROOT/build-test' &&
    top_builddir='$ROOT/build-test' top_srcdir='$ROOT' \
    bash '$ROOT/tests/soak-churn.sh' > '$ROOT/build-test/soak-churn.log' 2>&1;
    rc=\$?; grep '^#' '$ROOT/build-test/soak-churn.log';
    [ \$rc = 0 ] || { grep -E '^not ok' -A30 '$ROOT/build-test/soak-churn.log' | head -60; exit 1; }"
# Fuzzing: libclang_rt.fuzzer comes from libclang-rt-14-dev (clang only
# recommends it).
step "fuzz: every target for ${FUZZ_SECONDS:-60} s" env \
    FUZZ_CONFIGURE_FLAGS=--enable-werror bash "$ROOT/tests/fuzz.sh" "$ROOT/build-fuzz"
step "make distcheck (unit tests)" bash -c "cd '$ROOT/build-test' && SSE_UNIT_ONLY=1 make -s distcheck >distcheck.log 2>&1 || { tail -40 distcheck.log; exit 1; }"
step "Debian package: build, lintian, install, stream, purge" bash -c "cd '$ROOT/build-test' &&
    top_builddir='$ROOT/build-test' top_srcdir='$ROOT' bash '$ROOT/tests/it-debian-package.sh' > '$ROOT/build-test/it-debian-package.log' 2>&1;
    rc=\$?; grep -E '^(#|SKIP)' '$ROOT/build-test/it-debian-package.log';
    [ \$rc = 0 ] || [ \$rc = 77 ] || { grep -E '^not ok' -A20 '$ROOT/build-test/it-debian-package.log' | head -60; exit 1; }"
step "make install DESTDIR" bash -c "cd '$ROOT/build-test' && rm -rf inst && make -s install DESTDIR=\$PWD/inst >/dev/null &&
    test -x inst/usr/local/bin/sse-fcgi && inst/usr/local/bin/sse-fcgi --version &&
    test -x inst/usr/local/bin/sse-publish && test -s inst/usr/local/share/man/man8/sse-fcgi.8 &&
    test -s inst/usr/local/share/man/man1/sse-publish.1 &&
    test -s inst/usr/local/share/sse-fcgi/sse-publish.lua &&
    test -s inst/usr/local/share/doc/sse-fcgi/examples/systemd/sse-fcgi@.service &&
    test -s inst/usr/local/share/doc/sse-fcgi/examples/nginx/sse-fcgi.conf"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
