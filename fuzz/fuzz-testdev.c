/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: QEMU's test devices (devices/testdev): pc-testdev's ports (scratch register,
 * byte port, page-flush port, IRQ lines) and its 64 KiB MMIO window, and pci-testdev's config
 * space (through ECAM and CF8/CFC), its memory and I/O BARs (test selection, header, counted
 * writes), decode on and off and BARs moved anywhere, all at every width and alignment.
 *
 * Input: up to FZ_MAX_OPS operations:
 *   0 port     port u16 (folded onto 0xe0..0xef / 0x2000..0x201f unless bit 15), size u8,
 *              write u8 (bit 0), value u32
 *   1 iomem    offset u32 (from 0xff000000, may run past the window), size, write, value u64
 *   2 config   register u16, size, write, value u32 (ECAM, pci-testdev's function)
 *   3 BAR0     offset u16, size, write, value u32 (at the address BAR0 holds now)
 *   4 BAR1     offset u16, size, write, value u32 (at the port BAR1 holds now)
 *   5 CF8/CFC  address u32, size, write, value u32
 *   6 scratch  value u32: written at 0xe0 with 4 bytes, then read back four ways
 *   7 iomem rw offset u16, value u64: an aligned 8-byte write read back
 * Oracle: no sanitizer report; only ISA lines 0..23 are driven (fz_irq); pci-testdev's IDs
 * never change and it raises no interrupt; the scratch register and the MMIO window read
 * back what an aligned access stored (and the byte port agrees with the 4-byte port).
 */
#include "devices/testdev/testdev.h"
#include "fuzz-util.h"
#include "vmm/core/bus.h"

#define FZ_RAM_SIZE (64 * 1024ULL)
#define FZ_ECAM_BASE 0xb0000000ULL
#define FZ_ECAM_SIZE (1ULL << 20)
#define FZ_MMIO_BASE 0xc0000000ULL
#define FZ_MMIO_SIZE (16ULL << 20)
#define FZ_IO_BASE 0xc000
#define FZ_IO_SIZE 0x4000
#define FZ_SLOT 4
#define FZ_DEV_ECAM (FZ_ECAM_BASE + (FZ_SLOT << 15))
#define FZ_MAX_OPS 256

static struct fz_ram ram;

static uint64_t cfg_read(struct bus *b, unsigned int reg, unsigned int size)
{
	return bus_read(b, BUS_MMIO, FZ_DEV_ECAM + reg, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct bus bus;
	struct fz_irq irq;
	struct pci_host *host;
	struct pc_testdev *pc;
	struct pci_testdev *pt;
	uint64_t msis;

	fz_ram_reset(&ram, FZ_RAM_SIZE);
	bus_init(&bus);
	fz_irq_init(&irq);
	pc = pc_testdev_create(&bus, &irq.chip, &ram.gm);
	FZ_CHECK(pc != NULL);
	host = pci_host_create(&bus, &irq.chip, NULL, FZ_ECAM_BASE, FZ_ECAM_SIZE, FZ_MMIO_BASE,
			       FZ_MMIO_SIZE, FZ_IO_BASE, FZ_IO_SIZE);
	FZ_CHECK(host != NULL);
	pt = pci_testdev_create(host, FZ_SLOT);
	FZ_CHECK(pt != NULL);
	bus_write(&bus, BUS_MMIO, FZ_DEV_ECAM + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	msis = irq.msis;

	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		unsigned int n_op = fz_u8(&f) % 8;

		switch (n_op) {
		case 0: {
			uint16_t port = fz_u16(&f);
			unsigned int sz = fz_size(&f);
			bool wr = fz_u8(&f) & 1;
			uint32_t v = fz_u32(&f);

			if (!(port & 0x8000))
				port = (port & 0x100) ? 0x2000 + (port & 0x1f) : 0xe0 + (port & 0xf);
			if (wr)
				bus_write(&bus, BUS_PIO, port, v, sz);
			else
				(void)bus_read(&bus, BUS_PIO, port, sz);
			break;
		}
		case 1: {
			uint64_t off = fz_u32(&f) % (PC_TESTDEV_IOMEM_SIZE + 16);
			unsigned int sz = fz_size(&f);
			bool wr = fz_u8(&f) & 1;
			uint64_t v = fz_u64(&f);

			if (wr)
				bus_write(&bus, BUS_MMIO, PC_TESTDEV_IOMEM_BASE + off, v, sz);
			else
				(void)bus_read(&bus, BUS_MMIO, PC_TESTDEV_IOMEM_BASE + off, sz);
			break;
		}
		case 2: {
			unsigned int reg = fz_u16(&f) % 4096, sz = fz_size(&f);
			bool wr = fz_u8(&f) & 1;
			uint32_t v = fz_u32(&f);

			if (wr)
				bus_write(&bus, BUS_MMIO, FZ_DEV_ECAM + reg, v, sz);
			else
				(void)cfg_read(&bus, reg, sz);
			break;
		}
		case 3:
		case 4: {
			unsigned int bar_reg = PCI_BAR0 + (n_op == 4 ? 4 : 0);
			unsigned int off = fz_u16(&f), sz = fz_size(&f);
			bool wr = fz_u8(&f) & 1;
			uint32_t v = fz_u32(&f);
			uint64_t bar = cfg_read(&bus, bar_reg, 4);

			/* Wherever the BAR points now (the input may have moved or sized it). */
			if (bar & 1) {
				uint64_t port = (bar & ~3ULL) + off % (PCI_TESTDEV_IO_SIZE + 8);

				if (wr)
					bus_write(&bus, BUS_PIO, port & 0xffff, v, sz);
				else
					(void)bus_read(&bus, BUS_PIO, port & 0xffff, sz);
			} else {
				uint64_t a = (bar & ~0xfULL) + off % (PCI_TESTDEV_MEM_SIZE + 8);

				if (wr)
					bus_write(&bus, BUS_MMIO, a, v, sz);
				else
					(void)bus_read(&bus, BUS_MMIO, a, sz);
			}
			break;
		}
		case 5: {
			uint32_t addr = fz_u32(&f);
			unsigned int sz = fz_size(&f);
			bool wr = fz_u8(&f) & 1;
			uint32_t v = fz_u32(&f);

			bus_write(&bus, BUS_PIO, 0xcf8, addr, 4);
			if (wr)
				bus_write(&bus, BUS_PIO, 0xcfc + (addr & 3), v, sz);
			else
				(void)bus_read(&bus, BUS_PIO, 0xcfc + (addr & 3), sz);
			break;
		}
		case 6: {
			uint32_t v = fz_u32(&f), bytes = 0;

			bus_write(&bus, BUS_PIO, PC_TESTDEV_PORT, v, 4);
			FZ_CHECK(bus_read(&bus, BUS_PIO, PC_TESTDEV_PORT, 4) == v);
			FZ_CHECK(bus_read(&bus, BUS_PIO, PC_TESTDEV_PORT + 2, 2) == v >> 16);
			for (unsigned int i = 0; i < 4; i++)
				bytes |= (uint32_t)bus_read(&bus, BUS_PIO, PC_TESTDEV_BYTE_PORT + i, 1)
					 << (8 * i);
			FZ_CHECK(bytes == v);
			break;
		}
		default: {
			uint64_t off = (fz_u16(&f) % PC_TESTDEV_IOMEM_SIZE) & ~7ULL, v = fz_u64(&f);

			bus_write(&bus, BUS_MMIO, PC_TESTDEV_IOMEM_BASE + off, v, 8);
			FZ_CHECK(bus_read(&bus, BUS_MMIO, PC_TESTDEV_IOMEM_BASE + off, 8) == v);
			FZ_CHECK(bus_read(&bus, BUS_MMIO, PC_TESTDEV_IOMEM_BASE + off + 4, 4) == v >> 32);
			break;
		}
		}
		FZ_CHECK(cfg_read(&bus, 0, 4) == (PCI_TESTDEV_DEVICE << 16 | PCI_TESTDEV_VENDOR));
		FZ_CHECK(irq.msis == msis); /* no device here sends MSIs */
	}
	pci_testdev_destroy(pt);
	pci_host_destroy(host);
	pc_testdev_destroy(pc);
	return 0;
}
