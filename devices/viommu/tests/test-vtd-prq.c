/* SPDX-License-Identifier: MIT */
/*
 * Page request queue unit tests (fake xlate): registers, record layout, wrap, overflow (PRO),
 * page group response routing, unknown responses, events, device-TLB routing, ATS answers.
 */
#include <errno.h>

#include "devices/viommu/tests/fake-xlate.h"
#include "devices/viommu/tests/harness.h"
#include "devices/viommu/xlate/vtd-tables.h"

#define QBASE 0x10000ULL  /* invalidation queue */
#define PQBASE 0x40000ULL /* page request queue, one 4 KiB page = 128 records */

struct client {
	unsigned int resp, inv;
	bool pp, all;
	uint32_t pasid;
	uint16_t grp;
	unsigned int code;
	uint64_t addr, size;
};

static void c_inv(void *opaque, bool has_pasid, uint32_t pasid, bool all, uint64_t addr,
		  uint64_t size)
{
	struct client *c = opaque;

	c->inv++;
	c->pp = has_pasid;
	c->pasid = pasid;
	c->all = all;
	c->addr = addr;
	c->size = size;
}

static void c_resp(void *opaque, bool has_pasid, uint32_t pasid, uint16_t grp, unsigned int code)
{
	struct client *c = opaque;

	c->resp++;
	c->pp = has_pasid;
	c->pasid = pasid;
	c->grp = grp;
	c->code = code;
}

static const struct dma_ats_client c_ops = { c_inv, c_resp };

struct env {
	struct harness *h;
	struct dma_as as;
	struct client c;
	unsigned int qtail;
};

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));

	e->h = h_new("dt=on,prs=on");
	viommu_dma_as(e->h->v, &e->as);
	ck_assert_int_eq(e->as.ops->ats_register(e->as.iommu, 0x18, &c_ops, &e->c), 0);
	/* QI on with 256-bit descriptors; PRQ at PQBASE; TE on (root 0, scalable). */
	w64(e->h, VTD_IQT_REG, 0);
	w64(e->h, VTD_IQA_REG, QBASE | VTD_IQA_DW);
	h_gcmd(e->h, (uint32_t)VTD_GCMD_QIE, true);
	w64(e->h, VTD_PQH_REG, 0);
	w64(e->h, VTD_PQT_REG, 0);
	w64(e->h, VTD_PQA_REG, PQBASE);
	w64(e->h, VTD_RTADDR_REG, 0x400);
	h_gcmd(e->h, (uint32_t)VTD_GCMD_SRTP, true);
	h_gcmd(e->h, (uint32_t)VTD_GCMD_TE, true);
	return e;
}

static void env_free(struct env *e)
{
	h_free(e->h);
	free(e);
}

static void qi(struct env *e, uint64_t q0, uint64_t q1)
{
	h_put64(e->h, QBASE + e->qtail, q0);
	h_put64(e->h, QBASE + e->qtail + 8, q1);
	/* Private data: allowed in QW2 of a page group response only. */
	h_put64(e->h, QBASE + e->qtail + 16, (q0 & 0xf) == 0x9 ? 0x1234 : 0);
	h_put64(e->h, QBASE + e->qtail + 24, 0);
	e->qtail = (e->qtail + 32) % 4096;
	w64(e->h, VTD_IQT_REG, e->qtail);
}

static int req(struct env *e, uint64_t addr, bool pp, uint32_t pasid, uint16_t grp, bool last,
	       unsigned int acc)
{
	struct dma_page_req pr = { .sid = 0x18, .has_pasid = pp, .pasid = pasid, .addr = addr,
				   .access = acc, .last = last, .grpid = grp };

	return e->as.ops->page_request(e->as.iommu, &pr);
}

#define PGRP(rid, pp, pasid, code) \
	(0x9ULL | ((pp) ? 1ULL << 4 : 0) | ((uint64_t)(code) << 12) | ((uint64_t)(rid) << 16) | \
	 ((uint64_t)(pasid) << 32))

START_TEST(test_caps_and_regs)
{
	struct harness *h = h_new("dt=on,prs=on");
	struct viommu_config cfg;
	char err[128];

	ck_assert(r64(h, VTD_ECAP_REG) & VTD_ECAP_PRS);
	ck_assert(r64(h, VTD_ECAP_REG) & VTD_ECAP_PDS);
	ck_assert(r64(h, VTD_ECAP_REG) & VTD_ECAP_DT);
	ck_assert_uint_eq(r32(h, VTD_PECTL_REG), VTD_ECTL_IM);
	w64(h, VTD_PQA_REG, 0x12345ffffULL);
	ck_assert_uint_eq(r64(h, VTD_PQA_REG), 0x12345f007ULL);
	w64(h, VTD_PQH_REG, 0x1234567);
	ck_assert_uint_eq(r64(h, VTD_PQH_REG), 0x1234567 & 0x7ffe0);
	h_free(h);
	/* Without prs: no PRS/PDS, the registers read 0. */
	h = h_new("dt=on");
	ck_assert(!(r64(h, VTD_ECAP_REG) & (VTD_ECAP_PRS | VTD_ECAP_PDS)));
	w64(h, VTD_PQA_REG, 0x5000);
	ck_assert_uint_eq(r64(h, VTD_PQA_REG), 0);
	h_free(h);
	ck_assert_int_eq(viommu_parse_options("prs=on", &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(viommu_parse_options("mode=legacy,dt=on,prs=on", &cfg, err, sizeof(err)),
			 -EINVAL);
}
END_TEST

START_TEST(test_record_event_response)
{
	struct env *e = env_new();
	struct viommu_stats st;
	uint64_t q0, q1;

	w32(e->h, VTD_PEDATA_REG, 0x45);
	w32(e->h, VTD_PEADDR_REG, 0xfee00000);
	ck_assert_int_eq(req(e, 0x7ff123000ULL, true, 0x4321, 0x1a5, true,
			     DMA_ACC_WRITE | DMA_ACC_READ | DMA_ACC_PRIV | DMA_ACC_EXEC), 0);
	ck_assert_uint_eq(r64(e->h, VTD_PQT_REG), 32);
	q0 = h_ram64(e->h, PQBASE);
	q1 = h_ram64(e->h, PQBASE + 8);
	ck_assert_uint_eq(q0 & 0xff, 1);
	ck_assert(q0 & (1ULL << 8));
	ck_assert_uint_eq((q0 >> 16) & 0xffff, 0x18);
	ck_assert_uint_eq((q0 >> 32) & 0xfffff, 0x4321);
	ck_assert(q0 & (1ULL << 52) && q0 & (1ULL << 53));
	ck_assert_uint_eq(q1 & 7, 7); /* RDR, WRR, LPIG */
	ck_assert_uint_eq((q1 >> 3) & 0x1ff, 0x1a5);
	ck_assert_uint_eq(q1 & ~0xfffULL, 0x7ff123000ULL);
	/* Masked: PPR and PECTL.IP, no MSI; unmask sends it. */
	ck_assert_uint_eq(r32(e->h, VTD_PRS_REG), 1);
	ck_assert_uint_eq(r32(e->h, VTD_PECTL_REG), VTD_ECTL_IM | VTD_ECTL_IP);
	ck_assert_uint_eq(e->h->nr_msi, 0);
	w32(e->h, VTD_PECTL_REG, 0);
	ck_assert_uint_eq(e->h->nr_msi, 1);
	ck_assert_uint_eq(e->h->msi[0].data, 0x45);
	/* PPR still set: a second record raises no new event; clearing PPR re-arms it. */
	ck_assert_int_eq(req(e, 0x1000, false, 0, 3, true, DMA_ACC_READ), 0);
	ck_assert_uint_eq(e->h->nr_msi, 1);
	ck_assert_uint_eq(h_ram64(e->h, PQBASE + 32) & (1ULL << 8), 0); /* no PASID */
	ck_assert_uint_eq(h_ram64(e->h, PQBASE + 32) & (3ULL << 52), 0);
	w32(e->h, VTD_PRS_REG, 1);
	ck_assert_int_eq(req(e, 0x2000, false, 0, 4, true, DMA_ACC_READ), 0);
	ck_assert_uint_eq(e->h->nr_msi, 2);
	/* Responses: wrong PASID / wrong RID / unknown group are ignored. */
	qi(e, PGRP(0x18, true, 0x4322, 0), 0x1a5ULL << 3);
	qi(e, PGRP(0x19, true, 0x4321, 0), 0x1a5ULL << 3);
	qi(e, PGRP(0x18, true, 0x4321, 0), 0x1a6ULL << 3);
	ck_assert_uint_eq(e->c.resp, 0);
	ck_assert_uint_eq(r32(e->h, VTD_FSTS_REG), 0);
	/* The right one is delivered once; a repeat is unknown. */
	qi(e, PGRP(0x18, true, 0x4321, 1), 0x1a5ULL << 3);
	ck_assert_uint_eq(e->c.resp, 1);
	ck_assert(e->c.pp);
	ck_assert_uint_eq(e->c.pasid, 0x4321);
	ck_assert_uint_eq(e->c.grp, 0x1a5);
	ck_assert_uint_eq(e->c.code, 1);
	qi(e, PGRP(0x18, true, 0x4321, 1), 0x1a5ULL << 3);
	ck_assert_uint_eq(e->c.resp, 1);
	/* Two responses in one IQT write: both delivered. */
	h_put64(e->h, QBASE + e->qtail, PGRP(0x18, false, 0, 0));
	h_put64(e->h, QBASE + e->qtail + 8, 3ULL << 3);
	h_put64(e->h, QBASE + e->qtail + 16, 0);
	h_put64(e->h, QBASE + e->qtail + 24, 0);
	e->qtail += 32;
	qi(e, PGRP(0x18, false, 0, 0), 4ULL << 3);
	ck_assert_uint_eq(e->c.resp, 3);
	ck_assert(!e->c.pp);
	ck_assert_uint_eq(e->c.grp, 4);
	/* Reserved bits in a response: IQE. */
	qi(e, PGRP(0x18, false, 0, 0) | (1ULL << 60), 4ULL << 3);
	ck_assert(r32(e->h, VTD_FSTS_REG) & VTD_FSTS_IQE);
	viommu_get_stats(e->h->v, &st);
	ck_assert_uint_eq(st.page_reqs, 3);
	ck_assert_uint_eq(st.prg_responses, 3);
	ck_assert_uint_eq(st.prg_unknown, 4);
	env_free(e);
}
END_TEST

START_TEST(test_wrap_and_overflow)
{
	struct env *e = env_new();
	struct viommu_stats st;

	/* Fill 127 of 128 slots (one stays free: full when PQT + 32 == PQH). */
	for (unsigned int i = 0; i < 127; i++)
		ck_assert_int_eq(req(e, 0x100000 + 0x1000ULL * i, true, 7, 0, false, DMA_ACC_READ), 0);
	ck_assert_uint_eq(r64(e->h, VTD_PQT_REG), 127 * 32);
	ck_assert_int_eq(req(e, 0x900000, true, 7, 9, true, DMA_ACC_READ), -ENOSPC);
	ck_assert_uint_eq(r32(e->h, VTD_PRS_REG) & 2, 2);
	ck_assert_uint_eq(r64(e->h, VTD_PQT_REG), 127 * 32);
	/* Nothing written past the tail, nothing overwritten. */
	ck_assert_uint_eq(h_ram64(e->h, PQBASE + 127 * 32 + 8), 0);
	for (unsigned int i = 0; i < 127; i++)
		ck_assert_uint_eq(h_ram64(e->h, PQBASE + 32 * i + 8) & ~0xfffULL,
				  0x100000 + 0x1000ULL * i);
	/* The dropped group is not outstanding: a response to it is ignored. */
	qi(e, PGRP(0x18, true, 7, 0), 9ULL << 3);
	ck_assert_uint_eq(e->c.resp, 0);
	/* Software consumes 3 records, clears PRO: new records wrap around the end. */
	w64(e->h, VTD_PQH_REG, 3 * 32);
	w32(e->h, VTD_PRS_REG, 3);
	ck_assert_int_eq(req(e, 0xa00000, true, 7, 10, false, DMA_ACC_READ), 0);
	ck_assert_uint_eq(r64(e->h, VTD_PQT_REG), 0);
	ck_assert_int_eq(req(e, 0xa01000, true, 7, 10, true, DMA_ACC_READ), 0);
	ck_assert_uint_eq(r64(e->h, VTD_PQT_REG), 32);
	ck_assert_uint_eq(h_ram64(e->h, PQBASE + 8) & ~0xfffULL, 0xa01000);
	ck_assert_uint_eq(r32(e->h, VTD_PRS_REG) & 2, 0);
	qi(e, PGRP(0x18, true, 7, 0), 10ULL << 3);
	ck_assert_uint_eq(e->c.resp, 1);
	viommu_get_stats(e->h->v, &st);
	ck_assert_uint_eq(st.prq_overflows, 1);
	env_free(e);
}
END_TEST

START_TEST(test_devtlb_routing_and_ats)
{
	struct env *e = env_new();
	struct vtd_xlate *x = fake_xlate_last();
	struct dma_req r = { .sid = 0x18, .has_pasid = true, .pasid = 3, .access = DMA_ACC_READ };
	struct dma_ats_xlate ax;

	/* 0x3: S=0 one page; S=1 size from the lowest clear bit (bits 12,13 set -> 32 KiB). */
	qi(e, 0x3 | (0x18ULL << 32), 0x5000);
	ck_assert_uint_eq(e->c.inv, 1);
	ck_assert(!e->c.pp);
	ck_assert_uint_eq(e->c.addr, 0x5000);
	ck_assert_uint_eq(e->c.size, 4096);
	qi(e, 0x3 | (0x18ULL << 32), 0x43000 | 1);
	ck_assert_uint_eq(e->c.addr, 0x40000);
	ck_assert_uint_eq(e->c.size, 0x8000);
	/* 0x8 with PASID, and its G bit. */
	qi(e, 0x8 | (0x18ULL << 16) | (5ULL << 32), 0x6000 | (1 << 11));
	ck_assert(e->c.pp && !e->c.all);
	ck_assert_uint_eq(e->c.pasid, 5);
	ck_assert_uint_eq(e->c.size, 0x2000);
	qi(e, 0x8 | (0x18ULL << 16) | (5ULL << 32), 1);
	ck_assert(e->c.all);
	/* Another SID: not delivered to this client. */
	qi(e, 0x3 | (0x20ULL << 32), 0x5000);
	ck_assert_uint_eq(e->c.inv, 4);
	/* ATS: success reports the page; a not-present fault is R=W=0 and records nothing. */
	x->offset = 0x100000;
	ck_assert_int_eq(e->as.ops->ats_translate(e->as.iommu, &r, 0x7123, &ax), 0);
	ck_assert_uint_eq(ax.gpa, 0x107000);
	ck_assert_uint_eq(ax.perm, DMA_ACC_READ);
	x->fault = true;
	x->fault_desc = (struct vtd_fault){ .reason = VTD_FR_FS_NOT_PRESENT };
	ck_assert_int_eq(e->as.ops->ats_translate(e->as.iommu, &r, 0x7123, &ax), 0);
	ck_assert_uint_eq(ax.perm, 0);
	ck_assert_uint_eq(r32(e->h, VTD_FSTS_REG) & VTD_FSTS_PPF, 0);
	x->fault_desc = (struct vtd_fault){ .reason = VTD_FR_SM_CTX_NOT_PRESENT };
	ck_assert_int_eq(e->as.ops->ats_translate(e->as.iommu, &r, 0x7123, &ax), -EACCES);
	ck_assert(r32(e->h, VTD_FSTS_REG) & VTD_FSTS_PPF);
	/* Unregistered: invalidations go nowhere. */
	ck_assert_int_eq(e->as.ops->ats_register(e->as.iommu, 0x18, NULL, NULL), 0);
	qi(e, 0x3 | (0x18ULL << 32), 0x5000);
	ck_assert_uint_eq(e->c.inv, 4);
	env_free(e);
}
END_TEST

/* FRCD[i] high qword; cleared (W1C F) after reading so the next fault lands in i + 1. */
static uint64_t frcd_hi(struct env *e, unsigned int i)
{
	return r64(e->h, VTD_FRCD_REG(i) + 8);
}

/* PRO stays set until software clears it: every request is dropped meanwhile. */
START_TEST(test_pro_sticky_and_event)
{
	struct env *e = env_new();
	struct viommu_stats st;

	w32(e->h, VTD_PEDATA_REG, 0x46);
	w32(e->h, VTD_PEADDR_REG, 0xfee00000);
	w32(e->h, VTD_PECTL_REG, 0);
	for (unsigned int i = 0; i < 127; i++)
		ck_assert_int_eq(req(e, 0x100000 + 0x1000ULL * i, true, 7, 1, false, DMA_ACC_WRITE), 0);
	ck_assert_uint_eq(e->h->nr_msi, 1); /* PPR 0 -> 1 only */
	/* PPR cleared by software, then the overflow: PRO 0 -> 1 with PPR clear raises the event. */
	w32(e->h, VTD_PRS_REG, 1);
	ck_assert_int_eq(req(e, 0x200000, true, 7, 1, true, DMA_ACC_WRITE), -ENOSPC);
	ck_assert_uint_eq(r32(e->h, VTD_PRS_REG), 2);
	ck_assert_uint_eq(e->h->nr_msi, 2);
	ck_assert_uint_eq(e->h->msi[1].data, 0x46);
	/* Software drains the queue but leaves PRO: still dropped, no record, no event. */
	w64(e->h, VTD_PQH_REG, 127 * 32);
	ck_assert_int_eq(req(e, 0x300000, true, 7, 2, true, DMA_ACC_WRITE), -ENOSPC);
	ck_assert_uint_eq(r64(e->h, VTD_PQT_REG), 127 * 32);
	ck_assert_uint_eq(h_ram64(e->h, PQBASE + 127 * 32 + 8), 0);
	ck_assert_uint_eq(e->h->nr_msi, 2);
	/* Clearing PRO (PPR already clear) re-arms the event; the next request is recorded. */
	w32(e->h, VTD_PRS_REG, 2);
	ck_assert_uint_eq(r32(e->h, VTD_PECTL_REG) & VTD_ECTL_IP, 0);
	ck_assert_int_eq(req(e, 0x300000, true, 7, 2, true, DMA_ACC_WRITE), 0);
	ck_assert_uint_eq(r64(e->h, VTD_PQT_REG), 0);
	ck_assert_uint_eq(h_ram64(e->h, PQBASE + 127 * 32 + 8) & ~0xfffULL, 0x300000);
	ck_assert_uint_eq(r32(e->h, VTD_PRS_REG), 1);
	ck_assert_uint_eq(e->h->nr_msi, 3);
	viommu_get_stats(e->h->v, &st);
	ck_assert_uint_eq(st.prq_overflows, 2);
	ck_assert_uint_eq(st.page_reqs, 128);
	env_free(e);
}
END_TEST

/* Context PRE=0 / legacy root / no context: page requests refused and recorded. */
START_TEST(test_page_request_context_checks)
{
	struct env *e = env_new();
	struct vtd_xlate *x = fake_xlate_last();
	uint64_t hi;

	x->ctx_flags.pre = false;
	ck_assert_int_eq(req(e, 0x5000, true, 9, 1, true, DMA_ACC_WRITE | DMA_ACC_PRIV), -EACCES);
	ck_assert_uint_eq(r64(e->h, VTD_PQT_REG), 0);
	ck_assert_uint_eq(r32(e->h, VTD_PRS_REG), 0);
	hi = frcd_hi(e, 0);
	ck_assert(hi & VTD_FRCD_HI_F);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, hi), VTD_FR_SM_CTX_PRE);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_SID, hi), 0x18);
	ck_assert(hi & VTD_FRCD_HI_PP);
	ck_assert(hi & VTD_FRCD_HI_PRIV);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_PV, hi), 9);
	ck_assert(!(hi & VTD_FRCD_HI_T)); /* a write request */
	ck_assert_uint_eq(r64(e->h, VTD_FRCD_REG(0)) & ~0xfffULL, 0x5000);
	/* FPD in the context: refused, not recorded. */
	x->ctx_flags.fpd = true;
	ck_assert_int_eq(req(e, 0x6000, true, 9, 1, true, DMA_ACC_READ), -EACCES);
	ck_assert_uint_eq(frcd_hi(e, 1) & VTD_FRCD_HI_F, 0);
	/* Legacy-mode root: 0x32. */
	x->ctx_flags = (struct vtd_ctx_flags){ .sm = false, .dte = true };
	ck_assert_int_eq(req(e, 0x7000, false, 0, 1, true, DMA_ACC_READ), -EACCES);
	hi = frcd_hi(e, 1);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, hi), VTD_FR_SM_TTM_PRQ);
	ck_assert(!(hi & VTD_FRCD_HI_PP));
	ck_assert(hi & VTD_FRCD_HI_T);
	/* No usable context: the engine's reason. */
	x->ctx_fault = true;
	x->ctx_fault_desc = (struct vtd_fault){ .reason = VTD_FR_SM_CTX_NOT_PRESENT };
	ck_assert_int_eq(req(e, 0x8000, true, 9, 1, true, DMA_ACC_READ), -EACCES);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, frcd_hi(e, 2)), VTD_FR_SM_CTX_NOT_PRESENT);
	ck_assert_uint_eq(r64(e->h, VTD_PQT_REG), 0);
	env_free(e);
}
END_TEST

/* Translation requests need DTE=1 (SM, fault 0x44) or TT=01 (legacy, fault 0x0D). */
START_TEST(test_ats_context_checks)
{
	struct env *e = env_new();
	struct vtd_xlate *x = fake_xlate_last();
	struct dma_req r = { .sid = 0x18, .has_pasid = true, .pasid = 3, .access = DMA_ACC_READ };
	struct dma_ats_xlate ax;
	uint64_t hi;

	x->offset = 0x100000;
	ck_assert_int_eq(e->as.ops->ats_translate(e->as.iommu, &r, 0x7123, &ax), 0);
	x->ctx_flags.dte = false;
	ck_assert_int_eq(e->as.ops->ats_translate(e->as.iommu, &r, 0x9123, &ax), -EACCES);
	ck_assert_uint_eq(x->translate_calls, 1); /* refused before any walk */
	hi = frcd_hi(e, 0);
	ck_assert(hi & VTD_FRCD_HI_F);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, hi), VTD_FR_SM_CTX_DTE);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_PV, hi), 3);
	ck_assert(hi & VTD_FRCD_HI_PP);
	ck_assert_uint_eq(r64(e->h, VTD_FRCD_REG(0)) & ~0xfffULL, 0x9000);
	x->ctx_flags = (struct vtd_ctx_flags){ .sm = false, .dte = false };
	r.has_pasid = false;
	ck_assert_int_eq(e->as.ops->ats_translate(e->as.iommu, &r, 0xa000, &ax), -EACCES);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, frcd_hi(e, 1)), VTD_FR_TT_BLOCKED);
	x->ctx_flags.fpd = true;
	ck_assert_int_eq(e->as.ops->ats_translate(e->as.iommu, &r, 0xb000, &ax), -EACCES);
	ck_assert_uint_eq(frcd_hi(e, 2) & VTD_FRCD_HI_F, 0);
	/* Untranslated DMA does not depend on DTE. */
	{
		struct dma_xlate dx;

		ck_assert_int_eq(e->as.ops->translate(e->as.iommu, &r, 0xb000, &dx), 0);
		ck_assert_uint_eq(dx.gpa, 0x10b000);
	}
	env_free(e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vtd-prq");
	TCase *tc = tcase_create("prq");

	tcase_add_test(tc, test_caps_and_regs);
	tcase_add_test(tc, test_record_event_response);
	tcase_add_test(tc, test_wrap_and_overflow);
	tcase_add_test(tc, test_devtlb_routing_and_ats);
	tcase_add_test(tc, test_pro_sticky_and_event);
	tcase_add_test(tc, test_page_request_context_checks);
	tcase_add_test(tc, test_ats_context_checks);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
