/* SPDX-License-Identifier: MIT */
/*
 * Our own definitions of the legacy VFIO container/group uAPI the type1 backend uses (API
 * version, extensions, SET_IOMMU, group status / container / device fd, type1 IOMMU info,
 * MAP_DMA, UNMAP_DMA), checked with _Static_assert against the documented numbers and sizes,
 * plus the syscall seam the backend goes through (the real calls, or a fake kernel in tests).
 *
 * Callers: devices/vfio/type1.c and its unit test only. x86-64 layouts.
 */
#ifndef NESTVM_TYPE1_ABI_H
#define NESTVM_TYPE1_ABI_H

#include <stddef.h>
#include <stdint.h>

/* _IO(';', 100 + n): the VFIO ioctls carry no direction or size bits. */
#define T1_TYPE 0x3bu
#define T1_BASE 100u
#define T1_IO(nr) ((unsigned long)((T1_TYPE << 8) | (T1_BASE + (nr))))

#define T1_GET_API_VERSION T1_IO(0)       /* container: returns T1_API_VERSION */
#define T1_CHECK_EXTENSION T1_IO(1)       /* container: arg = extension, returns > 0 if supported */
#define T1_SET_IOMMU T1_IO(2)             /* container: arg = IOMMU type (a group must be set) */
#define T1_GROUP_GET_STATUS T1_IO(3)      /* group: struct t1_group_status */
#define T1_GROUP_SET_CONTAINER T1_IO(4)   /* group: arg = pointer to the container fd (int32) */
#define T1_GROUP_UNSET_CONTAINER T1_IO(5) /* group */
#define T1_GROUP_GET_DEVICE_FD T1_IO(6)   /* group: arg = device name string, returns the fd */
#define T1_IOMMU_GET_INFO T1_IO(12)       /* container: struct t1_iommu_info */
#define T1_IOMMU_MAP_DMA T1_IO(13)        /* container: struct t1_dma_map */
#define T1_IOMMU_UNMAP_DMA T1_IO(14)      /* container: struct t1_dma_unmap (size written back) */

_Static_assert(T1_GET_API_VERSION == 0x3B64, "VFIO_GET_API_VERSION");
_Static_assert(T1_CHECK_EXTENSION == 0x3B65, "VFIO_CHECK_EXTENSION");
_Static_assert(T1_SET_IOMMU == 0x3B66, "VFIO_SET_IOMMU");
_Static_assert(T1_GROUP_GET_STATUS == 0x3B67, "VFIO_GROUP_GET_STATUS");
_Static_assert(T1_GROUP_SET_CONTAINER == 0x3B68, "VFIO_GROUP_SET_CONTAINER");
_Static_assert(T1_GROUP_UNSET_CONTAINER == 0x3B69, "VFIO_GROUP_UNSET_CONTAINER");
_Static_assert(T1_GROUP_GET_DEVICE_FD == 0x3B6A, "VFIO_GROUP_GET_DEVICE_FD");
_Static_assert(T1_IOMMU_GET_INFO == 0x3B70, "VFIO_IOMMU_GET_INFO");
_Static_assert(T1_IOMMU_MAP_DMA == 0x3B71, "VFIO_IOMMU_MAP_DMA");
_Static_assert(T1_IOMMU_UNMAP_DMA == 0x3B72, "VFIO_IOMMU_UNMAP_DMA");

#define T1_API_VERSION 0
/* Extensions / IOMMU types. */
#define T1_TYPE1_IOMMU 1
#define T1_TYPE1V2_IOMMU 3 /* unmaps never split a mapping: -EINVAL instead */
#define T1_UNMAP_ALL 9     /* T1_DMA_UNMAP_FLAG_ALL is supported */

/* t1_group_status.flags */
#define T1_GROUP_FLAGS_VIABLE 0x1u        /* every device of the group is bound to a VFIO driver */
#define T1_GROUP_FLAGS_CONTAINER_SET 0x2u

/* t1_iommu_info.flags */
#define T1_IOMMU_INFO_PGSIZES 0x1u
#define T1_IOMMU_INFO_CAPS 0x2u

/* t1_dma_map.flags */
#define T1_DMA_MAP_FLAG_READ 0x1u
#define T1_DMA_MAP_FLAG_WRITE 0x2u

/* t1_dma_unmap.flags */
#define T1_DMA_UNMAP_FLAG_ALL 0x2u /* iova and size must be 0 */

struct t1_group_status {
	uint32_t argsz, flags;
};

struct t1_iommu_info {
	uint32_t argsz, flags;
	uint64_t iova_pgsizes; /* bitmap of the supported IOMMU page sizes */
	uint32_t cap_offset, pad;
};

struct t1_dma_map {
	uint32_t argsz, flags;
	uint64_t vaddr, iova, size;
};

struct t1_dma_unmap {
	uint32_t argsz, flags;
	uint64_t iova, size;
};

_Static_assert(sizeof(struct t1_group_status) == 8, "vfio_group_status");
_Static_assert(sizeof(struct t1_iommu_info) == 24 && offsetof(struct t1_iommu_info, iova_pgsizes) == 8 &&
	       offsetof(struct t1_iommu_info, cap_offset) == 16, "vfio_iommu_type1_info");
_Static_assert(sizeof(struct t1_dma_map) == 32 && offsetof(struct t1_dma_map, vaddr) == 8 &&
	       offsetof(struct t1_dma_map, iova) == 16 && offsetof(struct t1_dma_map, size) == 24,
	       "vfio_iommu_type1_dma_map");
_Static_assert(sizeof(struct t1_dma_unmap) == 24 && offsetof(struct t1_dma_unmap, iova) == 8 &&
	       offsetof(struct t1_dma_unmap, size) == 16, "vfio_iommu_type1_dma_unmap");

/*
 * The syscall seam of the type1 backend. ioctl passes arg as the kernel sees it (a value or a
 * pointer) and returns the ioctl's non-negative result or -errno; open returns an fd or -errno.
 */
struct type1_sys {
	void *ctx;
	int (*open)(void *ctx, const char *path);
	int (*ioctl)(void *ctx, int fd, unsigned long req, uintptr_t arg);
	int (*close)(void *ctx, int fd);
};

#endif
