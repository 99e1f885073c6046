/* SPDX-License-Identifier: MIT */
/*
 * Loading and validating root, context, PASID-directory and PASID-table entries (facts §3,
 * §4) behind the context and PASID caches of the VT-d engine.
 *
 * Each entry is copied once into a local uint64_t array, checked, and decoded into a
 * vtd_ctx_info / vtd_pasid_info that the caches keep. Faults are never cached (CAP.CM lets
 * hardware cache not-present entries; we choose not to, so a guest that makes an entry
 * present sees it at once). Called with vtd_xlate.lock held.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "devices/viommu/xlate/xlate-internal.h"
#include "vmm/core/gmem.h"

/* Copies n little-endian qwords from guest memory; 0 or -EFAULT. */
static int load_entry(const struct gmem *gm, uint64_t gpa, uint64_t *e, unsigned int n)
{
	uint8_t buf[64];

	if (n > 8 || range_overflows(gpa, 8ULL * n) || gmem_read(gm, gpa, buf, 8ULL * n))
		return -EFAULT;
	for (unsigned int i = 0; i < n; i++)
		e[i] = le64_load(buf + 8 * i);
	return 0;
}

/* Bits at or above haw in a 64-bit pointer field (which starts at bit 12). */
static uint64_t above_haw(const struct vtd_xlate *x)
{
	return x->caps.haw >= 64 ? 0 : ~0ULL << x->caps.haw;
}

static int load_legacy_ctx(struct vtd_xlate *x, uint16_t sid, struct vtd_ctx_info *ci, bool *fpd)
{
	uint64_t re[2], ce[2];
	unsigned int aw;

	if (load_entry(x->gm, (x->rtaddr & GENMASK_ULL(63, 12)) + (sid >> 8) * 16ULL, re, 2))
		return VTD_FR_ROOT_TABLE_INV;
	if (!vtd_root_p(re))
		return VTD_FR_ROOT_NOT_PRESENT;
	if ((re[0] & (VTD_ROOT_RSVD0 | above_haw(x))) || (re[1] & VTD_ROOT_RSVD1))
		return VTD_FR_ROOT_ENTRY_RSVD;
	if (load_entry(x->gm, vtd_root_ctp(re) + (sid & 0xFF) * 16ULL, ce, 2))
		return VTD_FR_CTX_TABLE_INV;
	trace(TRACE_VTD_WALK, "vtd", "context sid %04x root %016llx:%016llx ctx %016llx:%016llx",
	      sid, (unsigned long long)re[1], (unsigned long long)re[0], (unsigned long long)ce[1],
	      (unsigned long long)ce[0]);
	/* FPD is honoured even in a not-present entry. */
	*fpd = vtd_ctx_fpd(ce);
	if (!vtd_ctx_p(ce))
		return VTD_FR_CTX_NOT_PRESENT;
	if ((ce[0] & (VTD_CTX_RSVD0 | above_haw(x))) || (ce[1] & VTD_CTX_RSVD1))
		return VTD_FR_CTX_ENTRY_RSVD;
	memset(ci, 0, sizeof(*ci));
	ci->fpd = *fpd;
	ci->tt = (uint8_t)vtd_ctx_tt(ce);
	ci->did = vtd_ctx_did(ce);
	ci->slptptr = vtd_ctx_slptptr(ce);
	switch (ci->tt) {
	case VTD_CTX_TT_UNTRANSLATED:
		break;
	case VTD_CTX_TT_DEVTLB:
		if (!x->caps.dt)
			return VTD_FR_CTX_INVALID;
		break;
	case VTD_CTX_TT_PASSTHROUGH:
		if (!x->caps.pt)
			return VTD_FR_CTX_INVALID;
		return 0; /* AW is not used by pass-through */
	default:
		return VTD_FR_CTX_INVALID;
	}
	aw = vtd_ctx_aw(ce);
	if (aw < 1 || aw > 3 || !(x->caps.sagaw & (1u << aw)))
		return VTD_FR_CTX_INVALID;
	ci->levels = (uint8_t)(aw + 2);
	return 0;
}

static int load_sm_ctx(struct vtd_xlate *x, uint16_t sid, struct vtd_ctx_info *ci, bool *fpd)
{
	unsigned int devfn = sid & 0xFF;
	uint64_t re[2], ce[4], ctp;
	bool present;

	if (load_entry(x->gm, (x->rtaddr & GENMASK_ULL(63, 12)) + (sid >> 8) * 16ULL, re, 2))
		return VTD_FR_SM_ROOT_ACCESS;
	present = devfn < 0x80 ? vtd_smroot_lp(re) : vtd_smroot_up(re);
	ctp = devfn < 0x80 ? vtd_smroot_lctp(re) : vtd_smroot_uctp(re);
	if (!present)
		return VTD_FR_SM_ROOT_NOT_PRESENT;
	if ((re[0] & VTD_SMROOT_RSVD0) || (re[1] & VTD_SMROOT_RSVD1) || (ctp & above_haw(x)))
		return VTD_FR_SM_ROOT_RSVD;
	if (load_entry(x->gm, ctp + (devfn & 0x7F) * 32ULL, ce, 4))
		return VTD_FR_SM_CTX_ACCESS;
	trace(TRACE_VTD_WALK, "vtd", "context sid %04x sm-root %016llx:%016llx sm-ctx %016llx:%016llx",
	      sid, (unsigned long long)re[1], (unsigned long long)re[0], (unsigned long long)ce[1],
	      (unsigned long long)ce[0]);
	*fpd = vtd_smctx_fpd(ce);
	if (!vtd_smctx_p(ce))
		return VTD_FR_SM_CTX_NOT_PRESENT;
	if ((ce[0] & (VTD_SMCTX_RSVD0 | above_haw(x))) || (ce[1] & VTD_SMCTX_RSVD1) ||
	    (ce[2] & VTD_SMCTX_RSVD2) || (ce[3] & VTD_SMCTX_RSVD3))
		return VTD_FR_SM_CTX_RSVD;
	/* Features the unit does not advertise are invalid programming. */
	if ((vtd_smctx_dte(ce) && !x->caps.dt) || (vtd_smctx_pre(ce) && !x->caps.prs) ||
	    (vtd_smctx_paside(ce) && !x->caps.pasid))
		return VTD_FR_SM_CTX_INVALID;
	memset(ci, 0, sizeof(*ci));
	ci->sm = true;
	ci->fpd = *fpd;
	ci->dte = vtd_smctx_dte(ce);
	ci->paside = vtd_smctx_paside(ce);
	ci->pre = vtd_smctx_pre(ce);
	ci->dir_entries = vtd_smctx_dir_entries(ce);
	ci->pasiddir = vtd_smctx_pasiddirptr(ce);
	ci->rid_pasid = vtd_smctx_rid_pasid(ce);
	return 0;
}

/* Context for sid from the context cache or the tables. Returns 0 or a reason. */
int vtd_get_ctx(struct vtd_xlate *x, uint16_t sid, bool sm, struct vtd_ctx_info *ci, bool *fpd)
{
	struct vc_entry *e = vc_lookup(&x->ctx, sid, 0);
	int r;

	if (e && vc_pay(&x->ctx, e)->ctx.sm == sm) {
		*ci = vc_pay(&x->ctx, e)->ctx;
		*fpd = ci->fpd;
		return 0;
	}
	*fpd = false;
	r = sm ? load_sm_ctx(x, sid, ci, fpd) : load_legacy_ctx(x, sid, ci, fpd);
	if (r)
		return r;
	vc_write_begin(&x->ctx);
	e = vc_insert(&x->ctx, sid, 0);
	if (e) {
		vc_pay(&x->ctx, e)->ctx = *ci;
		vtd_ctx_index(&x->ctx, e);
	}
	vc_write_end(&x->ctx);
	return 0;
}

static int check_pe(const struct vtd_xlate *x, const uint64_t *pe, struct vtd_pasid_info *pi)
{
	unsigned int aw = vtd_pe_aw(pe), flpm = vtd_pe_flpm(pe);
	bool ss, fs;

	pi->pgtt = (uint8_t)vtd_pe_pgtt(pe);
	switch (pi->pgtt) {
	case VTD_PE_PGTT_FS:
		if (!x->caps.flts)
			return VTD_FR_SM_PE_INVALID;
		break;
	case VTD_PE_PGTT_SS:
		if (!x->caps.slts)
			return VTD_FR_SM_PE_INVALID;
		break;
	case VTD_PE_PGTT_NESTED:
		if (!x->caps.nest || !x->caps.flts || !x->caps.slts)
			return VTD_FR_SM_PE_INVALID;
		break;
	case VTD_PE_PGTT_PT:
		if (!x->caps.pt)
			return VTD_FR_SM_PE_INVALID;
		break;
	default:
		return VTD_FR_SM_PE_INVALID;
	}
	ss = pi->pgtt == VTD_PE_PGTT_SS || pi->pgtt == VTD_PE_PGTT_NESTED;
	fs = pi->pgtt == VTD_PE_PGTT_FS || pi->pgtt == VTD_PE_PGTT_NESTED;
	if (ss) {
		if (aw < 1 || aw > 3 || !(x->caps.sagaw & (1u << aw)))
			return VTD_FR_SM_PE_INVALID;
		pi->ss_levels = (uint8_t)(aw + 2);
	}
	if (fs) {
		if (flpm > 1 || (flpm == 1 && !x->caps.fs5lp))
			return VTD_FR_SM_PE_INVALID;
		pi->fs_levels = (uint8_t)(4 + flpm);
	}
	if ((vtd_pe_sre(pe) && !x->caps.srs) || (vtd_pe_ere(pe) && !x->caps.ers) ||
	    (vtd_pe_eafe(pe) && !x->caps.eafs))
		return VTD_FR_SM_PE_INVALID;
	pi->did = vtd_pe_did(pe);
	pi->sre = vtd_pe_sre(pe);
	pi->ere = vtd_pe_ere(pe);
	pi->wpe = vtd_pe_wpe(pe);
	pi->eafe = vtd_pe_eafe(pe);
	pi->slee = vtd_pe_slee(pe);
	pi->slptptr = vtd_pe_slptptr(pe);
	pi->flptptr = vtd_pe_flptptr(pe);
	return 0;
}

static int load_pasid(struct vtd_xlate *x, const struct vtd_ctx_info *ci, uint32_t pasid,
		      struct vtd_pasid_info *pi, bool *fpd)
{
	uint64_t de, pe[VTD_PE_WORDS];
	uint64_t ah = above_haw(x);
	int r;

	if (load_entry(x->gm, ci->pasiddir + (uint64_t)(pasid >> 6) * 8, &de, 1))
		return VTD_FR_SM_PDE_ACCESS;
	*fpd = *fpd || vtd_pdire_fpd(de);
	if (!vtd_pdire_p(de))
		return VTD_FR_SM_PDE_NOT_PRESENT;
	if (de & (VTD_PDIRE_RSVD | ah))
		return VTD_FR_SM_PDE_RSVD;
	if (load_entry(x->gm, vtd_pdire_ptp(de) + (uint64_t)(pasid & 63) * 64, pe, VTD_PE_WORDS))
		return VTD_FR_SM_PE_ACCESS;
	trace(TRACE_VTD_WALK, "vtd", "pasid 0x%x dir %016llx entry %016llx:%016llx:%016llx", pasid,
	      (unsigned long long)de, (unsigned long long)pe[2], (unsigned long long)pe[1],
	      (unsigned long long)pe[0]);
	*fpd = *fpd || vtd_pe_fpd(pe);
	if (!vtd_pe_p(pe))
		return VTD_FR_SM_PE_NOT_PRESENT;
	if ((pe[0] & (VTD_PE_RSVD0 | ah)) || (pe[1] & VTD_PE_RSVD1) ||
	    (pe[2] & (VTD_PE_RSVD2 | ah)) || pe[3] || pe[4] || pe[5] || pe[6] || pe[7])
		return VTD_FR_SM_PE_RSVD;
	memset(pi, 0, sizeof(*pi));
	r = check_pe(x, pe, pi);
	if (r)
		return r;
	pi->fpd = *fpd;
	return 0;
}

/*
 * PASID entry for (sid, pasid) from the PASID cache or the tables. The PASID cache is
 * tagged by SID + PASID (the directory pointer comes from the SID's context entry) and
 * remembers the entry's DID so DID-scoped PASID-cache invalidations find it.
 */
int vtd_get_pasid(struct vtd_xlate *x, uint16_t sid, const struct vtd_ctx_info *ci, uint32_t pasid,
		  struct vtd_pasid_info *pi, bool *fpd)
{
	struct vc_entry *e = vc_lookup(&x->pasid, sid, pasid);
	int r;

	if (e) {
		*pi = vc_pay(&x->pasid, e)->pe;
		*fpd = *fpd || pi->fpd;
		return 0;
	}
	r = load_pasid(x, ci, pasid, pi, fpd);
	if (r)
		return r;
	vc_write_begin(&x->pasid);
	e = vc_insert(&x->pasid, sid, pasid);
	if (e) {
		vc_pay(&x->pasid, e)->pe = *pi;
		vtd_pe_index(&x->pasid, e);
	}
	vc_write_end(&x->pasid);
	return 0;
}
