/* SPDX-License-Identifier: MIT */
/* Benchmark of the VT-d engine: ns per IOTLB hit and per nested (4-on-4) miss, printed only. */
#include <stdio.h>
#include <time.h>

#include "tests/xlate-tb.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
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
	/* Page-selective PASID-IOTLB invalidation cost (scans the caches). */
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
	printf("(checksum %llx)\n", (unsigned long long)sink);
	vtd_xlate_destroy(x);
	tb_fini(&t);
	return 0;
}
