/* SPDX-License-Identifier: MIT */
/* Internals of pasid-dma shared by its .c files and unit tests: device state and the engine. */
#ifndef NESTVM_PASID_DMA_INTERNAL_H
#define NESTVM_PASID_DMA_INTERNAL_H

#include <pthread.h>

#include "devices/pasid-dma/pasid-dma.h"

#define PDMA_DTLB_SETS 64     /* device-TLB: 64 sets x 4 ways of 4 KiB entries */
#define PDMA_DTLB_WAYS 4
#define PDMA_DTLB_ENTRIES (PDMA_DTLB_SETS * PDMA_DTLB_WAYS)
#define PDMA_MAX_RETRIES 4    /* page request rounds per descriptor */
/* Pages one descriptor can touch: src + dst ranges (257 pages each) + completion record. */
#define PDMA_MAX_MISSING 520

struct pdma_tlb_entry {
	bool valid, pp;
	uint32_t pasid;
	uint64_t vpn, gpn;
	unsigned int perm; /* DMA_ACC_* granted */
};

/* One decoded descriptor. */
struct pdma_desc {
	unsigned int op;
	bool pasid_en, priv, exec, irq;
	uint32_t pasid;
	uint64_t src, dst, len, pattern, cr;
	bool rsvd;
};

/* A missing page, to become a page request. */
struct pdma_missing {
	uint64_t addr;
	unsigned int access;
};

struct pasid_dma {
	struct pci_dev pci;
	struct pasid_dma_config cfg;
	const struct dma_as *as;
	unsigned int pasid_off, ats_off, pri_off; /* extended capability offsets (0: absent) */
	bool registered;                          /* ATS client registered with the IOMMU */
	pasid_dma_host_counters_fn host_fn;       /* HOST_* test registers (NULL: read 0) */
	void *host_opaque;

	pthread_mutex_t lock; /* everything below except the device-TLB */
	uint32_t ctrl, status, ring_size, head, tail, completed;
	uint64_t ring;
	bool waiting;        /* head descriptor waits for a page group response */
	uint16_t wait_grp;
	bool wait_pp;
	uint32_t wait_pasid;
	unsigned int retries; /* page request rounds of the head descriptor */
	uint16_t next_grp;
	struct pdma_missing missing[PDMA_MAX_MISSING];
	struct pdma_desc cur_desc; /* the waiting descriptor, as fetched */

	/* Innermost lock: the IOMMU invalidates under its own lock and takes only this one. */
	pthread_mutex_t tlb_lock;
	struct pdma_tlb_entry tlb[PDMA_DTLB_ENTRIES]; /* set s holds [s * WAYS, s * WAYS + WAYS) */
	uint8_t tlb_victim[PDMA_DTLB_SETS];           /* round-robin replacement per set */
	struct pasid_dma_stats stats; /* dtlb_* under tlb_lock, the rest under lock */
};

/* Result of running one descriptor. */
enum pdma_run { PDMA_RUN_DONE, PDMA_RUN_WAIT };

/* engine.c (lock held) */
void pdma_desc_decode(const uint8_t *raw, struct pdma_desc *ret);
enum pdma_run pdma_run_desc(struct pasid_dma *d, const struct pdma_desc *desc);
/* Completes desc with status (used when a page group response says Invalid/Failure). */
void pdma_complete(struct pasid_dma *d, const struct pdma_desc *desc, uint8_t status,
		   uint64_t result, uint64_t info, uint32_t done);
bool pdma_ats_on(struct pasid_dma *d);
bool pdma_pri_on(struct pasid_dma *d);
/* Device-TLB (takes tlb_lock). */
void pdma_tlb_flush(struct pasid_dma *d);
void pdma_tlb_invalidate(void *opaque, bool has_pasid, uint32_t pasid, bool all_pasids,
			 uint64_t addr, uint64_t size);
uint64_t pdma_fnv1a(uint64_t h, const uint8_t *p, size_t n);

#endif
