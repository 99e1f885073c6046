/* SPDX-License-Identifier: MIT */
/*
 * The VT-d unit under fuzz: a configuration chosen by the input, the unit on a fresh bus over the
 * fake RAM, and the guest's register idioms. Shared by fuzz-vtd-regs.c and fuzz-vtd-qi.c.
 */
#ifndef NESTVM_FUZZ_VTD_H
#define NESTVM_FUZZ_VTD_H

#include <errno.h>
#include <stdio.h>

#include "devices/viommu/viommu-internal.h"
#include "fuzz-util.h"
#include "vmm/core/bus.h"
#include "vmm/core/dma.h"

#define FZ_VTD_BASE VIOMMU_DEFAULT_BASE

struct fz_vtd {
	struct bus bus;
	struct fz_irq irq;
	struct viommu *v;
};

/*
 * One configuration byte picks the options through the real option parser (so only option sets
 * a user can give reach the unit): bit 0 mode, bits 1-2 aw, bits 3-7 flts/slts/nest/pt/cm; a
 * second byte gives pasid-bits and dt.
 */
static inline void fz_vtd_config(struct fz *f, struct viommu_config *ret)
{
	static const unsigned int aws[] = { 39, 48, 57, 48 };
	uint8_t a = fz_u8(f), b = fz_u8(f);
	char opts[200];

	if (a & 1)
		snprintf(opts, sizeof(opts), "mode=scalable,aw=%u,pasid-bits=%u,flts=%s,slts=%s,"
			 "nest=%s,pt=%s,cm=%s,dt=%s", aws[(a >> 1) & 3], 1 + (b & 0x1f) % 20,
			 (a & 0x08) ? "on" : "off", (a & 0x10) ? "off" : "on",
			 (a & 0x20) ? "on" : "off", (a & 0x40) ? "off" : "on",
			 (a & 0x80) ? "on" : "off", (b & 0x80) ? "on" : "off");
	else
		snprintf(opts, sizeof(opts), "mode=legacy,aw=%u,pt=%s,cm=%s,dt=%s", aws[(a >> 1) & 3],
			 (a & 0x40) ? "off" : "on", (a & 0x80) ? "on" : "off",
			 (b & 0x80) ? "on" : "off");
	/* Invalid sets (e.g. nest without both stages) fall back to the defaults. */
	if (viommu_parse_options(opts, ret, NULL, 0))
		FZ_CHECK(viommu_parse_options("", ret, NULL, 0) == 0);
}

static inline void fz_vtd_create(struct fz_vtd *t, const struct viommu_config *cfg,
				 const struct gmem *gm)
{
	bus_init(&t->bus);
	fz_irq_init(&t->irq);
	t->v = viommu_create(cfg, &t->bus, FZ_VTD_BASE, gm, &t->irq.chip);
	FZ_CHECK(t->v != NULL);
}

/*
 * The vtd-* targets link with -Wl,--wrap=vtd_xlate_create (fuzz/meson.build): the engine
 * viommu_create builds gets small caches instead of the default ones. Creating the default
 * caches and clearing them on every SRTP and global flush took over half of the run time.
 * The engine is the same; eviction just runs more often.
 */
struct vtd_xlate *__real_vtd_xlate_create(const struct gmem *gm, const struct vtd_caps *caps,
					  const struct vtd_cache_sizes *sizes);
struct vtd_xlate *__wrap_vtd_xlate_create(const struct gmem *gm, const struct vtd_caps *caps,
					  const struct vtd_cache_sizes *sizes);
struct vtd_xlate *__wrap_vtd_xlate_create(const struct gmem *gm, const struct vtd_caps *caps,
					  const struct vtd_cache_sizes *sizes)
{
	static const struct vtd_cache_sizes small = { 8, 8, 32, 16 };

	return __real_vtd_xlate_create(gm, caps, sizes ? sizes : &small);
}

static inline uint64_t fz_vtd_read(struct fz_vtd *t, uint64_t off, unsigned int size)
{
	return bus_read(&t->bus, BUS_MMIO, FZ_VTD_BASE + off, size);
}

static inline void fz_vtd_write(struct fz_vtd *t, uint64_t off, uint64_t val, unsigned int size)
{
	bus_write(&t->bus, BUS_MMIO, FZ_VTD_BASE + off, val, size);
}

/* GCMD the way drivers do it: the current GSTS level bits plus or minus one command bit. */
static inline void fz_vtd_gcmd(struct fz_vtd *t, uint32_t bit, bool on)
{
	uint32_t keep = (uint32_t)fz_vtd_read(t, VTD_GSTS_REG, 4) &
			(uint32_t)(VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_CFI | VTD_GCMD_IRE);

	fz_vtd_write(t, VTD_GCMD_REG, on ? (keep | bit) : (keep & ~bit), 4);
}

/* One DMA through the unit's address space; the result only has to be one of the three. */
static inline void fz_vtd_dma(struct fz_vtd *t, struct fz *f)
{
	static uint8_t buf[8192];
	struct dma_as as;
	struct dma_req req;
	uint64_t iova;
	size_t len;
	int r;

	req.sid = fz_u16(f);
	req.pasid = fz_u32(f) & 0xfffff;
	req.access = fz_u8(f) & 0xf;
	req.has_pasid = req.access & 0x8; /* reuse the PRIV bit as "with PASID" too */
	iova = fz_u64(f);
	len = 1 + fz_u16(f) % sizeof(buf);
	viommu_dma_as(t->v, &as);
	if (req.access & DMA_ACC_WRITE)
		r = dma_write(&as, &req, iova, buf, len);
	else
		r = dma_read(&as, &req, iova, buf, len);
	FZ_CHECK(r == 0 || r == -EACCES || r == -EFAULT);
}

/*
 * The invalidation queue the way a driver runs it (vtd-ir, vtd-prq, vtd-host, vtd-shadow): one
 * queue at base in the fake RAM, descriptors appended at the software tail, IQT written to
 * run them. The head may stop early (IQE); fz_q_recover clears it like Linux does.
 */
struct fz_q {
	uint8_t *ram;
	uint64_t base, qbytes, tail;
	unsigned int dsz;
};

static inline void fz_q_enable(struct fz_vtd *t, struct fz_q *q, uint8_t *ram, uint64_t base,
			       bool wide)
{
	*q = (struct fz_q){ .ram = ram, .base = base, .qbytes = 4096, .dsz = wide ? 32 : 16 };
	fz_vtd_write(t, VTD_IQT_REG, 0, 8);
	fz_vtd_write(t, VTD_IQA_REG, base | (wide ? VTD_IQA_DW : 0), 8);
	fz_vtd_gcmd(t, (uint32_t)VTD_GCMD_QIE, true);
}

/* Appends one descriptor (qwords 2 and 3 are written only with 256-bit descriptors). */
static inline void fz_q_put(struct fz_q *q, uint64_t d0, uint64_t d1)
{
	uint8_t *p = q->ram + q->base + q->tail;

	memset(p, 0, q->dsz);
	le64_store(p, d0);
	le64_store(p + 8, d1);
	q->tail = (q->tail + q->dsz) % q->qbytes;
}

/*
 * Rings the doorbell; an IQE is cleared and the software tail reset to the hardware head.
 * Returns how many of the descriptors appended since the last run the unit processed.
 */
static inline unsigned int fz_q_run(struct fz_vtd *t, struct fz_q *q)
{
	uint64_t head = fz_vtd_read(t, VTD_IQH_REG, 8) & VTD_IQ_OFF;

	fz_vtd_write(t, VTD_IQT_REG, q->tail, 8);
	if (fz_vtd_read(t, VTD_FSTS_REG, 4) & VTD_FSTS_IQE) {
		fz_vtd_write(t, VTD_FSTS_REG, VTD_FSTS_IQE, 4);
		q->tail = fz_vtd_read(t, VTD_IQH_REG, 8) & VTD_IQ_OFF;
		fz_vtd_write(t, VTD_IQT_REG, q->tail, 8);
	}
	return (unsigned int)(((q->tail + q->qbytes - head) % q->qbytes) / q->dsz);
}

#endif
