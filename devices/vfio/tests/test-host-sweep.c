/* SPDX-License-Identifier: MIT */
/*
 * End-to-end global flushes of a host-backed device: domain-selective and global PASID-cache
 * invalidations walk the guest's PASID directory (host-sync.c), skip the tables whose
 * snapshot still matches, and with the write watch the tables nobody wrote. Thousands of
 * PASIDs, random churn checked against the tables, a hostile directory. The fixture is
 * test-host-forward's (host-forward-fixture.h).
 */
#include "devices/vfio/tests/host-forward-fixture.h"

/* Global flushes walk the guest's PASID directory, not the first 64 PASIDs. */
START_TEST(test_global_flush_walks_directory)
{
	static const uint32_t far[] = { 100, 1000, 5000 };
	struct hostsim_stats a, b;
	uint32_t v = 0;

	setup_common(false);
	bind_both();
	for (unsigned int i = 0; i < ARRAY_SIZE(far); i++) {
		uint64_t tbl = 0x140000 + 0x1000ULL * i;

		h_put64(h, PDIR + (far[i] >> 6) * 8, tbl | 1);
		h_put64(h, tbl + (far[i] & 63) * 64, (1 << 6) | 1);
		h_put64(h, tbl + (far[i] & 63) * 64 + 8, 7);
		h_put64(h, tbl + (far[i] & 63) * 64 + 16, FS_B);
	}
	drain(pc_global, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(far); i++) {
		ck_assert_int_eq(hostsim_attachment(hs, hdev, far[i]), 2);
		ck_assert_int_eq(dma_rd(true, far[i], 0x2000, &v), 0);
		ck_assert_uint_eq(v, 0xb2);
	}
	/* Unchanged entries: a second global flush makes no host call. */
	hostsim_get_stats(hs, &a);
	drain(pc_global, 1);
	hostsim_get_stats(hs, &b);
	ck_assert_uint_eq(b.attach + b.replace + b.detach + b.parent,
			  a.attach + a.replace + a.detach + a.parent);
	/* A directory entry removed: its PASID is detached by the next global flush. */
	h_put64(h, PDIR + (far[1] >> 6) * 8, 0);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, far[1]), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, far[2]), 2);
	clear_faults();
	ck_assert_int_eq(dma_rd(true, far[1], 0x2000, &v), -EACCES);
	ck_assert_uint_eq(fault_of(true, far[1]), 0x51); /* PASID directory entry not present */
	teardown();
}
END_TEST

/*
 * A global flush skips a PASID table whose 4 KiB are unchanged since it was forwarded; any
 * change in the table makes it re-read entry by entry, and a refused detach is retried by
 * every global flush even when the table does not change again.
 */
START_TEST(test_global_flush_skips_only_unchanged_tables)
{
	const uint64_t tbl = 0x140000;
	unsigned int c0;
	uint32_t v = 0;

	setup_common(false);
	bind_both();
	/* PASIDs 64..127 in one table, all bound by a global flush. */
	h_put64(h, PDIR + 8, tbl | 1);
	for (unsigned int j = 0; j < 64; j++) {
		h_put64(h, tbl + j * 64, (1 << 6) | 1);
		h_put64(h, tbl + j * 64 + 8, 9);
		h_put64(h, tbl + j * 64 + 16, FS_B);
	}
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 64), 2);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 127), 2);
	c0 = host_calls();
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0);
	/* One FLPTPTR changed among 64 unchanged entries: exactly that PASID is replaced. */
	fs_tables(0x130000, 0x380000);
	h_put64(h, tbl + 40 * 64 + 16, 0x130000);
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0 + 1);
	ck_assert_int_eq(dma_rd(true, 104, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xc0);
	ck_assert_int_eq(dma_rd(true, 105, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xb0);
	/* A word the decoder ignores: the table is read again, the host is not called. */
	h_put64(h, tbl + 7 * 64 + 40, 0x1234);
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0 + 1);
	/* A cleared entry whose detach the host refuses: every later global flush retries it. */
	h_put64(h, tbl + 3 * 64, 0);
	hostsim_fail(hs, HOSTSIM_OP_DETACH, -EBUSY, 1);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 67), 2);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 67), 0);
	/* An entry made unforwardable (PGTT second-stage) whose detach is refused: retried too. */
	h_put64(h, tbl + 9 * 64, (2 << 6) | 1);
	hostsim_fail(hs, HOSTSIM_OP_DETACH, -EBUSY, 1);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 73), 2);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 73), 0);
	/* Unchanged again: no host call; the directory entry moved to a copy: still none. */
	c0 = host_calls();
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0);
	memcpy(h->ram + tbl + 0x1000, h->ram + tbl, 4096);
	h_put64(h, PDIR + 8, (tbl + 0x1000) | 1);
	drain(pc_global, 1);
	ck_assert_uint_eq(host_calls(), c0);
	/* ... and a change in the copy (not the old page) is seen. */
	h_put64(h, tbl + 0x1000 + 50 * 64, 0);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 114), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 115), 2);
	/* RID_PASID moved into the unchanged table: requests without PASID use that entry. */
	ck_assert_int_eq(dma_rd(false, 0, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xa0);
	h_put64(h, CTX + 8 * 32 + 8, 115);
	drain(pc_global, 1);
	ck_assert_int_eq(dma_rd(false, 0, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xb0);
	teardown();
}
END_TEST

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* Average time of a global PASID-cache flush (+ wait), in ns (printed, never asserted). */
static uint64_t time_global_flush(void)
{
	const unsigned int reps = 20;
	uint64_t t0 = now_ns();

	for (unsigned int i = 0; i < reps; i++)
		drain(pc_global, 1);
	return (now_ns() - t0) / reps;
}

/* Thousands of bound PASIDs: one walk binds them, lookups stay cheap, nothing is resent. */
START_TEST(test_many_pasids)
{
	const unsigned int n = 2000, first = 64;
	struct hostsim_stats a, b;
	const uint64_t inv[1][2] = { { piotlb_desc(9, 1500), 0x1000 } };
	uint64_t t_few, t_many;

	setup_common(false);
	bind_both();
	t_few = time_global_flush();
	for (unsigned int i = 0; i < n; i++) {
		uint32_t p = first + i;
		uint64_t tbl = 0x140000 + 0x1000ULL * ((p >> 6) - 1);

		h_put64(h, PDIR + (p >> 6) * 8, tbl | 1);
		h_put64(h, tbl + (p & 63) * 64, (1 << 6) | 1);
		h_put64(h, tbl + (p & 63) * 64 + 8, 9);
		h_put64(h, tbl + (p & 63) * 64 + 16, FS_B);
	}
	hostsim_get_stats(hs, &a);
	drain(pc_global, 1);
	hostsim_get_stats(hs, &b);
	ck_assert_uint_eq(b.attach - a.attach, n);
	drain(pc_global, 1);
	hostsim_get_stats(hs, &a);
	ck_assert_uint_eq(a.attach + a.replace + a.detach, b.attach + b.replace + b.detach);
	drain(inv, 1);
	hostsim_get_stats(hs, &b);
	ck_assert_uint_eq(b.inv_calls - a.inv_calls, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, first + n - 1), 2);
	t_many = time_global_flush();
	fprintf(stderr, "global PASID-cache flush: %llu ns with 2 bound PASIDs, %llu ns with %u "
		"(%.1fx)\n", (unsigned long long)t_few, (unsigned long long)t_many, n + 2,
		t_few ? (double)t_many / (double)t_few : 0.0);
	teardown();
}
END_TEST

/*
 * Random binds, unbinds, PASID-selective and global flushes and TE toggles over 600 PASIDs:
 * after every flush the host has exactly what the tables say (the index survives deletions).
 */
START_TEST(test_random_churn_matches_tables)
{
	enum { N = 600, FIRST = 64 };
	static bool present[N], flushed[N];
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	bool te = true;

	setup_common(false);
	bind_both();
	for (unsigned int i = 0; i < N; i++) {
		uint32_t p = FIRST + i;

		h_put64(h, PDIR + (p >> 6) * 8, (0x140000 + 0x1000ULL * ((p >> 6) - 1)) | 1);
		present[i] = flushed[i] = false;
	}
	for (unsigned int step = 0; step < 800; step++) {
		unsigned int i, op;

		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		i = (unsigned int)(seed % N);
		op = (unsigned int)((seed >> 32) % 100);
		if (op < 60) {
			uint32_t p = FIRST + i;
			uint64_t e = 0x140000 + 0x1000ULL * ((p >> 6) - 1) + (p & 63) * 64;

			present[i] = !present[i];
			h_put64(h, e, present[i] ? (1 << 6) | 1 : 0);
			h_put64(h, e + 8, 9);
			h_put64(h, e + 16, FS_B);
			flushed[i] = false;
			if (op < 45) {
				const uint64_t pc[1][2] = { { 0x7 | (1 << 4) | (9ULL << 16) | ((uint64_t)p << 32), 0 } };

				drain(pc, 1);
				flushed[i] = true;
			}
		} else if (op < 97) {
			drain(pc_global, 1);
			for (unsigned int k = 0; k < N; k++)
				flushed[k] = true;
		} else {
			te = !te;
			h_gcmd(h, (uint32_t)VTD_GCMD_TE, te);
			for (unsigned int k = 0; k < N; k++)
				flushed[k] = true;
		}
		/* Every PASID after global operations (and every 64 steps), else the touched one. */
		for (unsigned int k = op < 60 && step % 64 ? i : 0; k < (op < 60 && step % 64 ? i + 1 : N); k++) {
			int want = te && present[k] ? 2 : 0;

			if (flushed[k])
				ck_assert_msg(hostsim_attachment(hs, hdev, FIRST + k) == want,
					      "step %u PASID %u: host %d, want %d", step, FIRST + k,
					      hostsim_attachment(hs, hdev, FIRST + k), want);
		}
	}
	teardown();
}
END_TEST

/* A hostile directory: huge, partly outside RAM, entries pointing anywhere. Bounded, no host call. */
START_TEST(test_hostile_directory)
{
	struct hostsim_stats a, b;
	const uint64_t dir = H_RAM_SIZE - 0x2000; /* 16384 entries would run 120 KiB past the end */

	setup_common(false);
	bind_both();
	for (uint64_t i = 0; i < 0x2000 / 8; i++)
		h_put64(h, dir + 8 * i, (i & 1) ? 0xfffffffff000ULL | 1 : (dir & ~0xfffULL) | 1);
	/* PDTS = 7 (the largest directory), RID_PASID 0 */
	h_put64(h, CTX + 8 * 32, dir | (7 << 9) | (1 << 3) | 1);
	hostsim_get_stats(hs, &a);
	drain(pc_global, 1);
	hostsim_get_stats(hs, &b);
	/* The RID's entry and PASID 5 became unreadable or garbage: blocked, nothing bound. */
	ck_assert_int_eq(hostsim_attachment(hs, hdev, HOST_PASID_NONE), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 5), 0);
	ck_assert_uint_eq(b.attach + b.replace, a.attach + a.replace);
	drain(pc_global, 1);
	teardown();
}
END_TEST

/*
 * With the write watch: from HOST_WATCH_MIN tables on, a global flush reads only the PASID
 * tables someone wrote since they were verified: the CPU (the test's own stores, seen by the
 * CPU log), the VMM (gmem_write) or an emulated device's DMA (hostsim's, through dma_write).
 * A CPU log that misses a store shows the table really is not read; a blind watch reads all.
 */
static uint64_t wtbl(unsigned int t)
{
	return 0x140000 + 0x1000ULL * (t - 1);
}

static struct viommu_host_stats vstats(void)
{
	struct viommu_host_stats st;

	viommu_get_host_stats(h->v, &st);
	return st;
}

START_TEST(test_watch_trusts_only_unwritten_tables)
{
	const uint64_t flush5[2][2] = { { pc_desc(2, 5), 0 }, { piotlb_desc(2, 5), 0 } };
	struct viommu_host_stats a, b;
	struct dma_req wr = { .sid = SID, .has_pasid = true, .pasid = 5, .access = DMA_ACC_WRITE };
	uint64_t zero = 0;
	uint32_t v = 0;

	setup_common(false);
	bind_both();
	for (unsigned int t = 1; t <= 10; t++) {
		h_put64(h, PDIR + 8 * t, wtbl(t) | 1);
		h_put64(h, wtbl(t), (1 << 6) | 1);
		h_put64(h, wtbl(t) + 8, 9);
		h_put64(h, wtbl(t) + 16, FS_B);
	}
	drain(pc_global, 1); /* binds PASIDs 64, 128, ... 640; their tables join the watch */
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 640), 2);
	a = vstats();
	drain(pc_global, 1); /* first look since they joined: compared */
	b = vstats();
	ck_assert_uint_eq(b.tables_trusted, a.tables_trusted);
	ck_assert_uint_ge(b.tables_compared - a.tables_compared, 10);
	drain(pc_global, 1); /* nobody wrote them: none read */
	a = vstats();
	ck_assert_uint_ge(a.tables_trusted - b.tables_trusted, 10);
	ck_assert_uint_eq(a.tables_compared, b.tables_compared);

	/* The CPU rewrites PASID 192's first-stage pointer: that table alone is read again. */
	fs_tables(0x130000, 0x380000);
	h_put64(h, wtbl(3) + 16, 0x130000);
	drain(pc_global, 1);
	b = vstats();
	ck_assert_uint_eq(b.tables_compared - a.tables_compared, 1);
	ck_assert_int_eq(dma_rd(true, 192, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xc0);
	ck_assert_int_eq(dma_rd(true, 128, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xb0);

	/* From here the CPU log reports nothing: only the VMM's own notes can tell. */
	hlog->deaf = true;
	/* The VMM writes PASID 320's. */
	ck_assert_int_eq(gmem_write_u64(&h->gm, wtbl(5) + 16, 0x130000), 0);
	drain(pc_global, 1);
	ck_assert_int_eq(dma_rd(true, 320, 0x0, &v), 0);
	ck_assert_uint_eq(v, 0xc0);

	/* The device's DMA (PASID 5, page 3 of its space now table 7) clears PASID 448's entry. */
	h_put64(h, FS_B + 0x3000 + 8 * 3, wtbl(7) | 7);
	drain(flush5, 2);
	ck_assert_int_eq(dma_write(&das, &wr, 0x3000, &zero, 8), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 448), 2);
	drain(pc_global, 1);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 448), 0);
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 512), 2);

	/* A store the CPU log misses: the flush trusts the table and the host keeps PASID 576. */
	drain(pc_global, 1);
	h_put64(h, wtbl(9), 0);
	a = vstats();
	drain(pc_global, 1);
	b = vstats();
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 576), 2);
	ck_assert_uint_eq(b.tables_compared, a.tables_compared);
	hlog->deaf = false;
	{
		const uint64_t one[1][2] = { { pc_desc(9, 576), 0 } };

		drain(one, 1); /* a PASID-selective flush reads the entry itself */
	}
	ck_assert_int_eq(hostsim_attachment(hs, hdev, 576), 0);

	/* A sync that copies more than comparing ten tables reads: the sweep compares instead. */
	hlog->bytes = 64 * 4096;
	a = vstats();
	drain(pc_global, 1);
	b = vstats();
	ck_assert_uint_eq(b.tables_trusted, a.tables_trusted);
	ck_assert_uint_ge(b.tables_compared - a.tables_compared, 9);
	hlog->bytes = 0;
	drain(pc_global, 1); /* verified again under a sync (compared without one: not trusted) */
	b = vstats();
	drain(pc_global, 1);
	a = vstats();
	ck_assert_uint_ge(a.tables_trusted - b.tables_trusted, 9);
	ck_assert_uint_eq(a.tables_compared, b.tables_compared);

	/* Blind (a writer nobody sees joined): every table is compared again. */
	gmem_watch_blind(&h->gm);
	a = vstats();
	drain(pc_global, 1);
	b = vstats();
	ck_assert_uint_eq(b.tables_trusted, a.tables_trusted);
	ck_assert_uint_ge(b.tables_compared - a.tables_compared, 9);
	teardown();
}
END_TEST

static void add_tests(TCase *tc)
{
	tcase_add_test(tc, test_global_flush_walks_directory);
	tcase_add_test(tc, test_global_flush_skips_only_unchanged_tables);
	tcase_add_test(tc, test_many_pasids);
	tcase_add_test(tc, test_hostile_directory);
	tcase_add_test(tc, test_random_churn_matches_tables);
}

int main(void)
{
	TCase *tw;
	Suite *s = fixture_suite("host-sweep", add_tests, &tw);

	tcase_add_test(tw, test_watch_trusts_only_unwritten_tables);
	return check_run_suite(s);
}
