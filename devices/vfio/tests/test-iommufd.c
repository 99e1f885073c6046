/* SPDX-License-Identifier: MIT */
/* Unit tests for the iommufd backend against the kernel double at the syscall seam. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/vfio/iommufd-abi.h"
#include "devices/vfio/tests/kdouble.h"
#include "devices/vfio/vfio.h"
#include "vmm/core/evloop.h"

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
	/* No page requests until the vfio-pci model found ATS + PRI on the host function. */
	ck_assert(caps.vtd && caps.nesting && !caps.fault_queue && caps.pasid_attach);
	ck_assert_int_eq(iommufd_backend_set_host_pri(b, dev, true), 0);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert(caps.fault_queue);
	ck_assert(caps.ro_parent_refused);
	ck_assert_uint_eq(caps.max_pasid_log2, 20);
	ck_assert_int_ge(iommufd_backend_fault_fd(b), 0);
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, sizeof(ram), ram, true), 0);
	/* The errata flag: a read-only map into the nest parent's IOAS is refused. */
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0x100000, 4096, ram, false), -EINVAL);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s1), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 5, &s1cfg, &s1_p5), 0);
	ck_assert_uint_eq(kd.devs[1].rid_pt, s1);
	ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 5), s1_p5);
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
	ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 5), 0);
	ck_assert_uint_eq(kd_live_objects(&kd), before - 1);
	ck_assert_int_eq(hi.ops->detach(hi.be, dev, 5), -ENOENT);
	ck_assert_int_eq(hi.ops->unmap_ram(hi.be, 0, sizeof(ram)), 0);
	iommufd_backend_get_stats(b, &st);
	ck_assert_uint_eq(st.hwpt_invalidate, 2);
	finish();
}
END_TEST

/*
 * Linux 7.3 takes any first-stage config at HWPT_ALLOC and refuses at attach what the unit
 * cannot do (EAFE without ECAP.EAFS, 5-level without CAP.FS5LP): -EINVAL, and the current
 * attachment stays. The backend returns the error and leaves nothing behind.
 */
START_TEST(test_refused_at_attach)
{
	struct host_s1_config bad = s1cfg;
	uint32_t s1, s2, before;

	start(615);
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, sizeof(ram), ram, true), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 3, &s1cfg, &s1), 0);
	before = kd_live_objects(&kd);
	bad.eafe = true;
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 3, &bad, &s2), -EINVAL);
	bad.eafe = false;
	bad.addr_width = 57;
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 3, &bad, &s2), -EINVAL);
	ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 3), s1);
	ck_assert_uint_eq(kd_live_objects(&kd), before);
	ck_assert_int_eq(hi.ops->detach(hi.be, dev, 3), 0);
	ck_assert_int_eq(hi.ops->unmap_ram(hi.be, 0, sizeof(ram)), 0);
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
	/* The whole batch goes in one call, all handled. */
	kd.inv_fail_at = -1;
	before = kd.calls[0x8d];
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, r, 5, &done), 0);
	ck_assert_uint_eq(done, 5);
	ck_assert_uint_eq(kd.calls[0x8d] - before, 1);
	ck_assert_uint_eq(kd.inv_log[kd.nr_inv_log - 1].addr, 0x5000);
	/* Misaligned address: EINVAL at that entry. */
	r[1].addr = 0x2008;
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, r, 5, &done), -EINVAL);
	ck_assert_uint_eq(done, 1);
	/* "Everything" must start at 0 (intel_nested_cache_invalidate_user). */
	r[1].addr = 0x2000;
	r[2] = (struct host_inv_range){ 0x3000, HOST_INV_ALL_PAGES, false };
	ck_assert_int_eq(hi.ops->invalidate(hi.be, s1, r, 5, &done), -EINVAL);
	ck_assert_uint_eq(done, 2);
	finish();
}
END_TEST

/*
 * Item 4 of issue 11: IOMMU_HWPT_FAULT_ID_VALID makes the kernel enable IOPF at attach, which
 * VT-d refuses (-ENODEV) for a device without ATS + PRI. It used to be set on every stage-1
 * once a fault queue existed, so every bind of such a device failed on 6.11+.
 */
START_TEST(test_fault_id_only_with_pri)
{
	struct host_s1_config pri_cfg = s1cfg;
	uint32_t s1;

	pri_cfg.pri = true;
	start(615);
	/* The guest asks for page requests, the host function has no PRI: bind without IOPF. */
	ck_assert_int_eq(iommufd_backend_set_guest_pri(b, dev, true), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &pri_cfg, &s1), 0);
	ck_assert_uint_eq(kd.devs[1].rid_pt, s1);
	ck_assert(!(kd.objs[s1].flags & IFD_HWPT_FAULT_ID_VALID));
	/* The host function has PRI (the double agrees): now the stage-1 carries the queue. */
	kd.dev_pri[1] = true;
	ck_assert_int_eq(iommufd_backend_set_host_pri(b, dev, true), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 3, &pri_cfg, &s1), 0);
	ck_assert(kd.objs[s1].flags & IFD_HWPT_FAULT_ID_VALID);
	/* Context PRE=0 (cfg.pri false) or the guest's PRI enable off: no queue either. */
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 4, &s1cfg, &s1), 0);
	ck_assert(!(kd.objs[s1].flags & IFD_HWPT_FAULT_ID_VALID));
	ck_assert_int_eq(iommufd_backend_set_guest_pri(b, dev, false), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 5, &pri_cfg, &s1), 0);
	ck_assert(!(kd.objs[s1].flags & IFD_HWPT_FAULT_ID_VALID));
	/* A backend that claims PRI the host function lacks gets the kernel's -ENODEV. */
	kd.dev_pri[1] = false;
	ck_assert_int_eq(iommufd_backend_set_guest_pri(b, dev, true), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 6, &pri_cfg, &s1), -ENODEV);
	ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 6), 0);
	/* The nest parent never has a fault queue (6.15+ refuses one). */
	for (uint32_t i = 1; i < kd.nr_objs; i++)
		if (kd.objs[i].type == KD_HWPT_PAGING)
			ck_assert(!(kd.objs[i].flags & IFD_HWPT_FAULT_ID_VALID));
	ck_assert_int_eq(iommufd_backend_set_host_pri(b, 7, true), -ENOENT);
	finish();
}
END_TEST

/* Before 6.15 the kernel reports no PASID width: RID nesting still works. */
START_TEST(test_kernel_611_no_pasid_width)
{
	struct host_iommu_caps caps;
	uint32_t s1;

	start(611);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert(caps.nesting);
	ck_assert_uint_eq(caps.max_pasid_log2, 0);
	ck_assert(!caps.pasid_attach);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s1), 0);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, 1, &s1cfg, &s1), -EOPNOTSUPP);
	finish();
	/* 6.15 with a device without a PASID capability: 0 as well. */
	kd_init(&kd, 615);
	kd.max_pasid_log2 = 0;
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(b, "/dev/vfio/devices/vfio0", &dev, err, sizeof(err)), 0);
	iommufd_backend_iommu(b, &hi);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert_uint_eq(caps.max_pasid_log2, 0);
	ck_assert(caps.nesting && !caps.pasid_attach);
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s1), 0);
	finish();
}
END_TEST

/*
 * Guest RAM across the x86 MSI window: the kernel refuses any mapping over a reserved IOVA
 * region of an attached device (iopt_check_iova: EINVAL), so the parent is mapped around it.
 */
START_TEST(test_ram_around_reserved)
{
	/* Never dereferenced: the double checks addresses only. */
	uint8_t *hva = (uint8_t *)(uintptr_t)0x7f0000000000ULL;
	struct iommufd_stats st;
	int found = 0;

	start(615);
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0xfe000000, 0x2000000, hva, true), 0);
	for (int i = 0; i < KD_MAX_MAPS; i++) {
		if (!kd.maps[i].len)
			continue;
		found++;
		ck_assert(kd.maps[i].iova + kd.maps[i].len <= KD_MSI_START || kd.maps[i].iova > KD_MSI_LAST);
		if (kd.maps[i].iova == 0xfe000000)
			ck_assert_uint_eq(kd.maps[i].len, KD_MSI_START - 0xfe000000);
		else
			ck_assert_uint_eq(kd.maps[i].iova, KD_MSI_LAST + 1);
	}
	ck_assert_int_eq(found, 2);
	iommufd_backend_get_stats(b, &st);
	ck_assert_uint_eq(st.ram_reserved, 0x100000);
	/* The same map done in one piece is what the kernel refuses. */
	ck_assert_int_eq(hi.ops->map_iova(hi.be, 0xfee00000, 4096, hva, true), -EINVAL);
	/* Beyond the aperture: nothing to map, nothing mapped, not an error. */
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 1ULL << 48, 0x100000, hva, true), 0);
	ck_assert_int_eq(hi.ops->unmap_ram(hi.be, 0xfe000000, 0x2000000), 0);
	for (int i = 0; i < KD_MAX_MAPS; i++)
		ck_assert_uint_eq(kd.maps[i].len, 0);
	finish();
}
END_TEST

/*
 * More reserved regions (RMRRs) than one IOVA_RANGES answer holds: the backend asks again with
 * the count the kernel gave (EMSGSIZE), maps every hole, and a failing piece undoes the rest.
 */
START_TEST(test_ram_many_reserved)
{
	uint8_t *hva = (uint8_t *)(uintptr_t)0x7f0000000000ULL;
	unsigned int n = 0, calls;
	struct iommufd_stats st;

	kd_init(&kd, 615);
	for (unsigned int i = 0; i < 20; i++)
		kd.rmrr[kd.nr_rmrr++] = (struct ifd_iova_range){ 0x100000ULL * (2 * i + 1),
								  0x100000ULL * (2 * i + 1) + 0xfff };
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &b, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(b, "/dev/vfio/devices/vfio1", &dev, err, sizeof(err)), 0);
	iommufd_backend_iommu(b, &hi);
	calls = kd.calls[IFD_IOAS_IOVA_RANGES & 0xff];
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, 0x4000000, hva, true), 0);
	ck_assert_uint_eq(kd.calls[IFD_IOAS_IOVA_RANGES & 0xff] - calls, 2);
	for (int i = 0; i < KD_MAX_MAPS; i++)
		n += kd.maps[i].len != 0;
	ck_assert_uint_eq(n, 21);
	iommufd_backend_get_stats(b, &st);
	ck_assert_uint_eq(st.ram_reserved, 20 * 0x1000);
	ck_assert_int_eq(hi.ops->unmap_ram(hi.be, 0, 0x4000000), 0);
	for (int i = 0; i < KD_MAX_MAPS; i++)
		ck_assert_uint_eq(kd.maps[i].len, 0);
	/* The 5th IOAS_MAP fails: the 4 before it are unmapped again, the error returned. */
	kd.fail_call = kd.nr_sys + 2 + 5;
	ck_assert_int_eq(hi.ops->map_ram(hi.be, 0, 0x4000000, hva, true), -ENOMEM);
	ck_assert_int_eq(kd.injected, ENOMEM);
	for (int i = 0; i < KD_MAX_MAPS; i++)
		ck_assert_uint_eq(kd.maps[i].len, 0);
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
	struct ifd_pgfault f = { .flags = IFD_PGFAULT_PASID_VALID,
				 .pasid = 7, .grpid = 3, .perm = IFD_PERM_WRITE, .addr = 0x5123 };

	start(615);
	f.dev_id = kd.devs[1].dev_id;
	nr_got = 0;
	hi.ops->set_fault_handler(hi.be, sink, NULL);
	ck_assert_int_eq(hi.ops->process_faults(hi.be), 0);
	/* A group of two requests; the kernel gives both the group's cookie. */
	kd_push_fault(&kd, &f);
	f.flags |= IFD_PGFAULT_LAST_PAGE;
	f.addr = 0x6000;
	kd_push_fault(&kd, &f);
	f.dev_id = 999; /* unknown device: dropped */
	kd_push_fault(&kd, &f);
	ck_assert_int_eq(hi.ops->process_faults(hi.be), 3);
	ck_assert_uint_eq(nr_got, 2);
	ck_assert(got[0].recoverable && !got[0].last && got[0].pasid_valid);
	ck_assert(got[1].recoverable && got[1].last);
	ck_assert_uint_eq(got[0].dev, dev);
	ck_assert_uint_eq(got[0].pasid, 7);
	ck_assert_uint_eq(got[0].grpid, 3);
	ck_assert_uint_eq(got[0].addr, 0x5000);
	ck_assert_uint_eq(got[1].addr, 0x6000);
	ck_assert_uint_eq(got[0].perm, HOST_PERM_WRITE);
	ck_assert_uint_ne(got[1].cookie, 0);
	ck_assert_uint_eq(got[0].cookie, got[1].cookie);
	ck_assert_int_eq(hi.ops->page_response(hi.be, dev, got[1].cookie, HOST_RESP_SUCCESS), 0);
	ck_assert_uint_eq(kd.nr_responded, 1);
	ck_assert_uint_eq(kd.responded[0], got[1].cookie);
	/* Answering it twice, or a cookie the kernel never gave: EINVAL. */
	ck_assert_int_eq(hi.ops->page_response(hi.be, dev, got[1].cookie, HOST_RESP_SUCCESS), -EINVAL);
	ck_assert_int_eq(hi.ops->page_response(hi.be, dev, 77, HOST_RESP_INVALID), -EINVAL);
	finish();
}
END_TEST

static int poll_faults(void *opaque)
{
	const struct host_iommu *h = opaque;

	return h->ops->process_faults(h->be) > 0 ? 0 : -EIO;
}

/*
 * Item 9: nothing read the fault queue outside unit tests. The machine's event loop watches
 * the queue fd (readable while a whole group waits) and reads it on its own thread.
 */
START_TEST(test_fault_queue_polled)
{
	struct ifd_pgfault f = { .flags = IFD_PGFAULT_LAST_PAGE, .grpid = 9, .addr = 0x7000 };
	struct evloop *l = evloop_create();
	struct evloop_stats st;
	unsigned int id;

	ck_assert_ptr_nonnull(l);
	start(615);
	nr_got = 0;
	hi.ops->set_fault_handler(hi.be, sink, NULL);
	f.dev_id = kd.devs[1].dev_id;
	kd_push_fault(&kd, &f);
	ck_assert_int_eq(evloop_add(l, iommufd_backend_fault_fd(b), poll_faults, &hi, &id), 0);
	for (int i = 0; i < 2000 && !__atomic_load_n(&nr_got, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	evloop_remove(l, id);
	ck_assert_uint_eq(nr_got, 1);
	ck_assert_uint_eq(got[0].grpid, 9);
	ck_assert_uint_eq(got[0].addr, 0x7000);
	/* Drained: the fd went quiet, the loop did not keep calling. */
	evloop_get_stats(l, &st);
	ck_assert_uint_eq(st.calls, 1);
	ck_assert_uint_eq(st.stopped, 0);
	evloop_destroy(l);
	ck_assert_int_eq(hi.ops->page_response(hi.be, dev, got[0].cookie, HOST_RESP_SUCCESS), 0);
	finish();
}
END_TEST

/* The double's rules that the kernel enforces, each confirmed in the kernel source. */
START_TEST(test_double_kernel_rules)
{
	struct ifd_vtd_s1_inv e[3] = { { 0x1000, 1, 0, 0 }, { 0x2000, UINT64_MAX, 0, 0 }, { 0, 1, 0, 0 } };
	struct ifd_hwpt_invalidate inv = { .size = sizeof(inv), .data_type = IFD_INV_DATA_VTD_S1,
					   .entry_len = sizeof(e[0]), .entry_num = 3,
					   .data_uptr = (uintptr_t)e };
	struct ifd_hwpt_alloc ha = { .size = sizeof(ha), .flags = IFD_HWPT_NEST_PARENT | IFD_HWPT_FAULT_ID_VALID };
	struct ifd_ioas_map m = { .size = sizeof(m), .flags = IFD_MAP_FIXED_IOVA, .length = 4096 };
	struct ifd_iova_range rg[4];
	struct ifd_ioas_iova_ranges q = { .size = sizeof(q), .num_iovas = 1, .allowed_iovas = (uintptr_t)rg };
	struct ifd_pgfault rec[2], f = { .flags = IFD_PGFAULT_LAST_PAGE };
	struct ifd_page_response pr[2];
	struct ifd_vfio_attach at = { .argsz = 12 };
	uint32_t s1;
	int fd;

	start(615);
	fd = kd.iommufd;
	ck_assert_int_eq(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s1), 0);
	inv.hwpt_id = s1;
	/* npages = U64_MAX needs addr 0: EINVAL, entry_num out = entries handled. */
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_INVALIDATE, &inv), -EINVAL);
	ck_assert_uint_eq(inv.entry_num, 1);
	/* Unknown flag or nonzero reserved: EOPNOTSUPP at that entry. */
	e[1] = (struct ifd_vtd_s1_inv){ 0x2000, 1, 0x2, 0 };
	inv.entry_num = 3;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_INVALIDATE, &inv), -EOPNOTSUPP);
	ck_assert_uint_eq(inv.entry_num, 1);
	e[1] = (struct ifd_vtd_s1_inv){ 0x2000, 1, 0, 1 };
	inv.entry_num = 3;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_INVALIDATE, &inv), -EOPNOTSUPP);
	e[1].reserved = 0;
	inv.entry_num = 3;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_INVALIDATE, &inv), 0);
	ck_assert_uint_eq(inv.entry_num, 3);
	/* 6.15+: a nest parent with a fault queue is refused. */
	ha.dev_id = kd.devs[1].dev_id;
	ha.pt_id = 1;
	ha.fault_id = 2;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_HWPT_ALLOC, &ha), -EOPNOTSUPP);
	/* IOAS_MAP: neither readable nor writeable is EINVAL; the MSI window is reserved. */
	m.ioas_id = 1;
	m.iova = 0x100000;
	m.user_va = 0x7f0000000000ULL;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_IOAS_MAP, &m), -EINVAL);
	m.flags |= IFD_MAP_READABLE | IFD_MAP_WRITEABLE;
	m.iova = KD_MSI_START + 0x1000;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_IOAS_MAP, &m), -EINVAL);
	/* IOVA ranges: the holes around the reserved regions; too small an array is EMSGSIZE. */
	q.ioas_id = 1;
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_IOAS_IOVA_RANGES, &q), -EMSGSIZE);
	ck_assert_uint_eq(q.num_iovas, 2);
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_IOAS_IOVA_RANGES, &q), 0);
	ck_assert_uint_eq(rg[0].last, KD_MSI_START - 1);
	ck_assert_uint_eq(rg[1].start, KD_MSI_LAST + 1);
	ck_assert_uint_eq(q.out_iova_alignment, 4096);
	/* Fault fd: whole records only; a group that does not fit stays queued. */
	f.dev_id = kd.devs[1].dev_id;
	kd_push_fault(&kd, &(struct ifd_pgfault){ .dev_id = f.dev_id });
	kd_push_fault(&kd, &f);
	ck_assert_int_eq(sys.read(&kd, kd.fault_fd, rec, sizeof(rec) - 1), -ESPIPE);
	ck_assert_int_eq(sys.read(&kd, kd.fault_fd, rec, sizeof(rec[0])), 0);
	ck_assert_int_eq(sys.read(&kd, kd.fault_fd, rec, sizeof(rec)), (int)sizeof(rec));
	ck_assert_uint_eq(rec[0].cookie, rec[1].cookie);
	/* Responses: whole ones only; an unknown cookie stops the write with what was done. */
	pr[0] = (struct ifd_page_response){ rec[1].cookie, IFD_RESP_SUCCESS };
	pr[1] = (struct ifd_page_response){ rec[1].cookie + 100, IFD_RESP_SUCCESS };
	ck_assert_int_eq(sys.write(&kd, kd.fault_fd, pr, 7), -ESPIPE);
	ck_assert_int_eq(sys.write(&kd, kd.fault_fd, pr, sizeof(pr)), (int)sizeof(pr[0]));
	ck_assert_int_eq(sys.write(&kd, kd.fault_fd, &pr[1], sizeof(pr[1])), -EINVAL);
	/* No device attached: the window is mappable, and then blocks an attach (EADDRINUSE). */
	ck_assert_int_eq(hi.ops->detach(hi.be, dev, HOST_PASID_NONE), 0);
	ck_assert_int_eq(sys.ioctl(&kd, fd, IFD_IOAS_MAP, &m), 0);
	for (uint32_t i = 1; i < kd.nr_objs; i++)
		if (kd.objs[i].type == KD_HWPT_PAGING)
			at.pt_id = i;
	ck_assert_int_eq(sys.ioctl(&kd, kd.devs[1].fd, IFD_VFIO_ATTACH, &at), -EADDRINUSE);
	ck_assert_int_eq(hi.ops->unmap_iova(hi.be, m.iova, m.length), 0);
	ck_assert_int_eq(sys.ioctl(&kd, kd.devs[1].fd, IFD_VFIO_ATTACH, &at), 0);
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
	tcase_add_test(tc, test_refused_at_attach);
	tcase_add_test(tc, test_kernel_68);
	tcase_add_test(tc, test_kernel_67_and_66);
	tcase_add_test(tc, test_no_nest_ecap);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_fault_queue);
	tcase_add_test(tc, test_fault_id_only_with_pri);
	tcase_add_test(tc, test_kernel_611_no_pasid_width);
	tcase_add_test(tc, test_ram_around_reserved);
	tcase_add_test(tc, test_ram_many_reserved);
	tcase_add_test(tc, test_double_kernel_rules);
	tcase_add_test(tc, test_fault_queue_polled);
	tcase_add_test(tc, test_double_validates);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
