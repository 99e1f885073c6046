/* SPDX-License-Identifier: MIT */
/*
 * Bounded second-stage, first-stage and nested page walks of the VT-d engine (facts §5).
 *
 * Every table entry is copied from guest memory once, validated, then used. Walk helpers
 * return 0 or a VTD_FR_* reason (style rule 16). Loops run at most `levels` (<= 5) times
 * per stage; a nested walk does at most 5 first-stage steps, each with one bounded
 * second-stage walk, so hostile tables (self-references, non-RAM pointers, addresses near
 * 2^64) terminate with a fault. Called with vtd_xlate.lock held.
 */
#include <errno.h>
#include <string.h>

#include "devices/viommu/xlate/xlate-internal.h"
#include "vmm/core/gmem.h"

/* Structural second-stage errors; the caller maps them to the reason of its context. */
enum ss_err {
	SSE_OK = 0,
	SSE_ACCESS_TOP, /* the top-level table is not readable */
	SSE_ACCESS,     /* a lower table is not readable */
	SSE_NOT_PRESENT,/* R = W = 0 */
	SSE_RSVD,       /* reserved bits set */
	SSE_ADDR,       /* entry address at or above 2^haw */
	SSE_INPUT,      /* input above the table's address width */
};

struct ss_res {
	uint64_t out;
	unsigned int shift;
	unsigned int perm; /* VTD_P_R / VTD_P_W */
};

#define PWC_SS 0ULL
#define PWC_FS 1ULL

static uint64_t pwc_k0(uint64_t type, unsigned int levels, unsigned int level, uint16_t did,
		       uint32_t pasid)
{
	return (type << 62) | ((uint64_t)levels << 56) | ((uint64_t)level << 52) |
	       ((uint64_t)(pasid & 0xFFFFF) << 16) | did;
}

static void pwc_store(struct vtd_xlate *x, uint64_t k0, uint64_t prefix,
		      const struct vtd_pwc_info *info)
{
	struct vc_entry *e;

	vc_write_begin(&x->pwc);
	e = vc_insert(&x->pwc, k0, prefix);
	if (e) {
		vc_pay(&x->pwc, e)->pwc = *info;
		vtd_pwc_index(&x->pwc, e);
	}
	vc_write_end(&x->pwc);
}

static uint64_t level_shift(unsigned int level)
{
	return 12 + 9 * (uint64_t)(level - 1);
}

/*
 * Second-stage walk of `in` from table `root` with `levels` levels (3..5) for domain did.
 * sm selects the scalable-mode reserved-bit rules (SNP always allowed).
 */
static enum ss_err ss_walk(struct vtd_xlate *x, uint64_t root, unsigned int levels, uint16_t did,
			   bool sm, uint64_t in, struct ss_res *res)
{
	unsigned int width = 12 + 9 * levels, level = levels, perm = VTD_P_R | VTD_P_W;
	uint64_t table = root, k0;

	if (width < 64 && (in >> width))
		return SSE_INPUT;
	if (x->caps.mgaw < 64 && (in >> x->caps.mgaw))
		return SSE_INPUT;
	/* Deepest cached non-leaf entry first (level 2 entries point at the leaf tables). */
	for (unsigned int l = 2; l <= levels; l++) {
		struct vc_entry *e;

		k0 = pwc_k0(PWC_SS, levels, l, did, 0);
		e = vc_lookup(&x->pwc, k0, in >> level_shift(l));
		if (e && vc_pay(&x->pwc, e)->pwc.kind == VTD_KIND_SS) {
			table = vc_pay(&x->pwc, e)->pwc.table;
			perm = vc_pay(&x->pwc, e)->pwc.perm;
			level = l - 1;
			break;
		}
	}
	for (; level >= 1; level--) {
		uint64_t pte, rsvd = x->haw_mask, addr, size;
		unsigned int sh = level_shift(level);
		bool leaf;

		if (gmem_read_u64(x->gm, table + ((in >> sh) & 511) * 8, &pte))
			return level == levels ? SSE_ACCESS_TOP : SSE_ACCESS;
		if (!(pte & (VTD_P_R | VTD_P_W)))
			return SSE_NOT_PRESENT;
		perm &= (unsigned int)(pte & (VTD_P_R | VTD_P_W));
		leaf = level == 1 || (vtd_sspte_ps(pte) && level <= 3);
		if (vtd_sspte_ps(pte) &&
		    (level >= 4 || (level == 3 && !x->caps.sslps_1g) ||
		     (level == 2 && !x->caps.sslps_2m)))
			return SSE_RSVD;
		if (!leaf || (!sm && !x->caps.sc))
			rsvd |= BIT_ULL(11); /* SNP: leaf only, and only with SC or in SM */
		if (leaf && level > 1)
			rsvd |= GENMASK_ULL(sh - 1, 12); /* large page must be aligned */
		if (pte & x->haw_mask)
			return SSE_ADDR;
		if (pte & rsvd)
			return SSE_RSVD;
		addr = vtd_sspte_addr(pte);
		if (leaf) {
			size = 1ULL << sh;
			res->out = addr | (in & (size - 1));
			res->shift = sh;
			res->perm = perm;
			return SSE_OK;
		}
		table = addr;
		pwc_store(x, pwc_k0(PWC_SS, levels, level, did, 0), in >> sh,
			  &(struct vtd_pwc_info){ .table = table, .perm = (uint8_t)perm,
						  .level = (uint8_t)level, .did = did,
						  .pasid = VTD_NO_PASID, .kind = VTD_KIND_SS });
	}
	return SSE_RSVD; /* not reached: level 1 is always a leaf */
}

static int ss_reason_legacy(enum ss_err e, bool write)
{
	switch (e) {
	case SSE_ACCESS_TOP: return VTD_FR_CTX_INVALID;
	case SSE_ACCESS: return VTD_FR_PAGING_ENTRY_INV;
	case SSE_NOT_PRESENT: return write ? VTD_FR_WRITE : VTD_FR_READ;
	case SSE_INPUT: return VTD_FR_ADDR_BEYOND_MGAW;
	default: return VTD_FR_PAGING_ENTRY_RSVD;
	}
}

static int ss_reason_sm(enum ss_err e, bool fs_addr)
{
	switch (e) {
	case SSE_ACCESS_TOP: return VTD_FR_SS_ROOT_INV;
	case SSE_ACCESS: return VTD_FR_SS_ACCESS;
	case SSE_NOT_PRESENT: return VTD_FR_SS_PERM;
	case SSE_ADDR: return VTD_FR_SS_OUTPUT_BEYOND;
	case SSE_INPUT: return fs_addr ? VTD_FR_NESTED_FS_BEYOND_MGAW : VTD_FR_ADDR_BEYOND_MGAW;
	default: return VTD_FR_SS_RSVD;
	}
}

/* Walk state shared by the first-stage helpers. */
struct fs_walk {
	struct vtd_xlate *x;
	const struct vtd_pasid_info *pi;
	uint32_t pasid;
	bool nested, write, priv;
};

/*
 * Turns the GPA of a first-stage table into the address the walker reads: itself, or its
 * second-stage translation when nested (which needs read permission; write permission is
 * remembered in *ret_sw for later A/D stores). Returns 0 or a reason.
 */
static int fs_table_xlate(struct fs_walk *w, uint64_t gpa, bool top, uint64_t *ret_addr,
			  bool *ret_sw)
{
	const struct vtd_pasid_info *pi = w->pi;
	struct ss_res r;
	enum ss_err e;

	if (!w->nested) {
		*ret_addr = gpa;
		*ret_sw = true;
		return 0;
	}
	e = ss_walk(w->x, pi->slptptr, pi->ss_levels, pi->did, true, gpa, &r);
	if (e)
		return ss_reason_sm(e, true);
	if (!(r.perm & VTD_P_R))
		return top ? VTD_FR_NESTED_FS_PML4_READ : VTD_FR_NESTED_FS_READ;
	*ret_addr = r.out;
	*ret_sw = r.perm & VTD_P_W;
	return 0;
}

/* Sets `bits` (A, EA, D) in the first-stage entry at addr. Bounded retries. */
static int fs_set_bits(struct fs_walk *w, uint64_t addr, bool table_sw, uint64_t *pte,
		       uint64_t bits)
{
	const uint64_t ad = VTD_FSPTE_A | VTD_FSPTE_D | VTD_FSPTE_EA;
	uint64_t cur;
	int r;

	if ((*pte & bits) == bits)
		return 0;
	if (!table_sw)
		return VTD_FR_NESTED_FS_WRITE;
	for (int tries = 0; tries < 4; tries++) {
		r = gmem_cmpxchg_u64(w->x->gm, addr, *pte, *pte | bits, &cur);
		if (r == 0) {
			*pte |= bits;
			return 0;
		}
		if (r != -EAGAIN)
			return VTD_FR_FS_AD_FAILED;
		/* Someone else changed the entry: accept only a change of A/D/EA. */
		if ((cur & ~ad) != (*pte & ~ad))
			return VTD_FR_FS_AD_FAILED;
		*pte = cur;
		if ((cur & bits) == bits)
			return 0;
	}
	return VTD_FR_FS_AD_FAILED;
}

/*
 * First-stage walk (4 or 5 levels) of iova; tables are GPAs translated by the second stage
 * when nested. Returns 0 with the first-stage output (a GPA when nested) or a reason.
 */
static int fs_walk_run(struct fs_walk *w, uint64_t iova, struct ss_res *res)
{
	struct vtd_xlate *x = w->x;
	const struct vtd_pasid_info *pi = w->pi;
	unsigned int levels = pi->fs_levels, level = levels;
	unsigned int width = 12 + 9 * levels;
	unsigned int perm = VTD_P_R | VTD_P_W | VTD_P_X | VTD_P_U;
	uint64_t top_bits = iova >> (width - 1), vpn = iova & ((1ULL << width) - 1);
	uint8_t kind = w->nested ? VTD_KIND_NESTED : VTD_KIND_FS;
	uint64_t a_bits = VTD_FSPTE_A | (pi->eafe ? VTD_FSPTE_EA : 0);
	uint64_t taddr = 0;
	bool tsw = false, hit = false;
	int r;

	if (top_bits != 0 && top_bits != (~0ULL >> (width - 1)))
		return VTD_FR_FS_NON_CANONICAL;
	for (unsigned int l = 2; l <= levels && !hit; l++) {
		struct vc_entry *e = vc_lookup(&x->pwc, pwc_k0(PWC_FS, levels, l, pi->did, w->pasid),
					       vpn >> level_shift(l));

		if (e && vc_pay(&x->pwc, e)->pwc.kind == kind) {
			taddr = vc_pay(&x->pwc, e)->pwc.table;
			tsw = vc_pay(&x->pwc, e)->pwc.tsw;
			perm = vc_pay(&x->pwc, e)->pwc.perm;
			level = l - 1;
			hit = true;
		}
	}
	if (!hit) {
		r = fs_table_xlate(w, pi->flptptr, true, &taddr, &tsw);
		if (r)
			return r;
	}
	for (; level >= 1; level--) {
		unsigned int sh = level_shift(level);
		uint64_t addr = taddr + ((iova >> sh) & 511) * 8, pte, rsvd = x->haw_mask;
		bool top = level == levels, leaf;

		if (gmem_read_u64(x->gm, addr, &pte))
			return top ? VTD_FR_FS_PML4_ACCESS : VTD_FR_FS_ACCESS;
		if (!vtd_fspte_p(pte))
			return VTD_FR_FS_NOT_PRESENT;
		leaf = level == 1 || (vtd_fspte_ps(pte) && level <= 3);
		if (vtd_fspte_ps(pte) && (level >= 4 || (level == 3 && !x->caps.fs1gp)))
			return VTD_FR_FS_RSVD;
		if (leaf && level > 1)
			rsvd |= GENMASK_ULL(sh - 1, 13); /* bit 12 is PAT in large leaves */
		if (pte & rsvd)
			return VTD_FR_FS_RSVD;
		if (!vtd_fspte_rw(pte))
			perm &= ~VTD_P_W;
		if (!vtd_fspte_us(pte))
			perm &= ~VTD_P_U;
		if (vtd_fspte_xd(pte))
			perm &= ~VTD_P_X;
		/* A (and EA with EAFE) in every entry used by the walk. */
		r = fs_set_bits(w, addr, tsw, &pte, a_bits);
		if (r)
			return r;
		if (leaf) {
			uint64_t size = 1ULL << sh;

			res->out = (vtd_fspte_addr(pte) & ~(size - 1)) | (iova & (size - 1));
			res->shift = sh;
			res->perm = perm | (vtd_fspte_d(pte) ? VTD_P_D : 0);
			/* D only for a write the first stage allows (WPE=0 lets supervisors write). */
			if (w->write && ((perm & VTD_P_W) || (w->priv && !pi->wpe)) &&
			    (w->priv || (perm & VTD_P_U))) {
				r = fs_set_bits(w, addr, tsw, &pte, VTD_FSPTE_D);
				if (r)
					return r;
				res->perm |= VTD_P_D;
			}
			return 0;
		}
		r = fs_table_xlate(w, vtd_fspte_addr(pte), false, &taddr, &tsw);
		if (r)
			return r;
		pwc_store(x, pwc_k0(PWC_FS, levels, level, pi->did, w->pasid), vpn >> sh,
			  &(struct vtd_pwc_info){ .table = taddr, .perm = (uint8_t)perm,
						  .level = (uint8_t)level, .did = pi->did,
						  .pasid = w->pasid, .kind = kind, .tsw = tsw });
	}
	return VTD_FR_FS_RSVD; /* not reached: level 1 is always a leaf */
}

static uint64_t pack(uint64_t out, unsigned int shift, unsigned int perm)
{
	return (out & ~((1ULL << shift) - 1)) | FIELD_PREP(TLB_SIZE, (shift - 12) / 9) |
	       (perm & TLB_PERM);
}

static bool hits_interrupt_range(uint64_t page, unsigned int shift)
{
	uint64_t last = page + ((1ULL << shift) - 1);

	return page <= VTD_INTERRUPT_ADDR_LAST && last >= VTD_INTERRUPT_ADDR_FIRST;
}

/* Legacy-mode second stage (TT=0/1) or pass-through (TT=2) once the context is known. */
int vtd_walk_legacy(struct vtd_xlate *x, const struct vtd_ctx_info *ci, const struct dma_req *req,
		    uint64_t iova, struct vtd_walk_out *out)
{
	struct ss_res r;
	enum ss_err e;

	out->did = ci->did;
	out->pasid = VTD_NO_PASID;
	out->kind = VTD_KIND_SS;
	if (ci->tt == VTD_CTX_TT_PASSTHROUGH) {
		if (x->caps.haw < 64 && (iova >> x->caps.haw))
			return VTD_FR_ADDR_BEYOND_MGAW;
		out->tlb_w = pack(iova, 12, VTD_P_ALL | VTD_P_SW);
		return 0;
	}
	e = ss_walk(x, ci->slptptr, ci->levels, ci->did, false, iova, &r);
	if (e)
		return ss_reason_legacy(e, req->access & DMA_ACC_WRITE);
	if (hits_interrupt_range(r.out & ~((1ULL << r.shift) - 1), r.shift)) {
		if (r.out >= VTD_INTERRUPT_ADDR_FIRST && r.out <= VTD_INTERRUPT_ADDR_LAST)
			return VTD_FR_INTERRUPT_ADDR;
		out->cacheable = false;
	}
	/* Second stage: reads imply execute, no user/supervisor split, no dirty tracking. */
	r.perm |= VTD_P_U | VTD_P_D | ((r.perm & VTD_P_R) ? VTD_P_X : 0) |
		  ((r.perm & VTD_P_W) ? VTD_P_SW : 0);
	out->tlb_w = pack(r.out, r.shift, r.perm);
	return 0;
}

/* Scalable mode once the PASID entry is known: PGTT 1..4. */
int vtd_walk_sm(struct vtd_xlate *x, const struct vtd_pasid_info *pi, uint32_t pasid,
		const struct dma_req *req, uint64_t iova, struct vtd_walk_out *out)
{
	uint64_t flags = (pi->sre ? TLB_SRE : 0) | (pi->ere ? TLB_ERE : 0) |
			 (pi->wpe ? TLB_WPE : 0);
	struct ss_res r, s;
	enum ss_err e;
	int rc;

	out->did = pi->did;
	out->pasid = pasid;
	switch (pi->pgtt) {
	case VTD_PE_PGTT_PT:
		if (x->caps.haw < 64 && (iova >> x->caps.haw))
			return VTD_FR_ADDR_BEYOND_HAW;
		out->tlb_w = pack(iova, 12, VTD_P_ALL | VTD_P_SW) | flags;
		out->kind = VTD_KIND_SS;
		return 0;
	case VTD_PE_PGTT_SS:
		e = ss_walk(x, pi->slptptr, pi->ss_levels, pi->did, true, iova, &r);
		if (e)
			return ss_reason_sm(e, false);
		r.perm |= VTD_P_U | VTD_P_D | ((r.perm & VTD_P_R) ? VTD_P_X : 0) |
			  ((r.perm & VTD_P_W) ? VTD_P_SW : 0);
		out->kind = VTD_KIND_SS;
		break;
	default: { /* first-stage only or nested */
		struct fs_walk w = { .x = x, .pi = pi, .pasid = pasid,
				     .nested = pi->pgtt == VTD_PE_PGTT_NESTED,
				     .write = req->access & DMA_ACC_WRITE,
				     .priv = req->has_pasid && (req->access & DMA_ACC_PRIV) };

		rc = fs_walk_run(&w, iova, &r);
		if (rc)
			return rc;
		out->kind = w.nested ? VTD_KIND_NESTED : VTD_KIND_FS;
		if (!w.nested) {
			r.perm |= VTD_P_SW;
			break;
		}
		e = ss_walk(x, pi->slptptr, pi->ss_levels, pi->did, true, r.out, &s);
		if (e)
			return ss_reason_sm(e, true);
		/* Combined page: the smaller of the two stages' pages. */
		if (s.shift < r.shift)
			r.shift = s.shift;
		r.out = s.out;
		if (!(s.perm & VTD_P_R))
			r.perm &= ~(VTD_P_R | VTD_P_X);
		if (s.perm & VTD_P_W)
			r.perm |= VTD_P_SW;
		break;
	}
	}
	if (hits_interrupt_range(r.out & ~((1ULL << r.shift) - 1), r.shift)) {
		if (r.out >= VTD_INTERRUPT_ADDR_FIRST && r.out <= VTD_INTERRUPT_ADDR_LAST)
			return VTD_FR_SM_INTERRUPT_ADDR;
		out->cacheable = false;
	}
	out->tlb_w = pack(r.out, r.shift, r.perm) | flags;
	return 0;
}

/*
 * Request permission check against a packed translation. Returns 0, a reason, or 0 with
 * *ret_rewalk set when a first-stage D bit must still be set (a write on a clean entry).
 */
int vtd_check_access(const struct dma_req *req, uint64_t w, bool sm, bool *ret_rewalk)
{
	unsigned int acc = req->has_pasid ? req->access : req->access & ~(DMA_ACC_EXEC | DMA_ACC_PRIV);
	unsigned int perm = (unsigned int)(w & TLB_PERM);
	bool priv = acc & DMA_ACC_PRIV;

	*ret_rewalk = false;
	if ((acc & DMA_ACC_EXEC) && !(w & TLB_ERE))
		return VTD_FR_SM_ERE;
	if (priv && !(w & TLB_SRE))
		return VTD_FR_SM_SRE;
	if (!priv && !(perm & VTD_P_U))
		return VTD_FR_FS_USER;
	if ((acc & DMA_ACC_EXEC) && !(perm & VTD_P_X))
		return VTD_FR_FS_EXEC;
	if ((acc & (DMA_ACC_READ | DMA_ACC_EXEC)) && !(perm & VTD_P_R))
		return sm ? VTD_FR_SM_READ : VTD_FR_READ;
	if (acc & DMA_ACC_WRITE) {
		bool ok = (perm & VTD_P_SW) &&
			  ((perm & VTD_P_W) || (priv && !(w & TLB_WPE)));

		if (!ok)
			return sm ? VTD_FR_SM_WRITE : VTD_FR_WRITE;
		if (!(perm & VTD_P_D))
			*ret_rewalk = true;
	}
	return 0;
}
