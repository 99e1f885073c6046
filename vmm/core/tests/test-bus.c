/* SPDX-License-Identifier: MIT */
/* Unit tests for bus region registration and dispatch. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "vmm/core/bus.h"

struct rec {
	uint64_t last_off, last_val;
	unsigned int last_size, writes;
};

static uint64_t rec_read(void *opaque, uint64_t off, unsigned int size)
{
	struct rec *r = opaque;

	r->last_off = off;
	r->last_size = size;
	return 0x1122334455667788ULL;
}

static void rec_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct rec *r = opaque;

	r->last_off = off;
	r->last_val = val;
	r->last_size = size;
	r->writes++;
}

static const struct bus_ops rec_ops = { rec_read, rec_write };

START_TEST(test_overlap_rejected)
{
	struct bus bus;
	struct rec a = { 0 };

	bus_init(&bus);
	ck_assert_int_eq(bus_add_region(&bus, BUS_PIO, 0x3f8, 8, &rec_ops, &a, "uart"), 0);
	ck_assert_int_eq(bus_add_region(&bus, BUS_PIO, 0x3ff, 1, &rec_ops, &a, "x"), -EEXIST);
	ck_assert_int_eq(bus_add_region(&bus, BUS_PIO, 0x3f0, 9, &rec_ops, &a, "x"), -EEXIST);
	ck_assert_int_eq(bus_add_region(&bus, BUS_PIO, 0x3f0, 8, &rec_ops, &a, "x"), 0);
	ck_assert_int_eq(bus_add_region(&bus, BUS_PIO, 0x400, 1, &rec_ops, &a, "x"), 0);
	ck_assert_int_eq(bus_add_region(&bus, BUS_PIO, 0xffff, 2, &rec_ops, &a, "x"), -EINVAL);
	ck_assert_int_eq(bus_add_region(&bus, BUS_MMIO, ~0ULL - 2, 8, &rec_ops, &a, "x"), -EINVAL);
	ck_assert_int_eq(bus_add_region(&bus, BUS_MMIO, 0, 0, &rec_ops, &a, "x"), -EINVAL);
	/* Same address in the other space is fine. */
	ck_assert_int_eq(bus_add_region(&bus, BUS_MMIO, 0x3f8, 8, &rec_ops, &a, "m"), 0);
}
END_TEST

START_TEST(test_dispatch_and_unclaimed)
{
	struct bus bus;
	struct rec a = { 0 }, b = { 0 };

	bus_init(&bus);
	ck_assert_int_eq(bus_add_region(&bus, BUS_MMIO, 0xfed90000, 0x1000, &rec_ops, &a, "a"), 0);
	ck_assert_int_eq(bus_add_region(&bus, BUS_MMIO, 0xfec00000, 0x1000, &rec_ops, &b, "b"), 0);
	ck_assert_uint_eq(bus_read(&bus, BUS_MMIO, 0xfed90010, 4), 0x55667788);
	ck_assert_uint_eq(a.last_off, 0x10);
	ck_assert_uint_eq(a.last_size, 4);
	bus_write(&bus, BUS_MMIO, 0xfec00ff8, 0xdeadbeefcafeULL, 8);
	ck_assert_uint_eq(b.last_off, 0xff8);
	ck_assert_uint_eq(b.last_val, 0xdeadbeefcafeULL);
	/* Unclaimed memory reads 0 (as on QEMU), writes dropped; all counted. */
	ck_assert_uint_eq(bus_read(&bus, BUS_MMIO, 0x1000, 2), 0);
	ck_assert_uint_eq(bus_read(&bus, BUS_MMIO, 0x1000, 8), 0);
	bus_write(&bus, BUS_MMIO, 0x1000, 5, 4);
	ck_assert_uint_eq(bus.unclaimed[BUS_MMIO], 3);
	/* Unclaimed I/O ports read all-ones. */
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, 0x300, 1), 0xff);
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, 0x300, 2), 0xffff);
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, 0x300, 4), 0xffffffff);
	ck_assert_uint_eq(bus.unclaimed[BUS_PIO], 3);
	/* An access straddling the end of a region is unclaimed and never reaches the device. */
	a.writes = 0;
	bus_write(&bus, BUS_MMIO, 0xfed90ffc, 1, 8);
	ck_assert_uint_eq(a.writes, 0);
	ck_assert_uint_eq(bus_read(&bus, BUS_MMIO, 0xfed90ffe, 4), 0);
	/* Odd sizes are unclaimed. */
	ck_assert_uint_eq(bus_read(&bus, BUS_MMIO, 0xfed90000, 3), 0);
}
END_TEST

/* A read mirror is offered for a page-aligned MMIO region only; reads on the bus still dispatch. */
START_TEST(test_read_mirror)
{
	struct bus bus;
	struct rec a = { 0 };
	void *page = aligned_alloc(BUS_MIRROR_PAGE, 2 * BUS_MIRROR_PAGE);
	const struct bus_region *r;

	ck_assert_ptr_nonnull(page);
	memset(page, 0xab, 2 * BUS_MIRROR_PAGE);
	bus_init(&bus);
	ck_assert_int_eq(bus_add_region(&bus, BUS_MMIO, 0xfed90000, 0x1000, &rec_ops, &a, "a"), 0);
	ck_assert_int_eq(bus_add_region(&bus, BUS_MMIO, 0xfed91000, 0x800, &rec_ops, &a, "half"), 0);
	ck_assert_int_eq(bus_add_region(&bus, BUS_PIO, 0x1000, 0x1000, &rec_ops, &a, "pio"), 0);
	ck_assert_ptr_null(bus_find(&bus, BUS_MMIO, 0xfed90000, 4)->read_mirror);
	ck_assert_int_eq(bus_set_read_mirror(&bus, 0xfed90004, page), -ENOENT);
	ck_assert_int_eq(bus_set_read_mirror(&bus, 0x1000, page), -ENOENT); /* PIO: never */
	ck_assert_int_eq(bus_set_read_mirror(&bus, 0xfed90000, (char *)page + 8), -EINVAL);
	ck_assert_int_eq(bus_set_read_mirror(&bus, 0xfed90000, NULL), -EINVAL);
	ck_assert_int_eq(bus_set_read_mirror(&bus, 0xfed91000, page), -EINVAL); /* len 0x800 */
	ck_assert_ptr_null(bus_find(&bus, BUS_MMIO, 0xfed91000, 4)->read_mirror);
	ck_assert_int_eq(bus_set_read_mirror(&bus, 0xfed90000, page), 0);
	r = bus_find(&bus, BUS_MMIO, 0xfed90ffc, 4);
	ck_assert_ptr_eq(r->read_mirror, page);
	/* bus_read still reaches the device (exits when the mirror is not mapped). */
	ck_assert_uint_eq(bus_read(&bus, BUS_MMIO, 0xfed90010, 4), 0x55667788u);
	ck_assert_uint_eq(a.last_off, 0x10);
	free(page);
}
END_TEST

static Suite *bus_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_overlap_rejected);
	tcase_add_test(tc, test_dispatch_and_unclaimed);
	tcase_add_test(tc, test_read_mirror);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(bus_suite());
}
