#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only OR MIT
# Builds pdma-sva.ko for Debian's L2 kernel against its linux-headers package.
#
#   guest-drivers/linux/build.sh OUT.ko
#   env: KVER=6.1.0-47-amd64  HCACHE=/tmp/nestvm-linux-headers (the .debs, extracted; built modules)
# The headers come from `apt-get download` (linux-headers-KVER, its -common, linux-kbuild-6.1),
# extracted with dpkg-deb -x; the module is cached by a hash of the sources and KVER.
# Exit 77 when the packages cannot be obtained (no mirror), 1 on a build failure.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: build.sh OUT.ko}
KVER=${KVER:-6.1.0-47-amd64}
HCACHE=${HCACHE:-/tmp/nestvm-linux-headers}
KSERIES=${KVER%%-*}; KSERIES=${KSERIES%.*}   # 6.1.0 -> 6.1
FLAVOUR=${KVER##*-}                          # amd64
COMMON=${KVER%-"$FLAVOUR"}-common            # 6.1.0-47-common
mkdir -p "$HCACHE"
skip() { echo "SKIP: $*" >&2; exit 77; }

hash=$( (cat "$HERE"/pdma-sva.c "$HERE"/pdma-sva-uapi.h "$HERE"/Kbuild "$0"; echo "$KVER") | sha256sum | cut -c1-16)
cached=$HCACHE/pdma-sva-$KVER-$hash.ko
if [ -f "$cached" ]; then
	cp "$cached" "$OUT"
	echo "pdma-sva.ko: cached ($cached)" >&2
	exit 0
fi

ROOT=$HCACHE/root-$KVER
KDIR=$ROOT/usr/src/linux-headers-$KVER
if [ ! -f "$KDIR/.config" ]; then
	pkgs="linux-headers-$KVER linux-headers-$COMMON linux-kbuild-$KSERIES"
	for p in $pkgs; do
		ls "$HCACHE/${p}"_*.deb >/dev/null 2>&1 && continue
		(cd "$HCACHE" && timeout 600 apt-get download -q "$p" >&2) || skip "cannot download $p"
	done
	rm -rf "$ROOT.tmp"; mkdir -p "$ROOT.tmp"
	for p in $pkgs; do dpkg-deb -x "$(ls "$HCACHE/${p}"_*.deb | head -1)" "$ROOT.tmp"; done
	# The flavour's Makefile includes the -common tree by its installed path: point it here.
	sed -i "s|/usr/src/linux-headers-$COMMON|$ROOT/usr/src/linux-headers-$COMMON|" \
		"$ROOT.tmp/usr/src/linux-headers-$KVER/Makefile"
	rm -rf "$ROOT"; mv "$ROOT.tmp" "$ROOT"
fi
CC=gcc-12; command -v $CC >/dev/null || CC=gcc
B=$(mktemp -d); trap 'rm -rf "$B"' EXIT
cp "$HERE"/pdma-sva.c "$HERE"/pdma-sva-uapi.h "$HERE"/Kbuild "$B/"
t0=$(date +%s.%N)
make -s -C "$KDIR" M="$B" CC="$CC" modules >"$B/log" 2>&1 || { cat "$B/log" >&2; echo "FAIL: building pdma-sva.ko" >&2; exit 1; }
t1=$(date +%s.%N)
grep -i warning "$B/log" >&2 || true
cp "$B/pdma-sva.ko" "$cached"
cp "$cached" "$OUT"
printf 'pdma-sva.ko: built against %s in %.1f s\n' "$KVER" "$(echo "$t1 - $t0" | bc)" >&2
