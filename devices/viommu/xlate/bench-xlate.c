/* SPDX-License-Identifier: MIT */
/*
 * Benchmark of the VT-d engine: ns per IOTLB hit, per nested (4-on-4) miss and per cache
 * invalidation (indexed, and by full scan as before inv.c for comparison), printed only.
 */
#include <stdio.h>
#include <time.h>

#include "tests/xlate-tb.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

enum inv_op { OP_PASID_PAGE, OP_PASID, OP_DOMAIN, OP_UNMAP };

/*
 * ns per invalidation with the IOTLB holding `pages` translations of PASID 1 (DID 1).
 * OP_PASID_PAGE: IH=0 page-selective PASID-IOTLB of unmapped addresses of PASID 1;
 * OP_PASID: PASID-selective of PASID 2; OP_DOMAIN: domain-selective IOTLB of DID 2 (all
 * drop nothing, so the caches stay full); OP_UNMAP: an IH=1 page-selective invalidation of
 * a cached page of PASID 1 followed by its re-walk (warm PWC), per pair.
 */
static double inv_cost(struct vtd_xlate *x, const struct dma_req *req, int pages, enum inv_op op,
		       bool scan, uint64_t *sink)
{
	int n = scan ? 5000 : 100000;
	struct dma_xlate r;
	struct vtd_fault f;
	double t0;

	x->inv_scan = scan;
	for (int i = 0; i < pages; i++)
		vtd_xlate_translate(x, req, 0x40000000ULL + i * 4096ULL, &r, &f);
	t0 = now_ns();
	for (int i = 0; i < n; i++) {
		uint64_t a = 0x40000000ULL + (i % pages) * 4096ULL;

		switch (op) {
		case OP_PASID_PAGE:
			vtd_xlate_inv_piotlb(x, VTD_INV_PASID_PAGE, 1, 1, a + 0x10000000, 0, false);
			break;
		case OP_PASID:
			vtd_xlate_inv_piotlb(x, VTD_INV_PASID, 1, 2, 0, 0, false);
			break;
		case OP_DOMAIN:
			vtd_xlate_inv_iotlb(x, VTD_INV_DOMAIN, 2, 0, 0, false);
			break;
		case OP_UNMAP:
			vtd_xlate_inv_piotlb(x, VTD_INV_PASID_PAGE, 1, 1, a, 0, true);
			vtd_xlate_translate(x, req, a, &r, &f);
			*sink += r.gpa;
			break;
		}
	}
	t0 = (now_ns() - t0) / n;
	x->inv_scan = false;
	return t0;
}

int main(void)
{
	struct vtd_caps caps = tb_caps();
	struct dma_req req = { .sid = 0x0100, .has_pasid = true, .pasid = 1, .access = DMA_ACC_READ };
	uint64_t rta, dir, slpt, flpt, pe[8] = { 0 }, sink = 0;
	const int hits = 20000000, pages = 512, rounds = 400;
	struct dma_xlate r;
	struct vtd_fault f;
	struct vtd_xlate *x;
	struct tb t;
	double t0, t_hit, t_miss, t_inv, t_cold, t_flush;
	uint64_t hits0;

	tb_init(&t);
	x = vtd_xlate_create(&t.gm, &caps, NULL);
	if (!x)
		return 1;
	rta = tb_page(&t);
	dir = tb_page(&t);
	slpt = tb_page(&t);
	flpt = tb_page(&t);
	vtd_xlate_set_root(x, rta | (1 << 10));
	tb_sm_ctx(&t, rta, 0x0100, dir | BIT_ULL(3) | 1, 0);
	pe[0] = 1 | (2 << 2) | (3 << 6) | slpt; /* nested, 4-level second stage */
	pe[1] = 1;
	pe[2] = flpt + TB_ALIAS;                /* 4-level first stage */
	tb_pasid(&t, dir, 1, pe);
	/* Second stage maps the alias with 4 KiB pages so every stage walks all 4 levels. */
	for (uint64_t o = 0; o < 8 * MiB; o += 4096)
		tb_map(&t, slpt, 4, TB_ALIAS + o, o, 1, SS_RW, SS_RW, 0);
	for (int i = 0; i < pages; i++)
		tb_map(&t, flpt, 4, 0x40000000ULL + i * 4096ULL, TB_ALIAS + 0x400000 + i * 4096ULL, 1,
		       FS_TBL, FS_P | FS_RW | FS_US, TB_ALIAS);

	if (vtd_xlate_translate(x, &req, 0x40000000, &r, &f)) {
		fprintf(stderr, "bench: setup translation faulted (reason %#x)\n", f.reason);
		return 1;
	}
	t0 = now_ns();
	for (int i = 0; i < hits; i++) {
		vtd_xlate_translate(x, &req, 0x40000000 + (i & 0xFF8), &r, &f);
		sink += r.gpa;
	}
	t_hit = (now_ns() - t0) / hits;

	/*
	 * Warm-PWC misses: a second engine with a 64-entry IOTLB walks 512 pages cyclically, so
	 * every translation misses the IOTLB while the paging-structure caches stay warm.
	 */
	{
		struct vtd_cache_sizes small = { 0, 0, 64, 0 };
		struct vtd_xlate *xm = vtd_xlate_create(&t.gm, &caps, &small);
		struct vtd_xlate_stats st;

		if (!xm)
			return 1;
		vtd_xlate_set_root(xm, rta | (1 << 10));
		for (int i = 0; i < pages; i++)
			vtd_xlate_translate(xm, &req, 0x40000000ULL + i * 4096ULL, &r, &f);
		vtd_xlate_get_stats(xm, &st);
		hits0 = st.iotlb_hits;
		t0 = now_ns();
		for (int n = 0; n < rounds; n++)
			for (int i = 0; i < pages; i++) {
				vtd_xlate_translate(xm, &req, 0x40000000ULL + i * 4096ULL, &r, &f);
				sink += r.gpa;
			}
		t_miss = (now_ns() - t0) / ((double)rounds * pages);
		vtd_xlate_get_stats(xm, &st);
		hits0 = st.iotlb_hits - hits0;
		vtd_xlate_destroy(xm);
	}
	/* Page-selective PASID-IOTLB invalidation cost, IH=1, with one IOTLB entry cached. */
	t0 = now_ns();
	for (int i = 0; i < 100000; i++)
		vtd_xlate_inv_piotlb(x, VTD_INV_PASID_PAGE, 1, 1, 0x40000000ULL + (i % pages) * 4096ULL,
				     0, true);
	t_inv = (now_ns() - t0) / 100000;

	/* Cold misses: every cache flushed before each translation (flush cost subtracted). */
	t0 = now_ns();
	for (int i = 0; i < 20000; i++)
		vtd_xlate_flush_all(x);
	t_flush = (now_ns() - t0) / 20000;
	t0 = now_ns();
	for (int i = 0; i < 20000; i++) {
		vtd_xlate_flush_all(x);
		vtd_xlate_translate(x, &req, 0x40000000ULL + (i % pages) * 4096ULL, &r, &f);
		sink += r.gpa;
	}
	t_cold = (now_ns() - t0) / 20000 - t_flush;

	printf("xlate bench: IOTLB hit %.1f ns/translation\n", t_hit);
	printf("xlate bench: nested 4-on-4 IOTLB miss, warm PWC %.1f ns/translation "
	       "(%llu unexpected hits)\n", t_miss, (unsigned long long)hits0);
	printf("xlate bench: nested 4-on-4 miss, all caches cold %.1f ns/translation\n", t_cold);
	printf("xlate bench: page-selective PASID-IOTLB invalidation %.1f ns, flush_all %.1f ns\n",
	       t_inv, t_flush);
	{
		static const char *const what[] = {
			"page-selective PASID-IOTLB (IH=0, nothing cached there)",
			"PASID-selective PASID-IOTLB (other PASID)",
			"domain-selective IOTLB (other domain)",
			"unmap cycle: IH=1 page inv of a cached page + re-walk",
		};
		unsigned int iotlb, pwc;

		vtd_xlate_translate(x, &req, 0x40000000, &r, &f);
		for (int i = 0; i < pages; i++)
			vtd_xlate_translate(x, &req, 0x40000000ULL + i * 4096ULL, &r, &f);
		iotlb = x->iotlb.count;
		pwc = x->pwc.count;
		printf("xlate bench: invalidation with %u IOTLB + %u PWC entries cached "
		       "(indexed / full scan):\n", iotlb, pwc);
		for (int op = OP_PASID_PAGE; op <= OP_UNMAP; op++)
			printf("xlate bench:   %-56s %7.1f / %7.1f ns\n", what[op],
			       inv_cost(x, &req, pages, op, false, &sink),
			       inv_cost(x, &req, pages, op, true, &sink));
	}
	printf("(checksum %llx)\n", (unsigned long long)sink);
	vtd_xlate_destroy(x);
	tb_fini(&t);
	return 0;
}
