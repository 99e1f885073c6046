/* SPDX-License-Identifier: MIT */
/*
 * Linux loaders for the 64-bit boot protocol (bzImage, and an uncompressed vmlinux ELF): zero
 * page, kernel, initrd, page tables.
 */
#include <errno.h>
#include <string.h>

#include "bits.h"
#include "vmm/boot/boot-internal.h"
#include "vmm/core/gmem.h"

/*
 * Offsets in struct boot_params (the zero page) and its embedded setup header, from Linux
 * Documentation/arch/x86/boot.rst and zero-page.rst.
 */
#define BP_SIZE 4096
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR 0x1f1        /* setup header start, same offset in the file */
#define BP_HDR_LIMIT 0x290  /* edd_mbr_sig_buffer: the header never extends past this */
#define BP_E820_TABLE 0x2d0 /* 20-byte entries: addr u64, size u64, type u32 */
#define BP_E820_ENTRY 20
#define SH_SETUP_SECTS 0x1f1
#define SH_BOOT_FLAG 0x1fe
#define SH_JUMP_OFF 0x201 /* header ends at 0x202 + this byte */
#define SH_HEADER 0x202
#define SH_VERSION 0x206
#define SH_TYPE_OF_LOADER 0x210
#define SH_LOADFLAGS 0x211
#define SH_CODE32_START 0x214
#define SH_RAMDISK_IMAGE 0x218
#define SH_RAMDISK_SIZE 0x21c
#define SH_CMD_LINE_PTR 0x228
#define SH_INITRD_ADDR_MAX 0x22c
#define SH_KERNEL_ALIGNMENT 0x230
#define SH_RELOCATABLE 0x234
#define SH_XLOADFLAGS 0x236
#define SH_CMDLINE_SIZE 0x238
#define SH_SETUP_DATA 0x250
#define SH_PREF_ADDRESS 0x258
#define SH_INIT_SIZE 0x260
#define SH_MIN_END 0x264 /* protocol 2.12 headers reach at least past init_size */

#define BZ_HDRS_MAGIC 0x53726448u /* "HdrS" */
#define BZ_BOOT_FLAG 0xaa55
#define BZ_MIN_VERSION 0x020c    /* xloadflags (2.12) announces the 64-bit entry */
#define BZ_LOADED_HIGH BIT_ULL(0) /* loadflags: protected-mode code at 0x100000 */
#define BZ_XLF_KERNEL_64 BIT_ULL(0)
#define BZ_LOADER_UNDEFINED 0xff /* type_of_loader: no assigned ID */
#define BZ_ENTRY64_OFF 0x200     /* 64-bit entry = load address + 0x200 */

/* What the image header says, read once and validated (style rule 20). */
struct bz_header {
	uint64_t hdr_end;      /* end of the setup header in the file and zero page */
	uint64_t setup_len;    /* real-mode part: (setup_sects + 1) * 512 */
	uint64_t pm_len;       /* protected-mode kernel bytes in the file */
	uint64_t init_size;    /* memory the kernel needs from its load address */
	uint64_t align;        /* kernel_alignment */
	uint64_t pref;         /* pref_address */
	uint64_t initrd_max;   /* highest address the initrd may occupy */
	uint64_t cmdline_size; /* longest command line, without the NUL */
	bool relocatable;
};

static int parse_header(const uint8_t *img, size_t len, struct bz_header *ret_h)
{
	struct bz_header h;
	uint64_t sects, version;

	if (len < SH_VERSION + 2 || le32_load(img + SH_HEADER) != BZ_HDRS_MAGIC)
		return -ENOEXEC;
	version = le16_load(img + SH_VERSION);
	if (version < BZ_MIN_VERSION || len < SH_MIN_END)
		return -EINVAL;
	if (le16_load(img + SH_BOOT_FLAG) != BZ_BOOT_FLAG)
		return -EINVAL;
	h.hdr_end = SH_HEADER + (uint64_t)img[SH_JUMP_OFF];
	if (h.hdr_end < SH_MIN_END || h.hdr_end > len)
		return -EINVAL;
	if (h.hdr_end > BP_HDR_LIMIT)
		h.hdr_end = BP_HDR_LIMIT;
	if (!(img[SH_LOADFLAGS] & BZ_LOADED_HIGH))
		return -EINVAL;
	if (!(le16_load(img + SH_XLOADFLAGS) & BZ_XLF_KERNEL_64))
		return -EINVAL;
	sects = img[SH_SETUP_SECTS] ? img[SH_SETUP_SECTS] : 4;
	h.setup_len = (sects + 1) * 512;
	if (h.setup_len >= len)
		return -EINVAL;
	h.pm_len = len - h.setup_len;
	h.align = le32_load(img + SH_KERNEL_ALIGNMENT);
	if (h.align == 0 || (h.align & (h.align - 1)))
		return -EINVAL;
	h.pref = le64_load(img + SH_PREF_ADDRESS);
	h.init_size = le32_load(img + SH_INIT_SIZE);
	if (h.init_size < h.pm_len)
		h.init_size = h.pm_len;
	h.initrd_max = le32_load(img + SH_INITRD_ADDR_MAX);
	h.cmdline_size = le32_load(img + SH_CMDLINE_SIZE);
	h.relocatable = img[SH_RELOCATABLE] != 0;
	*ret_h = h;
	return 0;
}

/* pref_address if it is usable RAM at or above 1 MiB, else the lowest aligned fit if allowed. */
static int place_kernel(const struct bz_header *h, const struct boot_map *map,
			const struct gmem *gm, uint64_t *ret_addr)
{
	if (h->pref >= 1 * MiB && h->pref < 4 * GiB && h->init_size <= 4 * GiB - h->pref &&
	    boot_map_is_ram(map, gm, h->pref, h->init_size)) {
		*ret_addr = h->pref;
		return 0;
	}
	if (!h->relocatable)
		return -EFAULT;
	return boot_map_find_low(map, gm, 1 * MiB, h->init_size, h->align, 4 * GiB, ret_addr);
}

/*
 * Highest page-aligned [addr, addr+len) in RAM, ending at or below limit, at or above 1 MiB and
 * clear of [avoid, avoid_end). Bounded by the map size.
 */
static int place_initrd(const struct boot_map *map, const struct gmem *gm, uint64_t len,
			uint64_t limit, uint64_t avoid, uint64_t avoid_end, uint64_t *ret_addr)
{
	bool found = false;
	uint64_t best = 0;

	for (unsigned int i = 0; i < map->n; i++) {
		const struct boot_e820 *e = &map->e[i];
		uint64_t lo = e->addr > 1 * MiB ? e->addr : 1 * MiB;
		uint64_t top = e->addr + e->len;
		uint64_t cand;

		if (e->type != BOOT_E820_RAM || e->len == 0)
			continue;
		if (top > limit)
			top = limit;
		if (top < len)
			continue;
		cand = (top - len) & ~(BOOT_PAGE_SIZE - 1);
		if (cand < avoid_end && avoid < cand + len) {
			/* Collides with the kernel: try just below it. */
			if (avoid < len)
				continue;
			cand = (avoid - len) & ~(BOOT_PAGE_SIZE - 1);
		}
		if (cand < lo || !gmem_is_ram(gm, cand, len))
			continue;
		if (!found || cand > best) {
			best = cand;
			found = true;
		}
	}
	if (!found)
		return -ENOMEM;
	*ret_addr = best;
	return 0;
}

/* Concatenates the modules, each padded with zeros to 4 bytes (cpio archives stay aligned). */
static int load_initrd(const struct boot_config *cfg, uint64_t addr)
{
	static const uint8_t pad[4];

	for (unsigned int i = 0; i < cfg->nr_modules; i++) {
		const struct boot_module *m = &cfg->modules[i];
		uint64_t padded = ALIGN_UP((uint64_t)m->len, 4);

		if (boot_copy(cfg->gmem, addr, m->data, m->len) ||
		    boot_copy(cfg->gmem, addr + m->len, pad, padded - m->len))
			return -ENOMEM;
		addr += padded;
	}
	return 0;
}

static void fill_zero_page(uint8_t *bp, const uint8_t *img, const struct bz_header *h,
			   const struct boot_map *map, uint64_t kernel, uint64_t initrd,
			   uint64_t initrd_len)
{
	memset(bp, 0, BP_SIZE);
	memcpy(bp + BP_HDR, img + BP_HDR, h->hdr_end - BP_HDR);
	bp[SH_TYPE_OF_LOADER] = BZ_LOADER_UNDEFINED;
	/* No setup_data list: whatever the file has there is not a guest address. */
	le64_store(bp + SH_SETUP_DATA, 0);
	le32_store(bp + SH_CODE32_START, (uint32_t)kernel);
	le32_store(bp + SH_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE_ADDR);
	le32_store(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(BOOT_CMDLINE_ADDR >> 32));
	le32_store(bp + SH_RAMDISK_IMAGE, (uint32_t)initrd);
	le32_store(bp + SH_RAMDISK_SIZE, (uint32_t)initrd_len);
	le32_store(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd >> 32));
	le32_store(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_len >> 32));
	bp[BP_E820_ENTRIES] = (uint8_t)map->n;
	for (unsigned int i = 0; i < map->n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + i * BP_E820_ENTRY;

		le64_store(e, map->e[i].addr);
		le64_store(e + 8, map->e[i].len);
		le32_store(e + 16, map->e[i].type);
	}
}

_Static_assert(BP_E820_TABLE + BOOT_MAX_E820 * BP_E820_ENTRY <= BP_SIZE, "e820 table fits");

/* Where the kernel goes and how its bytes get there: a bzImage's protected-mode part, or ELF. */
struct linux_image {
	const uint8_t *hdr_img; /* setup header source, BP_HDR .. h.hdr_end */
	struct bz_header h;
	uint64_t kernel, kernel_end; /* [kernel, kernel_end): kept clear of the initrd */
	uint64_t entry;              /* 64-bit entry, guest-physical */
	const struct boot_elf *elf;  /* vmlinux: its segments; NULL: copy the bzImage */
};

/* Command line, initrd, page tables, GDT, zero page and kernel bytes, then the entry state. */
static int load_linux(const struct boot_config *cfg, const struct boot_map *map,
		      const struct linux_image *li, struct boot_entry *ret)
{
	static const uint64_t gdt[] = { 0, BOOT_DESC_CODE32, BOOT_DESC_CODE64, BOOT_DESC_DATA };
	const struct gmem *gm = cfg->gmem;
	const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
	uint64_t cmdline_len = strlen(cmdline), initrd_len = 0, initrd = 0;
	uint8_t bp[BP_SIZE];
	int err;

	if (cmdline_len > li->h.cmdline_size || cmdline_len >= BOOT_DATA_END - BOOT_CMDLINE_ADDR)
		return -EINVAL;
	if (cfg->nr_modules && !cfg->modules)
		return -EINVAL;
	if (!boot_map_is_ram(map, gm, BOOT_GDT_ADDR, BOOT_PT_END - BOOT_GDT_ADDR))
		return -ENOMEM;
	/* Bounded by nr_modules; the sum is capped at 4 GiB so it cannot overflow. */
	for (unsigned int i = 0; i < cfg->nr_modules; i++) {
		initrd_len += ALIGN_UP((uint64_t)cfg->modules[i].len, 4);
		if (initrd_len > 4 * GiB)
			return -ENOMEM;
	}
	if (initrd_len) {
		err = place_initrd(map, gm, initrd_len, li->h.initrd_max + 1, li->kernel,
				   li->kernel_end, &initrd);
		if (err)
			return err;
	}

	if (boot_write_gdt(gm, gdt, ARRAY_SIZE(gdt)) || boot_build_identity_map(gm) ||
	    boot_copy(gm, BOOT_CMDLINE_ADDR, cmdline, cmdline_len + 1))
		return -ENOMEM;
	fill_zero_page(bp, li->hdr_img, &li->h, map, li->kernel, initrd, initrd_len);
	if (boot_copy(gm, BOOT_ZERO_PAGE_ADDR, bp, sizeof(bp)))
		return -ENOMEM;
	if (li->elf)
		err = boot_elf_load(gm, li->elf);
	else
		err = boot_copy(gm, li->kernel, cfg->kernel + li->h.setup_len, li->h.pm_len);
	if (err)
		return -EFAULT;
	if (initrd_len) {
		err = load_initrd(cfg, initrd);
		if (err)
			return err;
	}

	*ret = (struct boot_entry){
		.mode = BOOT_LONG64,
		.rip = li->entry,
		.rsp = BOOT_STACK_TOP,
		.rsi = BOOT_ZERO_PAGE_ADDR,
		.cr3 = BOOT_PML4_ADDR,
		.gdt_base = BOOT_GDT_ADDR,
		.gdt_limit = 4 * 8 - 1,
		.cs = BOOT_LINUX_CS,
		.ds = BOOT_LINUX_DS,
	};
	return 0;
}

int boot_load_bzimage(const struct boot_config *cfg, struct boot_entry *ret)
{
	struct linux_image li = { .hdr_img = cfg->kernel };
	struct boot_map map;
	int err;

	if (!cfg->kernel)
		return -ENOEXEC;
	err = parse_header(cfg->kernel, cfg->kernel_len, &li.h);
	if (err)
		return err;
	err = boot_map_init(cfg, &map);
	if (err)
		return err;
	err = place_kernel(&li.h, &map, cfg->gmem, &li.kernel);
	if (err)
		return err;
	li.kernel_end = li.kernel + li.h.init_size;
	li.entry = li.kernel + BZ_ENTRY64_OFF;
	return load_linux(cfg, &map, &li, ret);
}

/*
 * An uncompressed x86-64 Linux kernel (vmlinux, ELF64, no multiboot header): its PT_LOAD
 * segments at their physical addresses, entered in 64-bit mode at the ELF entry
 * (phys_startup_64) with the zero page in RSI, as the decompressor of a bzImage would leave it.
 * This skips the bzImage's decompressor, which dominates an emulated guest's early boot. The
 * setup header the zero page carries is made here (the fields the kernel proper reads: boot
 * flag, "HdrS", version, loader type, loadflags, command line and initrd). Not relocated.
 */
#define VMLINUX_CMDLINE_SIZE 2047 /* x86 COMMAND_LINE_SIZE 2048, without the NUL */
#define VMLINUX_HDR_VERSION 0x020f
int boot_load_vmlinux(const struct boot_config *cfg, struct boot_entry *ret)
{
	const uint8_t *img = cfg->kernel;
	uint8_t hdr[BP_HDR_LIMIT] = { 0 };
	struct linux_image li = { .hdr_img = hdr };
	struct boot_elf k = { .img = img };
	struct boot_map map;
	uint64_t start = UINT64_MAX;
	int err;

	if (!boot_elf_is_x86_64(img, cfg->kernel_len))
		return -ENOEXEC;
	err = boot_map_init(cfg, &map);
	if (err)
		return err;
	err = boot_elf_parse(img, cfg->kernel_len, &map, cfg->gmem, &k);
	if (err)
		return err;
	for (unsigned int i = 0; i < k.nr_segs; i++)
		if (k.segs[i].paddr < start)
			start = k.segs[i].paddr;
	if (start < 1 * MiB)
		return -EINVAL;
	le16_store(hdr + SH_BOOT_FLAG, BZ_BOOT_FLAG);
	le32_store(hdr + SH_HEADER, BZ_HDRS_MAGIC);
	le16_store(hdr + SH_VERSION, VMLINUX_HDR_VERSION);
	hdr[SH_LOADFLAGS] = BZ_LOADED_HIGH;
	le16_store(hdr + SH_XLOADFLAGS, BZ_XLF_KERNEL_64);
	le32_store(hdr + SH_CMDLINE_SIZE, VMLINUX_CMDLINE_SIZE);
	le32_store(hdr + SH_INITRD_ADDR_MAX, 0x7fffffff);
	li.h = (struct bz_header){ .hdr_end = BP_HDR_LIMIT, .init_size = k.end - start,
				   .align = 2 * MiB, .pref = start, .initrd_max = 0x7fffffff,
				   .cmdline_size = VMLINUX_CMDLINE_SIZE };
	li.kernel = start;
	li.kernel_end = k.end;
	li.entry = k.entry;
	li.elf = &k;
	return load_linux(cfg, &map, &li, ret);
}
