/* SPDX-License-Identifier: MIT */
/*
 * End-to-end tests of the unit with the real translation engine: guest tables built in the
 * fake RAM, the unit programmed through its registers, DMA through viommu_dma_as.
 */
#include <errno.h>

#include "harness.h"

#define ROOT 0x100000ULL
#define CTX 0x101000ULL
#define SS_L4 0x102000ULL
#define PDIR 0x106000ULL
#define PTBL 0x107000ULL
#define FS_L4 0x110000ULL
#define QBASE 0x10000ULL
#define STATUS 0x20000ULL
#define IOVA 0x10000ULL

static void ss_tables(struct harness *h, uint64_t target)
{
	h_put64(h, SS_L4, 0x103000 | 3);
	h_put64(h, 0x103000, 0x104000 | 3);
	h_put64(h, 0x104000, 0x105000 | 3);
	h_put64(h, 0x105000 + 8 * (IOVA >> 12), target | 3);
}

static void fs_tables(struct harness *h, uint64_t target)
{
	h_put64(h, FS_L4, 0x111000 | 7);
	h_put64(h, 0x111000, 0x112000 | 7);
	h_put64(h, 0x112000, 0x113000 | 7);
	h_put64(h, 0x113000 + 8 * (IOVA >> 12), target | 7);
}

/* Root pointer, QI (IQA/QIE), then TE, all through the registers. */
static unsigned int program(struct harness *h, uint64_t rtaddr, bool wide)
{
	w64(h, VTD_RTADDR_REG, rtaddr);
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_SRTP);
	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE | (wide ? VTD_IQA_DW : 0));
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	ck_assert_uint_eq(r32(h, VTD_GSTS_REG) & (VTD_GCMD_TE | VTD_GCMD_QIE),
			  VTD_GCMD_TE | VTD_GCMD_QIE);
	return 0;
}

/* Queues one descriptor plus a wait (SW) and writes IQT; returns the new tail. */
static unsigned int queue(struct harness *h, unsigned int tail, bool wide, uint64_t q0, uint64_t q1)
{
	unsigned int dsz = wide ? 32 : 16;

	memset(h->ram + QBASE + tail, 0, 2 * dsz);
	h_put64(h, QBASE + tail, q0);
	h_put64(h, QBASE + tail + 8, q1);
	h_put64(h, QBASE + tail + dsz, 0x5 | (1 << 5) | (0x1234ULL << 32));
	h_put64(h, QBASE + tail + dsz + 8, STATUS);
	tail += 2 * dsz;
	w64(h, VTD_IQT_REG, tail);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE, 0);
	ck_assert_uint_eq(le32_load(h->ram + STATUS), 0x1234);
	le32_store(h->ram + STATUS, 0);
	return tail;
}

static uint32_t rd(struct harness *h, uint16_t sid, bool has_pasid, uint32_t pasid, int *ret)
{
	struct dma_as as;
	struct dma_req req = { .sid = sid, .has_pasid = has_pasid, .pasid = pasid,
			       .access = DMA_ACC_READ };
	uint32_t v = 0;

	viommu_dma_as(h->v, &as);
	*ret = dma_read(&as, &req, IOVA + 4, &v, 4);
	return v;
}

START_TEST(test_legacy_e2e)
{
	struct harness *h = h_new("mode=legacy");
	unsigned int tail;
	uint64_t hi;
	int r;

	le32_store(h->ram + 0x200004, 0xaaaa0001);
	le32_store(h->ram + 0x201004, 0xbbbb0002);
	h_put64(h, ROOT, CTX | 1);
	h_put64(h, CTX + 8 * 16, SS_L4 | 1);         /* devfn 8: P, TT=0 */
	h_put64(h, CTX + 8 * 16 + 8, 2 | (1 << 8));  /* AW=2 (4-level), DID 1 */
	ss_tables(h, 0x200000);
	tail = program(h, ROOT, false);

	ck_assert_uint_eq(rd(h, 0x0008, false, 0, &r), 0xaaaa0001);
	ck_assert_int_eq(r, 0);
	/* not-present context entry (devfn 0x10) */
	rd(h, 0x0010, false, 0, &r);
	ck_assert_int_eq(r, -EACCES);
	hi = r64(h, VTD_FRCD_REG(0) + 8);
	ck_assert(hi & VTD_FRCD_HI_F);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, hi), 0x02);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_SID, hi), 0x0010);
	ck_assert(hi & VTD_FRCD_HI_T);
	ck_assert_uint_eq(r64(h, VTD_FRCD_REG(0)), IOVA);
	ck_assert(r32(h, VTD_FSTS_REG) & VTD_FSTS_PPF);

	/* remap the page: stale until the IOTLB invalidation is queued */
	h_put64(h, 0x105000 + 8 * (IOVA >> 12), 0x201000 | 3);
	ck_assert_uint_eq(rd(h, 0x0008, false, 0, &r), 0xaaaa0001);
	tail = queue(h, tail, false, 0x2 | (3 << 4) | (1ULL << 16), IOVA);
	ck_assert_uint_eq(rd(h, 0x0008, false, 0, &r), 0xbbbb0002);
	ck_assert_int_eq(r, 0);
	(void)tail;
	h_free(h);
}
END_TEST

START_TEST(test_scalable_e2e)
{
	struct harness *h = h_new("");
	unsigned int tail;
	uint64_t hi;
	int r;

	le32_store(h->ram + 0x200004, 0xaaaa0001);
	le32_store(h->ram + 0x300004, 0xcccc0003);
	le32_store(h->ram + 0x301004, 0xdddd0004);
	h_put64(h, ROOT, CTX | 1);                          /* LP, lower context table */
	h_put64(h, CTX + 8 * 32, PDIR | (1 << 3) | 1);      /* devfn 8: P, PASIDE, PDTS 0 */
	h_put64(h, PDIR, PTBL | 1);
	/* PASID 0 (RID_PASID): second-stage only, AW=2, DID 1 */
	h_put64(h, PTBL, SS_L4 | (2 << 6) | (2 << 2) | 1);
	h_put64(h, PTBL + 8, 1);
	/* PASID 5: first-stage only, 4-level, DID 2 */
	h_put64(h, PTBL + 5 * 64, (1 << 6) | 1);
	h_put64(h, PTBL + 5 * 64 + 8, 2);
	h_put64(h, PTBL + 5 * 64 + 16, FS_L4);
	ss_tables(h, 0x200000);
	fs_tables(h, 0x300000);
	tail = program(h, ROOT | (1 << 10), true);

	ck_assert_uint_eq(rd(h, 0x0008, false, 0, &r), 0xaaaa0001);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(rd(h, 0x0008, true, 5, &r), 0xcccc0003);
	ck_assert_int_eq(r, 0);
	/* not-present SM context entry */
	rd(h, 0x0010, false, 0, &r);
	ck_assert_int_eq(r, -EACCES);
	hi = r64(h, VTD_FRCD_REG(0) + 8);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, hi), 0x41);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_SID, hi), 0x0010);

	/* first-stage remap: stale until a PASID-based IOTLB invalidation */
	h_put64(h, 0x113000 + 8 * (IOVA >> 12), 0x301000 | 7);
	ck_assert_uint_eq(rd(h, 0x0008, true, 5, &r), 0xcccc0003);
	/* an IOTLB flush of another PASID does not help */
	tail = queue(h, tail, true, 0x6 | (2 << 4) | (2ULL << 16) | (6ULL << 32), 0);
	ck_assert_uint_eq(rd(h, 0x0008, true, 5, &r), 0xcccc0003);
	tail = queue(h, tail, true, 0x6 | (3 << 4) | (2ULL << 16) | (5ULL << 32), IOVA);
	ck_assert_uint_eq(rd(h, 0x0008, true, 5, &r), 0xdddd0004);
	ck_assert_int_eq(r, 0);
	/*
	 * Page-selective PASID-based invalidation takes any address mask, above MAMV too (VT-d
	 * 10.4.2; Linux 6.1 sends AM 27 for a large munmap): queue() asserts no IQE and the
	 * wait's status write, and the flush takes effect. AM 27 covers 512 GiB from 0; AM 63
	 * everything.
	 */
	h_put64(h, 0x113000 + 8 * (IOVA >> 12), 0x300000 | 7);
	ck_assert_uint_eq(rd(h, 0x0008, true, 5, &r), 0xdddd0004);
	tail = queue(h, tail, true, 0x6 | (3 << 4) | (2ULL << 16) | (5ULL << 32), 27);
	ck_assert_uint_eq(rd(h, 0x0008, true, 5, &r), 0xcccc0003);
	h_put64(h, 0x113000 + 8 * (IOVA >> 12), 0x301000 | 7);
	ck_assert_uint_eq(rd(h, 0x0008, true, 5, &r), 0xcccc0003);
	tail = queue(h, tail, true, 0x6 | (3 << 4) | (2ULL << 16) | (5ULL << 32), 63);
	ck_assert_uint_eq(rd(h, 0x0008, true, 5, &r), 0xdddd0004);
	ck_assert_int_eq(r, 0);
	(void)tail;
	h_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vtd-e2e");
	TCase *tc = tcase_create("e2e");

	tcase_add_test(tc, test_legacy_e2e);
	tcase_add_test(tc, test_scalable_e2e);
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
