/* SPDX-License-Identifier: MIT */
/* xAPIC (MMIO at 0xfee00000), IOAPIC redirection entries, legacy PIC masking. */
#include "guest.h"

#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_ESR 0x280
#define LAPIC_SVR_ENABLE (1u << 8)
#define LAPIC_SPURIOUS_VECTOR 0xff
#define LVT_MASKED (1u << 16)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_LEVEL_ASSERT 0x00004000u
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1ULL << 11)

#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))

uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

static void spurious_handler(struct trap_frame *tf)
{
	(void)tf; /* spurious vector: no EOI by definition */
}

void lapic_enable(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	irq_set_handler(LAPIC_SPURIOUS_VECTOR, spurious_handler);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
	lapic_write(LAPIC_TPR, 0);
	/* We own the APIC: no ExtINT through LINT0 from a leftover 8259, no NMI on LINT1. */
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* Bounded wait for the ICR's delivery-status bit (SDM vol. 3, 11.6.1). */
static int icr_wait(void)
{
	for (int i = 0; i < 100000; i++)
		if (!(lapic_read(LAPIC_ICR_LO) & ICR_DELIVERY_PENDING))
			return 0;
	return -1;
}

int lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
	if (icr_wait())
		return -1;
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_low);
	return icr_wait();
}

/* INIT, 10 ms, SIPI, 200 us, SIPI (the MP-spec universal start-up algorithm). */
int lapic_start_ap(uint32_t apic_id, uint8_t sipi_page)
{
	int rc;

	lapic_write(LAPIC_ESR, 0);
	rc = lapic_send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	if (rc)
		return rc;
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		rc = lapic_send_ipi(apic_id, ICR_STARTUP | sipi_page);
		if (rc)
			return rc;
		udelay(200);
	}
	return 0;
}

uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(board.ioapic_base + IOAPIC_REGSEL, reg);
	return mmio_read32(board.ioapic_base + IOAPIC_WIN);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(board.ioapic_base + IOAPIC_REGSEL, reg);
	mmio_write32(board.ioapic_base + IOAPIC_WIN, v);
}

void ioapic_write_redir(unsigned pin, uint64_t entry)
{
	/* Mask first so a half-written entry never fires. */
	ioapic_write(IOAPIC_REDTBL(pin), (uint32_t)IOAPIC_REDIR_MASKED);
	ioapic_write(IOAPIC_REDTBL(pin) + 1, (uint32_t)(entry >> 32));
	ioapic_write(IOAPIC_REDTBL(pin), (uint32_t)entry);
}

uint64_t ioapic_read_redir(unsigned pin)
{
	uint64_t lo = ioapic_read(IOAPIC_REDTBL(pin));
	uint64_t hi = ioapic_read(IOAPIC_REDTBL(pin) + 1);

	return (hi << 32) | lo;
}

void pic_disable(void)
{
	/* Only on QEMU (no DTB): nestvm has no 8259. OCW1 masks every line of both PICs. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}
