/* SPDX-License-Identifier: MIT */
/*
 * hostsim's state, shared by its two halves: hostsim.c (what the host_iommu interface forwards:
 * stage-2 ranges, stage-1 binds, invalidations, page responses, life cycle) and hostsim-dma.c
 * (the simulated hardware: translating a device's DMA). Only those two include this.
 */
#ifndef NESTVM_HOSTSIM_INTERNAL_H
#define NESTVM_HOSTSIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/vfio/vfio.h"

#define HS_MAX_DEVS 8
#define HS_MAX_S2 16        /* stage-2 ranges */
#define HS_IOTLB 64         /* IOTLB entries */
#define HS_MAX_PENDING 32   /* outstanding page request groups */

struct hs_s2 {
	uint64_t gpa, len;
	bool writable;
};

struct hs_s1 {
	bool used;
	struct host_s1_config cfg;
};

/* An attached (dev, pasid); not in the list: blocked (DMA faults). */
struct hs_bind {
	uint32_t pasid; /* HOST_PASID_NONE: the RID */
	uint32_t s1;    /* index into s1[] + 1; 0: the stage-2 parent (identity) */
};

struct hs_dev {
	struct hostsim *hs;
	bool used, pri;
	uint32_t id;
	struct hs_bind *binds; /* sorted by pasid: lookups are a binary search */
	unsigned int nr_binds, cap_binds;
};

struct hs_tlb {
	bool valid;
	uint32_t s1;
	uint64_t iova, gpa, size; /* leaf page: iova and gpa aligned to size */
	bool rw, us;
};

struct hostsim {
	const struct gmem *gm;
	struct host_iommu_caps caps;
	pthread_mutex_t lock;
	struct hs_s2 s2[HS_MAX_S2];
	struct hs_s1 *s1;          /* grows with the stage-1s alive */
	unsigned int nr_s1, s1_hint;
	struct hs_dev devs[HS_MAX_DEVS];
	unsigned int fail_mask, fail_count; /* hostsim_fail() */
	int fail_err;
	struct hs_tlb tlb[HS_IOTLB];
	unsigned int tlb_next;
	uint32_t pending[HS_MAX_PENDING]; /* cookies of unanswered page request groups */
	uint32_t next_cookie, next_grpid;
	host_fault_fn fault_fn;
	void *fault_opaque;
	struct hostsim_stats st;
};

/* Does the stage-2 map cover [gpa, gpa + len) (writable, when write)? Lock held. */
bool hs_s2_allows(const struct hostsim *hs, uint64_t gpa, uint64_t len, bool write);
/* The attachment of (d, pasid), or NULL: blocked. Lock held. */
struct hs_bind *hs_find_bind(struct hs_dev *d, uint32_t pasid);
/* What a device's DMA address space translates through (hostsim_dma_as). */
extern const struct dma_iommu_ops hs_dma_ops;

#endif
