/* SPDX-License-Identifier: MIT */
/* Board discovery: the nestvm DTB from fw_cfg, or (QEMU) ACPI tables plus q35 constants. */
#include <libfdt.h>

#include "guest.h"

#define DTB_MAX (64 * 1024)
#define FWCFG_NB_CPUS 0x0005
#define Q35_ECAM_BASE 0xb0000000ULL
#define Q35_IOAPIC_BASE 0xfec00000ULL
#define MB_INFO_MEM (1u << 0)
#define MB_INFO_MMAP (1u << 6)
#define MB_MMAP_RAM 1
/* Bounds on firmware-provided lists. */
#define MB_MAX_MMAP_BYTES 4096
#define MADT_MAX_BYTES 65536

struct board board;
static uint8_t dtb_buf[DTB_MAX] __attribute__((aligned(8)));

static void add_mem(uint64_t base, uint64_t size)
{
	if (board.nr_mem < sizeof(board.mem) / sizeof(board.mem[0]) && size)
		board.mem[board.nr_mem++] = (struct mem_region){ base, size };
}

static void parse_multiboot(const uint32_t *mbi)
{
	uint32_t flags = mbi[0];

	if (flags & MB_INFO_MMAP) {
		uint32_t len = mbi[11], addr = mbi[12], off = 0;

		if (len > MB_MAX_MMAP_BYTES)
			len = MB_MAX_MMAP_BYTES;
		while (off + 24 <= len) {
			const uint8_t *e = (const uint8_t *)(uintptr_t)(addr + off);
			uint32_t size = acpi_get32(e);

			if (acpi_get32(e + 20) == MB_MMAP_RAM)
				add_mem(acpi_get64(e + 4), acpi_get64(e + 12));
			off += size + 4;
		}
	} else if (flags & MB_INFO_MEM) {
		add_mem(0, (uint64_t)mbi[1] * 1024);
		add_mem(1 << 20, (uint64_t)mbi[2] * 1024);
	}
}

static uint64_t fdt_cells(const fdt32_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 32) | fdt32_to_cpu(p[i]);
	return v;
}

/* First (addr, size) of a node's reg under a parent with 2/2 cells. */
static uint64_t fdt_reg_addr(const void *fdt, int node)
{
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	return reg && len >= 8 ? fdt_cells(reg, 2) : 0;
}

static uint32_t fdt_u32(const void *fdt, int node, const char *name, uint32_t dflt)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	return p && len >= 4 ? fdt32_to_cpu(p[0]) : dflt;
}

static int parse_dtb(const void *fdt)
{
	int node, len;
	const fdt32_t *p;

	node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic");
	if (node >= 0) {
		board.ecam_base = fdt_reg_addr(fdt, node);
		p = fdt_getprop(fdt, node, "bus-range", &len);
		board.ecam_bus_end = p && len >= 8 ? (uint8_t)fdt32_to_cpu(p[1]) : 255;
	}
	node = fdt_node_offset_by_compatible(fdt, -1, "intel,ioapic");
	if (node >= 0) {
		board.ioapic_base = fdt_reg_addr(fdt, node);
		board.ioapic_pins = fdt_u32(fdt, node, "nestvm,nr-pins", 24);
	}
	node = fdt_node_offset_by_compatible(fdt, -1, "nestvm,acpi-pm");
	if (node >= 0) {
		p = fdt_getprop(fdt, node, "reg", &len);
		if (p && len >= 4)
			board.pm_timer_port = (uint16_t)(fdt32_to_cpu(p[0]) + 8);
	}
	node = fdt_path_offset(fdt, "/cpus");
	if (node >= 0) {
		int cpu;

		fdt_for_each_subnode(cpu, fdt, node) {
			const char *type = fdt_getprop(fdt, cpu, "device_type", NULL);

			if (!type || strcmp(type, "cpu") || board.nr_cpus >= MAX_CPUS)
				continue;
			board.cpu_apic_ids[board.nr_cpus++] = fdt_u32(fdt, cpu, "reg", 0);
		}
	}
	fdt_for_each_subnode(node, fdt, 0) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);

		if (!type || strcmp(type, "memory"))
			continue;
		p = fdt_getprop(fdt, node, "reg", &len);
		for (int i = 0; p && i + 16 <= len; i += 16)
			add_mem(fdt_cells(p + i / 4, 2), fdt_cells(p + i / 4 + 2, 2));
	}
	return board.ecam_base && board.ioapic_base && board.nr_cpus ? 0 : -22;
}

static void parse_acpi(void)
{
	const uint8_t *madt = acpi_find_table("APIC");
	const uint8_t *mcfg = acpi_find_table("MCFG");
	const uint8_t *fadt = acpi_find_table("FACP");

	if (madt) {
		uint32_t len = acpi_get32(madt + 4), off = 44;

		if (len > MADT_MAX_BYTES)
			len = MADT_MAX_BYTES;
		while (off + 2 <= len && madt[off + 1] >= 2) {
			const uint8_t *e = madt + off;

			if (e[0] == 0 && (acpi_get32(e + 4) & 1) && board.nr_cpus < MAX_CPUS)
				board.cpu_apic_ids[board.nr_cpus++] = e[3];
			if (e[0] == 1 && !board.ioapic_base)
				board.ioapic_base = acpi_get32(e + 4);
			off += e[1];
		}
	}
	if (mcfg && acpi_get32(mcfg + 4) >= 44 + 16) {
		board.ecam_base = acpi_get64(mcfg + 44);
		board.ecam_bus_end = mcfg[44 + 11];
	}
	if (fadt && acpi_get32(fadt + 4) >= 80)
		board.pm_timer_port = (uint16_t)acpi_get32(fadt + 76);
}

void board_init(const uint32_t *mbi)
{
	uint16_t key;
	uint32_t size;

	if (mbi)
		parse_multiboot(mbi);
	if (fwcfg_present())
		fwcfg_read(FWCFG_NB_CPUS, &board.fwcfg_nr_cpus, 2);

	if (fwcfg_find_file("etc/board.dtb", &key, &size) == 0 && size <= DTB_MAX) {
		fwcfg_read(key, dtb_buf, size);
		if (fdt_check_header(dtb_buf) == 0 && fdt_totalsize(dtb_buf) <= size) {
			board.fdt = dtb_buf;
			board.from_dtb = true;
			board.nr_mem = 0; /* the DTB is authoritative for RAM */
			if (parse_dtb(dtb_buf))
				tap_bail("etc/board.dtb lacks ECAM, IOAPIC or CPUs");
		} else {
			printf("# etc/board.dtb present but invalid (size %u)\n", size);
		}
	}
	if (!board.from_dtb) {
		printf("# no etc/board.dtb: using ACPI (RSDP/MADT/MCFG/FADT) and q35 constants\n");
		parse_acpi();
		if (!board.ecam_base)
			board.ecam_base = Q35_ECAM_BASE, board.ecam_bus_end = 255;
		if (!board.ioapic_base)
			board.ioapic_base = Q35_IOAPIC_BASE;
		if (!board.nr_cpus)
			board.cpu_apic_ids[board.nr_cpus++] = lapic_id();
		board.ioapic_pins = ((ioapic_read(1) >> 16) & 0xff) + 1;
	}
	if (board.pm_timer_port)
		pmtimer_set_port(board.pm_timer_port);
	printf("# board: %s, ECAM 0x%lx, IOAPIC 0x%lx (%u pins), %u CPUs, PM timer 0x%x\n",
	       board.from_dtb ? "nestvm DTB" : "ACPI/q35", board.ecam_base, board.ioapic_base,
	       board.ioapic_pins, board.nr_cpus, pmtimer_port());
	for (unsigned i = 0; i < board.nr_mem; i++)
		printf("# RAM 0x%lx-0x%lx\n", board.mem[i].base, board.mem[i].base + board.mem[i].size - 1);
}

int board_pci_gsi(uint16_t bdf)
{
	int pci, child;

	if (!board.fdt)
		return -1;
	pci = fdt_node_offset_by_compatible(board.fdt, -1, "pci-host-ecam-generic");
	if (pci < 0)
		return -1;
	fdt_for_each_subnode(child, board.fdt, pci) {
		int len;
		const fdt32_t *reg = fdt_getprop(board.fdt, child, "reg", &len);

		if (reg && len >= 4 && ((fdt32_to_cpu(reg[0]) >> 8) & 0xffff) == bdf)
			return (int)fdt_u32(board.fdt, child, "nestvm,gsi", (uint32_t)-1);
	}
	return -1;
}
