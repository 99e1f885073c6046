/* SPDX-License-Identifier: MIT */
/*
 * Host forwarding under load: one thread (a vCPU running the guest's driver) keeps a
 * host-backed device busy with DMA and queued invalidations (PASID-cache, PASID-IOTLB, IOTLB,
 * context-cache, waits) while another thread (a second vCPU) reprograms the unit under it:
 * root pointer swapped between two table sets (SRTP), translation off and on, queued
 * invalidation off and on, each in the middle of the first thread's drains.
 *
 * Three hosts: hostsim (the device's DMA is translated by the host simulator only), the
 * iommufd backend over the kernel double with nesting, and the same without nesting (shadow
 * mode). Each runs for STRESS_MS milliseconds (default 600). Checked: no crash and no
 * sanitizer report (the test runs in the ASan build and, alone, in a TSan build: scripts/
 * test.sh); both threads made progress; every DMA that succeeded read a page one of the two
 * table sets maps; once the guest ends in a quiet state (empty root table, translation on,
 * everything flushed) the host has nothing left for the device (hostsim: DMA blocked; double:
 * no nested HWPT, no shadow mapping); after destroy and close, no object and no fd is left in
 * the double.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "common/check-run.h"
#include "devices/vfio/tests/host-harness.h"
#include "devices/vfio/tests/kdouble.h"
#include "devices/vfio/vfio.h"

#define ROOT_A 0x100000ULL
#define CTX_A 0x101000ULL
#define ROOT_B 0x102000ULL
#define CTX_B 0x103000ULL
#define ROOT_EMPTY 0x104000ULL
#define PDIR_A 0x106000ULL
#define PTBL_A 0x107000ULL
#define PDIR_B 0x108000ULL
#define PTBL_B 0x109000ULL
#define TBL_A 0x110000ULL /* 4-level tables: 0x110000..0x113fff */
#define TBL_B 0x120000ULL
#define DATA_A 0x200000ULL
#define DATA_B 0x300000ULL
#define QBASE 0x10000ULL  /* 8 KiB */
#define STATUS 0x20000ULL
#define SID 0x0008
#define IDENT_MARK 0x1d000000u /* at gpa 0x1000 * i: what a request reads untranslated */

enum host_kind { HK_HOSTSIM, HK_NESTED, HK_SHADOW };

static struct harness *h;
static enum host_kind kind;
static struct hostsim *hs;
static struct kdouble kd;
static struct iommufd_backend *be;
static struct host_iommu hi;
static struct dma_as das;
static bool scalable;
static unsigned int dsz;

static atomic_bool stop;
static atomic_ulong a_iters, b_iters, dma_ok, dma_blocked, dma_wrong;

static void fail_open(int r, const char *what, const char *err)
{
	ck_assert_msg(r == 0, "%s: %d %s", what, r, err);
}

/* 4 pages at IOVA 0..0x3fff -> data + i * 4 KiB; first-stage (flags 7) or second-stage (3). */
static void tables(uint64_t base, uint64_t data, uint64_t flags)
{
	h_put64(h, base, (base + 0x1000) | flags);
	h_put64(h, base + 0x1000, (base + 0x2000) | flags);
	h_put64(h, base + 0x2000, (base + 0x3000) | flags);
	for (int i = 0; i < 4; i++) {
		h_put64(h, base + 0x3000 + 8 * i, (data + 0x1000ULL * i) | flags);
		le32_store(h->ram + data + 0x1000 * i, (uint32_t)(data + 0x1000 * i));
	}
}

static void pasid_entry(uint64_t ptbl, uint32_t pasid, uint64_t qw0, uint16_t did, uint64_t fs)
{
	h_put64(h, ptbl + 64 * pasid, qw0);
	h_put64(h, ptbl + 64 * pasid + 8, did);
	h_put64(h, ptbl + 64 * pasid + 16, fs);
}

/*
 * Two table sets. Scalable (nested hosts): set A binds the RID (PASID 0) to TBL_A and PASID 5
 * to TBL_B; set B makes the RID pass-through and binds PASID 5 to TBL_A. Legacy (shadow):
 * the device's second stage is TBL_A in set A and TBL_B in set B.
 */
static void guest_tables(void)
{
	for (uint32_t i = 0; i < 4; i++)
		le32_store(h->ram + 0x1000 * i, IDENT_MARK + i);
	h_put64(h, ROOT_A, CTX_A | 1);
	h_put64(h, ROOT_B, CTX_B | 1);
	if (scalable) {
		tables(TBL_A, DATA_A, 7);
		tables(TBL_B, DATA_B, 7);
		h_put64(h, CTX_A + 32 * 8, PDIR_A | (1 << 3) | 1); /* P, PASIDE; RID_PASID 0 */
		h_put64(h, CTX_B + 32 * 8, PDIR_B | (1 << 3) | 1);
		h_put64(h, PDIR_A, PTBL_A | 1);
		h_put64(h, PDIR_B, PTBL_B | 1);
		pasid_entry(PTBL_A, 0, (1 << 6) | 1, 1, TBL_A);
		pasid_entry(PTBL_A, 5, (1 << 6) | 1, 2, TBL_B);
		pasid_entry(PTBL_B, 0, (4 << 6) | 1, 1, 0);
		pasid_entry(PTBL_B, 5, (1 << 6) | 1, 2, TBL_A);
	} else {
		tables(TBL_A, DATA_A, 3);
		tables(TBL_B, DATA_B, 3);
		h_put64(h, CTX_A + 16 * 8, TBL_A | 1);
		h_put64(h, CTX_A + 16 * 8 + 8, 2 | (3 << 8));
		h_put64(h, CTX_B + 16 * 8, TBL_B | 1);
		h_put64(h, CTX_B + 16 * 8 + 8, 2 | (3 << 8));
	}
}

/* The queue, filled once with the flushes thread A keeps running (4 descriptors a round). */
static void fill_queue(void)
{
	unsigned int n = 8192 / dsz;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t d0, d1 = 0;

		switch (i % 4) {
		case 0: /* PASID-cache global, or context-cache global */
			d0 = scalable ? 0x7 | (3 << 4) : 0x1 | (1 << 4);
			break;
		case 1: /* PASID-IOTLB page of PASID 5, or IOTLB page of DID 3 */
			d0 = scalable ? 0x6 | (3 << 4) | (2 << 16) | (5ULL << 32) : 0x2 | (3 << 4) | (3 << 16);
			d1 = 0x1000;
			break;
		case 2: /* IOTLB domain (DID 1, or 3) */
			d0 = 0x2 | (2 << 4) | ((scalable ? 1ULL : 3ULL) << 16);
			break;
		default: /* wait with a status write */
			d0 = 0x5 | (1 << 5) | (0x77ULL << 32);
			d1 = STATUS;
			break;
		}
		h_put64(h, QBASE + dsz * i, d0);
		h_put64(h, QBASE + dsz * i + 8, d1);
	}
}

/*
 * What a DMA may read: a page one of the table sets maps; requests without PASID also the
 * untranslated page (translation off, or set B's pass-through RID entry).
 */
static bool allowed(uint32_t val, bool has_pasid)
{
	for (int i = 0; i < 4; i++)
		if (val == (uint32_t)(DATA_A + 0x1000 * i) || val == (uint32_t)(DATA_B + 0x1000 * i) ||
		    (!has_pasid && val == IDENT_MARK + (uint32_t)i))
			return true;
	return false;
}

static void dma_once(bool has_pasid, uint32_t pasid, uint64_t iova)
{
	struct dma_req req = { .sid = SID, .has_pasid = has_pasid, .pasid = pasid,
			       .access = DMA_ACC_READ };
	uint32_t val = 0;
	int r = dma_read(&das, &req, iova, &val, 4);

	if (r == 0 && allowed(val, has_pasid))
		atomic_fetch_add(&dma_ok, 1);
	else if (r == -EACCES)
		atomic_fetch_add(&dma_blocked, 1);
	else
		atomic_fetch_add(&dma_wrong, 1);
}

/* Thread A: the driver vCPU. Runs the queue round after round; the device does DMA. */
static void *driver(void *arg)
{
	uint64_t tail = 0, qbytes = 8192;

	while (!atomic_load(&stop)) {
		unsigned long n = atomic_load(&a_iters);

		tail = (tail + 4 * dsz) % qbytes;
		w64(h, VTD_IQT_REG, tail);
		if (r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE)
			w32(h, VTD_FSTS_REG, VTD_FSTS_IQE);
		if (kind == HK_HOSTSIM) {
			dma_once(false, 0, 0x1000 * (n % 4));
			dma_once(true, 5, 0x1000 * ((n + 1) % 4));
		} else {
			(void)hi.ops->process_faults(hi.be);
		}
		atomic_fetch_add(&a_iters, 1);
	}
	return arg;
}

/* Thread B: the vCPU that resets the unit: SRTP to the other set, TE off/on, QIE off/on. */
static void *resetter(void *arg)
{
	uint64_t ttm = scalable ? 1ULL << 10 : 0;

	while (!atomic_load(&stop)) {
		unsigned long n = atomic_load(&b_iters);

		w64(h, VTD_RTADDR_REG, ((n & 1) ? ROOT_B : ROOT_A) | ttm);
		h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
		if (n % 3 == 1) {
			h_gcmd(h, (uint32_t)VTD_GCMD_TE, false);
			h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
		}
		if (n % 3 == 2) {
			h_gcmd(h, (uint32_t)VTD_GCMD_QIE, false);
			h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
		}
		atomic_fetch_add(&b_iters, 1);
	}
	return arg;
}

static unsigned int stress_ms(void)
{
	const char *e = getenv("STRESS_MS");
	unsigned long v = e ? strtoul(e, NULL, 10) : 0;

	return v ? (unsigned int)v : 600;
}

static void run_threads(void)
{
	pthread_t a, b;
	struct timespec ts = { .tv_sec = stress_ms() / 1000, .tv_nsec = (stress_ms() % 1000) * 1000000L };

	atomic_store(&stop, false);
	atomic_store(&a_iters, 0);
	atomic_store(&b_iters, 0);
	atomic_store(&dma_ok, 0);
	atomic_store(&dma_blocked, 0);
	atomic_store(&dma_wrong, 0);
	ck_assert_int_eq(pthread_create(&a, NULL, driver, NULL), 0);
	ck_assert_int_eq(pthread_create(&b, NULL, resetter, NULL), 0);
	nanosleep(&ts, NULL);
	/*
	 * Both threads must have done some rounds (the mutex is not fair: under TSan one side can
	 * starve for a while); bounded at 100 more slices of 100 ms.
	 */
	for (int i = 0; i < 100 && (atomic_load(&a_iters) < 10 || atomic_load(&b_iters) < 10); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 100000000L }, NULL);
	atomic_store(&stop, true);
	ck_assert_int_eq(pthread_join(a, NULL), 0);
	ck_assert_int_eq(pthread_join(b, NULL), 0);
	fprintf(stderr, "stress %s: %lu driver rounds, %lu resets, DMA %lu ok / %lu blocked / %lu wrong\n",
		kind == HK_HOSTSIM ? "hostsim" : kind == HK_NESTED ? "nested" : "shadow",
		atomic_load(&a_iters), atomic_load(&b_iters), atomic_load(&dma_ok),
		atomic_load(&dma_blocked), atomic_load(&dma_wrong));
	ck_assert_uint_ge(atomic_load(&a_iters), 10);
	ck_assert_uint_ge(atomic_load(&b_iters), 10);
	ck_assert_uint_eq(atomic_load(&dma_wrong), 0);
}

/* The guest ends quiet: empty root table, translation and the queue on, everything flushed. */
static void quiesce(void)
{
	uint64_t iqh;

	w64(h, VTD_RTADDR_REG, ROOT_EMPTY | (scalable ? 1ULL << 10 : 0));
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	w32(h, VTD_FSTS_REG, VTD_FSTS_IQE);
	iqh = r64(h, VTD_IQH_REG);
	/* Context-cache global, then PASID-cache global (scalable) or IOTLB global, then a wait. */
	h_put64(h, QBASE + iqh, 0x1 | (1 << 4));
	h_put64(h, QBASE + iqh + 8, 0);
	h_put64(h, QBASE + (iqh + dsz) % 8192, scalable ? 0x7 | (3 << 4) : 0x2 | (1 << 4));
	h_put64(h, QBASE + (iqh + dsz) % 8192 + 8, 0);
	h_put64(h, QBASE + (iqh + 2 * dsz) % 8192, 0x5 | (1 << 5) | (0x99ULL << 32));
	h_put64(h, QBASE + (iqh + 2 * dsz) % 8192 + 8, STATUS);
	w64(h, VTD_IQT_REG, (iqh + 3 * dsz) % 8192);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE, 0);
	ck_assert_uint_eq(le32_load(h->ram + STATUS), 0x99);
}

static void open_double(bool nest, struct host_iommu_caps *caps, uint32_t *dev)
{
	struct iommufd_sys sys;
	char err[200] = "";

	kd_init(&kd, 615);
	kd.nest = nest;
	kd_sys_locked(&kd, &sys);
	fail_open(iommufd_backend_open(&sys, NULL, &be, err, sizeof(err)), "open", err);
	fail_open(iommufd_backend_add_device(be, "/dev/vfio/devices/vfio0", dev, err, sizeof(err)),
		  "add_device", err);
	iommufd_backend_iommu(be, &hi);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, *dev, caps), 0);
}

static void setup(enum host_kind k)
{
	struct host_iommu_caps caps;
	struct viommu_config cfg, nc;
	char msg[320];
	uint32_t dev = 0;

	kind = k;
	scalable = k != HK_SHADOW;
	dsz = scalable ? 32 : 16;
	if (k == HK_HOSTSIM) {
		hs = NULL;
		/* hostsim maps guest RAM at attach: the harness must exist first (below). */
	} else {
		open_double(k == HK_NESTED, &caps, &dev);
	}
	ck_assert_int_eq(viommu_parse_options(scalable ? "" : "mode=legacy", &cfg, msg, sizeof(msg)), 0);
	if (k == HK_HOSTSIM) {
		/* The configuration the launcher derives from hostsim's default capabilities. */
		struct gmem none;
		struct hostsim *probe;
		struct host_iommu phi;
		uint32_t pdev;

		gmem_init_empty(&none);
		probe = hostsim_create(&none, NULL);
		ck_assert_ptr_nonnull(probe);
		hostsim_iommu(probe, &phi);
		ck_assert_int_eq(hostsim_add_device(probe, false, &pdev), 0);
		ck_assert_int_eq(phi.ops->get_caps(phi.be, pdev, &caps), 0);
		hostsim_destroy(probe);
	}
	ck_assert_int_eq(viommu_host_mode(&cfg, &caps, &nc, msg, sizeof(msg)), 0);
	h = h_new_cfg(&nc);
	h_page_aligned_ram(h);
	if (k == HK_HOSTSIM) {
		hs = hostsim_create(&h->gm, NULL);
		ck_assert_ptr_nonnull(hs);
		hostsim_iommu(hs, &hi);
		ck_assert_int_eq(hostsim_add_device(hs, false, &dev), 0);
		ck_assert_int_eq(hostsim_dma_as(hs, dev, &das), 0);
	}
	ck_assert_int_eq(viommu_attach_host_device(h->v, SID, &hi, dev), 0);
	guest_tables();
	fill_queue();
	w64(h, VTD_RTADDR_REG, ROOT_A | (scalable ? 1ULL << 10 : 0));
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE | (scalable ? VTD_IQA_DW : 0) | 1);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
}

static unsigned int live_of(enum kd_obj_type t)
{
	unsigned int n = 0;

	for (unsigned int i = 1; i < kd.nr_objs; i++)
		n += kd.objs[i].type == t;
	return n;
}

static unsigned int kd_maps(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < 16; i++)
		n += kd.maps[i].len != 0;
	return n;
}

static void teardown(void)
{
	h_free(h);
	h = NULL;
	if (kind == HK_HOSTSIM) {
		hostsim_destroy(hs);
		return;
	}
	iommufd_backend_close(be);
	ck_assert_uint_eq(kd_live_objects(&kd), 0);
	ck_assert_int_eq(kd.open_fds, 0);
}

START_TEST(test_hostsim_dma_while_reset)
{
	setup(HK_HOSTSIM);
	run_threads();
	ck_assert_uint_gt(atomic_load(&dma_ok), 0);
	quiesce();
	atomic_store(&dma_ok, 0);
	dma_once(false, 0, 0);
	dma_once(true, 5, 0);
	/* Nothing is bound on the host any more: the device's DMA is blocked. */
	ck_assert_uint_eq(atomic_load(&dma_ok), 0);
	ck_assert_uint_eq(atomic_load(&dma_wrong), 0);
	teardown();
}
END_TEST

START_TEST(test_double_nested_flushes_while_reset)
{
	setup(HK_NESTED);
	run_threads();
	quiesce();
	/* No stage-1 left on the host, and the RID is not attached anywhere (blocked). */
	ck_assert_uint_eq(live_of(KD_HWPT_NESTED), 0);
	ck_assert_uint_eq(kd.devs[0].rid_pt, 0);
	ck_assert_uint_eq(kd.devs[0].nr_pasids, 0);
	teardown();
}
END_TEST

START_TEST(test_double_shadow_flushes_while_reset)
{
	setup(HK_SHADOW);
	run_threads();
	ck_assert_uint_gt(kd.calls[IFD_IOAS_MAP & 0xff], 2);
	quiesce();
	/* An empty root table maps nothing: no shadow mapping is left in the IOAS. */
	ck_assert_uint_eq(kd_maps(), 0);
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vfio-stress");
	TCase *tc = tcase_create("stress");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hostsim_dma_while_reset);
	tcase_add_test(tc, test_double_nested_flushes_while_reset);
	tcase_add_test(tc, test_double_shadow_flushes_while_reset);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
