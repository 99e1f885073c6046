/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the write watch: the VMM's writers stamp watched pages, the CPU log's writes
 * are stamped at sync, adding a page is itself a change, a blind watch trusts nothing.
 * The CPU log here is a fake that reports what the test says the CPU wrote.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "check-run.h"
#include "bits.h"
#include "vmm/core/dma.h"
#include "vmm/core/gmem.h"
#include "vmm/core/gmem-watch.h"

#define RAM (64 * 4096)

struct fake_log {
	uint64_t protected[16];
	unsigned int nprot;
	uint64_t cpu_wrote[16]; /* pages the "CPU" wrote since their protect / collect */
	unsigned int nwrote;
	int fail;
	unsigned int collects;
};

static int fake_protect(void *o, uint64_t gpa)
{
	struct fake_log *f = o;

	if (f->fail)
		return f->fail;
	ck_assert_uint_lt(f->nprot, 16);
	ck_assert_uint_eq(gpa % 4096, 0);
	f->protected[f->nprot++] = gpa;
	return 0;
}

static int fake_collect(void *o, const uint64_t *gpas, unsigned int n, bool *ret)
{
	struct fake_log *f = o;

	f->collects++;
	if (f->fail)
		return f->fail;
	for (unsigned int i = 0; i < n; i++) {
		ret[i] = false;
		for (unsigned int j = 0; j < f->nwrote; j++)
			ret[i] |= f->cpu_wrote[j] == gpas[i];
	}
	f->nwrote = 0;
	return 0;
}

static uint64_t fake_bytes(void *o)
{
	return 12345;
}

static const struct gmem_cpu_log fake_ops = { fake_protect, fake_collect, fake_bytes };

static uint8_t ram[RAM] __attribute__((aligned(4096)));
static struct gmem gm;
static struct fake_log fl;

static void setup(void)
{
	memset(&fl, 0, sizeof(fl));
	gmem_init_empty(&gm);
	ck_assert_int_eq(gmem_add_region(&gm, 0x100000, RAM, ram), 0);
	ck_assert_int_eq(gmem_watch_enable(&gm, &fake_ops, &fl), 0);
}

static void teardown(void)
{
	gmem_watch_free(&gm);
}

static uint64_t sync_now(void)
{
	uint64_t e = 0;

	ck_assert_int_eq(gmem_watch_sync(&gm, &e), 0);
	return e;
}

/* Without a CPU log there is no watch: nothing to add, nothing trusted, writes cost nothing. */
START_TEST(test_no_watch)
{
	struct gmem g;
	uint64_t e;

	gmem_init_empty(&g);
	ck_assert_int_eq(gmem_add_region(&g, 0, RAM, ram), 0);
	ck_assert(!gmem_watch_on(&g));
	ck_assert_ptr_null(gmem_watch_add(&g, 0x1000));
	ck_assert_int_eq(gmem_watch_sync(&g, &e), -EPERM);
	ck_assert_int_eq(gmem_write_u64(&g, 0x1000, 1), 0);
	ck_assert(!gmem_watch_unchanged(NULL, ~0ULL));
	ck_assert_int_eq(gmem_watch_enable(&g, NULL, NULL), -EINVAL);
	ck_assert_uint_eq(gmem_watch_sync_bytes(&g), 0);
}
END_TEST

/* A copy read after add and sync is trusted until someone writes the page. */
START_TEST(test_vmm_writes_stamp)
{
	struct gmem_wpage *p = gmem_watch_add(&gm, 0x100000 + 5 * 4096 + 123);
	uint64_t e0, e1, v;

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(gmem_wpage_gpa(p), 0x100000 + 5 * 4096);
	ck_assert_uint_eq(fl.nprot, 1);
	ck_assert_uint_eq(fl.protected[0], 0x100000 + 5 * 4096);
	ck_assert(gmem_watch_on(&gm));
	ck_assert_uint_eq(gmem_watch_sync_bytes(&gm), 12345); /* the CPU log's own figure */
	e0 = sync_now();
	ck_assert(gmem_watch_unchanged(p, e0));
	/* Writes elsewhere, next door included, change nothing. */
	ck_assert_int_eq(gmem_write_u64(&gm, 0x100000 + 4 * 4096 + 4088, 7), 0);
	ck_assert_int_eq(gmem_write_u32(&gm, 0x100000 + 6 * 4096, 7), 0);
	ck_assert(gmem_watch_unchanged(p, sync_now()));
	ck_assert(gmem_watch_unchanged(p, e0));
	/* Each writer stamps it: write, u32, u64, cmpxchg, a write that starts on the page before. */
	ck_assert_int_eq(gmem_write_u64(&gm, 0x100000 + 5 * 4096 + 8, 1), 0);
	ck_assert(!gmem_watch_unchanged(p, e0));
	e1 = sync_now();
	ck_assert(gmem_watch_unchanged(p, e1));
	ck_assert_int_eq(gmem_write_u32(&gm, 0x100000 + 5 * 4096, 1), 0);
	ck_assert(!gmem_watch_unchanged(p, e1));
	e1 = sync_now();
	ck_assert_int_eq(gmem_cmpxchg_u64(&gm, 0x100000 + 5 * 4096 + 8, 2, 3, &v), -EAGAIN);
	ck_assert(gmem_watch_unchanged(p, e1)); /* a failed exchange writes nothing */
	ck_assert_int_eq(gmem_cmpxchg_u64(&gm, 0x100000 + 5 * 4096 + 8, 1, 3, &v), 0);
	ck_assert(!gmem_watch_unchanged(p, e1));
	e1 = sync_now();
	{
		uint8_t buf[16] = { 0 };

		ck_assert_int_eq(gmem_write(&gm, 0x100000 + 5 * 4096 - 8, buf, 16), 0);
	}
	ck_assert(!gmem_watch_unchanged(p, e1));
	gmem_watch_del(&gm, p);
}
END_TEST

/* The CPU's writes count once collected; adding a page is a change by itself. */
START_TEST(test_cpu_writes_and_add)
{
	uint64_t e0 = sync_now(), e1;
	struct gmem_wpage *p = gmem_watch_add(&gm, 0x100000 + 9 * 4096), *q;

	ck_assert_ptr_nonnull(p);
	ck_assert(!gmem_watch_unchanged(p, e0)); /* read before the add: never trusted */
	e1 = sync_now();
	ck_assert(gmem_watch_unchanged(p, e1));
	fl.cpu_wrote[fl.nwrote++] = 0x100000 + 9 * 4096;
	ck_assert(gmem_watch_unchanged(p, e1)); /* not collected yet */
	ck_assert(!gmem_watch_unchanged(p, sync_now() - 1));
	/* A second add of the same page: same record, protected once, two dels to drop. */
	q = gmem_watch_add(&gm, 0x100000 + 9 * 4096 + 64);
	ck_assert_ptr_eq(p, q);
	ck_assert_uint_eq(fl.nprot, 1);
	gmem_watch_del(&gm, q);
	e1 = sync_now();
	ck_assert(gmem_watch_unchanged(p, e1));
	ck_assert_int_eq(gmem_write_u64(&gm, 0x100000 + 9 * 4096, 5), 0);
	ck_assert(!gmem_watch_unchanged(p, e1));
	gmem_watch_del(&gm, p);
	/* Not watched any more: writes to it take the early out, nothing left to collect. */
	ck_assert_int_eq(gmem_write_u64(&gm, 0x100000 + 9 * 4096, 6), 0);
	fl.collects = 0;
	sync_now();
	ck_assert_uint_eq(fl.collects, 0);
	ck_assert_ptr_null(gmem_watch_add(&gm, 0x100000 + RAM)); /* not RAM */
}
END_TEST

/* dma_written stamps the pages a device wrote through dma_map's pointers. */
START_TEST(test_dma_written)
{
	struct dma_as as = { .gmem = &gm };
	struct dma_req req = { .sid = 1 };
	struct gmem_wpage *p = gmem_watch_add(&gm, 0x100000 + 3 * 4096);
	struct iovec iov[2];
	uint64_t e;

	ck_assert_ptr_nonnull(p);
	e = sync_now();
	ck_assert_int_eq(dma_map(&as, &req, 0x100000 + 2 * 4096, 8192, true, iov, 2), 1);
	memset(iov[0].iov_base, 0xaa, iov[0].iov_len);
	ck_assert(gmem_watch_unchanged(p, e)); /* nobody said yet */
	dma_written(&as, iov, 1);
	ck_assert(!gmem_watch_unchanged(p, e));
	e = sync_now();
	ck_assert_int_eq(dma_write(&as, &req, 0x100000 + 3 * 4096 + 100, "x", 1), 0);
	ck_assert(!gmem_watch_unchanged(p, e));
	gmem_watch_del(&gm, p);
}
END_TEST

/* Blind, or a CPU log that failed: every later sync fails, so a consumer trusts nothing. */
START_TEST(test_blind_and_failures)
{
	struct gmem_wpage *p = gmem_watch_add(&gm, 0x100000), *q;
	uint64_t e;

	ck_assert_ptr_nonnull(p);
	e = sync_now();
	ck_assert(gmem_watch_unchanged(p, e));
	fl.fail = -EIO;
	ck_assert_ptr_null(gmem_watch_add(&gm, 0x100000 + 4096)); /* protect failed */
	ck_assert_int_eq(gmem_watch_sync(&gm, &e), -EIO);
	ck_assert(!gmem_watch_on(&gm));
	fl.fail = 0;
	ck_assert_int_eq(gmem_watch_sync(&gm, &e), -EPERM);
	gmem_watch_del(&gm, p);

	gmem_watch_free(&gm);
	setup();
	q = gmem_watch_add(&gm, 0x100000);
	e = sync_now();
	ck_assert(gmem_watch_unchanged(q, e));
	gmem_watch_blind(&gm);
	ck_assert(!gmem_watch_on(&gm));
	ck_assert_int_eq(gmem_watch_sync(&gm, &e), -EPERM);
	gmem_watch_del(&gm, q);
}
END_TEST

/* Many pages, added and dropped out of order: the records stay sorted and findable. */
START_TEST(test_many_pages)
{
	struct gmem_wpage *p[64];
	uint64_t e;

	for (unsigned int i = 0; i < 64; i++) {
		unsigned int pg = (i * 37) % 64;

		fl.nprot = 0;
		p[pg] = gmem_watch_add(&gm, 0x100000 + pg * 4096ULL);
		ck_assert_ptr_nonnull(p[pg]);
	}
	e = sync_now();
	for (unsigned int i = 0; i < 64; i += 2)
		ck_assert_int_eq(gmem_write_u64(&gm, 0x100000 + i * 4096ULL + 8, i), 0);
	for (unsigned int i = 0; i < 64; i++)
		ck_assert(gmem_watch_unchanged(p[i], e) == (i % 2 == 1));
	for (unsigned int i = 0; i < 64; i += 3)
		gmem_watch_del(&gm, p[i]);
	e = sync_now();
	ck_assert_int_eq(gmem_write_u64(&gm, 0x100000 + 4 * 4096ULL, 1), 0);
	for (unsigned int i = 1; i < 64; i++)
		if (i % 3)
			ck_assert(gmem_watch_unchanged(p[i], e) == (i != 4));
	for (unsigned int i = 1; i < 64; i++)
		if (i % 3)
			gmem_watch_del(&gm, p[i]);
}
END_TEST

static Suite *watch_suite(void)
{
	Suite *s = suite_create("gmem-watch");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_watch);
	tcase_add_test(tc, test_vmm_writes_stamp);
	tcase_add_test(tc, test_cpu_writes_and_add);
	tcase_add_test(tc, test_dma_written);
	tcase_add_test(tc, test_blind_and_failures);
	tcase_add_test(tc, test_many_pages);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(watch_suite());
}
