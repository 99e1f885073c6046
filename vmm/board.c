/* SPDX-License-Identifier: MIT */
/* The board description: builds the flattened device tree (docs/board.md) from the configuration. */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "board.h"
#include "log.h"
#include "machine.h"

#define FDT_SIZE (64 * 1024)

unsigned int board_intx_gsi(unsigned int slot, unsigned int pin)
{
	return 16 + ((slot + pin - 1) % 8);
}

int board_assign_slots(struct machine_config *cfg, char *err, size_t errlen)
{
	/* Slot 0: host bridge; 31 (00:1f.0): the IOAPIC's source-id in the DMAR table. */
	uint32_t used = 1u | (1u << 31);

	if (board_check_model_counts(cfg, err, errlen))
		return -EINVAL;

	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		struct device_spec *d = &cfg->devices[i];
		const struct board_model *bm = board_find_model(d->model);

		if (!bm || !bm->pci)
			continue;
		if (d->slot >= 0) {
			if (d->slot <= 0 || d->slot > 31 || (used & (1u << d->slot))) {
				snprintf(err, errlen, "device %s: PCI slot %d is invalid or already used",
					 d->model, d->slot);
				return -EINVAL;
			}
			used |= 1u << d->slot;
		}
	}
	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		struct device_spec *d = &cfg->devices[i];
		const struct board_model *bm = board_find_model(d->model);
		int s;

		if (!bm || !bm->pci || d->slot >= 0)
			continue;
		for (s = BOARD_FIRST_AUTO_SLOT; s < 32 && (used & (1u << s)); s++)
			;
		if (s == 32) {
			snprintf(err, errlen, "too many PCI devices: bus 0 is full");
			return -ENOSPC;
		}
		d->slot = s;
		used |= 1u << s;
	}
	return 0;
}

/* libfdt sequential-write helpers that stop at the first error. */
struct fdtw {
	void *fdt;
	int err;
};

static void w_begin(struct fdtw *w, const char *name)
{
	if (!w->err)
		w->err = fdt_begin_node(w->fdt, name);
}

static void w_end(struct fdtw *w)
{
	if (!w->err)
		w->err = fdt_end_node(w->fdt);
}

static void w_str(struct fdtw *w, const char *name, const char *val)
{
	if (!w->err)
		w->err = fdt_property_string(w->fdt, name, val);
}

static void w_u32(struct fdtw *w, const char *name, uint32_t val)
{
	if (!w->err)
		w->err = fdt_property_u32(w->fdt, name, val);
}

static void w_empty(struct fdtw *w, const char *name)
{
	if (!w->err)
		w->err = fdt_property(w->fdt, name, NULL, 0);
}

static void w_cells(struct fdtw *w, const char *name, const uint32_t *cells, unsigned int n)
{
	fdt32_t be[16];

	if (w->err)
		return;
	for (unsigned int i = 0; i < n && i < ARRAY_SIZE(be); i++)
		be[i] = cpu_to_fdt32(cells[i]);
	w->err = fdt_property(w->fdt, name, be, (int)(n * sizeof(be[0])));
}

/* reg = <addr-hi addr-lo size-hi size-lo> with 2/2 cells. */
static void w_reg64(struct fdtw *w, uint64_t addr, uint64_t size)
{
	uint32_t c[4] = { (uint32_t)(addr >> 32), (uint32_t)addr, (uint32_t)(size >> 32), (uint32_t)size };

	w_cells(w, "reg", c, 4);
}

static void add_isa(struct fdtw *w, const struct machine_config *cfg)
{
	char name[32];

	w_begin(w, "isa");
	w_str(w, "compatible", "nestvm,ioport-bus");
	w_u32(w, "#address-cells", 1);
	w_u32(w, "#size-cells", 1);

	snprintf(name, sizeof(name), "debug-exit@%x", BOARD_DEBUG_EXIT_PORT);
	w_begin(w, name);
	w_str(w, "compatible", "nestvm,debug-exit");
	w_cells(w, "reg", (uint32_t[]){ BOARD_DEBUG_EXIT_PORT, 4 }, 2);
	w_end(w);

	snprintf(name, sizeof(name), "serial@%x", BOARD_COM1_PORT);
	w_begin(w, name);
	w_str(w, "compatible", "ns16550a");
	w_cells(w, "reg", (uint32_t[]){ BOARD_COM1_PORT, 8 }, 2);
	w_u32(w, "interrupts", BOARD_COM1_GSI);
	w_u32(w, "clock-frequency", 1843200);
	w_end(w);

	snprintf(name, sizeof(name), "fw-cfg@%x", BOARD_FWCFG_PORT);
	w_begin(w, name);
	w_str(w, "compatible", "qemu,fw-cfg-ioport");
	w_cells(w, "reg", (uint32_t[]){ BOARD_FWCFG_PORT, 2 }, 2);
	w_end(w);

	snprintf(name, sizeof(name), "rtc@%x", BOARD_RTC_PORT);
	w_begin(w, name);
	w_str(w, "compatible", "motorola,mc146818");
	w_cells(w, "reg", (uint32_t[]){ BOARD_RTC_PORT, 2 }, 2);
	w_u32(w, "interrupts", BOARD_RTC_GSI);
	w_end(w);

	snprintf(name, sizeof(name), "acpi-pm@%x", BOARD_PM_PORT);
	w_begin(w, name);
	w_str(w, "compatible", "nestvm,acpi-pm");
	w_cells(w, "reg", (uint32_t[]){ BOARD_PM_PORT, 16 }, 2);
	w_u32(w, "interrupts", BOARD_SCI_GSI);
	w_end(w);

	/* QEMU's pc-testdev: reg is its first port block; 0x2000 and 0xff000000 are fixed too. */
	if (board_has_model(cfg, "pc-testdev")) {
		w_begin(w, "testdev@e0");
		w_str(w, "compatible", "qemu,pc-testdev");
		w_cells(w, "reg", (uint32_t[]){ 0xe0, 12 }, 2);
		w_end(w);
	}

	w_end(w);
}

static void add_pci(struct fdtw *w, const struct machine_config *cfg)
{
	char name[64];

	snprintf(name, sizeof(name), "pci@%llx", (unsigned long long)BOARD_ECAM_BASE);
	w_begin(w, name);
	w_str(w, "compatible", "pci-host-ecam-generic");
	w_str(w, "device_type", "pci");
	w_reg64(w, BOARD_ECAM_BASE, BOARD_ECAM_SIZE);
	w_cells(w, "bus-range", (uint32_t[]){ 0, BOARD_PCI_LAST_BUS }, 2);
	w_u32(w, "#address-cells", 3);
	w_u32(w, "#size-cells", 2);
	w_cells(w, "ranges",
		(uint32_t[]){ 0x01000000, 0, BOARD_IO_WIN_BASE, 0, BOARD_IO_WIN_BASE, 0, BOARD_IO_WIN_SIZE,
			      0x02000000, 0, (uint32_t)BOARD_MMIO_BASE, 0, (uint32_t)BOARD_MMIO_BASE, 0,
			      (uint32_t)BOARD_MMIO_SIZE },
		14);
	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		const struct device_spec *d = &cfg->devices[i];
		const struct board_model *bm = board_find_model(d->model);
		char compat[32];

		if (!bm || !bm->pci)
			continue;
		snprintf(name, sizeof(name), "%s@%x,0", d->model, d->slot);
		snprintf(compat, sizeof(compat), "pci%04x,%04x", bm->vendor, bm->device);
		w_begin(w, name);
		w_cells(w, "reg", (uint32_t[]){ (uint32_t)d->slot << 11, 0, 0, 0, 0 }, 5);
		w_str(w, "compatible", compat);
		w_str(w, "nestvm,model", d->model);
		if (bm->intx)
			w_u32(w, "nestvm,gsi", board_intx_gsi((unsigned int)d->slot, 1));
		w_end(w);
	}
	w_end(w);
}

static void add_viommu(struct fdtw *w, const struct board_vtd *vtd)
{
	char name[64];

	snprintf(name, sizeof(name), "iommu@%llx", (unsigned long long)BOARD_VTD_BASE);
	w_begin(w, name);
	w_str(w, "compatible", "intel,vtd");
	w_reg64(w, BOARD_VTD_BASE, 0x1000);
	w_str(w, "nestvm,mode", vtd->mode);
	w_u32(w, "nestvm,haw", vtd->haw);
	/* Every PCI device on bus 0 sits behind the unit. */
	w_empty(w, "nestvm,include-pci-all");
	/* Interrupt remapping: DMAR INTR_REMAP set, X2APIC_OPT_OUT left clear. */
	if (vtd->intr_remap)
		w_empty(w, "nestvm,intr-remap");
	w_end(w);
}

int board_build_fdt(struct machine *m, char *err, size_t errlen)
{
	const struct machine_config *cfg = m->cfg;
	struct fdtw w = { .fdt = calloc(1, FDT_SIZE) };
	uint32_t memreg[4 * GMEM_MAX_REGIONS];
	char name[64];

	if (!w.fdt)
		return -ENOMEM;
	w.err = fdt_create(w.fdt, FDT_SIZE);
	if (!w.err)
		w.err = fdt_finish_reservemap(w.fdt);
	w_begin(&w, "");
	w_u32(&w, "#address-cells", 2);
	w_u32(&w, "#size-cells", 2);
	w_str(&w, "compatible", "nestvm,pc");
	w_str(&w, "model", "nestvm");

	w_begin(&w, "chosen");
	w_str(&w, "bootargs", cfg->cmdline ? cfg->cmdline : "");
	w_end(&w);

	w_begin(&w, "memory@0");
	w_str(&w, "device_type", "memory");
	for (unsigned int i = 0; i < m->gmem.nr_regions; i++) {
		memreg[4 * i] = (uint32_t)(m->gmem.regions[i].gpa >> 32);
		memreg[4 * i + 1] = (uint32_t)m->gmem.regions[i].gpa;
		memreg[4 * i + 2] = (uint32_t)(m->gmem.regions[i].size >> 32);
		memreg[4 * i + 3] = (uint32_t)m->gmem.regions[i].size;
	}
	w_cells(&w, "reg", memreg, 4 * m->gmem.nr_regions);
	w_end(&w);

	w_begin(&w, "cpus");
	w_u32(&w, "#address-cells", 1);
	w_u32(&w, "#size-cells", 0);
	for (unsigned int i = 0; i < cfg->nr_cpus; i++) {
		snprintf(name, sizeof(name), "cpu@%x", i);
		w_begin(&w, name);
		w_str(&w, "device_type", "cpu");
		w_u32(&w, "reg", i);
		w_end(&w);
	}
	w_end(&w);

	snprintf(name, sizeof(name), "interrupt-controller@%llx", (unsigned long long)BOARD_IOAPIC_BASE);
	w_begin(&w, name);
	w_str(&w, "compatible", "intel,ioapic");
	w_reg64(&w, BOARD_IOAPIC_BASE, 0x1000);
	w_empty(&w, "interrupt-controller");
	w_u32(&w, "#interrupt-cells", 1);
	w_u32(&w, "nestvm,ioapic-id", 0);
	w_u32(&w, "nestvm,gsi-base", 0);
	w_u32(&w, "nestvm,nr-pins", 24);
	w_end(&w);

	snprintf(name, sizeof(name), "interrupt-controller@%llx", (unsigned long long)BOARD_LAPIC_BASE);
	w_begin(&w, name);
	w_str(&w, "compatible", "intel,lapic");
	w_reg64(&w, BOARD_LAPIC_BASE, 0x1000);
	w_end(&w);

	add_pci(&w, cfg);
	add_isa(&w, cfg);
	if (m->vtd.present)
		add_viommu(&w, &m->vtd);

	w_end(&w);
	if (!w.err)
		w.err = fdt_finish(w.fdt);
	if (w.err) {
		snprintf(err, errlen, "building the device tree failed: %s", fdt_strerror(w.err));
		free(w.fdt);
		return -ENOSPC;
	}
	m->fdt = w.fdt;
	return 0;
}
