/* SPDX-License-Identifier: MIT */
/*
 * A small guest "SVA driver" for a simulated passthrough pasid-dma (backend=hostsim): the
 * scalable-mode tables, binds (PASID entry + PASID-cache invalidation), the descriptor ring,
 * invalidations, the page request queue, and the HOST_* test registers that report what
 * reached the host IOMMU (docs/pasid-dma.md). Shared by host-forward, host-prq and demo.
 *
 * The device's ring and its requests without PASID go through the RID's first stage (the
 * context's RID_PASID 0): a host-backed device has no pass-through, only forwarded tables.
 */
#ifndef HOST_PDMA_H
#define HOST_PDMA_H

#include "vtd.h"

#define PDMA_VENDOR 0x1234
#define PDMA_DEVICE 0x5a5d
#define PDMA_CTRL 0x08
#define PDMA_RING_LO 0x10
#define PDMA_RING_HI 0x14
#define PDMA_RING_SIZE 0x18
#define PDMA_TAIL 0x20
#define PDMA_COMPLETED 0x24
#define PDMA_HOST_BACKEND 0x40
#define PDMA_HOST_BINDS 0x44
#define PDMA_HOST_REPLACES 0x48
#define PDMA_HOST_DETACHES 0x4c
#define PDMA_HOST_INV_CALLS 0x50
#define PDMA_HOST_INV_RANGES 0x54
#define PDMA_HOST_FAULTS 0x58
#define PDMA_HOST_PAGE_REQS 0x5c
#define PDMA_HOST_PAGE_RESPS 0x60
#define PDMA_OP_COPY 1
#define PDMA_OP_FILL 2
#define PDMA_ST_OK 1
#define PDMA_ST_FAULT 0x10
#define PDMA_PASID_EN (1ULL << 8)
#define PDMA_RING_N 16
#define PDMA_DESC(op, p) ((uint64_t)(op) | PDMA_PASID_EN | ((uint64_t)(p) << 32))
#define PDMA_DESC_RID(op) ((uint64_t)(op))

#define VTD_PQH 0x0c0
#define VTD_PQT 0x0c8
#define VTD_PQA 0x0d0
#define VTD_PRS 0x0dc
#define VTD_ECAP_DT (1ULL << 2)
#define VTD_ECAP_PRS_BIT (1ULL << 29)

#define HP_DID_RID 2 /* domain of the RID's first stage; PASIDs use their own */

struct hp {
	struct vtd u;
	uint16_t bdf;
	uint64_t bar;
	uint64_t *ring;
	unsigned tail;
	uint64_t *prq;
	unsigned pq_head;
	struct vtd_pt rid; /* first stage of requests without PASID: identity maps */
};

static inline uint32_t hp_reg(const struct hp *h, unsigned off)
{
	return mmio_read32(h->bar + off);
}

static inline uint64_t hp_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* One descriptor (synchronous on nestvm: done when the doorbell write returns). */
static inline void hp_submit(struct hp *h, uint64_t q0, uint64_t src, uint64_t dst, uint64_t len,
			     uint64_t pat, uint64_t cr)
{
	uint64_t *d = &h->ring[8 * h->tail];

	d[0] = q0, d[1] = src, d[2] = dst, d[3] = len, d[4] = pat, d[5] = cr, d[6] = d[7] = 0;
	h->tail = (h->tail + 1) % PDMA_RING_N;
	mmio_write32(h->bar + PDMA_TAIL, h->tail);
}

/* Identity-maps one page for requests without PASID. */
static inline int hp_rid_map(struct hp *h, const void *page)
{
	return vtd_pt_map(&h->rid, (uintptr_t)page, (uintptr_t)page, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W);
}

/* PASID-cache invalidation of one PASID (granularity 1) + wait: the bind / unbind point. */
static inline int hp_pc_inv(struct hp *h, uint16_t did, uint32_t pasid)
{
	uint64_t d[1][4];

	vtd_desc_pc(d[0], 1, did, pasid);
	return vtd_qi_sync(&h->u, (const uint64_t (*)[4])d, 1);
}

/* Writes a first-stage-only PASID entry and invalidates its PASID-cache entry. */
static inline int hp_bind(struct hp *h, uint32_t pasid, uint16_t did, const struct vtd_pt *fs)
{
	int ret = vtd_pasid_set(&h->u, h->bdf, pasid, did, VTD_PGTT_FS, fs, NULL, false);

	return ret ? ret : hp_pc_inv(h, did, pasid);
}

/* Clears the PASID entry, invalidates its PASID-cache entry and its IOTLB entries. */
static inline int hp_unbind(struct hp *h, uint32_t pasid, uint16_t did)
{
	uint64_t d[2][4];

	vtd_pasid_clear(&h->u, h->bdf, pasid);
	vtd_desc_pc(d[0], 1, did, pasid);
	vtd_desc_piotlb(d[1], 2, did, pasid, 0, 0);
	return vtd_qi_sync(&h->u, (const uint64_t (*)[4])d, 2);
}

/* Page-selective PASID-based IOTLB invalidation of one page + wait. */
static inline int hp_flush_page(struct hp *h, uint16_t did, uint32_t pasid, uint64_t va)
{
	uint64_t d[1][4];

	vtd_desc_piotlb(d[0], 3, did, pasid, va, 0);
	return vtd_qi_sync(&h->u, (const uint64_t (*)[4])d, 1);
}

/* Pops one page request record into q0/q1: false if none arrived. */
static inline bool hp_prq_pop(struct hp *h, uint64_t *q0, uint64_t *q1)
{
	if ((vtd_read64(&h->u, VTD_PQT) & 0x7ffe0) == h->pq_head)
		return false;
	*q0 = h->prq[h->pq_head / 8];
	*q1 = h->prq[h->pq_head / 8 + 1];
	h->pq_head = (h->pq_head + 32) % 4096;
	vtd_write64(&h->u, VTD_PQH, h->pq_head);
	vtd_write32(&h->u, VTD_PRS, 1);
	return true;
}

/*
 * What a PRI driver does before it binds a PASID that may fault: enables ATS and PRI in the
 * device's capabilities (allocating its full outstanding request capacity). A device passed
 * through from a real host has them (the host then gives its stage-1s a fault queue); hostsim's
 * pasid-dma has neither (the host itself turns misses into page requests). Returns whether the
 * device has PRI.
 */
static inline bool hp_enable_pri(struct hp *h)
{
	uint16_t ats = pci_find_ext_cap(h->bdf, 0x0f), pri = pci_find_ext_cap(h->bdf, 0x13);

	if (!pri)
		return false;
	if (ats)
		pci_write16(h->bdf, ats + 6, 1u << 15);
	pci_write32(h->bdf, pri + 0xc, pci_read32(h->bdf, pri + 0x8));
	pci_write16(h->bdf, pri + 4, 1);
	return true;
}

/* Waits (bounded) for a page request record: a real host delivers them asynchronously. */
static inline bool hp_prq_wait(struct hp *h, uint64_t *q0, uint64_t *q1, uint32_t us)
{
	uint64_t t0 = time_us();

	while (!hp_prq_pop(h, q0, q1))
		if (time_us() - t0 > us)
			return false;
	return true;
}

/* Page group response (descriptor 0x9, with PASID) for the group of record q1. */
static inline int hp_respond(struct hp *h, uint32_t pasid, uint64_t q1, unsigned code)
{
	uint64_t d[1][4] = { { 0x9 | (1 << 4) | ((uint64_t)code << 12) | ((uint64_t)h->bdf << 16) |
				       ((uint64_t)pasid << 32),
			       q1 & (0x1ffULL << 3), 0, 0 } };

	return vtd_qi_sync(&h->u, (const uint64_t (*)[4])d, 1);
}

/*
 * Finds the device and the unit, builds the scalable-mode tables (context: PASIDE, and PRE
 * with prq), the RID's first stage mapping the ring, the queue (and the page request queue),
 * binds the RID (PASID 0 = RID_PASID) and enables translation, PASIDs and the ring.
 * 0 or -1.
 */
static inline int hp_open(struct hp *h, bool prq)
{
	int dev = pci_find_device(PDMA_VENDOR, PDMA_DEVICE);
	uint64_t *c;
	uint16_t off;

	if (dev < 0 || vtd_find(&h->u))
		return -1;
	h->bdf = (uint16_t)dev;
	h->bar = pci_bar_addr(h->bdf, 0);
	h->ring = alloc_pages(1);
	if (!h->ring || vtd_tables_init(&h->u, true) || vtd_pt_init(&h->rid, 4, true) ||
	    hp_rid_map(h, h->ring))
		return -1;
	vtd_smctx_set(&h->u, h->bdf, 0, false);
	c = (uint64_t *)(uintptr_t)(h->u.root[0] & ~0xfffULL) + 4 * (h->bdf & 0x7f);
	c[0] |= (1 << 3) | (prq ? 1 << 4 : 0); /* PASIDE, PRE */
	if (vtd_qi_init(&h->u, 0, true) || vtd_qi_flush_all(&h->u))
		return -1;
	if (prq) {
		h->prq = alloc_pages(1);
		if (!h->prq)
			return -1;
		vtd_write64(&h->u, VTD_PQH, 0);
		vtd_write64(&h->u, VTD_PQT, 0);
		vtd_write64(&h->u, VTD_PQA, (uintptr_t)h->prq);
	}
	if (hp_bind(h, 0, HP_DID_RID, &h->rid) || vtd_gcmd(&h->u, VTD_GCMD_TE, true))
		return -1;
	pci_write16(h->bdf, 0x04, 0x6); /* memory + bus master */
	off = pci_find_ext_cap(h->bdf, 0x1b);      /* PASID: enable */
	if (!off)
		return -1;
	pci_write16(h->bdf, off + 6, 1);
	mmio_write32(h->bar + PDMA_RING_LO, (uint32_t)(uintptr_t)h->ring);
	mmio_write32(h->bar + PDMA_RING_HI, (uint32_t)((uintptr_t)h->ring >> 32));
	mmio_write32(h->bar + PDMA_RING_SIZE, PDMA_RING_N);
	mmio_write32(h->bar + PDMA_CTRL, 1);
	return 0;
}

#endif
