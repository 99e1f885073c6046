/* SPDX-License-Identifier: MIT */
/*
 * Host faults and page requests of host-backed devices: fault records for the guest, page
 * requests through its page request queue, and its page group responses back to the host.
 */
#include <errno.h>

#include "devices/viommu/host-internal.h"
#include "devices/viommu/xlate/vtd-tables.h"

/*
 * The fault a host fault on (dev, PASID) becomes: for a (device, PASID) nestvm blocked, the
 * reason it was blocked for (0: translation is off, nothing to record); else the host's.
 */
static uint8_t fault_reason(struct viommu *v, unsigned int dev, const struct host_fault *f)
{
	struct vtd_host *h = v->host;
	uint32_t key = f->pasid_valid ? f->pasid : HOST_RID_KEY;
	struct host_bind *b = vtd_host_find_bind(h, dev, key);

	if (!__atomic_load_n(&v->te, __ATOMIC_ACQUIRE))
		return 0; /* translation off: the unit records nothing */
	if (!b) {
		/* Never forwarded: why the tables block it now, or (present, not flushed) not present. */
		struct ctxv c;
		struct want w;

		vtd_host_read_ctx(v, h->devs[dev].sid, &c);
		vtd_host_want_of(v, &h->devs[dev], &c, key, NULL, &w);
		return w.state == HB_BLOCKED && w.reason ? w.reason : VTD_FR_SM_PE_NOT_PRESENT;
	}
	if (b->state == HB_BLOCKED)
		return b->reason;
	return f->reason ? f->reason : VTD_FR_FS_NOT_PRESENT;
}

/* ---- faults and page requests from the host ---- */

static void page_response(void *opaque, bool has_pasid, uint32_t pasid, uint16_t grpid,
			  unsigned int code)
{
	struct host_dev *d = opaque;
	struct viommu *v = d->v;
	struct vtd_host *h = v->host;
	unsigned int dev = (unsigned int)(d - h->devs);
	struct host_prq found = { 0 };

	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < HOST_MAX_PRQ; i++) {
		struct host_prq *p = &h->prq[i];

		if (p->used && p->dev == dev && p->grpid == grpid && p->pp == has_pasid &&
		    (!has_pasid || p->pasid == pasid)) {
			found = *p;
			p->used = false;
			h->st.page_resps++;
			break;
		}
	}
	pthread_mutex_unlock(&v->lock);
	if (found.used)
		d->hi.ops->page_response(d->hi.be, d->dev, found.cookie,
					 code == DMA_PRG_SUCCESS ? HOST_RESP_SUCCESS : HOST_RESP_INVALID);
}

const struct dma_ats_client vtd_host_client = { .page_response = page_response };

void vtd_host_fault(void *opaque, const struct host_fault *f)
{
	struct host_dev *d = opaque;
	struct viommu *v = d->v;
	struct vtd_host *h = v->host;
	unsigned int acc = 0;
	uint8_t reason;

	if (f->perm & HOST_PERM_READ)
		acc |= DMA_ACC_READ;
	if (f->perm & HOST_PERM_WRITE)
		acc |= DMA_ACC_WRITE;
	if (f->perm & HOST_PERM_EXEC)
		acc |= DMA_ACC_EXEC;
	if (f->perm & HOST_PERM_PRIV)
		acc |= DMA_ACC_PRIV;
	if (f->recoverable) {
		struct dma_page_req pr = { .sid = d->sid, .has_pasid = f->pasid_valid, .pasid = f->pasid,
					   .addr = f->addr & ~4095ULL, .access = acc, .last = f->last,
					   .grpid = (uint16_t)(f->grpid & 0x1ff) };
		int r;
		bool tracked = false;

		pthread_mutex_lock(&v->lock);
		h->st.page_reqs++;
		for (unsigned int i = 0; f->last && i < HOST_MAX_PRQ && !tracked; i++) {
			if (!h->prq[i].used) {
				h->prq[i] = (struct host_prq){ .used = true, .dev = (uint8_t)(d - h->devs),
							       .pp = pr.has_pasid, .pasid = pr.pasid,
							       .grpid = pr.grpid, .cookie = f->cookie };
				tracked = true;
			}
		}
		pthread_mutex_unlock(&v->lock);
		r = vtd_page_request(v, &pr);
		if (r && f->last) {
			/* Not queued: -ENOSPC stands for an immediate Success, anything else Invalid. */
			page_response(d, pr.has_pasid, pr.pasid, pr.grpid,
				      r == -ENOSPC ? DMA_PRG_SUCCESS : DMA_PRG_INVALID);
		}
		return;
	}
	pthread_mutex_lock(&v->lock);
	reason = fault_reason(v, (unsigned int)(d - h->devs), f);
	if (reason) {
		h->st.faults++;
		vtd_fault_record(v, &(struct vtd_fault){
			.reason = reason, .sid = d->sid,
			.pasid_valid = f->pasid_valid, .pasid = f->pasid, .addr = f->addr & ~4095ULL,
			.write = !!(acc & DMA_ACC_WRITE), .exec = !!(acc & DMA_ACC_EXEC),
			.priv = !!(acc & DMA_ACC_PRIV) });
	}
	pthread_mutex_unlock(&v->lock);
	viommu_flush_msis(v);
}
