/* SPDX-License-Identifier: MIT */
/*
 * host-prq: page requests of a simulated passthrough pasid-dma (backend=hostsim,pri=on) make
 * the round trip host -> guest page request queue -> guest page group response -> host. The
 * host raises the request when the device's DMA misses a translation; the device itself is not
 * told (its descriptor completes with a fault), so the driver resubmits after answering.
 *
 * On a real host (tests/host-kernel: the device passed through, its page requests delivered by
 * Linux's iommufd fault queue) HOST_BACKEND reads 0 and the host counters are not checked; the
 * request and the resubmitted DMA are. nestvm's exit line counts requests and answers.
 */
#include "host-pdma.h"

#define VA 0x00007f0000400000ULL
#define VA_CR 0x00007f0000600000ULL
#define DID_P 1

static struct hp h;
static struct vtd_pt as1;
static uint8_t *data, *cr;
static bool sim; /* hostsim: HOST_* counters valid */

/*
 * A real host delivers page requests and resumes the device asynchronously: bounded waits. In
 * the host-kernel chain (three nested levels, the first emulated) a delivery took over 5 s once.
 */
#define PRQ_WAIT_US 30000000

static uint8_t cr_wait(uint32_t us)
{
	uint64_t t0 = time_us();
	uint8_t v;

	while (!(v = *(volatile uint8_t *)cr) && time_us() - t0 < us)
		cpu_relax();
	return v;
}

void test_main(void)
{
	uint32_t reqs, resps, faults;
	uint64_t q0 = 0, q1 = 0, t0, t1;
	bool ok, got, pri;
	uint8_t st;

	tap_plan(7);
	if (hp_open(&h, true))
		tap_bail("no pasid-dma,backend=hostsim,pri=on or no scalable-mode VT-d unit");
	data = alloc_pages(1);
	cr = alloc_pages(1);
	pri = hp_enable_pri(&h);
	if (!data || !cr || vtd_pt_init(&as1, 4, true) ||
	    vtd_pt_map(&as1, VA_CR, (uintptr_t)cr, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    hp_bind(&h, 1, DID_P, &as1))
		tap_bail("setup failed");
	sim = hp_reg(&h, PDMA_HOST_BACKEND) == 1;
	tap_diag("host: %s; the device %s", sim ? "hostsim" : "a real host IOMMU (HOST_* counters not visible)",
		 pri ? "has PRI: ATS and PRI enabled" : "has no PRI capability (the host makes the requests)");
	tap_ok((h.u.ecap & VTD_ECAP_PRS_BIT) && (!sim || hp_reg(&h, PDMA_HOST_BINDS) == 2),
	       "PRS offered, RID and PASID 1 bound on the host");

	/*
	 * A fill of a page the process has not mapped yet. hostsim completes the descriptor with a
	 * fault at once; a real PRI device (tests/host-kernel) waits for the page group response.
	 */
	reqs = hp_reg(&h, PDMA_HOST_PAGE_REQS);
	faults = hp_reg(&h, PDMA_HOST_FAULTS);
	resps = hp_reg(&h, PDMA_HOST_PAGE_RESPS);
	t0 = hp_rdtsc();
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, 64, 0x1212121212121212ULL, VA_CR);
	st = *(volatile uint8_t *)cr;
	tap_ok((st == PDMA_ST_FAULT || (!sim && st == 0)) &&
		       (!sim || (hp_reg(&h, PDMA_HOST_PAGE_REQS) == reqs + 1 &&
				 hp_reg(&h, PDMA_HOST_FAULTS) == faults)),
	       "host translation miss: a page request, not a fault (status 0x%x%s)", st,
	       st ? "" : ": the device waits for the answer");
	got = hp_prq_wait(&h, &q0, &q1, PRQ_WAIT_US);
	tap_ok(got && (q1 & ~0xfffULL) == VA && (q1 & 6) == 6 && (q0 & (1ULL << 8)) &&
		       ((q0 >> 32) & 0xfffff) == 1 && ((q0 >> 16) & 0xffff) == h.bdf,
	       "guest page request record: VA, write, last, PASID 1 (q0 0x%lx q1 0x%lx)", q0, q1);

	/* The fault handler maps the page and answers Success: the host gets the answer. */
	ok = !vtd_pt_map(&as1, VA, (uintptr_t)data, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W);
	ok = ok && got && !hp_respond(&h, 1, q1, 0);
	t1 = hp_rdtsc();
	tap_ok(ok && (!sim || hp_reg(&h, PDMA_HOST_PAGE_RESPS) == resps + 1),
	       "Success response forwarded to the host (answered %u)",
	       hp_reg(&h, PDMA_HOST_PAGE_RESPS));
	tap_diag("host page request round trip (DMA miss -> guest record -> map -> response -> host): "
		 "%lu TSC cycles", t1 - t0);
	if (st == 0) {
		st = cr_wait(PRQ_WAIT_US); /* the device resumes the waiting descriptor */
	} else {
		cr[0] = 0;
		hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, 64, 0x1212121212121212ULL, VA_CR);
		st = cr[0];
	}
	tap_ok(st == PDMA_ST_OK && data[63] == 0x12, "the DMA completes after the answer (status %u)",
	       st);

	/* An address the process will not map: the guest answers Invalid. */
	cr[0] = 0;
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA + 0x10000, 64, 0, VA_CR);
	got = hp_prq_wait(&h, &q0, &q1, PRQ_WAIT_US);
	ok = got && (q1 & ~0xfffULL) == VA + 0x10000 && !hp_respond(&h, 1, q1, 1);
	st = cr_wait(PRQ_WAIT_US);
	tap_ok(ok && (st == PDMA_ST_FAULT || st == 0x11) &&
		       (!sim || hp_reg(&h, PDMA_HOST_PAGE_RESPS) == resps + 2),
	       "Invalid response forwarded to the host (answered %u, status 0x%x)",
	       hp_reg(&h, PDMA_HOST_PAGE_RESPS), st);
	tap_ok(!(vtd_read32(&h.u, VTD_FSTS) & (VTD_FSTS_IQE | VTD_FSTS_PPF)) &&
		       (!sim || hp_reg(&h, PDMA_HOST_FAULTS) == faults),
	       "no recorded fault, no IQE (FSTS 0x%x)", vtd_read32(&h.u, VTD_FSTS));
	tap_done();
}
