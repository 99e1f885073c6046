/* SPDX-License-Identifier: MIT */
/*
 * The iommufd backend of host_iommu: VFIO cdev bind, IOAS with guest RAM, a nest-parent HWPT,
 * one nested VTD_S1 HWPT per bound (device, PASID), batched HWPT invalidations and the fault
 * queue (facts §12.4). It detects at run time what the host kernel supports and says what is
 * missing. Every system call goes through the iommufd_sys seam so a kernel double can check it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/bits.h"
#include "common/log.h"
#include "devices/vfio/iommufd-abi.h"
#include "devices/vfio/vfio.h"

#define IFD_MAX_DEVS 8
/* Smallest bind index (slots); it doubles and halves with the live binds of the device. */
#define IFD_MIN_INDEX 16
/*
 * Fault records read at once. The kernel hands out only whole page request groups and keeps a
 * group that does not fit (iommufd_fault_fops_read), so the buffer must hold the largest group
 * a device can send: its outstanding page request allocation, which VT-d sets to PRQ_DEPTH.
 */
#define IFD_FAULT_BATCH 2048
/* Allowed IOVA ranges read from IOMMU_IOAS_IOVA_RANGES at once (more: asked again). */
#define IFD_MAX_IOVA_RANGES 16
/* Bound on that list (reserved regions of the attached devices: MSI window, RMRRs). */
#define IFD_MAX_IOVA_LIST 4096
/* Objects whose IOMMU_DESTROY failed, destroyed again at close. */
#define IFD_MAX_ORPHANS 16

#define ECAP_NEST BIT_ULL(26)

/* One bound (device, PASID): attached to a stage-1 HWPT of ours, or to the nest parent. */
struct ifd_bind {
	bool on_parent; /* a PASID attached to the nest parent itself (hwpt is the parent) */
	uint32_t pasid; /* HOST_PASID_NONE: the RID */
	uint32_t hwpt;
};

struct ifd_dev {
	bool used;
	int fd;
	uint32_t dev_id;
	bool rid_on_default; /* RID attached to the parent (or the IOAS in shadow mode) */
	bool host_pri;       /* the host function has ATS + PRI: IOPF can be enabled for it */
	bool guest_pri;      /* the guest enabled PRI in the device's (virtual) PRI capability */
	struct host_iommu_caps caps;
	/*
	 * The binds: a dense array (teardown walks only these) and an open-addressed index,
	 * keyed by PASID, of slot + 1 (0: empty; linear probing, at most half full). Both grow
	 * on demand up to the device's PASID width plus the RID and shrink as binds go.
	 */
	struct ifd_bind *binds;
	uint32_t nr_binds, cap_binds;
	uint32_t *index;
	uint32_t index_mask; /* index size - 1 (a power of two); 0 before the first bind */
};

struct iommufd_backend {
	struct iommufd_sys sys;
	pthread_mutex_t lock;
	pthread_mutex_t fault_lock; /* one process_faults at a time (frec, fconv) */
	int fd;
	uint32_t ioas, parent, fault_id;
	int fault_fd;
	bool have_parent, parent_pasid, have_fault, have_invalidate;
	char missing[256];
	struct ifd_dev devs[IFD_MAX_DEVS];
	host_fault_fn fault_fn;
	void *fault_opaque;
	struct iommufd_stats st;
	struct ifd_pgfault *frec;   /* IFD_FAULT_BATCH records (with the fault queue) */
	struct host_fault *fconv;
	uint32_t orphans[IFD_MAX_ORPHANS];
	unsigned int nr_orphans;
};

/* ---- the real system calls ---- */

static int real_open(void *ctx, const char *path, int flags)
{
	int fd = open(path, flags);

	return fd < 0 ? -errno : fd;
}

static int real_close(void *ctx, int fd)
{
	return close(fd) ? -errno : 0;
}

static int real_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static ssize_t real_read(void *ctx, int fd, void *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	return n < 0 ? -errno : n;
}

static ssize_t real_write(void *ctx, int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	return n < 0 ? -errno : n;
}

static const struct iommufd_sys real_sys = {
	.open = real_open, .close = real_close, .ioctl = real_ioctl,
	.read = real_read, .write = real_write,
};

static int xioctl(struct iommufd_backend *b, int fd, unsigned long req, void *arg)
{
	return b->sys.ioctl(b->sys.ctx, fd, req, arg);
}

static void note_missing(struct iommufd_backend *b, const char *what)
{
	size_t l = strlen(b->missing);

	if (strstr(b->missing, what))
		return;
	snprintf(b->missing + l, sizeof(b->missing) - l, "%s%s", l ? "; " : "", what);
}

static int destroy_obj(struct iommufd_backend *b, uint32_t id)
{
	struct ifd_destroy d = { .size = sizeof(d), .id = id };

	b->st.destroy++;
	return xioctl(b, b->fd, IFD_DESTROY, &d);
}

/* Destroys id; if the kernel refuses (busy, transient), remembers it for close to retry. */
static void destroy_or_keep(struct iommufd_backend *b, uint32_t id)
{
	int r = destroy_obj(b, id);

	if (!r || r == -ENOENT)
		return;
	if (b->nr_orphans < IFD_MAX_ORPHANS)
		b->orphans[b->nr_orphans++] = id;
	else
		log_warn("iommufd", "object %u not destroyed: %s", id, strerror(-r));
}

/* Destroys the remembered objects once more; keeps the ones that still fail. */
static void destroy_orphans(struct iommufd_backend *b)
{
	unsigned int n = b->nr_orphans, k = 0;

	for (unsigned int i = 0; i < n; i++) {
		int r = destroy_obj(b, b->orphans[i]);

		if (r && r != -ENOENT)
			b->orphans[k++] = b->orphans[i];
	}
	b->nr_orphans = k;
}

/* ---- life cycle ---- */

int iommufd_backend_open(const struct iommufd_sys *sys, const char *path,
			 struct iommufd_backend **ret, char *errbuf, size_t errlen)
{
	struct iommufd_backend *b = calloc(1, sizeof(*b));
	struct ifd_ioas_alloc ia = { .size = sizeof(ia) };
	int r;

	if (!b)
		return -ENOMEM;
	b->sys = sys ? *sys : real_sys;
	b->fault_fd = -1;
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->fault_lock, NULL);
	b->fd = b->sys.open(b->sys.ctx, path ? path : "/dev/iommu", O_RDWR | O_CLOEXEC);
	if (b->fd < 0) {
		r = b->fd;
		snprintf(errbuf, errlen, "cannot open %s: %s%s", path ? path : "/dev/iommu",
			 strerror(-r), r == -ENOENT ? " (needs CONFIG_IOMMUFD)" : "");
		goto err_free;
	}
	r = xioctl(b, b->fd, IFD_IOAS_ALLOC, &ia);
	if (r) {
		snprintf(errbuf, errlen, "IOMMU_IOAS_ALLOC failed: %s", strerror(-r));
		goto err_close;
	}
	b->ioas = ia.out_ioas_id;
	*ret = b;
	return 0;
err_close:
	b->sys.close(b->sys.ctx, b->fd);
err_free:
	pthread_mutex_destroy(&b->fault_lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
	return r;
}

static int read_hw_info(struct iommufd_backend *b, struct ifd_dev *d, char *errbuf, size_t errlen)
{
	struct ifd_hw_info_vtd vtd = { 0 };
	struct ifd_hw_info hi = { .size = sizeof(hi), .dev_id = d->dev_id,
				  .data_len = sizeof(vtd), .data_uptr = (uintptr_t)&vtd };
	int r = xioctl(b, b->fd, IFD_GET_HW_INFO, &hi);

	if (r) {
		snprintf(errbuf, errlen, "IOMMU_GET_HW_INFO failed: %s%s", strerror(-r),
			 r == -ENOTTY ? " (needs Linux 6.6+)" : "");
		return r;
	}
	d->caps.max_pasid_log2 = hi.out_max_pasid_log2;
	if (hi.out_data_type == IFD_HW_INFO_INTEL_VTD) {
		d->caps.vtd = true;
		d->caps.vtd_cap = vtd.cap_reg;
		d->caps.vtd_ecap = vtd.ecap_reg;
		d->caps.ro_parent_refused = vtd.flags & IFD_VTD_ERRATA_772415;
	} else {
		note_missing(b, "host IOMMU is not VT-d: no VTD_S1 nesting");
	}
	return 0;
}

/* What an older kernel or IOMMU answers for a feature it lacks (anything else is a failure). */
static bool unsupported(int r)
{
	return r == -EOPNOTSUPP || r == -EINVAL || r == -ENOTTY;
}

/*
 * Allocates the nest parent and probes the nesting, invalidation and fault-queue ioctls. A
 * missing feature is noted and left out; any other error undoes the parent and is returned.
 */
static int setup_parent(struct iommufd_backend *b, struct ifd_dev *d, char *errbuf, size_t errlen)
{
	struct ifd_hwpt_alloc ha = { .size = sizeof(ha), .flags = IFD_HWPT_NEST_PARENT | IFD_HWPT_PASID,
				     .dev_id = d->dev_id, .pt_id = b->ioas };
	struct ifd_hwpt_invalidate inv = { .size = sizeof(inv), .entry_len = sizeof(struct ifd_vtd_s1_inv) };
	struct ifd_fault_alloc fa = { .size = sizeof(fa) };
	int r;

	if (!d->caps.vtd || !(d->caps.vtd_ecap & ECAP_NEST)) {
		note_missing(b, "host VT-d has no ECAP.NEST: nesting unavailable");
		return 0;
	}
	b->st.hwpt_alloc++;
	r = xioctl(b, b->fd, IFD_HWPT_ALLOC, &ha);
	if (r == -EOPNOTSUPP || r == -EINVAL) {
		note_missing(b, "no PASID-capable HWPTs (IOMMU_HWPT_ALLOC_PASID, Linux 6.15+)");
		ha.flags = IFD_HWPT_NEST_PARENT;
		b->st.hwpt_alloc++;
		r = xioctl(b, b->fd, IFD_HWPT_ALLOC, &ha);
	} else if (!r) {
		b->parent_pasid = true;
	}
	if (r && !unsupported(r)) {
		snprintf(errbuf, errlen, "IOMMU_HWPT_ALLOC (nest parent) failed: %s", strerror(-r));
		return r;
	}
	if (r) {
		note_missing(b, "no nest-parent HWPT (IOMMU_HWPT_ALLOC_NEST_PARENT, Linux 6.7+)");
		return 0;
	}
	b->parent = ha.out_hwpt_id;
	b->have_parent = true;
	/* An empty invalidation on the parent: ENOTTY only when the ioctl does not exist. */
	inv.hwpt_id = b->parent;
	r = xioctl(b, b->fd, IFD_HWPT_INVALIDATE, &inv);
	b->have_invalidate = r != -ENOTTY;
	if (!b->have_invalidate)
		note_missing(b, "no IOMMU_HWPT_INVALIDATE (Linux 6.8+): nesting unavailable");
	r = xioctl(b, b->fd, IFD_FAULT_QUEUE_ALLOC, &fa);
	if (r && r != -ENOTTY && r != -EOPNOTSUPP) {
		snprintf(errbuf, errlen, "IOMMU_FAULT_QUEUE_ALLOC failed: %s", strerror(-r));
		destroy_or_keep(b, b->parent);
		b->have_parent = b->parent_pasid = b->have_invalidate = false;
		return r;
	}
	if (r) {
		note_missing(b, "no IOMMU_FAULT_QUEUE_ALLOC (Linux 6.11+): no page requests");
		return 0;
	}
	b->have_fault = true;
	b->fault_id = fa.out_fault_id;
	b->fault_fd = (int)fa.out_fault_fd;
	b->frec = calloc(IFD_FAULT_BATCH, sizeof(*b->frec));
	b->fconv = calloc(IFD_FAULT_BATCH, sizeof(*b->fconv));
	if (!b->frec || !b->fconv) {
		snprintf(errbuf, errlen, "out of memory for the fault queue");
		return -ENOMEM; /* the queue is destroyed with the backend */
	}
	return 0;
}

int iommufd_backend_add_device(struct iommufd_backend *b, const char *cdev, uint32_t *ret_dev,
			       char *errbuf, size_t errlen)
{
	struct ifd_vfio_bind bind = { .argsz = sizeof(bind), .iommufd = b->fd };
	struct ifd_vfio_attach at = { .argsz = 12 };
	struct ifd_dev *d = NULL;
	uint32_t idx = 0;
	int r;

	for (; idx < IFD_MAX_DEVS && !d; idx++)
		if (!b->devs[idx].used)
			d = &b->devs[idx];
	if (!d) {
		snprintf(errbuf, errlen, "too many passthrough devices");
		return -ENOSPC;
	}
	idx--;
	*d = (struct ifd_dev){ .fd = -1 };
	d->fd = b->sys.open(b->sys.ctx, cdev, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(errbuf, errlen, "cannot open %s: %s", cdev, strerror(-d->fd));
		return d->fd;
	}
	r = xioctl(b, d->fd, IFD_VFIO_BIND, &bind);
	if (r) {
		snprintf(errbuf, errlen, "VFIO_DEVICE_BIND_IOMMUFD on %s failed: %s%s", cdev,
			 strerror(-r), r == -ENOTTY ? " (needs Linux 6.6+ with CONFIG_VFIO_DEVICE_CDEV)" : "");
		goto err_close;
	}
	d->dev_id = bind.out_devid;
	r = read_hw_info(b, d, errbuf, errlen);
	if (r)
		goto err_close;
	if (!b->have_parent) {
		r = setup_parent(b, d, errbuf, errlen);
		if (r)
			goto err_close;
	}
	d->caps.nesting = b->have_parent && b->have_invalidate;
	/* Page requests need the queue and a function that can send them (iommufd_backend_set_host_pri). */
	d->caps.fault_queue = false;
	d->caps.pasid_attach = b->parent_pasid && d->caps.max_pasid_log2 > 0;
	/* The RID starts on the stage-2 parent (GPA DMA), or on the IOAS in shadow mode. */
	at.pt_id = b->have_parent ? b->parent : b->ioas;
	b->st.attach++;
	r = xioctl(b, d->fd, IFD_VFIO_ATTACH, &at);
	if (r) {
		snprintf(errbuf, errlen, "VFIO_DEVICE_ATTACH_IOMMUFD_PT failed: %s", strerror(-r));
		goto err_close;
	}
	d->rid_on_default = true;
	d->used = true;
	*ret_dev = idx;
	return 0;
err_close:
	b->sys.close(b->sys.ctx, d->fd);
	return r;
}

static int detach_one(struct iommufd_backend *b, struct ifd_dev *d, uint32_t pasid)
{
	struct ifd_vfio_detach dt = { .argsz = pasid == HOST_PASID_NONE ? 8 : 12,
				      .flags = pasid == HOST_PASID_NONE ? 0 : IFD_DETACH_PASID,
				      .pasid = pasid == HOST_PASID_NONE ? 0 : pasid };

	b->st.detach++;
	return xioctl(b, d->fd, IFD_VFIO_DETACH, &dt);
}

void iommufd_backend_close(struct iommufd_backend *b)
{
	if (!b)
		return;
	for (unsigned int i = 0; i < IFD_MAX_DEVS; i++) {
		struct ifd_dev *d = &b->devs[i];

		if (!d->used)
			continue;
		for (uint32_t j = 0; j < d->nr_binds; j++) {
			detach_one(b, d, d->binds[j].pasid);
			if (d->binds[j].pasid == HOST_PASID_NONE)
				d->rid_on_default = false;
			if (!d->binds[j].on_parent)
				destroy_or_keep(b, d->binds[j].hwpt);
		}
		if (d->rid_on_default)
			detach_one(b, d, HOST_PASID_NONE);
		/* Closing the cdev drops whatever a failed detach left attached. */
		b->sys.close(b->sys.ctx, d->fd);
		free(d->binds);
		free(d->index);
	}
	/* Children before parents: the orphans first, then fault queue, parent and IOAS. */
	destroy_orphans(b);
	if (b->have_fault) {
		destroy_or_keep(b, b->fault_id);
		b->sys.close(b->sys.ctx, b->fault_fd);
	}
	if (b->have_parent)
		destroy_or_keep(b, b->parent);
	destroy_or_keep(b, b->ioas);
	destroy_orphans(b);
	if (b->nr_orphans)
		log_warn("iommufd", "%u objects could not be destroyed", b->nr_orphans);
	b->sys.close(b->sys.ctx, b->fd);
	free(b->frec);
	free(b->fconv);
	pthread_mutex_destroy(&b->fault_lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* ---- host_iommu operations ---- */

static struct ifd_dev *get_dev(struct iommufd_backend *b, uint32_t dev)
{
	return dev < IFD_MAX_DEVS && b->devs[dev].used ? &b->devs[dev] : NULL;
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

static int ifd_get_caps(void *be, uint32_t dev, struct host_iommu_caps *ret)
{
	struct iommufd_backend *b = be;
	struct ifd_dev *d = get_dev(b, dev);

	if (!d)
		return -ENOENT;
	*ret = d->caps;
	return 0;
}

/* One IOMMU_IOAS_MAP at a fixed IOVA. Lock held. */
static int map_one(struct iommufd_backend *b, uint64_t iova, uint64_t len, void *hva, bool writable)
{
	struct ifd_ioas_map m = { .size = sizeof(m), .ioas_id = b->ioas, .user_va = (uintptr_t)hva,
				  .length = len, .iova = iova,
				  .flags = IFD_MAP_FIXED_IOVA | IFD_MAP_READABLE |
					   (writable ? IFD_MAP_WRITEABLE : 0) };

	b->st.ioas_map++;
	return xioctl(b, b->fd, IFD_IOAS_MAP, &m);
}

static int unmap_one(struct iommufd_backend *b, uint64_t iova, uint64_t len)
{
	struct ifd_ioas_unmap u = { .size = sizeof(u), .ioas_id = b->ioas, .iova = iova, .length = len };

	b->st.ioas_unmap++;
	return xioctl(b, b->fd, IFD_IOAS_UNMAP, &u);
}

/*
 * The IOVA ranges the IOAS accepts (IOMMU_IOAS_IOVA_RANGES): everything but the reserved
 * regions of the attached devices (on VT-d the MSI window 0xfee00000-0xfeefffff, RMRRs) and
 * what lies outside the host domain's aperture. Returns how many, with *ret pointing at them
 * (buf, or a heap array the caller frees when it is not buf), or -errno.
 */
static int iova_ranges(struct iommufd_backend *b, struct ifd_iova_range *buf, unsigned int max,
		       struct ifd_iova_range **ret)
{
	struct ifd_ioas_iova_ranges q = { .size = sizeof(q), .ioas_id = b->ioas, .num_iovas = max,
					  .allowed_iovas = (uintptr_t)buf };
	struct ifd_iova_range *big;
	int r = xioctl(b, b->fd, IFD_IOAS_IOVA_RANGES, &q);

	*ret = buf;
	if (r != -EMSGSIZE)
		return r ? r : (int)(q.num_iovas < max ? q.num_iovas : max);
	/* More than max: the kernel said how many; ask once more with room for all. */
	if (q.num_iovas > IFD_MAX_IOVA_LIST)
		return -E2BIG;
	big = calloc(q.num_iovas, sizeof(*big));
	if (!big)
		return -ENOMEM;
	max = q.num_iovas;
	q = (struct ifd_ioas_iova_ranges){ .size = sizeof(q), .ioas_id = b->ioas, .num_iovas = max,
					   .allowed_iovas = (uintptr_t)big };
	r = xioctl(b, b->fd, IFD_IOAS_IOVA_RANGES, &q);
	if (r) {
		free(big);
		return r;
	}
	*ret = big;
	return (int)(q.num_iovas < max ? q.num_iovas : max);
}

/*
 * Calls fn on every page-aligned piece of [gpa, gpa + len) that lies in an allowed IOVA range.
 * Guest RAM inside a reserved region stays out of the host I/O page table: the kernel refuses
 * to map it (iopt_check_iova: EINVAL), and a DMA there is an interrupt message on VT-d anyway.
 * Returns 0, the first error of fn, or -errno of the range query.
 */
static int for_each_allowed(struct iommufd_backend *b, uint64_t gpa, uint64_t len, uint64_t *ret_skipped,
			    int (*fn)(struct iommufd_backend *b, uint64_t iova, uint64_t len, uint64_t off,
				      void *arg), void *arg)
{
	struct ifd_iova_range buf[IFD_MAX_IOVA_RANGES], *rg;
	uint64_t last = gpa + len - 1, covered = 0;
	int n = iova_ranges(b, buf, IFD_MAX_IOVA_RANGES, &rg), r = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n && !r; i++) {
		uint64_t s = rg[i].start > gpa ? rg[i].start : gpa;
		uint64_t e = rg[i].last < last ? rg[i].last : last;

		if (s > e)
			continue;
		if (s & 4095) {
			if (s > UINT64_MAX - 4095)
				continue;
			s = (s + 4095) & ~4095ULL;
		}
		if (s > e || e - s < 4095)
			continue;
		e = s + ((e - s + 1) & ~4095ULL) - 1; /* whole pages only */
		covered += e - s + 1;
		r = fn(b, s, e - s + 1, s - gpa, arg);
	}
	if (rg != buf)
		free(rg);
	if (ret_skipped)
		*ret_skipped = len - covered;
	return r;
}

struct map_ctx {
	void *hva;
	bool writable;
	uint64_t failed_at;  /* IOVA of the piece that failed: the ones below it are ours */
};

static int map_piece(struct iommufd_backend *b, uint64_t iova, uint64_t len, uint64_t off, void *arg)
{
	struct map_ctx *c = arg;
	int r = map_one(b, iova, len, (uint8_t *)c->hva + off, c->writable);

	if (r)
		c->failed_at = iova;
	return r;
}

static int unmap_piece(struct iommufd_backend *b, uint64_t iova, uint64_t len, uint64_t off, void *arg)
{
	int r = unmap_one(b, iova, len);

	/* A piece that was never mapped (the ranges grew since) is not an error. */
	return r == -ENOENT ? 0 : r;
}

/*
 * Guest RAM as the stage-2 parent: GPA = IOVA, split around the reserved IOVA regions. All
 * pieces or none: a failure unmaps what this call mapped.
 */
static int ifd_map_ram(void *be, uint64_t gpa, uint64_t len, void *hva, bool writable)
{
	struct iommufd_backend *b = be;
	struct map_ctx c = { .hva = hva, .writable = writable };
	uint64_t skipped = 0;
	int r;

	if (!len || gpa + len - 1 < gpa)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	r = for_each_allowed(b, gpa, len, &skipped, map_piece, &c);
	if (r && c.failed_at > gpa) {
		/* Pieces come in IOVA order: everything below the failed one was mapped here. */
		for_each_allowed(b, gpa, c.failed_at - gpa, NULL, unmap_piece, NULL);
	} else if (!r) {
		b->st.ram_reserved += skipped;
	}
	pthread_mutex_unlock(&b->lock);
	if (!r && skipped)
		log_debug("iommufd", "guest RAM 0x%llx+0x%llx: 0x%llx bytes in reserved IOVA left out",
			  (unsigned long long)gpa, (unsigned long long)len, (unsigned long long)skipped);
	return r;
}

static int ifd_unmap_ram(void *be, uint64_t gpa, uint64_t len)
{
	struct iommufd_backend *b = be;
	int r;

	if (!len || gpa + len - 1 < gpa)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	r = for_each_allowed(b, gpa, len, NULL, unmap_piece, NULL);
	pthread_mutex_unlock(&b->lock);
	return r;
}

/* Shadow mode: one guest mapping, exactly as asked (a reserved IOVA is the kernel's EINVAL). */
static int ifd_map_iova(void *be, uint64_t iova, uint64_t len, void *hva, bool writable)
{
	struct iommufd_backend *b = be;
	int r;

	pthread_mutex_lock(&b->lock);
	r = map_one(b, iova, len, hva, writable);
	pthread_mutex_unlock(&b->lock);
	return r;
}

static int ifd_unmap_iova(void *be, uint64_t iova, uint64_t len)
{
	struct iommufd_backend *b = be;
	int r;

	pthread_mutex_lock(&b->lock);
	r = unmap_one(b, iova, len);
	pthread_mutex_unlock(&b->lock);
	return r;
}

static int ifd_attach_s1(void *be, uint32_t dev, uint32_t pasid, const struct host_s1_config *cfg,
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
	d = get_dev(b, dev);
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
	r = xioctl(b, b->fd, IFD_HWPT_ALLOC, &ha);
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
	r = xioctl(b, d->fd, IFD_VFIO_ATTACH, &at);
	if (r) {
		/* The old attachment (if any) stays in place. */
		destroy_or_keep(b, ha.out_hwpt_id);
		goto out;
	}
	bd = find_bind(d, pasid);
	if (bd && !bd->on_parent)
		destroy_or_keep(b, bd->hwpt);
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

static int ifd_detach(void *be, uint32_t dev, uint32_t pasid)
{
	struct iommufd_backend *b = be;
	struct ifd_dev *d;
	struct ifd_bind *bd = NULL;
	int r = -ENOENT;

	pthread_mutex_lock(&b->lock);
	d = get_dev(b, dev);
	if (d)
		bd = find_bind(d, pasid);
	if (bd) {
		/* A failed detach leaves the binding as it was, so the caller can retry. */
		r = detach_one(b, d, pasid);
		if (!r) {
			if (!bd->on_parent)
				destroy_or_keep(b, bd->hwpt);
			remove_bind(d, bd);
		}
	} else if (d && pasid == HOST_PASID_NONE && d->rid_on_default) {
		/* The RID on the parent (identity): detached, the device's DMA is blocked. */
		r = detach_one(b, d, pasid);
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
static int ifd_attach_parent(void *be, uint32_t dev, uint32_t pasid)
{
	struct iommufd_backend *b = be;
	struct ifd_vfio_attach at = { .argsz = 12 };
	struct ifd_dev *d;
	struct ifd_bind *bd;
	int r;

	pthread_mutex_lock(&b->lock);
	d = get_dev(b, dev);
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
	r = xioctl(b, d->fd, IFD_VFIO_ATTACH, &at);
	if (r)
		goto out; /* the old attachment (if any) stays in place */
	bd = find_bind(d, pasid);
	if (bd && !bd->on_parent)
		destroy_or_keep(b, bd->hwpt);
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
static int ifd_invalidate(void *be, uint32_t s1, const struct host_inv_range *rg, unsigned int n,
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
	r = xioctl(b, b->fd, IFD_HWPT_INVALIDATE, &inv);
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

static void ifd_set_fault_handler(void *be, host_fault_fn fn, void *opaque)
{
	struct iommufd_backend *b = be;

	pthread_mutex_lock(&b->lock);
	b->fault_fn = fn;
	b->fault_opaque = opaque;
	pthread_mutex_unlock(&b->lock);
}

/*
 * Reads what the fault queue holds (whole groups, every record of a group carrying the
 * group's cookie) and hands it to the sink. Never blocks: an empty queue reads 0. Returns the
 * number of records read, or -errno.
 */
static int ifd_process_faults(void *be)
{
	struct iommufd_backend *b = be;
	unsigned int nf = 0;
	host_fault_fn fn;
	void *fop;
	ssize_t n;

	if (!b->have_fault)
		return 0;
	pthread_mutex_lock(&b->fault_lock);
	n = b->sys.read(b->sys.ctx, b->fault_fd, b->frec, IFD_FAULT_BATCH * sizeof(*b->frec));
	if (n < 0) {
		pthread_mutex_unlock(&b->fault_lock);
		return n == -EAGAIN ? 0 : (int)n;
	}
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < (size_t)n / sizeof(b->frec[0]); i++) {
		const struct ifd_pgfault *rec = &b->frec[i];
		uint32_t dev = IFD_MAX_DEVS;

		for (uint32_t j = 0; j < IFD_MAX_DEVS; j++)
			if (b->devs[j].used && b->devs[j].dev_id == rec->dev_id)
				dev = j;
		b->st.faults_read++;
		if (dev == IFD_MAX_DEVS)
			continue;
		b->fconv[nf++] = (struct host_fault){
			.dev = dev, .pasid_valid = rec->flags & IFD_PGFAULT_PASID_VALID,
			.pasid = rec->pasid, .addr = rec->addr & ~4095ULL,
			.perm = rec->perm & (IFD_PERM_READ | IFD_PERM_WRITE | IFD_PERM_EXEC | IFD_PERM_PRIV),
			.recoverable = true, .grpid = rec->grpid,
			.last = rec->flags & IFD_PGFAULT_LAST_PAGE, .cookie = rec->cookie,
		};
	}
	fn = b->fault_fn;
	fop = b->fault_opaque;
	pthread_mutex_unlock(&b->lock);
	for (unsigned int i = 0; fn && i < nf; i++)
		fn(fop, &b->fconv[i]);
	pthread_mutex_unlock(&b->fault_lock);
	/* Records taken off the queue (those of unknown devices too: they are gone either way). */
	return (int)((size_t)n / sizeof(b->frec[0]));
}

/* Answers a group by its cookie; the kernel refuses a cookie it is not waiting for (EINVAL). */
static int ifd_page_response(void *be, uint32_t dev, uint32_t cookie, int code)
{
	struct iommufd_backend *b = be;
	struct ifd_page_response pr = { .cookie = cookie,
					.code = code == HOST_RESP_SUCCESS ? IFD_RESP_SUCCESS : IFD_RESP_INVALID };
	ssize_t n;

	if (!b->have_fault)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&b->lock);
	b->st.responses++;
	n = b->sys.write(b->sys.ctx, b->fault_fd, &pr, sizeof(pr));
	pthread_mutex_unlock(&b->lock);
	return n < 0 ? (int)n : n == sizeof(pr) ? 0 : -EIO;
}

static const struct host_iommu_ops iommufd_ops = {
	.get_caps = ifd_get_caps,
	.map_ram = ifd_map_ram,
	.unmap_ram = ifd_unmap_ram,
	.attach_s1 = ifd_attach_s1,
	.detach = ifd_detach,
	.attach_parent = ifd_attach_parent,
	.invalidate = ifd_invalidate,
	.set_fault_handler = ifd_set_fault_handler,
	.process_faults = ifd_process_faults,
	.page_response = ifd_page_response,
	/* Shadow mode: the RID is attached to the IOAS itself, so these are its IOAS_MAP/UNMAP. */
	.map_iova = ifd_map_iova,
	.unmap_iova = ifd_unmap_iova,
};

void iommufd_backend_iommu(struct iommufd_backend *b, struct host_iommu *ret)
{
	*ret = (struct host_iommu){ .ops = &iommufd_ops, .be = b, .name = "iommufd" };
}

int iommufd_backend_device_fd(const struct iommufd_backend *b, uint32_t dev)
{
	return dev < IFD_MAX_DEVS && b->devs[dev].used ? b->devs[dev].fd : -1;
}

int iommufd_backend_fault_fd(const struct iommufd_backend *b)
{
	return b->have_fault ? b->fault_fd : -1;
}

int iommufd_backend_set_host_pri(struct iommufd_backend *b, uint32_t dev, bool pri)
{
	struct ifd_dev *d;
	int r = 0;

	pthread_mutex_lock(&b->lock);
	d = get_dev(b, dev);
	if (d) {
		d->host_pri = pri;
		d->caps.fault_queue = b->have_fault && pri;
	} else {
		r = -ENOENT;
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

int iommufd_backend_set_guest_pri(struct iommufd_backend *b, uint32_t dev, bool enabled)
{
	struct ifd_dev *d;
	int r = 0;

	pthread_mutex_lock(&b->lock);
	d = get_dev(b, dev);
	if (d)
		d->guest_pri = enabled;
	else
		r = -ENOENT;
	pthread_mutex_unlock(&b->lock);
	return r;
}

const char *iommufd_backend_missing(const struct iommufd_backend *b)
{
	return b->missing;
}

void iommufd_backend_get_stats(const struct iommufd_backend *b, struct iommufd_stats *ret)
{
	*ret = b->st;
}
