/* SPDX-License-Identifier: MIT */
/* MC146818-compatible CMOS clock and RAM: time registers derived from the host clock plus an offset. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "bits.h"
#include "rtc.h"
#include "vmm/core/bus.h"

/* Register indices (MC146818 datasheet; the same layout every PC BIOS uses). */
#define RTC_SEC 0x00
#define RTC_SEC_ALARM 0x01
#define RTC_MIN 0x02
#define RTC_MIN_ALARM 0x03
#define RTC_HOUR 0x04
#define RTC_HOUR_ALARM 0x05
#define RTC_WDAY 0x06
#define RTC_MDAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32 /* PC convention for the century byte in CMOS RAM */
#define RTC_NR_REGS 128

#define RTC_A_UIP BIT_ULL(7)
#define RTC_A_RW GENMASK_ULL(6, 0) /* divider and rate select */
#define RTC_A_RESET 0x26           /* 32.768 kHz time base, 1024 Hz rate */
#define RTC_B_SET BIT_ULL(7)
#define RTC_B_DM_BINARY BIT_ULL(2)
#define RTC_B_24H BIT_ULL(1)
#define RTC_B_RESET RTC_B_24H
#define RTC_D_VRT BIT_ULL(7)
#define RTC_HOUR_PM 0x80 /* 12-hour mode: bit 7 of the hour byte */
#define RTC_INDEX_MASK 0x7f /* bit 7 of the index port is the NMI mask, not part of the index */

struct rtc {
	pthread_mutex_t lock;
	int64_t (*now)(void *ctx);
	void *now_ctx;
	int64_t offset; /* guest time - host time, seconds */
	uint8_t index;
	uint8_t ram[RTC_NR_REGS]; /* A, B, alarms and CMOS RAM; time bytes are computed */
};

static int64_t wall_clock(void *ctx)
{
	return (int64_t)time(NULL);
}

static bool binary(const struct rtc *rtc)
{
	return (rtc->ram[RTC_REG_B] & RTC_B_DM_BINARY) != 0;
}

static uint8_t to_reg(const struct rtc *rtc, unsigned int v)
{
	return binary(rtc) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned int from_reg(const struct rtc *rtc, uint8_t v)
{
	return binary(rtc) ? v : (unsigned int)((v >> 4) * 10 + (v & 0xf));
}

static void guest_tm(const struct rtc *rtc, struct tm *tm)
{
	time_t t = (time_t)(rtc->now(rtc->now_ctx) + rtc->offset);

	gmtime_r(&t, tm);
}

static uint8_t hour_reg(const struct rtc *rtc, int hour)
{
	unsigned int h12;

	if (rtc->ram[RTC_REG_B] & RTC_B_24H)
		return to_reg(rtc, (unsigned int)hour);
	h12 = (unsigned int)(hour % 12 ? hour % 12 : 12);
	return (uint8_t)(to_reg(rtc, h12) | (hour >= 12 ? RTC_HOUR_PM : 0));
}

static int hour_from_reg(const struct rtc *rtc, uint8_t v)
{
	unsigned int h;

	if (rtc->ram[RTC_REG_B] & RTC_B_24H)
		return (int)from_reg(rtc, v);
	h = from_reg(rtc, v & (uint8_t)~RTC_HOUR_PM) % 12;
	return (int)(h + ((v & RTC_HOUR_PM) ? 12 : 0));
}

static uint8_t read_reg(struct rtc *rtc, uint8_t idx)
{
	struct tm tm;

	if (idx <= RTC_YEAR || idx == RTC_CENTURY) {
		guest_tm(rtc, &tm);
		switch (idx) {
		case RTC_SEC: return to_reg(rtc, (unsigned int)tm.tm_sec % 60);
		case RTC_MIN: return to_reg(rtc, (unsigned int)tm.tm_min);
		case RTC_HOUR: return hour_reg(rtc, tm.tm_hour);
		case RTC_WDAY: return to_reg(rtc, (unsigned int)tm.tm_wday + 1);
		case RTC_MDAY: return to_reg(rtc, (unsigned int)tm.tm_mday);
		case RTC_MONTH: return to_reg(rtc, (unsigned int)tm.tm_mon + 1);
		case RTC_YEAR: return to_reg(rtc, (unsigned int)(tm.tm_year + 1900) % 100);
		case RTC_CENTURY: return to_reg(rtc, (unsigned int)(tm.tm_year + 1900) / 100 % 100);
		default: return rtc->ram[idx]; /* the alarm bytes */
		}
	}
	switch (idx) {
	case RTC_REG_A: return rtc->ram[RTC_REG_A] & RTC_A_RW; /* UIP never set: updates are atomic */
	case RTC_REG_C: return 0;                               /* no interrupt sources */
	case RTC_REG_D: return RTC_D_VRT;                       /* the battery is always good */
	default: return rtc->ram[idx];
	}
}

/* Sets one field of the guest's time; out-of-range values are kept as timegm normalises them. */
static void write_time(struct rtc *rtc, uint8_t idx, uint8_t v)
{
	struct tm tm;
	int year;

	guest_tm(rtc, &tm);
	switch (idx) {
	case RTC_SEC: tm.tm_sec = (int)from_reg(rtc, v); break;
	case RTC_MIN: tm.tm_min = (int)from_reg(rtc, v); break;
	case RTC_HOUR: tm.tm_hour = hour_from_reg(rtc, v); break;
	case RTC_MDAY: tm.tm_mday = (int)from_reg(rtc, v); break;
	case RTC_MONTH: tm.tm_mon = (int)from_reg(rtc, v) - 1; break;
	case RTC_YEAR:
		year = tm.tm_year + 1900;
		tm.tm_year = year - year % 100 + (int)from_reg(rtc, v) - 1900;
		break;
	case RTC_CENTURY:
		year = tm.tm_year + 1900;
		tm.tm_year = (int)from_reg(rtc, v) * 100 + year % 100 - 1900;
		break;
	default: return; /* the day of week follows from the date */
	}
	rtc->offset = (int64_t)timegm(&tm) - rtc->now(rtc->now_ctx);
}

static void write_reg(struct rtc *rtc, uint8_t idx, uint8_t v)
{
	switch (idx) {
	case RTC_SEC: case RTC_MIN: case RTC_HOUR: case RTC_WDAY: case RTC_MDAY: case RTC_MONTH:
	case RTC_YEAR: case RTC_CENTURY:
		write_time(rtc, idx, v);
		break;
	case RTC_REG_A:
		rtc->ram[RTC_REG_A] = (uint8_t)(v & RTC_A_RW);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* read-only */
	default:
		rtc->ram[idx] = v;
		break;
	}
}

static uint64_t rtc_read(void *opaque, uint64_t off, unsigned int size)
{
	struct rtc *rtc = opaque;
	uint64_t v;

	if (size != 1)
		return bus_ones(size);
	pthread_mutex_lock(&rtc->lock);
	v = off == 0 ? rtc->index : read_reg(rtc, rtc->index);
	pthread_mutex_unlock(&rtc->lock);
	return v;
}

static void rtc_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct rtc *rtc = opaque;

	if (size != 1)
		return;
	pthread_mutex_lock(&rtc->lock);
	if (off == 0)
		rtc->index = (uint8_t)(val & RTC_INDEX_MASK);
	else
		write_reg(rtc, rtc->index, (uint8_t)val);
	pthread_mutex_unlock(&rtc->lock);
}

static const struct bus_ops rtc_ops = { rtc_read, rtc_write };

void rtc_set_clock(struct rtc *rtc, int64_t (*now)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&rtc->lock);
	rtc->now = now;
	rtc->now_ctx = ctx;
	rtc->offset = 0;
	pthread_mutex_unlock(&rtc->lock);
}

struct rtc *rtc_create(struct bus *bus, uint16_t port)
{
	struct rtc *rtc = calloc(1, sizeof(*rtc));
	int r;

	if (!rtc)
		return NULL;
	pthread_mutex_init(&rtc->lock, NULL);
	rtc->now = wall_clock;
	rtc->ram[RTC_REG_A] = RTC_A_RESET;
	rtc->ram[RTC_REG_B] = RTC_B_RESET;
	r = bus_add_region(bus, BUS_PIO, port, 2, &rtc_ops, rtc, "rtc");
	if (r) {
		rtc_destroy(rtc);
		errno = -r;
		return NULL;
	}
	return rtc;
}

void rtc_destroy(struct rtc *rtc)
{
	if (!rtc)
		return;
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}
