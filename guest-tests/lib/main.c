/* SPDX-License-Identifier: MIT */
/* BSP C entry: per-CPU area, console, IDT, board discovery, allocator, then the test. */
#include "guest.h"

#define MULTIBOOT_BOOT_MAGIC 0x2BADB002

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
	board_init(mbi);
	alloc_init();
	lapic_enable();
	if (!board.from_dtb)
		pic_disable();
	test_main();
	tap_done();
}
