/* SPDX-License-Identifier: MIT */
/* Reads the board device tree (docs/board.md) into the struct acpi_board the table writers use. */
#include <errno.h>
#include <string.h>

#include <libfdt.h>

#include "acpi-internal.h"
#include "common/bits.h"

/* Reads a 1- or 2-cell big-endian number. */
static int read_cells(const fdt32_t *p, int cells, uint64_t *ret_val)
{
	if (cells == 1) {
		*ret_val = fdt32_to_cpu(p[0]);
		return 0;
	}
	if (cells == 2) {
		*ret_val = ((uint64_t)fdt32_to_cpu(p[0]) << 32) | fdt32_to_cpu(p[1]);
		return 0;
	}
	if (cells == 0) {
		*ret_val = 0;
		return 0;
	}
	return -EINVAL;
}

static int prop_u32(const void *fdt, int node, const char *name, uint32_t *ret_val)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	if (!p || len != 4)
		return -EINVAL;
	*ret_val = fdt32_to_cpu(p[0]);
	return 0;
}

static bool prop_exists(const void *fdt, int node, const char *name)
{
	return fdt_getprop(fdt, node, name, NULL) != NULL;
}

/* Entry idx of the node's reg, using the parent's #address-cells / #size-cells. */
static int node_reg(const void *fdt, int node, int idx, uint64_t *ret_addr, uint64_t *ret_size)
{
	int parent = fdt_parent_offset(fdt, node);
	int ac, sc, len;
	const fdt32_t *p;
	uint64_t addr, size;

	if (parent < 0)
		return -EINVAL;
	ac = fdt_address_cells(fdt, parent);
	sc = fdt_size_cells(fdt, parent);
	if (ac < 1 || ac > 2 || sc < 0 || sc > 2)
		return -EINVAL;
	p = fdt_getprop(fdt, node, "reg", &len);
	if (!p || len < 0 || (size_t)len < (size_t)(idx + 1) * (size_t)(ac + sc) * 4)
		return -EINVAL;
	p += idx * (ac + sc);
	if (read_cells(p, ac, &addr) || read_cells(p + ac, sc, &size))
		return -EINVAL;
	*ret_addr = addr;
	*ret_size = size;
	return 0;
}

static int find_compat(const void *fdt, const char *compat)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, compat);

	return node < 0 ? -EINVAL : node;
}

static int parse_cpus(const void *fdt, struct acpi_board *b)
{
	int cpus = fdt_path_offset(fdt, "/cpus");
	unsigned int visited = 0;
	int node;

	if (cpus < 0 || fdt_address_cells(fdt, cpus) != 1)
		return -EINVAL;
	fdt_for_each_subnode(node, fdt, cpus) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		uint32_t apic_id;

		if (++visited > ACPI_MAX_NODES)
			return -ENOSPC;
		if (!type || strcmp(type, "cpu") != 0)
			continue;
		if (prop_u32(fdt, node, "reg", &apic_id))
			return -EINVAL;
		if (b->nr_cpus == ACPI_MAX_CPUS)
			return -ENOSPC;
		/* Bounded by ACPI_MAX_CPUS: a duplicate APIC ID would make an invalid MADT. */
		for (uint32_t i = 0; i < b->nr_cpus; i++)
			if (b->apic_ids[i] == apic_id || apic_id == 0xffffffffu)
				return -EINVAL;
		b->apic_ids[b->nr_cpus++] = apic_id;
	}
	return b->nr_cpus ? 0 : -EINVAL;
}

static int parse_ioapic(const void *fdt, struct acpi_board *b)
{
	int node = find_compat(fdt, "intel,ioapic");
	uint64_t addr, size;
	uint32_t id, base, pins;

	if (node < 0 || node_reg(fdt, node, 0, &addr, &size))
		return -EINVAL;
	if (prop_u32(fdt, node, "nestvm,ioapic-id", &id) ||
	    prop_u32(fdt, node, "nestvm,gsi-base", &base) ||
	    prop_u32(fdt, node, "nestvm,nr-pins", &pins))
		return -EINVAL;
	/* MADT fields are 8/32 bits; _PRT needs GSIs 16..23 on this IOAPIC. */
	if (id > 0xff || addr > 0xffffffffULL || base > 16 || base + pins < 24 || pins > 240)
		return -EINVAL;
	b->ioapic_id = (uint8_t)id;
	b->ioapic_addr = (uint32_t)addr;
	b->ioapic_gsi_base = base;
	b->ioapic_pins = pins;

	b->lapic_addr = 0xfee00000ULL;
	node = fdt_node_offset_by_compatible(fdt, -1, "intel,lapic");
	if (node >= 0 && (node_reg(fdt, node, 0, &addr, &size) || addr > 0xffffffffULL))
		return -EINVAL;
	if (node >= 0)
		b->lapic_addr = addr;
	return 0;
}

static int parse_ranges(const void *fdt, int pci, struct acpi_board *b)
{
	int pac = fdt_address_cells(fdt, fdt_parent_offset(fdt, pci));
	int sc = fdt_size_cells(fdt, pci);
	int len, entry;
	const fdt32_t *p = fdt_getprop(fdt, pci, "ranges", &len);

	if (!p || fdt_address_cells(fdt, pci) != 3 || pac < 1 || pac > 2 || sc < 1 || sc > 2)
		return -EINVAL;
	entry = (3 + pac + sc) * 4;
	if (len < 0 || len % entry != 0 || len / entry > ACPI_MAX_WINDOWS)
		return -EINVAL;
	for (int i = 0; i < len / entry; i++, p += entry / 4) {
		uint32_t hi = fdt32_to_cpu(p[0]);
		struct acpi_window w = { .prefetch = (hi >> 30) & 1 };
		uint64_t lim;

		w.pci_addr = ((uint64_t)fdt32_to_cpu(p[1]) << 32) | fdt32_to_cpu(p[2]);
		if (read_cells(p + 3, pac, &w.cpu_addr) || read_cells(p + 3 + pac, sc, &w.size))
			return -EINVAL;
		switch ((hi >> 24) & 3) {
		case 1:
			w.kind = ACPI_WIN_IO;
			lim = 0xffffffffULL;
			break;
		case 2:
			w.kind = ACPI_WIN_MEM32;
			lim = 0xffffffffULL;
			break;
		case 3:
			w.kind = ACPI_WIN_MEM64;
			lim = ~0ULL;
			break;
		default:
			return -EINVAL; /* config space has no place in ranges */
		}
		if (w.size == 0)
			continue;
		if (range_overflows(w.pci_addr, w.size) || range_overflows(w.cpu_addr, w.size) ||
		    w.pci_addr + w.size - 1 > lim)
			return -EINVAL;
		b->windows[b->nr_windows++] = w;
	}
	return 0;
}

static int parse_pci(const void *fdt, struct acpi_board *b)
{
	int node = find_compat(fdt, "pci-host-ecam-generic");
	uint64_t addr, size, need;
	const fdt32_t *br;
	int len;
	uint32_t start, end;

	if (node < 0 || node_reg(fdt, node, 0, &addr, &size))
		return -EINVAL;
	br = fdt_getprop(fdt, node, "bus-range", &len);
	if (!br || len != 8)
		return -EINVAL;
	start = fdt32_to_cpu(br[0]);
	end = fdt32_to_cpu(br[1]);
	if (start > end || end > 255)
		return -EINVAL;
	/* 1 MiB of ECAM per bus; reg starts at bus `start`, MCFG's base is bus 0's. */
	need = (uint64_t)(end - start + 1) << 20;
	if (size < need || range_overflows(addr, size) || addr < ((uint64_t)start << 20) ||
	    (addr & ((1ULL << 20) - 1)))
		return -EINVAL;
	b->ecam_base = addr - ((uint64_t)start << 20);
	b->bus_start = (uint8_t)start;
	b->bus_end = (uint8_t)end;
	return parse_ranges(fdt, node, b);
}

static int parse_isa(const void *fdt, struct acpi_board *b)
{
	int node = find_compat(fdt, "nestvm,acpi-pm");
	uint64_t addr, size;
	uint32_t irq;

	if (node < 0 || node_reg(fdt, node, 0, &addr, &size) || prop_u32(fdt, node, "interrupts", &irq))
		return -EINVAL;
	/* PM1a_EVT (4) + PM1a_CNT (2, at +4) + PM_TMR (4, at +8) must fit in the block. */
	if (size < 12 || addr + size > 0x10000 || irq > 0xff)
		return -EINVAL;
	b->pm_base = (uint16_t)addr;
	b->sci_irq = (uint8_t)irq;

	/* Extra UARTs past ACPI_MAX_SERIALS are not described (bounded walk). */
	node = -1;
	while (b->nr_serials < ACPI_MAX_SERIALS) {
		struct acpi_serial *s = &b->serials[b->nr_serials];

		node = fdt_node_offset_by_compatible(fdt, node, "ns16550a");
		if (node < 0)
			break;
		if (node_reg(fdt, node, 0, &addr, &size) || prop_u32(fdt, node, "interrupts", &irq))
			return -EINVAL;
		if (size == 0 || size > 0xff || addr + size > 0x10000)
			return -EINVAL;
		s->port = (uint16_t)addr;
		s->len = (uint16_t)size;
		s->gsi = irq;
		b->nr_serials++;
	}
	b->has_8042 = fdt_node_offset_by_compatible(fdt, -1, "intel,8042") >= 0;
	b->has_rtc = fdt_node_offset_by_compatible(fdt, -1, "motorola,mc146818") >= 0;
	return 0;
}

static int parse_iommu(const void *fdt, struct acpi_board *b)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "intel,vtd");
	uint64_t addr, size;
	uint32_t haw;
	const fdt32_t *sc;
	int len;

	if (node < 0)
		return 0;
	if (node_reg(fdt, node, 0, &addr, &size) || (addr & 0xfff) ||
	    prop_u32(fdt, node, "nestvm,haw", &haw) || haw < 32 || haw > 64)
		return -EINVAL;
	b->has_iommu = true;
	b->iommu_base = addr;
	b->iommu_haw = (uint8_t)haw;
	b->iommu_include_all = prop_exists(fdt, node, "nestvm,include-pci-all");
	b->iommu_intr_remap = prop_exists(fdt, node, "nestvm,intr-remap");
	b->iommu_x2apic_opt_out = prop_exists(fdt, node, "nestvm,x2apic-opt-out");
	sc = fdt_getprop(fdt, node, "nestvm,scope", &len);
	/* Exactly one of the two forms (an INCLUDE_PCI_ALL unit lists no endpoints). */
	if (b->iommu_include_all == (sc != NULL))
		return -EINVAL;
	if (!sc)
		return 0;
	if (len <= 0 || len % 4 || len / 4 > ACPI_MAX_SCOPES)
		return -EINVAL;
	for (int i = 0; i < len / 4; i++) {
		uint32_t bdf = fdt32_to_cpu(sc[i]);

		if (bdf > 0xffff)
			return -EINVAL;
		b->scopes[b->nr_scopes++] = (uint16_t)bdf;
	}
	return 0;
}

int acpi_parse_fdt(const void *fdt, struct acpi_board *b)
{
	int ret;

	if (!fdt || fdt_check_header(fdt) != 0 || fdt_check_full(fdt, fdt_totalsize(fdt)) != 0)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	ret = parse_cpus(fdt, b);
	if (!ret)
		ret = parse_ioapic(fdt, b);
	if (!ret)
		ret = parse_pci(fdt, b);
	if (!ret)
		ret = parse_isa(fdt, b);
	if (!ret)
		ret = parse_iommu(fdt, b);
	return ret;
}
