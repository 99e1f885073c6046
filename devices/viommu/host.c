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
 *
 * Split by job: host.c (this file: set-up, stats, destroy, hooks that re-read the guest's
 * tables), host-binds.c (the bind table and the invalidation batch), host-sync.c (guest
 * context / PASID entries to host state), host-faults.c (host faults and page requests),
 * host-mode.c (the vIOMMU configuration a host-backed device gets).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "devices/viommu/host-internal.h"
#include "devices/viommu/shadow.h"
#include "vmm/core/gmem.h"

static const char *const op_names[] = {
	"stage-1 attach", "stage-2 parent attach", "detach", "invalidation", "bookkeeping",
};

/*
 * A failed host call: counted, and a warning on stderr the first time for each (operation,
 * error) pair, so a guest cannot flood the log. The guest sees faults (the device is blocked).
 */
void vtd_host_failed(struct vtd_host *h, const struct host_dev *d, unsigned int op,
		     uint32_t key, int err)
{
	h->st.errors++;
	for (unsigned int i = 0; i < h->nr_warned; i++)
		if (h->warned[i].op == op && h->warned[i].err == err)
			return;
	if (h->nr_warned < HOST_MAX_WARN)
		h->warned[h->nr_warned++] = (typeof(h->warned[0])){ op, err };
	log_warn("vtd", "host IOMMU %s: %s for %02x:%02x.%u %s 0x%x failed: %s; %s (further "
		 "failures of this kind are only counted)",
		 d->hi.name ? d->hi.name : "?", op_names[op], d->sid >> 8, (d->sid >> 3) & 31,
		 d->sid & 7, key == HOST_RID_KEY ? "RID" : "PASID", key == HOST_RID_KEY ? 0 : key,
		 strerror(-err), op == OP_DETACH ? "retried at the guest's next flush"
						 : "blocked: its DMA faults in the guest");
}

/* ---- the feature's hooks (feature.c calls them for regs.c and qi.c; lock held) ---- */

void vtd_host_pasid_cache(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid)
{
	struct vtd_host *h = v->host;

	if (!h)
		return;
	if (g != VTD_INV_PASID) {
		/* Domain-selective is done as global: re-reading more than asked is always allowed. */
		vtd_host_sweep_all(v);
		return;
	}
	for (unsigned int d = 0; d < HOST_MAX_DEVS; d++) {
		struct ctxv c;

		if (!h->devs[d].used)
			continue;
		if (h->devs[d].shadow) {
			vtd_shadow_queue_all(h->devs[d].shadow);
			continue;
		}
		vtd_host_read_ctx(v, h->devs[d].sid, &c);
		if (c.rid_pasid != h->devs[d].rid_pasid && !c.reason) {
			vtd_host_sweep_dev(v, d); /* RID_PASID moved: the RID's entry changed underneath */
			continue;
		}
		h->gen++;
		vtd_host_sync_key(v, d, &c, pasid == c.rid_pasid && !c.reason ? HOST_RID_KEY : pasid, NULL);
	}
}

void vtd_host_context(struct viommu *v)
{
	/* A context change may move RID_PASID, turn PASIDs off or drop the device. */
	if (v->host)
		vtd_host_sweep_all(v);
}

void vtd_host_root_changed(struct viommu *v)
{
	/* SRTP: a new root table; what the host has must follow it (or be blocked). */
	if (v->host)
		vtd_host_sweep_all(v);
}

/* ---- set-up ---- */

static void host_destroy(struct viommu *v);

static const struct vtd_feature host_feature = {
	.name = "host forwarding",
	.root_changed = vtd_host_root_changed,
	.te_changed = vtd_host_te_changed,
	.context = vtd_host_context,
	.pasid_cache = vtd_host_pasid_cache,
	.iotlb = vtd_host_iotlb,
	.piotlb = vtd_host_piotlb,
	.sync = vtd_host_flush,
	.destroy = host_destroy,
};

int viommu_attach_host_device(struct viommu *v, uint16_t sid, const struct host_iommu *hi,
			      uint32_t dev)
{
	struct host_dev *d = NULL;
	bool mapped = false;
	int r = 0;

	pthread_mutex_lock(&v->lock);
	if (!v->host) {
		/* The first host-backed device: from now on the unit's events reach host.c. */
		v->host = calloc(1, sizeof(*v->host));
		if (!v->host) {
			r = -ENOMEM;
			goto out;
		}
		r = vtd_feature_add(v, &host_feature);
		if (r) {
			free(v->host);
			v->host = NULL;
			goto out;
		}
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
	if (!r && d->caps.nesting && !v->cfg.cm)
		r = -EOPNOTSUPP; /* without caching mode, binds could go unseen (facts §13) */
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
	hi->ops->set_fault_handler(hi->be, vtd_host_fault, d);
	r = vtd_ats_register(v, sid, &vtd_host_client, d);
	if (!r && !d->shadow) {
		/* The RID starts on the stage-2 parent; from now on it follows the guest (fail closed). */
		unsigned int idx = (unsigned int)(d - v->host->devs);
		struct host_bind *b;

		pthread_mutex_lock(&v->lock);
		b = vtd_host_new_bind(v->host, idx, HOST_RID_KEY);
		if (b) {
			b->state = HB_UNKNOWN;
			vtd_host_sweep_dev(v, idx);
		} else {
			r = -ENOMEM;
		}
		pthread_mutex_unlock(&v->lock);
	}
	return r;
}

void viommu_get_host_stats(struct viommu *v, struct viommu_host_stats *ret)
{
	pthread_mutex_lock(&v->lock);
	*ret = v->host ? v->host->st : (struct viommu_host_stats){ 0 };
	pthread_mutex_unlock(&v->lock);
}

/* GCMD.TE changed: shadow devices re-walk; every nested (device, PASID) is re-evaluated. */
void vtd_host_te_changed(struct viommu *v)
{
	for (unsigned int d = 0; v->host && d < HOST_MAX_DEVS; d++) {
		if (!v->host->devs[d].used)
			continue;
		if (v->host->devs[d].shadow) {
			vtd_shadow_queue_all(v->host->devs[d].shadow);
			vtd_shadow_flush(v->host->devs[d].shadow);
		} else {
			vtd_host_sweep_dev(v, d);
		}
	}
}

static void host_destroy(struct viommu *v)
{
	if (!v->host)
		return;
	for (unsigned int d = 0; d < HOST_MAX_DEVS; d++) {
		vtd_shadow_destroy(v->host->devs[d].shadow);
		vtd_host_snap_free(&v->host->devs[d]);
	}
	free(v->host->binds);
	free(v->host->free);
	free(v->host->pending);
	free(v->host->index);
	free(v->host);
	v->host = NULL;
}
