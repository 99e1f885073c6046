/* SPDX-License-Identifier: MIT */
/*
 * Guest benchmark: RDTSC cost of PIO, MMIO and vIOMMU register reads and of QI round trips.
 * Runs under nestvm and QEMU alike (bench/bench-exits.sh compares them); every figure is also
 * printed as a "bench-data: KEY MEDIAN MIN" line for the script.
 */
#include "guest.h"
#include "vtd.h"

/* Accesses per kind; at ~12 us per exit on the nested host one kind takes ~25 ms. */
#define N_ACCESS 2000
/* Queued-invalidation round trips per batch size. */
#define N_QI 200
/* Bound on the status poll of one QI round trip, in TSC cycles (~4 s at 2.6 GHz). */
#define QI_POLL_CYCLES (10ULL * 1000 * 1000 * 1000)
/* An I/O port nothing claims (between the PIIX4 PM block and the PCI config ports). */
#define PORT_UNCLAIMED 0x0ce0
/* The COM1 scratch register: a claimed port whose read does no work. */
#define PORT_UART_SCR 0x3ff
#define IOAPIC_IOREGSEL 0x00

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return (uint64_t)hi << 32 | lo;
}

enum kind { K_EMPTY, K_PIO_UNCLAIMED, K_PIO_SCR, K_MMIO_IOAPIC, K_VTD_VER, K_VTD_GSTS, K_COUNT };
static const char *const kind_keys[K_COUNT] = {
	"rdtsc", "pio", "pio-scr", "mmio-ioapic", "reg-ver", "reg-gsts",
};
static const char *const kind_names[K_COUNT] = {
	"rdtsc pair (loop overhead)", "PIO read, unclaimed port", "PIO read, UART scratch",
	"MMIO read, IOAPIC IOREGSEL", "vIOMMU read, VER", "vIOMMU read, GSTS",
};
static uint64_t samples[K_COUNT][N_ACCESS];
/* Per-round differences (op - bare PIO read of the same round), offset by DIFF_BIAS. */
static uint64_t diffs[N_ACCESS];
#define DIFF_BIAS (1ULL << 62)
static uint64_t tsc_per_us;

/* The k-th smallest of v[0..n) (v is reordered): quickselect, expected O(n) steps. */
static uint64_t select_kth(uint64_t *v, unsigned n, unsigned k)
{
	unsigned lo = 0, hi = n - 1;

	/* Each pass shrinks [lo, hi] by at least one element: at most n passes. */
	while (lo < hi) {
		uint64_t pivot = v[lo + (hi - lo) / 2];
		unsigned i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				uint64_t t = v[i];

				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/* Prints "label: median / mean / min cycles" for v[0..n) and returns the median. */
static uint64_t report_key(const char *key, const char *label, uint64_t *v, unsigned n)
{
	uint64_t sum = 0, min = UINT64_MAX, med;

	for (unsigned i = 0; i < n; i++) {
		sum += v[i];
		if (v[i] < min)
			min = v[i];
	}
	med = select_kth(v, n, n / 2);
	printf("bench: %-34s median %8lu cycles (%5lu.%lu us), mean %8lu, min %8lu, n=%u\n", label, med,
	       med / tsc_per_us, med * 10 / tsc_per_us % 10, sum / n, min, n);
	if (key)
		printf("bench-data: %s %lu %lu\n", key, med, min);
	return med;
}


/*
 * Median and min of v[0..n) - base[0..n), paired per round (both measured back to back, so the
 * host load hits both alike): printed as "bench-data: KEY-SUFFIX MEDIAN MIN", signed.
 */
static void report_diff_as(const char *key, const char *suffix, const uint64_t *v,
			   const uint64_t *base, unsigned n)
{
	uint64_t min = UINT64_MAX, med;

	for (unsigned i = 0; i < n; i++) {
		diffs[i] = v[i] + DIFF_BIAS - base[i];
		if (diffs[i] < min)
			min = diffs[i];
	}
	med = select_kth(diffs, n, n / 2);
	printf("bench-data: %s-%s %ld %ld\n", key, suffix, (long)(med - DIFF_BIAS),
	       (long)(min - DIFF_BIAS));
}

static void report_diff(const char *key, const uint64_t *v, const uint64_t *base, unsigned n)
{
	report_diff_as(key, "ovh", v, base, n);
}

/*
 * What the first reads of VER and GSTS returned, what each timed read returned (stored after
 * the timed window), and how many timed reads returned something else.
 */
static uint32_t ver_seen, gsts_seen, got[K_COUNT];
static unsigned reg_mismatches;

/* One access of kind k; returns what a register read returned (0 for the others). */
static uint32_t access_once(enum kind k, uint64_t vtd_base)
{

	switch (k) {
	case K_EMPTY:
		break;
	case K_PIO_UNCLAIMED:
		(void)inb(PORT_UNCLAIMED);
		break;
	case K_PIO_SCR:
		(void)inb(PORT_UART_SCR);
		break;
	case K_MMIO_IOAPIC:
		(void)mmio_read32(board.ioapic_base + IOAPIC_IOREGSEL);
		break;
	case K_VTD_VER:
		return mmio_read32(vtd_base + VTD_VER);
	default:
		return mmio_read32(vtd_base + VTD_GSTS);
	}
	return 0;
}

/*
 * Round-robin over the kinds, one access each per round, so that a busy host (other load on
 * the machine) slows every kind alike and the medians stay comparable.
 */
static void time_accesses(unsigned nkinds, uint64_t vtd_base, uint64_t *med)
{
	for (unsigned i = 0; i < N_ACCESS; i++) {
		for (unsigned k = 0; k < nkinds; k++) {
			uint64_t t0 = rdtsc();
			uint32_t v = access_once((enum kind)k, vtd_base);

			samples[k][i] = rdtsc() - t0;
			got[k] = v;
		}
		/* Checked outside the timed windows (on this host each instruction counts). */
		if (nkinds > K_VTD_GSTS)
			reg_mismatches += (got[K_VTD_VER] != ver_seen) + (got[K_VTD_GSTS] != gsts_seen);
	}
	for (unsigned k = 0; k < nkinds; k++)
		if (k > K_PIO_UNCLAIMED)
			report_diff(kind_keys[k], samples[k], samples[K_PIO_UNCLAIMED], N_ACCESS);
	for (unsigned k = 0; k < nkinds; k++)
		med[k] = report_key(kind_keys[k], kind_names[k], samples[k], N_ACCESS);
}

static void calibrate(void)
{
	uint64_t t0 = rdtsc(), u0 = time_us();

	udelay(20000);
	tsc_per_us = (rdtsc() - t0) / (time_us() - u0 ? time_us() - u0 : 1);
	if (!tsc_per_us)
		tsc_per_us = 1;
	printf("bench: TSC %lu MHz (against the PM timer)\n", tsc_per_us);
}

/*
 * Writes n copies of desc plus a wait(SW) at the tail, then times IQT write -> status seen.
 * With empty, nothing is queued and the status is set beforehand: the same guest instructions
 * and the same IQT write exit, with nothing for the VMM to process (the paired baseline of
 * the VMM's own cost).
 */
static int qi_round_trip(struct vtd *u, const uint64_t desc[4], unsigned n, bool empty,
			 uint64_t *cycles)
{
	unsigned dsz = u->iq_dw ? 32 : 16;
	uint32_t seq = ++u->wait_seq;
	uint64_t wait[4], t0;

	if (n + 1 >= u->iq_size / dsz)
		return -1;
	vtd_desc_wait(wait, VTD_WAIT_SW, (uintptr_t)u->wait_status, seq);
	for (unsigned i = 0; !empty && i <= n; i++) {
		memcpy((uint8_t *)u->iq + u->iq_tail, i < n ? desc : wait, dsz);
		u->iq_tail = (u->iq_tail + dsz) % u->iq_size;
	}
	if (empty)
		*u->wait_status = seq;
	__asm__ volatile("mfence" ::: "memory");
	t0 = rdtsc();
	vtd_write64(u, VTD_IQT, u->iq_tail);
	while (*u->wait_status != seq) {
		if (rdtsc() - t0 > QI_POLL_CYCLES || (vtd_read32(u, VTD_FSTS) & VTD_FSTS_IQE))
			return -1;
		cpu_relax();
	}
	*cycles = rdtsc() - t0;
	return 0;
}

static bool qi_bench(struct vtd *u, const char *key, const char *what, const uint64_t desc[4],
		     unsigned n)
{
	char label[64], key_empty[48];

	for (unsigned i = 0; i < N_QI; i++) {
		uint64_t t0 = rdtsc();

		/* A bare PIO read and an empty IQT round trip in the same round, for the pairs. */
		(void)inb(PORT_UNCLAIMED);
		samples[1][i] = rdtsc() - t0;
		if (qi_round_trip(u, desc, n, true, &samples[2][i]) ||
		    qi_round_trip(u, desc, n, false, &samples[0][i])) {
			printf("bench: %s x%u: queue error or timeout (FSTS 0x%x)\n", what, n,
			       vtd_read32(u, VTD_FSTS));
			return false;
		}
	}
	report_diff(key, samples[0], samples[1], N_QI);
	report_diff_as(key, "vmm", samples[0], samples[2], N_QI);
	report_diff_as(key, "empty-ovh", samples[2], samples[1], N_QI);
	snprintf(label, sizeof(label), "empty IQT write (for %s x%u)", what, n);
	snprintf(key_empty, sizeof(key_empty), "%s-empty", key);
	report_key(key_empty, label, samples[2], N_QI);
	snprintf(label, sizeof(label), "QI %s x%u + wait", what, n);
	report_key(key, label, samples[0], N_QI);
	return true;
}

void test_main(void)
{
	struct vtd u;
	uint64_t med[K_COUNT], desc[4];
	bool have_vtd, ok;

	tap_plan(3);
	calibrate();
	have_vtd = vtd_find(&u) == 0;
	if (have_vtd) {
		ver_seen = vtd_read32(&u, VTD_VER);
		gsts_seen = vtd_read32(&u, VTD_GSTS);
	}
	time_accesses(have_vtd ? K_COUNT : K_VTD_VER, have_vtd ? u.base : 0, med);
	tap_ok(med[K_PIO_UNCLAIMED] > med[K_EMPTY] && med[K_MMIO_IOAPIC] > med[K_EMPTY],
	       "exits cost more than the rdtsc pair");
	if (!have_vtd) {
		tap_ok(true, "# SKIP no vIOMMU (-device vtd)");
		tap_ok(true, "# SKIP no vIOMMU (-device vtd)");
		return;
	}
	/* Costs above the loop's rdtsc pair: a read served without an exit is far below 1.00. */
	for (unsigned k = K_VTD_VER; k <= K_VTD_GSTS; k++) {
		uint64_t base = med[K_EMPTY], pio = med[K_PIO_UNCLAIMED];
		uint64_t c = med[k] > base ? med[k] - base : 0, e = pio > base ? pio - base : 0;
		uint64_t r = e ? c * 100 / e : 0;

		printf("bench: %s: %lu cycles per read above the rdtsc pair, bare PIO exit %lu: "
		       "%lu.%02lu of an exit\n", kind_names[k], c, e, r / 100, r % 100);
	}
	/* Served without an exit, a read may cost nothing measurable: check what it returned. */
	tap_ok(((ver_seen >> 4) & 0xf) >= 1 && reg_mismatches == 0,
	       "vIOMMU register reads measured: VER 0x%x, GSTS 0x%x in all %u rounds (%u differ)",
	       ver_seen, gsts_seen, N_ACCESS, reg_mismatches);

	/*
	 * Queued invalidation: scalable mode (root table and 256-bit descriptors) when the unit
	 * offers it, else legacy with 128-bit descriptors (IQA.DW is reserved there).
	 */
	if (!(u.ecap & VTD_ECAP_QI) || vtd_tables_init(&u, (u.ecap & VTD_ECAP_SMTS) != 0) ||
	    vtd_qi_init(&u, 0, (u.ecap & VTD_ECAP_SMTS) != 0)) {
		tap_ok(false, "queued invalidation set up");
		return;
	}
	vtd_desc_iotlb_dom(desc, 1);
	ok = qi_bench(&u, "qi-iotlb-1", "IOTLB domain", desc, 1) &&
	     qi_bench(&u, "qi-iotlb-64", "IOTLB domain", desc, 64);
	/* IEC global (type 4, G=0): a no-op on units without IR, as on QEMU without intremap. */
	memset(desc, 0, sizeof(desc));
	desc[0] = VTD_DESC_IEC;
	ok = ok && qi_bench(&u, "qi-iec-1", "IEC global", desc, 1);
	if (u.ecap & VTD_ECAP_SMTS) {
		/* PASID cache, granularity 3: every PASID of every domain. */
		vtd_desc_pc(desc, 3, 0, 0);
		ok = ok && qi_bench(&u, "qi-pc-1", "PASID-cache global", desc, 1);
		/* Granularity 2: every address of one PASID in one domain. */
		vtd_desc_piotlb(desc, 2, 1, 1, 0, 0);
		ok = ok && qi_bench(&u, "qi-piotlb-1", "PASID-IOTLB (PASID 1)", desc, 1) &&
		     qi_bench(&u, "qi-piotlb-64", "PASID-IOTLB (PASID 1)", desc, 64);
	} else {
		printf("bench: no scalable mode: PASID-cache and PASID-IOTLB round trips not measured\n");
	}
	tap_ok(ok, "queued-invalidation round trips measured");
}
