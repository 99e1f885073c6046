#!/bin/sh
# SPDX-License-Identifier: MIT
# One uninterrupted 10 M-execution run of a libFuzzer target, as issue 17 asks (docs/fuzzing.md):
# ASan+UBSan binary from BUILD_DIR (set up by fuzz/run-all.sh), started from a copy of the
# committed corpus, detect_leaks=1, -timeout=10, -rss_limit_mb=2048. The binary and corpus are
# copied into BUILD_DIR/long-runs/TARGET-COMMIT first, so later builds do not change the run.
# The run is detached in its own session, and its scheduler autogroup is raised (nice -10) so it
# keeps a full core beside other sessions (with autogroups, per-process nice does not reach
# across sessions). Its log, findings and new inputs stay in that directory; `info` gets the
# exit status and end time.
#   usage: fuzz/long-run.sh TARGET [BUILD_DIR] [RUNS]
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
t=${1:-}
build=${2:-$here/build-fuzzing}
runs=${3:-10000000}
if [ -z "$t" ] || [ ! -f "$here/fuzz/fuzz-$t.c" ]; then
	echo "usage: $0 TARGET [BUILD_DIR] [RUNS] (TARGET: a fuzz/fuzz-TARGET.c)" >&2
	exit 2
fi
if [ ! -f "$build/build.ninja" ]; then
	echo "error: $build is not set up: run fuzz/run-all.sh 0 $build first" >&2
	exit 2
fi
ninja -C "$build" "fuzz/fuzz-$t" >/dev/null || {
	echo "error: cannot build fuzz/fuzz-$t in $build" >&2
	exit 1
}
commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
d=$build/long-runs/$t-$commit
if [ -e "$d" ]; then
	echo "error: $d exists (one run per target and commit)" >&2
	exit 1
fi
mkdir -p "$d/out" "$d/findings" || exit 1
cp "$build/fuzz/fuzz-$t" "$d/" && cp -r "$here/fuzz/corpus/$t" "$d/seed" || exit 1
echo "$commit dirty=$(git -C "$here" status --porcelain -uno | wc -l) start $(date -u +%FT%TZ)" >"$d/info"
cd "$d" || exit 1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
setsid sh -c "echo -10 >/proc/self/autogroup 2>/dev/null
	./fuzz-$t -runs=$runs -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=findings/ out seed >log 2>&1
	echo rc=\$? end \$(date -u +%FT%TZ) >>info" </dev/null >/dev/null 2>&1 &
echo "started: $d (log: $d/log)"
echo "afterwards: ./fuzz-$t -merge=1 -use_counters=0 $here/fuzz/corpus/$t out  (in $d)"
