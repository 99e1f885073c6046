/* SPDX-License-Identifier: MIT */
/* Unit tests for the bounds-checked guest memory accessors and DMA helper. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "check-run.h"
#include "bits.h"
#include "vmm/core/dma.h"
#include "vmm/core/gmem.h"

START_TEST(test_ram_layout_with_hole)
{
	struct gmem gm;

	ck_assert_int_eq(gmem_init_ram(&gm, 3 * GiB, 2 * GiB, false), 0);
	ck_assert_uint_eq(gm.nr_regions, 2);
	ck_assert_uint_eq(gm.regions[0].gpa, 0);
	ck_assert_uint_eq(gm.regions[0].size, 2 * GiB);
	ck_assert_uint_eq(gm.regions[1].gpa, 4 * GiB);
	ck_assert_uint_eq(gm.regions[1].size, 1 * GiB);
	ck_assert(gmem_ptr(&gm, 2 * GiB - 8, 8) != NULL);
	ck_assert(gmem_ptr(&gm, 2 * GiB - 8, 9) == NULL);   /* runs into the hole */
	ck_assert(gmem_ptr(&gm, 3 * GiB, 1) == NULL);       /* inside the hole */
	ck_assert(gmem_ptr(&gm, 5 * GiB - 1, 1) != NULL);
	ck_assert(gmem_ptr(&gm, 5 * GiB - 1, 2) == NULL);   /* past the end */
	/* Guest and host addresses agree modulo 2 MiB (huge pages can back and map the RAM). */
	ck_assert_uint_eq((uintptr_t)gmem_ptr(&gm, 0, 1) % (2 * MiB), 0);
	ck_assert_uint_eq((uintptr_t)gmem_ptr(&gm, 4 * GiB, 1) % (2 * MiB), 0);
	ck_assert_uint_eq((uintptr_t)gmem_ptr(&gm, 4 * GiB + 4096, 1) % (2 * MiB), 4096);
	gmem_destroy(&gm);
}
END_TEST

/* Anonymous RAM: no memfd, the same layout and alignment, reads back what was written. */
START_TEST(test_anon_ram)
{
	struct gmem gm;
	uint64_t v = 0;

	ck_assert_int_eq(gmem_init_ram_backed(&gm, 3 * GiB, 2 * GiB, GMEM_RAM_ANON), 0);
	ck_assert_int_lt(gm.memfd, 0);
	ck_assert_uint_eq(gm.nr_regions, 2);
	ck_assert_uint_eq((uintptr_t)gmem_ptr(&gm, 0, 1) % (2 * MiB), 0);
	ck_assert_uint_eq((uintptr_t)gmem_ptr(&gm, 4 * GiB, 1) % (2 * MiB), 0);
	ck_assert_int_eq(gmem_write_u64(&gm, 4 * GiB + 8, 0x1122334455667788ULL), 0);
	ck_assert_int_eq(gmem_read_u64(&gm, 4 * GiB + 8, &v), 0);
	ck_assert_uint_eq(v, 0x1122334455667788ULL);
	gmem_destroy(&gm);
	/* The low limit must keep the 4 GiB region 2 MiB-congruent. */
	ck_assert_int_eq(gmem_init_ram_backed(&gm, 3 * GiB, 2 * GiB + 4096, GMEM_RAM_ANON), -EINVAL);
}
END_TEST

START_TEST(test_small_ram_single_region)
{
	struct gmem gm;

	ck_assert_int_eq(gmem_init_ram(&gm, 16 * MiB, 2 * GiB, false), 0);
	ck_assert_uint_eq(gm.nr_regions, 1);
	ck_assert_int_eq(gmem_write_u64(&gm, 16 * MiB - 8, 0x1122334455667788ULL), 0);
	uint64_t v = 0;
	ck_assert_int_eq(gmem_read_u64(&gm, 16 * MiB - 8, &v), 0);
	ck_assert_uint_eq(v, 0x1122334455667788ULL);
	ck_assert_int_eq(gmem_read_u64(&gm, 16 * MiB - 4, &v), -EFAULT);
	gmem_destroy(&gm);
}
END_TEST

START_TEST(test_overflow_and_bad_args)
{
	struct gmem gm;
	static uint8_t buf[4096];
	uint64_t v;

	gmem_init_empty(&gm);
	ck_assert_int_eq(gmem_add_region(&gm, 0x1000, sizeof(buf), buf), 0);
	ck_assert_int_eq(gmem_add_region(&gm, 0x1800, 16, buf), -EEXIST);
	ck_assert_int_eq(gmem_add_region(&gm, ~0ULL - 10, 4096, buf), -EINVAL);
	ck_assert(gmem_ptr(&gm, ~0ULL, 2) == NULL);
	ck_assert(gmem_ptr(&gm, 0x1000, 0) == NULL);
	ck_assert(gmem_ptr(&gm, 0x1ff8, ~0ULL) == NULL);
	ck_assert_int_eq(gmem_read_u64(&gm, 0xfff, &v), -EFAULT);
	ck_assert_int_eq(gmem_read_u64(&gm, 0x1ffc, &v), -EFAULT);
	ck_assert_int_eq(gmem_init_ram(&gm, 4097, 2 * GiB, false), -EINVAL);
}
END_TEST

START_TEST(test_cmpxchg)
{
	struct gmem gm;
	static uint8_t buf[4096];
	uint64_t cur = 0;

	gmem_init_empty(&gm);
	ck_assert_int_eq(gmem_add_region(&gm, 0, sizeof(buf), buf), 0);
	ck_assert_int_eq(gmem_write_u64(&gm, 0x10, 5), 0);
	ck_assert_int_eq(gmem_cmpxchg_u64(&gm, 0x10, 4, 9, &cur), -EAGAIN);
	ck_assert_uint_eq(cur, 5);
	ck_assert_int_eq(gmem_cmpxchg_u64(&gm, 0x10, 5, 9, &cur), 0);
	ck_assert_int_eq(gmem_read_u64(&gm, 0x10, &cur), 0);
	ck_assert_uint_eq(cur, 9);
	ck_assert_int_eq(gmem_cmpxchg_u64(&gm, 0x11, 9, 1, &cur), -EFAULT);
}
END_TEST

/* A fake IOMMU that maps iova page N to gpa page N+1 and blocks page 3. */
static int fake_translate(void *iommu, const struct dma_req *req, uint64_t iova,
			  struct dma_xlate *ret)
{
	int *calls = iommu;

	(*calls)++;
	if ((iova >> 12) == 3)
		return -EACCES;
	ret->gpa = iova + 4096;
	ret->len = 4096 - (iova & 4095);
	return 0;
}

static const struct dma_iommu_ops fake_ops = { .translate = fake_translate };

START_TEST(test_dma_through_iommu)
{
	struct gmem gm;
	static uint8_t ram[8 * 4096];
	uint8_t buf[6000];
	int calls = 0;
	struct dma_as as = { .gmem = &gm, .ops = &fake_ops, .iommu = &calls };
	struct dma_req req = { .sid = 0x18 };

	gmem_init_empty(&gm);
	ck_assert_int_eq(gmem_add_region(&gm, 0, sizeof(ram), ram), 0);
	memset(buf, 0xab, sizeof(buf));
	ck_assert_int_eq(dma_write(&as, &req, 0x800, buf, sizeof(buf)), 0);
	ck_assert_int_eq(calls, 2); /* 0x800..0x1000 (2048 bytes), then 0x1000..0x1f70 */
	ck_assert_uint_eq(ram[0x1800], 0xab);
	ck_assert_uint_eq(ram[0x1800 + 5999], 0xab);
	ck_assert_uint_eq(ram[0x1800 + 6000], 0);
	ck_assert_int_eq(dma_read(&as, &req, 0x2f00, buf, 0x200), -EACCES);
	as.ops = NULL;
	ck_assert_int_eq(dma_read(&as, &req, sizeof(ram) - 4, buf, 8), -EFAULT);
}
END_TEST

/* A fake IOMMU with a page table: iova page N -> gpa page map_pages[N], < 0 blocked. */
static const int map_pages[8] = { 1, 2, 5, 6, 7, -1, 0, 0 };
static unsigned int map_access;

static int table_translate(void *iommu, const struct dma_req *req, uint64_t iova,
			   struct dma_xlate *ret)
{
	uint64_t page = iova >> 12;

	map_access = req->access;
	if (page >= 8 || map_pages[page] < 0)
		return -EACCES;
	ret->gpa = (uint64_t)map_pages[page] << 12 | (iova & 4095);
	ret->len = 4096 - (iova & 4095);
	return 0;
}

static const struct dma_iommu_ops table_ops = { .translate = table_translate };

/* dma_map: host pieces in order, contiguous ones merged; its errors, and the access it asks. */
START_TEST(test_dma_map)
{
	static uint8_t ram[8 * 4096];
	struct gmem gm;
	struct dma_as as = { .gmem = &gm, .ops = &table_ops };
	struct dma_req req = { .sid = 0x18 };
	struct iovec iov[4];

	gmem_init_empty(&gm);
	ck_assert_int_eq(gmem_add_region(&gm, 0, sizeof(ram), ram), 0);
	/* iova 0x800..0x4800: pages 0-1 -> 1-2 (one piece), 2-4 -> 5-7 (another). */
	ck_assert_int_eq(dma_map(&as, &req, 0x800, 0x4000, true, iov, 4), 2);
	ck_assert_ptr_eq(iov[0].iov_base, ram + 0x1800);
	ck_assert_uint_eq(iov[0].iov_len, 0x1800);
	ck_assert_ptr_eq(iov[1].iov_base, ram + 0x5000);
	ck_assert_uint_eq(iov[1].iov_len, 0x2800);
	ck_assert_uint_eq(map_access, DMA_ACC_WRITE);
	ck_assert_int_eq(dma_map(&as, &req, 0x800, 0x4000, false, iov, 4), 2);
	ck_assert_uint_eq(map_access, DMA_ACC_READ);
	/* More pieces than room; a blocked page; a target that is not RAM. */
	ck_assert_int_eq(dma_map(&as, &req, 0x800, 0x4000, false, iov, 1), -E2BIG);
	ck_assert_int_eq(dma_map(&as, &req, 0x4000, 0x2000, false, iov, 4), -EACCES);
	ck_assert_int_eq(dma_map(&as, &req, 0x6000, 0x10, false, iov, 4), 1);
	ck_assert_ptr_eq(iov[0].iov_base, ram);
	/* No IOMMU: the range itself, if it is one RAM region. */
	as.ops = NULL;
	ck_assert_int_eq(dma_map(&as, &req, 0x100, 0x7000, true, iov, 1), 1);
	ck_assert_ptr_eq(iov[0].iov_base, ram + 0x100);
	ck_assert_uint_eq(iov[0].iov_len, 0x7000);
	ck_assert_int_eq(dma_map(&as, &req, sizeof(ram) - 4, 8, true, iov, 4), -EFAULT);
	ck_assert_int_eq(dma_map(&as, &req, 0x100, 0, true, iov, 4), 0);
}
END_TEST

static Suite *gmem_suite(void)
{
	Suite *s = suite_create("gmem");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ram_layout_with_hole);
	tcase_add_test(tc, test_small_ram_single_region);
	tcase_add_test(tc, test_anon_ram);
	tcase_add_test(tc, test_overflow_and_bad_args);
	tcase_add_test(tc, test_cmpxchg);
	tcase_add_test(tc, test_dma_through_iommu);
	tcase_add_test(tc, test_dma_map);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(gmem_suite());
}
