/* SPDX-License-Identifier: MIT */
/*
 * sva: a guest "SVA driver" for pasid-dma. Two PASIDs with their own first-stage address
 * spaces; unmap + PASID-IOTLB without the device-TLB invalidation keeps the stale page in use;
 * with it the device page-requests; the fault handler maps and answers Success (completion)
 * or Invalid (error). Prints the page request round trip measured with RDTSC.
 */
#include "vtd.h"

#define PDMA_VENDOR 0x1234
#define PDMA_DEVICE 0x5a5d
#define R_CTRL 0x08
#define R_STATUS 0x0c
#define R_RING_LO 0x10
#define R_RING_HI 0x14
#define R_RING_SIZE 0x18
#define R_TAIL 0x20
#define ST_OK 1
#define ST_PRG_INVALID 0x11
#define OP_COPY 1
#define OP_FILL 2
#define PASID_EN (1ULL << 8)
#define PQH 0x0c0
#define PQT 0x0c8
#define PQA 0x0d0
#define PRS 0x0dc
#define ECAP_DT (1ULL << 2)
#define ECAP_PRS (1ULL << 29)
#define VA 0x00007f0000400000ULL /* same VA in both processes */
#define VA_CR 0x00007f0000600000ULL
#define RING_N 16

static struct vtd u;
static uint16_t bdf;
static uint64_t bar;
static uint64_t *ring, *prq;
static unsigned tail, pq_head;
static struct vtd_pt as[3];
static uint8_t *page[3][3]; /* [pasid][0 data, 1 cr, 2 spare] */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void submit(uint64_t q0, uint64_t src, uint64_t dst, uint64_t len, uint64_t pat, uint64_t cr)
{
	uint64_t *d = &ring[8 * tail];

	d[0] = q0, d[1] = src, d[2] = dst, d[3] = len, d[4] = pat, d[5] = cr, d[6] = d[7] = 0;
	tail = (tail + 1) % RING_N;
	mmio_write32(bar + R_TAIL, tail);
}

static int qi1(uint64_t q0, uint64_t q1)
{
	uint64_t d[1][4] = { { q0, q1, 0, 0 } };

	return vtd_qi_sync(&u, d, 1);
}

/* Unmap VA of pasid p and flush the IOTLB; with devtlb also the device-TLB. */
static int unmap(unsigned p, bool devtlb)
{
	uint64_t *leaf = vtd_pt_leaf(&as[p], VA), d[1][4];
	int ret;

	if (!leaf)
		return -1;
	*leaf = 0;
	vtd_desc_piotlb(d[0], 3, 1, p, VA, 0);
	ret = vtd_qi_sync(&u, d, 1);
	if (!ret && devtlb)
		ret = qi1(0x8 | ((uint64_t)bdf << 16) | ((uint64_t)p << 32), VA);
	return ret;
}

/* Pops one page request record: 0 if none arrived. */
static uint64_t prq_pop(uint64_t *q0)
{
	uint64_t q1;

	if ((vtd_read64(&u, PQT) & 0x7ffe0) == pq_head)
		return 0;
	*q0 = prq[pq_head / 8];
	q1 = prq[pq_head / 8 + 1];
	pq_head = (pq_head + 32) % 4096;
	vtd_write64(&u, PQH, pq_head);
	vtd_write32(&u, PRS, 1);
	return q1;
}

static int respond(unsigned p, uint64_t q1, unsigned code)
{
	return qi1(0x9 | (1 << 4) | ((uint64_t)code << 12) | ((uint64_t)bdf << 16) | ((uint64_t)p << 32),
		   q1 & (0x1ffULL << 3));
}

static int setup(void)
{
	uint64_t *c;
	uint16_t off;
	int ret;

	ret = vtd_tables_init(&u, true);
	vtd_smctx_set(&u, bdf, 0, false);
	c = (uint64_t *)(uintptr_t)(u.root[0] & ~0xfffULL) + 4 * (bdf & 0x7f);
	c[0] |= (1 << 2) | (1 << 3) | (1 << 4); /* DTE, PASIDE, PRE */
	ret = ret ? ret : vtd_pasid_set(&u, bdf, 0, 2, VTD_PGTT_PT, NULL, NULL, false);
	for (unsigned p = 1; p <= 2 && !ret; p++) {
		for (unsigned i = 0; i < 3; i++)
			page[p][i] = alloc_pages(1);
		ret = vtd_pt_init(&as[p], 4, true) ||
		      vtd_pt_map(&as[p], VA, (uintptr_t)page[p][0], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
		      vtd_pt_map(&as[p], VA_CR, (uintptr_t)page[p][1], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
		      vtd_pasid_set(&u, bdf, p, 1, VTD_PGTT_FS, &as[p], NULL, false);
	}
	prq = alloc_pages(1);
	ring = alloc_pages(1);
	if (ret || !prq || !ring || vtd_qi_init(&u, 0, true) || vtd_qi_flush_all(&u))
		return -1;
	vtd_write64(&u, PQH, 0);
	vtd_write64(&u, PQT, 0);
	vtd_write64(&u, PQA, (uintptr_t)prq);
	if (vtd_gcmd(&u, VTD_GCMD_TE, true))
		return -1;
	/* Device: PASID, ATS, PRI (32 requests) enabled; the ring (IOVA = GPA via PASID 0 PT). */
	pci_write16(bdf, 0x04, 0x6);
	if (!(off = pci_find_ext_cap(bdf, 0x1b)))
		return -1;
	pci_write16(bdf, off + 6, 1);
	if (!(off = pci_find_ext_cap(bdf, 0x0f)))
		return -1;
	pci_write16(bdf, off + 6, 0x8000);
	if (!(off = pci_find_ext_cap(bdf, 0x13)))
		return -1;
	pci_write32(bdf, off + 0xc, 32);
	pci_write16(bdf, off + 4, 1);
	mmio_write32(bar + R_RING_LO, (uint32_t)(uintptr_t)ring);
	mmio_write32(bar + R_RING_HI, 0);
	mmio_write32(bar + R_RING_SIZE, RING_N);
	mmio_write32(bar + R_CTRL, 1);
	return 0;
}

#define DESC(op, p) ((op) | PASID_EN | ((uint64_t)(p) << 32))

void test_main(void)
{
	int dev = pci_find_device(PDMA_VENDOR, PDMA_DEVICE);
	uint64_t q0 = 0, q1, t0, t1;
	bool ok;

	tap_plan(9);
	if (dev < 0 || vtd_find(&u))
		tap_bail("no pasid-dma or no VT-d unit");
	bdf = (uint16_t)dev;
	bar = pci_bar_addr(bdf, 0);
	tap_ok((u.ecap & (ECAP_PRS | ECAP_DT | VTD_ECAP_PASID)) == (ECAP_PRS | ECAP_DT | VTD_ECAP_PASID),
	       "ECAP has PASID, DT and PRS (0x%lx)", u.ecap);
	if (setup())
		tap_bail("setup failed");

	/* Two processes, same VA, different pages. */
	submit(DESC(OP_FILL, 1), 0, VA, 64, 0x1111111111111111ULL, VA_CR);
	submit(DESC(OP_FILL, 2), 0, VA, 64, 0x2222222222222222ULL, VA_CR);
	tap_ok(page[1][1][0] == ST_OK && page[2][1][0] == ST_OK && page[1][0][63] == 0x11 &&
		       page[2][0][63] == 0x22, "two PASIDs: fills landed in their own pages (%u %u)",
	       page[1][1][0], page[2][1][0]);
	for (unsigned i = 0; i < 64; i++)
		page[1][0][i] = (uint8_t)i;
	submit(DESC(OP_COPY, 1), VA, VA + 64, 64, 0, VA_CR);
	tap_ok(page[1][1][0] == ST_OK && !memcmp(page[1][0], page[1][0] + 64, 64),
	       "PASID 1 copy within its address space");

	/* Forgotten device-TLB invalidation: the old page is still written. */
	ok = unmap(1, false) == 0;
	submit(DESC(OP_FILL, 1), 0, VA, 64, 0x3333333333333333ULL, VA_CR);
	tap_ok(ok && page[1][1][0] == ST_OK && page[1][0][0] == 0x33,
	       "without a device-TLB invalidation the stale translation is used (realism)");

	/* With it: a page request instead of touching the old page. */
	ok = qi1(0x8 | ((uint64_t)bdf << 16) | (1ULL << 32), VA) == 0;
	page[1][1][0] = 0;
	t0 = rdtsc();
	submit(DESC(OP_FILL, 1), 0, VA, 64, 0x4444444444444444ULL, VA_CR);
	q1 = prq_pop(&q0);
	tap_ok(ok && q1 && (q1 & ~0xfffULL) == VA && (q1 & 6) == 6 && ((q0 >> 32) & 0xfffff) == 1 &&
		       (mmio_read32(bar + R_STATUS) & 1) && page[1][0][0] == 0x33,
	       "device-TLB invalidated: page request (q0 0x%lx q1 0x%lx), old page untouched", q0, q1);
	vtd_pt_map(&as[1], VA, (uintptr_t)page[1][2], PAGE_SIZE, VTD_PTE_R | VTD_PTE_W);
	ok = respond(1, q1, 0) == 0;
	t1 = rdtsc();
	tap_ok(ok && page[1][1][0] == ST_OK && page[1][2][5] == 0x44,
	       "mapped + Success response: the DMA completed into the new page");
	tap_diag("page request round trip (submit -> record -> map -> response -> done): %lu TSC cycles",
		 t1 - t0);

	/* Invalid response. */
	ok = unmap(2, true) == 0;
	page[2][1][0] = 0;
	submit(DESC(OP_FILL, 2), 0, VA, 64, 0x5555555555555555ULL, VA_CR);
	q1 = prq_pop(&q0);
	tap_ok(ok && q1 && ((q0 >> 32) & 0xfffff) == 2, "PASID 2 unmapped: page request");
	ok = respond(2, q1, 1) == 0;
	tap_ok(ok && page[2][1][0] == ST_PRG_INVALID, "Invalid response: completion error 0x%x",
	       page[2][1][0]);
	tap_ok(!(vtd_read32(&u, VTD_FSTS) & (VTD_FSTS_IQE | VTD_FSTS_PPF)),
	       "no IQE, no recorded fault (FSTS 0x%x)", vtd_read32(&u, VTD_FSTS));
	tap_done();
}
