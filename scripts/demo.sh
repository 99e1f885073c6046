#!/usr/bin/env bash
# Builds nestvm and boots the bundled demo guest with the vIOMMU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
[ -e build/build.ninja ] || meson setup build >/dev/null
meson compile -C build >/dev/null
set +e
kernel=build/guest-tests/demo.elf
[ -e "$kernel" ] || kernel=build/guest-tests/hello.elf
build/vmm/nestvm run -kernel "$kernel" -m 128M -smp 2 -device vtd,mode=scalable -device edu --timing
status=$?
set -e
echo "nestvm exited with status $status (1 = the demo guest passed)"
[ "$status" -eq 1 ]
