#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every libFuzzer target for SECONDS each, one after the other, and prints one line per
# target: executions, corpus size, crashes (crash-/leak-/timeout- files) and sanitizer reports.
#
# usage: fuzz/run-all.sh SECONDS [BUILD_DIR] [TARGET...]
#   BUILD_DIR defaults to ./build-fuzzing; it is set up with clang, -Dfuzzing=true and
#   ASan+UBSan (the libraries get -fsanitize=fuzzer-no-link for coverage) if it does not exist.
#   New inputs go to BUILD_DIR/fuzz-corpus/<target> (the committed seeds in fuzz/corpus/<target>
#   are read, never written); findings go to BUILD_DIR/fuzz-findings/<target>.
# Environment: FUZZ_JOBS is not supported on purpose: one target at a time (CPU is shared).
# Exit status 0 only if no target crashed, leaked or printed a sanitizer report.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-}
[ $# -gt 0 ] && shift
build=${1:-$here/build-fuzzing}
[ $# -gt 0 ] && shift
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 SECONDS [BUILD_DIR] [TARGET...]" >&2
	exit 2
	;;
esac

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" "$here" -Dfuzzing=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debugoptimized \
		"-Dc_args=['-fsanitize=fuzzer-no-link','-fno-sanitize-recover=undefined']" \
		>"$build.setup.log" 2>&1 || {
		echo "error: meson setup failed, see $build.setup.log" >&2
		exit 2
	}
fi
targets="$*"
if [ -z "$targets" ]; then
	for f in "$here"/fuzz/fuzz-*.c; do
		n=$(basename "$f" .c)
		targets="$targets ${n#fuzz-}"
	done
fi
ninja_targets=""
for t in $targets; do
	ninja_targets="$ninja_targets fuzz/fuzz-$t"
done
# shellcheck disable=SC2086
ninja -C "$build" -j2 $ninja_targets >"$build/fuzz-build.log" 2>&1 || {
	echo "error: building the fuzz targets failed, see $build/fuzz-build.log" >&2
	exit 2
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
bad=0
printf '%-12s %12s %10s %8s %8s %8s\n' target execs exec/s corpus crashes reports
for t in $targets; do
	corpus=$build/fuzz-corpus/$t
	findings=$build/fuzz-findings/$t
	log=$build/fuzz-findings/$t.log
	mkdir -p "$corpus" "$findings"
	"$build/fuzz/fuzz-$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$findings/" "$corpus" "$here/fuzz/corpus/$t" \
		>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	ncorp=$(find "$corpus" -type f | wc -l)
	crashes=$(find "$findings" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | wc -l)
	reports=$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log")
	printf '%-12s %12s %10s %8s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "$ncorp" "$crashes" \
		"$reports"
	if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || [ "$reports" -ne 0 ]; then
		echo "  -> $t: exit $rc; see $log and $findings/" >&2
		bad=1
	fi
done
exit $bad
