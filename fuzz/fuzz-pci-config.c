/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: PCI configuration space of every function on the board (host bridge, edu, and a
 * synthetic device with all capability kinds) through CF8/CFC and ECAM, plus the BAR decode
 * and MSI/MSI-X/INTx paths the guest's config writes steer.
 *
 * Input: up to FZ_MAX_OPS operations, each an opcode byte and operands:
 *   0 CF8/CF9/CFC port  port-offset u8 (0..7), size-selector, write?, value u32
 *   1 ECAM              offset u32 (wrapped into the 2 MiB window), size, write?, value u32
 *   2 ECAM of a device  slot-selector (host/edu/synthetic), offset u16 & 0xfff, size, write?,
 *                       value u32 (the fast way to reach each device's registers)
 *   3 MMIO window       offset u32 (wrapped into 16 MiB), size, write?, value u64
 *   4 I/O window        offset u16 (wrapped), size, write?, value u32
 *   5 interrupts        vector u8 (MSI/MSI-X notify), level u8 (INTx) of the synthetic device
 *   6 machine reset     (pci_host_reset)
 * Oracle: no sanitizer report; device ops see in-range accesses (fz_syn_* checks); the
 * identification registers never change.
 */
#include "fuzz-env-pci.h"

#define FZ_MAX_OPS 512

static const unsigned int slots[] = { 0, FZ_EDU_SLOT, FZ_SYN_SLOT, 7 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_ram ram;
	static struct fz_pci p;
	struct fz f = { data, size };

	fz_ram_reset(&ram, 64 * 1024);
	fz_pci_create(&p, &ram.gm);
	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		uint8_t op = fz_u8(&f);

		switch (op % 7) {
		case 0: {
			uint64_t port = 0xcf8 + fz_u8(&f) % 8;
			unsigned int sz = fz_size(&f);
			bool w = fz_u8(&f) & 1;

			fz_pio(&p, w, port, fz_u32(&f), sz);
			break;
		}
		case 1: {
			uint64_t off = fz_u32(&f) % FZ_ECAM_SIZE;
			unsigned int sz = fz_size(&f);
			bool w = fz_u8(&f) & 1;

			fz_mmio(&p, w, FZ_ECAM_BASE + off, fz_u32(&f), sz);
			break;
		}
		case 2: {
			unsigned int slot = slots[fz_u8(&f) % 4], off = fz_u16(&f) & 0xfff;
			unsigned int sz = fz_size(&f);
			bool w = fz_u8(&f) & 1;
			uint32_t v = fz_u32(&f);

			if (w)
				fz_cfg_write(&p, slot, off, v, sz);
			else
				(void)fz_cfg_read(&p, slot, off, sz);
			break;
		}
		case 3: {
			uint64_t off = fz_u32(&f) % FZ_MMIO_SIZE;
			unsigned int sz = fz_size(&f);
			bool w = fz_u8(&f) & 1;

			fz_mmio(&p, w, FZ_MMIO_BASE + off, fz_u64(&f), sz);
			break;
		}
		case 4: {
			uint64_t off = fz_u16(&f) % FZ_IO_SIZE;
			unsigned int sz = fz_size(&f);
			bool w = fz_u8(&f) & 1;

			fz_pio(&p, w, FZ_IO_BASE + off, fz_u32(&f), sz);
			break;
		}
		case 5: {
			unsigned int vec = fz_u8(&f);

			(void)pci_msi_notify(&p.syn, vec % 12);
			pci_set_irq(&p.syn, fz_u8(&f) & 1);
			break;
		}
		default:
			pci_host_reset(p.host);
			break;
		}
	}
	FZ_CHECK(fz_cfg_read(&p, FZ_EDU_SLOT, PCI_VENDOR_ID, 4) ==
		 (EDU_VENDOR_ID | (uint32_t)EDU_DEVICE_ID << 16));
	FZ_CHECK(fz_cfg_read(&p, FZ_SYN_SLOT, PCI_VENDOR_ID, 2) == 0x1b36);
	fz_pci_destroy(&p);
	return 0;
}
