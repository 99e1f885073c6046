/* SPDX-License-Identifier: MIT */
/* Table builders over a malloc'd fake guest RAM for the VT-d engine's tests and benchmark. */
#ifndef NESTVM_XLATE_TB_H
#define NESTVM_XLATE_TB_H

#include <stdlib.h>
#include <string.h>

#include "devices/viommu/xlate/vtd-tables.h"
#include "devices/viommu/xlate/xlate-internal.h"
#include "vmm/core/gmem.h"

#define TB_RAM (32 * MiB)
#define TB_ALIAS (1 * GiB) /* nested: first-stage tables are seen at host + TB_ALIAS */

struct tb {
	struct gmem gm;
	uint8_t *mem;
	uint64_t next;
};

static inline void tb_init(struct tb *t)
{
	t->mem = aligned_alloc(4096, TB_RAM);
	memset(t->mem, 0, TB_RAM);
	gmem_init_empty(&t->gm);
	gmem_add_region(&t->gm, 0, TB_RAM, t->mem);
	t->next = 0x10000;
}

static inline void tb_fini(struct tb *t)
{
	free(t->mem);
}

static inline uint64_t tb_page(struct tb *t)
{
	uint64_t p = t->next;

	t->next += 4096;
	return p;
}

static inline void tb_w64(struct tb *t, uint64_t gpa, uint64_t v)
{
	le64_store(t->mem + gpa, v);
}

static inline uint64_t tb_r64(struct tb *t, uint64_t gpa)
{
	return le64_load(t->mem + gpa);
}

/*
 * Maps iova -> out with a leaf at leaf_level (1 4K, 2 2M, 3 1G) in a levels-deep table
 * at host page root. Non-leaf entries get tflags and point at table + alias; the leaf
 * gets lflags (PS added for large leaves). Returns the host address of the leaf entry.
 */
static inline uint64_t tb_map(struct tb *t, uint64_t root, unsigned int levels, uint64_t iova,
			      uint64_t out, unsigned int leaf_level, uint64_t tflags, uint64_t lflags,
			      uint64_t alias)
{
	uint64_t table = root;

	for (unsigned int l = levels; l > leaf_level; l--) {
		uint64_t ea = table + ((iova >> (12 + 9 * (l - 1))) & 511) * 8, e = tb_r64(t, ea);

		if (!e) {
			e = (tb_page(t) + alias) | tflags;
			tb_w64(t, ea, e);
		}
		table = (e & GENMASK_ULL(51, 12)) - alias;
	}
	{
		uint64_t ea = table + ((iova >> (12 + 9 * (leaf_level - 1))) & 511) * 8;

		tb_w64(t, ea, out | lflags | (leaf_level > 1 ? BIT_ULL(7) : 0));
		return ea;
	}
}

/* Second-stage map of [TB_ALIAS, TB_ALIAS + TB_RAM) -> [0, TB_RAM) with 2 MiB pages. */
static inline void tb_ss_alias(struct tb *t, uint64_t root, unsigned int levels, uint64_t perm)
{
	for (uint64_t o = 0; o < TB_RAM; o += 2 * MiB)
		tb_map(t, root, levels, TB_ALIAS + o, o, 2, 3, perm, 0);
}

static inline void tb_legacy_ctx(struct tb *t, uint64_t rta, uint16_t sid, uint64_t lo,
				 uint64_t hi)
{
	uint64_t re = rta + (sid >> 8) * 16, ctp = tb_r64(t, re) & GENMASK_ULL(63, 12);

	if (!ctp) {
		ctp = tb_page(t);
		tb_w64(t, re, ctp | 1);
	}
	tb_w64(t, ctp + (sid & 0xFF) * 16, lo);
	tb_w64(t, ctp + (sid & 0xFF) * 16 + 8, hi);
}

static inline uint64_t tb_legacy_lo(uint64_t slpt, unsigned int tt)
{
	return slpt | ((uint64_t)tt << 2) | 1;
}

static inline uint64_t tb_legacy_hi(uint16_t did, unsigned int aw)
{
	return ((uint64_t)did << 8) | aw;
}

/* Scalable-mode context entry: returns its host address. */
static inline uint64_t tb_sm_ctx(struct tb *t, uint64_t rta, uint16_t sid, uint64_t w0, uint64_t w1)
{
	unsigned int devfn = sid & 0xFF;
	uint64_t re = rta + (sid >> 8) * 16 + (devfn >= 0x80 ? 8 : 0);
	uint64_t ctp = tb_r64(t, re) & GENMASK_ULL(63, 12), ea;

	if (!ctp) {
		ctp = tb_page(t);
		tb_w64(t, re, ctp | 1);
	}
	ea = ctp + (devfn & 0x7F) * 32;
	tb_w64(t, ea, w0);
	tb_w64(t, ea + 8, w1);
	return ea;
}

/* PASID entry in directory dir (host address): returns its host address. */
static inline uint64_t tb_pasid(struct tb *t, uint64_t dir, uint32_t pasid, const uint64_t *pe)
{
	uint64_t de = dir + (pasid >> 6) * 8, ptp = tb_r64(t, de) & GENMASK_ULL(63, 12), ea;

	if (!ptp) {
		ptp = tb_page(t);
		tb_w64(t, de, ptp | 1);
	}
	ea = ptp + (pasid & 63) * 64;
	for (int i = 0; i < 8; i++)
		tb_w64(t, ea + 8 * i, pe[i]);
	return ea;
}

static inline struct vtd_caps tb_caps(void)
{
	struct vtd_caps c = {
		.scalable = true, .mgaw = 57, .haw = 46, .sagaw = 0xE,
		.sslps_2m = true, .sslps_1g = true, .fs1gp = true, .fs5lp = true,
		.flts = true, .slts = true, .nest = true, .pt = true,
		.dt = true, .sc = true, .srs = true, .ers = true, .eafs = true, .pasid = true,
		.prs = true, .pasid_bits = 20, .cm = false,
	};
	return c;
}

#define SS_RW 3ULL
#define FS_P 1ULL
#define FS_RW 2ULL
#define FS_US 4ULL
#define FS_XD BIT_ULL(63)
#define FS_TBL (FS_P | FS_RW | FS_US)

#endif
