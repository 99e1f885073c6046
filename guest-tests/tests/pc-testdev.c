/* SPDX-License-Identifier: MIT */
/*
 * pc-testdev: QEMU's x86 test device as test kernels written for QEMU use it: the 32-bit
 * scratch register (0xe0, byte view 0xe8, string I/O), the page-flush port (0xe4), ISA IRQ
 * lines (0x2000 + n) into the IOAPIC, edge and level, and the MMIO window at 0xff000000 with
 * instructions the hypervisor must emulate (movs, xchg, add, cmpxchg).
 */
#include "guest.h"

#define IOMEM 0xff000000UL
#define IRQ_PORT 0x2000
#define EDGE_PIN 14
#define LEVEL_PIN 15
#define EDGE_VECTOR 0x50
#define LEVEL_VECTOR 0x51
#define WAIT_US 500000

static volatile uint32_t edge_count, level_count;

static void edge_handler(struct trap_frame *tf)
{
	(void)tf;
	edge_count++;
	lapic_eoi();
}

/* Level-triggered: lower the line before the EOI, or the IOAPIC delivers again at once. */
static void level_handler(struct trap_frame *tf)
{
	(void)tf;
	level_count++;
	outb(IRQ_PORT + LEVEL_PIN, 0);
	lapic_eoi();
}

static void test_scratch(void)
{
	static const uint8_t bytes[4] = { 'a', 'b', 'c', 'd' };
	uint32_t pair[2] = { 0, 0 };
	const uint8_t *si = bytes;
	uint32_t *di = pair;
	uint64_t n;
	bool ok;

	outl(0xe0, 0x12345678);
	ok = inl(0xe0) == 0x12345678 && inb(0xe1) == 0x56 && inw(0xe2) == 0x1234;
	outb(0xe3, 0xab);
	outw(0xe0, 0xcdef);
	ok = ok && inl(0xe0) == 0xab34cdef;
	tap_ok(ok, "0xe0: 32-bit scratch register, byte and word lanes");
	outw(0xea, 0x9988);
	tap_ok(inl(0xe8) == 0x9988cdef && inl(0xe0) == 0x9988cdef && inb(0xeb) == 0x99,
	       "0xe8: the same register, byte at a time");
	n = 4;
	__asm__ volatile("cld; rep outsb" : "+S"(si), "+c"(n) : "d"((uint16_t)0xe0) : "memory");
	n = 2;
	__asm__ volatile("cld; rep insl" : "+D"(di), "+c"(n) : "d"((uint16_t)0xe0) : "memory");
	tap_ok((inl(0xe0) & 0xff) == 'd' && pair[0] == inl(0xe0) && pair[1] == pair[0],
	       "string I/O: rep outsb leaves the last byte, rep insl reads the register twice (0x%x)",
	       pair[0]);
}

static void test_flush(void)
{
	uint8_t *page = alloc_pages(1);
	bool same = true;

	for (unsigned int i = 0; i < PAGE_SIZE; i++)
		page[i] = (uint8_t)(i * 7 + 1);
	for (unsigned int round = 0; round < 4; round++) {
		outl(0xe4, (uint32_t)(uintptr_t)page + round * 0x100);
		for (unsigned int i = 0; i < PAGE_SIZE; i++)
			same = same && page[i] == (uint8_t)(i * 7 + 1 + round);
		for (unsigned int i = 0; i < PAGE_SIZE; i++)
			page[i]++;
	}
	tap_ok(same, "0xe4: flushing a page keeps its contents, and it stays writable");
}

static void test_irq_lines(void)
{
	uint64_t redir;
	uint32_t apic = lapic_id();
	uint64_t t0;
	bool ok;

	irq_set_handler(EDGE_VECTOR, edge_handler);
	irq_set_handler(LEVEL_VECTOR, level_handler);
	ioapic_write_redir(EDGE_PIN, EDGE_VECTOR | ((uint64_t)apic << 56));
	ioapic_write_redir(LEVEL_PIN, LEVEL_VECTOR | IOAPIC_REDIR_LEVEL | ((uint64_t)apic << 56));

	outb(IRQ_PORT + EDGE_PIN, 1);
	tap_ok(irq_wait_count(&edge_count, 1, WAIT_US),
	       "0x2000+%d: raising ISA IRQ %d delivers the edge vector", EDGE_PIN, EDGE_PIN);
	outb(IRQ_PORT + EDGE_PIN, 0);
	outb(IRQ_PORT + EDGE_PIN, 1);
	outb(IRQ_PORT + EDGE_PIN, 0);
	ok = irq_wait_count(&edge_count, 2, WAIT_US);
	udelay(1000); /* a spurious third delivery would show up here */
	tap_ok(ok && edge_count == 2, "a second edge, one more interrupt (%u in total)", edge_count);

	outb(IRQ_PORT + LEVEL_PIN, 1);
	tap_ok(irq_wait_count(&level_count, 1, WAIT_US),
	       "0x2000+%d: a high level line delivers the level vector", LEVEL_PIN);
	t0 = time_us();
	while ((redir = ioapic_read_redir(LEVEL_PIN)) & IOAPIC_REDIR_REMOTE_IRR && time_us() - t0 < WAIT_US)
		cpu_relax();
	tap_ok(!(redir & IOAPIC_REDIR_REMOTE_IRR) && level_count == 1,
	       "line lowered before the EOI: remote IRR clear, no second delivery (%u)", level_count);
	ioapic_write_redir(EDGE_PIN, IOAPIC_REDIR_MASKED);
	ioapic_write_redir(LEVEL_PIN, IOAPIC_REDIR_MASKED);
}

static void test_iomem(void)
{
	volatile uint64_t *q = (volatile uint64_t *)IOMEM;
	uint8_t src[64], dst[64];
	const uint8_t *si;
	uint8_t *di;
	uint64_t v, old, win, n;
	uint32_t x;
	bool ok;

	q[0] = 0x1122334455667788ULL;
	ok = q[0] == 0x1122334455667788ULL && mmio_read32(IOMEM + 4) == 0x11223344 &&
	     mmio_read16(IOMEM + 2) == 0x5566 && mmio_read8(IOMEM + 7) == 0x11;
	mmio_write8(IOMEM + 1, 0xaa);
	ok = ok && mmio_read32(IOMEM) == 0x5566aa88;
	mmio_write32(IOMEM + 0xfffc, 0xdeadbeef);
	ok = ok && mmio_read32(IOMEM + 0xfffc) == 0xdeadbeef;
	tap_ok(ok, "0xff000000: 64 KiB read and written like RAM (1/2/4/8 bytes)");

	for (unsigned int i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(0x30 + i);
	si = src;
	win = IOMEM + 0x100;
	n = sizeof(src);
	__asm__ volatile("cld; rep movsb" : "+S"(si), "+D"(win), "+c"(n) : : "memory");
	memset(dst, 0, sizeof(dst));
	win = IOMEM + 0x100;
	di = dst;
	n = sizeof(dst) / 8;
	__asm__ volatile("cld; rep movsq" : "+S"(win), "+D"(di), "+c"(n) : : "memory");
	tap_ok(memcmp(src, dst, sizeof(src)) == 0, "rep movsb into the window, rep movsq out of it");

	v = 0xa5a5a5a5a5a5a5a5ULL;
	q[1] = 7;
	__asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(q[1]) : : "memory");
	ok = v == 7 && q[1] == 0xa5a5a5a5a5a5a5a5ULL;
	mmio_write32(IOMEM + 0x20, 40);
	__asm__ volatile("addl $2, %0" : "+m"(*(volatile uint32_t *)(IOMEM + 0x20)) : : "memory");
	ok = ok && mmio_read32(IOMEM + 0x20) == 42;
	old = 42;
	x = 0;
	__asm__ volatile("lock cmpxchgl %2, %1"
			 : "+a"(old), "+m"(*(volatile uint32_t *)(IOMEM + 0x20))
			 : "r"(99u)
			 : "memory", "cc");
	ok = ok && mmio_read32(IOMEM + 0x20) == 99 && (uint32_t)old == 42;
	__asm__ volatile("movzbl %1, %0" : "=r"(x) : "m"(*(volatile uint8_t *)(IOMEM + 0x20)));
	tap_ok(ok && x == 99, "xchg, add, lock cmpxchg and movzb on the window");
}

void test_main(void)
{
	tap_plan(11);
	test_scratch();
	test_flush();
	test_irq_lines();
	test_iomem();
}
