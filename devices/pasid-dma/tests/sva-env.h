/* SPDX-License-Identifier: MIT */
/*
 * Host-side SVA fixture shared by the end-to-end test and the benchmark: fake guest RAM, the
 * real VT-d unit (scalable mode, dt=on, prs=on) and a pasid-dma behind it, with the tables a
 * guest SVA driver would build (PASID 0 pass-through for the ring, first-stage tables per
 * PASID) and helpers that play the guest's part (QI descriptors, page request queue).
 */
#ifndef NESTVM_SVA_ENV_H
#define NESTVM_SVA_ENV_H

#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "devices/pasid-dma/pasid-dma.h"
#include "devices/viommu/viommu.h"
#include "vmm/core/bus.h"
#include "vmm/core/gmem.h"
#include "vmm/core/irq.h"

#define SVA_RAM (64 * MiB)
#define SVA_ECAM 0xb0000000ULL
#define SVA_MMIO 0xc0000000ULL
#define SVA_SLOT 3
#define SVA_SID (SVA_SLOT << 3)
#define SVA_ROOT 0x1000ULL
#define SVA_CTX 0x2000ULL
#define SVA_PDIR 0x3000ULL
#define SVA_PTBL 0x4000ULL
#define SVA_IQ 0x8000ULL
#define SVA_PQ 0xa000ULL
#define SVA_RING 0xc000ULL
#define SVA_RING_N 64u
#define SVA_ALLOC 0x100000ULL /* page-table pages from here */
#define SVA_DATA 0x1000000ULL /* data pages from here */

/* VT-d register offsets used here (facts §1). */
#define R_GCMD 0x018
#define R_GSTS 0x01c
#define R_RTADDR 0x020
#define R_IQT 0x088
#define R_IQA 0x090
#define R_PQH 0x0c0
#define R_PQT 0x0c8
#define R_PQA 0x0d0
#define R_PRS 0x0dc

struct sva_env {
	struct bus bus;
	struct gmem gm;
	uint8_t *ram;
	struct irq_chip irq;
	struct viommu *v;
	struct dma_as as;
	struct pci_host *host;
	struct pasid_dma *d;
	uint64_t next_page;
	uint64_t fs_root[4]; /* per PASID 1..3 */
	unsigned int qtail, n;
	uint32_t pq_head;
};

static void sva_level(void *ctx, unsigned int gsi, bool level) {}
static void sva_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid) {}
static const struct irq_chip_ops sva_irq_ops = { sva_level, sva_msi };

static inline uint64_t sva_get(struct sva_env *e, uint64_t gpa) { return le64_load(e->ram + gpa); }
static inline void sva_put(struct sva_env *e, uint64_t gpa, uint64_t v) { le64_store(e->ram + gpa, v); }
static inline void sva_w32(struct sva_env *e, unsigned int off, uint32_t v)
{
	bus_write(&e->bus, BUS_MMIO, VIOMMU_DEFAULT_BASE + off, v, 4);
}
static inline void sva_w64(struct sva_env *e, unsigned int off, uint64_t v)
{
	bus_write(&e->bus, BUS_MMIO, VIOMMU_DEFAULT_BASE + off, v, 8);
}
static inline uint64_t sva_r64(struct sva_env *e, unsigned int off)
{
	return bus_read(&e->bus, BUS_MMIO, VIOMMU_DEFAULT_BASE + off, 8);
}
static inline uint32_t sva_r32(struct sva_env *e, unsigned int off)
{
	return (uint32_t)bus_read(&e->bus, BUS_MMIO, VIOMMU_DEFAULT_BASE + off, 4);
}
static inline void sva_cfg16(struct sva_env *e, unsigned int off, uint16_t v)
{
	bus_write(&e->bus, BUS_MMIO, SVA_ECAM + (SVA_SLOT << 15) + off, v, 2);
}
static inline void sva_cfg32(struct sva_env *e, unsigned int off, uint32_t v)
{
	bus_write(&e->bus, BUS_MMIO, SVA_ECAM + (SVA_SLOT << 15) + off, v, 4);
}
static inline void sva_dev_w(struct sva_env *e, unsigned int reg, uint32_t v)
{
	bus_write(&e->bus, BUS_MMIO, SVA_MMIO + reg, v, 4);
}
static inline uint32_t sva_dev_r(struct sva_env *e, unsigned int reg)
{
	return (uint32_t)bus_read(&e->bus, BUS_MMIO, SVA_MMIO + reg, 4);
}

static inline uint64_t sva_page(struct sva_env *e)
{
	uint64_t p = e->next_page;

	e->next_page += 4096;
	memset(e->ram + p, 0, 4096);
	return p;
}

/* Maps va -> gpa in PASID pasid's first-stage table (P, R/W, U/S); gpa 0 unmaps. */
static inline void sva_map(struct sva_env *e, uint32_t pasid, uint64_t va, uint64_t gpa)
{
	uint64_t t = e->fs_root[pasid];

	for (int lvl = 3; lvl > 0; lvl--) {
		uint64_t slot = t + 8 * ((va >> (12 + 9 * lvl)) & 511);

		if (!(sva_get(e, slot) & 1))
			sva_put(e, slot, sva_page(e) | 0x7);
		t = sva_get(e, slot) & GENMASK_ULL(51, 12);
	}
	sva_put(e, t + 8 * ((va >> 12) & 511), gpa ? gpa | 0x7 : 0);
}

static inline void sva_gcmd(struct sva_env *e, uint32_t bit)
{
	uint32_t keep = (uint32_t)bus_read(&e->bus, BUS_MMIO, VIOMMU_DEFAULT_BASE + R_GSTS, 4) &
			0x86800000u;

	sva_w32(e, R_GCMD, keep | bit);
}

/* One 256-bit QI descriptor, then IQT. */
static inline void sva_qi(struct sva_env *e, uint64_t q0, uint64_t q1)
{
	sva_put(e, SVA_IQ + e->qtail, q0);
	sva_put(e, SVA_IQ + e->qtail + 8, q1);
	sva_put(e, SVA_IQ + e->qtail + 16, 0);
	sva_put(e, SVA_IQ + e->qtail + 24, 0);
	e->qtail = (e->qtail + 32) % 4096;
	sva_w64(e, R_IQT, e->qtail);
}

/* Guest unmap sequence: PASID-based IOTLB (0x6, page) then PASID device-TLB (0x8). */
static inline void sva_inv_iotlb(struct sva_env *e, uint32_t pasid, uint64_t va)
{
	sva_qi(e, 0x6 | (3 << 4) | (1ULL << 16) | ((uint64_t)pasid << 32), va);
}

static inline void sva_inv_devtlb(struct sva_env *e, uint32_t pasid, uint64_t va)
{
	sva_qi(e, 0x8 | ((uint64_t)SVA_SID << 16) | ((uint64_t)pasid << 32), va);
}

static inline void sva_respond(struct sva_env *e, uint32_t pasid, uint16_t grp, unsigned int code)
{
	sva_qi(e, 0x9 | (1 << 4) | ((uint64_t)code << 12) | ((uint64_t)SVA_SID << 16) |
			  ((uint64_t)pasid << 32),
	       (uint64_t)grp << 3);
}

/* Next page request record (0 if none): returns QW1 and consumes it (PQH). */
static inline uint64_t sva_prq_pop(struct sva_env *e, uint64_t *ret_q0)
{
	uint64_t q1;

	if ((sva_r64(e, R_PQT) & 0x7ffe0) == e->pq_head)
		return 0;
	*ret_q0 = sva_get(e, SVA_PQ + e->pq_head);
	q1 = sva_get(e, SVA_PQ + e->pq_head + 8);
	e->pq_head = (e->pq_head + 32) % 4096;
	sva_w64(e, R_PQH, e->pq_head);
	return q1;
}

/* Submits one descriptor; its completion record is at cr (a VA of pasid when pasid != 0). */
static inline void sva_submit(struct sva_env *e, uint64_t q0, uint64_t src, uint64_t dst,
			      uint64_t len, uint64_t pat, uint64_t cr)
{
	uint64_t q[8] = { q0, src, dst, len, pat, cr, 0, 0 };

	for (unsigned int k = 0; k < 8; k++)
		sva_put(e, SVA_RING + 64 * e->n + 8 * k, q[k]);
	e->n = (e->n + 1) % SVA_RING_N;
	sva_dev_w(e, PDMA_REG_TAIL, e->n);
}

static inline struct sva_env *sva_new(const char *vtd_opts, bool ats, bool pri)
{
	struct sva_env *e = calloc(1, sizeof(*e));
	struct viommu_config vc;
	struct pasid_dma_config pc = { .pasid_bits = 20, .exec = true, .priv = true, .ats = true,
				       .pri = true };
	char err[128];

	if (!e || viommu_parse_options(vtd_opts, &vc, err, sizeof(err)))
		abort();
	bus_init(&e->bus);
	gmem_init_empty(&e->gm);
	e->ram = calloc(1, SVA_RAM);
	if (!e->ram || gmem_add_region(&e->gm, 0, SVA_RAM, e->ram))
		abort();
	e->irq = (struct irq_chip){ &sva_irq_ops, e };
	e->v = viommu_create(&vc, &e->bus, VIOMMU_DEFAULT_BASE, &e->gm, &e->irq);
	viommu_dma_as(e->v, &e->as);
	e->host = pci_host_create(&e->bus, &e->irq, NULL, SVA_ECAM, 256 * MiB, SVA_MMIO, 0x3ec00000,
				  0xc000, 0x4000);
	e->d = e->host ? pasid_dma_create(e->host, SVA_SLOT, &e->as, &pc) : NULL;
	if (!e->v || !e->d)
		abort();
	e->next_page = SVA_ALLOC;
	/* Tables: root -> SM context (DTE, PASIDE, PRE) -> PASID dir -> PASID table. */
	sva_put(e, SVA_ROOT, SVA_CTX | 1);
	sva_put(e, SVA_CTX + 32 * SVA_SID, SVA_PDIR | (1 << 4) | (1 << 3) | (1 << 2) | 1);
	sva_put(e, SVA_PDIR, SVA_PTBL | 1);
	/* PASID 0 (RID_PASID, the ring): pass-through. */
	sva_put(e, SVA_PTBL, 1 | (4 << 6));
	sva_put(e, SVA_PTBL + 8, 2);
	for (uint32_t p = 1; p <= 3; p++) {
		e->fs_root[p] = sva_page(e);
		sva_put(e, SVA_PTBL + 64 * p, 1 | (1 << 6));        /* P, PGTT=first-stage */
		sva_put(e, SVA_PTBL + 64 * p + 8, 1);               /* DID 1 */
		sva_put(e, SVA_PTBL + 64 * p + 16, e->fs_root[p]);  /* FLPTPTR, 4-level */
	}
	sva_w64(e, R_RTADDR, SVA_ROOT | (1 << 10));
	sva_gcmd(e, 1u << 30);
	sva_w64(e, R_IQT, 0);
	sva_w64(e, R_IQA, SVA_IQ | (1 << 11));
	sva_gcmd(e, 1u << 26);
	sva_w64(e, R_PQH, 0);
	sva_w64(e, R_PQT, 0);
	sva_w64(e, R_PQA, SVA_PQ);
	sva_gcmd(e, 1u << 31);
	/* Device: memory + bus master, PASID, ATS, PRI; the ring. */
	sva_cfg16(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	{
		struct pci_dev *pd = pasid_dma_pci_dev(e->d);
		unsigned int pasid = pci_find_ext_cap(pd, PCI_EXT_CAP_ID_PASID);
		unsigned int atsc = pci_find_ext_cap(pd, PCI_EXT_CAP_ID_ATS);
		unsigned int pric = pci_find_ext_cap(pd, PCI_EXT_CAP_ID_PRI);

		sva_cfg16(e, pasid + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
		if (ats)
			sva_cfg16(e, atsc + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE);
		if (pri) {
			sva_cfg32(e, pric + PCI_PRI_ALLOC_REQ, 64);
			sva_cfg16(e, pric + PCI_PRI_CTRL, PCI_PRI_CTRL_ENABLE);
		}
	}
	sva_dev_w(e, PDMA_REG_RING_LO, (uint32_t)SVA_RING);
	sva_dev_w(e, PDMA_REG_RING_SIZE, SVA_RING_N);
	sva_dev_w(e, PDMA_REG_CTRL, PDMA_CTRL_ENABLE);
	return e;
}

static inline void sva_free(struct sva_env *e)
{
	pasid_dma_destroy(e->d);
	pci_host_destroy(e->host);
	viommu_destroy(e->v);
	free(e->ram);
	free(e);
}

#endif
