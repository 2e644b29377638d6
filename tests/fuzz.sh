#!/bin/bash
# sse-fcgi - MIT License
#
# Runs every libFuzzer target (fuzz/fuzz_*.c) for FUZZ_SECONDS (default 60)
# each, FUZZ_JOBS (default 2) at a time, each on a scratch copy of its
# committed seeds (fuzz/corpus/<name>/ is never written to) and with its
# dictionary (fuzz/<name>.dict).
#
#   tests/fuzz.sh [BUILDDIR]        (default: build-fuzz in the source tree)
#
# A BUILDDIR without a Makefile is configured first with
# CC=${CC:-clang} --enable-fuzzing $FUZZ_CONFIGURE_FLAGS; either way it is
# brought up to date with make. Prints "fuzz <name>: ok (N runs)" per
# target, or "fuzz <name>: FAILED" with the report; a crashing input is
# kept in BUILDDIR/fuzz-findings/. Exits non-zero on any finding.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-fuzz}
SECS=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-2}

if [ ! -f "$BUILD/Makefile" ]; then
	mkdir -p "$BUILD" && (cd "$BUILD" &&
	    "$ROOT/configure" -q CC="${CC:-clang}" --enable-fuzzing \
	    ${FUZZ_CONFIGURE_FLAGS:-}) ||
	    { echo "fuzz: configure failed"; exit 1; }
fi
(cd "$BUILD" && make -s -j"$JOBS" >fuzz-build.log 2>&1) ||
    { tail -30 "$BUILD/fuzz-build.log"; echo "fuzz: build failed"; exit 1; }

targets=$(cd "$ROOT/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
for t in $targets; do
	if [ ! -x "$BUILD/fuzz/$t" ]; then
		echo "fuzz: no $BUILD/fuzz/$t (configure --enable-fuzzing)"
		exit 1
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sse-fuzz.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# run_one TARGET: fuzzes for SECS seconds; writes its status to $work/T.rc.
run_one() {
	local t=$1 name=${1#fuzz_} dir=$work/$1 log=$work/$1.log rc runs art
	local opts="-max_total_time=$SECS -timeout=10 -print_final_stats=1"

	mkdir -p "$dir/corpus" "$dir/art"
	cp "$ROOT/fuzz/corpus/$t/"* "$dir/corpus/" 2>/dev/null
	[ -f "$ROOT/fuzz/$t.dict" ] && opts="$opts -dict=$ROOT/fuzz/$t.dict"
	# Inputs longer than the 4096-byte path and line limits.
	case $t in
	fuzz_route|fuzz_cfg) opts="$opts -max_len=9000" ;;
	esac
	nice -n 5 "$BUILD/fuzz/$t" $opts -artifact_prefix="$dir/art/" \
	    "$dir/corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -1)
	if [ "$rc" -eq 0 ] && ! ls "$dir/art/" | grep -q .; then
		echo "fuzz $name: ok (${runs:-?} runs)"
	else
		[ "$rc" -eq 0 ] && rc=1
		mkdir -p "$BUILD/fuzz-findings"
		for art in "$dir/art/"*; do
			[ -f "$art" ] || continue
			cp "$art" "$BUILD/fuzz-findings/$t-${art##*/}"
		done
		echo "fuzz $name: FAILED (exit $rc, ${runs:-?} runs)," \
		    "input in $BUILD/fuzz-findings/"
		grep -E -A25 \
		    '^==[0-9]+==ERROR|^[a-z_]+: |runtime error|^SUMMARY' \
		    "$log" | head -60 | sed "s/^/  $name| /"
	fi
	echo "$rc" >"$work/$t.rc"
}

for t in $targets; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
	run_one "$t" &
done
wait

failed=0
for t in $targets; do
	[ "$(cat "$work/$t.rc" 2>/dev/null)" = 0 ] || failed=$((failed + 1))
done
[ "$failed" -eq 0 ]
