/* SPDX-License-Identifier: MIT */
/*
 * hostile-tables: translation tables a hostile guest can build (legacy format on the unit):
 * root table outside RAM and in MMIO, context table outside RAM, reserved bits at every level,
 * a page table that maps itself, fault-record overflow, and DMA that runs off the end of RAM.
 * Each gets the spec's fault (or a failed transfer) and the VM keeps running.
 */
#include "hostile.h"

#define IOVA 0x200000ULL /* one 4-level walk: PML4[0] -> PDPT[0] -> PD[1] -> PT[0] */

static uint64_t *root, *ctx, *l4, *l3, *l2, *l1;

static uint64_t pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* A valid legacy chain for the edu: iova IOVA -> target. */
static void build(uint64_t target)
{
	unsigned devfn = edu_bdf & 0xff, bus = edu_bdf >> 8;

	root[2 * bus] = pa(ctx) | 1;
	ctx[2 * devfn] = pa(l4) | 1;            /* P, TT=0 (untranslated requests only) */
	ctx[2 * devfn + 1] = 2 | (7u << 8);     /* AW=2 (4-level, 48-bit), DID 7 */
	l4[0] = pa(l3) | 3;
	l3[0] = pa(l2) | 3;
	l2[(IOVA >> 21) & 511] = pa(l1) | 3;
	l1[(IOVA >> 12) & 511] = target | 3;
	l1[((IOVA >> 12) + 1) & 511] = 0x40000000ULL | 3; /* the next page: not RAM */
}

static void test_main_tables(void)
{
	uint64_t *page = alloc_pages(1);
	unsigned r, sid;

	page[0] = 0x1122334455667788ULL;
	build(pa(page));
	tap_ok(vtd_root(pa(root)) && edu_fault_of(IOVA) == 0, "valid chain translates");
	vtd_gcmd(G_TE, false);

	vtd_root(0x40000000ULL);
	tap_ok(edu_fault_of(IOVA) == 0x08, "root table outside RAM: fault 0x08");
	vtd_root(VTD);
	tap_ok(edu_fault_of(IOVA) == 0x08, "root table in the unit's own MMIO: fault 0x08");

	root[2 * (edu_bdf >> 8)] = 0x7ff00000ULL | 1;
	vtd_root(pa(root));
	tap_ok(edu_fault_of(IOVA) == 0x09, "context table outside RAM: fault 0x09");
	root[2 * (edu_bdf >> 8)] = pa(ctx) | 1 | 2;
	vtd_root(pa(root));
	tap_ok(edu_fault_of(IOVA) == 0x0a, "reserved bit in the root entry: fault 0x0a");
	build(pa(page));
	ctx[2 * (edu_bdf & 0xff)] |= 1u << 4;
	vtd_root(pa(root));
	tap_ok(edu_fault_of(IOVA) == 0x0b, "reserved bit in the context entry: fault 0x0b");

	{
		uint64_t *lv[4] = { l4, l3, l2, l1 };
		unsigned idx[4] = { 0, 0, (IOVA >> 21) & 511, (IOVA >> 12) & 511 };
		bool all = true;

		for (unsigned i = 0; i < 4; i++) {
			build(pa(page));
			lv[i][idx[i]] |= 1ULL << 50; /* above HAW (48) */
			vtd_root(pa(root));
			r = edu_fault_of(IOVA);
			if (r != 0x0c) {
				tap_diag("level %u: fault 0x%x", 4 - i, r);
				all = false;
			}
		}
		build(pa(page));
		l4[0] |= 1u << 7; /* PS in a PML4E is reserved */
		vtd_root(pa(root));
		tap_ok(all && edu_fault_of(IOVA) == 0x0c, "reserved bits at all four levels: fault 0x0c");
	}

	/* Every entry of one page points at the page itself: the walk ends, it does not loop. */
	for (unsigned i = 0; i < 512; i++)
		l4[i] = pa(l4) | 3;
	ctx[2 * (edu_bdf & 0xff)] = pa(l4) | 1;
	vtd_root(pa(root));
	r = edu_fault_of(0x12345000ULL);
	edu_dma(0x12345000ULL, 8, false, 0x100);
	vtd_gcmd(G_TE, false);
	edu_dma(pa(page) + 8, 8, true, 0x100);
	tap_ok(r == 0 && page[1] == (pa(l4) | 3),
	       "self-referencing table: bounded walk ends on the table page itself");
	memset(l4, 0, PAGE_SIZE);

	/* Fault recording overflow: 12 distinct faults, 8 records, then PFO. */
	memset(root, 0, PAGE_SIZE);
	vtd_root(pa(root));
	vtd_clear_faults();
	for (unsigned i = 0; i < 12; i++)
		edu_dma(0x1000ULL * (i + 1), 4, false, 0);
	tap_ok(vtd_faults(&r, &sid) == NR_FRCD && (vr32(R_FSTS) & (FSTS_PFO | FSTS_PPF)) ==
	       (FSTS_PFO | FSTS_PPF) && r == 0x01, "fault overflow: %u records + PFO", NR_FRCD);
	vtd_clear_faults();
	tap_ok(edu_fault_of(0x77000) == 0x01, "recording resumes after the guest clears them");

	/* DMA that crosses from the last RAM page into non-RAM, translated and untranslated. */
	{
		uint64_t last = (ram_end() - PAGE_SIZE);
		volatile uint64_t *lp = (volatile uint64_t *)(uintptr_t)last;
		uint64_t got;

		*lp = 0xfeedfacecafef00dULL;
		build(last);
		vtd_root(pa(root));
		vtd_clear_faults();
		edu_dma(IOVA + 0x800, 0x1000, false, 0);      /* runs into the non-RAM page */
		edu_dma(IOVA, 8, false, 0x800);
		vtd_gcmd(G_TE, false);
		edu_dma(ram_end() - 0x80, 0x100, false, 0);    /* untranslated, crosses the end */
		edu_dma(pa(page) + 16, 8, true, 0x800);
		got = page[2];
		tap_ok(got == 0xfeedfacecafef00dULL,
		       "DMA across the end of RAM fails; the VM and edu keep working (0x%lx)", got);
	}
}

void test_main(void)
{
	tap_plan(12);
	alloc_init();
	root = alloc_pages(1);
	ctx = alloc_pages(1);
	l4 = alloc_pages(1);
	l3 = alloc_pages(1);
	l2 = alloc_pages(1);
	l1 = alloc_pages(1);
	if (!edu_setup() || !root || !l1)
		tap_bail("no edu or no memory");
	tap_ok(vr64(0x08) != ~0ULL && vr32(0) != 0, "vtd unit present (VER 0x%x)", vr32(0));
	test_main_tables();
}
