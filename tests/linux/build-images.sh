#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the nested Linux test images: Debian's kernel, an L2 initramfs (busybox + e1000e) and an
# L1 initramfs holding KVM/VFIO modules, nestvm and QEMU (for the side-by-side baseline).
#
#   tests/linux/build-images.sh NESTVM_BINARY
#   env: WORK=/tmp/nestvm-linux (images)  KCACHE=/tmp/nestvm-linux-kernel (the .deb, extracted)
#        EDU_DMA=path (static edu-dma for L2)  BLK_BENCH=path (static blk-bench for L2)  PDMA_VFIO=path (static pdma-vfio for L2)
#        PDMA_SVA_KO, SVA_TEST=paths (the sva group's driver and program)  KVER=6.1.0-47-amd64  EXTRA="src[:dst] ..." (more files for L1, with their ldd libraries)
# Output: $WORK/vmlinuz, $WORK/l2.cpio, $WORK/l1.cpio.  Exit 77 (skip) when the Debian
# packages cannot be obtained (no mirror), 1 on any other failure.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
NESTVM=${1:?usage: build-images.sh NESTVM_BINARY}
WORK=${WORK:-/tmp/nestvm-linux}
KCACHE=${KCACHE:-/tmp/nestvm-linux-kernel}
KVER=${KVER:-6.1.0-47-amd64}
QEMU=/usr/bin/qemu-system-x86_64
BUSYBOX=/bin/busybox
mkdir -p "$WORK" "$KCACHE"
skip() { echo "SKIP: $*" >&2; exit 77; }

# ---- host packages (Debian's own) -------------------------------------------
missing=""
for p in qemu-system-x86 busybox-static cpio file bc; do
	dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || skip "missing Debian packages:$missing (apt-get install$missing)"
	echo "installing:$missing" >&2
	timeout 600 apt-get install -y -q $missing >&2 || skip "apt-get install$missing failed (no mirror?)"
fi
file -L "$BUSYBOX" | grep -q 'statically linked' || skip "$BUSYBOX is not the static busybox"

# ---- the kernel package (apt-get download, extracted once) ------------------
KROOT=$KCACHE/root
if [ ! -f "$KROOT/boot/vmlinuz-$KVER" ]; then
	deb=$(ls "$KCACHE"/linux-image-"${KVER}"_*.deb 2>/dev/null | head -1 || true)
	if [ -z "$deb" ]; then
		(cd "$KCACHE" && timeout 600 apt-get download -q "linux-image-$KVER" >&2) ||
			skip "cannot download linux-image-$KVER from the Debian mirror"
		deb=$(ls "$KCACHE"/linux-image-"${KVER}"_*.deb | head -1)
	fi
	rm -rf "$KROOT.tmp"; mkdir -p "$KROOT.tmp"
	timeout 300 dpkg-deb -x "$deb" "$KROOT.tmp"
	rm -rf "$KROOT"; mv "$KROOT.tmp" "$KROOT"
fi
MODDIR=$KROOT/lib/modules/$KVER
cp -f "$KROOT/boot/vmlinuz-$KVER" "$WORK/vmlinuz"

# Module $1 (- and _ interchangeable) and, first, its depends= modules into dir $2 (load order
# appended to $2/order).
addmod() {
	local name=$1 dst=$2 f deps d base re
	re=$(echo "$name" | sed 's/[-_]/[-_]/g')
	f=$(find "$MODDIR/kernel" -regex ".*/${re}\.ko\(\.xz\|\.zst\|\.gz\)?" | head -1)
	[ -n "$f" ] || { echo "module $name not found" >&2; exit 1; }
	base=$(basename "$f"); base=${base%%.ko*}
	grep -qx "$base" "$dst/order" 2>/dev/null && return 0
	case $f in
	*.xz) xz -dc "$f" >"$dst/$base.ko" ;;
	*.zst) zstd -qdc "$f" >"$dst/$base.ko" ;;
	*.gz) gzip -dc "$f" >"$dst/$base.ko" ;;
	*) cp "$f" "$dst/$base.ko" ;;
	esac
	deps=$(strings "$dst/$base.ko" | sed -n 's/^depends=//p' | head -1 | tr ',' ' ')
	for d in $deps; do addmod "$d" "$dst"; done
	grep -qx "$base" "$dst/order" 2>/dev/null || echo "$base" >>"$dst/order"
}

# Copies an executable and every library ldd names, at the same paths, into root $1.
addexe() {
	local root=$1 src=$2 dst=$3 lib
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
	if ldd "$src" >/dev/null 2>&1; then
		for lib in $(ldd "$src" | grep -o '/[^ ]*'); do cp -L --parents "$lib" "$root/"; done
	fi
}

# Uncompressed newc archive: nothing to decompress inside the emulated CPU.
mkcpio() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$2.tmp" && mv "$2.tmp" "$2"; }

# ---- L2 ---------------------------------------------------------------------
L2=$WORK/l2root
rm -rf "$L2"; mkdir -p "$L2"/{bin,dev,proc,sys,m}
cp "$BUSYBOX" "$L2/bin/busybox"
: >"$L2/m/order"
for m in e1000e vfio vfio_iommu_type1 vfio-pci; do addmod "$m" "$L2/m"; done
# virtio-blk with ext4 (the virtio group): the modules, in load order (ext4 last).
for m in crc32c_generic virtio_pci virtio_blk ext4; do addmod "$m" "$L2/m"; done
# virtio-net and virtio-console (the virtio-net group).
addmod virtio_net "$L2/m"
addmod virtio_console "$L2/m"
# The ACPI power button and its input device (group boot, runs nv-pwr*).
for m in button evdev; do addmod "$m" "$L2/m"; done
# The edu DMA client (tests/linux/edu-dma.c, static) when the build made one.
[ -n "${EDU_DMA:-}" ] && cp "$EDU_DMA" "$L2/bin/edu-dma"
# The virtio-blk benchmark client (tests/linux/blk-bench.c, static) for the virtio-bench group.
[ -n "${BLK_BENCH:-}" ] && cp "$BLK_BENCH" "$L2/bin/blk-bench"
# The pasid-dma client (tests/linux/pdma-vfio.c, static) for the nested group.
[ -n "${PDMA_VFIO:-}" ] && cp "$PDMA_VFIO" "$L2/bin/pdma-vfio"
# The SVA group: our pasid-dma driver (guest-drivers/linux) and its static user program.
[ -n "${PDMA_SVA_KO:-}" ] && cp "$PDMA_SVA_KO" "$L2/m/pdma-sva.ko"
[ -n "${SVA_TEST:-}" ] && cp "$SVA_TEST" "$L2/bin/sva-test"
cp "$HERE/l2-init.sh" "$L2/init"; chmod +x "$L2/init"
mkcpio "$L2" "$WORK/l2.cpio"

# ---- L1 ---------------------------------------------------------------------
L1=$WORK/l1root
rm -rf "$L1"; mkdir -p "$L1"/{bin,dev,proc,sys,tmp,m,l2,usr/bin,usr/share/qemu}
cp "$BUSYBOX" "$L1/bin/busybox"
: >"$L1/m/order"
for m in kvm-amd kvm-intel vfio vfio_iommu_type1 vfio-pci; do addmod "$m" "$L1/m"; done
# The tap the virtio-net group's nestvm attaches to.
addmod tun "$L1/m"
cp "$HERE/l1-init.sh" "$L1/init"; chmod +x "$L1/init"
addexe "$L1" "$NESTVM" /usr/bin/nestvm
addexe "$L1" "$QEMU" /usr/bin/qemu-system-x86_64
# QEMU's firmware for -kernel boot (SeaBIOS and the linuxboot option ROMs).
cp -rL /usr/share/seabios "$L1/usr/share/"
# pvh.bin: the option ROM of a PVH entry (-kernel with an ELF vmlinux, the qemu-vmlinux run).
for f in kvmvapic.bin linuxboot.bin linuxboot_dma.bin pvh.bin; do cp -L "/usr/share/qemu/$f" "$L1/usr/share/qemu/"; done
for f in bios-256k.bin bios.bin; do ln -sf "../seabios/$f" "$L1/usr/share/qemu/$f"; done
for spec in ${EXTRA:-}; do
	src=${spec%%:*}; dst=${spec#*:}; [ "$dst" = "$spec" ] && dst=/usr/bin/$(basename "$src")
	addexe "$L1" "$src" "$dst"
done
# The virtio group's data disk: ext4 made without root (mke2fs -d) with a seed file L2 checks.
# Without e2fsprogs the other groups still run; the virtio group then fails (no disk in L1).
MKE2FS=$(command -v mke2fs || echo /sbin/mke2fs)
rm -rf "$WORK/blkseed" "$WORK/disk.img"; mkdir -p "$WORK/blkseed"
echo "nestvm virtio-blk seed file" >"$WORK/blkseed/seed.txt"
(cd "$WORK/blkseed" && md5sum seed.txt >seed.md5)
if [ -x "$MKE2FS" ]; then
	"$MKE2FS" -q -F -t ext4 -L nvdata -d "$WORK/blkseed" "$WORK/disk.img" 16M
	cp "$WORK/disk.img" "$L1/l2/disk.img"
else
	echo "build-images: mke2fs (e2fsprogs) missing: no virtio-blk disk for the virtio group" >&2
fi
cp "$WORK/vmlinuz" "$L1/l2/vmlinuz"
# L2VMLINUX=1 (the boot group): the same kernel uncompressed, as an ELF vmlinux, for the runs
# that boot it without the bzImage's decompressor (nestvm's vmlinux loader, QEMU's PVH entry).
# The bzImage's setup header gives the xz payload's place: (setup_sects + 1) * 512 +
# payload_offset, payload_length bytes (the kernel build appends 4 size bytes after the stream).
rm -f "$L1/l2/vmlinux"
if [ "${L2VMLINUX:-0}" = 1 ]; then
	u8() { od -An -tu1 -j "$1" -N1 "$WORK/vmlinuz" | tr -d ' '; }
	u32() { od -An -tu4 -j "$1" -N4 "$WORK/vmlinuz" | tr -d ' '; }
	sects=$(u8 $((0x1f1))); [ "$sects" = 0 ] && sects=4
	poff=$(( (sects + 1) * 512 + $(u32 $((0x248))) ))
	# dd with skip_bytes/count_bytes reads exactly the payload (no early-closed pipe under pipefail).
	dd if="$WORK/vmlinuz" iflag=skip_bytes,count_bytes skip="$poff" count="$(u32 $((0x24c)))" \
		bs=1M status=none | xz -dc --single-stream >"$WORK/vmlinux" &&
		[ "$(od -An -c -N4 "$WORK/vmlinux" | tr -d ' ')" = '177ELF' ] ||
		{ echo "build-images: cannot unpack vmlinux from $WORK/vmlinuz (xz payload)" >&2; exit 1; }
	cp "$WORK/vmlinux" "$L1/l2/vmlinux"
fi
cp "$WORK/l2.cpio" "$L1/l2/initrd"
mkcpio "$L1" "$WORK/l1.cpio"
echo "images: $WORK/vmlinuz $WORK/l1.cpio ($(du -m "$WORK/l1.cpio" | cut -f1) MiB) $WORK/l2.cpio" >&2
