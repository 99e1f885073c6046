/* SPDX-License-Identifier: MIT */
/*
 * End-to-end host forwarding: the VT-d unit (programmed through its registers, invalidations
 * through its queue) forwards to hostsim, and a simulated passthrough device's DMA goes
 * through hostsim only. Checks binds, batched invalidations (one host call per stage-1 per
 * drain), stale translations when the guest skips a flush, faults and page requests.
 */
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
static void fs_tables(uint64_t base, uint64_t target)
{
	h_put64(h, base, (base + 0x1000) | 7);
	h_put64(h, base + 0x1000, (base + 0x2000) | 7);
	h_put64(h, base + 0x2000, (base + 0x3000) | 7);
	for (int i = 0; i < 4; i++)
		h_put64(h, base + 0x3000 + 8 * i, (target + 0x1000ULL * i) | 7);
}

static void pasid_entry(uint32_t pasid, uint16_t did, uint64_t fs_root)
{
	h_put64(h, PTBL + pasid * 64, (1 << 6) | 1); /* P, PGTT=first-stage */
	h_put64(h, PTBL + pasid * 64 + 8, did);
	h_put64(h, PTBL + pasid * 64 + 16, fs_root);
}

/* Writes n descriptors (2 qwords each, 256-bit queue) plus a wait, then IQT. */
static void drain(const uint64_t (*d)[2], unsigned int n)
{
	h_drain256(h, QBASE, STATUS, &tail, d, n);
}

static uint64_t pc_desc(uint16_t did, uint32_t pasid)
{
	return 0x7 | (1 << 4) | ((uint64_t)did << 16) | ((uint64_t)pasid << 32);
}

static uint64_t piotlb_desc(uint16_t did, uint32_t pasid)
{
	return 0x6 | (3 << 4) | ((uint64_t)did << 16) | ((uint64_t)pasid << 32);
}

static int dma_rd(bool has_pasid, uint32_t pasid, uint64_t iova, uint32_t *val)
{
	struct dma_req req = { .sid = SID, .has_pasid = has_pasid, .pasid = pasid,
			       .access = DMA_ACC_READ };

	return dma_read(&das, &req, iova, val, 4);
}

static void setup_common(bool pri)
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

static void teardown(void)
{
	viommu_destroy(h->v); /* drops its pages from the watch */
	h->v = NULL;
	gmem_watch_free(&h->gm);
	free(hlog);
	hlog = NULL;
	h_free(h);
	hostsim_destroy(hs);
}

static void bind_both(void)
{
	const uint64_t d[2][2] = { { pc_desc(1, 0), 0 }, { pc_desc(2, 5), 0 } };
	struct hostsim_stats st;

	drain(d, 2);
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.attach, 2);
}

START_TEST(test_bind_dma_and_batched_flush)
{
	uint32_t v = 0;
	struct hostsim_stats a, b;
	struct viommu_host_stats vs;
	/* Three pages of PASID 5 and one of PASID 0 in one drain. */
	const uint64_t d[4][2] = {
		{ piotlb_desc(2, 5), 0x0000 }, { piotlb_desc(2, 5), 0x1000 },
		{ piotlb_desc(2, 5), 0x2000 }, { piotlb_desc(1, 0), 0x0000 },
	};

	setup_common(false);
	/* Nothing bound yet: the host blocks the device. */
	ck_assert_int_eq(dma_rd(false, 0, 0x0, &v), -EACCES);
	bind_both();
	ck_assert_int_eq(dma_rd(false, 0, 0x1000, &v), 0);
	ck_assert_uint_eq(v, 0xa1);
	ck_assert_int_eq(dma_rd(true, 5, 0x2000, &v), 0);
	ck_assert_uint_eq(v, 0xb2);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(dma_rd(true, 5, 0x1000ULL * i, &v), 0);
	ck_assert_int_eq(dma_rd(false, 0, 0x0, &v), 0);

	/* The guest remaps; until it flushes, the host keeps the old translation. */
	for (int i = 0; i < 3; i++)
		h_put64(h, FS_B + 0x3000 + 8 * i, (0x380000 + 0x1000ULL * i) | 7);
	h_put64(h, FS_A + 0x3000, 0x380000 | 7);
	ck_assert_int_eq(dma_rd(true, 5, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xb0);
	hostsim_get_stats(hs, &a);
	drain(d, 4);
	hostsim_get_stats(hs, &b);
	/* Exactly one host call per affected stage-1, carrying every range. */
	ck_assert_uint_eq(b.inv_calls - a.inv_calls, 2);
	ck_assert_uint_eq(b.inv_ranges - a.inv_ranges, 4);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(dma_rd(true, 5, 0x1000ULL * i, &v), 0);
		ck_assert_uint_eq(v, 0xc0 + i);
	}
	ck_assert_int_eq(dma_rd(false, 0, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xc0);
	viommu_get_host_stats(h->v, &vs);
	ck_assert_uint_eq(vs.binds, 2);
	ck_assert_uint_eq(vs.inv_batches, 2);
	ck_assert_uint_eq(vs.inv_ranges, 4);
	ck_assert_uint_eq(vs.errors, 0);
	teardown();
}
END_TEST

START_TEST(test_skipped_flush_is_stale_and_unmap_faults)
{
	uint32_t v = 0;
	uint64_t hi64;
	const uint64_t other[1][2] = { { piotlb_desc(2, 5), 0x3000 } }; /* wrong page */
	const uint64_t right[1][2] = { { piotlb_desc(2, 5), 0x1000 } };

	setup_common(false);
	bind_both();
	ck_assert_int_eq(dma_rd(true, 5, 0x1000, &v), 0);
	h_put64(h, FS_B + 0x3000 + 8, 0); /* unmap page 1 */
	drain(other, 1);                  /* too narrow: the host still translates */
	ck_assert_int_eq(dma_rd(true, 5, 0x1000, &v), 0);
	ck_assert_uint_eq(v, 0xb1);
	drain(right, 1);
	ck_assert_int_eq(dma_rd(true, 5, 0x1000, &v), -EACCES);
	/* The host fault became a guest fault record: first-stage not present, SID, PASID. */
	ck_assert(r32(h, VTD_FSTS_REG) & VTD_FSTS_PPF);
	hi64 = r64(h, VTD_FRCD_REG(0) + 8);
	ck_assert(hi64 & VTD_FRCD_HI_F);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, hi64), 0x71);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_SID, hi64), SID);
	ck_assert(hi64 & VTD_FRCD_HI_PP);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_PV, hi64), 5);
	ck_assert_uint_eq(r64(h, VTD_FRCD_REG(0)) & VTD_FRCD_LO_FI, 0x1000);
	teardown();
}
END_TEST

/*
 * A page-selective PASID-based flush with a mask above MAMV (Linux 6.1 sends AM 27 when an SVA
 * process unmaps a large range) is accepted and reaches the host as one range of 2^AM pages;
 * a mask of 52 or more as a flush of the whole stage-1. hostsim takes both as the kernel does.
 */
START_TEST(test_wide_masks_reach_the_host)
{
	uint32_t v = 0;
	struct hostsim_stats a, b;
	struct viommu_host_stats vs;
	const uint64_t am27[1][2] = { { piotlb_desc(2, 5), 27 } };
	const uint64_t am63[1][2] = { { piotlb_desc(2, 5), 63 } };

	setup_common(false);
	bind_both();
	ck_assert_int_eq(dma_rd(true, 5, 0x1000, &v), 0);
	ck_assert_uint_eq(v, 0xb1);
	h_put64(h, FS_B + 0x3000 + 8, 0x381000 | 7);
	hostsim_get_stats(hs, &a);
	drain(am27, 1);
	hostsim_get_stats(hs, &b);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE, 0);
	ck_assert_uint_eq(b.inv_calls - a.inv_calls, 1);
	ck_assert_uint_eq(b.inv_ranges - a.inv_ranges, 1);
	ck_assert_int_eq(dma_rd(true, 5, 0x1000, &v), 0);
	ck_assert_uint_eq(v, 0xc1);
	h_put64(h, FS_B + 0x3000 + 8, 0x301000 | 7);
	drain(am63, 1);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE, 0);
	ck_assert_int_eq(dma_rd(true, 5, 0x1000, &v), 0);
	ck_assert_uint_eq(v, 0xb1);
	viommu_get_host_stats(h->v, &vs);
	ck_assert_uint_eq(vs.errors, 0); /* neither was refused and retried whole */
	teardown();
}
END_TEST

START_TEST(test_replace_and_unbind)
{
	uint32_t v = 0;
	struct hostsim_stats st;
	const uint64_t pc5[1][2] = { { pc_desc(2, 5), 0 } };
	const uint64_t pc0[1][2] = { { pc_desc(1, 0), 0 } };

	setup_common(false);
	bind_both();
	/* Same entry again: no host call. */
	drain(pc5, 1);
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.attach + st.replace, 2);
	/* New first-stage root for the RID: replace. */
	fs_tables(0x130000, 0x380000);
	pasid_entry(0, 1, 0x130000);
	drain(pc0, 1);
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.replace, 1);
	ck_assert_int_eq(dma_rd(false, 0, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xc0);
	/* Clear PASID 5: detach, and its DMA is blocked (detach 1 was the RID's, at TE on). */
	h_put64(h, PTBL + 5 * 64, 0);
	drain(pc5, 1);
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.detach, 2);
	ck_assert_int_eq(dma_rd(true, 5, 0x0, &v), -EACCES);
	teardown();
}
END_TEST

START_TEST(test_page_request_round_trip)
{
	uint32_t v = 0;
	uint64_t q0, q1;
	struct hostsim_stats st;
	struct dma_req wr = { .sid = SID, .has_pasid = true, .pasid = 5, .access = DMA_ACC_WRITE };

	setup_common(true);
	w64(h, VTD_PQH_REG, 0);
	w64(h, VTD_PQT_REG, 0);
	w64(h, VTD_PQA_REG, PRQ);
	bind_both();
	h_put64(h, FS_B + 0x3000 + 8 * 2, 0); /* page 2 not present */
	ck_assert_int_eq(dma_write(&das, &wr, 0x2000, &v, 4), -EACCES);
	/* The host page request reached the guest's page request queue. */
	ck_assert_uint_eq(r64(h, VTD_PQT_REG), 32);
	q0 = h_ram64(h, PRQ);
	q1 = h_ram64(h, PRQ + 8);
	ck_assert_uint_eq(FIELD_GET(GENMASK_ULL(31, 16), q0), SID);
	ck_assert_uint_eq(FIELD_GET(GENMASK_ULL(51, 32), q0), 5);
	ck_assert(q0 & BIT_ULL(8));                 /* PASID present */
	ck_assert(q1 & BIT_ULL(1));                 /* write requested */
	ck_assert(q1 & BIT_ULL(2));                 /* last in group */
	ck_assert_uint_eq(q1 & ~0xfffULL, 0x2000);
	/* The guest maps the page and answers the group: the host gets the response. */
	h_put64(h, FS_B + 0x3000 + 8 * 2, 0x302000 | 7);
	{
		const uint64_t resp[1][2] = { { 0x9 | BIT_ULL(4) | ((uint64_t)SID << 16) | (5ULL << 32),
						q1 & GENMASK_ULL(11, 3) } };

		drain(resp, 1);
	}
	hostsim_get_stats(hs, &st);
	ck_assert_uint_eq(st.page_reqs, 1);
	ck_assert_uint_eq(st.page_resps, 1);
	ck_assert_int_eq(dma_write(&das, &wr, 0x2000, &v, 4), 0);
	teardown();
}
END_TEST

START_TEST(test_host_mode)
{
	struct viommu_config cfg, out;
	struct host_iommu_caps hc = { .vtd = true, .nesting = true, .pasid_attach = true,
				      .max_pasid_log2 = 10 };
	char msg[320];

	/* Options left out are chosen from the host: */
	ck_assert_int_eq(viommu_parse_options("dt=on", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), 0);
	ck_assert_uint_eq(out.pasid_bits, 10);
	ck_assert(!out.prs);                      /* no fault queue */
	/* nested: caching mode, first stage only (no second stage, no nesting), PT forwarded */
	ck_assert(out.cm && out.flts && !out.slts && !out.nest && out.pt && out.scalable);
	ck_assert_ptr_nonnull(strstr(msg, "nested"));
	ck_assert_ptr_null(strchr(msg, '\n'));
	/* ... typed ones are checked, and refused with a line that names what works. */
	ck_assert_int_eq(viommu_parse_options("aw=57", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "aw=48"));
	ck_assert_int_eq(viommu_parse_options("cm=off", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "leave cm out"));
	ck_assert_int_eq(viommu_parse_options("pasid-bits=12", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "pasid-bits=10"));
	ck_assert_int_eq(viommu_parse_options("prs=on,dt=on", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), -EINVAL);
	/* Typed second-stage options pick shadow in auto mode, are refused when nested is forced. */
	ck_assert_int_eq(viommu_parse_options("slts=on", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), 0);
	ck_assert(!out.flts && out.slts && out.cm);
	ck_assert_int_eq(viommu_parse_options("slts=on,host-mode=nested", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), -EINVAL);
	ck_assert_int_eq(viommu_parse_options("host-mode=shadow", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), 0);
	ck_assert_ptr_nonnull(strstr(msg, "shadow"));
	ck_assert_int_eq(viommu_parse_options("host-mode=bogus", &cfg, msg, sizeof(msg)), -EINVAL);
	/* An old host (before 6.15, or a device without PASID): defaults still start, RID only. */
	hc.max_pasid_log2 = 0;
	hc.pasid_attach = false;
	ck_assert_int_eq(viommu_parse_options("", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), 0);
	ck_assert_uint_eq(out.pasid_bits, 1);
	ck_assert_ptr_nonnull(strstr(msg, "RID only"));
	/* No nesting: shadow mode, caching mode on, no first stage or page requests. */
	hc.nesting = false;
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), 0);
	ck_assert_ptr_nonnull(strstr(msg, "shadow"));
	ck_assert(out.cm && !out.flts && !out.prs && out.slts);
	ck_assert_int_eq(viommu_parse_options("host-mode=nested", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "host-mode=shadow"));
	ck_assert_int_eq(viommu_parse_options("flts=on", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), -EINVAL);
}
END_TEST

/* The guest-visible CAP/ECAP of the nested configuration: CM, FLTS, PT; no SLTS, no NEST. */
START_TEST(test_nested_caps_advertise_only_forwardable)
{
	struct viommu_config cfg, out;
	struct host_iommu_caps hc = { .vtd = true, .nesting = true, .pasid_attach = true,
				      .fault_queue = true, .max_pasid_log2 = 20 };
	char msg[320];
	uint64_t cap, ecap;

	hc.vtd_cap = VTD_CAP_FS1GP;
	hc.vtd_ecap = VTD_ECAP_SRS;
	ck_assert_int_eq(viommu_parse_options("", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), 0);
	h = h_new_cfg(&out);
	cap = r64(h, VTD_CAP_REG);
	ecap = r64(h, VTD_ECAP_REG);
	ck_assert(cap & VTD_CAP_CM);
	ck_assert(cap & VTD_CAP_FS1GP);
	ck_assert(ecap & VTD_ECAP_FLTS);
	ck_assert(ecap & VTD_ECAP_SRS);
	ck_assert(ecap & VTD_ECAP_PT);
	ck_assert(!(ecap & VTD_ECAP_SLTS));
	ck_assert(!(ecap & VTD_ECAP_NEST));
	ck_assert_uint_eq(FIELD_GET(VTD_ECAP_PSS, ecap), 19);
	h_free(h);
	/* A host stage-1 walker without supervisor requests or 1 GiB pages: not offered. */
	hc.vtd_cap = 0;
	hc.vtd_ecap = 0;
	ck_assert_int_eq(viommu_host_mode(&cfg, &hc, &out, msg, sizeof(msg)), 0);
	h = h_new_cfg(&out);
	ck_assert(!(r64(h, VTD_CAP_REG) & VTD_CAP_FS1GP));
	ck_assert(!(r64(h, VTD_ECAP_REG) & VTD_ECAP_SRS));
	h_free(h);
}
END_TEST

/* ---- fail closed (issue 11) ---- */

static void clear_faults(void)
{
	for (int i = 0; i < VTD_NR_FRCD; i++)
		w32(h, VTD_FRCD_REG(i) + 12, 1u << 31);
	w32(h, VTD_FSTS_REG, 0x7f);
}

/* The one recorded fault's reason (0: none), checked for SID and PASID; clears it. */
static unsigned int fault_of(bool pp, uint32_t pasid)
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

static int dma_wr(bool has_pasid, uint32_t pasid, uint64_t iova, uint32_t val)
{
	struct dma_req req = { .sid = SID, .has_pasid = has_pasid, .pasid = pasid,
			       .access = DMA_ACC_WRITE };

	return dma_write(&das, &req, iova, &val, 4);
}

static const uint64_t pc5[1][2] = { { 0x7 | (1 << 4) | (2ULL << 16) | (5ULL << 32), 0 } };
static const uint64_t pc_global[1][2] = { { 0x7 | (3 << 4), 0 } };

/* Linux without caching mode never flushes after making an entry present: blocked meanwhile. */
START_TEST(test_bind_without_flush_is_blocked)
{
	uint32_t v = 0;

	setup_common(false);
	clear_faults();
	/* Present in memory, never flushed: the device is blocked, nothing is written. */
	ck_assert_int_eq(dma_wr(true, 5, 0x0, 0xdead), -EACCES);
	ck_assert_uint_eq(le32_load(h->ram + 0x300000), 0xb0);
	ck_assert_uint_eq(fault_of(true, 5), 0x59);             /* PASID entry not present */
	ck_assert_int_eq(dma_wr(false, 0, 0x0, 0xdead), -EACCES);
	ck_assert_uint_eq(le32_load(h->ram + 0x200000), 0xa0);
	ck_assert_uint_eq(fault_of(false, 0), 0x59);
	/* The flush makes it visible. */
	drain(pc5, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 2);
	ck_assert_int_eq(dma_rd(true, 5, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xb0);
	teardown();
}
END_TEST

/* Entries nestvm cannot forward: blocked, with the fault the spec names; memory untouched. */
START_TEST(test_unforwardable_entries_are_blocked)
{
	static const struct { uint64_t w0, w2; unsigned int fr; } bad[] = {
		{ (2 << 6) | 1, 0, 0x5B },        /* second-stage only: not advertised in nested mode */
		{ (3 << 6) | 1, 0, 0x5B },        /* nested: not advertised */
		{ (1 << 6) | 1, 1ULL << 7, 0x5A }, /* EAFE without ECAP.EAFS: reserved */
		{ (1 << 6) | 1, 1ULL << 1, 0x5A }, /* ERE without ECAP.ERS: reserved */
		{ (1 << 6) | 1, 1ULL << 2, 0x5B }, /* FLPM 5-level without CAP.FS5LP */
		{ (1 << 6) | 1, 2ULL << 2, 0x5B }, /* FLPM reserved value */
	};
	uint32_t v = 0;

	setup_common(false);
	bind_both();
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		clear_faults();
		h_put64(h, PTBL + 5 * 64, bad[i].w0);
		h_put64(h, PTBL + 5 * 64 + 16, FS_B | bad[i].w2);
		drain(pc5, 1);
		ck_assert_msg(hostsim_attachment(hs, hdev, 5) == 0, "case %u not blocked", i);
		ck_assert_int_eq(dma_wr(true, 5, 0x0, 0xdead), -EACCES);
		ck_assert_uint_eq(le32_load(h->ram + 0x300000), 0xb0);
		ck_assert_uint_eq(fault_of(true, 5), bad[i].fr);
		/* Fixed again: forwarded again. */
		pasid_entry(5, 2, FS_B);
		drain(pc5, 1);
		ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 2);
	}
	/* SRE is advertised (ECAP.SRS) and the host has it: forwarded. */
	h_put64(h, PTBL + 5 * 64 + 16, FS_B | 1);
	drain(pc5, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 2);
	/* Pass-through (PT advertised): the stage-2 parent, guest-physical addresses. */
	h_put64(h, PTBL + 5 * 64, (4 << 6) | 1);
	drain(pc5, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 1);
	ck_assert_int_eq(dma_rd(true, 5, 0x300000, &v), 0);
	ck_assert_uint_eq(v, 0xb0);
	teardown();
}
END_TEST

/* TE off/on and a new root table re-evaluate every host-backed (device, PASID). */
START_TEST(test_te_toggle_and_new_root)
{
	uint32_t v = 0;

	setup_common(false);
	bind_both();
	clear_faults();
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, false);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, HOST_PASID_NONE), 1); /* identity */
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 0);
	ck_assert_int_eq(dma_rd(false, 0, 0x200000, &v), 0);
	ck_assert_uint_eq(v, 0xa0);
	ck_assert_int_eq(dma_rd(true, 5, 0x0, &v), -EACCES);
	ck_assert_uint_eq(fault_of(true, 5), 0); /* translation off: nothing to record */
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, HOST_PASID_NONE), 2);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 2);
	ck_assert_int_eq(dma_rd(true, 5, 0x1000, &v), 0);
	ck_assert_uint_eq(v, 0xb1);
	/* A new, empty root table: everything blocked, root entry not present. */
	w64(h, VTD_RTADDR_REG, 0x140000 | (1 << 10));
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, HOST_PASID_NONE), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 0);
	ck_assert_int_eq(dma_wr(false, 0, 0x0, 0xdead), -EACCES);
	ck_assert_uint_eq(fault_of(false, 0), 0x39);
	ck_assert_uint_eq(le32_load(h->ram + 0x200000), 0xa0);
	teardown();
}
END_TEST

/* After a refused host call, nestvm's record equals the host's. */
START_TEST(test_refused_calls_leave_no_stale_stage1)
{
	uint32_t v = 0;
	struct hostsim_stats a, b;
	struct viommu_host_stats vs;
	const uint64_t piotlb5[1][2] = { { piotlb_desc(2, 5), 0x0000 } };

	setup_common(false);
	bind_both();
	clear_faults();
	/* The host refuses the replace: the old stage-1 must not stay. */
	fs_tables(0x130000, 0x380000);
	h_put64(h, PTBL + 5 * 64 + 16, 0x130000);
	hostsim_fail(hs, HOSTSIM_OP_ATTACH_S1, -EINVAL, 1);
	drain(pc5, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 0);
	ck_assert_int_eq(dma_rd(true, 5, 0x0, &v), -EACCES);
	ck_assert_uint_eq(fault_of(true, 5), 0x5B);
	viommu_get_host_stats(h->v, &vs);
	ck_assert_uint_eq(vs.errors, 1);
	/* Later invalidations of that PASID: nothing to send, no host error. */
	hostsim_get_stats(hs, &a);
	drain(piotlb5, 1);
	hostsim_get_stats(hs, &b);
	ck_assert_uint_eq(b.inv_calls, a.inv_calls);
	viommu_get_host_stats(h->v, &vs);
	ck_assert_uint_eq(vs.errors, 1);
	/* The next flush forwards it. */
	drain(pc5, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 2);
	ck_assert_int_eq(dma_rd(true, 5, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xc0);
	/* A refused detach: the host still translates, so nestvm keeps it and retries. */
	h_put64(h, PTBL + 5 * 64, 0);
	hostsim_fail(hs, HOSTSIM_OP_DETACH, -EBUSY, 1);
	drain(pc5, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 2);
	hostsim_get_stats(hs, &a);
	drain(piotlb5, 1); /* still a host stage-1: its invalidation is still sent */
	hostsim_get_stats(hs, &b);
	ck_assert_uint_eq(b.inv_calls - a.inv_calls, 1);
	drain(pc5, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 0);
	/* A refused invalidation (even of the whole stage-1): blocked, never stale. */
	pasid_entry(5, 2, FS_B);
	drain(pc5, 1);
	ck_assert_int_eq(dma_rd(true, 5, 0x0, &v), 0);
	hostsim_fail(hs, HOSTSIM_OP_INVALIDATE, -EIO, 2);
	drain(piotlb5, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 0);
	teardown();
}
END_TEST

/* Global flushes walk the guest's PASID directory, not the first 64 PASIDs. */
START_TEST(test_global_flush_walks_directory)
{
	static const uint32_t far[] = { 100, 1000, 5000 };
	struct hostsim_stats a, b;
	uint32_t v = 0;

	setup_common(false);
	bind_both();
	for (unsigned int i = 0; i < ARRAY_SIZE(far); i++) {
		uint64_t tbl = 0x140000 + 0x1000ULL * i;

		h_put64(h, PDIR + (far[i] >> 6) * 8, tbl | 1);
		h_put64(h, tbl + (far[i] & 63) * 64, (1 << 6) | 1);
		h_put64(h, tbl + (far[i] & 63) * 64 + 8, 7);
		h_put64(h, tbl + (far[i] & 63) * 64 + 16, FS_B);
	}
	drain(pc_global, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(far); i++) {
		ck_assert_int_eq(hostsim_attachment(hs, hdev, far[i]), 2);
		ck_assert_int_eq(dma_rd(true, far[i], 0x2000, &v), 0);
		ck_assert_uint_eq(v, 0xb2);
	}
	/* Unchanged entries: a second global flush makes no host call. */
	hostsim_get_stats(hs, &a);
	drain(pc_global, 1);
	hostsim_get_stats(hs, &b);
	ck_assert_uint_eq(b.attach + b.replace + b.detach + b.parent,
			  a.attach + a.replace + a.detach + a.parent);
	/* A directory entry removed: its PASID is detached by the next global flush. */
	h_put64(h, PDIR + (far[1] >> 6) * 8, 0);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, far[1]), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, far[2]), 2);
	clear_faults();
	ck_assert_int_eq(dma_rd(true, far[1], 0x2000, &v), -EACCES);
	ck_assert_uint_eq(fault_of(true, far[1]), 0x51); /* PASID directory entry not present */
	teardown();
}
END_TEST

static unsigned int host_calls(void)
{
	struct hostsim_stats st;

	hostsim_get_stats(hs, &st);
	return (unsigned int)(st.attach + st.replace + st.detach + st.parent);
}

/*
 * A global flush skips a PASID table whose 4 KiB are unchanged since it was forwarded; any
 * change in the table makes it re-read entry by entry, and a refused detach is retried by
 * every global flush even when the table does not change again.
 */
START_TEST(test_global_flush_skips_only_unchanged_tables)
{
	const uint64_t tbl = 0x140000;
	unsigned int c0;
	uint32_t v = 0;

	setup_common(false);
	bind_both();
	/* PASIDs 64..127 in one table, all bound by a global flush. */
	h_put64(h, PDIR + 8, tbl | 1);
	for (unsigned int j = 0; j < 64; j++) {
		h_put64(h, tbl + j * 64, (1 << 6) | 1);
		h_put64(h, tbl + j * 64 + 8, 9);
		h_put64(h, tbl + j * 64 + 16, FS_B);
	}
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 64), 2);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 127), 2);
	c0 = host_calls();
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0);
	/* One FLPTPTR changed among 64 unchanged entries: exactly that PASID is replaced. */
	fs_tables(0x130000, 0x380000);
	h_put64(h, tbl + 40 * 64 + 16, 0x130000);
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0 + 1);
	ck_assert_int_eq(dma_rd(true, 104, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xc0);
	ck_assert_int_eq(dma_rd(true, 105, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xb0);
	/* A word the decoder ignores: the table is read again, the host is not called. */
	h_put64(h, tbl + 7 * 64 + 40, 0x1234);
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0 + 1);
	/* A cleared entry whose detach the host refuses: every later global flush retries it. */
	h_put64(h, tbl + 3 * 64, 0);
	hostsim_fail(hs, HOSTSIM_OP_DETACH, -EBUSY, 1);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 67), 2);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 67), 0);
	/* An entry made unforwardable (PGTT second-stage) whose detach is refused: retried too. */
	h_put64(h, tbl + 9 * 64, (2 << 6) | 1);
	hostsim_fail(hs, HOSTSIM_OP_DETACH, -EBUSY, 1);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 73), 2);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 73), 0);
	/* Unchanged again: no host call; the directory entry moved to a copy: still none. */
	c0 = host_calls();
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0);
	memcpy(h->ram + tbl + 0x1000, h->ram + tbl, 4096);
	h_put64(h, PDIR + 8, (tbl + 0x1000) | 1);
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0);
	/* ... and a change in the copy (not the old page) is seen. */
	h_put64(h, tbl + 0x1000 + 50 * 64, 0);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 114), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 115), 2);
	/* RID_PASID moved into the unchanged table: requests without PASID use that entry. */
	ck_assert_int_eq(dma_rd(false, 0, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xa0);
	h_put64(h, CTX + 8 * 32 + 8, 115);
	drain(pc_global, 1);
	ck_assert_int_eq(dma_rd(false, 0, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xb0);
	teardown();
}
END_TEST

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* Average time of a global PASID-cache flush (+ wait), in ns (printed, never asserted). */
static uint64_t time_global_flush(void)
{
	const unsigned int reps = 20;
	uint64_t t0 = now_ns();

	for (unsigned int i = 0; i < reps; i++)
		drain(pc_global, 1);
	return (now_ns() - t0) / reps;
}

/* Thousands of bound PASIDs: one walk binds them, lookups stay cheap, nothing is resent. */
START_TEST(test_many_pasids)
{
	const unsigned int n = 2000, first = 64;
	struct hostsim_stats a, b;
	const uint64_t inv[1][2] = { { piotlb_desc(9, 1500), 0x1000 } };
	uint64_t t_few, t_many;

	setup_common(false);
	bind_both();
	t_few = time_global_flush();
	for (unsigned int i = 0; i < n; i++) {
		uint32_t p = first + i;
		uint64_t tbl = 0x140000 + 0x1000ULL * ((p >> 6) - 1);

		h_put64(h, PDIR + (p >> 6) * 8, tbl | 1);
		h_put64(h, tbl + (p & 63) * 64, (1 << 6) | 1);
		h_put64(h, tbl + (p & 63) * 64 + 8, 9);
		h_put64(h, tbl + (p & 63) * 64 + 16, FS_B);
	}
	hostsim_get_stats(hs, &a);
	drain(pc_global, 1);
	hostsim_get_stats(hs, &b);
	ck_assert_uint_eq(b.attach - a.attach, n);
	drain(pc_global, 1);
	hostsim_get_stats(hs, &a);
	ck_assert_uint_eq(a.attach + a.replace + a.detach, b.attach + b.replace + b.detach);
	drain(inv, 1);
	hostsim_get_stats(hs, &b);
	ck_assert_uint_eq(b.inv_calls - a.inv_calls, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, first + n - 1), 2);
	t_many = time_global_flush();
	fprintf(stderr, "global PASID-cache flush: %llu ns with 2 bound PASIDs, %llu ns with %u "
		"(%.1fx)\n", (unsigned long long)t_few, (unsigned long long)t_many, n + 2,
		t_few ? (double)t_many / (double)t_few : 0.0);
	teardown();
}
END_TEST

/*
 * Random binds, unbinds, PASID-selective and global flushes and TE toggles over 600 PASIDs:
 * after every flush the host has exactly what the tables say (the index survives deletions).
 */
START_TEST(test_random_churn_matches_tables)
{
	enum { N = 600, FIRST = 64 };
	static bool present[N], flushed[N];
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	bool te = true;

	setup_common(false);
	bind_both();
	for (unsigned int i = 0; i < N; i++) {
		uint32_t p = FIRST + i;

		h_put64(h, PDIR + (p >> 6) * 8, (0x140000 + 0x1000ULL * ((p >> 6) - 1)) | 1);
		present[i] = flushed[i] = false;
	}
	for (unsigned int step = 0; step < 800; step++) {
		unsigned int i, op;

		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		i = (unsigned int)(seed % N);
		op = (unsigned int)((seed >> 32) % 100);
		if (op < 60) {
			uint32_t p = FIRST + i;
			uint64_t e = 0x140000 + 0x1000ULL * ((p >> 6) - 1) + (p & 63) * 64;

			present[i] = !present[i];
			h_put64(h, e, present[i] ? (1 << 6) | 1 : 0);
			h_put64(h, e + 8, 9);
			h_put64(h, e + 16, FS_B);
			flushed[i] = false;
			if (op < 45) {
				const uint64_t pc[1][2] = { { 0x7 | (1 << 4) | (9ULL << 16) | ((uint64_t)p << 32), 0 } };

				drain(pc, 1);
				flushed[i] = true;
			}
		} else if (op < 97) {
			drain(pc_global, 1);
			for (unsigned int k = 0; k < N; k++)
				flushed[k] = true;
		} else {
			te = !te;
			h_gcmd(h, (uint32_t)VTD_GCMD_TE, te);
			for (unsigned int k = 0; k < N; k++)
				flushed[k] = true;
		}
		/* Every PASID after global operations (and every 64 steps), else the touched one. */
		for (unsigned int k = op < 60 && step % 64 ? i : 0; k < (op < 60 && step % 64 ? i + 1 : N); k++) {
			int want = te && present[k] ? 2 : 0;

			if (flushed[k])
				ck_assert_msg(hostsim_attachment(hs, hdev, FIRST + k) == want,
					      "step %u PASID %u: host %d, want %d", step, FIRST + k,
					      hostsim_attachment(hs, hdev, FIRST + k), want);
		}
	}
	teardown();
}
END_TEST

/* A hostile directory: huge, partly outside RAM, entries pointing anywhere. Bounded, no host call. */
START_TEST(test_hostile_directory)
{
	struct hostsim_stats a, b;
	const uint64_t dir = H_RAM_SIZE - 0x2000; /* 16384 entries would run 120 KiB past the end */

	setup_common(false);
	bind_both();
	for (uint64_t i = 0; i < 0x2000 / 8; i++)
		h_put64(h, dir + 8 * i, (i & 1) ? 0xfffffffff000ULL | 1 : (dir & ~0xfffULL) | 1);
	/* PDTS = 7 (the largest directory), RID_PASID 0 */
	h_put64(h, CTX + 8 * 32, dir | (7 << 9) | (1 << 3) | 1);
	hostsim_get_stats(hs, &a);
	drain(pc_global, 1);
	hostsim_get_stats(hs, &b);
	/* The RID's entry and PASID 5 became unreadable or garbage: blocked, nothing bound. */
	ck_assert_int_eq(hostsim_attachment(hs, hdev, HOST_PASID_NONE), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 0);
	ck_assert_uint_eq(b.attach + b.replace, a.attach + a.replace);
	drain(pc_global, 1);
	teardown();
}
END_TEST

/*
 * With the write watch: from HOST_WATCH_MIN tables on, a global flush reads only the PASID
 * tables someone wrote since they were verified: the CPU (the test's own stores, seen by the
 * CPU log), the VMM (gmem_write) or an emulated device's DMA (hostsim's, through dma_write).
 * A CPU log that misses a store shows the table really is not read; a blind watch reads all.
 */
static uint64_t wtbl(unsigned int t)
{
	return 0x140000 + 0x1000ULL * (t - 1);
}

static struct viommu_host_stats vstats(void)
{
	struct viommu_host_stats st;

	viommu_get_host_stats(h->v, &st);
	return st;
}

START_TEST(test_watch_trusts_only_unwritten_tables)
{
	const uint64_t flush5[2][2] = { { pc_desc(2, 5), 0 }, { piotlb_desc(2, 5), 0 } };
	struct viommu_host_stats a, b;
	struct dma_req wr = { .sid = SID, .has_pasid = true, .pasid = 5, .access = DMA_ACC_WRITE };
	uint64_t zero = 0;
	uint32_t v = 0;

	setup_common(false);
	bind_both();
	for (unsigned int t = 1; t <= 10; t++) {
		h_put64(h, PDIR + 8 * t, wtbl(t) | 1);
		h_put64(h, wtbl(t), (1 << 6) | 1);
		h_put64(h, wtbl(t) + 8, 9);
		h_put64(h, wtbl(t) + 16, FS_B);
	}
	drain(pc_global, 1); /* binds PASIDs 64, 128, ... 640; their tables join the watch */
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 640), 2);
	a = vstats();
	drain(pc_global, 1); /* first look since they joined: compared */
	b = vstats();
	ck_assert_uint_eq(b.tables_trusted, a.tables_trusted);
	ck_assert_uint_ge(b.tables_compared - a.tables_compared, 10);
	drain(pc_global, 1); /* nobody wrote them: none read */
	a = vstats();
	ck_assert_uint_ge(a.tables_trusted - b.tables_trusted, 10);
	ck_assert_uint_eq(a.tables_compared, b.tables_compared);

	/* The CPU rewrites PASID 192's first-stage pointer: that table alone is read again. */
	fs_tables(0x130000, 0x380000);
	h_put64(h, wtbl(3) + 16, 0x130000);
	drain(pc_global, 1);
	b = vstats();
	ck_assert_uint_eq(b.tables_compared - a.tables_compared, 1);
	ck_assert_int_eq(dma_rd(true, 192, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xc0);
	ck_assert_int_eq(dma_rd(true, 128, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xb0);

	/* From here the CPU log reports nothing: only the VMM's own notes can tell. */
	hlog->deaf = true;
	/* The VMM writes PASID 320's. */
	ck_assert_int_eq(gmem_write_u64(&h->gm, wtbl(5) + 16, 0x130000), 0);
	drain(pc_global, 1);
	ck_assert_int_eq(dma_rd(true, 320, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xc0);

	/* The device's DMA (PASID 5, page 3 of its space now table 7) clears PASID 448's entry. */
	h_put64(h, FS_B + 0x3000 + 8 * 3, wtbl(7) | 7);
	drain(flush5, 2);
	ck_assert_int_eq(dma_write(&das, &wr, 0x3000, &zero, 8), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 448), 2);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 448), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 512), 2);

	/* A store the CPU log misses: the flush trusts the table and the host keeps PASID 576. */
	drain(pc_global, 1);
	h_put64(h, wtbl(9), 0);
	a = vstats();
	drain(pc_global, 1);
	b = vstats();
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 576), 2);
	ck_assert_uint_eq(b.tables_compared, a.tables_compared);
	hlog->deaf = false;
	{
		const uint64_t one[1][2] = { { pc_desc(9, 576), 0 } };

		drain(one, 1); /* a PASID-selective flush reads the entry itself */
	}
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 576), 0);

	/* Blind (a writer nobody sees joined): every table is compared again. */
	gmem_watch_blind(&h->gm);
	a = vstats();
	drain(pc_global, 1);
	b = vstats();
	ck_assert_uint_eq(b.tables_trusted, a.tables_trusted);
	ck_assert_uint_ge(b.tables_compared - a.tables_compared, 9);
	teardown();
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_bind_dma_and_batched_flush);
	tcase_add_test(tc, test_skipped_flush_is_stale_and_unmap_faults);
	tcase_add_test(tc, test_wide_masks_reach_the_host);
	tcase_add_test(tc, test_replace_and_unbind);
	tcase_add_test(tc, test_page_request_round_trip);
	tcase_add_test(tc, test_host_mode);
	tcase_add_test(tc, test_nested_caps_advertise_only_forwardable);
	tcase_add_test(tc, test_bind_without_flush_is_blocked);
	tcase_add_test(tc, test_unforwardable_entries_are_blocked);
	tcase_add_test(tc, test_te_toggle_and_new_root);
	tcase_add_test(tc, test_refused_calls_leave_no_stale_stage1);
	tcase_add_test(tc, test_global_flush_walks_directory);
	tcase_add_test(tc, test_global_flush_skips_only_unchanged_tables);
	tcase_add_test(tc, test_many_pasids);
	tcase_add_test(tc, test_hostile_directory);
	tcase_add_test(tc, test_random_churn_matches_tables);
}

static void watch_off(void)
{
	with_watch = false;
}

static void watch_on(void)
{
	with_watch = true;
}

int main(void)
{
	Suite *s = suite_create("host-forward");
	TCase *tc = tcase_create("core"), *tw = tcase_create("watch");

	tcase_add_unchecked_fixture(tc, watch_off, NULL);
	tcase_add_unchecked_fixture(tw, watch_on, NULL);
	tcase_set_timeout(tc, 30); /* the machine is shared: slow, never asserted */
	tcase_set_timeout(tw, 30);
	add_tests(tc);
	add_tests(tw);
	tcase_add_test(tw, test_watch_trusts_only_unwritten_tables);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tw);
	return check_run_suite(s);
}

