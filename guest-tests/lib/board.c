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
/* Not zeroed at boot (.noinit): fw_cfg fills it before anything reads it. */
static uint8_t dtb_buf[DTB_MAX] __attribute__((aligned(8), section(".noinit")));

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

/* Records one CPU: all of them are counted, the first MAX_CPUS listed by APIC ID. */
static void add_cpu(uint32_t apic_id)
{
	if (board.nr_cpus < MAX_CPUS)
		board.cpu_apic_ids[board.nr_cpus++] = apic_id;
	if (board.nr_cpus_total++ == 0 || apic_id > board.max_apic_id)
		board.max_apic_id = apic_id;
}

static uint64_t fdt_cells(const fdt32_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 32) | fdt32_to_cpu(p[i]);
	return v;
}

static uint32_t fdt_u32(const void *fdt, int node, const char *name, uint32_t dflt)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	return p && len >= 4 ? fdt32_to_cpu(p[0]) : dflt;
}

/*
 * Boot-time DTB scan: one pass over the structure block instead of a libfdt search per
 * question (each of which walks the whole tree, and guest code is slow under nested or
 * emulated virtualisation). The header was checked by fdt_check_header(); every offset here
 * is still bounded by the block sizes. Nodes are handled at their END_NODE token, when all
 * their properties are known; the first match of each compatible wins.
 */
enum { P_COMPAT, P_REG, P_TYPE, P_BUS_RANGE, P_NR_PINS, P_COUNT };
static const char *const scan_prop_names[P_COUNT] = {
	"compatible", "reg", "device_type", "bus-range", "nestvm,nr-pins",
};
#define SCAN_MAX_DEPTH 16

struct scan_node {
	const fdt32_t *prop[P_COUNT];
	uint32_t len[P_COUNT];
	bool is_cpus; /* the /cpus node */
};

static bool prop_has_string(const struct scan_node *n, int which, const char *str)
{
	const char *p = (const char *)n->prop[which];
	uint32_t len = n->len[which], sl = (uint32_t)strlen(str) + 1;

	/* A string list: NUL-separated entries; compare whole entries only. */
	for (uint32_t off = 0; p && off + sl <= len;) {
		uint32_t el = (uint32_t)strnlen(p + off, len - off) + 1;

		if (el == sl && memcmp(p + off, str, sl) == 0)
			return true;
		off += el;
	}
	return false;
}

static void scan_reg_addr(const struct scan_node *n, uint64_t *ret)
{
	if (!*ret && n->prop[P_REG] && n->len[P_REG] >= 8)
		*ret = fdt_cells(n->prop[P_REG], 2);
}

static void scan_node_done(const struct scan_node *n, int depth, bool parent_is_cpus)
{
	const fdt32_t *p;

	if (!n->prop[P_COMPAT] && !n->prop[P_TYPE])
		return;
	if (!board.ecam_base && prop_has_string(n, P_COMPAT, "pci-host-ecam-generic")) {
		scan_reg_addr(n, &board.ecam_base);
		p = n->prop[P_BUS_RANGE];
		board.ecam_bus_end = p && n->len[P_BUS_RANGE] >= 8 ? (uint8_t)fdt32_to_cpu(p[1]) : 255;
	} else if (!board.ioapic_base && prop_has_string(n, P_COMPAT, "intel,ioapic")) {
		scan_reg_addr(n, &board.ioapic_base);
		p = n->prop[P_NR_PINS];
		board.ioapic_pins = p && n->len[P_NR_PINS] >= 4 ? fdt32_to_cpu(p[0]) : 24;
	} else if (!board.pm_timer_port && prop_has_string(n, P_COMPAT, "nestvm,acpi-pm")) {
		p = n->prop[P_REG];
		if (p && n->len[P_REG] >= 4)
			board.pm_timer_port = (uint16_t)(fdt32_to_cpu(p[0]) + 8);
	} else if (!board.vtd_base && prop_has_string(n, P_COMPAT, "intel,vtd")) {
		scan_reg_addr(n, &board.vtd_base);
	} else if (depth == 2 && parent_is_cpus && prop_has_string(n, P_TYPE, "cpu")) {
		p = n->prop[P_REG];
		add_cpu(p && n->len[P_REG] >= 4 ? fdt32_to_cpu(p[0]) : 0);
	} else if (depth == 1 && prop_has_string(n, P_TYPE, "memory")) {
		p = n->prop[P_REG];
		for (uint32_t i = 0; p && i + 16 <= n->len[P_REG]; i += 16)
			add_mem(fdt_cells(p + i / 4, 2), fdt_cells(p + i / 4 + 2, 2));
	}
}

static int parse_dtb(const void *fdt)
{
	const uint8_t *base = fdt;
	const char *strs = (const char *)base + fdt_off_dt_strings(fdt);
	uint32_t str_size = fdt_size_dt_strings(fdt), off = fdt_off_dt_struct(fdt);
	uint32_t end = off + fdt_size_dt_struct(fdt);
	uint32_t name_off[P_COUNT];
	struct scan_node nodes[SCAN_MAX_DEPTH];
	int depth = -1;

	if (end < off || end > fdt_totalsize(fdt) || fdt_off_dt_strings(fdt) + str_size > fdt_totalsize(fdt))
		return -22;
	/* Resolve the wanted property names to string-block offsets once. */
	for (int i = 0; i < P_COUNT; i++)
		name_off[i] = UINT32_MAX;
	for (uint32_t so = 0; so < str_size;) {
		uint32_t sl = (uint32_t)strnlen(strs + so, str_size - so);

		for (int i = 0; i < P_COUNT; i++)
			if (name_off[i] == UINT32_MAX && strs[so] == scan_prop_names[i][0] &&
			    strcmp(strs + so, scan_prop_names[i]) == 0 && so + sl < str_size)
				name_off[i] = so;
		so += sl + 1;
	}
	/* Every token advances off by at least 4: the walk ends within (end - off) / 4 steps. */
	while (off + 4 <= end) {
		uint32_t tag = fdt32_to_cpu(*(const fdt32_t *)(base + off));

		off += 4;
		if (tag == FDT_BEGIN_NODE) {
			const char *name = (const char *)base + off;
			uint32_t nl = (uint32_t)strnlen(name, end - off);

			if (++depth >= SCAN_MAX_DEPTH)
				return -22;
			memset(&nodes[depth], 0, sizeof(nodes[depth]));
			/* "/cpus" as fdt_path_offset() matches it: "cpus" or "cpus@unit". */
			nodes[depth].is_cpus = depth == 1 && nl < end - off && nl >= 4 &&
					       memcmp(name, "cpus", 4) == 0 && (nl == 4 || name[4] == '@');
			off += (nl + 1 + 3) & ~3u;
		} else if (tag == FDT_PROP) {
			uint32_t len, nameoff;

			if (off + 8 > end || depth < 0)
				return -22;
			len = fdt32_to_cpu(*(const fdt32_t *)(base + off));
			nameoff = fdt32_to_cpu(*(const fdt32_t *)(base + off + 4));
			off += 8;
			if (len > end - off)
				return -22;
			for (int i = 0; i < P_COUNT; i++) {
				if (nameoff == name_off[i]) {
					nodes[depth].prop[i] = (const fdt32_t *)(base + off);
					nodes[depth].len[i] = len;
				}
			}
			off += (len + 3) & ~3u;
		} else if (tag == FDT_END_NODE) {
			if (depth < 0)
				return -22;
			scan_node_done(&nodes[depth], depth, depth > 0 && nodes[depth - 1].is_cpus);
			depth--;
		} else if (tag == FDT_END) {
			break;
		} else if (tag != FDT_NOP) {
			return -22;
		}
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

			if (e[0] == 0 && (acpi_get32(e + 4) & 1))
				add_cpu(e[3]);
			/* x2APIC entries (type 9, 16 bytes): 32-bit IDs, used above 254. */
			if (e[0] == 9 && e[1] >= 16 && off + 16 <= len && (acpi_get32(e + 8) & 1))
				add_cpu(acpi_get32(e + 4));
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
			add_cpu(lapic_id());
		board.ioapic_pins = ((ioapic_read(1) >> 16) & 0xff) + 1;
	}
	if (board.pm_timer_port)
		pmtimer_set_port(board.pm_timer_port);
	printf("# board: %s, ECAM 0x%lx, IOAPIC 0x%lx (%u pins), %u CPUs, PM timer 0x%x\n",
	       board.from_dtb ? "nestvm DTB" : "ACPI/q35", board.ecam_base, board.ioapic_base,
	       board.ioapic_pins, board.nr_cpus_total, pmtimer_port());
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
