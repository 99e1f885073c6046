/* SPDX-License-Identifier: MIT */
/* Helpers shared by the multiboot, bzImage and vmlinux loaders and their unit tests. */
#ifndef NESTVM_BOOT_INTERNAL_H
#define NESTVM_BOOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/boot/boot.h"

#define BOOT_E820_RAM 1
#define BOOT_PAGE_SIZE 4096ULL

/* The board map copied and checked once (style rule 20); at most BOOT_MAX_E820 entries. */
struct boot_map {
	struct boot_e820 e[BOOT_MAX_E820];
	unsigned int n;
};

/* True if [off, off+n) lies inside a file of flen bytes (overflow safe). */
static inline bool boot_file_range_ok(size_t flen, uint64_t off, uint64_t n)
{
	return off <= flen && n <= flen - off;
}

/* Copies cfg->map (or derives an all-RAM map from the gmem regions); -EINVAL if malformed. */
int boot_map_init(const struct boot_config *cfg, struct boot_map *ret_map);
/* True if [addr, addr+len) is inside one RAM map entry and one gmem region; len > 0. */
bool boot_map_is_ram(const struct boot_map *map, const struct gmem *gm, uint64_t addr,
		     uint64_t len);
/*
 * Lowest address >= from, aligned to align (a power of two), such that [addr, addr+len) is
 * RAM and ends at or below limit. 0 or -ENOMEM.
 */
int boot_map_find_low(const struct boot_map *map, const struct gmem *gm, uint64_t from,
		      uint64_t len, uint64_t align, uint64_t limit, uint64_t *ret_addr);
/* Copy or zero-fill guest memory; len 0 is a no-op; -EFAULT if not inside one region. */
int boot_copy(const struct gmem *gm, uint64_t gpa, const void *src, uint64_t len);
int boot_zero(const struct gmem *gm, uint64_t gpa, uint64_t len);
/* Writes n descriptors at BOOT_GDT_ADDR; 0 or -ENOMEM. */
int boot_write_gdt(const struct gmem *gm, const uint64_t *desc, unsigned int n);
/* Builds the 0-4 GiB identity map at BOOT_PML4_ADDR; 0 or -ENOMEM. */
int boot_build_identity_map(const struct gmem *gm);

/* One loadable range of the kernel: file bytes, then zero fill up to memsz. */
struct boot_elf_seg {
	uint64_t paddr, vaddr, offset, filesz, memsz;
};

/* Everything the image asks for, validated before any guest write. */
struct boot_elf {
	uint64_t entry;
	uint64_t end; /* highest loaded byte + 1 */
	unsigned int nr_segs;
	const uint8_t *img;
	struct boot_elf_seg segs[64]; /* bound on PT_LOAD segments we accept */
};

/* True for a little-endian ELF64 x86-64 image (header only; boot_elf_parse checks the rest). */
bool boot_elf_is_x86_64(const uint8_t *img, size_t len);
/* Checks one range the kernel occupies (RAM, clear of the boot data area) and records it. */
int boot_elf_add_seg(struct boot_elf *k, const struct boot_map *map, const struct gmem *gm,
		     const struct boot_elf_seg *s);
/*
 * Parses an ELF32/ELF64 little-endian i386/x86-64 image into k (k zeroed, k->img set by the
 * caller): every PT_LOAD segment in the file and in RAM, the entry inside one of them (moved
 * from virtual to physical if needed). 0, -EINVAL (malformed) or -EFAULT (outside RAM).
 */
int boot_elf_parse(const uint8_t *img, size_t len, const struct boot_map *map,
		   const struct gmem *gm, struct boot_elf *k);
/* Copies the file bytes of each segment and zero-fills up to memsz; 0 or -EFAULT. */
int boot_elf_load(const struct gmem *gm, const struct boot_elf *k);

/* Flat descriptors (base 0, limit 4 GiB, G=1, accessed bit set). */
#define BOOT_DESC_CODE32 0x00cf9b000000ffffULL /* P, DPL0, code exec/read, D=1 */
#define BOOT_DESC_CODE64 0x00af9b000000ffffULL /* P, DPL0, code exec/read, L=1, D=0 */
#define BOOT_DESC_DATA 0x00cf93000000ffffULL   /* P, DPL0, data read/write, B=1 */

#endif
