/* SPDX-License-Identifier: MIT */
/*
 * Interrupt remapping unit tests: IRTE decoding (xAPIC and x2APIC), source-id validation,
 * every IR fault reason, CFI, the interrupt entry cache and IEC invalidation granularity.
 */
#include <errno.h>

#include "devices/viommu/xlate/vtd-tables.h"
#include "harness.h"

#define IRT 0x200000ULL   /* interrupt remapping table */
#define QBASE 0x10000ULL  /* invalidation queue */
#define STATUS 0x20000ULL /* wait status */
#define SID_EDU 0x0018    /* 00:03.0 */
#define SID_IOAPIC 0x00f8 /* 00:1f.0 */

/* IRTE builders (facts §8). */
#define E_P (1ULL << 0)
#define E_FPD (1ULL << 1)
#define E_DM (1ULL << 2)
#define E_RH (1ULL << 3)
#define E_TM (1ULL << 4)
#define E_DLM(x) ((uint64_t)(x) << 5)
#define E_IM (1ULL << 15)
#define E_V(x) ((uint64_t)(x) << 16)
#define E_DST_X(x) ((uint64_t)(x) << 40) /* xAPIC: 47:40 */
#define E_DST(x) ((uint64_t)(x) << 32)   /* x2APIC: 63:32 */
#define H_SID(x) ((uint64_t)(x))
#define H_SQ(x) ((uint64_t)(x) << 16)
#define H_SVT(x) ((uint64_t)(x) << 18)

static unsigned int notified;

static void on_notify(void *opaque)
{
	(void)opaque;
	notified++;
}

static void gcmd(struct harness *h, uint32_t bit, bool on)
{
	uint32_t keep = r32(h, VTD_GSTS_REG) &
			(uint32_t)(VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI);

	w32(h, VTD_GCMD_REG, on ? (keep | bit) : (keep & ~bit));
}

static void put_irte(struct harness *h, unsigned int idx, uint64_t lo, uint64_t hi)
{
	h_put64(h, IRT + 16ULL * idx, lo);
	h_put64(h, IRT + 16ULL * idx + 8, hi);
}

/* IRTA (S = size_bits - 1), SIRTP, queued invalidation, IRE. */
static struct harness *setup(const char *opts, bool eime, unsigned int s)
{
	struct harness *h = h_new(opts);

	viommu_set_ir_notify(h->v, on_notify, NULL);
	w64(h, VTD_IRTA_REG, IRT | (eime ? VTD_IRTA_EIME : 0) | s);
	gcmd(h, (uint32_t)VTD_GCMD_SIRTP, true);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_SIRTP);
	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE);
	gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	gcmd(h, (uint32_t)VTD_GCMD_IRE, true);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_IRE);
	notified = 0;
	return h;
}

/* One IEC descriptor + wait; index < 0 means global. */
static void iec(struct harness *h, int index, unsigned int im)
{
	uint64_t tail = r64(h, VTD_IQT_REG);
	uint64_t d0 = 0x4 | (index >= 0 ? (1ULL << 4) | ((uint64_t)im << 27) |
					      ((uint64_t)index << 32) : 0);

	h_put64(h, QBASE + tail, d0);
	h_put64(h, QBASE + tail + 8, 0);
	h_put64(h, QBASE + tail + 16, 0x5 | (1 << 5) | (0x77ULL << 32));
	h_put64(h, QBASE + tail + 24, STATUS);
	w64(h, VTD_IQT_REG, tail + 32);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE, 0);
	ck_assert_uint_eq(r64(h, VTD_IQH_REG), tail + 32);
}

/* Remappable MSI address for handle (SHV optional). */
static uint64_t raddr(unsigned int handle, bool shv)
{
	return 0xfee00000ULL | ((uint64_t)(handle & 0x7fff) << 5) | (1 << 4) |
	       (shv ? 1 << 3 : 0) | ((handle & 0x8000) ? 1 << 2 : 0);
}

static int remap(struct harness *h, uint64_t addr, uint32_t data, uint16_t sid, uint64_t *a,
		 uint32_t *d)
{
	return viommu_remap_msi(h->v, addr, data, sid, a, d);
}

/* Finds the pending record with reason fr, checks SID and index, clears it. */
static void expect_fault(struct harness *h, uint8_t fr, uint16_t sid, uint16_t index)
{
	for (unsigned int i = 0; i < VTD_NR_FRCD; i++) {
		uint64_t hi = r64(h, VTD_FRCD_REG(i) + 8);
		uint64_t lo = r64(h, VTD_FRCD_REG(i));

		if (!(hi & VTD_FRCD_HI_F) || FIELD_GET(VTD_FRCD_HI_FR, hi) != fr)
			continue;
		ck_assert_uint_eq(FIELD_GET(VTD_FRCD_HI_SID, hi), sid);
		ck_assert_uint_eq(lo >> 48, index);
		ck_assert_uint_eq(hi & VTD_FRCD_HI_T, 0); /* interrupt requests are writes */
		w64(h, VTD_FRCD_REG(i) + 8, VTD_FRCD_HI_F);
		ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_PPF, 0);
		return;
	}
	ck_abort_msg("no fault record with reason 0x%x", fr);
}

static void expect_no_fault(struct harness *h)
{
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_PPF, 0);
}

START_TEST(test_caps_and_options)
{
	struct viommu_config c;
	char err[128];
	struct harness *h;

	ck_assert_int_eq(viommu_parse_options("ir=on", &c, err, sizeof(err)), 0);
	ck_assert(c.ir && c.eim);
	ck_assert_int_eq(viommu_parse_options("ir=on,eim=off", &c, err, sizeof(err)), 0);
	ck_assert(c.ir && !c.eim);
	/* The default unit carries IR and EIM; options only take them away. */
	ck_assert_int_eq(viommu_parse_options("", &c, err, sizeof(err)), 0);
	ck_assert(c.ir && c.eim);
	ck_assert_int_eq(viommu_parse_options("mode=legacy", &c, err, sizeof(err)), 0);
	ck_assert(c.ir && c.eim);
	ck_assert_int_eq(viommu_parse_options("eim=off", &c, err, sizeof(err)), 0);
	ck_assert(c.ir && !c.eim);
	ck_assert_int_eq(viommu_parse_options("ir=off", &c, err, sizeof(err)), 0);
	ck_assert(!c.ir && !c.eim);
	ck_assert_int_eq(viommu_parse_options("ir=off,eim=on", &c, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(viommu_parse_options("ir=maybe", &c, err, sizeof(err)), -EINVAL);

	h = h_new("ir=on");
	ck_assert(viommu_ecap(h->v) & VTD_ECAP_IR);
	ck_assert(viommu_ecap(h->v) & VTD_ECAP_EIM);
	ck_assert_uint_eq(FIELD_GET(VTD_ECAP_MHMV, viommu_ecap(h->v)), 15);
	ck_assert_uint_eq(viommu_cap(h->v) & BIT_ULL(59), 0); /* no CAP.PI */
	w64(h, VTD_IRTA_REG, ~0ULL);
	ck_assert_uint_eq(r64(h, VTD_IRTA_REG), VTD_IRTA_ADDR | VTD_IRTA_EIME | VTD_IRTA_S);
	h_free(h);

	h = h_new("ir=on,eim=off,mode=legacy");
	ck_assert(!(viommu_ecap(h->v) & VTD_ECAP_EIM));
	w64(h, VTD_IRTA_REG, ~0ULL);
	ck_assert_uint_eq(r64(h, VTD_IRTA_REG), VTD_IRTA_ADDR | VTD_IRTA_S);
	h_free(h);

	h = h_new("");
	ck_assert(viommu_ecap(h->v) & VTD_ECAP_IR);
	ck_assert(viommu_ecap(h->v) & VTD_ECAP_EIM);
	h_free(h);

	h = h_new("ir=off");
	ck_assert(!(viommu_ecap(h->v) & (VTD_ECAP_IR | VTD_ECAP_EIM)));
	w64(h, VTD_IRTA_REG, ~0ULL);
	ck_assert_uint_eq(r64(h, VTD_IRTA_REG), 0);
	w32(h, VTD_GCMD_REG, (uint32_t)(VTD_GCMD_IRE | VTD_GCMD_SIRTP));
	ck_assert_uint_eq(r32(h, VTD_GSTS_REG) & (VTD_GCMD_IRE | VTD_GCMD_SIRTP), 0);
	ck_assert(!viommu_ir_enabled(h->v));
	h_free(h);
}
END_TEST

START_TEST(test_passthrough_when_off)
{
	struct harness *h = h_new("ir=on");
	uint64_t a;
	uint32_t d;

	/* IRE=0: both formats pass untouched, nothing is fetched. */
	ck_assert_int_eq(remap(h, 0xfee01000, 0x41, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(a, 0xfee01000);
	ck_assert_uint_eq(d, 0x41);
	ck_assert_int_eq(remap(h, raddr(5, false), 0x41, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(a, raddr(5, false));
	expect_no_fault(h);
	h_free(h);
}
END_TEST

START_TEST(test_decode_xapic)
{
	struct harness *h = setup("ir=on,eim=off", false, 7);
	uint64_t a;
	uint32_t d;

	/* Physical, fixed, edge, vector 0x45 to APIC 0x12. */
	put_irte(h, 3, E_P | E_V(0x45) | E_DST_X(0x12), 0);
	ck_assert_int_eq(remap(h, raddr(3, false), 0, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(a, 0xfee12000);
	ck_assert_uint_eq(d, 0x45);
	/* Logical, lowest priority, level, RH; handle 8 + subhandle 2 -> entry 10. */
	put_irte(h, 10, E_P | E_DM | E_RH | E_TM | E_DLM(1) | E_V(0x80) | E_DST_X(0x0f), 0);
	ck_assert_int_eq(remap(h, raddr(8, true), 2, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(a, 0xfee0f000 | (1 << 3) | (1 << 2));
	ck_assert_uint_eq(d, 0x80 | (1 << 8) | (1 << 15) | (1 << 14));
	/* NMI delivery mode. */
	put_irte(h, 11, E_P | E_DLM(4) | E_V(0x2) | E_DST_X(1), 0);
	ck_assert_int_eq(remap(h, raddr(11, false), 0, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(d, 0x2 | (4 << 8));
	expect_no_fault(h);
	h_free(h);
}
END_TEST

START_TEST(test_decode_x2apic)
{
	struct harness *h = setup("ir=on", true, 0xf);
	struct viommu_stats st;
	uint64_t a;
	uint32_t d;

	/* 32-bit destination 0x12345: low byte in address 19:12, bits 31:8 in 63:40 (KVM). */
	put_irte(h, 0x8001, E_P | E_V(0x61) | E_DST(0x12345), 0);
	ck_assert_int_eq(remap(h, raddr(0x8001, false), 0, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(a, 0xfee45000ULL | (0x123ULL << 40));
	ck_assert_uint_eq(d, 0x61);
	/* APIC ID 287 (the 288-vCPU guest test). */
	put_irte(h, 1, E_P | E_V(0x62) | E_DST(287), 0);
	ck_assert_int_eq(remap(h, raddr(1, false), 0, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(a, 0xfee00000ULL | (287 & 0xff) << 12 | (1ULL << 40));
	viommu_get_stats(h->v, &st);
	ck_assert_uint_eq(st.ir_remapped, 2);
	ck_assert_uint_eq(st.irte_fetches, 2);
	h_free(h);
}
END_TEST

START_TEST(test_sid_validation)
{
	static const struct {
		unsigned int svt, sq;
		uint16_t esid, sid;
		bool ok;
	} cases[] = {
		{ 0, 0, 0x1234, 0x0018, true },  /* no check */
		{ 1, 0, 0x0018, 0x0018, true },
		{ 1, 0, 0x0018, 0x0019, false },
		{ 1, 1, 0x0018, 0x001c, true },  /* ignore bit 2 */
		{ 1, 1, 0x0018, 0x001a, false },
		{ 1, 2, 0x0018, 0x001e, true },  /* ignore bits 2:1 */
		{ 1, 2, 0x0018, 0x0019, false },
		{ 1, 3, 0x0018, 0x001f, true },  /* ignore bits 2:0 */
		{ 1, 3, 0x0018, 0x0020, false },
		{ 2, 0, 0x0502, 0x0300, true },  /* bus 3 in 2..5 */
		{ 2, 0, 0x0502, 0x0618, false }, /* bus 6 */
		{ 2, 0, 0x0502, 0x0100, false }, /* bus 1 */
		{ 2, 0, 0x0205, 0x0418, true },  /* either byte order */
	};
	struct harness *h = setup("ir=on", true, 3);
	uint64_t a;
	uint32_t d;

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		put_irte(h, i, E_P | E_V(0x30 + i),
			 H_SID(cases[i].esid) | H_SQ(cases[i].sq) | H_SVT(cases[i].svt));
		ck_assert_msg((remap(h, raddr(i, false), 0, cases[i].sid, &a, &d) == 0) == cases[i].ok,
			      "case %u", i);
		if (cases[i].ok)
			expect_no_fault(h);
		else
			expect_fault(h, VTD_FR_IR_SID_ERR, cases[i].sid, (uint16_t)i);
	}
	h_free(h);
}
END_TEST

START_TEST(test_fault_reasons)
{
	struct harness *h = setup("ir=on,eim=off", false, 3); /* 16 entries */
	struct viommu_stats st;
	uint64_t a = 0x1111;
	uint32_t d = 0x2222;

	put_irte(h, 0, E_P | E_V(0x40) | E_DST_X(1), 0);
	/* 0x20: address bits 63:32 set; SHV with data 31:16 set. */
	ck_assert_int_eq(remap(h, raddr(0, false) | (1ULL << 32), 0, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_REQ_RSVD, SID_EDU, 0);
	ck_assert_int_eq(remap(h, raddr(0, true), 0x10000, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_REQ_RSVD, SID_EDU, 0);
	/* 0x21: beyond the 16-entry table (handle and handle + subhandle). */
	ck_assert_int_eq(remap(h, raddr(16, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_INDEX_OVER, SID_EDU, 16);
	ck_assert_int_eq(remap(h, raddr(0x8000, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_INDEX_OVER, SID_EDU, 0x8000);
	ck_assert_int_eq(remap(h, raddr(15, true), 1, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_INDEX_OVER, SID_EDU, 16);
	/* 0x22: not present. */
	ck_assert_int_eq(remap(h, raddr(1, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_ENTRY_P, SID_EDU, 1);
	/* 0x24: reserved bits (14:12, 31:24, xAPIC destination bits, 127:84, SVT=3, DLM 3/6). */
	put_irte(h, 2, E_P | E_V(0x40) | (1ULL << 13), 0);
	put_irte(h, 3, E_P | E_V(0x40) | (1ULL << 24), 0);
	put_irte(h, 4, E_P | E_V(0x40) | E_DST(0x1), 0);
	put_irte(h, 5, E_P | E_V(0x40), 1ULL << 30);
	put_irte(h, 6, E_P | E_V(0x40), H_SVT(3));
	put_irte(h, 7, E_P | E_V(0x40) | E_DLM(3), 0);
	/* Posted format (IM=1) without CAP.PI. */
	put_irte(h, 8, E_P | E_IM | E_V(0x40), 0);
	for (unsigned int i = 2; i <= 8; i++) {
		ck_assert_int_eq(remap(h, raddr(i, false), 0, SID_EDU, &a, &d), -EACCES);
		expect_fault(h, VTD_FR_IR_IRTE_RSVD, SID_EDU, (uint16_t)i);
	}
	/* 0x25: compatibility format blocked while CFI=0. */
	ck_assert_int_eq(remap(h, 0xfee01000, 0x41, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_REQ_COMPAT, SID_EDU, 0);
	/* 0x26: source-id mismatch. */
	put_irte(h, 9, E_P | E_V(0x40), H_SID(SID_IOAPIC) | H_SVT(1));
	ck_assert_int_eq(remap(h, raddr(9, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_SID_ERR, SID_EDU, 9);
	/* Outputs untouched on failure. */
	ck_assert_uint_eq(a, 0x1111);
	ck_assert_uint_eq(d, 0x2222);
	viommu_get_stats(h->v, &st);
	ck_assert_uint_eq(st.ir_blocked, 15);
	ck_assert_uint_eq(st.ir_remapped, 0);
	h_free(h);
}
END_TEST

START_TEST(test_table_not_accessible)
{
	struct harness *h = h_new("ir=on");
	uint64_t a;
	uint32_t d;

	/* Table beyond RAM: fault 0x23. No SIRTP at all: also 0x23. */
	gcmd(h, (uint32_t)VTD_GCMD_IRE, true);
	ck_assert_int_eq(remap(h, raddr(0, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_ROOT_INVAL, SID_EDU, 0);
	w64(h, VTD_IRTA_REG, 0x80000000ULL | 3);
	gcmd(h, (uint32_t)VTD_GCMD_SIRTP, true);
	ck_assert_int_eq(remap(h, raddr(2, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_ROOT_INVAL, SID_EDU, 2);
	h_free(h);
}
END_TEST

START_TEST(test_fpd_and_lookup)
{
	struct harness *h = setup("ir=on", true, 3);
	struct viommu_stats st;
	uint64_t a;
	uint32_t d;

	/* FPD suppresses the record, even for P=0; the interrupt is still blocked. */
	put_irte(h, 1, E_FPD, 0);
	ck_assert_int_eq(remap(h, raddr(1, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_no_fault(h);
	/* A lookup (route building) never records a fault. */
	ck_assert_int_eq(viommu_lookup_msi(h->v, raddr(2, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_no_fault(h);
	viommu_get_stats(h->v, &st);
	ck_assert_uint_eq(st.ir_blocked, 1);
	ck_assert_uint_eq(st.faults_fpd, 1);
	h_free(h);
}
END_TEST

START_TEST(test_cfi)
{
	struct harness *h = setup("ir=on,eim=off", false, 3);
	uint64_t a;
	uint32_t d;

	gcmd(h, (uint32_t)VTD_GCMD_CFI, true);
	ck_assert(r32(h, VTD_GSTS_REG) & VTD_GCMD_CFI);
	ck_assert_uint_eq(notified, 1);
	ck_assert_int_eq(remap(h, 0xfee01000, 0x41, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(a, 0xfee01000);
	ck_assert_uint_eq(d, 0x41);
	expect_no_fault(h);
	gcmd(h, (uint32_t)VTD_GCMD_CFI, false);
	ck_assert_int_eq(remap(h, 0xfee01000, 0x41, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_REQ_COMPAT, SID_EDU, 0);
	h_free(h);

	/* With EIME=1, CFI has no effect: compatibility format stays blocked. */
	h = setup("ir=on", true, 3);
	gcmd(h, (uint32_t)VTD_GCMD_CFI, true);
	ck_assert_int_eq(remap(h, 0xfee01000, 0x41, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_REQ_COMPAT, SID_EDU, 0);
	h_free(h);
}
END_TEST

static uint32_t vec_of(struct harness *h, unsigned int idx)
{
	uint64_t a;
	uint32_t d;

	ck_assert_int_eq(remap(h, raddr(idx, false), 0, SID_EDU, &a, &d), 0);
	return d & 0xff;
}

START_TEST(test_iec_granularity)
{
	struct harness *h = setup("ir=on", true, 3);
	struct viommu_stats st;

	for (unsigned int i = 0; i < 4; i++)
		put_irte(h, i, E_P | E_V(0x30 + i), 0);
	for (unsigned int i = 0; i < 4; i++)
		ck_assert_uint_eq(vec_of(h, i), 0x30 + i);
	/* Rewrite all four in memory: the cache still answers with the old entries. */
	for (unsigned int i = 0; i < 4; i++)
		put_irte(h, i, E_P | E_V(0x50 + i), 0);
	for (unsigned int i = 0; i < 4; i++)
		ck_assert_uint_eq(vec_of(h, i), 0x30 + i);
	ck_assert_uint_eq(notified, 0);
	/* By index 2, IM=0: only entry 2 changes. */
	iec(h, 2, 0);
	ck_assert_uint_eq(notified, 1);
	ck_assert_uint_eq(vec_of(h, 0), 0x30);
	ck_assert_uint_eq(vec_of(h, 1), 0x31);
	ck_assert_uint_eq(vec_of(h, 2), 0x52);
	ck_assert_uint_eq(vec_of(h, 3), 0x33);
	/* By index 1 with IM=1: the aligned pair 0-1. */
	iec(h, 1, 1);
	ck_assert_uint_eq(vec_of(h, 0), 0x50);
	ck_assert_uint_eq(vec_of(h, 1), 0x51);
	ck_assert_uint_eq(vec_of(h, 3), 0x33);
	/* Global: everything. */
	iec(h, -1, 0);
	ck_assert_uint_eq(vec_of(h, 3), 0x53);
	ck_assert_uint_eq(notified, 3);
	/* A not-present entry is not sticky-valid: making it present needs an invalidation. */
	put_irte(h, 5, 0, 0);
	ck_assert_int_eq(viommu_lookup_msi(h->v, raddr(5, false), 0, SID_EDU, &(uint64_t){ 0 },
					   &(uint32_t){ 0 }), -EACCES);
	put_irte(h, 5, E_P | E_V(0x55), 0);
	ck_assert_int_eq(viommu_lookup_msi(h->v, raddr(5, false), 0, SID_EDU, &(uint64_t){ 0 },
					   &(uint32_t){ 0 }), -EACCES);
	iec(h, 5, 0);
	ck_assert_uint_eq(vec_of(h, 5), 0x55);
	viommu_get_stats(h->v, &st);
	ck_assert_uint_eq(st.iec_invs, 4);
	h_free(h);
}
END_TEST

START_TEST(test_iec_bad_mask)
{
	struct harness *h = setup("ir=on", true, 3);

	/* IM above ECAP.MHMV (15) is a reserved encoding: IQE. */
	h_put64(h, QBASE, 0x4 | (1ULL << 4) | (16ULL << 27));
	h_put64(h, QBASE + 8, 0);
	w64(h, VTD_IQT_REG, 16);
	ck_assert(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE);
	ck_assert_uint_eq(r64(h, VTD_IQERCD_REG) & 0xf, VTD_IQEI_RSVD);
	h_free(h);
}
END_TEST

START_TEST(test_sirtp_latch)
{
	struct harness *h = setup("ir=on", true, 3);
	uint64_t a;
	uint32_t d;

	put_irte(h, 12, E_P | E_V(0x42), 0);
	/* A new IRTA (8 entries) has no effect before SIRTP: 12 still translates. */
	w64(h, VTD_IRTA_REG, IRT | VTD_IRTA_EIME | 2);
	ck_assert_int_eq(remap(h, raddr(12, false), 0, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(d, 0x42);
	gcmd(h, (uint32_t)VTD_GCMD_SIRTP, true);
	ck_assert_uint_eq(notified, 1);
	ck_assert_int_eq(remap(h, raddr(12, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_INDEX_OVER, SID_EDU, 12);
	ck_assert_int_eq(remap(h, raddr(7, false), 0, SID_EDU, &a, &d), -EACCES);
	expect_fault(h, VTD_FR_IR_ENTRY_P, SID_EDU, 7);
	/* IRE off: requests pass untranslated again. */
	gcmd(h, (uint32_t)VTD_GCMD_IRE, false);
	ck_assert(!viommu_ir_enabled(h->v));
	ck_assert_int_eq(remap(h, raddr(12, false), 7, SID_EDU, &a, &d), 0);
	ck_assert_uint_eq(a, raddr(12, false));
	ck_assert_uint_eq(d, 7);
	h_free(h);
}
END_TEST

START_TEST(test_ioapic_format)
{
	struct harness *h = setup("ir=on,eim=off", false, 0xf);
	uint64_t a;
	uint32_t d;

	/* SHV=0: the index is the handle alone; the data (RTE vector/TM) does not add. */
	put_irte(h, 0x8003, E_P | E_TM | E_V(0x66) | E_DST_X(2), H_SID(SID_IOAPIC) | H_SVT(1));
	ck_assert_int_eq(remap(h, raddr(0x8003, false), 0x8066, SID_IOAPIC, &a, &d), 0);
	ck_assert_uint_eq(a, 0xfee02000);
	ck_assert_uint_eq(d, 0x66 | (1 << 15) | (1 << 14));
	h_free(h);
}
END_TEST

START_TEST(test_fault_event_x2apic_address)
{
	struct harness *h = setup("ir=on", true, 3);
	uint64_t a;
	uint32_t d;

	/* With EIM the event address carries destination bits 31:8 in FEUADDR. */
	w32(h, VTD_FEDATA_REG, 0x49);
	w32(h, VTD_FEADDR_REG, 0xfee1f000);
	w32(h, VTD_FEUADDR_REG, 0x100);
	w32(h, VTD_FECTL_REG, 0);
	h->nr_msi = 0;
	ck_assert_int_eq(remap(h, raddr(1, false), 0, SID_EDU, &a, &d), -EACCES);
	ck_assert_uint_eq(h->nr_msi, 1);
	ck_assert_uint_eq(h->msi[0].addr, 0x100fee1f000ULL);
	ck_assert_uint_eq(h->msi[0].data, 0x49);
	h_free(h);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vtd-ir");
	TCase *tc = tcase_create("ir");

	tcase_add_test(tc, test_caps_and_options);
	tcase_add_test(tc, test_passthrough_when_off);
	tcase_add_test(tc, test_decode_xapic);
	tcase_add_test(tc, test_decode_x2apic);
	tcase_add_test(tc, test_sid_validation);
	tcase_add_test(tc, test_fault_reasons);
	tcase_add_test(tc, test_table_not_accessible);
	tcase_add_test(tc, test_fpd_and_lookup);
	tcase_add_test(tc, test_cfi);
	tcase_add_test(tc, test_iec_granularity);
	tcase_add_test(tc, test_iec_bad_mask);
	tcase_add_test(tc, test_sirtp_latch);
	tcase_add_test(tc, test_ioapic_format);
	tcase_add_test(tc, test_fault_event_x2apic_address);
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
	return failed ? 1 : 0;
}
