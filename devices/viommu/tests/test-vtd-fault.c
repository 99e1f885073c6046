/* SPDX-License-Identifier: MIT */
/* Unit tests for fault recording (FRCD ring, PPF/PFO/FRI), fault events, FPD and collapsing. */
#include <errno.h>

#include "fake-xlate.h"
#include "harness.h"

struct fx {
	struct harness *h;
	struct vtd_xlate *x;
	struct dma_as as;
};

static struct fx setup(const char *opts, bool unmask)
{
	struct fx f;

	f.h = h_new(opts);
	f.x = fake_xlate_last();
	viommu_dma_as(f.h->v, &f.as);
	w32(f.h, VTD_FEDATA_REG, 0x61);
	w32(f.h, VTD_FEADDR_REG, 0xfee00000);
	if (unmask)
		w32(f.h, VTD_FECTL_REG, 0);
	h_gcmd(f.h, (uint32_t)VTD_GCMD_TE, true);
	f.x->fault = true;
	f.x->fault_desc.reason = 0x02;
	return f;
}

static int dma(struct fx *f, uint16_t sid, uint64_t iova, unsigned int acc)
{
	struct dma_req req = { .sid = sid, .access = acc };
	uint8_t buf[8] = { 0 };

	return acc & DMA_ACC_WRITE ? dma_write(&f->as, &req, iova, buf, 4)
				   : dma_read(&f->as, &req, iova, buf, 4);
}

static uint64_t hi(struct harness *h, unsigned int i)
{
	return r64(h, VTD_FRCD_REG(i) + 8);
}

START_TEST(test_untranslated_when_te_off)
{
	struct fx f = setup("", true);
	struct dma_req req = { .sid = 1, .access = DMA_ACC_READ };
	uint32_t v = 0;

	h_gcmd(f.h, (uint32_t)VTD_GCMD_TE, false);
	le32_store(f.h->ram + 0x4000, 0xfeedf00d);
	ck_assert_int_eq(dma_read(&f.as, &req, 0x4000, &v, 4), 0);
	ck_assert_uint_eq(v, 0xfeedf00d);
	ck_assert_uint_eq(f.x->translate_calls, 0);
	/* TE on, engine translates (fake: +offset) */
	h_gcmd(f.h, (uint32_t)VTD_GCMD_TE, true);
	f.x->fault = false;
	f.x->offset = 0x1000;
	ck_assert_int_eq(dma_read(&f.as, &req, 0x3000, &v, 4), 0);
	ck_assert_uint_eq(v, 0xfeedf00d);
	h_free(f.h);
}
END_TEST

START_TEST(test_one_record_and_event)
{
	struct fx f = setup("", true);
	uint64_t r;

	ck_assert_int_eq(dma(&f, 0x0108, 0x12345678, DMA_ACC_READ), -EACCES);
	r = hi(f.h, 0);
	ck_assert(r & VTD_FRCD_HI_F);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_SID, r), 0x0108);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, r), 0x02);
	ck_assert(r & VTD_FRCD_HI_T); /* read */
	ck_assert(!(r & VTD_FRCD_HI_PP));
	ck_assert_uint_eq(r64(f.h, VTD_FRCD_REG(0)), 0x12345000);
	ck_assert_uint_eq(r32(f.h, VTD_FSTS_REG), VTD_FSTS_PPF | FIELD_PREP(VTD_FSTS_FRI, 0));
	ck_assert_uint_eq(f.h->nr_msi, 1);
	ck_assert_uint_eq(f.h->msi[0].addr, 0xfee00000);
	ck_assert_uint_eq(f.h->msi[0].data, 0x61);
	/* a second (different) fault while PPF is set: recorded, no new event */
	ck_assert_int_eq(dma(&f, 0x0108, 0x9000, DMA_ACC_WRITE), -EACCES);
	r = hi(f.h, 1);
	ck_assert(r & VTD_FRCD_HI_F);
	ck_assert(!(r & VTD_FRCD_HI_T)); /* write */
	ck_assert_uint_eq(f.h->nr_msi, 1);
	/* upper dword of the record as Linux reads it */
	ck_assert_uint_eq(r32(f.h, VTD_FRCD_REG(0) + 12), (uint32_t)(hi(f.h, 0) >> 32));
	/* clear F of record 0 by W1C of bit 31 in dword 3; record 1 still pending */
	w32(f.h, VTD_FRCD_REG(0) + 12, 0x80000000u);
	ck_assert(!(hi(f.h, 0) & VTD_FRCD_HI_F));
	ck_assert(r32(f.h, VTD_FSTS_REG) & VTD_FSTS_PPF);
	/* clear record 1 with a 64-bit W1C: PPF drops */
	w64(f.h, VTD_FRCD_REG(1) + 8, VTD_FRCD_HI_F);
	ck_assert(!(hi(f.h, 1) & VTD_FRCD_HI_F));
	ck_assert(!(r32(f.h, VTD_FSTS_REG) & VTD_FSTS_PPF));
	/* next fault goes to record 2 (ring order), FRI=2, new event */
	ck_assert_int_eq(dma(&f, 0x0200, 0x5000, DMA_ACC_READ), -EACCES);
	ck_assert(hi(f.h, 2) & VTD_FRCD_HI_F);
	ck_assert_uint_eq(FIELD_GET(VTD_FSTS_FRI, r32(f.h, VTD_FSTS_REG)), 2);
	ck_assert_uint_eq(f.h->nr_msi, 2);
	h_free(f.h);
}
END_TEST

START_TEST(test_overflow_pfo)
{
	struct fx f = setup("", true);
	struct viommu_stats st;

	for (unsigned int i = 0; i < VTD_NR_FRCD + 1; i++)
		ck_assert_int_eq(dma(&f, (uint16_t)i, 0x1000ULL * (i + 1), DMA_ACC_READ), -EACCES);
	for (unsigned int i = 0; i < VTD_NR_FRCD; i++)
		ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_SID, hi(f.h, i)), i);
	ck_assert(r32(f.h, VTD_FSTS_REG) & VTD_FSTS_PFO);
	ck_assert(r32(f.h, VTD_FSTS_REG) & VTD_FSTS_PPF);
	ck_assert_uint_eq(f.h->nr_msi, 1);
	viommu_get_stats(f.h->v, &st);
	ck_assert_uint_eq(st.faults_recorded, VTD_NR_FRCD);
	ck_assert_uint_eq(st.faults_overflow, 1);
	/* while PFO is set, even with a free record, faults are dropped */
	w64(f.h, VTD_FRCD_REG(0) + 8, VTD_FRCD_HI_F);
	ck_assert_int_eq(dma(&f, 0x77, 0x99000, DMA_ACC_READ), -EACCES);
	ck_assert(!(hi(f.h, 0) & VTD_FRCD_HI_F));
	/* software clears everything: PFO (RW1C) and all F */
	for (unsigned int i = 0; i < VTD_NR_FRCD; i++)
		w64(f.h, VTD_FRCD_REG(i) + 8, VTD_FRCD_HI_F);
	w32(f.h, VTD_FSTS_REG, (uint32_t)VTD_FSTS_PFO);
	ck_assert_uint_eq(r32(f.h, VTD_FSTS_REG) & (VTD_FSTS_PFO | VTD_FSTS_PPF), 0);
	ck_assert_int_eq(dma(&f, 0x78, 0x9a000, DMA_ACC_READ), -EACCES);
	ck_assert_uint_eq(f.h->nr_msi, 2);
	h_free(f.h);
}
END_TEST

START_TEST(test_masked_event)
{
	struct fx f = setup("", false); /* FECTL.IM=1 from reset */

	ck_assert_int_eq(dma(&f, 3, 0x1000, DMA_ACC_READ), -EACCES);
	ck_assert_uint_eq(f.h->nr_msi, 0);
	ck_assert(r32(f.h, VTD_FECTL_REG) & VTD_ECTL_IP);
	w32(f.h, VTD_FECTL_REG, 0); /* unmask: pending interrupt delivered */
	ck_assert_uint_eq(f.h->nr_msi, 1);
	ck_assert(!(r32(f.h, VTD_FECTL_REG) & VTD_ECTL_IP));
	/* masked again, clear the condition before unmasking: IP cleared, no MSI */
	w32(f.h, VTD_FECTL_REG, 0x80000000u);
	w64(f.h, VTD_FRCD_REG(0) + 8, VTD_FRCD_HI_F);
	ck_assert_int_eq(dma(&f, 4, 0x2000, DMA_ACC_READ), -EACCES);
	ck_assert(r32(f.h, VTD_FECTL_REG) & VTD_ECTL_IP);
	w64(f.h, VTD_FRCD_REG(1) + 8, VTD_FRCD_HI_F);
	w32(f.h, VTD_FSTS_REG, 0);
	ck_assert(!(r32(f.h, VTD_FECTL_REG) & VTD_ECTL_IP));
	w32(f.h, VTD_FECTL_REG, 0);
	ck_assert_uint_eq(f.h->nr_msi, 1);
	h_free(f.h);
}
END_TEST

START_TEST(test_fpd_and_collapse)
{
	struct fx f = setup("", true);
	struct viommu_stats st;

	f.x->fault_desc.fpd = true;
	ck_assert_int_eq(dma(&f, 5, 0x1000, DMA_ACC_READ), -EACCES);
	ck_assert_uint_eq(r32(f.h, VTD_FSTS_REG), 0);
	ck_assert_uint_eq(f.h->nr_msi, 0);
	f.x->fault_desc.fpd = false;
	/* the same fault twice: one record */
	ck_assert_int_eq(dma(&f, 5, 0x1000, DMA_ACC_READ), -EACCES);
	ck_assert_int_eq(dma(&f, 5, 0x1234, DMA_ACC_READ), -EACCES);
	ck_assert(!(hi(f.h, 1) & VTD_FRCD_HI_F));
	/* differs in type, page, SID or reason: recorded */
	ck_assert_int_eq(dma(&f, 5, 0x1000, DMA_ACC_WRITE), -EACCES);
	ck_assert_int_eq(dma(&f, 5, 0x2000, DMA_ACC_READ), -EACCES);
	ck_assert_int_eq(dma(&f, 6, 0x1000, DMA_ACC_READ), -EACCES);
	f.x->fault_desc.reason = 0x06;
	ck_assert_int_eq(dma(&f, 5, 0x1000, DMA_ACC_READ), -EACCES);
	ck_assert(hi(f.h, 4) & VTD_FRCD_HI_F);
	ck_assert(!(hi(f.h, 5) & VTD_FRCD_HI_F));
	viommu_get_stats(f.h->v, &st);
	ck_assert_uint_eq(st.faults_fpd, 1);
	ck_assert_uint_eq(st.faults_collapsed, 1);
	ck_assert_uint_eq(st.faults_recorded, 5);
	/* once the record is cleared the same fault is recorded again */
	w64(f.h, VTD_FRCD_REG(0) + 8, VTD_FRCD_HI_F);
	f.x->fault_desc.reason = 0x02;
	ck_assert_int_eq(dma(&f, 5, 0x1000, DMA_ACC_READ), -EACCES);
	ck_assert(hi(f.h, 5) & VTD_FRCD_HI_F);
	h_free(f.h);
}
END_TEST

START_TEST(test_pasid_priv_exec_fields)
{
	struct fx f = setup("", true);
	struct dma_req req = { .sid = 0x10, .has_pasid = true, .pasid = 0xabcde,
			       .access = DMA_ACC_READ };
	uint8_t buf[4];
	uint64_t r;

	f.x->fault_desc.reason = 0x59;
	f.x->fault_desc.priv = true;
	f.x->fault_desc.exec = true;
	ck_assert_int_eq(dma_read(&f.as, &req, 0x7000, buf, 4), -EACCES);
	r = hi(f.h, 0);
	ck_assert(r & VTD_FRCD_HI_PP);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_PV, r), 0xabcde);
	ck_assert(r & VTD_FRCD_HI_PRIV);
	ck_assert(r & VTD_FRCD_HI_EXE);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, r), 0x59);
	h_free(f.h);

	/* legacy mode: PRIV/EXE are not reported */
	f = setup("mode=legacy", true);
	f.x->fault_desc.priv = true;
	f.x->fault_desc.exec = true;
	ck_assert_int_eq(dma(&f, 0x10, 0x7000, DMA_ACC_READ), -EACCES);
	ck_assert(!(hi(f.h, 0) & (VTD_FRCD_HI_PRIV | VTD_FRCD_HI_EXE)));
	/* TE off resets the ring pointer (facts §7.3) */
	w64(f.h, VTD_FRCD_REG(0) + 8, VTD_FRCD_HI_F);
	h_gcmd(f.h, (uint32_t)VTD_GCMD_TE, false);
	h_gcmd(f.h, (uint32_t)VTD_GCMD_TE, true);
	ck_assert_int_eq(dma(&f, 0x11, 0x7000, DMA_ACC_READ), -EACCES);
	ck_assert(hi(f.h, 0) & VTD_FRCD_HI_F);
	h_free(f.h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vtd-fault");
	TCase *tc = tcase_create("fault");

	tcase_add_test(tc, test_untranslated_when_te_off);
	tcase_add_test(tc, test_one_record_and_event);
	tcase_add_test(tc, test_overflow_pfo);
	tcase_add_test(tc, test_masked_event);
	tcase_add_test(tc, test_fpd_and_collapse);
	tcase_add_test(tc, test_pasid_priv_exec_fields);
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
