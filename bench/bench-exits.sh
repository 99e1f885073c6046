#!/bin/sh
# SPDX-License-Identifier: MIT
# Exit and vIOMMU cost benchmark, nestvm against QEMU in one invocation: runs bench-exits.elf on
# nestvm (also with regs-mirror=off) and QEMU, legacy and scalable mode, and prints the cost of a
# vIOMMU register read beside a bare port-I/O exit (absolute, and whether nestvm's read exits),
# each queued-invalidation operation's overhead above a bare exit of the same boot (median and
# min TSC cycles), and nestvm's / QEMU's ratio.
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
	echo "$out" | sed -n 's/^ *nestvm: vtd: register accesses by exit: //p' | tail -n 1 >"$tmp/$tag.vtd"
	if [ $rc -ne 0 ]; then
		echo "$out" | tail -n 5
		echo "bench: [$label] FAILED"
		status=1
	fi
}

run nl "nestvm legacy" "$nestvm" "$kernel" -m 128M -device vtd,mode=legacy,ir=on,eim=off -device edu
run ns "nestvm scalable" "$nestvm" "$kernel" -m 128M -device vtd,mode=scalable,ir=on,eim=off \
	-device edu
# The same with every register read exiting (no read mirror): nestvm's exit path against QEMU's.
run nlx "nestvm legacy, regs-mirror=off" "$nestvm" "$kernel" -m 128M \
	-device vtd,mode=legacy,ir=on,eim=off,regs-mirror=off -device edu
run nsx "nestvm scalable, regs-mirror=off" "$nestvm" "$kernel" -m 128M \
	-device vtd,mode=scalable,ir=on,eim=off,regs-mirror=off -device edu

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

# cell FILE1 FILE2 OP BASE COL: "v1 v2 ratio" of OP minus BASE (BASE "-": OP is already a
# difference) in column COL of two bench-data files; ratio = v1 / v2 when both are positive.
cell() {
	awk -v op="$3" -v base="$4" -v c="$5" '
		FILENAME == ARGV[1] && $1 == base { b1 = $c }
		FILENAME == ARGV[1] && $1 == op { v1 = $c; h1 = 1 }
		FILENAME == ARGV[2] && $1 == base { b2 = $c }
		FILENAME == ARGV[2] && $1 == op { v2 = $c; h2 = 1 }
		END {
			o1 = h1 ? v1 - b1 : "-"; o2 = h2 ? v2 - b2 : "-"
			r = (h1 && h2 && o1 >= 0 && o2 > 0) ? sprintf("%.2f", o1 / o2) : "-"
			printf "%s %s %s", o1, o2, r
		}' "$1" "$2"
}
header() {
	printf 'bench: %-28s %10s %10s %6s | %10s %10s %6s\n' "${1:-operation}" "nestvm-leg" \
		"QEMU-leg" ratio "nestvm-sm" "QEMU-sm" ratio
}
# row LABEL NL NS OP BASE COL: nestvm's legacy / scalable data from files NL / NS, QEMU's from
# ql / qs.
row() {
	label=$1 nl=$2 ns=$3 op=$4 base=$5 col=$6
	set -- $(cell "$tmp/$nl" "$tmp/ql" "$op" "$base" "$col") \
		$(cell "$tmp/$ns" "$tmp/qs" "$op" "$base" "$col")
	printf 'bench: %-28s %10s %10s %6s | %10s %10s %6s\n' "$label" "$@"
}

# The vIOMMU register read. nestvm serves it from a read-only mirror of the register window
# (docs/viommu.md): no exit, so its cost is a memory read, far below a bare exit, and its
# overhead above the bare exit is negative (no ratio of overheads). So the absolute costs:
# median cycles per access above the rdtsc pair of the loop, for the bare PIO exit and the
# register reads, ratio = nestvm / QEMU of those costs; then the paired overhead above the bare
# exit; then nestvm with regs-mirror=off (every read exits) for its exit path against QEMU's.
echo "bench: vIOMMU register read, median TSC cycles per access above the rdtsc pair (${qlabel:-no QEMU})"
header access
row "bare PIO exit" nl ns pio rdtsc 2
row "VER read" nl ns reg-ver rdtsc 2
row "GSTS read" nl ns reg-gsts rdtsc 2
row "VER read - bare exit (paired)" nl ns reg-ver-ovh - 2
row "VER read, regs-mirror=off" nlx nsx reg-ver rdtsc 2
row "VER - bare exit, mirror off" nlx nsx reg-ver-ovh - 2
for pair in "nl legacy" "ns scalable"; do
	set -- $pair
	vtd=$(cat "$tmp/$1.vtd" 2>/dev/null)
	case $vtd in
	"0 reads,"*"read mirror mapped")
		how="no exit (read mirror mapped; 0 register reads by exit in the whole run)" ;;
	"")
		how="unknown (no nestvm vtd summary line)" ;;
	*)
		how="exits (${vtd%%,*} by exit; ${vtd##*; })" ;;
	esac
	echo "bench: nestvm $2: register reads: $how"
done

# Overhead of an operation = its time minus the bare PIO read timed in the same round (paired,
# so host load hits both alike), median and min over the rounds ("KEY-ovh" lines). Ratio =
# nestvm / QEMU. "empty" (qi-iotlb-1-empty-ovh) is an IQT write that queues nothing, above the
# PIO read: the guest's own instructions and the exit kind, no VMM work.
# pair_row NAME OP AWK: one row whose figures need more than one key of a run: AWK reads
# nestvm's file (ARGV[1]) and QEMU's (ARGV[2]) with -v op=OP and prints "nestvm QEMU ratio";
# once for legacy, once for scalable.
pair_row() {
	name=$1 op=$2 prog=$3
	line=""
	for pair in "nl ql" "ns qs"; do
		set -- $pair
		line="$line $(awk -v op="$op" "$prog" "$tmp/$1" "$tmp/$2")"
	done
	set -- $line
	printf 'bench: %-28s %10s %10s %6s | %10s %10s %6s\n' "$name" "$@"
}
# table STAT COL TITLE ROWS...: each row is OP:BASE (BASE "-": OP is already a difference).
table() {
	stat=$1 col=$2 title=$3
	shift 3
	rows=$*
	echo "bench: $title, $stat TSC cycles (${qlabel:-no QEMU})"
	header
	for r in $rows; do
		op=${r%:*} base=${r#*:}
		name=${op%-ovh}
		name=${name%-vmm}
		row "$name" nl ns "$op" "$base" "$col"
	done
}
table median 2 "overhead above a bare PIO exit" qi-iotlb-1-ovh: qi-iotlb-64-ovh: \
	qi-pc-1-ovh: qi-piotlb-1-ovh: qi-piotlb-64-ovh: qi-iec-1-ovh:
# What the first table's ratio can reach on this host: an IQT round trip that queues nothing
# costs both VMMs the same (the guest's emulated instructions and the IQT write's exit to user
# space, ~1.00 in the next table; docs/benchmarks.md), so even a VMM that drained and completed the queue in no time would
# show nestvm's empty round trip above the PIO exit against QEMU's whole overhead for the
# operation. floor = nestvm's empty / QEMU's op (medians); nestvm's own processing is the gap
# between the first table's ratio and this one.
echo "bench: best ratio reachable above a bare PIO exit: nestvm's empty round trip / QEMU's operation, median TSC cycles (${qlabel:-no QEMU})"
header
for op in qi-iotlb-1 qi-iotlb-64 qi-pc-1 qi-piotlb-1 qi-piotlb-64 qi-iec-1; do
	pair_row "$op" "$op" '
		FILENAME == ARGV[1] && $1 == op "-empty-ovh" { e = $2; he = 1 }
		FILENAME == ARGV[2] && $1 == op "-ovh" { q = $2; hq = 1 }
		END {
			r = (he && hq && e >= 0 && q > 0) ? sprintf("%.2f", e / q) : "-"
			printf "%s %s %s", he ? e : "-", hq ? q : "-", r
		}'
done
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
	pair_row "$op per descriptor" "$op" '
		FILENAME == ARGV[1] && $1 == op "-1" { a1 = $2 }
		FILENAME == ARGV[1] && $1 == op "-64" { b1 = $2; h1 = 1 }
		FILENAME == ARGV[2] && $1 == op "-1" { a2 = $2 }
		FILENAME == ARGV[2] && $1 == op "-64" { b2 = $2; h2 = 1 }
		END {
			o1 = h1 ? int((b1 - a1) / 63) : "-"; o2 = h2 ? int((b2 - a2) / 63) : "-"
			r = (h1 && h2 && o1 >= 0 && o2 > 0) ? sprintf("%.2f", o1 / o2) : "-"
			printf "%s %s %s", o1, o2, r
		}'
done
exit $status
