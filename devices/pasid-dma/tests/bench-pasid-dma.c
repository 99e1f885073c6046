/* SPDX-License-Identifier: MIT */
/*
 * Benchmark: pasid-dma copies through the real VT-d unit (first-stage, PASID 1), 4 KiB and
 * 64 KiB, on the IOTLB hit path (ATS off) and the device-TLB hit path (ATS on), and the page
 * request round trip (fault -> page request record -> map -> page group response -> done).
 * Host-side only: guest exits are not included.
 */
#include <stdio.h>
#include <time.h>

#include "devices/pasid-dma/tests/sva-env.h"

#define VA_SRC 0x7f0000400000ULL
#define VA_DST 0x7f0000800000ULL
#define VA_CR 0x7f0000c00000ULL
#define SPAN (64 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void map_all(struct sva_env *e)
{
	for (uint64_t off = 0; off < SPAN; off += 4096) {
		sva_map(e, 1, VA_SRC + off, SVA_DATA + off);
		sva_map(e, 1, VA_DST + off, SVA_DATA + SPAN + off);
	}
	sva_map(e, 1, VA_CR, SVA_DATA + 2 * SPAN);
}

static void copies(bool ats, uint64_t len, unsigned int iters)
{
	struct sva_env *e = sva_new("dt=on,prs=on", ats, false);
	struct viommu_stats vs;
	double t0, t;

	map_all(e);
	/* Warm the IOTLB / device-TLB. */
	sva_submit(e, PDMA_OP_COPY | PDMA_D0_PASID_EN | (1ULL << 32), VA_SRC, VA_DST, len, 0, VA_CR);
	t0 = now();
	for (unsigned int i = 0; i < iters; i++)
		sva_submit(e, PDMA_OP_COPY | PDMA_D0_PASID_EN | (1ULL << 32), VA_SRC, VA_DST, len, 0,
			   VA_CR);
	t = now() - t0;
	viommu_get_stats(e->v, &vs);
	if (e->ram[SVA_DATA + 2 * SPAN] != PDMA_ST_OK)
		printf("  (copy failed: status %u)\n", e->ram[SVA_DATA + 2 * SPAN]);
	printf("  %-22s %3llu KiB copies: %8.0f MB/s  (%6.2f us/descriptor)\n",
	       ats ? "ATS, device-TLB hits" : "IOTLB hits (no ATS)", (unsigned long long)(len / 1024),
	       (double)len * iters / t / 1e6, t / iters * 1e6);
	sva_free(e);
}

static void round_trip(unsigned int iters)
{
	struct sva_env *e = sva_new("dt=on,prs=on", true, true);
	unsigned int ok = 0;
	double t0, t;

	map_all(e);
	t0 = now();
	for (unsigned int i = 0; i < iters; i++) {
		uint64_t q0, q1;

		/* Guest unmap of the first dst page: PTE, PASID-IOTLB, device-TLB. */
		sva_map(e, 1, VA_DST, 0);
		sva_inv_iotlb(e, 1, VA_DST);
		sva_inv_devtlb(e, 1, VA_DST);
		e->ram[SVA_DATA + 2 * SPAN] = 0;
		sva_submit(e, PDMA_OP_FILL | PDMA_D0_PASID_EN | (1ULL << 32), 0, VA_DST, 64, i,
			   VA_CR);
		q1 = sva_prq_pop(e, &q0);
		sva_w32(e, R_PRS, 1);
		/* Fault handler: map the page, answer Success. */
		sva_map(e, 1, VA_DST, SVA_DATA + SPAN);
		sva_respond(e, 1, (uint16_t)((q1 >> 3) & 0x1ff), 0);
		ok += e->ram[SVA_DATA + 2 * SPAN] == PDMA_ST_OK;
	}
	t = now() - t0;
	printf("  page request round trip: %6.2f us (%u/%u completed)\n", t / iters * 1e6, ok, iters);
	sva_free(e);
}

int main(void)
{
	printf("pasid-dma through the VT-d unit (scalable, first-stage, PASID 1), host-side:\n");
	copies(false, 4096, 20000);
	copies(false, SPAN, 2000);
	copies(true, 4096, 20000);
	copies(true, SPAN, 2000);
	round_trip(5000);
	return 0;
}
