/* SPDX-License-Identifier: MIT */
/*
 * host-watch: global PASID-cache flushes over ten PASID tables of a host-backed pasid-dma
 * (backend=hostsim). nestvm's write watch (KVM's dirty log for the CPU, its own notes for
 * device DMA) lets such a flush skip the tables nobody wrote; whatever the guest changed must
 * still reach the host: a PASID entry the CPU rewrites, one the CPU clears, and one the
 * device itself clears by DMA, each seen by the next global flush and nothing else moved.
 * guest-tests/host-watch.sh also checks nestvm's exit line: tables were skipped unread.
 */
#include "host-pdma.h"

#define NT 10
#define DID 1
#define VA 0x00007f0000400000ULL
#define VA_CR 0x00007f0000600000ULL
#define VA_TBL 0x00007f0000800000ULL /* PASID 448's window on the page of PASID table 8 */

static struct hp h;
static struct vtd_pt as[NT + 1], as_alt;
static uint8_t *page[NT + 1], *crp, *alt;

static uint32_t pasid_of(unsigned t)
{
	return 64 * t; /* entry 0 of PASID table t */
}

/* Fill of 64 bytes of v at va through PASID table t's PASID; the completion status. */
static uint8_t fill(unsigned t, uint64_t va, uint8_t v)
{
	crp[0] = 0;
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, pasid_of(t)), 0, va, 64, 0x0101010101010101ULL * v, VA_CR);
	return crp[0];
}

/* What a driver does after changing entries it did not track: global PASID-cache + IOTLB. */
static int global_flush(void)
{
	uint64_t d[2][4];

	vtd_desc_pc(d[0], 3, 0, 0);
	vtd_desc_iotlb_global(d[1]);
	return vtd_qi_sync(&h.u, (const uint64_t (*)[4])d, 2);
}

static uint32_t host_calls(void)
{
	return hp_reg(&h, PDMA_HOST_BINDS) + hp_reg(&h, PDMA_HOST_REPLACES) +
	       hp_reg(&h, PDMA_HOST_DETACHES);
}

static int setup(void)
{
	crp = alloc_pages(1);
	alt = alloc_pages(1);
	if (!crp || !alt || vtd_pt_init(&as_alt, 4, true) ||
	    vtd_pt_map(&as_alt, VA, (uintptr_t)alt, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    vtd_pt_map(&as_alt, VA_CR, (uintptr_t)crp, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W))
		return -1;
	for (unsigned t = 1; t <= NT; t++) {
		page[t] = alloc_pages(1);
		if (!page[t] || vtd_pt_init(&as[t], 4, true) ||
		    vtd_pt_map(&as[t], VA, (uintptr_t)page[t], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
		    vtd_pt_map(&as[t], VA_CR, (uintptr_t)crp, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
		    vtd_pasid_set(&h.u, h.bdf, pasid_of(t), DID, VTD_PGTT_FS, &as[t], NULL, false))
			return -1;
	}
	return 0;
}

void test_main(void)
{
	uint32_t b0, c0;
	uint8_t st;
	bool ok = true;

	tap_plan(7);
	if (hp_open(&h, false) || hp_reg(&h, PDMA_HOST_BACKEND) != 1)
		tap_bail("needs -device vtd and pasid-dma,backend=hostsim");
	b0 = hp_reg(&h, PDMA_HOST_BINDS);
	if (setup())
		tap_bail("cannot build the tables");

	/* Ten entries written, one global flush: all ten bound. */
	ok = !global_flush();
	for (unsigned t = 1; t <= NT; t++)
		ok = ok && fill(t, VA, (uint8_t)t) == PDMA_ST_OK && page[t][63] == t;
	tap_ok(ok && hp_reg(&h, PDMA_HOST_BINDS) == b0 + NT,
	       "one global flush bound PASIDs 64..640 (+%u binds), each fill in its own page",
	       hp_reg(&h, PDMA_HOST_BINDS) - b0);

	/* Nothing changed: three more global flushes call the host for nothing. */
	c0 = host_calls();
	ok = !global_flush() && !global_flush() && !global_flush();
	tap_ok(ok && host_calls() == c0, "unchanged tables: %u host calls over three global flushes",
	       host_calls() - c0);

	/* The CPU points PASID 192 at other tables. */
	c0 = hp_reg(&h, PDMA_HOST_REPLACES);
	ok = !vtd_pasid_set(&h.u, h.bdf, pasid_of(3), DID, VTD_PGTT_FS, &as_alt, NULL, false) &&
	     !global_flush();
	st = fill(3, VA, 0x33);
	tap_ok(ok && st == PDMA_ST_OK && alt[0] == 0x33 && page[3][0] == 3 &&
		       hp_reg(&h, PDMA_HOST_REPLACES) == c0 + 1,
	       "CPU rewrote PASID 192's entry: replaced on the host, DMA uses the new tables");

	/* The CPU clears PASID 320. */
	c0 = hp_reg(&h, PDMA_HOST_DETACHES);
	vtd_pasid_clear(&h.u, h.bdf, pasid_of(5));
	ok = !global_flush();
	st = fill(5, VA, 0x55);
	tap_ok(ok && st != PDMA_ST_OK && page[5][0] == 5 && hp_reg(&h, PDMA_HOST_DETACHES) == c0 + 1,
	       "CPU cleared PASID 320's entry: detached, its DMA faults (status 0x%x)", st);
	vtd_faults_clear(&h.u);

	/* The device clears PASID 512's entry by DMA: nestvm wrote it, no CPU store at all. */
	{
		uint64_t *pe = vtd_pasid_entry(&h.u, h.bdf, pasid_of(8));
		uintptr_t tbl = (uintptr_t)pe & ~(uintptr_t)(PAGE_SIZE - 1);

		c0 = hp_reg(&h, PDMA_HOST_DETACHES);
		ok = pe && (uintptr_t)pe == tbl &&
		     !vtd_pt_map(&as[7], VA_TBL, tbl, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) &&
		     !hp_flush_page(&h, DID, pasid_of(7), VA_TBL);
		st = fill(7, VA_TBL, 0);
		tap_ok(ok && st == PDMA_ST_OK && pe && !(pe[0] & 1),
		       "PASID 448's DMA cleared PASID 512's entry (status 0x%x)", st);
		ok = !global_flush();
		st = fill(8, VA, 0x88);
		tap_ok(ok && st != PDMA_ST_OK && page[8][0] == 8 &&
			       hp_reg(&h, PDMA_HOST_DETACHES) == c0 + 1,
		       "the next global flush detached PASID 512: its DMA faults (status 0x%x)", st);
		vtd_faults_clear(&h.u);
	}

	/* Everything else as it was. */
	ok = true;
	for (unsigned t = 1; t <= NT; t++) {
		if (t == 3 || t == 5 || t == 8)
			continue;
		ok = ok && fill(t, VA, (uint8_t)(0x40 + t)) == PDMA_ST_OK && page[t][0] == 0x40 + t;
	}
	tap_ok(ok && fill(3, VA, 0x77) == PDMA_ST_OK && alt[0] == 0x77,
	       "the seven untouched PASIDs and the rewritten one still reach their pages");
}
