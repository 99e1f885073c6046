/* SPDX-License-Identifier: MIT */
/* IDT, trap dispatch with exception reporting, and the per-CPU area behind FS. */
#include "guest.h"

#define MSR_FS_BASE 0xC0000100
#define SEL_CODE64 0x08
#define IDT_TYPE_INTR 0x8e /* present, DPL 0, 64-bit interrupt gate */

extern const uint8_t trap_stubs[];
void trap_dispatch(struct trap_frame *tf);

static uint64_t idt[256][2] __attribute__((aligned(16)));
static irq_handler_t handlers[256];
static struct percpu percpu_area[MAX_CPUS];

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound",
	"#UD invalid opcode", "#NM no math", "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection", "#PF page fault",
	"reserved 15", "#MF x87 error", "#AC alignment", "#MC machine check", "#XM SIMD", "#VE virtualization",
	"#CP control protection",
};

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t addr = (uintptr_t)(trap_stubs + 16 * v);

		idt[v][0] = (addr & 0xffff) | ((uint64_t)SEL_CODE64 << 16) | ((uint64_t)IDT_TYPE_INTR << 40) |
			    ((addr >> 16 & 0xffff) << 48);
		idt[v][1] = addr >> 32;
	}
}

void idt_load(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} ptr = { sizeof(idt) - 1, (uintptr_t)idt };

	__asm__ volatile("lidt %0" ::"m"(ptr));
}

void irq_set_handler(unsigned vector, irq_handler_t fn)
{
	if (vector < 256)
		handlers[vector] = fn;
}

void percpu_init(unsigned cpu_index)
{
	struct percpu *p;

	if (cpu_index >= MAX_CPUS)
		cpu_index = MAX_CPUS - 1;
	p = &percpu_area[cpu_index];
	p->self = (uintptr_t)p;
	p->cpu_index = cpu_index;
	p->stack_canary = 0x5ca1ab1e00c0ffeeULL ^ ((uint64_t)cpu_index << 24);
	wrmsr(MSR_FS_BASE, (uintptr_t)p);
}

static uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

void trap_dispatch(struct trap_frame *tf)
{
	unsigned v = (unsigned)tf->vector;

	if (v < 256 && handlers[v]) {
		handlers[v](tf);
		return;
	}
	printf("\nFATAL: unexpected %s %lu (%s) error=0x%lx\n", v < 32 ? "exception" : "interrupt",
	       (unsigned long)v, v < 32 && exc_names[v] ? exc_names[v] : "-", (unsigned long)tf->error);
	printf("  RIP=%016lx CS=%04lx RFLAGS=%08lx RSP=%016lx CR2=%016lx\n", tf->rip, tf->cs, tf->rflags,
	       tf->rsp, read_cr2());
	printf("  RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
	printf("  RSI=%016lx RDI=%016lx RBP=%016lx\n", tf->rsi, tf->rdi, tf->rbp);
	tap_bail("unexpected exception/interrupt vector %u at RIP 0x%lx", v, (unsigned long)tf->rip);
}
