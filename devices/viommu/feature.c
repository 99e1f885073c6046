/* SPDX-License-Identifier: MIT */
/*
 * The registry of the unit's features (struct vtd_feature, viommu-internal.h): the core calls
 * vtd_feat_*, which call every registered feature that set that hook, in registration order.
 * The loops are bounded by VTD_MAX_FEATURES; the core never names a feature.
 */
#include <errno.h>

#include "devices/viommu/viommu-internal.h"

int vtd_feature_add(struct viommu *v, const struct vtd_feature *f)
{
	unsigned int n = v->nr_feat;

	if (n >= VTD_MAX_FEATURES)
		return -ENOSPC;
	v->feat[n] = f;
	/* after_write runs without the lock: it sees the slot filled before the count. */
	__atomic_store_n(&v->nr_feat, n + 1, __ATOMIC_RELEASE);
	/* Read by the drain under the lock (vtd_feat_iotlb and the like). */
	v->feat_hooks |= (f->iotlb ? VTD_FH_IOTLB : 0) | (f->piotlb ? VTD_FH_PIOTLB : 0) |
			 (f->sync ? VTD_FH_SYNC : 0);
	return 0;
}

/* Each registered feature; the count is loaded once (acquire: after_write runs unlocked). */
#define EACH(v, f)                                                                     \
	for (const struct vtd_feature *const *f = (v)->feat,                             \
		*const *f##_end = (v)->feat + __atomic_load_n(&(v)->nr_feat, __ATOMIC_ACQUIRE); \
	     f < f##_end; f++)

void vtd_feat_regs(struct viommu *v)
{
	EACH(v, f)
		if ((*f)->regs)
			(*f)->regs(v);
}

void vtd_feat_gcmd(struct viommu *v, uint64_t val, uint64_t *gsts)
{
	EACH(v, f)
		if ((*f)->gcmd)
			(*f)->gcmd(v, val, gsts);
}

void vtd_feat_root_changed(struct viommu *v)
{
	EACH(v, f)
		if ((*f)->root_changed)
			(*f)->root_changed(v);
}

void vtd_feat_te_changed(struct viommu *v)
{
	EACH(v, f)
		if ((*f)->te_changed)
			(*f)->te_changed(v);
}

void vtd_feat_context(struct viommu *v)
{
	EACH(v, f)
		if ((*f)->context)
			(*f)->context(v);
}

void vtd_feat_pasid_cache(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid)
{
	EACH(v, f)
		if ((*f)->pasid_cache)
			(*f)->pasid_cache(v, g, did, pasid);
}

void vtd_feat_iotlb_all(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
			unsigned int am, bool ih)
{
	EACH(v, f)
		if ((*f)->iotlb)
			(*f)->iotlb(v, g, did, addr, am, ih);
}

void vtd_feat_piotlb_all(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid,
			 uint64_t addr, unsigned int am, bool ih)
{
	EACH(v, f)
		if ((*f)->piotlb)
			(*f)->piotlb(v, g, did, pasid, addr, am, ih);
}

void vtd_feat_sync_all(struct viommu *v)
{
	EACH(v, f)
		if ((*f)->sync)
			(*f)->sync(v);
}

enum vtd_iqei vtd_feat_desc(struct viommu *v, unsigned int type, const uint64_t *d)
{
	EACH(v, f) {
		enum vtd_iqei e;

		if (!(*f)->desc || type >= 16 || !((*f)->desc_types & (1u << type)))
			continue;
		e = (*f)->desc(v, type, d);
		if (e != VTD_IQEI_NONE)
			return e;
	}
	return VTD_IQEI_NONE;
}

void vtd_feat_after_write(struct viommu *v)
{
	EACH(v, f)
		if ((*f)->after_write)
			(*f)->after_write(v);
}

void vtd_feat_destroy(struct viommu *v)
{
	while (v->nr_feat) {
		const struct vtd_feature *f = v->feat[--v->nr_feat];

		if (f->destroy)
			f->destroy(v);
	}
}
