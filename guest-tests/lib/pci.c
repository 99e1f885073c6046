/* SPDX-License-Identifier: MIT */
/* PCI configuration access through ECAM (base from the DTB or MCFG) and bus-0 enumeration. */
#include "guest.h"

#define PCI_VENDOR_ID 0x00
#define PCI_HEADER_TYPE 0x0e
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST (1u << 4)
#define PCI_CAP_PTR 0x34
#define PCI_BAR0 0x10
/* A capability list has at most (256 - 64) / 4 entries; a longer walk means a loop. */
#define PCI_CAP_WALK_LIMIT 48

static uint64_t cfg_addr(uint16_t bdf, uint16_t off)
{
	return board.ecam_base + ((uint64_t)bdf << 12) + (off & 0xfff);
}

uint32_t pci_read32(uint16_t bdf, uint16_t off) { return mmio_read32(cfg_addr(bdf, off & ~3)); }
uint16_t pci_read16(uint16_t bdf, uint16_t off) { return mmio_read16(cfg_addr(bdf, off & ~1)); }
uint8_t pci_read8(uint16_t bdf, uint16_t off) { return mmio_read8(cfg_addr(bdf, off)); }
void pci_write32(uint16_t bdf, uint16_t off, uint32_t v) { mmio_write32(cfg_addr(bdf, off & ~3), v); }
void pci_write16(uint16_t bdf, uint16_t off, uint16_t v) { mmio_write16(cfg_addr(bdf, off & ~1), v); }
void pci_write8(uint16_t bdf, uint16_t off, uint8_t v) { mmio_write8(cfg_addr(bdf, off), v); }

int pci_scan_bus(uint8_t bus, void (*fn)(uint16_t, uint16_t, uint16_t, void *), void *arg)
{
	int found = 0;

	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned f = 0; f < 8; f++) {
			uint16_t bdf = PCI_BDF(bus, dev, f);
			uint32_t id = pci_read32(bdf, PCI_VENDOR_ID);

			if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
				if (f == 0)
					break;
				continue;
			}
			found++;
			if (fn)
				fn(bdf, id & 0xffff, id >> 16, arg);
			if (f == 0 && !(pci_read8(bdf, PCI_HEADER_TYPE) & 0x80))
				break;
		}
	}
	return found;
}

struct find_arg {
	uint16_t vendor, device;
	int bdf;
};

static void find_cb(uint16_t bdf, uint16_t vendor, uint16_t device, void *arg)
{
	struct find_arg *a = arg;

	if (a->bdf < 0 && vendor == a->vendor && device == a->device)
		a->bdf = bdf;
}

int pci_find_device(uint16_t vendor, uint16_t device)
{
	struct find_arg a = { vendor, device, -1 };

	pci_scan_bus(0, find_cb, &a);
	return a.bdf;
}

uint8_t pci_find_cap(uint16_t bdf, uint8_t id)
{
	uint8_t pos;

	if (!(pci_read16(bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = pci_read8(bdf, PCI_CAP_PTR) & ~3;
	for (int i = 0; i < PCI_CAP_WALK_LIMIT && pos >= 0x40; i++) {
		if (pci_read8(bdf, pos) == id)
			return pos;
		pos = pci_read8(bdf, pos + 1) & ~3;
	}
	return 0;
}

uint16_t pci_find_ext_cap(uint16_t bdf, uint16_t id)
{
	/* Extended capabilities start at 0x100 (ECAM only); next pointer in bits 31:20. */
	for (uint16_t off = 0x100, n = 0; off >= 0x100 && n < 64; n++) {
		uint32_t hd = pci_read32(bdf, off);

		if ((hd & 0xffff) == id)
			return off;
		off = (uint16_t)(hd >> 20) & ~3;
	}
	return 0;
}

uint64_t pci_bar_addr(uint16_t bdf, int bar)
{
	uint32_t lo = pci_read32(bdf, PCI_BAR0 + 4 * bar);
	uint64_t addr;

	if (lo & 1)
		return 0; /* I/O BAR */
	addr = lo & ~0xfULL;
	if (((lo >> 1) & 3) == 2 && bar < 5)
		addr |= (uint64_t)pci_read32(bdf, PCI_BAR0 + 4 * (bar + 1)) << 32;
	return addr;
}
