/* SPDX-License-Identifier: MIT */
/* The edu test device: BAR0 registers, factorial, interrupts and the synchronous DMA engine. */
#include "edu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

struct edu {
	struct pci_dev pci;
	pthread_mutex_t lock; /* everything below */
	const struct dma_as *as;
	uint32_t live;        /* stored inverted, as the register reads */
	uint32_t fact;
	uint32_t status;
	uint32_t irq_status;
	uint64_t dma_src, dma_dst, dma_cnt, dma_cmd;
	uint8_t buf[EDU_DMA_BUF_SIZE];
	uint8_t bounce[EDU_DMA_BUF_SIZE]; /* RAM -> device reads land here first */
};

/*
 * n! mod 2^32. 34! holds 2^32 as a factor (17+8+4+2+1 = 32 twos), so every n >= 34
 * gives 0: the loop is bounded by 33 steps for any guest value.
 */
static uint32_t factorial(uint32_t n)
{
	uint32_t r = 1;

	if (n >= 34)
		return 0;
	while (n > 1)
		r *= n--;
	return r;
}

/* Interrupt raise / lower (caller holds e->lock): MSI when enabled, else INTx level. */
static void raise_irq(struct edu *e, uint32_t val)
{
	e->irq_status |= val;
	if (!e->irq_status)
		return;
	if (pci_msi_enabled(&e->pci))
		pci_msi_notify(&e->pci, 0);
	else
		pci_set_irq(&e->pci, true);
}

/*
 * The INTx line goes low whenever no interrupt is pending, MSI or not: a raise that chose INTx
 * just before the driver enabled MSI may have set the level after the config write cleared it,
 * and only this keeps that level from outliving the interrupt.
 */
static void lower_irq(struct edu *e, uint32_t val)
{
	e->irq_status &= ~val;
	if (!e->irq_status)
		pci_set_irq(&e->pci, false);
}

/* True if [addr, addr+cnt) lies in the device buffer window 0x40000..0x40fff. */
static bool in_buffer(uint64_t addr, uint64_t cnt)
{
	return addr >= EDU_DMA_BUF_ADDR && cnt <= EDU_DMA_BUF_SIZE &&
	       addr - EDU_DMA_BUF_ADDR <= EDU_DMA_BUF_SIZE - cnt;
}

/*
 * Runs the programmed transfer now (QEMU defers it by a timer; guests poll bit 0 or wait
 * for the interrupt either way). Translation faults belong to the IOMMU: the transfer
 * just completes. A failed RAM read leaves the buffer untouched; a failed RAM write may
 * have stored a page-granular prefix, as hardware would.
 */
static void dma_run(struct edu *e)
{
	bool to_ram = e->dma_cmd & EDU_DMA_TO_RAM;
	uint64_t dev_addr = to_ram ? e->dma_src : e->dma_dst;
	uint64_t ram = to_ram ? e->dma_dst : e->dma_src;
	uint64_t cnt = e->dma_cnt;
	struct dma_req req = { .sid = pci_dev_bdf(&e->pci) };
	int ret = 0;

	if (!in_buffer(dev_addr, cnt)) {
		log_debug("edu", "DMA device range %#llx+%#llx outside the buffer",
			  (unsigned long long)dev_addr, (unsigned long long)cnt);
	} else if (cnt && pci_bus_master_enabled(&e->pci)) {
		uint8_t *p = e->buf + (dev_addr - EDU_DMA_BUF_ADDR);

		if (to_ram) {
			ret = dma_write(e->as, &req, ram, p, (size_t)cnt);
		} else {
			ret = dma_read(e->as, &req, ram, e->bounce, (size_t)cnt);
			if (!ret)
				memcpy(p, e->bounce, (size_t)cnt);
		}
		if (ret)
			log_debug("edu", "DMA %s %#llx failed: %d", to_ram ? "to" : "from",
				  (unsigned long long)ram, ret);
	}
	e->dma_cmd &= ~(uint64_t)EDU_DMA_RUN;
	if (e->dma_cmd & EDU_DMA_IRQ)
		raise_irq(e, EDU_IRQ_DMA);
}

/* The DMA registers are 64-bit; 4-byte accesses reach either half. */
static uint64_t *dma_reg(struct edu *e, uint64_t off)
{
	switch (off & ~7ULL) {
	case EDU_REG_DMA_SRC:
		return &e->dma_src;
	case EDU_REG_DMA_DST:
		return &e->dma_dst;
	case EDU_REG_DMA_CNT:
		return &e->dma_cnt;
	case EDU_REG_DMA_CMD:
		return &e->dma_cmd;
	default:
		return NULL;
	}
}

/* Only 4-byte accesses below 0x80, 4 or 8 bytes above (edu spec), naturally aligned. */
static bool size_ok(uint64_t off, unsigned int size)
{
	if (off < 0x80)
		return size == 4 && (off & 3) == 0;
	return (size == 4 || (size == 8 && (off & 7) == 0)) && (off & 3) == 0;
}

static uint64_t edu_bar_read(struct pci_dev *dev, unsigned int bar, uint64_t off, unsigned int size)
{
	struct edu *e = dev->opaque;
	uint64_t v = ~0ULL, *r;

	if (bar != 0 || !size_ok(off, size))
		return v;
	pthread_mutex_lock(&e->lock);
	switch (off) {
	case EDU_REG_ID:
		v = EDU_ID_VALUE;
		break;
	case EDU_REG_LIVE:
		v = e->live;
		break;
	case EDU_REG_FACT:
		v = e->fact;
		break;
	case EDU_REG_STATUS:
		v = e->status;
		break;
	case EDU_REG_IRQ_STATUS:
		v = e->irq_status;
		break;
	default:
		r = dma_reg(e, off);
		if (r)
			v = (off & 4) ? *r >> 32 : *r;
		break;
	}
	pthread_mutex_unlock(&e->lock);
	return v;
}

static void edu_bar_write(struct pci_dev *dev, unsigned int bar, uint64_t off, uint64_t val,
			  unsigned int size)
{
	struct edu *e = dev->opaque;
	uint64_t *r;

	if (bar != 0 || !size_ok(off, size))
		return;
	pthread_mutex_lock(&e->lock);
	switch (off) {
	case EDU_REG_LIVE:
		e->live = ~(uint32_t)val;
		break;
	case EDU_REG_FACT:
		if (e->status & EDU_STATUS_COMPUTING)
			break;
		e->fact = factorial((uint32_t)val);
		if (e->status & EDU_STATUS_IRQFACT)
			raise_irq(e, EDU_IRQ_FACT);
		break;
	case EDU_REG_STATUS:
		e->status = (e->status & ~EDU_STATUS_IRQFACT) | ((uint32_t)val & EDU_STATUS_IRQFACT);
		break;
	case EDU_REG_IRQ_RAISE:
		raise_irq(e, (uint32_t)val);
		break;
	case EDU_REG_IRQ_ACK:
		lower_irq(e, (uint32_t)val);
		break;
	case EDU_REG_DMA_CMD:
		/* A command without the start bit is ignored, as on QEMU. */
		if (!(val & EDU_DMA_RUN))
			break;
		e->dma_cmd = size == 8 ? val : (uint32_t)val;
		dma_run(e);
		break;
	default:
		r = dma_reg(e, off);
		if (!r || off == EDU_REG_DMA_CMD + 4)
			break;
		if (size == 8)
			*r = val;
		else if (off & 4)
			*r = (*r & 0xffffffffULL) | (val << 32);
		else
			*r = (uint32_t)val; /* a low-half write zero-extends, as on QEMU */
		break;
	}
	pthread_mutex_unlock(&e->lock);
}

static void edu_reset(struct pci_dev *dev)
{
	struct edu *e = dev->opaque;

	pthread_mutex_lock(&e->lock);
	e->live = e->fact = e->status = e->irq_status = 0;
	e->dma_src = e->dma_dst = e->dma_cnt = e->dma_cmd = 0;
	memset(e->buf, 0, sizeof(e->buf));
	pthread_mutex_unlock(&e->lock);
}

static const struct pci_dev_ops edu_pci_ops = {
	.bar_read = edu_bar_read,
	.bar_write = edu_bar_write,
	.reset = edu_reset,
};

struct edu *edu_create(struct pci_host *h, unsigned int slot, const struct dma_as *as)
{
	struct edu *e;

	if (!h || !as)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	pthread_mutex_init(&e->lock, NULL);
	e->as = as;
	pci_dev_init(&e->pci, EDU_VENDOR_ID, EDU_DEVICE_ID, EDU_REVISION, EDU_CLASS, &edu_pci_ops, e);
	pci_dev_set_irq_pin(&e->pci, 1);
	/* QEMU's edu: one 64-bit-capable MSI vector without masking, first capability (0x40). */
	if (pci_dev_set_bar(&e->pci, 0, PCI_BAR_MEM32, EDU_BAR_SIZE, false) ||
	    pci_cap_add_msi(&e->pci, 1, true, false, NULL) ||
	    pci_host_add_device(h, &e->pci, slot))
		goto err_free;
	return e;

err_free:
	pci_dev_cleanup(&e->pci);
	pthread_mutex_destroy(&e->lock);
	free(e);
	return NULL;
}

void edu_destroy(struct edu *e)
{
	if (!e)
		return;
	pci_host_remove_device(&e->pci);
	pci_dev_cleanup(&e->pci);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

struct pci_dev *edu_pci_dev(struct edu *e)
{
	return &e->pci;
}
