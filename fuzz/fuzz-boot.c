/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the kernel loaders (Multiboot v1 ELF32/ELF64/a.out-kludge, Linux bzImage and vmlinux)
 * over arbitrary image files, with and without modules, a long command line and a board
 * memory map.
 *
 * Input: a flags byte (bits 0-1 number of modules, bit 2 use the board's e820 map instead of
 * the gmem regions, bit 3 a command line longer than the boot data area), then the kernel
 * file itself (the rest of the input, so reads past its end are caught by ASan).
 * Oracle: no sanitizer report; the result is 0 or one of the documented errors, and on
 * success the entry point and stack lie in guest RAM.
 */
#include <errno.h>

#include "fuzz-util.h"
#include "vmm/boot/boot.h"

#define FZ_RAM_SIZE (32ULL << 20)

static const uint8_t mod_a[] = "initrd-one", mod_b[] = { 1, 2, 3 };
static const struct boot_module mods[3] = {
	{ mod_a, sizeof(mod_a), "first module" },
	{ mod_b, sizeof(mod_b), NULL },
	{ mod_a, 1, "x" },
};

static const struct boot_e820 board_map[] = {
	{ 0, 0xe0000, 1 },
	{ 0xe0000, 0x20000, 2 },
	{ 0x100000, FZ_RAM_SIZE - 0x100000, 1 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct gmem gm;
	static char long_cmdline[8192];
	struct boot_config cfg = { 0 };
	struct boot_entry ent;
	const char *fmt = NULL;
	uint8_t flags;
	int r;

	if (!ram) {
		/* Not cleared between inputs: the loaders only write, never read guest memory. */
		ram = calloc(1, FZ_RAM_SIZE);
		FZ_CHECK(ram != NULL);
		gmem_init_empty(&gm);
		FZ_CHECK(gmem_add_region(&gm, 0, FZ_RAM_SIZE, ram) == 0);
		memset(long_cmdline, 'c', sizeof(long_cmdline) - 1);
	}
	if (size < 1)
		return 0;
	flags = data[0];
	cfg.gmem = &gm;
	cfg.kernel = data + 1;
	cfg.kernel_len = size - 1;
	cfg.cmdline = (flags & 8) ? long_cmdline : "console=ttyS0 nestvm.fuzz=1";
	cfg.modules = mods;
	cfg.nr_modules = flags & 3;
	if (flags & 4) {
		cfg.map = board_map;
		cfg.nr_map = sizeof(board_map) / sizeof(board_map[0]);
	}
	r = boot_load(&cfg, &ent, &fmt);
	FZ_CHECK(r == 0 || r == -ENOEXEC || r == -EINVAL || r == -EFAULT || r == -ENOMEM);
	FZ_CHECK(boot_strerror(r) != NULL);
	if (r == 0) {
		FZ_CHECK(fmt != NULL);
		FZ_CHECK(ent.rsp > 0 && ent.rsp <= FZ_RAM_SIZE);
		FZ_CHECK(ent.mode == BOOT_PROT32 || ent.mode == BOOT_LONG64);
	}
	return 0;
}
