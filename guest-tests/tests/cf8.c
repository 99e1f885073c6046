/* SPDX-License-Identifier: MIT */
/*
 * cf8: PCI configuration through CONFIG_ADDRESS (0xcf8) / CONFIG_DATA (0xcfc-0xcff) decodes as
 * QEMU's host bridges do: register = CONFIG_ADDRESS bits 7:0 (bits 1:0 included) OR'd with the
 * data port's byte. Every read is checked against ECAM at every CF8 register 0..0x3f, every data
 * port byte, 8/16/32 bits (naturally aligned port accesses); writes land on the same register.
 */
#include "guest.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define CF8_ENABLE 0x80000000u

static void cf8_select(uint16_t bdf, uint8_t reg)
{
	outl(0xcf8, CF8_ENABLE | ((uint32_t)bdf << 8) | reg);
}

static uint32_t cfc_in(unsigned int byte, unsigned int size)
{
	uint16_t port = (uint16_t)(0xcfc + byte);

	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

void test_main(void)
{
	int edu = pci_find_device(EDU_VENDOR, EDU_DEVICE);
	unsigned int mismatches = 0, checked = 0;
	uint16_t bdf;
	uint8_t line;

	tap_plan(7);
	if (edu < 0)
		tap_bail("no edu device (%04x:%04x) on bus 0", EDU_VENDOR, EDU_DEVICE);
	bdf = (uint16_t)edu;
	tap_diag("edu at %02x:%02x.%x", bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7);

	cf8_select(bdf, 2);
	tap_ok(inw(0xcfc) == EDU_DEVICE, "CF8 register 2, 16-bit read of CFC: the device ID");
	cf8_select(bdf, 1);
	tap_ok(inb(0xcfc) == (EDU_VENDOR >> 8) && inb(0xcfe) == (EDU_DEVICE >> 8),
	       "CF8 register 1: CFC reads byte 1, CFE reads byte 1|2 = 3");
	cf8_select(bdf, 0);
	tap_ok(inl(0xcfc) == ((uint32_t)EDU_DEVICE << 16 | EDU_VENDOR) && inw(0xcfe) == EDU_DEVICE,
	       "CF8 register 0: dword at CFC, word at CFE");

	for (unsigned int r = 0; r < 0x40; r++) {
		for (unsigned int b = 0; b < 4; b++) {
			for (unsigned int size = 1; size <= 4 && b % size == 0; size <<= 1) {
				unsigned int reg = r | b;
				uint32_t want = 0, got;

				for (unsigned int i = 0; i < size; i++)
					want |= (uint32_t)pci_read8(bdf, (uint16_t)(reg + i)) << (8 * i);
				cf8_select(bdf, (uint8_t)r);
				got = cfc_in(b, size);
				checked++;
				if (got != want && mismatches++ < 8)
					tap_diag("CF8 reg 0x%02x, port 0x%x, %u-bit: 0x%x, ECAM says 0x%x", r,
						 0xcfc + b, size * 8, got, want);
			}
		}
	}
	tap_ok(mismatches == 0, "%u CF8/CFC reads match ECAM (%u differ)", checked, mismatches);

	/* Writes: 0x3c is the interrupt line (read/write), 0x3d the pin (read-only). */
	line = pci_read8(bdf, 0x3c);
	cf8_select(bdf, 0x3c);
	outb(0xcfc, 0x5a);
	tap_ok(pci_read8(bdf, 0x3c) == 0x5a, "byte write with CF8 register 0x3c reaches the line");
	cf8_select(bdf, 0x3d);
	outb(0xcfc, 0xa5);
	tap_ok(pci_read8(bdf, 0x3c) == 0x5a, "byte write with CF8 register 0x3d does not (pin is RO)");
	pci_write8(bdf, 0x3c, line);

	/* Enable bit clear: all-ones. */
	outl(0xcf8, ((uint32_t)bdf << 8) | 2);
	tap_ok(inw(0xcfc) == 0xffff, "CONFIG_ADDRESS without the enable bit reads all-ones");
	outl(0xcf8, 0);
}
