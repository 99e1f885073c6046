/* SPDX-License-Identifier: MIT */
/* Unit tests for the CMOS RTC: BCD/binary and 12/24-hour time, guest-set time, RAM, status registers. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "devices/rtc/rtc.h"
#include "vmm/core/bus.h"

#define PORT 0x70

static struct bus bus;
static struct rtc *rtc;
static int64_t fake_now_s;

static int64_t fake_now(void *ctx)
{
	return *(int64_t *)ctx;
}

static void setup(void)
{
	bus_init(&bus);
	rtc = rtc_create(&bus, PORT);
	ck_assert_ptr_nonnull(rtc);
	/* 2024-02-29 13:45:56 UTC, a Thursday. */
	fake_now_s = 1709214356;
	rtc_set_clock(rtc, fake_now, &fake_now_s);
}

static void teardown(void)
{
	rtc_destroy(rtc);
}

static uint8_t rd(uint8_t idx)
{
	bus_write(&bus, BUS_PIO, PORT, idx, 1);
	return (uint8_t)bus_read(&bus, BUS_PIO, PORT + 1, 1);
}

static void wr(uint8_t idx, uint8_t v)
{
	bus_write(&bus, BUS_PIO, PORT, idx, 1);
	bus_write(&bus, BUS_PIO, PORT + 1, v, 1);
}

START_TEST(test_bcd_24h_after_reset)
{
	ck_assert_uint_eq(rd(0x0b), 0x02); /* 24-hour, BCD */
	ck_assert_uint_eq(rd(0x00), 0x56);
	ck_assert_uint_eq(rd(0x02), 0x45);
	ck_assert_uint_eq(rd(0x04), 0x13);
	ck_assert_uint_eq(rd(0x06), 0x05); /* Sunday = 1 */
	ck_assert_uint_eq(rd(0x07), 0x29);
	ck_assert_uint_eq(rd(0x08), 0x02);
	ck_assert_uint_eq(rd(0x09), 0x24);
	ck_assert_uint_eq(rd(0x32), 0x20);
	fake_now_s += 10;
	ck_assert_uint_eq(rd(0x00), 0x06);
	ck_assert_uint_eq(rd(0x02), 0x46);
}
END_TEST

START_TEST(test_binary_and_12h)
{
	wr(0x0b, 0x04); /* binary, 12-hour */
	ck_assert_uint_eq(rd(0x0b), 0x04);
	ck_assert_uint_eq(rd(0x00), 56);
	ck_assert_uint_eq(rd(0x04), 0x80 | 1); /* 1 PM */
	ck_assert_uint_eq(rd(0x09), 24);
	fake_now_s -= 13 * 3600; /* 00:45 */
	ck_assert_uint_eq(rd(0x04), 12);  /* 12 AM */
	wr(0x0b, 0x00);                   /* BCD, 12-hour */
	ck_assert_uint_eq(rd(0x04), 0x12);
}
END_TEST

START_TEST(test_guest_sets_time)
{
	wr(0x0b, 0x82); /* SET, BCD 24h */
	wr(0x09, 0x30);
	wr(0x08, 0x12);
	wr(0x07, 0x31);
	wr(0x04, 0x23);
	wr(0x02, 0x59);
	wr(0x00, 0x50);
	wr(0x0b, 0x02);
	ck_assert_uint_eq(rd(0x09), 0x30);
	ck_assert_uint_eq(rd(0x08), 0x12);
	ck_assert_uint_eq(rd(0x07), 0x31);
	ck_assert_uint_eq(rd(0x04), 0x23);
	/* The clock keeps running from the new time: 10 s later it is 2031. */
	fake_now_s += 10;
	ck_assert_uint_eq(rd(0x09), 0x31);
	ck_assert_uint_eq(rd(0x08), 0x01);
	ck_assert_uint_eq(rd(0x07), 0x01);
	ck_assert_uint_eq(rd(0x04), 0x00);
	ck_assert_uint_eq(rd(0x00), 0x00);
	ck_assert_uint_eq(rd(0x32), 0x20);
}
END_TEST

START_TEST(test_status_registers_and_ram)
{
	ck_assert_uint_eq(rd(0x0a) & 0x80, 0); /* UIP clear: Linux polls it */
	ck_assert_uint_eq(rd(0x0a), 0x26);
	wr(0x0a, 0xa6);
	ck_assert_uint_eq(rd(0x0a), 0x26); /* UIP is read-only */
	ck_assert_uint_eq(rd(0x0d), 0x80); /* VRT: time valid */
	wr(0x0d, 0);
	ck_assert_uint_eq(rd(0x0d), 0x80);
	ck_assert_uint_eq(rd(0x0c), 0);
	wr(0x10, 0x5a);
	wr(0x7f, 0xa5);
	ck_assert_uint_eq(rd(0x10), 0x5a);
	ck_assert_uint_eq(rd(0x7f), 0xa5);
	/* Bit 7 of the index is the NMI mask: index 0x90 is register 0x10. */
	ck_assert_uint_eq(rd(0x90), 0x5a);
	wr(0x01, 0x33); /* alarm bytes are plain storage */
	ck_assert_uint_eq(rd(0x01), 0x33);
}
END_TEST

START_TEST(test_bad_accesses)
{
	/* Wide accesses are ignored and read as all-ones; garbage BCD does not crash. */
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, PORT, 2), 0xffff);
	bus_write(&bus, BUS_PIO, PORT, 0x0000, 2);
	wr(0x00, 0xff);
	wr(0x04, 0xff);
	wr(0x08, 0x00);
	(void)rd(0x00);
	ck_assert_ptr_null(rtc_create(&bus, PORT));
	ck_assert_int_eq(errno, EEXIST);
}
END_TEST

static Suite *rtc_suite(void)
{
	Suite *s = suite_create("rtc");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bcd_24h_after_reset);
	tcase_add_test(tc, test_binary_and_12h);
	tcase_add_test(tc, test_guest_sets_time);
	tcase_add_test(tc, test_status_registers_and_ram);
	tcase_add_test(tc, test_bad_accesses);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rtc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
