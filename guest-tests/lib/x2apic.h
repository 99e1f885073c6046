/* SPDX-License-Identifier: MIT */
/* x2APIC mode (MSR interface), the full CPU list beyond MAX_CPUS, and starting one AP by ID. */
#ifndef GUEST_X2APIC_H
#define GUEST_X2APIC_H

#include "guest.h"

#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_EOI 0x80b
#define MSR_X2APIC_ICR 0x830
#define CPUID1_ECX_X2APIC (1u << 21)

/* CPUID.1:ECX.x2APIC on this CPU. */
bool x2apic_supported(void);
/* Switches this CPU's LAPIC to x2APIC mode (EN + EXTD) and programs SVR/TPR/LVTs by MSR. */
void x2apic_enable(void);
/* IA32_APIC_BASE.EXTD is set. */
bool x2apic_mode(void);
/* The 32-bit x2APIC ID (x2APIC mode only). */
static inline uint32_t x2apic_id(void) { return (uint32_t)rdmsr(MSR_X2APIC_ID); }
static inline void x2apic_eoi(void) { wrmsr(MSR_X2APIC_EOI, 0); }
/* One ICR write (x2APIC mode): destination in 63:32, command in 31:0. */
static inline void x2apic_send_ipi(uint32_t dest, uint32_t icr_lo)
{
	wrmsr(MSR_X2APIC_ICR, ((uint64_t)dest << 32) | icr_lo);
}

/* Every CPU the board describes (board.c's DTB /cpus scan, else MADT types 0 and 9, enabled). */
struct cpu_list {
	unsigned count;     /* CPUs seen (may exceed the guest lib's MAX_CPUS) */
	uint32_t max_id;    /* highest APIC ID seen */
	unsigned madt_x2;   /* MADT x2APIC (type 9) entries, enabled */
	bool madt_has_max;  /* the MADT describes max_id (type 0 or 9) */
};
/* Fills l from the board scan and checks the MADT for the highest ID. 0, or -2 if no CPU. */
int cpu_list_scan(struct cpu_list *l);

/*
 * Starts the AP with this APIC ID with INIT/SIPI/SIPI through the x2APIC ICR (the caller is in
 * x2APIC mode). The AP runs the lib's AP entry and then fn(cpu_index, xapic_id) on its own stack;
 * fn must report in itself. 0, -12 (no memory), -110 (fn did not set *arrived in time).
 */
int x2apic_start_ap(uint32_t apic_id, unsigned cpu_index, ap_fn_t fn, volatile uint32_t *arrived,
		    uint32_t timeout_us);

#endif
