/* SPDX-License-Identifier: MIT */
/*
 * pci-testdev: QEMU's PCI exit-test device (1b36:0005) as kvm-unit-tests style kernels drive it:
 * for each test of each BAR (memory BAR0, I/O BAR1), select it, read width/offset/data/name
 * from the header, write data at offset 16 times and read the count. The "no-eventfd" tests
 * count every write; the two "eventfd" tests count them too, or read 0 where the hypervisor
 * consumed the writes in an ioeventfd (QEMU+KVM), which such kernels accept as a pass.
 */
#include "guest.h"

#define TESTDEV_VENDOR 0x1b36
#define TESTDEV_DEVICE 0x0005
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_BAR0 0x10
#define NR_WRITES 16

static const char *const names[6] = {
	"mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd",
	"portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd",
};

struct bar {
	bool io;
	uint64_t base;
};

static uint8_t rd8(const struct bar *b, uint32_t off)
{
	return b->io ? inb((uint16_t)(b->base + off)) : mmio_read8(b->base + off);
}

static uint32_t rd32(const struct bar *b, uint32_t off)
{
	return b->io ? inl((uint16_t)(b->base + off)) : mmio_read32(b->base + off);
}

static void wr8(const struct bar *b, uint32_t off, uint8_t v)
{
	if (b->io)
		outb((uint16_t)(b->base + off), v);
	else
		mmio_write8(b->base + off, v);
}

/* How kvm-unit-tests style kernels look for it: 16-bit reads through CF8/CFC, register 0 and 2. */
static int find_by_cf8(void)
{
	for (unsigned int dev = 0; dev < 32; dev++) {
		uint32_t addr = 0x80000000u | (dev << 11);
		uint16_t vendor, device;

		outl(0xcf8, addr | 0);
		vendor = inw(0xcfc);
		outl(0xcf8, addr | 2);
		device = inw(0xcfc);
		if (vendor == TESTDEV_VENDOR && device == TESTDEV_DEVICE)
			return (int)(dev << 3);
	}
	return -1;
}

static void run_test(const struct bar *b, unsigned int kind)
{
	unsigned int n = (b->io ? 3 : 0) + kind;
	uint32_t off, data, count, width;
	char name[32];
	bool name_ok;

	wr8(b, 0, (uint8_t)kind);
	width = rd8(b, 1);
	off = rd32(b, 4);
	data = rd32(b, 8);
	for (unsigned int i = 0; i < sizeof(name); i++)
		name[i] = (char)rd8(b, 16 + i);
	name[sizeof(name) - 1] = 0;
	name_ok = strcmp(name, names[n]) == 0;
	tap_ok(rd8(b, 0) == n && width == 1 && off == (b->io ? 128u : 2048u) + n &&
		       data == (kind == 1 ? 0xce : 0xfa) && name_ok,
	       "%s: test %u, width %u, offset %u, data 0x%x, name '%s'", names[n], rd8(b, 0), width,
	       off, data, name);
	for (unsigned int i = 0; i < NR_WRITES; i++)
		wr8(b, off, (uint8_t)data);
	count = rd32(b, 12);
	if (kind == 0) {
		tap_ok(count == NR_WRITES, "%s: %u writes counted (want %u)", names[n], count, NR_WRITES);
	} else {
		tap_ok(count == NR_WRITES || count == 0,
		       "%s: count %u (%u in the device, 0 when an ioeventfd took them)", names[n], count,
		       NR_WRITES);
	}
}

void test_main(void)
{
	int found = pci_find_device(TESTDEV_VENDOR, TESTDEV_DEVICE);
	struct bar mem, io;
	uint16_t bdf;
	uint32_t b0, b1, count;

	tap_plan(18);
	if (found < 0)
		tap_bail("no pci-testdev (%04x:%04x) on bus 0", TESTDEV_VENDOR, TESTDEV_DEVICE);
	bdf = (uint16_t)found;
	tap_ok(find_by_cf8() == found, "found through CF8/CFC word reads of registers 0 and 2 too");
	b0 = pci_read32(bdf, PCI_BAR0);
	b1 = pci_read32(bdf, PCI_BAR0 + 4);
	tap_ok(pci_read32(bdf, 0x08) == 0x00ff0000 && pci_read8(bdf, 0x3d) == 0,
	       "class code 0x00ff00, revision 0, no interrupt pin (0x%x)", pci_read32(bdf, 0x08));
	tap_ok(!(b0 & 1) && (b0 & 6) == 0 && (b1 & 1) && pci_read32(bdf, PCI_BAR0 + 8) == 0,
	       "BAR0 32-bit memory, BAR1 I/O, no BAR2 (0x%x 0x%x)", b0, b1);
	pci_write32(bdf, PCI_BAR0, 0xffffffff);
	pci_write32(bdf, PCI_BAR0 + 4, 0xffffffff);
	tap_ok((pci_read32(bdf, PCI_BAR0) & ~0xfu) == 0xfffff000 &&
		       (pci_read32(bdf, PCI_BAR0 + 4) & 0xfffc) == 0xff00,
	       "BAR sizes: 4 KiB memory, 256 bytes I/O");
	pci_write32(bdf, PCI_BAR0, b0);
	pci_write32(bdf, PCI_BAR0 + 4, b1);
	pci_write16(bdf, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	mem = (struct bar){ false, b0 & ~0xfULL };
	io = (struct bar){ true, b1 & ~0x3u };
	tap_diag("BAR0 0x%lx, BAR1 0x%lx", (unsigned long)mem.base, (unsigned long)io.base);

	for (unsigned int k = 0; k < 3; k++)
		run_test(&mem, k);
	for (unsigned int k = 0; k < 3; k++)
		run_test(&io, k);

	/* The no-eventfd tests count only the test's data at the test's offset. */
	wr8(&mem, 0, 0);
	wr8(&mem, 2048, 0x11);
	wr8(&mem, 2049, 0xfa);
	count = rd32(&mem, 12);
	tap_ok(count == 0, "other data or another offset is not counted (%u)", count);
	/* An unknown test number deselects: the header reads 0. */
	wr8(&io, 0, 7);
	tap_ok(rd32(&io, 4) == 0 && rd32(&mem, 8) == 0, "test 7 does not exist: nothing selected");
}
