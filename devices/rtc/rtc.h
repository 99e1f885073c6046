/* SPDX-License-Identifier: MIT */
/*
 * The CMOS real-time clock (MC146818-compatible) at I/O ports 0x70 (index) / 0x71 (data).
 *
 * Callers: the board builder (create/destroy, from the /isa node with compatible
 * "motorola,mc146818"); unit tests (rtc_set_clock to drive time). Guests reach it only through
 * the bus. The clock runs from the host's wall clock plus an offset the guest sets by writing
 * the time registers; BCD/binary and 12/24-hour formats follow register B. No interrupts are
 * raised (register C reads 0): the board has no RTC alarm/periodic users.
 */
#ifndef NESTVM_RTC_H
#define NESTVM_RTC_H

#include <stdint.h>

struct bus;
struct rtc;

/* Registers two ports at port (index, data). Returns NULL with errno set on failure. */
struct rtc *rtc_create(struct bus *bus, uint16_t port);
void rtc_destroy(struct rtc *rtc);
/* Replaces the wall clock (seconds since the epoch, UTC); for tests. */
void rtc_set_clock(struct rtc *rtc, int64_t (*now)(void *ctx), void *ctx);

#endif
