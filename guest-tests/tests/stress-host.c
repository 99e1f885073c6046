/* SPDX-License-Identifier: MIT */
/*
 * stress-host: a host-backed device kept busy while another vCPU resets the unit. The BSP
 * runs a guest SVA driver's loop on a simulated passthrough pasid-dma (backend=hostsim):
 * DMA with PASID 1 and without PASID, a page-selective PASID-IOTLB flush and a PASID-cache
 * flush each round. The AP meanwhile re-latches the root table (SRTP), turns translation off
 * and on and queued invalidation off and on, as fast as it can.
 *
 * Every DMA must either complete correctly (the fill pattern of this round landed in the
 * page the tables map) or be blocked (fault status, or no completion record because the
 * record's own write was blocked); nothing else. Once the AP stops, the driver restores the
 * unit and a DMA through the same binding works. With "-append forever" the loop never ends
 * (after printing "# busy"): tests/stress/sigterm.sh stops nestvm with SIGTERM then.
 */
#include "host-pdma.h"

#define VA 0x00007f0000400000ULL
#define VA_CR 0x00007f0000600000ULL
#define DID_P 1
#define ROUNDS 120

static struct hp h;
static struct vtd_pt as1;
static uint8_t *data1, *cr1, *rid_buf, *rid_cr;
static volatile uint32_t ap_stop, ap_rounds, ap_done;

static void resetter(unsigned cpu_index, uint32_t apic_id)
{
	uint64_t rta = vtd_read64(&h.u, VTD_RTADDR);

	while (!ap_stop) {
		uint32_t n = ap_rounds;

		vtd_write64(&h.u, VTD_RTADDR, rta);
		(void)vtd_gcmd(&h.u, VTD_GCMD_SRTP, true);
		if (n % 3 == 1) {
			(void)vtd_gcmd(&h.u, VTD_GCMD_TE, false);
			(void)vtd_gcmd(&h.u, VTD_GCMD_TE, true);
		} else if (n % 3 == 2) {
			(void)vtd_gcmd(&h.u, VTD_GCMD_QIE, false);
			(void)vtd_gcmd(&h.u, VTD_GCMD_QIE, true);
		}
		ap_rounds = n + 1;
	}
	ap_done = 1;
}

/* One DMA; 1 = completed correctly, 0 = blocked, -1 = anything else. */
static int fill(bool pasid, uint8_t pat)
{
	uint8_t *buf = pasid ? data1 : rid_buf, *cr = pasid ? cr1 : rid_cr;
	uint64_t p = 0x0101010101010101ULL * pat;

	cr[0] = 0;
	if (pasid)
		hp_submit(&h, PDMA_DESC(PDMA_OP_FILL, 1), 0, VA, 64, p, VA_CR);
	else
		hp_submit(&h, PDMA_DESC_RID(PDMA_OP_FILL), 0, (uintptr_t)rid_buf, 64, p,
			  (uintptr_t)rid_cr);
	if (cr[0] == PDMA_ST_OK)
		return buf[0] == pat && buf[63] == pat ? 1 : -1;
	return cr[0] == 0 || cr[0] == PDMA_ST_FAULT ? 0 : -1;
}

void test_main(void)
{
	bool forever = false, ok;
	unsigned done = 0, blocked = 0, bad = 0;
	uint64_t d[2][4];
	int started;

	for (int i = 1; i < guest_argc; i++)
		forever |= strcmp(guest_argv[i], "forever") == 0;

	tap_plan(4);
	data1 = alloc_pages(1);
	cr1 = alloc_pages(1);
	rid_buf = alloc_pages(1);
	rid_cr = alloc_pages(1);
	if (!data1 || !cr1 || !rid_buf || !rid_cr || hp_open(&h, false) || hp_rid_map(&h, rid_buf) ||
	    hp_rid_map(&h, rid_cr) || vtd_pt_init(&as1, 4, true) ||
	    vtd_pt_map(&as1, VA, (uintptr_t)data1, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    vtd_pt_map(&as1, VA_CR, (uintptr_t)cr1, PAGE_SIZE, VTD_PTE_R | VTD_PTE_W) ||
	    hp_bind(&h, 1, DID_P, &as1))
		tap_bail("no pasid-dma,backend=hostsim or no scalable-mode VT-d unit, or setup failed");
	started = smp_start_aps(resetter, 1000000);
	tap_ok(started == 1, "the resetting vCPU started (%d)", started);

	for (unsigned r = 0; forever || r < ROUNDS; r++) {
		int a = fill(true, (uint8_t)(r + 1)), b = fill(false, (uint8_t)(r + 2));

		done += (a == 1) + (b == 1);
		blocked += (a == 0) + (b == 0);
		bad += (a < 0) + (b < 0);
		/* The driver's flushes (results ignored: the other vCPU may have QIE off). */
		vtd_desc_piotlb(d[0], 3, DID_P, 1, VA, 0);
		vtd_desc_pc(d[1], 1, DID_P, 1);
		(void)vtd_qi_sync(&h.u, (const uint64_t (*)[4])d, 2);
		if (r == 0 && forever)
			printf("# busy\n");
	}
	ap_stop = 1;
	while (!ap_done)
		cpu_relax();
	tap_ok(bad == 0, "%u DMAs completed correctly, %u blocked, %u otherwise (want 0)", done,
	       blocked, bad);
	tap_ok(ap_rounds >= 3, "%u resets (SRTP, TE off/on, QIE off/on) ran during the DMA", ap_rounds);

	/* The driver restores the unit; the binding works again. */
	ok = !vtd_gcmd(&h.u, VTD_GCMD_QIE, true) && !vtd_gcmd(&h.u, VTD_GCMD_TE, true);

	vtd_write32(&h.u, VTD_FSTS, 0x7f);
	ok = ok && !vtd_qi_flush_all(&h.u) && !hp_bind(&h, 1, DID_P, &as1);
	tap_ok(ok && fill(true, 0x5a) == 1, "after the resets a DMA through PASID 1 works");
}
