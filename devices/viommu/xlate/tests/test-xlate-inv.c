/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for indexed invalidation: the cache's secondary indexes, and a randomised
 * comparison of indexed invalidation against the full scan (x->inv_scan) on one workload.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>

#include "xlate-tb.h"

static struct tb T;
static struct vtd_xlate *XI, *XS; /* indexed, scanning */
static uint64_t RTA, DIR, SLPT, FLPT, NFLPT;

static const struct vtd_cache_sizes BIG = { 64, 64, 2048, 1024 };

static void setup(void)
{
	struct vtd_caps c = tb_caps();
	uint64_t pe[8] = { 0 };

	tb_init(&T);
	XI = vtd_xlate_create(&T.gm, &c, &BIG);
	XS = vtd_xlate_create(&T.gm, &c, &BIG);
	ck_assert_ptr_nonnull(XI);
	ck_assert_ptr_nonnull(XS);
	XS->inv_scan = true;
	RTA = tb_page(&T);
	DIR = tb_page(&T);
	SLPT = tb_page(&T);
	FLPT = tb_page(&T);
	NFLPT = tb_page(&T);
	vtd_xlate_set_root(XI, RTA | (1 << 10));
	vtd_xlate_set_root(XS, RTA | (1 << 10));
	tb_sm_ctx(&T, RTA, 0x0100, DIR | BIT_ULL(3) | 1, 0);
	tb_sm_ctx(&T, RTA, 0x0101, DIR | BIT_ULL(3) | 1, 0);
	/* PASID: 0 SS-only DID 1, 1 FS DID 1, 2 nested DID 1, 3 FS DID 2, 4 PT DID 2, 5 SS DID 2. */
	pe[0] = 1 | (2 << 2) | (2 << 6) | SLPT;
	pe[1] = 1;
	tb_pasid(&T, DIR, 0, pe);
	pe[0] = 1 | (2 << 2) | (1 << 6);
	pe[2] = FLPT;
	tb_pasid(&T, DIR, 1, pe);
	pe[0] = 1 | (2 << 2) | (3 << 6) | SLPT;
	pe[2] = NFLPT + TB_ALIAS;
	tb_pasid(&T, DIR, 2, pe);
	pe[0] = 1 | (2 << 2) | (1 << 6);
	pe[1] = 2;
	pe[2] = FLPT;
	tb_pasid(&T, DIR, 3, pe);
	pe[0] = 1 | (4 << 6);
	pe[2] = 0;
	tb_pasid(&T, DIR, 4, pe);
	pe[0] = 1 | (2 << 2) | (2 << 6) | SLPT;
	tb_pasid(&T, DIR, 5, pe);
	tb_ss_alias(&T, SLPT, 4, SS_RW);
	for (uint64_t i = 0; i < 32; i++) {
		tb_map(&T, SLPT, 4, i << 12, 0x100000 + (i << 12), 1, SS_RW, SS_RW, 0);
		tb_map(&T, SLPT, 4, (1ULL << 39) + (i << 12), 0x180000, 1, SS_RW, SS_RW, 0);
		tb_map(&T, FLPT, 4, i << 12, 0x200000 + (i << 12), 1, FS_TBL, FS_TBL, 0);
		tb_map(&T, NFLPT, 4, i << 12, TB_ALIAS + 0x300000 + (i << 12), 1, FS_TBL, FS_TBL,
		       TB_ALIAS);
	}
	tb_map(&T, FLPT, 4, 0x400000, 0x600000, 2, FS_TBL, FS_TBL, 0);
	tb_map(&T, FLPT, 4, 0x40000000, 0x40000000, 3, FS_TBL, FS_TBL, 0);
	tb_map(&T, NFLPT, 4, 0x400000, TB_ALIAS + 0x800000, 2, FS_TBL, FS_TBL, TB_ALIAS);
}

static void teardown(void)
{
	vtd_xlate_destroy(XI);
	vtd_xlate_destroy(XS);
	tb_fini(&T);
}

static uint64_t rnd_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

static uint64_t xl(struct vtd_xlate *x, uint16_t sid, bool hp, uint32_t pasid, uint64_t iova)
{
	struct dma_req req = { .sid = sid, .has_pasid = hp, .pasid = pasid, .access = DMA_ACC_READ };
	struct dma_xlate r;
	struct vtd_fault f;

	if (vtd_xlate_translate(x, &req, iova, &r, &f))
		return ~0ULL - f.reason;
	return r.gpa;
}

static int cmp_key(const void *a, const void *b)
{
	const struct vc_key *p = a, *q = b;

	if (p->k0 != q->k0)
		return p->k0 < q->k0 ? -1 : 1;
	if (p->k1 != q->k1)
		return p->k1 < q->k1 ? -1 : 1;
	return 0;
}

/* Sorted tags of the used entries; returns how many. */
static uint32_t tags(const struct vcache *c, struct vc_key *out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->cap; i++)
		if (vc_live(c, &c->ent[i]))
			out[n++] = (struct vc_key){ c->ent[i].k0, c->ent[i].k1 };
	qsort(out, n, sizeof(*out), cmp_key);
	return n;
}

static void same_contents(const struct vcache *a, const struct vcache *b)
{
	static struct vc_key ka[2048], kb[2048];
	uint32_t na = tags(a, ka), nb = tags(b, kb);

	ck_assert_uint_eq(na, nb);
	ck_assert_uint_eq(na, a->count);
	ck_assert_int_eq(memcmp(ka, kb, na * sizeof(*ka)), 0);
}

/*
 * Bucket lists are consistent and hold exactly the filed entries, all of them if all_filed
 * (live ones and the stale ones of older generations not yet reclaimed); count is the live ones.
 */
static void index_check(const struct vcache *c, bool all_filed)
{
	uint32_t live = 0, used = 0;

	for (uint32_t i = 0; i < c->cap; i++) {
		used += c->ent[i].used;
		live += vc_live(c, &c->ent[i]);
	}
	ck_assert_uint_eq(live, c->count);
	for (unsigned int k = 0; k < c->nix; k++) {
		uint32_t linked = 0, filed = 0;

		for (uint32_t i = 0; i < c->cap; i++)
			if (c->ent[i].used && c->ix[k].link[i].bucket != VC_NIL)
				filed++;

		for (uint32_t b = 0; b <= c->mask; b++) {
			uint32_t prev = VC_NIL, i = c->ix[k].head[b];

			for (uint32_t n = 0; i != VC_NIL; n++) {
				ck_assert_uint_lt(n, c->cap);
				ck_assert(c->ent[i].used);
				ck_assert_uint_eq(c->ix[k].link[i].bucket, b);
				ck_assert_uint_eq(c->ix[k].link[i].prev, prev);
				linked++;
				prev = i;
				i = c->ix[k].link[i].next;
			}
		}
		ck_assert_uint_eq(linked, filed);
		if (all_filed)
			ck_assert_uint_eq(linked, used);
	}
}

static void index_consistent(const struct vcache *c)
{
	index_check(c, true);
}

static uint64_t pick_addr(void)
{
	static const uint64_t base[] = { 0, 0x400000, 0x40000000, TB_ALIAS, 1ULL << 39 };
	unsigned int b = (unsigned int)rnd(5);

	return base[b] + (rnd(20) << 12) + (b == 3 ? rnd(4) << 21 : 0);
}

START_TEST(test_random_vs_scan)
{
	static const unsigned int ams[] = { 0, 0, 0, 1, 3, 5, 6, 9, 10, 18, 30 };
	struct vtd_xlate_stats st;
	int invs = 0;

	rnd_state ^= (uint64_t)_i * 0x1234567ULL + 1;
	for (int op = 0; op < 10000; op++) {
		if (rnd(100) < 90) {
			uint16_t sid = (uint16_t)(0x0100 + rnd(2));
			unsigned int p = (unsigned int)rnd(7);
			uint64_t a = pick_addr();

			ck_assert_uint_eq(xl(XI, sid, p < 6, p, a), xl(XS, sid, p < 6, p, a));
			continue;
		}
		{
			uint16_t did = (uint16_t)(1 + rnd(3));
			uint32_t pasid = (uint32_t)rnd(6);
			uint64_t a = pick_addr();
			unsigned int am = ams[rnd(11)], g = (unsigned int)rnd(100);
			bool ih = rnd(2);
			/* 1 in 5: also a context (global 1/3 as rare) or PASID-cache invalidation. */
			unsigned int ctxg = rnd(5) ? 99 : (unsigned int)rnd(6);
			uint16_t csid = (uint16_t)(0x0100 + rnd(8));
			uint64_t rnd_fm = rnd(4);

			if ((ctxg == 0 || ctxg == 3) && rnd(3))
				ctxg = 99;

			for (int e = 0; e < 2; e++) {
				struct vtd_xlate *x = e ? XS : XI;

				/* Context / PASID-cache invalidations ride along (their indexes vs scan). */
				if (ctxg < 3)
					vtd_xlate_inv_context(x, ctxg == 0 ? VTD_INV_GLOBAL :
							  ctxg == 1 ? VTD_INV_DOMAIN : VTD_INV_DEVICE,
							  did, csid, (uint8_t)rnd_fm);
				else if (ctxg < 6)
					vtd_xlate_inv_pasid_cache(x, ctxg == 3 ? VTD_INV_GLOBAL :
								  ctxg == 4 ? VTD_INV_DOMAIN : VTD_INV_PASID,
								  did, pasid);
				if (g == 0)
					vtd_xlate_inv_iotlb(x, VTD_INV_GLOBAL, 0, 0, 0, false);
				else if (g < 5)
					vtd_xlate_inv_iotlb(x, VTD_INV_DOMAIN, did, 0, 0, false);
				else if (g < 45)
					vtd_xlate_inv_iotlb(x, VTD_INV_PAGE, did, a, am, ih);
				else if (g < 50)
					vtd_xlate_inv_piotlb(x, VTD_INV_DOMAIN, did, 0, 0, 0, false);
				else if (g < 57)
					vtd_xlate_inv_piotlb(x, VTD_INV_PASID, did, pasid, 0, 0, false);
				else
					vtd_xlate_inv_piotlb(x, VTD_INV_PASID_PAGE, did, pasid, a, am, ih);
			}
			invs++;
			same_contents(&XI->iotlb, &XS->iotlb);
			same_contents(&XI->pwc, &XS->pwc);
			same_contents(&XI->ctx, &XS->ctx);
			same_contents(&XI->pasid, &XS->pasid);
			if ((invs & 7) == 0) {
				index_consistent(&XI->iotlb);
				index_consistent(&XI->pwc);
				index_consistent(&XI->ctx);
				index_consistent(&XI->pasid);
			}
		}
	}
	ck_assert_int_gt(invs, 700);
	/* The comparison only holds without evictions; the workload must also fill the caches. */
	vtd_xlate_get_stats(XI, &st);
	ck_assert_uint_eq(st.evictions, 0);

	ck_assert_uint_gt(st.iotlb_hits, 1000);
	ck_assert_uint_gt(st.walks, 500);
}
END_TEST

/* Index plumbing on a bare cache: filing, refiling, removal, eviction and clear. */
START_TEST(test_vcache_index)
{
	struct vcache c;
	struct vc_entry *e[4];
	struct vc_key k[3];

	ck_assert_int_eq(vc_init_indexed(&c, 3, VC_MAX_INDEX + 1), -EINVAL);
	ck_assert_int_eq(vc_init_indexed(&c, 3, 3), 0);
	for (int i = 0; i < 3; i++) {
		e[i] = vc_insert(&c, 10 + (uint64_t)i, 0);
		ck_assert_ptr_nonnull(e[i]);
		k[0] = (struct vc_key){ 7, 0 };
		k[1] = (struct vc_key){ 100 + (uint64_t)i, 0 };
		k[2] = (struct vc_key){ 7, (uint64_t)i };
		vc_index_set(&c, e[i], k);
	}
	index_consistent(&c);
	/* Index 0 files all three under one key: one bucket holds them all. */
	{
		uint32_t n = 0;

		for (uint32_t i = vc_index_first(&c, 0, 7, 0); i != VC_NIL; i = vc_index_next(&c, 0, i))
			n++;
		ck_assert_uint_eq(n, 3);
	}
	/* Refiling moves the entry; removal and eviction unlink it. */
	k[0] = (struct vc_key){ 8, 0 };
	vc_index_set(&c, e[1], k);
	index_consistent(&c);
	ck_assert_uint_eq(vc_index_first(&c, 0, 8, 0), (uint32_t)(e[1] - c.ent));
	vc_remove(&c, e[0]);
	index_consistent(&c);
	for (int i = 0; i < 6; i++)
		e[3] = vc_insert(&c, 50 + (uint64_t)i, 0);
	ck_assert_uint_ge(c.evictions, 4);
	index_check(&c, false); /* the new entries are not filed yet */
	for (uint32_t i = 0; i < c.cap; i++)
		ck_assert_uint_eq(c.ix[0].link[i].bucket, VC_NIL); /* the filed ones were evicted */
	vc_clear(&c);
	index_consistent(&c);
	ck_assert_uint_eq(vc_index_first(&c, 0, 8, 0), VC_NIL);
	vc_fini(&c);
}
END_TEST

static volatile int stop;

static void *inv_thread(void *arg)
{
	for (uint64_t n = 0; !stop; n++) {
		vtd_xlate_inv_piotlb(XI, VTD_INV_PASID_PAGE, 1, 1, (n & 31) << 12, 0, n & 1);
		vtd_xlate_inv_iotlb(XI, VTD_INV_PAGE, 1, (n & 31) << 12, 0, false);
		if ((n & 63) == 0)
			vtd_xlate_inv_piotlb(XI, VTD_INV_PASID, 1, 1, 0, 0, false);
	}
	return arg;
}

/* Lock-free hits stay correct while indexed invalidations run on another thread. */
START_TEST(test_concurrent_page_invalidation)
{
	pthread_t th;

	ck_assert_int_eq(pthread_create(&th, NULL, inv_thread, NULL), 0);
	for (int n = 0; n < 100000; n++) {
		uint64_t i = (uint64_t)n & 31;

		ck_assert_uint_eq(xl(XI, 0x0100, true, 1, i << 12), 0x200000 + (i << 12));
		ck_assert_uint_eq(xl(XI, 0x0100, false, 0, i << 12), 0x100000 + (i << 12));
	}
	stop = 1;
	pthread_join(th, NULL);
	index_consistent(&XI->iotlb);
	index_consistent(&XI->pwc);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("xlate-inv");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_random_vs_scan, 0, 4);
	tcase_add_test(tc, test_vcache_index);
	tcase_add_test(tc, test_concurrent_page_invalidation);
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
