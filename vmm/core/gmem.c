/* SPDX-License-Identifier: MIT */
/* Bounds-checked guest-physical memory map over one RAM mapping (anonymous or a memfd). */
#include "gmem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bits.h"
#include "gmem-watch.h"

void gmem_init_empty(struct gmem *gm)
{
	memset(gm, 0, sizeof(*gm));
	gm->memfd = -1;
}

int gmem_add_region(struct gmem *gm, uint64_t gpa, uint64_t size, void *hva)
{
	if (size == 0 || range_overflows(gpa, size) || !hva)
		return -EINVAL;
	if (gm->nr_regions >= GMEM_MAX_REGIONS)
		return -ENOSPC;
	for (unsigned int i = 0; i < gm->nr_regions; i++) {
		const struct gmem_region *r = &gm->regions[i];
		if (gpa <= r->gpa + r->size - 1 && r->gpa <= gpa + size - 1)
			return -EEXIST;
	}
	gm->regions[gm->nr_regions++] = (struct gmem_region){ .gpa = gpa, .size = size, .hva = hva };
	return 0;
}

/*
 * Maps RAM (the memfd, or anonymous memory when memfd < 0) at a 2 MiB-aligned address, so that
 * guest-physical 0 (and 4 GiB, at the 2 MiB-aligned low limit) sit on 2 MiB boundaries of the
 * host mapping: only then can the host back RAM with huge pages that KVM maps as 2 MiB pages (it
 * maps 4 KiB ones when the guest and host addresses disagree modulo 2 MiB). Outside hugetlb the
 * RAM is advised for transparent huge pages. NULL with errno set on failure.
 */
static void *map_ram(int memfd, uint64_t ram_size, enum gmem_backing backing)
{
	size_t len = (size_t)ram_size + 2 * MiB;
	int flags = MAP_FIXED | (backing == GMEM_RAM_HUGETLB ? 0 : MAP_NORESERVE);
	uint8_t *resv, *at;
	void *p;

	resv = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return NULL;
	at = (uint8_t *)ALIGN_UP((uintptr_t)resv, 2 * MiB);
	/*
	 * Huge pages are reserved at mmap time only without MAP_NORESERVE; with it, a host without
	 * enough free huge pages would hand out a mapping that dies with SIGBUS on first touch.
	 */
	if (memfd >= 0)
		p = mmap(at, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED | flags, memfd, 0);
	else
		p = mmap(at, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags,
			 -1, 0);
	if (p == MAP_FAILED) {
		int e = errno;

		munmap(resv, len);
		errno = e;
		return NULL;
	}
	if (at > resv)
		munmap(resv, (size_t)(at - resv));
	if (at + ram_size < resv + len)
		munmap(at + ram_size, (size_t)(resv + len - (at + ram_size)));
	if (backing != GMEM_RAM_HUGETLB)
		madvise(at, ram_size, MADV_HUGEPAGE); /* advice only: a host without THP says EINVAL */
	return at;
}

int gmem_init_ram_backed(struct gmem *gm, uint64_t ram_size, uint64_t low_limit,
			 enum gmem_backing backing)
{
	bool huge = backing == GMEM_RAM_HUGETLB;
	uint64_t low, high;
	int ret;

	gmem_init_empty(gm);
	if (ram_size == 0 || low_limit == 0 || !IS_ALIGNED(ram_size, 4096) ||
	    !IS_ALIGNED(low_limit, 2 * MiB) || (huge && !IS_ALIGNED(ram_size, 2 * MiB)))
		return -EINVAL;
	if (backing != GMEM_RAM_ANON) {
		gm->memfd = memfd_create("nestvm-ram", MFD_CLOEXEC | (huge ? MFD_HUGETLB : 0));
		if (gm->memfd < 0)
			return -errno;
		if (ftruncate(gm->memfd, (off_t)ram_size) < 0)
			goto err_errno;
	}
	gm->mapping = map_ram(gm->memfd, ram_size, backing);
	if (!gm->mapping)
		goto err_errno;
	gm->ram_size = ram_size;
	low = ram_size < low_limit ? ram_size : low_limit;
	high = ram_size - low;
	ret = gmem_add_region(gm, 0, low, gm->mapping);
	if (ret)
		goto err;
	if (high) {
		ret = gmem_add_region(gm, 4 * GiB, high, (uint8_t *)gm->mapping + low);
		if (ret)
			goto err;
		gm->regions[1].fd_offset = low;
	}
	return 0;
err_errno:
	ret = -errno;
err:
	gmem_destroy(gm);
	return ret;
}

int gmem_init_ram(struct gmem *gm, uint64_t ram_size, uint64_t low_limit, bool hugepages)
{
	return gmem_init_ram_backed(gm, ram_size, low_limit,
				    hugepages ? GMEM_RAM_HUGETLB : GMEM_RAM_SHARED);
}

void gmem_destroy(struct gmem *gm)
{
	gmem_watch_free(gm);
	if (gm->mapping)
		munmap(gm->mapping, gm->ram_size);
	if (gm->memfd > 0)
		close(gm->memfd);
	gmem_init_empty(gm);
}

static const struct gmem_region *find(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	if (len == 0 || range_overflows(gpa, len))
		return NULL;
	for (unsigned int i = 0; i < gm->nr_regions; i++) {
		const struct gmem_region *r = &gm->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

void *gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *r = find(gm, gpa, len);

	return r ? r->hva + (gpa - r->gpa) : NULL;
}

bool gmem_is_ram(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	return find(gm, gpa, len) != NULL;
}

int gmem_read(const struct gmem *gm, uint64_t gpa, void *dst, size_t len)
{
	void *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

int gmem_write(const struct gmem *gm, uint64_t gpa, const void *src, size_t len)
{
	void *p = gmem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	gmem_watch_note(gm, gpa, len);
	return 0;
}

int gmem_read_u32(const struct gmem *gm, uint64_t gpa, uint32_t *ret_val)
{
	const void *p = gmem_ptr(gm, gpa, 4);

	if (!p)
		return -EFAULT;
	*ret_val = le32_load(p);
	return 0;
}

int gmem_read_u64(const struct gmem *gm, uint64_t gpa, uint64_t *ret_val)
{
	const void *p = gmem_ptr(gm, gpa, 8);

	if (!p)
		return -EFAULT;
	*ret_val = le64_load(p);
	return 0;
}

int gmem_read_u64s(const struct gmem *gm, uint64_t gpa, uint64_t *ret_vals, unsigned int n)
{
	uint8_t raw[64];

	if (n > 8 || gmem_read(gm, gpa, raw, 8u * n))
		return -EFAULT;
	for (unsigned int i = 0; i < n; i++)
		ret_vals[i] = le64_load(raw + 8 * i);
	return 0;
}

int gmem_write_u32(const struct gmem *gm, uint64_t gpa, uint32_t val)
{
	void *p = gmem_ptr(gm, gpa, 4);

	if (!p)
		return -EFAULT;
	le32_store(p, val);
	gmem_watch_note(gm, gpa, 4);
	return 0;
}

int gmem_write_u64(const struct gmem *gm, uint64_t gpa, uint64_t val)
{
	void *p = gmem_ptr(gm, gpa, 8);

	if (!p)
		return -EFAULT;
	le64_store(p, val);
	gmem_watch_note(gm, gpa, 8);
	return 0;
}

int gmem_cmpxchg_u64(const struct gmem *gm, uint64_t gpa, uint64_t expect, uint64_t val,
		     uint64_t *ret_cur)
{
	uint64_t *p;

	if (!IS_ALIGNED(gpa, 8))
		return -EFAULT;
	p = gmem_ptr(gm, gpa, 8);
	if (!p)
		return -EFAULT;
	/* x86 host: guest little-endian words are native. */
	if (__atomic_compare_exchange_n(p, &expect, val, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		gmem_watch_note(gm, gpa, 8);
		return 0;
	}
	if (ret_cur)
		*ret_cur = expect;
	return -EAGAIN;
}
