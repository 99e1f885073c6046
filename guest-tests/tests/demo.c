/* SPDX-License-Identifier: MIT */
/*
 * demo: nestvm's job in one screen. A guest SVA driver binds two processes (PASIDs) of a
 * simulated passthrough DMA device (pasid-dma,backend=hostsim), runs DMA, remaps a page and
 * flushes it; nestvm forwards each bind and invalidation to the (simulated) host IOMMU, which
 * alone translates the device's DMA. The device's HOST_* test registers show what the host
 * received at each step; nestvm prints its own summary when the guest exits.
 *
 * On a real host (the device passed through with vfio-pci to nestvm's iommufd backend,
 * tests/host-kernel) HOST_BACKEND reads 0: the guest cannot see the host's counters, so only
 * the DMA results are checked here and nestvm's exit line tells what reached the host.
 */
#include "host-pdma.h"

#define VA 0x00007f0000400000UL /* the same virtual address in both processes */
#define VA_CR 0x00007f0000600000UL
#define DID_P 1

static struct hp h;
static struct vtd_pt as[3];
static uint8_t *page[3][2], *cr[3], *moved;
static bool sim; /* hostsim: HOST_* counters valid */

static void host_line(const char *what)
{
	if (!sim) {
		printf("        (real host IOMMU: its counters are in nestvm's exit line)%s\n", what);
		return;
	}
	printf("        host IOMMU now has: %u binds, %u detaches, %u invalidation call(s) (%u ranges)%s\n",
	       hp_reg(&h, PDMA_HOST_BINDS), hp_reg(&h, PDMA_HOST_DETACHES),
	       hp_reg(&h, PDMA_HOST_INV_CALLS), hp_reg(&h, PDMA_HOST_INV_RANGES), what);
}

static int make_process(unsigned p)
{
	page[p][0] = alloc_pages(1);
	page[p][1] = alloc_pages(1);
	cr[p] = alloc_pages(1);
	if (!page[p][0] || !page[p][1] || !cr[p])
		return -1;
	return vtd_pt_init(&as[p], 4, true) ||
	       vtd_pt_map(&as[p], VA, (uintptr_t)page[p][0], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	       vtd_pt_map(&as[p], VA_CR, (uintptr_t)cr[p], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W);
}

void test_main(void)
{
	uint32_t inv0, rng0, det0;
	uint64_t *leaf;
	bool ok;

	printf("\n=== nestvm demo: a guest driver, a passthrough DMA device, a nested host IOMMU ===\n");
	printf("The device (pasid-dma, backend=hostsim) is translated ONLY by the host IOMMU\n"
	       "simulator, from what nestvm's vIOMMU forwards to it.\n\n");
	tap_plan(6);
	if (hp_open(&h, false) || make_process(1) || make_process(2))
		tap_bail("needs -device vtd -device pasid-dma,backend=hostsim");

	sim = hp_reg(&h, PDMA_HOST_BACKEND) == 1;
	if (!sim)
		printf("This run: the device is passed through to a real host IOMMU (iommufd).\n\n");
	printf("Step 1. Bind: two processes (PASID 1, PASID 2) with their own page tables, the same\n"
	       "        virtual address 0x%lx in each, plus the device's own RID.\n", VA);
	ok = !hp_bind(&h, 1, DID_P, &as[1]) && !hp_bind(&h, 2, DID_P, &as[2]);
	host_line("");
	tap_ok(ok && (!sim || hp_reg(&h, PDMA_HOST_BINDS) == 3), "RID + 2 PASIDs bound on the host");

	printf("Step 2. DMA: the device fills VA 0x%lx once for each process.\n", VA);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, 64, 0xaaaaaaaaaaaaaaaaULL, VA_CR);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 2), 0, VA, 64, 0xbbbbbbbbbbbbbbbbULL, VA_CR);
	printf("        process 1's page holds 0x%02x, process 2's page holds 0x%02x\n",
	       page[1][0][0], page[2][0][0]);
	tap_ok(cr[1][0] == PDMA_ST_OK && cr[2][0] == PDMA_ST_OK && page[1][0][0] == 0xaa &&
		       page[2][0][0] == 0xbb,
	       "same VA, two address spaces, two pages");

	printf("Step 3. Remap: process 1 moves VA 0x%lx to a new page and flushes it with one\n"
	       "        PASID-based IOTLB invalidation.\n", VA);
	moved = alloc_pages(1);
	leaf = vtd_pt_leaf(&as[1], VA);
	inv0 = hp_reg(&h, PDMA_HOST_INV_CALLS);
	rng0 = hp_reg(&h, PDMA_HOST_INV_RANGES);
	ok = moved && leaf;
	if (ok) {
		*leaf = ((uintptr_t)moved & ~0xfffULL) | (*leaf & 0xfffULL);
		ok = !hp_flush_page(&h, DID_P, 1, VA);
	}
	host_line("");
	tap_ok(ok && (!sim || (hp_reg(&h, PDMA_HOST_INV_CALLS) == inv0 + 1 &&
			       hp_reg(&h, PDMA_HOST_INV_RANGES) == rng0 + 1)),
	       "the flush reached the host as exactly one call");

	printf("Step 4. DMA again: the host now translates VA 0x%lx to the new page.\n", VA);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, 64, 0xccccccccccccccccULL, VA_CR);
	printf("        new page holds 0x%02x, old page still 0x%02x\n", moved ? moved[0] : 0,
	       page[1][0][0]);
	tap_ok(moved && moved[0] == 0xcc && page[1][0][0] == 0xaa, "remapped DMA uses the new page");

	printf("Step 5. Process 2 flushes two pages in one queue drain: nestvm batches them into\n"
	       "        one host call for that stage-1.\n");
	{
		uint64_t d[2][4];

		vtd_desc_piotlb(d[0], 3, DID_P, 2, VA, 0);
		vtd_desc_piotlb(d[1], 3, DID_P, 2, VA_CR, 0);
		inv0 = hp_reg(&h, PDMA_HOST_INV_CALLS);
		rng0 = hp_reg(&h, PDMA_HOST_INV_RANGES);
		ok = !vtd_qi_sync(&h.u, (const uint64_t (*)[4])d, 2);
	}
	host_line("");
	tap_ok(ok && (!sim || (hp_reg(&h, PDMA_HOST_INV_CALLS) == inv0 + 1 &&
			       hp_reg(&h, PDMA_HOST_INV_RANGES) == rng0 + 2)),
	       "2 ranges, 1 host call");

	printf("Step 6. Unbind process 2: the host detaches its PASID.\n");
	det0 = hp_reg(&h, PDMA_HOST_DETACHES);
	ok = !hp_unbind(&h, 2, DID_P);
	host_line("");
	tap_ok(ok && (!sim || hp_reg(&h, PDMA_HOST_DETACHES) == det0 + 1), "PASID 2 detached on the host");

	printf("\nDone: every translation the device used came from the host IOMMU, programmed only\n"
	       "through what nestvm forwarded. nestvm prints its forwarding summary on exit.\n\n");
	tap_done();
}
