#!/bin/sh
# SPDX-License-Identifier: MIT
# Exit and vIOMMU cost benchmark, nestvm against QEMU in one invocation: runs bench-exits.elf on
# nestvm and QEMU, legacy and scalable mode, and prints each operation's overhead above a bare
# port-I/O exit of the same boot (median and min TSC cycles), and nestvm's / QEMU's ratio.
#
# usage: bench/bench-exits.sh NESTVM BENCH_EXITS_ELF RUN_TEST_SH
# Environment: BENCH_QEMU (QEMU binary, default qemu-system-x86_64; "none" skips QEMU).
# QEMU runs on KVM with -cpu host, else -cpu host,-arch-capabilities, else TCG (labelled).
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 NESTVM BENCH_EXITS_ELF RUN_TEST_SH" >&2
	exit 2
fi
nestvm=$1
kernel=$2
runner=$3
qemu=${BENCH_QEMU:-qemu-system-x86_64}
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run TAG LABEL [--qemu] VMM KERNEL ARGS...: keeps the bench-data lines in $tmp/TAG.
run() {
	tag=$1 label=$2
	shift 2
	out=$("$runner" "$@" 2>&1)
	rc=$?
	echo "$out" | sed -n 's/^ *bench: /bench: ['"$label"'] /p'
	echo "$out" | sed -n 's/^ *bench-data: //p' >"$tmp/$tag"
	if [ $rc -ne 0 ]; then
		echo "$out" | tail -n 5
		echo "bench: [$label] FAILED"
		status=1
	fi
}

run nl "nestvm legacy" "$nestvm" "$kernel" -m 128M -device vtd,mode=legacy,ir=on,eim=off -device edu
run ns "nestvm scalable" "$nestvm" "$kernel" -m 128M -device vtd,mode=scalable,ir=on,eim=off \
	-device edu

qlabel=""
if [ "$qemu" != none ] && command -v "$qemu" >/dev/null 2>&1; then
	for c in "kvm host" "kvm host,-arch-capabilities" "tcg max"; do
		set -- $c
		if QEMU_ACCEL=$1 QEMU_CPU=$2 GUEST_TEST_TIMEOUT=60 "$runner" --qemu "$qemu" "$kernel" \
			-m 128M >/dev/null 2>&1; then
			qlabel="QEMU $($qemu --version | sed -n '1s/.*version \([0-9.]*\).*/\1/p') $1 -cpu $2"
			export QEMU_ACCEL=$1 QEMU_CPU=$2
			break
		fi
	done
fi
if [ -n "$qlabel" ]; then
	export GUEST_TEST_TIMEOUT=120
	run ql "$qlabel, legacy" --qemu "$qemu" "$kernel" -m 128M \
		-device intel-iommu,intremap=on,eim=off -device edu
	run qs "$qlabel, scalable" --qemu "$qemu" "$kernel" -m 128M \
		-device intel-iommu,intremap=on,eim=off,x-scalable-mode=on -device edu
else
	echo "bench: QEMU not run (BENCH_QEMU=none, no $qemu, or it could not run the kernel)"
	: >"$tmp/ql"
	: >"$tmp/qs"
fi

# Overhead of an operation = its time minus the bare PIO read timed in the same round (paired,
# so host load hits both alike), median and min over the rounds ("KEY-ovh" lines); the
# whole-exit rows are the full access above the rdtsc pair. Ratio = nestvm / QEMU. A register
# read costs about one bare exit in both VMMs, so its overhead is near 0 or negative (no ratio):
# compare its whole-exit row. "empty" (qi-iotlb-1-empty-ovh) is an IQT write that queues
# nothing, above the PIO read: the guest's own instructions and the exit kind, no VMM work.
# table STAT COL TITLE ROWS...: each row is OP:BASE (BASE "-": OP is already a difference).
table() {
	stat=$1 col=$2 title=$3
	shift 3
	rows=$*
	echo "bench: $title, $stat TSC cycles (${qlabel:-no QEMU})"
	printf 'bench: %-28s %10s %10s %6s | %10s %10s %6s\n' operation "nestvm-leg" "QEMU-leg" ratio \
		"nestvm-sm" "QEMU-sm" ratio
	for row in $rows; do
		op=${row%:*} base=${row#*:}
		name=${op%-ovh}
		name=${name%-vmm}
		[ "$base" = rdtsc ] && name="$op (whole exit)"
		line=""
		for pair in "nl ql" "ns qs"; do
			set -- $pair
			line="$line $(awk -v op="$op" -v base="$base" -v c="$col" '
				FILENAME == ARGV[1] && $1 == base { b1 = $c }
				FILENAME == ARGV[1] && $1 == op { v1 = $c; h1 = 1 }
				FILENAME == ARGV[2] && $1 == base { b2 = $c }
				FILENAME == ARGV[2] && $1 == op { v2 = $c; h2 = 1 }
				END {
					o1 = h1 ? v1 - b1 : "-"; o2 = h2 ? v2 - b2 : "-"
					r = (h1 && h2 && o1 >= 0 && o2 > 0) ? sprintf("%.2f", o1 / o2) : "-"
					printf "%s %s %s", o1, o2, r
				}' "$tmp/$1" "$tmp/$2")"
		done
		set -- $line
		printf 'bench: %-28s %10s %10s %6s | %10s %10s %6s\n' "$name" "$@"
	done
}
table median 2 "overhead above a bare PIO exit" reg-ver-ovh: qi-iotlb-1-ovh: qi-iotlb-64-ovh: \
	qi-pc-1-ovh: qi-piotlb-1-ovh: qi-piotlb-64-ovh: qi-iec-1-ovh: pio:rdtsc reg-ver:rdtsc
# The queue round trips again, above an empty one of the same round: the same guest
# instructions (on this host each is emulated at ~1.5 us, and they make most of the overhead
# above a PIO exit in both VMMs) and the same IQT write exit, with nothing queued. What is
# left is the VMM's processing of the descriptors and the wait's status write.
# Median of the paired differences, and (steadier under a shared host's load spikes, which
# hit one side of a pair) the difference of the two minima.
table median 2 "VMM processing above an empty IQT round trip of the same round" \
	qi-iotlb-1-empty-ovh:- qi-iotlb-1-vmm:- qi-iotlb-64-vmm:- qi-pc-1-vmm:- qi-piotlb-1-vmm:- \
	qi-piotlb-64-vmm:- qi-iec-1-vmm:-
table "min(op) - min(empty)," 3 "VMM processing above an empty IQT round trip" \
	qi-iotlb-1:qi-iotlb-1-empty qi-iotlb-64:qi-iotlb-64-empty qi-pc-1:qi-pc-1-empty \
	qi-piotlb-1:qi-piotlb-1-empty qi-piotlb-64:qi-piotlb-64-empty qi-iec-1:qi-iec-1-empty
# The VMM's own cost per descriptor, free of the guest's emulated instructions: the slope
# (x64 - x1) / 63 of the round-trip medians.
echo "bench: VMM cost per descriptor, (x64 - x1) / 63 of the medians, TSC cycles"
for op in qi-iotlb qi-piotlb; do
	line=""
	for pair in "nl ql" "ns qs"; do
		set -- $pair
		line="$line $(awk -v op="$op" '
			FILENAME == ARGV[1] && $1 == op "-1" { a1 = $2 }
			FILENAME == ARGV[1] && $1 == op "-64" { b1 = $2; h1 = 1 }
			FILENAME == ARGV[2] && $1 == op "-1" { a2 = $2 }
			FILENAME == ARGV[2] && $1 == op "-64" { b2 = $2; h2 = 1 }
			END {
				o1 = h1 ? int((b1 - a1) / 63) : "-"; o2 = h2 ? int((b2 - a2) / 63) : "-"
				r = (h1 && h2 && o1 >= 0 && o2 > 0) ? sprintf("%.2f", o1 / o2) : "-"
				printf "%s %s %s", o1, o2, r
			}' "$tmp/$1" "$tmp/$2")"
	done
	set -- $line
	printf 'bench: %-28s %10s %10s %6s | %10s %10s %6s\n' "$op per descriptor" "$@"
done
exit $status
