/* SPDX-License-Identifier: MIT */
/*
 * Guest benchmark: RDTSC from edu's raise-interrupt write to handler entry, with and without
 * interrupt remapping, and the IEC invalidation round trip (IEC descriptor + wait).
 */
#include "guest.h"
#include "vtd-ir.h"

#define VEC 0x47
#define HANDLE 9
/* An IOAPIC pin no device drives (ISA IRQ 13), routed through IRTE PIN_HANDLE. */
#define PIN 13
#define PIN_HANDLE 10
#define PIN_VEC 0x48
/* Samples per configuration, taken in ROUNDS blocks that alternate IR off / on. */
#define ROUNDS 10
#define PER_ROUND 20
#define N_MSI (ROUNDS * PER_ROUND)
#define N_IEC 40
/* Bounds, in TSC cycles: one interrupt or one QI round trip (~4 s at 2.6 GHz). */
#define POLL_CYCLES (10ULL * 1000 * 1000 * 1000)

enum cfg { C_DIRECT, C_REMAPPED, C_COUNT };
static const char *const cfg_names[C_COUNT] = { "MSI raise -> handler, no IR", "MSI raise -> handler, through IR" };

static struct edu_dev edu;
static uint64_t tsc_per_us;
static uint64_t samples[C_COUNT][N_MSI];
static uint64_t iec_samples[3][N_IEC];
static volatile uint64_t t_entry;
static volatile uint32_t hits;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return (uint64_t)hi << 32 | lo;
}

static void handler(struct trap_frame *tf)
{
	(void)tf;
	t_entry = rdtsc(); /* first: everything after is not part of the figure */
	edu_irq_ack(&edu);
	hits++;
	lapic_eoi();
}

/* Insertion sort (n <= N_MSI: at most n^2/2 steps), then median/min/mean. */
static void report(const char *label, uint64_t *v, unsigned n)
{
	uint64_t sum = 0, med;

	for (unsigned i = 1; i < n; i++) {
		uint64_t x = v[i];
		unsigned j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	for (unsigned i = 0; i < n; i++)
		sum += v[i];
	med = v[n / 2];
	printf("bench: %-36s median %8lu cycles (%5lu.%lu us), mean %8lu, min %8lu, n=%u\n", label, med,
	       med / tsc_per_us, med * 10 / tsc_per_us % 10, sum / n, v[0], n);
}

static void calibrate(void)
{
	uint64_t t0 = rdtsc(), u0 = time_us(), du;

	udelay(20000);
	du = time_us() - u0;
	tsc_per_us = (rdtsc() - t0) / (du ? du : 1);
	if (!tsc_per_us)
		tsc_per_us = 1;
	printf("bench: TSC %lu MHz (against the PM timer)\n", tsc_per_us);
}

/* One raise: cycles from just before the MMIO write to the handler's first instruction. */
static int one_msi(uint64_t *ret)
{
	uint32_t before = hits;
	uint64_t t0;

	irq_enable();
	t0 = rdtsc();
	mmio_write32(edu.bar + EDU_IRQ_RAISE, 1);
	while (hits == before && rdtsc() - t0 < POLL_CYCLES)
		cpu_relax();
	irq_disable();
	if (hits == before)
		return -1;
	*ret = t_entry - t0;
	return 0;
}

static int msi_block(enum cfg c, unsigned round)
{
	for (unsigned i = 0; i < PER_ROUND; i++)
		if (one_msi(&samples[c][round * PER_ROUND + i]))
			return -1;
	return 0;
}

/* The IEC descriptor (global, or index-selective for idx >= 0) plus a wait(SW): IQT write -> status seen. */
static int iec_round_trip(struct vtd *u, int idx, uint64_t *ret)
{
	unsigned dsz = u->iq_dw ? 32 : 16;
	uint32_t seq = ++u->wait_seq;
	uint64_t d[2][4] = { { VTD_DESC_IEC, 0, 0, 0 } }, t0;

	if (idx >= 0)
		d[0][0] |= (1ULL << 4) | ((uint64_t)(unsigned)idx << 32);
	vtd_desc_wait(d[1], VTD_WAIT_SW, (uintptr_t)u->wait_status, seq);
	for (unsigned i = 0; i < 2; i++) {
		memcpy((uint8_t *)u->iq + u->iq_tail, d[i], dsz);
		u->iq_tail = (u->iq_tail + dsz) % u->iq_size;
	}
	__asm__ volatile("mfence" ::: "memory");
	t0 = rdtsc();
	vtd_write64(u, VTD_IQT, u->iq_tail);
	while (*u->wait_status != seq) {
		if (rdtsc() - t0 > POLL_CYCLES || (vtd_read32(u, VTD_FSTS) & VTD_FSTS_IQE))
			return -1;
		cpu_relax();
	}
	*ret = rdtsc() - t0;
	return 0;
}

void test_main(void)
{
	struct vtd u;
	struct irt t = { 0 };
	uint32_t me = lapic_id();
	bool ir, ok = true;
	int ret;

	tap_plan(3);
	calibrate();
	if (edu_open(&edu))
		tap_bail("run with -device edu");
	irq_set_handler(VEC, handler);
	ret = vtd_find(&u);
	ir = ret == 0 && (u.ecap & VTD_ECAP_IR);
	printf("bench: %s\n", ir ? "vIOMMU with interrupt remapping" : "no interrupt remapping (no vIOMMU or ir=off)");
	if (ir) {
		ret = irt_enable(&u, &t, false, 7);
		irt_set(&t, HANDLE, irte_lo(&t, VEC, me, false), IRTE_HI_VERIFY(edu.bdf));
		ok = ret == 0 && irt_iec(&u, HANDLE, 0) == 0 && vtd_gcmd(&u, VTD_GCMD_IRE, false) == 0;
	}
	/* Alternate blocks so that host load drift hits both configurations alike. */
	for (unsigned r = 0; ok && r < ROUNDS; r++) {
		edu_msi_enable(&edu, 0xfee00000ULL | ((uint64_t)me << 12), VEC);
		ok = msi_block(C_DIRECT, r) == 0;
		if (ok && ir) {
			ok = vtd_gcmd(&u, VTD_GCMD_IRE, true) == 0;
			edu_msi_enable(&edu, ir_msi_addr(HANDLE, false), 0);
			ok = ok && msi_block(C_REMAPPED, r) == 0 && vtd_gcmd(&u, VTD_GCMD_IRE, false) == 0;
		}
	}
	edu_msi_disable(&edu);
	if (tap_ok(ok, "MSI latencies measured")) {
		report(cfg_names[C_DIRECT], samples[C_DIRECT], N_MSI);
		if (ir)
			report(cfg_names[C_REMAPPED], samples[C_REMAPPED], N_MSI);
	}
	if (!ir) {
		tap_ok(true, "# SKIP no interrupt remapping: IEC round trip not measured");
		tap_ok(true, "# SKIP no interrupt remapping");
		return;
	}
	ok = vtd_gcmd(&u, VTD_GCMD_IRE, true) == 0;
	irt_set(&t, PIN_HANDLE, irte_lo(&t, PIN_VEC, me, false), IRTE_HI_VERIFY(IOAPIC_SID));
	ioapic_write_redir(PIN, ir_rte(PIN_VEC, PIN_HANDLE, false));
	for (unsigned i = 0; ok && i < N_IEC; i++) {
		ok = iec_round_trip(&u, -1, &iec_samples[0][i]) == 0 &&
		     iec_round_trip(&u, HANDLE, &iec_samples[1][i]) == 0;
		/* The pin's IRTE changes (vector), so its interrupt route must be rebuilt. */
		irt_set(&t, PIN_HANDLE, irte_lo(&t, (uint8_t)(PIN_VEC + (i & 1)), me, false),
			IRTE_HI_VERIFY(IOAPIC_SID));
		ok = ok && iec_round_trip(&u, PIN_HANDLE, &iec_samples[2][i]) == 0;
	}
	ioapic_write_redir(PIN, IOAPIC_REDIR_MASKED);
	if (tap_ok(ok, "IEC round trips measured (FSTS 0x%x)", vtd_read32(&u, VTD_FSTS))) {
		report("QI IEC global + wait", iec_samples[0], N_IEC);
		report("QI IEC index + wait", iec_samples[1], N_IEC);
		report("QI IEC index + wait, pin route changed", iec_samples[2], N_IEC);
	}
	/* The remapped path still works after all that (a figure from a broken path is no figure). */
	hits = 0;
	edu_msi_enable(&edu, ir_msi_addr(HANDLE, false), 0);
	ok = one_msi(&samples[0][0]) == 0;
	edu_msi_disable(&edu);
	tap_ok(ok && hits == 1, "remapped MSI still delivered after the IEC runs");
}
