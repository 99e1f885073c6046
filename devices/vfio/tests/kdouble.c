/* SPDX-License-Identifier: MIT */
/*
 * The iommufd/VFIO-cdev kernel double: argument validation as the kernel does it (facts §12).
 * Where a rule is the kernel's own, the comment names the function that enforces it
 * (torvalds/linux: drivers/iommu/iommufd/, drivers/iommu/intel/).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/vfio/tests/kdouble.h"

#define KD_IOMMUFD_FD 100
#define KD_DEV_FD 200
#define KD_FAULT_FD 300

void kd_init(struct kdouble *kd, unsigned int kver)
{
	kd_fini(kd); /* what an earlier run of the same double allocated */
	memset(kd, 0, sizeof(*kd));
	kd->kver = kver;
	kd->vtd = kd->nest = kd->errata = true;
	kd->max_pasid_log2 = 20;
	kd->inv_fail_at = -1;
	kd->iommufd = -1;
	kd->fault_fd = -1;
	for (int i = 0; i < KD_MAX_DEVS; i++)
		kd->devs[i].fd = -1;
}

void kd_fini(struct kdouble *kd)
{
	free(kd->objs);
	kd->objs = NULL;
	kd->nr_objs = 0;
	for (int i = 0; i < KD_MAX_DEVS; i++) {
		free(kd->devs[i].pasids);
		kd->devs[i].pasids = NULL;
		kd->devs[i].nr_pasids = kd->devs[i].cap_pasids = 0;
	}
}

unsigned int kd_live_objects(const struct kdouble *kd)
{
	unsigned int n = 0;

	for (unsigned int i = 1; i < kd->nr_objs; i++)
		n += kd->objs[i].type != KD_NONE && kd->objs[i].type != KD_DEVICE;
	return n;
}

/* Records from the head up to the first LAST_PAGE one: a whole group (0: none queued). */
static unsigned int head_group(const struct kdouble *kd)
{
	for (unsigned int i = 0; i < kd->nr_faults; i++)
		if (kd->faults[i].flags & IFD_PGFAULT_LAST_PAGE)
			return i + 1;
	return 0;
}

/* The fault fd polls readable exactly while a whole group waits (iommufd_eventq_fops_poll). */
static void sync_fault_fd(struct kdouble *kd)
{
	uint64_t v = 1;

	if (kd->fault_fd < 0)
		return;
	if (head_group(kd)) {
		if (write(kd->fault_fd, &v, sizeof(v)) != sizeof(v))
			return;
	} else if (read(kd->fault_fd, &v, sizeof(v)) != sizeof(v)) {
		return;
	}
}

void kd_push_fault(struct kdouble *kd, const struct ifd_pgfault *f)
{
	bool had = head_group(kd);

	if (kd->nr_faults < KD_MAX_FAULTS)
		kd->faults[kd->nr_faults++] = *f;
	if (!had && head_group(kd))
		sync_fault_fd(kd);
}

int kd_default_errno(char kind, unsigned long req)
{
	switch (kind) {
	case 'o':
		return EBUSY;   /* device already open elsewhere (or ENOMEM: same handling) */
	case 'c':
		return EIO;
	case 'r':
		return EFAULT;
	case 'w':
		return EINVAL;  /* response rejected */
	}
	switch (req) {
	case IFD_IOAS_ALLOC:
	case IFD_HWPT_ALLOC:
	case IFD_FAULT_QUEUE_ALLOC:
	case IFD_IOAS_MAP:
	case IFD_VFIO_BIND:
		return ENOMEM;
	case IFD_DESTROY:
	case IFD_IOAS_UNMAP:
		return EBUSY;
	case IFD_GET_HW_INFO:
		return EOPNOTSUPP;
	}
	return EINVAL;          /* attach, detach, invalidate */
}

/* Counts one host call; returns -errno when it is the one to fail. */
static int inject(struct kdouble *kd, char kind, unsigned long req)
{
	if (++kd->nr_sys != kd->fail_call)
		return 0;
	kd->injected = kd->fail_errno ? kd->fail_errno : kd_default_errno(kind, req);
	return -kd->injected;
}

/*
 * A new object at the lowest free id (the kernel allocates ids from an xarray the same way);
 * the table doubles when full. 0: out of memory. Moves kd->objs: pointers into it are stale.
 */
static uint32_t new_obj(struct kdouble *kd, enum kd_obj_type t)
{
	uint32_t i = 1;

	while (i < kd->nr_objs && kd->objs[i].type != KD_NONE)
		i++;
	if (i >= kd->nr_objs) {
		uint32_t n = kd->nr_objs ? 2 * kd->nr_objs : 64;
		struct kd_obj *o = realloc(kd->objs, n * sizeof(*o));

		if (!o)
			return 0;
		memset(o + kd->nr_objs, 0, (n - kd->nr_objs) * sizeof(*o));
		kd->objs = o;
		kd->nr_objs = n;
	}
	kd->objs[i] = (struct kd_obj){ .type = t };
	return i;
}

static struct kd_obj *get(struct kdouble *kd, uint32_t id)
{
	return id && id < kd->nr_objs && kd->objs[id].type != KD_NONE ? &kd->objs[id] : NULL;
}

/* Index of pasid in dv->pasids, or where it would go (*found false): a binary search. */
static unsigned int pasid_pos(const struct kd_dev *dv, uint32_t pasid, bool *found)
{
	unsigned int lo = 0, hi = dv->nr_pasids;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (dv->pasids[mid].pasid < pasid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < dv->nr_pasids && dv->pasids[lo].pasid == pasid;
	return lo;
}

uint32_t kd_pasid_pt(const struct kdouble *kd, unsigned int dv, uint32_t pasid)
{
	bool found;
	unsigned int i;

	if (dv >= KD_MAX_DEVS)
		return 0;
	i = pasid_pos(&kd->devs[dv], pasid, &found);
	return found ? kd->devs[dv].pasids[i].pt : 0;
}

/*
 * The PASIDs a device may attach (iommu_attach_device_pasid): not IOMMU_NO_PASID (0, the
 * RID's), below 2^max_pasid_log2, none without the capability.
 */
static bool pasid_in_range(const struct kdouble *kd, uint32_t pasid)
{
	return pasid && kd->max_pasid_log2 && kd->max_pasid_log2 < 32 &&
	       !(pasid >> kd->max_pasid_log2);
}

static void unuse(struct kdouble *kd, uint32_t id)
{
	struct kd_obj *o = get(kd, id);

	if (o && o->users)
		o->users--;
}

/*
 * The size rule of every iommufd command: at least min; bytes beyond what this kernel knows
 * must be zero (E2BIG otherwise). The double never reads past 64 bytes of an argument.
 */
static int check_size(const void *arg, uint32_t size, uint32_t min, uint32_t known)
{
	if (size < min)
		return -EINVAL;
	if (size > 64)
		return -E2BIG;
	for (uint32_t i = known; i < size; i++)
		if (((const uint8_t *)arg)[i])
			return -E2BIG;
	return 0;
}

static struct kd_dev *dev_by_fd(struct kdouble *kd, int fd)
{
	for (int i = 0; i < KD_MAX_DEVS; i++)
		if (kd->devs[i].open && kd->devs[i].fd == fd)
			return &kd->devs[i];
	return NULL;
}

static struct kd_dev *dev_by_id(struct kdouble *kd, uint32_t id)
{
	for (int i = 0; i < KD_MAX_DEVS; i++)
		if (kd->devs[i].open && kd->devs[i].bound && kd->devs[i].dev_id == id)
			return &kd->devs[i];
	return NULL;
}

static int hwpt_alloc(struct kdouble *kd, struct ifd_hwpt_alloc *a)
{
	uint32_t known = kd->kver >= 611 ? 48 : 40;
	uint32_t okflags = IFD_HWPT_NEST_PARENT | IFD_HWPT_DIRTY_TRACKING;
	struct kd_obj *pt, *o;
	uint32_t id;
	int r = check_size(a, a->size, 40, known);

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
	if (!dev_by_id(kd, a->dev_id))
		return -ENOENT;
	if ((a->flags & IFD_HWPT_FAULT_ID_VALID) &&
	    (!get(kd, a->fault_id) || get(kd, a->fault_id)->type != KD_FAULT))
		return -ENOENT;
	/* iommufd_hwpt_alloc: an unknown pt_id is EINVAL, not ENOENT. */
	pt = get(kd, a->pt_id);
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
		id = new_obj(kd, KD_HWPT_NESTED);
		if (!id)
			return -ENOMEM;
		o = &kd->objs[id];
		o->s1 = s1;
		goto done;
	} else {
		return -EINVAL;
	}
	id = new_obj(kd, KD_HWPT_PAGING);
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

static int hwpt_invalidate(struct kdouble *kd, struct ifd_hwpt_invalidate *c)
{
	const struct ifd_vtd_s1_inv *e = (const void *)(uintptr_t)c->data_uptr;
	struct kd_obj *o;
	uint32_t n = c->entry_num, i;
	int r = check_size(c, c->size, 32, 32);

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
	o = get(kd, c->hwpt_id);
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

/* The IOAS behind an IOAS, paging or nested HWPT (0: none). */
static uint32_t ioas_of(struct kdouble *kd, uint32_t id)
{
	for (unsigned int depth = 0; depth < 3; depth++) {
		struct kd_obj *o = get(kd, id);

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
static bool ioas_has_device(struct kdouble *kd, uint32_t ioas)
{
	for (int i = 0; i < KD_MAX_DEVS; i++) {
		struct kd_dev *dv = &kd->devs[i];

		if (!dv->open || !dv->bound)
			continue;
		if (dv->rid_pt && ioas_of(kd, dv->rid_pt) == ioas)
			return true;
		for (unsigned int p = 0; p < dv->nr_pasids; p++)
			if (ioas_of(kd, dv->pasids[p].pt) == ioas)
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

static bool hits_reserved(const struct kdouble *kd, uint64_t iova, uint64_t last)
{
	struct ifd_iova_range rv[34];
	unsigned int n = resv_list(kd, rv);

	for (unsigned int i = 0; i < n; i++)
		if (iova <= rv[i].last && rv[i].start <= last)
			return true;
	return false;
}

/* iommufd_ioas_iova_ranges: the holes between reserved ranges; EMSGSIZE with the count. */
static int ioas_iova_ranges(struct kdouble *kd, struct ifd_ioas_iova_ranges *c)
{
	struct ifd_iova_range rv[34], out[35];
	uint32_t max, n = 0;
	uint64_t at = 0;
	struct kd_obj *o;
	int r = check_size(c, c->size, 32, 32);

	if (r)
		return r;
	if (c->reserved)
		return -EOPNOTSUPP;
	o = get(kd, c->ioas_id);
	if (!o || o->type != KD_IOAS)
		return -ENOENT;
	if (!ioas_has_device(kd, c->ioas_id)) {
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

static int ioas_map(struct kdouble *kd, struct ifd_ioas_map *m)
{
	struct kd_obj *o;
	int r = check_size(m, m->size, 40, 40), slot = -1;

	if (r)
		return r;
	/* iommufd_ioas_map */
	if ((m->flags & ~(IFD_MAP_FIXED_IOVA | IFD_MAP_WRITEABLE | IFD_MAP_READABLE)) || m->reserved)
		return -EOPNOTSUPP;
	if (m->iova >= UINT64_MAX || m->length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(m->flags & (IFD_MAP_WRITEABLE | IFD_MAP_READABLE)))
		return -EINVAL;
	o = get(kd, m->ioas_id);
	if (!o || o->type != KD_IOAS)
		return -ENOENT;
	/* iopt_alloc_area_pages / iopt_check_iova: alignment, wrap, reserved IOVA, overlap. */
	if (!m->length || ((m->iova | m->length | m->user_va) & 4095))
		return -EINVAL;
	if (m->iova + m->length - 1 < m->iova)
		return -EOVERFLOW;
	if (ioas_has_device(kd, m->ioas_id) && hits_reserved(kd, m->iova, m->iova + m->length - 1))
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

		if (x->len && x->ioas == m->ioas_id && m->iova < x->iova + x->len && x->iova < m->iova + m->length)
			return -EEXIST;
		if (!x->len && slot < 0)
			slot = i;
	}
	if (slot < 0)
		return -ENOMEM;
	kd->maps[slot] = (struct kd_map){ m->iova, m->length, m->ioas_id, !!(m->flags & IFD_MAP_WRITEABLE) };
	return 0;
}

static int ioas_unmap(struct kdouble *kd, struct ifd_ioas_unmap *u)
{
	struct kd_obj *o;
	uint64_t done = 0;
	int r = check_size(u, u->size, 24, 24);

	if (r)
		return r;
	o = get(kd, u->ioas_id);
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

static int hw_info(struct kdouble *kd, struct ifd_hw_info *h)
{
	struct ifd_hw_info_vtd v = { .flags = kd->errata ? IFD_VTD_ERRATA_772415 : 0,
				     .cap_reg = (2ULL << 8) | (47ULL << 16) | (1ULL << 56),
				     .ecap_reg = (1ULL << 1) | (1ULL << 29) | (1ULL << 31) | (1ULL << 40) |
						 (1ULL << 43) | (kd->nest ? 1ULL << 26 : 0) };
	int r = check_size(h, h->size, 32, kd->kver >= 607 ? 40 : 32);

	if (r)
		return r;
	if (h->flags || h->reserved[0] || h->reserved[1] || h->reserved[2])
		return -EOPNOTSUPP;
	if (!dev_by_id(kd, h->dev_id))
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

static int destroy(struct kdouble *kd, struct ifd_destroy *d)
{
	struct kd_obj *o;
	int r = check_size(d, d->size, 8, 8);

	if (r)
		return r;
	o = get(kd, d->id);
	if (!o)
		return -ENOENT;
	if (o->type == KD_DEVICE)
		return -EINVAL;
	if (o->users)
		return -EBUSY;
	if (o->type == KD_HWPT_PAGING || o->type == KD_HWPT_NESTED)
		unuse(kd, o->parent);
	if ((o->type == KD_HWPT_NESTED) && (o->flags & IFD_HWPT_FAULT_ID_VALID)) {
		for (uint32_t i = 1; i < kd->nr_objs; i++)
			if (kd->objs[i].type == KD_FAULT)
				unuse(kd, i);
	}
	if (o->type == KD_IOAS)
		for (int i = 0; i < KD_MAX_MAPS; i++)
			if (kd->maps[i].ioas == d->id)
				kd->maps[i].len = 0;
	o->type = KD_NONE;
	return 0;
}

/*
 * The attachment slot of a PASID, inserted empty if missing (the kernel stores one per PASID
 * in the device's xarray; it fails only without memory). NULL: out of memory.
 */
static uint32_t *pasid_slot(struct kd_dev *dv, uint32_t pasid)
{
	bool found;
	unsigned int i = pasid_pos(dv, pasid, &found);

	if (found)
		return &dv->pasids[i].pt;
	if (dv->nr_pasids == dv->cap_pasids) {
		unsigned int n = dv->cap_pasids ? 2 * dv->cap_pasids : 16;
		struct kd_pasid *np = realloc(dv->pasids, n * sizeof(*np));

		if (!np)
			return NULL;
		dv->pasids = np;
		dv->cap_pasids = n;
	}
	memmove(dv->pasids + i + 1, dv->pasids + i, (dv->nr_pasids - i) * sizeof(*dv->pasids));
	dv->pasids[i] = (struct kd_pasid){ .pasid = pasid, .pt = 0 };
	dv->nr_pasids++;
	return &dv->pasids[i].pt;
}

static void pasid_remove(struct kd_dev *dv, uint32_t pasid)
{
	bool found;
	unsigned int i = pasid_pos(dv, pasid, &found);

	if (!found)
		return;
	memmove(dv->pasids + i, dv->pasids + i + 1, (dv->nr_pasids - i - 1) * sizeof(*dv->pasids));
	dv->nr_pasids--;
}

static int vfio_attach(struct kdouble *kd, struct kd_dev *dv, struct ifd_vfio_attach *a)
{
	struct kd_obj *o;
	bool pasid = a->flags & IFD_ATTACH_PASID;
	uint32_t *slot;

	if (!dv->bound)
		return -EINVAL;
	if (a->argsz < 12 || (a->flags & ~IFD_ATTACH_PASID) || (pasid && (kd->kver < 615 || a->argsz < 16)))
		return -EINVAL;
	o = get(kd, a->pt_id);
	if (!o)
		return -ENOENT;
	if (o->type != KD_IOAS && o->type != KD_HWPT_PAGING && o->type != KD_HWPT_NESTED)
		return -EINVAL;
	/*
	 * A HWPT with a fault queue turns IOPF on for the device at attach: VT-d refuses a device
	 * without ATS + PRI (iommufd_fault_iopf_enable -> intel_iommu_enable_iopf, 6.11-6.14;
	 * iopf_for_domain_set -> intel_iommu_enable_iopf at domain attach, 6.15+).
	 */
	if ((o->flags & IFD_HWPT_FAULT_ID_VALID) && !kd->dev_pri[dv - kd->devs])
		return -ENODEV;
	/* iopt_reserve_iova: a mapping over the device's reserved regions blocks the attach. */
	if (!ioas_has_device(kd, ioas_of(kd, a->pt_id))) {
		for (int i = 0; i < KD_MAX_MAPS; i++)
			if (kd->maps[i].len && kd->maps[i].ioas == ioas_of(kd, a->pt_id) &&
			    hits_reserved(kd, kd->maps[i].iova, kd->maps[i].iova + kd->maps[i].len - 1))
				return -EADDRINUSE;
	}
	/*
	 * intel_pasid_setup_nested (Linux 7.3): a 4- or 5-level (with CAP.FS5LP) first stage, SRE
	 * only with ECAP.SRS, EAFE only with ECAP.EAFS; -EINVAL otherwise. The allocation took it.
	 * The unit here (hw_info) has SRS, no EAFS and no FS5LP.
	 */
	if (o->type == KD_HWPT_NESTED &&
	    (o->s1.addr_width != 48 || (o->s1.flags & IFD_VTD_S1_EAFE)))
		return -EINVAL;
	if (pasid) {
		/* iommu_attach_device_pasid: a PASID past the device's width is EINVAL. */
		if (!pasid_in_range(kd, a->pasid))
			return -EINVAL;
		/* PASID attach needs a PASID-capable HWPT, and the RID's HWPT must be one too. */
		if (o->type == KD_IOAS || !(o->flags & IFD_HWPT_PASID))
			return -EINVAL;
		slot = pasid_slot(dv, a->pasid);
		if (!slot)
			return -ENOMEM;
	} else {
		slot = &dv->rid_pt;
	}
	if (*slot)
		unuse(kd, *slot);
	*slot = a->pt_id;
	o->users++;
	return 0;
}

static int vfio_detach(struct kdouble *kd, struct kd_dev *dv, struct ifd_vfio_detach *d)
{
	bool pasid = d->flags & IFD_DETACH_PASID;
	uint32_t *slot;

	if (!dv->bound || d->argsz < 8 || (d->flags & ~IFD_DETACH_PASID) ||
	    (pasid && (kd->kver < 615 || d->argsz < 12)))
		return -EINVAL;
	/* vfio_df_ioctl_detach_pt: a PASID detach returns 0 whatever was attached (or not). */
	if (pasid) {
		unuse(kd, kd_pasid_pt(kd, (unsigned int)(dv - kd->devs), d->pasid));
		pasid_remove(dv, d->pasid);
		return 0;
	}
	slot = &dv->rid_pt;
	unuse(kd, *slot);
	*slot = 0;
	return 0;
}

static int kd_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct kdouble *kd = ctx;
	struct kd_dev *dv = dev_by_fd(kd, fd);

	int ir = inject(kd, 'i', req);

	if ((req >> 8) != IFD_TYPE || (req >> 16))
		return -ENOTTY;
	kd->calls[req & 0xff]++;
	if (ir) {
		if (req == IFD_HWPT_INVALIDATE)
			((struct ifd_hwpt_invalidate *)arg)->entry_num = 0;
		return ir;
	}
	if (dv) {
		struct ifd_vfio_bind *b = arg;

		switch (req) {
		case IFD_VFIO_BIND:
			if (b->argsz < 16 || b->flags)
				return -EINVAL;
			if (b->iommufd != kd->iommufd)
				return -EBADF;
			if (dv->bound)
				return -EINVAL;
			dv->dev_id = new_obj(kd, KD_DEVICE);
			if (!dv->dev_id)
				return -ENOMEM;
			dv->bound = true;
			b->out_devid = dv->dev_id;
			return 0;
		case IFD_VFIO_ATTACH:
			return vfio_attach(kd, dv, arg);
		case IFD_VFIO_DETACH:
			return vfio_detach(kd, dv, arg);
		}
		return -ENOTTY;
	}
	if (fd != kd->iommufd)
		return -ENOTTY;
	switch (req) {
	case IFD_DESTROY:
		return destroy(kd, arg);
	case IFD_IOAS_ALLOC: {
		struct ifd_ioas_alloc *a = arg;
		int r = check_size(a, a->size, 12, 12);

		if (r)
			return r;
		if (a->flags)
			return -EOPNOTSUPP;
		a->out_ioas_id = new_obj(kd, KD_IOAS);
		return a->out_ioas_id ? 0 : -ENOMEM;
	}
	case IFD_IOAS_IOVA_RANGES:
		return ioas_iova_ranges(kd, arg);
	case IFD_IOAS_MAP:
		return ioas_map(kd, arg);
	case IFD_IOAS_UNMAP:
		return ioas_unmap(kd, arg);
	case IFD_HWPT_ALLOC:
		return kd->kver >= 606 ? hwpt_alloc(kd, arg) : -ENOTTY;
	case IFD_GET_HW_INFO:
		return kd->kver >= 606 ? hw_info(kd, arg) : -ENOTTY;
	case IFD_HWPT_INVALIDATE:
		return hwpt_invalidate(kd, arg);
	case IFD_FAULT_QUEUE_ALLOC: {
		struct ifd_fault_alloc *a = arg;
		int r = check_size(a, a->size, 16, 16);

		if (kd->kver < 611)
			return -ENOTTY;
		if (r)
			return r;
		if (a->flags)
			return -EOPNOTSUPP;
		if (kd->fault_fd >= 0)
			return -EBUSY; /* the double supports one fault queue */
		a->out_fault_id = new_obj(kd, KD_FAULT);
		if (!a->out_fault_id)
			return -ENOMEM;
		kd->fault_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (kd->fault_fd < 0)
			kd->fault_fd = KD_FAULT_FD; /* still a usable double, just not pollable */
		kd->open_fds++;
		a->out_fault_fd = (uint32_t)kd->fault_fd;
		return 0;
	}
	}
	return -ENOTTY;
}

static int kd_open(void *ctx, const char *path, int flags)
{
	struct kdouble *kd = ctx;
	int n, r = inject(kd, 'o', 0);

	if (r)
		return r;
	if (!strcmp(path, "/dev/iommu")) {
		if (kd->iommufd >= 0)
			return -EBUSY;
		kd->iommufd = KD_IOMMUFD_FD;
		kd->open_fds++;
		return kd->iommufd;
	}
	if (sscanf(path, "/dev/vfio/devices/vfio%d", &n) == 1 && n >= 0 && n < KD_MAX_DEVS) {
		if (kd->devs[n].open)
			return -EBUSY;
		kd->devs[n] = (struct kd_dev){ .open = true, .fd = KD_DEV_FD + n };
		kd->open_fds++;
		return kd->devs[n].fd;
	}
	return -ENOENT;
}

static int kd_close(void *ctx, int fd)
{
	struct kdouble *kd = ctx;
	struct kd_dev *dv = dev_by_fd(kd, fd);
	int r = inject(kd, 'c', 0);

	if (dv) {
		/* Closing the cdev unbinds: its attachments go away with it. */
		unuse(kd, dv->rid_pt);
		for (unsigned int i = 0; i < dv->nr_pasids; i++)
			unuse(kd, dv->pasids[i].pt);
		free(dv->pasids);
		dv->pasids = NULL;
		dv->nr_pasids = dv->cap_pasids = 0;
		if (dv->bound)
			kd->objs[dv->dev_id].type = KD_NONE;
		dv->open = false;
	} else if (fd == kd->iommufd) {
		kd->iommufd = -1;
	} else if (fd == kd->fault_fd) {
		if (fd != KD_FAULT_FD)
			close(fd);
		kd->fault_fd = -1;
	} else {
		return -EBADF;
	}
	kd->open_fds--;
	return r; /* an injected failure: the fd is gone all the same */
}

/*
 * iommufd_fault_fops_read: only whole records (else ESPIPE), only whole groups (a group that
 * does not fit stays queued; nothing read is 0), one cookie per group on all its records.
 */
static ssize_t kd_read(void *ctx, int fd, void *buf, size_t len)
{
	struct kdouble *kd = ctx;
	size_t n = 0, rec = sizeof(struct ifd_pgfault);
	unsigned int g;
	int r = inject(kd, 'r', 0);

	if (r)
		return r;
	if (fd != kd->fault_fd || fd < 0)
		return -EBADF;
	if (len % rec)
		return -ESPIPE;
	while ((g = head_group(kd)) && g * rec <= len - n && kd->nr_pending < KD_MAX_FAULTS) {
		uint32_t cookie = ++kd->next_cookie;

		kd->pending[kd->nr_pending++] = cookie;
		for (unsigned int i = 0; i < g; i++) {
			struct ifd_pgfault f = kd->faults[i];

			f.cookie = cookie;
			f.length = 0;
			memcpy((char *)buf + n, &f, rec);
			n += rec;
		}
		kd->nr_faults -= g;
		memmove(kd->faults, kd->faults + g, kd->nr_faults * sizeof(kd->faults[0]));
	}
	if (n && !head_group(kd))
		sync_fault_fd(kd);
	return (ssize_t)n;
}

/*
 * iommufd_fault_fops_write: whole responses only (else ESPIPE); a bad code or a cookie that
 * names no group awaiting its answer is EINVAL; returns the bytes handled before an error.
 */
static ssize_t kd_write(void *ctx, int fd, const void *buf, size_t len)
{
	struct kdouble *kd = ctx;
	size_t done = 0;
	int r = inject(kd, 'w', 0);

	if (r)
		return r;
	if (fd != kd->fault_fd || fd < 0)
		return -EBADF;
	if (len % sizeof(struct ifd_page_response))
		return -ESPIPE;
	while (done < len) {
		struct ifd_page_response pr;
		unsigned int i = 0;

		memcpy(&pr, (const char *)buf + done, sizeof(pr));
		if (pr.code > IFD_RESP_INVALID) {
			r = -EINVAL;
			break;
		}
		while (i < kd->nr_pending && kd->pending[i] != pr.cookie)
			i++;
		if (i == kd->nr_pending) {
			r = -EINVAL;
			break;
		}
		kd->pending[i] = kd->pending[--kd->nr_pending];
		if (kd->nr_responded < KD_MAX_FAULTS) {
			kd->resp_code[kd->nr_responded] = pr.code;
			kd->responded[kd->nr_responded++] = pr.cookie;
		}
		done += sizeof(pr);
	}
	return done ? (ssize_t)done : r;
}

void kd_sys(struct kdouble *kd, struct iommufd_sys *ret)
{
	*ret = (struct iommufd_sys){ .ctx = kd, .open = kd_open, .close = kd_close, .ioctl = kd_ioctl,
				     .read = kd_read, .write = kd_write };
}

static pthread_mutex_t kd_lock = PTHREAD_MUTEX_INITIALIZER;

static int kdl_open(void *ctx, const char *path, int flags)
{
	int r;

	pthread_mutex_lock(&kd_lock);
	r = kd_open(ctx, path, flags);
	pthread_mutex_unlock(&kd_lock);
	return r;
}

static int kdl_close(void *ctx, int fd)
{
	int r;

	pthread_mutex_lock(&kd_lock);
	r = kd_close(ctx, fd);
	pthread_mutex_unlock(&kd_lock);
	return r;
}

static int kdl_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	int r;

	pthread_mutex_lock(&kd_lock);
	r = kd_ioctl(ctx, fd, req, arg);
	pthread_mutex_unlock(&kd_lock);
	return r;
}

static ssize_t kdl_read(void *ctx, int fd, void *buf, size_t len)
{
	ssize_t r;

	pthread_mutex_lock(&kd_lock);
	r = kd_read(ctx, fd, buf, len);
	pthread_mutex_unlock(&kd_lock);
	return r;
}

static ssize_t kdl_write(void *ctx, int fd, const void *buf, size_t len)
{
	ssize_t r;

	pthread_mutex_lock(&kd_lock);
	r = kd_write(ctx, fd, buf, len);
	pthread_mutex_unlock(&kd_lock);
	return r;
}

void kd_sys_locked(struct kdouble *kd, struct iommufd_sys *ret)
{
	*ret = (struct iommufd_sys){ .ctx = kd, .open = kdl_open, .close = kdl_close,
				     .ioctl = kdl_ioctl, .read = kdl_read, .write = kdl_write };
}
