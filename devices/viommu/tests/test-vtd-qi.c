/* SPDX-License-Identifier: MIT */
/* Unit tests for queued invalidation: batches, wrap-around, wait descriptors and IQE cases. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fake-xlate.h"
#include "harness.h"

#define QBASE 0x10000ULL
#define STATUS 0x20000ULL

struct q {
	struct harness *h;
	unsigned int dsz; /* 16 or 32 */
	unsigned int tail;/* byte offset */
	unsigned int qbytes;
};

/* QI on: IQT=0, IQA, then QIE (the Linux order). */
static struct q qi_setup(struct harness *h, bool wide, unsigned int qs)
{
	struct q q = { h, wide ? 32 : 16, 0, 4096u << qs };

	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE | (wide ? VTD_IQA_DW : 0) | qs);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_QIE);
	return q;
}

static void put(struct q *q, uint64_t q0, uint64_t q1)
{
	h_put64(q->h, QBASE + q->tail, q0);
	h_put64(q->h, QBASE + q->tail + 8, q1);
	if (q->dsz == 32) {
		h_put64(q->h, QBASE + q->tail + 16, 0);
		h_put64(q->h, QBASE + q->tail + 24, 0);
	}
	q->tail = (q->tail + q->dsz) % q->qbytes;
}

static void kick(struct q *q)
{
	w64(q->h, VTD_IQT_REG, q->tail);
}

#define WAIT(flags, data) (0x5ULL | (flags) | ((uint64_t)(data) << 32))
#define W_IF (1ULL << 4)
#define W_SW (1ULL << 5)
#define W_FN (1ULL << 6)

static uint32_t iqei(struct harness *h)
{
	return (uint32_t)FIELD_GET(VTD_IQERCD_IQEI, r64(h, VTD_IQERCD_REG));
}

START_TEST(test_batch_one_write)
{
	struct harness *h = h_new("");
	struct vtd_xlate *x = fake_xlate_last();
	struct q q = qi_setup(h, false, 0);
	struct viommu_stats st;

	put(&q, 0x1 | (1 << 4), 0);                                   /* cc global */
	put(&q, 0x1 | (3 << 4) | (4ULL << 16) | (0x0210ULL << 32) | (3ULL << 48), 0); /* cc device */
	put(&q, 0x2 | (2 << 4) | (7ULL << 16) | (1 << 6) | (1 << 7), 0); /* iotlb domain, DR/DW */
	put(&q, 0x2 | (3 << 4) | (7ULL << 16), 0x40000 | (1 << 6) | 3);  /* iotlb page */
	put(&q, 0x6 | (3 << 4) | (2ULL << 16) | (0x55ULL << 32), 0x9000 | 1); /* piotlb page */
	put(&q, 0x6 | (2 << 4) | (2ULL << 16) | (0x56ULL << 32), 0);     /* piotlb pasid */
	put(&q, 0x7 | (1 << 4) | (2ULL << 16) | (0x57ULL << 32), 0);     /* pasid cache */
	put(&q, 0x7 | (3 << 4), 0);                                     /* pasid cache global */
	put(&q, 0x4, 0);                                                /* IEC: accepted */
	put(&q, WAIT(W_SW, 0xabcd), STATUS);
	kick(&q);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), q.tail);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), 0);
	ck_assert_uint_eq(le32_load(h->ram + STATUS), 0xabcd);
	ck_assert_uint_eq(x->nr_invs, 8);
	ck_assert_int_eq(x->invs[0].kind, FAKE_INV_CTX);
	ck_assert_int_eq(x->invs[0].g, VTD_INV_GLOBAL);
	ck_assert_int_eq(x->invs[1].g, VTD_INV_DEVICE);
	ck_assert_uint_eq(x->invs[1].sid, 0x0210);
	ck_assert_uint_eq(x->invs[1].fm, 3);
	ck_assert_uint_eq(x->invs[1].did, 4);
	ck_assert_int_eq(x->invs[2].kind, FAKE_INV_IOTLB);
	ck_assert_int_eq(x->invs[2].g, VTD_INV_DOMAIN);
	ck_assert_uint_eq(x->invs[2].did, 7);
	ck_assert_int_eq(x->invs[3].g, VTD_INV_PAGE);
	ck_assert_uint_eq(x->invs[3].addr, 0x40000);
	ck_assert_uint_eq(x->invs[3].am, 3);
	ck_assert(x->invs[3].ih);
	ck_assert_int_eq(x->invs[4].kind, FAKE_INV_PIOTLB);
	ck_assert_int_eq(x->invs[4].g, VTD_INV_PASID_PAGE);
	ck_assert_uint_eq(x->invs[4].pasid, 0x55);
	ck_assert_uint_eq(x->invs[4].addr, 0x9000);
	ck_assert_uint_eq(x->invs[4].am, 1);
	ck_assert_int_eq(x->invs[5].g, VTD_INV_PASID);
	ck_assert_uint_eq(x->invs[5].pasid, 0x56);
	ck_assert_int_eq(x->invs[6].kind, FAKE_INV_PC);
	ck_assert_int_eq(x->invs[6].g, VTD_INV_PASID);
	ck_assert_uint_eq(x->invs[6].pasid, 0x57);
	ck_assert_int_eq(x->invs[7].g, VTD_INV_GLOBAL);
	viommu_get_stats(h->v, &st);
	ck_assert_uint_eq(st.descs, 10);
	ck_assert_uint_eq(st.drains, 1);
	ck_assert_uint_eq(st.waits, 1);
	/* queue idle: QIE can be cleared */
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, false);
	ck_assert(!(r32(h, VTD_GSTS_REG) & VTD_GCMD_QIE));
	h_free(h);
}
END_TEST

START_TEST(test_wraparound)
{
	struct harness *h = h_new("");
	struct vtd_xlate *x = fake_xlate_last();
	struct q q = qi_setup(h, false, 0); /* 256 descriptors */

	for (unsigned int i = 0; i < 254; i++)
		put(&q, WAIT(0, 0), 0);
	kick(&q);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 254 * 16);
	for (unsigned int i = 0; i < 4; i++)
		put(&q, 0x2 | (2 << 4) | ((uint64_t)(i + 1) << 16), 0);
	ck_assert_uint_eq(q.tail, 2 * 16);
	kick(&q);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 2 * 16);
	ck_assert_uint_eq(x->nr_invs, 4);
	for (unsigned int i = 0; i < 4; i++)
		ck_assert_uint_eq(x->invs[i].did, i + 1);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), 0);
	h_free(h);
}
END_TEST

START_TEST(test_wide_descriptors)
{
	struct harness *h = h_new("");
	struct vtd_xlate *x = fake_xlate_last();
	struct q q = qi_setup(h, true, 1); /* 2 pages of 256-bit descriptors */

	put(&q, 0x6 | (2 << 4) | (0x42ULL << 32), 0);
	put(&q, WAIT(W_SW, 7), STATUS);
	kick(&q);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 64);
	ck_assert_uint_eq(x->nr_invs, 1);
	ck_assert_uint_eq(le32_load(h->ram + STATUS), 7);
	/* QW2 must be zero */
	put(&q, 0x2 | (1 << 4), 0);
	h_put64(h, QBASE + 64 + 16, 1);
	kick(&q);
	ck_assert(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE);
	ck_assert_uint_eq(iqei(h), VTD_IQEI_RSVD);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 64);
	/* misaligned tail (bit 4) with DW=1 */
	h_put64(h, QBASE + 64 + 16, 0);
	w32(h, VTD_FSTS_REG, (uint32_t)VTD_FSTS_IQE);
	w64(h, VTD_IQT_REG, 0x50);
	ck_assert(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE);
	ck_assert_uint_eq(iqei(h), VTD_IQEI_TAIL_ALIGN);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 64);
	/* recover */
	w32(h, VTD_FSTS_REG, (uint32_t)VTD_FSTS_IQE);
	kick(&q);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), 0);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 96);
	ck_assert_uint_eq(x->nr_invs, 2);
	h_free(h);
}
END_TEST

/* Each bad descriptor: IQE + code, IQH on it, later descriptors not run; then recovery. */
static void check_bad(const char *opts, uint64_t q0, uint64_t q1, uint32_t code)
{
	struct harness *h = h_new(opts);
	struct vtd_xlate *x = fake_xlate_last();
	struct q q = qi_setup(h, false, 0);
	struct viommu_stats st;

	put(&q, 0x2 | (1 << 4), 0);
	put(&q, q0, q1);
	put(&q, 0x2 | (1 << 4), 0);
	kick(&q);
	ck_assert_msg(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE, "no IQE for %llx %llx",
		      (unsigned long long)q0, (unsigned long long)q1);
	ck_assert_uint_eq(iqei(h), code);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 16);
	ck_assert_uint_eq(x->nr_invs, 1);
	/* IQT writes while IQE is set do nothing */
	kick(&q);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 16);
	/* fix the descriptor, clear IQE (RW1C), write IQT again */
	h_put64(h, QBASE + 16, WAIT(0, 0));
	h_put64(h, QBASE + 24, 0);
	w32(h, VTD_FSTS_REG, (uint32_t)VTD_FSTS_IQE);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), 0);
	kick(&q);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), 0);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 48);
	ck_assert_uint_eq(x->nr_invs, 2);
	viommu_get_stats(h->v, &st);
	ck_assert_uint_eq(st.iqe, 1);
	h_free(h);
}

START_TEST(test_iqe_cases)
{
	check_bad("", 0x0, 0, VTD_IQEI_TYPE);                          /* type 0 */
	check_bad("", 0x9, 0, VTD_IQEI_TYPE);                          /* page response, no PRS */
	check_bad("", 0x1 | (1ULL << 9), 0, VTD_IQEI_TYPE);            /* type 0x11 */
	check_bad("mode=legacy", 0x6 | (2 << 4), 0, VTD_IQEI_TYPE);    /* PASID type in legacy */
	check_bad("", 0x3, 0, VTD_IQEI_TYPE);                          /* device-TLB without DT */
	check_bad("", 0x1 | (1 << 4) | (1ULL << 63), 0, VTD_IQEI_RSVD);/* cc reserved */
	check_bad("", 0x1, 0, VTD_IQEI_RSVD);                          /* cc G=0 */
	check_bad("", 0x1 | (1 << 4), 1, VTD_IQEI_RSVD);               /* cc QW1 */
	check_bad("", 0x2 | (3 << 4), 0x1000 | 19, VTD_IQEI_RSVD);     /* AM > MAMV */
	check_bad("", 0x2 | (1 << 4) | (1ULL << 40), 0, VTD_IQEI_RSVD);/* iotlb QW0 63:32 */
	check_bad("", 0x2 | (1 << 4), 1 << 8, VTD_IQEI_RSVD);          /* iotlb QW1 11:7 */
	check_bad("", 0x6 | (1 << 4), 0, VTD_IQEI_RSVD);               /* piotlb G=1 */
	check_bad("", 0x7 | (2 << 4), 0, VTD_IQEI_RSVD);               /* pc G=2 */
	check_bad("", 0x4 | (1ULL << 50), 0, VTD_IQEI_RSVD);           /* iec 63:48 */
	check_bad("", WAIT(1 << 7, 0), 0, VTD_IQEI_RSVD);              /* PD without PDS */
	check_bad("", WAIT(W_SW, 0), STATUS | 1, VTD_IQEI_RSVD);       /* status addr 1:0 */
	check_bad("", WAIT(W_SW, 0), 0x80000000ULL, VTD_IQEI_FETCH);   /* status not RAM */
	check_bad("", WAIT(W_SW, 0), 1ULL << 50, VTD_IQEI_RSVD);       /* above HAW */
}
END_TEST

START_TEST(test_tail_errors_and_fetch)
{
	struct harness *h = h_new("mode=legacy");
	struct q q = qi_setup(h, false, 0);

	/* QS=0: 4 KiB; tail 0x1000 is beyond the queue */
	w64(h, VTD_IQT_REG, 0x1000);
	ck_assert(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE);
	ck_assert_uint_eq(iqei(h), VTD_IQEI_TAIL);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 0);
	w32(h, VTD_FSTS_REG, (uint32_t)VTD_FSTS_IQE);
	/* queue not in RAM: fetch error with IQH on the descriptor */
	w64(h, VTD_IQT_REG, 0);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, false);
	w64(h, VTD_IQA_REG, 0x80000000ULL);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	w64(h, VTD_IQT_REG, 0x20);
	ck_assert_uint_eq(iqei(h), VTD_IQEI_FETCH);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 0);
	/* QIE cannot be cleared while the queue holds the bad descriptor */
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, false);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_QIE);
	(void)q;
	h_free(h);
}
END_TEST

START_TEST(test_iqe_raises_fault_event)
{
	struct harness *h = h_new("");
	struct q q = qi_setup(h, false, 0);

	w32(h, VTD_FEDATA_REG, 0x41);
	w32(h, VTD_FEADDR_REG, 0xfee00000);
	w32(h, VTD_FECTL_REG, 0);
	put(&q, 0xf, 0);
	kick(&q);
	ck_assert_uint_eq(h->nr_msi, 1);
	ck_assert_uint_eq(h->msi[0].addr, 0xfee00000);
	ck_assert_uint_eq(h->msi[0].data, 0x41);
	h_free(h);
}
END_TEST

START_TEST(test_wait_variants)
{
	struct harness *h = h_new("");
	struct q q = qi_setup(h, false, 0);

	w32(h, VTD_IEDATA_REG, 0x55);
	w32(h, VTD_IEADDR_REG, 0xfee01000);
	/* SW only: status written, no interrupt */
	put(&q, WAIT(W_SW, 1), STATUS);
	kick(&q);
	ck_assert_uint_eq(le32_load(h->ram + STATUS), 1);
	ck_assert_uint_eq(r32(h, VTD_ICS_REG), 0);
	ck_assert_uint_eq(h->nr_msi, 0);
	/* IF with IECTL masked (reset): IWC + IP, no MSI; unmask sends it */
	put(&q, WAIT(W_IF, 0), 0);
	kick(&q);
	ck_assert_uint_eq(r32(h, VTD_ICS_REG), 1);
	ck_assert(r32(h, VTD_IECTL_REG) & VTD_ECTL_IP);
	ck_assert_uint_eq(h->nr_msi, 0);
	w32(h, VTD_IECTL_REG, 0);
	ck_assert_uint_eq(h->nr_msi, 1);
	ck_assert_uint_eq(h->msi[0].addr, 0xfee01000);
	ck_assert_uint_eq(h->msi[0].data, 0x55);
	ck_assert(!(r32(h, VTD_IECTL_REG) & VTD_ECTL_IP));
	w32(h, VTD_ICS_REG, 1);
	ck_assert_uint_eq(r32(h, VTD_ICS_REG), 0);
	/* SW + IF + FN together, followed by more work */
	put(&q, WAIT(W_SW | W_IF | W_FN, 2), STATUS + 8);
	put(&q, 0x2 | (1 << 4), 0);
	put(&q, WAIT(W_SW, 3), STATUS + 16);
	kick(&q);
	ck_assert_uint_eq(le32_load(h->ram + STATUS + 8), 2);
	ck_assert_uint_eq(le32_load(h->ram + STATUS + 16), 3);
	ck_assert_uint_eq(r32(h, VTD_ICS_REG), 1);
	ck_assert_uint_eq(h->nr_msi, 2);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), q.tail);
	/* IF again while IWC still set: no new interrupt */
	put(&q, WAIT(W_IF, 0), 0);
	kick(&q);
	ck_assert_uint_eq(h->nr_msi, 2);
	/* clearing IWC with IP pending clears IP */
	w32(h, VTD_IECTL_REG, 0x80000000u);
	w32(h, VTD_ICS_REG, 1);
	put(&q, WAIT(W_IF, 0), 0);
	kick(&q);
	ck_assert(r32(h, VTD_IECTL_REG) & VTD_ECTL_IP);
	w32(h, VTD_ICS_REG, 1);
	ck_assert(!(r32(h, VTD_IECTL_REG) & VTD_ECTL_IP));
	w32(h, VTD_IECTL_REG, 0);
	ck_assert_uint_eq(h->nr_msi, 2);
	h_free(h);
}
END_TEST

struct devtlb_rec {
	unsigned int n;
	uint16_t sid;
	bool has_pasid, size_bit, global;
	uint32_t pasid;
	uint64_t addr;
};

static void devtlb(void *opaque, uint16_t sid, bool has_pasid, uint32_t pasid, uint64_t addr,
		   bool size_bit, bool global)
{
	struct devtlb_rec *r = opaque;

	*r = (struct devtlb_rec){ r->n + 1, sid, has_pasid, size_bit, global, pasid, addr };
}

START_TEST(test_devtlb_forwarded)
{
	struct harness *h = h_new("dt=on");
	struct q q = qi_setup(h, false, 0);
	struct devtlb_rec rec = { 0 };
	struct viommu_stats st;

	viommu_set_devtlb_hook(h->v, devtlb, &rec);
	/* type 0x3 with PFSID bits set (Linux fills them): accepted */
	put(&q, 0x3 | (0xaULL << 12) | (0x0308ULL << 32) | (0x123ULL << 52), 0x7000 | 1);
	kick(&q);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), 0);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(rec.sid, 0x0308);
	ck_assert(!rec.has_pasid);
	ck_assert(rec.size_bit);
	ck_assert_uint_eq(rec.addr, 0x7000);
	/* type 0x8 PASID-based */
	put(&q, 0x8 | (0x0310ULL << 16) | (0x99ULL << 32), 0x8000 | 1);
	kick(&q);
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_uint_eq(rec.sid, 0x0310);
	ck_assert(rec.has_pasid && rec.global && !rec.size_bit);
	ck_assert_uint_eq(rec.pasid, 0x99);
	viommu_get_stats(h->v, &st);
	ck_assert_uint_eq(st.devtlb_invs, 2);
	h_free(h);
}
END_TEST

/* ---- features: the core calls what they registered, in order, and names none ---- */

static struct {
	char log[1024];
	size_t n;
} flog;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flog.n += (size_t)vsnprintf(flog.log + flog.n, sizeof(flog.log) - flog.n, fmt, ap);
	va_end(ap);
	ck_assert_uint_lt(flog.n, sizeof(flog.log));
}

static void a_iotlb(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
		    unsigned int am, bool ih)
{
	note("A:iotlb(%d,%u,%#llx,%u,%d) ", g, did, (unsigned long long)addr, am, ih);
}

static void b_iotlb(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
		    unsigned int am, bool ih)
{
	note("B:iotlb ");
}

static void a_piotlb(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid,
		     uint64_t addr, unsigned int am, bool ih)
{
	note("A:piotlb(%d,%u,%u,%#llx,%u) ", g, did, pasid, (unsigned long long)addr, am);
}

static void a_pc(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid)
{
	note("A:pc(%d,%u,%u) ", g, did, pasid);
}

static void b_pc(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid)
{
	note("B:pc ");
}

static void a_ctx(struct viommu *v)
{
	note("A:ctx ");
}

static void a_sync(struct viommu *v)
{
	note("A:sync ");
}

static void b_sync(struct viommu *v)
{
	note("B:sync ");
}

static void b_after(struct viommu *v)
{
	note("B:after ");
}

static void a_destroy(struct viommu *v)
{
	note("A:destroy ");
}

static void b_destroy(struct viommu *v)
{
	note("B:destroy ");
}

static enum vtd_iqei b_desc(struct viommu *v, unsigned int type, const uint64_t *d)
{
	note("B:desc(%u,%#llx) ", type, (unsigned long long)(d[1] >> 12));
	return d[1] >> 12 == 0xbad ? VTD_IQEI_RSVD : VTD_IQEI_NONE;
}

static const struct vtd_feature feat_a = {
	.name = "A", .iotlb = a_iotlb, .piotlb = a_piotlb, .pasid_cache = a_pc,
	.context = a_ctx, .sync = a_sync, .destroy = a_destroy,
};
static const struct vtd_feature feat_b = {
	.name = "B", .iotlb = b_iotlb, .pasid_cache = b_pc, .sync = b_sync,
	.desc_types = 1u << QI_DEVTLB, .desc = b_desc, .after_write = b_after,
	.destroy = b_destroy,
};
static const struct vtd_feature feat_none = { .name = "none" };

/*
 * Two recording features beside the unit's own (prq, ir): every invalidation reaches each
 * feature that set the hook, in registration order; a descriptor type goes only to its owner,
 * whose error stops the queue there; sync at the wait and at the end of the drain; after_write
 * once per register write; destroy in reverse order.
 */
START_TEST(test_features_hear_in_order)
{
	struct harness *h = h_new("dt=on");
	struct q q = qi_setup(h, true, 0);
	unsigned int spare = VTD_MAX_FEATURES - h->v->nr_feat;

	ck_assert_uint_ge(spare, 2);
	ck_assert_int_eq(vtd_feature_add(h->v, &feat_a), 0);
	ck_assert_int_eq(vtd_feature_add(h->v, &feat_b), 0);
	for (unsigned int i = 2; i < spare; i++)
		ck_assert_int_eq(vtd_feature_add(h->v, &feat_none), 0);
	ck_assert_int_eq(vtd_feature_add(h->v, &feat_none), -ENOSPC);

	memset(&flog, 0, sizeof(flog));
	put(&q, 0x2 | 3 << 4 | 5 << 16, 0x1000 | 2 | 1 << 6);     /* IOTLB page, DID 5, IH */
	put(&q, 0x6 | 3 << 4 | 6 << 16 | 7ULL << 32, 0x200000 | 9); /* PASID-IOTLB page */
	put(&q, 0x7 | 1 << 4 | 6 << 16 | 8ULL << 32, 0);            /* PASID cache, PASID 8 */
	put(&q, 0x1 | 1 << 4, 0);                                   /* context cache, global */
	put(&q, 0x3 | 0x18ULL << 32, 0x7000);                       /* device-TLB */
	put(&q, WAIT(W_SW, 1), STATUS);
	kick(&q);
	ck_assert_str_eq(flog.log, "A:iotlb(3,5,0x1000,2,1) B:iotlb A:piotlb(5,6,7,0x200000,9) "
				   "A:pc(4,6,8) B:pc A:ctx B:desc(3,0x7) A:sync B:sync A:sync "
				   "B:sync B:after ");
	ck_assert_uint_eq(le32_load(h->ram + STATUS), 1);
	ck_assert(!(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE));

	memset(&flog, 0, sizeof(flog));
	put(&q, 0x3 | 0x18ULL << 32, 0xbad000);
	put(&q, WAIT(W_SW, 2), STATUS);
	kick(&q);
	ck_assert_str_eq(flog.log, "B:desc(3,0xbad) A:sync B:sync B:after ");
	ck_assert(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE);
	ck_assert_uint_eq(iqei(h), VTD_IQEI_RSVD);
	ck_assert_uint_eq(le32_load(h->ram + STATUS), 1);

	memset(&flog, 0, sizeof(flog));
	h_free(h);
	ck_assert_str_eq(flog.log, "B:destroy A:destroy ");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vtd-qi");
	TCase *tc = tcase_create("qi");

	tcase_add_test(tc, test_batch_one_write);
	tcase_add_test(tc, test_wraparound);
	tcase_add_test(tc, test_wide_descriptors);
	tcase_add_test(tc, test_iqe_cases);
	tcase_add_test(tc, test_tail_errors_and_fetch);
	tcase_add_test(tc, test_iqe_raises_fault_event);
	tcase_add_test(tc, test_wait_variants);
	tcase_add_test(tc, test_devtlb_forwarded);
	tcase_add_test(tc, test_features_hear_in_order);
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
