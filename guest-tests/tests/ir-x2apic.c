/* SPDX-License-Identifier: MIT */
/*
 * ir-x2apic: with -smp 288, the highest CPU (APIC ID 287) is started by x2APIC ICR and receives
 * edu's remappable MSI through an EIME IRTE whose 32-bit destination is its x2APIC ID.
 */
#include "vtd-ir.h"
#include "x2apic.h"

#define VEC 0x61
#define HANDLE 5
#define AP_INDEX 1
#define AP_TIMEOUT_US 2000000
#define WAIT_US 300000
#define LOW_BYTE_WAIT_US 50000

static struct edu_dev edu;
static struct cpu_list cpus;
static volatile uint32_t ap_arrived, ap_seen_id, ap_x2_mode;
/* Interrupts taken on the target AP and on any other CPU; the last handler's x2APIC ID. */
static volatile uint32_t hits_ap, hits_other, last_id;

static void handler(struct trap_frame *tf)
{
	uint32_t id = x2apic_id();

	(void)tf;
	edu_irq_ack(&edu);
	last_id = id;
	if (id == cpus.max_id)
		hits_ap++;
	else
		hits_other++;
	x2apic_eoi();
}

/* The AP: x2APIC on, report in, then wait for interrupts forever. */
static void ap_fn(unsigned cpu_index, uint32_t xapic_id)
{
	(void)cpu_index;
	(void)xapic_id;
	x2apic_enable();
	ap_x2_mode = x2apic_mode();
	ap_seen_id = x2apic_id();
	__atomic_store_n(&ap_arrived, 1, __ATOMIC_RELEASE);
	for (;;)
		__asm__ volatile("sti; hlt" ::: "memory");
}

/* Raises edu's interrupt; waits until *counter moved (bounded). True if it moved by exactly 1. */
static bool raise_and_wait_us(volatile uint32_t *counter, uint32_t wait_us)
{
	uint32_t before = *counter;
	uint64_t deadline;

	mmio_write32(edu.bar + EDU_IRQ_RAISE, 1);
	deadline = time_us() + wait_us;
	irq_enable();
	while (*counter == before && time_us() < deadline)
		cpu_relax();
	irq_disable();
	return *counter == before + 1;
}

static bool raise_and_wait(volatile uint32_t *counter)
{
	return raise_and_wait_us(counter, WAIT_US);
}

void test_main(void)
{
	struct vtd u;
	struct irt t = { 0 };
	uint32_t bsp_xapic_id = lapic_id(), bsp;
	uint8_t fr;
	uint16_t sid, idx;
	bool ok;
	int ret;

	tap_plan(12);
	if (cpu_list_scan(&cpus) || !tap_ok(cpus.count >= 2 && cpus.max_id > 255,
					    "board lists %u CPUs, highest APIC ID %u (> 255)", cpus.count, cpus.max_id))
		tap_bail("run with -smp 288 (APIC IDs above 255)");
	tap_ok(cpus.madt_has_max && cpus.madt_x2 > 0, "MADT: %u x2APIC entries, one for APIC ID %u",
	       cpus.madt_x2, cpus.max_id);
	if (!tap_ok(x2apic_supported(), "CPUID.1:ECX.x2APIC"))
		tap_bail("no x2APIC");
	x2apic_enable();
	bsp = x2apic_id();
	tap_ok(x2apic_mode() && bsp == bsp_xapic_id, "BSP in x2APIC mode, x2APIC ID %u", bsp);

	if (!tap_ok(edu_open(&edu) == 0, "edu found"))
		tap_bail("run with -device edu");
	ret = vtd_find(&u);
	if (!tap_ok(ret == 0 && (u.ecap & VTD_ECAP_IR) && (u.ecap & VTD_ECAP_EIM),
		    "VT-d unit with ECAP.IR and ECAP.EIM (ecap 0x%lx)", u.ecap))
		tap_bail("run with -device vtd,ir=on,eim=on");
	irq_set_handler(VEC, handler);
	ret = irt_enable(&u, &t, true, 3);
	tap_ok(ret == 0 && (vtd_read32(&u, VTD_GSTS) & VTD_GCMD_IRE), "EIME table latched, IRE on (%d)", ret);

	ret = x2apic_start_ap(cpus.max_id, AP_INDEX, ap_fn, &ap_arrived, AP_TIMEOUT_US);
	if (!tap_ok(ret == 0 && ap_x2_mode && ap_seen_id == cpus.max_id,
		    "AP %u started by x2APIC INIT/SIPI, in x2APIC mode, reads x2APIC ID %u (%d)", cpus.max_id,
		    ap_seen_id, ret))
		tap_bail("the target AP did not come up");

	/*
	 * First the destination's low byte only (287 & 0xff = 31, a CPU never started): nothing may
	 * reach the AP, so the bits above 7 are what routes the next MSI.
	 */
	irt_set(&t, HANDLE, irte_lo(&t, VEC, cpus.max_id & 0xff, false), IRTE_HI_VERIFY(edu.bdf));
	irt_iec(&u, HANDLE, 0);
	edu_msi_enable(&edu, ir_msi_addr(HANDLE, false), 0);
	ok = !raise_and_wait_us(&hits_ap, LOW_BYTE_WAIT_US);
	tap_ok(ok && hits_other == 0, "IRTE dest %u (low byte only): not delivered to the AP (AP %u, others %u)",
	       cpus.max_id & 0xff, hits_ap, hits_other);
	edu_irq_ack(&edu);

	/* IRTE: 32-bit destination = the AP's x2APIC ID; edu's MSI in remappable format. */
	irt_set(&t, HANDLE, irte_lo(&t, VEC, cpus.max_id, false), IRTE_HI_VERIFY(edu.bdf));
	irt_iec(&u, HANDLE, 0);
	ok = raise_and_wait(&hits_ap);
	tap_ok(ok && hits_other == 0 && last_id == cpus.max_id,
	       "MSI handle %u -> IRTE dest %u: handled on x2APIC ID %u (AP %u, others %u)", HANDLE,
	       cpus.max_id, last_id, hits_ap, hits_other);

	/* Retarget to the BSP: after the IEC invalidation the same MSI lands on APIC ID 0. */
	irt_set(&t, HANDLE, irte_lo(&t, VEC, bsp, false), IRTE_HI_VERIFY(edu.bdf));
	irt_iec(&u, HANDLE, 0);
	ok = raise_and_wait(&hits_other);
	tap_ok(ok && hits_ap == 1 && last_id == bsp,
	       "IRTE retargeted to %u + IEC: handled on x2APIC ID %u (AP %u, others %u)", bsp, last_id,
	       hits_ap, hits_other);
	edu_msi_disable(&edu);
	tap_ok(!ir_fault_take(&u, &fr, &sid, &idx), "no IR fault recorded");
	tap_done();
}
