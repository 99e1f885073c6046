/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the queued-invalidation stream. The input is the queue's contents (128- or
 * 256-bit descriptors of any type, reserved bits and addresses) plus a sequence of tail
 * writes, queue edits, error recovery and DMA that fills the caches the descriptors flush.
 *
 * Input: two configuration bytes (fz_vtd_config); a queue byte (bit 0 QS 0/1, bit 1 DW when
 * scalable, bit 2 unmask fault and completion events, bit 3 install a device-TLB hook); a
 * length byte n; n * 16 bytes of queue contents; then up to FZ_MAX_OPS operations:
 *   0 IQT = u16 * 16            1 FSTS write u8 (RW1C: clears IQE etc.)
 *   2 queue qword [u16] = u64    3 GCMD.QIE off/on (u8 bit 0)
 *   4 DMA (fz_vtd_dma)           5 poke RAM gpa u32, value u64 (tables, status words)
 *   6 ICS write 1 / read back IQH, IQERCD
 * When no operation follows the contents, one tail write covers every descriptor given.
 * Oracle: no sanitizer report; IQH stays inside the queue and on a descriptor boundary.
 */
#include "fuzz-vtd.h"

#define FZ_RAM_SIZE (128 * 1024ULL)
#define FZ_QBASE 0x8000ULL /* queue: 4 or 8 KiB from here */
#define FZ_ROOT 0x4000ULL  /* root table (zero until poked) */
#define FZ_MAX_OPS 256

static struct fz_ram ram;
static uint64_t devtlb_calls;

static void devtlb_hook(void *opaque, uint16_t sid, bool has_pasid, uint32_t pasid, uint64_t addr,
			bool size_bit, bool global)
{
	devtlb_calls++;
	FZ_CHECK(!has_pasid ? pasid == 0 : pasid < (1u << 20));
}

static void check_head(struct fz_vtd *t, unsigned int dsz)
{
	uint64_t iqa = fz_vtd_read(t, VTD_IQA_REG, 8);
	uint64_t head = fz_vtd_read(t, VTD_IQH_REG, 8);
	uint64_t qbytes = 4096ULL << FIELD_GET(VTD_IQA_QS, iqa);

	FZ_CHECK(head < qbytes || head == 0);
	FZ_CHECK(head % dsz == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct viommu_config cfg;
	struct fz_vtd t;
	uint8_t q;
	size_t qbytes, given;
	unsigned int dsz;

	fz_ram_reset(&ram, FZ_RAM_SIZE);
	fz_vtd_config(&f, &cfg);
	fz_vtd_create(&t, &cfg, &ram.gm);
	q = fz_u8(&f);
	qbytes = 4096u << (q & 1);
	dsz = (cfg.scalable && (q & 2)) ? 32 : 16;
	given = fz_bytes(&f, ram.mem + FZ_QBASE, (size_t)fz_u8(&f) * 16 % (qbytes + 16));
	if (q & 4) {
		fz_vtd_write(&t, VTD_FEADDR_REG, 0xfee00000, 4);
		fz_vtd_write(&t, VTD_FECTL_REG, 0, 4);
		fz_vtd_write(&t, VTD_IEADDR_REG, 0xfee00000, 4);
		fz_vtd_write(&t, VTD_IECTL_REG, 0, 4);
	}
	if (q & 8)
		viommu_set_devtlb_hook(t.v, devtlb_hook, NULL);

	fz_vtd_write(&t, VTD_RTADDR_REG, FZ_ROOT | (cfg.scalable ? 1ULL << 10 : 0), 8);
	fz_vtd_gcmd(&t, (uint32_t)VTD_GCMD_SRTP, true);
	fz_vtd_write(&t, VTD_IQT_REG, 0, 8);
	fz_vtd_write(&t, VTD_IQA_REG, FZ_QBASE | (dsz == 32 ? VTD_IQA_DW : 0) | (q & 1), 8);
	fz_vtd_gcmd(&t, (uint32_t)VTD_GCMD_QIE, true);
	fz_vtd_gcmd(&t, (uint32_t)VTD_GCMD_TE, true);

	if (!fz_more(&f)) {
		size_t tail = given / dsz * dsz;

		fz_vtd_write(&t, VTD_IQT_REG, tail >= qbytes ? qbytes - dsz : tail, 8);
		check_head(&t, dsz);
	}
	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		switch (fz_u8(&f) % 7) {
		case 0:
			fz_vtd_write(&t, VTD_IQT_REG, (uint64_t)fz_u16(&f) * 16, 8);
			break;
		case 1:
			fz_vtd_write(&t, VTD_FSTS_REG, fz_u8(&f), 4);
			break;
		case 2: {
			uint64_t idx = fz_u16(&f) % (qbytes / 8);

			le64_store(ram.mem + FZ_QBASE + 8 * idx, fz_u64(&f));
			break;
		}
		case 3:
			fz_vtd_gcmd(&t, (uint32_t)VTD_GCMD_QIE, fz_u8(&f) & 1);
			break;
		case 4:
			fz_vtd_dma(&t, &f);
			break;
		case 5: {
			uint64_t gpa = (fz_u32(&f) % FZ_RAM_SIZE) & ~7ULL;

			FZ_CHECK(gmem_write_u64(&ram.gm, gpa, fz_u64(&f)) == 0);
			break;
		}
		default:
			fz_vtd_write(&t, VTD_ICS_REG, 1, 4);
			(void)fz_vtd_read(&t, VTD_IQERCD_REG, 8);
			break;
		}
		check_head(&t, dsz);
	}
	viommu_destroy(t.v);
	return 0;
}
