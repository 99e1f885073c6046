/* SPDX-License-Identifier: MIT */
/*
 * host-forward: a guest SVA driver on a simulated passthrough pasid-dma (backend=hostsim).
 * The device's DMA is translated only by the host IOMMU simulator, from what the vIOMMU
 * forwarded: binds of the RID and of PASIDs 1 and 2, one host invalidation per affected
 * stage-1 per queue drain, a stale host translation when the guest skips an invalidation,
 * replace and unbind, and host faults that come back as guest fault records. The HOST_*
 * test registers of the device report what reached the host.
 *
 * The same kernel runs on a real host (tests/host-kernel: the device passed through with
 * vfio-pci, nestvm's iommufd backend on a real Linux): HOST_BACKEND reads 0 there, so the
 * host counters are not checked (nestvm's exit line has them, the suite compares), nor fault
 * records (Linux's iommufd reports no unrecoverable faults to the VMM), nor that a skipped
 * invalidation leaves a stale translation (a real IOMMU may or may not have cached it).
 */
#include "host-pdma.h"

#define VA 0x00007f0000400000ULL /* same VA in both processes */
#define VA_CR 0x00007f0000600000ULL
#define DID_P 1

static struct hp h;
static bool sim; /* hostsim (HOST_* counters valid), else a real host IOMMU */
static struct vtd_pt as[3], as1b;
static uint8_t *page[3][3]; /* [pasid][0 data, 1 completion record, 2 spare] */
static uint8_t *rid_buf, *rid_cr, *newpage;

struct hc {
	uint32_t binds, replaces, detaches, inv, ranges, faults;
};

static void snap(struct hc *c)
{
	*c = (struct hc){ hp_reg(&h, PDMA_HOST_BINDS), hp_reg(&h, PDMA_HOST_REPLACES),
			  hp_reg(&h, PDMA_HOST_DETACHES), hp_reg(&h, PDMA_HOST_INV_CALLS),
			  hp_reg(&h, PDMA_HOST_INV_RANGES), hp_reg(&h, PDMA_HOST_FAULTS) };
}

/* The first fault record: reason, write, page, SID and PASID; then clears the records. */
static bool check_fault(uint8_t fr, uint64_t addr, uint32_t pasid, const char *what)
{
	struct vtd_frec r = { 0 };
	int i = vtd_fault_find(&h.u, &r);
	bool ok;

	if (!sim) {
		vtd_faults_clear(&h.u);
		return tap_ok(true, "%s # SKIP real host: no unrecoverable fault reporting via iommufd",
			      what);
	}
	ok = i >= 0 && r.fr == fr && !r.read && r.addr == addr && r.sid == h.bdf && r.pp &&
		  r.pasid == pasid;

	tap_ok(ok, "%s: FRCD[%d] FR 0x%x (want 0x%x) addr 0x%lx sid %x pasid %u", what, i, r.fr, fr,
	       r.addr, r.sid, r.pasid);
	vtd_faults_clear(&h.u);
	return ok;
}

static int setup_pasids(void)
{
	int ret = 0;

	rid_buf = alloc_pages(1);
	rid_cr = alloc_pages(1);
	newpage = alloc_pages(1);
	if (!rid_buf || !rid_cr || !newpage || hp_rid_map(&h, rid_buf) || hp_rid_map(&h, rid_cr))
		return -1;
	for (unsigned p = 1; p <= 2 && !ret; p++) {
		for (unsigned i = 0; i < 3; i++)
			if (!(page[p][i] = alloc_pages(1)))
				return -1;
		ret = vtd_pt_init(&as[p], 4, true) ||
		      vtd_pt_map(&as[p], VA, (uintptr_t)page[p][0], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
		      vtd_pt_map(&as[p], VA_CR, (uintptr_t)page[p][1], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W);
	}
	return ret;
}

void test_main(void)
{
	uint64_t d[3][4], *leaf;
	struct hc a, b;
	uint32_t done;
	bool ok;

	tap_plan(15);
	if (hp_open(&h, false) || setup_pasids())
		tap_bail("no pasid-dma,backend=hostsim or no scalable-mode VT-d unit, or setup failed");
	sim = hp_reg(&h, PDMA_HOST_BACKEND) == 1;
	tap_diag("host: %s", sim ? "hostsim (HOST_* counters checked)"
				 : "a real host IOMMU (HOST_* counters not visible to the guest)");
	tap_ok(!sim || hp_reg(&h, PDMA_HOST_BINDS) == 1,
	       "the RID (RID_PASID 0) is bound on the host (binds %u%s)", hp_reg(&h, PDMA_HOST_BINDS),
	       sim ? "" : "; real host: proven by the RID DMA below");

	/* Bind two processes: a PASID entry + a PASID-selective PASID-cache invalidation each. */
	snap(&a);
	ok = !hp_bind(&h, 1, DID_P, &as[1]) && !hp_bind(&h, 2, DID_P, &as[2]);
	snap(&b);
	tap_ok(ok && (!sim || (b.binds - a.binds == 2 && b.inv == a.inv)),
	       "PASIDs 1 and 2 bound on the host (+%u binds, +%u invalidations)", b.binds - a.binds,
	       b.inv - a.inv);

	/* DMA without PASID goes through the RID's stage-1. */
	hp_submit(&h, PDMA_DESC_RID(PDMA_OP_FILL), 0, (uintptr_t)rid_buf, 64, 0x0101010101010101ULL,
		  (uintptr_t)rid_cr);
	tap_ok(rid_cr[0] == PDMA_ST_OK && rid_buf[63] == 0x01, "RID DMA through the host (status %u)",
	       rid_cr[0]);

	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, 64, 0x1111111111111111ULL, VA_CR);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 2), 0, VA, 64, 0x2222222222222222ULL, VA_CR);
	tap_ok(page[1][1][0] == PDMA_ST_OK && page[2][1][0] == PDMA_ST_OK && page[1][0][63] == 0x11 &&
		       page[2][0][63] == 0x22,
	       "two PASIDs, same VA: each fill landed in its own page (%u %u)", page[1][1][0],
	       page[2][1][0]);

	/* Unmap + the correct invalidation: the host sees one call, the DMA faults. */
	leaf = vtd_pt_leaf(&as[1], VA);
	if (leaf)
		*leaf = 0;
	snap(&a);
	ok = leaf && !hp_flush_page(&h, DID_P, 1, VA);
	snap(&b);
	tap_ok(ok && (!sim || (b.inv - a.inv == 1 && b.ranges - a.ranges == 1)),
	       "unmap + PASID-IOTLB page flush: forwarded as %u host call(s), %u range(s)",
	       b.inv - a.inv, b.ranges - a.ranges);
	page[1][1][0] = 0;
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, 64, 0x3333333333333333ULL, VA_CR);
	snap(&a);
	/*
	 * hostsim's device has no ATS/PRI: the miss is a translation fault (0x10). A real host's
	 * function with ATS + PRI (tests/host-kernel) asks for the page and the host kernel, which
	 * has no fault handler for it, answers Failure (0x11). Either way nothing is written.
	 */
	tap_ok((page[1][1][0] == PDMA_ST_FAULT || (!sim && page[1][1][0] == 0x11)) &&
		       page[1][0][0] == 0x11 && (!sim || a.faults - b.faults == 1),
	       "DMA to the unmapped VA faults on the host (status 0x%x, +%u host fault)",
	       page[1][1][0], a.faults - b.faults);
	check_fault(VTD_FR_FS_NOT_PRESENT, VA, 1, "host fault -> guest fault record");

	/* One drain, three page flushes over two stage-1s: exactly two host calls. */
	vtd_pt_map(&as[1], VA, (uintptr_t)page[1][2], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W);
	vtd_desc_piotlb(d[0], 3, DID_P, 1, VA, 0);
	vtd_desc_piotlb(d[1], 3, DID_P, 1, VA + 0x1000, 0);
	vtd_desc_piotlb(d[2], 3, DID_P, 2, VA + 0x2000, 0);
	snap(&a);
	ok = !vtd_qi_sync(&h.u, (const uint64_t (*)[4])d, 3);
	snap(&b);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, 64, 0x4444444444444444ULL, VA_CR);
	tap_ok(ok && (!sim || (b.inv - a.inv == 2 && b.ranges - a.ranges == 3)) && page[1][2][0] == 0x44,
	       "one drain, 3 ranges over 2 stage-1s: %u host calls (%u ranges); remapped DMA works",
	       b.inv - a.inv, b.ranges - a.ranges);

	/* A guest that skips the invalidation keeps using the host's cached translation. */
	leaf = vtd_pt_leaf(&as[2], VA);
	if (leaf)
		*leaf = ((uintptr_t)page[2][2] & ~0xfffULL) | (*leaf & 0xfffULL);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 2), 0, VA, 64, 0x5555555555555555ULL, VA_CR);
	{
		bool stale = page[2][0][0] == 0x55 && page[2][2][0] == 0;
		bool fresh = page[2][0][0] == 0x22 && page[2][2][0] == 0x55;

		tap_ok(leaf && (sim ? stale : stale || fresh),
		       "remap without invalidation: %s translation used%s", stale ? "the stale host" :
		       fresh ? "the new" : "no sensible", sim ? " (realism)" : " (real host: either is allowed)");
	}
	ok = !hp_flush_page(&h, DID_P, 2, VA);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 2), 0, VA, 64, 0x6666666666666666ULL, VA_CR);
	tap_ok(ok && page[2][2][0] == 0x66 && (page[2][0][0] == 0x55 || (!sim && page[2][0][0] == 0x22)),
	       "after the invalidation the DMA uses the new page");

	/* Replace: PASID 1 gets another address space. */
	ok = !vtd_pt_init(&as1b, 4, true) &&
	     !vtd_pt_map(&as1b, VA, (uintptr_t)newpage, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) &&
	     !vtd_pt_map(&as1b, VA_CR, (uintptr_t)page[1][1], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W);
	snap(&a);
	ok = ok && !hp_bind(&h, 1, DID_P, &as1b);
	snap(&b);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, 64, 0x7777777777777777ULL, VA_CR);
	tap_ok(ok && (!sim || (b.replaces - a.replaces == 1 && b.binds == a.binds)) && newpage[0] == 0x77,
	       "new first-stage root: the host stage-1 is replaced (+%u), DMA uses it",
	       b.replaces - a.replaces);

	/* Unbind PASID 2: detached on the host, its DMA is blocked there. */
	snap(&a);
	ok = !hp_unbind(&h, 2, DID_P);
	snap(&b);
	tap_ok(ok && (!sim || b.detaches - a.detaches == 1), "PASID 2 unbound: host detach (+%u)",
	       b.detaches - a.detaches);
	done = hp_reg(&h, PDMA_COMPLETED);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 2), 0, VA, 64, 0x8888888888888888ULL, 0);
	snap(&a);
	tap_ok(hp_reg(&h, PDMA_COMPLETED) == done + 1 && page[2][2][0] == 0x66 &&
		       (!sim || a.faults - b.faults == 1),
	       "DMA on the unbound PASID is blocked by the host (+%u host fault)", a.faults - b.faults);
	check_fault(VTD_FR_SM_PE_NOT_PRESENT, VA, 2, "blocked PASID -> guest fault record");
	tap_ok(!(vtd_read32(&h.u, VTD_FSTS) & VTD_FSTS_IQE), "no invalidation queue error (FSTS 0x%x)",
	       vtd_read32(&h.u, VTD_FSTS));
	tap_done();
}
