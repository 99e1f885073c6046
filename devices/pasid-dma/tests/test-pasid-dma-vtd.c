/* SPDX-License-Identifier: MIT */
/*
 * pasid-dma behind the real VT-d unit: two PASIDs with separate first-stage address spaces,
 * unmap + invalidation (and a forgotten device-TLB invalidation), page requests answered
 * Success / Invalid through the invalidation queue.
 */
#include <check.h>

#include "devices/pasid-dma/tests/sva-env.h"

#define VA_SRC 0x7f0000400000ULL
#define VA_DST 0x7f0000800000ULL
#define VA_CR 0x7f0000c00000ULL
#define PA(p, i) (SVA_DATA + 0x100000ULL * (p) + 0x1000ULL * (i))
#define DESC(op, p) ((op) | PDMA_D0_PASID_EN | ((uint64_t)(p) << 32))

/* Maps src (2 pages), dst (2 pages) and the completion record page for PASID p. */
static void map_process(struct sva_env *e, uint32_t p)
{
	sva_map(e, p, VA_SRC, PA(p, 0));
	sva_map(e, p, VA_SRC + 4096, PA(p, 1));
	sva_map(e, p, VA_DST, PA(p, 2));
	sva_map(e, p, VA_DST + 4096, PA(p, 3));
	sva_map(e, p, VA_CR, PA(p, 4));
}

/* FNV-1a 64, written independently of the device's. */
static uint64_t pdma_fnv1a_ref(const uint8_t *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	while (n--) {
		h ^= *p++;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint8_t cr(struct sva_env *e, uint32_t p)
{
	return e->ram[PA(p, 4)];
}

static void run_two_pasids(bool ats)
{
	struct sva_env *e = sva_new("dt=on,prs=on", ats, ats);
	struct pasid_dma_stats s;

	map_process(e, 1);
	map_process(e, 2);
	for (unsigned int i = 0; i < 8192; i++) {
		e->ram[PA(1, 0) + i] = (uint8_t)i;
		e->ram[PA(2, 0) + i] = (uint8_t)(255 - i);
	}
	sva_submit(e, DESC(PDMA_OP_COPY, 1), VA_SRC, VA_DST, 8192, 0, VA_CR);
	sva_submit(e, DESC(PDMA_OP_COPY, 2), VA_SRC, VA_DST, 8192, 0, VA_CR);
	ck_assert_uint_eq(cr(e, 1), PDMA_ST_OK);
	ck_assert_uint_eq(cr(e, 2), PDMA_ST_OK);
	ck_assert_int_eq(memcmp(e->ram + PA(1, 0), e->ram + PA(1, 2), 8192), 0);
	ck_assert_int_eq(memcmp(e->ram + PA(2, 0), e->ram + PA(2, 2), 8192), 0);
	ck_assert_uint_ne(e->ram[PA(1, 2) + 5], e->ram[PA(2, 2) + 5]);
	/* Checksum through PASID 2 matches the host-side FNV-1a of its source. */
	sva_submit(e, DESC(PDMA_OP_CHECKSUM, 2), VA_SRC, 0, 8192, 0, VA_CR);
	ck_assert_uint_eq(le64_load(e->ram + PA(2, 4) + 8),
			  pdma_fnv1a_ref(e->ram + PA(2, 0), 8192));
	pasid_dma_get_stats(e->d, &s);
	if (ats)
		ck_assert_uint_gt(s.dtlb_hits, 0);
	else
		ck_assert_uint_eq(s.dtlb_hits + s.dtlb_misses, 0);
	sva_free(e);
}

START_TEST(test_two_pasids_iotlb)
{
	run_two_pasids(false);
}
END_TEST

START_TEST(test_two_pasids_ats)
{
	run_two_pasids(true);
}
END_TEST

START_TEST(test_unmap_invalidation)
{
	struct sva_env *e = sva_new("dt=on,prs=on", true, false);
	uint64_t q0;

	map_process(e, 1);
	sva_submit(e, DESC(PDMA_OP_FILL, 1), 0, VA_DST, 16, 0x1111111111111111ULL, VA_CR);
	ck_assert_uint_eq(e->ram[PA(1, 2)], 0x11);
	/* Unmap VA_DST and flush only the IOTLB: the device-TLB still holds it (stale). */
	sva_map(e, 1, VA_DST, 0);
	sva_inv_iotlb(e, 1, VA_DST);
	sva_submit(e, DESC(PDMA_OP_FILL, 1), 0, VA_DST, 16, 0x2222222222222222ULL, VA_CR);
	ck_assert_uint_eq(cr(e, 1), PDMA_ST_OK);
	ck_assert_uint_eq(e->ram[PA(1, 2)], 0x22);
	/* With the device-TLB invalidation the old page is no longer touched: fault. */
	sva_inv_devtlb(e, 1, VA_DST);
	sva_submit(e, DESC(PDMA_OP_FILL, 1), 0, VA_DST, 16, 0x3333333333333333ULL, VA_CR);
	ck_assert_uint_eq(cr(e, 1), PDMA_ST_FAULT);
	ck_assert_uint_eq(le64_load(e->ram + PA(1, 4) + 16), VA_DST);
	ck_assert_uint_eq(e->ram[PA(1, 2)], 0x22);
	/* PRI was off: no page request. */
	ck_assert_uint_eq(sva_prq_pop(e, &q0), 0);
	sva_free(e);
}
END_TEST

START_TEST(test_page_request_flow)
{
	struct sva_env *e = sva_new("dt=on,prs=on", true, true);
	uint64_t q0, q1;

	map_process(e, 3);
	sva_map(e, 3, VA_DST + 4096, 0); /* second dst page not present */
	sva_submit(e, DESC(PDMA_OP_FILL, 3), 0, VA_DST, 8192, 0x4444444444444444ULL, VA_CR);
	ck_assert_uint_eq(cr(e, 3), 0);
	ck_assert_uint_eq(sva_dev_r(e, PDMA_REG_STATUS) & PDMA_STS_WAITING, PDMA_STS_WAITING);
	q1 = sva_prq_pop(e, &q0);
	ck_assert_uint_ne(q1, 0);
	ck_assert_uint_eq(q1 & ~0xfffULL, VA_DST + 4096);
	ck_assert_uint_eq(q1 & 7, 2 | 4); /* write, last in group */
	ck_assert_uint_eq((q0 >> 32) & 0xfffff, 3);
	ck_assert_uint_eq((q0 >> 16) & 0xffff, SVA_SID);
	ck_assert(sva_r32(e, R_PRS) & 1);
	/* The guest maps the page and answers Success: the DMA completes. */
	sva_map(e, 3, VA_DST + 4096, PA(3, 3));
	sva_respond(e, 3, (uint16_t)((q1 >> 3) & 0x1ff), 0);
	ck_assert_uint_eq(cr(e, 3), PDMA_ST_OK);
	ck_assert_uint_eq(e->ram[PA(3, 3) + 4095], 0x44);
	/* Invalid response: completes with an error. */
	sva_map(e, 3, VA_SRC, 0);
	sva_inv_iotlb(e, 3, VA_SRC);
	sva_inv_devtlb(e, 3, VA_SRC);
	sva_submit(e, DESC(PDMA_OP_CHECKSUM, 3), VA_SRC, 0, 64, 0, VA_CR);
	q1 = sva_prq_pop(e, &q0);
	ck_assert_uint_eq(q1 & ~0xfffULL, VA_SRC);
	ck_assert_uint_eq(q1 & 7, 1 | 4); /* read, last */
	sva_respond(e, 3, (uint16_t)((q1 >> 3) & 0x1ff), 1);
	ck_assert_uint_eq(cr(e, 3), PDMA_ST_PRG_INVALID);
	/* A response for a group nobody asked for is ignored. */
	sva_respond(e, 3, 0x77, 0);
	ck_assert_uint_eq(sva_r32(e, 0x034) & 0x10, 0); /* no IQE */
	sva_free(e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pasid-dma-vtd");
	TCase *tc = tcase_create("sva");

	tcase_add_test(tc, test_two_pasids_iotlb);
	tcase_add_test(tc, test_two_pasids_ats);
	tcase_add_test(tc, test_unmap_invalidation);
	tcase_add_test(tc, test_page_request_flow);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
