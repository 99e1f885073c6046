/* SPDX-License-Identifier: MIT */
/* pci: ECAM enumeration of bus 0 matches the DTB's /pci children (or the q35 expectations). */
#include <libfdt.h>

#include "guest.h"

#define MAX_FUNCS 64

struct func {
	uint16_t bdf, vendor, device;
};

static struct func found[MAX_FUNCS];
static int nfound;

static void collect(uint16_t bdf, uint16_t vendor, uint16_t device, void *arg)
{
	(void)arg;
	printf("# %02x:%02x.%x %04x:%04x class %06x\n", bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, vendor, device,
	       pci_read32(bdf, 0x08) >> 8);
	if (nfound < MAX_FUNCS)
		found[nfound++] = (struct func){ bdf, vendor, device };
}

static const struct func *lookup(uint16_t bdf)
{
	for (int i = 0; i < nfound; i++)
		if (found[i].bdf == bdf)
			return &found[i];
	return NULL;
}

/*
 * Every DTB child must be present with its compatible IDs, and every function ECAM finds must be
 * a DTB child, except the host bridge at 00:00.0 which the schema does not list.
 */
static void compare_dtb(void)
{
	const void *fdt = board.fdt;
	int pci = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic");
	int child, unlisted = 0;

	fdt_for_each_subnode(child, fdt, pci) {
		int len;
		const fdt32_t *reg = fdt_getprop(fdt, child, "reg", &len);
		const char *compat = fdt_getprop(fdt, child, "compatible", NULL);
		unsigned long v = 0, d = 0;
		uint32_t hi = reg && len >= 4 ? fdt32_to_cpu(reg[0]) : 0xffffffffu;
		uint16_t bdf = (uint16_t)(hi >> 8);
		const struct func *f;

		if (compat && strncmp(compat, "pci", 3) == 0) {
			char *end;

			v = strtoul(compat + 3, &end, 16);
			if (*end == ',')
				d = strtoul(end + 1, NULL, 16);
		}
		f = lookup(bdf);
		/* phys.hi = npt000ss bbbbbbbb dddddfff rrrrrrrr: bits above the bus must be 0 here. */
		tap_ok(!(hi & 0xff0000ffu) && f && f->vendor == v && f->device == d,
		       "DTB %s (%s, phys.hi 0x%x) at %02x:%02x.%x found by ECAM as %04x:%04x",
		       fdt_get_name(fdt, child, NULL), compat ? compat : "?", hi, bdf >> 8, (bdf >> 3) & 0x1f,
		       bdf & 7, f ? f->vendor : 0xffff, f ? f->device : 0xffff);
	}
	for (int i = 0; i < nfound; i++) {
		bool listed = found[i].bdf == 0;

		fdt_for_each_subnode(child, fdt, pci) {
			int len;
			const fdt32_t *reg = fdt_getprop(fdt, child, "reg", &len);

			if (reg && len >= 4 && (fdt32_to_cpu(reg[0]) >> 8) == found[i].bdf)
				listed = true;
		}
		if (!listed) {
			unlisted++;
			tap_diag("ECAM function %02x:%02x.%x %04x:%04x is not in the DTB", found[i].bdf >> 8,
				 (found[i].bdf >> 3) & 0x1f, found[i].bdf & 7, found[i].vendor, found[i].device);
		}
	}
	tap_ok(unlisted == 0, "every ECAM function but the host bridge is a DTB /pci child (%d unlisted)",
	       unlisted);
}

static int count_dtb_children(void)
{
	int pci = fdt_node_offset_by_compatible(board.fdt, -1, "pci-host-ecam-generic");
	int child, n = 0;

	fdt_for_each_subnode(child, board.fdt, pci)
		n++;
	return n;
}

void test_main(void)
{
	const struct func *f;
	int edu;

	pci_scan_bus(0, collect, NULL);
	if (board.from_dtb) {
		tap_plan(4 + count_dtb_children());
	} else {
		tap_plan(5);
		tap_diag("no DTB: comparing with q35 expectations");
	}
	tap_ok(nfound > 0 && nfound < MAX_FUNCS, "ECAM at 0x%lx enumerates %d functions on bus 0", board.ecam_base,
	       nfound);
	edu = pci_find_device(0x1234, 0x11e8);
	tap_ok(edu >= 0, "edu (1234:11e8) is on bus 0");
	f = lookup(0);
	tap_ok(f && pci_read32(0, 0x08) >> 16 == 0x0600, "00:00.0 is a host bridge (class 0x0600)");
	if (board.from_dtb) {
		compare_dtb();
		return;
	}
	tap_ok(f && f->vendor == 0x8086 && f->device == 0x29c0, "q35 host bridge 8086:29c0 at 00:00.0");
	f = lookup(PCI_BDF(0, 0x1f, 0));
	tap_ok(f && f->vendor == 0x8086 && f->device == 0x2918, "ICH9 LPC 8086:2918 at 00:1f.0");
}
