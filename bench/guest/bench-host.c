/* SPDX-License-Identifier: MIT */
/*
 * Guest benchmark: host forwarding. Cost of a PASID-based IOTLB invalidation round trip
 * (descriptor + wait, IQT write -> status seen) and of a 4 KiB DMA, and forwarded host calls
 * per guest invalidation drain. Run once with pasid-dma,backend=hostsim (host-backed) and once
 * with the emulated backend: the difference is what forwarding costs.
 */
#include "../../guest-tests/tests/host-pdma.h"

#define VA 0x00007f0000400000UL
#define VA_CR 0x00007f0000600000UL
#define NPAGES 16     /* pages mapped per PASID */
#define N_RT 200      /* invalidation round trips per kind */
#define N_DMA 100     /* 4 KiB fills per kind */
#define N_DRAIN 20    /* drains of 2 x PER_PASID page flushes */
#define PER_PASID 6   /* page flushes per PASID per drain (queue: 15 descriptors + wait) */

static struct hp h;
static struct vtd_pt as[3];
static uint64_t samples[N_RT];
static uint64_t tsc_per_us;

static void calibrate(void)
{
	uint64_t t0 = hp_rdtsc(), u0 = time_us();

	udelay(20000);
	tsc_per_us = (hp_rdtsc() - t0) / (time_us() - u0 ? time_us() - u0 : 1);
	if (!tsc_per_us)
		tsc_per_us = 1;
}

/* Median of v[0..n) by insertion sort (n <= N_RT: at most 20000 steps). */
static uint64_t median(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		uint64_t x = v[i];
		unsigned j = i;

		while (j && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
	return v[n / 2];
}

static void report(const char *backend, const char *what, uint64_t med, unsigned n)
{
	printf("bench: %-8s %-40s median %8lu cycles (%4lu.%lu us), n=%u\n", backend, what, med,
	       med / tsc_per_us, med * 10 / tsc_per_us % 10, n);
}

/* One IQT write of [desc,] wait(SW); polls the status in memory (bounded). */
static bool round_trip(const uint64_t *desc)
{
	uint64_t d[2][4];
	uint32_t seq = ++h.u.wait_seq;
	unsigned n = 0;

	if (desc)
		memcpy(d[n++], desc, sizeof(d[0]));
	vtd_desc_wait(d[n++], VTD_WAIT_SW, (uintptr_t)h.u.wait_status, seq);
	if (vtd_qi_submit(&h.u, (const uint64_t (*)[4])d, n))
		return false;
	for (unsigned k = 0; k < 10000000 && *h.u.wait_status != seq; k++)
		cpu_relax();
	return *h.u.wait_status == seq;
}

static int setup(void)
{
	for (unsigned p = 1; p <= 2; p++) {
		uint8_t *mem = alloc_pages(NPAGES + 1);

		if (!mem || vtd_pt_init(&as[p], 4, true) ||
		    vtd_pt_map(&as[p], VA, (uintptr_t)mem, NPAGES * PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
		    vtd_pt_map(&as[p], VA_CR, (uintptr_t)mem + NPAGES * PAGE_SIZE, PAGE_SIZE,
			       VTD_PTE_R | VTD_PTE_W) ||
		    hp_bind(&h, p, 1, &as[p]))
			return -1;
	}
	return 0;
}

void test_main(void)
{
	const char *be;
	uint32_t inv0, rng0;
	bool ok = true;

	tap_plan(2);
	calibrate();
	if (hp_open(&h, false) || setup())
		tap_bail("needs -device vtd -device pasid-dma[,backend=hostsim]");
	be = hp_reg(&h, PDMA_HOST_BACKEND) ? "hostsim" : "emulated";
	printf("bench: backend %s, TSC %lu MHz\n", be, tsc_per_us);

	for (unsigned i = 0; i < N_RT && ok; i++) {
		uint64_t t0 = hp_rdtsc();

		ok = round_trip(NULL);
		samples[i] = hp_rdtsc() - t0;
	}
	report(be, "QI wait only (baseline)", median(samples, N_RT), N_RT);
	for (unsigned i = 0; i < N_RT && ok; i++) {
		uint64_t d[4], t0;

		vtd_desc_piotlb(d, 3, 1, 1, VA + (i % NPAGES) * PAGE_SIZE, 0);
		t0 = hp_rdtsc();
		ok = round_trip(d);
		samples[i] = hp_rdtsc() - t0;
	}
	report(be, "PASID-IOTLB page flush + wait", median(samples, N_RT), N_RT);
	for (unsigned i = 0; i < N_DMA && ok; i++) {
		uint64_t t0 = hp_rdtsc();

		hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, PAGE_SIZE, i, VA_CR);
		samples[i] = hp_rdtsc() - t0;
	}
	report(be, "4 KiB DMA fill, translation cached", median(samples, N_DMA), N_DMA);
	for (unsigned i = 0; i < N_DMA && ok; i++) {
		uint64_t t0;

		ok = !hp_flush_page(&h, 1, 1, VA);
		t0 = hp_rdtsc();
		hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, PAGE_SIZE, i, VA_CR);
		samples[i] = hp_rdtsc() - t0;
	}
	report(be, "4 KiB DMA fill after a flush (walk)", median(samples, N_DMA), N_DMA);
	tap_ok(ok, "round trips measured");

	/* Drains touching two stage-1s: how many host calls each one costs. */
	inv0 = hp_reg(&h, PDMA_HOST_INV_CALLS);
	rng0 = hp_reg(&h, PDMA_HOST_INV_RANGES);
	for (unsigned i = 0; i < N_DRAIN && ok; i++) {
		uint64_t d[2 * PER_PASID][4];

		for (unsigned k = 0; k < 2 * PER_PASID; k++)
			vtd_desc_piotlb(d[k], 3, 1, 1 + k / PER_PASID,
					VA + (k % PER_PASID) * PAGE_SIZE, 0);
		ok = !vtd_qi_sync(&h.u, (const uint64_t (*)[4])d, 2 * PER_PASID);
	}
	inv0 = hp_reg(&h, PDMA_HOST_INV_CALLS) - inv0;
	rng0 = hp_reg(&h, PDMA_HOST_INV_RANGES) - rng0;
	printf("bench: %-8s host calls per drain of %u page flushes over 2 PASIDs: %u.%02u "
	       "(%u.%02u ranges per call)\n", be, 2 * PER_PASID, inv0 / N_DRAIN,
	       inv0 * 100 / N_DRAIN % 100, inv0 ? rng0 / inv0 : 0, inv0 ? rng0 * 100 / inv0 % 100 : 0);
	tap_ok(ok && inv0 == (*be == 'h' ? 2u * N_DRAIN : 0u),
	       "%s: %u host calls for %u drains", be, inv0, N_DRAIN);
	tap_done();
}
