#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the guest-test kernels (guest-tests/tests.list) on QEMU q35 and prints pass/fail per test.
#
# usage: scripts/run-guest-tests-on-qemu.sh [BUILD_DIR] [TEST...]
#   BUILD_DIR defaults to ./build; the kernels are built there with ninja first.
# Environment: QEMU (binary), QEMU_ACCEL=kvm|tcg and QEMU_CPU force a configuration;
#   GUEST_TEST_TIMEOUT (seconds per test, default 50).
# Without QEMU_ACCEL the script probes: KVM with -cpu host, KVM with -cpu host,-arch-capabilities
# (some nested KVMs refuse to set IA32_ARCH_CAPABILITIES), then TCG with -cpu max.
# A test that fails on KVM is re-run on TCG so host-KVM quirks can be told from guest bugs.
# Not part of the meson suites.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
[ $# -gt 0 ] && shift
qemu=${QEMU:-qemu-system-x86_64}
runner=$here/guest-tests/run-test.sh
list=$here/guest-tests/tests.list

if [ ! -f "$build/build.ninja" ]; then
	echo "error: $build is not a meson build directory (meson setup $build)" >&2
	exit 2
fi
tests=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | awk '{print $1}')
[ $# -gt 0 ] && tests="$*"
targets=""
for t in $tests; do
	targets="$targets guest-tests/$t.elf"
done
# shellcheck disable=SC2086
ninja -C "$build" -j2 $targets >/dev/null || { echo "error: building the kernels failed" >&2; exit 2; }

probe() {
	QEMU_ACCEL=$1 QEMU_CPU=$2 GUEST_TEST_TIMEOUT=30 "$runner" --qemu "$qemu" \
		"$build/guest-tests/hello.elf" -smp 1 -m 128M >/dev/null 2>&1
}

if [ -n "${QEMU_ACCEL:-}" ]; then
	accel=$QEMU_ACCEL
	cpu=${QEMU_CPU:-}
	[ -z "$cpu" ] && { [ "$accel" = tcg ] && cpu=max || cpu=host; }
else
	ninja -C "$build" guest-tests/hello.elf >/dev/null
	if probe kvm host; then
		accel=kvm cpu=host
	elif probe kvm host,-arch-capabilities; then
		accel=kvm cpu=host,-arch-capabilities
		echo "# note: -cpu host fails under this KVM; using -cpu host,-arch-capabilities"
	else
		accel=tcg cpu=max
		echo "# note: -accel kvm does not work here; falling back to -accel tcg (slow)"
	fi
fi
echo "# QEMU: $qemu -accel $accel -cpu $cpu"

pass=0
fail=0
results=""
for t in $tests; do
	line=$(sed -e 's/#.*//' "$list" | awk -v n="$t" '$1 == n {print; exit}')
	if [ -z "$line" ]; then
		echo "error: no test '$t' in $list" >&2
		fail=$((fail + 1))
		continue
	fi
	set -- $line
	smp=$2 mem=$3 devs=${4:--} qdevs=${5:-}
	# Column 5 (optional): QEMU's devices when they differ from nestvm's; "skip" = not on QEMU.
	[ -n "$qdevs" ] && devs=$qdevs
	if [ "$devs" = skip ]; then
		echo "=== $t: skipped on QEMU (tests.list)"
		results="$results$t: SKIP\n"
		continue
	fi
	set -- -smp "$smp" -m "$mem"
	if [ "$devs" != "-" ]; then
		for d in $(echo "$devs" | tr '+' ' '); do
			case $d in
			append:*) set -- "$@" -append "$(echo "${d#append:}" | tr ':' ' ')" ;;
			*) set -- "$@" -device "$d" ;;
			esac
		done
	fi
	echo "=== $t"
	if QEMU_ACCEL=$accel QEMU_CPU=$cpu "$runner" --qemu "$qemu" "$build/guest-tests/$t.elf" "$@"; then
		results="$results$t: PASS ($accel)\n"
		pass=$((pass + 1))
	elif [ "$accel" = kvm ]; then
		echo "=== $t failed on KVM; re-running on TCG"
		if QEMU_ACCEL=tcg QEMU_CPU=max "$runner" --qemu "$qemu" "$build/guest-tests/$t.elf" "$@"; then
			results="$results$t: FAIL (kvm), PASS (tcg): suspect the host KVM\n"
		else
			results="$results$t: FAIL (kvm and tcg)\n"
		fi
		fail=$((fail + 1))
	else
		results="$results$t: FAIL ($accel)\n"
		fail=$((fail + 1))
	fi
done
echo "=== summary"
printf "$results"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
