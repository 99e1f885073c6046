/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the VT-d register window driven by a sequence of guest reads and writes of any
 * width at any offset, mixed with guest-memory pokes (so root tables, queues and wait status
 * addresses hit RAM) and DMA through the unit.
 *
 * Input: two configuration bytes (fz_vtd_config), then up to FZ_MAX_OPS operations, each an
 * opcode byte followed by its operands (missing bytes read as zero):
 *   0 read      size-selector, offset u16 (masked to the window; may straddle its end)
 *   1 write     size-selector, offset u16, value u64
 *   2 poke RAM  gpa u32 (wrapped into RAM, 8-aligned), value u64
 *   3 DMA       see fz_vtd_dma
 *   4 GCMD      bit index u8 (23..31), on/off u8 (the driver idiom: keep the level bits)
 *   5 hot write register index u8 into a table of the registers with side effects, value u64
 * Oracle: no sanitizer report; reads of CAP/ECAP never change; DMA returns 0/-EACCES/-EFAULT.
 */
#include "fuzz-vtd.h"

#define FZ_RAM_SIZE (256 * 1024ULL)
#define FZ_MAX_OPS 512

static const uint16_t hot_regs[] = {
	VTD_GCMD_REG, VTD_RTADDR_REG, VTD_CCMD_REG, VTD_FSTS_REG, VTD_FECTL_REG, VTD_IQT_REG,
	VTD_IQA_REG, VTD_ICS_REG, VTD_IECTL_REG, VTD_IVA_REG, VTD_IOTLB_REG, VTD_FRCD_REG(0) + 8,
	VTD_FRCD_REG(7) + 8, VTD_IQH_REG,
};

static struct fz_ram ram;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct viommu_config cfg;
	struct fz_vtd t;
	uint64_t cap, ecap;

	fz_ram_reset(&ram, FZ_RAM_SIZE);
	fz_vtd_config(&f, &cfg);
	fz_vtd_create(&t, &cfg, &ram.gm);
	cap = viommu_cap(t.v);
	ecap = viommu_ecap(t.v);
	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		uint8_t op = fz_u8(&f);

		switch (op % 6) {
		case 0: {
			unsigned int sz = fz_size(&f);

			(void)fz_vtd_read(&t, fz_u16(&f) & 0xfff, sz);
			break;
		}
		case 1: {
			unsigned int sz = fz_size(&f);
			uint64_t off = fz_u16(&f) & 0xfff;

			fz_vtd_write(&t, off, fz_u64(&f), sz);
			break;
		}
		case 2: {
			uint64_t gpa = (fz_u32(&f) % FZ_RAM_SIZE) & ~7ULL;

			FZ_CHECK(gmem_write_u64(&ram.gm, gpa, fz_u64(&f)) == 0);
			break;
		}
		case 3:
			fz_vtd_dma(&t, &f);
			break;
		case 4: {
			unsigned int bit = 23 + fz_u8(&f) % 9;

			fz_vtd_gcmd(&t, 1u << bit, fz_u8(&f) & 1);
			break;
		}
		default: {
			uint16_t off = hot_regs[fz_u8(&f) % (sizeof(hot_regs) / sizeof(hot_regs[0]))];

			fz_vtd_write(&t, off, fz_u64(&f), off == VTD_GCMD_REG || off == VTD_FSTS_REG ||
				     off == VTD_FECTL_REG || off == VTD_ICS_REG ||
				     off == VTD_IECTL_REG ? 4 : 8);
			break;
		}
		}
	}
	FZ_CHECK(fz_vtd_read(&t, VTD_CAP_REG, 8) == cap);
	FZ_CHECK(fz_vtd_read(&t, VTD_ECAP_REG, 8) == ecap);
	viommu_destroy(t.v);
	return 0;
}
