#!/bin/sh
# SPDX-License-Identifier: MIT
# nestvm stopped with SIGTERM while its guest keeps a host-backed device busy (stress-host
# with "-append forever": DMA and flushes on one vCPU, SRTP/TE/QIE resets on the other).
# Three runs, SIGTERM 0, 0.2 and 0.5 s after the guest said "# busy". Each must end within
# 10 s with no sanitizer report, crash or hang, and in order (vmm/signals.c): the test kernel has
# no ACPI power button, so the first SIGTERM stops the VM at once with status 143 (128 + 15),
# nestvm says so in one line, and the exit summary of host forwards (printed after the vCPUs
# were joined, before teardown) is there; a process killed by the signal would have neither.
# Each vCPU says where it stood (rip, interrupts on or off, halted or runnable) and the vIOMMU
# its queue registers: what tells a guest spinning with interrupts off from one waiting.
#   usage: sigterm.sh NESTVM KERNEL
set -u
vmm=$1
kernel=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0
for delay in 0 0.2 0.5; do
	: >"$out"
	"$vmm" run -kernel "$kernel" -smp 2 -m 128M -device vtd -device pasid-dma,backend=hostsim \
		-append forever </dev/null >"$out" 2>&1 &
	pid=$!
	n=0
	while ! grep -q '^# busy' "$out" && kill -0 "$pid" 2>/dev/null && [ $n -lt 300 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if ! grep -q '^# busy' "$out"; then
		echo "not ok - delay $delay: the guest never got busy"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		sed 's/^/    /' "$out" | tail -20
		fail=1
		continue
	fi
	sleep "$delay"
	kill -TERM "$pid"
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "not ok - delay $delay: nestvm still running 10 s after SIGTERM"
		kill -KILL "$pid"
		wait "$pid"
		fail=1
		continue
	fi
	wait "$pid"
	rc=$?
	if grep -q -E 'Sanitizer|runtime error|Segmentation|Aborted|core dumped' "$out"; then
		echo "not ok - delay $delay: sanitizer report or crash"
		sed 's/^/    /' "$out" | tail -30
		fail=1
	elif [ "$rc" -ne 143 ]; then
		echo "not ok - delay $delay: exit status $rc (want 143 = 128 + SIGTERM)"
		sed 's/^/    /' "$out" | tail -10
		fail=1
	elif ! grep -q '^nestvm: SIGTERM: the guest does not listen for the power button: stopping (exit status 143)$' "$out" ||
		! grep -q '^nestvm: host forwards: ' "$out"; then
		echo "not ok - delay $delay: no orderly stop (signal line or exit summary missing)"
		sed 's/^/    /' "$out" | tail -10
		fail=1
	elif [ "$(grep -c -E '^nestvm: vCPU [01] at the stop: rip=0x[0-9a-f]+ rflags=0x[0-9a-f]+ \(interrupts (on|off)\), (halted|runnable)$' "$out")" != 2 ] ||
		! grep -q -E '^nestvm: vtd: queues at the stop: IQH=0x[0-9a-f]+ IQT=0x[0-9a-f]+ ' "$out"; then
		echo "not ok - delay $delay: where the two vCPUs and the vIOMMU's queues stood is not reported"
		sed 's/^/    /' "$out" | tail -10
		fail=1
	else
		echo "ok - delay $delay: nestvm stopped in order with status $rc, no report"
	fi
done
exit $fail
