/* SPDX-License-Identifier: MIT */
/*
 * The VFIO type1 backend of host_iommu, for hosts without iommufd (/dev/iommu): one container
 * (/dev/vfio/vfio) with the type1v2 IOMMU, the devices' groups (/dev/vfio/N) set to it, device
 * fds taken from the groups. It has no nesting: the vIOMMU runs it in shadow mode (map_iova /
 * unmap_iova are MAP_DMA / UNMAP_DMA), and without a vIOMMU guest RAM is mapped once.
 *
 * Callers: the passthrough glue (vfio-pt.c) and the unit test (a fake kernel behind the seam).
 */
#ifndef NESTVM_TYPE1_H
#define NESTVM_TYPE1_H

#include <stddef.h>
#include <stdint.h>

#include "devices/vfio/host-iommu.h"

struct type1_backend;
struct type1_sys; /* the syscall seam (type1-abi.h); NULL = the real system calls */

/* Counters of issued ioctls (monotonic since open). */
struct type1_stats {
	uint64_t map_dma, unmap_dma;   /* MAP_DMA / UNMAP_DMA calls that succeeded */
	uint64_t shadow_maps, shadow_unmaps; /* of those, through map_iova / unmap_iova */
	uint64_t mapped_bytes;         /* currently mapped, as the kernel reported back */
	uint64_t errors;               /* MAP_DMA / UNMAP_DMA calls that failed */
};

/*
 * Resolves a host= value (DDDD:BB:DD.F, or a sysfs PCI device directory) to its group node
 * (/dev/vfio/N, from the device's iommu_group link) and its PCI address. 0, -ENOENT (no
 * such device) or -ENODEV (no IOMMU group), with a one-line message.
 */
int type1_resolve_host(const char *host, char *group, size_t glen, char *bdf, size_t blen,
		       char *err, size_t errlen);

/*
 * Opens the container (path NULL: /dev/vfio/vfio) and checks the API version and type1v2.
 * 0 or -errno with a one-line reason in err.
 */
int type1_backend_open(const struct type1_sys *sys, const char *path, struct type1_backend **ret,
		       char *err, size_t errlen);
/*
 * Opens the group node (if not yet open), checks it is viable, sets it to the container
 * (the first group also selects the type1v2 IOMMU) and gets the fd of device bdf. Returns 0
 * and the device handle, or -errno with a one-line reason.
 */
int type1_backend_add_device(struct type1_backend *b, const char *group, const char *bdf,
			     uint32_t *ret_dev, char *err, size_t errlen);
/* The VFIO device fd of a device (for the vfio-pci model), or -1. */
int type1_backend_device_fd(const struct type1_backend *b, uint32_t dev);
void type1_backend_iommu(struct type1_backend *b, struct host_iommu *ret);
void type1_backend_get_stats(struct type1_backend *b, struct type1_stats *ret);
/*
 * "type1: N MAP_DMA, M UNMAP_DMA (S shadow maps, U shadow unmaps), E errors, B bytes mapped"
 * for the exit summary.
 */
int type1_backend_format_summary(struct type1_backend *b, char *buf, size_t len);
/*
 * Unmaps everything, closes the device fds, unsets and closes the groups, closes the
 * container. Accepts NULL.
 */
void type1_backend_close(struct type1_backend *b);

#endif
