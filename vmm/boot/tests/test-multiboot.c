/* SPDX-License-Identifier: MIT */
/* Unit tests for the multiboot v1 loader: ELF and a.out images, info structure, rejections. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "bits.h"
#include "images.h"

#define IMG_CAP (256 * 1024)
#define MBI 0x10100

static uint8_t img[IMG_CAP];
static struct test_vm vm;

static void setup(void)
{
	test_vm_init(&vm, TEST_RAM_SIZE);
	/* Junk everywhere so zero fill and untouched areas are visible. */
	memset(vm.ram, 0xcc, 4 * MiB);
}

static void teardown(void)
{
	test_vm_destroy(&vm);
}

static uint32_t g32(uint64_t gpa)
{
	return le32_load(test_gpa(&vm, gpa));
}

static uint64_t g64(uint64_t gpa)
{
	return le64_load(test_gpa(&vm, gpa));
}

static const char *gstr(uint64_t gpa)
{
	return (const char *)test_gpa(&vm, gpa);
}

/* One PT_LOAD at 1 MiB: 0x2000 file bytes, 0x3000 bss, entry at +0x10. */
static size_t simple_elf(struct test_elf *e, int is64)
{
	*e = (struct test_elf){ .is64 = is64, .entry = 0x100010, .mb_flags = 0x3, .nr_segs = 1 };
	e->segs[0] = (struct test_seg){ .type = 1, .paddr = 0x100000, .vaddr = 0x100000,
				       .filesz = 0x2000, .memsz = 0x5000 };
	return test_build_elf(img, IMG_CAP, e);
}

static int load(size_t len, struct boot_entry *ent)
{
	vm.cfg.kernel = img;
	vm.cfg.kernel_len = len;
	return boot_load_multiboot(&vm.cfg, ent);
}

START_TEST(test_elf32_basic)
{
	struct test_elf e;
	struct boot_entry ent;
	size_t len = simple_elf(&e, 0);
	const char *fmt = NULL;
	uint64_t mmap;

	vm.cfg.kernel = img;
	vm.cfg.kernel_len = len;
	ck_assert_int_eq(boot_load(&vm.cfg, &ent, &fmt), 0);
	ck_assert_str_eq(fmt, "multiboot");
	ck_assert_int_eq(ent.mode, BOOT_PROT32);
	ck_assert_uint_eq(ent.rip, 0x100010);
	ck_assert_uint_eq(ent.rax, 0x2badb002);
	ck_assert_uint_eq(ent.rbx, MBI);
	ck_assert_uint_eq(ent.rsp, 0x20000);
	ck_assert_uint_eq(ent.cs, 0x08);
	ck_assert_uint_eq(ent.ds, 0x10);
	ck_assert_uint_eq(ent.gdt_base, 0x10000);
	ck_assert_uint_eq(ent.gdt_limit, 23);
	ck_assert_uint_eq(g64(0x10000), 0);
	ck_assert_uint_eq(g64(0x10008), 0x00cf9b000000ffffULL);
	ck_assert_uint_eq(g64(0x10010), 0x00cf93000000ffffULL);

	/* Segment bytes, then zeroed bss, then untouched memory. */
	for (uint64_t i = 0; i < 0x2000; i++)
		ck_assert_uint_eq(*test_gpa(&vm, 0x100000 + i), test_pattern(0x1000 + i));
	for (uint64_t i = 0x2000; i < 0x5000; i++)
		ck_assert_uint_eq(*test_gpa(&vm, 0x100000 + i), 0);
	ck_assert_uint_eq(*test_gpa(&vm, 0x105000), 0xcc);
	/* Guest memory below 0x10000 is left alone. */
	for (uint64_t i = 0; i < 0x10000; i += 0x100)
		ck_assert_uint_eq(*test_gpa(&vm, i), 0xcc);

	ck_assert_uint_eq(g32(MBI), (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
	ck_assert_uint_eq(g32(MBI + 4), 640);
	ck_assert_uint_eq(g32(MBI + 8), (TEST_RAM_SIZE - MiB) / 1024);
	ck_assert_str_eq(gstr(g32(MBI + 16)), "");
	ck_assert_uint_eq(g32(MBI + 20), 0);
	ck_assert_str_eq(gstr(g32(MBI + 64)), "nestvm");
	/* Unused fields (boot_device, syms, drives, config, apm, vbe) are zero. */
	ck_assert_uint_eq(g32(MBI + 12), 0);
	ck_assert_uint_eq(g32(MBI + 28), 0);
	ck_assert_uint_eq(g32(MBI + 52), 0);
	ck_assert_uint_eq(g32(MBI + 68), 0);

	ck_assert_uint_eq(g32(MBI + 44), 3 * 24);
	mmap = g32(MBI + 48);
	ck_assert(mmap >= 0x10000 && mmap < 0x1f000);
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t m = mmap + 24 * i;

		ck_assert_uint_eq(g32(m), 20);
		ck_assert_uint_eq(g64(m + 4), vm.map[i].addr);
		ck_assert_uint_eq(g64(m + 12), vm.map[i].len);
		ck_assert_uint_eq(g32(m + 20), vm.map[i].type);
	}
	/* All boot data stays inside 0x10000-0x1efff. */
	for (unsigned int off = 16; off <= 64; off += 48)
		ck_assert(g32(MBI + off) >= 0x10000 && g32(MBI + off) < 0x1f000);
}
END_TEST

START_TEST(test_modules_and_cmdline)
{
	static uint8_t m0[5000], m2[3];
	struct boot_module list[3] = {
		{ m0, sizeof(m0), "initrd.img root=/dev/ram" },
		{ NULL, 0, NULL },
		{ m2, sizeof(m2), "third" },
	};
	struct test_elf e;
	struct boot_entry ent;
	size_t len = simple_elf(&e, 0);
	uint64_t mods, a0, a1, a2;

	for (size_t i = 0; i < sizeof(m0); i++)
		m0[i] = (uint8_t)(i ^ 0x5a);
	memcpy(m2, "abc", 3);
	vm.cfg.cmdline = "console=ttyS0 nestvm.test=1";
	vm.cfg.modules = list;
	vm.cfg.nr_modules = 3;
	ck_assert_int_eq(load(len, &ent), 0);

	ck_assert_str_eq(gstr(g32(MBI + 16)), "console=ttyS0 nestvm.test=1");
	ck_assert_uint_eq(g32(MBI + 20), 3);
	mods = g32(MBI + 24);
	ck_assert(mods >= 0x10000 && mods + 48 <= 0x1f000);
	a0 = g32(mods);
	a1 = g32(mods + 16);
	a2 = g32(mods + 32);
	/* First module on the first page above the kernel's last byte (0x104fff). */
	ck_assert_uint_eq(a0, 0x105000);
	ck_assert_uint_eq(g32(mods + 4), a0 + sizeof(m0));
	ck_assert_str_eq(gstr(g32(mods + 8)), "initrd.img root=/dev/ram");
	ck_assert_mem_eq(test_gpa(&vm, a0), m0, sizeof(m0));
	ck_assert(IS_ALIGNED(a1, 4096) && a1 >= a0 + sizeof(m0));
	ck_assert_uint_eq(g32(mods + 16 + 4), a1);
	ck_assert_str_eq(gstr(g32(mods + 16 + 8)), "");
	ck_assert(IS_ALIGNED(a2, 4096) && a2 > a1);
	ck_assert_uint_eq(g32(mods + 32 + 4), a2 + 3);
	ck_assert_str_eq(gstr(g32(mods + 32 + 8)), "third");
	ck_assert_mem_eq(test_gpa(&vm, a2), "abc", 3);
	ck_assert_uint_eq(g32(mods + 12), 0);
}
END_TEST

/* QEMU's and GRUB's convention: "<kernel file> <append text>", argv[0] first. */
START_TEST(test_cmdline_kernel_name)
{
	struct test_elf e;
	struct boot_entry ent;
	size_t len = simple_elf(&e, 0);
	static char big[0x1f000 - 0x10100];

	vm.cfg.kernel_name = "/boot/test.elf";
	vm.cfg.cmdline = "-v one two";
	ck_assert_int_eq(load(len, &ent), 0);
	ck_assert_str_eq(gstr(g32(MBI + 16)), "/boot/test.elf -v one two");
	ck_assert_uint_ne(g32(MBI) & 4, 0);
	/* No -append: the name and one space, as QEMU writes it. */
	vm.cfg.cmdline = NULL;
	ck_assert_int_eq(load(len, &ent), 0);
	ck_assert_str_eq(gstr(g32(MBI + 16)), "/boot/test.elf ");
	/* The loader name stays separate. */
	ck_assert_str_eq(gstr(g32(MBI + 64)), "nestvm");
	/* A name that with its arguments overflows the boot data area fails cleanly. */
	memset(big, 'n', sizeof(big) - 1);
	vm.cfg.kernel_name = big;
	ck_assert_int_eq(load(len, &ent), -ENOMEM);
	vm.cfg.kernel_name = NULL;
}
END_TEST

START_TEST(test_aout_kludge)
{
	struct boot_entry ent;
	const uint32_t hoff = 0x40;
	size_t len = 0x4000;

	for (size_t i = 0; i < len; i++)
		img[i] = test_pattern(i);
	/* ELF magic too: bit 16 must win. */
	memcpy(img, "\x7f" "ELF", 4);
	test_put_mb_header(img, hoff, (1u << 16) | 0x3);
	test_put_aout(img, hoff, 0x200000 + hoff, 0x200000, 0x203000, 0x205000, 0x200080);
	ck_assert_int_eq(load(len, &ent), 0);
	ck_assert_uint_eq(ent.rip, 0x200080);
	ck_assert_mem_eq(test_gpa(&vm, 0x200000), img, 0x3000);
	for (uint64_t i = 0x203000; i < 0x205000; i++)
		ck_assert_uint_eq(*test_gpa(&vm, i), 0);
	/* Nothing written past the bss. */
	ck_assert_uint_eq(*test_gpa(&vm, 0x205000), 0xcc);
	ck_assert_uint_eq(g32(MBI + 20), 0);

	/* Text starting before the header: load_addr maps to file offset hoff - 0x20. */
	memset(vm.ram + 0x300000, 0xcc, 0x10000);
	test_put_aout(img, hoff, 0x300020, 0x300000, 0, 0, 0x300000);
	ck_assert_int_eq(load(len, &ent), 0);
	ck_assert_mem_eq(test_gpa(&vm, 0x300000), img + hoff - 0x20, len - (hoff - 0x20));
	ck_assert_uint_eq(*test_gpa(&vm, 0x300000 + len - (hoff - 0x20)), 0xcc);
}
END_TEST

START_TEST(test_aout_rejects)
{
	struct boot_entry ent;
	const uint32_t hoff = 0x40, f = (1u << 16);

	memset(img, 0, 0x4000);
	test_put_mb_header(img, hoff, f);
	/* load_addr above header_addr. */
	test_put_aout(img, hoff, 0x100000, 0x100100, 0, 0, 0x100000);
	ck_assert_int_eq(load(0x4000, &ent), -EINVAL);
	/* Text would start before the file. */
	test_put_aout(img, hoff, 0x100100, 0x100000, 0, 0, 0x100000);
	ck_assert_int_eq(load(0x4000, &ent), -EINVAL);
	/* load_end beyond the file. */
	test_put_aout(img, hoff, 0x100040, 0x100000, 0x105000, 0, 0x100000);
	ck_assert_int_eq(load(0x4000, &ent), -EINVAL);
	/* load_end below load_addr. */
	test_put_aout(img, hoff, 0x100040, 0x100000, 0xff000, 0, 0x100000);
	ck_assert_int_eq(load(0x4000, &ent), -EINVAL);
	/* bss_end below load_end. */
	test_put_aout(img, hoff, 0x100040, 0x100000, 0x102000, 0x101000, 0x100000);
	ck_assert_int_eq(load(0x4000, &ent), -EINVAL);
	/* bss reaching past 4 GiB cannot be expressed, but past RAM can. */
	test_put_aout(img, hoff, 0x100040, 0x100000, 0x102000, 0xffffffff, 0x100000);
	ck_assert_int_eq(load(0x4000, &ent), -EFAULT);
	/* Load address at the top of the 32-bit space: the whole file would wrap. */
	test_put_aout(img, hoff, 0xfffff040, 0xfffff000, 0, 0, 0xfffff000);
	ck_assert_int_eq(load(0x4000, &ent), -EINVAL);
	/* Address fields truncated by the end of the file. */
	test_put_aout(img, hoff, 0x100040, 0x100000, 0, 0, 0x100000);
	ck_assert_int_eq(load(hoff + 20, &ent), -EINVAL);
	ck_assert_int_eq(load(hoff + 32, &ent), 0);
}
END_TEST

START_TEST(test_header_search)
{
	struct test_elf e;
	struct boot_entry ent;
	size_t len = simple_elf(&e, 0);

	/* Bad checksum: not multiboot at all. */
	le32_store(img + 0x208, le32_load(img + 0x208) + 1);
	ck_assert_int_eq(load(len, &ent), -ENOEXEC);
	memset(img + 0x200, 0, 12);
	/* Last possible position (12 bytes end exactly at 8 KiB). */
	test_put_mb_header(img, 8192 - 12, 0x3);
	ck_assert_int_eq(load(len + 0x2000, &ent), 0);
	memset(img + 8192 - 12, 0, 12);
	/* Beyond 8 KiB, or unaligned: not found. */
	test_put_mb_header(img, 8192, 0x3);
	ck_assert_int_eq(load(len + 0x2000, &ent), -ENOEXEC);
	memset(img + 8192, 0, 12);
	test_put_mb_header(img, 0x202, 0x3);
	ck_assert_int_eq(load(len, &ent), -ENOEXEC);
	memset(img + 0x202, 0, 12);
	/* Nothing in the file at all, or an empty file. */
	ck_assert_int_eq(load(len, &ent), -ENOEXEC);
	ck_assert_int_eq(load(0, &ent), -ENOEXEC);
	ck_assert_int_eq(load(3, &ent), -ENOEXEC);
}
END_TEST

START_TEST(test_flags)
{
	struct test_elf e;
	struct boot_entry ent;
	size_t len = simple_elf(&e, 0);

	/* Video wish (bit 2) and unknown optional bits (17-31) are accepted. */
	test_put_mb_header(img, 0x200, 0x7 | (1u << 20));
	ck_assert_int_eq(load(len, &ent), 0);
	for (unsigned int bit = 3; bit < 16; bit++) {
		test_put_mb_header(img, 0x200, 0x3 | (1u << bit));
		ck_assert_int_eq(load(len, &ent), -EINVAL);
	}
	/* a.out bit set but the header too short for its fields near the 8 KiB limit. */
	memset(img + 0x200, 0, 12);
	test_put_mb_header(img, 8192 - 12, 1u << 16);
	ck_assert_int_eq(load(len + 0x2000, &ent), -EINVAL);
}
END_TEST

START_TEST(test_elf_rejects)
{
	struct test_elf e;
	struct boot_entry ent;
	size_t len;

	/* Segment data beyond the end of the file. */
	len = simple_elf(&e, 0);
	ck_assert_int_eq(load(len - 1, &ent), -EINVAL);
	/* Program headers beyond the end of the file. */
	le32_store(img + 28, (uint32_t)len - 16);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	le32_store(img + 28, 0xffffffff);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	/* Program header entries too small, or none. */
	len = simple_elf(&e, 0);
	le16_store(img + 42, 16);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	len = simple_elf(&e, 0);
	le16_store(img + 44, 0);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	/* filesz > memsz. */
	len = simple_elf(&e, 0);
	le32_store(img + 0x40 + 20, 0x1000);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	/* Huge offset: offset + filesz wraps. */
	len = simple_elf(&e, 0);
	le32_store(img + 0x40 + 4, 0xfffff000);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	/* Wrong machine, big endian, bad class, not ELF at all. */
	e = (struct test_elf){ .machine = 62, .entry = 0x100000, .mb_flags = 0, .nr_segs = 1 };
	e.segs[0] = (struct test_seg){ 1, 0x100000, 0x100000, 0x100, 0x100, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	e.machine = 0;
	len = test_build_elf(img, IMG_CAP, &e);
	img[5] = 2;
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	img[5] = 1;
	img[4] = 3;
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	img[4] = 1;
	img[0] = 0;
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	img[0] = 0x7f;
	ck_assert_int_eq(load(len, &ent), 0);
	/* Only non-PT_LOAD or empty segments: nothing to run. */
	e.segs[0].type = 4;
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	e.segs[0] = (struct test_seg){ 1, 0x100000, 0x100000, 0, 0, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
}
END_TEST

START_TEST(test_placement_rejects)
{
	struct test_elf e = { .entry = 0x100000, .nr_segs = 1 };
	struct boot_entry ent;
	size_t len;

	/* Outside RAM. */
	e.segs[0] = (struct test_seg){ 1, TEST_RAM_SIZE - 0x800, 0, 0x1000, 0x1000, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), -EFAULT);
	/* In the reserved (ACPI) part of the map. */
	e.segs[0] = (struct test_seg){ 1, 0xe0000, 0, 0x1000, 0x1000, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), -EFAULT);
	/* Over the boot data area. */
	e.segs[0] = (struct test_seg){ 1, 0x8000, 0, 0x1000, 0x9000, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	/* Wrapping past 4 GiB. */
	e.segs[0] = (struct test_seg){ 1, 0xfffff000, 0, 0x100, 0x2000, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	/* Below the boot area is fine (and modules still go above it). */
	e.segs[0] = (struct test_seg){ 1, 0x1000, 0x1000, 0x100, 0x200, 0 };
	e.entry = 0x1000;
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), 0);
	ck_assert_uint_eq(ent.rip, 0x1000);
}
END_TEST

START_TEST(test_does_not_fit)
{
	struct test_elf e;
	struct boot_entry ent;
	size_t len = simple_elf(&e, 0);
	struct boot_module mod = { vm.ram, TEST_RAM_SIZE - 1 * MiB, NULL };
	char *big;

	/* A module larger than the RAM left above the kernel. */
	vm.cfg.modules = &mod;
	vm.cfg.nr_modules = 1;
	ck_assert_int_eq(load(len, &ent), -ENOMEM);
	/* Exactly what is left fits. */
	mod.len = TEST_RAM_SIZE - 0x105000;
	mod.data = big = calloc(1, mod.len);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(load(len, &ent), 0);
	ck_assert_uint_eq(g32(g32(MBI + 24)), 0x105000);
	ck_assert_uint_eq(g32(g32(MBI + 24) + 4), TEST_RAM_SIZE);
	mod.len++;
	ck_assert_int_eq(load(len, &ent), -ENOMEM);
	free(big);
	vm.cfg.nr_modules = 0;
	/* A command line larger than the boot data area. */
	big = malloc(70000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 69999);
	big[69999] = 0;
	vm.cfg.cmdline = big;
	ck_assert_int_eq(load(len, &ent), -ENOMEM);
	free(big);
	vm.cfg.cmdline = NULL;
	/* RAM too small for the boot data area. */
	vm.map[0].len = 0x18000;
	ck_assert_int_eq(load(len, &ent), -ENOMEM);
}
END_TEST

START_TEST(test_elf64_and_virtual_entry)
{
	struct test_elf e;
	struct boot_entry ent;
	size_t len = simple_elf(&e, 1);

	ck_assert_int_eq(load(len, &ent), 0);
	ck_assert_uint_eq(ent.mode, BOOT_PROT32);
	ck_assert_uint_eq(ent.rip, 0x100010);
	ck_assert_mem_eq(test_gpa(&vm, 0x100000), img + e.segs[0].offset, 0x2000);
	/* Higher-half: segments load at paddr, entry given as vaddr is translated. */
	e = (struct test_elf){ .is64 = 1, .entry = 0xffffffff80100040ULL, .nr_segs = 3 };
	e.segs[0] = (struct test_seg){ 1, 0x100000, 0xffffffff80100000ULL, 0x1000, 0x1000, 0 };
	e.segs[1] = (struct test_seg){ 4, 0x0, 0x0, 0x10, 0x10, 0 }; /* PT_NOTE, ignored */
	e.segs[2] = (struct test_seg){ 1, 0x400000, 0xffffffff80400000ULL, 0x800, 0x3000, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), 0);
	ck_assert_uint_eq(ent.rip, 0x100040);
	ck_assert_mem_eq(test_gpa(&vm, 0x400000), img + e.segs[2].offset, 0x800);
	/* Segment above 4 GiB: not reachable from 32-bit entry. */
	e.segs[2].paddr = 0x100000000ULL;
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
	/* Entry outside everything and above 4 GiB. */
	e.segs[2].paddr = 0x400000;
	e.entry = 0x123456789ULL;
	len = test_build_elf(img, IMG_CAP, &e);
	ck_assert_int_eq(load(len, &ent), -EINVAL);
}
END_TEST

START_TEST(test_no_map_uses_gmem)
{
	struct test_elf e;
	struct boot_entry ent;
	size_t len = simple_elf(&e, 0);

	vm.cfg.nr_map = 0;
	ck_assert_int_eq(load(len, &ent), 0);
	ck_assert_uint_eq(g32(MBI + 44), 24);
	ck_assert_uint_eq(g64(g32(MBI + 48) + 12), TEST_RAM_SIZE);
	ck_assert_uint_eq(g32(MBI + 4), 640);
	/* Too many map entries. */
	vm.cfg.nr_map = BOOT_MAX_E820 + 1;
	ck_assert_int_eq(load(len, &ent), -EINVAL);
}
END_TEST

START_TEST(test_strerror)
{
	ck_assert_ptr_nonnull(strstr(boot_strerror(-ENOEXEC), "not a"));
	ck_assert_ptr_nonnull(strstr(boot_strerror(-ENOMEM), "fit"));
	ck_assert_str_ne(boot_strerror(-EINVAL), boot_strerror(-EFAULT));
	ck_assert_ptr_nonnull(boot_strerror(-12345));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("multiboot");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_elf32_basic);
	tcase_add_test(tc, test_modules_and_cmdline);
	tcase_add_test(tc, test_cmdline_kernel_name);
	tcase_add_test(tc, test_aout_kludge);
	tcase_add_test(tc, test_aout_rejects);
	tcase_add_test(tc, test_header_search);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_elf_rejects);
	tcase_add_test(tc, test_placement_rejects);
	tcase_add_test(tc, test_does_not_fit);
	tcase_add_test(tc, test_elf64_and_virtual_entry);
	tcase_add_test(tc, test_no_map_uses_gmem);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(suite());
}
