/* SPDX-License-Identifier: MIT */
/* Shared between the devices/pci source files and their unit tests: host state and helpers. */
#ifndef NESTVM_PCI_INTERNAL_H
#define NESTVM_PCI_INTERNAL_H

#include "common/bits.h"
#include "pci.h"

#define PCI_NR_GSIS 24

struct pci_host {
	struct bus *bus;
	const struct irq_chip *irq;
	const struct vmctl *ctl;
	uint64_t ecam_base, ecam_size;
	uint64_t mmio_base, mmio_size, mmio_next;
	uint32_t io_base, io_size, io_next;
	struct pci_dev *slots[PCI_NUM_SLOTS]; /* set before the vCPUs start, then read-only */
	struct pci_dev self;                  /* the host bridge, 00:00.0 */
	pthread_mutex_t lock;                 /* cf8, rcr */
	uint32_t cf8;                         /* CONFIG_ADDRESS as last written */
	uint8_t rcr;                          /* reset control register (0xcf9) */
	pthread_mutex_t intx_lock;            /* gsi_level and every dev->intx_out */
	bool gsi_level[PCI_NR_GSIS];
};

/* Config-space byte helpers; the caller holds dev->lock (or owns dev exclusively). */
static inline uint16_t cfg16(const struct pci_dev *dev, unsigned int off)
{
	return le16_load(&dev->config[off]);
}

static inline uint32_t cfg32(const struct pci_dev *dev, unsigned int off)
{
	return le32_load(&dev->config[off]);
}

/* Sets value and write mask of a field of size 1, 2 or 4 bytes at off. */
void pci_cfg_init_field(struct pci_dev *dev, unsigned int off, unsigned int size, uint32_t val,
			uint32_t wmask, uint32_t w1cmask);
/* BAR address from config; caller holds dev->lock. */
uint64_t pci_bar_addr_locked(const struct pci_dev *dev, unsigned int bar);

/* caps.c: MSI/MSI-X internals. */
/* Sends every pending vector that is now unmasked (bounded by the vector count). */
void pci_msi_deliver_pending(struct pci_dev *dev);
/* Calls the device's MSI observer (pci_dev_set_msi_observer), if any, without the lock. */
void pci_msi_observe(struct pci_dev *dev);
/* MSI-X table/PBA access inside BAR bar; returns true if [off, off+size) was the table/PBA. */
bool pci_msix_bar_read(struct pci_dev *dev, unsigned int bar, uint64_t off, unsigned int size,
		       uint64_t *ret_val);
bool pci_msix_bar_write(struct pci_dev *dev, unsigned int bar, uint64_t off, uint64_t val,
			unsigned int size);
/* Resets the MSI-X table (all vectors masked, nothing pending); caller holds dev->lock. */
void pci_msix_reset_locked(struct pci_dev *dev);

/* host.c: recomputes dev's INTx output and drives the (wire-ORed) GSI. */
void pci_intx_update(struct pci_dev *dev);

#endif
