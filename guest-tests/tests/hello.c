/* SPDX-License-Identifier: MIT */
/* hello: the library boots, prints, reads the board, allocates, and exits with a pass. */
#include "guest.h"

void test_main(void)
{
	uint64_t rsp, fsbase;
	uint8_t *a, *b;
	char buf[32];

	tap_plan(5);
	printf("Hello from a nestvm guest test\n");
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	tap_ok(rsp < (1ULL << 32), "running in long mode on a low identity-mapped stack (rsp 0x%lx)", rsp);
	fsbase = rdmsr(0xC0000100);
	tap_ok(fsbase != 0 && *(volatile uint64_t *)(uintptr_t)(fsbase + 0x28) != 0,
	       "per-CPU area with a stack canary at %%fs:0x28");
	snprintf(buf, sizeof(buf), "%d %u %x %s %05d", -42, 7u, 0xbeefu, "s", 12);
	tap_ok(strcmp(buf, "-42 7 beef s 00012") == 0, "printf formatting (\"%s\")", buf);
	a = alloc_pages(1);
	b = alloc_pages(2);
	tap_ok(a && b && a != b && (uintptr_t)a % PAGE_SIZE == 0 && b[PAGE_SIZE] == 0,
	       "page allocator hands out distinct zeroed pages (%p, %p)", a, b);
	tap_ok(board.nr_cpus >= 1 && board.ecam_base != 0, "board discovered from %s",
	       board.from_dtb ? "etc/board.dtb" : "ACPI (no etc/board.dtb: QEMU fallback)");
}
