/* SPDX-License-Identifier: MIT */
/* Unit tests for the split virtqueue: well-formed chains, hostile rings, notification suppression. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "virtq-tb.h"

#define QSZ 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000

static struct virtq q;
static struct virtq_elem el;

/* Fresh RAM and queue; tests call it again between cases. */
static void setup(void)
{
	tb_ram_setup();
	q = (struct virtq){ .size = QSZ, .enabled = true, .desc = DESC, .avail = AVAIL, .used = USED,
			    .as = &as, .sid = 0x18, .indirect = true };
}

static void desc_at(uint64_t table, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	put_desc(table, i, addr, len, flags, next);
}

/* Driver side: publishes head in the next avail slot. */
static void offer(uint16_t head)
{
	uint16_t idx = get16(AVAIL + 2);

	put16(AVAIL + 4 + 2 * (idx % QSZ), head);
	put16(AVAIL + 2, (uint16_t)(idx + 1));
}

START_TEST(test_chain_roundtrip)
{
	uint8_t out[12], in[6] = "hello";

	memcpy(ram + BUF, "request-data", 12);
	desc_at(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 3);
	desc_at(DESC, 3, BUF + 8, 4, VIRTQ_DESC_F_NEXT, 5);
	desc_at(DESC, 5, BUF + 0x100, 6, VIRTQ_DESC_F_WRITE, 0);
	ck_assert_int_eq(virtq_pop(&q, &el), 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&q, &el), 1);
	ck_assert_uint_eq(el.head, 0);
	ck_assert_uint_eq(el.nr, 3);
	ck_assert_uint_eq(el.out_bytes, 12);
	ck_assert_uint_eq(el.in_bytes, 6);
	ck_assert_int_eq(virtq_elem_read(&q, &el, 0, out, 12), 0);
	ck_assert_mem_eq(out, "request-data", 12);
	ck_assert_int_eq(virtq_elem_read(&q, &el, 5, out, 8), -ENOSPC);
	ck_assert_int_eq(virtq_elem_write(&q, &el, 0, in, 6), 0);
	ck_assert_str_eq((char *)ram + BUF + 0x100, "hello");
	ck_assert_int_eq(virtq_elem_write(&q, &el, 1, in, 6), -ENOSPC);
	ck_assert_int_eq(virtq_push(&q, &el, 6), 0);
	ck_assert_uint_eq(get16(USED + 2), 1);
	ck_assert_uint_eq(get32(USED + 4), 0);
	ck_assert_uint_eq(get32(USED + 8), 6);
	ck_assert_int_eq(virtq_pop(&q, &el), 0);
	ck_assert_uint_ne(iommu.calls, 0); /* every access went through the IOMMU */
}
END_TEST

/* Hostile descriptor chains: each one a device error, never a hang. */
START_TEST(test_hostile_chains)
{
	/* A two-descriptor loop. */
	desc_at(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	desc_at(DESC, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* A self loop. */
	setup();
	desc_at(DESC, 2, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	offer(2);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* next beyond the table. */
	setup();
	desc_at(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, QSZ);
	offer(0);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* head beyond the table. */
	setup();
	offer(QSZ + 3);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* A readable descriptor after a writable one. */
	setup();
	desc_at(DESC, 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	desc_at(DESC, 1, BUF, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* The available index runs more than a ring ahead. */
	setup();
	put16(AVAIL + 2, QSZ + 1);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* The longest legal chain (the queue size) still works. */
	setup();
	for (unsigned int i = 0; i < QSZ; i++)
		desc_at(DESC, i, BUF, 1, i + 1 < QSZ ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	offer(0);
	ck_assert_int_eq(virtq_pop(&q, &el), 1);
	ck_assert_uint_eq(el.nr, QSZ);
}
END_TEST

START_TEST(test_indirect)
{
	const uint64_t tbl = 0x4000;

	desc_at(tbl, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 2);
	desc_at(tbl, 2, BUF + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	desc_at(DESC, 4, tbl, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(4);
	ck_assert_int_eq(virtq_pop(&q, &el), 1);
	ck_assert_uint_eq(el.head, 4);
	ck_assert_uint_eq(el.nr, 2);
	ck_assert_uint_eq(el.out_bytes, 16);
	ck_assert_uint_eq(el.in_bytes, 1);

	/* Not negotiated. */
	setup();
	q.indirect = false;
	desc_at(DESC, 4, tbl, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(4);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* Length not a multiple of 16, zero, or more entries than the queue. */
	static const uint32_t bad_len[] = { 17, 0, (QSZ + 1) * 16 };
	for (unsigned int k = 0; k < ARRAY_SIZE(bad_len); k++) {
		setup();
		desc_at(DESC, 4, tbl, bad_len[k], VIRTQ_DESC_F_INDIRECT, 0);
		offer(4);
		ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	}
	/* Nested indirect. */
	setup();
	desc_at(tbl, 0, tbl, 16, VIRTQ_DESC_F_INDIRECT, 0);
	desc_at(DESC, 4, tbl, 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(4);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* A loop inside the table. */
	setup();
	desc_at(tbl, 0, BUF, 1, VIRTQ_DESC_F_NEXT, 1);
	desc_at(tbl, 1, BUF, 1, VIRTQ_DESC_F_NEXT, 0);
	desc_at(DESC, 4, tbl, 2 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	offer(4);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* INDIRECT together with NEXT. */
	setup();
	desc_at(tbl, 0, BUF, 1, 0, 0);
	desc_at(DESC, 4, tbl, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 5);
	offer(4);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
}
END_TEST

START_TEST(test_dma_faults)
{
	/* Rings outside RAM: -EFAULT; an IOMMU-blocked ring: -EACCES. */
	q.avail = RAM_SIZE + 0x1000;
	ck_assert_int_eq(virtq_pop(&q, &el), -EFAULT);
	setup();
	iommu.blocked = DESC;
	desc_at(DESC, 0, BUF, 8, 0, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&q, &el), -EACCES);
	/* A buffer at the top of the address space does not wrap. */
	setup();
	desc_at(DESC, 0, ~0ULL - 3, 16, 0, 0);
	offer(0);
	ck_assert_int_eq(virtq_pop(&q, &el), 1);
	uint8_t b[16];
	ck_assert_int_lt(virtq_elem_read(&q, &el, 0, b, 16), 0);
}
END_TEST

START_TEST(test_suppression)
{
	uint16_t old;

	desc_at(DESC, 0, BUF, 1, VIRTQ_DESC_F_WRITE, 0);
	/* Without event index: NO_INTERRUPT decides. */
	offer(0);
	ck_assert_int_eq(virtq_pop(&q, &el), 1);
	old = q.used_idx;
	ck_assert_int_eq(virtq_push(&q, &el, 1), 0);
	ck_assert(virtq_need_interrupt(&q, old));
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	ck_assert(!virtq_need_interrupt(&q, old));
	ck_assert(!virtq_need_interrupt(&q, q.used_idx)); /* nothing pushed */

	/* With event index: interrupt when used crosses used_event; avail_event published. */
	setup();
	q.event_idx = true;
	desc_at(DESC, 0, BUF, 1, VIRTQ_DESC_F_WRITE, 0);
	put16(AVAIL + 4 + 2 * QSZ, 1); /* used_event: wake me after the second */
	for (int k = 0; k < 2; k++) {
		offer(0);
		ck_assert_int_eq(virtq_pop(&q, &el), 1);
		old = q.used_idx;
		ck_assert_int_eq(virtq_push(&q, &el, 1), 0);
		ck_assert(virtq_need_interrupt(&q, old) == (k == 1));
	}
	ck_assert_int_eq(virtq_arm(&q), 0);
	ck_assert_uint_eq(get16(USED + 4 + 8 * QSZ), 2);
	offer(0);
	ck_assert_int_eq(virtq_arm(&q), 1);
}
END_TEST

/* Random rings: every pop ends (no hang), with an element or an error, and stays in bounds. */
START_TEST(test_random_rings)
{
	unsigned int seed = 12345 + (unsigned int)_i;

	for (unsigned int i = 0; i < 0x200; i++)
		ram[DESC + i] = (uint8_t)rand_r(&seed);
	for (unsigned int i = 0; i < 0x40; i++)
		ram[AVAIL + i] = (uint8_t)rand_r(&seed);
	/* Half the descriptors point into RAM so chains get walked. */
	for (unsigned int i = 0; i < QSZ; i += 2) {
		ram[DESC + 16 * i + 3] = ram[DESC + 16 * i + 4] = 0;
		ram[DESC + 16 * i + 5] = ram[DESC + 16 * i + 6] = ram[DESC + 16 * i + 7] = 0;
		ram[DESC + 16 * i + 15] = 0;
		ram[DESC + 16 * i + 14] &= 0xf;
	}
	for (unsigned int n = 0; n < 64; n++) {
		int r = virtq_pop(&q, &el);

		ck_assert(r == 0 || r == 1 || r == -EIO || r == -EFAULT);
		if (r != 1)
			break;
		ck_assert_uint_le(el.nr, QSZ);
		ck_assert_uint_lt(el.head, QSZ);
	}
}
END_TEST

static Suite *virtq_suite(void)
{
	Suite *s = suite_create("virtq");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_chain_roundtrip);
	tcase_add_test(tc, test_hostile_chains);
	tcase_add_test(tc, test_indirect);
	tcase_add_test(tc, test_dma_faults);
	tcase_add_test(tc, test_suppression);
	tcase_add_loop_test(tc, test_random_rings, 0, 200);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(virtq_suite());
}
