#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs one guest-test kernel under nestvm (or QEMU with --qemu) and judges its TAP output.
# usage: run-test.sh [--qemu] VMM KERNEL [-smp N] [-m SIZE] [-device SPEC]...
# Pass = exit status 1 (guest wrote 0 to port 0xf4), a "1..N" plan, N "ok" lines, no "not ok".
# Exits 0 on pass, 1 on fail.
set -u

mode=nestvm
if [ "${1:-}" = "--qemu" ]; then
	mode=qemu
	shift
fi
if [ $# -lt 2 ]; then
	echo "usage: $0 [--qemu] VMM KERNEL [-smp N] [-m SIZE] [-device SPEC]..." >&2
	exit 1
fi
vmm=$1
kernel=$2
shift 2
timeout_s=${GUEST_TEST_TIMEOUT:-50}

if [ "$mode" = qemu ]; then
	accel=${QEMU_ACCEL:-kvm}
	cpu=${QEMU_CPU:-host}
	[ "$accel" = tcg ] && cpu=${QEMU_CPU:-max}
	set -- -accel "$accel" -M q35,kernel-irqchip=split -cpu "$cpu" \
		-display none -vga none -serial stdio -no-reboot -nodefaults \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$kernel" "$@"
else
	set -- run -kernel "$kernel" "$@"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# $vmm $*"
timeout -k 5 "$timeout_s" "$vmm" "$@" </dev/null >"$out" 2>&1
status=$?
tr -d '\r' <"$out" | sed 's/^/    /'

fail=""
case $status in
1) ;;
3) fail="guest reported failure (exit status 3)" ;;
124) fail="timed out after ${timeout_s}s" ;;
*) fail="unexpected exit status $status (want 1 = pass)" ;;
esac
plan=$(tr -d '\r' <"$out" | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | head -n 1)
oks=$(tr -d '\r' <"$out" | grep -c '^ok [0-9]')
notoks=$(tr -d '\r' <"$out" | grep -c '^not ok [0-9]')
if [ -z "$plan" ]; then
	fail="${fail:+$fail; }no TAP plan line"
elif [ "$oks" -ne "$plan" ] || [ "$notoks" -ne 0 ]; then
	fail="${fail:+$fail; }plan $plan, $oks ok, $notoks not ok"
fi
if [ -n "$fail" ]; then
	echo "FAIL: $(basename "$kernel"): $fail"
	exit 1
fi
echo "PASS: $(basename "$kernel"): $oks/$plan ok"
exit 0
