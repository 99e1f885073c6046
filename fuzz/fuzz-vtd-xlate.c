/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the translation engine's table walks over arbitrary guest memory. The input
 * writes root, context (legacy and scalable), PASID directory/table and first/second-stage
 * page-table entries anywhere in a small RAM, latches any root pointer, and issues
 * translations and invalidations in any order, so cached and uncached walks both run.
 *
 * Input: two configuration bytes (the unit's capability set, via fz_vtd_config and
 * viommu_compute_caps), a root-table register value u64, then up to FZ_MAX_OPS operations:
 *   0 poke     offset u16 (8-aligned inside the 64 KiB RAM), value u64
 *   1 translate sid u16, pasid u32 (bit 31: with PASID), access u8, iova u64
 *   2 fill     page u8 (of 16), value u64 written to all 512 entries (cycles, self-maps)
 *   3 inv ctx  gran u8, did u16, sid u16, fm u8
 *   4 inv tlb  gran u8, did u16, addr u64, am u8, ih
 *   5 inv pasid-cache / PASID-IOTLB   kind u8, did u16, pasid u32, addr u64, am u8
 *   6 set root value u64                7 flush all
 * Oracle: no sanitizer report; a success maps at least one byte, stays below 2^haw and never
 * runs past the page boundary of its mapping size; a fault carries a non-zero reason.
 */
#include <errno.h>

#include "devices/viommu/viommu-internal.h"
#include "devices/viommu/xlate/xlate.h"
#include "fuzz-util.h"
#include "fuzz-vtd.h"

#define FZ_RAM_SIZE (64 * 1024ULL)
#define FZ_MAX_OPS 384

static struct fz_ram ram;

static void translate(struct vtd_xlate *x, const struct vtd_caps *caps, struct fz *f)
{
	struct dma_req req;
	struct dma_xlate out = { 0 };
	struct vtd_fault fault = { 0 };
	uint32_t p;
	uint64_t iova;
	int r;

	req.sid = fz_u16(f);
	p = fz_u32(f);
	req.has_pasid = p >> 31;
	req.pasid = p & 0xfffff;
	req.access = fz_u8(f) & 0xf;
	if (!req.access)
		req.access = DMA_ACC_READ;
	iova = fz_u64(f);
	r = vtd_xlate_translate(x, &req, iova, &out, &fault);
	if (r == 0) {
		FZ_CHECK(out.len >= 1 && out.len <= (1ULL << 30));
		FZ_CHECK(out.gpa + out.len - 1 >= out.gpa);
		FZ_CHECK(caps->haw >= 64 || ((out.gpa + out.len - 1) >> caps->haw) == 0);
	} else {
		FZ_CHECK(r == -EACCES);
		FZ_CHECK(fault.reason != 0);
		FZ_CHECK(fault.sid == req.sid);
	}
}

/* The granularities the unit passes for each invalidation (qi.c, regs.c), picked by g. */
static const enum vtd_inv_gran ctx_grans[] = { VTD_INV_GLOBAL, VTD_INV_DOMAIN, VTD_INV_DEVICE };
static const enum vtd_inv_gran tlb_grans[] = { VTD_INV_GLOBAL, VTD_INV_DOMAIN, VTD_INV_PAGE };
static const enum vtd_inv_gran pc_grans[] = { VTD_INV_GLOBAL, VTD_INV_DOMAIN, VTD_INV_PASID };
static const enum vtd_inv_gran piotlb_grans[] = { VTD_INV_PASID, VTD_INV_PASID_PAGE };

#define PICK(table, g) ((table)[(g) % (sizeof(table) / sizeof((table)[0]))])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct viommu_config cfg;
	struct vtd_caps caps;
	struct vtd_xlate *x;
	uint64_t cap, ecap;

	fz_ram_reset(&ram, FZ_RAM_SIZE);
	fz_vtd_config(&f, &cfg);
	viommu_compute_caps(&cfg, &cap, &ecap, &caps);
	/* Small caches: eviction runs often, and a full flush stays cheap. */
	x = vtd_xlate_create(&ram.gm, &caps, &(struct vtd_cache_sizes){ 8, 8, 32, 16 });
	FZ_CHECK(x != NULL);
	vtd_xlate_set_root(x, fz_u64(&f));
	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		switch (fz_u8(&f) % 8) {
		case 0: {
			uint64_t off = fz_u16(&f) & ~7u;

			le64_store(ram.mem + off % FZ_RAM_SIZE, fz_u64(&f));
			break;
		}
		case 1:
			translate(x, &caps, &f);
			break;
		case 2: {
			uint64_t page = (fz_u8(&f) % (FZ_RAM_SIZE / 4096)) * 4096, v = fz_u64(&f);

			for (unsigned int i = 0; i < 512; i++)
				le64_store(ram.mem + page + 8 * i, v);
			break;
		}
		case 3: {
			enum vtd_inv_gran g = PICK(ctx_grans, fz_u8(&f));
			uint16_t did = fz_u16(&f), sid = fz_u16(&f);

			vtd_xlate_inv_context(x, g, did, sid, fz_u8(&f) & 3);
			break;
		}
		case 4: {
			enum vtd_inv_gran g = PICK(tlb_grans, fz_u8(&f));
			uint16_t did = fz_u16(&f);
			uint64_t addr = fz_u64(&f);
			uint8_t am = fz_u8(&f);

			vtd_xlate_inv_iotlb(x, g, did, g == VTD_INV_PAGE ? addr & ~0xfffULL : 0,
					    g == VTD_INV_PAGE ? am % (VTD_MAMV + 1) : 0, am & 0x80);
			break;
		}
		case 5: {
			uint8_t kind = fz_u8(&f);
			uint16_t did = fz_u16(&f);
			uint32_t pasid = fz_u32(&f) & 0xfffff;
			uint64_t addr = fz_u64(&f);
			uint8_t am = fz_u8(&f);

			if (kind & 1)
				vtd_xlate_inv_pasid_cache(x, PICK(pc_grans, kind >> 1), did, pasid);
			else
				vtd_xlate_inv_piotlb(x, PICK(piotlb_grans, kind >> 1), did, pasid,
						     addr & ~0xfffULL, am % (VTD_MAMV + 1), am & 0x80);
			break;
		}
		case 6:
			vtd_xlate_set_root(x, fz_u64(&f));
			break;
		default:
			vtd_xlate_flush_all(x);
			break;
		}
	}
	vtd_xlate_destroy(x);
	return 0;
}
