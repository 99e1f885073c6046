/* SPDX-License-Identifier: MIT */
/* pc-testdev: QEMU's x86 ISA test device (scratch register, page flush, IRQ lines, MMIO window). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "testdev.h"

#define PAGE 4096ULL

struct pc_testdev {
	const struct irq_chip *irq;
	const struct gmem *gm;
	pthread_mutex_t lock; /* scratch, iomem */
	uint32_t scratch;
	uint64_t flushes;
	uint8_t iomem[PC_TESTDEV_IOMEM_SIZE];
};

static bool aligned(uint64_t off, unsigned int size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && (off & (size - 1)) == 0;
}

/* Ports 0xe0..0xeb: the scratch register twice (0xe0, 0xe8) and the flush port (0xe4). */
static uint64_t ports_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pc_testdev *t = opaque;
	unsigned int lane = (unsigned int)(off & 3);
	uint64_t v;

	if (off >= PC_TESTDEV_FLUSH_PORT - PC_TESTDEV_PORT &&
	    off < PC_TESTDEV_BYTE_PORT - PC_TESTDEV_PORT)
		return 0; /* the flush port is write-only */
	if (size > 4 || !aligned(lane, size))
		return 0;
	pthread_mutex_lock(&t->lock);
	v = (t->scratch >> (8 * lane)) & bus_ones(size);
	pthread_mutex_unlock(&t->lock);
	return v;
}

/*
 * Drops the host mapping of the page (the RAM is a shared memfd, so the contents stay in it):
 * KVM's MMU notifier then discards its translation and the next guest access rebuilds it,
 * the effect QEMU gets with its PROT_NONE/PROT_READ|WRITE round trip, without a window in
 * which another thread touching the page would fault.
 */
static void flush_page(struct pc_testdev *t, uint64_t gpa)
{
	void *hva = gmem_ptr(t->gm, gpa & ~(PAGE - 1), PAGE);

	if (!hva)
		return;
	if (madvise(hva, PAGE, MADV_DONTNEED) == 0)
		__atomic_add_fetch(&t->flushes, 1, __ATOMIC_RELAXED);
}

static void ports_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct pc_testdev *t = opaque;
	unsigned int lane = (unsigned int)(off & 3);
	uint32_t mask;

	if (off >= PC_TESTDEV_FLUSH_PORT - PC_TESTDEV_PORT &&
	    off < PC_TESTDEV_BYTE_PORT - PC_TESTDEV_PORT) {
		if (off == PC_TESTDEV_FLUSH_PORT - PC_TESTDEV_PORT && size == 4)
			flush_page(t, val);
		return;
	}
	if (size > 4 || !aligned(lane, size))
		return;
	mask = (uint32_t)bus_ones(size) << (8 * lane);
	pthread_mutex_lock(&t->lock);
	t->scratch = (t->scratch & ~mask) | (((uint32_t)val << (8 * lane)) & mask);
	pthread_mutex_unlock(&t->lock);
}

static const struct bus_ops ports_ops = { ports_read, ports_write };

/* 0x2000 + n: ISA IRQ line n; write-only, one byte. */
static uint64_t irq_read(void *opaque, uint64_t off, unsigned int size)
{
	return 0;
}

static void irq_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct pc_testdev *t = opaque;

	if (size != 1 || off >= PC_TESTDEV_ISA_IRQS)
		return;
	irq_set_level(t->irq, (unsigned int)off, val != 0);
}

static const struct bus_ops irq_ops = { irq_read, irq_write };

static uint64_t iomem_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pc_testdev *t = opaque;
	uint64_t v = 0;

	if (!aligned(off, size))
		return 0;
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)t->iomem[off + i] << (8 * i);
	pthread_mutex_unlock(&t->lock);
	return v;
}

static void iomem_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct pc_testdev *t = opaque;

	if (!aligned(off, size))
		return;
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < size; i++)
		t->iomem[off + i] = (uint8_t)(val >> (8 * i));
	pthread_mutex_unlock(&t->lock);
}

static const struct bus_ops iomem_ops = { iomem_read, iomem_write };

/* True if [base, base+len) overlaps no region of space (the table is small and bounded). */
static bool range_free(const struct bus *bus, enum bus_space space, uint64_t base, uint64_t len)
{
	for (unsigned int i = 0; i < bus->nr[space]; i++) {
		const struct bus_region *r = &bus->regions[space][i];

		if (base < r->base + r->len && r->base < base + len)
			return false;
	}
	return true;
}

struct pc_testdev *pc_testdev_create(struct bus *bus, const struct irq_chip *irq,
				     const struct gmem *gm)
{
	struct pc_testdev *t;
	int r;

	if (!bus || !irq || !gm) {
		errno = EINVAL;
		return NULL;
	}
	/* Check every range first: a region, once added, cannot be taken back. */
	if (!range_free(bus, BUS_PIO, PC_TESTDEV_PORT, 12) ||
	    !range_free(bus, BUS_PIO, PC_TESTDEV_IRQ_PORT, PC_TESTDEV_IRQ_LINES) ||
	    !range_free(bus, BUS_MMIO, PC_TESTDEV_IOMEM_BASE, PC_TESTDEV_IOMEM_SIZE)) {
		errno = EEXIST;
		return NULL;
	}
	if (bus->nr[BUS_PIO] + 2 > BUS_MAX_REGIONS || bus->nr[BUS_MMIO] + 1 > BUS_MAX_REGIONS) {
		errno = ENOSPC;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->irq = irq;
	t->gm = gm;
	pthread_mutex_init(&t->lock, NULL);
	r = bus_add_region(bus, BUS_PIO, PC_TESTDEV_PORT, 12, &ports_ops, t, "pc-testdev");
	if (!r)
		r = bus_add_region(bus, BUS_PIO, PC_TESTDEV_IRQ_PORT, PC_TESTDEV_IRQ_LINES, &irq_ops, t,
				   "pc-testdev-irq");
	if (!r)
		r = bus_add_region(bus, BUS_MMIO, PC_TESTDEV_IOMEM_BASE, PC_TESTDEV_IOMEM_SIZE,
				   &iomem_ops, t, "pc-testdev-iomem");
	if (r) {
		/* Not reached after the checks above; the regions would keep pointing at t. */
		errno = -r;
		return NULL;
	}
	return t;
}

void pc_testdev_destroy(struct pc_testdev *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

uint64_t pc_testdev_flushes(struct pc_testdev *t)
{
	return __atomic_load_n(&t->flushes, __ATOMIC_RELAXED);
}
