/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the end-to-end host-forwarding tests (test-host-forward: binds, invalidations,
 * faults; test-host-sweep: global flushes over the PASID directory): one VT-d unit in nested
 * mode forwarding to hostsim, a simulated passthrough device at SID 0x0008 whose DMA goes
 * through hostsim only, its context (PASID directory at PDIR, table 0 at PTBL) and the helpers
 * both files use. Each test file includes it once; the state is that file's.
 */
#ifndef NESTVM_VFIO_TEST_HOST_FORWARD_FIXTURE_H
#define NESTVM_VFIO_TEST_HOST_FORWARD_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "common/check-run.h"
#include "devices/vfio/tests/host-harness.h"
#include "devices/vfio/vfio.h"

#define ROOT 0x100000ULL
#define CTX 0x101000ULL
#define PDIR 0x106000ULL
#define PTBL 0x107000ULL
#define FS_A 0x110000ULL /* PASID 0 (RID_PASID) tables: 0x110000..0x113fff */
#define FS_B 0x120000ULL /* PASID 5 tables: 0x120000..0x123fff */
#define QBASE 0x10000ULL
#define PRQ 0x30000ULL
#define STATUS 0x20000ULL
#define SID 0x0008

static struct harness *h;
static struct hostsim *hs;
static struct host_iommu hi;
static struct dma_as das;
static unsigned int tail;
static uint32_t hdev;
/* The "watch" test case: every test again with a write watch on guest RAM (host-harness.h). */
static bool with_watch;
static struct h_cpu_log *hlog;

/* 4-level first-stage tables at base mapping 4 pages at iova 0..0x3fff to target + i*4K. */
static inline void fs_tables(uint64_t base, uint64_t target)
{
	h_put64(h, base, (base + 0x1000) | 7);
	h_put64(h, base + 0x1000, (base + 0x2000) | 7);
	h_put64(h, base + 0x2000, (base + 0x3000) | 7);
	for (int i = 0; i < 4; i++)
		h_put64(h, base + 0x3000 + 8 * i, (target + 0x1000ULL * i) | 7);
}

static inline void pasid_entry(uint32_t pasid, uint16_t did, uint64_t fs_root)
{
	h_put64(h, PTBL + pasid * 64, (1 << 6) | 1); /* P, PGTT=first-stage */
	h_put64(h, PTBL + pasid * 64 + 8, did);
	h_put64(h, PTBL + pasid * 64 + 16, fs_root);
}

/* Writes n descriptors (2 qwords each, 256-bit queue) plus a wait, then IQT. */
static inline void drain(const uint64_t (*d)[2], unsigned int n)
{
	h_drain256(h, QBASE, STATUS, &tail, d, n);
}

static inline uint64_t pc_desc(uint16_t did, uint32_t pasid)
{
	return 0x7 | (1 << 4) | ((uint64_t)did << 16) | ((uint64_t)pasid << 32);
}

static inline uint64_t piotlb_desc(uint16_t did, uint32_t pasid)
{
	return 0x6 | (3 << 4) | ((uint64_t)did << 16) | ((uint64_t)pasid << 32);
}

static inline int dma_rd(bool has_pasid, uint32_t pasid, uint64_t iova, uint32_t *val)
{
	struct dma_req req = { .sid = SID, .has_pasid = has_pasid, .pasid = pasid,
			       .access = DMA_ACC_READ };

	return dma_read(&das, &req, iova, val, 4);
}

static inline void setup_common(bool pri)
{
	uint32_t dev;
	struct hostsim_stats st;

	/* As the board configures nested mode: caching mode, first stage only. */
	h = h_new("dt=on,prs=on,cm=on,slts=off,nest=off");
	if (with_watch) {
		hlog = malloc(sizeof(*hlog));
		ck_assert_ptr_nonnull(hlog);
		h_watch_enable(h, hlog);
	}
	hs = hostsim_create(&h->gm, NULL);
	ck_assert_ptr_nonnull(hs);
	hostsim_iommu(hs, &hi);
	ck_assert_int_eq(hostsim_add_device(hs, pri, &dev), 0);
	ck_assert_int_eq(hostsim_dma_as(hs, dev, &das), 0);
	ck_assert_int_eq(viommu_attach_host_device(h->v, SID, &hi, dev), 0);
	ck_assert_int_eq(viommu_attach_host_device(h->v, SID, &hi, dev), -EEXIST);
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.map_ram, 1);

	for (int i = 0; i < 4; i++) {
		le32_store(h->ram + 0x200000 + 0x1000 * i, 0xa0 + i);
		le32_store(h->ram + 0x300000 + 0x1000 * i, 0xb0 + i);
		le32_store(h->ram + 0x380000 + 0x1000 * i, 0xc0 + i);
	}
	h_put64(h, ROOT, CTX | 1);
	/* devfn 8: P, PASIDE, PRE with page requests; RID_PASID 0 */
	h_put64(h, CTX + 8 * 32, PDIR | (pri ? 1 << 4 : 0) | (1 << 3) | 1);
	h_put64(h, PDIR, PTBL | 1);
	fs_tables(FS_A, 0x200000);
	fs_tables(FS_B, 0x300000);
	w64(h, VTD_RTADDR_REG, ROOT | (1 << 10));
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE | VTD_IQA_DW | 1);
	tail = 0;
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	/* Translation off: the RID is on the stage-2 parent (guest-physical DMA). */
	ck_assert_int_eq(hostsim_attachment(hs, dev, HOST_PASID_NONE), 1);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	/* On, with no PASID entry yet: blocked (fail closed), not identity. */
	ck_assert_int_eq(hostsim_attachment(hs, dev, HOST_PASID_NONE), 0);
	/* Entries made present after TE: nothing reaches the host until the guest flushes. */
	pasid_entry(0, 1, FS_A);
	pasid_entry(5, 2, FS_B);
	hdev = dev;
}

static inline void teardown(void)
{
	viommu_destroy(h->v); /* drops its pages from the watch */
	h->v = NULL;
	gmem_watch_free(&h->gm);
	free(hlog);
	hlog = NULL;
	h_free(h);
	hostsim_destroy(hs);
}

static inline void bind_both(void)
{
	const uint64_t d[2][2] = { { pc_desc(1, 0), 0 }, { pc_desc(2, 5), 0 } };
	struct hostsim_stats st;

	drain(d, 2);
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.attach, 2);
}

static inline void clear_faults(void)
{
	for (int i = 0; i < VTD_NR_FRCD; i++)
		w32(h, VTD_FRCD_REG(i) + 12, 1u << 31);
	w32(h, VTD_FSTS_REG, 0x7f);
}

/* The one recorded fault's reason (0: none), checked for SID and PASID; clears it. */
static inline unsigned int fault_of(bool pp, uint32_t pasid)
{
	unsigned int fr = 0;

	for (int i = 0; i < VTD_NR_FRCD; i++) {
		uint64_t hi64 = r64(h, VTD_FRCD_REG(i) + 8);

		if (!(hi64 & VTD_FRCD_HI_F))
			continue;
		ck_assert_uint_eq(fr, 0);
		fr = (unsigned int)FIELD_GET(VTD_FRCD_HI_FR, hi64);
		ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_SID, hi64), SID);
		ck_assert_uint_eq(!!(hi64 & VTD_FRCD_HI_PP), pp);
		if (pp)
			ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_PV, hi64), pasid);
	}
	clear_faults();
	return fr;
}

static inline int dma_wr(bool has_pasid, uint32_t pasid, uint64_t iova, uint32_t val)
{
	struct dma_req req = { .sid = SID, .has_pasid = has_pasid, .pasid = pasid,
			       .access = DMA_ACC_WRITE };

	return dma_write(&das, &req, iova, &val, 4);
}

static const uint64_t pc5[1][2] = { { 0x7 | (1 << 4) | (2ULL << 16) | (5ULL << 32), 0 } };
static const uint64_t pc_global[1][2] = { { 0x7 | (3 << 4), 0 } };

static inline unsigned int host_calls(void)
{
	struct hostsim_stats st;

	hostsim_get_stats(hs, &st);
	return (unsigned int)(st.attach + st.replace + st.detach + st.parent);
}

/* Every test of a file twice: as it is ("core") and with a write watch on guest RAM ("watch"). */
static inline void watch_off(void)
{
	with_watch = false;
}

static inline void watch_on(void)
{
	with_watch = true;
}

static inline Suite *fixture_suite(const char *name, void (*add)(TCase *), TCase **ret_watch)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("core"), *tw = tcase_create("watch");

	tcase_add_unchecked_fixture(tc, watch_off, NULL);
	tcase_add_unchecked_fixture(tw, watch_on, NULL);
	tcase_set_timeout(tc, 30); /* the machine is shared: slow, never asserted */
	tcase_set_timeout(tw, 30);
	add(tc);
	add(tw);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tw);
	if (ret_watch)
		*ret_watch = tw;
	return s;
}

#endif
