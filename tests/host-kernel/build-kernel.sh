#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the L2 kernel of the host-kernel suite: Debian's linux-source-$KSRCVER, `make allnoconfig`
# with kernel.config as KCONFIG_ALLCONFIG, bzImage only. Cached by the hash of the fragment, the
# source package's version and this script, so a second run is instant and a fresh machine rebuilds.
#
#   tests/host-kernel/build-kernel.sh            prints the bzImage path on stdout (last line)
#   env: KCACHE_DIR=/var/cache/nestvm (cache root; ~/.cache/nestvm when not root)  KSRCVER=7.3 (linux-source-X.Y)
#        KSUITES="trixie-backports forky" (suites searched for the source package)
#        JOBS=2  NICE=19
# The source package comes from the mirror the machine's own apt sources use, through a private
# sources list, lists and cache dir: the system's apt configuration is never touched.
# Exit 0 with the path, 1 on any failure (a suite that needs it must fail, not skip, under CI=true;
# without CI it exits 77 when no mirror answers).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
FRAG=$HERE/kernel.config
# /var/cache/nestvm for root (CI), else the user's cache directory.
if [ -z "${KCACHE_DIR:-}" ]; then
	KCACHE_DIR=/var/cache/nestvm
	[ "$(id -u)" = 0 ] || KCACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/nestvm
fi
KSRCVER=${KSRCVER:-7.3}
KSUITES=${KSUITES:-trixie-backports forky}
JOBS=${JOBS:-2}
NICE=${NICE:-19}
PKG=linux-source-$KSRCVER
die() { echo "build-kernel: $*" >&2; exit 1; }
nomirror() {
	echo "build-kernel: $*" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 77
}
for t in make gcc flex bison bc perl xz; do
	command -v "$t" >/dev/null || die "missing tool $t (apt-get install flex bison bc libelf-dev libssl-dev)"
done
[ -f /usr/include/libelf.h ] || [ -f /usr/include/gelf.h ] || die "missing libelf headers (apt-get install libelf-dev)"
mkdir -p "$KCACHE_DIR/src"

# ---- the source package, through a private apt configuration ----------------------------------
mirror() {
	local f u
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# one-line ("deb URI suite ...") and deb822 ("URIs: URI") formats; the first Debian mirror wins
		u=$(sed -n -e 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\/\?\)[[:space:]].*/\2/p' \
			-e 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\/\?\)[[:space:]]*$/\1/p' "$f" | head -1)
		[ -n "$u" ] && { echo "${u%/}"; return 0; }
	done
	return 1
}
deb=$(ls "$KCACHE_DIR"/src/"$PKG"_*_all.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$deb" ]; then
	uri=$(mirror) || nomirror "no Debian mirror in /etc/apt/sources.list(.d)"
	apt=$(mktemp -d /tmp/nestvm-kapt.XXXXXX)
	trap 'rm -rf "$apt"' EXIT
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
	for s in $KSUITES; do echo "deb $uri $s main"; done >"$apt/sources.list"
	APTO=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o Debug::NoLocking=1)
	echo "build-kernel: fetching $PKG from $uri ($KSUITES)" >&2
	timeout 600 apt-get "${APTO[@]}" update -q >&2 || nomirror "apt-get update on the private list failed"
	(cd "$KCACHE_DIR/src" && timeout 900 apt-get "${APTO[@]}" download -q "$PKG" >&2) ||
		nomirror "cannot download $PKG from $uri ($KSUITES)"
	deb=$(ls "$KCACHE_DIR"/src/"$PKG"_*_all.deb | sort -V | tail -1)
fi
srcver=$(dpkg-deb -f "$deb" Version)

# ---- cache key: fragment + source version + recipe ------------------------------------------------
RECIPE=2
key=$( (cat "$FRAG"; echo "$PKG $srcver recipe $RECIPE") | sha256sum | cut -c1-16)
OUT=$KCACHE_DIR/kernel-$key
# One build per key at a time: a second run waits for the first and takes its result.
exec 9>"$KCACHE_DIR/kernel-$key.lock"
flock 9
if [ -f "$OUT/bzImage" ]; then
	echo "build-kernel: cached $OUT/bzImage ($PKG $srcver)" >&2
	echo "$OUT/bzImage"
	exit 0
fi
# The unpacked source tree is kept per source version: a changed fragment rebuilds only what
# the changed options touch (Kbuild tracks each object's CONFIG_ dependencies).
K=$KCACHE_DIR/tree-$PKG-$srcver
exec 8>"$K.lock"
flock 8
if [ ! -f "$K/.unpacked" ]; then
	echo "build-kernel: unpacking $PKG $srcver" >&2
	rm -rf "$K"; mkdir -p "$K"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards "./usr/src/$PKG.tar.*" |
		xz -dc | tar -x -C "$K" --strip-components=1
	touch "$K/.unpacked"
fi
start=$(date +%s)
make -C "$K" -s KCONFIG_ALLCONFIG="$FRAG" allnoconfig >&2
# every line of the fragment must have survived Kconfig's dependency resolution
bad=0
while IFS= read -r line; do
	case $line in ''|'#'*) continue ;; esac
	opt=${line%%=*}; val=${line#*=}
	if [ "$val" = n ]; then
		grep -qx "# $opt is not set" "$K/.config" || ! grep -q "^$opt=" "$K/.config" ||
			{ echo "build-kernel: $opt should be off: $(grep "^$opt=" "$K/.config")" >&2; bad=1; }
	else
		got=$(grep "^$opt=" "$K/.config" || echo "$opt unset")
		[ "$got" = "$line" ] || { echo "build-kernel: wanted $line, .config has: $got" >&2; bad=1; }
	fi
done <"$FRAG"
[ $bad = 0 ] || die "kernel.config does not hold in $PKG $srcver (see above)"
echo "build-kernel: building bzImage ($PKG $srcver, -j$JOBS, nice $NICE) in $K" >&2
nice -n "$NICE" make -C "$K" -s -j"$JOBS" bzImage >"$K/make.log" 2>&1 ||
	{ tail -30 "$K/make.log" >&2; die "make bzImage failed (log $K/make.log)"; }
secs=$(($(date +%s) - start))
mkdir -p "$OUT.tmp"
cp "$K/arch/x86/boot/bzImage" "$OUT.tmp/bzImage"
cp "$K/.config" "$OUT.tmp/config"
echo "$PKG $srcver built in ${secs}s" >"$OUT.tmp/info"
rm -rf "$OUT"; mv "$OUT.tmp" "$OUT"
echo "build-kernel: $PKG $srcver bzImage built in ${secs}s: $OUT/bzImage" >&2
echo "$OUT/bzImage"
