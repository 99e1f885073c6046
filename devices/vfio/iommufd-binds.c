/* SPDX-License-Identifier: MIT */
/* The iommufd backend's per-device bind table and the operations on it: attach, detach, invalidate. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"
#include "devices/vfio/iommufd-internal.h"

/* Smallest bind index (slots); it doubles and halves with the live binds of the device. */
#define IFD_MIN_INDEX 16

int ifd_detach_one(struct iommufd_backend *b, struct ifd_dev *d, uint32_t pasid)
{
	struct ifd_vfio_detach dt = { .argsz = pasid == HOST_PASID_NONE ? 8 : 12,
				      .flags = pasid == HOST_PASID_NONE ? 0 : IFD_DETACH_PASID,
				      .pasid = pasid == HOST_PASID_NONE ? 0 : pasid };

	b->st.detach++;
	return ifd_xioctl(b, d->fd, IFD_VFIO_DETACH, &dt);
}

/* ---- the per-device bind table ---- */

static uint32_t pasid_hash(uint32_t pasid)
{
	return (uint32_t)(((uint64_t)pasid * 0x9e3779b97f4a7c15ULL) >> 32);
}

/* Index position holding pasid's slot, or -1. */
static int64_t index_pos(const struct ifd_dev *d, uint32_t pasid)
{
	if (!d->index)
		return -1;
	for (uint32_t i = pasid_hash(pasid) & d->index_mask;; i = (i + 1) & d->index_mask) {
		uint32_t s = d->index[i];

		if (!s)
			return -1;
		if (d->binds[s - 1].pasid == pasid)
			return i;
	}
}

static struct ifd_bind *find_bind(struct ifd_dev *d, uint32_t pasid)
{
	int64_t i = index_pos(d, pasid);

	return i < 0 ? NULL : &d->binds[d->index[i] - 1];
}

static void index_put(uint32_t *index, uint32_t mask, uint32_t pasid, uint32_t slot)
{
	uint32_t i = pasid_hash(pasid) & mask;

	while (index[i])
		i = (i + 1) & mask;
	index[i] = slot + 1;
}

/* A new index of size slots (a power of two above twice the binds). 0 or -ENOMEM. */
static int rehash(struct ifd_dev *d, uint32_t size)
{
	uint32_t *ni = calloc(size, sizeof(*ni));

	if (!ni)
		return -ENOMEM;
	for (uint32_t j = 0; j < d->nr_binds; j++)
		index_put(ni, size - 1, d->binds[j].pasid, j);
	free(d->index);
	d->index = ni;
	d->index_mask = size - 1;
	return 0;
}

/*
 * Room for one more bind, so that recording it after the host calls cannot fail: 0, or
 * -ENOMEM with the table as it was (the caller has asked the host for nothing yet).
 */
static int reserve_bind(struct ifd_dev *d)
{
	if (d->nr_binds == d->cap_binds) {
		uint32_t cap = d->cap_binds ? 2 * d->cap_binds : IFD_MIN_INDEX / 2;
		struct ifd_bind *nb = realloc(d->binds, cap * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		d->binds = nb;
		d->cap_binds = cap;
	}
	if (!d->index || 2 * (d->nr_binds + 1) > d->index_mask + 1)
		return rehash(d, d->index ? 2 * (d->index_mask + 1) : IFD_MIN_INDEX);
	return 0;
}

/* Records a bind for a PASID not in the table; reserve_bind made the room. */
static void add_bind(struct ifd_dev *d, const struct ifd_bind *nb)
{
	d->binds[d->nr_binds] = *nb;
	index_put(d->index, d->index_mask, nb->pasid, d->nr_binds);
	d->nr_binds++;
}

/*
 * Forgets a bind: its index position is emptied with the entries after it moved back
 * (linear probing without tombstones), the last bind moves into its slot, and the table
 * shrinks when it is mostly empty (a failed shrink keeps the larger table).
 */
static void remove_bind(struct ifd_dev *d, struct ifd_bind *bd)
{
	uint32_t slot = (uint32_t)(bd - d->binds), last = d->nr_binds - 1;
	uint32_t mask = d->index_mask, i = (uint32_t)index_pos(d, bd->pasid), j = i;

	d->index[i] = 0;
	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (!d->index[j])
			break;
		home = pasid_hash(d->binds[d->index[j] - 1].pasid) & mask;
		/* Stays if its home lies cyclically in (i, j]; else it fills the hole at i. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		d->index[i] = d->index[j];
		d->index[j] = 0;
		i = j;
	}
	if (slot != last) {
		d->binds[slot] = d->binds[last];
		d->index[index_pos(d, d->binds[slot].pasid)] = slot + 1;
	}
	d->nr_binds = last;
	if (d->index_mask + 1 > IFD_MIN_INDEX && 8 * d->nr_binds < d->index_mask + 1) {
		struct ifd_bind *nb;

		if (rehash(d, (d->index_mask + 1) / 2))
			return;
		nb = realloc(d->binds, (d->index_mask + 1) / 2 * sizeof(*nb));
		if (nb) {
			d->binds = nb;
			d->cap_binds = (d->index_mask + 1) / 2;
		}
	}
}

/*
 * A PASID the host can take for this device: PASID attach supported, the PASID within the
 * width the host reported (the width the guest is offered at most), and not 0, which the
 * host keeps for the RID (IOMMU_NO_PASID). The kernel refuses the others with EINVAL
 * (iommu_attach_device_pasid); they are refused here before any host call.
 */
static int pasid_usable(const struct ifd_dev *d, uint32_t pasid)
{
	if (!d->caps.pasid_attach)
		return -EOPNOTSUPP;
	if (!pasid || (d->caps.max_pasid_log2 < 32 && (pasid >> d->caps.max_pasid_log2)))
		return -EINVAL;
	return 0;
}

int ifd_attach_s1(void *be, uint32_t dev, uint32_t pasid, const struct host_s1_config *cfg,
		  uint32_t *ret_s1)
{
	struct iommufd_backend *b = be;
	struct ifd_vtd_s1 s1 = { .pgtbl_addr = cfg->pgtbl_gpa, .addr_width = cfg->addr_width,
				 .flags = (cfg->sre ? IFD_VTD_S1_SRE : 0) |
					  (cfg->eafe ? IFD_VTD_S1_EAFE : 0) |
					  (cfg->wpe ? IFD_VTD_S1_WPE : 0) };
	struct ifd_hwpt_alloc ha = { .size = sizeof(ha), .pt_id = b->parent,
				     .data_type = IFD_HWPT_DATA_VTD_S1, .data_len = sizeof(s1),
				     .data_uptr = (uintptr_t)&s1 };
	struct ifd_vfio_attach at = { .argsz = 12 };
	struct ifd_dev *d;
	struct ifd_bind *bd;
	bool fault;
	int r;

	pthread_mutex_lock(&b->lock);
	d = ifd_get_dev(b, dev);
	r = !d ? -ENOENT : !d->caps.nesting ? -EOPNOTSUPP : 0;
	if (!r && pasid != HOST_PASID_NONE)
		r = pasid_usable(d, pasid);
	/* Memory for the record first: once the host has the stage-1, it must be remembered. */
	if (!r && !find_bind(d, pasid))
		r = reserve_bind(d);
	if (r)
		goto out;
	ha.dev_id = d->dev_id;
	/*
	 * A fault queue on the stage-1 makes the kernel turn IOPF on for the device at attach,
	 * which VT-d refuses (-ENODEV) for a function without ATS + PRI. So only when the guest
	 * asked for page requests (context PRE=1 and PRI enabled in the device's capability) and
	 * the host function can send them. The nest parent never gets one (6.15+ refuses it).
	 */
	fault = b->have_fault && cfg->pri && d->host_pri && d->guest_pri;
	ha.flags = (b->parent_pasid ? IFD_HWPT_PASID : 0) | (fault ? IFD_HWPT_FAULT_ID_VALID : 0);
	ha.fault_id = fault ? b->fault_id : 0;
	b->st.hwpt_alloc++;
	r = ifd_xioctl(b, b->fd, IFD_HWPT_ALLOC, &ha);
	if (r)
		goto out;
	/* Attaching over a current attachment replaces it atomically (facts §12.4 step 6). */
	at.pt_id = ha.out_hwpt_id;
	if (pasid != HOST_PASID_NONE) {
		at.argsz = sizeof(at);
		at.flags = IFD_ATTACH_PASID;
		at.pasid = pasid;
	}
	b->st.attach++;
	r = ifd_xioctl(b, d->fd, IFD_VFIO_ATTACH, &at);
	if (r) {
		/* The old attachment (if any) stays in place. */
		ifd_destroy_or_keep(b, ha.out_hwpt_id);
		goto out;
	}
	bd = find_bind(d, pasid);
	if (bd && !bd->on_parent)
		ifd_destroy_or_keep(b, bd->hwpt);
	if (pasid == HOST_PASID_NONE)
		d->rid_on_default = false;
	if (bd)
		*bd = (struct ifd_bind){ .pasid = pasid, .hwpt = ha.out_hwpt_id };
	else
		add_bind(d, &(struct ifd_bind){ .pasid = pasid, .hwpt = ha.out_hwpt_id });
	*ret_s1 = ha.out_hwpt_id;
	trace(TRACE_HOST, "iommufd", "dev %u pasid 0x%x -> hwpt %u", dev, pasid, ha.out_hwpt_id);
out:
	pthread_mutex_unlock(&b->lock);
	return r;
}

int ifd_detach(void *be, uint32_t dev, uint32_t pasid)
{
	struct iommufd_backend *b = be;
	struct ifd_dev *d;
	struct ifd_bind *bd = NULL;
	int r = -ENOENT;

	pthread_mutex_lock(&b->lock);
	d = ifd_get_dev(b, dev);
	if (d)
		bd = find_bind(d, pasid);
	if (bd) {
		/* A failed detach leaves the binding as it was, so the caller can retry. */
		r = ifd_detach_one(b, d, pasid);
		if (!r) {
			if (!bd->on_parent)
				ifd_destroy_or_keep(b, bd->hwpt);
			remove_bind(d, bd);
		}
	} else if (d && pasid == HOST_PASID_NONE && d->rid_on_default) {
		/* The RID on the parent (identity): detached, the device's DMA is blocked. */
		r = ifd_detach_one(b, d, pasid);
		if (!r)
			d->rid_on_default = false;
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

/*
 * Attaches (dev, pasid) to the nest parent itself (guest-physical DMA), replacing a stage-1
 * atomically; the stage-1 is destroyed once replaced. The RID attach is how a device starts.
 */
int ifd_attach_parent(void *be, uint32_t dev, uint32_t pasid)
{
	struct iommufd_backend *b = be;
	struct ifd_vfio_attach at = { .argsz = 12 };
	struct ifd_dev *d;
	struct ifd_bind *bd;
	int r;

	pthread_mutex_lock(&b->lock);
	d = ifd_get_dev(b, dev);
	r = !d ? -ENOENT : !b->have_parent ? -EOPNOTSUPP : 0;
	if (!r && pasid != HOST_PASID_NONE)
		r = pasid_usable(d, pasid);
	/* A PASID on the parent is remembered (detach and close find it): memory first. */
	if (!r && pasid != HOST_PASID_NONE && !find_bind(d, pasid))
		r = reserve_bind(d);
	if (r || (pasid == HOST_PASID_NONE && d->rid_on_default))
		goto out;
	at.pt_id = b->parent;
	if (pasid != HOST_PASID_NONE) {
		at.argsz = sizeof(at);
		at.flags = IFD_ATTACH_PASID;
		at.pasid = pasid;
	}
	b->st.attach++;
	r = ifd_xioctl(b, d->fd, IFD_VFIO_ATTACH, &at);
	if (r)
		goto out; /* the old attachment (if any) stays in place */
	bd = find_bind(d, pasid);
	if (bd && !bd->on_parent)
		ifd_destroy_or_keep(b, bd->hwpt);
	if (pasid == HOST_PASID_NONE) {
		/* The RID on the parent is rid_on_default, not a bind. */
		if (bd)
			remove_bind(d, bd);
		d->rid_on_default = true;
	} else {
		/* Remembered, so detach and close find it (the parent itself is never destroyed). */
		struct ifd_bind nb = { .on_parent = true, .pasid = pasid, .hwpt = b->parent };

		if (bd)
			*bd = nb;
		else
			add_bind(d, &nb);
	}
	trace(TRACE_HOST, "iommufd", "dev %u pasid 0x%x -> nest parent %u", dev, pasid, b->parent);
out:
	pthread_mutex_unlock(&b->lock);
	return r;
}

/*
 * One IOMMU_HWPT_INVALIDATE for the whole batch. The kernel handles the entries in order and
 * writes back in entry_num how many it handled; it stops at the first bad one with its error
 * (intel_nested_cache_invalidate_user) and never succeeds with fewer, so a success that
 * claims fewer is reported as -EIO rather than trusted.
 */
int ifd_invalidate(void *be, uint32_t s1, const struct host_inv_range *rg, unsigned int n,
		   unsigned int *ret_done)
{
	struct iommufd_backend *b = be;
	struct ifd_vtd_s1_inv *e = calloc(n ? n : 1, sizeof(*e));
	struct ifd_hwpt_invalidate inv = { .size = sizeof(inv), .hwpt_id = s1,
					   .data_type = IFD_INV_DATA_VTD_S1, .entry_len = sizeof(*e),
					   .entry_num = n };
	int r;

	if (!e)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		e[i] = (struct ifd_vtd_s1_inv){ .addr = rg[i].addr, .npages = rg[i].npages,
						.flags = rg[i].leaf ? IFD_VTD_INV_LEAF : 0 };
	inv.data_uptr = (uintptr_t)e;
	pthread_mutex_lock(&b->lock);
	b->st.hwpt_invalidate++;
	r = ifd_xioctl(b, b->fd, IFD_HWPT_INVALIDATE, &inv);
	/* Never trust a count beyond what we sent; a failed call that claims all is a lie. */
	if (inv.entry_num > n || (r && inv.entry_num == n))
		inv.entry_num = r ? 0 : n;
	if (!r && inv.entry_num < n)
		r = -EIO;
	b->st.inv_entries += inv.entry_num;
	pthread_mutex_unlock(&b->lock);
	free(e);
	*ret_done = inv.entry_num;
	return r;
}
