#!/bin/sh
# SPDX-License-Identifier: MIT
# The vIOMMU's register read mirror (docs/viommu.md) end to end: runs the vtd-regs-mirror kernel
#   on       -device vtd (regs-mirror=on by default): the kernel passes, nestvm reports the
#            mirror mapped and 0 register reads by exit, though the kernel did N reads
#   off      -device vtd,regs-mirror=off: the kernel passes, at least N reads by exit
#   trace    --trace vtd-reg: the mirror stays mapped (0 reads by exit; writes are traced);
#            with regs-mirror=off as well, at least N reads by exit
# With --kvm-stats, KVM's own count of MMIO exits to nestvm says the same: at least N with the
# mirror off, fewer than N with it on (only the register writes and other devices' MMIO exit).
# N is what the kernel prints ("# register reads: N").
#   usage: regs-mirror.sh NESTVM KERNEL RUN_TEST_SH
set -u
if [ $# -ne 3 ]; then
	echo "usage: $0 NESTVM KERNEL RUN_TEST_SH" >&2
	exit 2
fi
vmm=$1
kernel=$2
runner=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0
fail=0

# check NAME WANT_MIRROR READS_CMP ARGS...: READS_CMP "zero" (no read exited) or "all".
check() {
	name=$1 want=$2 cmp=$3
	shift 3
	n=$((n + 1))
	"$runner" "$vmm" "$kernel" "$@" >"$out" 2>&1
	rc=$?
	guest=$(sed -n 's/^ *# register reads: \([0-9][0-9]*\)$/\1/p' "$out" | tail -n 1)
	line=$(grep 'nestvm: vtd: register accesses by exit:' "$out" | tail -n 1)
	kvm=$(sed -n 's/^ *nestvm: kvm: .* mmio \([0-9][0-9]*\).*/\1/p' "$out" | tail -n 1)
	exited=$(echo "$line" | sed -n 's/.*by exit: \([0-9][0-9]*\) reads.*/\1/p')
	mirror=$(echo "$line" | sed -n 's/.*read mirror \(.*\)$/\1/p')
	ok=1
	[ $rc -eq 0 ] && [ -n "$guest" ] && [ -n "$exited" ] && [ "$mirror" = "$want" ] || ok=0
	if [ $ok -eq 1 ]; then
		case $cmp in
		zero) [ "$exited" -eq 0 ] || ok=0 ;;
		all) [ "$exited" -ge "$guest" ] || ok=0 ;;
		esac
		# KVM's counter, where the run asked for it: then it must be there.
		case " $* " in
		*" --kvm-stats "*)
			[ -n "$kvm" ] || ok=0
			case $cmp in
			zero) [ "${kvm:-0}" -lt "$guest" ] || ok=0 ;;
			all) [ "${kvm:-0}" -ge "$guest" ] || ok=0 ;;
			esac ;;
		esac
	fi
	if [ $ok -eq 1 ]; then
		echo "ok $n - $name: guest passed, $guest register reads, $exited by exit" \
			"(KVM's MMIO exits: ${kvm:-not asked}), mirror $mirror"
	else
		echo "not ok $n - $name: run status $rc, guest reads '${guest:-?}', by exit '${exited:-?}'," \
			"KVM's MMIO exits '${kvm:--}', mirror '${mirror:-?}' (want $want, reads by exit $cmp)"
		grep -v '^ *trace: ' "$out" | tail -n 15 | sed 's/^/    /'
		fail=1
	fi
}

check "regs-mirror=on" mapped zero -m 128M -device vtd,mode=legacy
check "regs-mirror=off" off all -m 128M -device vtd,mode=legacy,regs-mirror=off
check "regs-mirror=on, --kvm-stats" mapped zero --kvm-stats -m 128M -device vtd,mode=legacy
check "regs-mirror=off, --kvm-stats" off all --kvm-stats -m 128M \
	-device vtd,mode=legacy,regs-mirror=off
check "--trace vtd-reg" mapped zero --trace vtd-reg -m 128M -device vtd,mode=legacy
check "--trace vtd-reg, regs-mirror=off" off all --trace vtd-reg -m 128M \
	-device vtd,mode=legacy,regs-mirror=off
echo "1..$n"
exit $fail
