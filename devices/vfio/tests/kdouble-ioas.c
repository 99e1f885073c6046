/* SPDX-License-Identifier: MIT */
/*
 * The kernel double's IOAS commands (IOMMU_IOAS_IOVA_RANGES, _MAP, _UNMAP) and the reserved
 * regions a device brings into its IOAS (facts §12). Where a rule is the kernel's own, the
 * comment names the function that enforces it (torvalds/linux: drivers/iommu/iommufd/).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "devices/vfio/tests/kdouble-internal.h"
#include "devices/vfio/tests/kdouble.h"

/* The IOAS behind an IOAS, paging or nested HWPT (0: none). */
uint32_t kd_ioas_of(struct kdouble *kd, uint32_t id)
{
	for (unsigned int depth = 0; depth < 3; depth++) {
		struct kd_obj *o = kd_get(kd, id);

		if (!o)
			return 0;
		if (o->type == KD_IOAS)
			return id;
		if (o->type != KD_HWPT_PAGING && o->type != KD_HWPT_NESTED)
			return 0;
		id = o->parent;
	}
	return 0;
}

/*
 * A device attached (RID or any PASID) to something in this IOAS: its reserved regions are in
 * the IOAS (iopt_table_enforce_dev_resv_regions, from the attach path).
 */
bool kd_ioas_has_device(struct kdouble *kd, uint32_t ioas)
{
	for (int i = 0; i < KD_MAX_DEVS; i++) {
		struct kd_dev *dv = &kd->devs[i];

		if (!dv->open || !dv->bound)
			continue;
		if (dv->rid_pt && kd_ioas_of(kd, dv->rid_pt) == ioas)
			return true;
		for (unsigned int p = 0; p < dv->nr_pasids; p++)
			if (kd_ioas_of(kd, dv->pasids[p].pt) == ioas)
				return true;
	}
	return false;
}

/*
 * The reserved ranges of an IOAS with a device, ascending: the RMRRs the test gave, the MSI
 * window, what lies past the aperture.
 */
static unsigned int resv_list(const struct kdouble *kd, struct ifd_iova_range *ret)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < kd->nr_rmrr && i < 32; i++)
		ret[n++] = kd->rmrr[i];
	ret[n++] = (struct ifd_iova_range){ KD_MSI_START, KD_MSI_LAST };
	ret[n++] = (struct ifd_iova_range){ KD_APERTURE_LAST + 1, UINT64_MAX };
	return n;
}

bool kd_hits_reserved(const struct kdouble *kd, uint64_t iova, uint64_t last)
{
	struct ifd_iova_range rv[34];
	unsigned int n = resv_list(kd, rv);

	for (unsigned int i = 0; i < n; i++)
		if (iova <= rv[i].last && rv[i].start <= last)
			return true;
	return false;
}

/* iommufd_ioas_iova_ranges: the holes between reserved ranges; EMSGSIZE with the count. */
int kd_ioas_iova_ranges(struct kdouble *kd, struct ifd_ioas_iova_ranges *c)
{
	struct ifd_iova_range rv[34], out[35];
	uint32_t max, n = 0;
	uint64_t at = 0;
	struct kd_obj *o;
	int r = kd_check_size(c, c->size, 32, 32);

	if (r)
		return r;
	if (c->reserved)
		return -EOPNOTSUPP;
	o = kd_get(kd, c->ioas_id);
	if (!o || o->type != KD_IOAS)
		return -ENOENT;
	if (!kd_ioas_has_device(kd, c->ioas_id)) {
		out[n++] = (struct ifd_iova_range){ 0, UINT64_MAX };
	} else {
		unsigned int nr = resv_list(kd, rv);

		for (unsigned int i = 0; i < nr; i++) {
			if (rv[i].start > at)
				out[n++] = (struct ifd_iova_range){ at, rv[i].start - 1 };
			at = rv[i].last + 1;
		}
	}
	max = c->num_iovas;
	for (uint32_t i = 0; i < n && i < max; i++)
		memcpy((void *)(uintptr_t)(c->allowed_iovas + i * sizeof(out[i])), &out[i], sizeof(out[i]));
	c->num_iovas = n;
	c->out_iova_alignment = 4096;
	return n > max ? -EMSGSIZE : 0;
}

int kd_ioas_map(struct kdouble *kd, struct ifd_ioas_map *m)
{
	struct kd_obj *o;
	int r = kd_check_size(m, m->size, 40, 40), slot = -1;

	if (r)
		return r;
	/* iommufd_ioas_map */
	if ((m->flags & ~(IFD_MAP_FIXED_IOVA | IFD_MAP_WRITEABLE | IFD_MAP_READABLE)) || m->reserved)
		return -EOPNOTSUPP;
	if (m->iova >= UINT64_MAX || m->length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(m->flags & (IFD_MAP_WRITEABLE | IFD_MAP_READABLE)))
		return -EINVAL;
	o = kd_get(kd, m->ioas_id);
	if (!o || o->type != KD_IOAS)
		return -ENOENT;
	/* iopt_alloc_area_pages / iopt_check_iova: alignment, wrap, reserved IOVA, overlap. */
	if (!m->length || ((m->iova | m->length | m->user_va) & 4095))
		return -EINVAL;
	if (m->iova + m->length - 1 < m->iova)
		return -EOVERFLOW;
	if (kd_ioas_has_device(kd, m->ioas_id) && kd_hits_reserved(kd, m->iova, m->iova + m->length - 1))
		return -EINVAL;
	if (!(m->flags & IFD_MAP_FIXED_IOVA))
		return -EINVAL; /* the double only knows fixed maps */
	/* Read-only mappings into a domain with the VT-d errata flag are refused. */
	if (!(m->flags & IFD_MAP_WRITEABLE) && kd->errata) {
		for (uint32_t i = 1; i < kd->nr_objs; i++)
			if (kd->objs[i].type == KD_HWPT_PAGING && kd->objs[i].parent == m->ioas_id &&
			    (kd->objs[i].flags & IFD_HWPT_NEST_PARENT))
				return -EINVAL;
	}
	for (int i = 0; i < KD_MAX_MAPS; i++) {
		struct kd_map *x = &kd->maps[i];

		if (x->len && x->ioas == m->ioas_id && m->iova < x->iova + x->len &&
		    x->iova < m->iova + m->length)
			return -EEXIST;
		if (!x->len && slot < 0)
			slot = i;
	}
	if (slot < 0)
		return -ENOMEM;
	kd->maps[slot] = (struct kd_map){ m->iova, m->length, m->ioas_id,
					  !!(m->flags & IFD_MAP_WRITEABLE) };
	return 0;
}

int kd_ioas_unmap(struct kdouble *kd, struct ifd_ioas_unmap *u)
{
	struct kd_obj *o;
	uint64_t done = 0;
	int r = kd_check_size(u, u->size, 24, 24);

	if (r)
		return r;
	o = kd_get(kd, u->ioas_id);
	if (!o || o->type != KD_IOAS)
		return -ENOENT;
	for (int i = 0; i < KD_MAX_MAPS; i++) {
		struct kd_map *x = &kd->maps[i];
		bool all = !u->iova && u->length == UINT64_MAX;

		if (x->len && x->ioas == u->ioas_id && (all || (x->iova >= u->iova &&
		    x->iova + x->len <= u->iova + u->length))) {
			done += x->len;
			x->len = 0;
		}
	}
	if (!done)
		return -ENOENT;
	u->length = done;
	return 0;
}
