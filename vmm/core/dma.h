/* SPDX-License-Identifier: MIT */
/*
 * DMA address spaces: how an emulated DMA master reaches guest memory.
 *
 * Callers: emulated DMA masters (edu, pasid-dma). A device holds a struct dma_as given to
 * it by the board builder: with no IOMMU, IOVA == guest-physical; with the vIOMMU, every
 * access goes through its translate op (which records any fault itself). All guest memory
 * access still ends in the bounds-checked gmem accessors.
 */
#ifndef NESTVM_DMA_H
#define NESTVM_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gmem;

/* Access kinds of a request (may be combined). */
#define DMA_ACC_READ 0x1u
#define DMA_ACC_WRITE 0x2u
#define DMA_ACC_EXEC 0x4u
#define DMA_ACC_PRIV 0x8u /* supervisor (privileged-mode) request */

struct dma_req {
	uint16_t sid;       /* requester id: bus << 8 | devfn */
	bool has_pasid;
	uint32_t pasid;     /* valid when has_pasid */
	unsigned int access;/* DMA_ACC_* */
};

/* Result of one translation: iova maps to gpa, contiguously for len bytes (>= 1). */
struct dma_xlate {
	uint64_t gpa;
	uint64_t len;
};

struct dma_iommu_ops {
	/*
	 * Translates iova for req. Returns 0 and fills *ret, or a negative errno when the
	 * request is blocked (-EACCES: the IOMMU has recorded a fault as the spec says).
	 */
	int (*translate)(void *iommu, const struct dma_req *req, uint64_t iova,
			 struct dma_xlate *ret);
};

struct dma_as {
	const struct gmem *gmem;
	const struct dma_iommu_ops *ops; /* NULL: no IOMMU, identity */
	void *iommu;
};

/*
 * Copy len bytes between a device buffer and IOVA space, page by page. Returns 0,
 * -EACCES (translation fault, already recorded by the IOMMU) or -EFAULT (target is not
 * RAM). On error, a prefix of the transfer may have happened, as on hardware.
 */
int dma_read(const struct dma_as *as, const struct dma_req *req, uint64_t iova, void *buf,
	     size_t len);
int dma_write(const struct dma_as *as, const struct dma_req *req, uint64_t iova, const void *buf,
	      size_t len);

#endif
