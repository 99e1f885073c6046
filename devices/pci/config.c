/* SPDX-License-Identifier: MIT */
/* Type-0 config space: header defaults, write/W1C masks, BAR sizing, INTx and accessors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci-internal.h"

void pci_cfg_init_field(struct pci_dev *dev, unsigned int off, unsigned int size, uint32_t val,
			uint32_t wmask, uint32_t w1cmask)
{
	for (unsigned int i = 0; i < size && off + i < PCI_CONFIG_SIZE; i++) {
		dev->config[off + i] = (uint8_t)(val >> (8 * i));
		dev->wmask[off + i] = (uint8_t)(wmask >> (8 * i));
		dev->w1cmask[off + i] = (uint8_t)(w1cmask >> (8 * i));
	}
}

void pci_dev_init(struct pci_dev *dev, uint16_t vendor, uint16_t device, uint8_t revision,
		  uint32_t class_code, const struct pci_dev_ops *ops, void *opaque)
{
	memset(dev, 0, sizeof(*dev));
	pthread_mutex_init(&dev->lock, NULL);
	dev->ops = ops;
	dev->opaque = opaque;
	dev->cap_next = 0x40;
	dev->ext_next = PCI_EXT_CAP_START;
	pci_cfg_init_field(dev, PCI_VENDOR_ID, 2, vendor, 0, 0);
	pci_cfg_init_field(dev, PCI_DEVICE_ID, 2, device, 0, 0);
	pci_cfg_init_field(dev, PCI_COMMAND, 2, 0,
			   PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
				   PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
			   0);
	pci_cfg_init_field(dev, PCI_STATUS, 2, 0, 0, PCI_STATUS_W1C);
	pci_cfg_init_field(dev, PCI_REVISION_ID, 1, revision, 0, 0);
	pci_cfg_init_field(dev, PCI_CLASS_PROG, 3, class_code & 0xffffff, 0, 0);
	pci_cfg_init_field(dev, PCI_CACHE_LINE_SIZE, 1, 0, 0xff, 0);
	pci_cfg_init_field(dev, PCI_LATENCY_TIMER, 1, 0, 0xff, 0);
	pci_cfg_init_field(dev, PCI_HEADER_TYPE, 1, 0, 0, 0);
	pci_cfg_init_field(dev, PCI_INTERRUPT_LINE, 1, 0, 0xff, 0);
}

void pci_dev_cleanup(struct pci_dev *dev)
{
	if (!dev)
		return;
	free(dev->msix.table);
	free(dev->msix.pba);
	dev->msix.table = NULL;
	dev->msix.pba = NULL;
	dev->msix.nr = 0;
	pthread_mutex_destroy(&dev->lock);
}

static bool is_pow2(uint64_t v)
{
	return v && (v & (v - 1)) == 0;
}

int pci_dev_set_bar(struct pci_dev *dev, unsigned int bar, enum pci_bar_type type, uint64_t size,
		    bool prefetch)
{
	unsigned int off = PCI_BAR0 + 4 * bar;
	uint64_t mask;
	uint32_t bits;

	if (bar >= PCI_NUM_BARS || !is_pow2(size))
		return -EINVAL;
	if (dev->bars[bar].type != PCI_BAR_NONE || (bar > 0 && dev->bars[bar - 1].type == PCI_BAR_MEM64))
		return -EBUSY;
	switch (type) {
	case PCI_BAR_MEM32:
		if (size < 16 || size > 2 * GiB)
			return -EINVAL;
		bits = prefetch ? PCI_BAR_MEM_PREFETCH : 0;
		pci_cfg_init_field(dev, off, 4, bits, (uint32_t)~(size - 1) & ~0xfu, 0);
		break;
	case PCI_BAR_MEM64:
		if (size < 16 || bar + 1 >= PCI_NUM_BARS)
			return -EINVAL;
		if (dev->bars[bar + 1].type != PCI_BAR_NONE)
			return -EBUSY;
		bits = PCI_BAR_MEM_64 | (prefetch ? PCI_BAR_MEM_PREFETCH : 0);
		mask = ~(size - 1) & ~0xfULL;
		pci_cfg_init_field(dev, off, 4, bits, (uint32_t)mask, 0);
		pci_cfg_init_field(dev, off + 4, 4, 0, (uint32_t)(mask >> 32), 0);
		break;
	case PCI_BAR_IO:
		/* PCI 3.0 §6.2.5.1 asks I/O BARs for at most 256 bytes; we allow the window size. */
		if (size < 4 || size > 64 * KiB || prefetch)
			return -EINVAL;
		pci_cfg_init_field(dev, off, 4, PCI_BAR_IO_SPACE, (uint32_t)~(size - 1) & ~0x3u, 0);
		break;
	default:
		return -EINVAL;
	}
	dev->bars[bar].type = type;
	dev->bars[bar].size = size;
	dev->bars[bar].prefetch = prefetch;
	return 0;
}

void pci_dev_set_irq_pin(struct pci_dev *dev, unsigned int pin)
{
	pci_cfg_init_field(dev, PCI_INTERRUPT_PIN, 1, pin <= 4 ? pin : 0, 0, 0);
}

void pci_dev_set_subsystem(struct pci_dev *dev, uint16_t subsys_vendor, uint16_t subsys_id)
{
	pci_cfg_init_field(dev, PCI_SUBSYSTEM_VENDOR_ID, 2, subsys_vendor, 0, 0);
	pci_cfg_init_field(dev, PCI_SUBSYSTEM_ID, 2, subsys_id, 0, 0);
}

uint64_t pci_bar_addr_locked(const struct pci_dev *dev, unsigned int bar)
{
	unsigned int off = PCI_BAR0 + 4 * bar;

	if (bar >= PCI_NUM_BARS)
		return 0;
	switch (dev->bars[bar].type) {
	case PCI_BAR_MEM32:
		return cfg32(dev, off) & ~0xfu;
	case PCI_BAR_MEM64:
		return (cfg32(dev, off) & ~0xfULL) | ((uint64_t)cfg32(dev, off + 4) << 32);
	case PCI_BAR_IO:
		return cfg32(dev, off) & ~0x3u;
	default:
		return 0;
	}
}

uint64_t pci_bar_addr(struct pci_dev *dev, unsigned int bar)
{
	uint64_t addr;

	pthread_mutex_lock(&dev->lock);
	addr = pci_bar_addr_locked(dev, bar);
	pthread_mutex_unlock(&dev->lock);
	return addr;
}

static bool access_ok(unsigned int off, unsigned int size)
{
	return (size == 1 || size == 2 || size == 4) && off < PCI_CONFIG_SIZE &&
	       size <= PCI_CONFIG_SIZE - off;
}

static uint32_t load_bytes(const uint8_t *p, unsigned int size)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

uint32_t pci_config_get(struct pci_dev *dev, unsigned int off, unsigned int size)
{
	uint32_t v;

	if (!access_ok(off, size))
		return (uint32_t)bus_ones(size > 4 ? 4 : size);
	pthread_mutex_lock(&dev->lock);
	v = load_bytes(&dev->config[off], size);
	pthread_mutex_unlock(&dev->lock);
	return v;
}

void pci_config_set(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int size)
{
	if (!access_ok(off, size))
		return;
	pthread_mutex_lock(&dev->lock);
	for (unsigned int i = 0; i < size; i++)
		dev->config[off + i] = (uint8_t)(val >> (8 * i));
	pthread_mutex_unlock(&dev->lock);
}

uint32_t pci_config_read(struct pci_dev *dev, unsigned int off, unsigned int size)
{
	return pci_config_get(dev, off, size);
}

/* Control state the library reacts to after a guest write. */
struct ctl_snap {
	uint16_t cmd, msi_ctl, msix_ctl;
	uint32_t msi_mask;
};

static void snap(const struct pci_dev *dev, struct ctl_snap *s)
{
	uint16_t flags;

	s->cmd = cfg16(dev, PCI_COMMAND);
	s->msi_ctl = dev->msi_off ? cfg16(dev, dev->msi_off + PCI_MSI_FLAGS) : 0;
	s->msix_ctl = dev->msix_off ? cfg16(dev, dev->msix_off + PCI_MSIX_FLAGS) : 0;
	s->msi_mask = 0;
	if (dev->msi_off) {
		flags = s->msi_ctl;
		if (flags & PCI_MSI_FLAGS_MASKBIT)
			s->msi_mask = cfg32(dev, dev->msi_off + ((flags & PCI_MSI_FLAGS_64BIT) ?
									PCI_MSI_MASK_64 : PCI_MSI_MASK_32));
	}
}

void pci_config_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int size)
{
	struct ctl_snap before, after;
	bool msi_on, intx_changed, deliver;

	if (!access_ok(off, size))
		return;
	pthread_mutex_lock(&dev->lock);
	snap(dev, &before);
	for (unsigned int i = 0; i < size; i++) {
		unsigned int o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));

		dev->config[o] = (uint8_t)((dev->config[o] & ~dev->wmask[o]) | (b & dev->wmask[o]));
		dev->config[o] &= (uint8_t)~(b & dev->w1cmask[o]);
	}
	snap(dev, &after);
	/* Enabling MSI or MSI-X stops INTx (PCI 3.0 §6.8.1.3, PCIe §6.1.4.3). */
	msi_on = (!(before.msi_ctl & PCI_MSI_FLAGS_ENABLE) && (after.msi_ctl & PCI_MSI_FLAGS_ENABLE)) ||
		 (!(before.msix_ctl & PCI_MSIX_FLAGS_ENABLE) &&
		  (after.msix_ctl & PCI_MSIX_FLAGS_ENABLE));
	if (msi_on && dev->intx_level) {
		dev->intx_level = false;
		dev->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	}
	intx_changed = msi_on || ((before.cmd ^ after.cmd) & PCI_COMMAND_INTX_DISABLE);
	/* Unmasking (or enabling) may release pending vectors. */
	deliver = (before.msi_mask & ~after.msi_mask) || before.msi_ctl != after.msi_ctl ||
		  before.msix_ctl != after.msix_ctl ||
		  (!(before.cmd & PCI_COMMAND_MASTER) && (after.cmd & PCI_COMMAND_MASTER));
	pthread_mutex_unlock(&dev->lock);

	if (intx_changed)
		pci_intx_update(dev);
	if (deliver)
		pci_msi_deliver_pending(dev);
	if (dev->ops && dev->ops->config_write)
		dev->ops->config_write(dev, off, val, size);
	/* After the device's hook: it may have re-armed what the observer routes. */
	if (off < PCI_COMMAND + 2 && off + size > PCI_COMMAND)
		pci_msi_observe(dev);
	else if (dev->msi_off && off < dev->msi_off + 24 && off + size > dev->msi_off)
		pci_msi_observe(dev);
	else if (dev->msix_off && off < dev->msix_off + 12 && off + size > dev->msix_off)
		pci_msi_observe(dev);
}

void pci_set_irq(struct pci_dev *dev, bool level)
{
	pthread_mutex_lock(&dev->lock);
	dev->intx_level = level;
	if (level)
		dev->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		dev->config[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	pthread_mutex_unlock(&dev->lock);
	pci_intx_update(dev);
}

bool pci_bus_master_enabled(struct pci_dev *dev)
{
	return (pci_config_get(dev, PCI_COMMAND, 2) & PCI_COMMAND_MASTER) != 0;
}

uint16_t pci_dev_vendor_id(struct pci_dev *dev)
{
	return (uint16_t)pci_config_get(dev, PCI_VENDOR_ID, 2);
}

uint16_t pci_dev_device_id(struct pci_dev *dev)
{
	return (uint16_t)pci_config_get(dev, PCI_DEVICE_ID, 2);
}

unsigned int pci_dev_irq_pin(struct pci_dev *dev)
{
	return pci_config_get(dev, PCI_INTERRUPT_PIN, 1);
}

unsigned int pci_dev_gsi(const struct pci_dev *dev)
{
	/* The pin register is read-only after creation, so no lock is needed. */
	return dev->config[PCI_INTERRUPT_PIN] ? dev->gsi : 0;
}

uint16_t pci_dev_bdf(const struct pci_dev *dev)
{
	return dev->devfn;
}
