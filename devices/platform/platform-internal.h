/* SPDX-License-Identifier: MIT */
/* ACPI PM register layout and test hooks shared by the platform .c files and unit tests. */
#ifndef NESTVM_PLATFORM_INTERNAL_H
#define NESTVM_PLATFORM_INTERNAL_H

#include "bits.h"
#include "platform.h"

/* Offsets in the ACPI PM block (board.md: PM1a_EVT +0, PM1a_CNT +4, PM_TMR +8). */
#define ACPI_PM1_STS 0x0
#define ACPI_PM1_EN 0x2
#define ACPI_PM1_CNT 0x4
#define ACPI_PM_TMR 0x8

/* PM1 status/enable bits (ACPI 6.x tables 4.16/4.17). */
#define ACPI_PM1_TMR_STS BIT_ULL(0)
#define ACPI_PM1_PWRBTN_STS BIT_ULL(8)
#define ACPI_PM1_WAK_STS BIT_ULL(15)
#define ACPI_PM1_PWRBTN_EN BIT_ULL(8)
/* GBL_EN only has to stick: an OS that reads it back as 0 disables the FACS global lock. */
#define ACPI_PM1_GBL_EN BIT_ULL(5)
/* RTC_EN likewise: Linux's rtc-cmos installs the RTC fixed event and logs an error if it fails. */
#define ACPI_PM1_RTC_EN BIT_ULL(10)

/* PM1 control bits (ACPI 6.x table 4.18). */
#define ACPI_PM1_SCI_EN BIT_ULL(0)
#define ACPI_PM1_BM_RLD BIT_ULL(1)
#define ACPI_PM1_GBL_RLS BIT_ULL(2)
#define ACPI_PM1_SLP_TYP GENMASK_ULL(12, 10)
#define ACPI_PM1_SLP_EN BIT_ULL(13)

#define ACPI_PM_TMR_MASK GENMASK_ULL(23, 0)

/* Timer ticks (not wrapped) elapsed in ns nanoseconds; exact for the whole uint64_t range. */
uint64_t acpi_pm_ticks(uint64_t ns);

/* Replaces the device's time source (tests); now() returns nanoseconds. Resets the origin. */
void acpi_pm_set_clock(struct acpi_pm *pm, uint64_t (*now)(void *ctx), void *ctx);

#endif
