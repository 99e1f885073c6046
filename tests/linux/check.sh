#!/bin/bash
# SPDX-License-Identifier: MIT
# One `meson test --suite linux` case: builds the nested images with this nestvm, boots L1 once,
# runs the group's L2 scenarios inside it and asserts on what L2 printed and on nestvm's trace.
# Prints the benchmark (VMM start -> L2 /init -> L2 power-off, host clock) for every run.
#
#   tests/linux/check.sh NESTVM GROUP        GROUP: boot | vtd | vfio | nested | sva | virtio | virtio-net | virtio-bench
#   env: WORK (default /tmp/nestvm-linux-GROUP), KCACHE, L2QUIET=0 for L2's full console.
# Exit: 0 pass, 1 fail, 77 skip (nested environment cannot be built: no Debian mirror/packages).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
NESTVM=${1:?usage: check.sh NESTVM GROUP}
GROUP=${2:?usage: check.sh NESTVM GROUP}
export WORK=${WORK:-/tmp/nestvm-linux-$GROUP}
case $GROUP in
# Each nestvm run is set against the last QEMU run before it: smp 1 against qemu, smp 2 against
# qemu-smp2 (like for like), the vmlinux runs against QEMU booting the same vmlinux.
# The bzImage pairs run three times, interleaved: one run's ratio moves by +-0.05 with L1's
# state (docs/benchmarks.md, fourteenth round), so the goal is judged on their medians.
boot) RUNS="qemu,nv-smp1,nv-pwr,nv-pwr-ignore,qemu-smp2,nv-smp2,qemu-vmlinux,nv-vmlinux,qemu-vmlinux-smp2,nv-vmlinux-smp2"
	RUNS="$RUNS,qemu.2,nv-smp1.2,qemu-smp2.2,nv-smp2.2,qemu.3,nv-smp1.3,qemu-smp2.3,nv-smp2.3" ;;
vtd) RUNS="qemu-sm,nv-sm,nv-legacy" ;;
vfio) RUNS="qemu-vfio,nv-vfio,nv-vfio-sm" ;;
nested) RUNS="nv-nest-strict,nv-nest-lazy" ;;
sva) RUNS="nv-sva,nv-sva-host" ;;
virtio-net) RUNS="nv-net,nv-net-pk,qemu-con,nv-con" ;;
# virtio-bench: three interleaved repetitions of each QEMU / nestvm pair (medians printed), and
# once each nestvm with io=thread and without a vIOMMU.
virtio-bench) RUNS="qemu-bench-strict,nv-bench-strict,nv-bench-strict-thread,qemu-bench-lazy,nv-bench-lazy,nv-bench-lazy-thread,nv-bench-none"
	RUNS="$RUNS,qemu-bench-strict.2,nv-bench-strict.2,qemu-bench-lazy.2,nv-bench-lazy.2"
	RUNS="$RUNS,nv-bench-strict.3,qemu-bench-strict.3,nv-bench-lazy.3,qemu-bench-lazy.3" ;;
virtio) RUNS="nv-blk-sm-w,nv-blk-sm-r,nv-blk-pk-w,nv-blk-pk-r,nv-blk-lg-w,nv-blk-lg-r,nv-blk-w,nv-blk-r,nv-blk-crash-w,nv-blk-crash-r" ;;
*) echo "unknown group $GROUP" >&2; exit 2 ;;
esac
[ -n "${RUNS_OVERRIDE:-}" ] && RUNS=$RUNS_OVERRIDE
[ -x "$NESTVM" ] || { echo "no nestvm binary at $NESTVM" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || [ "$(id -u)" = 0 ] ||
	{ echo "SKIP: qemu-system-x86 is not installed"; exit 77; }

mkdir -p "$WORK"
if [ "$GROUP" = sva ]; then
	# Our pasid-dma driver, built against the L2 kernel's Debian headers (cached by content).
	"$HERE/../../guest-drivers/linux/build.sh" "$WORK/pdma-sva.ko"
	rc=$?
	[ $rc = 77 ] && exit 77
	[ $rc = 0 ] || { echo "FAIL: building pdma-sva.ko failed ($rc)"; exit 1; }
	export PDMA_SVA_KO=$WORK/pdma-sva.ko
fi
[ "$GROUP" = boot ] && export L2VMLINUX=1 # the vmlinux runs need the uncompressed kernel
"$HERE/build-images.sh" "$NESTVM"
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || { echo "FAIL: building the images failed ($rc)"; exit 1; }

# The boot group samples the VMM's threads (TASKSTAT=0 turns it off; =1 for any group).
TASKSTAT=${TASKSTAT:-$([ "$GROUP" = boot ] && echo 1 || echo 0)}
boot_l1() {
	LOG=$WORK/log-$GROUP-$(date +%Y%m%d-%H%M%S).txt
	"$HERE/run-l1.sh" "$LOG" "$RUNS" "l2quiet=${L2QUIET:-1}" "taskstat=$TASKSTAT" "kvmstat=${KVMSTAT:-0}" \
		${L2EXTRA:+"l2extra=${L2EXTRA// /+}"} ${SHMEM_THP:+"shmem_thp=$SHMEM_THP"} \
		${L2TIMEOUT:+"l2timeout=$L2TIMEOUT"} >/dev/null 2>&1
}
# A frozen L1 (run-l1.sh's watchdog: exit 3, L1's console silent past its own timeouts) is the
# emulated host's, not a result of the runs: the whole L1 boot is repeated, and said so, up to
# L1BOOTS boots in all (default 3). A freeze in the last of them fails the group. Every other
# outcome is judged from the log below.
L1BOOTS=${L1BOOTS:-3}
boot=1
boot_l1; l1rc=$?
froze=""
while [ $l1rc = 3 ]; do
	froze="$froze $LOG"
	echo "L1 FROZE (boot $boot of at most $L1BOOTS): $(grep -m1 'LNX-HOST-STALL' "$LOG" | cut -d' ' -f2-) (log: $LOG)"
	grep 'LNX-HOST-STALL' "$LOG" | sed -n '2,$p' | sed 's/^LNX-HOST-STALL /    /'
	[ "$boot" -ge "$L1BOOTS" ] && { echo "FAIL: L1 froze in all $L1BOOTS boots"; exit 1; }
	echo "L1 FROZE: booting L1 once more for the whole group; the checks below are of the last boot"
	boot=$((boot + 1))
	boot_l1; l1rc=$?
done
echo "log: $LOG"

fail=0
# A run's lines, from its last LNX-RUN-START (l1-init.sh repeats a QEMU run that hung) to the next run.
block() {
	awk -v n="$1" '/LNX-RUN-START name=/ { p = index($0, "LNX-RUN-START name=" n " ") > 0; if (p) b = "" }
		p { b = b $0 "\n" } END { printf "%s", b }' "$LOG"
}
ts() { sed -n "/$1/{s/^\[ *\([0-9.]*\)\].*/\1/p;q}"; }
# Where virtio-blk served a run's requests (nestvm's exit line): all on the vCPU that notified
# (io=auto on a one-CPU L1, io=vcpu) or all on the I/O thread.
served() { # run, vcpu|thread
	local c
	c=$(sed -n 's/.*LNX-L1 init cpus=\([0-9]*\).*/\1/p' "$LOG" | tail -1)
	if [ "$2" = vcpu ] && [ "${c:-0}" = 1 ]; then
		need "$1" "nestvm: virtio-blk [0-9a-f]+: ([1-9][0-9]*) requests \(\1 served on the vCPU\)" \
			"io=auto on L1's one CPU: every request served on the vCPU that notified"
	else
		need "$1" "nestvm: virtio-blk [0-9a-f]+: [1-9][0-9]* requests \(0 served on the vCPU\)" \
			"every request served on the I/O thread ($([ "$2" = vcpu ] && echo "io=auto, L1 has ${c:-?} CPUs" || echo io=thread))"
	fi
}
need() { # run, regex, what
	if block "$1" | grep -q -E -- "$2"; then echo "  ok   $1: $3"
	else echo "  FAIL $1: $3 (no line matching '$2')"; fail=1
		# What came instead: the run's last lines that share the pattern's first word.
		block "$1" | grep -F -- "${2%% *}" | tail -6 | cut -c1-200 | sed 's/^/       near: /'
	fi
}
never() { # run, regex, what
	if block "$1" | grep -q -E -- "$2"; then
		echo "  FAIL $1: $3"; block "$1" | grep -E -- "$2" | head -3 | sed 's/^/       /'; fail=1
	else echo "  ok   $1: $3"; fi
}
count_ge() { # run, trace key, minimum
	local v
	v=$(block "$1" | sed -n "s/.*LNX-TRACE name=$1 $2=\([0-9]*\).*/\1/p" | head -1)
	if [ "${v:-0}" -ge "$3" ]; then echo "  ok   $1: trace $2=$v (>= $3)"
	else echo "  FAIL $1: trace $2=${v:-none} (want >= $3)"; fail=1; fi
}

count_le() { # run, trace key, maximum
	local v
	v=$(block "$1" | sed -n "s/.*LNX-TRACE name=$1 $2=\([0-9]*\).*/\1/p" | head -1)
	if [ -n "$v" ] && [ "$v" -le "$3" ]; then echo "  ok   $1: trace $2=$v (<= $3)"
	else echo "  FAIL $1: trace $2=${v:-none} (want <= $3)"; fail=1; fi
}

# edu-dma's deliberate fault (tests/linux/edu-dma.c): a write by edu (its BDF as L2 printed it
# in "LNX-L2 edu 0000:BB:DD.F") to IOVA 0xdead000, with the reason our unit gives for it:
# 0x79 (scalable: second-stage R/W permission) or 0x05 (legacy: PTE write not set).
deliberate_bdf() { block "$1" | sed -n 's/.*LNX-L2 edu [0-9a-f]*:\([0-9a-f]*:[0-9a-f]*\.[0-7]\) .*/\1/p' | head -1; }
deliberate_re() { # run: the exact DMAR line Linux prints for it
	local reason
	case $1 in nv-sm) reason=79 ;; nv-legacy) reason=05 ;; *) reason=none ;; esac
	echo "DMAR: \\[DMA Write NO_PASID\\] Request device \\[$(deliberate_bdf "$1")\\] fault addr 0xdead000 \\[fault reason 0x$reason\\]"
}
deliberate_fault() { # run: edu's BDF must be known, or the exact match below cannot be built
	if [ -n "$(deliberate_bdf "$1")" ]; then echo "  ok   $1: edu is $(deliberate_bdf "$1") in L2"
	else echo "  FAIL $1: no 'LNX-L2 edu <BDF>' line (the deliberate fault cannot be matched)"; fail=1; fi
}
# Every DMAR fault L2 reported, but the deliberate one (matched exactly: device, access,
# address, reason) in the runs that cause it. The "LNX-L2-FAULT" echo of a line is the same fault.
unexpected_faults() { # run
	local bad
	bad=$(block "$1" | grep -E -- "DMAR: \\[(DMA|INTR-REMAP)" | {
		case $1 in
		nv-sm | nv-legacy) grep -v -E -- "$(deliberate_re "$1")" ;;
		nv-nest-*) grep -v -E -- "$(nested_fault_re "$1")" ;;
		nv-sva*) grep -v -E -- "$(sva_fault_re "$1")" ;;
		*) cat ;;
		esac
	})
	if [ -n "$bad" ]; then
		echo "  FAIL $1: DMAR fault(s) reported by L2 that the test did not cause"
		echo "$bad" | head -3 | sed 's/^/       /'; fail=1
	else echo "  ok   $1: no DMAR fault reported by L2 but the deliberate one"; fi
}
# pdma-vfio's deliberate fault in the nested group: a read without PASID by pasid-dma (its BDF as
# L2 printed it) from the never-mapped IOVA 0xdead000, first-stage entry not present (0x71).
nested_bdf() { block "$1" | sed -n 's/.*LNX-L2 pdma 0000:\([0-9a-f:.]*\) driver=.*/\1/p' | head -1; }
nested_fault_re() { # run
	echo "DMAR: \\[DMA Read NO_PASID\\] Request device \\[$(nested_bdf "$1")\\] fault addr 0xdead000 \\[fault reason 0x71\\]"
}
# sva-test's deliberate faults (group sva, test 5): writes with the PASID of the process that
# exited, whose PASID entry Linux cleared (0x59: PASID entry not present).
sva_fault_re() { # run
	local p
	p=$(block "$1" | sed -n 's/.*LNX-L2-SVA exit ok dead_pasid=\([0-9]*\) .*/\1/p' | head -1)
	echo "DMAR: \\[DMA Write PASID 0x$(printf %x "${p:-0}")\\] Request device \\[[0-9a-f:.]*\\] fault addr 0x[0-9a-f]* \\[fault reason 0x59\\]"
}
# The nested group: Debian's unmodified intel-iommu driver with nestvm's default -device vtd in
# nested mode; pasid-dma's DMA is translated only by hostsim, i.e. only through what nestvm
# forwarded (binds of Linux's first-stage tables, invalidations).
check_nested() { # run
	local r=$1 bdf v
	need "$r" "nestvm: host IOMMU hostsim: nested" "nestvm chose nested mode by itself (no vtd options given)"
	need "$r" "DMAR: Host address width" "L2 parsed our DMAR table"
	need "$r" "DMAR: dmar0: Using Queued invalidation" "L2 uses queued invalidation"
	need "$r" "LNX-L2 pdma [0-9a-f:.]* driver=vfio-pci" "pasid-dma bound to vfio-pci in L2"
	need "$r" "LNX-L2-PDMA id=0x5a5d0001 host_backend=1" "pasid-dma is host-backed (hostsim)"
	need "$r" "LNX-L2-PDMA ok copied 8192 bytes to IOVA 0x40010000 \\(buffer A\\), checked byte for byte" \
		"DMA through Linux's first mapping, data checked"
	need "$r" "LNX-L2-PDMA ok remap: IOVA 0x40010000 now buffer B got the new 8192 bytes, buffer A unchanged" \
		"remap: unmap, map another page at the same IOVA, DMA lands in the new page only"
	need "$r" "LNX-L2-PDMA ok unmapped IOVA 0xdead000: status 0x10 at 0xdead000, destination untouched" \
		"DMA from a never-mapped IOVA faults at that address"
	need "$r" "LNX-L2-PDMA host delta: binds=[0-9]+ inv_calls=[1-9][0-9]* iotlb_misses=[1-9][0-9]* iotlb_hits=[0-9]+ faults=[1-9]" \
		"during the workload hostsim translated (IOTLB misses), got invalidations and the fault"
	need "$r" "LNX-L2-PDMA done" "pdma-vfio finished"
	need "$r" "LNX-L2-PDMA-RC pass=1 0" "pdma-vfio exit status 0"
	need "$r" "LNX-L2-PDMA-RC pass=2 0" "pdma-vfio again in a new VFIO domain (new first-stage root): exit status 0"
	never "$r" "LNX-L2-PDMA FAIL" "no pdma-vfio failure"
	# The fault L2 reports, exactly: a read without PASID from this device at 0xdead000,
	# first-stage entry not present (0x71).
	bdf=$(nested_bdf "$r")
	need "$r" "$(nested_fault_re "$r")" \
		"L2 reports the fault of the unmapped read (device ${bdf:-none}, 0xdead000, reason 0x71)"
	# The unit L2 saw: CAP.CM=1 (Linux flushes the caches after making an entry present, so
	# nestvm sees every bind) and first stage only (ECAP.FLTS=1, SLTS=0: Linux's VFIO domain
	# gets first-stage tables, the kind nestvm forwards).
	v=$(block "$r" | sed -n 's/.*DMAR: dmar0: reg_base_addr [0-9a-f]* ver [0-9:]* cap \([0-9a-f]*\) ecap \([0-9a-f]*\).*/\1 \2/p' | head -1)
	if [ -n "$v" ] && [ $(((0x${v% *} >> 7) & 1)) = 1 ] && [ $(((0x${v#* } >> 47) & 1)) = 1 ] &&
		[ $(((0x${v#* } >> 46) & 1)) = 0 ]; then
		echo "  ok   $r: L2 saw CAP.CM=1, ECAP.FLTS=1, ECAP.SLTS=0 (cap ${v% *} ecap ${v#* })"
	else echo "  FAIL $r: L2's unit is not caching mode + first stage only (cap/ecap: ${v:-none})"; fail=1; fi
	count_ge "$r" rtaddr_scalable 1
	count_ge "$r" te_enabled 1
	count_ge "$r" descs 1
	count_le "$r" faults_unexpected 0
	count_ge "$r" faults_expected 1
	count_ge "$r" host_binds 1
	count_ge "$r" host_inv_batches 1
	count_ge "$r" host_faults 1
	case $r in
	nv-nest-strict) need "$r" "iommu: DMA domain TLB invalidation policy: strict mode" "L2 flushes strictly"
		need "$r" "LNX-L2 pdma .* default_domain=DMA$" "default domain DMA (strict)" ;;
	nv-nest-lazy) need "$r" "iommu: DMA domain TLB invalidation policy: lazy mode" "L2 flushes lazily (default)"
		need "$r" "LNX-L2 pdma .* default_domain=DMA-FQ$" "default domain DMA-FQ (lazy)" ;;
	esac
}

# virtio-console (group virtio-net): Linux's virtio_console driver on our device (nv-con) and on
# QEMU's virtconsole (qemu-con, the baseline for the console timing); what hvc0 carried (64 KiB,
# QEMU 16 KiB) and, in the opt-in -uart runs, 16 KiB through ttyS0 must reach the VMM's output
# whole (md5 from L2 against what L1 summed).
check_con() { # run
	local r=$1 h s n
	need "$r" "LNX-L2 virtio-console [0-9a-f:.]* driver=virtio-pci" "L2's virtio-pci driver took the console"
	never "$r" "LNX-L2-CON FAIL" "L2 found /dev/hvc0"
	n=65536; case $r in qemu-con*) n=16384 ;; esac
	h=$(block "$r" | sed -n "s/.*LNX-L2-CON bulk hvc0 bytes=$n md5=\\([0-9a-f]*\\).*/\\1/p" | head -1)
	s=$(block "$r" | sed -n 's/.*LNX-L2-CON bulk ttyS0 bytes=16384 md5=\([0-9a-f]*\).*/\1/p' | head -1)
	need "$r" "LNX-L1-CON hvc0 bytes=$n md5=${h:-none} " "$((n / 1024)) KiB through hvc0 reached the VMM's output intact (md5 ${h:-none})"
	case $r in *-uart)
		need "$r" "LNX-L1-CON .* ttyS0 bytes=16384 md5=${s:-none}" "16 KiB through ttyS0 too (md5 ${s:-none})" ;;
	esac
	case $r in nv-con*) ;; *) return 0 ;; esac
	need "$r" "LNX-L2-CON got 'ping-from-l1 through stdin'" "a line piped into nestvm's stdin was read from hvc0 in L2"
	need "$r" "LNX-L2-CON hello through hvc0" "a line L2 wrote to hvc0 is on nestvm's stdout"
}

# The virtio group: L2's virtio-blk driver (virtio_pci, modern) on our device, ext4 on the
# harness's disk; the -w boot writes and checks 2 MiB, the -r boot (same image) finds them.
check_blk() { # run
	local r=$1 w
	need "$r" "LNX-L2 virtio-blk [0-9a-f:.]* driver=virtio-pci" "L2's virtio-pci driver took our device"
	need "$r" "LNX-L2-BLK vda sectors=32768 ro=0" "vda is the 16 MiB disk, writable"
	need "$r" "LNX-L2-BLK seed ok" "the file mke2fs -d put there reads back with its checksum"
	case $r in
	nv-blk-crash-w)
		need "$r" "LNX-L2-BLK crashing with the disk mounted" "L2 crashed itself after the sync, ext4 still mounted"
		need "$r" "Kernel panic - not syncing: sysrq triggered crash" "L2's kernel panicked (sysrq c)"
		need "$r" "LNX-RUN-END name=$r rc=0" "the guest's reset ended nestvm (exit 0)"
		never "$r" "LNX-L2-BLK unmounted" "the disk was never unmounted" ;;
	nv-blk-crash-r)
		need "$r" "EXT4-fs \\(vda\\): recovery complete" "the second boot replayed the journal of the crashed mount"
		need "$r" "LNX-L2-BLK unmounted" "ext4 unmounted cleanly" ;;
	*) need "$r" "LNX-L2-BLK unmounted" "ext4 unmounted cleanly" ;;
	esac
	never "$r" "LNX-L2-BLK FAIL" "no virtio-blk failure in L2"
	never "$r" "EXT4-fs error|I/O error|virtio_blk.*error" "no ext4 or block I/O error in L2"
	case $r in
	*-w) need "$r" "LNX-L2-BLK write ok [0-9a-f]{32}" "2 MiB written, synced, re-read uncached with its checksum" ;;
	*-r) w=$(block "${r%-r}-w" | sed -n 's/.*LNX-L2-BLK write ok \([0-9a-f]*\).*/\1/p' | head -1)
		need "$r" "LNX-L2-BLK readback ok ${w:-none}$" "a second L2 boot from the same image finds the data (md5 ${w:-none})" ;;
	esac
	case $r in
	nv-blk-pk-*) need "$r" "LNX-L2-BLK packed=1" "L2's driver took packed virtqueues (VIRTIO_F_RING_PACKED)" ;;
	*) need "$r" "LNX-L2-BLK packed=0" "split virtqueues (packed not offered)" ;;
	esac
	case $r in
	nv-blk-sm-* | nv-blk-pk-* | nv-blk-lg-* | nv-blk-crash-*)
		need "$r" "DMAR: dmar0: reg_base_addr fed90000" "L2 found our unit"
		need "$r" "LNX-L2 virtio-blk .* domain=DMA(-FQ)?$" "the device's DMA is translated (DMA domain, not identity)"
		count_ge "$r" ctx_loads 1
		count_ge "$r" descs 1
		count_le "$r" faults_unexpected 0 ;;
	*) need "$r" "LNX-L2 virtio-blk .* group=none" "no vIOMMU: no IOMMU group" ;;
	esac
	case $r in
	nv-blk-sm-* | nv-blk-pk-* | nv-blk-crash-*) count_ge "$r" rtaddr_scalable 1 ;;
	nv-blk-lg-*) count_ge "$r" rtaddr_legacy 1 ;;
	esac
}

# The power button (group boot, vmm/signals.c): L1 sends nestvm SIGTERM once L2's acpid runs.
pwr_value() { # run, key: a number from the run's "LNX-L1-PWR end" / "ext4" lines
	block "$1" | sed -n "s/.*LNX-L1-PWR .*[ ]$2=\([0-9.]*\).*/\1/p" | head -1
}
check_pwr() { # run
	local r=$1 secs
	need "$r" "LNX-L2-PWR mounted" "L2 mounted its ext4 disk (virtio-blk) before the press"
	need "$r" "input: Power Button as /devices/LNXSYSTM:00/LNXPWRBN:00/" "L2's ACPI button driver took the FADT's fixed-feature button (LNXPWRBN)"
	need "$r" "LNX-L2-PWR ready en=1" "one Power Button input device in L2"
	need "$r" "LNX-L2-PWR handlers .*event[0-9]" "the button's input device has an evdev node (acpid reads it)"
	need "$r" "LNX-L1-PWR sigterm 1" "L1 sent nestvm SIGTERM"
	need "$r" "LNX-L1-PWR vmm \| nestvm: SIGTERM: power button pressed; send again to stop now" "nestvm pressed the button (L2 had enabled PWRBTN_EN) and said so"
	never "$r" "LNX-L2-PWR FAIL|LNX-L1-PWR FAIL" "no failure in L2's or L1's part"
	never "$r" "ACPI Error|ACPI Warning" "no ACPI errors"
	secs=$(pwr_value "$r" secs)
	case $r in
	nv-pwr)
		need "$r" "LNX-L2-PWR power button -> poweroff" "L2's acpid ran its handler on the press"
		need "$r" "LNX-L2-PWR unmounted" "the handler unmounted ext4 before power-off"
		need "$r" "reboot: Power down" "L2 powered off (ACPI S5)"
		need "$r" "LNX-RUN-END name=$r rc=0" "nestvm exited 0 after the guest's power-off"
		need "$r" "LNX-L1-PWR end rc=0 signals=1 " "one SIGTERM was enough"
		need "$r" "LNX-L1-PWR ext4 state=1 needs_recovery=0" "the disk image holds a cleanly unmounted ext4 (state clean, no journal recovery)"
		if [ -n "$secs" ] && [ "$(echo "$secs <= 90" | bc)" = 1 ]; then
			echo "  ok   $r: nestvm exited ${secs} s after SIGTERM (<= 90)"
		else echo "  FAIL $r: nestvm exit ${secs:-never} s after SIGTERM (want <= 90)"; fail=1; fi ;;
	nv-pwr-ignore)
		need "$r" "LNX-L2-PWR power button seen, ignored" "L2 got the press and ignored it"
		need "$r" "LNX-L1-PWR still running 3 s after the press" "the ignored press did not end the VM"
		need "$r" "LNX-L1-PWR vmm \| nestvm: SIGTERM again: stopping \(exit status 143\)" "the second SIGTERM stopped nestvm, which said so"
		need "$r" "LNX-RUN-END name=$r rc=143" "exit status 143 (128 + SIGTERM, docs/usage.md)"
		need "$r" "LNX-L1-PWR end rc=143 signals=2 " "two SIGTERMs"
		# The control for nv-pwr's check: this file system was still mounted when the VM ended.
		need "$r" "LNX-L1-PWR ext4 state=[0-9]+ needs_recovery=1" "the disk's ext4 was left mounted (journal needs recovery)"
		if [ -n "$secs" ] && [ "$(echo "$secs <= 90" | bc)" = 1 ]; then
			echo "  ok   $r: nestvm exited ${secs} s after the first SIGTERM (<= 90)"
		else echo "  FAIL $r: nestvm exit ${secs:-never} s after the first SIGTERM (want <= 90)"; fail=1; fi ;;
	esac
}

# Host CPU seconds the L1 QEMU had used when run $1's first line matching $2 (in its last block) was printed
# (run-l1.sh's LOG.cpu): unlike the wall clock, it hardly moves with the host's load.
cpu_at() {
	local n
	[ -f "$LOG.cpu" ] || return 0
	n=$(awk -v n="$1" -v re="$2" '/LNX-RUN-START name=/ { p = index($0, "LNX-RUN-START name=" n " ") > 0; if (p) k = "" }
		p && k == "" && $0 ~ re { k = NR } END { print k }' "$LOG")
	[ -n "$n" ] && sed -n "${n}p" "$LOG.cpu" | awk '$2 >= 0 { print $2 }'
}

# a / b with three decimals, rounded (bc's scale=2 truncated, so 0.709 used to print as .70).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
# The numbers on stdin as "median count min max" (nothing when there are none).
spread() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), NR, v[1], v[NR] }'
}
printf '%-12s %10s %12s %8s %14s\n' run "to /init" "to poweroff" rc "L1 CPU to /init"
rm -f "$WORK/boot-ratios"
for r in ${RUNS//,/ }; do
	b=$(block "$r")
	t0=$(echo "$b" | ts LNX-RUN-START); t1=$(echo "$b" | ts LNX-L2-INIT); t2=$(echo "$b" | ts LNX-RUN-END)
	rc=$(echo "$b" | sed -n 's/.*LNX-RUN-END name=[^ ]* rc=\([-0-9]*\).*/\1/p')
	d1=$([ -n "$t0" ] && [ -n "$t1" ] && echo "$t1 - $t0" | bc || echo -)
	d2=$([ -n "$t0" ] && [ -n "$t2" ] && echo "$t2 - $t0" | bc || echo -)
	c0=$(cpu_at "$r" LNX-RUN-START); c1=$(cpu_at "$r" LNX-L2-INIT)
	c1=$([ -n "$c0" ] && [ -n "$c1" ] && echo "$c1 - $c0" | bc || echo -)
	printf 'BENCH %-12s %9ss %11ss %8s %13ss\n' "$r" "$d1" "$d2" "${rc:-none}" "$c1"
	case $r in qemu*) q_init=$d1; q_cpu=$c1 ;; esac
	case $r in qemu) q0_init=$d1; q0_cpu=$c1 ;; esac
	# Time to /init of each nestvm run against the group's QEMU run (same L1 boot), on the
	# host's wall clock and on the L1 QEMU's CPU time. The power-button runs boot with a disk
	# and beside their watcher script in L1: not like for like, so no goal is printed for them.
	goal="(goal <= 0.7)"
	case $r in nv-pwr*) goal="(power-button run: disk and watcher, not like for like)" ;; esac
	case $r in nv-*) [ -n "${q_init:-}" ] && [ "$q_init" != - ] && [ "$d1" != - ] &&
		printf 'BENCH %-12s to /init / QEMU = %s %s\n' "$r" \
			"$(ratio "$d1" "$q_init")" "$goal"
		[ -n "${q_cpu:-}" ] && [ "$q_cpu" != - ] && [ "$c1" != - ] &&
		printf 'BENCH %-12s L1 CPU to /init / QEMU = %s %s\n' "$r" \
			"$(ratio "$c1" "$q_cpu")" "$goal" ;; esac
	case $r in nv-smp1 | nv-smp1.[0-9] | nv-smp2 | nv-smp2.[0-9])
		[ -n "${q_init:-}" ] && [ "$q_init" != - ] && [ "$d1" != - ] &&
			echo "${r%.[0-9]} wall $(ratio "$d1" "$q_init")" >>"$WORK/boot-ratios"
		[ -n "${q_cpu:-}" ] && [ "$q_cpu" != - ] && [ "$c1" != - ] &&
			echo "${r%.[0-9]} cpu $(ratio "$c1" "$q_cpu")" >>"$WORK/boot-ratios" ;;
	esac
	# The uncompressed kernel also against QEMU's usual bzImage boot (the run "qemu").
	case $r in nv-vmlinux*) [ -n "${q0_init:-}" ] && [ "$q0_init" != - ] && [ "$d1" != - ] &&
		printf 'BENCH %-12s to /init / QEMU bzImage = %s, L1 CPU %s\n' "$r" \
			"$(ratio "$d1" "$q0_init")" \
			"$( [ "${q0_cpu:--}" != - ] && [ "$c1" != - ] && ratio "$c1" "$q0_cpu")" ;; esac
done
# The bzImage boots' medians over their interleaved repetitions (each against the QEMU run just
# before it), with the spread: the goal's verdict.
for b in nv-smp1 nv-smp2; do
	for k in wall cpu; do
		awk -v b="$b" -v k="$k" '$1 == b && $2 == k { print $3 }' "$WORK/boot-ratios" 2>/dev/null | spread |
			awk -v b="$b" -v k="$k" '$2 >= 2 {
				printf "BENCH median %-8s %s to /init / QEMU = %.3f over %d interleaved pairs (%.3f-%.3f) %s\n",
					b, k == "cpu" ? "L1 CPU" : "wall", $1, $2, $3, $4, $1 <= 0.7 ? "(goal <= 0.7: met)" : "(goal <= 0.7: missed)"
			}'
	done
done

# "kvm_exit { exit_reason: 1024 } hitcount: 5" lines -> one line of exits by name.
kvmexits() {
	awk -v r="$1" -v w="$2" '
		BEGIN { n[1024] = "npf"; n[124] = "msr"; n[96] = "intr"; n[100] = "vintr"; n[123] = "ioio"
			n[114] = "cpuid"; n[120] = "hlt"; n[119] = "pause"; n[97] = "nmi"; n[129] = "vmmcall" }
		$1 == "kvm_exit" { c = $4 + 0; v = $NF + 0; tot += v; k = (c in n) ? n[c] : "code" c; x[k] += v; ord[k] = 1 }
		$1 == "kvm_msr" && $6 == "1" { if ($4 == "1760,") tsc += $NF; else if ($4 == "2059,") eoi += $NF; else if ($4 == "2096,") icr += $NF }
		END { if (!tot) exit
			line = sprintf("KVMEXITS %-16s %-5s total=%d", r, w, tot)
			split("npf msr intr vintr ioio cpuid hlt pause nmi vmmcall", fixed, " ")
			for (i = 1; i in fixed; i++) if (fixed[i] in ord) { line = line " " fixed[i] "=" x[fixed[i]]; delete ord[fixed[i]] }
			for (k in ord) line = line " " k "=" x[k]
			printf "%s (MSR writes: tsc-deadline=%d x2apic-eoi=%d x2apic-icr=%d)\n", line, tsc, eoi, icr }'
}

# Who used L1's CPU during each run (taskstat=1): L1's /proc/stat split over the run and the
# VMM's threads (ticks of 10 ms, context switches), figures only.
for r in ${RUNS//,/ }; do
	block "$r" | grep -q "LNX-CPU name=$r " || continue
	block "$r" | sed -n "s/.*LNX-CPU name=$r start: cpu \(.*\)/\1/p;s/.*LNX-CPU name=$r end: *cpu \(.*\)/\1/p" | head -2 |
		awk -v r="$r" 'NR == 1 { for (i = 1; i <= 9; i++) a[i] = $i } NR == 2 { for (i = 1; i <= 9; i++) d[i] = $i - a[i]
			printf "TASKS %-12s L1 cpu ticks: user %d (guest %d of it) nice %d system %d idle %d iowait %d irq %d softirq %d\n", r, d[1], d[9], d[2], d[3], d[4], d[5], d[6], d[7] }'
	block "$r" | sed -n "s/.*LNX-TASK name=$r \(.*\)/TASKS $(printf '%-12s' "$r") \1/p"
	block "$r" | sed -n "s/.*LNX-VMSTAT name=$r \(.*\)/TASKS $(printf '%-12s' "$r") L1 \1/p"
done
# kvmstat=1: exits by SVM exit code, MSR writes, ports and MMIO addresses (L1's histograms),
# over the whole run and over blk-bench's work alone.
for r in ${RUNS//,/ }; do
	for w in run bench; do
		block "$r" | sed -n "s/.*LNX-KVMHIST name=$r $w \(.*\)/\1/p" | kvmexits "$r" "$w"
		# The busiest ports and MMIO addresses: "{ port: 0x3f8, rw: 1 } hitcount: 5".
		for e in kvm_pio kvm_mmio; do
			block "$r" | sed -n "s/.*LNX-KVMHIST name=$r $w $e { \(.*\) } hitcount: \([0-9]*\)/\2 \1/p" |
				sort -rn | head -8 | tr -d ' ' | sed 's/:/=/g' |
				awk -v h="$(printf 'KVMEXITS %-16s %-5s %s:' "$r" "$w" "${e#kvm_}")" \
					'{ n = $0; sub(/[^0-9].*/, "", n); k = substr($0, length(n) + 1); l = l " " k " x" n ";" }
					END { if (l != "") print h l }'
		done
	done
done

# kvmstat=2: each run's parts on L1's exit timeline (firmware, the bzImage's decompressor, L2's
# kernel and user space), in seconds, with their exits.
for r in ${RUNS//,/ }; do
	block "$r" | sed -n "s/.*LNX-KVMPHASE name=$r part=\([^ ]*\) seconds=\([^ ]*\)\(.*\)/BOOTPHASE $(printf '%-12s' "$r") \1 \2 s\3/p"
done
for r in ${RUNS//,/ }; do
	case $r in nv-sva*) block "$r" | sed -n "s/.*LNX-L2-SVA bench ok \(.*\)/BENCH-SVA $r \1/p" ;; esac
done
for r in ${RUNS//,/ }; do
	need "$r" "LNX-L2-INIT" "L2 reached /init"
	case $r in
	nv-pwr*) check_pwr "$r" ;; # ended by the power button / a second SIGTERM, not by /init
	nv-blk-crash-w) ;; # ended by its own crash (check_blk)
	*) need "$r" "LNX-RUN-END name=$r rc=0" "VMM exited 0 (ACPI power-off)"
		need "$r" "LNX-L2-DONE" "L2 /init finished"
		need "$r" "reboot: Power down|LNX-RUN-END" "power-off" ;;
	esac
	[ "$r" = nv-blk-crash-w ] || never "$r" "Kernel panic|BUG:|Oops" "no panic/oops in L2"
	# Linux prints these when the unit refused one of its descriptors (IQE/ITE/ICE): the
	# descriptor is then skipped, i.e. an invalidation Linux thinks was done was not.
	never "$r" "Invalidation Queue Error|Invalidation Time-out Error|Invalidation Completion Error|invalid descriptor" \
		"every invalidation descriptor L2 queued was accepted (no IQE/ITE/ICE)"
	case $r in
	nv-sm | nv-legacy)
		need "$r" "LNX-L2-EDU-DMA ok copied" "edu DMA through Linux's IOMMU mapping (VFIO type1 in L2)"
		need "$r" "LNX-L2-EDU-DMA unmapped" "unmap (IOTLB invalidation) done"
		deliberate_fault "$r"
		need "$r" "$(deliberate_re "$r")" "DMA to an unmapped IOVA blocked and reported to L2" ;;
	esac
	unexpected_faults "$r"
	case $r in
	nv-smp2 | nv-smp2.[0-9] | qemu-smp2 | qemu-smp2.[0-9] | nv-vmlinux-smp2 | qemu-vmlinux-smp2)
		need "$r" "LNX-L2 cpus_online=0-1" "2 CPUs online"
		need "$r" "memtotal_kb=(4[0-9]{5}|5[0-9]{5})" "512 MiB RAM" ;;
	esac
	case $r in
	nv-vmlinux*) need "$r" "nestvm: timing: vmlinux kernel and initrd loaded" \
			"nestvm booted the ELF vmlinux (no decompressor)" ;;
	esac
	case $r in
	nv-smp1 | nv-smp1.[0-9] | nv-smp1-thp | nv-smp1-memfd | nv-vmlinux)
		need "$r" "LNX-L2 cpus_online=0 " "1 CPU online"
		need "$r" "LNX-L2 rtc0 name=rtc_cmos.* date=2[0-9]{3}-" "CMOS RTC registered and read"
		never "$r" "ACPI Error|ACPI Warning" "no ACPI errors"
		# --kvm-stats against L1's KVM (kvm-amd): L2's console alone is port I/O exits.
		need "$r" "nestvm: kvm: [1-9][0-9]* exits: io [1-9][0-9]*, mmio [0-9]+, halt [0-9]+" \
			"KVM's exit counters printed (--kvm-stats), port I/O among them" ;;
	esac
	case $r in
	nv-sm | nv-legacy | nv-vfio-sm)
		need "$r" "DMAR: Host address width" "L2 parsed our DMAR table"
		need "$r" "DMAR: dmar0: reg_base_addr fed90000" "L2 found our unit"
		need "$r" "DMAR: dmar0: Using Queued invalidation" "L2 uses queued invalidation"
		need "$r" "Adding to iommu group" "L2 put devices in IOMMU groups"
		count_ge "$r" rtaddr_writes 1
		count_ge "$r" te_enabled 1
		count_ge "$r" descs 1
		count_le "$r" faults_unexpected 0
		# Linux's register reads (CAP/ECAP, GSTS polls, FSTS) come from the read mirror,
		# a read-only slot of L1's KVM: none of them may exit (docs/viommu.md).
		need "$r" "nestvm: vtd: register accesses by exit: 0 reads, [1-9][0-9]* writes; read mirror mapped" \
			"no register read of L2 exited (read mirror mapped)" ;;
	esac
	# Context entries the translation engine loaded (edu's DMA; a shadowed device's tables are
	# walked by the shadow code instead).
	case $r in
	nv-sm | nv-legacy) count_ge "$r" ctx_loads 1 ;;
	esac
	case $r in
	nv-sm) count_ge "$r" rtaddr_scalable 1 ;;
	nv-legacy | nv-vfio-sm) count_ge "$r" rtaddr_legacy 1 ;;
	esac
	case $r in
	*vfio*) need "$r" "tx_packets=[1-9]" "L2's e1000e sent packets by DMA"
		need "$r" "LNX-L2-IRQ +[0-9]+: +[1-9][0-9]* .*MSI.*eth0" "L2's e1000e took MSI interrupts" ;;
	esac
	case $r in
	nv-vfio*) count_ge "$r" type1 1
		count_ge "$r" irqfd_vectors 1
		# e1000e's BAR0 (128 KiB) is a KVM memory slot while L2 decodes it: its register
		# accesses no longer exit (about 3500 BAR exits per run when every access trapped).
		count_ge "$r" bar0_maps 1
		count_ge "$r" bar0_kib 128
		count_le "$r" bar_exits_mmap 100 ;;
	esac
	case $r in
	nv-vfio-sm) need "$r" "DMAR-IR: Enabled IRQ remapping" "L2 enabled our interrupt remapping"
		need "$r" "LNX-L2-IRQ +[0-9]+: +[1-9][0-9]* +IR-PCI-MSI.*eth0" "remapped MSIs arrived (irqfd routes through the IRTEs)" ;;
	esac
	case $r in
	nv-vfio-sm) count_ge "$r" shadow_maps 1; count_ge "$r" shadow_unmaps 1 ;;
	esac
	case $r in
	nv-nest-*) check_nested "$r" ;;
	nv-sva*)
		need "$r" "pdma-sva: ready, SVA enabled" "L2 enabled IOPF and SVA on pasid-dma"
		need "$r" "LNX-L2-KERNEL-SVA bind (refused|ok) errno=" "the kernel's own iommu_sva_bind_device answered (Debian 6.1: refused on x86)"
		never "$r" "SVM disabled|pdma-sva: enabling|binding pid [0-9]+ failed \\(direct\\)|LNX-L2-SVA FAIL|run ioctl failed" "no SVA refusal by the IOMMU driver, no failed check"
		need "$r" "LNX-L2-SVA copy ok pasid=[1-9]" "1. copy into malloc'd memory through the process's PASID"
		need "$r" "LNX-L2-SVA fill ok" "1. fill, data checked"
		need "$r" "LNX-L2-SVA demand ok" "2. untouched pages: page request, IOPF, response, retry"
		need "$r" "LNX-L2-SVA demand-read ok" "2. read of untouched memory"
		need "$r" "LNX-L2-SVA mprotect ok" "3. mprotect: device write refused afterwards"
		need "$r" "LNX-L2-SVA munmap ok" "3. munmap: DMA afterwards does not complete"
		need "$r" "LNX-L2-SVA remap ok page_reqs=" "3. new mapping at the same VA: page request, not the old page"
		need "$r" "LNX-L2-SVA two ok pasids=" "4. two processes, same VA, different PASIDs"
		need "$r" "LNX-L2-SVA exit ok" "5. exit without close: the PASID is unbound"
		need "$r" "LNX-L2-SVA bench ok" "benchmark ran"
		count_ge "$r" desc_pgrp 1
		count_ge "$r" page_requests 1 ;;
	esac
	case $r in
	nv-sva)
		need "$r" "LNX-L2-SVA mprotect ok .*dtlb_invs=[1-9]" "3. mprotect: device-TLB invalidation reached the device"
		need "$r" "LNX-L2-SVA munmap ok .*dtlb_invs=[1-9]" "3. munmap: device-TLB invalidation reached the device"
		need "$r" "LNX-L2-SVA demand ok .*page_reqs=[1-9]" "2. the device sent page requests"
		count_ge "$r" pasid_walks 1
		count_ge "$r" desc_piotlb 1
		count_ge "$r" desc_pdevtlb 1 ;;
	nv-sva-host)
		need "$r" "LNX-L2-SVA info .*backend=1" "device behind hostsim"
		need "$r" "LNX-L2-SVA mprotect ok .*host_inv_calls=[1-9]" "3. mprotect: invalidation forwarded to the host"
		need "$r" "LNX-L2-SVA munmap ok .*host_inv_calls=[1-9]" "3. munmap: invalidation forwarded to the host"
		need "$r" "LNX-L2-SVA demand ok .*host_page_reqs=[1-9][0-9]* host_page_resps=[1-9]" "2. host page requests answered by the guest"
		need "$r" "LNX-L2-SVA exit ok .*host_detaches=[1-9]" "5. the dead PASID detached on the host"
		count_ge "$r" trace_host_binds 2
		count_ge "$r" trace_host_unbinds 1
		count_ge "$r" trace_host_invalidates 1
		count_ge "$r" host_binds 2
		count_ge "$r" host_detached 1
		need "$r" "nestvm: host forwards: .* [1-9][0-9]* page requests \\([1-9][0-9]* answered\\)" "6. nestvm forwarded host page requests to L2 and L2's answers back"
		count_ge "$r" host_inv_batches 1 ;;
	esac
	case $r in
	nv-blk-*) check_blk "$r" ;;
	esac
	case $r in
	nv-net | nv-net-pk) need "$r" "LNX-L2 virtio-net [0-9a-f:.]* driver=virtio-pci .* domain=DMA(-FQ)?$" \
			"L2's virtio-pci driver took our virtio-net, DMA translated by our vIOMMU"
		if [ "$r" = nv-net-pk ]; then need "$r" "LNX-L2-NET packed=1" "L2's driver took packed virtqueues (VIRTIO_F_RING_PACKED)"
		else need "$r" "LNX-L2-NET packed=0" "split virtqueues (packed not offered)"; fi
		need "$r" "LNX-L2-NET eth0 mac=52:54:00:00:09:02" "the MAC from the device config"
		need "$r" "LNX-L2-NET ping ok 3 packets received" "ping L2 -> L1's tap in the test's namespace"
		never "$r" "LNX-L2-NET FAIL|LNX-L1-NET FAIL" "no network step failed"
		w=$(block "$r" | sed -n 's/.*LNX-L2-NET sent bytes=262144 md5=\([0-9a-f]*\).*/\1/p' | head -1)
		need "$r" "LNX-L1-NET received bytes=262144 md5=${w:-none}" "256 KiB over TCP arrived intact (md5 ${w:-none})"
		count_ge "$r" ctx_loads 1
		count_le "$r" faults_unexpected 0 ;;
	esac
	case $r in
	nv-con* | qemu-con*) check_con "$r" ;;
	esac
	case $r in
	*-bench*) need "$r" "LNX-L2-BLK-BENCH done" "blk-bench ran every pattern with the data checked"
		never "$r" "BLK-BENCH FAIL" "blk-bench read back what it wrote" ;;
	esac
	case $r in
	nv-bench-*-thread* | nv-bench-*-exit* | nv-blk-lg-*) served "$r" thread ;;
	nv-bench-* | nv-blk-*) served "$r" vcpu ;;
	esac
done
# The virtio-blk benchmark table (figures only, never asserted): per pattern the rate L2 measured
# (MiB/s sequential, IOPS random) on L2's clock. Console timestamps cannot time the phases: L2's
# lines reach the host in bursts (a 1024-request phase "took" 0.04 s by them).
case $GROUP in
virtio-net)
	# Console output timed on L2's clock (figures only): ms per KiB through each console.
	for r in ${RUNS//,/ }; do
		case $r in *con*) ;; *) continue ;; esac
		h=$(block "$r" | sed -n 's/.*LNX-L2-CON time hvc0 \([0-9.]*\) s.*/\1/p' | head -1)
		s=$(block "$r" | sed -n 's/.*LNX-L2-CON time ttyS0 \([0-9.]*\) s.*/\1/p' | head -1)
		k=64; case $r in qemu-con*) k=16 ;; esac
		printf 'CBENCH %-14s hvc0 %2s KiB in %6s s (%s ms/KiB)%s\n' \
			"$r" "$k" "$h" "$(awk -v t="${h:-0}" -v k=$k 'BEGIN { printf "%.2f", t * 1000 / k }')" \
			"${s:+, ttyS0 16 KiB in $s s ($(awk -v t="$s" 'BEGIN { printf "%.1f", t * 1000 / 16 }') ms/KiB)}"
	done ;;
virtio-bench)
	rm -f "$WORK/vbench-ratios"
	printf 'VBENCH %-16s %14s %14s %14s %14s\n' run seq-write-16M seq-read-16M rand-read-4k rand-write-4k
	for r in ${RUNS//,/ }; do
		line="VBENCH $(printf '%-16s' "$r")"
		for p in seq-write seq-read rand-read-4k rand-write-4k; do
			v=$(block "$r" | sed -n "s/.*BLK-BENCH name=$p MiB\/s=\([0-9.]*\) IOPS=\([0-9]*\).*/\1MiB\/s|\2/p" | head -1)
			case $p in rand*) v=${v#*|}; v=${v:+$v IOPS} ;; *) v=${v%|*} ;; esac
			line="$line $(printf '%14s' "${v:--}")"
		done
		echo "$line"
	done
	# Same-mode ratios: nestvm strict / QEMU strict and nestvm lazy / QEMU lazy (goal >= 2).
	num() { block "$1" | sed -n "s/.*BLK-BENCH name=$2 MiB\/s=\([0-9.]*\) IOPS=\([0-9]*\).*/\1 \2/p" | head -1; }
	# Repeated runs (".N" suffixes) get a ratio line each.
	reps=$(for r in ${RUNS//,/ }; do case $r in nv-bench-strict | nv-bench-strict.*) echo "=${r#nv-bench-strict}" ;; esac; done)
	for x in ${reps:-=}; do x=${x#=}; for m in strict lazy strict-thread lazy-thread strict-exit lazy-exit strict-pk lazy-pk; do
		block "nv-bench-$m$x" | grep -q BLK-BENCH || continue
		line="VBENCH $(printf '%-16s' "nv/qemu-$m$x")"
		for p in seq-write seq-read rand-read-4k rand-write-4k; do
			a=$(num nv-bench-$m$x $p); b=$(num qemu-bench-${m%%-*}$x $p)
			case $p in rand*) a=${a#* }; b=${b#* } ;; *) a=${a% *}; b=${b% *} ;; esac
			v=$(awk -v a="${a:-}" -v b="${b:-}" 'BEGIN { if (a != "" && b + 0 > 0) printf "%.2fx", a / b }')
			line="$line $(printf '%14s' "${v:--}")"
			[ -n "$v" ] && echo "$m $p ${v%x}" >>"$WORK/vbench-ratios"
		done
		echo "$line (goal >= 2.00x)"
	done; done
	# With repetitions: the median of each mode's ratios (one slow or fast run moves it least).
	med() { spread | awk '{ printf "%.2fx", $1 }'; }
	for m in strict lazy; do
		n=$(awk -v m=$m '$1 == m && $2 == "seq-write"' "$WORK/vbench-ratios" 2>/dev/null | wc -l)
		[ "$n" -ge 2 ] || continue
		line="VBENCH $(printf '%-16s' "median-$m")"
		for p in seq-write seq-read rand-read-4k rand-write-4k; do
			line="$line $(printf '%14s' "$(awk -v m=$m -v p=$p '$1 == m && $2 == p { print $3 }' "$WORK/vbench-ratios" | med)")"
		done
		echo "$line (nv/qemu-$m over $n repetitions, goal >= 2.00x)"
	done
	# The same on a load-independent clock: host CPU seconds the L1 QEMU spent from blk-bench's
	# start to the VMM's exit (all four patterns, fixed work), and QEMU / nestvm per mode.
	bcpu() {
		local a b
		a=$(cpu_at "$1" "BLK-BENCH start"); b=$(cpu_at "$1" "LNX-RUN-END")
		[ -n "$a" ] && [ -n "$b" ] && echo "$b - $a" | bc
	}
	for r in ${RUNS//,/ }; do
		printf 'VBENCH-CPU %-16s %8s s of L1 CPU for the whole blk-bench\n' "$r" "$(bcpu "$r")"
	done
	for x in ${reps:-=}; do x=${x#=}; for m in strict lazy strict-thread lazy-thread strict-exit lazy-exit strict-pk lazy-pk; do
		block "nv-bench-$m$x" | grep -q BLK-BENCH || continue
		a=$(bcpu nv-bench-$m$x); b=$(bcpu qemu-bench-${m%%-*}$x)
		v=$(awk -v a="${a:-}" -v b="${b:-}" 'BEGIN { if (a + 0 > 0 && b != "") printf "%.2fx", b / a }')
		printf 'VBENCH-CPU %-16s %8s (QEMU CPU / nestvm CPU, goal >= 2.00x)\n' "nv/qemu-$m$x" "${v:--}"
		[ -n "$v" ] && echo "cpu-$m x ${v%x}" >>"$WORK/vbench-ratios"
	done; done
	# KVM's counters for each nestvm run as a whole (boot and bench; --kvm-stats, no cost while
	# it runs).
	for r in ${RUNS//,/ }; do
		case $r in nv-*) block "$r" | sed -n "s/.*LNX-TRACE name=$r | nestvm: kvm: \(.*\)/VBENCH-KVM $(printf '%-16s' "$r") \1/p" | head -1 ;; esac
	done
	# Exits during blk-bench's work (kvmstat=1): a count, so steadier than either clock.
	bexits() { block "$1" | sed -n "s/.*LNX-KVMHIST name=$1 bench kvm_exit .* hitcount: \([0-9]*\)/\1/p" | awk '{ t += $1 } END { if (t) print t }'; }
	for x in ${reps:-=}; do x=${x#=}; for m in strict lazy strict-thread lazy-thread; do
		a=$(bexits nv-bench-$m$x); b=$(bexits qemu-bench-${m%%-*}$x)
		[ -n "$a" ] && [ -n "$b" ] || continue
		printf 'VBENCH-EXITS %-16s %s / %s exits = %s (QEMU / nestvm)\n' "nv/qemu-$m$x" "$b" "$a" \
			"$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", b / a }')"
	done; done
	for m in strict lazy; do
		n=$(awk -v m=cpu-$m '$1 == m' "$WORK/vbench-ratios" 2>/dev/null | wc -l)
		[ "$n" -ge 2 ] && printf 'VBENCH-CPU %-16s %8s (QEMU CPU / nestvm CPU over %d repetitions, goal >= 2.00x)\n' \
			"median-$m" "$(awk -v m=cpu-$m '$1 == m { print $3 }' "$WORK/vbench-ratios" | med)" "$n"
	done ;;
esac
[ -n "$froze" ] && echo "NOTE: L1 froze in $((boot - 1)) boot(s) (log:$froze); these results are of boot $boot"
[ $fail = 0 ] && echo "PASS linux/$GROUP${froze:+ (L1 boot $boot: the earlier ones froze)}" ||
	echo "FAIL linux/$GROUP (log: $LOG)"
exit $fail
