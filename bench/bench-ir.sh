#!/bin/sh
# SPDX-License-Identifier: MIT
# Interrupt-remapping benchmark: runs bench-ir.elf under nestvm and QEMU, with and without a
# vIOMMU doing interrupt remapping, and prints the guest's "bench:" lines labelled per run.
#
# usage: bench/bench-ir.sh NESTVM BENCH_IR_ELF RUN_TEST_SH
# Environment: BENCH_QEMU (QEMU binary, default qemu-system-x86_64; "none" skips QEMU).
# QEMU runs on KVM with -cpu host, else -cpu host,-arch-capabilities (nested KVMs that refuse
# IA32_ARCH_CAPABILITIES), else TCG; the label says which.
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 NESTVM BENCH_IR_ELF RUN_TEST_SH" >&2
	exit 2
fi
nestvm=$1
kernel=$2
runner=$3
qemu=${BENCH_QEMU:-qemu-system-x86_64}
status=0

# run LABEL [--qemu] VMM KERNEL ARGS...: prints the bench lines; a failed run fails the benchmark.
run() {
	run_label=$1
	shift
	out=$("$runner" "$@" 2>&1)
	rc=$?
	echo "$out" | sed -n 's/^ *bench: /bench: ['"$run_label"'] /p'
	if [ $rc -ne 0 ]; then
		echo "$out" | tail -n 5
		echo "bench: [$run_label] FAILED"
		status=1
	fi
}

run "nestvm, vtd,ir=on" "$nestvm" "$kernel" -m 128M -device vtd,ir=on,eim=off -device edu
run "nestvm, no vtd" "$nestvm" "$kernel" -m 128M -device edu

if [ "$qemu" = none ] || ! command -v "$qemu" >/dev/null 2>&1; then
	echo "bench: QEMU not run (BENCH_QEMU=none or no $qemu)"
	exit $status
fi
accel="" cpu=""
for c in "kvm host" "kvm host,-arch-capabilities" "tcg max"; do
	set -- $c
	if QEMU_ACCEL=$1 QEMU_CPU=$2 GUEST_TEST_TIMEOUT=60 "$runner" --qemu "$qemu" "$kernel" -m 128M \
		-device edu >/dev/null 2>&1; then
		accel=$1 cpu=$2
		break
	fi
done
if [ -z "$accel" ]; then
	echo "bench: QEMU could not run the kernel (kvm and tcg tried)"
	exit $status
fi
label="QEMU $($qemu --version | sed -n '1s/.*version \([0-9.]*\).*/\1/p') $accel -cpu $cpu"
export QEMU_ACCEL=$accel QEMU_CPU=$cpu GUEST_TEST_TIMEOUT=120
run "$label, intel-iommu,intremap=on" --qemu "$qemu" "$kernel" -m 128M \
	-device intel-iommu,intremap=on,eim=off -device edu
run "$label, no iommu" --qemu "$qemu" "$kernel" -m 128M -device edu
exit $status
