/* SPDX-License-Identifier: MIT */
/* Unit tests for pci-testdev through the bus: IDs, BARs, test selection, counted writes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "common/bits.h"
#include "devices/testdev/testdev.h"

#define ECAM 0xb0000000ULL
#define MMIO 0xc0000000ULL
#define IO 0xc000
#define SLOT 4
#define DEV_ECAM (ECAM + (SLOT << 15))

static void no_level(void *ctx, unsigned int gsi, bool level)
{
	(void)ctx, (void)gsi, (void)level;
	ck_abort_msg("pci-testdev has no interrupt");
}

static void no_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	(void)ctx, (void)addr, (void)data, (void)sid;
	ck_abort_msg("pci-testdev has no interrupt");
}

static const struct irq_chip_ops irq_ops = { no_level, no_msi };

struct env {
	struct bus bus;
	struct irq_chip chip;
	struct pci_host *host;
	struct pci_testdev *t;
	uint64_t mem;
	uint16_t io;
};

static uint32_t cfg(struct env *e, unsigned int reg, unsigned int size)
{
	return (uint32_t)bus_read(&e->bus, BUS_MMIO, DEV_ECAM + reg, size);
}

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	bus_init(&e->bus);
	e->chip = (struct irq_chip){ &irq_ops, NULL };
	e->host = pci_host_create(&e->bus, &e->chip, NULL, ECAM, 256 * MiB, MMIO, 0x3ec00000, IO,
				  0x4000);
	ck_assert_ptr_nonnull(e->host);
	e->t = pci_testdev_create(e->host, SLOT);
	ck_assert_ptr_nonnull(e->t);
	e->mem = cfg(e, PCI_BAR0, 4) & ~0xfULL;
	e->io = (uint16_t)(cfg(e, PCI_BAR0 + 4, 4) & ~0x3u);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	return e;
}

static void env_free(struct env *e)
{
	pci_testdev_destroy(e->t);
	pci_host_destroy(e->host);
	free(e);
}

static uint64_t rd(struct env *e, bool io, uint64_t off, unsigned int size)
{
	return io ? bus_read(&e->bus, BUS_PIO, e->io + off, size)
		  : bus_read(&e->bus, BUS_MMIO, e->mem + off, size);
}

static void wr(struct env *e, bool io, uint64_t off, uint64_t v, unsigned int size)
{
	if (io)
		bus_write(&e->bus, BUS_PIO, e->io + off, v, size);
	else
		bus_write(&e->bus, BUS_MMIO, e->mem + off, v, size);
}

START_TEST(test_config)
{
	struct env *e = env_new();

	ck_assert_uint_eq(cfg(e, 0, 4), 0x00051b36);
	ck_assert_uint_eq(cfg(e, 8, 4), 0x00ff0000); /* class 00, subclass ff, prog-if 0, rev 0 */
	ck_assert_uint_eq(cfg(e, PCI_INTERRUPT_PIN, 1), 0);
	ck_assert_uint_eq(cfg(e, PCI_BAR0, 4) & 0xf, 0); /* 32-bit memory, not prefetchable */
	ck_assert_uint_eq(cfg(e, PCI_BAR0 + 4, 4) & 0x3, 1); /* I/O */
	ck_assert_uint_eq(cfg(e, PCI_BAR0 + 8, 4), 0);
	/* Sizes by the all-ones probe. */
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_BAR0, 0xffffffff, 4);
	ck_assert_uint_eq(cfg(e, PCI_BAR0, 4), 0xfffff000);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_BAR0 + 4, 0xffffffff, 4);
	ck_assert_uint_eq(cfg(e, PCI_BAR0 + 4, 4) & 0xffff, 0xff01);
	env_free(e);
}
END_TEST

/* Each test of each BAR: header, counting, data match. */
START_TEST(test_counting)
{
	static const char *const names[6] = {
		"mmio-no-eventfd", "mmio-wildcard-eventfd", "mmio-datamatch-eventfd",
		"portio-no-eventfd", "portio-wildcard-eventfd", "portio-datamatch-eventfd",
	};
	struct env *e = env_new();

	for (unsigned int n = 0; n < 6; n++) {
		bool io = n >= 3;
		unsigned int kind = n % 3;
		uint32_t off = (io ? 128u : 2048u) + n;
		uint8_t data = kind == 1 ? 0xce : 0xfa;
		char name[32];

		wr(e, io, 0, kind, 1);
		ck_assert_uint_eq(rd(e, io, 0, 1), n);
		ck_assert_uint_eq(rd(e, io, 1, 1), 1);
		ck_assert_uint_eq(rd(e, io, 4, 4), off);
		ck_assert_uint_eq(rd(e, io, 8, 4), data);
		ck_assert_uint_eq(rd(e, io, 12, 4), 0);
		for (unsigned int i = 0; i < sizeof(name); i++)
			name[i] = (char)rd(e, io, 16 + i, 1);
		name[sizeof(name) - 1] = 0;
		ck_assert_str_eq(name, names[n]);
		for (unsigned int i = 0; i < 16; i++)
			wr(e, io, off, data, 1);
		ck_assert_uint_eq(rd(e, io, 12, 4), 16);
		/* Other data: counted only by the wildcard test. Other offsets: never. */
		wr(e, io, off, 0x11, 1);
		ck_assert_uint_eq(rd(e, io, 12, 4), kind == 1 ? 17 : 16);
		wr(e, io, off + 1, data, 1);
		wr(e, io, off - 1, data, 1);
		ck_assert_uint_eq(rd(e, io, 12, 4), kind == 1 ? 17 : 16);
		/* A wider write is split into bytes: its low byte lands on the offset. */
		wr(e, io, off, 0x1100u | data, 2);
		ck_assert_uint_eq(rd(e, io, 12, 4), kind == 1 ? 18 : 17);
		/* Reselecting starts the count again. */
		wr(e, io, 0, kind, 1);
		ck_assert_uint_eq(rd(e, io, 12, 4), 0);
	}
	env_free(e);
}
END_TEST

START_TEST(test_select_and_reset)
{
	struct env *e = env_new();

	/* Nothing selected: reads 0, writes ignored. */
	ck_assert_uint_eq(rd(e, false, 0, 4), 0);
	ck_assert_uint_eq(rd(e, true, 8, 4), 0);
	/* A test selected on one BAR is what both BARs show (QEMU keeps one current test). */
	wr(e, true, 0, 2, 1);
	ck_assert_uint_eq(rd(e, false, 0, 1), 5);
	/* Out-of-range number deselects. */
	wr(e, false, 0, 3, 1);
	ck_assert_uint_eq(rd(e, false, 0, 4), 0);
	ck_assert_uint_eq(rd(e, true, 4, 4), 0);
	/* Past the name: 0. */
	wr(e, false, 0, 0, 1);
	ck_assert_uint_eq(rd(e, false, 16 + 15, 1), 0); /* the NUL of "mmio-no-eventfd" */
	ck_assert_uint_eq(rd(e, false, 4000, 4), 0);
	/* Machine reset deselects. */
	pci_host_reset(e->host);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	ck_assert_uint_eq(rd(e, false, 1, 1), 0);
	env_free(e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pci-testdev");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_counting);
	tcase_add_test(tc, test_select_and_reset);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(suite());
}
