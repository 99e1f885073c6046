/* SPDX-License-Identifier: MIT */
/*
 * The VT-d translation engine: table formats, bounded walks and translation caches.
 *
 * Callers: only devices/viommu/ (the unit model in viommu.c / qi.c / regs.c and the unit tests).
 * It knows nothing of registers: the unit hands it the capability set fixed at start, the
 * latched root-table register, and invalidation requests; it hands back translations or a
 * fault description that the unit records (fault.c). Thread-safe: translate may run on any
 * vCPU thread while another vCPU invalidates.
 */
#ifndef NESTVM_VTD_XLATE_H
#define NESTVM_VTD_XLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/core/dma.h"

struct gmem;

/* Capabilities the guest sees (derived once from CAP/ECAP; see viommu config). */
struct vtd_caps {
	bool scalable;        /* ECAP.SMTS: RTADDR.TTM=01 allowed */
	unsigned int mgaw;    /* max guest address width (CAP.MGAW + 1): 39, 48 or 57 */
	unsigned int haw;     /* host address width: output addresses must be below 2^haw */
	uint8_t sagaw;        /* CAP.SAGAW: bit1 3-level, bit2 4-level, bit3 5-level */
	bool sslps_2m, sslps_1g; /* CAP.SSLPS */
	bool fs1gp, fs5lp;    /* CAP.FS1GP, CAP.FS5LP */
	bool flts, slts, nest, pt; /* ECAP.FLTS(FSTS), SLTS(SSTS), NEST, PT */
	bool dt, sc, srs, ers, eafs, pasid, prs;
	unsigned int pasid_bits; /* ECAP.PSS + 1 (PASIDs are below 2^pasid_bits) */
	bool cm;              /* CAP.CM: not-present entries may be cached */
};

/* Cache capacities (entries); 0 means the default. Eviction is least-recently-used. */
struct vtd_cache_sizes {
	unsigned int context, pasid, iotlb, pwc;
};

/* A translation fault, to be recorded by the unit (unless fpd is set). */
struct vtd_fault {
	uint8_t reason;       /* VTD_FR_* = the spec's fault reason value */
	uint16_t sid;
	bool pasid_valid;
	uint32_t pasid;
	uint64_t addr;        /* faulting input address (page-aligned as the spec records it) */
	bool write, exec, priv;
	bool fpd;             /* fault processing disabled by the context/PASID entry */
};

enum vtd_inv_gran {
	VTD_INV_GLOBAL,
	VTD_INV_DOMAIN,       /* by DID */
	VTD_INV_DEVICE,       /* context cache: by DID + SID + FM */
	VTD_INV_PAGE,         /* IOTLB: by DID + address + AM */
	VTD_INV_PASID,        /* PASID cache / PASID-IOTLB: by DID + PASID (all addresses) */
	VTD_INV_PASID_PAGE,   /* PASID-IOTLB: by DID + PASID + address + AM */
};

struct vtd_xlate_stats {
	uint64_t iotlb_hits, iotlb_misses, walks, faults, evictions;
};

struct vtd_xlate;

struct vtd_xlate *vtd_xlate_create(const struct gmem *gm, const struct vtd_caps *caps,
				   const struct vtd_cache_sizes *sizes);
void vtd_xlate_destroy(struct vtd_xlate *x);

/* Latches a root-table register value (address 63:12 and TTM 11:10) as GCMD.SRTP does. */
void vtd_xlate_set_root(struct vtd_xlate *x, uint64_t rtaddr);
/* Drops every cached entry of every kind (used on SRTP / TE changes as the unit decides). */
void vtd_xlate_flush_all(struct vtd_xlate *x);

/*
 * Translates one request with DMA remapping enabled. Returns 0 and *ret (gpa and how many
 * bytes from iova are contiguous, at most to the end of the page), or -EACCES with *ret_fault.
 */
int vtd_xlate_translate(struct vtd_xlate *x, const struct dma_req *req, uint64_t iova,
			struct dma_xlate *ret, struct vtd_fault *ret_fault);

/*
 * Requester-level permissions from sid's context entry (through the context cache), for
 * the requests that are not translations: ATS translation requests (device-TLB allowed)
 * and PRI page requests. sm: the root is scalable-mode (TTM=01); dte: SM DTE, legacy
 * TT=01; pre: SM PRE (legacy: false); fpd: the context's FPD. Returns 0, or -EACCES with
 * *ret_fault (root / context faults, as translate reports them) when there is no usable
 * context entry.
 */
struct vtd_ctx_flags {
	bool sm, dte, pre, fpd;
};
int vtd_xlate_context_flags(struct vtd_xlate *x, uint16_t sid, struct vtd_ctx_flags *ret,
			    struct vtd_fault *ret_fault);

/*
 * The calling thread keeps the engine's lock from vtd_xlate_hold to vtd_xlate_release, so a
 * run of invalidations (a queue drain) locks once, not once per descriptor; its own engine
 * calls meanwhile do not lock again. Other threads' translations wait (IOTLB hits do not:
 * they never lock). Hold one engine at a time, and release before calling out of the unit.
 */
void vtd_xlate_hold(struct vtd_xlate *x);
void vtd_xlate_release(struct vtd_xlate *x);

/* Cache invalidation, as register-based and queued invalidation request it. */
void vtd_xlate_inv_context(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did, uint16_t sid,
			   uint8_t fm);
void vtd_xlate_inv_iotlb(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
			 unsigned int am, bool ih);
void vtd_xlate_inv_pasid_cache(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did,
			       uint32_t pasid);
void vtd_xlate_inv_piotlb(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did, uint32_t pasid,
			  uint64_t addr, unsigned int am, bool ih);

void vtd_xlate_get_stats(struct vtd_xlate *x, struct vtd_xlate_stats *ret);

#endif
