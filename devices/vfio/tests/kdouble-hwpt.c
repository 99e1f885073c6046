/* SPDX-License-Identifier: MIT */
/*
 * The kernel double's HWPT commands (IOMMU_HWPT_ALLOC, IOMMU_HWPT_INVALIDATE) and
 * IOMMU_GET_HW_INFO (facts §12). Where a rule is the kernel's own, the comment names the
 * function that enforces it (torvalds/linux: drivers/iommu/iommufd/, drivers/iommu/intel/).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "devices/vfio/tests/kdouble-internal.h"
#include "devices/vfio/tests/kdouble.h"

int kd_hwpt_alloc(struct kdouble *kd, struct ifd_hwpt_alloc *a)
{
	uint32_t known = kd->kver >= 611 ? 48 : 40;
	uint32_t okflags = IFD_HWPT_NEST_PARENT | IFD_HWPT_DIRTY_TRACKING;
	struct kd_obj *pt, *o;
	uint32_t id;
	int r = kd_check_size(a, a->size, 40, known);

	if (r)
		return r;
	if (kd->kver < 607)
		okflags = 0;
	if (kd->kver >= 611)
		okflags |= IFD_HWPT_FAULT_ID_VALID;
	if (kd->kver >= 615)
		okflags |= IFD_HWPT_PASID;
	if ((a->flags & ~okflags) || a->reserved || (known >= 48 && a->reserved2))
		return -EOPNOTSUPP;
	/* iommufd_hwpt_paging_alloc (6.15+): a nest parent never takes a fault queue. */
	if (kd->kver >= 615 && (a->flags & IFD_HWPT_FAULT_ID_VALID) &&
	    (a->flags & IFD_HWPT_NEST_PARENT))
		return -EOPNOTSUPP;
	if (a->data_type == IFD_HWPT_DATA_NONE ? (a->data_len || a->data_uptr)
					       : (!a->data_len || !a->data_uptr))
		return -EINVAL;
	if (!kd_dev_by_id(kd, a->dev_id))
		return -ENOENT;
	if ((a->flags & IFD_HWPT_FAULT_ID_VALID) &&
	    (!kd_get(kd, a->fault_id) || kd_get(kd, a->fault_id)->type != KD_FAULT))
		return -ENOENT;
	/* iommufd_hwpt_alloc: an unknown pt_id is EINVAL, not ENOENT. */
	pt = kd_get(kd, a->pt_id);
	if (!pt)
		return -EINVAL;
	if (pt->type == KD_IOAS) {
		if (a->data_type != IFD_HWPT_DATA_NONE)
			return -EOPNOTSUPP;
		if ((a->flags & IFD_HWPT_NEST_PARENT) && !kd->nest)
			return -EOPNOTSUPP;
	} else if (pt->type == KD_HWPT_PAGING) {
		struct ifd_vtd_s1 s1 = { 0 };

		if (!(pt->flags & IFD_HWPT_NEST_PARENT))
			return -EINVAL;
		if (a->flags & (IFD_HWPT_NEST_PARENT | IFD_HWPT_DIRTY_TRACKING))
			return -EOPNOTSUPP;
		if (a->data_type != IFD_HWPT_DATA_VTD_S1 || kd->kver < 607)
			return -EOPNOTSUPP;
		if (a->data_len < sizeof(s1))
			return -EINVAL;
		if (a->data_len > sizeof(s1))
			return -E2BIG;
		memcpy(&s1, (const void *)(uintptr_t)a->data_uptr, sizeof(s1));
		if ((s1.flags & ~(IFD_VTD_S1_SRE | IFD_VTD_S1_EAFE | IFD_VTD_S1_WPE)) || s1.reserved)
			return -EOPNOTSUPP;
		/* The address width and the flags are checked against the unit at attach. */
		/* A PASID-capable child needs a PASID-capable parent. */
		if ((a->flags & IFD_HWPT_PASID) && !(pt->flags & IFD_HWPT_PASID))
			return -EINVAL;
		id = kd_new_obj(kd, KD_HWPT_NESTED);
		if (!id)
			return -ENOMEM;
		o = &kd->objs[id];
		o->s1 = s1;
		goto done;
	} else {
		return -EINVAL;
	}
	id = kd_new_obj(kd, KD_HWPT_PAGING);
	if (!id)
		return -ENOMEM;
	o = &kd->objs[id];
done:
	o->flags = a->flags;
	o->parent = a->pt_id;
	kd->objs[a->pt_id].users++;
	if (a->flags & IFD_HWPT_FAULT_ID_VALID)
		kd->objs[a->fault_id].users++;
	a->out_hwpt_id = id;
	return 0;
}

int kd_hwpt_invalidate(struct kdouble *kd, struct ifd_hwpt_invalidate *c)
{
	const struct ifd_vtd_s1_inv *e = (const void *)(uintptr_t)c->data_uptr;
	struct kd_obj *o;
	uint32_t n = c->entry_num, i;
	int r = kd_check_size(c, c->size, 32, 32);

	if (kd->kver < 608)
		return -ENOTTY;
	if (r)
		return r;
	/* The kernel writes the handled count back on every path past the size check. */
	c->entry_num = 0;
	if (c->reserved)
		return -EOPNOTSUPP;
	if (n && (!c->data_uptr || !c->entry_len))
		return -EINVAL;
	o = kd_get(kd, c->hwpt_id);
	if (!o)
		return -ENOENT;
	if (o->type != KD_HWPT_NESTED || c->data_type != IFD_INV_DATA_VTD_S1)
		return -EINVAL;
	if (n && c->entry_len != sizeof(*e))
		return c->entry_len < sizeof(*e) ? -EINVAL : -E2BIG;
	for (i = 0; i < n; i++) {
		if ((int)kd->inv_seen == kd->inv_fail_at) {
			kd->inv_seen++;
			c->entry_num = i;
			return -EINVAL;
		}
		if ((e[i].flags & ~IFD_VTD_INV_LEAF) || e[i].reserved) {
			c->entry_num = i;
			return -EOPNOTSUPP;
		}
		/* intel_nested_cache_invalidate_user: aligned, and "everything" only from 0. */
		if ((e[i].addr & 4095) || (e[i].npages == UINT64_MAX && e[i].addr)) {
			c->entry_num = i;
			return -EINVAL;
		}
		kd->inv_seen++;
		if (kd->nr_inv_log < KD_MAX_LOG) {
			kd->inv_hwpt[kd->nr_inv_log] = c->hwpt_id;
			kd->inv_log[kd->nr_inv_log++] = e[i];
		}
	}
	c->entry_num = i;
	return 0;
}

int kd_hw_info(struct kdouble *kd, struct ifd_hw_info *h)
{
	struct ifd_hw_info_vtd v = { .flags = kd->errata ? IFD_VTD_ERRATA_772415 : 0,
				     .cap_reg = (2ULL << 8) | (47ULL << 16) | (1ULL << 56),
				     .ecap_reg = (1ULL << 1) | (1ULL << 29) | (1ULL << 31) | (1ULL << 40) |
						 (1ULL << 43) | (kd->nest ? 1ULL << 26 : 0) };
	int r = kd_check_size(h, h->size, 32, kd->kver >= 607 ? 40 : 32);

	if (r)
		return r;
	if (h->flags || h->reserved[0] || h->reserved[1] || h->reserved[2])
		return -EOPNOTSUPP;
	if (!kd_dev_by_id(kd, h->dev_id))
		return -ENOENT;
	if (h->data_len && !h->data_uptr)
		return -EINVAL;
	if (kd->vtd)
		memcpy((void *)(uintptr_t)h->data_uptr, &v, h->data_len < sizeof(v) ? h->data_len : sizeof(v));
	h->data_len = kd->vtd ? sizeof(v) : 0;
	h->out_data_type = kd->vtd ? IFD_HW_INFO_INTEL_VTD : 0;
	/* iommufd_get_hw_info: the PASID width (and PASID caps) only since 6.15; 0 without PASID. */
	h->out_max_pasid_log2 = kd->kver >= 615 ? kd->max_pasid_log2 : 0;
	if (h->size >= 40)
		h->out_capabilities = kd->kver >= 615 && kd->max_pasid_log2 ? IFD_HW_CAP_PASID_PRIV : 0;
	return 0;
}
