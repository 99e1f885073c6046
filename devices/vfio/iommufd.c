/* SPDX-License-Identifier: MIT */
/*
 * The iommufd backend of host_iommu: VFIO cdev bind, IOAS with guest RAM, a nest-parent HWPT,
 * one nested VTD_S1 HWPT per bound (device, PASID), batched HWPT invalidations and the fault
 * queue (facts §12.4). It detects at run time what the host kernel supports and says what is
 * missing. Every system call goes through the iommufd_sys seam so a kernel double can check it.
 * This file: open/bind, caps, IOAS and RAM mapping, close; iommufd-binds.c: the bind table;
 * iommufd-faults.c: the fault queue.
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
#include "devices/vfio/iommufd-internal.h"
#include "devices/vfio/vfio.h"

/* Allowed IOVA ranges read from IOMMU_IOAS_IOVA_RANGES at once (more: asked again). */
#define IFD_MAX_IOVA_RANGES 16
/* Bound on that list (reserved regions of the attached devices: MSI window, RMRRs). */
#define IFD_MAX_IOVA_LIST 4096

#define ECAP_NEST BIT_ULL(26)

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

int ifd_xioctl(struct iommufd_backend *b, int fd, unsigned long req, void *arg)
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
	return ifd_xioctl(b, b->fd, IFD_DESTROY, &d);
}

/* Destroys id; if the kernel refuses (busy, transient), remembers it for close to retry. */
void ifd_destroy_or_keep(struct iommufd_backend *b, uint32_t id)
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
	r = ifd_xioctl(b, b->fd, IFD_IOAS_ALLOC, &ia);
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
	int r = ifd_xioctl(b, b->fd, IFD_GET_HW_INFO, &hi);

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
	r = ifd_xioctl(b, b->fd, IFD_HWPT_ALLOC, &ha);
	if (r == -EOPNOTSUPP || r == -EINVAL) {
		note_missing(b, "no PASID-capable HWPTs (IOMMU_HWPT_ALLOC_PASID, Linux 6.15+)");
		ha.flags = IFD_HWPT_NEST_PARENT;
		b->st.hwpt_alloc++;
		r = ifd_xioctl(b, b->fd, IFD_HWPT_ALLOC, &ha);
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
	r = ifd_xioctl(b, b->fd, IFD_HWPT_INVALIDATE, &inv);
	b->have_invalidate = r != -ENOTTY;
	if (!b->have_invalidate)
		note_missing(b, "no IOMMU_HWPT_INVALIDATE (Linux 6.8+): nesting unavailable");
	r = ifd_xioctl(b, b->fd, IFD_FAULT_QUEUE_ALLOC, &fa);
	if (r && r != -ENOTTY && r != -EOPNOTSUPP) {
		snprintf(errbuf, errlen, "IOMMU_FAULT_QUEUE_ALLOC failed: %s", strerror(-r));
		ifd_destroy_or_keep(b, b->parent);
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
	r = ifd_xioctl(b, d->fd, IFD_VFIO_BIND, &bind);
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
	r = ifd_xioctl(b, d->fd, IFD_VFIO_ATTACH, &at);
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

void iommufd_backend_close(struct iommufd_backend *b)
{
	if (!b)
		return;
	for (unsigned int i = 0; i < IFD_MAX_DEVS; i++) {
		struct ifd_dev *d = &b->devs[i];

		if (!d->used)
			continue;
		for (uint32_t j = 0; j < d->nr_binds; j++) {
			ifd_detach_one(b, d, d->binds[j].pasid);
			if (d->binds[j].pasid == HOST_PASID_NONE)
				d->rid_on_default = false;
			if (!d->binds[j].on_parent)
				ifd_destroy_or_keep(b, d->binds[j].hwpt);
		}
		if (d->rid_on_default)
			ifd_detach_one(b, d, HOST_PASID_NONE);
		/* Closing the cdev drops whatever a failed detach left attached. */
		b->sys.close(b->sys.ctx, d->fd);
		free(d->binds);
		free(d->index);
	}
	/* Children before parents: the orphans first, then fault queue, parent and IOAS. */
	destroy_orphans(b);
	if (b->have_fault) {
		ifd_destroy_or_keep(b, b->fault_id);
		b->sys.close(b->sys.ctx, b->fault_fd);
	}
	if (b->have_parent)
		ifd_destroy_or_keep(b, b->parent);
	ifd_destroy_or_keep(b, b->ioas);
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

struct ifd_dev *ifd_get_dev(struct iommufd_backend *b, uint32_t dev)
{
	return dev < IFD_MAX_DEVS && b->devs[dev].used ? &b->devs[dev] : NULL;
}

static int ifd_get_caps(void *be, uint32_t dev, struct host_iommu_caps *ret)
{
	struct iommufd_backend *b = be;
	struct ifd_dev *d = ifd_get_dev(b, dev);

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
	return ifd_xioctl(b, b->fd, IFD_IOAS_MAP, &m);
}

static int unmap_one(struct iommufd_backend *b, uint64_t iova, uint64_t len)
{
	struct ifd_ioas_unmap u = { .size = sizeof(u), .ioas_id = b->ioas, .iova = iova, .length = len };

	b->st.ioas_unmap++;
	return ifd_xioctl(b, b->fd, IFD_IOAS_UNMAP, &u);
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
	int r = ifd_xioctl(b, b->fd, IFD_IOAS_IOVA_RANGES, &q);

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
	r = ifd_xioctl(b, b->fd, IFD_IOAS_IOVA_RANGES, &q);
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

const char *iommufd_backend_missing(const struct iommufd_backend *b)
{
	return b->missing;
}

void iommufd_backend_get_stats(const struct iommufd_backend *b, struct iommufd_stats *ret)
{
	*ret = b->st;
}
