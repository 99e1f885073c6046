#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the host-kernel suite's images: the L2 kernel (build-kernel.sh, cached), an L2 initramfs
# (busybox, nestvm with its libraries, the L3 guest tests, l2-init.sh) and, through
# tests/linux/build-images.sh, L1's kernel and initramfs with both of them under /hk.
#
#   tests/host-kernel/build-images.sh NESTVM GUEST_TEST_DIR
#   env: WORK=/tmp/nestvm-host-kernel; KCACHE_DIR etc. as for build-kernel.sh
# Exit 0, 77 (no mirror, not under CI=true), 1 on failure.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NESTVM=${1:?usage: build-images.sh NESTVM GUEST_TEST_DIR}
GT=${2:?usage: build-images.sh NESTVM GUEST_TEST_DIR}
export WORK=${WORK:-/tmp/nestvm-host-kernel}
TESTS="host-forward demo host-bind host-prq"
mkdir -p "$WORK"
rc=0; KIMG=$("$HERE/build-kernel.sh") || rc=$?
[ $rc = 0 ] || exit $rc
KIMG=$(echo "$KIMG" | tail -1)
echo "$KIMG" >"$WORK/hk-kernel-path"

R=$WORK/hk-root
rm -rf "$R"; mkdir -p "$R"/{bin,dev,proc,sys,tmp,t}
cp /bin/busybox "$R/bin/busybox"
mkdir -p "$R/usr/bin"
cp -L "$NESTVM" "$R/usr/bin/nestvm"
for lib in $(ldd "$NESTVM" | grep -o '/[^ ]*'); do cp -L --parents "$lib" "$R/"; done
for t in $TESTS; do cp "$GT/$t.elf" "$R/t/$t.elf"; done
cp "$HERE/l2-init.sh" "$R/init"; chmod +x "$R/init"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$WORK/hk-initrd"
cp "$KIMG" "$WORK/hk-bzImage"
EXTRA="$WORK/hk-bzImage:/hk/bzImage $WORK/hk-initrd:/hk/initrd ${EXTRA:-}" \
	"$HERE/../linux/build-images.sh" "$NESTVM"
