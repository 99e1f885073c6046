/* SPDX-License-Identifier: MIT */
/* Shared test fixture for the VT-d unit: a bus, a gmem on a malloc'd buffer, a recording irq chip. */
#ifndef NESTVM_VIOMMU_TEST_HARNESS_H
#define NESTVM_VIOMMU_TEST_HARNESS_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "devices/viommu/viommu-internal.h"
#include "vmm/core/bus.h"
#include "vmm/core/gmem.h"
#include "vmm/core/irq.h"

#define H_RAM_SIZE (4 * 1024 * 1024ULL) /* guest RAM at gpa 0 */
#define H_BASE VIOMMU_DEFAULT_BASE
#define H_MAX_MSI 32

struct h_msi {
	uint64_t addr;
	uint32_t data;
	uint16_t sid;
};

struct harness {
	struct bus bus;
	struct gmem gm;
	uint8_t *ram;
	struct irq_chip irq;
	struct h_msi msi[H_MAX_MSI];
	unsigned int nr_msi;
	struct viommu *v;
};

static inline void h_set_level(void *ctx, unsigned int gsi, bool level)
{
}

static inline void h_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	struct harness *h = ctx;

	if (h->nr_msi < H_MAX_MSI)
		h->msi[h->nr_msi++] = (struct h_msi){ addr, data, sid };
}

static const struct irq_chip_ops h_irq_ops = { h_set_level, h_send_msi };

static inline struct harness *h_new_cfg(const struct viommu_config *cfg)
{
	struct harness *h = calloc(1, sizeof(*h));

	ck_assert_ptr_nonnull(h);
	bus_init(&h->bus);
	gmem_init_empty(&h->gm);
	h->ram = calloc(1, H_RAM_SIZE);
	ck_assert_ptr_nonnull(h->ram);
	ck_assert_int_eq(gmem_add_region(&h->gm, 0, H_RAM_SIZE, h->ram), 0);
	h->irq = (struct irq_chip){ &h_irq_ops, h };
	h->v = viommu_create(cfg, &h->bus, H_BASE, &h->gm, &h->irq);
	ck_assert_ptr_nonnull(h->v);
	return h;
}

/* opts as on the command line after "vtd" */
static inline struct harness *h_new(const char *opts)
{
	struct viommu_config cfg;
	char err[128];

	ck_assert_msg(viommu_parse_options(opts, &cfg, err, sizeof(err)) == 0, "%s", err);
	return h_new_cfg(&cfg);
}

static inline void h_free(struct harness *h)
{
	viommu_destroy(h->v);
	free(h->ram);
	free(h);
}

static inline uint32_t r32(struct harness *h, unsigned int off)
{
	return (uint32_t)bus_read(&h->bus, BUS_MMIO, H_BASE + off, 4);
}

static inline uint64_t r64(struct harness *h, unsigned int off)
{
	return bus_read(&h->bus, BUS_MMIO, H_BASE + off, 8);
}

static inline void w32(struct harness *h, unsigned int off, uint32_t val)
{
	bus_write(&h->bus, BUS_MMIO, H_BASE + off, val, 4);
}

static inline void w64(struct harness *h, unsigned int off, uint64_t val)
{
	bus_write(&h->bus, BUS_MMIO, H_BASE + off, val, 8);
}

/* The guest's GCMD idiom: keep the level bits from GSTS, change one (facts §1.1). */
static inline void h_gcmd(struct harness *h, uint32_t bit, bool on)
{
	uint32_t keep = r32(h, VTD_GSTS_REG) & (uint32_t)(VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_CFI);

	w32(h, VTD_GCMD_REG, on ? (keep | bit) : (keep & ~bit));
}

static inline uint64_t h_ram64(struct harness *h, uint64_t gpa)
{
	return le64_load(h->ram + gpa);
}

static inline void h_put64(struct harness *h, uint64_t gpa, uint64_t val)
{
	le64_store(h->ram + gpa, val);
}

#endif
