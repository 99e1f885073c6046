/* SPDX-License-Identifier: MIT */
/*
 * Test bench for the byte- and frame-stream virtio devices (net, console): guest RAM, a PCI
 * host on a bus, a fake interrupt chip, and a driver side that negotiates features, sets up
 * QSZ-entry queues at RING(q) and posts one-descriptor buffers. Unit tests only.
 */
#ifndef NESTVM_VIRTIO_TB_H
#define NESTVM_VIRTIO_TB_H

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bits.h"
#include "devices/virtio/virtio-internal.h"
#include "vmm/core/gmem.h"

#define VTB_ECAM 0xb0000000ULL
#define VTB_MMIO 0xc0000000ULL
#define VTB_RAM_SIZE (2 * MiB)
#define VTB_SLOT 4
#define VTB_DEV_ECAM (VTB_ECAM + (VTB_SLOT << 15))
#define QSZ 8
/* Rings of queue q at 0x10000 * (q + 1): desc, avail +0x1000, used +0x2000. */
#define RING(q) (0x10000ULL * ((q) + 1))
#define BUF 0x80000

struct vtb_irq {
	unsigned int msis;
	bool level[24];
};

static inline void vtb_set_level(void *ctx, unsigned int gsi, bool level)
{
	((struct vtb_irq *)ctx)->level[gsi] = level;
}

static inline void vtb_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	((struct vtb_irq *)ctx)->msis++;
}

static const struct irq_chip_ops vtb_irq_ops = { vtb_set_level, vtb_send_msi };

struct vtb {
	struct bus bus;
	struct vtb_irq irq;
	struct irq_chip chip;
	struct gmem gm;
	uint8_t *ram;
	struct dma_as as;
	struct pci_host *host;
	uint64_t bar;
	uint16_t avail[2];
};

/* RAM, DMA space and PCI host; the device goes into VTB_SLOT of t->host. */
static inline void vtb_init(struct vtb *t)
{
	memset(t, 0, sizeof(*t));
	bus_init(&t->bus);
	t->chip = (struct irq_chip){ &vtb_irq_ops, &t->irq };
	t->ram = calloc(1, VTB_RAM_SIZE);
	gmem_init_empty(&t->gm);
	ck_assert_int_eq(gmem_add_region(&t->gm, 0, VTB_RAM_SIZE, t->ram), 0);
	t->as.gmem = &t->gm;
	t->host = pci_host_create(&t->bus, &t->chip, NULL, VTB_ECAM, 256 * MiB, VTB_MMIO, 0x3ec00000,
				  0xc000, 0x4000);
}

static inline void vtb_fini(struct vtb *t)
{
	pci_host_destroy(t->host);
	free(t->ram);
}

static inline void vtb_put(struct vtb *t, uint64_t a, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		t->ram[a + i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t vtb_get(struct vtb *t, uint64_t a, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = n; i--;)
		v = v << 8 | t->ram[a + i];
	return v;
}

static inline void vtb_wr(struct vtb *t, uint64_t off, uint64_t val, unsigned int size)
{
	bus_write(&t->bus, BUS_MMIO, t->bar + off, val, size);
}

static inline uint64_t vtb_rd(struct vtb *t, uint64_t off, unsigned int size)
{
	return bus_read(&t->bus, BUS_MMIO, t->bar + off, size);
}

/*
 * Enables decoding and bus mastering of dev, checks its IDs, accepts VERSION_1,
 * ACCESS_PLATFORM, EVENT_IDX plus dev_feat, and sets up its two queues; the driver is then OK.
 */
static inline void vtb_start(struct vtb *t, struct pci_dev *dev, uint32_t ids,
			     uint64_t dev_feat)
{
	uint64_t feat = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
			BIT_ULL(VIRTIO_F_EVENT_IDX) | dev_feat;

	t->bar = pci_bar_addr(dev, 0);
	bus_write(&t->bus, BUS_MMIO, VTB_DEV_ECAM + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert_uint_eq(bus_read(&t->bus, BUS_MMIO, VTB_DEV_ECAM, 4), ids);
	vtb_wr(t, VIRTIO_COMMON_STATUS, 3, 1);
	vtb_wr(t, VIRTIO_COMMON_GFSELECT, 0, 4);
	vtb_wr(t, VIRTIO_COMMON_GF, (uint32_t)feat, 4);
	vtb_wr(t, VIRTIO_COMMON_GFSELECT, 1, 4);
	vtb_wr(t, VIRTIO_COMMON_GF, feat >> 32, 4);
	vtb_wr(t, VIRTIO_COMMON_STATUS, 0xb, 1);
	ck_assert_uint_eq(vtb_rd(t, VIRTIO_COMMON_STATUS, 1), 0xb);
	ck_assert_uint_eq(vtb_rd(t, VIRTIO_COMMON_NUMQ, 2), 2);
	for (unsigned int q = 0; q < 2; q++) {
		vtb_wr(t, VIRTIO_COMMON_Q_SELECT, q, 2);
		vtb_wr(t, VIRTIO_COMMON_Q_SIZE, QSZ, 2);
		vtb_wr(t, VIRTIO_COMMON_Q_DESC, RING(q), 8);
		vtb_wr(t, VIRTIO_COMMON_Q_AVAIL, RING(q) + 0x1000, 8);
		vtb_wr(t, VIRTIO_COMMON_Q_USED, RING(q) + 0x2000, 8);
		vtb_wr(t, VIRTIO_COMMON_Q_ENABLE, 1, 2);
	}
	vtb_wr(t, VIRTIO_COMMON_STATUS, 0xf, 1);
}

/* Posts one single-descriptor buffer (descriptor d) on queue q and kicks it. */
static inline void vtb_post(struct vtb *t, unsigned int q, unsigned int d, uint64_t addr,
			    uint32_t len, bool writable)
{
	uint64_t r = RING(q);

	vtb_put(t, r + 16 * d, addr, 8);
	vtb_put(t, r + 16 * d + 8, len, 4);
	vtb_put(t, r + 16 * d + 12, writable ? VIRTQ_DESC_F_WRITE : 0, 2);
	vtb_put(t, r + 0x1000 + 4 + 2 * (t->avail[q] % QSZ), d, 2);
	vtb_put(t, r + 0x1000 + 2, ++t->avail[q], 2);
	vtb_wr(t, VIRTIO_BAR_NOTIFY + 4 * q, q, 2);
}

/* Waits (up to 5 s) for the used index of queue q to reach n. */
static inline bool vtb_used_reaches(struct vtb *t, unsigned int q, uint16_t n)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n((uint16_t *)(t->ram + RING(q) + 0x2002), __ATOMIC_ACQUIRE) == n)
			return true;
		usleep(1000);
	}
	return false;
}

/* Length the device wrote into used entry i of queue q. */
static inline uint32_t vtb_used_len(struct vtb *t, unsigned int q, unsigned int i)
{
	return (uint32_t)vtb_get(t, RING(q) + 0x2000 + 4 + 8 * (i % QSZ) + 4, 4);
}

#endif
