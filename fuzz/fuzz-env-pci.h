/* SPDX-License-Identifier: MIT */
/*
 * A PCI machine for fuzzing: the bus-0 host bridge on a fresh bus, an edu DMA device and a
 * synthetic function carrying every capability the PCI library builds (MSI with per-vector
 * masking, MSI-X, PCIe, PASID, ATS, PRI) and all three BAR kinds. Shared by fuzz-pci-config.c
 * and fuzz-edu.c. The synthetic device's ops check the library's promises (offset and size
 * inside the BAR, sizes 1/2/4/8, config offsets inside the 4 KiB space).
 */
#ifndef NESTVM_FUZZ_ENV_PCI_H
#define NESTVM_FUZZ_ENV_PCI_H

#include "devices/edu/edu.h"
#include "devices/pci/pci.h"
#include "fuzz-util.h"
#include "vmm/core/bus.h"
#include "vmm/core/dma.h"

#define FZ_ECAM_BASE 0xb0000000ULL
#define FZ_ECAM_SIZE (2ULL << 20) /* buses 0 and 1: bus 1 has no devices */
#define FZ_MMIO_BASE 0xc0000000ULL
#define FZ_MMIO_SIZE (16ULL << 20)
#define FZ_IO_BASE 0xc000
#define FZ_IO_SIZE 0x4000
#define FZ_EDU_SLOT 3
#define FZ_SYN_SLOT 5

static const uint64_t fz_syn_bar_size[PCI_NUM_BARS] = { 4096, 0, 16384, 0, 32, 0 };

struct fz_pci {
	struct bus bus;
	struct fz_irq irq;
	struct fz_vmctl ctl;
	struct pci_host *host;
	struct edu *edu;
	struct pci_dev syn;
	struct dma_as as;
	uint64_t syn_accesses;
};

static inline uint64_t fz_syn_bar_read(struct pci_dev *dev, unsigned int bar, uint64_t off,
				       unsigned int size)
{
	struct fz_pci *p = dev->opaque;

	FZ_CHECK(bar < PCI_NUM_BARS && fz_syn_bar_size[bar]);
	FZ_CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	FZ_CHECK(off + size <= fz_syn_bar_size[bar]);
	p->syn_accesses++;
	return off * 0x0101010101010101ULL;
}

static inline void fz_syn_bar_write(struct pci_dev *dev, unsigned int bar, uint64_t off,
				    uint64_t val, unsigned int size)
{
	(void)fz_syn_bar_read(dev, bar, off, size);
}

static inline void fz_syn_config_write(struct pci_dev *dev, unsigned int off, uint32_t val,
				       unsigned int size)
{
	FZ_CHECK(size == 1 || size == 2 || size == 4);
	FZ_CHECK(off + size <= PCI_CONFIG_SIZE);
}

static const struct pci_dev_ops fz_syn_ops = {
	.bar_read = fz_syn_bar_read,
	.bar_write = fz_syn_bar_write,
	.config_write = fz_syn_config_write,
};

/* Builds the machine; everything here is configuration, so failure is a harness bug. */
static inline void fz_pci_create(struct fz_pci *p, const struct gmem *gm)
{
	struct pci_dev *s = &p->syn;

	memset(p, 0, sizeof(*p));
	bus_init(&p->bus);
	fz_irq_init(&p->irq);
	fz_vmctl_init(&p->ctl);
	p->as = (struct dma_as){ .gmem = gm };
	p->host = pci_host_create(&p->bus, &p->irq.chip, &p->ctl.ctl, FZ_ECAM_BASE, FZ_ECAM_SIZE,
				  FZ_MMIO_BASE, FZ_MMIO_SIZE, FZ_IO_BASE, FZ_IO_SIZE);
	FZ_CHECK(p->host != NULL);
	p->edu = edu_create(p->host, FZ_EDU_SLOT, &p->as);
	FZ_CHECK(p->edu != NULL);
	pci_dev_init(s, 0x1b36, 0x00ff, 1, 0x088000, &fz_syn_ops, p);
	FZ_CHECK(pci_dev_set_bar(s, 0, PCI_BAR_MEM32, fz_syn_bar_size[0], false) == 0);
	FZ_CHECK(pci_dev_set_bar(s, 2, PCI_BAR_MEM64, fz_syn_bar_size[2], true) == 0);
	FZ_CHECK(pci_dev_set_bar(s, 4, PCI_BAR_IO, fz_syn_bar_size[4], false) == 0);
	pci_dev_set_irq_pin(s, 2);
	FZ_CHECK(pci_cap_add_msi(s, 4, true, true, NULL) == 0);
	FZ_CHECK(pci_cap_add_msix(s, 8, 2, 0, 8192, NULL) == 0);
	FZ_CHECK(pci_cap_add_pcie(s, NULL) == 0);
	FZ_CHECK(pci_ext_cap_add_pasid(s, 20, true, true, NULL) == 0);
	FZ_CHECK(pci_ext_cap_add_ats(s, 0, true, NULL) == 0);
	FZ_CHECK(pci_ext_cap_add_pri(s, 32, true, NULL) == 0);
	FZ_CHECK(pci_host_add_device(p->host, s, FZ_SYN_SLOT) == 0);
}

static inline void fz_pci_destroy(struct fz_pci *p)
{
	edu_destroy(p->edu);
	pci_host_remove_device(&p->syn);
	pci_dev_cleanup(&p->syn);
	pci_host_destroy(p->host);
}

/* Guest accesses of every kind the host decodes. */
static inline uint64_t fz_mmio(struct fz_pci *p, bool write, uint64_t addr, uint64_t val,
			       unsigned int size)
{
	if (write) {
		bus_write(&p->bus, BUS_MMIO, addr, val, size);
		return 0;
	}
	return bus_read(&p->bus, BUS_MMIO, addr, size);
}

static inline uint64_t fz_pio(struct fz_pci *p, bool write, uint64_t port, uint64_t val,
			      unsigned int size)
{
	if (size > 4)
		size = 4;
	if (write) {
		bus_write(&p->bus, BUS_PIO, port, val, size);
		return 0;
	}
	return bus_read(&p->bus, BUS_PIO, port, size);
}

/* ECAM config access of devfn (slot << 3) at off, as the guest library does it. */
static inline uint32_t fz_cfg_read(struct fz_pci *p, unsigned int slot, unsigned int off,
				   unsigned int size)
{
	return (uint32_t)fz_mmio(p, false, FZ_ECAM_BASE + ((uint64_t)slot << 15) + off, 0, size);
}

static inline void fz_cfg_write(struct fz_pci *p, unsigned int slot, unsigned int off,
				uint32_t val, unsigned int size)
{
	fz_mmio(p, true, FZ_ECAM_BASE + ((uint64_t)slot << 15) + off, val, size);
}

#endif
