/* SPDX-License-Identifier: MIT */
/*
 * ir-msi: edu's MSI through VT-d interrupt remapping (xAPIC IRTEs): handle, subhandle, the
 * interrupt entry cache (an IRTE change needs an IEC invalidation), and IRE off again.
 */
#include "vtd-ir.h"

#define VEC_A 0x41
#define VEC_B 0x42
#define VEC_C 0x43
#define VEC_COMPAT 0x44
#define WAIT_US 300000

static struct edu_dev edu;
static volatile uint32_t count[256];

static void handler(struct trap_frame *tf)
{
	edu_irq_ack(&edu);
	count[tf->vector & 0xff]++;
	lapic_eoi();
}

/* Raises edu's interrupt and waits for vector vec; true if it (and nothing else) arrived. */
static bool raise_and_wait(uint8_t vec)
{
	uint32_t before[4] = { count[VEC_A], count[VEC_B], count[VEC_C], count[VEC_COMPAT] };
	uint32_t others = 0, now[4];
	uint64_t deadline;

	mmio_write32(edu.bar + EDU_IRQ_RAISE, 1);
	deadline = time_us() + WAIT_US;
	irq_enable();
	while (count[vec] == before[vec - VEC_A] && time_us() < deadline)
		cpu_relax();
	irq_disable();
	now[0] = count[VEC_A];
	now[1] = count[VEC_B];
	now[2] = count[VEC_C];
	now[3] = count[VEC_COMPAT];
	for (unsigned i = 0; i < 4; i++)
		if (i != (unsigned)(vec - VEC_A))
			others += now[i] - before[i];
	return now[vec - VEC_A] == before[vec - VEC_A] + 1 && others == 0;
}

void test_main(void)
{
	struct vtd u;
	struct irt t = { 0 };
	uint32_t me;
	int ret;

	tap_plan(8);
	if (!tap_ok(edu_open(&edu) == 0, "edu found"))
		tap_bail("run with -device edu");
	if (!tap_ok(vtd_find(&u) == 0 && (u.ecap & VTD_ECAP_IR), "VT-d unit with ECAP.IR (ecap 0x%lx)", u.ecap))
		tap_bail("no interrupt remapping: run with -device vtd,ir=on,eim=off");
	for (unsigned v = VEC_A; v <= VEC_COMPAT; v++)
		irq_set_handler(v, handler);
	me = lapic_id();
	ret = irt_enable(&u, &t, false, 7);
	tap_ok(ret == 0 && (vtd_read32(&u, VTD_GSTS) & VTD_GCMD_IRE), "IRT latched, IEC flushed, IRE on (%d)", ret);

	/* Handle 4, SHV=0: the IRTE decides vector and destination. */
	irt_set(&t, 4, irte_lo(&t, VEC_A, me, false), IRTE_HI_VERIFY(edu.bdf));
	irt_iec(&u, 4, 0);
	edu_msi_enable(&edu, ir_msi_addr(4, false), 0);
	tap_ok(raise_and_wait(VEC_A), "remappable MSI handle 4 -> IRTE vector 0x%x", VEC_A);

	/* Handle 8 + subhandle 2 = entry 10. */
	irt_set(&t, 10, irte_lo(&t, VEC_B, me, false), IRTE_HI_VERIFY(edu.bdf));
	irt_iec(&u, 10, 0);
	edu_msi_enable(&edu, ir_msi_addr(8, true), 2);
	tap_ok(raise_and_wait(VEC_B), "SHV: handle 8 + subhandle 2 -> entry 10, vector 0x%x", VEC_B);

	/* Rewrite entry 4 without invalidating: the cached entry still applies (nestvm caches). */
	edu_msi_enable(&edu, ir_msi_addr(4, false), 0);
	irt_set(&t, 4, irte_lo(&t, VEC_C, me, false), IRTE_HI_VERIFY(edu.bdf));
	if (board.from_dtb)
		tap_ok(raise_and_wait(VEC_A), "IRTE change without IEC invalidation: still vector 0x%x", VEC_A);
	else
		tap_ok(true, "# SKIP QEMU does not cache IRTEs");
	irt_iec(&u, 4, 0);
	tap_ok(raise_and_wait(VEC_C), "after IEC invalidation of index 4: vector 0x%x", VEC_C);

	/* IRE off: a compatibility-format MSI goes straight to the LAPIC. */
	vtd_gcmd(&u, VTD_GCMD_IRE, false);
	edu_msi_enable(&edu, 0xfee00000ULL | ((uint64_t)me << 12), VEC_COMPAT);
	tap_ok(raise_and_wait(VEC_COMPAT), "IRE off: compatibility MSI to vector 0x%x", VEC_COMPAT);
	edu_msi_disable(&edu);
	tap_done();
}
