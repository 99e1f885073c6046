/* SPDX-License-Identifier: MIT */
/*
 * What the virtio fuzz targets (fuzz-virtio.c, fuzz-virtio-net.c) share: a fake IOMMU that
 * blocks part of the IOVA space, the driver's side of feature negotiation and queue set-up
 * through the common configuration, and byte stores into fake RAM. Included by those targets
 * only.
 */
#ifndef NESTVM_FUZZ_VIRTIO_UTIL_H
#define NESTVM_FUZZ_VIRTIO_UTIL_H

#include <errno.h>
#include "devices/virtio/virtio-internal.h"
#include "devices/virtio/virtio.h"
#include "fuzz-util.h"
#include "vmm/core/bus.h"

/* Identity, except that IOVAs with bit 15 set fault (the device must report, not crash). */
static int fz_virtio_block_translate(void *iommu, const struct dma_req *req, uint64_t iova,
				     struct dma_xlate *ret)
{
	(void)iommu;
	(void)req;
	if (iova & 0x8000)
		return -EACCES;
	ret->gpa = iova;
	ret->len = 4096 - (iova & 4095);
	return 0;
}

static const struct dma_iommu_ops fz_virtio_block_ops = { .translate = fz_virtio_block_translate };

static inline void fz_virtio_wr(struct bus *bus, uint64_t bar, uint64_t off, uint64_t val,
				unsigned int size)
{
	bus_write(bus, BUS_MMIO, bar + off, val, size);
}

/* Reset, ACKNOWLEDGE|DRIVER, offer feat, FEATURES_OK. */
static inline void fz_virtio_negotiate(struct bus *bus, uint64_t bar, uint64_t feat)
{
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_STATUS, 0, 1);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_STATUS, 3, 1);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_GFSELECT, 0, 4);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_GF, (uint32_t)feat, 4);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_GFSELECT, 1, 4);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_GF, feat >> 32, 4);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_STATUS, 0xb, 1);
}

/* Queue q: size, ring addresses, enable. */
static inline void fz_virtio_queue(struct bus *bus, uint64_t bar, unsigned int q, uint16_t size,
				   uint64_t desc, uint64_t avail, uint64_t used)
{
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_Q_SELECT, q, 2);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_Q_SIZE, size, 2);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_Q_DESC, desc, 8);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_Q_AVAIL, avail, 8);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_Q_USED, used, 8);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_Q_ENABLE, 1, 2);
}

/* Little-endian store of n bytes, clipped at the end of the fake RAM. */
static inline void fz_virtio_put(struct fz_ram *r, uint64_t a, uint64_t val, unsigned int n)
{
	for (unsigned int i = 0; i < n && a + i < r->size; i++)
		r->mem[a + i] = (uint8_t)(val >> (8 * i));
}

#endif
