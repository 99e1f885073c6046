/* SPDX-License-Identifier: MIT */
/*
 * Small platform devices on the PIO bus: the debug-exit port and the ACPI PM register block.
 *
 * Callers: the board builder creates them before any vCPU runs and destroys them after the
 * vCPUs have stopped (the bus keeps a pointer to each device). Register accesses come from any
 * vCPU thread. The irq_chip and vmctl structs are copied; what they point to must outlive the
 * device.
 */
#ifndef NESTVM_PLATFORM_H
#define NESTVM_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/core/bus.h"
#include "vmm/core/irq.h"
#include "vmm/core/vmctl.h"

/*
 * debug-exit (isa-debug-exit compatible): a write of v (1, 2 or 4 bytes) at offset 0 of
 * [port, port+len) requests vmctl_shutdown(ctl, ((v << 1) | 1) & 0xff). The mask is what the
 * host OS does to QEMU's exit((v << 1) | 1) anyway, so the process exit status is the same on
 * both: v = 0 -> 1, 1 -> 3, 0x10 -> 33, 0x7f -> 255, 0x80 -> 1. The status is always odd, so
 * a guest test cannot fake "exit 0". Writes at other offsets are dropped; reads of the port
 * return all-ones (the register is write-only; QEMU returns 0, nothing should depend on it).
 * Returns NULL with errno set (EINVAL for len 0, or bus_add_region's error, or ENOMEM).
 */
struct debug_exit;
struct debug_exit *debug_exit_create(struct bus *bus, uint16_t port, unsigned int len,
				     const struct vmctl *ctl);
void debug_exit_destroy(struct debug_exit *dx); /* accepts NULL */

/*
 * ACPI PM block (ACPI 6.x section 4.8, fixed hardware), 16 ports at port:
 *   +0 PM1a_STS u16 W1C: TMR_STS (bit 0), PWRBTN_STS (8), WAK_STS (15)
 *   +2 PM1a_EN  u16:     PWRBTN_EN (8); TMR_EN is not supported and reads 0
 *   +4 PM1a_CNT u16:     SCI_EN (bit 0) always reads 1 (no SMI_CMD: ACPI mode is permanent),
 *                        BM_RLD (1) stored, GBL_RLS (2) ignored, SLP_TYP (12:10) stored,
 *                        SLP_EN (13) write-only: with SLP_TYP = 0 (our _S5) it requests
 *                        vmctl_shutdown(ctl, 0); other sleep types are ignored
 *   +8 PM_TMR   u32 RO:  24-bit counter at 3579545 Hz from CLOCK_MONOTONIC since creation
 * TMR_STS is set when bit 23 of the counter has toggled since it was last cleared (computed when
 * PM1a_STS is read); it never raises an SCI. The SCI (irq_set_level(sci_gsi)) follows
 * PWRBTN_STS && PWRBTN_EN. Accesses of another size or at another offset read all-ones and
 * writes are dropped.
 * Returns NULL with errno set (bus_add_region's error or ENOMEM).
 */
#define ACPI_PM_NR_PORTS 16
#define ACPI_PM_TIMER_HZ 3579545ULL

struct acpi_pm;
struct acpi_pm *acpi_pm_create(struct bus *bus, uint16_t port, const struct irq_chip *irq,
			       unsigned int sci_gsi, const struct vmctl *ctl);
void acpi_pm_destroy(struct acpi_pm *pm); /* accepts NULL */
/* Host side "power button pressed" (e.g. on SIGTERM): sets PWRBTN_STS and updates the SCI. */
void acpi_pm_power_button(struct acpi_pm *pm);
/*
 * The same, only when the OS listens for the button (PWRBTN_EN set: its fixed-event handler is
 * installed; SCI_EN always reads 1 here). Returns whether it did; when not, nothing changes
 * (no stale PWRBTN_STS for an OS that enables the event later).
 */
bool acpi_pm_press_power_button(struct acpi_pm *pm);

#endif
