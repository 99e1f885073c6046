/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the pasid-dma BAR0 register window and its descriptor ring (64-byte
 * descriptors in guest memory: any opcode, PASID, length, addresses, completion record), with
 * the device's PASID/ATS/PRI capabilities in any configuration and state, DMA through the
 * identity address space or a fake IOMMU that blocks part of the IOVA space.
 *
 * Input: a configuration byte (bits 0-1 pasid-bits 0/8/20/1, bit 2 ats, bit 3 pri, bit 4
 * exec+priv), a setup byte (bit 0 memory decode, 1 bus master, 2 PASID enable, 3 ATS enable,
 * 4 blocking IOMMU), then up to FZ_MAX_OPS operations:
 *   0 read     offset u16 (wrapped into the BAR), size-selector
 *   1 write    offset u16, size-selector, value u32
 *   2 reg      register index u8 (CTRL, RING_LO/HI, RING_SIZE, TAIL, STATUS), value u32
 *   3 desc     ring slot u8 (of 16), word u8 (of 8), value u64 (edits the ring in RAM)
 *   4 doorbell tail u16
 *   5 RAM      gpa u32 (wrapped), value u64
 *   6 config   offset u16 (& 0xfff), size-selector, value u32 (capability control registers)
 * Oracle: no sanitizer report; the ID register reads PDMA_ID_VALUE while decode is on and
 * the BAR has not moved.
 */
#include <errno.h>

#include "common/bits.h"
#include "devices/pasid-dma/pasid-dma.h"
#include "fuzz-env-pci.h"

#define FZ_RAM_SIZE (256 * 1024ULL)
#define FZ_RING 0x10000ULL
#define FZ_PDMA_SLOT 6
#define FZ_MAX_OPS 384
#define FZ_BLOCKED_BIT (1ULL << 17)

static const uint16_t regs[] = {
	PDMA_REG_CTRL, PDMA_REG_RING_LO, PDMA_REG_RING_HI, PDMA_REG_RING_SIZE, PDMA_REG_TAIL,
	PDMA_REG_STATUS,
};

static int block_translate(void *iommu, const struct dma_req *req, uint64_t iova,
			   struct dma_xlate *ret)
{
	if (iova & FZ_BLOCKED_BIT)
		return -EACCES;
	ret->gpa = iova;
	ret->len = 4096 - (iova & 4095);
	return 0;
}

static const struct dma_iommu_ops block_ops = { .translate = block_translate };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int widths[] = { 0, 8, 20, 1 };
	static struct fz_ram ram;
	static struct fz_pci p;
	struct fz f = { data, size };
	struct pasid_dma_config cfg = { 0 };
	struct pasid_dma *d;
	struct pci_dev *pd;
	uint8_t c = fz_u8(&f), setup = fz_u8(&f);
	unsigned int cap;
	uint64_t bar;

	fz_ram_reset(&ram, FZ_RAM_SIZE);
	fz_pci_create(&p, &ram.gm);
	if (setup & 0x10)
		p.as = (struct dma_as){ .gmem = &ram.gm, .ops = &block_ops, .iommu = &p };
	cfg.pasid_bits = widths[c & 3];
	cfg.ats = c & 4;
	cfg.pri = cfg.ats && (c & 8);
	cfg.exec = cfg.priv = cfg.pasid_bits && (c & 0x10);
	d = pasid_dma_create(p.host, FZ_PDMA_SLOT, &p.as, &cfg);
	FZ_CHECK(d != NULL);
	pd = pasid_dma_pci_dev(d);
	cap = pci_find_ext_cap(pd, PCI_EXT_CAP_ID_PASID);
	if ((setup & 4) && cap)
		fz_cfg_write(&p, FZ_PDMA_SLOT, cap + PCI_PASID_CTRL, 7, 2);
	cap = pci_find_ext_cap(pd, PCI_EXT_CAP_ID_ATS);
	if ((setup & 8) && cap)
		fz_cfg_write(&p, FZ_PDMA_SLOT, cap + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE, 2);
	fz_cfg_write(&p, FZ_PDMA_SLOT, PCI_COMMAND,
		     (setup & 1 ? PCI_COMMAND_MEMORY : 0) | (setup & 2 ? PCI_COMMAND_MASTER : 0), 2);
	bar = pci_bar_addr(pd, 0);
	/* A ready ring: 16 entries at FZ_RING, enabled with interrupts. */
	fz_mmio(&p, true, bar + PDMA_REG_RING_LO, FZ_RING, 4);
	fz_mmio(&p, true, bar + PDMA_REG_RING_SIZE, 16, 4);
	fz_mmio(&p, true, bar + PDMA_REG_CTRL, PDMA_CTRL_ENABLE | PDMA_CTRL_IRQ, 4);

	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		switch (fz_u8(&f) % 7) {
		case 0: {
			uint64_t off = fz_u16(&f) % PDMA_BAR_SIZE;

			(void)fz_mmio(&p, false, bar + off, 0, fz_size(&f));
			break;
		}
		case 1: {
			uint64_t off = fz_u16(&f) % PDMA_BAR_SIZE;
			unsigned int sz = fz_size(&f);

			fz_mmio(&p, true, bar + off, fz_u32(&f), sz);
			break;
		}
		case 2: {
			uint16_t r = regs[fz_u8(&f) % (sizeof(regs) / sizeof(regs[0]))];

			fz_mmio(&p, true, bar + r, fz_u32(&f), 4);
			break;
		}
		case 3: {
			uint64_t slot = fz_u8(&f) % 16, word = fz_u8(&f) % 8;

			le64_store(ram.mem + FZ_RING + slot * PDMA_DESC_SIZE + word * 8,
				   fz_u64(&f));
			break;
		}
		case 4:
			fz_mmio(&p, true, bar + PDMA_REG_TAIL, fz_u16(&f), 4);
			break;
		case 5: {
			uint64_t gpa = (fz_u32(&f) % FZ_RAM_SIZE) & ~7ULL;

			FZ_CHECK(gmem_write_u64(&ram.gm, gpa, fz_u64(&f)) == 0);
			break;
		}
		default: {
			unsigned int off = fz_u16(&f) & 0xfff, sz = fz_size(&f);

			fz_cfg_write(&p, FZ_PDMA_SLOT, off, fz_u32(&f), sz > 4 ? 4 : sz);
			break;
		}
		}
	}
	/* Config writes may have moved the BAR (onto another device, or out of the window). */
	if ((pci_config_get(pd, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY) && pci_bar_addr(pd, 0) == bar)
		FZ_CHECK(fz_mmio(&p, false, bar + PDMA_REG_ID, 0, 4) == PDMA_ID_VALUE);
	pasid_dma_destroy(d);
	fz_pci_destroy(&p);
	return 0;
}
