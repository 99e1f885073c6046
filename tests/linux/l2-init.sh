#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# /init of L2 (Debian's unmodified kernel under nestvm or QEMU): reports CPUs, memory, what the
# DMAR driver said and the PCI devices' IOMMU groups; with l2test=e1000e brings up the passed-through
# NIC and reports its TX packets; with l2test=pdma runs pdma-vfio on pasid-dma; then powers off (ACPI S5).
/bin/busybox --install -s /bin
mount -t proc p /proc; mount -t sysfs s /sys; mount -t devtmpfs d /dev
echo "LNX-L2-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "LNX-L2 cpus_online=$(cat /sys/devices/system/cpu/online) nproc=$(nproc)"
echo "LNX-L2 memtotal_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
r=/sys/class/rtc/rtc0
[ -e $r ] && echo "LNX-L2 rtc0 name=$(cat $r/name) date=$(cat $r/date) time=$(cat $r/time)" || echo "LNX-L2 rtc0 none"
echo "LNX-L2 clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
dmesg | grep -i -E 'dmar|iommu|remapping|pasid|scalable' | sed 's/^/LNX-L2-DMESG /'
# Boot phases on L2's clock (kvm-clock's offset, initramfs unpacking, the switch to /init) and,
# with initcall_debug on the command line, the slowest initcalls and their sum.
dmesg | grep -E 'kvm-clock: using sched offset|Unpacking initramfs|Freeing initrd memory|Freeing unused kernel image|clocksource: Switched to' |
	sed 's/^/LNX-L2-PHASE /'
if grep -q initcall_debug /proc/cmdline; then
	dmesg | sed -n 's/.*initcall \([^ ]*\) returned .* after \([0-9]*\) usecs.*/\2 \1/p' >/ic
	echo "LNX-L2-INITCALLS count=$(wc -l </ic) usecs=$(awk '{ s += $1 } END { print s + 0 }' /ic)"
	sort -rn /ic | head -15 | sed 's/^/LNX-L2-INITCALL /'
	# Where the log is silent longest (initcall_debug fills it with calls and returns, so a
	# silence is work outside the initcalls, or one slow initcall): the gap, the line after it
	# and the line before it.
	dmesg | awk -F'[][]' 'NF > 2 { t = $2 + 0; if (n++ && t - p >= 0.02) printf "%.3f [%s]%s <- %s\n", t - p, $2, substr($3, 1, 70), substr(pl, 1, 70); p = t; pl = $3 }' |
		sort -rn | head -15 | sed 's/^/LNX-L2-GAP /'
	dmesg | sed -n '1,/Memory: /p' | cut -c1-110 | sed 's/^/LNX-L2-EARLY /'
	sed -n 's/^flags[^:]*: //p' /proc/cpuinfo | head -1 | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/^/LNX-L2-CPUFLAGS /'; echo
fi
dmesg | grep -i -E 'call trace|bug:|warning:|rtc|i8042|acpi.*error' | head -20 | sed 's/^/LNX-L2-DMESG /'
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	g=$(readlink $d/iommu_group 2>/dev/null); g=${g##*/}
	echo "LNX-L2-PCI ${d##*/} $(cat $d/vendor):$(cat $d/device) group=${g:-none}"
done
# Loads a module from /m with the modules it depends on (build-images.sh wrote them in load order).
load() {
	for m in $(cat /m/order); do
		# No interrupt remapping in L2 unless the vIOMMU offers it: type1 must be told.
		case $m in vfio_iommu_type1) p=allow_unsafe_interrupts=1 ;; *) p="" ;; esac
		grep -q "^${m//-/_} " /proc/modules || insmod /m/$m.ko $p 2>/dev/null
		[ "$m" = "$1" ] && return 0
	done
}
if grep -q 'l2test=edu' /proc/cmdline; then
	# edu (1234:11e8) bound to vfio-pci: Linux's type1 driver maps the buffer in its IOMMU domain.
	load vfio-pci
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
		echo vfio-pci >$d/driver_override
		echo ${d##*/} >/sys/bus/pci/drivers_probe
		echo "LNX-L2 edu ${d##*/} driver=$(basename "$(readlink $d/driver)")"
		/bin/edu-dma ${d##*/} fault | sed 's/^/LNX-L2-/'
		sleep 0.5
		dmesg | grep -i -E 'DMAR:.*(fault|DRHD)' | head -4 | sed 's/^/LNX-L2-FAULT /'
	done
fi
if grep -q 'l2test=pdma' /proc/cmdline; then
	# pasid-dma (1234:5a5d, backend=hostsim) bound to vfio-pci: pdma-vfio moves and checks data
	# through the mappings Linux's type1 driver makes in its IOMMU domain.
	load vfio-pci
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x5a5d ] || continue
		g=$(readlink $d/iommu_group); g=${g##*/}
		echo "LNX-L2 pdma ${d##*/} group=$g default_domain=$(cat /sys/kernel/iommu_groups/$g/type 2>/dev/null)"
		echo vfio-pci >$d/driver_override
		echo ${d##*/} >/sys/bus/pci/drivers_probe
		echo "LNX-L2 pdma ${d##*/} driver=$(basename "$(readlink $d/driver)")"
		# Twice: the second VFIO container is a new domain (new first-stage root for the RID).
		for pass in 1 2; do
			out=$(/bin/pdma-vfio ${d##*/} 2>&1); rc=$?
			echo "$out" | sed 's/^/LNX-L2-/'
			echo "LNX-L2-PDMA-RC pass=$pass $rc"
		done
		sleep 0.5
		dmesg | grep -i -E 'DMAR:.*(fault|DRHD)' | head -4 | sed 's/^/LNX-L2-FAULT /'
	done
fi
if grep -q 'l2test=e1000e' /proc/cmdline; then
	load e1000e
	# No address is configured: bringing the link up makes the kernel send its own IPv6
	# link-local multicast (DAD, router solicitation), which is the TX DMA under test.
	ip link set eth0 up
	for i in $(seq 1 40); do [ "$(cat /sys/class/net/eth0/operstate)" = up ] && break; sleep 0.25; done
	for i in $(seq 1 40); do [ "$(cat /sys/class/net/eth0/statistics/tx_packets)" -gt 0 ] && break; sleep 0.25; done
	echo "LNX-L2 eth0 operstate=$(cat /sys/class/net/eth0/operstate) tx_packets=$(cat /sys/class/net/eth0/statistics/tx_packets) rx_packets=$(cat /sys/class/net/eth0/statistics/rx_packets)"
	grep -E 'eth0' /proc/interrupts | sed 's/^/LNX-L2-IRQ /'
	dmesg | grep -i -E 'e1000e|eth0|dmar.*fault' | tail -10 | sed 's/^/LNX-L2-DMESG /'
fi
if grep -q 'l2test=sva' /proc/cmdline; then
	# Guest SVA with Linux's own code: our pdma-sva driver binds each process's mm to a PASID
	# (tests/linux/sva-test.c). sva_retries=N: resubmissions after a fault (host page requests).
	R=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^sva_retries=//p'); R=${R:-0}
	insmod /m/pdma-sva.ko || echo "LNX-L2-SVA insmod failed"
	# Debian's 6.1 refuses iommu_sva_bind_device on x86 (stable backport that turns SVA off):
	# record its answer, then let the driver bind through the IOMMU driver (direct_bind).
	/bin/sva-test bind | sed 's/^/LNX-L2-KERNEL-/'
	echo 1 >/sys/module/pdma_sva/parameters/direct_bind
	dmesg | grep -i -E 'pdma|svm|sva|pasid|prq|page req' | sed 's/^/LNX-L2-DMESG /'
	for t in copy demand invalidate two exit bench info; do
		echo "LNX-L2-SVA-RUN $t"
		/bin/sva-test $t $R 2>&1 | sed 's/^/LNX-L2-/'
	done
	dmesg | grep -i -E 'pdma|dmar|svm|iommu' | tail -30 | sed 's/^/LNX-L2-DMESG-END /'
fi
if grep -q 'l2test=blk' /proc/cmdline; then
	# virtio-blk: mount the harness's ext4 disk; blkw writes 2 MiB with its checksum and syncs,
	# blkr (a second boot from the same image) checks what blkw left.
	load ext4
	for i in $(seq 1 40); do [ -b /dev/vda ] && break; sleep 0.25; done
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1042 ] || continue
		g=$(readlink $d/iommu_group); g=${g##*/}
		echo "LNX-L2 virtio-blk ${d##*/} driver=$(basename "$(readlink $d/driver)") group=${g:-none} domain=$(cat /sys/kernel/iommu_groups/$g/type 2>/dev/null)"
	done
	echo "LNX-L2-BLK vda sectors=$(cat /sys/block/vda/size 2>/dev/null) ro=$(cat /sys/block/vda/ro 2>/dev/null)"
	# The features the driver accepted, one character per bit: 34 is VIRTIO_F_RING_PACKED.
	echo "LNX-L2-BLK packed=$(cut -c35 /sys/block/vda/device/features 2>/dev/null)"
	mkdir -p /mnt
	if mount -t ext4 /dev/vda /mnt; then
		(cd /mnt && md5sum -c seed.md5 >/dev/null 2>&1) && echo "LNX-L2-BLK seed ok" || echo "LNX-L2-BLK FAIL seed"
		if grep -q 'l2test=blkw' /proc/cmdline; then
			dd if=/dev/urandom of=/mnt/data.bin bs=64k count=32 2>/dev/null
			(cd /mnt && md5sum data.bin >data.md5)
			sync
			echo 3 >/proc/sys/vm/drop_caches
			(cd /mnt && md5sum -c data.md5 >/dev/null 2>&1) && echo "LNX-L2-BLK write ok $(cut -d' ' -f1 /mnt/data.md5)" || echo "LNX-L2-BLK FAIL write"
			# The flush is complete (sync returned): a crash now must not lose the data.
			if grep -q 'l2blk=crash' /proc/cmdline; then
				echo "LNX-L2-BLK crashing with the disk mounted"
				echo c >/proc/sysrq-trigger
				sleep 30
				echo "LNX-L2-BLK FAIL still running after sysrq c"
			fi
		else
			(cd /mnt && md5sum -c data.md5 >/dev/null 2>&1) && echo "LNX-L2-BLK readback ok $(cut -d' ' -f1 /mnt/data.md5)" || echo "LNX-L2-BLK FAIL readback"
		fi
		umount /mnt && echo "LNX-L2-BLK unmounted"
	else
		echo "LNX-L2-BLK FAIL mount"
	fi
	dmesg | grep -i -E 'virtio|vda|ext4|EXT4' | head -12 | sed 's/^/LNX-L2-DMESG /'
	dmesg | grep -i -E 'DMAR:.*(fault|DRHD)' | head -4 | sed 's/^/LNX-L2-FAULT /'
fi
if grep -q 'l2test=net' /proc/cmdline; then
	# virtio-net: 10.9.0.2 on our device, ping L1's tap end, then 256 KiB over TCP with its md5.
	load virtio_net
	mkdir -p /tmp
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1041 ] || continue
		g=$(readlink $d/iommu_group); g=${g##*/}
		echo "LNX-L2 virtio-net ${d##*/} driver=$(basename "$(readlink $d/driver)") group=${g:-none} domain=$(cat /sys/kernel/iommu_groups/$g/type 2>/dev/null)"
	done
	for i in $(seq 1 40); do [ -e /sys/class/net/eth0 ] && break; sleep 0.25; done
	echo "LNX-L2-NET eth0 mac=$(cat /sys/class/net/eth0/address)"
	echo "LNX-L2-NET packed=$(cut -c35 /sys/class/net/eth0/device/features 2>/dev/null)"
	ip link set eth0 up; ip addr add 10.9.0.2/24 dev eth0
	ping -c 3 -W 5 10.9.0.1 >/tmp/ping.txt 2>&1 && echo "LNX-L2-NET ping ok $(grep -o '[0-9]* packets received' /tmp/ping.txt)" || { echo "LNX-L2-NET FAIL ping"; cat /tmp/ping.txt | sed 's/^/LNX-L2-NET | /'; }
	dd if=/dev/urandom of=/tmp/tx.bin bs=1k count=256 2>/dev/null
	timeout 120 nc -w 5 10.9.0.1 5000 </tmp/tx.bin && echo "LNX-L2-NET sent bytes=$(wc -c </tmp/tx.bin) md5=$(md5sum </tmp/tx.bin | cut -d' ' -f1)" || echo "LNX-L2-NET FAIL nc"
	echo "LNX-L2-NET stats tx_packets=$(cat /sys/class/net/eth0/statistics/tx_packets) rx_packets=$(cat /sys/class/net/eth0/statistics/rx_packets)"
	dmesg | grep -i -E 'DMAR:.*(fault|DRHD)' | head -4 | sed 's/^/LNX-L2-FAULT /'
fi
if grep -q 'l2test=con' /proc/cmdline; then
	# virtio-console: Linux's virtio_console driver gives hvc0. A line L1 piped into the VMM's
	# stdin is read from it (l2test=con-in only), then text goes out through hvc0 (and ttyS0),
	# each timed on L2's clock; L1 checks what reached the VMM's stdout.
	load virtio_console
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1043 ] || continue
		echo "LNX-L2 virtio-console ${d##*/} driver=$(basename "$(readlink $d/driver)")"
	done
	for i in $(seq 1 40); do [ -c /dev/hvc0 ] && break; sleep 0.25; done
	[ -c /dev/hvc0 ] || echo "LNX-L2-CON FAIL no /dev/hvc0"
	if grep -q 'l2test=con-in' /proc/cmdline; then
		# hvc0 stays open while L1 types (input that reached a tty closed again would be lost);
		# L1 sends its line once it sees "ready" on the VMM's stdout, as a user at a prompt.
		exec 4<>/dev/hvc0
		stty raw -echo <&4 2>/dev/null
		echo "LNX-L2-CON ready" >&4
		line=$(timeout 60 head -n 1 <&4 | tr -d '\r')
		exec 4<&-
		echo "LNX-L2-CON got '$line'"
	fi
	echo "LNX-L2-CON hello through hvc0" >/dev/hvc0
	# Numbered 64-byte lines: conkib= KiB (default 64) on hvc0 (LNX-BULK) and, with
	# l2test=con-uart, 16 KiB on ttyS0 (LNX-SBULK, one exit per byte; opt-in: such bursts of
	# exits froze the emulated L1).
	mkdir -p /tmp
	kib=$(sed -n 's/.*conkib=\([0-9]*\).*/\1/p' /proc/cmdline); kib=${kib:-64}
	awk -v n=$((kib * 16)) 'BEGIN { for (i = 1; i <= n; i++) printf "LNX-BULK %054d\n", i }' >/tmp/bulk-hvc0
	awk 'BEGIN { for (i = 1; i <= 256; i++) printf "LNX-SBULK %053d\n", i }' >/tmp/bulk-ttyS0
	cons=hvc0; grep -q 'l2test=con-uart' /proc/cmdline && cons="hvc0 ttyS0"
	for c in $cons; do
		echo "LNX-L2-CON bulk $c bytes=$(wc -c </tmp/bulk-$c) md5=$(md5sum </tmp/bulk-$c | cut -d' ' -f1)"
		t0=$(cut -d' ' -f1 /proc/uptime)
		cat /tmp/bulk-$c >/dev/$c
		t1=$(cut -d' ' -f1 /proc/uptime)
		echo "LNX-L2-CON time $c $(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s"
	done
fi
if grep -q 'l2test=blkbench' /proc/cmdline; then
	# The printed virtio-blk benchmark: O_DIRECT on the raw disk (tests/linux/blk-bench.c).
	load virtio_blk
	for i in $(seq 1 40); do [ -b /dev/vda ] && break; sleep 0.25; done
	dmesg | grep -i -E 'iommu.*(strict|lazy)' | head -2 | sed 's/^/LNX-L2-DMESG /'
	echo "LNX-L2-BLK-BENCH start"
	/bin/blk-bench /dev/vda 16 2>&1 | sed 's/^/LNX-L2-/'
fi
if grep -q 'l2test=pwr' /proc/cmdline; then
	# The power button (group boot): Linux's ACPI button driver on our fixed-feature button,
	# busybox acpid on its input device. pwr: the handler logs, unmounts the ext4 disk and
	# powers off; pwr-ignore: it logs and does nothing (the VMM must end on a second SIGTERM).
	# L1 sends nestvm SIGTERM once this prints "ready".
	insmod /m/button.ko; insmod /m/evdev.ko
	load ext4
	for i in $(seq 1 40); do [ -b /dev/vda ] && break; sleep 0.25; done
	mkdir -p /mnt /tmp /etc/acpi/PWRF
	mount -t ext4 /dev/vda /mnt && echo "LNX-L2-PWR mounted" || echo "LNX-L2-PWR FAIL mount"
	echo "written before the power button" >/mnt/pwr.txt; sync
	if grep -q 'l2test=pwr-ignore' /proc/cmdline; then
		printf '#!/bin/sh\necho "LNX-L2-PWR power button seen, ignored" >/dev/console\n' >/etc/acpi/PWRF/00000080
	else
		printf '#!/bin/sh\necho "LNX-L2-PWR power button -> poweroff" >/dev/console\nsync\numount /mnt && echo "LNX-L2-PWR unmounted" >/dev/console\npoweroff -f\n' >/etc/acpi/PWRF/00000080
	fi
	chmod +x /etc/acpi/PWRF/00000080
	for i in $(seq 1 40); do ls /dev/input/event* >/dev/null 2>&1 && break; sleep 0.25; done
	acpid -f -c /etc/acpi -l /dev/null -p /tmp/acpid.pid </dev/null &
	sleep 1
	grep -A4 'Name="Power Button"' /proc/bus/input/devices | sed -n 's/^H: Handlers=/LNX-L2-PWR handlers /p'
	dmesg | grep -i -E 'button|acpi.*(error|fail)' | head -6 | sed 's/^/LNX-L2-DMESG /'
	echo "LNX-L2-PWR ready en=$(grep -c 'Power Button' /proc/bus/input/devices)"
	# The handler ends this boot; if no button press comes, give up after 200 s.
	for i in $(seq 1 200); do sleep 1; done
	echo "LNX-L2-PWR FAIL no power button press"
fi
echo "LNX-L2-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
