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
#   7. the portable (static) build and its scenario, tests/it-portable.sh;
#   8. make install into a DESTDIR.
# Prints each step as it starts with the time since the start, each test's
# result as it ends, and at the end every skipped test with its reason and
# the total time. Ends with "N passed, M failed" and exits non-zero on any
# failure.
# Set SKIP_INSTALL=1 to skip apt-get, JOBS=n for make -j (default 2).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-2}
PACKAGES="build-essential sudo autoconf automake libtool pkg-config libfcgi-dev libfcgi-bin
libhiredis-dev libjson-c-dev libevent-dev libssl-dev redis-server lighttpd
spawn-fcgi curl procps iproute2 python3 nginx chromium valgrind apache2
libapache2-mod-fcgid clang libclang-rt-14-dev file debhelper lintian logrotate php-cgi"
passed=0
failed=0
T0=$SECONDS
SKIPS=""

# elapsed: minutes:seconds since the start.
elapsed() {
	local s=$((SECONDS - T0))
	printf '%d:%02d' $((s / 60)) $((s % 60))
}

# progress: prefixes each line of its input with the elapsed time.
progress() {
	local line
	while IFS= read -r line; do echo "   [$(elapsed)] $line"; done
}

# collect_skips DIR LABEL: notes every skipped test of DIR's last make
# check with the reason its log gives ("SKIP: reason"), and the parts of
# passing scenarios that were skipped ("# SKIP what: reason").
collect_skips() {
	local dir=$1 label=$2 trs t reason
	for trs in $(find "$dir" -name '*.trs' -newer "$dir/.check-start" 2>/dev/null | sort); do
		t=${trs#"$dir"/}; t=${t%.trs}
		[ -f "$ROOT/$t.sh" ] && t=$t.sh
		if grep -q '^:test-result: SKIP' "$trs"; then
			reason=$(sed -n 's/^SKIP: //p' "${trs%.trs}.log" | head -1)
			SKIPS="$SKIPS  $t ($label): ${reason:-no reason given}
"
		fi
		while IFS= read -r reason; do
			SKIPS="$SKIPS  $t ($label), part: $reason
"
		done < <(sed -n 's/^# SKIP //p' "${trs%.trs}.log" 2>/dev/null)
	done
}

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
	[ "$f" -gt 0 ] || return 0
	grep -E '^(FAIL|ERROR|XPASS):' "$log"
	# What failed, from each failing test's own log: CI keeps only this
	# output.
	grep -E '^(FAIL|ERROR|XPASS):' "$log" | sed 's/^[A-Z]*: //' |
	while read -r t; do
		echo "== $t ($2):"
		if grep -qE '^(not ok|FAIL )' "$1/$t.log" 2>/dev/null; then
			grep -E '^(not ok|#|FAIL )' "$1/$t.log" | head -40
		else
			tail -20 "$1/$t.log" 2>/dev/null
		fi
	done
}

# step LABEL COMMAND...: one pass/fail for a whole command; exit status 77
# is a skip, listed at the end with the command's last "SKIP: reason" line.
step() {
	local label=$1 t=$SECONDS out rc; shift
	echo "== [$(elapsed)] $label"
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"; rc=${PIPESTATUS[0]}
	if [ "$rc" = 0 ]; then passed=$((passed + 1)); echo "== $label: ok ($((SECONDS - t)) s)"
	elif [ "$rc" = 77 ]; then
		SKIPS="$SKIPS  $label: $(sed -n 's/^SKIP: //p' "$out" | tail -1)
"
		echo "== $label: skipped ($((SECONDS - t)) s)"
	else echo "== $label: FAILED ($((SECONDS - t)) s)"; failed=$((failed + 1)); fi
	rm -f "$out"
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
	echo "== [$(elapsed)] $label: building in $dir"
	if build "$dir" "$@"; then
		echo "== [$(elapsed)] $label: make check"
		touch "$dir/.check-start"
		(cd "$dir" && make -s -j"$JOBS" check 2>&1) |
		    grep --line-buffered -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' | progress
		count_suite "$dir" "$label"
		collect_skips "$dir" "$label"
	else
		echo "== $label: build failed"; failed=$((failed + 1))
	fi
}

cd "$ROOT" || exit 1
[ "${SKIP_INSTALL:-}" = 1 ] || install_packages || { echo "0 passed, 1 failed"; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# Browser tests: playwright-core drives Debian's chromium (never a download).
if command -v npm >/dev/null && [ -f "$ROOT/tests/browser/package-lock.json" ]; then
	echo "== [$(elapsed)] npm ci (tests/browser)"
	(cd "$ROOT/tests/browser" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
	    echo "== npm ci failed: browser tests will be skipped"
fi
echo "== [$(elapsed)] autoreconf"
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

# Tests wait on conditions; their deadlines (tests/lib.sh wait_until)
# stretch for the slower builds and on a loaded CI machine, which costs
# time only when a wait fails.
export WAIT_SCALE=2
suite "$ROOT/build-test" "unit + integration"
export WAIT_SCALE=4
suite "$ROOT/build-asan" "unit + integration under ASan+UBSan" --enable-sanitizers
# Memcheck: a few scenarios with every worker under valgrind.
for scn in it-stream it-resume it-multichannel it-publish-paths it-auth it-presence; do
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
# The portable build (docs/shared-hosting.md): static binaries with no
# link warning, the shared-hosting tarball, tests/it-portable.sh (chroot,
# lighttpd, Apache + mod_fcgid; under a minute).
step "portable build + tests/it-portable.sh" bash -c "mkdir -p '$ROOT/build-portable' &&
    cd '$ROOT/build-portable' && '$ROOT/configure' -q --enable-werror --enable-portable &&
    make -j$JOBS > build.log 2>&1 || { tail -40 build.log; exit 1; }
    ! grep -i 'warning:' build.log || { echo 'link or compile warnings above'; exit 1; }
    top_builddir='$ROOT/build-portable' top_srcdir='$ROOT' \
    bash '$ROOT/tests/it-portable.sh' > it-portable.log 2>&1; rc=\$?; grep -E '^(#|SKIP)' it-portable.log
    [ \$rc = 0 ] || [ \$rc = 77 ] || { grep -E '^not ok' -A30 it-portable.log | head -60; }; exit \$rc"
step "Debian package: build, lintian, install, stream, purge" bash -c "cd '$ROOT/build-test' &&
    top_builddir='$ROOT/build-test' top_srcdir='$ROOT' bash '$ROOT/tests/it-debian-package.sh' > '$ROOT/build-test/it-debian-package.log' 2>&1;
    rc=\$?; grep -E '^(#|SKIP)' '$ROOT/build-test/it-debian-package.log';
    [ \$rc = 0 ] || [ \$rc = 77 ] || grep -E '^not ok' -A20 '$ROOT/build-test/it-debian-package.log' | head -60; exit \$rc"
step "make install DESTDIR" bash -c "cd '$ROOT/build-test' && rm -rf inst && make -s install DESTDIR=\$PWD/inst >/dev/null &&
    test -x inst/usr/local/bin/sse-fcgi && inst/usr/local/bin/sse-fcgi --version &&
    test -x inst/usr/local/bin/sse-publish && test -s inst/usr/local/share/man/man8/sse-fcgi.8 &&
    test -s inst/usr/local/share/man/man1/sse-publish.1 &&
    test -s inst/usr/local/share/sse-fcgi/sse-publish.lua &&
    test -s inst/usr/local/share/doc/sse-fcgi/examples/systemd/sse-fcgi@.service &&
    test -s inst/usr/local/share/doc/sse-fcgi/examples/nginx/sse-fcgi.conf"

if [ -n "$SKIPS" ]; then
	echo "== skipped:"
	printf '%s' "$SKIPS"
else
	echo "== skipped: none"
fi
echo "== total time $(elapsed) (minutes:seconds)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
