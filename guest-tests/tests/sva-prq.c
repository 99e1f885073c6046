/* SPDX-License-Identifier: MIT */
/*
 * sva-prq: page request queue overflow and the context entry's DTE / PRE gates, driven by
 * pasid-dma. One 160-page FILL overflows the 128-record queue: PRO is set, the 127 records
 * written are intact, the rest (and everything while PRO stays set) is dropped, the device
 * gives up after its bounded retries; the driver maps, drains, clears PRO and resubmits.
 * Then PRE=0 refuses page requests (fault 0x47) and DTE=0 refuses translation requests
 * (fault 0x44).
 */
#include "vtd.h"

#define PDMA_VENDOR 0x1234
#define PDMA_DEVICE 0x5a5d
#define R_CTRL 0x08
#define R_RING_LO 0x10
#define R_RING_HI 0x14
#define R_RING_SIZE 0x18
#define R_TAIL 0x20
#define R_COMPLETED 0x24
#define ST_OK 1
#define ST_FAULT 0x10
#define OP_FILL 2
#define PASID_EN (1ULL << 8)
#define DESC_FILL ((uint64_t)OP_FILL | PASID_EN | (1ULL << 32)) /* PASID 1 */
#define PQH 0x0c0
#define PQT 0x0c8
#define PQA 0x0d0
#define PRS 0x0dc
#define PRS_PPR 1u
#define PRS_PRO 2u
#define FR_SM_CTX_DTE 0x44
#define FR_SM_CTX_PRE 0x47
#define CTX_DTE (1ULL << 2)
#define CTX_PRE (1ULL << 4)
#define VA_BIG 0x00007f0000800000ULL /* NBIG pages, unmapped at first */
#define VA_X 0x00007f0000600000ULL   /* one page each, unmapped at first */
#define VA_Y 0x00007f0000601000ULL
#define VA_CR 0x00007f0000400000ULL
#define NBIG 160u     /* > 127 records: the queue (one page) overflows */
#define NREC 127u     /* a 4 KiB queue holds 128 slots, one always free */
#define RING_N 16
#define CANARY 0xc3c3c3c3c3c3c3c3ULL

static struct vtd u;
static uint16_t bdf;
static uint64_t bar;
static uint64_t *ring, *prq, *ctx;
static volatile uint8_t *cr;
static uint8_t *big, *px, *py;
static unsigned tail;
static struct vtd_pt as;

/* One FILL of len bytes at va with PASID 1; the device runs it in the doorbell write. */
static uint8_t fill(uint64_t va, uint64_t len, uint64_t pat)
{
	uint64_t *d = &ring[8 * tail];

	cr[0] = 0;
	d[0] = DESC_FILL, d[1] = 0, d[2] = va, d[3] = len, d[4] = pat, d[5] = VA_CR;
	d[6] = d[7] = 0;
	tail = (tail + 1) % RING_N;
	mmio_write32(bar + R_TAIL, tail);
	return cr[0];
}

static int qi1(uint64_t q0, uint64_t q1)
{
	uint64_t d[1][4] = { { q0, q1, 0, 0 } };

	return vtd_qi_sync(&u, d, 1);
}

static int ctx_update(uint64_t set, uint64_t clear)
{
	uint64_t d[1][4];

	ctx[0] = (ctx[0] | set) & ~clear;
	vtd_desc_cc_global(d[0]);
	return vtd_qi_sync(&u, d, 1);
}

static int setup(void)
{
	uint16_t off;
	int ret;

	ret = vtd_tables_init(&u, true);
	vtd_smctx_set(&u, bdf, 0, false);
	ctx = (uint64_t *)(uintptr_t)(u.root[0] & ~0xfffULL) + 4 * (bdf & 0x7f);
	ctx[0] |= CTX_DTE | (1 << 3) | CTX_PRE;
	big = alloc_pages(NBIG);
	px = alloc_pages(1);
	py = alloc_pages(1);
	cr = alloc_pages(1);
	prq = alloc_pages(1);
	ring = alloc_pages(1);
	if (ret || !big || !px || !py || !cr || !prq || !ring)
		return -1;
	ret = vtd_pasid_set(&u, bdf, 0, 2, VTD_PGTT_PT, NULL, NULL, false) ||
	      vtd_pt_init(&as, 4, true) ||
	      vtd_pt_map(&as, VA_CR, (uintptr_t)cr, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	      vtd_pasid_set(&u, bdf, 1, 1, VTD_PGTT_FS, &as, NULL, false);
	if (ret || vtd_qi_init(&u, 0, true) || vtd_qi_flush_all(&u))
		return -1;
	for (unsigned i = 0; i < 512; i++)
		prq[i] = CANARY;
	vtd_write64(&u, PQH, 0);
	vtd_write64(&u, PQT, 0);
	vtd_write64(&u, PQA, (uintptr_t)prq); /* PQS 0: one page, 128 records */
	if (vtd_gcmd(&u, VTD_GCMD_TE, true))
		return -1;
	/* Device: PASID, ATS, PRI with a 512-request allocation (one group may hold NBIG). */
	pci_write16(bdf, 0x04, 0x6);
	if (!(off = pci_find_ext_cap(bdf, 0x1b)))
		return -1;
	pci_write16(bdf, off + 6, 1);
	if (!(off = pci_find_ext_cap(bdf, 0x0f)))
		return -1;
	pci_write16(bdf, off + 6, 0x8000);
	if (!(off = pci_find_ext_cap(bdf, 0x13)))
		return -1;
	pci_write32(bdf, off + 0xc, 512);
	pci_write16(bdf, off + 4, 1);
	mmio_write32(bar + R_RING_LO, (uint32_t)(uintptr_t)ring);
	mmio_write32(bar + R_RING_HI, 0);
	mmio_write32(bar + R_RING_SIZE, RING_N);
	mmio_write32(bar + R_CTRL, 1);
	return 0;
}

/* Every record of the overflowed group as the device sent it; slot NREC never written. */
static bool records_intact(unsigned *bad)
{
	unsigned prgi = (unsigned)(prq[1] >> 3) & 0x1ff;

	for (unsigned i = 0; i < NREC; i++) {
		uint64_t q0 = prq[4 * i], q1 = prq[4 * i + 1];
		bool ok = (q0 & 0xff) == 1 && (q0 & (1ULL << 8)) && ((q0 >> 16) & 0xffff) == bdf &&
			  ((q0 >> 32) & 0xfffff) == 1 && !(q0 & (3ULL << 52)) &&
			  (q1 & 7) == 2 /* WRR, no RDR, no LPIG */ &&
			  ((q1 >> 3) & 0x1ff) == prgi && (q1 & ~0xfffULL) == VA_BIG + PAGE_SIZE * i &&
			  prq[4 * i + 2] == 0 && prq[4 * i + 3] == 0;

		if (!ok) {
			*bad = i;
			return false;
		}
	}
	*bad = NREC;
	for (unsigned i = 4 * NREC; i < 512; i++) {
		if (prq[i] != CANARY)
			return false;
	}
	return true;
}

static bool big_filled(uint8_t v)
{
	for (unsigned i = 0; i < NBIG; i++) {
		if (big[PAGE_SIZE * i] != v || big[PAGE_SIZE * i + PAGE_SIZE - 1] != v)
			return false;
	}
	return true;
}

void test_main(void)
{
	int dev = pci_find_device(PDMA_VENDOR, PDMA_DEVICE);
	struct vtd_frec fr;
	uint32_t done;
	unsigned bad;
	uint8_t st;
	uint64_t q1;
	bool ok;

	tap_plan(10);
	if (dev < 0 || vtd_find(&u))
		tap_bail("no pasid-dma or no VT-d unit");
	bdf = (uint16_t)dev;
	bar = pci_bar_addr(bdf, 0);
	if (setup())
		tap_bail("setup failed");

	/* 1. One FILL over NBIG unmapped pages: a group larger than the queue. */
	st = fill(VA_BIG, NBIG * PAGE_SIZE, 0x5a5a5a5a5a5a5a5aULL);
	tap_ok(st == ST_FAULT && (vtd_read32(&u, PRS) & PRS_PRO) &&
		       (vtd_read64(&u, PQT) & 0x7ffe0) == NREC * 32 && big[0] == 0,
	       "overflow: PRO set, PQT 0x%lx, the device gave up after its retries (status 0x%x)",
	       vtd_read64(&u, PQT), st);
	ok = records_intact(&bad);
	tap_ok(ok, "the %u records written are intact, nothing past them (first bad %u)", NREC, bad);
	tap_ok(!(vtd_read32(&u, VTD_FSTS) & VTD_FSTS_PPF), "overflow records no fault (FSTS 0x%x)",
	       vtd_read32(&u, VTD_FSTS));

	/* 2. The driver maps the pages and drains the queue (a group without LPIG: no answer). */
	vtd_pt_map(&as, VA_BIG, (uintptr_t)big, NBIG * PAGE_SIZE, VTD_PTE_R | VTD_PTE_W);
	vtd_write64(&u, PQH, NREC * 32);
	vtd_write32(&u, PRS, PRS_PPR);
	st = fill(VA_X, 64, 0x1111111111111111ULL);
	tap_ok(st == ST_FAULT && (vtd_read64(&u, PQT) & 0x7ffe0) == NREC * 32 &&
		       prq[4 * NREC] == CANARY,
	       "PRO still set: a new request is dropped although the queue has room (0x%x)", st);

	/* 3. PRO cleared: the resubmitted descriptor completes, a page request works again. */
	vtd_write32(&u, PRS, PRS_PRO);
	st = fill(VA_BIG, NBIG * PAGE_SIZE, 0x5a5a5a5a5a5a5a5aULL);
	tap_ok(st == ST_OK && big_filled(0x5a) && !(vtd_read32(&u, PRS) & PRS_PRO),
	       "after map + PRO clear the resubmitted FILL completes in all %u pages (0x%x)", NBIG,
	       st);
	st = fill(VA_X, 64, 0x2222222222222222ULL);
	q1 = prq[4 * NREC + 1];
	ok = st == 0 && (vtd_read64(&u, PQT) & 0x7ffe0) == 0 && (vtd_read32(&u, PRS) & PRS_PPR) &&
	     (q1 & ~0xfffULL) == VA_X && (q1 & 6) == 6;
	vtd_pt_map(&as, VA_X, (uintptr_t)px, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W);
	vtd_write64(&u, PQH, 0);
	vtd_write32(&u, PRS, PRS_PPR);
	ok = ok && qi1(0x9 | (1 << 4) | ((uint64_t)bdf << 16) | (1ULL << 32), q1 & (0x1ffULL << 3)) == 0;
	tap_ok(ok && cr[0] == ST_OK && px[63] == 0x22,
	       "queue usable again: record at the wrapped slot, Success response completes (0x%x)",
	       cr[0]);

	/* 4. PRE=0: the page request is refused and recorded (0x47); nothing is queued. */
	ok = ctx_update(0, CTX_PRE) == 0;
	st = fill(VA_Y, 64, 0x3333333333333333ULL);
	tap_ok(ok && st == ST_FAULT && (vtd_read64(&u, PQT) & 0x7ffe0) == 0 && py[0] == 0,
	       "PRE=0: page request refused, descriptor fails (0x%x), nothing queued", st);
	ok = vtd_fault_find(&u, &fr) >= 0;
	tap_ok(ok && fr.fr == FR_SM_CTX_PRE && fr.sid == bdf && fr.pp && fr.pasid == 1 &&
		       fr.addr == VA_Y && !fr.read,
	       "PRE=0 fault record: reason 0x%x sid 0x%x pasid %u addr 0x%lx", fr.fr, fr.sid,
	       fr.pasid, fr.addr);
	vtd_faults_clear(&u);

	/*
	 * 5. DTE=0: translation requests refused (0x44). A device-TLB invalidation without PASID
	 * empties every PASID entry (PCIe), so the device has to ask again.
	 */
	ok = ctx_update(CTX_PRE, CTX_DTE) == 0 && qi1(0x3 | ((uint64_t)bdf << 32), 0) == 0;
	done = mmio_read32(bar + R_COMPLETED);
	px[0] = 0;
	fill(VA_X, 64, 0x4444444444444444ULL);
	ok = ok && mmio_read32(bar + R_COMPLETED) == done + 1 && px[0] == 0;
	tap_ok(ok, "DTE=0: descriptor completes without touching memory");
	ok = vtd_fault_find(&u, &fr) >= 0;
	tap_ok(ok && fr.fr == FR_SM_CTX_DTE && fr.sid == bdf && fr.pp && fr.pasid == 1 &&
		       fr.addr == VA_X,
	       "DTE=0 fault record: reason 0x%x sid 0x%x pasid %u addr 0x%lx", fr.fr, fr.sid,
	       fr.pasid, fr.addr);
	vtd_faults_clear(&u);
	tap_done();
}
