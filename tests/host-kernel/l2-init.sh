#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# /init of L2 in the host-kernel suite: our Linux 7.x (build-kernel.sh) on nestvm (L1)'s VT-d unit
# in scalable mode. It binds L1's pasid-dma to vfio-pci, then runs nestvm (L2) on that device
# through the iommufd backend for each L3 guest test, checks that the device binds again after
# each run, runs `nestvm host-check`, and reports what the kernel logged. Everything the host's
# check.sh reads starts with HK-.
# Kernel command line: hktests=NAME,...  (default: every L3 test of the suite)
/bin/busybox --install -s /bin
mount -t proc p /proc; mount -t sysfs s /sys; mount -t devtmpfs d /dev
mkdir -p /tmp; mount -t tmpfs t /tmp
arg() { v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -1); echo "${v:-$2}"; }
echo "HK-L2-INIT uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) cpus=$(nproc)"
echo "HK-L2 svm=$(grep -c -w svm /proc/cpuinfo) kvm=$([ -c /dev/kvm ] && echo yes || echo no) iommu=$([ -c /dev/iommu ] && echo yes || echo no)"
dmesg | grep -i -E 'DMAR|iommu|pasid|vfio' | sed 's/^/HK-L2-DMESG /'

# pasid-dma (1234:5a5d) of nestvm (L1) -> vfio-pci -> /dev/vfio/devices/vfioN
BDF=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x5a5d ] && BDF=${d##*/}
done
[ -n "$BDF" ] || { echo "HK-L2 FAIL no pasid-dma"; poweroff -f; }
D=/sys/bus/pci/devices/$BDF
echo "HK-L2 pasid-dma $BDF group=$(basename "$(readlink $D/iommu_group)")"
echo vfio-pci >$D/driver_override
echo $BDF >/sys/bus/pci/drivers_probe
CDEV=/dev/vfio/devices/$(ls $D/vfio-dev 2>/dev/null | head -1)
echo "HK-L2 driver=$(basename "$(readlink $D/driver)") cdev=$CDEV"
[ -c "$CDEV" ] || { echo "HK-L2 FAIL no VFIO cdev"; poweroff -f; }

# host-check: what nestvm can do on this host, with the live self-test on the device
nestvm host-check "$CDEV" 2>&1 | sed 's/^/HK-HOSTCHECK | /'
echo "HK-HOSTCHECK-END rc=$(nestvm host-check "$CDEV" >/dev/null 2>&1; echo $?)"

# One L3 guest test: nestvm (L2) with the device behind its vtd (iommufd backend, nested).
run_l3() { # name vtd-options vcpus
	local t=$1 o=$2 rc
	echo "HK-L3-START name=$t vtd=$o"
	timeout 600 nestvm run -smp $3 -m 128M -kernel /t/$t.elf -device vtd$o -device vfio-pci,host=$CDEV \
		</dev/null >/tmp/l3.out 2>&1
	rc=$?
	sed "s/^/HK-L3 name=$t | /" /tmp/l3.out
	echo "HK-L3-END name=$t rc=$rc"
	# Teardown complete: the device binds to a new iommufd at once.
	nestvm host-check --bind-only "$CDEV" >/tmp/rebind.out 2>&1
	echo "HK-REBIND name=$t rc=$? $(tail -1 /tmp/rebind.out)"
}
# L3 tests and the vtd options nestvm (L2) gives them (hktests=NAME,... picks some).
for t in $(arg hktests host-forward,demo,host-bind,host-prq | tr ',' ' '); do
	case $t in
	host-prq) run_l3 $t ,dt=on,prs=on 1 ;;
	host-bind) run_l3 $t "" 2 ;;
	*) run_l3 $t "" 1 ;;
	esac
done

# The device can still be unbound from vfio-pci and bound again (no reference left behind).
echo $BDF >$D/driver/unbind && echo $BDF >/sys/bus/pci/drivers_probe
echo "HK-L2 rebound driver=$(basename "$(readlink $D/driver)")"
# What the kernel logged about the IOMMU at warning level or above (raw levels <0>..<4>).
dmesg -r | grep -E '^<[0-4]>' | grep -i -E 'dmar|iommu|vfio|pasid|prq|page request|pci 0000' |
	sed 's/^/HK-L2-IOMMU-LOG /'
dmesg | grep -E 'WARNING:|BUG:|Call Trace|Oops' | head -20 | sed 's/^/HK-L2-KERNEL /'
echo "HK-L2-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
# If ACPI power-off did not end nestvm (L1), a reset does (nestvm ends the VM on a reset).
sleep 5
reboot -f
