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

/*
 * ATS and PRI (PCIe address translation services and page request interface).
 *
 * A translation completion: iova's page translates to gpa (page base) for size bytes
 * (a power of two >= 4096) with the granted DMA_ACC_* bits in perm. perm == 0 is the
 * "no translation" answer (R = W = 0) a device may follow with a page request.
 */
struct dma_ats_xlate {
	uint64_t gpa;
	uint64_t size;
	unsigned int perm;
};

/* One PRI page request (page-aligned addr; access = DMA_ACC_* requested). */
struct dma_page_req {
	uint16_t sid;
	bool has_pasid;
	uint32_t pasid;
	uint64_t addr;
	unsigned int access;
	bool last;        /* last page in the group: the group is answered once */
	uint16_t grpid;   /* page request group index, 9 bits */
};

/* Page group response codes (PCIe PRG response). */
#define DMA_PRG_SUCCESS 0x0u
#define DMA_PRG_INVALID 0x1u
#define DMA_PRG_FAILURE 0xfu

/*
 * Callbacks of an ATS-capable device, registered per requester id.
 * devtlb_invalidate runs with the IOMMU's lock held (the invalidation must be complete
 * before a later wait descriptor completes): it may only take the device's innermost lock
 * and must not call back into the IOMMU. size is a power of two >= 4096 (addr aligned);
 * all_pasids drops every PASID's entries in the range. page_response runs with no IOMMU
 * lock held and may issue DMA, translation and page requests.
 */
struct dma_ats_client {
	void (*devtlb_invalidate)(void *opaque, bool has_pasid, uint32_t pasid, bool all_pasids,
				  uint64_t addr, uint64_t size);
	void (*page_response)(void *opaque, bool has_pasid, uint32_t pasid, uint16_t grpid,
			      unsigned int code);
};

struct dma_iommu_ops {
	/*
	 * Translates iova for req. Returns 0 and fills *ret, or a negative errno when the
	 * request is blocked (-EACCES: the IOMMU has recorded a fault as the spec says).
	 */
	int (*translate)(void *iommu, const struct dma_req *req, uint64_t iova,
			 struct dma_xlate *ret);
	/*
	 * Optional (NULL when the IOMMU has no ATS/PRI support): see "ATS and PRI" above.
	 * ats_translate answers a PCIe ATS translation request without touching the target
	 * memory; page_request queues a PRI page request; ats_register attaches a device's
	 * device-TLB / page-response callbacks to its requester id (client NULL detaches).
	 * ats_translate: 0 (perm may be 0), -EACCES (blocked; fault recorded as the spec
	 * says). page_request: 0 (queued; the answer comes through page_response), -ENOSPC
	 * (queue overflow: for a last-in-group request this stands for an immediate Success
	 * answer, so the device retries), -EACCES (page requests blocked for the requester).
	 * ats_register: 0, -ENOSPC (table full) or -EINVAL.
	 */
	int (*ats_translate)(void *iommu, const struct dma_req *req, uint64_t iova,
			     struct dma_ats_xlate *ret);
	int (*page_request)(void *iommu, const struct dma_page_req *pr);
	int (*ats_register)(void *iommu, uint16_t sid, const struct dma_ats_client *client,
			    void *opaque);
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

/*
 * Zero-copy view of [iova, iova + len) for a device that does its own I/O into guest memory
 * (readv/writev): translated like dma_read / dma_write (write: the device writes guest
 * memory), as host pointers into guest RAM, in order, contiguous pieces merged, at most max.
 * Returns the number of pieces, -EACCES (a translation fault, recorded by the IOMMU as the
 * copy would have: do not retry), -EFAULT (some target is not one RAM region) or -E2BIG (more
 * than max pieces). On -EFAULT and -E2BIG nothing was recorded: the caller may copy instead
 * (dma_read / dma_write), which reports what that access meets. The pointers stay valid as
 * long as guest RAM does; like a device's DMA, the guest may change the translation or the
 * memory meanwhile. A device that wrote through the pointers (write) calls dma_written with
 * them once its bytes are in, before it tells the guest the request is done (gmem-watch.h).
 */
struct iovec;
int dma_map(const struct dma_as *as, const struct dma_req *req, uint64_t iova, size_t len,
	    bool write, struct iovec *iov, unsigned int max);
void dma_written(const struct dma_as *as, const struct iovec *iov, unsigned int n);

#endif
