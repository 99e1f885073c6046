/* SPDX-License-Identifier: MIT */
/*
 * What the virtio fuzz targets (fuzz-virtio.c, fuzz-virtio-net.c, fuzz-virtio-console.c) share: a
 * fake IOMMU that blocks part of the IOVA space, the driver's side of feature negotiation and
 * queue set-up through the common configuration, byte stores into fake RAM, and the ring
 * operations of the two-queue targets. Included by those targets only.
 */
#ifndef NESTVM_FUZZ_VIRTIO_UTIL_H
#define NESTVM_FUZZ_VIRTIO_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <string.h>
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

/* Little-endian load of n bytes; bytes past the end of the fake RAM read 0. */
static inline uint64_t fz_virtio_get(const struct fz_ram *r, uint64_t a, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = n; i--;)
		v = v << 8 | (a + i < r->size ? r->mem[a + i] : 0);
	return v;
}

/*
 * The reset oracle of the targets that keep one device for every input: what the guest reads
 * of the device (common config with every queue selected in turn and one it lacks, device
 * config, ISR) and each queue's device state.
 */
struct fz_virtio_state {
	uint64_t common[VIRTIO_COMMON_Q_SIZE / 8];                 /* device-wide, select 0 */
	uint64_t queue[VIRTIO_MAX_QUEUES + 1][(VIRTIO_COMMON_SIZE - VIRTIO_COMMON_Q_SIZE) / 8];
	uint8_t config[VIRTIO_MAX_CONFIG];
	uint8_t isr;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

static inline void fz_virtio_snapshot(struct bus *bus, uint64_t bar, struct virtio_pci *vp,
				      struct fz_virtio_state *ret)
{
	unsigned int b;

	memset(ret, 0, sizeof(*ret));
	/* 8-byte reads: each read builds the whole common config image in the device. */
	for (unsigned int q = 0; q <= vp->nr_queues; q++) {
		fz_virtio_wr(bus, bar, VIRTIO_COMMON_Q_SELECT, q, 2);
		for (unsigned int w = 0; w < sizeof(ret->queue[q]) / 8; w++)
			ret->queue[q][w] = bus_read(bus, BUS_MMIO, bar + VIRTIO_COMMON_Q_SIZE + 8 * w, 8);
	}
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_Q_SELECT, 0, 2);
	for (unsigned int w = 0; w < sizeof(ret->common) / 8; w++)
		ret->common[w] = bus_read(bus, BUS_MMIO, bar + 8 * w, 8);
	for (b = 0; b + 4 <= vp->config_len; b += 4) {
		uint32_t v = (uint32_t)bus_read(bus, BUS_MMIO, bar + VIRTIO_BAR_DEVICE + b, 4);

		memcpy(&ret->config[b], &v, 4);
	}
	for (; b < vp->config_len; b++)
		ret->config[b] = (uint8_t)bus_read(bus, BUS_MMIO, bar + VIRTIO_BAR_DEVICE + b, 1);
	ret->isr = (uint8_t)bus_read(bus, BUS_MMIO, bar + VIRTIO_BAR_ISR, 1);
	pthread_mutex_lock(&vp->lock);
	memcpy(ret->vq, vp->vq, sizeof(ret->vq));
	pthread_mutex_unlock(&vp->lock);
}

static inline bool fz_virtq_same(const struct virtq *a, const struct virtq *b)
{
	return a->size == b->size && a->msix_vector == b->msix_vector && a->enabled == b->enabled &&
	       a->desc == b->desc && a->avail == b->avail && a->used == b->used &&
	       a->last_avail == b->last_avail && a->used_idx == b->used_idx &&
	       a->event_idx == b->event_idx && a->indirect == b->indirect && a->as == b->as &&
	       a->sid == b->sid;
}

/*
 * Writes status 0 (the I/O thread idle) and checks that the device is back as it was when
 * initial was taken, right after creation: the same reads, the same queue state, no queue
 * broken, no feature or status left, no kick pending.
 */
static inline void fz_virtio_reset_check(struct bus *bus, uint64_t bar, struct virtio_pci *vp,
					 const struct fz_virtio_state *initial)
{
	static struct fz_virtio_state now;

	fz_virtio_wr(bus, bar, VIRTIO_COMMON_STATUS, 0, 1);
	virtio_pci_drain(vp);
	fz_virtio_snapshot(bus, bar, vp, &now);
	FZ_CHECK(memcmp(now.common, initial->common, sizeof(now.common)) == 0);
	FZ_CHECK(memcmp(now.queue, initial->queue, sizeof(now.queue)) == 0);
	FZ_CHECK(memcmp(now.config, initial->config, sizeof(now.config)) == 0);
	FZ_CHECK(now.isr == 0);
	pthread_mutex_lock(&vp->lock);
	for (unsigned int q = 0; q < vp->nr_queues; q++) {
		FZ_CHECK(!vp->broken[q]);
		FZ_CHECK(fz_virtq_same(&now.vq[q], &initial->vq[q]));
	}
	FZ_CHECK(vp->status == 0 && vp->guest_features == 0);
	pthread_mutex_unlock(&vp->lock);
	pthread_mutex_lock(&vp->kick_lock);
	FZ_CHECK(!vp->kicked && !vp->busy);
	pthread_mutex_unlock(&vp->kick_lock);
}

/* The two-queue targets (net, console): queue q's rings at FZ_RING2(q): desc, avail +0x1000,
 * used +0x2000. */
#define FZ_RING2(q) (0x1000ULL + 0x3000ULL * (q))

/*
 * Operations 0-3 of the two-queue targets, decoded from f: 0 RAM (offset u16, value u64),
 * 1 descriptor (queue/index u8 with bit 7 the queue, addr u32, len u32, flags u8, next u16),
 * 2 offer (queue u8, head u16: next avail slot and avail idx + 1), 3 avail idx (queue u8,
 * u16). Returns the queue an offer or idx write must kick, else -1.
 */
static inline int fz_virtio_ring_op(struct fz_ram *ram, struct fz *f, unsigned int op,
				    uint16_t qsize, uint16_t offered[2])
{
	unsigned int q;

	switch (op) {
	case 0: {
		uint16_t off = fz_u16(f);

		fz_virtio_put(ram, off, fz_u64(f), 8);
		return -1;
	}
	case 1: {
		uint8_t b = fz_u8(f);
		uint64_t d = FZ_RING2(b >> 7) + 16ULL * ((b & 0x7f) % qsize);

		fz_virtio_put(ram, d, fz_u32(f), 8);
		fz_virtio_put(ram, d + 8, fz_u32(f), 4);
		fz_virtio_put(ram, d + 12, fz_u8(f), 2);
		fz_virtio_put(ram, d + 14, fz_u16(f), 2);
		return -1;
	}
	case 2:
		q = fz_u8(f) & 1;
		fz_virtio_put(ram, FZ_RING2(q) + 0x1000 + 4 + 2ULL * (offered[q] % qsize), fz_u16(f), 2);
		fz_virtio_put(ram, FZ_RING2(q) + 0x1000 + 2, ++offered[q], 2);
		return (int)q;
	case 3:
		q = fz_u8(f) & 1;
		offered[q] = fz_u16(f);
		fz_virtio_put(ram, FZ_RING2(q) + 0x1000 + 2, offered[q], 2);
		return (int)q;
	default:
		return -1;
	}
}

/* An input's DMA path, set while the device's threads are idle: identity, or the blocking IOMMU. */
static inline void fz_virtio_set_dma(struct virtio_pci *vp, struct dma_as *as, struct fz_ram *ram,
				     void *iommu, bool on)
{
	pthread_mutex_lock(&vp->lock);
	*as = (struct dma_as){ .gmem = &ram->gm };
	if (on)
		*as = (struct dma_as){ .gmem = &ram->gm, .ops = &fz_virtio_block_ops, .iommu = iommu };
	pthread_mutex_unlock(&vp->lock);
}

/*
 * For the drain at the end of an input: receive queue 0 of one entry at ring, whose descriptor 0
 * is a device-writable buffer [addr, addr + len), avail idx set to avail_idx, used idx 0; the
 * driver (VERSION_1, ACCESS_PLATFORM only) then sets DRIVER_OK. Bus mastering is the caller's.
 */
static inline void fz_virtio_one_rx_buffer(struct bus *bus, uint64_t bar, struct fz_ram *ram,
					   uint64_t ring, uint64_t addr, uint32_t len,
					   uint16_t avail_idx)
{
	fz_virtio_negotiate(bus, bar, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM));
	fz_virtio_put(ram, ring, addr, 8);
	fz_virtio_put(ram, ring + 8, len, 4);
	fz_virtio_put(ram, ring + 12, VIRTQ_DESC_F_WRITE, 2);
	fz_virtio_put(ram, ring + 14, 0, 2);
	fz_virtio_put(ram, ring + 0x1000, 0, 2);
	fz_virtio_put(ram, ring + 0x1000 + 2, avail_idx, 2);
	fz_virtio_put(ram, ring + 0x1000 + 4, 0, 2);
	fz_virtio_put(ram, ring + 0x2000 + 2, 0, 2); /* the driver starts the used idx at 0 */
	fz_virtio_queue(bus, bar, 0, 1, ring, ring + 0x1000, ring + 0x2000);
	fz_virtio_wr(bus, bar, VIRTIO_COMMON_STATUS, 0xf, 1);
}

#endif
