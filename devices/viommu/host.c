/* SPDX-License-Identifier: MIT */
/*
 * Host forwarding for host-backed devices (nested mode): guest PASID-cache and context-cache
 * invalidations become attach / replace / detach of host stage-1s, guest (PASID-based) IOTLB
 * invalidations are queued per stage-1 and sent as ONE host_iommu invalidate per stage-1 when
 * the batch is flushed (before a wait descriptor and at the end of each queue drain), host
 * faults become fault records, and host page requests go through the guest's page request
 * queue with the guest's page group response sent back to the host.
 *
 * Only the host_iommu interface is used (devices/vfio/host-iommu.h): no iommufd here. The
 * guest's tables are read through gmem, each entry copied once, every walk bounded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "devices/vfio/host-iommu.h"
#include "devices/viommu/shadow.h"
#include "devices/viommu/viommu-internal.h"
#include "devices/viommu/xlate/vtd-tables.h"
#include "vmm/core/gmem.h"

#define HOST_MAX_DEVS 8
#define HOST_MAX_BINDS 64    /* bound (device, PASID) pairs */
#define HOST_MAX_RANGES 256  /* queued ranges per batch; beyond: whole-stage-1 flush */
#define HOST_MAX_PRQ 64      /* host page request groups awaiting the guest's answer */
#define HOST_SCAN_PASIDS 64  /* PASIDs re-read on a DID-wide or global PASID-cache flush */

struct host_dev {
	bool used;
	uint16_t sid;
	struct host_iommu hi;
	uint32_t dev;
	struct host_iommu_caps caps;
	struct viommu *v;
	struct vtd_shadow *shadow; /* shadow mode (host without nesting), else NULL */
};

struct host_bind {
	bool used;
	uint8_t dev;          /* index into devs[] */
	uint32_t gpasid;      /* guest PASID of the entry */
	uint32_t hpasid;      /* HOST_PASID_NONE when gpasid is the context's RID_PASID */
	uint16_t did;
	struct host_s1_config cfg;
	uint32_t s1;
	bool flush_all;       /* batch: the whole stage-1 */
	unsigned int nr_queued;
};

struct host_queued {
	uint8_t bind;
	struct host_inv_range r;
};

struct host_prq {
	bool used;
	uint8_t dev;
	bool pp;
	uint32_t pasid;
	uint16_t grpid;
	uint32_t cookie;
};

struct vtd_host {
	struct host_dev devs[HOST_MAX_DEVS];
	struct host_bind binds[HOST_MAX_BINDS];
	struct host_queued q[HOST_MAX_RANGES];
	unsigned int nr_q;
	unsigned int nr_q_binds; /* stage-1s with something queued */
	struct host_prq prq[HOST_MAX_PRQ];
	struct viommu_host_stats st;
};

/* ---- reading the guest's tables (facts §3, §4) ---- */

static int load(const struct gmem *gm, uint64_t gpa, uint64_t *e, unsigned int n)
{
	uint8_t raw[64];

	if (gmem_read(gm, gpa, raw, 8u * n))
		return -EFAULT;
	for (unsigned int i = 0; i < n; i++)
		e[i] = le64_load(raw + 8 * i);
	return 0;
}

/*
 * Reads the scalable-mode PASID entry of (sid, pasid). Returns 0 with a first-stage config,
 * or -ENOENT when the entry is absent or not a first-stage-only entry we can forward.
 */
static int read_entry(struct viommu *v, uint16_t sid, uint32_t pasid, struct host_s1_config *cfg,
		      uint16_t *did, uint32_t *rid_pasid)
{
	uint64_t rta = vtd_reg_get(v, VTD_RTADDR_REG);
	uint64_t re[2], ce[4], de, pe[VTD_PE_WORDS];
	unsigned int devfn = sid & 0xff;

	if (!v->cfg.scalable || FIELD_GET(VTD_RTADDR_TTM, rta) != 1)
		return -ENOENT;
	if (load(v->gm, (rta & VTD_RTADDR_ADDR) + (sid >> 8) * 16ULL, re, 2))
		return -ENOENT;
	if (devfn < 128 ? !vtd_smroot_lp(re) : !vtd_smroot_up(re))
		return -ENOENT;
	if (load(v->gm, (devfn < 128 ? vtd_smroot_lctp(re) : vtd_smroot_uctp(re)) + (devfn & 0x7f) * 32ULL,
		 ce, 4) || !vtd_smctx_p(ce))
		return -ENOENT;
	*rid_pasid = vtd_smctx_rid_pasid(ce);
	if (pasid != *rid_pasid && !vtd_smctx_paside(ce))
		return -ENOENT;
	if ((pasid >> 6) >= vtd_smctx_dir_entries(ce) ||
	    load(v->gm, vtd_smctx_pasiddirptr(ce) + (pasid >> 6) * 8ULL, &de, 1) || !vtd_pdire_p(de))
		return -ENOENT;
	if (load(v->gm, vtd_pdire_ptp(de) + (pasid & 63) * 64ULL, pe, VTD_PE_WORDS) || !vtd_pe_p(pe))
		return -ENOENT;
	if (vtd_pe_pgtt(pe) != VTD_PE_PGTT_FS || vtd_pe_flpm(pe) > 1)
		return -ENOENT;
	*cfg = (struct host_s1_config){ .pgtbl_gpa = vtd_pe_flptptr(pe),
					.addr_width = vtd_pe_flpm(pe) ? 57 : 48,
					.sre = vtd_pe_sre(pe), .wpe = vtd_pe_wpe(pe),
					.eafe = vtd_pe_eafe(pe) };
	*did = vtd_pe_did(pe);
	return 0;
}

static struct host_bind *find_bind(struct vtd_host *h, unsigned int dev, uint32_t gpasid)
{
	for (unsigned int i = 0; i < HOST_MAX_BINDS; i++)
		if (h->binds[i].used && h->binds[i].dev == dev && h->binds[i].gpasid == gpasid)
			return &h->binds[i];
	return NULL;
}

static void remove_entries(struct vtd_host *h, unsigned int bind)
{
	unsigned int j = 0;

	for (unsigned int i = 0; i < h->nr_q; i++)
		if (h->q[i].bind != bind)
			h->q[j++] = h->q[i];
	h->nr_q = j;
}

/* Forgets what is queued for a stage-1 (it was replaced or detached). */
static void drop_queued(struct vtd_host *h, unsigned int bind)
{
	if (h->binds[bind].nr_queued && h->nr_q_binds)
		h->nr_q_binds--;
	h->binds[bind].nr_queued = 0;
	h->binds[bind].flush_all = false;
	remove_entries(h, bind);
}

/* Makes the host mirror the guest's current PASID entry of (dev, gpasid). Lock held. */
static void sync_entry(struct viommu *v, unsigned int dev, uint32_t gpasid)
{
	struct vtd_host *h = v->host;
	struct host_dev *d = &h->devs[dev];
	struct host_bind *b = find_bind(h, dev, gpasid);
	struct host_s1_config cfg;
	uint32_t rid_pasid = 0, hpasid, s1;
	uint16_t did = 0;
	int r = read_entry(v, d->sid, gpasid, &cfg, &did, &rid_pasid);

	if (r) {
		if (b) {
			/* Entry gone: detach; the batch for it is moot. */
			d->hi.ops->detach(d->hi.be, d->dev, b->hpasid);
			drop_queued(h, (unsigned int)(b - h->binds));
			b->used = false;
			h->st.unbinds++;
			trace(TRACE_HOST, "vtd", "host unbind sid %04x pasid 0x%x", d->sid, gpasid);
		}
		return;
	}
	hpasid = gpasid == rid_pasid ? HOST_PASID_NONE : gpasid;
	if (b && b->hpasid == hpasid && !memcmp(&b->cfg, &cfg, sizeof(cfg))) {
		b->did = did; /* same tables: nothing for the host */
		return;
	}
	if (!b) {
		for (unsigned int i = 0; i < HOST_MAX_BINDS && !b; i++)
			if (!h->binds[i].used)
				b = &h->binds[i];
		if (!b) {
			h->st.errors++;
			return;
		}
		*b = (struct host_bind){ .dev = (uint8_t)dev, .gpasid = gpasid, .hpasid = HOST_PASID_NONE };
	} else if (b->hpasid != hpasid) {
		d->hi.ops->detach(d->hi.be, d->dev, b->hpasid); /* RID_PASID moved */
	}
	r = d->hi.ops->attach_s1(d->hi.be, d->dev, hpasid, &cfg, &s1);
	if (r) {
		/* The host refused: the device stays blocked for this PASID (DMA faults). */
		h->st.errors++;
		if (b->used) {
			drop_queued(h, (unsigned int)(b - h->binds));
			b->used = false;
		}
		log_debug("vtd", "host attach sid %04x pasid 0x%x failed: %d", d->sid, gpasid, r);
		return;
	}
	if (b->used) {
		h->st.replaces++;
		drop_queued(h, (unsigned int)(b - h->binds)); /* a fresh stage-1 has nothing cached */
	} else {
		h->st.binds++;
	}
	*b = (struct host_bind){ .used = true, .dev = (uint8_t)dev, .gpasid = gpasid, .hpasid = hpasid,
				 .did = did, .cfg = cfg, .s1 = s1 };
	trace(TRACE_HOST, "vtd", "host bind sid %04x pasid 0x%x root 0x%llx -> s1 %u", d->sid,
	      gpasid, (unsigned long long)cfg.pgtbl_gpa, s1);
}

/* ---- hooks from qi.c (lock held) ---- */

void vtd_host_pasid_cache(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid)
{
	struct vtd_host *h = v->host;

	if (!h)
		return;
	for (unsigned int d = 0; d < HOST_MAX_DEVS; d++)
		if (h->devs[d].used && h->devs[d].shadow)
			vtd_shadow_queue_all(h->devs[d].shadow);
	for (unsigned int i = 0; i < HOST_MAX_BINDS; i++) {
		struct host_bind *b = &h->binds[i];

		if (b->used && (g == VTD_INV_GLOBAL || b->did == did) &&
		    (g != VTD_INV_PASID || b->gpasid == pasid))
			sync_entry(v, b->dev, b->gpasid);
	}
	/* New entries: the named PASID, or (DID-wide / global) the first PASID table. */
	for (unsigned int d = 0; d < HOST_MAX_DEVS; d++) {
		if (!h->devs[d].used || h->devs[d].shadow)
			continue;
		if (g == VTD_INV_PASID) {
			if (!find_bind(h, d, pasid))
				sync_entry(v, d, pasid);
			continue;
		}
		for (uint32_t p = 0; p < HOST_SCAN_PASIDS; p++)
			if (!find_bind(h, d, p))
				sync_entry(v, d, p);
	}
}

void vtd_host_context(struct viommu *v)
{
	/* A context change may move RID_PASID, turn PASIDs off or drop the device. */
	vtd_host_pasid_cache(v, VTD_INV_GLOBAL, 0, 0);
}

static void queue(struct vtd_host *h, unsigned int bind, uint64_t addr, uint64_t npages, bool leaf)
{
	struct host_bind *b = &h->binds[bind];

	if (!b->nr_queued)
		h->nr_q_binds++;
	if (b->flush_all)
		return;
	if (npages == HOST_INV_ALL_PAGES || h->nr_q == HOST_MAX_RANGES) {
		/* Whole stage-1 (asked for, or the batch is full): one range replaces the rest. */
		remove_entries(h, bind);
		b->flush_all = true;
		b->nr_queued = 1;
		return;
	}
	h->q[h->nr_q++] = (struct host_queued){ .bind = (uint8_t)bind,
						.r = { .addr = addr, .npages = npages, .leaf = leaf } };
	b->nr_queued++;
}

/* PASID-based IOTLB (0x6): g = VTD_INV_PASID (all of PASID) or VTD_INV_PASID_PAGE. */
void vtd_host_piotlb(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid,
		     uint64_t addr, unsigned int am, bool ih)
{
	struct vtd_host *h = v->host;

	if (!h)
		return;
	for (unsigned int i = 0; i < HOST_MAX_BINDS; i++) {
		struct host_bind *b = &h->binds[i];

		if (!b->used || b->did != did || b->gpasid != pasid)
			continue;
		if (g == VTD_INV_PASID_PAGE)
			queue(h, i, addr & ~((4096ULL << am) - 1), 1ULL << am, ih);
		else
			queue(h, i, 0, HOST_INV_ALL_PAGES, false);
	}
}

/* IOTLB (0x2): global, by DID, or page-selective by DID; first-stage entries included. */
void vtd_host_iotlb(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
		    unsigned int am, bool ih)
{
	struct vtd_host *h = v->host;

	if (!h)
		return;
	for (unsigned int d = 0; d < HOST_MAX_DEVS; d++)
		if (h->devs[d].used && h->devs[d].shadow)
			vtd_shadow_iotlb(h->devs[d].shadow, g, did, addr, am);
	for (unsigned int i = 0; i < HOST_MAX_BINDS; i++) {
		struct host_bind *b = &h->binds[i];

		if (!b->used || (g != VTD_INV_GLOBAL && b->did != did))
			continue;
		if (g == VTD_INV_PAGE)
			queue(h, i, addr & ~((4096ULL << am) - 1), 1ULL << am, ih);
		else
			queue(h, i, 0, HOST_INV_ALL_PAGES, false);
	}
}

/*
 * Sends the batch: one invalidate per stage-1 with all its ranges. If the host handles only
 * a prefix, the stage-1 is flushed whole so the guest never sees a stale translation.
 */
void vtd_host_flush(struct viommu *v)
{
	static const struct host_inv_range all = { 0, HOST_INV_ALL_PAGES, false };
	struct vtd_host *h = v->host;
	struct host_inv_range *r;

	for (unsigned int d = 0; h && d < HOST_MAX_DEVS; d++)
		if (h->devs[d].used && h->devs[d].shadow)
			vtd_shadow_flush(h->devs[d].shadow);
	if (!h || !h->nr_q_binds)
		return;
	r = calloc(HOST_MAX_RANGES, sizeof(*r));
	for (unsigned int i = 0; i < HOST_MAX_BINDS; i++) {
		struct host_bind *b = &h->binds[i];
		struct host_dev *d = &h->devs[b->dev];
		const struct host_inv_range *send = &all;
		unsigned int n = 1, done = 0;
		int ret;

		if (!b->used || !b->nr_queued)
			continue;
		if (!b->flush_all && r) {
			n = 0;
			for (unsigned int j = 0; j < h->nr_q; j++)
				if (h->q[j].bind == i)
					r[n++] = h->q[j].r;
			send = r;
		}
		ret = d->hi.ops->invalidate(d->hi.be, b->s1, send, n, &done);
		h->st.inv_batches++;
		h->st.inv_ranges += n;
		if (ret && send != &all) {
			h->st.errors++;
			d->hi.ops->invalidate(d->hi.be, b->s1, &all, 1, &done);
			h->st.inv_batches++;
		} else if (ret) {
			h->st.errors++;
		}
		trace(TRACE_HOST, "vtd", "host invalidate s1 %u: %u ranges (%u done, r=%d)", b->s1, n,
		      done, ret);
		b->nr_queued = 0;
		b->flush_all = false;
	}
	h->nr_q = 0;
	h->nr_q_binds = 0;
	free(r);
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

static const struct dma_ats_client host_client = { .page_response = page_response };

static void host_fault(void *opaque, const struct host_fault *f)
{
	struct host_dev *d = opaque;
	struct viommu *v = d->v;
	struct vtd_host *h = v->host;
	unsigned int acc = 0;

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
	h->st.faults++;
	vtd_fault_record(v, &(struct vtd_fault){
		.reason = f->reason ? f->reason : VTD_FR_FS_NOT_PRESENT, .sid = d->sid,
		.pasid_valid = f->pasid_valid, .pasid = f->pasid, .addr = f->addr & ~4095ULL,
		.write = !!(acc & DMA_ACC_WRITE), .exec = !!(acc & DMA_ACC_EXEC),
		.priv = !!(acc & DMA_ACC_PRIV) });
	pthread_mutex_unlock(&v->lock);
	viommu_flush_msis(v);
}

/* ---- set-up ---- */

int viommu_attach_host_device(struct viommu *v, uint16_t sid, const struct host_iommu *hi,
			      uint32_t dev)
{
	struct host_dev *d = NULL;
	bool mapped = false;
	int r = 0;

	pthread_mutex_lock(&v->lock);
	if (!v->host)
		v->host = calloc(1, sizeof(*v->host));
	if (!v->host) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < HOST_MAX_DEVS; i++) {
		struct host_dev *o = &v->host->devs[i];

		if (o->used && o->sid == sid) {
			r = -EEXIST;
			goto out;
		}
		if (o->used && o->hi.be == hi->be)
			mapped = true;
		if (!o->used && !d)
			d = o;
	}
	if (!d) {
		r = -ENOSPC;
		goto out;
	}
	*d = (struct host_dev){ .sid = sid, .hi = *hi, .dev = dev, .v = v };
	r = hi->ops->get_caps(hi->be, dev, &d->caps);
	if (!r && d->caps.nesting && !v->cfg.scalable)
		r = -EOPNOTSUPP;
	if (!r && !d->caps.nesting) {
		/* Shadow mode: needs caching mode (CM=1 makes the guest flush after maps). */
		if (!v->cfg.cm || !hi->ops->map_iova || !hi->ops->unmap_iova)
			r = -EOPNOTSUPP;
		else if (!(d->shadow = vtd_shadow_create(v, sid, hi)))
			r = -ENOMEM;
		mapped = true;
	}
	d->used = !r;
out:
	pthread_mutex_unlock(&v->lock);
	if (r)
		return r;
	/* The stage-2 parent maps guest RAM once per backend (GPA -> our memory). */
	for (unsigned int i = 0; !mapped && i < v->gm->nr_regions; i++) {
		const struct gmem_region *g = &v->gm->regions[i];

		r = hi->ops->map_ram(hi->be, g->gpa, g->size, g->hva, true);
		if (r && r != -EEXIST)
			return r;
	}
	hi->ops->set_fault_handler(hi->be, host_fault, d);
	return vtd_ats_register(v, sid, &host_client, d);
}

void viommu_get_host_stats(struct viommu *v, struct viommu_host_stats *ret)
{
	pthread_mutex_lock(&v->lock);
	*ret = v->host ? v->host->st : (struct viommu_host_stats){ 0 };
	pthread_mutex_unlock(&v->lock);
}

void vtd_host_te_changed(struct viommu *v)
{
	for (unsigned int d = 0; v->host && d < HOST_MAX_DEVS; d++) {
		if (v->host->devs[d].used && v->host->devs[d].shadow) {
			vtd_shadow_queue_all(v->host->devs[d].shadow);
			vtd_shadow_flush(v->host->devs[d].shadow);
		}
	}
}

void vtd_host_destroy(struct viommu *v)
{
	for (unsigned int d = 0; v->host && d < HOST_MAX_DEVS; d++)
		vtd_shadow_destroy(v->host->devs[d].shadow);
	free(v->host);
	v->host = NULL;
}

int viommu_host_mode(const struct viommu_config *cfg, const struct host_iommu_caps *hc,
		     struct viommu_config *ret, char *msg, size_t len)
{
	struct viommu_config c = *cfg;

	if (!hc->nesting) {
		/*
		 * Shadow: caching mode makes the guest flush after every map; its second-stage (or
		 * legacy) tables are re-walked and mirrored into the host address space. No first
		 * stage, nesting or page requests are advertised: the host could not back them.
		 */
		c.cm = true;
		c.flts = false;
		c.nest = false;
		c.prs = false;
		c.slts = c.scalable;
		*ret = c;
		snprintf(msg, len, "shadow (host has no nesting): caching mode, guest %s tables "
			 "mirrored into the host I/O address space (aw %u)",
			 c.scalable ? "second-stage" : "legacy", c.aw);
		return 0;
	}
	/* Never advertise what the host cannot back (facts §4: SRS, FS5LP, PASID width). */
	if (c.aw == 57 && !(hc->vtd_cap & VTD_CAP_FS5LP))
		c.aw = 48;
	if (c.pasid_bits > hc->max_pasid_log2)
		c.pasid_bits = hc->max_pasid_log2 ? hc->max_pasid_log2 : 1;
	if (!hc->fault_queue)
		c.prs = false;
	c.scalable = true;
	c.flts = true;
	*ret = c;
	snprintf(msg, len, "nested: guest first stage over host stage 2 (aw %u, %u PASID bits%s%s)",
		 c.aw, c.pasid_bits, c.prs ? ", page requests" : "",
		 hc->pasid_attach ? "" : ", RID only");
	return 0;
}
