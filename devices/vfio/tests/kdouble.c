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

#include "devices/vfio/tests/kdouble-internal.h"
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
uint32_t kd_new_obj(struct kdouble *kd, enum kd_obj_type t)
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

struct kd_obj *kd_get(struct kdouble *kd, uint32_t id)
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
	struct kd_obj *o = kd_get(kd, id);

	if (o && o->users)
		o->users--;
}

/*
 * The size rule of every iommufd command: at least min; bytes beyond what this kernel knows
 * must be zero (E2BIG otherwise). The double never reads past 64 bytes of an argument.
 */
int kd_check_size(const void *arg, uint32_t size, uint32_t min, uint32_t known)
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

struct kd_dev *kd_dev_by_id(struct kdouble *kd, uint32_t id)
{
	for (int i = 0; i < KD_MAX_DEVS; i++)
		if (kd->devs[i].open && kd->devs[i].bound && kd->devs[i].dev_id == id)
			return &kd->devs[i];
	return NULL;
}

static int destroy(struct kdouble *kd, struct ifd_destroy *d)
{
	struct kd_obj *o;
	int r = kd_check_size(d, d->size, 8, 8);

	if (r)
		return r;
	o = kd_get(kd, d->id);
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
	if (a->argsz < 12 || (a->flags & ~IFD_ATTACH_PASID) ||
	    (pasid && (kd->kver < 615 || a->argsz < 16)))
		return -EINVAL;
	o = kd_get(kd, a->pt_id);
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
	if (!kd_ioas_has_device(kd, kd_ioas_of(kd, a->pt_id))) {
		for (int i = 0; i < KD_MAX_MAPS; i++)
			if (kd->maps[i].len && kd->maps[i].ioas == kd_ioas_of(kd, a->pt_id) &&
			    kd_hits_reserved(kd, kd->maps[i].iova, kd->maps[i].iova + kd->maps[i].len - 1))
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
			dv->dev_id = kd_new_obj(kd, KD_DEVICE);
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
		int r = kd_check_size(a, a->size, 12, 12);

		if (r)
			return r;
		if (a->flags)
			return -EOPNOTSUPP;
		a->out_ioas_id = kd_new_obj(kd, KD_IOAS);
		return a->out_ioas_id ? 0 : -ENOMEM;
	}
	case IFD_IOAS_IOVA_RANGES:
		return kd_ioas_iova_ranges(kd, arg);
	case IFD_IOAS_MAP:
		return kd_ioas_map(kd, arg);
	case IFD_IOAS_UNMAP:
		return kd_ioas_unmap(kd, arg);
	case IFD_HWPT_ALLOC:
		return kd->kver >= 606 ? kd_hwpt_alloc(kd, arg) : -ENOTTY;
	case IFD_GET_HW_INFO:
		return kd->kver >= 606 ? kd_hw_info(kd, arg) : -ENOTTY;
	case IFD_HWPT_INVALIDATE:
		return kd_hwpt_invalidate(kd, arg);
	case IFD_FAULT_QUEUE_ALLOC: {
		struct ifd_fault_alloc *a = arg;
		int r = kd_check_size(a, a->size, 16, 16);

		if (kd->kver < 611)
			return -ENOTTY;
		if (r)
			return r;
		if (a->flags)
			return -EOPNOTSUPP;
		if (kd->fault_fd >= 0)
			return -EBUSY; /* the double supports one fault queue */
		a->out_fault_id = kd_new_obj(kd, KD_FAULT);
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
