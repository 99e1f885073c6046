/* SPDX-License-Identifier: MIT */
/*
 * The host_iommu interface: the narrow table of operations the vIOMMU calls to make the host
 * IOMMU mirror what the guest programs (stage-2 parent, stage-1 binds, invalidations, faults).
 *
 * Callers: devices/viommu/host.c (forwarding) and the board builder (which creates a backend
 * from devices/vfio/vfio.h and hands the table to the vIOMMU). Implemented by the iommufd
 * backend (real ioctls) and by hostsim (a simulator for CI). There are no iommufd types here:
 * devices are backend handles, stage-1s are backend handles, and every field is plain C.
 * All operations return 0 or -errno; none of them logs above debug.
 */
#ifndef NESTVM_HOST_IOMMU_H
#define NESTVM_HOST_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A "PASID" value that means: the request without PASID (the device's RID). */
#define HOST_PASID_NONE UINT32_MAX

/* Everything in one invalidation: addr 0 with this many pages (facts §12.4 step 7). */
#define HOST_INV_ALL_PAGES UINT64_MAX

/* What the host can back, mirrored from IOMMU_GET_HW_INFO and the kernel's feature set. */
struct host_iommu_caps {
	bool vtd;               /* host IOMMU is VT-d: vtd_cap/vtd_ecap are valid */
	uint64_t vtd_cap;       /* raw host CAP register */
	uint64_t vtd_ecap;      /* raw host ECAP register */
	bool nesting;           /* stage-1 HWPTs over a nest parent (kernel 6.8+, ECAP.NEST) */
	bool fault_queue;       /* recoverable faults / page requests delivered (6.11+) */
	bool pasid_attach;      /* attach a stage-1 to a non-RID PASID (6.15+) */
	unsigned int max_pasid_log2; /* device PASID width, 0 if the device has no PASID */
	bool ro_parent_refused; /* read-only maps on the stage-2 parent fail (errata flag) */
};

/* A guest first-stage configuration, as a PASID entry describes it (facts §4). */
struct host_s1_config {
	uint64_t pgtbl_gpa;      /* FLPTPTR: guest-physical root of the first-stage table */
	unsigned int addr_width; /* 48 (4-level) or 57 (5-level) */
	bool sre, wpe, eafe;     /* supervisor requests, write protect, extended accessed */
	bool pri;                /* guest allows page requests (context PRE=1): backend may ask for IOPF */
};

/* One invalidation range of a stage-1: npages 4 KiB pages at addr (4 KiB aligned). */
struct host_inv_range {
	uint64_t addr;
	uint64_t npages; /* HOST_INV_ALL_PAGES with addr 0: the whole stage-1 */
	bool leaf;       /* only leaf entries changed (IH=1) */
};

/* Permission bits of a host fault (mirror the iommufd pgfault perm values). */
#define HOST_PERM_READ 0x1u
#define HOST_PERM_WRITE 0x2u
#define HOST_PERM_EXEC 0x4u
#define HOST_PERM_PRIV 0x8u

/* A fault the host IOMMU reports for a device the guest owns. */
struct host_fault {
	uint32_t dev;           /* backend device handle */
	bool pasid_valid;
	uint32_t pasid;
	uint64_t addr;          /* faulting input address (page aligned) */
	uint32_t perm;          /* HOST_PERM_* */
	bool recoverable;       /* a page request (answer with page_response) */
	uint32_t grpid;         /* page request group index (recoverable) */
	bool last;              /* last request of its group (recoverable) */
	uint32_t cookie;        /* backend cookie to answer the group with */
	uint8_t reason;         /* unrecoverable: a VT-d fault reason (VTD_FR_* value) */
};

#define HOST_RESP_SUCCESS 0
#define HOST_RESP_INVALID 1

typedef void (*host_fault_fn)(void *opaque, const struct host_fault *f);

struct host_iommu_ops {
	int (*get_caps)(void *be, uint32_t dev, struct host_iommu_caps *ret);
	/* Maps guest RAM [gpa, gpa+len) backed by hva as the stage-2 parent (identity GPA). */
	int (*map_ram)(void *be, uint64_t gpa, uint64_t len, void *hva, bool writable);
	int (*unmap_ram)(void *be, uint64_t gpa, uint64_t len);
	/*
	 * Binds cfg as the stage-1 of (dev, pasid), replacing any current one atomically (the old
	 * stage-1 is destroyed). *ret_s1 is the new stage-1's handle for invalidate().
	 */
	int (*attach_s1)(void *be, uint32_t dev, uint32_t pasid, const struct host_s1_config *cfg,
			 uint32_t *ret_s1);
	/*
	 * Detaches (dev, pasid): whatever it was attached to (a stage-1, or the stage-2 parent),
	 * its DMA is blocked afterwards and its stage-1 is destroyed. -ENOENT: nothing was
	 * attached (it was blocked already).
	 */
	int (*detach)(void *be, uint32_t dev, uint32_t pasid);
	/*
	 * Attaches (dev, pasid) to the stage-2 parent itself, replacing any stage-1: its DMA
	 * addresses are guest-physical (identity), what a guest with translation off or a
	 * pass-through PASID entry expects. A device starts with its RID attached this way.
	 */
	int (*attach_parent)(void *be, uint32_t dev, uint32_t pasid);
	/*
	 * Invalidates n ranges of one stage-1 in one host call. *ret_done is how many ranges the
	 * host handled (all on success; a prefix on error).
	 */
	int (*invalidate)(void *be, uint32_t s1, const struct host_inv_range *r, unsigned int n,
			  unsigned int *ret_done);
	/* Registers the fault sink; faults arrive from process_faults() or the DMA path. */
	void (*set_fault_handler)(void *be, host_fault_fn fn, void *opaque);
	/* Delivers pending host faults to the sink without blocking; returns how many or -errno. */
	int (*process_faults)(void *be);
	/* Answers a page request group (cookie of its last request). */
	int (*page_response)(void *be, uint32_t dev, uint32_t cookie, int code);
	/*
	 * Shadow mode (hosts without nesting; NULL when the backend cannot do it): the device's
	 * I/O address space itself, iova -> hva, filled from the guest's second-stage tables.
	 * unmap_iova removes every mapping inside [iova, iova+len) (never splits one).
	 */
	int (*map_iova)(void *be, uint64_t iova, uint64_t len, void *hva, bool writable);
	int (*unmap_iova)(void *be, uint64_t iova, uint64_t len);
};

/* A backend instance: its ops and its state. */
struct host_iommu {
	const struct host_iommu_ops *ops;
	void *be;
	const char *name; /* "iommufd", "hostsim" */
};

#endif
