/* SPDX-License-Identifier: MIT */
/*
 * The bind table of host forwarding (one record per host-backed (device, PASID), hash-indexed)
 * and the batch of guest IOTLB invalidations sent to the host per stage-1.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "devices/viommu/host-internal.h"
#include "devices/viommu/shadow.h"
#include "devices/viommu/xlate/vtd-tables.h"

/* ---- the bind index ---- */

static uint32_t hash_key(unsigned int dev, uint32_t key)
{
	uint64_t k = ((uint64_t)dev << 21 | key) * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)(k >> 32);
}

struct host_bind *vtd_host_find_bind(struct vtd_host *h, unsigned int dev, uint32_t key)
{
	if (!h->index)
		return NULL;
	for (uint32_t i = hash_key(dev, key) & h->index_mask;; i = (i + 1) & h->index_mask) {
		uint32_t s = h->index[i];

		if (!s)
			return NULL;
		if (h->binds[s - 1].key == key && h->binds[s - 1].dev == dev)
			return &h->binds[s - 1];
	}
}

static void index_put(uint32_t *index, uint32_t mask, const struct host_bind *b, uint32_t slot)
{
	uint32_t i = hash_key(b->dev, b->key) & mask;

	while (index[i])
		i = (i + 1) & mask;
	index[i] = slot + 1;
}

/* Room for one more live bind (slot arrays and index grow by doubling). 0 or -ENOMEM. */
static int reserve(struct vtd_host *h)
{
	if (!h->nr_free && h->nr_binds == h->cap_binds) {
		uint32_t cap = h->cap_binds ? 2 * h->cap_binds : 64;
		struct host_bind *nb = realloc(h->binds, cap * sizeof(*nb));
		uint32_t *nf, *np;

		if (!nb)
			return -ENOMEM;
		h->binds = nb;
		nf = realloc(h->free, cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		h->free = nf;
		np = realloc(h->pending, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		h->pending = np;
		h->cap_binds = cap;
	}
	if (2 * (h->live + 1) > h->index_mask + 1 || !h->index) {
		uint32_t size = h->index ? 2 * (h->index_mask + 1) : 128;
		uint32_t *ni = calloc(size, sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		for (uint32_t i = 0; h->index && i <= h->index_mask; i++)
			if (h->index[i])
				index_put(ni, size - 1, &h->binds[h->index[i] - 1], h->index[i] - 1);
		free(h->index);
		h->index = ni;
		h->index_mask = size - 1;
	}
	return 0;
}

struct host_bind *vtd_host_new_bind(struct vtd_host *h, unsigned int dev, uint32_t key)
{
	uint32_t slot;

	if (reserve(h))
		return NULL;
	slot = h->nr_free ? h->free[--h->nr_free] : h->nr_binds++;
	h->binds[slot] = (struct host_bind){ .key = key, .dev = (uint8_t)dev, .live = true,
					     .state = HB_BLOCKED };
	index_put(h->index, h->index_mask, &h->binds[slot], slot);
	h->live++;
	if (key != HOST_RID_KEY)
		h->devs[dev].nr_keys++;
	vtd_host_snap_drop(h, dev, key);
	return &h->binds[slot];
}

/* Removes b from the index (backward-shift deletion keeps probe chains intact). */
void vtd_host_delete_bind(struct vtd_host *h, struct host_bind *b)
{
	uint32_t slot = (uint32_t)(b - h->binds), i, j;

	for (i = hash_key(b->dev, b->key) & h->index_mask; h->index[i] != slot + 1;
	     i = (i + 1) & h->index_mask)
		;
	for (j = (i + 1) & h->index_mask; h->index[j]; j = (j + 1) & h->index_mask) {
		const struct host_bind *o = &h->binds[h->index[j] - 1];
		uint32_t home = hash_key(o->dev, o->key) & h->index_mask;

		/* Move o back into the hole at i unless its home lies cyclically in (i, j]. */
		if (((j - home) & h->index_mask) >= ((j - i) & h->index_mask)) {
			h->index[i] = h->index[j];
			i = j;
		}
	}
	h->index[i] = 0;
	b->live = false;
	h->free[h->nr_free++] = slot;
	h->live--;
	if (b->key != HOST_RID_KEY)
		h->devs[b->dev].nr_keys--;
	vtd_host_snap_drop(h, b->dev, b->key);
}

/* ---- the invalidation batch ---- */

static void remove_entries(struct vtd_host *h, uint32_t bind)
{
	unsigned int j = 0;

	for (unsigned int i = 0; i < h->nr_q; i++)
		if (h->q[i].bind != bind)
			h->q[j++] = h->q[i];
	h->nr_q = j;
}

/* Forgets what is queued for a stage-1 (it was replaced or detached). */
void vtd_host_drop_queued(struct vtd_host *h, struct host_bind *b)
{
	uint32_t bind = (uint32_t)(b - h->binds);

	if (!b->nr_queued)
		return;
	for (uint32_t i = 0; i < h->nr_pending; i++) {
		if (h->pending[i] == bind) {
			h->pending[i] = h->pending[--h->nr_pending];
			break;
		}
	}
	b->nr_queued = 0;
	b->flush_all = false;
	remove_entries(h, bind);
}

static void queue(struct vtd_host *h, struct host_bind *b, uint64_t addr, uint64_t npages, bool leaf)
{
	uint32_t bind = (uint32_t)(b - h->binds);

	if (b->state != HB_S1)
		return; /* blocked or identity: no host stage-1 caches anything */
	if (!b->nr_queued)
		h->pending[h->nr_pending++] = bind;
	if (b->flush_all) {
		b->nr_queued = 1;
		return;
	}
	if (npages == HOST_INV_ALL_PAGES || h->nr_q == HOST_MAX_RANGES) {
		/* Whole stage-1 (asked for, or the batch is full): one range replaces the rest. */
		remove_entries(h, bind);
		b->flush_all = true;
		b->nr_queued = 1;
		return;
	}
	h->q[h->nr_q++] = (struct host_queued){ .bind = bind,
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
	for (unsigned int d = 0; d < HOST_MAX_DEVS; d++) {
		struct host_bind *b;

		if (!h->devs[d].used || h->devs[d].shadow)
			continue;
		b = vtd_host_find_bind(h, d, pasid == h->devs[d].rid_pasid ? HOST_RID_KEY : pasid);
		if (!b || b->did != did)
			continue;
		/* A mask of 52 or more spans the whole address space: all pages of the stage-1. */
		if (g == VTD_INV_PASID_PAGE && am < 52)
			queue(h, b, addr & ~((4096ULL << am) - 1), 1ULL << am, ih);
		else
			queue(h, b, 0, HOST_INV_ALL_PAGES, false);
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
	for (uint32_t i = 0; i < h->nr_binds; i++) {
		struct host_bind *b = &h->binds[i];

		if (!b->live || b->state != HB_S1 || (g != VTD_INV_GLOBAL && b->did != did))
			continue;
		if (g == VTD_INV_PAGE)
			queue(h, b, addr & ~((4096ULL << am) - 1), 1ULL << am, ih);
		else
			queue(h, b, 0, HOST_INV_ALL_PAGES, false);
	}
}

/*
 * Sends the batch: one invalidate per stage-1 with all its ranges. If the host refuses, the
 * stage-1 is flushed whole; if that is refused too, the (device, PASID) is blocked, so the
 * device never uses a translation the guest removed.
 */
void vtd_host_flush(struct viommu *v)
{
	static const struct host_inv_range all = { 0, HOST_INV_ALL_PAGES, false };
	struct vtd_host *h = v->host;
	struct host_inv_range *r;

	for (unsigned int d = 0; h && d < HOST_MAX_DEVS; d++)
		if (h->devs[d].used && h->devs[d].shadow)
			vtd_shadow_flush(h->devs[d].shadow);
	if (!h || !h->nr_pending)
		return;
	r = h->nr_q ? h->send : NULL;
	while (h->nr_pending) {
		uint32_t i = h->pending[--h->nr_pending];
		struct host_bind *b = &h->binds[i];
		struct host_dev *d = &h->devs[b->dev];
		const struct host_inv_range *send = &all;
		unsigned int n = 1, done = 0;
		int ret;

		if (!b->flush_all && r) {
			n = 0;
			for (unsigned int j = 0; j < h->nr_q; j++)
				if (h->q[j].bind == i)
					r[n++] = h->q[j].r;
			send = r;
		}
		b->nr_queued = 0;
		b->flush_all = false;
		if (!b->live || b->state != HB_S1 || !n)
			continue;
		ret = d->hi.ops->invalidate(d->hi.be, b->s1, send, n, &done);
		h->st.inv_batches++;
		h->st.inv_ranges += n;
		if (ret && send != &all) {
			vtd_host_failed(h, d, OP_INVALIDATE, b->key, ret);
			ret = d->hi.ops->invalidate(d->hi.be, b->s1, &all, 1, &done);
			h->st.inv_batches++;
		}
		if (ret) {
			vtd_host_failed(h, d, OP_INVALIDATE, b->key, ret);
			vtd_host_apply(v, b->dev, b->key, b,
			      &(struct want){ .state = HB_BLOCKED, .reason = VTD_FR_SM_PE_INVALID,
					      .did = b->did });
		}
		trace(TRACE_HOST, "vtd", "host invalidate s1 %u: %u ranges (%u done, r=%d)", b->s1, n,
		      done, ret);
	}
	h->nr_q = 0;
}
