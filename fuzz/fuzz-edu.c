/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the edu BAR0 register window (identification, factorial, interrupt raise/ack,
 * the DMA engine) with bus mastering, MSI and INTx in any state, DMA through either the
 * identity address space or a fake IOMMU that blocks part of the IOVA space.
 *
 * Input: a setup byte (bit 0 memory decode, 1 bus master, 2 MSI enable, 3 INTx disable,
 * 4 DMA through the blocking IOMMU), then up to FZ_MAX_OPS operations:
 *   0 read   offset u32 (wrapped into the 1 MiB BAR), size-selector
 *   1 write  offset u32, size-selector, value u64
 *   2 reg    register index u8 (of the 12 defined), size 4/8, value u64  (reaches them fast)
 *   3 DMA    src u32, dst u32, count u16, command u8 (programs and starts one transfer)
 *   4 config command register value u16 (toggles decode / mastering / INTx disable)
 *   5 RAM    gpa u32 (wrapped), value u64
 * Oracle: no sanitizer report; ID reads 0x010000ed while decode is on; DMA only touches RAM.
 */
#include <errno.h>

#include "fuzz-env-pci.h"

#define FZ_RAM_SIZE (1024 * 1024ULL)
#define FZ_MAX_OPS 512
#define FZ_BLOCKED_BIT (1ULL << 19) /* IOVAs with this bit fault in the fake IOMMU */

static const uint16_t regs[] = {
	EDU_REG_ID, EDU_REG_LIVE, EDU_REG_FACT, EDU_REG_STATUS, EDU_REG_IRQ_STATUS,
	EDU_REG_IRQ_RAISE, EDU_REG_IRQ_ACK, EDU_REG_DMA_SRC, EDU_REG_DMA_DST, EDU_REG_DMA_CNT,
	EDU_REG_DMA_CMD, EDU_REG_DMA_CMD + 4,
};

static uint64_t translations;

/* Identity below the blocked bit, -EACCES above; to the end of the 4 KiB page. */
static int block_translate(void *iommu, const struct dma_req *req, uint64_t iova,
			   struct dma_xlate *ret)
{
	translations++;
	if (iova & FZ_BLOCKED_BIT)
		return -EACCES;
	ret->gpa = iova;
	ret->len = 4096 - (iova & 4095);
	return 0;
}

static const struct dma_iommu_ops block_ops = { .translate = block_translate };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_ram ram;
	static struct fz_pci p;
	struct fz f = { data, size };
	uint8_t setup;
	uint64_t bar;
	unsigned int msi;

	fz_ram_reset(&ram, FZ_RAM_SIZE);
	fz_pci_create(&p, &ram.gm);
	setup = fz_u8(&f);
	if (setup & 0x10)
		p.as = (struct dma_as){ .gmem = &ram.gm, .ops = &block_ops, .iommu = &p };
	msi = pci_find_cap(edu_pci_dev(p.edu), PCI_CAP_ID_MSI);
	if ((setup & 4) && msi) {
		fz_cfg_write(&p, FZ_EDU_SLOT, msi + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
		fz_cfg_write(&p, FZ_EDU_SLOT, msi + PCI_MSI_DATA_64, 0x41, 2);
		fz_cfg_write(&p, FZ_EDU_SLOT, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	}
	fz_cfg_write(&p, FZ_EDU_SLOT, PCI_COMMAND,
		     (setup & 1 ? PCI_COMMAND_MEMORY : 0) | (setup & 2 ? PCI_COMMAND_MASTER : 0) |
			     (setup & 8 ? PCI_COMMAND_INTX_DISABLE : 0), 2);
	bar = pci_bar_addr(edu_pci_dev(p.edu), 0);
	FZ_CHECK(bar >= FZ_MMIO_BASE && bar + EDU_BAR_SIZE <= FZ_MMIO_BASE + FZ_MMIO_SIZE);

	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		switch (fz_u8(&f) % 6) {
		case 0: {
			uint64_t off = fz_u32(&f) % EDU_BAR_SIZE;

			(void)fz_mmio(&p, false, bar + off, 0, fz_size(&f));
			break;
		}
		case 1: {
			uint64_t off = fz_u32(&f) % EDU_BAR_SIZE;
			unsigned int sz = fz_size(&f);

			fz_mmio(&p, true, bar + off, fz_u64(&f), sz);
			break;
		}
		case 2: {
			uint8_t r = fz_u8(&f);

			fz_mmio(&p, true, bar + regs[r % 12], fz_u64(&f), (r & 0x80) ? 8 : 4);
			break;
		}
		case 3: {
			uint32_t src = fz_u32(&f), dst = fz_u32(&f);
			uint16_t cnt = fz_u16(&f);

			fz_mmio(&p, true, bar + EDU_REG_DMA_SRC, src, 4);
			fz_mmio(&p, true, bar + EDU_REG_DMA_DST, dst, 4);
			fz_mmio(&p, true, bar + EDU_REG_DMA_CNT, cnt, 4);
			fz_mmio(&p, true, bar + EDU_REG_DMA_CMD, fz_u8(&f) | EDU_DMA_RUN, 4);
			break;
		}
		case 4:
			fz_cfg_write(&p, FZ_EDU_SLOT, PCI_COMMAND, fz_u16(&f), 2);
			break;
		default: {
			uint64_t gpa = (fz_u32(&f) % FZ_RAM_SIZE) & ~7ULL;

			FZ_CHECK(gmem_write_u64(&ram.gm, gpa, fz_u64(&f)) == 0);
			break;
		}
		}
	}
	if (pci_config_get(edu_pci_dev(p.edu), PCI_COMMAND, 2) & PCI_COMMAND_MEMORY)
		FZ_CHECK(fz_mmio(&p, false, bar + EDU_REG_ID, 0, 4) == EDU_ID_VALUE);
	fz_pci_destroy(&p);
	return 0;
}
