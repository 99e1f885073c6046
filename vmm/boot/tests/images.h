/* SPDX-License-Identifier: MIT */
/* Synthetic kernel images and a test guest RAM for the boot loader unit tests. */
#ifndef NESTVM_BOOT_TEST_IMAGES_H
#define NESTVM_BOOT_TEST_IMAGES_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/boot/boot.h"
#include "vmm/core/gmem.h"

#define TEST_RAM_SIZE (64ULL << 20)

/* One guest RAM region at 0 on a calloc'd buffer, plus a q35-like map. */
struct test_vm {
	struct gmem gm;
	uint8_t *ram;
	uint64_t ram_size;
	struct boot_e820 map[3]; /* [0, 0xe0000) RAM, [0xe0000, 1 MiB) reserved, [1 MiB, end) RAM */
	struct boot_config cfg;
};

void test_vm_init(struct test_vm *vm, uint64_t ram_size);
void test_vm_destroy(struct test_vm *vm);
/* Host pointer for a guest address of the test RAM (no bounds check: tests only). */
uint8_t *test_gpa(struct test_vm *vm, uint64_t gpa);

/* Deterministic filler so loaded bytes can be compared. */
uint8_t test_pattern(uint64_t i);

struct test_seg {
	uint32_t type; /* 1 = PT_LOAD */
	uint64_t paddr, vaddr, filesz, memsz;
	uint64_t offset; /* filled in by the builder */
};

struct test_elf {
	int is64;
	uint16_t machine; /* 0: the right one for the class */
	uint64_t entry;
	uint32_t mb_flags;
	uint64_t mb_off; /* where the multiboot header goes; 0 means 0x100 */
	unsigned int nr_segs;
	struct test_seg segs[4];
};

/* Builds an ELF multiboot kernel into buf (capacity cap); returns its length. */
size_t test_build_elf(uint8_t *buf, size_t cap, struct test_elf *e);

/* Writes a multiboot header (magic, flags, valid checksum) at buf + off. */
void test_put_mb_header(uint8_t *buf, uint64_t off, uint32_t flags);
/* Writes the five a.out-kludge address fields after a header at buf + off. */
void test_put_aout(uint8_t *buf, uint64_t off, uint32_t header_addr, uint32_t load_addr,
		   uint32_t load_end, uint32_t bss_end, uint32_t entry);

struct test_bz {
	uint16_t version;
	uint8_t setup_sects;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t relocatable;
	uint8_t jump_off; /* header end - 0x202 */
	uint32_t align, init_size, initrd_max, cmdline_size;
	uint64_t pref;
	uint64_t pm_len;
};

/* Defaults: 2.15, setup_sects 0 (= 4), LOADED_HIGH, XLF_KERNEL_64, relocatable, 16 MiB pref. */
void test_bz_defaults(struct test_bz *b);
/* Builds a bzImage into buf; returns its length. Protected-mode bytes are test_pattern(i). */
size_t test_build_bz(uint8_t *buf, size_t cap, const struct test_bz *b);

#endif
