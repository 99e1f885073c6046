/* SPDX-License-Identifier: MIT */
/* smp: every CPU listed by the DTB (or MADT) comes up through INIT/SIPI and reports its APIC ID. */
#include "guest.h"

static volatile uint32_t arrived;
static volatile uint32_t seen_id[MAX_CPUS];
static volatile uint32_t seen_valid[MAX_CPUS];

static void ap_report(unsigned cpu_index, uint32_t apic_id)
{
	if (cpu_index < MAX_CPUS) {
		seen_id[cpu_index] = apic_id;
		__atomic_store_n(&seen_valid[cpu_index], 1, __ATOMIC_RELEASE);
	}
	__atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
	printf("# AP %u (APIC ID %u) is up\n", cpu_index, apic_id);
}

void test_main(void)
{
	uint32_t self = lapic_id();
	unsigned expected = board.nr_cpus - 1;
	bool bsp_listed = false;
	int started;
	uint64_t deadline;

	tap_plan(5 + (int)expected);
	for (unsigned i = 0; i < board.nr_cpus; i++)
		bsp_listed |= board.cpu_apic_ids[i] == self;
	tap_ok(bsp_listed, "BSP APIC ID %u is listed by the %s", self, board.from_dtb ? "DTB" : "MADT");
	if (board.fwcfg_nr_cpus)
		tap_ok(board.fwcfg_nr_cpus == board.nr_cpus, "fw_cfg CPU count %u matches %u listed CPUs",
		       board.fwcfg_nr_cpus, board.nr_cpus);
	else
		tap_ok(board.nr_cpus >= 1, "%u CPUs listed (no fw_cfg CPU count)", board.nr_cpus);

	started = smp_start_aps(ap_report, 1000000);
	deadline = time_us() + 1000000;
	while (arrived < expected && time_us() < deadline)
		cpu_relax();
	tap_ok(started == (int)expected, "started %d of %u APs", started, expected);
	tap_ok(arrived == expected, "AP counter is %u, expected %u", arrived, expected);

	/* Each listed non-BSP APIC ID must have been reported by exactly one AP. */
	for (unsigned i = 0; i < board.nr_cpus; i++) {
		uint32_t id = board.cpu_apic_ids[i];
		unsigned hits = 0;

		if (id == self)
			continue;
		for (unsigned c = 1; c < MAX_CPUS; c++)
			if (seen_valid[c] && seen_id[c] == id)
				hits++;
		tap_ok(hits == 1, "APIC ID %u reported by exactly one AP (%u)", id, hits);
	}
	{
		unsigned reports = 0;

		for (unsigned c = 1; c < MAX_CPUS; c++)
			reports += seen_valid[c];
		tap_ok(reports == expected, "no unexpected AP reports (%u)", reports);
	}
}
