/* SPDX-License-Identifier: MIT */
/* x2APIC mode, the board's full CPU list (any count, 32-bit IDs) and one-AP start-up by x2APIC ICR. */
#include "x2apic.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD (1ULL << 10)
#define APIC_BASE_ENABLE (1ULL << 11)
#define MSR_X2APIC_TPR 0x808
#define MSR_X2APIC_SVR 0x80f
#define MSR_X2APIC_LVT_LINT0 0x835
#define MSR_X2APIC_LVT_LINT1 0x836
#define MSR_X2APIC_LVT_ERROR 0x837
#define SVR_ENABLE (1u << 8)
#define SPURIOUS_VECTOR 0xff
#define LVT_MASKED (1u << 16)
#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_LEVEL_ASSERT 0x00004000u

#define MADT_LAPIC 0
#define MADT_X2APIC 9
#define MADT_MAX_BYTES 65536
#define TRAMP_ADDR 0x8000UL /* the page smp.c uses too; SIPI vector = page number */
#define AP_STACK_PAGES 2
#define E_NOENT 2
#define E_NOMEM 12
#define E_TIMEDOUT 110

/* Shared with smp.c and entry.S: the trampoline and the AP's stack/index hand-over. */
extern const uint8_t ap_tramp_start[], ap_tramp_end[];
extern volatile uint64_t ap_boot_stack;
extern volatile uint32_t ap_boot_index;

bool x2apic_supported(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c & CPUID1_ECX_X2APIC;
}

bool x2apic_mode(void)
{
	return rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD;
}

void x2apic_enable(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	/* Disabled -> x2APIC is not a legal transition: go through xAPIC (SDM 11.12.5). */
	if (!(base & APIC_BASE_ENABLE)) {
		base |= APIC_BASE_ENABLE;
		wrmsr(MSR_APIC_BASE, base);
	}
	if (!(base & APIC_BASE_EXTD))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	wrmsr(MSR_X2APIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	wrmsr(MSR_X2APIC_TPR, 0);
	wrmsr(MSR_X2APIC_LVT_LINT0, LVT_MASKED);
	wrmsr(MSR_X2APIC_LVT_LINT1, LVT_MASKED);
	wrmsr(MSR_X2APIC_LVT_ERROR, LVT_MASKED);
}

/* MADT processor entries: type 0 (8-bit ID) and type 9 (x2APIC, 32-bit ID), enabled only. */
static void scan_madt(struct cpu_list *l, uint32_t max_id)
{
	const uint8_t *madt = acpi_find_table("APIC");
	uint32_t len, off = 44;

	if (!madt)
		return;
	len = acpi_get32(madt + 4);
	if (len > MADT_MAX_BYTES)
		len = MADT_MAX_BYTES;
	/* Every entry advances off by at least 2 bytes: at most len / 2 steps. */
	while (off + 2 <= len && madt[off + 1] >= 2 && off + madt[off + 1] <= len) {
		const uint8_t *e = madt + off;
		uint32_t id = UINT32_MAX;

		if (e[0] == MADT_LAPIC && e[1] >= 8 && (acpi_get32(e + 4) & 1))
			id = e[3];
		else if (e[0] == MADT_X2APIC && e[1] >= 16 && (acpi_get32(e + 8) & 1)) {
			id = acpi_get32(e + 4);
			l->madt_x2++;
		}
		if (id != UINT32_MAX && id == max_id)
			l->madt_has_max = true;
		off += e[1];
	}
}

int cpu_list_scan(struct cpu_list *l)
{
	memset(l, 0, sizeof(*l));
	/* board.c's boot scan counted every CPU of the DTB (or, without one, of the MADT). */
	l->count = board.nr_cpus_total;
	l->max_id = board.max_apic_id;
	scan_madt(l, l->max_id);
	return l->count ? 0 : -E_NOENT;
}

int x2apic_start_ap(uint32_t apic_id, unsigned cpu_index, ap_fn_t fn, volatile uint32_t *arrived,
		    uint32_t timeout_us)
{
	uint8_t *stack = alloc_pages(AP_STACK_PAGES);
	uint32_t sipi = ICR_STARTUP | (uint32_t)(TRAMP_ADDR >> 12);
	uint64_t deadline;

	if (!stack)
		return -E_NOMEM;
	memcpy((void *)TRAMP_ADDR, ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
	ap_boot_stack = (uintptr_t)(stack + AP_STACK_PAGES * PAGE_SIZE);
	ap_boot_index = cpu_index;
	smp_set_ap_fn(fn);
	*arrived = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* INIT, 10 ms, SIPI, 200 us, SIPI; the x2APIC ICR has no delivery-status bit to poll. */
	x2apic_send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	udelay(10000);
	x2apic_send_ipi(apic_id, sipi);
	udelay(200);
	x2apic_send_ipi(apic_id, sipi);
	deadline = time_us() + timeout_us;
	while (!__atomic_load_n(arrived, __ATOMIC_ACQUIRE) && time_us() < deadline)
		cpu_relax();
	return __atomic_load_n(arrived, __ATOMIC_ACQUIRE) ? 0 : -E_TIMEDOUT;
}
