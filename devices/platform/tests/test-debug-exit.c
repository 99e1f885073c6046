/* SPDX-License-Identifier: MIT */
/* Unit tests for the debug-exit port: exit statuses for each access size, reads, bad offsets. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "check-run.h"
#include "devices/platform/platform-internal.h"

struct fake_ctl {
	int status;
	unsigned int shutdowns, resets;
};

static void fake_shutdown(void *ctx, int status)
{
	struct fake_ctl *f = ctx;

	f->status = status;
	f->shutdowns++;
}

static void fake_reset(void *ctx)
{
	((struct fake_ctl *)ctx)->resets++;
}

static const struct vmctl_ops fake_ops = { fake_shutdown, fake_reset };

static struct bus bus;
static struct fake_ctl fctl;
static const struct vmctl ctl = { &fake_ops, &fctl };
static struct debug_exit *dx;

static void setup(void)
{
	bus_init(&bus);
	fctl = (struct fake_ctl){ .status = -1 };
	dx = debug_exit_create(&bus, 0xf4, 4, &ctl);
	ck_assert_ptr_nonnull(dx);
}

static void teardown(void)
{
	debug_exit_destroy(dx);
}

static const struct {
	uint64_t v;
	int status;
} cases[] = {
	{ 0x00, 1 }, { 0x01, 3 }, { 0x10, 0x21 }, { 0x7f, 0xff }, { 0x80, 1 },
};

static const unsigned int sizes[] = { 1, 2, 4 };

START_TEST(test_status_each_size)
{
	for (unsigned int s = 0; s < 3; s++) {
		fctl.shutdowns = 0;
		fctl.status = -1;
		bus_write(&bus, BUS_PIO, 0xf4, cases[_i].v, sizes[s]);
		ck_assert_uint_eq(fctl.shutdowns, 1);
		ck_assert_int_eq(fctl.status, cases[_i].status);
	}
	ck_assert_uint_eq(fctl.resets, 0);
}
END_TEST

START_TEST(test_wide_values_truncate)
{
	/* A 2-byte write of 0x1234: (0x2469 & 0xff) = 0x69; a byte write keeps only 0x34. */
	bus_write(&bus, BUS_PIO, 0xf4, 0x1234, 2);
	ck_assert_int_eq(fctl.status, 0x69);
	bus_write(&bus, BUS_PIO, 0xf4, 0x1234, 1);
	ck_assert_int_eq(fctl.status, 0x69);
	bus_write(&bus, BUS_PIO, 0xf4, 0xffffffff, 4);
	ck_assert_int_eq(fctl.status, 0xff);
	ck_assert_uint_eq(fctl.shutdowns, 3);
}
END_TEST

START_TEST(test_reads_and_other_offsets)
{
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, 0xf4, 1), 0xff);
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, 0xf4, 4), 0xffffffff);
	bus_write(&bus, BUS_PIO, 0xf5, 1, 1);
	bus_write(&bus, BUS_PIO, 0xf6, 1, 2);
	ck_assert_uint_eq(fctl.shutdowns, 0);
	/* A second device on the same ports is refused; len 0 is invalid. */
	ck_assert_ptr_null(debug_exit_create(&bus, 0xf6, 1, &ctl));
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_ptr_null(debug_exit_create(&bus, 0x500, 0, &ctl));
	ck_assert_int_eq(errno, EINVAL);
	debug_exit_destroy(NULL);
}
END_TEST

static Suite *debug_exit_suite(void)
{
	Suite *s = suite_create("debug-exit");
	TCase *tc = tcase_create("debug-exit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_status_each_size, 0, 5);
	tcase_add_test(tc, test_wide_values_truncate);
	tcase_add_test(tc, test_reads_and_other_offsets);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(debug_exit_suite());
}
