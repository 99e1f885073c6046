/* SPDX-License-Identifier: MIT */
/* Unit tests for scalable-mode (TTM=01) walks, permissions, A/D and faults in the VT-d engine. */
#include <check.h>
#include <errno.h>

#include "xlate-tb.h"

static struct tb T;
static struct vtd_xlate *X;
static uint64_t RTA, DIR, SLPT, FLPT;
static const uint16_t SID = 0x0508;

static void setup_caps(const struct vtd_caps *caps)
{
	tb_init(&T);
	X = vtd_xlate_create(&T.gm, caps, NULL);
	ck_assert_ptr_nonnull(X);
	RTA = tb_page(&T);
	DIR = tb_page(&T);
	SLPT = tb_page(&T);
	FLPT = tb_page(&T);
	vtd_xlate_set_root(X, RTA | (1 << 10));
	/* P, PASIDE, PDTS=0 (128 directory entries), RID_PASID 0. */
	tb_sm_ctx(&T, RTA, SID, DIR | BIT_ULL(3) | 1, 0);
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

static void pe_set(uint32_t pasid, unsigned int pgtt, uint16_t did, uint64_t w2_flags)
{
	uint64_t pe[8] = { 0 };

	pe[0] = 1 | (2 << 2) | ((uint64_t)pgtt << 6) |
		((pgtt == 2 || pgtt == 3) ? SLPT : 0);
	pe[1] = did;
	pe[2] = ((pgtt == 1 || pgtt == 3) ? FLPT : 0) | w2_flags;
	tb_pasid(&T, DIR, pasid, pe);
}

static int xl(bool has_pasid, uint32_t pasid, unsigned int acc, uint64_t iova,
	      struct dma_xlate *r, struct vtd_fault *f)
{
	struct dma_req req = { .sid = SID, .has_pasid = has_pasid, .pasid = pasid, .access = acc };

	return vtd_xlate_translate(X, &req, iova, r, f);
}

static void expect_fault(bool has_pasid, uint32_t pasid, unsigned int acc, uint64_t iova,
			 int reason, bool fpd)
{
	struct dma_xlate r;
	struct vtd_fault f;

	memset(&f, 0x55, sizeof(f));
	ck_assert_int_eq(xl(has_pasid, pasid, acc, iova, &r, &f), -EACCES);
	ck_assert_uint_eq(f.reason, reason);
	ck_assert_uint_eq(f.sid, SID);
	ck_assert_int_eq(f.pasid_valid, has_pasid);
	ck_assert_uint_eq(f.pasid, has_pasid ? pasid : 0);
	ck_assert_uint_eq(f.addr, iova & ~0xFFFULL);
	ck_assert_int_eq(f.write, !!(acc & DMA_ACC_WRITE));
	ck_assert_int_eq(f.exec, has_pasid && (acc & DMA_ACC_EXEC));
	ck_assert_int_eq(f.priv, has_pasid && (acc & DMA_ACC_PRIV));
	ck_assert_int_eq(f.fpd, fpd);
}

static void expect_ok(bool has_pasid, uint32_t pasid, unsigned int acc, uint64_t iova,
		      uint64_t gpa, uint64_t len)
{
	struct dma_xlate r;
	struct vtd_fault f;

	ck_assert_int_eq(xl(has_pasid, pasid, acc, iova, &r, &f), 0);
	ck_assert_uint_eq(r.gpa, gpa);
	ck_assert_uint_eq(r.len, len);
}

START_TEST(test_ss_only_rid_pasid)
{
	pe_set(0, 2, 3, 0);
	tb_map(&T, SLPT, 4, 0x4000, 0x900000, 1, SS_RW, 1, 0);
	expect_ok(false, 0, DMA_ACC_READ, 0x4010, 0x900010, 0xFF0);
	expect_fault(false, 0, DMA_ACC_WRITE, 0x4010, VTD_FR_SM_WRITE, false);
	expect_fault(false, 0, DMA_ACC_READ, 0x5000, VTD_FR_SS_PERM, false);
	tb_map(&T, SLPT, 4, 0x6000, 0x900000, 1, SS_RW, 2, 0);
	expect_fault(false, 0, DMA_ACC_READ, 0x6000, VTD_FR_SM_READ, false);
	/* Requests with PASID 0 use the same entry. */
	expect_ok(true, 0, DMA_ACC_READ, 0x4000, 0x900000, 0x1000);
}
END_TEST

START_TEST(test_fs_4level_ad)
{
	uint64_t leaf;

	pe_set(9, 1, 4, 0);
	leaf = tb_map(&T, FLPT, 4, 0x7000, 0xA00000, 1, FS_TBL, FS_P | FS_RW | FS_US, 0);
	expect_ok(true, 9, DMA_ACC_READ, 0x7004, 0xA00004, 0xFFC);
	ck_assert(tb_r64(&T, leaf) & VTD_FSPTE_A);
	ck_assert(!(tb_r64(&T, leaf) & VTD_FSPTE_D));
	ck_assert(tb_r64(&T, FLPT) & VTD_FSPTE_A);
	ck_assert(!(tb_r64(&T, FLPT) & VTD_FSPTE_D));
	/* A write on the cached clean translation re-walks and sets D on the leaf only. */
	expect_ok(true, 9, DMA_ACC_WRITE, 0x7004, 0xA00004, 0xFFC);
	ck_assert(tb_r64(&T, leaf) & VTD_FSPTE_D);
	ck_assert(!(tb_r64(&T, FLPT) & VTD_FSPTE_D));
	expect_fault(true, 9, DMA_ACC_READ, 0x8000, VTD_FR_FS_NOT_PRESENT, false);
	/* Without PASID the RID_PASID (0) entry is used, which is not present. */
	expect_fault(false, 0, DMA_ACC_READ, 0x7000, VTD_FR_SM_PE_NOT_PRESENT, false);
}
END_TEST

START_TEST(test_fs_5level_large)
{
	pe_set(10, 1, 4, 1 << 2); /* FLPM=1 */
	tb_map(&T, FLPT, 5, 0x00FF000000200000ULL, 0xC00000, 2, FS_TBL, FS_P | FS_RW | FS_US, 0);
	tb_map(&T, FLPT, 5, 0x40000000, 0x40000000, 3, FS_TBL, FS_P | FS_US, 0);
	expect_ok(true, 10, DMA_ACC_READ, 0x00FF000000212345ULL, 0xC12345, 0x200000 - 0x12345);
	expect_ok(true, 10, DMA_ACC_READ, 0x40000010, 0x40000010, 0x40000000 - 0x10);
	expect_fault(true, 10, DMA_ACC_WRITE, 0x40000010, VTD_FR_SM_WRITE, false);
	/* Bit 57+ set but not sign-extended: not canonical for 5-level. */
	expect_fault(true, 10, DMA_ACC_READ, 0x0200000000000000ULL, VTD_FR_FS_NON_CANONICAL, false);
}
END_TEST

START_TEST(test_fs1gp_off)
{
	struct vtd_caps c = tb_caps();

	teardown();
	c.fs1gp = false;
	setup_caps(&c);
	pe_set(1, 1, 4, 0);
	tb_map(&T, FLPT, 4, 0x40000000, 0x40000000, 3, FS_TBL, FS_P | FS_US, 0);
	expect_fault(true, 1, DMA_ACC_READ, 0x40000000, VTD_FR_FS_RSVD, false);
}
END_TEST

START_TEST(test_nested)
{
	uint64_t leaf;

	tb_ss_alias(&T, SLPT, 4, SS_RW);
	/* FS tables are only visible at host + TB_ALIAS; output GPAs too. */
	{
		uint64_t pe[8] = { 0 };

		pe[0] = 1 | (2 << 2) | (3 << 6) | SLPT;
		pe[1] = 5;
		pe[2] = FLPT + TB_ALIAS;
		tb_pasid(&T, DIR, 2, pe);
	}
	leaf = tb_map(&T, FLPT, 4, 0x123000, TB_ALIAS + 0xB00000, 1, FS_TBL,
		      FS_P | FS_RW | FS_US, TB_ALIAS);
	expect_ok(true, 2, DMA_ACC_WRITE, 0x123008, 0xB00008, 0xFF8);
	ck_assert(tb_r64(&T, leaf) & VTD_FSPTE_A);
	ck_assert(tb_r64(&T, leaf) & VTD_FSPTE_D);
	ck_assert(tb_r64(&T, FLPT) & VTD_FSPTE_A);
	/* An FS output GPA the second stage does not map. */
	tb_map(&T, FLPT, 4, 0x124000, 0x5000000000ULL, 1, FS_TBL, FS_P | FS_US | VTD_FSPTE_A,
	       TB_ALIAS);
	expect_fault(true, 2, DMA_ACC_READ, 0x124000, VTD_FR_SS_PERM, false);
	/* An FS table pointer the second stage does not map. */
	tb_w64(&T, FLPT + 8, (1ULL << 45) | FS_TBL | VTD_FSPTE_A);
	expect_fault(true, 2, DMA_ACC_READ, 0x8000000000ULL, VTD_FR_SS_PERM, false);
}
END_TEST

START_TEST(test_nested_fs_beyond_ss_width)
{
	uint64_t pe[8] = { 0 };

	tb_ss_alias(&T, SLPT, 3, SS_RW); /* 39-bit second stage */
	pe[0] = 1 | (1 << 2) | (3 << 6) | SLPT;
	pe[1] = 6;
	pe[2] = FLPT + TB_ALIAS;
	tb_pasid(&T, DIR, 4, pe);
	tb_w64(&T, FLPT, (1ULL << 40) | FS_TBL | VTD_FSPTE_A);
	expect_fault(true, 4, DMA_ACC_READ, 0x1000, VTD_FR_NESTED_FS_BEYOND_MGAW, false);
}
END_TEST

START_TEST(test_nested_ss_perms)
{
	uint64_t pe[8] = { 0 };

	/* Second stage maps the FS tables write-only (no read): FS table reads fault. */
	tb_ss_alias(&T, SLPT, 4, 2);
	pe[0] = 1 | (2 << 2) | (3 << 6) | SLPT;
	pe[1] = 6;
	pe[2] = FLPT + TB_ALIAS;
	tb_pasid(&T, DIR, 3, pe);
	expect_fault(true, 3, DMA_ACC_READ, 0x1000, VTD_FR_NESTED_FS_PML4_READ, false);
}
END_TEST

START_TEST(test_nested_ad_needs_ss_write)
{
	uint64_t pe[8] = { 0 };

	tb_ss_alias(&T, SLPT, 4, 1); /* read-only second stage */
	pe[0] = 1 | (2 << 2) | (3 << 6) | SLPT;
	pe[1] = 6;
	pe[2] = FLPT + TB_ALIAS;
	tb_pasid(&T, DIR, 4, pe);
	tb_map(&T, FLPT, 4, 0x1000, TB_ALIAS + 0x100000, 1, FS_TBL, FS_P | FS_US, TB_ALIAS);
	expect_fault(true, 4, DMA_ACC_READ, 0x1000, VTD_FR_NESTED_FS_WRITE, false);
}
END_TEST

START_TEST(test_nested_fs_read_perm)
{
	uint64_t pe[8] = { 0 }, l4e;

	tb_ss_alias(&T, SLPT, 4, SS_RW);
	pe[0] = 1 | (2 << 2) | (3 << 6) | SLPT;
	pe[1] = 6;
	pe[2] = FLPT + TB_ALIAS;
	tb_pasid(&T, DIR, 4, pe);
	tb_map(&T, FLPT, 4, 0x1000, TB_ALIAS + 0x100000, 1, FS_TBL, FS_P | FS_US, TB_ALIAS);
	/* Point the PML4E at a GPA whose SS mapping is write-only. */
	tb_map(&T, SLPT, 4, 0x4000000000ULL, 0x200000, 1, SS_RW, 2, 0);
	l4e = tb_r64(&T, FLPT);
	tb_w64(&T, FLPT, (l4e & 0xFFF) | 0x4000000000ULL);
	expect_fault(true, 4, DMA_ACC_READ, 0x1000, VTD_FR_NESTED_FS_READ, false);
}
END_TEST

START_TEST(test_passthrough)
{
	pe_set(7, 4, 8, 0);
	expect_ok(true, 7, DMA_ACC_WRITE, 0xDEAD000, 0xDEAD000, 0x1000);
	expect_fault(true, 7, DMA_ACC_READ, 1ULL << 46, VTD_FR_ADDR_BEYOND_HAW, false);
}
END_TEST

START_TEST(test_fs_permissions)
{
	/* SRE, ERE, WPE=0 */
	pe_set(11, 1, 4, 1 | 2);
	tb_map(&T, FLPT, 4, 0x1000, 0x100000, 1, FS_TBL, FS_P, 0);            /* supervisor RO */
	tb_map(&T, FLPT, 4, 0x2000, 0x101000, 1, FS_TBL, FS_P | FS_US | FS_XD, 0); /* user XD */
	expect_fault(true, 11, DMA_ACC_READ, 0x1000, VTD_FR_FS_USER, false);
	expect_ok(true, 11, DMA_ACC_READ | DMA_ACC_PRIV, 0x1000, 0x100000, 0x1000);
	/* WPE=0: supervisor writes ignore R/W. */
	expect_ok(true, 11, DMA_ACC_WRITE | DMA_ACC_PRIV, 0x1000, 0x100000, 0x1000);
	expect_fault(true, 11, DMA_ACC_READ | DMA_ACC_EXEC, 0x2000, VTD_FR_FS_EXEC, false);
	expect_fault(true, 11, DMA_ACC_WRITE, 0x2000, VTD_FR_SM_WRITE, false);
	/* WPE=1: supervisor writes honour R/W. */
	pe_set(12, 1, 4, 1 | 2 | 0x10);
	expect_fault(true, 12, DMA_ACC_WRITE | DMA_ACC_PRIV, 0x1000, VTD_FR_SM_WRITE, false);
	/* SRE=0, ERE=0. */
	pe_set(13, 1, 4, 0);
	expect_fault(true, 13, DMA_ACC_READ | DMA_ACC_PRIV, 0x1000, VTD_FR_SM_SRE, false);
	expect_fault(true, 13, DMA_ACC_READ | DMA_ACC_EXEC, 0x2000, VTD_FR_SM_ERE, false);
}
END_TEST

START_TEST(test_structure_faults)
{
	uint64_t pe[8] = { 0 }, ea;

	/* PASIDE=0 in another device's context, FPD=1. */
	tb_sm_ctx(&T, RTA, 0x0509, DIR | 2 | 1, 0);
	{
		struct dma_req rq = { .sid = 0x0509, .has_pasid = true, .pasid = 1,
				      .access = DMA_ACC_READ };
		struct dma_xlate r;
		struct vtd_fault f;

		ck_assert_int_eq(vtd_xlate_translate(X, &rq, 0, &r, &f), -EACCES);
		ck_assert_uint_eq(f.reason, VTD_FR_SM_CTX_PASIDE);
		ck_assert(f.fpd);
	}
	expect_fault(true, 128 * 64, DMA_ACC_READ, 0, VTD_FR_SM_PASID_BEYOND_PDTS, false);
	expect_fault(true, 1, DMA_ACC_READ, 0, VTD_FR_SM_PDE_NOT_PRESENT, false);
	tb_w64(&T, DIR + 8, 2); /* directory entry for PASIDs 64..127: P=0, FPD=1 */
	expect_fault(true, 64, DMA_ACC_READ, 0, VTD_FR_SM_PDE_NOT_PRESENT, true);
	tb_w64(&T, DIR + 8, 0x100000 | 1 | 0x10);
	expect_fault(true, 64, DMA_ACC_READ, 0, VTD_FR_SM_PDE_RSVD, false);
	tb_w64(&T, DIR + 8, 0x7000000000ULL | 1);
	expect_fault(true, 64, DMA_ACC_READ, 0, VTD_FR_SM_PE_ACCESS, false);
	pe[0] = 2; /* P=0, FPD=1 */
	ea = tb_pasid(&T, DIR, 130, pe);
	expect_fault(true, 130, DMA_ACC_READ, 0, VTD_FR_SM_PE_NOT_PRESENT, true);
	pe[0] = 1 | (2 << 2) | (2 << 6) | SLPT;
	pe[5] = 1;
	tb_pasid(&T, DIR, 130, pe);
	expect_fault(true, 130, DMA_ACC_READ, 0, VTD_FR_SM_PE_RSVD, false);
	pe[5] = 0;
	pe[0] = 1 | (2 << 2) | (5 << 6) | SLPT;
	tb_pasid(&T, DIR, 130, pe);
	expect_fault(true, 130, DMA_ACC_READ, 0, VTD_FR_SM_PE_INVALID, false);
	pe[0] = 1 | (4 << 2) | (2 << 6) | SLPT; /* AW=4 */
	tb_pasid(&T, DIR, 130, pe);
	expect_fault(true, 130, DMA_ACC_READ, 0, VTD_FR_SM_PE_INVALID, false);
	(void)ea;
}
END_TEST

START_TEST(test_caps_refuse_modes)
{
	struct vtd_caps c = tb_caps();

	teardown();
	c.nest = false;
	c.fs5lp = false;
	c.pasid_bits = 8;
	setup_caps(&c);
	pe_set(1, 3, 5, 0);
	expect_fault(true, 1, DMA_ACC_READ, 0, VTD_FR_SM_PE_INVALID, false);
	pe_set(2, 1, 5, 1 << 2);
	expect_fault(true, 2, DMA_ACC_READ, 0, VTD_FR_SM_PE_INVALID, false);
	expect_fault(true, 300, DMA_ACC_READ, 0, VTD_FR_SM_PASID_BEYOND_PDTS, false);
}
END_TEST

START_TEST(test_root_context_faults)
{
	expect_fault(false, 0, DMA_ACC_READ, 0, VTD_FR_SM_PDE_NOT_PRESENT, false);
	{
		struct dma_req rq = { .sid = 0x0688, .access = DMA_ACC_READ };
		struct dma_xlate r;
		struct vtd_fault f;

		ck_assert_int_eq(vtd_xlate_translate(X, &rq, 0, &r, &f), -EACCES);
		ck_assert_uint_eq(f.reason, VTD_FR_SM_ROOT_NOT_PRESENT);
		tb_sm_ctx(&T, RTA, 0x0688, 2, 0); /* P=0, FPD=1 */
		ck_assert_int_eq(vtd_xlate_translate(X, &rq, 0, &r, &f), -EACCES);
		ck_assert_uint_eq(f.reason, VTD_FR_SM_CTX_NOT_PRESENT);
		ck_assert(f.fpd);
		tb_sm_ctx(&T, RTA, 0x0688, DIR | 1 | 0x20, 0);
		ck_assert_int_eq(vtd_xlate_translate(X, &rq, 0, &r, &f), -EACCES);
		ck_assert_uint_eq(f.reason, VTD_FR_SM_CTX_RSVD);
		tb_w64(&T, RTA + 6 * 16 + 8, 0x7000000000ULL | 1);
		ck_assert_int_eq(vtd_xlate_translate(X, &rq, 0, &r, &f), -EACCES);
		ck_assert_uint_eq(f.reason, VTD_FR_SM_CTX_ACCESS);
		tb_w64(&T, RTA + 6 * 16 + 8, 0x100000 | 1 | 2);
		ck_assert_int_eq(vtd_xlate_translate(X, &rq, 0, &r, &f), -EACCES);
		ck_assert_uint_eq(f.reason, VTD_FR_SM_ROOT_RSVD);
	}
	vtd_xlate_set_root(X, 0x7000000000ULL | (1 << 10));
	vtd_xlate_flush_all(X);
	expect_fault(false, 0, DMA_ACC_READ, 0, VTD_FR_SM_ROOT_ACCESS, false);
}
END_TEST

START_TEST(test_ss_and_fs_walk_faults)
{
	pe_set(0, 2, 3, 0);
	pe_set(1, 1, 4, 0);
	/* SS reserved bit, SS leaf beyond haw, SS table outside RAM. */
	tb_w64(&T, tb_map(&T, SLPT, 4, 0x2000, 0, 1, SS_RW, SS_RW, 0), BIT_ULL(50) | SS_RW);
	expect_fault(false, 0, DMA_ACC_READ, 0x2000, VTD_FR_SS_OUTPUT_BEYOND, false);
	tb_w64(&T, SLPT + 8 * 8, (1ULL << 7) | 0x100000 | SS_RW); /* PS at level 4 */
	expect_fault(false, 0, DMA_ACC_READ, 8ULL << 39, VTD_FR_SS_RSVD, false);
	tb_w64(&T, SLPT + 9 * 8, 0x7000000000ULL | SS_RW);
	expect_fault(false, 0, DMA_ACC_READ, 9ULL << 39, VTD_FR_SS_ACCESS, false);
	expect_fault(false, 0, DMA_ACC_READ, 1ULL << 48, VTD_FR_ADDR_BEYOND_MGAW, false);
	/* FS: reserved, table outside RAM, top table outside RAM, interrupt range. */
	tb_w64(&T, FLPT + 8, BIT_ULL(7) | 0x100000 | FS_TBL); /* PS in PML4E */
	expect_fault(true, 1, DMA_ACC_READ, 1ULL << 39, VTD_FR_FS_RSVD, false);
	tb_w64(&T, FLPT + 16, 0x7000000000ULL | FS_TBL);
	expect_fault(true, 1, DMA_ACC_READ, 2ULL << 39, VTD_FR_FS_ACCESS, false);
	tb_map(&T, FLPT, 4, 0x5000, 0xFEE00000, 1, FS_TBL, FS_P | FS_RW | FS_US, 0);
	expect_fault(true, 1, DMA_ACC_WRITE, 0x5000, VTD_FR_SM_INTERRUPT_ADDR, false);
	{
		uint64_t pe[8] = { 1 | (1 << 6), 4, 0x7000000000ULL, 0, 0, 0, 0, 0 };

		tb_pasid(&T, DIR, 2, pe);
		expect_fault(true, 2, DMA_ACC_READ, 0x1000, VTD_FR_FS_PML4_ACCESS, false);
		pe[0] = 1 | (2 << 2) | (2 << 6) | 0x7000000000ULL;
		pe[2] = 0;
		tb_pasid(&T, DIR, 3, pe);
		expect_fault(true, 3, DMA_ACC_READ, 0x1000, VTD_FR_SS_ROOT_INV, false);
	}
}
END_TEST

START_TEST(test_rid_pasid_error)
{
	tb_sm_ctx(&T, RTA, 0x050A, DIR | 1, 200 * 64); /* RID_PASID beyond the 128-entry dir */
	{
		struct dma_req rq = { .sid = 0x050A, .access = DMA_ACC_READ };
		struct dma_xlate r;
		struct vtd_fault f;

		ck_assert_int_eq(vtd_xlate_translate(X, &rq, 0x3000, &r, &f), -EACCES);
		ck_assert_uint_eq(f.reason, VTD_FR_SM_RID_PASID);
		ck_assert(!f.pasid_valid);
		ck_assert_uint_eq(f.addr, 0x3000);
	}
}
END_TEST

/* DTE / PRE / FPD of a scalable-mode context entry, through the context cache. */
START_TEST(test_context_flags)
{
	struct vtd_ctx_flags cf;
	struct vtd_fault f;

	memset(&cf, 0xAA, sizeof(cf));
	ck_assert_int_eq(vtd_xlate_context_flags(X, SID, &cf, &f), 0);
	ck_assert(cf.sm && !cf.dte && !cf.pre && !cf.fpd);
	/* DTE + PRE + FPD set in memory: the cached entry wins until a context invalidation. */
	tb_sm_ctx(&T, RTA, SID, DIR | BIT_ULL(4) | BIT_ULL(3) | BIT_ULL(2) | 2 | 1, 0);
	ck_assert_int_eq(vtd_xlate_context_flags(X, SID, &cf, &f), 0);
	ck_assert(!cf.dte && !cf.pre);
	vtd_xlate_inv_context(X, VTD_INV_DEVICE, 0, SID, 0);
	ck_assert_int_eq(vtd_xlate_context_flags(X, SID, &cf, &f), 0);
	ck_assert(cf.sm && cf.dte && cf.pre && cf.fpd);
	/* No context: the translate fault reasons, FPD of a not-present entry kept. */
	ck_assert_int_eq(vtd_xlate_context_flags(X, 0x0688, &cf, &f), -EACCES);
	ck_assert_uint_eq(f.reason, VTD_FR_SM_ROOT_NOT_PRESENT);
	ck_assert_uint_eq(f.sid, 0x0688);
	tb_sm_ctx(&T, RTA, 0x0688, 2, 0);
	ck_assert_int_eq(vtd_xlate_context_flags(X, 0x0688, &cf, &f), -EACCES);
	ck_assert_uint_eq(f.reason, VTD_FR_SM_CTX_NOT_PRESENT);
	ck_assert(f.fpd);
	/* Bad root (TTM=11). */
	vtd_xlate_set_root(X, RTA | (3 << 10));
	ck_assert_int_eq(vtd_xlate_context_flags(X, SID, &cf, &f), -EACCES);
	ck_assert_uint_eq(f.reason, VTD_FR_SM_RTADDR_INV);
}
END_TEST

/* DTE / PRE set while the unit does not offer DT / PRS: invalid programming (0x43). */
START_TEST(test_context_flags_caps)
{
	struct vtd_caps c = tb_caps();
	struct vtd_ctx_flags cf;
	struct vtd_fault f;

	teardown();
	c.dt = false;
	c.prs = false;
	setup_caps(&c);
	tb_sm_ctx(&T, RTA, SID, DIR | BIT_ULL(3) | BIT_ULL(2) | 1, 0);
	ck_assert_int_eq(vtd_xlate_context_flags(X, SID, &cf, &f), -EACCES);
	ck_assert_uint_eq(f.reason, VTD_FR_SM_CTX_INVALID);
	tb_sm_ctx(&T, RTA, SID, DIR | BIT_ULL(4) | BIT_ULL(3) | 1, 0);
	ck_assert_int_eq(vtd_xlate_context_flags(X, SID, &cf, &f), -EACCES);
	ck_assert_uint_eq(f.reason, VTD_FR_SM_CTX_INVALID);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xlate-sm");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ss_only_rid_pasid);
	tcase_add_test(tc, test_fs_4level_ad);
	tcase_add_test(tc, test_fs_5level_large);
	tcase_add_test(tc, test_fs1gp_off);
	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_nested_ss_perms);
	tcase_add_test(tc, test_nested_fs_beyond_ss_width);
	tcase_add_test(tc, test_nested_ad_needs_ss_write);
	tcase_add_test(tc, test_nested_fs_read_perm);
	tcase_add_test(tc, test_passthrough);
	tcase_add_test(tc, test_fs_permissions);
	tcase_add_test(tc, test_structure_faults);
	tcase_add_test(tc, test_caps_refuse_modes);
	tcase_add_test(tc, test_root_context_faults);
	tcase_add_test(tc, test_ss_and_fs_walk_faults);
	tcase_add_test(tc, test_rid_pasid_error);
	tcase_add_test(tc, test_context_flags);
	tcase_add_test(tc, test_context_flags_caps);
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
