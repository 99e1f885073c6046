/* SPDX-License-Identifier: MIT */
/* Unit tests of the device memory slot table against a fake hypervisor hook. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "bits.h"
#include "vmm/core/gmem.h"
#include "vmm/core/memslot.h"

#define WIN 0xc0000000ULL
#define WIN_SIZE 0x3ec00000ULL
#define FIRST 8

/* The fake hypervisor: its slot array as KVM would hold it. */
struct hv {
	struct { uint64_t gpa, size; void *hva; } s[FIRST + MEMSLOT_MAX];
	unsigned int calls, deletes;
	int fail; /* next set call returns this */
};

static int hv_set(void *ctx, unsigned int slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct hv *h = ctx;

	h->calls++;
	ck_assert_uint_ge(slot, FIRST); /* never a RAM slot */
	ck_assert_uint_lt(slot, FIRST + MEMSLOT_MAX);
	if (h->fail) {
		int r = h->fail;

		h->fail = 0;
		return r;
	}
	if (!size) {
		ck_assert_uint_ne(h->s[slot].size, 0);
		h->deletes++;
	}
	h->s[slot].gpa = gpa;
	h->s[slot].size = size;
	h->s[slot].hva = hva;
	return 0;
}

struct fixture {
	struct gmem ram;
	struct hv hv;
	struct memslot_table t;
	struct memslots ms;
	void *page; /* a page-aligned "BAR" */
};

static struct fixture *fx_new(unsigned int nr)
{
	struct fixture *x = calloc(1, sizeof(*x));

	ck_assert_ptr_nonnull(x);
	gmem_init_empty(&x->ram);
	ck_assert_int_eq(gmem_add_region(&x->ram, 0, 2 * GiB, (void *)0x10000000), 0);
	ck_assert_int_eq(posix_memalign(&x->page, 4096, 64 * 1024), 0);
	memslot_table_init(&x->t, &x->ram, WIN, WIN_SIZE, FIRST, nr, hv_set, &x->hv);
	memslot_table_service(&x->t, &x->ms);
	return x;
}

static void fx_free(struct fixture *x)
{
	memslot_table_fini(&x->t);
	for (unsigned int i = 0; i < FIRST + MEMSLOT_MAX; i++)
		ck_assert_uint_eq(x->hv.s[i].size, 0);
	free(x->page);
	free(x);
}

static int add(struct fixture *x, uint64_t gpa, uint64_t size, void *hva, unsigned int *id)
{
	return x->ms.ops->add(x->ms.ctx, gpa, size, hva, id);
}

START_TEST(test_add_remove)
{
	struct fixture *x = fx_new(MEMSLOT_MAX);
	struct memslot_stats st;
	unsigned int a, b;

	ck_assert_int_eq(add(x, WIN, 0x20000, x->page, &a), 0);
	ck_assert_uint_eq(x->hv.s[FIRST + a].gpa, WIN);
	ck_assert_uint_eq(x->hv.s[FIRST + a].size, 0x20000);
	ck_assert_ptr_eq(x->hv.s[FIRST + a].hva, x->page);
	ck_assert_int_eq(add(x, WIN + 0x20000, 0x1000, (uint8_t *)x->page + 0x1000, &b), 0);
	ck_assert_uint_ne(a, b);
	/* A slot is not RAM: gmem does not see it. */
	ck_assert(!gmem_is_ram(&x->ram, WIN, 4));
	ck_assert_ptr_null(gmem_ptr(&x->ram, WIN + 0x20000, 8));
	x->ms.ops->remove(x->ms.ctx, a);
	ck_assert_uint_eq(x->hv.s[FIRST + a].size, 0);
	x->ms.ops->remove(x->ms.ctx, a); /* twice: ignored */
	x->ms.ops->remove(x->ms.ctx, 999);
	ck_assert_uint_eq(x->hv.deletes, 1);
	/* The freed number is reused. */
	ck_assert_int_eq(add(x, WIN + 0x100000, 0x1000, x->page, &a), 0);
	memslot_table_stats(&x->t, &st);
	ck_assert_uint_eq(st.adds, 3);
	ck_assert_uint_eq(st.removes, 1);
	ck_assert_uint_eq(st.live, 2);
	fx_free(x); /* fini deletes the two left */
}
END_TEST

START_TEST(test_refused)
{
	struct fixture *x = fx_new(MEMSLOT_MAX);
	struct memslot_stats st;
	unsigned int id, calls;

	ck_assert_int_eq(add(x, WIN, 0x2000, x->page, &id), 0);
	calls = x->hv.calls;
	/* Alignment of gpa, size and host pointer; empty; overflow. */
	ck_assert_int_eq(add(x, WIN + 0x10800, 0x1000, x->page, &id), -EINVAL);
	ck_assert_int_eq(add(x, WIN + 0x10000, 0x1800, x->page, &id), -EINVAL);
	ck_assert_int_eq(add(x, WIN + 0x10000, 0x1000, (uint8_t *)x->page + 8, &id), -EINVAL);
	ck_assert_int_eq(add(x, WIN + 0x10000, 0, x->page, &id), -EINVAL);
	ck_assert_int_eq(add(x, WIN + 0x10000, 0x1000, NULL, &id), -EINVAL);
	ck_assert_int_eq(add(x, 0xfffffffffffff000ULL, 0x2000, x->page, &id), -EINVAL);
	/* Outside the window: below, straddling its end, far above. */
	ck_assert_int_eq(add(x, WIN - 0x1000, 0x2000, x->page, &id), -EINVAL);
	ck_assert_int_eq(add(x, WIN + WIN_SIZE - 0x1000, 0x2000, x->page, &id), -EINVAL);
	ck_assert_int_eq(add(x, 0x100000000ULL, 0x1000, x->page, &id), -EINVAL);
	ck_assert_int_eq(add(x, WIN + WIN_SIZE - 0x1000, 0x1000, x->page, &id), 0);
	x->ms.ops->remove(x->ms.ctx, id);
	/* Over another slot. */
	ck_assert_int_eq(add(x, WIN + 0x1000, 0x1000, x->page, &id), -EEXIST);
	calls++; /* the remove above */
	ck_assert_uint_eq(x->hv.calls, calls + 1);
	/* The hypervisor's own refusal is passed on and leaves nothing behind. */
	x->hv.fail = -ENOMEM;
	ck_assert_int_eq(add(x, WIN + 0x10000, 0x1000, x->page, &id), -ENOMEM);
	memslot_table_stats(&x->t, &st);
	ck_assert_uint_eq(st.live, 1);
	ck_assert_uint_eq(st.refused, 11);
	fx_free(x);
}
END_TEST

START_TEST(test_ram_overlap_and_full)
{
	struct fixture *x = fx_new(3);
	unsigned int id;

	/* A window that covers RAM (a misconfigured board): RAM still wins. */
	memslot_table_fini(&x->t);
	memslot_table_init(&x->t, &x->ram, 0, 4 * GiB, FIRST, 3, hv_set, &x->hv);
	ck_assert_int_eq(add(x, 2 * GiB - 0x1000, 0x2000, x->page, &id), -EEXIST);
	ck_assert_int_eq(add(x, 0x1000, 0x1000, x->page, &id), -EEXIST);
	for (unsigned int i = 0; i < 3; i++)
		ck_assert_int_eq(add(x, WIN + i * 0x1000, 0x1000, x->page, &id), 0);
	ck_assert_int_eq(add(x, WIN + 0x10000, 0x1000, x->page, &id), -ENOSPC);
	fx_free(x);
}
END_TEST

START_TEST(test_uninitialised)
{
	struct memslot_table t;

	memset(&t, 0, sizeof(t));
	memslot_table_fini(&t); /* accepted */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memslot");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_add_remove);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_ram_overlap_and_full);
	tcase_add_test(tc, test_uninitialised);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
