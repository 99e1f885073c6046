/* SPDX-License-Identifier: MIT */
/* Unit tests for the ACPI PM block: soft-off, SCI_EN, W1C status, SCI level, the PM timer. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "check-run.h"
#include "devices/platform/platform-internal.h"

#define PM 0x600
#define SCI 9

struct fake_ctl {
	int status;
	unsigned int shutdowns;
};

static void fake_shutdown(void *ctx, int status)
{
	struct fake_ctl *f = ctx;

	f->status = status;
	f->shutdowns++;
}

static void fake_reset(void *ctx)
{
	ck_abort_msg("the PM block never resets");
}

static const struct vmctl_ops fake_ctl_ops = { fake_shutdown, fake_reset };

static bool sci_level;
static unsigned int sci_calls;

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	ck_assert_uint_eq(gsi, SCI);
	sci_level = level;
	sci_calls++;
}

static void fake_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	ck_abort_msg("no MSIs here");
}

static const struct irq_chip_ops fake_irq_ops = { fake_set_level, fake_send_msi };

static uint64_t fake_ns;

static uint64_t fake_now(void *ctx)
{
	return *(uint64_t *)ctx;
}

static struct bus bus;
static struct fake_ctl fctl;
static const struct vmctl ctl = { &fake_ctl_ops, &fctl };
static const struct irq_chip chip = { &fake_irq_ops, NULL };
static struct acpi_pm *pm;

static void setup(void)
{
	bus_init(&bus);
	fctl = (struct fake_ctl){ .status = -1 };
	sci_level = false;
	sci_calls = 0;
	pm = acpi_pm_create(&bus, PM, &chip, SCI, &ctl);
	ck_assert_ptr_nonnull(pm);
}

static void teardown(void)
{
	acpi_pm_destroy(pm);
}

static uint64_t rd(unsigned int off, unsigned int size)
{
	return bus_read(&bus, BUS_PIO, PM + off, size);
}

static void wr(unsigned int off, uint64_t v, unsigned int size)
{
	bus_write(&bus, BUS_PIO, PM + off, v, size);
}

static uint16_t slp(unsigned int typ, bool en)
{
	return (uint16_t)(FIELD_PREP(ACPI_PM1_SLP_TYP, typ) | (en ? ACPI_PM1_SLP_EN : 0));
}

START_TEST(test_power_off_s5)
{
	wr(ACPI_PM1_CNT, slp(0, false), 2);
	ck_assert_uint_eq(fctl.shutdowns, 0);
	wr(ACPI_PM1_CNT, slp(0, true), 2);
	ck_assert_uint_eq(fctl.shutdowns, 1);
	ck_assert_int_eq(fctl.status, 0);
}
END_TEST

START_TEST(test_other_sleep_types_ignored)
{
	for (unsigned int typ = 1; typ < 8; typ++) {
		wr(ACPI_PM1_CNT, slp(typ, true) | ACPI_PM1_SCI_EN, 2);
		/* SLP_EN is write-only; SLP_TYP reads back. */
		ck_assert_uint_eq(rd(ACPI_PM1_CNT, 2), slp(typ, false) | ACPI_PM1_SCI_EN);
	}
	ck_assert_uint_eq(fctl.shutdowns, 0);
	/* Wrong sizes never reach the control logic. */
	wr(ACPI_PM1_CNT, slp(0, true), 1);
	bus_write(&bus, BUS_PIO, PM + ACPI_PM1_CNT, slp(0, true), 4);
	ck_assert_uint_eq(fctl.shutdowns, 0);
}
END_TEST

START_TEST(test_sci_en_always_set)
{
	ck_assert_uint_eq(rd(ACPI_PM1_CNT, 2), ACPI_PM1_SCI_EN);
	wr(ACPI_PM1_CNT, 0, 2);
	ck_assert_uint_eq(rd(ACPI_PM1_CNT, 2), ACPI_PM1_SCI_EN);
	wr(ACPI_PM1_CNT, ACPI_PM1_BM_RLD | ACPI_PM1_GBL_RLS, 2);
	ck_assert_uint_eq(rd(ACPI_PM1_CNT, 2), ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD);
}
END_TEST

START_TEST(test_bad_size_and_offset)
{
	ck_assert_uint_eq(rd(ACPI_PM1_CNT, 1), 0xff);
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 4), 0xffffffff);
	ck_assert_uint_eq(rd(ACPI_PM_TMR, 2), 0xffff);
	ck_assert_uint_eq(rd(0x6, 2), 0xffff);
	ck_assert_uint_eq(rd(0xc, 4), 0xffffffff);
	/* The timer is read-only. */
	wr(ACPI_PM_TMR, 0, 4);
	wr(ACPI_PM_TMR, 0, 2);
	ck_assert_uint_eq(fctl.shutdowns, 0);
	ck_assert_ptr_null(acpi_pm_create(&bus, PM + 8, &chip, SCI, &ctl));
	ck_assert_int_eq(errno, EEXIST);
}
END_TEST

START_TEST(test_power_button_sci)
{
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 2), 0);
	acpi_pm_power_button(pm);
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 2), ACPI_PM1_PWRBTN_STS);
	ck_assert(!sci_level); /* not enabled */
	wr(ACPI_PM1_EN, 0xffff, 2);
	/* TMR_EN unsupported; GBL_EN and RTC_EN stick (Linux logs ACPI errors otherwise). */
	ck_assert_uint_eq(rd(ACPI_PM1_EN, 2), ACPI_PM1_PWRBTN_EN | ACPI_PM1_GBL_EN | ACPI_PM1_RTC_EN);
	ck_assert(sci_level);
	/* W1C: writing 0 changes nothing, writing the bit clears it and drops the SCI. */
	wr(ACPI_PM1_STS, 0, 2);
	ck_assert(sci_level);
	wr(ACPI_PM1_STS, ACPI_PM1_PWRBTN_STS, 2);
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 2), 0);
	ck_assert(!sci_level);
	ck_assert_uint_eq(sci_calls, 2);
}
END_TEST

/* The host's press (SIGTERM): only an OS that enabled the event gets it, then like hardware. */
START_TEST(test_press_when_listening)
{
	ck_assert(!acpi_pm_press_power_button(pm));
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 2), 0); /* nothing latched for a later enable */
	ck_assert(!sci_level);
	wr(ACPI_PM1_EN, ACPI_PM1_GBL_EN, 2);
	ck_assert(!acpi_pm_press_power_button(pm));
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 2), 0);
	wr(ACPI_PM1_EN, ACPI_PM1_PWRBTN_EN, 2);
	ck_assert(acpi_pm_press_power_button(pm));
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 2), ACPI_PM1_PWRBTN_STS);
	ck_assert(sci_level);
	/* A second press while the first is unacknowledged keeps one level. */
	ck_assert(acpi_pm_press_power_button(pm));
	ck_assert_uint_eq(sci_calls, 1);
	wr(ACPI_PM1_STS, ACPI_PM1_PWRBTN_STS, 2);
	ck_assert(!sci_level);
	/* The OS's S5 after the button: power-off with status 0. */
	wr(ACPI_PM1_CNT, ACPI_PM1_SLP_EN, 2);
	ck_assert_uint_eq(fctl.shutdowns, 1);
}
END_TEST

START_TEST(test_ticks_math)
{
	ck_assert_uint_eq(acpi_pm_ticks(0), 0);
	ck_assert_uint_eq(acpi_pm_ticks(1000000000ULL), ACPI_PM_TIMER_HZ);
	ck_assert_uint_eq(acpi_pm_ticks(3600ULL * 1000000000ULL), 3600ULL * ACPI_PM_TIMER_HZ);
	/* No overflow far beyond 2^64 / 3579545 ns (about 85 minutes). */
	ck_assert_uint_eq(acpi_pm_ticks(100000ULL * 1000000000ULL), 100000ULL * ACPI_PM_TIMER_HZ);
	ck_assert_uint_eq(acpi_pm_ticks(279), 0); /* one tick is 279.37 ns */
	ck_assert_uint_eq(acpi_pm_ticks(280), 1);
}
END_TEST

START_TEST(test_timer_counts_and_wraps)
{
	/* Ticks 2^24 land at ceil(2^24 * 1e9 / 3579545) ns. */
	const uint64_t wrap_ns = (16777216ULL * 1000000000ULL + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;

	fake_ns = 5000000000ULL; /* the origin is wherever the clock stands */
	acpi_pm_set_clock(pm, fake_now, &fake_ns);
	ck_assert_uint_eq(rd(ACPI_PM_TMR, 4), 0);
	fake_ns += 1000000; /* 1 ms */
	ck_assert_uint_eq(rd(ACPI_PM_TMR, 4), 3579);
	fake_ns = 5000000000ULL + wrap_ns - 1000;
	/* 1000 ns = 3.58 ticks before the wrap: 2^24 - 4. */
	ck_assert_uint_eq(rd(ACPI_PM_TMR, 4), 0xfffffc);
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 2), ACPI_PM1_TMR_STS); /* bit 23 toggled */
	wr(ACPI_PM1_STS, ACPI_PM1_TMR_STS, 2);
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 2), 0);
	fake_ns = 5000000000ULL + wrap_ns;
	ck_assert_uint_eq(rd(ACPI_PM_TMR, 4), 0);
	ck_assert_uint_eq(rd(ACPI_PM1_STS, 2), ACPI_PM1_TMR_STS);
	fake_ns += 1000000000ULL;
	ck_assert_uint_eq(rd(ACPI_PM_TMR, 4), ACPI_PM_TIMER_HZ & 0xffffff);
	ck_assert(!sci_level); /* TMR_STS never raises the SCI */
}
END_TEST

START_TEST(test_timer_real_clock_advances)
{
	uint32_t a = (uint32_t)rd(ACPI_PM_TMR, 4), b;

	ck_assert_uint_le(a, 0xffffff);
	usleep(2000);
	b = (uint32_t)rd(ACPI_PM_TMR, 4);
	/* At least 2 ms = 7159 ticks later (modulo 2^24). */
	ck_assert_uint_ge((b - a) & 0xffffff, 7000);
}
END_TEST

static Suite *acpi_pm_suite(void)
{
	Suite *s = suite_create("acpi-pm");
	TCase *tc = tcase_create("acpi-pm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_power_off_s5);
	tcase_add_test(tc, test_other_sleep_types_ignored);
	tcase_add_test(tc, test_sci_en_always_set);
	tcase_add_test(tc, test_bad_size_and_offset);
	tcase_add_test(tc, test_power_button_sci);
	tcase_add_test(tc, test_press_when_listening);
	tcase_add_test(tc, test_ticks_math);
	tcase_add_test(tc, test_timer_counts_and_wraps);
	tcase_add_test(tc, test_timer_real_clock_advances);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(acpi_pm_suite());
}
