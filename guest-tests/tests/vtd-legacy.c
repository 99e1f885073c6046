/* SPDX-License-Identifier: MIT */
/* vtd-legacy: legacy root/context tables + second stage; edu DMA through IOVAs, faults with MSIs. */
#include "vtd.h"

#define FAULT_VECTOR 0x50
#define DID 1
/* IOVAs beyond 128 MiB of RAM and below QEMU edu's 28-bit DMA mask: only remapping reaches RAM. */
#define IOVA_SRC 0x0c000000ULL
#define IOVA_DST 0x0c201000ULL
#define IOVA_HOLE 0x0c400000ULL
#define LEN 256

static struct vtd u;
static struct edu_dev edu;
static volatile uint32_t fault_irqs;

static void fault_handler(struct trap_frame *tf)
{
	(void)tf;
	fault_irqs++;
	lapic_eoi();
}

static void fill(uint8_t *p, uint8_t seed, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void fault_case(uint64_t iova, bool to_ram, uint8_t fr, const char *what)
{
	uint32_t before = fault_irqs;
	bool ok;

	edu_dma(&edu, iova, to_ram, 0, LEN);
	vtd_check_fault(&u, fr, !to_ram, iova, edu.bdf, what);
	ok = vtd_wait_count(&fault_irqs, before + 1, 500000);
	tap_ok(ok, "%s: fault event MSI (vector 0x%x, count %u)",
	       what, FAULT_VECTOR, fault_irqs);
}

void test_main(void)
{
	struct vtd_pt ss;
	uint8_t *src, *dst, *ro;
	unsigned levels;
	uint32_t gsts;
	int ret;
	bool ok;

	tap_plan(15);
	ret = vtd_find(&u);
	if (!tap_ok(ret == 0, "VT-d unit at 0x%lx (%s)", u.base, u.from_dtb ? "DTB" : "DMAR"))
		tap_bail("no VT-d unit: run with -device vtd,mode=legacy (nestvm) or intel-iommu (QEMU)");
	tap_diag("CAP 0x%lx ECAP 0x%lx FRO 0x%x NFR %u IRO 0x%x", u.cap, u.ecap, u.fro, u.nfr, u.iro);
	if (edu_open(&edu))
		tap_bail("no edu device");
	irq_set_handler(FAULT_VECTOR, fault_handler);
	vtd_faults_clear(&u);
	vtd_fault_msi(&u, FAULT_VECTOR);

	levels = vtd_ss_levels(&u, 4);
	src = alloc_pages(1);
	dst = alloc_pages(1);
	ro = alloc_pages(1);
	if (!src || !dst || !ro || vtd_pt_init(&ss, levels, false) ||
	    vtd_pt_map(&ss, IOVA_SRC, (uintptr_t)src, PAGE_SIZE, VTD_PTE_R) ||
	    vtd_pt_map(&ss, IOVA_DST, (uintptr_t)dst, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    vtd_pt_map(&ss, IOVA_HOLE + PAGE_SIZE, (uintptr_t)ro, PAGE_SIZE, VTD_PTE_R))
		tap_bail("out of pages");
	ret = vtd_tables_init(&u, false);
	tap_ok(ret == 0 && (vtd_read32(&u, VTD_GSTS) & VTD_GCMD_SRTP),
	       "legacy root table latched (RTADDR 0x%lx, GSTS 0x%x)", vtd_read64(&u, VTD_RTADDR),
	       vtd_read32(&u, VTD_GSTS));
	vtd_ctx_set(&u, edu.bdf, DID, 0, &ss, false);
	vtd_cc_inv_global(&u);
	vtd_iotlb_inv_global(&u);
	gsts = vtd_gcmd(&u, VTD_GCMD_TE, true) ? 0 : vtd_read32(&u, VTD_GSTS);
	tap_ok(gsts & VTD_GCMD_TE, "translation enabled, %u-level second stage (GSTS 0x%x)", levels, gsts);

	/* RAM -> device through IOVA_SRC, device -> RAM through IOVA_DST: the data must round-trip. */
	fill(src, 0x31, LEN);
	memset(dst, 0xee, PAGE_SIZE);
	ok = edu_dma(&edu, IOVA_SRC, false, 0, LEN) == 0 && edu_dma(&edu, IOVA_DST, true, 0, LEN) == 0;
	tap_ok(ok,
	       "edu DMA RAM->device (IOVA 0x%llx) and device->RAM (IOVA 0x%llx) completed", IOVA_SRC, IOVA_DST);
	tap_ok(!memcmp(src, dst, LEN) && dst[LEN] == 0xee,
	       "data landed at GPA 0x%lx behind IOVA 0x%llx (first 0x%x, byte after 0x%x)", (uintptr_t)dst,
	       IOVA_DST, dst[0], dst[LEN]);
	tap_ok(vtd_read32(&u, VTD_FSTS) == 0 && fault_irqs == 0, "no fault for mapped DMA (FSTS 0x%x, events %u)",
	       vtd_read32(&u, VTD_FSTS), fault_irqs);

	/* Unmapped IOVA: read (RAM -> device) then write (device -> RAM). */
	fault_case(IOVA_HOLE, false, VTD_FR_READ, "unmapped IOVA read");
	fault_case(IOVA_HOLE, true, VTD_FR_WRITE, "unmapped IOVA write");
	/* Read-only page: a write faults and leaves RAM alone. */
	memset(ro, 0x5a, LEN);
	fault_case(IOVA_HOLE + PAGE_SIZE, true, VTD_FR_WRITE, "write to read-only page");
	tap_ok(ro[0] == 0x5a && ro[LEN - 1] == 0x5a, "read-only page unchanged (0x%x)", ro[0]);

	/* Context entry not present. */
	vtd_ctx_clear(&u, edu.bdf);
	vtd_cc_inv_global(&u);
	vtd_iotlb_inv_global(&u);
	fault_case(IOVA_SRC, false, VTD_FR_CTX_NOT_PRESENT, "context entry not present");
	vtd_gcmd(&u, VTD_GCMD_TE, false);
	tap_done();
}
