/* SPDX-License-Identifier: MIT */
/*
 * Our own definitions of the VFIO device uAPI the vfio-pci model uses (device info, region
 * info, IRQ info, SET_IRQS, RESET and the vfio-pci region/IRQ indexes), checked with
 * _Static_assert against the documented numbers and sizes, plus the syscall seam the model
 * goes through (the real system calls, or a fake device in unit tests).
 *
 * Callers: devices/vfio/vfio-pci*.c and their tests only. x86-64 layouts; every struct
 * starts with its argsz field.
 */
#ifndef NESTVM_VFIO_PCI_ABI_H
#define NESTVM_VFIO_PCI_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* _IO(';', 100 + n): no direction, no size bits. */
#define VFD_TYPE 0x3bu
#define VFD_BASE 100u
#define VFD_IO(nr) ((unsigned long)((VFD_TYPE << 8) | (VFD_BASE + (nr))))

#define VFD_DEVICE_GET_INFO VFD_IO(7)
#define VFD_DEVICE_GET_REGION_INFO VFD_IO(8)
#define VFD_DEVICE_GET_IRQ_INFO VFD_IO(9)
#define VFD_DEVICE_SET_IRQS VFD_IO(10)
#define VFD_DEVICE_RESET VFD_IO(11)

_Static_assert(VFD_DEVICE_GET_INFO == 0x3B6B, "VFIO_DEVICE_GET_INFO");
_Static_assert(VFD_DEVICE_GET_REGION_INFO == 0x3B6C, "VFIO_DEVICE_GET_REGION_INFO");
_Static_assert(VFD_DEVICE_GET_IRQ_INFO == 0x3B6D, "VFIO_DEVICE_GET_IRQ_INFO");
_Static_assert(VFD_DEVICE_SET_IRQS == 0x3B6E, "VFIO_DEVICE_SET_IRQS");
_Static_assert(VFD_DEVICE_RESET == 0x3B6F, "VFIO_DEVICE_RESET");

/* vfio_device_info.flags */
#define VFD_DEVICE_FLAGS_RESET 0x1u
#define VFD_DEVICE_FLAGS_PCI 0x2u

/* vfio_region_info.flags */
#define VFD_REGION_READ 0x1u
#define VFD_REGION_WRITE 0x2u
#define VFD_REGION_MMAP 0x4u
#define VFD_REGION_CAPS 0x8u

/* vfio_irq_info.flags */
#define VFD_IRQ_INFO_EVENTFD 0x1u
#define VFD_IRQ_INFO_MASKABLE 0x2u
#define VFD_IRQ_INFO_AUTOMASKED 0x4u
#define VFD_IRQ_INFO_NORESIZE 0x8u

/* vfio_irq_set.flags: one data type and one action. */
#define VFD_IRQ_SET_DATA_NONE 0x1u
#define VFD_IRQ_SET_DATA_BOOL 0x2u
#define VFD_IRQ_SET_DATA_EVENTFD 0x4u
#define VFD_IRQ_SET_ACTION_MASK 0x8u
#define VFD_IRQ_SET_ACTION_UNMASK 0x10u
#define VFD_IRQ_SET_ACTION_TRIGGER 0x20u

/* vfio-pci region indexes (BAR0..5 are 0..5) and IRQ indexes. */
#define VFD_PCI_ROM_REGION 6u
#define VFD_PCI_CONFIG_REGION 7u
#define VFD_PCI_NUM_REGIONS 9u
#define VFD_PCI_INTX_IRQ 0u
#define VFD_PCI_MSI_IRQ 1u
#define VFD_PCI_MSIX_IRQ 2u

struct vfd_device_info {
	uint32_t argsz, flags, num_regions, num_irqs, cap_offset, pad;
};
struct vfd_region_info {
	uint32_t argsz, flags, index, cap_offset;
	uint64_t size, offset;
};
struct vfd_irq_info {
	uint32_t argsz, flags, index, count;
};
/* Followed by count int32 eventfds (DATA_EVENTFD) or count bytes (DATA_BOOL). */
struct vfd_irq_set {
	uint32_t argsz, flags, index, start, count;
};

_Static_assert(sizeof(struct vfd_device_info) == 24 &&
	       offsetof(struct vfd_device_info, num_irqs) == 12, "vfio_device_info");
_Static_assert(sizeof(struct vfd_region_info) == 32 && offsetof(struct vfd_region_info, size) == 16 &&
	       offsetof(struct vfd_region_info, offset) == 24, "vfio_region_info");
_Static_assert(sizeof(struct vfd_irq_info) == 16 && offsetof(struct vfd_irq_info, count) == 12,
	       "vfio_irq_info");
_Static_assert(sizeof(struct vfd_irq_set) == 20 && offsetof(struct vfd_irq_set, count) == 16,
	       "vfio_irq_set");

/*
 * The syscall seam of the vfio-pci model. Each call returns what the system call returns
 * with -errno instead of -1/errno. mmap returns NULL on failure.
 */
struct vfio_dev_sys {
	void *ctx;
	int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	ssize_t (*pread)(void *ctx, int fd, void *buf, size_t len, uint64_t off);
	ssize_t (*pwrite)(void *ctx, int fd, const void *buf, size_t len, uint64_t off);
	void *(*mmap)(void *ctx, int fd, size_t len, uint64_t off);
	void (*munmap)(void *ctx, void *addr, size_t len);
	/* A non-blocking eventfd, or -errno. */
	int (*eventfd)(void *ctx);
	/* Reads and clears an eventfd counter: 0 and *count, -EAGAIN when zero, or -errno. */
	int (*event_read)(void *ctx, int fd, uint64_t *count);
	int (*close)(void *ctx, int fd);
};

#endif
