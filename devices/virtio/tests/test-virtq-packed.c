/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for packed virtqueues (virtio 1.x §2.7): chains and buffer ids, the wrap
 * counters over several laps, indirect tables, hostile rings, event suppression.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "virtq-tb.h"

#define QSZ 5 /* packed rings need not be a power of two */
#define DESC 0x1000
#define DRV 0x2000 /* driver event suppression */
#define DEV 0x3000 /* device event suppression */
#define TABLE 0x4000
#define BUF 0x10000

static struct virtq q;
static struct virtq_elem el;
/* The driver's side: next ring position and its wrap counter (starts at 1). */
static unsigned int drv_pos;
static bool drv_wrap;

static void setup(void)
{
	tb_ram_setup();
	q = (struct virtq){ .size = QSZ, .enabled = true, .packed = true, .desc = DESC, .avail = DRV,
			    .used = DEV, .as = &as, .sid = 0x18, .indirect = true };
	drv_pos = 0;
	drv_wrap = true;
}

/* A descriptor in packed layout: addr, len, id, flags. */
static void pdesc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len, uint16_t id,
		  uint16_t flags)
{
	put_desc(table, i, addr, len, id, flags);
}

/* The flags that make a descriptor available in the driver's current lap. */
static uint16_t avail_flags(bool wrap)
{
	return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}

/*
 * Driver side: n descriptors of one chain from drv_pos on (wrapping), the buffer id in each,
 * the first one's flags written last as the spec asks. flags[k]: NEXT/WRITE/INDIRECT bits.
 */
static void add_chain(unsigned int n, const uint16_t *flags, uint16_t id, uint32_t len)
{
	unsigned int first = drv_pos;
	bool first_wrap = drv_wrap;

	for (unsigned int k = 0; k < n; k++) {
		if (k)
			pdesc(DESC, drv_pos, BUF + 0x100 * k, len, id,
			      (uint16_t)(flags[k] | avail_flags(drv_wrap)));
		if (++drv_pos == QSZ) {
			drv_pos = 0;
			drv_wrap = !drv_wrap;
		}
	}
	pdesc(DESC, first, BUF, len, id, (uint16_t)(flags[0] | avail_flags(first_wrap)));
}

START_TEST(test_packed_roundtrip)
{
	static const uint16_t f[] = { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE };
	uint8_t out[8];

	memcpy(ram + BUF, "request!", 8);
	ck_assert_int_eq(virtq_pop(&q, &el), 0); /* an all-zero ring offers nothing */
	add_chain(2, f, 7, 8);
	ck_assert_int_eq(virtq_pop(&q, &el), 1);
	ck_assert_uint_eq(el.head, 7);
	ck_assert_uint_eq(el.ndesc, 2);
	ck_assert_uint_eq(el.nr, 2);
	ck_assert_uint_eq(el.out_bytes, 8);
	ck_assert_uint_eq(el.in_bytes, 8);
	ck_assert_int_eq(virtq_elem_read(&q, &el, 0, out, 8), 0);
	ck_assert_mem_eq(out, "request!", 8);
	ck_assert_int_eq(virtq_elem_write(&q, &el, 0, "answer", 6), 0);
	ck_assert_str_eq((char *)ram + BUF + 0x100, "answer");
	ck_assert_int_eq(virtq_pop(&q, &el), 0); /* the second descriptor was not a chain */
	ck_assert_int_eq(virtq_push(&q, &el, 6), 0);
	/* The used descriptor goes where the chain began: len, id, both flags = our wrap (1). */
	ck_assert_uint_eq(get32(DESC + 8), 6);
	ck_assert_uint_eq(get16(DESC + 12), 7);
	ck_assert_uint_eq(get16(DESC + 14), VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED);
	ck_assert_uint_eq(q.used_idx, 2);
	ck_assert_uint_ne(iommu.calls, 0);
}
END_TEST

/* Five laps of a 5-entry ring with 2-descriptor chains: both wrap counters flip correctly. */
START_TEST(test_packed_wrap)
{
	static const uint16_t f[] = { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE };

	for (unsigned int k = 0; k < 12; k++) {
		unsigned int at = drv_pos;
		bool wrap = drv_wrap;

		add_chain(2, f, (uint16_t)(100 + k), 4);
		ck_assert_int_eq(virtq_pop(&q, &el), 1);
		ck_assert_uint_eq(el.head, 100 + k);
		ck_assert_uint_eq(el.ndesc, 2);
		ck_assert_int_eq(virtq_pop(&q, &el), 0);
		ck_assert_int_eq(virtq_push(&q, &el, 1), 0);
		ck_assert_uint_eq(get16(DESC + 16 * at + 12), 100 + k);
		ck_assert_uint_eq(get16(DESC + 16 * at + 14),
				  wrap ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0);
		/* A used descriptor is no longer available to the device. */
		ck_assert_int_eq(virtq_pop(&q, &el), 0);
	}
	ck_assert_uint_eq(q.last_avail, 24 % (2 * QSZ));
	ck_assert_uint_eq(q.used_idx, q.last_avail);
}
END_TEST

/* A descriptor of the previous lap (flags of the other wrap) is not available. */
START_TEST(test_packed_stale_lap)
{
	pdesc(DESC, 0, BUF, 4, 1, VIRTQ_DESC_F_USED); /* available only in lap 2 */
	ck_assert_int_eq(virtq_pop(&q, &el), 0);
	pdesc(DESC, 0, BUF, 4, 1, VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED); /* used in lap 1 */
	ck_assert_int_eq(virtq_pop(&q, &el), 0);
	pdesc(DESC, 0, BUF, 4, 1, VIRTQ_DESC_F_AVAIL);
	ck_assert_int_eq(virtq_pop(&q, &el), 1);
}
END_TEST

START_TEST(test_packed_indirect)
{
	/* Table entries: NEXT and the id are ignored, WRITE counts. */
	pdesc(TABLE, 0, BUF, 16, 99, VIRTQ_DESC_F_NEXT);
	pdesc(TABLE, 1, BUF + 0x100, 4, 99, 0);
	pdesc(TABLE, 2, BUF + 0x200, 1, 99, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT);
	pdesc(DESC, 0, TABLE, 48, 3, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_AVAIL);
	ck_assert_int_eq(virtq_pop(&q, &el), 1);
	ck_assert_uint_eq(el.head, 3);
	ck_assert_uint_eq(el.ndesc, 1);
	ck_assert_uint_eq(el.nr, 3);
	ck_assert_uint_eq(el.out_bytes, 20);
	ck_assert_uint_eq(el.in_bytes, 1);
	ck_assert_uint_eq(q.last_avail, 1);
	/* Not negotiated: a device error. */
	setup();
	q.indirect = false;
	pdesc(DESC, 0, TABLE, 48, 3, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_AVAIL);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
}
END_TEST

/* Hostile rings: each a device error, never a hang. */
START_TEST(test_packed_hostile)
{
	uint16_t all_next[QSZ];

	/* NEXT on every descriptor of the ring: the chain never ends. */
	for (unsigned int k = 0; k < QSZ; k++)
		all_next[k] = VIRTQ_DESC_F_NEXT;
	add_chain(QSZ, all_next, 1, 4);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* INDIRECT together with NEXT. */
	setup();
	pdesc(TABLE, 0, BUF, 4, 0, 0);
	pdesc(DESC, 0, TABLE, 16, 1, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_AVAIL);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* INDIRECT as the second descriptor of a chain. */
	setup();
	pdesc(DESC, 1, TABLE, 16, 1, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_AVAIL);
	pdesc(DESC, 0, BUF, 4, 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_AVAIL);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* An indirect table whose length is not a multiple of 16, or longer than the ring. */
	setup();
	pdesc(DESC, 0, TABLE, 24, 1, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_AVAIL);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	setup();
	pdesc(DESC, 0, TABLE, 16 * (QSZ + 1), 1, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_AVAIL);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* A readable descriptor after a writable one. */
	setup();
	pdesc(DESC, 1, BUF, 4, 1, VIRTQ_DESC_F_AVAIL);
	pdesc(DESC, 0, BUF, 4, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_AVAIL);
	ck_assert_int_eq(virtq_pop(&q, &el), -EIO);
	/* The ring behind a blocked page: the IOMMU's refusal, not a crash. */
	setup();
	iommu.blocked = DESC;
	ck_assert_int_eq(virtq_pop(&q, &el), -EACCES);
	/* A push of a chain that did not come from the ring. */
	setup();
	el.ndesc = 0;
	ck_assert_int_eq(virtq_push(&q, &el, 0), -EIO);
}
END_TEST

/* The driver's event suppression decides the interrupt (§2.7.14). */
START_TEST(test_packed_suppression)
{
	static const uint16_t f[] = { VIRTQ_DESC_F_WRITE };
	uint16_t old;

	add_chain(1, f, 1, 4);
	ck_assert_int_eq(virtq_pop(&q, &el), 1);
	old = q.used_idx;
	ck_assert_int_eq(virtq_push(&q, &el, 1), 0);
	put16(DRV + 2, VIRTQ_EVENT_ENABLE);
	ck_assert(virtq_need_interrupt(&q, old));
	put16(DRV + 2, VIRTQ_EVENT_DISABLE);
	ck_assert(!virtq_need_interrupt(&q, old));
	ck_assert(!virtq_need_interrupt(&q, q.used_idx)); /* nothing pushed */
	/* DESC without event index negotiated: treated as enabled. */
	put16(DRV + 2, VIRTQ_EVENT_DESC);
	ck_assert(virtq_need_interrupt(&q, old));
	/* Nothing to publish in the device area: notifications stay enabled. */
	ck_assert_int_eq(virtq_arm(&q), 0);
	ck_assert_uint_eq(get16(DEV + 2), VIRTQ_EVENT_ENABLE);

	/* With event index: interrupt only when the used descriptor at off_wrap is written. */
	setup();
	q.event_idx = true;
	put16(DRV + 2, VIRTQ_EVENT_DESC);
	put16(DRV, (uint16_t)(3 | 0x8000)); /* position 3 of lap 1 */
	for (unsigned int k = 0; k < 8; k++) {
		bool expect = k == 3;

		add_chain(1, f, (uint16_t)k, 4);
		ck_assert_int_eq(virtq_pop(&q, &el), 1);
		old = q.used_idx;
		ck_assert_int_eq(virtq_push(&q, &el, 1), 0);
		ck_assert_msg(virtq_need_interrupt(&q, old) == expect, "push %u", k);
	}
	/* Position 1 of lap 2 (wrap 0): the 7th push (k = 6) is there. */
	setup();
	q.event_idx = true;
	put16(DRV + 2, VIRTQ_EVENT_DESC);
	put16(DRV, 1);
	for (unsigned int k = 0; k < 8; k++) {
		add_chain(1, f, (uint16_t)k, 4);
		ck_assert_int_eq(virtq_pop(&q, &el), 1);
		old = q.used_idx;
		ck_assert_int_eq(virtq_push(&q, &el, 1), 0);
		ck_assert_msg(virtq_need_interrupt(&q, old) == (k == 6), "push %u", k);
	}
	/* A batch of pushes that passes the event position interrupts once. */
	setup();
	q.event_idx = true;
	put16(DRV + 2, VIRTQ_EVENT_DESC);
	put16(DRV, (uint16_t)(2 | 0x8000));
	old = q.used_idx;
	for (unsigned int k = 0; k < 4; k++) {
		add_chain(1, f, (uint16_t)k, 4);
		ck_assert_int_eq(virtq_pop(&q, &el), 1);
		ck_assert_int_eq(virtq_push(&q, &el, 1), 0);
	}
	ck_assert(virtq_need_interrupt(&q, old));
	/* An offset outside the ring: interrupt rather than lose one. */
	put16(DRV, (uint16_t)(QSZ | 0x8000));
	ck_assert(virtq_need_interrupt(&q, old));
}
END_TEST

/* Random rings: whatever the bytes, pop ends with a sane chain or an error. */
START_TEST(test_packed_random)
{
	srand(_i + 1);
	for (unsigned int k = 0; k < 16 * QSZ; k++)
		ram[DESC + k] = (uint8_t)rand();
	for (unsigned int k = 0; k < 16 * QSZ; k++)
		ram[TABLE + k] = (uint8_t)rand();
	for (unsigned int n = 0; n < 4 * QSZ; n++) {
		int r = virtq_pop(&q, &el);

		ck_assert(r == 0 || r == 1 || r == -EIO || r == -EFAULT);
		if (r != 1)
			break;
		ck_assert_uint_le(el.nr, QSZ);
		ck_assert_uint_ge(el.ndesc, 1);
		ck_assert_uint_le(el.ndesc, QSZ);
		ck_assert_uint_lt(q.last_avail, 2 * QSZ);
		ck_assert_int_eq(virtq_push(&q, &el, 0), 0);
		ck_assert_uint_lt(q.used_idx, 2 * QSZ);
	}
}
END_TEST

static Suite *packed_suite(void)
{
	Suite *s = suite_create("virtq-packed");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_packed_roundtrip);
	tcase_add_test(tc, test_packed_wrap);
	tcase_add_test(tc, test_packed_stale_lap);
	tcase_add_test(tc, test_packed_indirect);
	tcase_add_test(tc, test_packed_hostile);
	tcase_add_test(tc, test_packed_suppression);
	tcase_add_loop_test(tc, test_packed_random, 0, 200);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(packed_suite());
}
