/* SPDX-License-Identifier: MIT */
/*
 * ir-ioapic: edu's INTx through an IOAPIC pin in remappable format (VT-d IR, xAPIC IRTEs):
 * edge, then level with EOI (remote IRR, re-delivery only after the EOI), IOAPIC source-id.
 */
#include "vtd-ir.h"

#define VEC_EDGE 0x51
#define VEC_LEVEL 0x52
#define IDX_EDGE 20
#define IDX_LEVEL 0x81 /* a second RTE handle, above 127 */
#define WAIT_US 500000

static struct edu_dev edu;
static volatile uint32_t count[256], last_status;

static void handler(struct trap_frame *tf)
{
	last_status = mmio_read32(edu.bar + EDU_IRQ_STATUS);
	edu_irq_ack(&edu);
	count[tf->vector & 0xff]++;
	lapic_eoi();
}

static bool wait_count(uint8_t vec, uint32_t want)
{
	uint64_t deadline = time_us() + WAIT_US;

	irq_enable();
	while (count[vec] < want && time_us() < deadline)
		cpu_relax();
	irq_disable();
	return count[vec] == want;
}

/* The board's GSI for edu's INTA (DTB on nestvm; q35's PIRQ rotation on QEMU). */
static int edu_gsi(void)
{
	unsigned slot = (edu.bdf >> 3) & 0x1f;

	if (board.from_dtb)
		return board_pci_gsi(edu.bdf);
	return 16 + 4 + (int)((slot + 1 - 1) % 4);
}

void test_main(void)
{
	struct vtd u;
	struct irt t = { 0 };
	uint64_t redir, t0;
	uint32_t me;
	int gsi;

	tap_plan(9);
	if (!tap_ok(edu_open(&edu) == 0, "edu found"))
		tap_bail("run with -device edu");
	if (vtd_find(&u) || !(u.ecap & VTD_ECAP_IR))
		tap_bail("no interrupt remapping: run with -device vtd,ir=on,eim=off");
	gsi = edu_gsi();
	if (!tap_ok(gsi >= 0 && (unsigned)gsi < board.ioapic_pins, "edu INTA on GSI %d", gsi))
		tap_bail("no usable GSI");
	irq_set_handler(VEC_EDGE, handler);
	irq_set_handler(VEC_LEVEL, handler);
	me = lapic_id();
	tap_ok(irt_enable(&u, &t, false, 7) == 0, "interrupt remapping on (256-entry table)");

	/* Edge: IRTE with the IOAPIC's source-id checked. */
	irt_set(&t, IDX_EDGE, irte_lo(&t, VEC_EDGE, me, false), IRTE_HI_VERIFY(IOAPIC_SID));
	irt_iec(&u, IDX_EDGE, 0);
	ioapic_write_redir((unsigned)gsi, ir_rte(VEC_EDGE, IDX_EDGE, false));
	mmio_write32(edu.bar + EDU_IRQ_RAISE, 0x1);
	tap_ok(wait_count(VEC_EDGE, 1) && last_status == 0x1, "edge pin -> IRTE %u -> vector 0x%x (count %u)",
	       IDX_EDGE, VEC_EDGE, count[VEC_EDGE]);
	ioapic_write_redir((unsigned)gsi, IOAPIC_REDIR_MASKED);

	/* Level: RTE vector = IRTE vector so the EOI finds the pin (spec 5.1.5.1). */
	irt_set(&t, IDX_LEVEL, irte_lo(&t, VEC_LEVEL, me, true), IRTE_HI_VERIFY(IOAPIC_SID));
	irt_iec(&u, IDX_LEVEL, 0);
	ioapic_write_redir((unsigned)gsi, ir_rte(VEC_LEVEL, IDX_LEVEL, true));
	mmio_write32(edu.bar + EDU_IRQ_RAISE, 0x2);
	tap_ok(wait_count(VEC_LEVEL, 1) && last_status == 0x2, "level pin -> IRTE 0x%x -> vector 0x%x", IDX_LEVEL,
	       VEC_LEVEL);
	t0 = time_us();
	while ((redir = ioapic_read_redir((unsigned)gsi)) & IOAPIC_REDIR_REMOTE_IRR && time_us() - t0 < WAIT_US)
		cpu_relax();
	tap_ok(!(redir & IOAPIC_REDIR_REMOTE_IRR), "remote IRR clear after the EOI of vector 0x%x (0x%lx)",
	       VEC_LEVEL, redir);
	irq_enable();
	udelay(20000);
	irq_disable();
	tap_ok(count[VEC_LEVEL] == 1, "no re-delivery while edu is quiet (count %u)", count[VEC_LEVEL]);
	mmio_write32(edu.bar + EDU_IRQ_RAISE, 0x4);
	tap_ok(wait_count(VEC_LEVEL, 2) && last_status == 0x4, "second level interrupt after EOI (count %u)",
	       count[VEC_LEVEL]);
	ioapic_write_redir((unsigned)gsi, IOAPIC_REDIR_MASKED);
	tap_ok(count[VEC_EDGE] == 1, "edge vector fired once in total (%u)", count[VEC_EDGE]);
	tap_done();
}
