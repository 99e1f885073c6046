/* SPDX-License-Identifier: MIT */
/* Unit tests for legacy-mode (TTM=00) walks and their fault reasons in the VT-d engine. */
#include <check.h>
#include <errno.h>

#include "xlate-tb.h"

static struct tb T;
static struct vtd_xlate *X;
static uint64_t RTA, SLPT;
static const uint16_t SID = 0x0310; /* bus 3, devfn 0x10 */

static void setup_caps(const struct vtd_caps *caps)
{
	tb_init(&T);
	X = vtd_xlate_create(&T.gm, caps, NULL);
	ck_assert_ptr_nonnull(X);
	RTA = tb_page(&T);
	SLPT = tb_page(&T);
	vtd_xlate_set_root(X, RTA);
}

static void setup(void)
{
	struct vtd_caps c = tb_caps();

	setup_caps(&c);
}

static void teardown(void)
{
	vtd_xlate_destroy(X);
	tb_fini(&T);
}

static int xl(uint16_t sid, unsigned int acc, uint64_t iova, struct dma_xlate *r,
	      struct vtd_fault *f)
{
	struct dma_req req = { .sid = sid, .access = acc };

	return vtd_xlate_translate(X, &req, iova, r, f);
}

/* Expects a fault with reason, checking every recorded field. */
static void expect_fault(uint16_t sid, unsigned int acc, uint64_t iova, int reason, bool fpd)
{
	struct dma_xlate r;
	struct vtd_fault f;

	memset(&f, 0xAA, sizeof(f));
	ck_assert_int_eq(xl(sid, acc, iova, &r, &f), -EACCES);
	ck_assert_uint_eq(f.reason, reason);
	ck_assert_uint_eq(f.sid, sid);
	ck_assert(!f.pasid_valid);
	ck_assert_uint_eq(f.pasid, 0);
	ck_assert_uint_eq(f.addr, iova & ~0xFFFULL);
	ck_assert_int_eq(f.write, !!(acc & DMA_ACC_WRITE));
	ck_assert(!f.exec && !f.priv);
	ck_assert_int_eq(f.fpd, fpd);
}

static void expect_ok(uint16_t sid, unsigned int acc, uint64_t iova, uint64_t gpa, uint64_t len)
{
	struct dma_xlate r;
	struct vtd_fault f;

	ck_assert_int_eq(xl(sid, acc, iova, &r, &f), 0);
	ck_assert_uint_eq(r.gpa, gpa);
	ck_assert_uint_eq(r.len, len);
}

static void ctx4(void)
{
	tb_legacy_ctx(&T, RTA, SID, tb_legacy_lo(SLPT, 0), tb_legacy_hi(7, 2));
}

START_TEST(test_4level_4k)
{
	ctx4();
	tb_map(&T, SLPT, 4, 0x12345000, 0x200000, 1, SS_RW, 1, 0); /* read-only */
	expect_ok(SID, DMA_ACC_READ, 0x12345678, 0x200678, 0x1000 - 0x678);
	expect_fault(SID, DMA_ACC_WRITE, 0x12345678, VTD_FR_WRITE, false);
	expect_fault(SID, DMA_ACC_READ, 0x12346000, VTD_FR_READ, false); /* not present */
}
END_TEST

START_TEST(test_3_and_5_level)
{
	uint64_t s3 = tb_page(&T), s5 = tb_page(&T);

	tb_legacy_ctx(&T, RTA, 0x0001, tb_legacy_lo(s3, 0), tb_legacy_hi(1, 1));
	tb_legacy_ctx(&T, RTA, 0x0002, tb_legacy_lo(s5, 0), tb_legacy_hi(2, 3));
	tb_map(&T, s3, 3, 0x7FFFFFF000, 0x300000, 1, SS_RW, SS_RW, 0);
	tb_map(&T, s5, 5, 0x1FFFFFFFFFF000, 0x301000, 1, SS_RW, SS_RW, 0);
	expect_ok(0x0001, DMA_ACC_WRITE, 0x7FFFFFF010, 0x300010, 0xFF0);
	expect_fault(0x0001, DMA_ACC_READ, 0x8000000000, VTD_FR_ADDR_BEYOND_MGAW, false);
	expect_ok(0x0002, DMA_ACC_READ, 0x1FFFFFFFFFF008, 0x301008, 0xFF8);
}
END_TEST

START_TEST(test_large_pages)
{
	ctx4();
	tb_map(&T, SLPT, 4, 0x40000000, 0x400000, 2, SS_RW, SS_RW, 0);
	tb_map(&T, SLPT, 4, 0x80000000, 0x40000000, 3, SS_RW, SS_RW, 0);
	expect_ok(SID, DMA_ACC_READ, 0x40123456, 0x523456, 0x200000 - 0x123456);
	expect_ok(SID, DMA_ACC_WRITE, 0x80123456, 0x40123456, 0x40000000 - 0x123456);
}
END_TEST

START_TEST(test_large_pages_not_supported)
{
	struct vtd_caps c = tb_caps();

	teardown();
	c.sslps_1g = false;
	setup_caps(&c);
	ctx4();
	tb_map(&T, SLPT, 4, 0x80000000, 0x40000000, 3, SS_RW, SS_RW, 0);
	expect_fault(SID, DMA_ACC_READ, 0x80000000, VTD_FR_PAGING_ENTRY_RSVD, false);
}
END_TEST

START_TEST(test_permissions_and_down)
{
	ctx4();
	/* Upper levels read-only, leaf RW: write must fault. */
	tb_map(&T, SLPT, 4, 0x5000, 0x600000, 1, 1, SS_RW, 0);
	expect_ok(SID, DMA_ACC_READ, 0x5000, 0x600000, 0x1000);
	expect_fault(SID, DMA_ACC_WRITE, 0x5000, VTD_FR_WRITE, false);
}
END_TEST

START_TEST(test_root_and_context_faults)
{
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_ROOT_NOT_PRESENT, false);
	/* Context not present but FPD=1: FPD still honoured. */
	tb_legacy_ctx(&T, RTA, SID, 2, 0);
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_CTX_NOT_PRESENT, true);
	tb_legacy_ctx(&T, RTA, SID, tb_legacy_lo(SLPT, 0) | BIT_ULL(5), tb_legacy_hi(1, 2));
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_CTX_ENTRY_RSVD, false);
	tb_legacy_ctx(&T, RTA, SID, tb_legacy_lo(SLPT, 0), tb_legacy_hi(1, 2) | BIT_ULL(40));
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_CTX_ENTRY_RSVD, false);
	tb_legacy_ctx(&T, RTA, SID, tb_legacy_lo(SLPT, 3), tb_legacy_hi(1, 2));
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_CTX_INVALID, false);
	tb_legacy_ctx(&T, RTA, SID, tb_legacy_lo(SLPT, 0), tb_legacy_hi(1, 4)); /* AW=4 */
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_CTX_INVALID, false);
	/* Root reserved bit. */
	tb_w64(&T, RTA + 3 * 16, tb_r64(&T, RTA + 3 * 16) | 0x10);
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_ROOT_ENTRY_RSVD, false);
	/* Context table outside RAM. */
	tb_w64(&T, RTA + 3 * 16, 0x7000000000ULL | 1);
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_CTX_TABLE_INV, false);
	/* Root table outside RAM. */
	vtd_xlate_set_root(X, 0x7000000000ULL);
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_ROOT_TABLE_INV, false);
}
END_TEST

START_TEST(test_tt_checks)
{
	struct vtd_caps c = tb_caps();

	teardown();
	c.dt = false;
	c.pt = false;
	setup_caps(&c);
	tb_legacy_ctx(&T, RTA, SID, tb_legacy_lo(SLPT, 1), tb_legacy_hi(1, 2));
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_CTX_INVALID, false);
	tb_legacy_ctx(&T, RTA, 0x0311, tb_legacy_lo(0, 2), tb_legacy_hi(1, 2));
	expect_fault(0x0311, DMA_ACC_READ, 0x1000, VTD_FR_CTX_INVALID, false);
}
END_TEST

START_TEST(test_passthrough_and_devtlb)
{
	tb_legacy_ctx(&T, RTA, SID, tb_legacy_lo(0, 2), tb_legacy_hi(1, 0));
	expect_ok(SID, DMA_ACC_WRITE, 0x123456789, 0x123456789, 0x1000 - 0x789);
	expect_fault(SID, DMA_ACC_READ, 1ULL << 46, VTD_FR_ADDR_BEYOND_MGAW, false);
	tb_legacy_ctx(&T, RTA, 0x0311, tb_legacy_lo(SLPT, 1), tb_legacy_hi(1, 2));
	tb_map(&T, SLPT, 4, 0x3000, 0x700000, 1, SS_RW, SS_RW, 0);
	expect_ok(0x0311, DMA_ACC_READ, 0x3000, 0x700000, 0x1000);
}
END_TEST

START_TEST(test_paging_faults)
{
	uint64_t leaf;

	ctx4();
	leaf = tb_map(&T, SLPT, 4, 0x9000, 0x800000, 1, SS_RW, SS_RW, 0);
	tb_w64(&T, leaf, 0x800000 | SS_RW | BIT_ULL(11) | BIT_ULL(50)); /* beyond haw 46 */
	expect_fault(SID, DMA_ACC_READ, 0x9000, VTD_FR_PAGING_ENTRY_RSVD, false);
	/* Non-leaf PS at level 4 is reserved. */
	tb_map(&T, SLPT, 4, 0x8000000000, 0x800000, 4, SS_RW, SS_RW, 0);
	expect_fault(SID, DMA_ACC_READ, 0x8000000000, VTD_FR_PAGING_ENTRY_RSVD, false);
	/* Lower table outside RAM: paging entry not accessible. */
	tb_w64(&T, SLPT + 2 * 8, 0x7000000000 | SS_RW);
	expect_fault(SID, DMA_ACC_READ, 0x10000000000, VTD_FR_PAGING_ENTRY_INV, false);
	/* Top-level table outside RAM: the context entry is bad programming. */
	tb_legacy_ctx(&T, RTA, 0x0311, tb_legacy_lo(0x7000000000, 0), tb_legacy_hi(1, 2));
	expect_fault(0x0311, DMA_ACC_READ, 0x1000, VTD_FR_CTX_INVALID, false);
	/* Input beyond AGAW. */
	expect_fault(SID, DMA_ACC_READ, 1ULL << 48, VTD_FR_ADDR_BEYOND_MGAW, false);
	expect_fault(SID, DMA_ACC_READ, ~0ULL, VTD_FR_ADDR_BEYOND_MGAW, false);
}
END_TEST

START_TEST(test_interrupt_range_and_modes)
{
	struct dma_xlate r;
	struct vtd_fault f;
	struct dma_req req = { .sid = SID, .has_pasid = true, .pasid = 5, .access = DMA_ACC_READ };

	ctx4();
	tb_map(&T, SLPT, 4, 0xA000, 0xFEE00000, 1, SS_RW, SS_RW, 0);
	expect_fault(SID, DMA_ACC_WRITE, 0xA000, VTD_FR_INTERRUPT_ADDR, false);
	ck_assert_int_eq(vtd_xlate_translate(X, &req, 0x1000, &r, &f), -EACCES);
	ck_assert_uint_eq(f.reason, VTD_FR_SM_TTM_PASID);
	ck_assert(f.pasid_valid);
	ck_assert_uint_eq(f.pasid, 5);
	vtd_xlate_set_root(X, RTA | (3 << 10));
	expect_fault(SID, DMA_ACC_READ, 0x1000, VTD_FR_SM_RTADDR_INV, false);
}
END_TEST

START_TEST(test_hostile_tables)
{
	struct dma_xlate r;
	struct vtd_fault f;

	ctx4();
	/* Every level points back at the top table: bounded, ends at level 1. */
	tb_w64(&T, SLPT, SLPT | SS_RW);
	ck_assert_int_eq(xl(SID, DMA_ACC_READ, 0x0, &r, &f), 0);
	ck_assert_uint_eq(r.gpa, SLPT);
	/* A pointer near 2^64 is above haw: reserved. */
	tb_w64(&T, SLPT + 8, 0xFFFFFFFFFFFFF000ULL | SS_RW);
	expect_fault(SID, DMA_ACC_READ, 1ULL << 39, VTD_FR_PAGING_ENTRY_RSVD, false);
	/* A table at the very end of RAM + 1 page: not accessible. */
	tb_w64(&T, SLPT + 16, TB_RAM | SS_RW);
	expect_fault(SID, DMA_ACC_READ, 2ULL << 39, VTD_FR_PAGING_ENTRY_INV, false);
}
END_TEST

/* Legacy context: "device-TLB allowed" is TT=01, page requests never. */
START_TEST(test_context_flags_legacy)
{
	struct vtd_ctx_flags cf;
	struct vtd_fault f;

	tb_legacy_ctx(&T, RTA, SID, tb_legacy_lo(SLPT, 1), tb_legacy_hi(5, 2));
	tb_legacy_ctx(&T, RTA, SID + 1, tb_legacy_lo(SLPT, 0) | 2, tb_legacy_hi(5, 2));
	ck_assert_int_eq(vtd_xlate_context_flags(X, SID, &cf, &f), 0);
	ck_assert(!cf.sm && cf.dte && !cf.pre && !cf.fpd);
	ck_assert_int_eq(vtd_xlate_context_flags(X, SID + 1, &cf, &f), 0);
	ck_assert(!cf.sm && !cf.dte && !cf.pre && cf.fpd);
	ck_assert_int_eq(vtd_xlate_context_flags(X, SID + 2, &cf, &f), -EACCES);
	ck_assert_uint_eq(f.reason, VTD_FR_CTX_NOT_PRESENT);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xlate-legacy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_4level_4k);
	tcase_add_test(tc, test_3_and_5_level);
	tcase_add_test(tc, test_large_pages);
	tcase_add_test(tc, test_large_pages_not_supported);
	tcase_add_test(tc, test_permissions_and_down);
	tcase_add_test(tc, test_root_and_context_faults);
	tcase_add_test(tc, test_tt_checks);
	tcase_add_test(tc, test_passthrough_and_devtlb);
	tcase_add_test(tc, test_paging_faults);
	tcase_add_test(tc, test_interrupt_range_and_modes);
	tcase_add_test(tc, test_hostile_tables);
	tcase_add_test(tc, test_context_flags_legacy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
