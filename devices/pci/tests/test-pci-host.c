/* SPDX-License-Identifier: MIT */
/* Unit tests for the host bridge: CF8/CFC, ECAM, BAR decode, 0xcf9, INTx routing, MSI/MSI-X. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "check-run.h"
#include "common/bits.h"
#include "devices/pci/pci.h"

#define ECAM 0xb0000000ULL
#define MMIO 0xc0000000ULL
#define MMIO_SIZE 0x3ec00000ULL
#define IO 0xc000

/* Fake interrupt chip: remembers levels per GSI and every MSI. */
struct fake_irq {
	bool level[24];
	unsigned int level_calls;
	unsigned int msis;
	uint64_t addr;
	uint32_t data;
	uint16_t sid;
};

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	struct fake_irq *f = ctx;

	ck_assert_uint_lt(gsi, 24);
	f->level[gsi] = level;
	f->level_calls++;
}

static void fake_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	struct fake_irq *f = ctx;

	f->msis++;
	f->addr = addr;
	f->data = data;
	f->sid = sid;
}

static const struct irq_chip_ops fake_irq_ops = { fake_set_level, fake_send_msi };

struct fake_ctl {
	unsigned int resets, shutdowns;
};

static void fake_shutdown(void *ctx, int status)
{
	((struct fake_ctl *)ctx)->shutdowns++;
}

static void fake_reset(void *ctx)
{
	((struct fake_ctl *)ctx)->resets++;
}

static const struct vmctl_ops fake_ctl_ops = { fake_shutdown, fake_reset };

/* A test device: BAR0 4 KiB MMIO, BAR1 32 B I/O, BAR2 64 KiB 64-bit MMIO with MSI-X. */
struct tdev {
	struct pci_dev pci;
	unsigned int reads, writes, resets, last_bar, last_size;
	uint64_t last_off, last_val;
};

static uint64_t tdev_read(struct pci_dev *dev, unsigned int bar, uint64_t off, unsigned int size)
{
	struct tdev *t = dev->opaque;

	t->reads++;
	t->last_bar = bar;
	t->last_off = off;
	t->last_size = size;
	return 0xa5a5a5a500000000ULL | (bar << 16) | off;
}

static void tdev_write(struct pci_dev *dev, unsigned int bar, uint64_t off, uint64_t val,
		       unsigned int size)
{
	struct tdev *t = dev->opaque;

	t->writes++;
	t->last_bar = bar;
	t->last_off = off;
	t->last_val = val;
	t->last_size = size;
}

static void tdev_reset(struct pci_dev *dev)
{
	((struct tdev *)dev->opaque)->resets++;
}

static const struct pci_dev_ops tdev_ops = { tdev_read, tdev_write, NULL, tdev_reset };

struct env {
	struct bus bus;
	struct fake_irq irq;
	struct fake_ctl ctl;
	struct irq_chip chip;
	struct vmctl vmctl;
	struct pci_host *host;
	struct tdev *t;
	unsigned int msi, msix;
};

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	bus_init(&e->bus);
	e->chip = (struct irq_chip){ &fake_irq_ops, &e->irq };
	e->vmctl = (struct vmctl){ &fake_ctl_ops, &e->ctl };
	e->host = pci_host_create(&e->bus, &e->chip, &e->vmctl, ECAM, 256 * MiB, MMIO, MMIO_SIZE, IO,
				  0x4000);
	ck_assert_ptr_nonnull(e->host);
	return e;
}

static struct tdev *tdev_new(struct env *e, unsigned int slot)
{
	struct tdev *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	pci_dev_init(&t->pci, 0x1af4, 0x10f0 + slot, 1, 0xff0000, &tdev_ops, t);
	ck_assert_int_eq(pci_dev_set_bar(&t->pci, 0, PCI_BAR_MEM32, 4096, false), 0);
	ck_assert_int_eq(pci_dev_set_bar(&t->pci, 1, PCI_BAR_IO, 32, false), 0);
	ck_assert_int_eq(pci_dev_set_bar(&t->pci, 2, PCI_BAR_MEM64, 64 * KiB, true), 0);
	pci_dev_set_irq_pin(&t->pci, 1);
	ck_assert_int_eq(pci_cap_add_msi(&t->pci, 4, true, true, &e->msi), 0);
	ck_assert_int_eq(pci_cap_add_msix(&t->pci, 16, 2, 0, 0x800, &e->msix), 0);
	ck_assert_int_eq(pci_host_add_device(e->host, &t->pci, slot), 0);
	return t;
}

static void tdev_free(struct tdev *t)
{
	pci_host_remove_device(&t->pci);
	pci_dev_cleanup(&t->pci);
	free(t);
}

static void env_free(struct env *e)
{
	if (e->t)
		tdev_free(e->t);
	pci_host_destroy(e->host);
	free(e);
}

static uint32_t cfc_read(struct env *e, unsigned int slot, unsigned int reg, unsigned int size)
{
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80000000u | (slot << 11) | (reg & 0xfc), 4);
	return (uint32_t)bus_read(&e->bus, BUS_PIO, 0xcfc + (reg & 3), size);
}

static void cfc_write(struct env *e, unsigned int slot, unsigned int reg, uint32_t val,
		      unsigned int size)
{
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80000000u | (slot << 11) | (reg & 0xfc), 4);
	bus_write(&e->bus, BUS_PIO, 0xcfc + (reg & 3), val, size);
}

/* CF8 holds the register with bits 1:0 as given; the data port adds its byte by OR. */
static uint64_t cf8_raw_read(struct env *e, unsigned int slot, unsigned int cf8_reg,
			     unsigned int port_byte, unsigned int size)
{
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80000000u | (slot << 11) | cf8_reg, 4);
	return bus_read(&e->bus, BUS_PIO, 0xcfc + port_byte, size);
}

static uint64_t ecam(unsigned int bus, unsigned int slot, unsigned int fn, unsigned int reg)
{
	return ECAM + ((uint64_t)bus << 20) + (slot << 15) + (fn << 12) + reg;
}

/* QEMU's decode: register = CONFIG_ADDRESS[7:0] | (port - 0xcfc), every width, every byte. */
START_TEST(test_cf8_low_bits)
{
	struct env *e = env_new();
	uint8_t cfg[256];

	e->t = tdev_new(e, 3);
	for (unsigned int r = 0; r < 256; r++)
		cfg[r] = (uint8_t)bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, r), 1);
	/* Register 2 in CF8, word read at CFC: the device ID, not the vendor ID. */
	ck_assert_uint_eq(cf8_raw_read(e, 3, 2, 0, 2), 0x10f3);
	ck_assert_uint_eq(cf8_raw_read(e, 3, 1, 0, 1), 0x1a);
	ck_assert_uint_eq(cf8_raw_read(e, 3, 3, 0, 1), 0x10);
	ck_assert_uint_eq(cf8_raw_read(e, 3, 1, 2, 1), 0x10); /* 1 | 2 = 3 */
	ck_assert_uint_eq(cf8_raw_read(e, 3, 2, 2, 1), 0xf3); /* 2 | 2 = 2 */
	for (unsigned int r = 0; r < 0x40; r++) {
		for (unsigned int b = 0; b < 4; b++) {
			unsigned int reg = r | b;

			/* Port accesses are naturally aligned (as x86 guests do them); any CF8 bits 1:0. */
			for (unsigned int size = 1; size <= 4 && b % size == 0; size <<= 1) {
				uint64_t want = 0;

				for (unsigned int i = 0; i < size; i++)
					want |= (uint64_t)cfg[reg + i] << (8 * i);
				ck_assert_msg(cf8_raw_read(e, 3, r, b, size) == want,
					      "CF8 reg 0x%x, port byte %u, size %u", r, b, size);
			}
		}
	}
	/* Writes take the same register: 0x3c is the (writable) interrupt line, 0x3d the pin. */
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80000000u | (3 << 11) | 0x3c, 4);
	bus_write(&e->bus, BUS_PIO, 0xcfc, 0x77, 1);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, 0x3c), 1), 0x77);
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80000000u | (3 << 11) | 0x3d, 4);
	bus_write(&e->bus, BUS_PIO, 0xcfc, 0x99, 1); /* register 0x3d, not 0x3c */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, 0x3c), 1), 0x77);
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80000000u | (3 << 11) | 0x3c, 4);
	bus_write(&e->bus, BUS_PIO, 0xcfd, 0x5566, 2); /* 0x3d..0x3e: the line is untouched */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, 0x3c), 1), 0x77);
	/* Past byte 255 nothing is read (zero bytes) or written. */
	ck_assert_uint_eq(cf8_raw_read(e, 3, 0xfe, 0, 4), cfg[0xfe] | (uint32_t)cfg[0xff] << 8);
	ck_assert_uint_eq(cf8_raw_read(e, 3, 0xfd, 0, 4),
			  cfg[0xfd] | (uint32_t)cfg[0xfe] << 8 | (uint32_t)cfg[0xff] << 16);
	ck_assert_uint_eq(cf8_raw_read(e, 3, 0xff, 0, 4), cfg[0xff]);
	/* An absent device still reads all-ones at every offset. */
	ck_assert_uint_eq(cf8_raw_read(e, 5, 2, 1, 2), 0xffff);
	env_free(e);
}
END_TEST

START_TEST(test_cf8_cfc)
{
	struct env *e = env_new();

	e->t = tdev_new(e, 3);
	/* Host bridge 00:00.0. */
	ck_assert_uint_eq(cfc_read(e, 0, 0, 4), 0x29c08086);
	ck_assert_uint_eq(cfc_read(e, 0, 8, 4) >> 8, 0x060000);
	ck_assert_uint_eq(cfc_read(e, 0, PCI_HEADER_TYPE, 1), 0);
	/* Device 00:03.0, every width at every byte. */
	ck_assert_uint_eq(cfc_read(e, 3, 0, 4), 0x10f31af4);
	ck_assert_uint_eq(cfc_read(e, 3, 2, 2), 0x10f3);
	ck_assert_uint_eq(cfc_read(e, 3, 1, 1), 0x1a);
	ck_assert_uint_eq(cfc_read(e, 3, 3, 1), 0x10);
	ck_assert_uint_eq(cfc_read(e, 3, 1, 2), 0xf31a);
	/* CONFIG_ADDRESS reads back; non-dword accesses to it are not the register. */
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80001804, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, 0xcf8, 4), 0x80001804);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, 0xcf8, 2), 0xffff);
	bus_write(&e->bus, BUS_PIO, 0xcfb, 0x01, 1);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, 0xcf8, 4), 0x80001804);
	/* Write through CFC. */
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
	cfc_write(e, 3, PCI_INTERRUPT_LINE, 0x55, 1);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_INTERRUPT_LINE, 1), 0x55);
	/* Absent slot, other function, other bus, enable bit clear: all-ones; writes dropped. */
	ck_assert_uint_eq(cfc_read(e, 5, 0, 4), 0xffffffff);
	ck_assert_uint_eq(cfc_read(e, 5, 2, 2), 0xffff);
	cfc_write(e, 5, PCI_COMMAND, 0xffff, 2);
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80001900, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, 0xcfc, 4), 0xffffffff);
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80011800, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, 0xcfc, 4), 0xffffffff);
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x00001800, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, 0xcfc, 4), 0xffffffff);
	bus_write(&e->bus, BUS_PIO, 0xcfc, 0, 2);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
	env_free(e);
}
END_TEST

START_TEST(test_ecam)
{
	struct env *e = env_new();

	e->t = tdev_new(e, 3);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 0, 0, 0), 4), 0x29c08086);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, 0), 4), 0x10f31af4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, 0), 8),
			  0x0010000010f31af4ULL); /* status has the capability-list bit */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, 1), 2), 0xf31a);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, 0x100), 4), 0);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, 0xffc), 4), 0);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 0, 0xffc), 8), ~0ULL);
	/* ECAM writes hit the same config space as CF8/CFC. */
	bus_write(&e->bus, BUS_MMIO, ecam(0, 3, 0, PCI_COMMAND), PCI_COMMAND_MASTER, 2);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_COMMAND, 2), PCI_COMMAND_MASTER);
	/* Absent: slot, function, bus. */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 4, 0, 0), 4), 0xffffffff);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 4, 0, 0), 8), ~0ULL);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(0, 3, 1, 0), 1), 0xff);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, ecam(255, 3, 0, 0), 2), 0xffff);
	bus_write(&e->bus, BUS_MMIO, ecam(7, 31, 7, 0x40), 0xffffffff, 4);
	env_free(e);
}
END_TEST

START_TEST(test_bar_assign_and_decode)
{
	struct env *e = env_new();
	struct tdev *t = tdev_new(e, 3);

	e->t = t;
	/* Sequential, aligned assignment; command left 0; type bits kept. */
	ck_assert_uint_eq(pci_bar_addr(&t->pci, 0), MMIO);
	ck_assert_uint_eq(pci_bar_addr(&t->pci, 1), IO);
	ck_assert_uint_eq(pci_bar_addr(&t->pci, 2), MMIO + 64 * KiB);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_BAR0 + 8, 4), (uint32_t)(MMIO + 64 * KiB) | 0xc);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_BAR0 + 12, 4), 0);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_BAR0 + 4, 4), IO | 1);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_COMMAND, 2), 0);

	/* Decode off: memory reads 0 and ports all-ones (as on QEMU), device not called. */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, MMIO + 8, 4), 0);
	bus_write(&e->bus, BUS_MMIO, MMIO + 8, 1, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, IO + 4, 2), 0xffff);
	ck_assert_uint_eq(t->reads + t->writes, 0);

	/* Memory decode on: BAR0 and BAR2 answer, I/O still off. */
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, MMIO + 0x10, 4), 0x10);
	ck_assert_uint_eq(t->last_bar, 0);
	ck_assert_uint_eq(t->last_off, 0x10);
	ck_assert_uint_eq(t->last_size, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, MMIO + 64 * KiB + 0x1000, 8),
			  0xa5a5a5a500021000ULL);
	bus_write(&e->bus, BUS_MMIO, MMIO + 0xff8, 0x1122334455667788ULL, 8);
	ck_assert_uint_eq(t->last_val, 0x1122334455667788ULL);
	ck_assert_uint_eq(t->last_off, 0xff8);
	/* Past the BAR (gap between BAR0 and BAR2) or straddling its end: nobody. */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, MMIO + 0x1000, 4), 0);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, MMIO + 0xffe, 4), 0);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, IO + 4, 2), 0xffff);
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, IO + 4, 2), 0x0004);
	ck_assert_uint_eq(t->last_bar, 1);

	/* The guest moves BAR0: decode follows the register. */
	cfc_write(e, 3, PCI_BAR0, (uint32_t)(MMIO + 0x100000), 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, MMIO + 0x10, 4), 0);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, MMIO + 0x100010, 4), 0x10);
	/* Sizing in progress (all-ones) lands outside the window: no decode anywhere. */
	cfc_write(e, 3, PCI_BAR0, 0xffffffff, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, MMIO + 0x100010, 4), 0);
	ck_assert_uint_eq(t->reads, 4); /* only the decoded reads reached it */
	env_free(e);
}
END_TEST

START_TEST(test_add_errors)
{
	struct env *e = env_new();
	struct pci_dev *big = calloc(1, sizeof(*big)), *other = calloc(1, sizeof(*other));

	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(other);
	e->t = tdev_new(e, 3);
	pci_dev_init(big, 1, 2, 0, 0, NULL, NULL);
	pci_dev_init(other, 1, 3, 0, 0, NULL, NULL);
	ck_assert_int_eq(pci_dev_set_bar(big, 0, PCI_BAR_MEM64, 2 * GiB, false), 0);
	ck_assert_int_eq(pci_host_add_device(e->host, other, 0), -EINVAL);
	ck_assert_int_eq(pci_host_add_device(e->host, other, 32), -EINVAL);
	ck_assert_int_eq(pci_host_add_device(e->host, other, 3), -EEXIST);
	ck_assert_int_eq(pci_host_add_device(e->host, big, 4), -ENOSPC);
	ck_assert_ptr_null(pci_host_get_device(e->host, 4));
	ck_assert_int_eq(pci_host_add_device(e->host, other, 31), 0);
	ck_assert_ptr_eq(pci_host_get_device(e->host, 31), other);
	ck_assert_uint_eq(pci_dev_bdf(other), 31 << 3);
	ck_assert_uint_eq(pci_dev_gsi(other), 0); /* no pin */
	ck_assert_uint_eq(pci_dev_vendor_id(other), 1);
	ck_assert_uint_eq(pci_dev_device_id(other), 3);
	pci_host_remove_device(other);
	ck_assert_ptr_null(pci_host_get_device(e->host, 31));
	pci_dev_cleanup(big);
	pci_dev_cleanup(other);
	free(big);
	free(other);
	env_free(e);
}
END_TEST

START_TEST(test_cf9_reset)
{
	struct env *e = env_new();

	bus_write(&e->bus, BUS_PIO, 0xcf9, 0x02, 1);
	ck_assert_uint_eq(e->ctl.resets, 0);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, 0xcf9, 1), 0x02);
	bus_write(&e->bus, BUS_PIO, 0xcf9, 0x06, 1);
	ck_assert_uint_eq(e->ctl.resets, 1);
	bus_write(&e->bus, BUS_PIO, 0xcf9, 0x0e, 1);
	ck_assert_uint_eq(e->ctl.resets, 2);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, 0xcf9, 1), 0x0a);
	/* A dword write of CONFIG_ADDRESS with bit 10 set is not a reset. */
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x80000400, 4);
	bus_write(&e->bus, BUS_PIO, 0xcf8, 0x0600, 2);
	ck_assert_uint_eq(e->ctl.resets, 2);
	ck_assert_uint_eq(e->ctl.shutdowns, 0);
	env_free(e);
}
END_TEST

START_TEST(test_intx_routing)
{
	struct env *e = env_new();
	struct tdev *t = tdev_new(e, 3), *u;

	e->t = t;
	/* docs/board.md: GSI = 16 + ((S + P - 1) mod 8). */
	ck_assert_uint_eq(pci_intx_gsi(3, 1), 19);
	ck_assert_uint_eq(pci_intx_gsi(5, 4), 16);
	ck_assert_uint_eq(pci_intx_gsi(31, 2), 16);
	ck_assert_uint_eq(pci_intx_gsi(0, 1), 16);
	ck_assert_uint_eq(pci_dev_gsi(&t->pci), 19);
	ck_assert_uint_eq(pci_dev_irq_pin(&t->pci), 1);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_INTERRUPT_LINE, 2), 0x0113);

	pci_set_irq(&t->pci, true);
	ck_assert(e->irq.level[19]);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
	/* INTx disable masks the pin but not the status bit. */
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	ck_assert(!e->irq.level[19]);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
	cfc_write(e, 3, PCI_COMMAND, 0, 2);
	ck_assert(e->irq.level[19]);

	/* Slot 11 pin A shares GSI 19: wired OR. */
	u = calloc(1, sizeof(*u));
	ck_assert_ptr_nonnull(u);
	pci_dev_init(&u->pci, 0x1af4, 0x1111, 0, 0, &tdev_ops, u);
	pci_dev_set_irq_pin(&u->pci, 1);
	ck_assert_int_eq(pci_host_add_device(e->host, &u->pci, 11), 0);
	ck_assert_uint_eq(pci_dev_gsi(&u->pci), 19);
	pci_set_irq(&u->pci, true);
	pci_set_irq(&t->pci, false);
	ck_assert(e->irq.level[19]);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	pci_set_irq(&u->pci, false);
	ck_assert(!e->irq.level[19]);
	/* Repeating a level does not re-drive the pin. */
	{
		unsigned int calls = e->irq.level_calls;

		pci_set_irq(&u->pci, false);
		ck_assert_uint_eq(e->irq.level_calls, calls);
	}
	tdev_free(u);
	env_free(e);
}
END_TEST

START_TEST(test_msi_delivery)
{
	struct env *e = env_new();
	struct tdev *t = tdev_new(e, 3);
	unsigned int msi = e->msi;

	e->t = t;
	ck_assert_int_eq(pci_msi_notify(&t->pci, 0), -ENODEV);
	pci_set_irq(&t->pci, true);
	ck_assert(e->irq.level[19]);
	/* Program as a guest: address, data, 4 vectors, enable. */
	cfc_write(e, 3, msi + PCI_MSI_ADDRESS_LO, 0xfee01000, 4);
	cfc_write(e, 3, msi + PCI_MSI_ADDRESS_HI, 0, 4);
	cfc_write(e, 3, msi + PCI_MSI_DATA_64, 0x4041, 2);
	cfc_write(e, 3, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (2 << 4), 2);
	ck_assert(pci_msi_enabled(&t->pci));
	/* Enabling MSI drops INTx. */
	ck_assert(!e->irq.level[19]);
	/* Without bus mastering nothing is sent. */
	ck_assert_int_eq(pci_msi_notify(&t->pci, 2), 0);
	ck_assert_uint_eq(e->irq.msis, 0);
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	ck_assert_int_eq(pci_msi_notify(&t->pci, 2), 0);
	ck_assert_uint_eq(e->irq.msis, 1);
	ck_assert_uint_eq(e->irq.addr, 0xfee01000);
	ck_assert_uint_eq(e->irq.data, 0x4042);
	ck_assert_uint_eq(e->irq.sid, 0x0018);
	ck_assert_int_eq(pci_msi_notify(&t->pci, 4), -EINVAL);
	/* Per-vector mask: pending, then sent on unmask. */
	cfc_write(e, 3, msi + PCI_MSI_MASK_64, 0x2, 4);
	ck_assert_int_eq(pci_msi_notify(&t->pci, 1), 0);
	ck_assert_uint_eq(e->irq.msis, 1);
	ck_assert_uint_eq(cfc_read(e, 3, msi + PCI_MSI_MASK_64 + 4, 4), 0x2);
	cfc_write(e, 3, msi + PCI_MSI_MASK_64, 0, 4);
	ck_assert_uint_eq(e->irq.msis, 2);
	ck_assert_uint_eq(e->irq.data, 0x4041);
	ck_assert_uint_eq(cfc_read(e, 3, msi + PCI_MSI_MASK_64 + 4, 4), 0);
	/* 64-bit address. */
	cfc_write(e, 3, msi + PCI_MSI_ADDRESS_HI, 0x1, 4);
	pci_msi_notify(&t->pci, 0);
	ck_assert_uint_eq(e->irq.addr, 0x1fee01000ULL);
	env_free(e);
}
END_TEST

START_TEST(test_msix_delivery)
{
	struct env *e = env_new();
	struct tdev *t = tdev_new(e, 3);
	uint64_t tbl = MMIO + 64 * KiB, pba = tbl + 0x800;
	unsigned int msix = e->msix;

	e->t = t;
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	/* Entries reset masked. */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, tbl + 3 * 16 + 12, 4), 1);
	bus_write(&e->bus, BUS_MMIO, tbl + 3 * 16, 0xfee00000 | 0x3, 4);
	bus_write(&e->bus, BUS_MMIO, tbl + 3 * 16 + 4, 0, 4);
	bus_write(&e->bus, BUS_MMIO, tbl + 3 * 16 + 8, 0x55, 4);
	bus_write(&e->bus, BUS_MMIO, tbl + 3 * 16 + 12, 0xfffffffe, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, tbl + 3 * 16, 8), 0xfee00000);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, tbl + 3 * 16 + 8, 8), 0x55);
	ck_assert_uint_eq(t->reads + t->writes, 0); /* the host served the table */
	cfc_write(e, 3, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	ck_assert_int_eq(pci_msi_notify(&t->pci, 3), 0);
	ck_assert_int_eq(pci_msi_notify(&t->pci, 16), -EINVAL);
	ck_assert_uint_eq(e->irq.msis, 0);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, pba, 8), 0x8);
	bus_write(&e->bus, BUS_MMIO, pba, 0, 8); /* PBA is read-only */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, pba, 8), 0x8);
	cfc_write(e, 3, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	ck_assert_uint_eq(e->irq.msis, 1);
	ck_assert_uint_eq(e->irq.data, 0x55);
	ck_assert_uint_eq(e->irq.sid, 0x18);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, pba, 8), 0);
	/* Masked entry 5: pending until its mask bit clears. */
	bus_write(&e->bus, BUS_MMIO, tbl + 5 * 16 + 8, 0x66, 4);
	pci_msi_notify(&t->pci, 5);
	ck_assert_uint_eq(e->irq.msis, 1);
	bus_write(&e->bus, BUS_MMIO, tbl + 5 * 16 + 12, 0, 4);
	ck_assert_uint_eq(e->irq.msis, 2);
	ck_assert_uint_eq(e->irq.data, 0x66);
	/* Other BAR2 offsets still reach the device. */
	bus_read(&e->bus, BUS_MMIO, tbl + 0x1000, 4);
	ck_assert_uint_eq(t->reads, 1);
	ck_assert_uint_eq(t->last_bar, 2);
	env_free(e);
}
END_TEST

static unsigned int observed;

static void observer(struct pci_dev *dev, void *opaque)
{
	ck_assert_ptr_eq(opaque, &observed);
	observed++;
}

/* What a vector would send, and the observer the machine's irqfd routes follow. */
START_TEST(test_msi_vector_observer)
{
	struct env *e = env_new();
	struct tdev *t = tdev_new(e, 3);
	uint64_t tbl = MMIO + 64 * KiB, addr;
	unsigned int msix = e->msix, msi = e->msi;
	uint32_t data;
	bool masked;

	e->t = t;
	observed = 0;
	pci_dev_set_msi_observer(&t->pci, observer, &observed);
	ck_assert_int_eq(pci_msi_vector(&t->pci, 0, &addr, &data, &masked), -ENODEV);
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	ck_assert_uint_eq(observed, 1);
	cfc_write(e, 3, PCI_CACHE_LINE_SIZE, 0x10, 1); /* not MSI state: not told */
	ck_assert_uint_eq(observed, 1);
	/* MSI, 64-bit with per-vector masks: 4 vectors enabled. */
	cfc_write(e, 3, msi + PCI_MSI_ADDRESS_LO, 0xfee01000, 4);
	cfc_write(e, 3, msi + PCI_MSI_DATA_64, 0x40, 2);
	cfc_write(e, 3, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (2 << 4), 2);
	ck_assert_uint_eq(observed, 4);
	ck_assert_int_eq(pci_msi_vector(&t->pci, 2, &addr, &data, &masked), 0);
	ck_assert_uint_eq(addr, 0xfee01000);
	ck_assert_uint_eq(data, 0x42);
	ck_assert(masked); /* no bus mastering yet */
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert_int_eq(pci_msi_vector(&t->pci, 2, &addr, &data, &masked), 0);
	ck_assert(!masked);
	cfc_write(e, 3, msi + PCI_MSI_MASK_64, 0x4, 4);
	ck_assert_int_eq(pci_msi_vector(&t->pci, 2, &addr, &data, &masked), 0);
	ck_assert(masked);
	ck_assert_int_eq(pci_msi_vector(&t->pci, 4, &addr, &data, &masked), -EINVAL);
	cfc_write(e, 3, msi + PCI_MSI_FLAGS, 0, 2);
	/* MSI-X: every table write is told; entries reset masked. */
	observed = 0;
	cfc_write(e, 3, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	ck_assert_uint_eq(observed, 1);
	ck_assert_int_eq(pci_msi_vector(&t->pci, 3, &addr, &data, &masked), 0);
	ck_assert(masked);
	bus_write(&e->bus, BUS_MMIO, tbl + 3 * 16, 0xfee02000, 4);
	bus_write(&e->bus, BUS_MMIO, tbl + 3 * 16 + 8, 0x77, 4);
	bus_write(&e->bus, BUS_MMIO, tbl + 3 * 16 + 12, 0, 4);
	ck_assert_uint_eq(observed, 4);
	ck_assert_int_eq(pci_msi_vector(&t->pci, 3, &addr, &data, &masked), 0);
	ck_assert(!masked && addr == 0xfee02000 && data == 0x77);
	cfc_write(e, 3, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 2);
	ck_assert_int_eq(pci_msi_vector(&t->pci, 3, &addr, &data, &masked), 0);
	ck_assert(masked);
	ck_assert_int_eq(pci_msi_vector(&t->pci, 16, &addr, &data, &masked), -EINVAL);
	pci_dev_set_msi_observer(&t->pci, NULL, NULL);
	bus_write(&e->bus, BUS_MMIO, tbl + 3 * 16 + 12, 1, 4);
	ck_assert_uint_eq(observed, 5);
	env_free(e);
}
END_TEST

START_TEST(test_host_reset)
{
	struct env *e = env_new();
	struct tdev *t = tdev_new(e, 3);

	e->t = t;
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	cfc_write(e, 3, PCI_BAR0, 0xd0000000, 4);
	cfc_write(e, 3, e->msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	bus_write(&e->bus, BUS_MMIO, MMIO + 64 * KiB + 12, 0, 4);
	pci_set_irq(&t->pci, true);
	pci_host_reset(e->host);
	ck_assert_uint_eq(t->resets, 1);
	ck_assert_uint_eq(cfc_read(e, 3, PCI_COMMAND, 2), 0);
	ck_assert_uint_eq(pci_bar_addr(&t->pci, 0), MMIO);
	ck_assert(!pci_msi_enabled(&t->pci));
	ck_assert(!e->irq.level[19]);
	cfc_write(e, 3, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, MMIO + 64 * KiB + 12, 4), 1);
	env_free(e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pci-host");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_cf8_cfc);
	tcase_add_test(tc, test_cf8_low_bits);
	tcase_add_test(tc, test_ecam);
	tcase_add_test(tc, test_bar_assign_and_decode);
	tcase_add_test(tc, test_add_errors);
	tcase_add_test(tc, test_cf9_reset);
	tcase_add_test(tc, test_intx_routing);
	tcase_add_test(tc, test_msi_delivery);
	tcase_add_test(tc, test_msix_delivery);
	tcase_add_test(tc, test_msi_vector_observer);
	tcase_add_test(tc, test_host_reset);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(suite());
}
