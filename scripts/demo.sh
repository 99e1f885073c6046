#!/usr/bin/env bash
# Builds nestvm and boots the bundled demo guest: a guest SVA driver binds two PASIDs of a
# simulated passthrough DMA device (pasid-dma,backend=hostsim), runs DMA, remaps and flushes;
# nestvm forwards each bind and invalidation to the host IOMMU simulator and prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${BUILD:-build} # build directory (default: build/)
[ -e "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" vmm/nestvm guest-tests/demo.elf >/dev/null
set +e
"$build/vmm/nestvm" run -kernel "$build/guest-tests/demo.elf" -m 128M -smp 1 \
	-device vtd,mode=scalable -device pasid-dma,backend=hostsim --timing
status=$?
set -e
echo "nestvm exited with status $status (1 = the demo guest passed)"
[ "$status" -eq 1 ]
