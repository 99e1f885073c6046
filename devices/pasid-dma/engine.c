/* SPDX-License-Identifier: MIT */
/*
 * The pasid-dma engine: descriptor decoding, the device-TLB, address translation (through
 * the IOMMU per access, or ATS translation requests into the device-TLB), page requests on
 * missing translations, the four operations and the completion record.
 */
#include <errno.h>
#include <string.h>

#include "common/bits.h"
#include "devices/pasid-dma/pasid-dma-internal.h"
#include "vmm/core/gmem.h"

#define PAGE 4096ULL

void pdma_desc_decode(const uint8_t *raw, struct pdma_desc *ret)
{
	uint64_t q[8];

	for (unsigned int i = 0; i < 8; i++)
		q[i] = le64_load(raw + 8 * i);
	*ret = (struct pdma_desc){
		.op = (unsigned int)(q[0] & PDMA_D0_OP),
		.pasid_en = !!(q[0] & PDMA_D0_PASID_EN),
		.priv = !!(q[0] & PDMA_D0_PRIV),
		.exec = !!(q[0] & PDMA_D0_EXEC),
		.irq = !!(q[0] & PDMA_D0_IRQ),
		.pasid = (uint32_t)((q[0] & PDMA_D0_PASID) >> 32),
		.src = q[1], .dst = q[2], .len = q[3], .pattern = q[4], .cr = q[5],
		/* Reserved: QW0 31:12 and 63:52, QW6, QW7. */
		.rsvd = (q[0] & (0xfffff000ULL | (0xfffULL << 52))) || q[6] || q[7],
	};
}

uint64_t pdma_fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Translation requests: ATS enabled, an IOMMU that answers them, and not behind the host
 * simulator (a simulated passthrough device offers the capability but the host answers none). */
static bool use_ats(struct pasid_dma *d)
{
	return pdma_ats_on(d) && d->cfg.backend != PDMA_BACKEND_HOSTSIM && d->as->ops &&
	       d->as->ops->ats_translate;
}

bool pdma_ats_on(struct pasid_dma *d)
{
	return d->ats_off && (pci_config_get(&d->pci, d->ats_off + PCI_ATS_CTRL, 2) &
			      PCI_ATS_CTRL_ENABLE);
}

bool pdma_pri_on(struct pasid_dma *d)
{
	return d->pri_off &&
	       (pci_config_get(&d->pci, d->pri_off + PCI_PRI_CTRL, 2) & PCI_PRI_CTRL_ENABLE) &&
	       !(pci_config_get(&d->pci, d->pri_off + PCI_PRI_STATUS, 2) & PCI_PRI_STATUS_RF);
}

/* ---- device-TLB ---- */

static unsigned int tlb_set(bool pp, uint32_t pasid, uint64_t vpn)
{
	uint64_t h = (vpn ^ (pp ? (uint64_t)pasid << 20 : 0)) * 0x9e3779b97f4a7c15ULL;

	return (unsigned int)(h >> 58); /* top 6 bits: 64 sets */
}

static struct pdma_tlb_entry *tlb_find(struct pasid_dma *d, bool pp, uint32_t pasid, uint64_t vpn)
{
	struct pdma_tlb_entry *set = &d->tlb[tlb_set(pp, pasid, vpn) * PDMA_DTLB_WAYS];

	for (unsigned int w = 0; w < PDMA_DTLB_WAYS; w++) {
		struct pdma_tlb_entry *e = &set[w];

		if (e->valid && e->pp == pp && e->vpn == vpn && (!pp || e->pasid == pasid))
			return e;
	}
	return NULL;
}

static bool tlb_lookup(struct pasid_dma *d, bool pp, uint32_t pasid, uint64_t vpn,
		       unsigned int acc, uint64_t *ret_gpn)
{
	struct pdma_tlb_entry *e;
	bool hit;

	pthread_mutex_lock(&d->tlb_lock);
	e = tlb_find(d, pp, pasid, vpn);
	hit = e && (e->perm & acc) == acc;
	if (hit) {
		*ret_gpn = e->gpn;
		d->stats.dtlb_hits++;
	} else {
		d->stats.dtlb_misses++;
	}
	pthread_mutex_unlock(&d->tlb_lock);
	return hit;
}

static void tlb_insert(struct pasid_dma *d, bool pp, uint32_t pasid, uint64_t vpn, uint64_t gpn,
		       unsigned int perm)
{
	unsigned int s = tlb_set(pp, pasid, vpn);
	struct pdma_tlb_entry *e;

	pthread_mutex_lock(&d->tlb_lock);
	e = tlb_find(d, pp, pasid, vpn);
	for (unsigned int w = 0; !e && w < PDMA_DTLB_WAYS; w++) {
		if (!d->tlb[s * PDMA_DTLB_WAYS + w].valid)
			e = &d->tlb[s * PDMA_DTLB_WAYS + w];
	}
	if (!e) {
		e = &d->tlb[s * PDMA_DTLB_WAYS + d->tlb_victim[s]];
		d->tlb_victim[s] = (uint8_t)((d->tlb_victim[s] + 1) % PDMA_DTLB_WAYS);
	}
	*e = (struct pdma_tlb_entry){
		.valid = true, .pp = pp, .pasid = pp ? pasid : 0, .vpn = vpn, .gpn = gpn, .perm = perm,
	};
	pthread_mutex_unlock(&d->tlb_lock);
}

void pdma_tlb_flush(struct pasid_dma *d)
{
	pthread_mutex_lock(&d->tlb_lock);
	memset(d->tlb, 0, sizeof(d->tlb));
	pthread_mutex_unlock(&d->tlb_lock);
}

/*
 * An invalidation request from the IOMMU. As PCIe defines it (PASID and Global Invalidate),
 * a request without PASID drops the range of the entries without PASID and every entry with
 * a PASID whatever its address; with a PASID, the range of that PASID's entries (of every
 * PASID with all_pasids). Bounded by the table size.
 */
void pdma_tlb_invalidate(void *opaque, bool has_pasid, uint32_t pasid, bool all_pasids,
			 uint64_t addr, uint64_t size)
{
	struct pasid_dma *d = opaque;
	uint64_t first = addr >> 12, last = (addr + (size - 1)) >> 12;

	if (addr + (size - 1) < addr)
		last = ~0ULL >> 12;
	pthread_mutex_lock(&d->tlb_lock);
	d->stats.dtlb_invs++;
	for (unsigned int i = 0; i < PDMA_DTLB_ENTRIES; i++) {
		struct pdma_tlb_entry *e = &d->tlb[i];

		if (!e->valid || (!(e->pp && !has_pasid) && (e->vpn < first || e->vpn > last)))
			continue;
		if (has_pasid && !all_pasids && (!e->pp || e->pasid != pasid))
			continue;
		e->valid = false;
		d->stats.dtlb_dropped++;
	}
	pthread_mutex_unlock(&d->tlb_lock);
}

/* ---- translation and transfers ---- */

struct pdma_ctx {
	struct pasid_dma *d;
	struct dma_req req; /* sid, PASID and the PRIV bit; access set per use */
	bool ats;           /* translated requests through the device-TLB */
	bool exec_src;      /* source reads are execute requests */
	uint64_t fault_addr;
};

/* ATS: 0 and the page's gpa, -EAGAIN (no translation: R=W=0 or too few rights), -EACCES. */
static int page_xlate(struct pdma_ctx *c, uint64_t va, unsigned int acc, uint64_t *ret_gpa)
{
	struct pasid_dma *d = c->d;
	const struct dma_iommu_ops *ops = d->as->ops;
	struct dma_req r = c->req;
	struct dma_ats_xlate x;
	uint64_t gpn;
	int ret;

	if (tlb_lookup(d, r.has_pasid, r.pasid, va >> 12, acc, &gpn)) {
		*ret_gpa = (gpn << 12) | (va & (PAGE - 1));
		return 0;
	}
	/* A write translation also asks for read: one entry then serves both. */
	r.access = (c->req.access & DMA_ACC_PRIV) | acc | DMA_ACC_READ;
	ret = ops->ats_translate(d->as->iommu, &r, va & ~(PAGE - 1), &x);
	if (ret)
		return -EACCES;
	if ((x.perm & r.access & (DMA_ACC_READ | DMA_ACC_WRITE)) != (r.access & (DMA_ACC_READ | DMA_ACC_WRITE)))
		return -EAGAIN;
	tlb_insert(d, r.has_pasid, r.pasid, va >> 12, x.gpa >> 12, x.perm);
	*ret_gpa = (x.gpa & ~(PAGE - 1)) | (va & (PAGE - 1));
	return 0;
}

/* Moves len bytes at addr page by page; on error fault_addr names the failing page. */
static int xfer(struct pdma_ctx *c, uint64_t addr, void *buf, size_t len, bool write,
		unsigned int extra_acc)
{
	struct pasid_dma *d = c->d;
	uint8_t *p = buf;

	/* Bounded: each step moves up to the end of one page, at least one byte. */
	while (len) {
		size_t n = PAGE - (addr & (PAGE - 1));
		unsigned int acc = (write ? DMA_ACC_WRITE : DMA_ACC_READ) | extra_acc;
		uint64_t gpa;
		int ret;

		n = n < len ? n : len;
		if (c->ats) {
			ret = page_xlate(c, addr, acc, &gpa);
			if (!ret)
				ret = write ? gmem_write(d->as->gmem, gpa, p, n)
					    : gmem_read(d->as->gmem, gpa, p, n);
		} else {
			struct dma_req r = c->req;

			r.access |= extra_acc;
			ret = write ? dma_write(d->as, &r, addr, p, n) : dma_read(d->as, &r, addr, p, n);
		}
		if (ret) {
			c->fault_addr = addr;
			return ret;
		}
		d->stats.bytes += n;
		p += n;
		addr += n;
		len -= n;
	}
	return 0;
}

void pdma_complete(struct pasid_dma *d, const struct pdma_desc *desc, uint8_t status,
		   uint64_t result, uint64_t info, uint32_t done)
{
	uint8_t cr[PDMA_CR_SIZE] = { 0 };

	cr[0] = status;
	cr[1] = (uint8_t)desc->op;
	le32_store(cr + 4, done);
	le64_store(cr + 8, result);
	le64_store(cr + 16, info);
	if (desc->cr) {
		/* The record goes out with the descriptor's PASID, if that PASID is usable. */
		struct pdma_ctx c = { .d = d, .req = { .sid = pci_dev_bdf(&d->pci) } };

		if (status != PDMA_ST_BAD_PASID && desc->pasid_en) {
			c.req.has_pasid = true;
			c.req.pasid = desc->pasid;
			c.req.access = desc->priv ? DMA_ACC_PRIV : 0;
		}
		c.ats = use_ats(d);
		if (xfer(&c, desc->cr, cr, sizeof(cr), true, 0))
			d->stats.faults++;
	}
	if (status == PDMA_ST_FAULT)
		d->stats.faults++;
	d->stats.descs++;
	d->completed++;
	d->retries = 0;
	d->head = (d->head + 1) & (d->ring_size - 1);
	if (desc->irq && (d->ctrl & PDMA_CTRL_IRQ)) {
		d->status |= PDMA_STS_IRQ;
		pci_msi_notify(&d->pci, 0);
	}
}

/* ---- operations ---- */

static int run_op(struct pdma_ctx *c, const struct pdma_desc *desc, uint64_t *ret_result,
		  uint64_t *ret_info)
{
	uint8_t a[PAGE], b[PAGE];
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int sx = c->exec_src ? DMA_ACC_EXEC : 0;
	int ret = 0;

	*ret_result = 0;
	*ret_info = 0;
	for (uint64_t off = 0; off < desc->len; off += PAGE) {
		size_t n = desc->len - off < PAGE ? (size_t)(desc->len - off) : PAGE;

		switch (desc->op) {
		case PDMA_OP_COPY:
			ret = xfer(c, desc->src + off, a, n, false, sx);
			if (!ret)
				ret = xfer(c, desc->dst + off, a, n, true, 0);
			break;
		case PDMA_OP_FILL:
			for (size_t i = 0; i < n; i++)
				a[i] = (uint8_t)(desc->pattern >> (8 * ((off + i) & 7)));
			ret = xfer(c, desc->dst + off, a, n, true, 0);
			break;
		case PDMA_OP_COMPARE:
			ret = xfer(c, desc->src + off, a, n, false, sx);
			if (!ret)
				ret = xfer(c, desc->dst + off, b, n, false, 0);
			if (!ret && memcmp(a, b, n)) {
				size_t i = 0;

				while (a[i] == b[i])
					i++;
				*ret_result = 1;
				*ret_info = off + i;
				return 0;
			}
			break;
		case PDMA_OP_CHECKSUM:
			ret = xfer(c, desc->src + off, a, n, false, sx);
			if (!ret)
				h = pdma_fnv1a(h, a, n);
			break;
		}
		if (ret)
			return ret;
	}
	if (desc->op == PDMA_OP_CHECKSUM)
		*ret_result = h;
	return 0;
}

/* Adds the pages of [addr, addr+len) the device-TLB cannot serve with acc to d->missing. */
static int collect(struct pdma_ctx *c, uint64_t addr, uint64_t len, unsigned int acc,
		   unsigned int *n)
{
	uint64_t first = addr & ~(PAGE - 1);
	uint64_t end = addr + len;

	if (!len)
		return 0;
	/* Bounded: len <= PDMA_MAX_LEN, so at most 257 pages. */
	for (uint64_t va = first; va < end && va >= first; va += PAGE) {
		uint64_t gpa;
		int r = page_xlate(c, va, acc, &gpa);

		if (r == -EACCES) {
			c->fault_addr = va;
			return r;
		}
		if (r == -EAGAIN && *n < PDMA_MAX_MISSING)
			c->d->missing[(*n)++] = (struct pdma_missing){ va, acc };
	}
	return 0;
}

static int prefault(struct pdma_ctx *c, const struct pdma_desc *d, unsigned int *ret_n)
{
	unsigned int sx = c->exec_src ? DMA_ACC_EXEC : 0;
	int r = 0;

	*ret_n = 0;
	if (d->op == PDMA_OP_COPY || d->op == PDMA_OP_COMPARE || d->op == PDMA_OP_CHECKSUM)
		r = collect(c, d->src, d->len, DMA_ACC_READ | sx, ret_n);
	if (!r && (d->op == PDMA_OP_COPY || d->op == PDMA_OP_FILL))
		r = collect(c, d->dst, d->len, DMA_ACC_WRITE, ret_n);
	if (!r && d->op == PDMA_OP_COMPARE)
		r = collect(c, d->dst, d->len, DMA_ACC_READ, ret_n);
	if (!r && d->cr)
		r = collect(c, d->cr, PDMA_CR_SIZE, DMA_ACC_WRITE, ret_n);
	return r;
}

/*
 * Sends one page request group for the first missing pages (at most the PRI allocation).
 * Returns 1 when the device must wait for the response, 0 to retry now (the IOMMU answered
 * Success at once after a queue overflow), or -EACCES.
 */
static int request_pages(struct pdma_ctx *c, const struct pdma_desc *desc, unsigned int n)
{
	struct pasid_dma *d = c->d;
	uint32_t alloc = pci_config_get(&d->pci, d->pri_off + PCI_PRI_ALLOC_REQ, 4);
	uint16_t grp = d->next_grp;
	int r = -EACCES;

	if (!alloc || !d->as->ops->page_request)
		return -EACCES;
	if (n > alloc)
		n = alloc;
	d->next_grp = (uint16_t)((d->next_grp + 1) & 0x1ff);
	for (unsigned int i = 0; i < n; i++) {
		struct dma_page_req pr = {
			.sid = c->req.sid, .has_pasid = c->req.has_pasid, .pasid = c->req.pasid,
			.addr = d->missing[i].addr,
			.access = d->missing[i].access | (c->req.access & DMA_ACC_PRIV),
			.last = i == n - 1, .grpid = grp,
		};

		r = d->as->ops->page_request(d->as->iommu, &pr);
		d->stats.page_reqs++;
		if (r == -ENOSPC)
			d->stats.prq_overflows++;
	}
	if (r == 0) {
		d->waiting = true;
		d->wait_grp = grp;
		d->wait_pp = c->req.has_pasid;
		d->wait_pasid = c->req.has_pasid ? c->req.pasid : 0;
		return 1;
	}
	return r == -ENOSPC ? 0 : -EACCES;
}

static bool pasid_ok(struct pasid_dma *d, const struct pdma_desc *desc)
{
	uint16_t ctrl;

	if (!desc->pasid_en)
		return !desc->priv && !desc->exec; /* priv/exec exist only with a PASID */
	if (!d->pasid_off)
		return false;
	ctrl = (uint16_t)pci_config_get(&d->pci, d->pasid_off + PCI_PASID_CTRL, 2);
	return (ctrl & PCI_PASID_CTRL_ENABLE) && desc->pasid < (1u << d->cfg.pasid_bits) &&
	       (!desc->priv || (ctrl & PCI_PASID_CTRL_PRIV)) &&
	       (!desc->exec || (ctrl & PCI_PASID_CTRL_EXEC));
}

enum pdma_run pdma_run_desc(struct pasid_dma *d, const struct pdma_desc *desc)
{
	struct pdma_ctx c = { .d = d, .req = { .sid = pci_dev_bdf(&d->pci) } };
	uint64_t result, info;
	unsigned int n;
	int r;

	if (desc->rsvd || desc->op > PDMA_OP_CHECKSUM || desc->len > PDMA_MAX_LEN) {
		pdma_complete(d, desc, PDMA_ST_BAD_DESC, 0, 0, 0);
		return PDMA_RUN_DONE;
	}
	if (!pasid_ok(d, desc)) {
		pdma_complete(d, desc, PDMA_ST_BAD_PASID, 0, 0, 0);
		return PDMA_RUN_DONE;
	}
	c.req.has_pasid = desc->pasid_en;
	c.req.pasid = desc->pasid_en ? desc->pasid : 0;
	c.req.access = desc->priv ? DMA_ACC_PRIV : 0;
	c.exec_src = desc->exec;
	c.ats = use_ats(d);
	if (desc->op == PDMA_OP_NOP) {
		pdma_complete(d, desc, PDMA_ST_OK, 0, 0, 0);
		return PDMA_RUN_DONE;
	}
	/* With PRI: translate everything first, page-request what is missing, then run. */
	while (c.ats && pdma_pri_on(d)) {
		r = prefault(&c, desc, &n);
		if (r) {
			pdma_complete(d, desc, PDMA_ST_FAULT, 0, c.fault_addr, 0);
			return PDMA_RUN_DONE;
		}
		if (!n)
			break;
		if (d->retries >= PDMA_MAX_RETRIES) {
			pdma_complete(d, desc, PDMA_ST_FAULT, 0, d->missing[0].addr, 0);
			return PDMA_RUN_DONE;
		}
		d->retries++;
		r = request_pages(&c, desc, n);
		if (r == 1)
			return PDMA_RUN_WAIT;
		if (r < 0) {
			pdma_complete(d, desc, PDMA_ST_FAULT, 0, d->missing[0].addr, 0);
			return PDMA_RUN_DONE;
		}
	}
	r = run_op(&c, desc, &result, &info);
	if (r)
		pdma_complete(d, desc, PDMA_ST_FAULT, 0, c.fault_addr, 0);
	else
		pdma_complete(d, desc, PDMA_ST_OK, result, info,
			      (uint32_t)desc->len);
	return PDMA_RUN_DONE;
}
