/* SPDX-License-Identifier: MIT */
/*
 * vtd-default: a VT-d unit given without options (nestvm "-device vtd", QEMU "-device
 * intel-iommu" with a split irqchip) carries interrupt remapping with x2APIC IRTEs, the DMAR
 * table says so, and a guest written for QEMU gets GSTS.IRES when it sets GCMD.IRE.
 */
#include "vtd-ir.h"

#define DMAR_FLAGS 37 /* after the 36-byte header and the host address width */
#define DMAR_INTR_REMAP (1u << 0)
#define DMAR_X2APIC_OPT_OUT (1u << 1)

void test_main(void)
{
	struct vtd u;
	struct irt t = { 0 };
	const uint8_t *dmar;
	int r;

	tap_plan(7);
	if (vtd_find(&u))
		tap_bail("no VT-d unit");
	tap_diag("CAP 0x%lx ECAP 0x%lx", (unsigned long)u.cap, (unsigned long)u.ecap);
	tap_ok(u.ecap & VTD_ECAP_IR, "ECAP.IR: interrupt remapping is there by default");
	tap_ok(u.ecap & VTD_ECAP_EIM, "ECAP.EIM: x2APIC (32-bit) destinations by default");
	dmar = acpi_find_table("DMAR");
	tap_ok(dmar && (dmar[DMAR_FLAGS] & DMAR_INTR_REMAP) && !(dmar[DMAR_FLAGS] & DMAR_X2APIC_OPT_OUT),
	       "DMAR flags: INTR_REMAP set, X2APIC_OPT_OUT clear (0x%x)", dmar ? dmar[DMAR_FLAGS] : 0);
	r = irt_enable(&u, &t, true, 3);
	tap_ok(r == 0, "IRTA (EIME, 16 entries) + SIRTP + IEC + IRE accepted (%d)", r);
	tap_ok((vtd_read32(&u, VTD_GSTS) & (VTD_GCMD_IRE | VTD_GCMD_SIRTP)) ==
		       (VTD_GCMD_IRE | VTD_GCMD_SIRTP),
	       "GSTS.IRES and GSTS.IRTPS set (GSTS 0x%x)", vtd_read32(&u, VTD_GSTS));
	tap_ok((vtd_read64(&u, VTD_IRTA) & ~0xfffULL) == (uintptr_t)t.e &&
		       (vtd_read64(&u, VTD_IRTA) & VTD_IRTA_EIME),
	       "IRTA reads back the table with EIME");
	r = vtd_gcmd(&u, VTD_GCMD_IRE, false);
	tap_ok(r == 0 && !(vtd_read32(&u, VTD_GSTS) & VTD_GCMD_IRE), "clearing GCMD.IRE clears GSTS.IRES");
}
