/* SPDX-License-Identifier: MIT */
/*
 * ELF kernel images (System V gABI, little-endian i386 or x86-64): PT_LOAD segments checked
 * against the board's RAM map before any guest write, then copied to their physical addresses.
 * Used by the multiboot loader (ELF kernels) and the vmlinux loader (bzimage.c).
 */
#include <errno.h>
#include <string.h>

#include "bits.h"
#include "vmm/boot/boot-internal.h"
#include "vmm/core/gmem.h"

/* ELF (System V gABI) fields we read. */
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define ELF32_EHDR 52
#define ELF64_EHDR 64
#define ELF32_PHDR 32
#define ELF64_PHDR 56

bool boot_elf_is_x86_64(const uint8_t *img, size_t len)
{
	return img && len >= ELF64_EHDR && memcmp(img, "\x7f" "ELF", 4) == 0 &&
	       img[4] == ELFCLASS64 && img[5] == ELFDATA2LSB && le16_load(img + 18) == EM_X86_64;
}

static bool overlaps_boot_area(uint64_t addr, uint64_t len)
{
	return addr < BOOT_STACK_TOP && BOOT_GDT_ADDR < addr + len;
}

/* Checks one range the kernel occupies and records it. */
int boot_elf_add_seg(struct boot_elf *k, const struct boot_map *map, const struct gmem *gm,
		   const struct boot_elf_seg *s)
{
	if (s->filesz > s->memsz || s->memsz > 4 * GiB || s->paddr > 4 * GiB - s->memsz)
		return -EINVAL;
	if (overlaps_boot_area(s->paddr, s->memsz))
		return -EINVAL;
	if (!boot_map_is_ram(map, gm, s->paddr, s->memsz))
		return -EFAULT;
	if (k->nr_segs >= ARRAY_SIZE(k->segs))
		return -EINVAL;
	k->segs[k->nr_segs++] = *s;
	if (s->paddr + s->memsz > k->end)
		k->end = s->paddr + s->memsz;
	return 0;
}

int boot_elf_parse(const uint8_t *img, size_t len, const struct boot_map *map,
		     const struct gmem *gm, struct boot_elf *k)
{
	bool is64;
	uint64_t phoff, phentsize, phnum, entry;
	bool entry_ok = false;
	int err;

	if (len < 16 || memcmp(img, "\x7f" "ELF", 4) != 0)
		return -EINVAL;
	if (img[4] != ELFCLASS32 && img[4] != ELFCLASS64)
		return -EINVAL;
	is64 = img[4] == ELFCLASS64;
	if (img[5] != ELFDATA2LSB || len < (is64 ? ELF64_EHDR : ELF32_EHDR))
		return -EINVAL;
	if (le16_load(img + 18) != (is64 ? EM_X86_64 : EM_386))
		return -EINVAL;
	if (is64) {
		entry = le64_load(img + 24);
		phoff = le64_load(img + 32);
		phentsize = le16_load(img + 54);
		phnum = le16_load(img + 56);
	} else {
		entry = le32_load(img + 24);
		phoff = le32_load(img + 28);
		phentsize = le16_load(img + 42);
		phnum = le16_load(img + 44);
	}
	if (phentsize < (is64 ? ELF64_PHDR : ELF32_PHDR) || phnum == 0)
		return -EINVAL;
	/* phnum <= 0xffff and phentsize <= 0xffff: the product cannot overflow. */
	if (!boot_file_range_ok(len, phoff, phnum * phentsize))
		return -EINVAL;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * phentsize;
		struct boot_elf_seg s;

		if (le32_load(ph) != PT_LOAD)
			continue;
		if (is64)
			s = (struct boot_elf_seg){ .offset = le64_load(ph + 8), .vaddr = le64_load(ph + 16),
					     .paddr = le64_load(ph + 24), .filesz = le64_load(ph + 32),
					     .memsz = le64_load(ph + 40) };
		else
			s = (struct boot_elf_seg){ .offset = le32_load(ph + 4), .vaddr = le32_load(ph + 8),
					     .paddr = le32_load(ph + 12), .filesz = le32_load(ph + 16),
					     .memsz = le32_load(ph + 20) };
		if (s.memsz == 0)
			continue;
		if (!boot_file_range_ok(len, s.offset, s.filesz))
			return -EINVAL;
		err = boot_elf_add_seg(k, map, gm, &s);
		if (err)
			return err;
	}
	if (k->nr_segs == 0)
		return -EINVAL;
	/* Segments load at p_paddr; an entry given as a virtual address is moved along. */
	for (unsigned int i = 0; i < k->nr_segs && !entry_ok; i++) {
		const struct boot_elf_seg *s = &k->segs[i];

		entry_ok = entry >= s->paddr && entry - s->paddr < s->memsz;
	}
	for (unsigned int i = 0; i < k->nr_segs && !entry_ok; i++) {
		const struct boot_elf_seg *s = &k->segs[i];

		if (entry >= s->vaddr && entry - s->vaddr < s->memsz) {
			entry = entry - s->vaddr + s->paddr;
			entry_ok = true;
		}
	}
	if (entry >= 4 * GiB)
		return -EINVAL;
	k->entry = entry;
	return 0;
}

int boot_elf_load(const struct gmem *gm, const struct boot_elf *k)
{
	for (unsigned int i = 0; i < k->nr_segs; i++) {
		const struct boot_elf_seg *s = &k->segs[i];

		if (boot_copy(gm, s->paddr, k->img + s->offset, s->filesz) ||
		    boot_zero(gm, s->paddr + s->filesz, s->memsz - s->filesz))
			return -EFAULT;
	}
	return 0;
}

