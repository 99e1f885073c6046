/* SPDX-License-Identifier: MIT */
/* BSP C entry: per-CPU area, console, IDT, board discovery, allocator, then the test. */
#include "guest.h"

#define MULTIBOOT_BOOT_MAGIC 0x2BADB002
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_CMDLINE_WORD 4 /* info offset 16 */

int guest_argc;
char *guest_argv[GUEST_MAX_ARGS + 1];
static char args_buf[GUEST_ARGS_BUF];

/*
 * argv from the multiboot command line. The loaders (QEMU, GRUB, nestvm) put the kernel's file
 * name first, so argv[0] is the name and the -append words follow; words are separated by
 * spaces, the buffer and the count are bounded.
 */
static void parse_args(const uint32_t *mbi)
{
	const char *src;
	size_t n = 0;

	guest_argc = 0;
	guest_argv[0] = NULL;
	if (!mbi || !(mbi[0] & MBI_FLAG_CMDLINE) || !mbi[MBI_CMDLINE_WORD])
		return;
	src = (const char *)(uintptr_t)mbi[MBI_CMDLINE_WORD];
	for (; n + 1 < sizeof(args_buf) && src[n]; n++)
		args_buf[n] = src[n] == ' ' || src[n] == '\t' ? 0 : src[n];
	args_buf[n] = 0;
	for (size_t i = 0; i < n && guest_argc < GUEST_MAX_ARGS; i++) {
		if (args_buf[i] && (i == 0 || !args_buf[i - 1]))
			guest_argv[guest_argc++] = &args_buf[i];
	}
	guest_argv[guest_argc] = NULL;
}

void kmain_bsp(const uint32_t *mbi, uint32_t magic);

void kmain_bsp(const uint32_t *mbi, uint32_t magic)
{
	percpu_init(0);
	console_init();
	printf("# nestvm guest test: multiboot magic 0x%x, info at %p\n", magic, mbi);
	idt_init();
	idt_load();
	if (magic != MULTIBOOT_BOOT_MAGIC) {
		printf("# warning: bad multiboot magic, ignoring the info structure\n");
		mbi = NULL;
	}
	parse_args(mbi);
	board_init(mbi);
	alloc_init();
	lapic_enable();
	if (!board.from_dtb)
		pic_disable();
	test_main();
	tap_done();
}
