/* SPDX-License-Identifier: MIT */
/* Bus-0 host bridge: CF8/CFC and ECAM config access, BAR decode of the windows, INTx wiring. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pci-internal.h"

#define PCI_HOST_VENDOR 0x8086
#define PCI_HOST_DEVICE 0x29c0
#define PCI_CLASS_HOST_BRIDGE 0x060000

/* CONFIG_ADDRESS (PCI 3.0 §3.2.2.3.2): 31 enable, 23:16 bus, 15:11 device, 10:8 function. */
#define CF8_ENABLE 0x80000000u
#define CF8_BUS GENMASK_ULL(23, 16)
#define CF8_DEVFN GENMASK_ULL(15, 8)
/*
 * The register is bits 7:0, bits 1:0 included, OR'd with the data port's byte (CFC..CFF), as
 * QEMU decodes it: register 2 then a word read at CFC gives the device ID. Through CF8/CFC
 * only the first 256 bytes are reachable; an access running past byte 255 is cut there.
 */
#define CF8_REG GENMASK_ULL(7, 0)
#define CF8_SPACE 256u
/* Reset control register at 0xcf9: bit 2 resets; bits 1 and 3 select the reset kind. */
#define RCR_RESET 0x04
#define RCR_RW 0x0a

static struct pci_dev *find_dev(struct pci_host *h, unsigned int bus, unsigned int devfn)
{
	/* Bus 0 only; every device is single-function. */
	if (bus != 0 || (devfn & 7) != 0)
		return NULL;
	return h->slots[devfn >> 3];
}

static uint64_t cfg_read_any(struct pci_dev *dev, unsigned int reg, unsigned int size)
{
	if (!dev || reg >= PCI_CONFIG_SIZE || size > PCI_CONFIG_SIZE - reg)
		return bus_ones(size);
	if (size == 8)
		return pci_config_read(dev, reg, 4) | ((uint64_t)pci_config_read(dev, reg + 4, 4) << 32);
	return pci_config_read(dev, reg, size);
}

static void cfg_write_any(struct pci_dev *dev, unsigned int reg, uint64_t val, unsigned int size)
{
	if (!dev || reg >= PCI_CONFIG_SIZE || size > PCI_CONFIG_SIZE - reg)
		return;
	if (size == 8) {
		pci_config_write(dev, reg, (uint32_t)val, 4);
		pci_config_write(dev, reg + 4, (uint32_t)(val >> 32), 4);
		return;
	}
	pci_config_write(dev, reg, (uint32_t)val, size);
}

/* Resolves the current CONFIG_ADDRESS for a data-port access at byte (0..3) of CFC. */
static struct pci_dev *cf8_target(struct pci_host *h, unsigned int byte, unsigned int *ret_reg)
{
	uint32_t cf8;

	pthread_mutex_lock(&h->lock);
	cf8 = h->cf8;
	pthread_mutex_unlock(&h->lock);
	if (!(cf8 & CF8_ENABLE))
		return NULL;
	*ret_reg = (unsigned int)(cf8 & CF8_REG) | byte;
	return find_dev(h, (unsigned int)FIELD_GET(CF8_BUS, cf8), (unsigned int)FIELD_GET(CF8_DEVFN, cf8));
}

/* A data-port read at register reg: the bytes past byte 255 are not read (they read as 0). */
static uint64_t cf8_data_read(struct pci_dev *dev, unsigned int reg, unsigned int size)
{
	uint64_t v = 0;

	if (size <= CF8_SPACE - reg)
		return cfg_read_any(dev, reg, size);
	for (unsigned int i = 0; reg + i < CF8_SPACE; i++)
		v |= cfg_read_any(dev, reg + i, 1) << (8 * i);
	return v;
}

static void cf8_data_write(struct pci_dev *dev, unsigned int reg, uint64_t val, unsigned int size)
{
	if (size <= CF8_SPACE - reg) {
		cfg_write_any(dev, reg, val, size);
		return;
	}
	for (unsigned int i = 0; reg + i < CF8_SPACE; i++)
		cfg_write_any(dev, reg + i, (val >> (8 * i)) & 0xff, 1);
}

static uint64_t cf8_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pci_host *h = opaque;
	struct pci_dev *dev;
	unsigned int reg = 0;
	uint64_t v = bus_ones(size);

	if (off == 0 && size == 4) {
		pthread_mutex_lock(&h->lock);
		v = h->cf8;
		pthread_mutex_unlock(&h->lock);
	} else if (off == 1 && size == 1) {
		pthread_mutex_lock(&h->lock);
		v = h->rcr;
		pthread_mutex_unlock(&h->lock);
	} else if (off >= 4 && size <= 4) {
		dev = cf8_target(h, (unsigned int)off - 4, &reg);
		if (dev)
			v = cf8_data_read(dev, reg, size);
	}
	return v;
}

static void cf8_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct pci_host *h = opaque;
	struct pci_dev *dev;
	unsigned int reg = 0;
	bool reset = false;

	if (off == 0 && size == 4) {
		pthread_mutex_lock(&h->lock);
		h->cf8 = (uint32_t)val;
		pthread_mutex_unlock(&h->lock);
	} else if (off == 1 && size == 1) {
		pthread_mutex_lock(&h->lock);
		h->rcr = (uint8_t)(val & RCR_RW);
		reset = (val & RCR_RESET) != 0;
		pthread_mutex_unlock(&h->lock);
		/* The FADT reset register: 0x06 / 0x0e written here resets the machine. */
		if (reset && h->ctl)
			vmctl_reset(h->ctl);
	} else if (off >= 4 && size <= 4) {
		dev = cf8_target(h, (unsigned int)off - 4, &reg);
		if (dev)
			cf8_data_write(dev, reg, val, size);
	}
}

static const struct bus_ops cf8_ops = { cf8_read, cf8_write };

/* ECAM (PCIe 4.0 §7.2.2): bus 27:20, device 19:15, function 14:12, register 11:0. */
static struct pci_dev *ecam_dev(struct pci_host *h, uint64_t off)
{
	return find_dev(h, (unsigned int)(off >> 20) & 0xff, (unsigned int)(off >> 12) & 0xff);
}

static uint64_t ecam_read(void *opaque, uint64_t off, unsigned int size)
{
	return cfg_read_any(ecam_dev(opaque, off), (unsigned int)(off & 0xfff), size);
}

static void ecam_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	cfg_write_any(ecam_dev(opaque, off), (unsigned int)(off & 0xfff), val, size);
}

static const struct bus_ops ecam_ops = { ecam_read, ecam_write };

/* Finds the enabled BAR holding [addr, addr+size) entirely; bounded by 32 slots x 6 BARs. */
static struct pci_dev *decode(struct pci_host *h, bool io, uint64_t addr, unsigned int size,
			      unsigned int *ret_bar, uint64_t *ret_off)
{
	uint16_t enable = io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;

	for (unsigned int s = 0; s < PCI_NUM_SLOTS; s++) {
		struct pci_dev *dev = h->slots[s];

		if (!dev)
			continue;
		pthread_mutex_lock(&dev->lock);
		if (!(cfg16(dev, PCI_COMMAND) & enable)) {
			pthread_mutex_unlock(&dev->lock);
			continue;
		}
		for (unsigned int b = 0; b < PCI_NUM_BARS; b++) {
			enum pci_bar_type t = dev->bars[b].type;
			uint64_t base, len = dev->bars[b].size;

			if (t == PCI_BAR_NONE || (t == PCI_BAR_IO) != io)
				continue;
			base = pci_bar_addr_locked(dev, b);
			if (addr >= base && addr - base < len && size <= len - (addr - base)) {
				pthread_mutex_unlock(&dev->lock);
				*ret_bar = b;
				*ret_off = addr - base;
				return dev;
			}
		}
		pthread_mutex_unlock(&dev->lock);
	}
	return NULL;
}

static uint64_t window_read(struct pci_host *h, bool io, uint64_t addr, unsigned int size)
{
	unsigned int bar;
	uint64_t off, v;
	struct pci_dev *dev = decode(h, io, addr, size, &bar, &off);

	/* No BAR decodes it: what an unclaimed access reads (QEMU: ports all-ones, memory 0). */
	if (!dev)
		return bus_unclaimed_read(io ? BUS_PIO : BUS_MMIO, size);
	if (pci_msix_bar_read(dev, bar, off, size, &v))
		return v;
	if (!dev->ops || !dev->ops->bar_read)
		return bus_ones(size);
	return dev->ops->bar_read(dev, bar, off, size) & bus_ones(size);
}

static void window_write(struct pci_host *h, bool io, uint64_t addr, uint64_t val,
			 unsigned int size)
{
	unsigned int bar;
	uint64_t off;
	struct pci_dev *dev = decode(h, io, addr, size, &bar, &off);

	if (!dev || pci_msix_bar_write(dev, bar, off, val, size))
		return;
	if (dev->ops && dev->ops->bar_write)
		dev->ops->bar_write(dev, bar, off, val & bus_ones(size), size);
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pci_host *h = opaque;

	return window_read(h, false, h->mmio_base + off, size);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct pci_host *h = opaque;

	window_write(h, false, h->mmio_base + off, val, size);
}

static uint64_t io_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pci_host *h = opaque;

	return window_read(h, true, h->io_base + off, size);
}

static void io_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct pci_host *h = opaque;

	window_write(h, true, h->io_base + off, val, size);
}

static const struct bus_ops mmio_ops = { mmio_read, mmio_write };
static const struct bus_ops io_ops = { io_read, io_write };

void pci_intx_update(struct pci_dev *dev)
{
	struct pci_host *h = dev->host;
	unsigned int gsi;
	bool level = false;

	if (!h)
		return;
	pthread_mutex_lock(&h->intx_lock);
	pthread_mutex_lock(&dev->lock);
	dev->intx_out = dev->intx_level && dev->config[PCI_INTERRUPT_PIN] &&
			!(cfg16(dev, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	gsi = dev->gsi;
	pthread_mutex_unlock(&dev->lock);
	/* Several slots share a GSI: the line is the wired OR of their outputs. */
	for (unsigned int s = 0; s < PCI_NUM_SLOTS; s++) {
		struct pci_dev *d = h->slots[s];

		if (d && d->config[PCI_INTERRUPT_PIN] && d->gsi == gsi && d->intx_out)
			level = true;
	}
	if (gsi < PCI_NR_GSIS && level != h->gsi_level[gsi]) {
		h->gsi_level[gsi] = level;
		if (h->irq)
			irq_set_level(h->irq, gsi, level);
	}
	pthread_mutex_unlock(&h->intx_lock);
}

struct pci_host *pci_host_create(struct bus *bus, const struct irq_chip *irq,
				 const struct vmctl *ctl, uint64_t ecam_base, uint64_t ecam_size,
				 uint64_t mmio_base, uint64_t mmio_size, uint16_t io_base,
				 uint16_t io_size)
{
	struct pci_host *h;

	if (ecam_size < 1 * MiB || mmio_size == 0 || io_size == 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->bus = bus;
	h->irq = irq;
	h->ctl = ctl;
	h->ecam_base = ecam_base;
	h->ecam_size = ecam_size;
	h->mmio_base = h->mmio_next = mmio_base;
	h->mmio_size = mmio_size;
	h->io_base = h->io_next = io_base;
	h->io_size = io_size;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->intx_lock, NULL);
	pci_dev_init(&h->self, PCI_HOST_VENDOR, PCI_HOST_DEVICE, 0, PCI_CLASS_HOST_BRIDGE, NULL, NULL);
	h->self.host = h;
	memcpy(h->self.reset_config, h->self.config, PCI_CONFIG_SIZE);
	h->slots[0] = &h->self;

	if (bus_add_region(bus, BUS_PIO, 0xcf8, 8, &cf8_ops, h, "pci-cf8") ||
	    bus_add_region(bus, BUS_MMIO, ecam_base, ecam_size, &ecam_ops, h, "pci-ecam") ||
	    bus_add_region(bus, BUS_MMIO, mmio_base, mmio_size, &mmio_ops, h, "pci-mmio") ||
	    bus_add_region(bus, BUS_PIO, io_base, io_size, &io_ops, h, "pci-io")) {
		pci_host_destroy(h);
		return NULL;
	}
	return h;
}

int pci_host_add_device(struct pci_host *h, struct pci_dev *dev, unsigned int slot)
{
	uint64_t addr[PCI_NUM_BARS] = { 0 };
	uint64_t mmio = h->mmio_next, io = h->io_next;
	unsigned int pin;

	if (slot == 0 || slot >= PCI_NUM_SLOTS)
		return -EINVAL;
	if (h->slots[slot])
		return -EEXIST;
	/* Firmware BAR assignment: first place every BAR, then commit, so failure changes nothing. */
	for (unsigned int b = 0; b < PCI_NUM_BARS; b++) {
		const struct pci_bar *bar = &dev->bars[b];

		if (bar->type == PCI_BAR_NONE)
			continue;
		if (bar->type == PCI_BAR_IO) {
			addr[b] = ALIGN_UP(io, bar->size);
			if (addr[b] + bar->size > (uint64_t)h->io_base + h->io_size)
				return -ENOSPC;
			io = addr[b] + bar->size;
		} else {
			addr[b] = ALIGN_UP(mmio, bar->size);
			if (addr[b] < mmio || addr[b] + bar->size > h->mmio_base + h->mmio_size)
				return -ENOSPC;
			if (bar->type == PCI_BAR_MEM32 && addr[b] + bar->size > 4 * GiB)
				return -ENOSPC;
			mmio = addr[b] + bar->size;
		}
	}
	pthread_mutex_lock(&dev->lock);
	for (unsigned int b = 0; b < PCI_NUM_BARS; b++) {
		unsigned int off = PCI_BAR0 + 4 * b;

		if (dev->bars[b].type == PCI_BAR_NONE)
			continue;
		le32_store(&dev->config[off], (uint32_t)addr[b] | (cfg32(dev, off) & 0xf));
		if (dev->bars[b].type == PCI_BAR_MEM64)
			le32_store(&dev->config[off + 4], (uint32_t)(addr[b] >> 32));
	}
	pin = dev->config[PCI_INTERRUPT_PIN];
	dev->gsi = pin ? pci_intx_gsi(slot, pin) : 0;
	dev->config[PCI_INTERRUPT_LINE] = (uint8_t)(pin ? dev->gsi : 0);
	le16_store(&dev->config[PCI_COMMAND], 0);
	dev->devfn = (uint8_t)(slot << 3);
	dev->host = h;
	memcpy(dev->reset_config, dev->config, PCI_CONFIG_SIZE);
	pthread_mutex_unlock(&dev->lock);
	h->mmio_next = mmio;
	h->io_next = (uint32_t)io;
	h->slots[slot] = dev;
	return 0;
}

void pci_host_remove_device(struct pci_dev *dev)
{
	struct pci_host *h = dev ? dev->host : NULL;

	if (!h)
		return;
	pci_set_irq(dev, false);
	if (h->slots[dev->devfn >> 3] == dev)
		h->slots[dev->devfn >> 3] = NULL;
	dev->host = NULL;
}

struct pci_dev *pci_host_get_device(struct pci_host *h, unsigned int slot)
{
	return slot < PCI_NUM_SLOTS ? h->slots[slot] : NULL;
}

void pci_host_reset(struct pci_host *h)
{
	pthread_mutex_lock(&h->lock);
	h->cf8 = 0;
	h->rcr = 0;
	pthread_mutex_unlock(&h->lock);
	for (unsigned int s = 0; s < PCI_NUM_SLOTS; s++) {
		struct pci_dev *dev = h->slots[s];

		if (!dev)
			continue;
		pthread_mutex_lock(&dev->lock);
		memcpy(dev->config, dev->reset_config, PCI_CONFIG_SIZE);
		pci_msix_reset_locked(dev);
		dev->intx_level = false;
		pthread_mutex_unlock(&dev->lock);
		pci_intx_update(dev);
		if (dev->ops && dev->ops->reset)
			dev->ops->reset(dev);
	}
}

void pci_host_destroy(struct pci_host *h)
{
	if (!h)
		return;
	for (unsigned int s = 1; s < PCI_NUM_SLOTS; s++)
		if (h->slots[s])
			h->slots[s]->host = NULL;
	pci_dev_cleanup(&h->self);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->intx_lock);
	free(h);
}
