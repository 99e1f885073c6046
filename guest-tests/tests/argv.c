/* SPDX-License-Identifier: MIT */
/*
 * argv: the multiboot command line follows QEMU's and GRUB's convention, the kernel's file name
 * first and the -append words after it (tests.list gives this test "-append 'one -two 3=x'").
 */
#include "guest.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

void test_main(void)
{
	static const char *const want[] = { "one", "-two", "3=x" };

	tap_plan(5);
	for (int i = 0; i < guest_argc; i++)
		tap_diag("argv[%d] = '%s'", i, guest_argv[i]);
	tap_ok(guest_argc == 4, "argc is 4: the file name and three words (got %d)", guest_argc);
	tap_ok(guest_argc >= 1 && ends_with(guest_argv[0], "argv.elf"),
	       "argv[0] is the kernel's file name (%s)", guest_argc >= 1 ? guest_argv[0] : "(none)");
	for (int i = 0; i < 3; i++)
		tap_ok(guest_argc > i + 1 && strcmp(guest_argv[i + 1], want[i]) == 0,
		       "argv[%d] is '%s'", i + 1, want[i]);
}
