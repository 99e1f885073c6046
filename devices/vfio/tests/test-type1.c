/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the type1 backend against a fake VFIO container/group kernel at the syscall
 * seam, which validates arguments as the kernel does (API version, SET_IOMMU ordering, group
 * viability, map alignment and overlap, v2 unmap rules) and tracks fds so teardown is checked.
 * The fake counts every call through the seam and can fail call N (fault injection).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/check-run.h"
#include "devices/vfio/type1-abi.h"
#include "devices/vfio/type1.h"

#define FK_CONTAINER 100
#define FK_GROUP 200
#define FK_DEV 300
#define FK_MAX_MAPS 32

struct fk_map {
	uint64_t iova, size, vaddr;
	uint32_t flags;
};

struct fake {
	/* Knobs. */
	bool no_v2, no_unmap_all, not_viable;
	uint64_t pgsizes;
	/* State. */
	bool open[512];
	int iommu_type;
	bool group_set;
	int dev_open;
	struct fk_map maps[FK_MAX_MAPS];
	unsigned int nr_maps;
	unsigned int calls[32];
	/* Fault injection: call fail_call (1-based, 0 = none) of nr_sys fails with fail_errno. */
	unsigned int nr_sys, fail_call;
	int fail_errno, injected;
};

static struct fake fk;
static struct type1_sys sys;
static char err[256];
static uint8_t ram[4 * 4096] __attribute__((aligned(4096)));

/* Counts one seam call; true if it is the one to fail (then f->injected is its errno). */
static bool fk_inject(struct fake *f)
{
	if (++f->nr_sys != f->fail_call)
		return false;
	f->injected = f->fail_errno;
	return true;
}

static int fk_open(void *ctx, const char *path)
{
	struct fake *f = ctx;
	int fd;

	if (fk_inject(f))
		return -f->injected;
	if (!strcmp(path, "/dev/vfio/vfio"))
		fd = FK_CONTAINER;
	else if (!strcmp(path, "/dev/vfio/7"))
		fd = FK_GROUP;
	else
		return -ENOENT;
	if (f->open[fd])
		return -EBUSY; /* a group is opened once */
	f->open[fd] = true;
	return fd;
}

/* A failed close still releases the fd, as Linux does. */
static int fk_close(void *ctx, int fd)
{
	struct fake *f = ctx;
	bool inj = fk_inject(f);

	if (fd < 0 || fd >= 512 || !f->open[fd])
		return -EBADF;
	f->open[fd] = false;
	if (fd == FK_DEV)
		f->dev_open--;
	if (fd == FK_GROUP && !f->dev_open && f->group_set) {
		f->group_set = false; /* releasing the group leaves its container */
		f->iommu_type = 0;
		f->nr_maps = 0;
	}
	if (fd == FK_CONTAINER) {
		f->nr_maps = 0; /* the container's IOMMU goes with it */
		f->iommu_type = 0;
	}
	return inj ? -f->injected : 0;
}

static uint64_t pgmask(const struct fake *f)
{
	return (f->pgsizes & -f->pgsizes) - 1;
}

static int fk_map(struct fake *f, const struct t1_dma_map *m)
{
	uint64_t mask = pgmask(f);

	if (m->argsz < sizeof(*m) || (m->flags & ~3u) || !(m->flags & 3u) || !m->size ||
	    ((m->iova | m->size | m->vaddr) & mask) || m->iova + m->size - 1 < m->iova)
		return -EINVAL;
	for (unsigned int i = 0; i < f->nr_maps; i++)
		if (m->iova < f->maps[i].iova + f->maps[i].size && f->maps[i].iova < m->iova + m->size)
			return -EEXIST;
	if (f->nr_maps == FK_MAX_MAPS)
		return -ENOSPC;
	f->maps[f->nr_maps++] = (struct fk_map){ m->iova, m->size, m->vaddr, m->flags };
	return 0;
}

static int fk_unmap(struct fake *f, struct t1_dma_unmap *u)
{
	uint64_t mask = pgmask(f), end, done = 0;

	if (u->argsz < sizeof(*u) || (u->flags & ~T1_DMA_UNMAP_FLAG_ALL))
		return -EINVAL;
	if (u->flags & T1_DMA_UNMAP_FLAG_ALL) {
		if (f->no_unmap_all || u->iova || u->size)
			return -EINVAL;
		end = UINT64_MAX;
	} else {
		if (!u->size || ((u->iova | u->size) & mask) || u->iova + u->size - 1 < u->iova)
			return -EINVAL;
		end = u->iova + u->size - 1;
	}
	/* v2: a mapping that crosses either end of the range is never split. */
	for (unsigned int i = 0; i < f->nr_maps; i++) {
		uint64_t s = f->maps[i].iova, e = s + f->maps[i].size - 1;

		if ((s < u->iova && e >= u->iova) || (s <= end && e > end))
			return -EINVAL;
	}
	for (unsigned int i = 0; i < f->nr_maps;) {
		if (f->maps[i].iova >= u->iova && f->maps[i].iova <= end) {
			done += f->maps[i].size;
			f->maps[i] = f->maps[--f->nr_maps];
		} else {
			i++;
		}
	}
	u->size = done;
	return 0;
}

static int fk_ioctl(void *ctx, int fd, unsigned long req, uintptr_t arg)
{
	struct fake *f = ctx;

	if (fk_inject(f))
		return -f->injected;
	if (fd < 0 || fd >= 512 || !f->open[fd])
		return -EBADF;
	f->calls[req & 31]++;
	if (fd == FK_CONTAINER) {
		switch (req) {
		case T1_GET_API_VERSION: return T1_API_VERSION;
		case T1_CHECK_EXTENSION:
			return (arg == T1_TYPE1V2_IOMMU && !f->no_v2) || arg == T1_TYPE1_IOMMU ||
			       (arg == T1_UNMAP_ALL && !f->no_unmap_all);
		case T1_SET_IOMMU:
			if (!f->group_set || (arg != T1_TYPE1_IOMMU && arg != T1_TYPE1V2_IOMMU) ||
			    (arg == T1_TYPE1V2_IOMMU && f->no_v2))
				return -EINVAL;
			if (f->iommu_type)
				return -EBUSY;
			f->iommu_type = (int)arg;
			return 0;
		case T1_IOMMU_GET_INFO: {
			struct t1_iommu_info *i = (void *)arg;

			if (!f->iommu_type || i->argsz < 20)
				return -EINVAL;
			i->flags = T1_IOMMU_INFO_PGSIZES;
			i->iova_pgsizes = f->pgsizes;
			return 0;
		}
		case T1_IOMMU_MAP_DMA: return f->iommu_type ? fk_map(f, (void *)arg) : -EINVAL;
		case T1_IOMMU_UNMAP_DMA: return f->iommu_type ? fk_unmap(f, (void *)arg) : -EINVAL;
		}
		return -ENOTTY;
	}
	if (fd == FK_GROUP) {
		switch (req) {
		case T1_GROUP_GET_STATUS: {
			struct t1_group_status *s = (void *)arg;

			if (s->argsz < sizeof(*s))
				return -EINVAL;
			s->flags = (f->not_viable ? 0 : T1_GROUP_FLAGS_VIABLE) |
				   (f->group_set ? T1_GROUP_FLAGS_CONTAINER_SET : 0);
			return 0;
		}
		case T1_GROUP_SET_CONTAINER:
			if (f->not_viable)
				return -EPERM;
			if (f->group_set)
				return -EINVAL;
			if (*(const int32_t *)arg != FK_CONTAINER)
				return -EBADF;
			f->group_set = true;
			return 0;
		case T1_GROUP_UNSET_CONTAINER:
			if (!f->group_set)
				return -EINVAL;
			if (f->dev_open)
				return -EBUSY;
			f->group_set = false;
			f->iommu_type = 0; /* the last group: the IOMMU and its mappings go */
			f->nr_maps = 0;
			return 0;
		case T1_GROUP_GET_DEVICE_FD:
			if (!f->group_set || !f->iommu_type)
				return -EINVAL;
			if (strcmp((const char *)arg, "0000:00:03.0"))
				return -ENODEV;
			if (f->open[FK_DEV])
				return -EBUSY;
			f->open[FK_DEV] = true;
			f->dev_open++;
			return FK_DEV;
		}
		return -ENOTTY;
	}
	return -ENOTTY;
}

static unsigned int open_fds(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < 512; i++)
		n += fk.open[i];
	return n;
}

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.pgsizes = 0x40201000ULL; /* 4 KiB, 2 MiB, 1 GiB */
	sys = (struct type1_sys){ .ctx = &fk, .open = fk_open, .ioctl = fk_ioctl, .close = fk_close };
	err[0] = 0;
}

static struct type1_backend *start(struct host_iommu *hi, uint32_t *dev)
{
	struct type1_backend *b;

	ck_assert_int_eq(type1_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(type1_backend_add_device(b, "/dev/vfio/7", "0000:00:03.0", dev, err,
						  sizeof(err)), 0);
	ck_assert_int_eq(fk.iommu_type, T1_TYPE1V2_IOMMU);
	ck_assert_int_eq(type1_backend_device_fd(b, *dev), FK_DEV);
	type1_backend_iommu(b, hi);
	return b;
}

START_TEST(test_ram_once_and_teardown)
{
	struct host_iommu hi;
	struct host_iommu_caps caps;
	struct type1_stats st;
	struct type1_backend *b;
	uint32_t dev;
	char line[160];

	setup();
	b = start(&hi, &dev);
	ck_assert_str_eq(hi.name, "type1");
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert(!caps.nesting && !caps.vtd && !caps.pasid_attach && !caps.fault_queue);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev + 1, &caps), -ENODEV);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, NULL, NULL), -EOPNOTSUPP);
	ck_assert(hi.ops->map_iova && hi.ops->unmap_iova);
	/* Guest RAM: two regions, read-write, identity GPA. */
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, 2 * 4096, ram, true), 0);
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0x100000000ULL, 4096, ram + 2 * 4096, true), 0);
	ck_assert_uint_eq(fk.nr_maps, 2);
	ck_assert_uint_eq(fk.maps[0].vaddr, (uintptr_t)ram);
	ck_assert_uint_eq(fk.maps[0].flags, T1_DMA_MAP_FLAG_READ | T1_DMA_MAP_FLAG_WRITE);
	/* The same RAM again: the kernel says -EEXIST (host.c tolerates it). */
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, 4096, ram, true), -EEXIST);
	type1_backend_get_stats(b, &st);
	ck_assert_uint_eq(st.map_dma, 2);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_uint_eq(st.mapped_bytes, 3 * 4096);
	type1_backend_format_summary(b, line, sizeof(line));
	ck_assert_str_eq(line, "type1: 2 MAP_DMA, 0 UNMAP_DMA (0 shadow maps, 0 shadow unmaps), 1 errors, "
			 "12288 bytes mapped");
	/* Teardown: one UNMAP_DMA of everything, device fd before the group is unset. */
	type1_backend_close(b);
	ck_assert_uint_eq(fk.nr_maps, 0);
	ck_assert_uint_eq(fk.calls[T1_IOMMU_UNMAP_DMA & 31], 1);
	ck_assert(!fk.group_set);
	ck_assert_uint_eq(open_fds(), 0);
}
END_TEST

START_TEST(test_shadow_map_rules)
{
	struct host_iommu hi;
	struct type1_stats st;
	struct type1_backend *b;
	uint32_t dev;

	setup();
	b = start(&hi, &dev);
	/* Alignment to the smallest IOMMU page, size 0, wrap-around. */
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0x1800, 4096, ram, true), -EINVAL);
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0x1000, 100, ram, true), -EINVAL);
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0x1000, 4096, ram + 8, true), -EINVAL);
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0x1000, 0, ram, true), -EINVAL);
	ck_assert_int_eq(hi.ops->map_iova(hi.be, ~0xfffULL, 0x2000, ram, true), -EINVAL);
	/* IOVA != GPA: shadow mappings land where the guest's tables say. */
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0xfff00000, 2 * 4096, ram, true), 0);
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0xfff02000, 4096, ram + 3 * 4096, false), 0);
	ck_assert_uint_eq(fk.maps[1].flags, T1_DMA_MAP_FLAG_READ);
	/* Overlap with a mapping, even partly. */
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0xfff01000, 4096, ram, true), -EEXIST);
	/* Unmap of nothing is fine; cutting a mapping in two is refused (v2). */
	ck_assert_int_eq(hi.ops->unmap_iova(hi.be, 0x10000000, 0x1000), 0);
	ck_assert_int_eq(hi.ops->unmap_iova(hi.be, 0xfff01000, 0x1000), -EINVAL);
	ck_assert_int_eq(hi.ops->unmap_iova(hi.be, 0xfff00000, 0x1000), -EINVAL);
	ck_assert_uint_eq(fk.nr_maps, 2);
	/* One unmap over two adjacent mappings (shadow.c merges runs). */
	ck_assert_int_eq(hi.ops->unmap_iova(hi.be, 0xfff00000, 3 * 4096), 0);
	ck_assert_uint_eq(fk.nr_maps, 0);
	type1_backend_get_stats(b, &st);
	ck_assert_uint_eq(st.map_dma, 2);
	ck_assert_uint_eq(st.unmap_dma, 2);
	ck_assert_uint_eq(st.mapped_bytes, 0);
	ck_assert_uint_eq(st.errors, 8);
	ck_assert_uint_eq(st.shadow_maps, 2);
	ck_assert_uint_eq(st.shadow_unmaps, 2);
	/* Nothing mapped at teardown after a map: still cleaned, no UNMAP_ALL -> ranged unmap. */
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0x7000, 4096, ram, true), 0);
	fk.no_unmap_all = true;
	type1_backend_close(b);
	ck_assert_uint_eq(open_fds(), 0);
	ck_assert(!fk.group_set);
}
END_TEST

/* Teardown without UNMAP_ALL: one ranged unmap of the whole IOVA space clears everything. */
START_TEST(test_teardown_ranged)
{
	struct host_iommu hi;
	struct type1_backend *b;
	uint32_t dev;

	setup();
	fk.no_unmap_all = true;
	b = start(&hi, &dev);
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0x7000, 4096, ram, true), 0);
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0xfffff000ULL << 12, 4096, ram, true), 0);
	fk.dev_open++; /* keep the group set so the unmap itself is what empties the container */
	type1_backend_close(b);
	ck_assert_uint_eq(fk.nr_maps, 0);
	ck_assert_uint_eq(fk.calls[T1_IOMMU_UNMAP_DMA & 31], 1);
}
END_TEST

START_TEST(test_open_errors)
{
	struct type1_backend *b;
	uint32_t dev;

	setup();
	fk.no_v2 = true;
	ck_assert_int_eq(type1_backend_open(&sys, NULL, &b, err, sizeof(err)), -EOPNOTSUPP);
	ck_assert_ptr_ne(strstr(err, "type1v2"), NULL);
	ck_assert_uint_eq(open_fds(), 0);
	ck_assert_int_eq(type1_backend_open(&sys, "/dev/vfio/none", &b, err, sizeof(err)), -ENOENT);

	/* A group with a device still bound to a host driver is not viable: nothing leaks. */
	setup();
	fk.not_viable = true;
	ck_assert_int_eq(type1_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(type1_backend_add_device(b, "/dev/vfio/7", "0000:00:03.0", &dev, err,
						  sizeof(err)), -EBUSY);
	ck_assert_ptr_ne(strstr(err, "not viable"), NULL);
	ck_assert(!fk.group_set && !fk.iommu_type);
	ck_assert_int_eq(type1_backend_add_device(b, "/dev/vfio/9", "0000:00:03.0", &dev, err,
						  sizeof(err)), -ENOENT);
	type1_backend_close(b);
	ck_assert_uint_eq(open_fds(), 0);

	/* A device the group does not have: the group stays joined for the next device. */
	setup();
	ck_assert_int_eq(type1_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(type1_backend_add_device(b, "/dev/vfio/7", "0000:00:04.0", &dev, err,
						  sizeof(err)), -ENODEV);
	ck_assert_int_eq(type1_backend_add_device(b, "/dev/vfio/7", "0000:00:03.0", &dev, err,
						  sizeof(err)), 0);
	ck_assert_uint_eq(fk.calls[T1_GROUP_SET_CONTAINER & 31], 1);
	ck_assert_uint_eq(fk.calls[T1_SET_IOMMU & 31], 1);
	ck_assert_int_eq(type1_backend_device_fd(b, 5), -1);
	type1_backend_close(b);
	ck_assert_uint_eq(open_fds(), 0);
	type1_backend_close(NULL);
}
END_TEST

/* host= resolution over a fake sysfs tree: the group comes from the iommu_group link. */
START_TEST(test_resolve_host)
{
	char tmpl[] = "/tmp/type1-sysfs-XXXXXX", dev[256], grp[64], bdf[32], lnk[300];
	char *root = mkdtemp(tmpl);

	ck_assert_ptr_ne(root, NULL);
	snprintf(dev, sizeof(dev), "%s/0000:00:03.0", root);
	ck_assert_int_eq(mkdir(dev, 0700), 0);
	ck_assert_int_eq(type1_resolve_host(dev, grp, sizeof(grp), bdf, sizeof(bdf), err,
					    sizeof(err)), -ENODEV);
	snprintf(lnk, sizeof(lnk), "%s/iommu_group", dev);
	ck_assert_int_eq(symlink("../../../kernel/iommu_groups/12", lnk), 0);
	ck_assert_int_eq(type1_resolve_host(dev, grp, sizeof(grp), bdf, sizeof(bdf), err,
					    sizeof(err)), 0);
	ck_assert_str_eq(grp, "/dev/vfio/12");
	ck_assert_str_eq(bdf, "0000:00:03.0");
	ck_assert_int_eq(type1_resolve_host("/nonexistent/0000:00:09.0", grp, sizeof(grp), bdf,
					    sizeof(bdf), err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(type1_resolve_host("ffff:ff:1f.7", grp, sizeof(grp), bdf, sizeof(bdf), err,
					    sizeof(err)), -ENOENT);
	unlink(lnk);
	rmdir(dev);
	rmdir(root);
}
END_TEST

/* The fault-injection passes: the errno of the failing call, and whether UNMAP_ALL exists. */
static const struct {
	int e;
	bool no_unmap_all;
} fault_pass[] = { { EIO, false }, { ENOMEM, false }, { EINVAL, true } };

/* A failed operation returns the injected errno; the same call again then succeeds. */
#define T1_STEP(call)                                                                             \
	do {                                                                                       \
		int before_ = fk.injected, r_ = (call);                                            \
		if (r_) {                                                                          \
			ck_assert_msg(!before_ && r_ == -fk.injected, "N=%u: %s: %d (injected %d)", \
				      n, #call, r_, fk.injected);                                  \
			r_ = (call);                                                               \
			ck_assert_msg(!r_, "N=%u: retry of %s: %d", n, #call, r_);                 \
		}                                                                                  \
	} while (0)

/* An open/add_device failure: the injected errno, and a message that names it. */
static void check_failed_setup(unsigned int n, const char *what, int r)
{
	ck_assert_msg(fk.injected && r == -fk.injected, "N=%u: %s: %d (injected %d)", n, what, r,
		      fk.injected);
	ck_assert_msg(strstr(err, strerror(fk.injected)) != NULL, "N=%u: %s says '%s'", n, what, err);
}

/*
 * The whole type1 scenario with seam call n failing (0: none): open, add the device, map RAM,
 * shadow map twice and unmap, close. Returns the number of seam calls it made.
 */
static unsigned int fault_scenario(unsigned int n, int pass)
{
	struct host_iommu hi;
	struct host_iommu_caps caps;
	struct type1_stats st;
	struct type1_backend *b;
	uint32_t dev;
	int r;

	setup();
	fk.fail_call = n;
	fk.fail_errno = fault_pass[pass].e;
	fk.no_unmap_all = fault_pass[pass].no_unmap_all;
	r = type1_backend_open(&sys, NULL, &b, err, sizeof(err));
	if (r) {
		check_failed_setup(n, "open", r);
		ck_assert_uint_eq(open_fds(), 0);
		return fk.nr_sys;
	}
	r = type1_backend_add_device(b, "/dev/vfio/7", "0000:00:03.0", &dev, err, sizeof(err));
	if (r) {
		/* nestvm would exit here; the backend must still be consistent enough to retry. */
		check_failed_setup(n, "add_device", r);
		err[0] = 0;
		r = type1_backend_add_device(b, "/dev/vfio/7", "0000:00:03.0", &dev, err, sizeof(err));
		ck_assert_msg(!r, "N=%u: add_device retry: %d %s", n, r, err);
	}
	ck_assert_int_eq(fk.iommu_type, T1_TYPE1V2_IOMMU);
	ck_assert_int_eq(type1_backend_device_fd(b, dev), FK_DEV);
	type1_backend_iommu(b, &hi);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	T1_STEP(hi.ops->map_ram(hi.be, 0, 2 * 4096, ram, true));
	ck_assert_uint_eq(fk.nr_maps, 1);
	T1_STEP(hi.ops->map_iova(hi.be, 0xfff00000, 4096, ram + 2 * 4096, false));
	T1_STEP(hi.ops->map_iova(hi.be, 0xfff01000, 4096, ram + 3 * 4096, true));
	ck_assert_uint_eq(fk.nr_maps, 3);
	T1_STEP(hi.ops->unmap_iova(hi.be, 0xfff00000, 2 * 4096));
	ck_assert_uint_eq(fk.nr_maps, 1);
	ck_assert_uint_eq(fk.maps[0].iova, 0);
	type1_backend_get_stats(b, &st);
	ck_assert_uint_eq(st.mapped_bytes, 2 * 4096);
	ck_assert_uint_eq(st.shadow_maps, 2);
	ck_assert_uint_eq(st.shadow_unmaps, 1);
	type1_backend_close(b);
	ck_assert_msg(fk.nr_maps == 0 && !fk.iommu_type, "N=%u: %u mappings left", n, fk.nr_maps);
	ck_assert_msg(!fk.group_set, "N=%u: group still in the container", n);
	ck_assert_msg(open_fds() == 0, "N=%u: %u fds leaked", n, open_fds());
	ck_assert_msg(!n || fk.injected, "N=%u: the failure was never injected", n);
	return fk.nr_sys;
}

/* Every seam call of the scenario fails in turn; the backend errors out cleanly or recovers. */
START_TEST(test_each_seam_call_fails)
{
	unsigned int k = fault_scenario(0, _i);

	ck_assert_uint_ge(k, 19);
	for (unsigned int n = 1; n <= k; n++)
		fault_scenario(n, _i);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("type1");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ram_once_and_teardown);
	tcase_add_test(tc, test_shadow_map_rules);
	tcase_add_test(tc, test_teardown_ranged);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_resolve_host);
	tcase_add_loop_test(tc, test_each_seam_call_fails, 0, 3);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
