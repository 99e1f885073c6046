/* SPDX-License-Identifier: MIT */
/*
 * SIGTERM while a host-backed device is busy, in one process so that the kernel double can
 * count what teardown leaves behind. The pieces are the machine's: the signal reader of
 * vmm/signals.c on a real event loop, the VT-d unit forwarding to the iommufd backend over the
 * kernel double (nested), and two "vCPU" threads: one drains invalidation queues (PASID-cache,
 * PASID-IOTLB, IOTLB, waits) round after round, the other re-latches the root table between two
 * table sets and turns translation and queued invalidation off and on. The test sends itself
 * SIGTERM in the middle of that (real kill()), then does what machine_run does: the stop
 * request ends the vCPU loops between two exits (never inside a drain), the threads are
 * joined, the signal reader is detached, the unit is destroyed and the backend closed.
 *
 * Checked: the stop came with status 143 (or, with a guest that enabled its power button and
 * ignores it, only after the second SIGTERM), both vCPUs had been working, the threads ended
 * within 5 s of the stop, stage-1s were bound on the host when the signal came, and after
 * teardown the double holds no object and no fd. Runs in the ASan build too.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/check-run.h"
#include "devices/vfio/tests/host-harness.h"
#include "devices/vfio/tests/kdouble.h"
#include "devices/vfio/vfio.h"
#include "vmm/core/evloop.h"
#include "vmm/signals.h"

#define ROOT_A 0x100000ULL
#define CTX_A 0x101000ULL
#define ROOT_B 0x102000ULL
#define CTX_B 0x103000ULL
#define PDIR_A 0x106000ULL
#define PTBL_A 0x107000ULL
#define PDIR_B 0x108000ULL
#define PTBL_B 0x109000ULL
#define TBL_A 0x110000ULL
#define TBL_B 0x120000ULL
#define DATA_A 0x200000ULL
#define DATA_B 0x300000ULL
#define QBASE 0x10000ULL
#define STATUS 0x20000ULL
#define SID 0x0008
#define DSZ 32

static struct harness *h;
static struct kdouble kd;
static struct iommufd_backend *be;
static struct host_iommu hi;

/* The machine's stop request, as machine_request_stop records it. */
static atomic_bool stopping;
static atomic_int exit_status;
static atomic_uint presses;
static bool guest_listens;
static atomic_ulong a_iters, b_iters;

/* 4-level first-stage tables: IOVA 0..0x3fff -> data + i * 4 KiB. */
static void tables(uint64_t base, uint64_t data)
{
	h_put64(h, base, (base + 0x1000) | 7);
	h_put64(h, base + 0x1000, (base + 0x2000) | 7);
	h_put64(h, base + 0x2000, (base + 0x3000) | 7);
	for (int i = 0; i < 4; i++)
		h_put64(h, base + 0x3000 + 8 * i, (data + 0x1000ULL * i) | 7);
}

static void pasid_entry(uint64_t ptbl, uint32_t pasid, uint64_t qw0, uint16_t did, uint64_t fs)
{
	h_put64(h, ptbl + 64 * pasid, qw0);
	h_put64(h, ptbl + 64 * pasid + 8, did);
	h_put64(h, ptbl + 64 * pasid + 16, fs);
}

/* Set A: RID and PASID 5 on first stages; set B: PASID 5 on the other one, RID pass-through. */
static void guest_tables(void)
{
	h_put64(h, ROOT_A, CTX_A | 1);
	h_put64(h, ROOT_B, CTX_B | 1);
	tables(TBL_A, DATA_A);
	tables(TBL_B, DATA_B);
	h_put64(h, CTX_A + 32 * 8, PDIR_A | (1 << 3) | 1);
	h_put64(h, CTX_B + 32 * 8, PDIR_B | (1 << 3) | 1);
	h_put64(h, PDIR_A, PTBL_A | 1);
	h_put64(h, PDIR_B, PTBL_B | 1);
	pasid_entry(PTBL_A, 0, (1 << 6) | 1, 1, TBL_A);
	pasid_entry(PTBL_A, 5, (1 << 6) | 1, 2, TBL_B);
	pasid_entry(PTBL_B, 0, (4 << 6) | 1, 1, 0);
	pasid_entry(PTBL_B, 5, (1 << 6) | 1, 2, TBL_A);
}

/* The whole 8 KiB queue: PASID-cache global, PASID-IOTLB page, IOTLB domain, wait. */
static void fill_queue(void)
{
	for (unsigned int i = 0; i < 8192 / DSZ; i++) {
		uint64_t d0, d1 = 0;

		switch (i % 4) {
		case 0: d0 = 0x7 | (3 << 4); break;
		case 1: d0 = 0x6 | (3 << 4) | (2 << 16) | (5ULL << 32); d1 = 0x1000; break;
		case 2: d0 = 0x2 | (2 << 4) | (1ULL << 16); break;
		default: d0 = 0x5 | (1 << 5) | (0x77ULL << 32); d1 = STATUS; break;
		}
		h_put64(h, QBASE + DSZ * i, d0);
		h_put64(h, QBASE + DSZ * i + 8, d1);
	}
}

/* vCPU 0: the driver. Checks the stop request between rounds, as vcpu_thread between exits. */
static void *driver(void *arg)
{
	uint64_t tail = 0;

	while (!atomic_load(&stopping)) {
		tail = (tail + 4 * DSZ) % 8192;
		w64(h, VTD_IQT_REG, tail);
		if (r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE)
			w32(h, VTD_FSTS_REG, VTD_FSTS_IQE);
		atomic_fetch_add(&a_iters, 1);
	}
	return arg;
}

/* vCPU 1: resets the unit under the driver. */
static void *resetter(void *arg)
{
	while (!atomic_load(&stopping)) {
		unsigned long n = atomic_load(&b_iters);

		w64(h, VTD_RTADDR_REG, ((n & 1) ? ROOT_B : ROOT_A) | (1ULL << 10));
		h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
		if (n % 3 == 1) {
			h_gcmd(h, (uint32_t)VTD_GCMD_TE, false);
			h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
		} else if (n % 3 == 2) {
			h_gcmd(h, (uint32_t)VTD_GCMD_QIE, false);
			h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
		}
		atomic_fetch_add(&b_iters, 1);
	}
	return arg;
}

static bool fake_button(void *ctx)
{
	if (guest_listens)
		atomic_fetch_add(&presses, 1);
	return guest_listens;
}

static void fake_stop(void *ctx, int status)
{
	bool was = false;

	if (atomic_compare_exchange_strong(&stopping, &was, true))
		atomic_store(&exit_status, status);
}

static const struct vmm_signal_ops ops = { .power_button = fake_button, .stop = fake_stop };

static void setup_unit(void)
{
	struct host_iommu_caps caps;
	struct viommu_config cfg, nc;
	struct iommufd_sys sys;
	char msg[320] = "";
	uint32_t dev = 0;

	kd_init(&kd, 615);
	kd.nest = true;
	kd_sys_locked(&kd, &sys);
	ck_assert_msg(iommufd_backend_open(&sys, NULL, &be, msg, sizeof(msg)) == 0, "%s", msg);
	ck_assert_msg(iommufd_backend_add_device(be, "/dev/vfio/devices/vfio0", &dev, msg,
						 sizeof(msg)) == 0, "%s", msg);
	iommufd_backend_iommu(be, &hi);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert_int_eq(viommu_parse_options("", &cfg, msg, sizeof(msg)), 0);
	ck_assert_msg(viommu_host_mode(&cfg, &caps, &nc, msg, sizeof(msg)) == 0, "%s", msg);
	h = h_new_cfg(&nc);
	h_page_aligned_ram(h);
	ck_assert_int_eq(viommu_attach_host_device(h->v, SID, &hi, dev), 0);
	guest_tables();
	fill_queue();
	w64(h, VTD_RTADDR_REG, ROOT_A | (1ULL << 10));
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE | VTD_IQA_DW | 1);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bounded wait (5 s) for the stop request. */
static bool wait_stop(void)
{
	for (int i = 0; i < 5000 && !atomic_load(&stopping); i++)
		usleep(1000);
	return atomic_load(&stopping);
}

static void run(bool listens)
{
	struct vmm_signals *sigs;
	struct evloop *loop;
	pthread_t a, b;
	FILE *out = fopen("/dev/null", "w");
	unsigned long nested_allocs;
	double t_stop;

	guest_listens = listens;
	atomic_store(&stopping, false);
	atomic_store(&exit_status, -1);
	atomic_store(&presses, 0);
	atomic_store(&a_iters, 0);
	atomic_store(&b_iters, 0);
	ck_assert_ptr_nonnull(out);
	/* As machine_run: signals blocked before any thread, read on the machine's event loop. */
	sigs = vmm_signals_open();
	ck_assert_ptr_nonnull(sigs);
	setup_unit();
	loop = evloop_create();
	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(vmm_signals_attach(sigs, loop, &ops, NULL, out), 0);
	ck_assert_int_eq(pthread_create(&a, NULL, driver, NULL), 0);
	ck_assert_int_eq(pthread_create(&b, NULL, resetter, NULL), 0);
	/* Busy first: both vCPUs made rounds (bounded: 10 s). */
	for (int i = 0; i < 1000 && (atomic_load(&a_iters) < 20 || atomic_load(&b_iters) < 20); i++)
		usleep(10000);
	ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
	if (listens) {
		/* The guest enabled its button and ignores it: the VM runs on until a second signal. */
		for (int i = 0; i < 5000 && !atomic_load(&presses); i++)
			usleep(1000);
		ck_assert_uint_eq(atomic_load(&presses), 1);
		usleep(100000);
		ck_assert(!atomic_load(&stopping));
		ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
	}
	ck_assert_msg(wait_stop(), "no stop request 5 s after SIGTERM");
	t_stop = now_s();
	ck_assert_int_eq(pthread_join(a, NULL), 0);
	ck_assert_int_eq(pthread_join(b, NULL), 0);
	ck_assert_msg(now_s() - t_stop < 5.0, "vCPU threads took %.1f s to stop", now_s() - t_stop);
	ck_assert_int_eq(atomic_load(&exit_status), 128 + SIGTERM);
	ck_assert_uint_ge(atomic_load(&a_iters), 20);
	ck_assert_uint_ge(atomic_load(&b_iters), 20);
	nested_allocs = kd.calls[IFD_HWPT_ALLOC & 0xff];
	fprintf(stderr, "sigterm %s: %lu driver rounds, %lu resets, %lu HWPT allocs, %u objects "
		"and %d fds alive at the stop\n", listens ? "(button ignored)" : "(no button)",
		atomic_load(&a_iters), atomic_load(&b_iters), nested_allocs,
		kd_live_objects(&kd), kd.open_fds);
	/* Something was bound on the host when the signal came (else the count proves nothing). */
	ck_assert_uint_gt(nested_allocs, 2);
	ck_assert_uint_gt(kd_live_objects(&kd), 0);
	/* machine_teardown's order: signal reader, devices (the unit, then the backend), loop. */
	vmm_signals_detach(sigs);
	h_free(h);
	h = NULL;
	iommufd_backend_close(be);
	evloop_destroy(loop);
	vmm_signals_close(sigs);
	fclose(out);
	ck_assert_uint_eq(kd_live_objects(&kd), 0);
	ck_assert_int_eq(kd.open_fds, 0);
	kd_fini(&kd);
}

START_TEST(test_sigterm_busy_no_button)
{
	run(false);
}
END_TEST

START_TEST(test_sigterm_busy_button_ignored)
{
	run(true);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sigterm-host");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sigterm_busy_no_button);
	tcase_add_test(tc, test_sigterm_busy_button_ignored);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
