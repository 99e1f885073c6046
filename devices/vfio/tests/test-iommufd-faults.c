/* SPDX-License-Identifier: MIT */
/*
 * Host-side fault injection for the iommufd backend: a full scenario runs once to count its K
 * host calls, then once per N = 1..K with call N failing. Each failed operation must return
 * the error (open and add_device with a message naming it), leave its state as it was so a
 * retry succeeds, and teardown must leave no object or fd behind in the kernel double.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/vfio/iommufd-abi.h"
#include "devices/vfio/tests/kdouble.h"
#include "devices/vfio/vfio.h"

static struct kdouble kd;
static uint8_t ram[16384] __attribute__((aligned(4096)));
static unsigned int nr_sink;
static uint32_t sink_cookie;

/* The guest allows page requests: stage-1s carry the fault queue (the device has PRI). */
static const struct host_s1_config s1cfg = { .pgtbl_gpa = 0x100000, .addr_width = 48, .pri = true };

static void sink(void *opaque, const struct host_fault *f)
{
	nr_sink++;
	sink_cookie = f->cookie;
}

/* What one run saw: the call count, and whether the nesting features came up. */
struct run {
	unsigned int calls;
	bool added;
	struct host_iommu_caps caps;
};

/*
 * One step of the scenario. The injected failure is one-shot, so an error must come from the
 * step during which it happened, and the same call issued again must succeed.
 */
#define STEP(call)                                                                                \
	do {                                                                                       \
		int before_ = kd.injected, r_ = (call);                                            \
		if (r_) {                                                                          \
			ck_assert_msg(r_ < 0, "N=%u: %s returned %d", n, #call, r_);               \
			ck_assert_msg(!before_ && kd.injected, "N=%u: %s failed (%d) without the " \
				      "injected fault", n, #call, r_);                             \
			ck_assert_msg(-r_ == kd.injected || r_ == -EIO, "N=%u: %s: %d, not %d",    \
				      n, #call, r_, -kd.injected);                                 \
			r_ = (call);                                                               \
			ck_assert_msg(!r_, "N=%u: retry of %s failed: %d", n, #call, r_);          \
		}                                                                                  \
	} while (0)

static void check_clean(unsigned int n)
{
	ck_assert_msg(kd_live_objects(&kd) == 0, "N=%u: %u objects leaked", n, kd_live_objects(&kd));
	ck_assert_msg(kd.open_fds == 0, "N=%u: %d fds leaked", n, kd.open_fds);
}

/* Runs the scenario with call n failing (0: none) with errno e (0: the kernel's). */
static void scenario(unsigned int n, int e, struct run *ret)
{
	struct host_inv_range rg[3] = {
		{ 0x1000, 1, true }, { 0x200000, 512, false }, { 0, HOST_INV_ALL_PAGES, false },
	};
	struct ifd_pgfault pf = { .flags = IFD_PGFAULT_LAST_PAGE, .grpid = 1, .perm = IFD_PERM_READ,
				  .addr = 0x3000 };
	struct iommufd_sys sys;
	struct iommufd_backend *b;
	struct host_iommu hi;
	uint32_t dev, s1 = 0, s1p = 0, s2 = 0;
	unsigned int done;
	char err[256] = "";
	int r;

	kd_init(&kd, 615);
	kd.dev_pri[1] = true;
	kd.fail_call = n;
	kd.fail_errno = e;
	kd_sys(&kd, &sys);
	*ret = (struct run){ 0 };
	r = iommufd_backend_open(&sys, NULL, &b, err, sizeof(err));
	if (r) {
		ck_assert_msg(kd.injected && r == -kd.injected, "N=%u: open: %d", n, r);
		ck_assert_msg(strstr(err, strerror(kd.injected)), "N=%u: open says '%s'", n, err);
		check_clean(n);
		ret->calls = kd.nr_sys;
		return;
	}
	r = iommufd_backend_add_device(b, "/dev/vfio/devices/vfio1", &dev, err, sizeof(err));
	if (r) {
		/* nestvm exits: one message naming the failed call's error, then teardown. */
		ck_assert_msg(kd.injected && r == -kd.injected, "N=%u: add_device: %d", n, r);
		ck_assert_msg(strstr(err, strerror(kd.injected)), "N=%u: add_device says '%s'", n, err);
		iommufd_backend_close(b);
		check_clean(n);
		ret->calls = kd.nr_sys;
		return;
	}
	ret->added = true;
	iommufd_backend_iommu(b, &hi);
	/* What vfio-pt does once the model found ATS + PRI and the guest enabled PRI. */
	ck_assert_int_eq(iommufd_backend_set_host_pri(b, dev, true), 0);
	ck_assert_int_eq(iommufd_backend_set_guest_pri(b, dev, true), 0);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &ret->caps), 0);
	/* A feature may only go missing when a probe got the injected error, and then it says so. */
	if (!ret->caps.nesting || !ret->caps.fault_queue || !ret->caps.pasid_attach)
		ck_assert_msg(kd.injected && iommufd_backend_missing(b)[0], "N=%u: degraded silently", n);
	hi.ops->set_fault_handler(hi.be, sink, NULL);

	STEP(hi.ops->map_ram(hi.be, 0, sizeof(ram), ram, true));
	if (ret->caps.nesting) {
		STEP(hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s1));
		ck_assert_uint_eq(kd.devs[1].rid_pt, s1);
	}
	if (ret->caps.pasid_attach) {
		STEP(hi.ops->attach_s1(hi.be, dev, 5, &s1cfg, &s1p));
		/* A failed invalidation reports the handled prefix (none here), then works. */
		r = hi.ops->invalidate(hi.be, s1p, rg, 3, &done);
		if (r) {
			ck_assert_msg(kd.injected, "N=%u: invalidate: %d", n, r);
			ck_assert_uint_eq(done, 0);
			ck_assert_int_eq(hi.ops->invalidate(hi.be, s1p, rg, 3, &done), 0);
		}
		ck_assert_uint_eq(done, 3);
	}
	if (ret->caps.fault_queue) {
		pf.dev_id = kd.devs[1].dev_id;
		kd_push_fault(&kd, &pf);
		nr_sink = 0;
		r = hi.ops->process_faults(hi.be);
		if (r < 0) {
			/* The record stays queued: the next read delivers it. */
			ck_assert_msg(kd.injected && r == -kd.injected, "N=%u: process_faults %d", n, r);
			r = hi.ops->process_faults(hi.be);
		}
		ck_assert_int_eq(r, 1);
		ck_assert_uint_eq(nr_sink, 1);
		STEP(hi.ops->page_response(hi.be, dev, sink_cookie, HOST_RESP_SUCCESS));
	}
	if (ret->caps.nesting) {
		/* Replace: on failure the old stage-1 stays attached. */
		r = hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s2);
		if (r) {
			ck_assert_msg(kd.injected, "N=%u: replace: %d", n, r);
			ck_assert_uint_eq(kd.devs[1].rid_pt, s1);
		}
		STEP(r ? hi.ops->attach_s1(hi.be, dev, HOST_PASID_NONE, &s1cfg, &s2) : 0);
		ck_assert_uint_eq(kd.devs[1].rid_pt, s2);
	}
	if (ret->caps.pasid_attach) {
		r = hi.ops->detach(hi.be, dev, 5);
		if (r) {
			ck_assert_msg(kd.injected, "N=%u: detach: %d", n, r);
			ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 5), s1p);
		}
		STEP(r ? hi.ops->detach(hi.be, dev, 5) : 0);
		ck_assert_uint_eq(kd_pasid_pt(&kd, 1, 5), 0);
	}
	STEP(hi.ops->unmap_ram(hi.be, 0, sizeof(ram)));
	iommufd_backend_close(b);
	check_clean(n);
	ret->calls = kd.nr_sys;
}

static void fail_each(int e)
{
	struct run base, run;
	unsigned int injected = 0;

	scenario(0, 0, &base);
	ck_assert(base.added && base.caps.nesting && base.caps.fault_queue && base.caps.pasid_attach);
	ck_assert_int_ge(base.calls, 25);
	for (unsigned int n = 1; n <= base.calls; n++) {
		scenario(n, e, &run);
		ck_assert_msg(kd.injected, "N=%u: call never happened", n);
		injected++;
		/* With the kernel's own errnos nothing may be lost: every feature comes up. */
		if (!e && run.added)
			ck_assert_msg(run.caps.nesting && run.caps.fault_queue && run.caps.pasid_attach,
				      "N=%u: a feature was lost to a transient error", n);
	}
	ck_assert_uint_eq(injected, base.calls);
}

START_TEST(test_each_call_fails_kernel_errno)
{
	fail_each(0);
}
END_TEST

/* EINVAL everywhere: the probes take it as "unsupported" and the backend degrades, noting it. */
START_TEST(test_each_call_fails_einval)
{
	fail_each(EINVAL);
}
END_TEST

START_TEST(test_each_call_fails_enomem)
{
	fail_each(ENOMEM);
}
END_TEST

/* The injection itself: the right call fails, once, and a failed close still closes. */
START_TEST(test_double_injects)
{
	struct iommufd_sys sys;
	struct iommufd_backend *b;
	char err[128];

	kd_init(&kd, 615);
	kd.fail_call = 2;
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &b, err, sizeof(err)), -ENOMEM);
	ck_assert_ptr_nonnull(strstr(err, "IOMMU_IOAS_ALLOC"));
	ck_assert_int_eq(kd.injected, ENOMEM);
	ck_assert_uint_eq(kd.nr_sys, 3);
	ck_assert_int_eq(kd.open_fds, 0);
	kd_init(&kd, 615);
	kd.fail_call = 1;
	kd.fail_errno = EIO;
	kd_sys(&kd, &sys);
	ck_assert_int_eq(sys.open(&kd, "/dev/iommu", 0), -EIO);
	ck_assert_int_ge(sys.open(&kd, "/dev/iommu", 0), 0);
	kd.fail_call = 3;
	ck_assert_int_eq(sys.close(&kd, kd.iommufd), -EIO);
	ck_assert_int_eq(kd.open_fds, 0);
	ck_assert_int_eq(kd_default_errno('i', IFD_DESTROY), EBUSY);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("iommufd-faults");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_double_injects);
	tcase_add_test(tc, test_each_call_fails_kernel_errno);
	tcase_add_test(tc, test_each_call_fails_einval);
	tcase_add_test(tc, test_each_call_fails_enomem);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
