/* SPDX-License-Identifier: MIT */
/*
 * ir-faults2: interrupt remapping with MSI-X's 32-bit message data (pasid-dma's completion
 * interrupt): SHV=1 with data bits 31:16 set is fault 0x20 (facts §8) with the record's SID
 * and handle and no delivery, while the same subhandle with clean data is delivered; then
 * IRTEs with non-fixed delivery: lowest priority and logical (flat) destination to this CPU,
 * and the reserved delivery mode 011b (0x24).
 */
#include "vtd-ir.h"

#define PDMA_VENDOR 0x1234
#define PDMA_DEVICE 0x5a5d
#define PDMA_CTRL 0x08
#define PDMA_CTRL_ENABLE 1u
#define PDMA_CTRL_IRQ 2u
#define PDMA_STATUS 0x0c
#define PDMA_STATUS_IRQ (1u << 8)
#define PDMA_RING_LO 0x10
#define PDMA_RING_HI 0x14
#define PDMA_RING_SIZE 0x18
#define PDMA_TAIL 0x20
#define PDMA_RING_N 16
#define PDMA_DESC_IRQ (1ULL << 11) /* opcode 0: NOP */
#define PCI_CAP_MSIX 0x11
#define MSIX_CTRL_ENABLE (1u << 15)
#define LAPIC_LDR 0xd0
#define LAPIC_DFR 0xe0

#define VEC_BASE 0x60
#define HANDLE 8
#define SUB 2
#define TABLE_S 3 /* 16 entries */
#define WAIT_US 30000
#define DELIVER_WAIT_US 300000

static struct vtd u;
static struct irt t;
static uint16_t bdf;
static uint64_t bar;
static volatile uint32_t *msix;  /* MSI-X table entry 0 */
static uint64_t (*ring)[8];
static unsigned tail;
static volatile uint32_t hits, last_vec;

static void handler(struct trap_frame *tf)
{
	mmio_write32(bar + PDMA_STATUS, PDMA_STATUS_IRQ);
	last_vec = (uint32_t)tf->vector;
	hits++;
	lapic_eoi();
}

/* Finds pasid-dma, maps its MSI-X entry 0, starts an empty ring with completion interrupts. */
static int pdma_open(void)
{
	int b = pci_find_device(PDMA_VENDOR, PDMA_DEVICE);
	uint8_t cap;
	uint32_t tbl;
	uint64_t tbar;

	if (b < 0)
		return -1;
	bdf = (uint16_t)b;
	pci_write16(bdf, 0x04, pci_read16(bdf, 0x04) | 0x6); /* memory space + bus master */
	bar = pci_bar_addr(bdf, 0);
	cap = pci_find_cap(bdf, PCI_CAP_MSIX);
	if (!bar || !cap)
		return -1;
	tbl = pci_read32(bdf, cap + 4);
	tbar = pci_bar_addr(bdf, (int)(tbl & 7));
	if (!tbar || tbar + (tbl & ~7u) >= (4ULL << 30))
		return -1; /* the identity map covers 4 GiB */
	msix = (volatile uint32_t *)(uintptr_t)(tbar + (tbl & ~7u));
	msix[3] = 0; /* vector control: unmasked */
	pci_write16(bdf, cap + 2, (uint16_t)(pci_read16(bdf, cap + 2) | MSIX_CTRL_ENABLE));
	ring = alloc_pages(1);
	if (!ring)
		return -1;
	mmio_write32(bar + PDMA_RING_LO, (uint32_t)(uintptr_t)ring);
	mmio_write32(bar + PDMA_RING_HI, (uint32_t)((uintptr_t)ring >> 32));
	mmio_write32(bar + PDMA_RING_SIZE, PDMA_RING_N);
	mmio_write32(bar + PDMA_CTRL, PDMA_CTRL_ENABLE | PDMA_CTRL_IRQ);
	return 0;
}

/* Runs one NOP asking for the completion interrupt with MSI-X (addr, data). */
static uint32_t raise(uint64_t addr, uint32_t data, uint32_t wait_us)
{
	uint32_t before = hits;
	uint64_t deadline;

	msix[0] = (uint32_t)addr;
	msix[1] = (uint32_t)(addr >> 32);
	msix[2] = data;
	memset(ring[tail % PDMA_RING_N], 0, 64);
	ring[tail % PDMA_RING_N][0] = PDMA_DESC_IRQ;
	tail++;
	mmio_write32(bar + PDMA_TAIL, tail % PDMA_RING_N);
	deadline = time_us() + wait_us;
	irq_enable();
	while (hits == before && time_us() < deadline)
		cpu_relax();
	irq_disable();
	mmio_write32(bar + PDMA_STATUS, PDMA_STATUS_IRQ);
	return hits - before;
}

static void expect_fault(const char *what, uint64_t addr, uint32_t data, uint8_t want_fr,
			 uint16_t want_index)
{
	uint8_t fr = 0, fr2;
	uint16_t sid = 0, idx = 0, sid2, idx2;
	uint32_t n = raise(addr, data, WAIT_US);
	bool got = ir_fault_take(&u, &fr, &sid, &idx), more = ir_fault_take(&u, &fr2, &sid2, &idx2);

	tap_ok(n == 0 && got && !more && fr == want_fr && sid == bdf && idx == want_index,
	       "%s: not delivered (%u), fault 0x%x (want 0x%x), SID 0x%04x (want 0x%04x), index %u%s",
	       what, n, fr, want_fr, sid, bdf, idx, more ? ", and a second record" : "");
	vtd_faults_clear(&u);
}

static void expect_delivery(const char *what, uint64_t addr, uint32_t data, uint8_t vec)
{
	uint8_t fr = 0;
	uint16_t sid, idx;
	uint32_t n = raise(addr, data, DELIVER_WAIT_US);
	bool got = ir_fault_take(&u, &fr, &sid, &idx);

	tap_ok(n == 1 && last_vec == vec && !got, "%s: delivered to vector 0x%x (%u), no fault%s",
	       what, last_vec, n, got ? " (but one was recorded)" : "");
	vtd_faults_clear(&u);
}

static void irte(unsigned idx, uint64_t lo)
{
	irt_set(&t, idx, lo, IRTE_HI_VERIFY(bdf));
	irt_iec(&u, (int)idx, 0);
}

void test_main(void)
{
	uint32_t me = lapic_id();
	uint64_t shv = ir_msi_addr(HANDLE, true);
	int ret;

	tap_plan(10);
	if (!tap_ok(pdma_open() == 0, "pasid-dma found, MSI-X entry 0 and ring set up"))
		tap_bail("run with -device pasid-dma");
	ret = vtd_find(&u);
	if (!tap_ok(ret == 0 && (u.ecap & VTD_ECAP_IR), "VT-d unit with ECAP.IR (ecap 0x%lx)", u.ecap))
		tap_bail("run with -device vtd,ir=on,eim=off");
	for (unsigned v = VEC_BASE; v < VEC_BASE + 8; v++)
		irq_set_handler(v, handler);
	vtd_write32(&u, VTD_FECTL, VTD_ECTL_IM);
	vtd_faults_clear(&u);
	ret = irt_enable(&u, &t, false, TABLE_S);
	tap_ok(ret == 0 && t.nr == 16, "IRE on, 16-entry table (%d)", ret);

	/* HANDLE + SUB selects entry 10; data bits 31:16 must be zero with SHV=1. */
	irte(HANDLE + SUB, irte_lo(&t, VEC_BASE, me, false));
	irte(HANDLE, irte_lo(&t, VEC_BASE + 7, me, false));
	expect_delivery("SHV=1, subhandle 2, 32-bit data clean", shv, SUB, VEC_BASE);
	expect_fault("SHV=1, data bit 16 set", shv, SUB | 0x10000, VTD_FR_IR_REQ_RSVD, HANDLE);
	expect_fault("SHV=1, data 0xffff0000", shv, 0xffff0000u, VTD_FR_IR_REQ_RSVD, HANDLE);

	/* Non-fixed delivery through IRTEs: lowest priority (physical), then logical flat. */
	irte(11, irte_lo(&t, VEC_BASE + 1, me, false) | IRTE_DLM(1));
	expect_delivery("IRTE 11 lowest priority to this CPU", ir_msi_addr(11, false), 0, VEC_BASE + 1);
	lapic_write(LAPIC_DFR, 0xffffffffu);    /* flat model */
	lapic_write(LAPIC_LDR, 0x01000000u);    /* logical ID bit 0 */
	irte(12, IRTE_P | IRTE_VECTOR(VEC_BASE + 2) | IRTE_DM_LOGICAL | (1ULL << 3) /* RH */ |
			 ((uint64_t)0x01 << 40));
	expect_delivery("IRTE 12 logical destination 0x01 (flat)", ir_msi_addr(12, false), 0,
			VEC_BASE + 2);
	irte(13, irte_lo(&t, VEC_BASE + 3, me, false) | IRTE_DLM(3));
	expect_fault("IRTE 13 delivery mode 011b (reserved)", ir_msi_addr(13, false), 0,
		     VTD_FR_IR_IRTE_RSVD, 13);
	/* Still alive and remapping after the faults. */
	expect_delivery("SHV=1, subhandle 2 again", shv, SUB, VEC_BASE);
	tap_done();
}
