/* SPDX-License-Identifier: MIT */
/* SMP bring-up: copy the real-mode trampoline low, INIT/SIPI/SIPI each AP, one at a time. */
#include "guest.h"

/* The trampoline page; SIPI vector = page number (CS = 0x0800, IP = 0). */
#define TRAMP_ADDR 0x8000UL
#define AP_STACK_PAGES 2

extern const uint8_t ap_tramp_start[], ap_tramp_end[];
void ap_main(uint32_t cpu_index);

/* Read by ap_long64 in entry.S. */
volatile uint64_t ap_boot_stack;
volatile uint32_t ap_boot_index;

static volatile uint32_t ap_arrived;
static ap_fn_t ap_fn;

void ap_main(uint32_t cpu_index)
{
	uint32_t id;

	percpu_init(cpu_index);
	idt_load();
	lapic_enable();
	id = lapic_id();
	__atomic_store_n(&ap_arrived, 1, __ATOMIC_RELEASE);
	if (ap_fn)
		ap_fn(cpu_index, id);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void smp_set_ap_fn(ap_fn_t fn)
{
	ap_fn = fn;
}

int smp_start_aps(ap_fn_t fn, uint32_t timeout_us)
{
	uint32_t self = lapic_id();
	unsigned index = 1;
	int started = 0;

	ap_fn = fn;
	memcpy((void *)TRAMP_ADDR, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
	for (unsigned i = 0; i < board.nr_cpus; i++) {
		uint32_t id = board.cpu_apic_ids[i];
		uint8_t *stack;
		uint64_t deadline;

		if (id == self)
			continue;
		stack = alloc_pages(AP_STACK_PAGES);
		if (!stack) {
			printf("# smp: out of memory for AP stacks\n");
			break;
		}
		ap_boot_stack = (uintptr_t)(stack + AP_STACK_PAGES * PAGE_SIZE);
		ap_boot_index = index;
		__atomic_store_n(&ap_arrived, 0, __ATOMIC_RELEASE);
		if (lapic_start_ap(id, (uint8_t)(TRAMP_ADDR >> 12))) {
			printf("# smp: IPI to APIC ID %u not delivered\n", id);
			continue;
		}
		/* The AP owns the shared boot variables until it reports in. */
		deadline = time_us() + timeout_us;
		while (!__atomic_load_n(&ap_arrived, __ATOMIC_ACQUIRE) && time_us() < deadline)
			cpu_relax();
		if (!ap_arrived) {
			printf("# smp: APIC ID %u did not arrive within %u us\n", id, timeout_us);
			continue;
		}
		index++;
		started++;
	}
	return started;
}
