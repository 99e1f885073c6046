/* SPDX-License-Identifier: MIT */
/*
 * The iommufd backend's per-device bind table at the PASID width the guest is offered (up to
 * 2^20 PASIDs and the RID), against the kernel double: many binds, lookups, replace, detach,
 * teardown, and what lies past the advertised width.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "devices/vfio/iommufd-abi.h"
#include "devices/vfio/tests/kdouble.h"
#include "devices/vfio/vfio.h"

static struct kdouble kd;
static struct iommufd_sys sys;
static struct iommufd_backend *b;
static struct host_iommu hi;
static uint32_t dev;
static char err[256];
static uint8_t ram[16384] __attribute__((aligned(4096)));

/*
 * The executable is linked with --wrap=realloc,--wrap=calloc: every realloc/calloc of the
 * backend and the double comes here, and fail_alloc_in = n makes the n-th one from now fail.
 */
void *__real_realloc(void *p, size_t n);
void *__real_calloc(size_t nmemb, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_calloc(size_t nmemb, size_t size);
static unsigned int fail_alloc_in;

static bool alloc_fails(void)
{
	return fail_alloc_in && !--fail_alloc_in;
}

void *__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

void *__wrap_calloc(size_t nmemb, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(nmemb, size);
}

static const struct host_s1_config s1cfg = { .pgtbl_gpa = 0x100000, .addr_width = 48 };

static void start(void)
{
	kd_init(&kd, 615);
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(b, "/dev/vfio/devices/vfio1", &dev, err, sizeof(err)), 0);
	iommufd_backend_iommu(b, &hi);
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, sizeof(ram), ram, true), 0);
}

/* Teardown must destroy every object and close every fd it opened. */
static void finish(void)
{
	iommufd_backend_close(b);
	ck_assert_uint_eq(kd_live_objects(&kd), 0);
	ck_assert_int_eq(kd.open_fds, 0);
}

/*
 * The backend used to hold 32 binds per device (IFD_MAX_BINDS): the 33rd stage-1 attach
 * failed with -ENOSPC although the guest was offered 20 PASID bits.
 */
START_TEST(test_33rd_bind)
{
	uint32_t s1, base;

	start();
	base = kd_live_objects(&kd);
	for (uint32_t p = 1; p <= 33; p++)
		ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, p, &s1cfg, &s1), 0);
	ck_assert_uint_eq(kd_live_objects(&kd), base + 33);
	for (uint32_t p = 1; p <= 33; p++)
		ck_assert_int_eq(hi.ops->detach(hi.be, dev, p), 0);
	ck_assert_uint_eq(kd_live_objects(&kd), base);
	finish();
}
END_TEST

#define NR_MANY 2000

/* Distinct PASIDs spread over the whole 20-bit width (odd multiplier: a bijection mod 2^20). */
static uint32_t many_pasid(uint32_t i)
{
	return ((i + 1) * 40503u) & 0xfffff;
}

/*
 * 2000 PASIDs and the RID on one device: each bound to its own stage-1 on the host, each
 * found again (invalidated through its stage-1, replaced, detached), nothing left behind.
 */
START_TEST(test_many_binds)
{
	static uint32_t s1[NR_MANY];
	struct host_inv_range rg = { 0, HOST_INV_ALL_PAGES, false };
	uint32_t rid_s1, new_s1, base, inv_before;
	unsigned int done;

	start();
	base = kd_live_objects(&kd);
	for (uint32_t i = 0; i < NR_MANY; i++)
		ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, many_pasid(i), &s1cfg, &s1[i]), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &rid_s1), 0);
	ck_assert_uint_eq(kd_live_objects(&kd), base + NR_MANY + 1);
	ck_assert_uint_eq(kd.devs[1].nr_pasids, NR_MANY);
	ck_assert_uint_eq(kd.devs[1].rid_pt, rid_s1);
	for (uint32_t i = 0; i < NR_MANY; i++) {
		ck_assert_uint_eq(kd_pasid_pt(&kd, 1, many_pasid(i)), s1[i]);
		ck_assert_uint_eq(kd.objs[s1[i]].type, KD_HWPT_NESTED);
	}

	/* Every stage-1 takes its invalidation (one host call each). */
	inv_before = kd.inv_seen;
	for (uint32_t i = 0; i < NR_MANY; i++) {
		ck_assert_int_eq(hi.ops->invalidate(hi.be, s1[i], &rg, 1, &done), 0);
		ck_assert_uint_eq(done, 1);
	}
	ck_assert_uint_eq(kd.inv_seen - inv_before, NR_MANY);

	/* Replace one in the middle: new stage-1 attached, the old one destroyed. */
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, many_pasid(1000), &s1cfg, &new_s1), 0);
	ck_assert_uint_eq(kd_pasid_pt(&kd, 1, many_pasid(1000)), new_s1);
	ck_assert_uint_eq(kd.objs[s1[1000]].type, KD_NONE);
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1[1000], &rg, 1, &done), -ENOENT);
	s1[1000] = new_s1;
	/* Another onto the nest parent (its stage-1 destroyed), then back to a stage-1. */
	ck_assert_int_eq(hi.ops->attach_parent(hi.be, dev, many_pasid(7)), 0);
	ck_assert_uint_eq(kd.objs[s1[7]].type, KD_NONE);
	ck_assert_uint_eq(kd_live_objects(&kd), base + NR_MANY);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, many_pasid(7), &s1cfg, &s1[7]), 0);
	ck_assert_uint_eq(kd_live_objects(&kd), base + NR_MANY + 1);

	/* Detach all, in an order unlike the bind order; each exactly once. */
	for (uint32_t k = 0; k < NR_MANY; k++) {
		uint32_t i = (k * 7 + 3) % NR_MANY;

		ck_assert_int_eq(hi.ops->detach(hi.be, dev, many_pasid(i)), 0);
		ck_assert_uint_eq(kd_pasid_pt(&kd, 1, many_pasid(i)), 0);
		ck_assert_uint_eq(kd.objs[s1[i]].type, KD_NONE);
		ck_assert_int_eq(hi.ops->detach(hi.be, dev, many_pasid(i)), -ENOENT);
		/* The others are still found (lookups after removals). */
		if (k % 400 == 0)
			for (uint32_t j = 0; j < NR_MANY; j++)
				ck_assert_uint_eq(kd_pasid_pt(&kd, 1, many_pasid(j)) != 0,
						  kd.objs[s1[j]].type == KD_HWPT_NESTED);
	}
	ck_assert_int_eq(hi.ops->detach(hi.be, dev, HOST_PASID_NONE), 0);
	ck_assert_uint_eq(kd.devs[1].nr_pasids, 0);
	ck_assert_uint_eq(kd.devs[1].rid_pt, 0);
	ck_assert_uint_eq(kd_live_objects(&kd), base);
	finish();
}
END_TEST

/* Closing with 2000 binds in place detaches and destroys every one of them. */
START_TEST(test_close_with_many_binds)
{
	uint32_t s1;

	start();
	for (uint32_t i = 0; i < NR_MANY; i++)
		ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, many_pasid(i), &s1cfg, &s1), 0);
	for (uint32_t i = 0; i < NR_MANY; i += 2)
		ck_assert_int_eq(hi.ops->attach_parent(hi.be, dev, many_pasid(i)), 0);
	ck_assert_uint_eq(kd.devs[1].nr_pasids, NR_MANY);
	kd.calls[IFD_VFIO_DETACH & 0xff] = 0;
	finish();
	/* One detach per bound PASID and one for the RID (still on the parent). */
	ck_assert_uint_eq(kd.calls[IFD_VFIO_DETACH & 0xff], NR_MANY + 1);
}
END_TEST

/*
 * The edges of the advertised width: the highest PASID binds, the first one past it (and
 * PASID 0) is the kernel's EINVAL, refused before any host call; a device with a narrower
 * width is held to it.
 */
START_TEST(test_pasid_width)
{
	struct host_iommu_caps caps;
	uint32_t s1, before;

	start();
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert_uint_eq(caps.max_pasid_log2, 20);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 0xfffff, &s1cfg, &s1), 0);
	ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 0xfffff), s1);
	before = kd.nr_sys;
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 0x100000, &s1cfg, &s1), -EINVAL);
	ck_assert_int_eq(hi.ops->attach_parent(hi.be, dev, 0x100000), -EINVAL);
	/* PASID 0 is the host's own name for the RID: never a PASID attach. */
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 0, &s1cfg, &s1), -EINVAL);
	ck_assert_int_eq(hi.ops->attach_parent(hi.be, dev, 0), -EINVAL);
	ck_assert_uint_eq(kd.nr_sys, before);
	/* The double's own rules, asked directly: attach EINVAL, detach 0 (the kernel's). */
	{
		struct ifd_vfio_attach at = { .argsz = 16, .flags = IFD_ATTACH_PASID, .pt_id = s1 };
		struct ifd_vfio_detach dt = { .argsz = 12, .flags = IFD_DETACH_PASID, .pasid = 0x100000 };

		at.pasid = 0;
		ck_assert_int_eq(sys.ioctl(&kd, kd.devs[1].fd, IFD_VFIO_ATTACH, &at), -EINVAL);
		at.pasid = 0x100000;
		ck_assert_int_eq(sys.ioctl(&kd, kd.devs[1].fd, IFD_VFIO_ATTACH, &at), -EINVAL);
		ck_assert_int_eq(sys.ioctl(&kd, kd.devs[1].fd, IFD_VFIO_DETACH, &dt), 0);
		ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 0xfffff), s1);
	}
	ck_assert_int_eq(hi.ops->detach(hi.be, dev, 0xfffff), 0);
	finish();

	/* A device with 5 PASID bits: 31 binds, 32 is refused by the backend and the kernel. */
	kd_init(&kd, 615);
	kd.max_pasid_log2 = 5;
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(b, "/dev/vfio/devices/vfio1", &dev, err, sizeof(err)), 0);
	iommufd_backend_iommu(b, &hi);
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, sizeof(ram), ram, true), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 31, &s1cfg, &s1), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 32, &s1cfg, &s1), -EINVAL);
	finish();
	kd_fini(&kd);
}
END_TEST

/*
 * Out of memory while growing the bind table: -ENOMEM to the caller before any host call
 * (nothing attached on the host, nothing left behind), and the same bind works once memory
 * is back. Eight binds fill the first table; the ninth grows the array (realloc) and then
 * the index (calloc).
 */
START_TEST(test_bind_without_memory)
{
	uint32_t s1, before, objs;

	start();
	for (uint32_t p = 1; p <= 8; p++)
		ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, p, &s1cfg, &s1), 0);
	for (unsigned int which = 1; which <= 2; which++) {
		before = kd.nr_sys;
		objs = kd_live_objects(&kd);
		fail_alloc_in = which;
		ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 9, &s1cfg, &s1), -ENOMEM);
		ck_assert_uint_eq(fail_alloc_in, 0);
		ck_assert_uint_eq(kd.nr_sys, before);
		ck_assert_uint_eq(kd_live_objects(&kd), objs);
		ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 9), 0);
		/* The next allocation (the array grew in the second round: the index's). */
		fail_alloc_in = 1;
		ck_assert_int_eq(hi.ops->attach_parent(hi.be, dev, 9), -ENOMEM);
		ck_assert_uint_eq(fail_alloc_in, 0);
		ck_assert_uint_eq(kd.nr_sys, before);
		ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 9), 0);
		/* Not bound: nothing to detach. */
		ck_assert_int_eq(hi.ops->detach(hi.be, dev, 9), -ENOENT);
	}
	/* A replace needs no memory of the table: it works when allocation fails. */
	fail_alloc_in = 1;
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 8, &s1cfg, &s1), 0);
	fail_alloc_in = 0;
	ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 8), s1);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 9, &s1cfg, &s1), 0);
	ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 9), s1);
	for (uint32_t p = 1; p <= 9; p++)
		ck_assert_int_eq(hi.ops->detach(hi.be, dev, p), 0);
	finish();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("iommufd-binds");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_33rd_bind);
	tcase_add_test(tc, test_many_binds);
	tcase_add_test(tc, test_close_with_many_binds);
	tcase_add_test(tc, test_pasid_width);
	tcase_add_test(tc, test_bind_without_memory);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
