/* SPDX-License-Identifier: MIT */
/*
 * The VFIO type1 backend of host_iommu: the legacy container/group API for hosts without
 * iommufd. One container with the type1v2 IOMMU, groups set to it, device fds from the
 * groups, and the device I/O address space filled with MAP_DMA / UNMAP_DMA (guest RAM once,
 * or the vIOMMU's shadow of the guest's tables). No nesting, stage-1 binds or host faults.
 * Every system call goes through the type1_sys seam so a fake kernel can check it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "devices/vfio/type1-abi.h"
#include "devices/vfio/type1.h"

#define T1_MAX_GROUPS 8
#define T1_MAX_DEVS 8
#define T1_NAME_MAX 64

struct t1_group {
	bool used;
	int fd;
	char path[T1_NAME_MAX];
};

struct t1_dev {
	bool used;
	int fd;
	unsigned int group;
	char bdf[T1_NAME_MAX];
};

struct type1_backend {
	struct type1_sys sys;
	pthread_mutex_t lock;
	int fd;                  /* the container */
	bool iommu_set;          /* SET_IOMMU done (after the first group joined) */
	bool unmap_all;          /* T1_UNMAP_ALL extension */
	uint64_t pgmask;         /* smallest IOMMU page size - 1 */
	struct t1_group groups[T1_MAX_GROUPS];
	struct t1_dev devs[T1_MAX_DEVS];
	host_fault_fn fault_fn;  /* kept for the interface; type1 reports no faults */
	void *fault_opaque;
	struct type1_stats st;
};

/* ---- the real system calls ---- */

static int real_open(void *ctx, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int real_ioctl(void *ctx, int fd, unsigned long req, uintptr_t arg)
{
	int r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

static int real_close(void *ctx, int fd)
{
	return close(fd) ? -errno : 0;
}

static const struct type1_sys real_sys = {
	.open = real_open, .ioctl = real_ioctl, .close = real_close,
};

static int t1_ioctl(struct type1_backend *b, int fd, unsigned long req, uintptr_t arg)
{
	return b->sys.ioctl(b->sys.ctx, fd, req, arg);
}

/* ---- container, groups, devices ---- */

int type1_backend_open(const struct type1_sys *sys, const char *path, struct type1_backend **ret,
		       char *err, size_t errlen)
{
	struct type1_backend *b = calloc(1, sizeof(*b));
	int r;

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->sys = sys ? *sys : real_sys;
	b->pgmask = 4095;
	pthread_mutex_init(&b->lock, NULL);
	path = path ? path : "/dev/vfio/vfio";
	b->fd = b->sys.open(b->sys.ctx, path);
	if (b->fd < 0) {
		r = b->fd;
		snprintf(err, errlen, "cannot open %s: %s (is the vfio module loaded?)", path,
			 strerror(-r));
		goto err_free;
	}
	r = t1_ioctl(b, b->fd, T1_GET_API_VERSION, 0);
	if (r < 0) {
		snprintf(err, errlen, "%s: VFIO_GET_API_VERSION: %s", path, strerror(-r));
		goto err_close;
	}
	if (r != T1_API_VERSION) {
		snprintf(err, errlen, "%s: VFIO API version %d, want %d", path, r, T1_API_VERSION);
		r = -EPROTO;
		goto err_close;
	}
	r = t1_ioctl(b, b->fd, T1_CHECK_EXTENSION, T1_TYPE1V2_IOMMU);
	if (r < 0) {
		/* A failed probe is not "unsupported": report the error itself. */
		snprintf(err, errlen, "%s: VFIO_CHECK_EXTENSION(type1v2): %s", path, strerror(-r));
		goto err_close;
	}
	if (!r) {
		snprintf(err, errlen, "%s: the host has no type1v2 IOMMU (vfio_iommu_type1)", path);
		r = -EOPNOTSUPP;
		goto err_close;
	}
	b->unmap_all = t1_ioctl(b, b->fd, T1_CHECK_EXTENSION, T1_UNMAP_ALL) > 0;
	*ret = b;
	return 0;
err_close:
	b->sys.close(b->sys.ctx, b->fd);
err_free:
	pthread_mutex_destroy(&b->lock);
	free(b);
	return r;
}

/* After the first group joined: selects type1v2 and reads the smallest page size. */
static int set_iommu(struct type1_backend *b, char *err, size_t errlen)
{
	struct t1_iommu_info info = { .argsz = sizeof(info) };
	int r = t1_ioctl(b, b->fd, T1_SET_IOMMU, T1_TYPE1V2_IOMMU);

	if (r < 0) {
		snprintf(err, errlen, "VFIO_SET_IOMMU(type1v2): %s", strerror(-r));
		return r;
	}
	b->iommu_set = true;
	if (!t1_ioctl(b, b->fd, T1_IOMMU_GET_INFO, (uintptr_t)&info) &&
	    (info.flags & T1_IOMMU_INFO_PGSIZES) && info.iova_pgsizes)
		b->pgmask = (info.iova_pgsizes & -info.iova_pgsizes) - 1;
	return 0;
}

/* Opens and joins group path; returns its index or -errno. */
static int join_group(struct type1_backend *b, const char *path, char *err, size_t errlen)
{
	struct t1_group_status gs = { .argsz = sizeof(gs) };
	int free_slot = -1, fd, r;
	int32_t cfd = b->fd;

	for (int i = 0; i < T1_MAX_GROUPS; i++) {
		if (b->groups[i].used && !strcmp(b->groups[i].path, path))
			return i;
		if (!b->groups[i].used && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0 || strlen(path) >= T1_NAME_MAX) {
		snprintf(err, errlen, "%s: too many groups or too long a path", path);
		return -ENOSPC;
	}
	fd = b->sys.open(b->sys.ctx, path);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-fd));
		return fd;
	}
	r = t1_ioctl(b, fd, T1_GROUP_GET_STATUS, (uintptr_t)&gs);
	if (!r && !(gs.flags & T1_GROUP_FLAGS_VIABLE)) {
		snprintf(err, errlen, "%s is not viable: bind every device of the group to vfio-pci",
			 path);
		r = -EBUSY;
		goto err_close;
	}
	if (!r && (gs.flags & T1_GROUP_FLAGS_CONTAINER_SET)) {
		snprintf(err, errlen, "%s already belongs to a container (another VMM?)", path);
		r = -EBUSY;
		goto err_close;
	}
	if (!r)
		r = t1_ioctl(b, fd, T1_GROUP_SET_CONTAINER, (uintptr_t)&cfd);
	if (r < 0) {
		snprintf(err, errlen, "%s: VFIO group setup: %s", path, strerror(-r));
		goto err_close;
	}
	if (!b->iommu_set) {
		r = set_iommu(b, err, errlen);
		if (r) {
			t1_ioctl(b, fd, T1_GROUP_UNSET_CONTAINER, 0);
			goto err_close;
		}
	}
	b->groups[free_slot] = (struct t1_group){ .used = true, .fd = fd };
	snprintf(b->groups[free_slot].path, T1_NAME_MAX, "%s", path);
	return free_slot;
err_close:
	b->sys.close(b->sys.ctx, fd);
	return r < 0 ? r : -EIO;
}

int type1_backend_add_device(struct type1_backend *b, const char *group, const char *bdf,
			     uint32_t *ret_dev, char *err, size_t errlen)
{
	int g, fd, r = 0;
	unsigned int d;

	pthread_mutex_lock(&b->lock);
	for (d = 0; d < T1_MAX_DEVS && b->devs[d].used; d++)
		;
	if (d == T1_MAX_DEVS || strlen(bdf) >= T1_NAME_MAX) {
		snprintf(err, errlen, "too many passthrough devices");
		r = -ENOSPC;
		goto out;
	}
	g = join_group(b, group, err, errlen);
	if (g < 0) {
		r = g;
		goto out;
	}
	fd = t1_ioctl(b, b->groups[g].fd, T1_GROUP_GET_DEVICE_FD, (uintptr_t)bdf);
	if (fd < 0) {
		snprintf(err, errlen, "%s: VFIO_GROUP_GET_DEVICE_FD(%s): %s", group, bdf, strerror(-fd));
		r = fd;
		goto out;
	}
	b->devs[d] = (struct t1_dev){ .used = true, .fd = fd, .group = (unsigned int)g };
	snprintf(b->devs[d].bdf, T1_NAME_MAX, "%s", bdf);
	*ret_dev = d;
	log_debug("type1", "%s from %s: fd %d", bdf, group, fd);
out:
	pthread_mutex_unlock(&b->lock);
	return r;
}

int type1_backend_device_fd(const struct type1_backend *b, uint32_t dev)
{
	return dev < T1_MAX_DEVS && b->devs[dev].used ? b->devs[dev].fd : -1;
}

/* ---- the host_iommu operations ---- */

static int t1_get_caps(void *be, uint32_t dev, struct host_iommu_caps *ret)
{
	struct type1_backend *b = be;

	if (dev >= T1_MAX_DEVS || !b->devs[dev].used)
		return -ENODEV;
	/* type1 hides the host IOMMU: no VT-d registers, no nesting, no PASID, no faults. */
	*ret = (struct host_iommu_caps){ 0 };
	return 0;
}

static int t1_map(void *be, uint64_t iova, uint64_t len, void *hva, bool writable)
{
	struct type1_backend *b = be;
	struct t1_dma_map m = {
		.argsz = sizeof(m), .vaddr = (uintptr_t)hva, .iova = iova, .size = len,
		.flags = T1_DMA_MAP_FLAG_READ | (writable ? T1_DMA_MAP_FLAG_WRITE : 0),
	};
	int r;

	pthread_mutex_lock(&b->lock);
	r = b->iommu_set ? t1_ioctl(b, b->fd, T1_IOMMU_MAP_DMA, (uintptr_t)&m) : -ENODEV;
	if (r < 0) {
		b->st.errors++;
	} else {
		r = 0;
		b->st.map_dma++;
		b->st.mapped_bytes += len;
	}
	pthread_mutex_unlock(&b->lock);
	trace(TRACE_HOST, "type1", "map iova 0x%llx len 0x%llx %s r=%d", (unsigned long long)iova,
	      (unsigned long long)len, writable ? "rw" : "ro", r);
	return r;
}

/* One UNMAP_DMA with the lock held; adds what the kernel unmapped to the counters. */
static int do_unmap(struct type1_backend *b, uint64_t iova, uint64_t len, uint32_t flags)
{
	struct t1_dma_unmap u = { .argsz = sizeof(u), .flags = flags, .iova = iova, .size = len };
	int r = b->iommu_set ? t1_ioctl(b, b->fd, T1_IOMMU_UNMAP_DMA, (uintptr_t)&u) : -ENODEV;

	if (r < 0) {
		b->st.errors++;
		return r;
	}
	b->st.unmap_dma++;
	b->st.mapped_bytes -= u.size < b->st.mapped_bytes ? u.size : b->st.mapped_bytes;
	trace(TRACE_HOST, "type1", "unmap iova 0x%llx len 0x%llx: 0x%llx bytes",
	      (unsigned long long)iova, (unsigned long long)len, (unsigned long long)u.size);
	return 0;
}

static int t1_unmap(void *be, uint64_t iova, uint64_t len)
{
	struct type1_backend *b = be;
	int r;

	pthread_mutex_lock(&b->lock);
	r = do_unmap(b, iova, len, 0);
	pthread_mutex_unlock(&b->lock);
	return r;
}

/* Shadow mode: the same calls, counted apart (the vIOMMU mirroring the guest's tables). */
static int t1_map_iova(void *be, uint64_t iova, uint64_t len, void *hva, bool writable)
{
	struct type1_backend *b = be;
	int r = t1_map(be, iova, len, hva, writable);

	if (!r)
		__atomic_fetch_add(&b->st.shadow_maps, 1, __ATOMIC_RELAXED);
	return r;
}

static int t1_unmap_iova(void *be, uint64_t iova, uint64_t len)
{
	struct type1_backend *b = be;
	int r = t1_unmap(be, iova, len);

	if (!r)
		__atomic_fetch_add(&b->st.shadow_unmaps, 1, __ATOMIC_RELAXED);
	return r;
}

static int t1_attach_s1(void *be, uint32_t dev, uint32_t pasid, const struct host_s1_config *cfg,
			uint32_t *ret_s1)
{
	return -EOPNOTSUPP;
}

static int t1_detach(void *be, uint32_t dev, uint32_t pasid)
{
	return -EOPNOTSUPP;
}

static int t1_invalidate(void *be, uint32_t s1, const struct host_inv_range *r, unsigned int n,
			 unsigned int *ret_done)
{
	return -EOPNOTSUPP;
}

static void t1_set_fault_handler(void *be, host_fault_fn fn, void *opaque)
{
	struct type1_backend *b = be;

	pthread_mutex_lock(&b->lock);
	b->fault_fn = fn;
	b->fault_opaque = opaque;
	pthread_mutex_unlock(&b->lock);
}

static int t1_process_faults(void *be)
{
	return 0;
}

static int t1_page_response(void *be, uint32_t dev, uint32_t cookie, int code)
{
	return -EOPNOTSUPP;
}

static const struct host_iommu_ops type1_ops = {
	.get_caps = t1_get_caps,
	.map_ram = t1_map,
	.unmap_ram = t1_unmap,
	.attach_s1 = t1_attach_s1,
	.detach = t1_detach,
	.invalidate = t1_invalidate,
	.set_fault_handler = t1_set_fault_handler,
	.process_faults = t1_process_faults,
	.page_response = t1_page_response,
	/* Shadow mode: the container's address space is the device's IOVA space. */
	.map_iova = t1_map_iova,
	.unmap_iova = t1_unmap_iova,
};

void type1_backend_iommu(struct type1_backend *b, struct host_iommu *ret)
{
	*ret = (struct host_iommu){ .ops = &type1_ops, .be = b, .name = "type1" };
}

void type1_backend_get_stats(struct type1_backend *b, struct type1_stats *ret)
{
	pthread_mutex_lock(&b->lock);
	*ret = b->st;
	pthread_mutex_unlock(&b->lock);
}

int type1_backend_format_summary(struct type1_backend *b, char *buf, size_t len)
{
	struct type1_stats st;

	type1_backend_get_stats(b, &st);
	return snprintf(buf, len, "type1: %llu MAP_DMA, %llu UNMAP_DMA (%llu shadow maps, %llu shadow "
			"unmaps), %llu errors, %llu bytes mapped", (unsigned long long)st.map_dma,
			(unsigned long long)st.unmap_dma, (unsigned long long)st.shadow_maps,
			(unsigned long long)st.shadow_unmaps, (unsigned long long)st.errors,
			(unsigned long long)st.mapped_bytes);
}

void type1_backend_close(struct type1_backend *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	/* Everything at once where the kernel can, else the whole IOVA space (v2 never splits). */
	if (b->iommu_set && b->st.map_dma) {
		if (b->unmap_all)
			do_unmap(b, 0, 0, T1_DMA_UNMAP_FLAG_ALL);
		else
			do_unmap(b, 0, ~b->pgmask, 0);
	}
	/* Device fds hold the group's container: they go first. */
	for (unsigned int d = 0; d < T1_MAX_DEVS; d++)
		if (b->devs[d].used)
			b->sys.close(b->sys.ctx, b->devs[d].fd);
	for (unsigned int g = 0; g < T1_MAX_GROUPS; g++) {
		if (!b->groups[g].used)
			continue;
		t1_ioctl(b, b->groups[g].fd, T1_GROUP_UNSET_CONTAINER, 0);
		b->sys.close(b->sys.ctx, b->groups[g].fd);
	}
	b->sys.close(b->sys.ctx, b->fd);
	pthread_mutex_unlock(&b->lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
}
