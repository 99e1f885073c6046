/* SPDX-License-Identifier: MIT */
/*
 * Primary fault logging (FRCD ring, FSTS.PFO/PPF/FRI) and the fault event (FECTL + MSI),
 * following facts §7.1 and §7.3. Every function here runs with the unit lock held.
 */
#include "common/log.h"
#include "devices/viommu/viommu-internal.h"

static uint64_t frcd_hi(const struct viommu *v, unsigned int i)
{
	return vtd_reg_get(v, VTD_FRCD_REG(i) + 8);
}

/* FSTS.PPF is derived: set while any FRCD has F=1. */
void vtd_fault_update_ppf(struct viommu *v)
{
	uint64_t fsts = vtd_reg_get(v, VTD_FSTS_REG);
	bool any = false;

	for (unsigned int i = 0; i < VTD_NR_FRCD; i++)
		any |= !!(frcd_hi(v, i) & VTD_FRCD_HI_F);
	fsts = any ? (fsts | VTD_FSTS_PPF) : (fsts & ~VTD_FSTS_PPF);
	vtd_reg_set(v, VTD_FSTS_REG, fsts);
}

static void send_fault_msi(struct viommu *v)
{
	uint64_t addr = vtd_reg_get(v, VTD_FEADDR_REG) |
			(vtd_reg_get(v, VTD_FEUADDR_REG) << 32);

	viommu_queue_msi(v, addr, (uint32_t)vtd_reg_get(v, VTD_FEDATA_REG));
}

void vtd_fault_event(struct viommu *v, uint64_t prev_fsts)
{
	uint64_t fectl = vtd_reg_get(v, VTD_FECTL_REG);

	/* An event is already outstanding for the earlier condition: no new interrupt. */
	if (prev_fsts & (VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE))
		return;
	if (fectl & VTD_ECTL_IM) {
		vtd_reg_set(v, VTD_FECTL_REG, fectl | VTD_ECTL_IP);
		return;
	}
	vtd_reg_set(v, VTD_FECTL_REG, fectl & ~VTD_ECTL_IP);
	send_fault_msi(v);
}

/* True if a pending record already describes exactly this fault (fault collapsing). */
static bool collapsible(const struct viommu *v, uint64_t lo, uint64_t hi)
{
	const uint64_t key = VTD_FRCD_HI_SID | VTD_FRCD_HI_PP | VTD_FRCD_HI_FR | VTD_FRCD_HI_PV |
			     VTD_FRCD_HI_T | VTD_FRCD_HI_PRIV | VTD_FRCD_HI_EXE;

	for (unsigned int i = 0; i < VTD_NR_FRCD; i++) {
		uint64_t h = frcd_hi(v, i);

		if ((h & VTD_FRCD_HI_F) && (h & key) == (hi & key) &&
		    vtd_reg_get(v, VTD_FRCD_REG(i)) == lo)
			return true;
	}
	return false;
}

/*
 * Records one translation fault. Order (facts §7.3): FPD suppresses; PFO already set drops;
 * an identical pending record (same SID, reason, page, type, PASID) collapses the new one;
 * a full next slot sets PFO; otherwise write the record, update PPF/FRI and raise the event
 * when nothing was pending before.
 */
void vtd_fault_record(struct viommu *v, const struct vtd_fault *f)
{
	uint64_t fsts = vtd_reg_get(v, VTD_FSTS_REG);
	uint64_t lo, hi;
	unsigned int idx = v->fault_next % VTD_NR_FRCD;

	trace(TRACE_VTD_FAULT, "vtd",
	      "fault fr=0x%x sid=%04x pasid=%s%x addr=0x%llx %s%s%s fpd=%d", f->reason, f->sid,
	      f->pasid_valid ? "" : "-", f->pasid, (unsigned long long)f->addr,
	      f->write ? "W" : "R", f->exec ? "X" : "", f->priv ? "P" : "", f->fpd);
	if (f->fpd) {
		v->stats.faults_fpd++;
		return;
	}
	lo = f->addr & VTD_FRCD_LO_FI;
	hi = FIELD_PREP(VTD_FRCD_HI_SID, f->sid) | FIELD_PREP(VTD_FRCD_HI_FR, f->reason) |
	     (f->write ? 0 : VTD_FRCD_HI_T);
	if (f->pasid_valid)
		hi |= VTD_FRCD_HI_PP | FIELD_PREP(VTD_FRCD_HI_PV, f->pasid);
	/* PRIV/EXE report the request attributes; they only exist in scalable mode. */
	if (v->cfg.scalable) {
		if (f->priv)
			hi |= VTD_FRCD_HI_PRIV;
		if (f->exec)
			hi |= VTD_FRCD_HI_EXE;
	}
	if (fsts & VTD_FSTS_PFO) {
		v->stats.faults_overflow++;
		return;
	}
	if (collapsible(v, lo, hi)) {
		v->stats.faults_collapsed++;
		return;
	}
	if (frcd_hi(v, idx) & VTD_FRCD_HI_F) {
		vtd_reg_set(v, VTD_FSTS_REG, fsts | VTD_FSTS_PFO);
		v->stats.faults_overflow++;
		vtd_fault_event(v, fsts);
		return;
	}
	vtd_reg_set(v, VTD_FRCD_REG(idx), lo);
	vtd_reg_set(v, VTD_FRCD_REG(idx) + 8, hi | VTD_FRCD_HI_F);
	v->fault_next = (idx + 1) % VTD_NR_FRCD;
	v->stats.faults_recorded++;
	if (!(fsts & VTD_FSTS_PPF))
		fsts = (fsts & ~VTD_FSTS_FRI) | FIELD_PREP(VTD_FSTS_FRI, idx);
	vtd_reg_set(v, VTD_FSTS_REG, fsts | VTD_FSTS_PPF);
	vtd_fault_event(v, fsts);
}

/* FSTS write: RW1C already applied; once PFO, PPF and IQE are all clear, IP is cleared. */
void vtd_fsts_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	uint64_t fsts;

	vtd_fault_update_ppf(v);
	fsts = vtd_reg_get(v, VTD_FSTS_REG);
	if (!(fsts & (VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE)))
		vtd_reg_set(v, VTD_FECTL_REG, vtd_reg_get(v, VTD_FECTL_REG) & ~VTD_ECTL_IP);
}

/* FECTL write: unmasking with an interrupt pending sends it now. */
void vtd_fectl_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	uint64_t fectl = vtd_reg_get(v, VTD_FECTL_REG);

	if (!(fectl & VTD_ECTL_IM) && (fectl & VTD_ECTL_IP)) {
		vtd_reg_set(v, VTD_FECTL_REG, fectl & ~VTD_ECTL_IP);
		send_fault_msi(v);
	}
}

/* FRCD high-qword write: F is RW1C (whole qword or bit 31 of the top dword); PPF follows. */
void vtd_frcd_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	vtd_fsts_hook(v, old, val, am);
}
