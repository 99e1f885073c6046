/* SPDX-License-Identifier: MIT */
/* Unit tests for the bzImage and vmlinux loaders: header checks, zero page, e820, initrd, page tables. */
#include <check.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "bits.h"
#include "images.h"

#define IMG_CAP (64 * 1024)
#define ZP 0x11000

static uint8_t img[IMG_CAP];
static struct test_vm vm;

static void setup(void)
{
	test_vm_init(&vm, TEST_RAM_SIZE);
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

static int load_bz(const struct test_bz *b, struct boot_entry *ent)
{
	vm.cfg.kernel = img;
	vm.cfg.kernel_len = test_build_bz(img, IMG_CAP, b);
	return boot_load_bzimage(&vm.cfg, ent);
}

START_TEST(test_basic)
{
	static uint8_t m0[1001], m1[4096];
	struct boot_module mods[2] = { { m0, sizeof(m0), "ignored" }, { m1, sizeof(m1), NULL } };
	struct test_bz b;
	struct boot_entry ent;
	const char *fmt = NULL;
	uint64_t rd, rd_len;

	for (size_t i = 0; i < sizeof(m0); i++)
		m0[i] = (uint8_t)(i + 1);
	memset(m1, 0x77, sizeof(m1));
	test_bz_defaults(&b);
	vm.cfg.cmdline = "console=ttyS0 root=/dev/ram0";
	vm.cfg.modules = mods;
	vm.cfg.nr_modules = 2;
	vm.cfg.kernel = img;
	vm.cfg.kernel_len = test_build_bz(img, IMG_CAP, &b);
	ck_assert_int_eq(boot_load(&vm.cfg, &ent, &fmt), 0);
	ck_assert_str_eq(fmt, "bzImage");

	ck_assert_int_eq(ent.mode, BOOT_LONG64);
	ck_assert_uint_eq(ent.rip, 16 * MiB + 0x200);
	ck_assert_uint_eq(ent.rsi, ZP);
	ck_assert_uint_eq(ent.cr3, 0x20000);
	ck_assert_uint_eq(ent.rsp, 0x20000);
	ck_assert_uint_eq(ent.cs, 0x10);
	ck_assert_uint_eq(ent.ds, 0x18);
	ck_assert_uint_eq(ent.gdt_base, 0x10000);
	ck_assert_uint_eq(ent.gdt_limit, 31);
	ck_assert_uint_eq(g64(0x10010), 0x00af9b000000ffffULL);
	ck_assert_uint_eq(g64(0x10018), 0x00cf93000000ffffULL);

	/* Protected-mode kernel: the file past (4 + 1) * 512 bytes. */
	for (uint64_t i = 0; i < b.pm_len; i++)
		ck_assert_uint_eq(*test_gpa(&vm, 16 * MiB + i), test_pattern(i));

	/* Zero page: header copied up to its end (0x26c), our fields on top. */
	ck_assert_mem_eq(test_gpa(&vm, ZP + 0x202), "HdrS", 4);
	ck_assert_uint_eq(le16_load(test_gpa(&vm, ZP + 0x206)), 0x020f);
	ck_assert_uint_eq(le16_load(test_gpa(&vm, ZP + 0x1fe)), 0xaa55);
	ck_assert_uint_eq(g32(ZP + 0x230), 2 * MiB);
	ck_assert_uint_eq(g64(ZP + 0x258), 16 * MiB);
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x270), 0);
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x210), 0xff);
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x211), 0x01);
	ck_assert_uint_eq(g32(ZP + 0x214), 16 * MiB);
	ck_assert_uint_eq(g32(ZP + 0x228), 0x12000);
	ck_assert_str_eq((const char *)test_gpa(&vm, 0x12000), "console=ttyS0 root=/dev/ram0");
	ck_assert_uint_eq(g32(ZP + 0x0c8), 0);
	ck_assert_uint_eq(g64(ZP + 0x250), 0);
	/* Nothing before the header besides e820_entries. */
	for (unsigned int i = 0; i < 0x1e8; i++)
		ck_assert_uint_eq(*test_gpa(&vm, ZP + i), 0);

	/* e820 copy. */
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x1e8), 3);
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t e = ZP + 0x2d0 + 20 * i;

		ck_assert_uint_eq(g64(e), vm.map[i].addr);
		ck_assert_uint_eq(g64(e + 8), vm.map[i].len);
		ck_assert_uint_eq(g32(e + 16), vm.map[i].type);
	}
	ck_assert_uint_eq(g64(ZP + 0x2d0 + 60), 0);

	/* initrd: both modules, first padded to 4 bytes, placed high and page aligned. */
	rd = g32(ZP + 0x218);
	rd_len = g32(ZP + 0x21c);
	ck_assert_uint_eq(rd_len, 1004 + 4096);
	ck_assert_uint_eq(g32(ZP + 0x0c0), 0);
	ck_assert_uint_eq(g32(ZP + 0x0c4), 0);
	ck_assert(IS_ALIGNED(rd, 4096));
	ck_assert_uint_le(rd + rd_len, TEST_RAM_SIZE);
	ck_assert_uint_gt(rd + rd_len + 4096, TEST_RAM_SIZE);
	ck_assert_mem_eq(test_gpa(&vm, rd), m0, sizeof(m0));
	ck_assert_mem_eq(test_gpa(&vm, rd + 1001), "\0\0\0", 3);
	ck_assert_mem_eq(test_gpa(&vm, rd + 1004), m1, sizeof(m1));

	/* Identity map of 4 GiB with 2 MiB pages. */
	ck_assert_uint_eq(g64(0x20000), 0x21000 | 3);
	ck_assert_uint_eq(g64(0x20008), 0);
	for (unsigned int i = 0; i < 4; i++)
		ck_assert_uint_eq(g64(0x21000 + 8 * i), (0x22000 + 0x1000ULL * i) | 3);
	ck_assert_uint_eq(g64(0x21020), 0);
	ck_assert_uint_eq(g64(0x22000), 0x83);
	ck_assert_uint_eq(g64(0x22008), 2 * MiB | 0x83);
	ck_assert_uint_eq(g64(0x25ff8), (4 * GiB - 2 * MiB) | 0x83);
	for (uint64_t pd = 0; pd < 4 * 512; pd++)
		ck_assert_uint_eq(g64(0x22000 + 8 * pd), (pd * 2 * MiB) | 0x83);
}
END_TEST

START_TEST(test_placement)
{
	struct test_bz b;
	struct boot_entry ent;

	/* pref_address outside RAM: relocatable kernels go to the lowest aligned fit >= 1 MiB. */
	test_bz_defaults(&b);
	b.pref = 128 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(ent.rip, 2 * MiB + 0x200);
	ck_assert_uint_eq(*test_gpa(&vm, 2 * MiB + 1), test_pattern(1));
	b.align = 16 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(ent.rip, 16 * MiB + 0x200);
	/* Below 1 MiB is never used, even when asked for. */
	b.pref = 0x20000;
	b.align = 4096;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(ent.rip, 1 * MiB + 0x200);
	/* Not relocatable: pref_address or nothing. */
	b.relocatable = 0;
	b.pref = 128 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), -EFAULT);
	b.pref = 0x20000;
	ck_assert_int_eq(load_bz(&b, &ent), -EFAULT);
	b.pref = 4 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(ent.rip, 4 * MiB + 0x200);
	/* init_size beyond RAM. */
	b.init_size = 61 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), -EFAULT);
	b.relocatable = 1;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(ent.rip, 1 * MiB + 0x200);
	b.init_size = 64 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), -ENOMEM);
	/* init_size smaller than the file: the file size counts. */
	test_bz_defaults(&b);
	b.init_size = 0x100;
	b.pref = TEST_RAM_SIZE - 0x2000;
	b.relocatable = 0;
	ck_assert_int_eq(load_bz(&b, &ent), -EFAULT);
}
END_TEST

START_TEST(test_initrd_limits)
{
	static uint8_t m[8192];
	struct boot_module mod = { m, sizeof(m), NULL };
	struct test_bz b;
	struct boot_entry ent;
	uint8_t *huge;
	uint64_t rd;

	memset(m, 0x42, sizeof(m));
	vm.cfg.modules = &mod;
	vm.cfg.nr_modules = 1;
	/* initrd_addr_max caps the end of the initrd. */
	test_bz_defaults(&b);
	b.initrd_max = 32 * MiB - 1;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(g32(ZP + 0x218), 32 * MiB - 8192);
	ck_assert_uint_eq(g32(ZP + 0x21c), 8192);
	ck_assert_mem_eq(test_gpa(&vm, 32 * MiB - 8192), m, sizeof(m));
	/* Unaligned limit: rounded down to a page. */
	b.initrd_max = 32 * MiB + 4096 + 100;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(g32(ZP + 0x218), 32 * MiB - 4096);
	/* Kernel at the top of RAM: initrd goes right below it. */
	test_bz_defaults(&b);
	b.pref = 60 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(ent.rip, 60 * MiB + 0x200);
	rd = g32(ZP + 0x218);
	ck_assert_uint_eq(rd, 60 * MiB - 8192);
	/* Limit inside the kernel: below it. */
	b.initrd_max = 62 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(g32(ZP + 0x218), 60 * MiB - 8192);
	/* Limit below 1 MiB + size: no room. */
	test_bz_defaults(&b);
	b.initrd_max = 1 * MiB + 4096;
	ck_assert_int_eq(load_bz(&b, &ent), -ENOMEM);
	/* initrd larger than RAM. */
	test_bz_defaults(&b);
	huge = calloc(1, 70 * MiB);
	ck_assert_ptr_nonnull(huge);
	mod.data = huge;
	mod.len = 70 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), -ENOMEM);
	/* Fits only between kernel end (16 + 4 MiB) and the top: 44 MiB does. */
	mod.len = 44 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(g32(ZP + 0x218), 20 * MiB);
	/* One byte more fits neither above nor below (15 MiB) the kernel. */
	mod.len = 44 * MiB + 1;
	ck_assert_int_eq(load_bz(&b, &ent), -ENOMEM);
	/* initrd_addr_max = 16 MiB - 1 forces a 15 MiB initrd below the kernel, from 1 MiB. */
	mod.len = 15 * MiB;
	b.initrd_max = 16 * MiB - 1;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(g32(ZP + 0x218), 1 * MiB);
	ck_assert_mem_eq(test_gpa(&vm, 1 * MiB), huge, 4096);
	mod.len = 15 * MiB + 1;
	ck_assert_int_eq(load_bz(&b, &ent), -ENOMEM);
	b.initrd_max = 0x7fffffff;
	free(huge);
	/* Many modules whose padded sum overflows 4 GiB. */
	{
		struct boot_module many[3] = { { m, 2 * GiB, NULL }, { m, 2 * GiB, NULL },
					       { m, 1, NULL } };

		vm.cfg.modules = many;
		vm.cfg.nr_modules = 3;
		ck_assert_int_eq(load_bz(&b, &ent), -ENOMEM);
	}
	/* No modules: ramdisk fields zero. */
	vm.cfg.nr_modules = 0;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(g32(ZP + 0x218), 0);
	ck_assert_uint_eq(g32(ZP + 0x21c), 0);
}
END_TEST

START_TEST(test_header_rejects)
{
	struct test_bz b;
	struct boot_entry ent;
	size_t len;

	/* Not a bzImage. */
	test_bz_defaults(&b);
	len = test_build_bz(img, IMG_CAP, &b);
	vm.cfg.kernel = img;
	img[0x202] = 'h';
	vm.cfg.kernel_len = len;
	ck_assert_int_eq(boot_load_bzimage(&vm.cfg, &ent), -ENOEXEC);
	ck_assert_int_eq(boot_load(&vm.cfg, &ent, &(const char *){ NULL }), -ENOEXEC);
	img[0x202] = 'H';
	vm.cfg.kernel_len = 0x205;
	ck_assert_int_eq(boot_load_bzimage(&vm.cfg, &ent), -ENOEXEC);
	/* Truncated inside the 2.12 header. */
	vm.cfg.kernel_len = 0x260;
	ck_assert_int_eq(boot_load_bzimage(&vm.cfg, &ent), -EINVAL);
	/* Only the setup code, no protected-mode kernel. */
	vm.cfg.kernel_len = 5 * 512;
	ck_assert_int_eq(boot_load_bzimage(&vm.cfg, &ent), -EINVAL);
	vm.cfg.kernel_len = 5 * 512 + 1;
	ck_assert_int_eq(boot_load_bzimage(&vm.cfg, &ent), 0);

	/* Protocol versions: 2.12 is the oldest with a 64-bit entry flag. */
	test_bz_defaults(&b);
	b.version = 0x020c;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	b.version = 0x020b;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	b.version = 0x0206;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	b.version = 0x0200;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	/* 32-bit only kernel, zImage (not LOADED_HIGH). */
	test_bz_defaults(&b);
	b.xloadflags = 0x2;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	test_bz_defaults(&b);
	b.loadflags = 0x80;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	/* Bad alignment values. */
	test_bz_defaults(&b);
	b.align = 0;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	b.align = 3 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	/* Header end before init_size. */
	test_bz_defaults(&b);
	b.jump_off = 0x60;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	/* Header end far beyond the header: copy stops at 0x290. */
	b.jump_off = 0xff;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x270), 0x5a);
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x28f), 0x5a);
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x290), 0);
	/* Boot flag missing. */
	test_bz_defaults(&b);
	vm.cfg.kernel_len = test_build_bz(img, IMG_CAP, &b);
	img[0x1fe] = 0;
	ck_assert_int_eq(boot_load_bzimage(&vm.cfg, &ent), -EINVAL);
	/* setup_sects pointing past the end of the file. */
	test_bz_defaults(&b);
	b.setup_sects = 40;
	vm.cfg.kernel_len = test_build_bz(img, IMG_CAP, &b);
	ck_assert_int_eq(boot_load_bzimage(&vm.cfg, &ent), 0);
	ck_assert_uint_eq(*test_gpa(&vm, 16 * MiB), test_pattern(0));
	img[0x1f1] = 0xff;
	ck_assert_int_eq(boot_load_bzimage(&vm.cfg, &ent), -EINVAL);
}
END_TEST

START_TEST(test_cmdline_and_map)
{
	static struct boot_e820 many[BOOT_MAX_E820 + 1];
	struct test_bz b;
	struct boot_entry ent;
	char line[64];

	test_bz_defaults(&b);
	b.cmdline_size = 10;
	vm.cfg.cmdline = "0123456789";
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_str_eq((const char *)test_gpa(&vm, 0x12000), "0123456789");
	vm.cfg.cmdline = "0123456789a";
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	/* No command line: an empty string, still pointed to. */
	vm.cfg.cmdline = NULL;
	memset(test_gpa(&vm, 0x12000), 'x', 4);
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(*test_gpa(&vm, 0x12000), 0);
	ck_assert_uint_eq(g32(ZP + 0x228), 0x12000);

	/* The full 128-entry map is copied; one more is refused. */
	for (unsigned int i = 0; i < BOOT_MAX_E820 + 1; i++)
		many[i] = (struct boot_e820){ 1 * MiB * i, 1 * MiB, i == 16 ? 2 : 1 };
	many[0].len = 0xe0000;
	vm.cfg.map = many;
	vm.cfg.nr_map = BOOT_MAX_E820;
	b.init_size = 1 * MiB;
	b.align = 1 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x1e8), BOOT_MAX_E820);
	ck_assert_uint_eq(g64(ZP + 0x2d0 + 20 * 127), 127 * MiB);
	ck_assert_uint_eq(g32(ZP + 0x2d0 + 20 * 16 + 16), 2);
	/* The reserved entry at 16 MiB makes pref_address unusable: kernel moves. */
	ck_assert_uint_eq(ent.rip, 1 * MiB + 0x200);
	b.pref = 17 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), 0);
	ck_assert_uint_eq(ent.rip, 17 * MiB + 0x200);
	/* Split RAM entries are not merged: 4 MiB finds no single entry. */
	b.init_size = 4 * MiB;
	ck_assert_int_eq(load_bz(&b, &ent), -ENOMEM);
	vm.cfg.nr_map = BOOT_MAX_E820 + 1;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	/* Overflowing map entry. */
	many[1] = (struct boot_e820){ ~0ULL - 10, 100, 1 };
	vm.cfg.nr_map = 2;
	ck_assert_int_eq(load_bz(&b, &ent), -EINVAL);
	/* Boot data area not RAM (map says reserved there). */
	many[0] = (struct boot_e820){ 0, 0x1000, 1 };
	many[1] = (struct boot_e820){ 1 * MiB, TEST_RAM_SIZE - 1 * MiB, 1 };
	ck_assert_int_eq(load_bz(&b, &ent), -ENOMEM);
	snprintf(line, sizeof(line), "%s", boot_strerror(-ENOMEM));
	ck_assert_ptr_nonnull(strstr(line, "fit"));
}
END_TEST

/* Parses a real distribution kernel when one is on this machine; skips loudly otherwise. */
START_TEST(test_real_kernel)
{
	const char *env = getenv("NESTVM_TEST_BZIMAGE");
	const char *pats[] = { "/boot/vmlinuz-*", "/tmp/nested/*vmlinuz*", "/tmp/nested/*/vmlinuz*" };
	char path[4096] = "";
	struct test_vm big;
	struct boot_entry ent;
	uint8_t *buf;
	long flen;
	FILE *f;

	if (env)
		snprintf(path, sizeof(path), "%s", env);
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]) && !path[0]; i++) {
		glob_t g;

		if (glob(pats[i], 0, NULL, &g) == 0 && g.gl_pathc)
			snprintf(path, sizeof(path), "%s", g.gl_pathv[0]);
		globfree(&g);
	}
	if (!path[0]) {
		printf("test_real_kernel: SKIP: no /boot/vmlinuz-*, /tmp/nested kernel or "
		       "NESTVM_TEST_BZIMAGE\n");
		return;
	}
	f = fopen(path, "rb");
	if (!f) {
		printf("test_real_kernel: SKIP: cannot read %s\n", path);
		return;
	}
	fseek(f, 0, SEEK_END);
	flen = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)flen);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)flen, f), flen);
	fclose(f);

	test_vm_init(&big, 512 * MiB);
	big.cfg.kernel = buf;
	big.cfg.kernel_len = (size_t)flen;
	big.cfg.cmdline = "console=ttyS0";
	ck_assert_int_eq(boot_load_bzimage(&big.cfg, &ent), 0);
	printf("test_real_kernel: %s: protocol %#x, entry %#llx\n", path,
	       le16_load(big.ram + ZP + 0x206), (unsigned long long)ent.rip);
	ck_assert_mem_eq(big.ram + ZP + 0x202, "HdrS", 4);
	ck_assert_uint_eq(big.ram[ZP + 0x210], 0xff);
	ck_assert(ent.rip >= 1 * MiB && ent.rip < 512 * MiB);
	test_vm_destroy(&big);
	free(buf);
}
END_TEST

/* An uncompressed vmlinux (ELF64, no multiboot header): segments, bss, zero page, entry. */
START_TEST(test_vmlinux)
{
	static uint8_t m0[3000];
	struct boot_module mods[1] = { { m0, sizeof(m0), NULL } };
	struct test_elf e = { .is64 = 1, .entry = 16 * MiB + 0x40, .nr_segs = 2 };
	struct boot_entry ent;
	const char *fmt = NULL;
	uint64_t rd, rd_len, end = 16 * MiB + 0x9000;
	size_t len;

	memset(m0, 0x5a, sizeof(m0));
	/* Text at its link address (virtual), data with a bss tail, like a kernel's segments. */
	e.segs[0] = (struct test_seg){ 1, 16 * MiB, 0xffffffff81000000ULL, 0x3000, 0x3000, 0 };
	e.segs[1] = (struct test_seg){ 1, 16 * MiB + 0x4000, 0, 0x800, 0x5000, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	memset(img + 0x200, 0, 12); /* no multiboot header: a vmlinux has none */
	memset(test_gpa(&vm, 16 * MiB), 0xaa, 0x10000);
	vm.cfg.kernel = img;
	vm.cfg.kernel_len = len;
	vm.cfg.cmdline = "console=ttyS0 quiet";
	vm.cfg.modules = mods;
	vm.cfg.nr_modules = 1;
	ck_assert_int_eq(boot_load(&vm.cfg, &ent, &fmt), 0);
	ck_assert_str_eq(fmt, "vmlinux");
	ck_assert_int_eq(ent.mode, BOOT_LONG64);
	ck_assert_uint_eq(ent.rip, 16 * MiB + 0x40);
	ck_assert_uint_eq(ent.rsi, ZP);
	ck_assert_uint_eq(ent.cr3, 0x20000);
	ck_assert_uint_eq(ent.cs, 0x10);
	for (uint64_t i = 0; i < 0x3000; i++)
		ck_assert_uint_eq(*test_gpa(&vm, 16 * MiB + i), test_pattern(e.segs[0].offset + i));
	for (uint64_t i = 0; i < 0x800; i++)
		ck_assert_uint_eq(*test_gpa(&vm, 16 * MiB + 0x4000 + i),
				  test_pattern(e.segs[1].offset + i));
	for (uint64_t i = 0x800; i < 0x5000; i++)
		ck_assert_uint_eq(*test_gpa(&vm, 16 * MiB + 0x4000 + i), 0);
	ck_assert_uint_eq(*test_gpa(&vm, end), 0xaa); /* nothing written past the last segment */

	/* The zero page's setup header is made by the loader. */
	ck_assert_mem_eq(test_gpa(&vm, ZP + 0x202), "HdrS", 4);
	ck_assert_uint_eq(le16_load(test_gpa(&vm, ZP + 0x1fe)), 0xaa55);
	ck_assert_uint_eq(le16_load(test_gpa(&vm, ZP + 0x206)), 0x020f);
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x210), 0xff);
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x211), 0x01);
	ck_assert_uint_eq(g32(ZP + 0x214), 16 * MiB);
	ck_assert_uint_eq(g32(ZP + 0x228), 0x12000);
	ck_assert_str_eq((const char *)test_gpa(&vm, 0x12000), "console=ttyS0 quiet");
	ck_assert_uint_eq(*test_gpa(&vm, ZP + 0x1e8), 3);
	rd = g32(ZP + 0x218);
	rd_len = g32(ZP + 0x21c);
	ck_assert_uint_eq(rd_len, 3000);
	ck_assert(rd >= end || rd + rd_len <= 16 * MiB);
	ck_assert_mem_eq(test_gpa(&vm, rd), m0, sizeof(m0));
}
END_TEST

/* What the vmlinux loader refuses: not x86-64 ELF64, or a segment below 1 MiB. */
START_TEST(test_vmlinux_rejects)
{
	struct test_elf e = { .is64 = 0, .entry = 16 * MiB, .nr_segs = 1 };
	struct boot_entry ent;
	const char *fmt = NULL;
	size_t len;

	e.segs[0] = (struct test_seg){ 1, 16 * MiB, 16 * MiB, 0x100, 0x100, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	memset(img + 0x200, 0, 12);
	vm.cfg.kernel = img;
	vm.cfg.kernel_len = len;
	ck_assert_int_eq(boot_load(&vm.cfg, &ent, &fmt), -ENOEXEC); /* ELF32 without multiboot */

	e = (struct test_elf){ .is64 = 1, .entry = 0x80000, .nr_segs = 1 };
	e.segs[0] = (struct test_seg){ 1, 0x80000, 0x80000, 0x100, 0x100, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	memset(img + 0x200, 0, 12);
	vm.cfg.kernel_len = len;
	ck_assert_int_eq(boot_load_vmlinux(&vm.cfg, &ent), -EINVAL);

	e = (struct test_elf){ .is64 = 1, .entry = 16 * MiB, .nr_segs = 1 };
	e.segs[0] = (struct test_seg){ 1, TEST_RAM_SIZE - 0x100, 16 * MiB, 0x100, 0x1000, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	memset(img + 0x200, 0, 12);
	vm.cfg.kernel_len = len;
	ck_assert_int_eq(boot_load_vmlinux(&vm.cfg, &ent), -EFAULT); /* bss past the end of RAM */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("bzimage");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_placement);
	tcase_add_test(tc, test_initrd_limits);
	tcase_add_test(tc, test_header_rejects);
	tcase_add_test(tc, test_cmdline_and_map);
	tcase_add_test(tc, test_real_kernel);
	tcase_add_test(tc, test_vmlinux);
	tcase_add_test(tc, test_vmlinux_rejects);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(suite());
}
