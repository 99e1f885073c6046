/* SPDX-License-Identifier: MIT */
/*
 * Our own definitions of the iommufd and VFIO cdev uAPI (facts §12), checked against the
 * documented sizes, offsets and ioctl numbers with _Static_assert, plus the syscall seam the
 * iommufd backend goes through (the real system calls, or a kernel double in unit tests).
 *
 * Callers: devices/vfio/iommufd*.c and their tests only. Layouts are the x86-64 ABI: every u64
 * is naturally aligned, every struct starts with its size (argsz) field.
 */
#ifndef NESTVM_IOMMUFD_ABI_H
#define NESTVM_IOMMUFD_ABI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* _IO(';', nr): direction 0, size 0 (facts §12.1). */
#define IFD_TYPE 0x3bu
#define IFD_IO(nr) ((unsigned long)((IFD_TYPE << 8) | (nr)))
#define IFD_CMD_BASE 0x80u
#define IFD_VFIO_BASE 100u

#define IFD_DESTROY IFD_IO(IFD_CMD_BASE + 0x0)
#define IFD_IOAS_ALLOC IFD_IO(IFD_CMD_BASE + 0x1)
#define IFD_IOAS_IOVA_RANGES IFD_IO(IFD_CMD_BASE + 0x4)
#define IFD_IOAS_MAP IFD_IO(IFD_CMD_BASE + 0x5)
#define IFD_IOAS_UNMAP IFD_IO(IFD_CMD_BASE + 0x6)
#define IFD_HWPT_ALLOC IFD_IO(IFD_CMD_BASE + 0x9)
#define IFD_GET_HW_INFO IFD_IO(IFD_CMD_BASE + 0xa)
#define IFD_HWPT_INVALIDATE IFD_IO(IFD_CMD_BASE + 0xd)
#define IFD_FAULT_QUEUE_ALLOC IFD_IO(IFD_CMD_BASE + 0xe)
#define IFD_VFIO_BIND IFD_IO(IFD_VFIO_BASE + 18)
#define IFD_VFIO_ATTACH IFD_IO(IFD_VFIO_BASE + 19)
#define IFD_VFIO_DETACH IFD_IO(IFD_VFIO_BASE + 20)

_Static_assert(IFD_DESTROY == 0x3B80, "IOMMU_DESTROY");
_Static_assert(IFD_IOAS_ALLOC == 0x3B81, "IOMMU_IOAS_ALLOC");
_Static_assert(IFD_IOAS_IOVA_RANGES == 0x3B84, "IOMMU_IOAS_IOVA_RANGES");
_Static_assert(IFD_IOAS_MAP == 0x3B85, "IOMMU_IOAS_MAP");
_Static_assert(IFD_IOAS_UNMAP == 0x3B86, "IOMMU_IOAS_UNMAP");
_Static_assert(IFD_HWPT_ALLOC == 0x3B89, "IOMMU_HWPT_ALLOC");
_Static_assert(IFD_GET_HW_INFO == 0x3B8A, "IOMMU_GET_HW_INFO");
_Static_assert(IFD_HWPT_INVALIDATE == 0x3B8D, "IOMMU_HWPT_INVALIDATE");
_Static_assert(IFD_FAULT_QUEUE_ALLOC == 0x3B8E, "IOMMU_FAULT_QUEUE_ALLOC");
_Static_assert(IFD_VFIO_BIND == 0x3B76, "VFIO_DEVICE_BIND_IOMMUFD");
_Static_assert(IFD_VFIO_ATTACH == 0x3B77, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
_Static_assert(IFD_VFIO_DETACH == 0x3B78, "VFIO_DEVICE_DETACH_IOMMUFD_PT");

/* Constants (facts §12.3). */
#define IFD_MAP_FIXED_IOVA 0x1u
#define IFD_MAP_WRITEABLE 0x2u
#define IFD_MAP_READABLE 0x4u
#define IFD_HWPT_NEST_PARENT 0x1u
#define IFD_HWPT_DIRTY_TRACKING 0x2u
#define IFD_HWPT_FAULT_ID_VALID 0x4u
#define IFD_HWPT_PASID 0x8u
#define IFD_HWPT_DATA_NONE 0u
#define IFD_HWPT_DATA_VTD_S1 1u
#define IFD_VTD_S1_SRE 0x1ull
#define IFD_VTD_S1_EAFE 0x2ull
#define IFD_VTD_S1_WPE 0x4ull
#define IFD_HW_INFO_INTEL_VTD 1u
#define IFD_HW_CAP_DIRTY 0x1ull
#define IFD_HW_CAP_PASID_EXEC 0x2ull
#define IFD_HW_CAP_PASID_PRIV 0x4ull
#define IFD_VTD_ERRATA_772415 0x1u
#define IFD_INV_DATA_VTD_S1 0u
#define IFD_VTD_INV_LEAF 0x1u
#define IFD_PGFAULT_PASID_VALID 0x1u
#define IFD_PGFAULT_LAST_PAGE 0x2u
#define IFD_PERM_READ 0x1u
#define IFD_PERM_WRITE 0x2u
#define IFD_PERM_EXEC 0x4u
#define IFD_PERM_PRIV 0x8u
#define IFD_RESP_SUCCESS 0u
#define IFD_RESP_INVALID 1u
#define IFD_ATTACH_PASID 0x1u
#define IFD_DETACH_PASID 0x1u

struct ifd_destroy { uint32_t size, id; };
struct ifd_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct ifd_iova_range { uint64_t start, last; }; /* last is inclusive */
struct ifd_ioas_iova_ranges {
	uint32_t size, ioas_id, num_iovas, reserved;
	uint64_t allowed_iovas;  /* user pointer to num_iovas struct ifd_iova_range */
	uint64_t out_iova_alignment;
};
struct ifd_ioas_map {
	uint32_t size, flags, ioas_id, reserved;
	uint64_t user_va, length, iova;
};
struct ifd_ioas_unmap {
	uint32_t size, ioas_id;
	uint64_t iova, length;
};
struct ifd_hwpt_alloc {
	uint32_t size, flags, dev_id, pt_id, out_hwpt_id, reserved;
	uint32_t data_type, data_len;
	uint64_t data_uptr;
	uint32_t fault_id, reserved2;
};
struct ifd_hw_info {
	uint32_t size, flags, dev_id, data_len;
	uint64_t data_uptr;
	uint32_t out_data_type;
	uint8_t out_max_pasid_log2, reserved[3];
	uint64_t out_capabilities;
};
struct ifd_hw_info_vtd {
	uint32_t flags, reserved;
	uint64_t cap_reg, ecap_reg;
};
struct ifd_vtd_s1 {
	uint64_t flags, pgtbl_addr;
	uint32_t addr_width, reserved;
};
struct ifd_hwpt_invalidate {
	uint32_t size, hwpt_id;
	uint64_t data_uptr;
	uint32_t data_type, entry_len, entry_num, reserved;
};
struct ifd_vtd_s1_inv {
	uint64_t addr, npages;
	uint32_t flags, reserved;
};
struct ifd_fault_alloc { uint32_t size, flags, out_fault_id, out_fault_fd; };
struct ifd_pgfault {
	uint32_t flags, dev_id, pasid, grpid, perm, reserved;
	uint64_t addr;
	uint32_t length, cookie;
};
struct ifd_page_response { uint32_t cookie, code; };
struct ifd_vfio_bind {
	uint32_t argsz, flags;
	int32_t iommufd;
	uint32_t out_devid;
};
struct ifd_vfio_attach { uint32_t argsz, flags, pt_id, pasid; };
struct ifd_vfio_detach { uint32_t argsz, flags, pasid; };

/* Sizes and offsets (facts §12.2). */
_Static_assert(sizeof(struct ifd_destroy) == 8, "iommu_destroy");
_Static_assert(sizeof(struct ifd_ioas_alloc) == 12, "iommu_ioas_alloc");
_Static_assert(sizeof(struct ifd_iova_range) == 16, "iommu_iova_range");
_Static_assert(sizeof(struct ifd_ioas_iova_ranges) == 32 &&
	       offsetof(struct ifd_ioas_iova_ranges, allowed_iovas) == 16 &&
	       offsetof(struct ifd_ioas_iova_ranges, out_iova_alignment) == 24, "iommu_ioas_iova_ranges");
_Static_assert(sizeof(struct ifd_ioas_map) == 40 && offsetof(struct ifd_ioas_map, user_va) == 16 &&
	       offsetof(struct ifd_ioas_map, iova) == 32, "iommu_ioas_map");
_Static_assert(sizeof(struct ifd_ioas_unmap) == 24 && offsetof(struct ifd_ioas_unmap, iova) == 8,
	       "iommu_ioas_unmap");
_Static_assert(sizeof(struct ifd_hwpt_alloc) == 48 &&
	       offsetof(struct ifd_hwpt_alloc, pt_id) == 12 &&
	       offsetof(struct ifd_hwpt_alloc, out_hwpt_id) == 16 &&
	       offsetof(struct ifd_hwpt_alloc, data_type) == 24 &&
	       offsetof(struct ifd_hwpt_alloc, data_uptr) == 32 &&
	       offsetof(struct ifd_hwpt_alloc, fault_id) == 40, "iommu_hwpt_alloc");
_Static_assert(sizeof(struct ifd_hw_info) == 40 && offsetof(struct ifd_hw_info, data_uptr) == 16 &&
	       offsetof(struct ifd_hw_info, out_data_type) == 24 &&
	       offsetof(struct ifd_hw_info, out_max_pasid_log2) == 28 &&
	       offsetof(struct ifd_hw_info, out_capabilities) == 32, "iommu_hw_info");
_Static_assert(sizeof(struct ifd_hw_info_vtd) == 24 && offsetof(struct ifd_hw_info_vtd, ecap_reg) == 16,
	       "iommu_hw_info_vtd");
_Static_assert(sizeof(struct ifd_vtd_s1) == 24 && offsetof(struct ifd_vtd_s1, addr_width) == 16,
	       "iommu_hwpt_vtd_s1");
_Static_assert(sizeof(struct ifd_hwpt_invalidate) == 32 &&
	       offsetof(struct ifd_hwpt_invalidate, data_uptr) == 8 &&
	       offsetof(struct ifd_hwpt_invalidate, entry_num) == 24, "iommu_hwpt_invalidate");
_Static_assert(sizeof(struct ifd_vtd_s1_inv) == 24 && offsetof(struct ifd_vtd_s1_inv, flags) == 16,
	       "iommu_hwpt_vtd_s1_invalidate");
_Static_assert(sizeof(struct ifd_fault_alloc) == 16 && offsetof(struct ifd_fault_alloc, out_fault_fd) == 12,
	       "iommu_fault_alloc");
_Static_assert(sizeof(struct ifd_pgfault) == 40 && offsetof(struct ifd_pgfault, addr) == 24 &&
	       offsetof(struct ifd_pgfault, cookie) == 36, "iommu_hwpt_pgfault");
_Static_assert(sizeof(struct ifd_page_response) == 8, "iommu_hwpt_page_response");
_Static_assert(sizeof(struct ifd_vfio_bind) == 16 && offsetof(struct ifd_vfio_bind, out_devid) == 12,
	       "vfio_device_bind_iommufd");
_Static_assert(sizeof(struct ifd_vfio_attach) == 16 && offsetof(struct ifd_vfio_attach, pasid) == 12,
	       "vfio_device_attach_iommufd_pt");
_Static_assert(sizeof(struct ifd_vfio_detach) == 12 && offsetof(struct ifd_vfio_detach, pasid) == 8,
	       "vfio_device_detach_iommufd_pt");

/*
 * The syscall seam. Each call returns what the system call returns, with -errno instead of
 * -1/errno (ioctl: 0 or -errno; read/write: bytes or -errno; open: fd or -errno).
 */
struct iommufd_sys {
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags);
	int (*close)(void *ctx, int fd);
	int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	ssize_t (*read)(void *ctx, int fd, void *buf, size_t len);
	ssize_t (*write)(void *ctx, int fd, const void *buf, size_t len);
};

#endif
