/* SPDX-License-Identifier: MIT */
/* Unit tests for the VT-d register file, CAP/ECAP, option parsing, GCMD and CCMD/IOTLB. */
#include <errno.h>

#include "common/log.h"
#include "fake-xlate.h"
#include "harness.h"

START_TEST(test_reset_values)
{
	struct harness *h = h_new("");

	ck_assert_uint_eq(r32(h, VTD_VER_REG), VTD_VERSION);
	ck_assert_uint_eq(r64(h, VTD_CAP_REG), viommu_cap(h->v));
	ck_assert_uint_eq(r64(h, VTD_ECAP_REG), viommu_ecap(h->v));
	/* CAP as two halves */
	ck_assert_uint_eq(r32(h, VTD_CAP_REG), (uint32_t)viommu_cap(h->v));
	ck_assert_uint_eq(r32(h, VTD_CAP_REG + 4), (uint32_t)(viommu_cap(h->v) >> 32));
	ck_assert_uint_eq(r32(h, VTD_GSTS_REG), 0);
	ck_assert_uint_eq(r32(h, VTD_FECTL_REG), 0x80000000u);
	ck_assert_uint_eq(r32(h, VTD_IECTL_REG), 0x80000000u);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), 0);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 0);
	ck_assert_uint_eq(r64(h, VTD_IOTLB_REG), 0);
	ck_assert_uint_eq(r64(h, VTD_FRCD_REG(7) + 8), 0);
	/* 64-bit read over FEADDR/FEUADDR, FECTL/FEDATA pairs */
	ck_assert_uint_eq(r64(h, VTD_FECTL_REG), 0x80000000u);
	h_free(h);
}
END_TEST

START_TEST(test_masks)
{
	struct harness *h = h_new("ir=off");
	uint64_t cap = viommu_cap(h->v);

	/* RO: CAP, GSTS, IQH, PMEN, IQERCD, IRTA (no IR) */
	w64(h, VTD_CAP_REG, ~0ULL);
	ck_assert_uint_eq(r64(h, VTD_CAP_REG), cap);
	w32(h, VTD_GSTS_REG, 0xffffffff);
	ck_assert_uint_eq(r32(h, VTD_GSTS_REG), 0);
	w64(h, VTD_IQH_REG, 0x40);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 0);
	w32(h, VTD_PMEN_REG, 0x80000000);
	ck_assert_uint_eq(r32(h, VTD_PMEN_REG), 0);
	w64(h, VTD_IRTA_REG, 0x1000f);
	ck_assert_uint_eq(r64(h, VTD_IRTA_REG), 0);
	/* RW masks */
	w32(h, VTD_FEDATA_REG, 0xffffffff);
	ck_assert_uint_eq(r32(h, VTD_FEDATA_REG), 0xffff);
	w32(h, VTD_FEADDR_REG, 0xffffffff);
	ck_assert_uint_eq(r32(h, VTD_FEADDR_REG), 0xfffffffc);
	w32(h, VTD_FEUADDR_REG, 0xffffffff);
	ck_assert_uint_eq(r32(h, VTD_FEUADDR_REG), 0);
	w64(h, VTD_RTADDR_REG, ~0ULL);
	ck_assert_uint_eq(r64(h, VTD_RTADDR_REG), GENMASK_ULL(63, 10));
	/* 64-bit register written as two halves */
	w32(h, VTD_RTADDR_REG, 0x12345400);
	w32(h, VTD_RTADDR_REG + 4, 0x9);
	ck_assert_uint_eq(r64(h, VTD_RTADDR_REG), 0x912345400ULL);
	ck_assert_uint_eq(r32(h, VTD_RTADDR_REG + 4), 0x9);
	/* IQA: DW writable in scalable mode; FECTL: only IM writable (IP RO) */
	w64(h, VTD_IQA_REG, ~0ULL);
	ck_assert_uint_eq(r64(h, VTD_IQA_REG), VTD_IQA_ADDR | VTD_IQA_DW | VTD_IQA_QS);
	w32(h, VTD_FECTL_REG, 0x40000000);
	ck_assert_uint_eq(r32(h, VTD_FECTL_REG), 0);
	/* WO: GCMD and IVA read as zero */
	w32(h, VTD_GCMD_REG, (uint32_t)VTD_GCMD_WBF);
	ck_assert_uint_eq(r32(h, VTD_GCMD_REG), 0);
	w64(h, VTD_IVA_REG, 0x5000 | 3);
	ck_assert_uint_eq(r64(h, VTD_IVA_REG), 0);
	h_free(h);
}
END_TEST

START_TEST(test_rw1c_and_legacy_iqa)
{
	struct harness *h = h_new("mode=legacy");

	w64(h, VTD_IQA_REG, ~0ULL);
	ck_assert_uint_eq(r64(h, VTD_IQA_REG), VTD_IQA_ADDR | VTD_IQA_QS);
	pthread_mutex_lock(&h->v->lock);
	vtd_reg_set(h->v, VTD_FSTS_REG, VTD_FSTS_PFO | VTD_FSTS_IQE);
	vtd_reg_set(h->v, VTD_ICS_REG, VTD_ICS_IWC);
	pthread_mutex_unlock(&h->v->lock);
	w32(h, VTD_FSTS_REG, 0); /* writing 0 keeps RW1C bits */
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), VTD_FSTS_PFO | VTD_FSTS_IQE);
	w32(h, VTD_FSTS_REG, (uint32_t)VTD_FSTS_PFO);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), VTD_FSTS_IQE);
	w32(h, VTD_FSTS_REG, 0xffffffff); /* PPF/FRI are RO, not set by a write */
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG), 0);
	w32(h, VTD_ICS_REG, 1);
	ck_assert_uint_eq(r32(h, VTD_ICS_REG), 0);
	h_free(h);
}
END_TEST

START_TEST(test_bad_accesses)
{
	struct harness *h = h_new("");

	/* odd sizes, misaligned, unlisted offsets: read 0, writes dropped, no crash */
	ck_assert_uint_eq(bus_read(&h->bus, BUS_MMIO, H_BASE + VTD_FECTL_REG, 2), 0);
	ck_assert_uint_eq(bus_read(&h->bus, BUS_MMIO, H_BASE + VTD_FECTL_REG, 1), 0);
	ck_assert_uint_eq(bus_read(&h->bus, BUS_MMIO, H_BASE + VTD_FECTL_REG + 2, 4), 0);
	ck_assert_uint_eq(bus_read(&h->bus, BUS_MMIO, H_BASE + VTD_CAP_REG + 4, 8), 0);
	ck_assert_uint_eq(r64(h, 0xff8), 0);
	ck_assert_uint_eq(r32(h, 0x100), 0);
	bus_write(&h->bus, BUS_MMIO, H_BASE + VTD_FEDATA_REG, 0x1234, 2);
	ck_assert_uint_eq(r32(h, VTD_FEDATA_REG), 0);
	bus_write(&h->bus, BUS_MMIO, H_BASE + VTD_FEDATA_REG + 1, 0x1234, 4);
	ck_assert_uint_eq(r32(h, VTD_FEDATA_REG), 0);
	w64(h, 0xff8, ~0ULL);
	w32(h, 0x300, ~0u);
	ck_assert_uint_eq(r32(h, 0x300), 0);
	/* direct calls outside the window (the bus never does this) */
	ck_assert_uint_eq(viommu_mmio_read(h->v, 0x1000, 4), 0);
	viommu_mmio_write(h->v, 0xfffffffffffffff8ULL, 1, 8);
	h_free(h);
}
END_TEST

START_TEST(test_caps_configs)
{
	struct viommu_config c;
	uint64_t cap, ecap;
	struct vtd_caps vc;
	char err[128];

	ck_assert_int_eq(viommu_parse_options("", &c, err, sizeof(err)), 0);
	viommu_compute_caps(&c, &cap, &ecap, &vc);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_SAGAW, cap), 0x6);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_MGAW, cap), 47);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_NFR, cap), 7);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_FRO, cap) * 16, 0x220);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_ND, cap), 6);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_SSLPS, cap), 3);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_MAMV, cap), VTD_MAMV);
	ck_assert(cap & VTD_CAP_PSI);
	ck_assert(cap & VTD_CAP_FS1GP);
	ck_assert(!(cap & (VTD_CAP_FS5LP | VTD_CAP_CM | VTD_CAP_RWBF | VTD_CAP_PLMR | VTD_CAP_PHMR)));
	ck_assert_uint_eq(FIELD_GET(VTD_ECAP_IRO, ecap) * 16, VTD_IVA_REG);
	ck_assert_uint_eq(ecap & (VTD_ECAP_QI | VTD_ECAP_PT | VTD_ECAP_SMTS | VTD_ECAP_PASID |
				  VTD_ECAP_FLTS | VTD_ECAP_SLTS | VTD_ECAP_NEST | VTD_ECAP_SRS),
			  VTD_ECAP_QI | VTD_ECAP_PT | VTD_ECAP_SMTS | VTD_ECAP_PASID |
				  VTD_ECAP_FLTS | VTD_ECAP_SLTS | VTD_ECAP_NEST | VTD_ECAP_SRS);
	ck_assert_uint_eq(FIELD_GET(VTD_ECAP_PSS, ecap), 19);
	/* Interrupt remapping with x2APIC IRTEs is part of the default unit (ir=off removes it). */
	ck_assert((ecap & (VTD_ECAP_IR | VTD_ECAP_EIM)) == (VTD_ECAP_IR | VTD_ECAP_EIM));
	ck_assert_uint_eq(FIELD_GET(VTD_ECAP_MHMV, ecap), 15);
	ck_assert(!(ecap & (VTD_ECAP_PRS | VTD_ECAP_DT | VTD_ECAP_SC)));
	ck_assert(vc.scalable && vc.flts && vc.slts && vc.nest && vc.pasid && vc.pasid_bits == 20);
	ck_assert_uint_eq(vc.mgaw, 48);

	ck_assert_int_eq(viommu_parse_options("mode=legacy", &c, err, sizeof(err)), 0);
	viommu_compute_caps(&c, &cap, &ecap, &vc);
	ck_assert(!(ecap & (VTD_ECAP_SMTS | VTD_ECAP_PASID | VTD_ECAP_FLTS | VTD_ECAP_NEST |
			    VTD_ECAP_SLTS | VTD_ECAP_SRS | VTD_ECAP_PSS)));
	ck_assert(!(cap & (VTD_CAP_FS1GP | VTD_CAP_FS5LP)));
	ck_assert(ecap & VTD_ECAP_PT);
	ck_assert(!vc.scalable && !vc.flts && vc.slts && !vc.nest && !vc.pasid);

	ck_assert_int_eq(viommu_parse_options(",aw=57,pasid-bits=8,cm=on,dt=on,pt=off", &c, err,
					      sizeof(err)), 0);
	viommu_compute_caps(&c, &cap, &ecap, &vc);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_SAGAW, cap), 0xe);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_MGAW, cap), 56);
	ck_assert(cap & VTD_CAP_FS5LP);
	ck_assert(cap & VTD_CAP_CM);
	ck_assert(ecap & VTD_ECAP_DT);
	ck_assert(!(ecap & VTD_ECAP_PT));
	ck_assert_uint_eq(FIELD_GET(VTD_ECAP_PSS, ecap), 7);
	ck_assert(vc.cm && vc.dt && !vc.pt && vc.fs5lp && vc.pasid_bits == 8);

	/* slts=off: nest (defaulted) follows; FLTS only */
	ck_assert_int_eq(viommu_parse_options("slts=off", &c, err, sizeof(err)), 0);
	viommu_compute_caps(&c, &cap, &ecap, &vc);
	ck_assert(!(ecap & (VTD_ECAP_SLTS | VTD_ECAP_NEST)));
	ck_assert(ecap & VTD_ECAP_FLTS);
	/* flts=off: no FS1GP/SRS/NEST */
	ck_assert_int_eq(viommu_parse_options("flts=off,aw=57", &c, err, sizeof(err)), 0);
	viommu_compute_caps(&c, &cap, &ecap, &vc);
	ck_assert(!(ecap & (VTD_ECAP_FLTS | VTD_ECAP_NEST | VTD_ECAP_SRS)));
	ck_assert(!(cap & (VTD_CAP_FS1GP | VTD_CAP_FS5LP)));
	ck_assert(ecap & VTD_ECAP_SLTS);
	/* aw=39 */
	ck_assert_int_eq(viommu_parse_options("aw=39", &c, err, sizeof(err)), 0);
	viommu_compute_caps(&c, &cap, &ecap, &vc);
	ck_assert_uint_eq(FIELD_GET(VTD_CAP_SAGAW, cap), 0x2);
}
END_TEST

START_TEST(test_option_errors)
{
	static const char *const bad[] = {
		"mode=legacy,flts=on", "mode=legacy,nest=on", "mode=legacy,pasid-bits=8",
		"flts=off,nest=on", "slts=off,nest=on", "aw=40", "aw=", "aw=48x", "pasid-bits=0",
		"pasid-bits=21", "bogus=1", "flts=maybe", "mode=foo", "aw", "flts=off,slts=off",
		"regs-mirror=maybe", "regs-mirror",
	};
	struct viommu_config c = { 0 };
	char err[128];

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(viommu_parse_options(bad[i], &c, err, sizeof(err)) == -EINVAL, "%s",
			      bad[i]);
		ck_assert_msg(err[0] != '\0' && !strchr(err, '\n'), "no message for %s", bad[i]);
	}
	ck_assert_int_eq(viommu_parse_options("mode=legacy,flts=off,nest=off", &c, err, sizeof(err)), 0);
	ck_assert_int_eq(viommu_parse_options(NULL, &c, err, sizeof(err)), 0);
	ck_assert(c.scalable);
	ck_assert(c.regs_mirror);
	ck_assert_int_eq(viommu_parse_options("regs-mirror=off", &c, err, sizeof(err)), 0);
	ck_assert(!c.regs_mirror);
}
END_TEST

START_TEST(test_gcmd_handshakes)
{
	struct harness *h = h_new("ir=off"); /* IRE/SIRTP below must be ignored */
	struct vtd_xlate *x = fake_xlate_last();

	/* SRTP latches RTADDR incl. TTM; RTPS reported */
	w64(h, VTD_RTADDR_REG, 0x200000 | (1 << 10));
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	ck_assert_uint_eq(r32(h, VTD_GSTS_REG) & VTD_GCMD_SRTP, VTD_GCMD_SRTP);
	ck_assert_uint_eq(x->root, 0x200000 | (1 << 10));
	ck_assert_uint_eq(x->set_root_calls, 1);
	/* TE on/off, keeping the other level bits as software does */
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_TE);
	ck_assert(h->v->te);
	/* QIE: enabling resets IQH */
	pthread_mutex_lock(&h->v->lock);
	vtd_reg_set(h->v, VTD_IQH_REG, 0x40);
	pthread_mutex_unlock(&h->v->lock);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	ck_assert_uint_eq(r32(h, VTD_GSTS_REG) & (VTD_GCMD_QIE | VTD_GCMD_TE),
			  VTD_GCMD_QIE | VTD_GCMD_TE);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), 0);
	/* QIE clear refused while IQH != IQT */
	pthread_mutex_lock(&h->v->lock);
	vtd_reg_set(h->v, VTD_IQT_REG, 0x20);
	pthread_mutex_unlock(&h->v->lock);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, false);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_QIE);
	pthread_mutex_lock(&h->v->lock);
	vtd_reg_set(h->v, VTD_IQT_REG, 0);
	pthread_mutex_unlock(&h->v->lock);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, false);
	ck_assert(!(r32(h, VTD_GSTS_REG) & VTD_GCMD_QIE));
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_TE);
	/* unsupported commands: IRE, SIRTP, SFL, EAFL ignored; WBF no status */
	h_gcmd(h, (uint32_t)VTD_GCMD_IRE, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_SIRTP, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_WBF, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_EAFL, true);
	ck_assert_uint_eq(r32(h, VTD_GSTS_REG) & ~(uint32_t)(VTD_GCMD_TE | VTD_GCMD_SRTP), 0);
	/* CFI is reflected as a level bit */
	h_gcmd(h, (uint32_t)VTD_GCMD_CFI, true);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_CFI);
	h_gcmd(h, (uint32_t)VTD_GCMD_CFI, false);
	ck_assert(!(r32(h, VTD_GSTS_REG) & VTD_GCMD_CFI));
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, false);
	ck_assert(!(r32(h, VTD_GSTS_REG) & VTD_GCMD_TE));
	ck_assert(!h->v->te);
	/* a write asking for two level changes acts on both */
	w32(h, VTD_GCMD_REG, (uint32_t)(VTD_GCMD_TE | VTD_GCMD_QIE));
	ck_assert_uint_eq(r32(h, VTD_GSTS_REG) & (VTD_GCMD_TE | VTD_GCMD_QIE),
			  VTD_GCMD_TE | VTD_GCMD_QIE);
	h_free(h);
}
END_TEST

START_TEST(test_srtp_bad_ttm)
{
	struct harness *h = h_new("mode=legacy");
	struct vtd_xlate *x = fake_xlate_last();
	struct dma_as as;
	struct dma_req req = { .sid = 0x10, .access = DMA_ACC_READ };
	uint8_t buf[4];

	/* TTM=01 without SMTS: RTPS completes, root not passed on, DMA faults with 0x30 */
	w64(h, VTD_RTADDR_REG, 0x200000 | (1 << 10));
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_SRTP);
	ck_assert_uint_eq(x->set_root_calls, 0);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	viommu_dma_as(h->v, &as);
	ck_assert_int_eq(dma_read(&as, &req, 0x3000, buf, 4), -EACCES);
	ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_FR, r64(h, VTD_FRCD_REG(0) + 8)), 0x30);
	ck_assert_uint_eq(x->translate_calls, 0);
	/* a valid legacy root fixes it */
	w64(h, VTD_RTADDR_REG, 0x200000);
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	ck_assert_uint_eq(x->set_root_calls, 1);
	ck_assert_int_eq(dma_read(&as, &req, 0x3000, buf, 4), 0);
	h_free(h);
}
END_TEST

START_TEST(test_register_invalidation)
{
	struct harness *h = h_new("");
	struct vtd_xlate *x = fake_xlate_last();
	uint64_t r;

	/* CCMD global as one qword */
	w64(h, VTD_CCMD_REG, VTD_CCMD_ICC | FIELD_PREP(VTD_CCMD_CIRG, 1));
	r = r64(h, VTD_CCMD_REG);
	ck_assert(!(r & VTD_CCMD_ICC));
	ck_assert_uint_eq(FIELD_GET(VTD_CCMD_CAIG, r), 1);
	ck_assert_uint_eq(x->nr_invs, 1);
	ck_assert_int_eq(x->invs[0].kind, FAKE_INV_CTX);
	ck_assert_int_eq(x->invs[0].g, VTD_INV_GLOBAL);
	/* CCMD device-selective as two dwords: nothing happens until the high one */
	r = VTD_CCMD_ICC | FIELD_PREP(VTD_CCMD_CIRG, 3) | FIELD_PREP(VTD_CCMD_FM, 2) |
	    FIELD_PREP(VTD_CCMD_SID, 0x0108) | FIELD_PREP(VTD_CCMD_DID, 5);
	w32(h, VTD_CCMD_REG, (uint32_t)r);
	ck_assert_uint_eq(x->nr_invs, 1);
	w32(h, VTD_CCMD_REG + 4, (uint32_t)(r >> 32));
	ck_assert_uint_eq(x->nr_invs, 2);
	ck_assert_int_eq(x->invs[1].g, VTD_INV_DEVICE);
	ck_assert_uint_eq(x->invs[1].did, 5);
	ck_assert_uint_eq(x->invs[1].sid, 0x0108);
	ck_assert_uint_eq(x->invs[1].fm, 2);
	ck_assert_uint_eq(FIELD_GET(VTD_CCMD_CAIG, r64(h, VTD_CCMD_REG)), 3);
	ck_assert(!(r32(h, VTD_CCMD_REG + 4) & 0x80000000u));
	/* domain */
	w64(h, VTD_CCMD_REG, VTD_CCMD_ICC | FIELD_PREP(VTD_CCMD_CIRG, 2) | 9);
	ck_assert_int_eq(x->invs[2].g, VTD_INV_DOMAIN);
	ck_assert_uint_eq(x->invs[2].did, 9);
	ck_assert_uint_eq(FIELD_GET(VTD_CCMD_CAIG, r64(h, VTD_CCMD_REG)), 2);
	/* invalid granularity: CAIG = 0, ICC cleared, nothing done */
	w64(h, VTD_CCMD_REG, VTD_CCMD_ICC);
	ck_assert_uint_eq(x->nr_invs, 3);
	ck_assert_uint_eq(r64(h, VTD_CCMD_REG) & (VTD_CCMD_ICC | VTD_CCMD_CAIG), 0);

	/* IOTLB page-selective via IVA */
	w64(h, VTD_IVA_REG, 0x5000 | VTD_IVA_IH | 2);
	w64(h, VTD_IOTLB_REG, VTD_IOTLB_IVT | FIELD_PREP(VTD_IOTLB_IIRG, 3) |
				      FIELD_PREP(VTD_IOTLB_DID, 7) | VTD_IOTLB_DR | VTD_IOTLB_DW);
	r = r64(h, VTD_IOTLB_REG);
	ck_assert(!(r & VTD_IOTLB_IVT));
	ck_assert_uint_eq(FIELD_GET(VTD_IOTLB_IAIG, r), 3);
	ck_assert_int_eq(x->invs[3].kind, FAKE_INV_IOTLB);
	ck_assert_int_eq(x->invs[3].g, VTD_INV_PAGE);
	ck_assert_uint_eq(x->invs[3].did, 7);
	ck_assert_uint_eq(x->invs[3].addr, 0x5000);
	ck_assert_uint_eq(x->invs[3].am, 2);
	ck_assert(x->invs[3].ih);
	/* AM above MAMV: invalid, IAIG = 0 */
	w64(h, VTD_IVA_REG, 0x5000 | (VTD_MAMV + 1));
	w64(h, VTD_IOTLB_REG, VTD_IOTLB_IVT | FIELD_PREP(VTD_IOTLB_IIRG, 3));
	ck_assert_uint_eq(x->nr_invs, 4);
	ck_assert_uint_eq(FIELD_GET(VTD_IOTLB_IAIG, r64(h, VTD_IOTLB_REG)), 0);
	/* global and domain as high-dword writes */
	w32(h, VTD_IOTLB_REG + 4, (uint32_t)((VTD_IOTLB_IVT | FIELD_PREP(VTD_IOTLB_IIRG, 1)) >> 32));
	ck_assert_int_eq(x->invs[4].g, VTD_INV_GLOBAL);
	ck_assert_uint_eq(FIELD_GET(VTD_IOTLB_IAIG, r64(h, VTD_IOTLB_REG)), 1);
	w64(h, VTD_IOTLB_REG, VTD_IOTLB_IVT | FIELD_PREP(VTD_IOTLB_IIRG, 2) |
				      FIELD_PREP(VTD_IOTLB_DID, 3));
	ck_assert_int_eq(x->invs[5].g, VTD_INV_DOMAIN);
	ck_assert_uint_eq(x->invs[5].did, 3);

	/* ignored while QI is enabled: write dropped */
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	w64(h, VTD_CCMD_REG, VTD_CCMD_ICC | FIELD_PREP(VTD_CCMD_CIRG, 1));
	w64(h, VTD_IOTLB_REG, VTD_IOTLB_IVT | FIELD_PREP(VTD_IOTLB_IIRG, 1));
	ck_assert_uint_eq(x->nr_invs, 6);
	ck_assert(!(r64(h, VTD_CCMD_REG) & VTD_CCMD_ICC));
	ck_assert(!(r64(h, VTD_IOTLB_REG) & VTD_IOTLB_IVT));
	h_free(h);
}
END_TEST

/* ---- The read mirror (regs-mirror): what the guest reads without an exit ---- */

#define MQ_BASE 0x10000ULL  /* invalidation queue, 4 KiB (QS 0) */
#define MPQ_BASE 0x20000ULL /* page request queue */
#define MST_BASE 0x30000ULL /* wait status writes */

static const uint8_t *h_mirror(struct harness *h)
{
	const struct bus_region *r = bus_find(&h->bus, BUS_MMIO, H_BASE, 4);

	ck_assert_ptr_nonnull(r);
	return r->read_mirror;
}

/*
 * Every naturally aligned dword and qword of the mirror equals a read through the unit.
 * (ck_assert per comparison would cost a write(2) each: compare, then fail with the first.)
 */
static void check_mirror(struct harness *h, const uint8_t *m, unsigned int step, const char *what)
{
	for (unsigned int size = 4; size <= 8; size += 4) {
		for (unsigned int off = 0; off < VIOMMU_WINDOW_SIZE; off += size) {
			uint64_t got = 0, want = viommu_mmio_read(h->v, off, size);

			memcpy(&got, m + off, size);
			if (got != want)
				ck_abort_msg("step %u (%s): %u bytes at 0x%03x: mirror 0x%llx, read 0x%llx",
					     step, what, size, off, (unsigned long long)got,
					     (unsigned long long)want);
		}
	}
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A value worth writing to the register at off: its command bits often, anything sometimes. */
static uint64_t pick_value(struct harness *h, uint64_t *s, unsigned int off)
{
	uint64_t r = rnd(s), x = rnd(s);

	if (r % 4 == 0)
		return x;
	if (off == VTD_GCMD_REG) {
		static const uint32_t bits[] = { VTD_GCMD_TE, VTD_GCMD_SRTP, VTD_GCMD_QIE,
						 VTD_GCMD_CFI, VTD_GCMD_IRE, VTD_GCMD_SIRTP };
		uint32_t keep = (uint32_t)viommu_mmio_read(h->v, VTD_GSTS_REG, 4) &
				(uint32_t)(VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_CFI | VTD_GCMD_IRE);

		return keep ^ bits[x % ARRAY_SIZE(bits)];
	}
	if (off == VTD_IQA_REG)
		return MQ_BASE | (x & VTD_IQA_DW);
	if (off == VTD_IQT_REG)
		return (x % 32) * 32;
	if (off == VTD_PQA_REG)
		return MPQ_BASE;
	if (off == VTD_RTADDR_REG) /* TTM: mostly the mode's own, sometimes a reserved one */
		return 0x40000 | ((x % 4 ? (uint64_t)h->v->cfg.scalable : x >> 8 & 3) << 10);
	if (off == VTD_CCMD_REG)
		return VTD_CCMD_ICC | (x & (VTD_CCMD_CIRG | VTD_CCMD_DID | VTD_CCMD_SID | VTD_CCMD_FM));
	if (off == VTD_IOTLB_REG)
		return VTD_IOTLB_IVT | (x & (VTD_IOTLB_IIRG | VTD_IOTLB_DID));
	if (off == VTD_IVA_REG)
		return x & (VTD_IVA_ADDR | VTD_IVA_IH | 0x1f);
	return r % 2 ? ~0ULL : 0; /* RW1C registers: clear all, or write 0 */
}

/* A descriptor for the queue: a wait (status write, maybe IF) 3 times in 4, else anything. */
static void put_desc(struct harness *h, uint64_t *s, unsigned int slot)
{
	uint64_t r = rnd(s), q0, q1;

	if (r % 4) {
		q0 = 0x5 | (1ULL << 5) | ((r >> 8) & 1 ? 1ULL << 4 : 0) | ((r >> 16 & 0xffff) << 32);
		q1 = MST_BASE + ((r >> 40) % 64) * 4;
	} else {
		q0 = rnd(s) & ~0xf0ULL;
		q1 = rnd(s);
	}
	h_put64(h, MQ_BASE + slot * 32, q0);
	h_put64(h, MQ_BASE + slot * 32 + 8, q1);
	h_put64(h, MQ_BASE + slot * 32 + 16, 0);
	h_put64(h, MQ_BASE + slot * 32 + 24, 0);
}

/*
 * Random writes to every register (every hook: GCMD commands, CCMD/IOTLB, QI drains and their
 * errors, RW1C status, FRCD), at random widths and halves, plus faults and page requests
 * recorded the asynchronous way, and random offsets anywhere; after each step the mirror must
 * equal what reads through the unit return.
 */
static bool storm_covered(struct harness *h)
{
	struct viommu_stats st;

	viommu_get_stats(h->v, &st);
	return st.drains && st.waits && st.iqe && st.reg_invs && st.faults_recorded &&
	       (st.page_reqs || !h->v->cfg.prs);
}

static void mirror_storm(const char *opts, uint64_t seed, unsigned int steps)
{
	struct harness *h = h_new(opts);
	struct vtd_xlate *x = fake_xlate_last();
	const uint8_t *m = h_mirror(h);
	struct dma_as as;
	struct viommu_stats st;
	uint64_t s = seed;

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_eq(m, viommu_read_mirror(h->v));
	ck_assert_uint_eq(((uintptr_t)m) % BUS_MIRROR_PAGE, 0);
	viommu_dma_as(h->v, &as);
	for (unsigned int i = 0; i < 32; i++)
		put_desc(h, &s, i);
	check_mirror(h, m, 0, "reset");
	/* At least steps steps, then on until the storm has reached every hook (at most 8x). */
	for (unsigned int step = 1; step <= 8 * steps && !(step > steps && storm_covered(h));
	     step++) {
		uint64_t r = rnd(&s);
		unsigned int kind = (unsigned int)(r % 16);
		const char *what = "write";

		if (kind < 11) {
			/* A quarter go to the command and status registers, the rest anywhere. */
			static const unsigned int hot[] = { VTD_GCMD_REG, VTD_CCMD_REG, VTD_IOTLB_REG,
							    VTD_IQT_REG, VTD_FSTS_REG, VTD_PRS_REG,
							    VTD_PQH_REG, VTD_RTADDR_REG };
			const struct vtd_reg *reg = &h->v->regs[(r >> 8) % h->v->nr_regs];
			uint64_t val;

			if ((r >> 32) % 4 == 0) {
				int hi = (int)h->v->slot[hot[(r >> 40) % ARRAY_SIZE(hot)] / 4] - 1;

				if (hi >= 0)
					reg = &h->v->regs[hi];
			}
			val = pick_value(h, &s, reg->off);

			if (reg->size == 8 && (r >> 20) % 3 == 0)
				w32(h, reg->off, (uint32_t)val);
			else if (reg->size == 8 && (r >> 20) % 3 == 1)
				w32(h, reg->off + 4, (uint32_t)(val >> 32));
			else if (reg->size == 8)
				w64(h, reg->off, val);
			else if ((r >> 20) % 4 == 0 && reg->off % 8 == 0)
				w64(h, reg->off, val); /* a qword over two dword registers */
			else
				w32(h, reg->off, (uint32_t)val);
		} else if (kind < 12) {
			unsigned int size = (r >> 8) % 2 ? 8 : 4;
			unsigned int off = (unsigned int)((r >> 16) % VIOMMU_WINDOW_SIZE) & ~(size - 1);

			bus_write(&h->bus, BUS_MMIO, H_BASE + off, rnd(&s), size);
			what = "write anywhere";
		} else if (kind < 13) {
			put_desc(h, &s, (unsigned int)((r >> 8) % 32));
			what = "descriptor";
		} else if (kind < 15) {
			/* A DMA fault, recorded by the translating thread (TE on only). */
			struct dma_req req = { .sid = (uint16_t)(r >> 8), .access = DMA_ACC_READ };
			struct dma_xlate dx;

			x->fault = true;
			x->fault_desc = (struct vtd_fault){ .reason = (uint8_t)(1 + (r >> 24) % 8),
							    .sid = req.sid, .addr = (r >> 32) << 12 };
			(void)as.ops->translate(as.iommu, &req, (r >> 32) << 12, &dx);
			what = "fault";
		} else if (as.ops->page_request) {
			struct dma_page_req pr = { .sid = 0x18, .has_pasid = (r >> 8) & 1,
						   .pasid = (uint32_t)(r >> 12) & 0xff,
						   .addr = (r >> 32) << 12, .access = DMA_ACC_READ,
						   .last = (r >> 9) & 1, .grpid = (uint16_t)(r >> 20) & 7 };

			(void)as.ops->page_request(as.iommu, &pr);
			what = "page request";
		}
		check_mirror(h, m, step, what);
	}
	/* The storm reached the hooks that store asynchronously or in bulk. */
	viommu_get_stats(h->v, &st);
	ck_assert_msg(st.drains && st.waits && st.iqe && st.reg_invs && st.faults_recorded &&
			      (st.page_reqs || !h->v->cfg.prs),
		      "%s: drains %llu waits %llu iqe %llu reg_invs %llu faults %llu page_reqs %llu",
		      opts, (unsigned long long)st.drains, (unsigned long long)st.waits,
		      (unsigned long long)st.iqe, (unsigned long long)st.reg_invs,
		      (unsigned long long)st.faults_recorded, (unsigned long long)st.page_reqs);
	h_free(h);
}

START_TEST(test_read_mirror_storm)
{
	static const char *const opts[] = { "", "mode=legacy", "dt=on,prs=on", "ir=off,cm=on" };
	uint64_t seed = 0x9e3779b97f4a7c15ULL + (uint64_t)_i;

	mirror_storm(opts[_i], seed, 3000);
}
END_TEST

/*
 * regs-mirror=off: no mirror offered, every read reaches the unit. --trace vtd-reg keeps the
 * mirror (writes are still traced; reads are traced only with regs-mirror=off).
 */
START_TEST(test_read_mirror_off)
{
	struct harness *h = h_new("regs-mirror=off");
	uint32_t saved = trace_mask;

	ck_assert_ptr_null(h_mirror(h));
	ck_assert_ptr_null(viommu_read_mirror(h->v));
	h_free(h);
	trace_mask |= TRACE_VTD_REG;
	h = h_new("");
	trace_mask = saved;
	ck_assert_ptr_nonnull(h_mirror(h));
	h_free(h);
	h = h_new("");
	ck_assert_ptr_nonnull(h_mirror(h));
	h_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vtd-regs");
	TCase *tc = tcase_create("regs");

	tcase_add_test(tc, test_reset_values);
	tcase_add_test(tc, test_masks);
	tcase_add_test(tc, test_rw1c_and_legacy_iqa);
	tcase_add_test(tc, test_bad_accesses);
	tcase_add_test(tc, test_caps_configs);
	tcase_add_test(tc, test_option_errors);
	tcase_add_test(tc, test_gcmd_handshakes);
	tcase_add_test(tc, test_srtp_bad_ttm);
	tcase_add_test(tc, test_register_invalidation);
	tcase_add_loop_test(tc, test_read_mirror_storm, 0, 4);
	tcase_add_test(tc, test_read_mirror_off);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
