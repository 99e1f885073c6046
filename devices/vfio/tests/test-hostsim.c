/* SPDX-License-Identifier: MIT */
/* Unit tests for hostsim: stage-1 walks through its stage-2, its own IOTLB, faults and stats. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/check-run.h"
#include "devices/vfio/vfio.h"
#include "vmm/core/gmem.h"

#define RAM (4u << 20)
#define ROOT 0x100000ULL

static struct gmem gm;
static uint8_t *ram;
static uint64_t next_table;
static struct hostsim *hs;
static struct host_iommu hi;
static uint32_t dev;
static struct dma_as as;
static struct host_fault last_fault;
static unsigned int nr_faults;

static void sink(void *opaque, const struct host_fault *f)
{
	last_fault = *f;
	nr_faults++;
}

static uint64_t rd64(uint64_t gpa) { uint64_t v; memcpy(&v, ram + gpa, 8); return v; }
static void wr64(uint64_t gpa, uint64_t v) { memcpy(ram + gpa, &v, 8); }

/* Maps one 4 KiB page in the 4-level table rooted at root (P, RW, US flags in pte bits). */
static uint64_t map4k(uint64_t root, uint64_t iova, uint64_t gpa, uint64_t flags)
{
	uint64_t t = root;

	for (int lvl = 4; lvl > 1; lvl--) {
		uint64_t pa = t + ((iova >> (12 + 9 * (lvl - 1))) & 511) * 8;

		if (!(rd64(pa) & 1)) {
			wr64(pa, next_table | 0x7);
			next_table += 4096;
		}
		t = rd64(pa) & ~0xfffULL;
	}
	wr64(t + ((iova >> 12) & 511) * 8, gpa | flags);
	return t + ((iova >> 12) & 511) * 8;
}

static void setup(void)
{
	ram = aligned_alloc(4096, RAM);
	ck_assert_ptr_nonnull(ram);
	memset(ram, 0, RAM);
	gmem_init_empty(&gm);
	ck_assert_int_eq(gmem_add_region(&gm, 0, RAM, ram), 0);
	next_table = ROOT + 0x1000;
	hs = hostsim_create(&gm, NULL);
	ck_assert_ptr_nonnull(hs);
	hostsim_iommu(hs, &hi);
	hi.ops->set_fault_handler(hi.be, sink, NULL);
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, RAM, ram, true), 0);
	ck_assert_int_eq(hostsim_add_device(hs, false, &dev), 0);
	ck_assert_int_eq(hostsim_dma_as(hs, dev, &as), 0);
	nr_faults = 0;
}

static void teardown(void)
{
	hostsim_destroy(hs);
	free(ram);
}

static const struct dma_req rid_rd = { .sid = 0x10, .access = DMA_ACC_READ };
static const struct dma_req rid_wr = { .sid = 0x10, .access = DMA_ACC_WRITE };

static void attach(uint32_t pasid, uint64_t root, uint32_t *ret_s1)
{
	struct host_s1_config c = { .pgtbl_gpa = root, .addr_width = 48 };

	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, pasid, &c, ret_s1), 0);
}

START_TEST(test_walk_and_dma)
{
	uint32_t s1, v = 0;

	map4k(ROOT, 0x7000, 0x200000, 0x7);
	memcpy(ram + 0x200010, "\x44\x33\x22\x11", 4);
	attach(HOST_PASID_NONE, ROOT, &s1);
	ck_assert_int_eq(dma_read(&as, &rid_rd, 0x7010, &v, 4), 0);
	ck_assert_uint_eq(v, 0x11223344);
	v = 0xabcd;
	ck_assert_int_eq(dma_write(&as, &rid_wr, 0x7020, &v, 4), 0);
	ck_assert_uint_eq(ram[0x200020], 0xcd);
	ck_assert_uint_eq(hostsim_iotlb_entries(hs), 1);
}
END_TEST

START_TEST(test_stale_until_forwarded)
{
	uint32_t s1, v = 0;
	uint64_t pte = map4k(ROOT, 0x7000, 0x200000, 0x7);
	struct host_inv_range narrow = { .addr = 0x8000, .npages = 1 };
	struct host_inv_range exact = { .addr = 0x7000, .npages = 1, .leaf = true };
	unsigned int done;
	struct hostsim_stats st;

	wr64(0x200000, 1);
	wr64(0x300000, 2);
	attach(HOST_PASID_NONE, ROOT, &s1);
	ck_assert_int_eq(dma_read(&as, &rid_rd, 0x7000, &v, 4), 0);
	ck_assert_uint_eq(v, 1);
	/* The guest remaps without telling the host: hostsim keeps the old translation. */
	wr64(pte, 0x300000 | 0x7);
	ck_assert_int_eq(dma_read(&as, &rid_rd, 0x7000, &v, 4), 0);
	ck_assert_uint_eq(v, 1);
	/* Too narrow (another page): still stale. */
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, &narrow, 1, &done), 0);
	ck_assert_int_eq(dma_read(&as, &rid_rd, 0x7000, &v, 4), 0);
	ck_assert_uint_eq(v, 1);
	/* The right forward: the next DMA walks again. */
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, &exact, 1, &done), 0);
	ck_assert_uint_eq(done, 1);
	ck_assert_int_eq(dma_read(&as, &rid_rd, 0x7000, &v, 4), 0);
	ck_assert_uint_eq(v, 2);
	/* Unmap + invalidate: the DMA faults and the sink hears it. */
	wr64(pte, 0);
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, &exact, 1, &done), 0);
	ck_assert_int_eq(dma_read(&as, &rid_rd, 0x7000, &v, 4), -EACCES);
	ck_assert_uint_eq(nr_faults, 1);
	ck_assert(!last_fault.recoverable);
	ck_assert_uint_eq(last_fault.reason, 0x71);
	ck_assert_uint_eq(last_fault.addr, 0x7000);
	ck_assert(!last_fault.pasid_valid);
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.inv_calls, 3);
	ck_assert_uint_eq(st.inv_ranges, 3);
	ck_assert_uint_eq(st.attach, 1);
	ck_assert_uint_eq(st.faults, 1);
	{
		char line[200];

		hostsim_format_summary(hs, line, sizeof(line));
		ck_assert_str_eq(line, "host forwards: 1 binds (0 replaced, 0 detached), 3 invalidation "
				       "batches (3 ranges), 1 faults, 0 page requests (0 answered)");
	}
}
END_TEST

START_TEST(test_pasids_separate_and_detach)
{
	uint32_t s1a, s1b, v = 0;
	const uint64_t root2 = 0x180000;
	struct dma_req p5 = { .sid = 0x10, .has_pasid = true, .pasid = 5, .access = DMA_ACC_READ };
	struct host_inv_range all = { .addr = 0, .npages = HOST_INV_ALL_PAGES };
	unsigned int done;
	struct hostsim_stats st;

	map4k(ROOT, 0x7000, 0x200000, 0x7);
	map4k(root2, 0x7000, 0x300000, 0x7);
	wr64(0x200000, 1);
	wr64(0x300000, 2);
	attach(HOST_PASID_NONE, ROOT, &s1a);
	/* Not attached yet: PASID 5 is blocked. */
	ck_assert_int_eq(dma_read(&as, &p5, 0x7000, &v, 4), -EACCES);
	ck_assert_uint_eq(last_fault.pasid, 5);
	ck_assert(last_fault.pasid_valid);
	attach(5, root2, &s1b);
	ck_assert_uint_ne(s1a, s1b);
	ck_assert_int_eq(dma_read(&as, &p5, 0x7000, &v, 4), 0);
	ck_assert_uint_eq(v, 2);
	ck_assert_int_eq(dma_read(&as, &rid_rd, 0x7000, &v, 4), 0);
	ck_assert_uint_eq(v, 1);
	/* Invalidating one stage-1 leaves the other's entries alone. */
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1b, &all, 1, &done), 0);
	ck_assert_uint_eq(hostsim_iotlb_entries(hs), 1);
	/* Replace: new handle, old one is gone. */
	{
		uint32_t old = s1b;

		attach(5, ROOT, &s1b);
		ck_assert_uint_ne(old, s1b);
		ck_assert_int_eq(hi.ops->invalidate(hi.be, old, &all, 1, &done), -ENOENT);
	}
	ck_assert_int_eq(dma_read(&as, &p5, 0x7000, &v, 4), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(hi.ops->detach(hi.be, dev, 5), 0);
	ck_assert_int_eq(dma_read(&as, &p5, 0x7000, &v, 4), -EACCES);
	ck_assert_int_eq(hi.ops->detach(hi.be, dev, 5), -ENOENT);
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.attach, 2);
	ck_assert_uint_eq(st.replace, 1);
	ck_assert_uint_eq(st.detach, 1);
}
END_TEST

START_TEST(test_permissions_and_stage2)
{
	uint32_t s1, v = 0;
	struct dma_req sup = { .sid = 0x10, .access = DMA_ACC_READ | DMA_ACC_PRIV };
	struct host_s1_config c = { .pgtbl_gpa = ROOT, .addr_width = 48, .sre = true };

	map4k(ROOT, 0x7000, 0x200000, 0x5); /* read-only, user */
	map4k(ROOT, 0x9000, RAM + 0x1000, 0x7); /* outside the stage-2 map */
	attach(HOST_PASID_NONE, ROOT, &s1);
	ck_assert_int_eq(dma_write(&as, &rid_wr, 0x7000, &v, 4), -EACCES);
	ck_assert_uint_eq(last_fault.reason, 0x85);
	ck_assert_int_eq(dma_read(&as, &sup, 0x7000, &v, 4), -EACCES);
	ck_assert_uint_eq(last_fault.reason, 0x5d); /* SRE=0 */
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &c, &s1), 0);
	ck_assert_int_eq(dma_read(&as, &sup, 0x7000, &v, 4), 0);
	ck_assert_int_eq(dma_read(&as, &rid_rd, 0x9000, &v, 4), -EACCES);
	ck_assert_uint_eq(last_fault.reason, 0x79);
	ck_assert_int_eq(dma_read(&as, &rid_rd, 0x0000800000000000ULL, &v, 4), -EACCES);
	ck_assert_uint_eq(last_fault.reason, 0x80);
	/* Bad configurations. */
	c.addr_width = 39;
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &c, &s1), -EINVAL);
	c.addr_width = 48;
	c.pgtbl_gpa = ROOT + 8;
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &c, &s1), -EINVAL);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev + 5, HOST_PASID_NONE, &c, &s1), -ENOENT);
	/* Like Linux's intel-iommu: EAFE needs ECAP.EAFS (absent here); WPE alone is accepted. */
	c.pgtbl_gpa = ROOT;
	c.eafe = true;
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &c, &s1), -EINVAL);
	c.eafe = false;
	c.sre = false;
	c.wpe = true;
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &c, &s1), 0);
}
END_TEST

START_TEST(test_page_requests)
{
	uint32_t pri_dev, s1, v;
	struct dma_as pas;
	struct dma_req p3 = { .sid = 0x18, .has_pasid = true, .pasid = 3, .access = DMA_ACC_WRITE };
	struct host_s1_config c = { .pgtbl_gpa = ROOT, .addr_width = 48 };
	struct hostsim_stats st;

	ck_assert_int_eq(hostsim_add_device(hs, true, &pri_dev), 0);
	ck_assert_int_eq(hostsim_dma_as(hs, pri_dev, &pas), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, pri_dev, 3, &c, &s1), 0);
	ck_assert_int_eq(dma_write(&pas, &p3, 0x5000, &v, 4), -EACCES);
	ck_assert(last_fault.recoverable);
	ck_assert(last_fault.last);
	ck_assert_uint_eq(last_fault.dev, pri_dev);
	ck_assert_uint_eq(last_fault.perm, HOST_PERM_WRITE);
	ck_assert_uint_ne(last_fault.cookie, 0);
	ck_assert_int_eq(hi.ops->page_response(hi.be, pri_dev, last_fault.cookie + 1, 0), -EINVAL);
	ck_assert_int_eq(hi.ops->page_response(hi.be, pri_dev, last_fault.cookie, HOST_RESP_SUCCESS), 0);
	ck_assert_int_eq(hi.ops->page_response(hi.be, pri_dev, last_fault.cookie, HOST_RESP_SUCCESS), -EINVAL);
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.page_reqs, 1);
	ck_assert_uint_eq(st.page_resps, 1);
}
END_TEST

START_TEST(test_no_pasid_attach_without_cap)
{
	struct host_iommu_caps caps = { .vtd = true, .nesting = true, .max_pasid_log2 = 20 };
	struct hostsim *h2 = hostsim_create(&gm, &caps);
	struct host_iommu i2;
	struct host_s1_config c = { .pgtbl_gpa = ROOT, .addr_width = 48 };
	uint32_t d2, s1;

	hostsim_iommu(h2, &i2);
	ck_assert_int_eq(hostsim_add_device(h2, false, &d2), 0);
	ck_assert_int_eq(i2.ops->attach_s1(i2.be, d2, 1, &c, &s1), -EOPNOTSUPP);
	ck_assert_int_eq(i2.ops->attach_s1(i2.be, d2, HOST_PASID_NONE, &c, &s1), 0);
	caps.ro_parent_refused = true;
	hostsim_destroy(h2);
	h2 = hostsim_create(&gm, &caps);
	hostsim_iommu(h2, &i2);
	ck_assert_int_eq(i2.ops->map_ram(i2.be, 0, 4096, ram, false), -EINVAL);
	ck_assert_int_eq(i2.ops->map_ram(i2.be, 0, 4096, ram, true), 0);
	ck_assert_int_eq(i2.ops->map_ram(i2.be, 0, 8192, ram, true), -EEXIST);
	hostsim_destroy(h2);
}
END_TEST

START_TEST(test_bad_invalidation_ranges)
{
	uint32_t s1;
	unsigned int done = 99;
	struct host_inv_range r[3] = { { 0x1000, 1, false }, { 0x2001, 1, false }, { 0x3000, 1, false } };

	attach(HOST_PASID_NONE, ROOT, &s1);
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, r, 3, &done), -EINVAL);
	ck_assert_uint_eq(done, 1);
}
END_TEST

/*
 * As the kernel's VT-d nested invalidation: any page count from an aligned address, also one
 * that runs past the top of the address space (the range saturates); U64_MAX pages (all) only
 * from address 0.
 */
START_TEST(test_wide_invalidation_ranges)
{
	uint32_t s1, v = 0;
	uint64_t pte = map4k(ROOT, 0x7000, 0x200000, 0x7);
	struct host_inv_range wide[3] = { { 0, 1ULL << 27, false }, { 0x7000, 1ULL << 45, false },
					  { 0x7000, 1ULL << 60, false } };
	struct host_inv_range bad_all = { 0x1000, HOST_INV_ALL_PAGES, false };
	unsigned int done;

	wr64(0x200000, 1);
	wr64(0x300000, 2);
	attach(HOST_PASID_NONE, ROOT, &s1);
	for (unsigned int i = 0; i < 3; i++) {
		wr64(pte, (i % 2 ? 0x200000 : 0x300000) | 0x7);
		ck_assert_int_eq(dma_read(&as, &rid_rd, 0x7000, &v, 4), 0); /* cached */
		wr64(pte, (i % 2 ? 0x300000 : 0x200000) | 0x7);
		ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, &wide[i], 1, &done), 0);
		ck_assert_uint_eq(done, 1);
		ck_assert_int_eq(dma_read(&as, &rid_rd, 0x7000, &v, 4), 0);
		ck_assert_uint_eq(v, i % 2 ? 2 : 1);
	}
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, &bad_all, 1, &done), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hostsim");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_walk_and_dma);
	tcase_add_test(tc, test_stale_until_forwarded);
	tcase_add_test(tc, test_pasids_separate_and_detach);
	tcase_add_test(tc, test_permissions_and_stage2);
	tcase_add_test(tc, test_page_requests);
	tcase_add_test(tc, test_no_pasid_attach_without_cap);
	tcase_add_test(tc, test_bad_invalidation_ranges);
	tcase_add_test(tc, test_wide_invalidation_ranges);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
