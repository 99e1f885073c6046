/* SPDX-License-Identifier: MIT */
/* Unit tests for the userspace IOAPIC: registers, edge and level delivery, EOI, masking. */
#include <check.h>
#include <stdlib.h>

#include "check-run.h"
#include "vmm/ioapic.h"

struct rec {
	unsigned int n, routes;
	uint64_t addr;
	uint32_t data;
};

static void rec_deliver(void *ctx, uint64_t addr, uint32_t data)
{
	struct rec *r = ctx;

	r->n++;
	r->addr = addr;
	r->data = data;
}

static void rec_routes(void *ctx)
{
	((struct rec *)ctx)->routes++;
}

static const struct ioapic_ops ops = { rec_deliver, rec_routes };

static void wr(struct ioapic *io, uint32_t idx, uint32_t v)
{
	ioapic_mmio_write(io, 0x00, idx, 4);
	ioapic_mmio_write(io, 0x10, v, 4);
}

static uint32_t rd(struct ioapic *io, uint32_t idx)
{
	ioapic_mmio_write(io, 0x00, idx, 4);
	return (uint32_t)ioapic_mmio_read(io, 0x10, 4);
}

START_TEST(test_id_version_reset)
{
	struct ioapic io;
	struct rec r = { 0 };

	ioapic_init(&io, 0, &ops, &r);
	ck_assert_uint_eq(rd(&io, 1), 0x00170020); /* 24 entries, version 0x20 */
	ck_assert_uint_eq(rd(&io, 0x10) & (1u << 16), 1u << 16); /* masked at reset */
	wr(&io, 0, 3u << 24);
	ck_assert_uint_eq(rd(&io, 0), 3u << 24);
	ck_assert_uint_eq(ioapic_mmio_read(&io, 0x10, 2), ~0ULL); /* wrong width */
	ioapic_fini(&io);
}
END_TEST

START_TEST(test_edge)
{
	struct ioapic io;
	struct rec r = { 0 };

	ioapic_init(&io, 0, &ops, &r);
	ioapic_set_level(&io, 4, true); /* masked: nothing */
	ioapic_set_level(&io, 4, false);
	ck_assert_uint_eq(r.n, 0);
	wr(&io, 0x10 + 2 * 4 + 1, 2u << 24); /* dest APIC 2 */
	wr(&io, 0x10 + 2 * 4, 0x31);         /* vector 0x31, edge, unmasked */
	ck_assert_uint_ge(r.routes, 1);
	ioapic_set_level(&io, 4, true);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.addr, 0xfee02000);
	ck_assert_uint_eq(r.data, 0x31);
	ioapic_set_level(&io, 4, true); /* no new edge */
	ck_assert_uint_eq(r.n, 1);
	ioapic_set_level(&io, 4, false);
	ioapic_set_level(&io, 4, true);
	ck_assert_uint_eq(r.n, 2);
	ioapic_fini(&io);
}
END_TEST

START_TEST(test_level_eoi)
{
	struct ioapic io;
	struct rec r = { 0 };

	ioapic_init(&io, 0, &ops, &r);
	wr(&io, 0x10 + 2 * 16, 0x40 | (1u << 15)); /* level, vector 0x40 */
	ioapic_set_level(&io, 16, true);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.data, 0x40 | (1u << 15) | (1u << 14));
	ck_assert_uint_ne(rd(&io, 0x10 + 2 * 16) & (1u << 14), 0); /* remote IRR */
	ioapic_set_level(&io, 16, true); /* still in service: no redelivery */
	ck_assert_uint_eq(r.n, 1);
	ioapic_eoi(&io, 0x41, 0);           /* other vector */
	ck_assert_uint_eq(r.n, 1);
	io.eoi_grace_ns = 1000;
	ioapic_eoi(&io, 0x40, 5000);     /* line still high: again, once the grace time is over */
	ck_assert_uint_eq(r.n, 1);
	ioapic_recheck(&io, 5999);
	ck_assert_uint_eq(r.n, 1);
	ioapic_recheck(&io, 6000);
	ck_assert_uint_eq(r.n, 2);
	ioapic_recheck(&io, 9999);       /* only once */
	ck_assert_uint_eq(r.n, 2);
	ioapic_set_level(&io, 16, false);
	ioapic_mmio_write(&io, 0x40, 0x40, 4); /* EOI register */
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(rd(&io, 0x10 + 2 * 16) & (1u << 14), 0);
	/* Remote IRR is read-only. */
	wr(&io, 0x10 + 2 * 16, 0x40 | (1u << 15) | (1u << 14));
	ck_assert_uint_eq(rd(&io, 0x10 + 2 * 16) & (1u << 14), 0);
	ioapic_fini(&io);
}
END_TEST

/* A line quieted between the EOI and the recheck (the guest's handler ran late) is not redelivered. */
START_TEST(test_early_eoi_then_quiet)
{
	struct ioapic io;
	struct rec r = { 0 };

	ioapic_init(&io, 0, &ops, &r);
	wr(&io, 0x10 + 2 * 19, 0x40 | (1u << 15));
	ioapic_set_level(&io, 19, true);
	ck_assert_uint_eq(r.n, 1);
	ioapic_eoi(&io, 0x40, 0);
	ioapic_set_level(&io, 19, false);
	ioapic_recheck(&io, ~0ULL);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(rd(&io, 0x10 + 2 * 19) & (1u << 14), 0);
	ioapic_set_level(&io, 19, true); /* a new assertion is delivered at once */
	ck_assert_uint_eq(r.n, 2);
	ioapic_fini(&io);
}
END_TEST

START_TEST(test_unmask_pending_level)
{
	struct ioapic io;
	struct rec r = { 0 };

	ioapic_init(&io, 0, &ops, &r);
	wr(&io, 0x10 + 2 * 17, 0x50 | (1u << 15) | (1u << 16)); /* level, masked */
	ioapic_set_level(&io, 17, true);
	ck_assert_uint_eq(r.n, 0);
	wr(&io, 0x10 + 2 * 17, 0x50 | (1u << 15)); /* unmask: pending level fires */
	ck_assert_uint_eq(r.n, 1);
	ioapic_set_level(&io, 99, true); /* out of range: ignored */
	ck_assert_uint_eq(r.n, 1);
	ioapic_fini(&io);
}
END_TEST

/* Remappable-format RTE (bit 48): the MSI carries the handle, not a destination. */
START_TEST(test_remappable_format)
{
	struct ioapic io;
	struct rec r = { 0 };

	ioapic_init(&io, 0, &ops, &r);
	/* Handle 0x8005: 14:0 in RTE 63:49, bit 15 in RTE bit 11; level, vector 0x66. */
	wr(&io, 0x10 + 2 * 3 + 1, (5u << 17) | (1u << 16));
	wr(&io, 0x10 + 2 * 3, 0x66 | (1u << 11) | (1u << 15));
	ioapic_set_level(&io, 3, true);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.addr, 0xfee00000ULL | (5u << 5) | (1u << 4) | (1u << 2));
	ck_assert_uint_eq(r.data, 0x66 | (1u << 15) | (1u << 14));
	/* EOI still matches the RTE's vector (which must equal the IRTE's). */
	ioapic_set_level(&io, 3, false);
	ioapic_eoi(&io, 0x66, 0);
	ck_assert_uint_eq(rd(&io, 0x10 + 2 * 3) & (1u << 14), 0);
	ioapic_fini(&io);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ioapic");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_id_version_reset);
	tcase_add_test(tc, test_edge);
	tcase_add_test(tc, test_level_eoi);
	tcase_add_test(tc, test_unmask_pending_level);
	tcase_add_test(tc, test_early_eoi_then_quiet);
	tcase_add_test(tc, test_remappable_format);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
