#!/usr/bin/env bash
# Installs the Debian 12 packages nestvm needs to build and test (idempotent; needs root).
# --fuzzing also installs clang and its libFuzzer/sanitizer runtimes (fuzz/run-all.sh only;
# the default build and test run use gcc and do not need them).
set -euo pipefail
pkgs=(build-essential meson ninja-build pkg-config libfdt-dev check acpica-tools
      device-tree-compiler python3)
# tests/host-kernel builds its L2 Linux kernel from Debian's linux-source package.
pkgs+=(flex bison bc libelf-dev libssl-dev cpio xz-utils)
if [ "${1:-}" = "--fuzzing" ]; then
	pkgs+=(clang libclang-rt-14-dev)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "nestvm: missing packages: ${missing[*]} (run as root, or install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "nestvm: installed ${missing[*]}"
