#!/bin/bash
# SPDX-License-Identifier: MIT
# Boots L1 (Debian's kernel under host QEMU's TCG with an emulated AMD SVM CPU) from the images
# of build-images.sh and lets its /init run the given L2 runs; every console line is prefixed
# with host seconds since start and written to LOG.
#
#   tests/linux/run-l1.sh LOG RUN[,RUN...] [extra L1 cmdline...]
#   env: WORK=/tmp/nestvm-linux  L1MEM=1G  L1SMP=1  TIMEOUT=600
# Runs whose name contains "vfio" give L1 an emulated e1000e behind QEMU's VT-d (caching mode),
# so L1 can bind it to vfio-pci.
set -uo pipefail
LOG=${1:?usage: run-l1.sh LOG RUNS [args]}
RUNS=${2:?usage: run-l1.sh LOG RUNS [args]}
shift 2
WORK=${WORK:-/tmp/nestvm-linux}
L1MEM=${L1MEM:-1G}; L1SMP=${L1SMP:-1}; TIMEOUT=${TIMEOUT:-600}
for f in vmlinuz l1.cpio; do [ -f "$WORK/$f" ] || { echo "missing $WORK/$f" >&2; exit 1; }; done
MACH="-M q35"; APP=""
case $RUNS in
*vfio*) MACH="-M q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on
 -device e1000e,romfile="
	APP="intel_iommu=on" ;;
esac
# Beside LOG, LOG.cpu gets one line per console line: host seconds and the CPU seconds the L1
# QEMU process had used by then (user + system), a load-independent clock for the phases.
rm -f "$LOG.pid" "$LOG.stall" "$LOG.nudge" "$LOG.killed" "$LOG.mon"

# The watchdog. L1's console is never silent for long: every L2 run ends within L1's per-run
# timeout (l2timeout, default 240 s) with a line of L1's own, a FAIL line if the L2 hung. When no
# console line comes for STALL seconds (default: that timeout + 60 s), the whole emulated L1 has
# stopped. Seen so far, both from the host QEMU's emulation of L1 (TCG with nested SVM) no longer
# delivering L1's interrupts: L1 halted in its idle loop with interrupts enabled and its APIC
# timer vector (236) pending in IRR, never delivered; or L1's QEMU busy at 100 % with L1's own
# timeout never firing (an L2 spinning, L1 never interrupted). The watchdog then stops L1 and
# run-l1.sh exits 3, so that check.sh can tell a frozen L1 from a failed test. With L1MON=1, L1's
# QEMU has a monitor socket (LOG.mon) and the watchdog first records L1's registers and local
# APIC from it and sends L1 an NMI; if the console moves again within 30 s, L1 goes on and the
# log says so (LNX-HOST-NUDGE; the NMI has not helped so far). Off by default: the day it was on
# for every boot, L1 froze more often than in the rounds before. The watchdog watches from the
# host so that L1 runs as before (a first version had L1 write a heartbeat to a second serial
# port; another watched L1's CPU time, which misses the busy case).
L2T=240
for a in "$@"; do case $a in l2timeout=*) L2T=${a#l2timeout=} ;; esac; done
STALL=${STALL:-$((L2T + 60))}
# mon CMD...: each QEMU monitor command's output (10 s at most each).
mon() {
	perl -MIO::Socket::UNIX -e '
		my $s = IO::Socket::UNIX->new(Peer => shift) or exit 1;
		$s->blocking(0);
		my ($buf, $all) = ("", "");
		for my $cmd ("", @ARGV) {
			my $t0 = time;
			print $s "$cmd\n" if $cmd ne "";
			$all = "";
			while (time - $t0 < 10) {
				select(undef, undef, undef, 0.2);
				$all .= $buf while sysread($s, $buf, 65536);
				last if $all =~ /\(qemu\) $/;
			}
			$all =~ s/\r//g; $all =~ s/^.*\n//; $all =~ s/\(qemu\) $//;
			print $all if $cmd ne "";
		}' "$LOG.mon" "$@"
}
watchdog() {
	local size last=-1 quiet=0 pid nudged=0
	while sleep 10; do
		pid=$(cat "$LOG.pid" 2>/dev/null) || continue
		kill -0 "$pid" 2>/dev/null || return 0
		size=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			[ $nudged = 1 ] && { cat "$LOG.stall"
				echo "L1's console moved again within 30 s of an NMI (silent for $quiet s)"; } >>"$LOG.nudge"
			last=$size; quiet=0; nudged=0
		else
			quiet=$((quiet + 10))
		fi
		[ $quiet -lt "$STALL" ] && continue
		if [ "${L1MON:-0}" != 1 ]; then
			echo "no console line from L1 for $quiet s (its per-run timeout: $L2T s): L1 stopped" >"$LOG.stall"
			: >"$LOG.killed"
			kill "$pid" 2>/dev/null; sleep 5; kill -KILL "$pid" 2>/dev/null
			return 0
		fi
		if [ $nudged = 0 ]; then
			{ echo "no console line from L1 for $quiet s (its per-run timeout: $L2T s); its QEMU: $(ps -o pcpu= -p "$pid" | tr -d ' ') % CPU over its lifetime"
			  mon "info registers" "info lapic" | grep -E '^(RIP|RSP|RAX|CR0|EFER|ES|CS|dumping|LVT|Timer|ISR|IRR|TPR|ESR|ICR|APR|PPR)' || true
			} >"$LOG.stall" 2>&1
			mon nmi >/dev/null 2>&1
			nudged=1; quiet=$((STALL - 30))
			continue
		fi
		echo "still silent 30 s after an NMI: L1 stopped" >>"$LOG.stall"
		: >"$LOG.killed"
		kill "$pid" 2>/dev/null; sleep 5; kill -KILL "$pid" 2>/dev/null
		return 0
	done
}
watchdog & wdpid=$!
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu EPYC -smp "$L1SMP" -m "$L1MEM" \
	-nodefaults -no-user-config -vga none -nographic -serial stdio \
	${L1MON:+$([ "$L1MON" = 1 ] && echo "-monitor unix:$LOG.mon,server=on,wait=off")} -no-reboot $MACH \
	-pidfile "$LOG.pid" -kernel "$WORK/vmlinuz" -initrd "$WORK/l1.cpio" \
	-append "console=ttyS0 quiet panic=-1 runs=$RUNS $APP $*" </dev/null 2>&1 |
	perl -MTime::HiRes=time -ne 'BEGIN{$|=1;$t0=time; $pf=shift; open($C, ">", "$pf.cpu") or die; select((select($C),$|=1)[0]); $pf.=".pid"}
		s/\r//g; my $t = time - $t0; printf "[%8.2f] %s", $t, $_;
		if (!$pid && open(my $P, "<", $pf)) { $pid = <$P>; chomp $pid; }
		my $c = -1; if ($pid && open(my $S, "<", "/proc/$pid/stat")) { my @f = split / /, (split /\) /, <$S>)[1]; $c = ($f[11] + $f[12]) / 100; }
		printf $C "%.2f %.2f\n", $t, $c;' "$LOG" |
	tee "$LOG"
rc=${PIPESTATUS[0]}
kill $wdpid 2>/dev/null; wait $wdpid 2>/dev/null
[ -s "$LOG.nudge" ] && sed 's/^/LNX-HOST-NUDGE /' "$LOG.nudge" | tee -a "$LOG"
if [ -e "$LOG.killed" ]; then
	sed 's/^/LNX-HOST-STALL /' "$LOG.stall" | tee -a "$LOG"
	exit 3
fi
exit "$rc"
