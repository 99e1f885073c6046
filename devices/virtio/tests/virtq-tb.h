/* SPDX-License-Identifier: MIT */
/*
 * The virtqueue unit tests' bench (test-virtq.c, test-virtq-packed.c): 1 MiB of fake guest RAM
 * behind a fake IOMMU that blocks one page and maps the rest identity, and little-endian
 * accessors for building rings in it. Only for those tests.
 */
#ifndef NESTVM_VIRTQ_TB_H
#define NESTVM_VIRTQ_TB_H

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "common/bits.h"
#include "devices/virtio/virtio-internal.h"
#include "vmm/core/gmem.h"

#define RAM_SIZE (1 * MiB)

struct fake_iommu {
	uint64_t blocked; /* page address the IOMMU refuses, ~0 for none */
	unsigned int calls;
};

static int fake_translate(void *iommu, const struct dma_req *req, uint64_t iova,
			  struct dma_xlate *ret)
{
	struct fake_iommu *f = iommu;

	(void)req;
	f->calls++;
	if ((iova & ~0xfffULL) == f->blocked)
		return -EACCES;
	ret->gpa = iova;
	ret->len = 0x1000 - (iova & 0xfff);
	return 0;
}

static const struct dma_iommu_ops fake_ops = { .translate = fake_translate };

static uint8_t *ram;
static struct gmem gm;
static struct dma_as as;
static struct fake_iommu iommu;

/* Fresh zeroed RAM and the DMA space over it, nothing blocked. */
static void tb_ram_setup(void)
{
	free(ram);
	ram = calloc(1, RAM_SIZE);
	gmem_init_empty(&gm);
	ck_assert_int_eq(gmem_add_region(&gm, 0, RAM_SIZE, ram), 0);
	iommu.blocked = ~0ULL;
	as = (struct dma_as){ .gmem = &gm, .ops = &fake_ops, .iommu = &iommu };
}

static void teardown(void)
{
	free(ram);
	ram = NULL;
}

static void put16(uint64_t a, uint16_t v) { ram[a] = (uint8_t)v; ram[a + 1] = (uint8_t)(v >> 8); }
static uint16_t get16(uint64_t a) { return (uint16_t)(ram[a] | ram[a + 1] << 8); }
static uint32_t get32(uint64_t a) { return get16(a) | (uint32_t)get16(a + 2) << 16; }

/*
 * Descriptor i of table: addr, len, then the two 16-bit words at 12 and 14 (split: flags, next;
 * packed: buffer id, flags).
 */
static void put_desc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len, uint16_t w12,
		     uint16_t w14)
{
	uint8_t *p = ram + table + 16 * i;

	for (unsigned int k = 0; k < 8; k++)
		p[k] = (uint8_t)(addr >> (8 * k));
	for (unsigned int k = 0; k < 4; k++)
		p[8 + k] = (uint8_t)(len >> (8 * k));
	put16(table + 16 * i + 12, w12);
	put16(table + 16 * i + 14, w14);
}

#endif
