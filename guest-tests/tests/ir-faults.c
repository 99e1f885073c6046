/* SPDX-License-Identifier: MIT */
/*
 * ir-faults: every interrupt-remapping fault reason a device MSI can cause (0x20-0x26),
 * each with its fault record (reason, SID, index) and no delivery; IRTE FPD; SID checks with
 * SQ and SVT=2; a table latched outside RAM (0x23) and recovery from it; compatibility format
 * blocked with CFI=0 and passed with CFI=1. (0x20 for SHV data bits 31:16: ir-faults2.)
 */
#include "vtd-ir.h"

#define VEC_BASE 0x50 /* every IRTE below uses a vector in 0x50..0x5f */
#define VEC_OK 0x5e
#define VEC_COMPAT 0x5f
#define TABLE_S 3 /* 16 entries */
#define WAIT_US 30000
#define DELIVER_WAIT_US 300000
/* Far above the 128M of RAM and below every host address width: no memory answers there. */
#define IRTA_NO_RAM 0x4000000000ULL

static struct edu_dev edu;
static struct vtd u;
static struct irt t;
static volatile uint32_t hits, last_vec;

static void handler(struct trap_frame *tf)
{
	edu_irq_ack(&edu);
	last_vec = (uint32_t)tf->vector;
	hits++;
	lapic_eoi();
}

/* Raises edu's interrupt once; waits up to wait_us for a delivery. Returns the deliveries. */
static uint32_t raise(uint32_t wait_us)
{
	uint32_t before = hits;
	uint64_t deadline;

	mmio_write32(edu.bar + EDU_IRQ_RAISE, 1);
	deadline = time_us() + wait_us;
	irq_enable();
	while (hits == before && time_us() < deadline)
		cpu_relax();
	irq_disable();
	edu_irq_ack(&edu); /* a blocked interrupt leaves edu's status set */
	return hits - before;
}

/*
 * Raises edu's MSI (addr/data) and checks: no delivery, exactly one fault record with reason fr,
 * edu's SID and (index >= 0) that interrupt index.
 */
static void expect_fault(const char *what, uint64_t addr, uint16_t data, uint8_t want_fr, int want_index)
{
	uint8_t fr = 0, fr2;
	uint16_t sid = 0, idx = 0, sid2, idx2;
	uint32_t n;
	bool got, more;

	edu_msi_enable(&edu, addr, data);
	n = raise(WAIT_US);
	got = ir_fault_take(&u, &fr, &sid, &idx);
	more = ir_fault_take(&u, &fr2, &sid2, &idx2);
	tap_ok(n == 0 && got && !more && fr == want_fr && sid == edu.bdf &&
		       (want_index < 0 || idx == (uint16_t)want_index),
	       "%s: not delivered (%u), fault 0x%x (want 0x%x), SID 0x%04x, index %u%s", what, n, fr,
	       want_fr, sid, idx, more ? ", and a second record" : "");
	vtd_faults_clear(&u);
}

/* Raises edu's MSI and checks it arrives at vector vec with no fault record. */
static void expect_delivery(const char *what, uint64_t addr, uint16_t data, uint8_t vec)
{
	uint8_t fr = 0;
	uint16_t sid, idx;
	uint32_t n;
	bool got;

	edu_msi_enable(&edu, addr, data);
	n = raise(DELIVER_WAIT_US);
	got = ir_fault_take(&u, &fr, &sid, &idx);
	tap_ok(n == 1 && last_vec == vec && !got, "%s: delivered to vector 0x%x (%u), no fault%s", what,
	       last_vec, n, got ? " (but one was recorded)" : "");
	vtd_faults_clear(&u);
}

/* Installs entry idx and invalidates its cached copy. */
static void irte(unsigned idx, uint64_t lo, uint64_t hi)
{
	irt_set(&t, idx, lo, hi);
	irt_iec(&u, (int)idx, 0);
}

void test_main(void)
{
	uint32_t me = lapic_id();
	uint16_t other_dev;
	int ret;

	tap_plan(22);
	if (!tap_ok(edu_open(&edu) == 0, "edu found"))
		tap_bail("run with -device edu");
	ret = vtd_find(&u);
	if (!tap_ok(ret == 0 && (u.ecap & VTD_ECAP_IR), "VT-d unit with ECAP.IR (ecap 0x%lx)", u.ecap))
		tap_bail("run with -device vtd,ir=on,eim=off");
	for (unsigned v = VEC_BASE; v <= VEC_COMPAT; v++)
		irq_set_handler(v, handler);
	/* Fault events stay masked (FECTL.IM, its reset value): the records are what we check. */
	vtd_write32(&u, VTD_FECTL, VTD_ECTL_IM);
	vtd_faults_clear(&u);
	ret = irt_enable(&u, &t, false, TABLE_S);
	tap_ok(ret == 0 && t.nr == 16 && !(vtd_read32(&u, VTD_GSTS) & VTD_GCMD_CFI),
	       "IRE on, 16-entry table, CFI off (%d)", ret);

	/* A good entry first, so a failure below is about the entry, not the set-up. */
	irte(0, irte_lo(&t, VEC_OK, me, false), IRTE_HI_VERIFY(edu.bdf));
	expect_delivery("good IRTE 0", ir_msi_addr(0, false), 0, VEC_OK);

	/* 0x22: present bit clear (the rest of the entry is valid); with FPD no record at all. */
	irte(1, irte_lo(&t, 0x51, me, false) & ~IRTE_P, IRTE_HI_VERIFY(edu.bdf));
	expect_fault("IRTE 1 not present", ir_msi_addr(1, false), 0, VTD_FR_IR_ENTRY_P, 1);
	irte(2, (irte_lo(&t, 0x52, me, false) & ~IRTE_P) | IRTE_FPD, IRTE_HI_VERIFY(edu.bdf));
	{
		uint8_t fr;
		uint16_t sid, idx;
		uint32_t n;

		edu_msi_enable(&edu, ir_msi_addr(2, false), 0);
		n = raise(WAIT_US);
		tap_ok(n == 0 && !ir_fault_take(&u, &fr, &sid, &idx),
		       "IRTE 2 not present with FPD: not delivered (%u), no record", n);
		vtd_faults_clear(&u);
	}

	/* 0x21: handle beyond the table; handle + subhandle beyond it. */
	expect_fault("handle 20 of 16", ir_msi_addr(20, false), 0, VTD_FR_IR_INDEX_OVER, 20);
	expect_fault("handle 12 + subhandle 6", ir_msi_addr(12, true), 6, VTD_FR_IR_INDEX_OVER, 18);

	/* 0x20: a remappable request with address bits 63:32 set. */
	expect_fault("address bits 63:32 set", ir_msi_addr(0, false) | (1ULL << 32), 0,
		     VTD_FR_IR_REQ_RSVD, 0);

	/* 0x24: reserved bit 12; xAPIC-mode destination bits 39:32; posted format (no CAP.PI). */
	irte(3, irte_lo(&t, 0x53, me, false) | (1ULL << 12), IRTE_HI_VERIFY(edu.bdf));
	expect_fault("IRTE 3 reserved bit 12", ir_msi_addr(3, false), 0, VTD_FR_IR_IRTE_RSVD, 3);
	irte(4, irte_lo(&t, 0x54, me, false) | (1ULL << 32), IRTE_HI_VERIFY(edu.bdf));
	expect_fault("IRTE 4 destination bit 32 with EIME=0", ir_msi_addr(4, false), 0,
		     VTD_FR_IR_IRTE_RSVD, 4);
	irte(5, irte_lo(&t, 0x55, me, false) | IRTE_IM_POSTED, IRTE_HI_VERIFY(edu.bdf));
	expect_fault("IRTE 5 posted format (IM=1)", ir_msi_addr(5, false), 0, VTD_FR_IR_IRTE_RSVD, 5);

	/* 0x26: SVT=1 with another device's SID; SQ=3 ignores function bits 2:0. */
	other_dev = edu.bdf ^ (1u << 3);
	irte(6, irte_lo(&t, 0x56, me, false), IRTE_HI_VERIFY(other_dev));
	expect_fault("IRTE 6 SID of another device", ir_msi_addr(6, false), 0, VTD_FR_IR_SID_ERR, 6);
	irte(7, irte_lo(&t, 0x57, me, false), IRTE_HI_VERIFY(edu.bdf | 5));
	expect_fault("IRTE 7 SID of another function, SQ=0", ir_msi_addr(7, false), 0, VTD_FR_IR_SID_ERR, 7);
	irte(7, irte_lo(&t, VEC_OK, me, false), IRTE_HI_VERIFY(edu.bdf | 5) | IRTE_HI_SQ(3));
	expect_delivery("IRTE 7 same SID with SQ=3 (function ignored)", ir_msi_addr(7, false), 0, VEC_OK);
	/* SVT=2: the requester's bus must lie in the SID's bus range (edu is on bus 0). */
	irte(8, irte_lo(&t, 0x58, me, false), IRTE_HI_SID(0x0201) | IRTE_HI_SVT(2));
	expect_fault("IRTE 8 bus range 1-2 (SVT=2)", ir_msi_addr(8, false), 0, VTD_FR_IR_SID_ERR, 8);

	/*
	 * 0x23: the latched table is not accessible (IRTA outside RAM); the index is the handle.
	 * Latching the real table again (SIRTP + global IEC) brings delivery back.
	 */
	vtd_write64(&u, VTD_IRTA, IRTA_NO_RAM | TABLE_S);
	ret = vtd_gcmd(&u, VTD_GCMD_SIRTP, true);
	if (!ret)
		ret = irt_iec(&u, -1, 0);
	tap_ok(ret == 0 && (vtd_read32(&u, VTD_GSTS) & VTD_GCMD_IRE), "IRTA 0x%lx latched, IRE on (%d)",
	       (unsigned long)IRTA_NO_RAM, ret);
	expect_fault("table outside RAM, handle 0", ir_msi_addr(0, false), 0, VTD_FR_IR_ROOT_INVAL, 0);
	vtd_write64(&u, VTD_IRTA, (uintptr_t)t.e | TABLE_S);
	ret = vtd_gcmd(&u, VTD_GCMD_SIRTP, true);
	if (!ret)
		ret = irt_iec(&u, -1, 0);
	expect_delivery("good IRTE 0 after re-latching the table", ir_msi_addr(0, false), 0, VEC_OK);

	/* Compatibility format: blocked with CFI=0 (0x25), passed through with CFI=1. */
	expect_fault("compatibility MSI, CFI=0", 0xfee00000ULL | ((uint64_t)me << 12), VEC_COMPAT,
		     VTD_FR_IR_REQ_COMPAT, -1);
	ret = vtd_gcmd(&u, VTD_GCMD_CFI, true);
	tap_ok(ret == 0 && (vtd_read32(&u, VTD_GSTS) & VTD_GCMD_CFI), "GCMD.CFI -> GSTS.CFIS (%d)", ret);
	expect_delivery("compatibility MSI, CFI=1", 0xfee00000ULL | ((uint64_t)me << 12), VEC_COMPAT, VEC_COMPAT);
	edu_msi_disable(&edu);
	tap_done();
}
