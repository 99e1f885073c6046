/* SPDX-License-Identifier: MIT */
/* Capability builder (MSI, MSI-X, PCIe, PASID, ATS, PRI), chain walks and MSI delivery. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci-internal.h"

/* Chain bounds: 48 standard capabilities fit in 0x40..0xff; 960 dwords in 0x100..0xfff. */
#define PCI_MAX_CAPS 48
#define PCI_MAX_EXT_CAPS 960

int pci_cap_add(struct pci_dev *dev, uint8_t id, unsigned int len, unsigned int *ret_off)
{
	unsigned int off = dev->cap_next;

	if (len < 2)
		return -EINVAL;
	if (off + len > PCI_EXT_CAP_START)
		return -ENOSPC;
	memset(&dev->config[off], 0, len);
	pci_cfg_init_field(dev, off, 2, id, 0, 0);
	if (dev->cap_last)
		dev->config[dev->cap_last + 1] = (uint8_t)off;
	else
		dev->config[PCI_CAPABILITY_LIST] = (uint8_t)off;
	dev->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	dev->cap_last = off;
	dev->cap_next = (unsigned int)ALIGN_UP(off + len, 4);
	if (ret_off)
		*ret_off = off;
	return 0;
}

int pci_cap_add_msi(struct pci_dev *dev, unsigned int nr_vectors, bool is64, bool per_vector_mask,
		    unsigned int *ret_off)
{
	unsigned int len, off, data_off, mask_off, log2n;
	uint16_t flags;
	int ret;

	if (nr_vectors == 0 || nr_vectors > 32 || (nr_vectors & (nr_vectors - 1)))
		return -EINVAL;
	if (dev->msi_off)
		return -EEXIST;
	log2n = (unsigned int)__builtin_ctz(nr_vectors);
	len = (is64 ? 0x0e : 0x0a) + (per_vector_mask ? 0x0a : 0);
	ret = pci_cap_add(dev, PCI_CAP_ID_MSI, len, &off);
	if (ret)
		return ret;
	flags = (uint16_t)(FIELD_PREP(PCI_MSI_FLAGS_QMASK, log2n) | (is64 ? PCI_MSI_FLAGS_64BIT : 0) |
			   (per_vector_mask ? PCI_MSI_FLAGS_MASKBIT : 0));
	pci_cfg_init_field(dev, off + PCI_MSI_FLAGS, 2, flags,
			   PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 0);
	pci_cfg_init_field(dev, off + PCI_MSI_ADDRESS_LO, 4, 0, 0xfffffffc, 0);
	if (is64)
		pci_cfg_init_field(dev, off + PCI_MSI_ADDRESS_HI, 4, 0, 0xffffffff, 0);
	data_off = is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
	pci_cfg_init_field(dev, off + data_off, 2, 0, 0xffff, 0);
	if (per_vector_mask) {
		mask_off = is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
		pci_cfg_init_field(dev, off + mask_off, 4, 0,
				   nr_vectors == 32 ? 0xffffffffu : (1u << nr_vectors) - 1, 0);
		/* The pending bits at mask_off + 4 are read-only. */
	}
	dev->msi_off = off;
	if (ret_off)
		*ret_off = off;
	return 0;
}

int pci_cap_add_msix(struct pci_dev *dev, unsigned int nr_vectors, unsigned int bar,
		     uint32_t table_off, uint32_t pba_off, unsigned int *ret_off)
{
	uint64_t tlen = (uint64_t)nr_vectors * PCI_MSIX_ENTRY_SIZE;
	uint64_t plen = (uint64_t)(nr_vectors + 63) / 64 * 8;
	unsigned int off;
	int ret;

	if (nr_vectors == 0 || nr_vectors > PCI_MSIX_MAX_VECTORS || bar >= PCI_NUM_BARS)
		return -EINVAL;
	if (dev->bars[bar].type != PCI_BAR_MEM32 && dev->bars[bar].type != PCI_BAR_MEM64)
		return -EINVAL;
	if ((table_off | pba_off) & 7 || table_off + tlen > dev->bars[bar].size ||
	    pba_off + plen > dev->bars[bar].size ||
	    (table_off < pba_off + plen && pba_off < table_off + tlen))
		return -EINVAL;
	if (dev->msix_off)
		return -EEXIST;
	dev->msix.table = calloc(1, tlen);
	dev->msix.pba = calloc(1, plen);
	if (!dev->msix.table || !dev->msix.pba) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = pci_cap_add(dev, PCI_CAP_ID_MSIX, 12, &off);
	if (ret)
		goto err_free;
	pci_cfg_init_field(dev, off + PCI_MSIX_FLAGS, 2, nr_vectors - 1,
			   PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE, 0);
	pci_cfg_init_field(dev, off + PCI_MSIX_TABLE, 4, table_off | bar, 0, 0);
	pci_cfg_init_field(dev, off + PCI_MSIX_PBA, 4, pba_off | bar, 0, 0);
	dev->msix.nr = nr_vectors;
	dev->msix.bar = bar;
	dev->msix.table_off = table_off;
	dev->msix.pba_off = pba_off;
	dev->msix_off = off;
	pci_msix_reset_locked(dev);
	if (ret_off)
		*ret_off = off;
	return 0;

err_free:
	free(dev->msix.table);
	free(dev->msix.pba);
	dev->msix.table = NULL;
	dev->msix.pba = NULL;
	return ret;
}

int pci_cap_add_pcie(struct pci_dev *dev, unsigned int *ret_off)
{
	unsigned int off;
	int ret;

	ret = pci_cap_add(dev, PCI_CAP_ID_EXP, PCI_EXP_SIZEOF, &off);
	if (ret)
		return ret;
	/*
	 * Version 2, device/port type 9 = root-complex integrated endpoint (PCIe 4.0 §7.5.3.2):
	 * every nestvm device sits on the root bus with no link above it. Linux enables PASID on
	 * a root-bus function only if it is integrated and supports End-End TLP prefixes.
	 */
	pci_cfg_init_field(dev, off + PCI_EXP_FLAGS, 2, 0x0092, 0, 0);
	/* 128-byte max payload, role-based error reporting. */
	pci_cfg_init_field(dev, off + PCI_EXP_DEVCAP, 4, 1u << 15, 0, 0);
	/* Relaxed ordering and no-snoop enabled, 512-byte max read request (reset values). */
	pci_cfg_init_field(dev, off + PCI_EXP_DEVCTL, 2, 0x2810, 0x79ff, 0);
	pci_cfg_init_field(dev, off + PCI_EXP_DEVSTA, 2, 0, 0, 0x000f);
	/* 2.5 GT/s, x1, port 0. */
	pci_cfg_init_field(dev, off + PCI_EXP_LNKCAP, 4, 0x11, 0, 0);
	pci_cfg_init_field(dev, off + PCI_EXP_LNKCTL, 2, 0, 0x00c3, 0);
	/* Current 2.5 GT/s, negotiated x1, slot clock configuration. */
	pci_cfg_init_field(dev, off + PCI_EXP_LNKSTA, 2, 0x1011, 0, 0);
	/* Completion timeout disable and End-End TLP prefixes (bit 21; needed for PASID) supported. */
	pci_cfg_init_field(dev, off + PCI_EXP_DEVCAP2, 4, 0x10 | PCI_EXP_DEVCAP2_EE_PREFIX, 0, 0);
	pci_cfg_init_field(dev, off + PCI_EXP_DEVCTL2, 2, 0, 0x0010, 0);
	pci_cfg_init_field(dev, off + PCI_EXP_LNKCAP2, 4, 0x2, 0, 0);
	pci_cfg_init_field(dev, off + PCI_EXP_LNKCTL2, 2, 0x1, 0x000f, 0);
	if (ret_off)
		*ret_off = off;
	return 0;
}

int pci_ext_cap_add(struct pci_dev *dev, uint16_t id, uint8_t version, unsigned int len,
		    unsigned int *ret_off)
{
	unsigned int off = dev->ext_next;
	uint32_t hdr;

	if (len < 4 || version > 0xf)
		return -EINVAL;
	if (off + len > PCI_CONFIG_SIZE)
		return -ENOSPC;
	memset(&dev->config[off], 0, len);
	pci_cfg_init_field(dev, off, 4, id | ((uint32_t)version << 16), 0, 0);
	if (dev->ext_last) {
		hdr = cfg32(dev, dev->ext_last);
		hdr = (hdr & 0x000fffff) | ((uint32_t)off << 20);
		le32_store(&dev->config[dev->ext_last], hdr);
	}
	dev->ext_last = off;
	dev->ext_next = (unsigned int)ALIGN_UP(off + len, 4);
	if (ret_off)
		*ret_off = off;
	return 0;
}

int pci_ext_cap_add_pasid(struct pci_dev *dev, unsigned int width, bool exec, bool priv,
			  unsigned int *ret_off)
{
	uint16_t cap, ctrl_mask;
	unsigned int off;
	int ret;

	if (width < 1 || width > 20)
		return -EINVAL;
	ret = pci_ext_cap_add(dev, PCI_EXT_CAP_ID_PASID, 1, 8, &off);
	if (ret)
		return ret;
	cap = (uint16_t)(FIELD_PREP(PCI_PASID_CAP_WIDTH, width) | (exec ? PCI_PASID_CAP_EXEC : 0) |
			 (priv ? PCI_PASID_CAP_PRIV : 0));
	ctrl_mask = (uint16_t)(PCI_PASID_CTRL_ENABLE | (exec ? PCI_PASID_CTRL_EXEC : 0) |
			       (priv ? PCI_PASID_CTRL_PRIV : 0));
	pci_cfg_init_field(dev, off + PCI_PASID_CAP, 2, cap, 0, 0);
	pci_cfg_init_field(dev, off + PCI_PASID_CTRL, 2, 0, ctrl_mask, 0);
	if (ret_off)
		*ret_off = off;
	return 0;
}

int pci_ext_cap_add_ats(struct pci_dev *dev, unsigned int inv_qdepth, bool page_aligned,
			unsigned int *ret_off)
{
	unsigned int off;
	int ret;

	if (inv_qdepth > 31)
		return -EINVAL;
	ret = pci_ext_cap_add(dev, PCI_EXT_CAP_ID_ATS, 1, 8, &off);
	if (ret)
		return ret;
	pci_cfg_init_field(dev, off + PCI_ATS_CAP, 2,
			   inv_qdepth | (page_aligned ? PCI_ATS_CAP_PAGE_ALIGNED : 0), 0, 0);
	pci_cfg_init_field(dev, off + PCI_ATS_CTRL, 2, 0, PCI_ATS_CTRL_ENABLE | PCI_ATS_CTRL_STU, 0);
	if (ret_off)
		*ret_off = off;
	return 0;
}

int pci_ext_cap_add_pri(struct pci_dev *dev, uint32_t capacity, bool pasid_required,
			unsigned int *ret_off)
{
	unsigned int off;
	int ret;

	ret = pci_ext_cap_add(dev, PCI_EXT_CAP_ID_PRI, 1, 16, &off);
	if (ret)
		return ret;
	/* Reset (bit 1) is not stored: it reads 0; the device sees it in its config_write hook. */
	pci_cfg_init_field(dev, off + PCI_PRI_CTRL, 2, 0, PCI_PRI_CTRL_ENABLE, 0);
	pci_cfg_init_field(dev, off + PCI_PRI_STATUS, 2,
			   PCI_PRI_STATUS_STOPPED | (pasid_required ? PCI_PRI_STATUS_PASID : 0), 0,
			   PCI_PRI_STATUS_RF | PCI_PRI_STATUS_UPRGI);
	pci_cfg_init_field(dev, off + PCI_PRI_MAX_REQ, 4, capacity, 0, 0);
	pci_cfg_init_field(dev, off + PCI_PRI_ALLOC_REQ, 4, 0, 0xffffffff, 0);
	if (ret_off)
		*ret_off = off;
	return 0;
}

unsigned int pci_find_cap(struct pci_dev *dev, uint8_t id)
{
	unsigned int p, found = 0;

	pthread_mutex_lock(&dev->lock);
	if (dev->config[PCI_STATUS] & PCI_STATUS_CAP_LIST) {
		p = dev->config[PCI_CAPABILITY_LIST] & 0xfc;
		for (unsigned int i = 0; i < PCI_MAX_CAPS && p >= 0x40; i++) {
			if (dev->config[p] == id) {
				found = p;
				break;
			}
			p = dev->config[p + 1] & 0xfc;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return found;
}

unsigned int pci_find_ext_cap(struct pci_dev *dev, uint16_t id)
{
	unsigned int p = PCI_EXT_CAP_START, found = 0;
	uint32_t hdr;

	pthread_mutex_lock(&dev->lock);
	for (unsigned int i = 0; i < PCI_MAX_EXT_CAPS; i++) {
		hdr = cfg32(dev, p);
		if (hdr == 0 || hdr == 0xffffffff)
			break;
		if ((hdr & 0xffff) == id) {
			found = p;
			break;
		}
		p = (hdr >> 20) & 0xffc;
		if (p < PCI_EXT_CAP_START)
			break;
	}
	pthread_mutex_unlock(&dev->lock);
	return found;
}

/* MSI state as read from the capability; caller holds dev->lock. */
static unsigned int msi_nvec_enabled(const struct pci_dev *dev, uint16_t flags)
{
	unsigned int mmc = (unsigned int)FIELD_GET(PCI_MSI_FLAGS_QMASK, flags);
	unsigned int mme = (unsigned int)FIELD_GET(PCI_MSI_FLAGS_QSIZE, flags);

	return 1u << (mme < mmc ? mme : mmc);
}

static void msi_message(const struct pci_dev *dev, unsigned int vector, uint64_t *addr,
			uint32_t *data)
{
	unsigned int off = dev->msi_off;
	uint16_t flags = cfg16(dev, off + PCI_MSI_FLAGS);
	bool is64 = flags & PCI_MSI_FLAGS_64BIT;
	unsigned int nvec = msi_nvec_enabled(dev, flags);

	*addr = cfg32(dev, off + PCI_MSI_ADDRESS_LO);
	if (is64)
		*addr |= (uint64_t)cfg32(dev, off + PCI_MSI_ADDRESS_HI) << 32;
	*data = cfg16(dev, off + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32));
	*data = (*data & ~(nvec - 1)) | vector;
}

static unsigned int msi_mask_off(const struct pci_dev *dev, uint16_t flags)
{
	return dev->msi_off + ((flags & PCI_MSI_FLAGS_64BIT) ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

static void msix_message(const struct pci_dev *dev, unsigned int vector, uint64_t *addr,
			 uint32_t *data)
{
	const uint8_t *e = &dev->msix.table[vector * PCI_MSIX_ENTRY_SIZE];

	*addr = le64_load(e);
	*data = le32_load(e + 8);
}

static bool msix_entry_masked(const struct pci_dev *dev, unsigned int vector)
{
	return dev->msix.table[vector * PCI_MSIX_ENTRY_SIZE + 12] & PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

int pci_msi_notify(struct pci_dev *dev, unsigned int vector)
{
	uint16_t flags, cmd;
	uint64_t addr;
	uint32_t data, mask;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	cmd = cfg16(dev, PCI_COMMAND);
	flags = dev->msix_off ? cfg16(dev, dev->msix_off + PCI_MSIX_FLAGS) : 0;
	if (!dev->host) {
		ret = -ENODEV;
	} else if (flags & PCI_MSIX_FLAGS_ENABLE) {
		if (vector >= dev->msix.nr) {
			ret = -EINVAL;
		} else if ((flags & PCI_MSIX_FLAGS_MASKALL) || msix_entry_masked(dev, vector)) {
			dev->msix.pba[vector / 8] |= (uint8_t)(1u << (vector % 8));
			ret = 1;
		} else {
			msix_message(dev, vector, &addr, &data);
		}
	} else if (dev->msi_off &&
		   ((flags = cfg16(dev, dev->msi_off + PCI_MSI_FLAGS)) & PCI_MSI_FLAGS_ENABLE)) {
		if (vector >= msi_nvec_enabled(dev, flags)) {
			ret = -EINVAL;
		} else if (flags & PCI_MSI_FLAGS_MASKBIT &&
			   (cfg32(dev, msi_mask_off(dev, flags)) & (1u << vector))) {
			mask = cfg32(dev, msi_mask_off(dev, flags) + 4) | (1u << vector);
			le32_store(&dev->config[msi_mask_off(dev, flags) + 4], mask);
			ret = 1;
		} else {
			msi_message(dev, vector, &addr, &data);
		}
	} else {
		ret = -ENODEV;
	}
	pthread_mutex_unlock(&dev->lock);
	if (ret)
		return ret > 0 ? 0 : ret;
	/* An MSI is a memory write: without bus mastering it never leaves the device. */
	if (cmd & PCI_COMMAND_MASTER)
		irq_send_msi(dev->host->irq, addr, data, pci_dev_bdf(dev));
	return 0;
}

int pci_msi_vector(struct pci_dev *dev, unsigned int vector, uint64_t *ret_addr,
		   uint32_t *ret_data, bool *ret_masked)
{
	uint16_t flags;
	bool masked;
	int ret = 0;

	pthread_mutex_lock(&dev->lock);
	masked = !(cfg16(dev, PCI_COMMAND) & PCI_COMMAND_MASTER);
	flags = dev->msix_off ? cfg16(dev, dev->msix_off + PCI_MSIX_FLAGS) : 0;
	if (flags & PCI_MSIX_FLAGS_ENABLE) {
		if (vector >= dev->msix.nr) {
			ret = -EINVAL;
		} else {
			masked = masked || (flags & PCI_MSIX_FLAGS_MASKALL) || msix_entry_masked(dev, vector);
			msix_message(dev, vector, ret_addr, ret_data);
		}
	} else if (dev->msi_off &&
		   ((flags = cfg16(dev, dev->msi_off + PCI_MSI_FLAGS)) & PCI_MSI_FLAGS_ENABLE)) {
		if (vector >= msi_nvec_enabled(dev, flags)) {
			ret = -EINVAL;
		} else {
			masked = masked || ((flags & PCI_MSI_FLAGS_MASKBIT) &&
					    (cfg32(dev, msi_mask_off(dev, flags)) & (1u << vector)));
			msi_message(dev, vector, ret_addr, ret_data);
		}
	} else {
		ret = -ENODEV;
	}
	pthread_mutex_unlock(&dev->lock);
	if (!ret)
		*ret_masked = masked;
	return ret;
}

void pci_dev_set_msi_observer(struct pci_dev *dev, pci_msi_observer_fn fn, void *opaque)
{
	pthread_mutex_lock(&dev->lock);
	dev->msi_observer = fn;
	dev->msi_observer_opaque = opaque;
	pthread_mutex_unlock(&dev->lock);
}

/* Tells the observer, if any, outside the lock. */
void pci_msi_observe(struct pci_dev *dev)
{
	pci_msi_observer_fn fn;
	void *opaque;

	pthread_mutex_lock(&dev->lock);
	fn = dev->msi_observer;
	opaque = dev->msi_observer_opaque;
	pthread_mutex_unlock(&dev->lock);
	if (fn)
		fn(dev, opaque);
}

bool pci_msi_enabled(struct pci_dev *dev)
{
	bool on = false;

	pthread_mutex_lock(&dev->lock);
	if (dev->msi_off && (cfg16(dev, dev->msi_off + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE))
		on = true;
	if (dev->msix_off && (cfg16(dev, dev->msix_off + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE))
		on = true;
	pthread_mutex_unlock(&dev->lock);
	return on;
}

/* Takes one pending, now deliverable vector off the pending bits; caller holds dev->lock. */
static bool take_pending(struct pci_dev *dev, uint64_t *addr, uint32_t *data)
{
	uint16_t flags;
	uint32_t pend, mask;
	unsigned int moff;

	if (!(cfg16(dev, PCI_COMMAND) & PCI_COMMAND_MASTER))
		return false;
	flags = dev->msix_off ? cfg16(dev, dev->msix_off + PCI_MSIX_FLAGS) : 0;
	if (flags & PCI_MSIX_FLAGS_ENABLE) {
		if (flags & PCI_MSIX_FLAGS_MASKALL)
			return false;
		for (unsigned int v = 0; v < dev->msix.nr; v++) {
			if (!dev->msix.pba[v / 8])
				v |= 7; /* skip an empty byte */
			else if ((dev->msix.pba[v / 8] & (1u << (v % 8))) && !msix_entry_masked(dev, v)) {
				dev->msix.pba[v / 8] &= (uint8_t)~(1u << (v % 8));
				msix_message(dev, v, addr, data);
				return true;
			}
		}
		return false;
	}
	if (!dev->msi_off)
		return false;
	flags = cfg16(dev, dev->msi_off + PCI_MSI_FLAGS);
	if (!(flags & PCI_MSI_FLAGS_ENABLE) || !(flags & PCI_MSI_FLAGS_MASKBIT))
		return false;
	moff = msi_mask_off(dev, flags);
	mask = cfg32(dev, moff);
	pend = cfg32(dev, moff + 4);
	if (msi_nvec_enabled(dev, flags) < 32)
		pend &= (1u << msi_nvec_enabled(dev, flags)) - 1;
	pend &= ~mask;
	if (!pend)
		return false;
	{
		unsigned int v = (unsigned int)__builtin_ctz(pend);

		le32_store(&dev->config[moff + 4], cfg32(dev, moff + 4) & ~(1u << v));
		msi_message(dev, v, addr, data);
	}
	return true;
}

void pci_msi_deliver_pending(struct pci_dev *dev)
{
	uint64_t addr;
	uint32_t data;
	bool got;

	if (!dev->host)
		return;
	/* Bounded: each round clears one pending bit, and there are at most 2048 + 32. */
	for (unsigned int i = 0; i < PCI_MSIX_MAX_VECTORS + 32; i++) {
		pthread_mutex_lock(&dev->lock);
		got = take_pending(dev, &addr, &data);
		pthread_mutex_unlock(&dev->lock);
		if (!got)
			break;
		irq_send_msi(dev->host->irq, addr, data, pci_dev_bdf(dev));
	}
}

void pci_msix_reset_locked(struct pci_dev *dev)
{
	if (!dev->msix.nr)
		return;
	memset(dev->msix.table, 0, (size_t)dev->msix.nr * PCI_MSIX_ENTRY_SIZE);
	memset(dev->msix.pba, 0, (size_t)(dev->msix.nr + 63) / 64 * 8);
	for (unsigned int v = 0; v < dev->msix.nr; v++)
		dev->msix.table[v * PCI_MSIX_ENTRY_SIZE + 12] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

/* Writable bits of each byte of a table entry (PCI 3.0 §6.8.2.6-9). */
static uint8_t msix_entry_wmask(unsigned int byte)
{
	if (byte == 0)
		return 0xfc;
	if (byte < 12)
		return 0xff;
	return byte == 12 ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0;
}

bool pci_msix_bar_read(struct pci_dev *dev, unsigned int bar, uint64_t off, unsigned int size,
		       uint64_t *ret_val)
{
	uint64_t tlen = (uint64_t)dev->msix.nr * PCI_MSIX_ENTRY_SIZE;
	uint64_t plen = (uint64_t)(dev->msix.nr + 63) / 64 * 8;
	const uint8_t *src;
	uint64_t v = 0;

	if (!dev->msix.nr || bar != dev->msix.bar)
		return false;
	if (off >= dev->msix.table_off && off + size <= dev->msix.table_off + tlen)
		src = &dev->msix.table[off - dev->msix.table_off];
	else if (off >= dev->msix.pba_off && off + size <= dev->msix.pba_off + plen)
		src = &dev->msix.pba[off - dev->msix.pba_off];
	else
		return false;
	pthread_mutex_lock(&dev->lock);
	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)src[i] << (8 * i);
	pthread_mutex_unlock(&dev->lock);
	*ret_val = v;
	return true;
}

bool pci_msix_bar_write(struct pci_dev *dev, unsigned int bar, uint64_t off, uint64_t val,
			unsigned int size)
{
	uint64_t tlen = (uint64_t)dev->msix.nr * PCI_MSIX_ENTRY_SIZE;
	uint64_t plen = (uint64_t)(dev->msix.nr + 63) / 64 * 8;
	uint64_t t;

	if (!dev->msix.nr || bar != dev->msix.bar)
		return false;
	if (off >= dev->msix.pba_off && off + size <= dev->msix.pba_off + plen)
		return true; /* the PBA is read-only */
	if (off < dev->msix.table_off || off + size > dev->msix.table_off + tlen)
		return false;
	t = off - dev->msix.table_off;
	pthread_mutex_lock(&dev->lock);
	for (unsigned int i = 0; i < size; i++) {
		uint8_t m = msix_entry_wmask((unsigned int)((t + i) % PCI_MSIX_ENTRY_SIZE));
		uint8_t *b = &dev->msix.table[t + i];

		*b = (uint8_t)((*b & ~m) | ((uint8_t)(val >> (8 * i)) & m));
	}
	pthread_mutex_unlock(&dev->lock);
	pci_msi_deliver_pending(dev);
	pci_msi_observe(dev);
	return true;
}
