#!/usr/bin/env bash
# Builds nestvm twice (normal and ASan+UBSan) and runs every test suite in both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
suites=(--suite unit --suite guest --suite fuzz-replay)
# scripts/summary.py reads these logs and decides the exit status (any failure, any missing log,
# and under CI=true any skipped test fail the run): a stale log from an earlier run must not count.
rm -f build/meson-logs/testlog.json build/meson-logs/linux.json build/meson-logs/host-kernel.json \
	build-asan/meson-logs/testlog.json \
	build-tsan/meson-logs/testlog.json
[ -e build/build.ninja ] || meson setup build
meson compile -C build
meson test -C build "${suites[@]}" --print-errorlogs --num-processes 2 || true
# Debian's Linux as L2 under nestvm in a nested emulated machine (tests/linux/README.md, ~3 min;
# skipped without the Debian mirror: a failure under CI=true, a loud warning elsewhere);
# -v prints the nestvm-vs-QEMU boot benchmark.
meson test -C build --suite linux --logbase linux --num-processes 1 -v || true
# nestvm's iommufd backend on a real Linux 7.x kernel, nestvm on nestvm (tests/host-kernel/README.md):
# the L2 kernel is built once and cached in /var/cache/nestvm (~8 min on 2 idle cores), the chain
# takes ~15-25 min; under CI=true it fails rather than skips when it cannot run.
meson test -C build --suite host-kernel --logbase host-kernel --num-processes 1 -v || true
[ -e build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan "${suites[@]}" --print-errorlogs --num-processes 2 || true
# ThreadSanitizer, one test only (vfio-stress: DMA and flushes while another thread resets
# the unit; ~20 s to build, a few seconds to run). gcc's TSan cannot model the translation
# cache's fences (-Wtsan); that lock-free path is not run by this test.
[ -e build-tsan/build.ninja ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false \
	-Dc_args=-Wno-tsan
# sigterm-host: SIGTERM (vmm/signals.c on an event loop) in the middle of the same load.
meson compile -C build-tsan devices/vfio/test-vfio-stress vmm/test-vmm-sigterm-host
TSAN_OPTIONS=halt_on_error=1 meson test -C build-tsan --no-rebuild vfio-stress sigterm-host \
	--print-errorlogs || true
python3 scripts/summary.py build/meson-logs/testlog.json build/meson-logs/linux.json \
	build/meson-logs/host-kernel.json \
	build-asan/meson-logs/testlog.json build-tsan/meson-logs/testlog.json
