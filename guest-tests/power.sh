#!/bin/sh
# SPDX-License-Identifier: MIT
# The host's power button (vmm/signals.c) end to end with the power-button test kernel:
#   wait    SIGTERM -> the guest takes the SCI, clears PWRBTN_STS, powers off: exit 0
#   ignore  SIGTERM -> the guest sees the press and ignores it, the VM runs on; a second
#           SIGTERM stops nestvm: exit 143
#   deaf    the guest never enabled the button: SIGINT stops nestvm at once: exit 130
# Each run must end within 10 s of its last signal, with no sanitizer report or crash.
#   usage: power.sh NESTVM KERNEL
set -u
vmm=$1
kernel=$2
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail=0

# Starts the VM with -append $1; sets pid. Waits (10 s) for "# armed".
start() {
	: >"$out"; : >"$err"
	"$vmm" run -kernel "$kernel" -m 128M -append "$1" </dev/null >"$out" 2>"$err" &
	pid=$!
	wait_line '^# armed' || { bad "$1: the guest never armed"; kill -KILL "$pid"; wait "$pid"; return 1; }
}
wait_line() { # regex in the console, while the VM runs (10 s)
	n=0
	while ! grep -q "$1" "$out" && kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.1; n=$((n + 1))
	done
	grep -q "$1" "$out"
}
wait_exit() { # sets rc; 10 s
	n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"; wait "$pid"; rc=-1
	else
		wait "$pid"; rc=$?
	fi
}
bad() {
	echo "not ok - $1"
	sed 's/^/    /' "$out" | tail -8
	sed 's/^/    /' "$err" | tail -8
	fail=1
}
clean() { ! grep -q -E 'Sanitizer|runtime error|Segmentation|Aborted|core dumped' "$err" "$out"; }

if start wait; then
	kill -TERM "$pid"
	wait_exit
	if [ "$rc" -ne 0 ] || ! clean; then bad "wait: exit status $rc (want 0) or a report"
	elif ! grep -q '^nestvm: SIGTERM: power button pressed; send again to stop now$' "$err" ||
		! grep -q '^ok 6 - SCI with PWRBTN_STS' "$out" || ! grep -q '^# powering off' "$out"; then
		bad "wait: no press line, SCI or S5 in the output"
	else echo "ok - wait: SIGTERM pressed the button, the guest took the SCI and powered off (0)"; fi
fi

if start ignore; then
	kill -TERM "$pid"
	if ! wait_line '^# press 1 '; then
		bad "ignore: the guest saw no press"
		kill -KILL "$pid"; wait "$pid"
	else
		sleep 0.5
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"; bad "ignore: the VM ended on the first SIGTERM (status $?)"
		else
			kill -TERM "$pid"
			wait_exit
			if [ "$rc" -ne 143 ] || ! clean; then bad "ignore: exit status $rc (want 143) or a report"
			elif ! grep -q '^nestvm: SIGTERM again: stopping (exit status 143)$' "$err"; then
				bad "ignore: no 'SIGTERM again' line"
			else echo "ok - ignore: the press reached the guest, the second SIGTERM stopped nestvm (143)"; fi
		fi
	fi
fi

if start deaf; then
	kill -INT "$pid"
	wait_exit
	if [ "$rc" -ne 130 ] || ! clean; then bad "deaf: exit status $rc (want 130) or a report"
	elif ! grep -q '^nestvm: SIGINT: the guest does not listen for the power button: stopping (exit status 130)$' "$err"; then
		bad "deaf: no 'does not listen' line"
	else echo "ok - deaf: a guest without PWRBTN_EN is stopped by the first SIGINT (130)"; fi
fi
exit $fail
