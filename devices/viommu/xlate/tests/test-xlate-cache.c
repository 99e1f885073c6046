/* SPDX-License-Identifier: MIT */
/* Unit tests for the VT-d engine's caches: hits, staleness until the right invalidation, scopes. */
#include <check.h>
#include <errno.h>
#include <pthread.h>

#include "xlate-tb.h"

static struct tb T;
static struct vtd_xlate *X;
static uint64_t RTA, DIR, SLPT, FLPT;

static void setup_sizes(const struct vtd_cache_sizes *sz)
{
	struct vtd_caps c = tb_caps();

	tb_init(&T);
	X = vtd_xlate_create(&T.gm, &c, sz);
	ck_assert_ptr_nonnull(X);
	RTA = tb_page(&T);
	DIR = tb_page(&T);
	SLPT = tb_page(&T);
	FLPT = tb_page(&T);
}

static void setup(void)
{
	setup_sizes(NULL);
}

static void teardown(void)
{
	vtd_xlate_destroy(X);
	tb_fini(&T);
}

static uint64_t gpa_of(uint16_t sid, bool hp, uint32_t pasid, uint64_t iova)
{
	struct dma_req req = { .sid = sid, .has_pasid = hp, .pasid = pasid, .access = DMA_ACC_READ };
	struct dma_xlate r;
	struct vtd_fault f;

	if (vtd_xlate_translate(X, &req, iova, &r, &f))
		return ~0ULL - f.reason;
	return r.gpa;
}

/* Legacy: two devices in domains 1 and 2 sharing table SLPT at 4 levels. */
static void legacy_two_domains(void)
{
	vtd_xlate_set_root(X, RTA);
	tb_legacy_ctx(&T, RTA, 0x0100, tb_legacy_lo(SLPT, 0), tb_legacy_hi(1, 2));
	tb_legacy_ctx(&T, RTA, 0x0108, tb_legacy_lo(SLPT, 0), tb_legacy_hi(2, 2));
}

START_TEST(test_hit_after_miss_and_stale)
{
	struct vtd_xlate_stats st;
	uint64_t leaf;

	legacy_two_domains();
	leaf = tb_map(&T, SLPT, 4, 0x1000, 0x100000, 1, SS_RW, SS_RW, 0);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1010), 0x100010);
	vtd_xlate_get_stats(X, &st);
	ck_assert_uint_eq(st.iotlb_misses, 1);
	ck_assert_uint_eq(st.iotlb_hits, 1);
	tb_w64(&T, leaf, 0x200000 | SS_RW);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000); /* stale, as hardware */
	vtd_xlate_inv_iotlb(X, VTD_INV_PAGE, 2, 0x1000, 0, false);    /* wrong domain */
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000);
	vtd_xlate_inv_iotlb(X, VTD_INV_PAGE, 1, 0x1000, 0, false);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x200000);
	/* Unmapping is also not seen until invalidated; then it faults. */
	tb_w64(&T, leaf, 0);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x200000);
	vtd_xlate_inv_iotlb(X, VTD_INV_GLOBAL, 0, 0, 0, false);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), ~0ULL - VTD_FR_READ);
}
END_TEST

START_TEST(test_page_inv_am)
{
	uint64_t leaf[4];

	legacy_two_domains();
	for (int i = 0; i < 4; i++)
		leaf[i] = tb_map(&T, SLPT, 4, 0x10000 + i * 0x1000, 0x100000 + i * 0x1000, 1, SS_RW,
				 SS_RW, 0);
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x10000 + i * 0x1000), 0x100000 + i * 0x1000);
	for (int i = 0; i < 4; i++)
		tb_w64(&T, leaf[i], (0x300000 + i * 0x1000) | SS_RW);
	/* AM=1 at 0x12000 covers 0x12000-0x13FFF only. */
	vtd_xlate_inv_iotlb(X, VTD_INV_PAGE, 1, 0x12000, 1, true);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x10000), 0x100000);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x11000), 0x101000);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x12000), 0x302000);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x13000), 0x303000);
}
END_TEST

START_TEST(test_domain_inv_only_that_did)
{
	uint64_t leaf;

	legacy_two_domains();
	leaf = tb_map(&T, SLPT, 4, 0x1000, 0x100000, 1, SS_RW, SS_RW, 0);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000);
	ck_assert_uint_eq(gpa_of(0x0108, false, 0, 0x1000), 0x100000);
	tb_w64(&T, leaf, 0x200000 | SS_RW);
	vtd_xlate_inv_iotlb(X, VTD_INV_DOMAIN, 2, 0, 0, false);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000);
	ck_assert_uint_eq(gpa_of(0x0108, false, 0, 0x1000), 0x200000);
}
END_TEST

START_TEST(test_ih_keeps_paging_structure_cache)
{
	uint64_t l2 = tb_page(&T), pde_addr;

	legacy_two_domains();
	tb_map(&T, SLPT, 4, 0x1000, 0x100000, 1, SS_RW, SS_RW, 0);
	tb_map(&T, SLPT, 4, 0x2000, 0x101000, 1, SS_RW, SS_RW, 0);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000);
	/* Re-point the level-2 entry (PDE) at a new leaf table that maps 0x2000 elsewhere. */
	tb_w64(&T, l2 + 2 * 8, 0x500000 | SS_RW);
	pde_addr = (tb_r64(&T, (tb_r64(&T, SLPT) & GENMASK_ULL(51, 12))) & GENMASK_ULL(51, 12));
	tb_w64(&T, pde_addr, l2 | SS_RW);
	vtd_xlate_inv_iotlb(X, VTD_INV_PAGE, 1, 0x2000, 0, true); /* IH=1: PDE cache kept */
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x2000), 0x101000);
	vtd_xlate_inv_iotlb(X, VTD_INV_PAGE, 1, 0x2000, 0, false);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x2000), 0x500000);
}
END_TEST

START_TEST(test_context_inv_device_fm)
{
	uint64_t s2 = tb_page(&T);

	legacy_two_domains();
	tb_map(&T, SLPT, 4, 0x1000, 0x100000, 1, SS_RW, SS_RW, 0);
	tb_map(&T, s2, 4, 0x1000, 0x700000, 1, SS_RW, SS_RW, 0);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000);
	tb_legacy_ctx(&T, RTA, 0x0100, tb_legacy_lo(s2, 0), tb_legacy_hi(1, 2));
	vtd_xlate_inv_iotlb(X, VTD_INV_DOMAIN, 1, 0, 0, false);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000); /* stale context */
	vtd_xlate_inv_context(X, VTD_INV_DEVICE, 1, 0x0104, 0);     /* other device */
	vtd_xlate_inv_iotlb(X, VTD_INV_DOMAIN, 1, 0, 0, false);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000);
	vtd_xlate_inv_context(X, VTD_INV_DEVICE, 1, 0x0104, 1);     /* FM=1 masks bit 2 */
	vtd_xlate_inv_iotlb(X, VTD_INV_DOMAIN, 1, 0, 0, false);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x700000);
}
END_TEST

/* Scalable mode: FS-only PASID 5 (DID 4), nested PASID 6 (DID 4), SS-only RID_PASID (DID 4). */
static uint64_t sm_setup(uint64_t *ret_fs_leaf)
{
	uint64_t pe[8] = { 0 }, nflpt = tb_page(&T), leaf;

	vtd_xlate_set_root(X, RTA | (1 << 10));
	tb_sm_ctx(&T, RTA, 0x0200, DIR | BIT_ULL(3) | 1, 0);
	pe[0] = 1 | (2 << 2) | (1 << 6);
	pe[1] = 4;
	pe[2] = FLPT;
	tb_pasid(&T, DIR, 5, pe);
	pe[0] = 1 | (2 << 2) | (3 << 6) | SLPT;
	pe[2] = nflpt + TB_ALIAS;
	tb_pasid(&T, DIR, 6, pe);
	pe[0] = 1 | (2 << 2) | (2 << 6) | SLPT;
	pe[2] = 0;
	tb_pasid(&T, DIR, 0, pe);
	tb_ss_alias(&T, SLPT, 4, SS_RW);
	*ret_fs_leaf = tb_map(&T, FLPT, 4, 0x1000, 0x100000, 1, FS_TBL, FS_P | FS_RW | FS_US, 0);
	leaf = tb_map(&T, nflpt, 4, 0x1000, TB_ALIAS + 0x200000, 1, FS_TBL, FS_P | FS_RW | FS_US,
		      TB_ALIAS);
	ck_assert_uint_eq(gpa_of(0x0200, true, 5, 0x1000), 0x100000);
	ck_assert_uint_eq(gpa_of(0x0200, true, 6, 0x1000), 0x200000);
	ck_assert_uint_eq(gpa_of(0x0200, false, 0, TB_ALIAS + 0x1000), 0x1000);
	return leaf;
}

START_TEST(test_piotlb_scopes)
{
	uint64_t fs_leaf, n_leaf = sm_setup(&fs_leaf);

	tb_w64(&T, fs_leaf, 0x110000 | FS_P | FS_RW | FS_US);
	tb_w64(&T, n_leaf, (TB_ALIAS + 0x210000) | FS_P | FS_RW | FS_US);
	/* IOTLB (non-PASID) DID invalidation: nested and SS entries go, FS-only stays. */
	vtd_xlate_inv_iotlb(X, VTD_INV_DOMAIN, 4, 0, 0, false);
	ck_assert_uint_eq(gpa_of(0x0200, true, 5, 0x1000), 0x100000);
	ck_assert_uint_eq(gpa_of(0x0200, true, 6, 0x1000), 0x210000);
	/* PASID-based: only PASID 5. */
	tb_w64(&T, n_leaf, (TB_ALIAS + 0x220000) | FS_P | FS_RW | FS_US);
	vtd_xlate_inv_piotlb(X, VTD_INV_PASID, 4, 5, 0, 0, false);
	ck_assert_uint_eq(gpa_of(0x0200, true, 5, 0x1000), 0x110000);
	ck_assert_uint_eq(gpa_of(0x0200, true, 6, 0x1000), 0x210000);
	/* PASID-page of another address leaves it; the right address drops it. */
	vtd_xlate_inv_piotlb(X, VTD_INV_PASID_PAGE, 4, 6, 0x5000, 0, true);
	ck_assert_uint_eq(gpa_of(0x0200, true, 6, 0x1000), 0x210000);
	vtd_xlate_inv_piotlb(X, VTD_INV_PASID_PAGE, 4, 6, 0x1000, 0, true);
	ck_assert_uint_eq(gpa_of(0x0200, true, 6, 0x1000), 0x220000);
}
END_TEST

START_TEST(test_pasid_cache_inv)
{
	uint64_t fs_leaf, pe[8] = { 0 }, f2 = tb_page(&T);

	sm_setup(&fs_leaf);
	tb_map(&T, f2, 4, 0x1000, 0x400000, 1, FS_TBL, FS_P | FS_US, 0);
	pe[0] = 1 | (2 << 2) | (1 << 6);
	pe[1] = 4;
	pe[2] = f2;
	tb_pasid(&T, DIR, 5, pe);
	vtd_xlate_inv_piotlb(X, VTD_INV_PASID, 4, 5, 0, 0, false);
	ck_assert_uint_eq(gpa_of(0x0200, true, 5, 0x1000), 0x100000); /* stale PASID entry */
	vtd_xlate_inv_pasid_cache(X, VTD_INV_PASID, 9, 5);              /* wrong DID */
	ck_assert_uint_eq(gpa_of(0x0200, true, 5, 0x1000), 0x100000);
	vtd_xlate_inv_pasid_cache(X, VTD_INV_PASID, 4, 5);
	vtd_xlate_inv_piotlb(X, VTD_INV_PASID, 4, 5, 0, 0, false);
	ck_assert_uint_eq(gpa_of(0x0200, true, 5, 0x1000), 0x400000);
}
END_TEST

START_TEST(test_eviction_bound)
{
	struct vtd_cache_sizes sz = { 4, 4, 8, 4 };
	struct vtd_xlate_stats st;

	teardown();
	setup_sizes(&sz);
	legacy_two_domains();
	for (uint64_t i = 0; i < 100; i++)
		tb_map(&T, SLPT, 4, i << 12, 0x100000 + (i << 12), 1, SS_RW, SS_RW, 0);
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t i = 0; i < 100; i++)
			ck_assert_uint_eq(gpa_of(0x0100, false, 0, i << 12), 0x100000 + (i << 12));
	ck_assert_uint_le(X->iotlb.count, 8);
	ck_assert_uint_le(X->pwc.count, 4);
	vtd_xlate_get_stats(X, &st);
	ck_assert_uint_ge(st.evictions, 192);
	/* The most recent page is still cached. */
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 99 << 12), 0x100000 + (99 << 12));
	vtd_xlate_get_stats(X, &st);
	ck_assert_uint_ge(st.iotlb_hits, 1);
}
END_TEST

static volatile int stop;

static void *inv_thread(void *arg)
{
	while (!stop) {
		vtd_xlate_inv_iotlb(X, VTD_INV_GLOBAL, 0, 0, 0, false);
		vtd_xlate_inv_context(X, VTD_INV_GLOBAL, 0, 0, 0);
	}
	return arg;
}

/* Domain-selective context invalidation (indexed by DID): exactly the DID's legacy entries. */
START_TEST(test_context_inv_domain)
{
	legacy_two_domains();
	tb_map(&T, SLPT, 4, 0x1000, 0x100000, 1, SS_RW, SS_RW, 0);
	ck_assert_uint_eq(gpa_of(0x0100, false, 0, 0x1000), 0x100000);
	ck_assert_uint_eq(gpa_of(0x0108, false, 0, 0x1000), 0x100000);
	ck_assert_uint_eq(X->ctx.count, 2);
	vtd_xlate_inv_context(X, VTD_INV_DOMAIN, 3, 0, 0);
	ck_assert_uint_eq(X->ctx.count, 2);
	vtd_xlate_inv_context(X, VTD_INV_DOMAIN, 2, 0, 0);
	ck_assert_uint_eq(X->ctx.count, 1);
	ck_assert_ptr_nonnull(vc_lookup(&X->ctx, 0x0100, 0));
	ck_assert_ptr_null(vc_lookup(&X->ctx, 0x0108, 0));
	vtd_xlate_inv_context(X, VTD_INV_DOMAIN, 1, 0, 0);
	ck_assert_uint_eq(X->ctx.count, 0);
}
END_TEST

/*
 * Global invalidation by generation: every entry misses afterwards, the count is 0, the same
 * tags come back as fresh entries (stale ones reused, none leaked), eviction takes stale
 * entries before live ones, and 65536 invalidations (the generation wraps) still drop all.
 */
START_TEST(test_generation_invalidate_all)
{
	struct vcache c;
	struct vc_entry *e3 = NULL;
	uint32_t reused = 0;

	ck_assert_int_eq(vc_init_indexed(&c, 16, 1), 0);
	for (uint64_t k = 0; k < 16; k++) {
		struct vc_key key = { k, 0 };
		struct vc_entry *e = vc_insert(&c, k, 7);

		vc_index_set(&c, e, &key);
		if (k == 3)
			e3 = e;
	}
	ck_assert_uint_eq(c.count, 16);
	vc_invalidate_all(&c);
	ck_assert_uint_eq(c.count, 0);
	for (uint64_t k = 0; k < 16; k++) {
		uint64_t w;

		ck_assert_ptr_null(vc_lookup(&c, k, 7));
		ck_assert(!vc_lookup_lockless(&c, k, 7, &w));
	}
	/* Same tag: the stale slot is revived, not a second copy. */
	ck_assert_ptr_eq(vc_insert(&c, 3, 7), e3);
	ck_assert_uint_eq(c.count, 1);
	ck_assert_ptr_nonnull(vc_lookup(&c, 3, 7));
	/* New tags: the cache is full of stale entries; they go before the one live entry. */
	for (uint64_t k = 100; k < 115; k++) {
		struct vc_entry *e = vc_insert(&c, k, 7);

		ck_assert_ptr_nonnull(e);
		reused += e != e3;
	}
	ck_assert_uint_eq(reused, 15);
	ck_assert_uint_eq(c.count, 16);
	ck_assert_ptr_nonnull(vc_lookup(&c, 3, 7));
	ck_assert_uint_eq(c.evictions, 0);
	/* Wrap: an entry filed now must not look live 65536 generations later. */
	for (unsigned int i = 0; i < 65536; i++) {
		vc_invalidate_all(&c);
		ck_assert_ptr_null(vc_lookup(&c, 3, 7));
		ck_assert_uint_eq(c.count, 0);
	}
	ck_assert_ptr_nonnull(vc_insert(&c, 3, 7));
	for (unsigned int i = 0; i < 65536; i++)
		vc_invalidate_all(&c);
	ck_assert_ptr_null(vc_lookup(&c, 3, 7));
	vc_fini(&c);
}
END_TEST

START_TEST(test_concurrent_invalidation)
{
	pthread_t th;

	legacy_two_domains();
	for (uint64_t i = 0; i < 64; i++)
		tb_map(&T, SLPT, 4, i << 12, 0x100000 + (i << 12), 1, SS_RW, SS_RW, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, inv_thread, NULL), 0);
	for (int n = 0; n < 200000; n++) {
		uint64_t i = (uint64_t)n & 63;

		ck_assert_uint_eq(gpa_of(0x0100, false, 0, i << 12), 0x100000 + (i << 12));
	}
	stop = 1;
	pthread_join(th, NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xlate-cache");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_hit_after_miss_and_stale);
	tcase_add_test(tc, test_page_inv_am);
	tcase_add_test(tc, test_domain_inv_only_that_did);
	tcase_add_test(tc, test_ih_keeps_paging_structure_cache);
	tcase_add_test(tc, test_context_inv_device_fm);
	tcase_add_test(tc, test_piotlb_scopes);
	tcase_add_test(tc, test_pasid_cache_inv);
	tcase_add_test(tc, test_eviction_bound);
	tcase_add_test(tc, test_concurrent_invalidation);
	tcase_add_test(tc, test_generation_invalidate_all);
	tcase_add_test(tc, test_context_inv_domain);
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
