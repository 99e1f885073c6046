/* SPDX-License-Identifier: MIT */
/* Multiboot v1 loader: ELF or a.out-kludge kernel, modules, info structure and memory map. */
#include <errno.h>
#include <string.h>

#include "bits.h"
#include "vmm/boot/boot-internal.h"
#include "vmm/core/gmem.h"

/* Multiboot Specification 0.6.96, 3.1: the OS image header. */
#define MB_HEADER_MAGIC 0x1badb002u
#define MB_BOOT_MAGIC 0x2badb002u /* EAX at entry, spec 3.2 */
#define MB_SEARCH_LEN 8192u       /* header must lie within the first 8 KiB, 32-bit aligned */
#define MB_HDR_FLAGS_OFF 4
#define MB_HDR_CSUM_OFF 8
#define MB_HDR_ADDR_OFF 12 /* header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr */
#define MB_HDR_AOUT_LEN 32
#define MB_HF_PAGE_ALIGN BIT_ULL(0) /* modules page aligned: we always do */
#define MB_HF_MEMINFO BIT_ULL(1)    /* mem_* and mmap: we always give them */
#define MB_HF_VIDEO BIT_ULL(2)      /* video mode wish: ignored (no display) */
#define MB_HF_AOUT BIT_ULL(16)      /* address fields valid */
#define MB_HF_REQUIRED GENMASK_ULL(15, 0)
#define MB_HF_KNOWN (MB_HF_PAGE_ALIGN | MB_HF_MEMINFO | MB_HF_VIDEO)

/* Spec 3.3: boot information structure, byte offsets and flags. */
#define MBI_FLAGS 0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE 16
#define MBI_MODS_COUNT 20
#define MBI_MODS_ADDR 24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_LOADER_NAME 64
#define MBI_SIZE 0x80 /* 116 bytes defined, rounded up */
#define MBI_F_MEM BIT_ULL(0)
#define MBI_F_CMDLINE BIT_ULL(2)
#define MBI_F_MODS BIT_ULL(3)
#define MBI_F_MMAP BIT_ULL(6)
#define MBI_F_LOADER_NAME BIT_ULL(9)
#define MB_MOD_ENTRY 16  /* mod_start, mod_end, string, reserved */
#define MB_MMAP_ENTRY 24 /* size (=20, not counting itself), base u64, length u64, type */

static int find_header(const uint8_t *img, size_t len, uint64_t *ret_off, uint32_t *ret_flags)
{
	size_t scan = len < MB_SEARCH_LEN ? len : MB_SEARCH_LEN;

	/* Bounded by 8 KiB / 4 = 2048 positions. */
	for (size_t off = 0; off + 12 <= scan; off += 4) {
		uint32_t magic = le32_load(img + off);
		uint32_t flags = le32_load(img + off + MB_HDR_FLAGS_OFF);
		uint32_t csum = le32_load(img + off + MB_HDR_CSUM_OFF);

		if (magic != MB_HEADER_MAGIC || (uint32_t)(magic + flags + csum) != 0)
			continue;
		*ret_off = off;
		*ret_flags = flags;
		return 0;
	}
	return -ENOEXEC;
}

/* Spec 3.1.3: the address fields of flags bit 16. */
static int parse_aout(const uint8_t *img, size_t len, uint64_t hoff, const struct boot_map *map,
		      const struct gmem *gm, struct boot_elf *k)
{
	const uint8_t *h = img + hoff + MB_HDR_ADDR_OFF;
	uint64_t header_addr, load_addr, load_end, bss_end;
	struct boot_elf_seg s = { 0 };

	if (hoff + MB_HDR_AOUT_LEN > len || hoff + MB_HDR_AOUT_LEN > MB_SEARCH_LEN)
		return -EINVAL;
	header_addr = le32_load(h);
	load_addr = le32_load(h + 4);
	load_end = le32_load(h + 8);
	bss_end = le32_load(h + 12);
	/* header_addr maps to the file offset of the header; load_addr to the start of text. */
	if (load_addr > header_addr || header_addr - load_addr > hoff)
		return -EINVAL;
	s.offset = hoff - (header_addr - load_addr);
	if (load_end == 0) {
		s.filesz = len - s.offset;
	} else {
		if (load_end < load_addr)
			return -EINVAL;
		s.filesz = load_end - load_addr;
	}
	if (!boot_file_range_ok(len, s.offset, s.filesz))
		return -EINVAL;
	s.memsz = s.filesz;
	if (bss_end) {
		if (bss_end < load_addr + s.filesz)
			return -EINVAL;
		s.memsz = bss_end - load_addr;
	}
	if (s.memsz == 0)
		return -EINVAL;
	s.paddr = s.vaddr = load_addr;
	k->entry = le32_load(h + 16);
	return boot_elf_add_seg(k, map, gm, &s);
}

/* Bump allocator over the boot data area [BOOT_MB_INFO_ADDR + MBI_SIZE, BOOT_DATA_END). */
struct mb_area {
	const struct gmem *gm;
	uint64_t next;
};

static int area_put(struct mb_area *a, const void *data, uint64_t len, uint64_t align,
		    uint64_t *ret_addr)
{
	uint64_t addr = ALIGN_UP(a->next, align);

	if (addr > BOOT_DATA_END || len > BOOT_DATA_END - addr)
		return -ENOMEM;
	if (boot_copy(a->gm, addr, data, len))
		return -ENOMEM;
	a->next = addr + len;
	*ret_addr = addr;
	return 0;
}

static int area_put_str(struct mb_area *a, const char *s, uint64_t *ret_addr)
{
	if (!s)
		s = "";
	return area_put(a, s, strlen(s) + 1, 1, ret_addr);
}

/*
 * The kernel's command line as QEMU's and GRUB's loaders pass it: the kernel's file name, one
 * space, then the -append text (possibly empty), so a kernel's argv[0] is its name.
 */
static int area_put_cmdline(struct mb_area *a, const char *name, const char *args,
			    uint64_t *ret_addr)
{
	uint64_t nlen, addr, tail;

	if (!name)
		return area_put_str(a, args, ret_addr);
	if (!args)
		args = "";
	nlen = strlen(name);
	/* The name and its space first, then the arguments with their NUL right behind. */
	if (area_put(a, name, nlen, 1, &addr))
		return -ENOMEM;
	if (area_put(a, " ", 1, 1, &tail) || area_put_str(a, args, &tail))
		return -ENOMEM;
	*ret_addr = addr;
	return 0;
}

/* mem_lower: KiB of RAM from 0 (at most 640); mem_upper: KiB of RAM from 1 MiB on. */
static void mem_sizes(const struct boot_map *map, uint32_t *ret_lower, uint32_t *ret_upper)
{
	uint64_t lower = 0, upper = 0;

	for (unsigned int i = 0; i < map->n; i++) {
		const struct boot_e820 *e = &map->e[i];

		if (e->type != BOOT_E820_RAM || e->len == 0)
			continue;
		if (e->addr == 0)
			lower = e->len < 640 * KiB ? e->len : 640 * KiB;
		if (e->addr <= 1 * MiB && e->len > 1 * MiB - e->addr)
			upper = e->addr + e->len - 1 * MiB;
	}
	upper /= KiB;
	*ret_lower = (uint32_t)(lower / KiB);
	*ret_upper = upper > UINT32_MAX ? UINT32_MAX : (uint32_t)upper;
}

static int write_info(const struct boot_config *cfg, const struct boot_map *map, uint64_t mods_from)
{
	static const uint64_t gdt[] = { 0, BOOT_DESC_CODE32, BOOT_DESC_DATA };
	const struct gmem *gm = cfg->gmem;
	struct mb_area a = { .gm = gm, .next = BOOT_MB_INFO_ADDR + MBI_SIZE };
	uint8_t info[MBI_SIZE] = { 0 };
	uint8_t mmap[BOOT_MAX_E820 * MB_MMAP_ENTRY];
	uint64_t addr, mods_addr, cursor = mods_from;
	uint32_t lower, upper;
	int err;

	if (!boot_map_is_ram(map, gm, BOOT_GDT_ADDR, BOOT_STACK_TOP - BOOT_GDT_ADDR))
		return -ENOMEM;
	if (boot_write_gdt(gm, gdt, ARRAY_SIZE(gdt)))
		return -ENOMEM;

	mem_sizes(map, &lower, &upper);
	le32_store(info + MBI_MEM_LOWER, lower);
	le32_store(info + MBI_MEM_UPPER, upper);

	for (unsigned int i = 0; i < map->n; i++) {
		uint8_t *m = mmap + i * MB_MMAP_ENTRY;

		le32_store(m, MB_MMAP_ENTRY - 4);
		le64_store(m + 4, map->e[i].addr);
		le64_store(m + 12, map->e[i].len);
		le32_store(m + 20, map->e[i].type);
	}
	if (map->n) {
		err = area_put(&a, mmap, (uint64_t)map->n * MB_MMAP_ENTRY, 8, &addr);
		if (err)
			return err;
		le32_store(info + MBI_MMAP_ADDR, (uint32_t)addr);
		le32_store(info + MBI_MMAP_LENGTH, map->n * MB_MMAP_ENTRY);
	}

	err = area_put_str(&a, "nestvm", &addr);
	if (err)
		return err;
	le32_store(info + MBI_LOADER_NAME, (uint32_t)addr);
	err = area_put_cmdline(&a, cfg->kernel_name, cfg->cmdline, &addr);
	if (err)
		return err;
	le32_store(info + MBI_CMDLINE, (uint32_t)addr);

	/* Module list: reserve the table first, fill each entry as its module is placed. */
	mods_addr = ALIGN_UP(a.next, 16);
	if (mods_addr > BOOT_DATA_END ||
	    (uint64_t)cfg->nr_modules * MB_MOD_ENTRY > BOOT_DATA_END - mods_addr)
		return -ENOMEM;
	a.next = mods_addr + (uint64_t)cfg->nr_modules * MB_MOD_ENTRY;
	/* Bounded by nr_modules, which the launcher gives (each one costs 16 bytes of the area). */
	for (unsigned int i = 0; i < cfg->nr_modules; i++) {
		const struct boot_module *mod = &cfg->modules[i];
		uint8_t ent[MB_MOD_ENTRY] = { 0 };
		uint64_t start, str;

		err = area_put_str(&a, mod->cmdline, &str);
		if (err)
			return err;
		/* A zero-length module still gets its own page-aligned address. */
		err = boot_map_find_low(map, gm, cursor, mod->len ? mod->len : 1, BOOT_PAGE_SIZE,
					4 * GiB, &start);
		if (err)
			return err;
		if (boot_copy(gm, start, mod->data, mod->len))
			return -ENOMEM;
		le32_store(ent, (uint32_t)start);
		le32_store(ent + 4, (uint32_t)(start + mod->len));
		le32_store(ent + 8, (uint32_t)str);
		if (boot_copy(gm, mods_addr + (uint64_t)i * MB_MOD_ENTRY, ent, sizeof(ent)))
			return -ENOMEM;
		cursor = start + (mod->len ? mod->len : 1);
	}
	le32_store(info + MBI_MODS_COUNT, cfg->nr_modules);
	le32_store(info + MBI_MODS_ADDR, (uint32_t)mods_addr);

	le32_store(info + MBI_FLAGS, (uint32_t)(MBI_F_MEM | MBI_F_CMDLINE | MBI_F_MODS | MBI_F_MMAP |
						MBI_F_LOADER_NAME));
	if (boot_copy(gm, BOOT_MB_INFO_ADDR, info, sizeof(info)))
		return -ENOMEM;
	return 0;
}

int boot_load_multiboot(const struct boot_config *cfg, struct boot_entry *ret)
{
	const uint8_t *img = cfg->kernel;
	struct boot_elf k;
	struct boot_map map;
	uint64_t hoff;
	uint32_t flags;
	int err;

	if (!img)
		return -ENOEXEC;
	err = find_header(img, cfg->kernel_len, &hoff, &flags);
	if (err)
		return err;
	if ((flags & MB_HF_REQUIRED) & ~MB_HF_KNOWN)
		return -EINVAL;
	if (cfg->nr_modules && !cfg->modules)
		return -EINVAL;
	err = boot_map_init(cfg, &map);
	if (err)
		return err;
	memset(&k, 0, sizeof(k));
	k.img = img;
	if (flags & MB_HF_AOUT)
		err = parse_aout(img, cfg->kernel_len, hoff, &map, cfg->gmem, &k);
	else
		err = boot_elf_parse(img, cfg->kernel_len, &map, cfg->gmem, &k);
	if (err)
		return err;
	err = boot_elf_load(cfg->gmem, &k);
	if (err)
		return err;
	err = write_info(cfg, &map, k.end > BOOT_STACK_TOP ? k.end : BOOT_STACK_TOP);
	if (err)
		return err;

	*ret = (struct boot_entry){
		.mode = BOOT_PROT32,
		.rip = k.entry,
		.rsp = BOOT_STACK_TOP,
		.rax = MB_BOOT_MAGIC,
		.rbx = BOOT_MB_INFO_ADDR,
		.gdt_base = BOOT_GDT_ADDR,
		.gdt_limit = 3 * 8 - 1,
		.cs = BOOT_MB_CS,
		.ds = BOOT_MB_DS,
	};
	return 0;
}
