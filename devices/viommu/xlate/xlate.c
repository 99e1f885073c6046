/* SPDX-License-Identifier: MIT */
/*
 * The VT-d translation engine's public face: request resolution and the IOTLB hot path.
 *
 * Caches (all bounded, CLOCK eviction, faults never cached):
 *  - context cache, tag SID (legacy entries remember their DID);
 *  - PASID cache, tag SID + PASID, remembers the PASID entry's DID;
 *  - IOTLB, tag SID + request PASID (or none) + page size + page-aligned address; each entry
 *    also remembers DID, effective PASID (RID_PASID for requests without one) and the kind
 *    (second-stage/legacy/pass-through, first-stage, nested) that invalidations match on.
 *    Tagging by SID as well as DID (as QEMU does) keeps a hit to one lookup; it only makes
 *    the cache less shared between devices of a domain, never staler.
 *  - paging-structure cache: non-leaf second-stage entries (tag DID) and first-stage /
 *    nested entries (tag DID + PASID); nested ones hold the second-stage translated
 *    address of the next first-stage table.
 *
 * Invalidation (scopes and cost) lives in inv.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/viommu/xlate/xlate-internal.h"
#include "vmm/core/gmem.h"

struct vtd_xlate *vtd_xlate_create(const struct gmem *gm, const struct vtd_caps *caps,
				   const struct vtd_cache_sizes *sizes)
{
	struct vtd_cache_sizes sz = { 256, 256, 1024, 512 };
	struct vtd_xlate *x;

	if (!gm || !caps || caps->haw < 32 || caps->haw > 52 || caps->mgaw < 39 || caps->mgaw > 64 ||
	    caps->pasid_bits > 20)
		return NULL;
	if (sizes) {
		sz.context = sizes->context ? sizes->context : sz.context;
		sz.pasid = sizes->pasid ? sizes->pasid : sz.pasid;
		sz.iotlb = sizes->iotlb ? sizes->iotlb : sz.iotlb;
		sz.pwc = sizes->pwc ? sizes->pwc : sz.pwc;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->gm = gm;
	x->caps = *caps;
	x->haw_mask = GENMASK_ULL(51, caps->haw < 52 ? caps->haw : 51) & (caps->haw < 52 ? ~0ULL : 0);
	if (pthread_mutex_init(&x->lock, NULL))
		goto err_free;
	if (vc_init_indexed(&x->ctx, sz.context, 1) || vc_init_indexed(&x->pasid, sz.pasid, 2) ||
	    vc_init_indexed(&x->iotlb, sz.iotlb, 3) || vc_init_indexed(&x->pwc, sz.pwc, 3))
		goto err_caches;
	return x;

err_caches:
	vc_fini(&x->ctx);
	vc_fini(&x->pasid);
	vc_fini(&x->iotlb);
	vc_fini(&x->pwc);
	pthread_mutex_destroy(&x->lock);
err_free:
	free(x);
	return NULL;
}

void vtd_xlate_destroy(struct vtd_xlate *x)
{
	if (!x)
		return;
	vc_fini(&x->ctx);
	vc_fini(&x->pasid);
	vc_fini(&x->iotlb);
	vc_fini(&x->pwc);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

__thread const struct vtd_xlate *xl_batch;

void vtd_xlate_hold(struct vtd_xlate *x)
{
	if (xl_batch == x)
		return;
	pthread_mutex_lock(&x->lock);
	xl_batch = x;
}

void vtd_xlate_release(struct vtd_xlate *x)
{
	if (xl_batch != x)
		return;
	xl_batch = NULL;
	pthread_mutex_unlock(&x->lock);
}

void vtd_xlate_set_root(struct vtd_xlate *x, uint64_t rtaddr)
{
	xl_lock(x);
	x->rtaddr = rtaddr & GENMASK_ULL(63, 10);
	xl_unlock(x);
}

/* O(1): a new generation (cache.c). */
static void clear_cache(struct vcache *c)
{
	vc_write_begin(c);
	vc_invalidate_all(c);
	vc_write_end(c);
}

void vtd_xlate_flush_all(struct vtd_xlate *x)
{
	xl_lock(x);
	clear_cache(&x->ctx);
	clear_cache(&x->pasid);
	clear_cache(&x->iotlb);
	clear_cache(&x->pwc);
	__atomic_store_n(&x->tlb_sizes, 0, __ATOMIC_RELAXED);
	xl_unlock(x);
}

static void fill_fault(struct vtd_fault *f, int reason, const struct dma_req *req, uint64_t iova,
		       bool fpd)
{
	memset(f, 0, sizeof(*f));
	f->reason = (uint8_t)reason;
	f->sid = req->sid;
	f->pasid_valid = req->has_pasid;
	f->pasid = req->has_pasid ? req->pasid : 0;
	f->addr = iova & ~0xFFFULL;
	f->write = req->access & DMA_ACC_WRITE;
	f->exec = req->has_pasid && (req->access & DMA_ACC_EXEC);
	f->priv = req->has_pasid && (req->access & DMA_ACC_PRIV);
	f->fpd = fpd;
}

static void result(uint64_t w, uint64_t iova, struct dma_xlate *ret)
{
	uint64_t size = 1ULL << tlb_size_shift((unsigned int)FIELD_GET(TLB_SIZE, w));

	ret->gpa = (w & TLB_OUT & ~(size - 1)) | (iova & (size - 1));
	ret->len = size - (iova & (size - 1));
}

/* Resolves context / PASID and walks. Returns 0 or a reason; *fpd set for faults. */
static int resolve(struct vtd_xlate *x, const struct dma_req *req, uint64_t iova,
		   struct vtd_walk_out *out, bool *sm)
{
	unsigned int ttm = (unsigned int)FIELD_GET(GENMASK_ULL(11, 10), x->rtaddr);
	struct vtd_ctx_info ci;
	struct vtd_pasid_info pi;
	uint32_t pasid;
	int r;

	*sm = ttm == 1;
	out->fpd = false;
	if (ttm > 1 || (ttm == 1 && !x->caps.scalable) ||
	    (x->rtaddr & GENMASK_ULL(63, 12) & (x->caps.haw < 64 ? ~0ULL << x->caps.haw : 0)))
		return VTD_FR_SM_RTADDR_INV;
	if (!*sm) {
		if (req->has_pasid)
			return VTD_FR_SM_TTM_PASID;
		r = vtd_get_ctx(x, req->sid, false, &ci, &out->fpd);
		if (r)
			return r;
		return vtd_walk_legacy(x, &ci, req, iova, out);
	}
	r = vtd_get_ctx(x, req->sid, true, &ci, &out->fpd);
	if (r)
		return r;
	if (req->has_pasid) {
		if (!ci.paside)
			return VTD_FR_SM_CTX_PASIDE;
		pasid = req->pasid;
		if (pasid >= (1u << x->caps.pasid_bits) || (pasid >> 6) >= ci.dir_entries)
			return VTD_FR_SM_PASID_BEYOND_PDTS;
	} else {
		pasid = ci.rid_pasid;
		if ((x->caps.pasid_bits < 20 && pasid >= (1u << x->caps.pasid_bits)) ||
		    (pasid >> 6) >= ci.dir_entries)
			return VTD_FR_SM_RID_PASID;
	}
	r = vtd_get_pasid(x, req->sid, &ci, pasid, &pi, &out->fpd);
	if (r)
		return r;
	return vtd_walk_sm(x, &pi, pasid, req, iova, out);
}

static void tlb_fill(struct vtd_xlate *x, const struct dma_req *req, uint64_t iova,
		     const struct vtd_walk_out *out)
{
	unsigned int code = (unsigned int)FIELD_GET(TLB_SIZE, out->tlb_w);
	unsigned int sh = tlb_size_shift(code);
	struct vc_entry *e;

	vc_write_begin(&x->iotlb);
	e = vc_insert(&x->iotlb, tlb_k0(req->sid, req->has_pasid, req->pasid, code), iova >> sh);
	if (e) {
		struct vtd_tlb_info *t = &vc_pay(&x->iotlb, e)->tlb;

		__atomic_store_n(&e->w, out->tlb_w, __ATOMIC_RELAXED);
		t->iova = iova & ~((1ULL << sh) - 1);
		t->did = out->did;
		t->pasid = out->pasid;
		t->kind = out->kind;
		vtd_tlb_index(&x->iotlb, e);
	}
	vc_write_end(&x->iotlb);
	__atomic_fetch_or(&x->tlb_sizes, (uint8_t)(1u << code), __ATOMIC_RELAXED);
}

int vtd_xlate_translate(struct vtd_xlate *x, const struct dma_req *req, uint64_t iova,
			struct dma_xlate *ret, struct vtd_fault *ret_fault)
{
	uint8_t sizes = __atomic_load_n(&x->tlb_sizes, __ATOMIC_RELAXED);
	struct vtd_walk_out out;
	bool rewalk, sm;
	uint64_t w;
	int r;

	/* Hot path: lock-free IOTLB probe, smallest page size first. */
	for (unsigned int code = 0; code < 3; code++) {
		unsigned int sh = tlb_size_shift(code);

		if (!(sizes & (1u << code)) ||
		    !vc_lookup_lockless(&x->iotlb, tlb_k0(req->sid, req->has_pasid, req->pasid, code),
					iova >> sh, &w))
			continue;
		if (vtd_check_access(req, w, false, &rewalk) == 0 && !rewalk) {
			__atomic_fetch_add(&x->hits, 1, __ATOMIC_RELAXED);
			result(w, iova, ret);
			return 0;
		}
		break; /* permission or D-bit miss: the walk decides (and refills) */
	}

	xl_lock(x);
	__atomic_fetch_add(&x->misses, 1, __ATOMIC_RELAXED);
	x->walks++;
	memset(&out, 0, sizeof(out));
	out.cacheable = true;
	r = resolve(x, req, iova, &out, &sm);
	if (r == 0) {
		r = vtd_check_access(req, out.tlb_w, sm, &rewalk);
		if (r == 0 && out.cacheable)
			tlb_fill(x, req, iova, &out);
	}
	if (r) {
		x->faults++;
		xl_unlock(x);
		fill_fault(ret_fault, r, req, iova, out.fpd);
		return -EACCES;
	}
	xl_unlock(x);
	result(out.tlb_w, iova, ret);
	return 0;
}

int vtd_xlate_context_flags(struct vtd_xlate *x, uint16_t sid, struct vtd_ctx_flags *ret,
			    struct vtd_fault *ret_fault)
{
	struct dma_req req = { .sid = sid };
	struct vtd_ctx_info ci;
	unsigned int ttm;
	bool fpd = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	xl_lock(x);
	ttm = (unsigned int)FIELD_GET(GENMASK_ULL(11, 10), x->rtaddr);
	ret->sm = ttm == 1;
	if (ttm > 1 || (ttm == 1 && !x->caps.scalable) ||
	    (x->rtaddr & GENMASK_ULL(63, 12) & (x->caps.haw < 64 ? ~0ULL << x->caps.haw : 0)))
		r = VTD_FR_SM_RTADDR_INV;
	else
		r = vtd_get_ctx(x, sid, ret->sm, &ci, &fpd);
	xl_unlock(x);
	if (r) {
		fill_fault(ret_fault, r, &req, 0, fpd);
		return -EACCES;
	}
	ret->fpd = ci.fpd;
	ret->dte = ret->sm ? ci.dte : ci.tt == VTD_CTX_TT_DEVTLB;
	ret->pre = ret->sm && ci.pre;
	return 0;
}

void vtd_xlate_get_stats(struct vtd_xlate *x, struct vtd_xlate_stats *ret)
{
	xl_lock(x);
	ret->iotlb_hits = __atomic_load_n(&x->hits, __ATOMIC_RELAXED);
	ret->iotlb_misses = __atomic_load_n(&x->misses, __ATOMIC_RELAXED);
	ret->walks = x->walks;
	ret->faults = x->faults;
	ret->evictions = x->ctx.evictions + x->pasid.evictions + x->iotlb.evictions +
			 x->pwc.evictions;
	xl_unlock(x);
}
