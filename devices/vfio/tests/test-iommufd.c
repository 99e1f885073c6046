/* SPDX-License-Identifier: MIT */
/* Unit tests for the iommufd backend against the kernel double at the syscall seam. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static void start(unsigned int kver)
{
	kd_init(&kd, kver);
	kd_sys(&kd, &sys);
	err[0] = 0;
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(b, "/dev/vfio/devices/vfio1", &dev, err, sizeof(err)), 0);
	iommufd_backend_iommu(b, &hi);
}

/* Teardown must destroy every object and close every fd it opened. */
static void finish(void)
{
	iommufd_backend_close(b);
	ck_assert_uint_eq(kd_live_objects(&kd), 0);
	ck_assert_int_eq(kd.open_fds, 0);
}

static const struct host_s1_config s1cfg = { .pgtbl_gpa = 0x100000, .addr_width = 48, .sre = true };

START_TEST(test_full_nesting_615)
{
	struct host_iommu_caps caps;
	uint32_t s1, s2, s1_p5;
	struct host_inv_range r[3] = {
		{ 0x1000, 1, true }, { 0x200000, 512, false }, { 0, HOST_INV_ALL_PAGES, false },
	};
	unsigned int done, before;
	struct iommufd_stats st;

	start(615);
	ck_assert_str_eq(iommufd_backend_missing(b), "");
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert(caps.vtd && caps.nesting && caps.fault_queue && caps.pasid_attach);
	ck_assert(caps.ro_parent_refused);
	ck_assert_uint_eq(caps.max_pasid_log2, 20);
	ck_assert_int_ge(iommufd_backend_fault_fd(b), 0);
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, sizeof(ram), ram, true), 0);
	/* The errata flag: a read-only map into the nest parent's IOAS is refused. */
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0x100000, 4096, ram, false), -EINVAL);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s1), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 5, &s1cfg, &s1_p5), 0);
	ck_assert_uint_eq(kd.devs[1].rid_pt, s1);
	ck_assert_uint_eq(kd.devs[1].pasid_pt[5], s1_p5);
	ck_assert_uint_eq(kd.objs[s1].s1.flags, IFD_VTD_S1_SRE);
	ck_assert_uint_eq(kd.objs[s1].s1.pgtbl_addr, 0x100000);

	/* One batch = one IOMMU_HWPT_INVALIDATE with every range, in order, flags mapped. */
	before = kd.calls[0x8d];
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1_p5, r, 3, &done), 0);
	ck_assert_uint_eq(done, 3);
	ck_assert_uint_eq(kd.calls[0x8d] - before, 1);
	ck_assert_uint_eq(kd.nr_inv_log, 3);
	ck_assert_uint_eq(kd.inv_hwpt[0], s1_p5);
	ck_assert_uint_eq(kd.inv_log[0].flags, IFD_VTD_INV_LEAF);
	ck_assert_uint_eq(kd.inv_log[1].npages, 512);
	ck_assert_uint_eq(kd.inv_log[2].npages, UINT64_MAX);

	/* Replace: a new HWPT is attached atomically, the old one destroyed. */
	before = kd_live_objects(&kd);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s2), 0);
	ck_assert_uint_ne(s1, s2);
	ck_assert_uint_eq(kd_live_objects(&kd), before);
	ck_assert_uint_eq(kd.devs[1].rid_pt, s2);
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, r, 1, &done), -ENOENT);
	ck_assert_uint_eq(done, 0);

	ck_assert_int_eq(hi.ops->detach(hi.be, dev, 5), 0);
	ck_assert_uint_eq(kd.devs[1].pasid_pt[5], 0);
	ck_assert_uint_eq(kd_live_objects(&kd), before - 1);
	ck_assert_int_eq(hi.ops->detach(hi.be, dev, 5), -ENOENT);
	ck_assert_int_eq(hi.ops->unmap_ram(hi.be, 0, sizeof(ram)), 0);
	iommufd_backend_get_stats(b, &st);
	ck_assert_uint_eq(st.hwpt_invalidate, 2);
	finish();
}
END_TEST

START_TEST(test_partial_completion)
{
	struct host_inv_range r[5];
	uint32_t s1;
	unsigned int done, before;

	for (int i = 0; i < 5; i++)
		r[i] = (struct host_inv_range){ 0x1000ULL * (i + 1), 1, false };
	start(615);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s1), 0);
	/* The kernel fails entry 2: entries 0-1 done, reported as such. */
	kd.inv_fail_at = 2;
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, r, 5, &done), -EINVAL);
	ck_assert_uint_eq(done, 2);
	ck_assert_uint_eq(kd.nr_inv_log, 2);
	/* A short success: the remainder is re-issued until all are handled. */
	kd.inv_fail_at = -1;
	kd.inv_short = 2;
	before = kd.calls[0x8d];
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, r, 5, &done), 0);
	ck_assert_uint_eq(done, 5);
	ck_assert_uint_eq(kd.calls[0x8d] - before, 3);
	ck_assert_uint_eq(kd.inv_log[kd.nr_inv_log - 1].addr, 0x5000);
	/* Misaligned address: EINVAL at that entry. */
	kd.inv_short = 0;
	r[1].addr = 0x2008;
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, r, 5, &done), -EINVAL);
	ck_assert_uint_eq(done, 1);
	finish();
}
END_TEST

START_TEST(test_kernel_68)
{
	struct host_iommu_caps caps;
	uint32_t s1;

	start(608);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert(caps.nesting);
	ck_assert(!caps.fault_queue);
	ck_assert(!caps.pasid_attach);
	ck_assert_ptr_nonnull(strstr(iommufd_backend_missing(b), "6.11"));
	ck_assert_ptr_nonnull(strstr(iommufd_backend_missing(b), "6.15"));
	ck_assert_int_eq(iommufd_backend_fault_fd(b), -1);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 3, &s1cfg, &s1), -EOPNOTSUPP);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s1), 0);
	ck_assert_int_eq(hi.ops->page_response(hi.be, dev, 1, 0), -EOPNOTSUPP);
	finish();
}
END_TEST

START_TEST(test_kernel_67_and_66)
{
	struct host_iommu_caps caps;
	uint32_t s1;

	start(607);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert(!caps.nesting);
	ck_assert_ptr_nonnull(strstr(iommufd_backend_missing(b), "6.8"));
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s1), -EOPNOTSUPP);
	finish();

	start(606);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert(!caps.nesting);
	ck_assert_ptr_nonnull(strstr(iommufd_backend_missing(b), "6.7"));
	/* Shadow mode still works: the RID is on the IOAS, maps go there. */
	ck_assert_uint_eq(kd.devs[1].rid_pt, 1);
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, sizeof(ram), ram, false), 0);
	finish();
}
END_TEST

START_TEST(test_no_nest_ecap)
{
	struct host_iommu_caps caps;

	kd_init(&kd, 615);
	kd.nest = false;
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(b, "/dev/vfio/devices/vfio0", &dev, err, sizeof(err)), 0);
	iommufd_backend_iommu(b, &hi);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert(!caps.nesting);
	ck_assert_ptr_nonnull(strstr(iommufd_backend_missing(b), "ECAP.NEST"));
	finish();
}
END_TEST

START_TEST(test_open_errors)
{
	kd_init(&kd, 615);
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, "/dev/nonexistent", &b, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/dev/nonexistent"));
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(b, "/dev/vfio/devices/vfio9", &dev, err, sizeof(err)), -ENOENT);
	iommufd_backend_close(b);
	ck_assert_uint_eq(kd_live_objects(&kd), 0);
	ck_assert_int_eq(kd.open_fds, 0);
	/* Before 6.6 there is no cdev binding / hw info. */
	kd_init(&kd, 605);
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(b, "/dev/vfio/devices/vfio0", &dev, err, sizeof(err)), -ENOTTY);
	ck_assert_ptr_nonnull(strstr(err, "6.6"));
	iommufd_backend_close(b);
	ck_assert_int_eq(kd.open_fds, 0);
}
END_TEST

static struct host_fault got[4];
static unsigned int nr_got;

static void sink(void *opaque, const struct host_fault *f)
{
	if (nr_got < 4)
		got[nr_got++] = *f;
}

START_TEST(test_fault_queue)
{
	struct ifd_pgfault f = { .flags = IFD_PGFAULT_PASID_VALID | IFD_PGFAULT_LAST_PAGE,
				 .pasid = 7, .grpid = 3, .perm = IFD_PERM_WRITE, .addr = 0x5123,
				 .cookie = 42 };

	start(615);
	f.dev_id = kd.devs[1].dev_id;
	nr_got = 0;
	hi.ops->set_fault_handler(hi.be, sink, NULL);
	ck_assert_int_eq(hi.ops->process_faults(hi.be), 0);
	kd_push_fault(&kd, &f);
	f.dev_id = 999; /* unknown device: dropped */
	kd_push_fault(&kd, &f);
	ck_assert_int_eq(hi.ops->process_faults(hi.be), 1);
	ck_assert_uint_eq(nr_got, 1);
	ck_assert(got[0].recoverable && got[0].last && got[0].pasid_valid);
	ck_assert_uint_eq(got[0].dev, dev);
	ck_assert_uint_eq(got[0].pasid, 7);
	ck_assert_uint_eq(got[0].grpid, 3);
	ck_assert_uint_eq(got[0].addr, 0x5000);
	ck_assert_uint_eq(got[0].perm, HOST_PERM_WRITE);
	ck_assert_int_eq(hi.ops->page_response(hi.be, dev, got[0].cookie, HOST_RESP_SUCCESS), 0);
	ck_assert_uint_eq(kd.nr_responded, 1);
	ck_assert_uint_eq(kd.responded[0], 42);
	finish();
}
END_TEST

/* The double itself rejects what the kernel rejects (so the backend tests mean something). */
START_TEST(test_double_validates)
{
	struct ifd_hwpt_alloc ha = { .size = sizeof(ha) };
	struct ifd_vtd_s1 s1 = { .addr_width = 48 };
	struct ifd_destroy d = { .size = sizeof(d) };
	struct ifd_hwpt_invalidate inv = { .size = sizeof(inv) };
	struct ifd_vfio_attach at = { .argsz = 16, .flags = IFD_ATTACH_PASID, .pasid = 1 };
	int fd;

	start(615);
	fd = kd.iommufd;
	ha.dev_id = kd.devs[1].dev_id;
	ha.pt_id = 1; /* the IOAS */
	ha.flags = 0x100;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_ALLOC, &ha), -EOPNOTSUPP);
	ha.flags = 0;
	ha.size = 39;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_ALLOC, &ha), -EINVAL);
	ha.size = sizeof(ha);
	ha.dev_id = 999;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_ALLOC, &ha), -ENOENT);
	ha.dev_id = kd.devs[1].dev_id;
	/* A VTD_S1 child of an IOAS or of a non-parent HWPT is refused. */
	ha.data_type = IFD_HWPT_DATA_VTD_S1;
	ha.data_len = sizeof(s1);
	ha.data_uptr = (uintptr_t)&s1;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_ALLOC, &ha), -EOPNOTSUPP);
	ha.data_type = 0;
	ha.data_len = 0;
	ha.data_uptr = 0;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_ALLOC, &ha), 0);
	ha.pt_id = ha.out_hwpt_id;
	ha.data_type = IFD_HWPT_DATA_VTD_S1;
	ha.data_len = sizeof(s1);
	ha.data_uptr = (uintptr_t)&s1;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_ALLOC, &ha), -EINVAL);
	d.id = ha.pt_id;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_DESTROY, &d), 0);
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_DESTROY, &d), -ENOENT);
	/* The nest parent is busy while the RID is attached to it. */
	d.id = 3;
	ck_assert_uint_eq(kd.objs[3].type, KD_HWPT_PAGING);
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_DESTROY, &d), -EBUSY);
	/* Invalidating a non-nested HWPT, reserved fields, wrong ioctl type. */
	inv.hwpt_id = 3;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_INVALIDATE, &inv), -EINVAL);
	inv.reserved = 1;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_INVALIDATE, &inv), -EOPNOTSUPP);
	ck_assert_int_eq(sys.ioctl(&kd, fd, 0x5401, &inv), -ENOTTY);
	/* PASID attach of an IOAS. */
	at.pt_id = 1;
	ck_assert_int_eq(sys.ioctl(&kd, kd.devs[1].fd, IFD_VFIO_ATTACH, &at), -EINVAL);
	finish();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("iommufd");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_full_nesting_615);
	tcase_add_test(tc, test_partial_completion);
	tcase_add_test(tc, test_kernel_68);
	tcase_add_test(tc, test_kernel_67_and_66);
	tcase_add_test(tc, test_no_nest_ecap);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_fault_queue);
	tcase_add_test(tc, test_double_validates);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
