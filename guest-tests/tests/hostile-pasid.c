/* SPDX-License-Identifier: MIT */
/*
 * hostile-pasid: scalable-mode PASID directory and table abuse, through edu's requests without
 * PASID (they use the context's RID_PASID): directory sizes at PDTS min and max, RID_PASID just
 * inside and outside the directory and ECAP.PSS (run with pasid-bits=14), directory pointers
 * outside RAM, at MMIO and at themselves, reserved bits and invalid PGTT values. Each gets the
 * spec's fault and the VM keeps running.
 */
#include "vtd.h"

#define PSS_BITS 14 /* tests.list: -device vtd,pasid-bits=14 */
#define NOT_RAM 0x7ff00000ULL
#define LEN 64

static struct vtd u;
static struct edu_dev edu;
static uint64_t *dir, *tbl;
static uint8_t *buf;

static uint64_t pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* edu's scalable context entry (its table made by vtd_smctx_set). */
static uint64_t *ctx_of(void)
{
	uint64_t re = u.root[2 * (edu.bdf >> 8) + ((edu.bdf & 0x80) ? 1 : 0)];

	return (uint64_t *)(uintptr_t)(re & ~0xfffULL) + 4 * (edu.bdf & 0x7f);
}

/*
 * Context: directory at dirp with PDTS pdts (2^(pdts+7) entries), RID_PASID rp. The directory
 * entry for rp points at tbl, whose entry for rp is pass-through with PGTT pgtt.
 */
static void program(uint64_t dirp, unsigned pdts, uint32_t rp, unsigned pgtt)
{
	uint64_t *c = ctx_of(), *pe = tbl + 8 * (rp & 63);

	memset(dir, 0, PAGE_SIZE);
	memset(tbl, 0, PAGE_SIZE);
	if ((rp >> 6) < PAGE_SIZE / 8)
		dir[rp >> 6] = pa(tbl) | 1;
	pe[0] = 1 | ((uint64_t)pgtt << 6);
	pe[1] = 9; /* DID */
	c[3] = c[2] = 0;
	c[1] = rp & 0xfffff;
	c[0] = dirp | ((uint64_t)pdts << 9) | 1;
}

/* Flushes every cache, DMAs into buf; want 0: the write lands, else that fault. */
static void dma_case(unsigned want, const char *what)
{
	bool ok;

	vtd_faults_clear(&u);
	if (vtd_qi_flush_all(&u))
		tap_bail("invalidation queue broken");
	memset(buf, 0, LEN);
	if (!want) {
		ok = edu_dma(&edu, pa(buf), true, 0, LEN) == 0 && buf[0] == 0x5a &&
		     !(vtd_read32(&u, VTD_FSTS) & VTD_FSTS_PPF);
		tap_ok(ok, "%s: DMA lands (FSTS 0x%x)", what, vtd_read32(&u, VTD_FSTS));
		return;
	}
	edu_dma(&edu, pa(buf), true, 0, LEN);
	vtd_check_fault(&u, (uint8_t)want, false, pa(buf), edu.bdf, what);
}

void test_main(void)
{
	unsigned pss;

	tap_plan(19);
	if (vtd_find(&u) || !(u.ecap & VTD_ECAP_SMTS) || !(u.ecap & VTD_ECAP_QI) ||
	    !(u.ecap & VTD_ECAP_PT))
		tap_bail("needs a scalable-mode unit with QI and pass-through: -device vtd");
	pss = (unsigned)((u.ecap >> 35) & 0x1f) + 1;
	tap_ok(pss == PSS_BITS, "ECAP.PSS: %u PASID bits", pss);
	if (edu_open(&edu))
		tap_bail("no edu device");
	dir = alloc_pages(1);
	tbl = alloc_pages(1);
	buf = alloc_pages(1);
	if (!dir || !tbl || !buf || vtd_tables_init(&u, true) || vtd_qi_init(&u, 0, true))
		tap_bail("setup failed");
	vtd_smctx_set(&u, edu.bdf, 0, false);
	/* The device's buffer holds 0x5a so a landed write is visible. */
	memset(buf, 0x5a, LEN);
	edu_dma(&edu, pa(buf), false, 0, LEN);
	program(pa(dir), 0, 0, VTD_PGTT_PT);
	tap_ok(vtd_gcmd(&u, VTD_GCMD_TE, true) == 0, "TE on");
	dma_case(0, "RID_PASID 0, PDTS 0");

	/* PDTS 0 (min): 128 directory entries, PASIDs 0..8191. */
	program(pa(dir), 0, 8191, VTD_PGTT_PT);
	dma_case(0, "PDTS 0, RID_PASID 8191 (last in the directory)");
	program(pa(dir), 0, 8192, VTD_PGTT_PT);
	dma_case(0x48, "PDTS 0, RID_PASID 8192 (beyond the directory): RID_PASID fault 0x48");
	/* PDTS 7 (max): 2^14 entries, more than ECAP.PSS allows, so PSS is the limit. */
	program(pa(dir), 7, (1u << PSS_BITS) - 1, VTD_PGTT_PT);
	dma_case(0, "PDTS 7, RID_PASID 2^PSS-1");
	program(pa(dir), 7, 1u << PSS_BITS, VTD_PGTT_PT);
	dma_case(0x48, "PDTS 7, RID_PASID 2^PSS (beyond ECAP.PSS): fault 0x48");
	program(pa(dir), 1, (1u << PSS_BITS) - 1, VTD_PGTT_PT);
	dma_case(0, "PDTS 1, RID_PASID 2^PSS-1 (last entry of 256)");

	/* Directory and table pointers into nowhere. */
	program(NOT_RAM, 0, 0, VTD_PGTT_PT);
	dma_case(0x50, "directory outside RAM: fault 0x50");
	program(pa(dir), 0, 0, VTD_PGTT_PT);
	dir[0] = NOT_RAM | 1;
	dma_case(0x58, "PASID table outside RAM: fault 0x58");
	dir[0] = u.base | 1;
	dma_case(0x58, "PASID table in the unit's MMIO: fault 0x58");
	dir[0] = pa(dir) | 1; /* the directory is its own table: entry 0 has PGTT 0 */
	dma_case(0x5b, "directory entry pointing at itself: fault 0x5b");
	dir[0] = pa(tbl) | 1 | (1u << 5);
	dma_case(0x52, "reserved bit in the directory entry: fault 0x52");

	/* Bad PASID table entries. */
	program(pa(dir), 0, 0, VTD_PGTT_PT);
	tbl[0] |= 1u << 10;
	dma_case(0x5a, "reserved bit 10 in the PASID entry: fault 0x5a");
	{
		static const unsigned bad[] = { 0, 5, 6, 7 };

		for (unsigned i = 0; i < 4; i++) {
			program(pa(dir), 0, 0, bad[i]);
			dma_case(0x5b, bad[i] == 0 ? "PGTT 0: fault 0x5b" :
				 bad[i] == 5 ? "PGTT 5: fault 0x5b" :
				 bad[i] == 6 ? "PGTT 6: fault 0x5b" : "PGTT 7: fault 0x5b");
		}
	}
	/* The unit and the VM still work. */
	program(pa(dir), 0, 0, VTD_PGTT_PT);
	dma_case(0, "after all that, a good entry");
}
