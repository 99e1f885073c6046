/* SPDX-License-Identifier: MIT */
/* vtd-sm: scalable mode, edu's requests-without-PASID through RID_PASID: PGTT 1-4 and SM faults. */
#include "vtd.h"

#define FAULT_VECTOR 0x50
#define RID_PASID 0
#define IOVA_SRC 0x0c000000ULL
#define IOVA_DST 0x0c201000ULL
#define IOVA_HOLE 0x0c400000ULL
/* Nested: first stage IOVA -> GPA window above RAM, second stage window -> the real pages. */
#define GPA_SRC 0x30000000ULL
#define GPA_DST 0x30201000ULL
#define RAM_MAP (128ULL << 20)
#define LEN 256
/* QEMU 7.2 reports every PASID directory/table problem as 0x58 and SM faults with legacy codes. */
#define QEMU_FR_PASID_TABLE 0x58

static struct vtd u;
static struct edu_dev edu;
static volatile uint32_t fault_irqs;
static uint8_t *src, *dst;
static bool qemu;
static uint32_t faults_made;

static void fault_handler(struct trap_frame *tf)
{
	(void)tf;
	fault_irqs++;
	lapic_eoi();
}

/* Points edu's RID_PASID entry at a new translation and flushes every cache through the queue. */
static int program(uint16_t did, unsigned pgtt, const struct vtd_pt *fs, const struct vtd_pt *ss)
{
	int ret;

	vtd_smctx_set(&u, edu.bdf, RID_PASID, false);
	ret = vtd_pasid_set(&u, edu.bdf, RID_PASID, did, pgtt, fs, ss, false);
	return ret ? ret : vtd_qi_flush_all(&u);
}

static void dma_case(const char *what, int prog, uint64_t iova_src, uint64_t iova_dst)
{
	bool ok;

	for (unsigned i = 0; i < LEN; i++)
		src[i] = (uint8_t)(i * 13 + iova_dst);
	memset(dst, 0xee, PAGE_SIZE);
	ok = prog == 0 && edu_dma(&edu, iova_src, false, 0, LEN) == 0 && edu_dma(&edu, iova_dst, true, 0, LEN) == 0;
	tap_ok(ok && !memcmp(src, dst, LEN) && dst[LEN] == 0xee && !(vtd_read32(&u, VTD_FSTS) & VTD_FSTS_PPF),
	       "%s: RAM->device via 0x%lx, device->RAM via 0x%lx landed at GPA 0x%lx (prog %d, FSTS 0x%x)", what,
	       iova_src, iova_dst, (uintptr_t)dst, prog, vtd_read32(&u, VTD_FSTS));
	vtd_faults_clear(&u);
}

static void skip(const char *what, const char *why) { tap_ok(true, "%s # SKIP %s", what, why); }

/* One SM fault: fr is the spec's reason (checked on nestvm), qemu_fr what QEMU 7.2 reports instead. */
static void sm_fault(uint64_t iova, bool to_ram, uint8_t fr, uint8_t qemu_fr, const char *what)
{
	edu_dma(&edu, iova, to_ram, 0, LEN);
	faults_made++;
	/* Take each event before the next: same-vector MSIs would merge in the IRR. */
	vtd_wait_count(&fault_irqs, faults_made, 200000);
	vtd_check_fault(&u, qemu ? qemu_fr : fr, !to_ram, iova, edu.bdf, what);
}

void test_main(void)
{
	struct vtd_pt ss, fs, nfs, nss;
	unsigned levels;
	uint64_t *pe;
	int ret;

	tap_plan(15);
	ret = vtd_find(&u);
	if (!tap_ok(ret == 0 && (u.ecap & VTD_ECAP_SMTS) && (u.ecap & VTD_ECAP_QI),
		    "VT-d unit at 0x%lx with SMTS and QI (ECAP 0x%lx)", u.base, u.ecap))
		tap_bail("no scalable-mode unit: -device vtd (nestvm) or intel-iommu,x-scalable-mode=on (QEMU)");
	qemu = !u.from_dtb;
	tap_diag("CAP 0x%lx ECAP 0x%lx", u.cap, u.ecap);
	if (edu_open(&edu))
		tap_bail("no edu device");
	irq_set_handler(FAULT_VECTOR, fault_handler);
	vtd_faults_clear(&u);
	vtd_fault_msi(&u, FAULT_VECTOR);

	levels = vtd_ss_levels(&u, 4);
	src = alloc_pages(1);
	dst = alloc_pages(1);
	if (!src || !dst || vtd_pt_init(&ss, levels, false) || vtd_pt_init(&fs, 4, true) ||
	    vtd_pt_init(&nfs, 4, true) || vtd_pt_init(&nss, levels, false) ||
	    vtd_pt_map(&ss, IOVA_SRC, (uintptr_t)src, PAGE_SIZE, VTD_PTE_R) ||
	    vtd_pt_map(&ss, IOVA_DST, (uintptr_t)dst, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    vtd_pt_map(&fs, IOVA_SRC, (uintptr_t)src, PAGE_SIZE, VTD_PTE_R) ||
	    vtd_pt_map(&fs, IOVA_DST, (uintptr_t)dst, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    vtd_pt_map(&nfs, IOVA_SRC, GPA_SRC, PAGE_SIZE, VTD_PTE_R) ||
	    vtd_pt_map(&nfs, IOVA_DST, GPA_DST, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    vtd_pt_map(&nss, 0, 0, RAM_MAP, VTD_PTE_R | VTD_PTE_W) ||
	    vtd_pt_map(&nss, GPA_SRC, (uintptr_t)src, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    vtd_pt_map(&nss, GPA_DST, (uintptr_t)dst, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W))
		tap_bail("out of pages");

	ret = vtd_tables_init(&u, true);
	if (!ret)
		ret = vtd_qi_init(&u, 0, true);
	if (!ret)
		ret = program(2, VTD_PGTT_SS, NULL, &ss);
	if (!ret)
		ret = vtd_gcmd(&u, VTD_GCMD_TE, true);
	tap_ok(ret == 0 && (vtd_read32(&u, VTD_GSTS) & (VTD_GCMD_TE | VTD_GCMD_QIE)) == (VTD_GCMD_TE | VTD_GCMD_QIE),
	       "scalable root (RTADDR 0x%lx), 256-bit QI, TE on (GSTS 0x%x, ret %d)", vtd_read64(&u, VTD_RTADDR),
	       vtd_read32(&u, VTD_GSTS), ret);

	/* The four PGTT values, each with its own domain. */
	dma_case("PGTT=2 second-stage only", 0, IOVA_SRC, IOVA_DST);
	if (u.ecap & VTD_ECAP_PT)
		dma_case("PGTT=4 pass-through", program(3, VTD_PGTT_PT, NULL, NULL), (uintptr_t)src, (uintptr_t)dst);
	else
		skip("PGTT=4 pass-through", "no ECAP.PT");
	if (u.ecap & VTD_ECAP_FLTS)
		dma_case("PGTT=1 first-stage only", program(4, VTD_PGTT_FS, &fs, NULL), IOVA_SRC, IOVA_DST);
	else
		skip("PGTT=1 first-stage only", "no ECAP.FLTS");
	if (u.ecap & VTD_ECAP_NEST)
		dma_case("PGTT=3 nested", program(5, VTD_PGTT_NESTED, &nfs, &nss), IOVA_SRC, IOVA_DST);
	else
		skip("PGTT=3 nested", "no ECAP.NEST");

	/* Scalable-mode faults. */
	program(2, VTD_PGTT_SS, NULL, &ss);
	sm_fault(IOVA_HOLE, false, VTD_FR_SS_NOT_PRESENT, VTD_FR_READ, "SS not present (read)");
	sm_fault(IOVA_SRC, true, VTD_FR_SM_WRITE, VTD_FR_WRITE, "SS write to read-only page");
	if (u.ecap & VTD_ECAP_FLTS) {
		program(4, VTD_PGTT_FS, &fs, NULL);
		sm_fault(IOVA_HOLE, false, VTD_FR_FS_NOT_PRESENT, VTD_FR_FS_NOT_PRESENT, "FS not present (read)");
		sm_fault(IOVA_SRC, true, VTD_FR_SM_WRITE, VTD_FR_SM_WRITE, "FS write to read-only page");
	} else {
		skip("FS not present (read)", "no ECAP.FLTS");
		skip("FS write to read-only page", "no ECAP.FLTS");
	}
	/* PASID entry P=0. */
	program(2, VTD_PGTT_SS, NULL, &ss);
	vtd_pasid_clear(&u, edu.bdf, RID_PASID);
	vtd_qi_flush_all(&u);
	sm_fault(IOVA_SRC, false, VTD_FR_SM_PE_NOT_PRESENT, QEMU_FR_PASID_TABLE, "PASID entry not present");
	/* PGTT = 0 is invalid. */
	program(2, VTD_PGTT_SS, NULL, &ss);
	pe = vtd_pasid_entry(&u, edu.bdf, RID_PASID);
	pe[0] &= ~(7ULL << 6);
	vtd_qi_flush_all(&u);
	sm_fault(IOVA_SRC, false, VTD_FR_SM_PE_INVALID, QEMU_FR_PASID_TABLE, "PASID entry with PGTT=0");
	/* RID_PASID in a PASID-directory entry that is not present. */
	program(2, VTD_PGTT_SS, NULL, &ss);
	vtd_smctx_set(&u, edu.bdf, 64 * 5, false);
	vtd_qi_flush_all(&u);
	sm_fault(IOVA_SRC, false, VTD_FR_SM_PDE_NOT_PRESENT, QEMU_FR_PASID_TABLE,
		 "PASID directory entry not present");
	/* Scalable context entry not present. */
	vtd_ctx_clear(&u, edu.bdf);
	vtd_qi_flush_all(&u);
	sm_fault(IOVA_SRC, false, VTD_FR_SM_CTX_NOT_PRESENT, VTD_FR_CTX_NOT_PRESENT, "SM context entry not present");
	tap_ok(fault_irqs == faults_made, "one fault event MSI per fault (%u events, %u faults)", fault_irqs,
	       faults_made);
	vtd_gcmd(&u, VTD_GCMD_TE, false);
	tap_done();
}
