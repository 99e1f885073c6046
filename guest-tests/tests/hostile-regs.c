/* SPDX-License-Identifier: MIT */
/*
 * hostile-regs: every offset of the VT-d register window read and written at every width
 * (1, 2, 4, 8 bytes, aligned or not) with all-ones and zeros; the unit keeps its identity
 * registers, and a driver can still reset it to a working state afterwards.
 */
#include "hostile.h"

#define WINDOW 0x1000u

static uint64_t rd(unsigned off, unsigned w)
{
	uintptr_t a = VTD + off;

	switch (w) {
	case 1:
		return *(volatile uint8_t *)a;
	case 2:
		return *(volatile uint16_t *)a;
	case 4:
		return *(volatile uint32_t *)a;
	default:
		return *(volatile uint64_t *)a;
	}
}

static void wr(unsigned off, unsigned w, uint64_t v)
{
	uintptr_t a = VTD + off;

	switch (w) {
	case 1:
		*(volatile uint8_t *)a = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)a = (uint16_t)v;
		break;
	case 4:
		*(volatile uint32_t *)a = (uint32_t)v;
		break;
	default:
		*(volatile uint64_t *)a = v;
		break;
	}
}

void test_main(void)
{
	uint64_t cap = vr64(0x08), ecap = vr64(0x10);
	uint32_t ver = vr32(0x00);
	volatile uint32_t *status = alloc_pages(1);
	uint64_t *q = alloc_pages(1);
	uint64_t sum = 0;

	tap_plan(4);
	for (unsigned w = 1; w <= 8; w <<= 1)
		for (unsigned off = 0; off + w <= WINDOW; off++)
			sum += rd(off, w);
	tap_ok(vr64(0x08) == cap, "every offset read at every width (sum 0x%lx)", sum);
	for (unsigned w = 1; w <= 8; w <<= 1) {
		for (unsigned off = 0; off + w <= WINDOW; off++)
			wr(off, w, ~0ULL);
		for (unsigned off = 0; off + w <= WINDOW; off++)
			wr(off, w, 0);
	}
	tap_ok(vr64(0x08) == cap && vr64(0x10) == ecap && vr32(0x00) == ver,
	       "every offset written at every width: VER/CAP/ECAP unchanged");
	/* Writes that straddle the end of the window go nowhere. */
	wr(WINDOW - 4, 8, ~0ULL);
	wr(WINDOW - 1, 2, ~0ULL);
	tap_ok(vr64(0x08) == cap, "writes across the window end are dropped");

	/* Reset to a working queue: QIE off, errors cleared, one wait descriptor. */
	vtd_gcmd(G_TE, false);
	vtd_gcmd(G_QIE, false);
	vtd_clear_faults();
	vw64(R_IQT, 0);
	vw64(R_IQA, (uint64_t)(uintptr_t)q);
	vtd_gcmd(G_QIE, true);
	q[0] = 5 | (1u << 5) | (0xabcULL << 32);
	q[1] = (uint64_t)(uintptr_t)status;
	vw64(R_IQT, 16);
	tap_ok(*status == 0xabc && !(vr32(R_FSTS) & FSTS_IQE), "unit still works after the storm");
}
