/* SPDX-License-Identifier: MIT */
/*
 * host-failclosed: a simulated passthrough pasid-dma (backend=hostsim) with translation on
 * must never get the host's stage-2 parent (guest-physical access) for a PASID nestvm has not
 * forwarded. Each DMA here targets an IOVA equal to the guest-physical address of a canary
 * page: an identity translation would write the canary. Cases: PASID entry absent; entry
 * made present without the PASID-cache flush the caching mode asks for; a second-stage-only
 * entry (not advertised in nested mode); a first-stage entry with EAFE (reserved without
 * ECAP.EAFS). Each must fault on the host, come back as the guest fault record with the
 * reason the spec names, and leave guest memory untouched. A correct bind + flush then works.
 */
#include "host-pdma.h"

#define VTD_FR_SM_PE_RSVD 0x5a
#define DID_P 3

static struct hp h;
static uint8_t *canary, *target;

static bool untouched(void)
{
	for (unsigned i = 0; i < 64; i++)
		if (canary[i] != 0xcc || target[i] != 0xdd)
			return false;
	return true;
}

/* FILL through pasid at the canary's address (no completion record); then the fault record. */
static void expect_blocked(uint32_t pasid, uint8_t fr, const char *what)
{
	uint32_t faults = hp_reg(&h, PDMA_HOST_FAULTS), done = hp_reg(&h, PDMA_COMPLETED);
	struct vtd_frec r = { 0 };
	int i;

	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, pasid), 0, (uintptr_t)canary, 64,
		  0x5a5a5a5a5a5a5a5aULL, 0);
	i = vtd_fault_find(&h.u, &r);
	tap_ok(hp_reg(&h, PDMA_COMPLETED) == done + 1 && hp_reg(&h, PDMA_HOST_FAULTS) > faults &&
		       untouched() && i >= 0 && r.fr == fr && !r.read && r.pp && r.pasid == pasid &&
		       r.sid == h.bdf && r.addr == (uintptr_t)canary,
	       "%s: host fault, memory untouched, FRCD FR 0x%x (want 0x%x) pasid %u", what, r.fr, fr,
	       r.pasid);
	vtd_faults_clear(&h.u);
}

void test_main(void)
{
	struct vtd_pt fs, ss;
	uint64_t *pe;
	bool ok;

	tap_plan(6);
	if (hp_open(&h, false))
		tap_bail("no pasid-dma,backend=hostsim or no scalable-mode VT-d unit, or setup failed");
	canary = alloc_pages(1);
	target = alloc_pages(1);
	if (!canary || !target || vtd_pt_init(&fs, 4, true) || vtd_pt_init(&ss, vtd_ss_levels(&h.u, 4), false) ||
	    vtd_pt_map(&fs, (uintptr_t)canary, (uintptr_t)target, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    vtd_pt_map(&ss, (uintptr_t)canary, (uintptr_t)target, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W))
		tap_bail("setup failed");
	for (unsigned i = 0; i < 64; i++)
		canary[i] = 0xcc, target[i] = 0xdd;
	tap_ok((vtd_read64(&h.u, VTD_CAP) & (1ULL << 7)) != 0,
	       "nested mode by default: caching mode advertised (CAP 0x%lx)", vtd_read64(&h.u, VTD_CAP));

	/* Translation on, no PASID 1 entry: blocked, not identity. */
	expect_blocked(1, VTD_FR_SM_PE_NOT_PRESENT, "absent PASID entry");

	/* Made present without the PASID-cache flush: nestvm has not seen it, so still blocked. */
	ok = !vtd_pasid_set(&h.u, h.bdf, 1, DID_P, VTD_PGTT_FS, &fs, NULL, false);
	if (!ok)
		tap_bail("PASID entry");
	expect_blocked(1, VTD_FR_SM_PE_NOT_PRESENT, "bound without flush");

	/* Second-stage only: not advertised in nested mode, never forwarded. */
	if (vtd_pasid_set(&h.u, h.bdf, 2, DID_P, VTD_PGTT_SS, NULL, &ss, false) || hp_pc_inv(&h, DID_P, 2))
		tap_bail("PASID 2 entry");
	expect_blocked(2, VTD_FR_SM_PE_INVALID, "second-stage-only entry");

	/* First stage with EAFE (reserved without ECAP.EAFS). */
	pe = vtd_pasid_entry(&h.u, h.bdf, 3);
	if (vtd_pasid_set(&h.u, h.bdf, 3, DID_P, VTD_PGTT_FS, &fs, NULL, false) || !pe)
		tap_bail("PASID 3 entry");
	pe[2] |= 1ULL << 7;
	if (hp_pc_inv(&h, DID_P, 3))
		tap_bail("PASID 3 flush");
	expect_blocked(3, VTD_FR_SM_PE_RSVD, "EAFE set");

	/* The flush for PASID 1: now forwarded, the DMA lands in the target, not the canary. */
	ok = !hp_pc_inv(&h, DID_P, 1);
	hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, (uintptr_t)canary, 64, 0x1111111111111111ULL, 0);
	tap_ok(ok && target[0] == 0x11 && target[63] == 0x11 && canary[0] == 0xcc &&
		       vtd_fault_find(&h.u, &(struct vtd_frec){ 0 }) < 0,
	       "after the flush: forwarded, DMA lands in the mapped page (0x%x), canary untouched",
	       target[0]);
	tap_done();
}
