/* SPDX-License-Identifier: MIT */
/*
 * End-to-end host forwarding: the VT-d unit (programmed through its registers, invalidations
 * through its queue) forwards to hostsim, and a simulated passthrough device's DMA goes
 * through hostsim only. Checks binds, batched invalidations (one host call per stage-1 per
 * drain), stale translations when the guest skips a flush, faults and page requests, and
 * failing closed. Global flushes over the PASID directory: test-host-sweep.c.
 */
#include "devices/vfio/tests/host-forward-fixture.h"

/* ---- binds, invalidations, faults ---- */

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
}

int main(void)
{
	return check_run_suite(fixture_suite("host-forward", add_tests, NULL));
}
