/* SPDX-License-Identifier: MIT */
/* Unit tests for pc-testdev through the bus: scratch register, flush port, IRQ lines, MMIO window. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check-run.h"
#include "common/bits.h"
#include "devices/testdev/testdev.h"

#define RAM_SIZE (64 * 4096)

struct fake_irq {
	int level[24];
	unsigned int changes;
};

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	struct fake_irq *f = ctx;

	ck_assert_uint_lt(gsi, 24);
	f->level[gsi] = level;
	f->changes++;
}

static void fake_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	(void)ctx, (void)addr, (void)data, (void)sid;
	ck_abort_msg("pc-testdev sends no MSI");
}

static const struct irq_chip_ops fake_irq_ops = { fake_set_level, fake_send_msi };

struct env {
	struct bus bus;
	struct fake_irq irq;
	struct irq_chip chip;
	struct gmem gm;
	int memfd;
	uint8_t *ram;
	struct pc_testdev *t;
};

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	bus_init(&e->bus);
	e->chip = (struct irq_chip){ &fake_irq_ops, &e->irq };
	/* Shared memfd RAM, as the launcher's: a flush keeps the contents. */
	e->memfd = memfd_create("test-ram", 0);
	ck_assert_int_ge(e->memfd, 0);
	ck_assert_int_eq(ftruncate(e->memfd, RAM_SIZE), 0);
	e->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, e->memfd, 0);
	ck_assert(e->ram != MAP_FAILED);
	gmem_init_empty(&e->gm);
	ck_assert_int_eq(gmem_add_region(&e->gm, 0, RAM_SIZE, e->ram), 0);
	e->t = pc_testdev_create(&e->bus, &e->chip, &e->gm);
	ck_assert_ptr_nonnull(e->t);
	return e;
}

static void env_free(struct env *e)
{
	pc_testdev_destroy(e->t);
	munmap(e->ram, RAM_SIZE);
	close(e->memfd);
	free(e);
}

static uint64_t in(struct env *e, uint16_t port, unsigned int size)
{
	return bus_read(&e->bus, BUS_PIO, port, size);
}

static void out(struct env *e, uint16_t port, uint64_t v, unsigned int size)
{
	bus_write(&e->bus, BUS_PIO, port, v, size);
}

START_TEST(test_scratch)
{
	struct env *e = env_new();

	ck_assert_uint_eq(in(e, 0xe0, 4), 0);
	out(e, 0xe0, 0x12345678, 4);
	ck_assert_uint_eq(in(e, 0xe0, 4), 0x12345678);
	ck_assert_uint_eq(in(e, 0xe1, 1), 0x56);
	ck_assert_uint_eq(in(e, 0xe2, 2), 0x1234);
	out(e, 0xe3, 0xab, 1);
	ck_assert_uint_eq(in(e, 0xe0, 4), 0xab345678);
	out(e, 0xe0, 0xcdef, 2);
	ck_assert_uint_eq(in(e, 0xe0, 4), 0xab34cdef);
	/* 0xe8..0xeb is the same register. */
	ck_assert_uint_eq(in(e, 0xe8, 4), 0xab34cdef);
	out(e, 0xea, 0x9988, 2);
	ck_assert_uint_eq(in(e, 0xe0, 4), 0x9988cdef);
	ck_assert_uint_eq(in(e, 0xeb, 1), 0x99);
	/* Misaligned accesses read 0 and are dropped (QEMU's memory core rejects them). */
	ck_assert_uint_eq(in(e, 0xe1, 2), 0);
	out(e, 0xe1, 0xffff, 2);
	out(e, 0xe2, 0xffffffff, 4);
	ck_assert_uint_eq(in(e, 0xe0, 4), 0x9988cdef);
	/* The flush port is write-only. */
	ck_assert_uint_eq(in(e, 0xe4, 4), 0);
	env_free(e);
}
END_TEST

START_TEST(test_flush)
{
	struct env *e = env_new();

	memset(e->ram + 3 * 4096, 0x5a, 4096);
	out(e, 0xe4, 3 * 4096 + 0x123, 4);
	ck_assert_uint_eq(pc_testdev_flushes(e->t), 1);
	for (unsigned int i = 0; i < 4096; i++)
		ck_assert_uint_eq(e->ram[3 * 4096 + i], 0x5a);
	/* Not RAM, or not a 32-bit write: nothing. */
	out(e, 0xe4, RAM_SIZE, 4);
	out(e, 0xe4, 0xfffff000, 4);
	out(e, 0xe4, 0x1000, 2);
	out(e, 0xe5, 0x1000, 1);
	ck_assert_uint_eq(pc_testdev_flushes(e->t), 1);
	env_free(e);
}
END_TEST

START_TEST(test_irq_lines)
{
	struct env *e = env_new();

	out(e, 0x2000 + 14, 1, 1);
	ck_assert_int_eq(e->irq.level[14], 1);
	out(e, 0x2000 + 14, 0, 1);
	ck_assert_int_eq(e->irq.level[14], 0);
	out(e, 0x2000 + 15, 0x80, 1);
	ck_assert_int_eq(e->irq.level[15], 1);
	out(e, 0x2000, 1, 1);
	ck_assert_int_eq(e->irq.level[0], 1);
	ck_assert_uint_eq(e->irq.changes, 4);
	/* Only byte writes; lines 16..23 have no ISA IRQ. */
	out(e, 0x2000 + 10, 1, 2);
	out(e, 0x2000 + 16, 1, 1);
	out(e, 0x2000 + 23, 1, 1);
	ck_assert_uint_eq(e->irq.changes, 4);
	ck_assert_uint_eq(in(e, 0x2000 + 14, 1), 0);
	env_free(e);
}
END_TEST

START_TEST(test_iomem)
{
	struct env *e = env_new();
	uint64_t base = PC_TESTDEV_IOMEM_BASE, end = base + PC_TESTDEV_IOMEM_SIZE;

	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, base, 8), 0);
	bus_write(&e->bus, BUS_MMIO, base, 0x1122334455667788ULL, 8);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, base, 8), 0x1122334455667788ULL);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, base + 4, 4), 0x11223344);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, base + 2, 2), 0x5566);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, base + 7, 1), 0x11);
	bus_write(&e->bus, BUS_MMIO, base + 1, 0xaa, 1);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, base, 4), 0x5566aa88);
	bus_write(&e->bus, BUS_MMIO, end - 8, 0xdeadbeefcafef00dULL, 8);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, end - 4, 4), 0xdeadbeef);
	/* Misaligned: read 0, write dropped; outside the window: not ours. */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, base + 1, 4), 0);
	bus_write(&e->bus, BUS_MMIO, base + 2, 0xffffffff, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, base, 4), 0x5566aa88);
	ck_assert_ptr_null(bus_find(&e->bus, BUS_MMIO, end, 1));
	ck_assert_ptr_null(bus_find(&e->bus, BUS_MMIO, base - 1, 1));
	env_free(e);
}
END_TEST

START_TEST(test_conflict)
{
	struct env *e = env_new();
	struct pc_testdev *second;

	/* A second instance finds its ranges taken and adds nothing. */
	unsigned int pio = e->bus.nr[BUS_PIO], mmio = e->bus.nr[BUS_MMIO];

	errno = 0;
	second = pc_testdev_create(&e->bus, &e->chip, &e->gm);
	ck_assert_ptr_null(second);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_uint_eq(e->bus.nr[BUS_PIO], pio);
	ck_assert_uint_eq(e->bus.nr[BUS_MMIO], mmio);
	env_free(e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pc-testdev");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_scratch);
	tcase_add_test(tc, test_flush);
	tcase_add_test(tc, test_irq_lines);
	tcase_add_test(tc, test_iomem);
	tcase_add_test(tc, test_conflict);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(suite());
}
