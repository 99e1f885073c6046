/* SPDX-License-Identifier: MIT */
/*
 * pasid-dma: PCI function, capabilities, BAR0 registers, the descriptor ring and IOMMU callbacks
 * (options: pasid-dma-opts.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "common/log.h"
#include "devices/pasid-dma/pasid-dma-internal.h"

/* ---- the ring ---- */

/* Runs descriptors from HEAD to TAIL (lock held). Bounded by the ring size per call. */
static void process(struct pasid_dma *d)
{
	struct dma_req req = { .sid = pci_dev_bdf(&d->pci) };

	if (!(d->ctrl & PDMA_CTRL_ENABLE) || d->waiting || (d->status & PDMA_STS_RING_ERR) ||
	    !d->ring_size || !pci_bus_master_enabled(&d->pci))
		return;
	for (uint32_t n = 0; n < d->ring_size && d->head != d->tail; n++) {
		uint8_t raw[PDMA_DESC_SIZE];
		struct pdma_desc desc;

		/* Descriptors are fetched with requests without PASID: RING is an IOVA. */
		if (dma_read(d->as, &req, d->ring + (uint64_t)d->head * PDMA_DESC_SIZE, raw,
			     sizeof(raw))) {
			d->status |= PDMA_STS_RING_ERR;
			return;
		}
		pdma_desc_decode(raw, &desc);
		if (pdma_run_desc(d, &desc) == PDMA_RUN_WAIT) {
			d->cur_desc = desc;
			d->status |= PDMA_STS_WAITING;
			return;
		}
	}
}

static void reset_state(struct pasid_dma *d)
{
	d->ctrl = d->status = d->ring_size = d->head = d->tail = d->completed = 0;
	d->ring = 0;
	d->waiting = false;
	d->retries = 0;
	pdma_tlb_flush(d);
}

/* ---- IOMMU callbacks ---- */

static void page_response(void *opaque, bool has_pasid, uint32_t pasid, uint16_t grpid,
			  unsigned int code)
{
	struct pasid_dma *d = opaque;

	pthread_mutex_lock(&d->lock);
	if (!d->waiting || grpid != d->wait_grp || has_pasid != d->wait_pp ||
	    (has_pasid && pasid != d->wait_pasid)) {
		/* PRI: a response for a group the function has not requested. */
		if (d->pri_off)
			pci_config_set(&d->pci, d->pri_off + PCI_PRI_STATUS,
				       pci_config_get(&d->pci, d->pri_off + PCI_PRI_STATUS, 2) |
					       PCI_PRI_STATUS_UPRGI, 2);
		d->stats.unexpected_responses++;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	d->stats.responses++;
	d->waiting = false;
	d->status &= ~PDMA_STS_WAITING;
	if (code == DMA_PRG_SUCCESS) {
		if (pdma_run_desc(d, &d->cur_desc) == PDMA_RUN_WAIT)
			d->status |= PDMA_STS_WAITING;
	} else {
		/* Response Failure stops page requests until software clears PRI status RF. */
		if (code == DMA_PRG_FAILURE && d->pri_off)
			pci_config_set(&d->pci, d->pri_off + PCI_PRI_STATUS,
				       pci_config_get(&d->pci, d->pri_off + PCI_PRI_STATUS, 2) |
					       PCI_PRI_STATUS_RF, 2);
		pdma_complete(d, &d->cur_desc, PDMA_ST_PRG_INVALID, 0, d->missing[0].addr, 0);
	}
	process(d);
	pthread_mutex_unlock(&d->lock);
}

static const struct dma_ats_client pdma_ats_client = {
	.devtlb_invalidate = pdma_tlb_invalidate,
	.page_response = page_response,
};

/* ---- BAR0 ---- */

/* HOST_* test register i (0 = BINDS): the low 32 bits of that host counter, 0 without one. */
static uint32_t host_counter(struct pasid_dma *d, unsigned int i)
{
	struct pasid_dma_host_counters c = { 0 };
	const uint64_t *order[] = { &c.binds, &c.replaces, &c.detaches, &c.inv_calls,
				    &c.inv_ranges, &c.faults, &c.page_reqs, &c.page_resps,
				    &c.iotlb_hits, &c.iotlb_misses };

	if (!d->host_fn || i >= ARRAY_SIZE(order))
		return 0;
	d->host_fn(d->host_opaque, &c);
	return (uint32_t)*order[i];
}

static uint64_t bar_read(struct pci_dev *dev, unsigned int bar, uint64_t off, unsigned int size)
{
	struct pasid_dma *d = dev->opaque;
	uint32_t v = 0xffffffffu;

	if (bar != 0 || size != 4 || (off & 3))
		return ~0ULL;
	pthread_mutex_lock(&d->lock);
	switch (off) {
	case PDMA_REG_ID:
		v = PDMA_ID_VALUE;
		break;
	case PDMA_REG_CAPS:
		v = (d->pasid_off ? PDMA_CAPS_PASID : 0) | (d->ats_off ? PDMA_CAPS_ATS : 0) |
		    (d->pri_off ? PDMA_CAPS_PRI : 0) |
		    (uint32_t)FIELD_PREP(PDMA_CAPS_WIDTH, d->cfg.pasid_bits);
		break;
	case PDMA_REG_CTRL:
		v = d->ctrl;
		break;
	case PDMA_REG_STATUS:
		v = d->status;
		break;
	case PDMA_REG_RING_LO:
		v = (uint32_t)d->ring;
		break;
	case PDMA_REG_RING_HI:
		v = (uint32_t)(d->ring >> 32);
		break;
	case PDMA_REG_RING_SIZE:
		v = d->ring_size;
		break;
	case PDMA_REG_HEAD:
		v = d->head;
		break;
	case PDMA_REG_TAIL:
		v = d->tail;
		break;
	case PDMA_REG_COMPLETED:
		v = d->completed;
		break;
	case PDMA_REG_DTLB_HITS:
		v = (uint32_t)d->stats.dtlb_hits;
		break;
	case PDMA_REG_DTLB_MISSES:
		v = (uint32_t)d->stats.dtlb_misses;
		break;
	case PDMA_REG_PAGE_REQS:
		v = (uint32_t)d->stats.page_reqs;
		break;
	case PDMA_REG_DTLB_INVS:
		v = (uint32_t)d->stats.dtlb_invs;
		break;
	case PDMA_REG_HOST_BACKEND:
		v = d->cfg.backend == PDMA_BACKEND_HOSTSIM;
		break;
	case PDMA_REG_HOST_BINDS ... PDMA_REG_HOST_IOTLB_MISSES:
		v = host_counter(d, (unsigned int)(off - PDMA_REG_HOST_BINDS) / 4);
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return v;
}

static void bar_write(struct pci_dev *dev, unsigned int bar, uint64_t off, uint64_t val,
		      unsigned int size)
{
	struct pasid_dma *d = dev->opaque;
	uint32_t v = (uint32_t)val;

	if (bar != 0 || size != 4 || (off & 3))
		return;
	pthread_mutex_lock(&d->lock);
	switch (off) {
	case PDMA_REG_CTRL:
		if (v & PDMA_CTRL_RESET) {
			reset_state(d);
			break;
		}
		d->ctrl = v & (PDMA_CTRL_ENABLE | PDMA_CTRL_IRQ);
		process(d);
		break;
	case PDMA_REG_STATUS:
		d->status &= ~(v & PDMA_STS_IRQ);
		break;
	/* The ring registers only change while the engine is disabled. */
	case PDMA_REG_RING_LO:
		if (!(d->ctrl & PDMA_CTRL_ENABLE))
			d->ring = (d->ring & ~0xffffffffULL) | (v & ~(uint32_t)(PDMA_DESC_SIZE - 1));
		break;
	case PDMA_REG_RING_HI:
		if (!(d->ctrl & PDMA_CTRL_ENABLE))
			d->ring = (d->ring & 0xffffffffULL) | ((uint64_t)v << 32);
		break;
	case PDMA_REG_RING_SIZE:
		if (!(d->ctrl & PDMA_CTRL_ENABLE) && v && v <= PDMA_RING_MAX && !(v & (v - 1))) {
			d->ring_size = v;
			d->head = d->tail = 0;
		}
		break;
	case PDMA_REG_TAIL:
		if (d->ring_size) {
			d->tail = v & (d->ring_size - 1);
			process(d);
		}
		break;
	}
	pthread_mutex_unlock(&d->lock);
}

/* Capability control writes: disabling ATS empties the device-TLB; PRI enable/stopped. */
static void config_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int size)
{
	struct pasid_dma *d = dev->opaque;

	if (d->ats_off && off <= d->ats_off + PCI_ATS_CTRL && off + size > d->ats_off + PCI_ATS_CTRL &&
	    !pdma_ats_on(d))
		pdma_tlb_flush(d);
	if (d->pri_off && off <= d->pri_off + PCI_PRI_CTRL && off + size > d->pri_off + PCI_PRI_CTRL) {
		uint32_t ctrl = pci_config_get(dev, d->pri_off + PCI_PRI_CTRL, 2);
		uint32_t sts = pci_config_get(dev, d->pri_off + PCI_PRI_STATUS, 2);

		/* Stopped: PRI disabled (requests are answered synchronously or awaited). */
		sts = (ctrl & PCI_PRI_CTRL_ENABLE) ? (sts & ~PCI_PRI_STATUS_STOPPED)
						   : (sts | PCI_PRI_STATUS_STOPPED);
		pci_config_set(dev, d->pri_off + PCI_PRI_STATUS, sts, 2);
	}
	/* Bus mastering just turned on: run what the doorbell asked for. */
	if (off <= PCI_COMMAND && off + size > PCI_COMMAND) {
		pthread_mutex_lock(&d->lock);
		process(d);
		pthread_mutex_unlock(&d->lock);
	}
}

static void dev_reset(struct pci_dev *dev)
{
	struct pasid_dma *d = dev->opaque;

	pthread_mutex_lock(&d->lock);
	reset_state(d);
	pthread_mutex_unlock(&d->lock);
}

static const struct pci_dev_ops pdma_pci_ops = {
	.bar_read = bar_read,
	.bar_write = bar_write,
	.config_write = config_write,
	.reset = dev_reset,
};

struct pasid_dma *pasid_dma_create(struct pci_host *h, unsigned int slot, const struct dma_as *as,
				   const struct pasid_dma_config *cfg)
{
	struct pasid_dma *d;

	if (!h || !as || !cfg || cfg->pasid_bits > 20 || (cfg->pri && !cfg->ats))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->tlb_lock, NULL);
	d->as = as;
	d->cfg = *cfg;
	pci_dev_init(&d->pci, PDMA_VENDOR_ID, PDMA_DEVICE_ID, PDMA_REVISION, PDMA_CLASS,
		     &pdma_pci_ops, d);
	if (pci_dev_set_bar(&d->pci, 0, PCI_BAR_MEM32, PDMA_BAR_SIZE, false) ||
	    pci_dev_set_bar(&d->pci, PDMA_MSIX_BAR, PCI_BAR_MEM32, 4096, false) ||
	    pci_cap_add_pcie(&d->pci, NULL) ||
	    pci_cap_add_msix(&d->pci, PDMA_MSIX_VECTORS, PDMA_MSIX_BAR, 0, 2048, NULL))
		goto err_free;
	if (cfg->pasid_bits &&
	    pci_ext_cap_add_pasid(&d->pci, cfg->pasid_bits, cfg->exec, cfg->priv, &d->pasid_off))
		goto err_free;
	if (cfg->ats && pci_ext_cap_add_ats(&d->pci, 0, true, &d->ats_off))
		goto err_free;
	if (cfg->pri && pci_ext_cap_add_pri(&d->pci, 512, cfg->pasid_bits > 0, &d->pri_off))
		goto err_free;
	if (pci_host_add_device(h, &d->pci, slot))
		goto err_free;
	if (cfg->ats && as->ops && as->ops->ats_register) {
		if (as->ops->ats_register(as->iommu, pci_dev_bdf(&d->pci), &pdma_ats_client, d))
			goto err_remove;
		d->registered = true;
	}
	return d;

err_remove:
	pci_host_remove_device(&d->pci);
err_free:
	pci_dev_cleanup(&d->pci);
	pthread_mutex_destroy(&d->tlb_lock);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return NULL;
}

void pasid_dma_destroy(struct pasid_dma *d)
{
	if (!d)
		return;
	if (d->registered)
		d->as->ops->ats_register(d->as->iommu, pci_dev_bdf(&d->pci), NULL, NULL);
	pci_host_remove_device(&d->pci);
	pci_dev_cleanup(&d->pci);
	pthread_mutex_destroy(&d->tlb_lock);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

struct pci_dev *pasid_dma_pci_dev(struct pasid_dma *d)
{
	return &d->pci;
}

void pasid_dma_get_stats(struct pasid_dma *d, struct pasid_dma_stats *ret)
{
	pthread_mutex_lock(&d->lock);
	pthread_mutex_lock(&d->tlb_lock);
	*ret = d->stats;
	pthread_mutex_unlock(&d->tlb_lock);
	pthread_mutex_unlock(&d->lock);
}

void pasid_dma_set_host_counters(struct pasid_dma *d, pasid_dma_host_counters_fn fn, void *opaque)
{
	pthread_mutex_lock(&d->lock);
	d->host_fn = fn;
	d->host_opaque = opaque;
	pthread_mutex_unlock(&d->lock);
}
