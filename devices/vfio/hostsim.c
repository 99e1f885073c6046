/* SPDX-License-Identifier: MIT */
/*
 * hostsim: a host IOMMU simulator behind the host_iommu interface. It knows only what was
 * forwarded to it: DMA of its devices walks the bound guest first-stage tables through its own
 * stage-2 map (the guest RAM it was given) and fills its own IOTLB, which only forwarded
 * invalidations drop. A missing, late or too-narrow forward therefore shows up as a stale or
 * faulting DMA, exactly as on a nested host IOMMU. This file is what the interface forwards;
 * the DMA walk itself is hostsim-dma.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "common/log.h"
#include "devices/vfio/hostsim-internal.h"
#include "devices/vfio/vfio.h"
#include "vmm/core/gmem.h"

static const struct host_iommu_caps default_caps = {
	.vtd = true,
	/* CAP: SAGAW 4-level, MGAW 48, FS1GP, FS5LP; ECAP: QI, DT, PT, NEST, PRS, SRS, PASID, SMTS, FLTS */
	.vtd_cap = (2ULL << 8) | (47ULL << 16) | BIT_ULL(56) | BIT_ULL(60),
	.vtd_ecap = BIT_ULL(1) | BIT_ULL(2) | BIT_ULL(6) | BIT_ULL(26) | BIT_ULL(29) | BIT_ULL(31) |
		    (19ULL << 35) | BIT_ULL(40) | BIT_ULL(43) | BIT_ULL(46) | BIT_ULL(47),
	.nesting = true,
	.fault_queue = true,
	.pasid_attach = true,
	.max_pasid_log2 = 20,
};

/* ---- stage 2 ---- */

bool hs_s2_allows(const struct hostsim *hs, uint64_t gpa, uint64_t len, bool write)
{
	for (unsigned int i = 0; i < HS_MAX_S2; i++) {
		const struct hs_s2 *r = &hs->s2[i];

		if (r->len && gpa >= r->gpa && len <= r->len && gpa - r->gpa <= r->len - len)
			return !write || r->writable;
	}
	return false;
}

static int hs_map_ram(void *be, uint64_t gpa, uint64_t len, void *hva, bool writable)
{
	struct hostsim *hs = be;
	int r = -ENOSPC;

	if (!len || gpa + len < gpa || (gpa | len) & 4095)
		return -EINVAL;
	pthread_mutex_lock(&hs->lock);
	hs->st.map_ram++;
	if (!writable && hs->caps.ro_parent_refused) {
		r = -EINVAL;
		goto out;
	}
	for (unsigned int i = 0; i < HS_MAX_S2; i++) {
		const struct hs_s2 *o = &hs->s2[i];

		if (o->len && gpa < o->gpa + o->len && o->gpa < gpa + len) {
			r = -EEXIST;
			goto out;
		}
	}
	for (unsigned int i = 0; i < HS_MAX_S2; i++) {
		if (!hs->s2[i].len) {
			hs->s2[i] = (struct hs_s2){ .gpa = gpa, .len = len, .writable = writable };
			r = 0;
			break;
		}
	}
out:
	pthread_mutex_unlock(&hs->lock);
	return r;
}

static int hs_unmap_ram(void *be, uint64_t gpa, uint64_t len)
{
	struct hostsim *hs = be;
	int r = -ENOENT;

	pthread_mutex_lock(&hs->lock);
	hs->st.unmap_ram++;
	for (unsigned int i = 0; i < HS_MAX_S2; i++) {
		if (hs->s2[i].len && hs->s2[i].gpa == gpa && hs->s2[i].len == len) {
			hs->s2[i].len = 0;
			/* A stage-2 unmap flushes the whole IOTLB (the kernel does that for the parent). */
			memset(hs->tlb, 0, sizeof(hs->tlb));
			r = 0;
		}
	}
	pthread_mutex_unlock(&hs->lock);
	return r;
}

/* ---- stage 1 binding ---- */

static struct hs_dev *get_dev(struct hostsim *hs, uint32_t dev)
{
	return dev < HS_MAX_DEVS && hs->devs[dev].used ? &hs->devs[dev] : NULL;
}

/* Index of pasid in d->binds, or of where it would go (*found false). */
static unsigned int bind_pos(const struct hs_dev *d, uint32_t pasid, bool *found)
{
	unsigned int lo = 0, hi = d->nr_binds;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (d->binds[mid].pasid < pasid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < d->nr_binds && d->binds[lo].pasid == pasid;
	return lo;
}

struct hs_bind *hs_find_bind(struct hs_dev *d, uint32_t pasid)
{
	bool found;
	unsigned int i = bind_pos(d, pasid, &found);

	return found ? &d->binds[i] : NULL;
}

/* The entry for pasid, inserted (blocked -> attached) if missing; NULL without memory. */
static struct hs_bind *add_bind(struct hs_dev *d, uint32_t pasid)
{
	bool found;
	unsigned int i = bind_pos(d, pasid, &found);

	if (found)
		return &d->binds[i];
	if (d->nr_binds == d->cap_binds) {
		unsigned int cap = d->cap_binds ? 2 * d->cap_binds : 8;
		struct hs_bind *n = realloc(d->binds, cap * sizeof(*n));

		if (!n)
			return NULL;
		d->binds = n;
		d->cap_binds = cap;
	}
	memmove(&d->binds[i + 1], &d->binds[i], (d->nr_binds - i) * sizeof(*d->binds));
	d->nr_binds++;
	d->binds[i] = (struct hs_bind){ .pasid = pasid, .s1 = 0 };
	return &d->binds[i];
}

static void remove_bind(struct hs_dev *d, struct hs_bind *b)
{
	unsigned int i = (unsigned int)(b - d->binds);

	memmove(&d->binds[i], &d->binds[i + 1], (d->nr_binds - i - 1) * sizeof(*d->binds));
	d->nr_binds--;
}

static bool s1_valid(const struct hostsim *hs, uint32_t s1)
{
	return s1 && s1 <= hs->nr_s1 && hs->s1[s1 - 1].used;
}

/* A free stage-1 handle (the table grows as needed); 0 without memory. */
static uint32_t new_s1(struct hostsim *hs)
{
	for (unsigned int n = 0; n < hs->nr_s1; n++) {
		unsigned int i = (hs->s1_hint + n) % hs->nr_s1;

		if (!hs->s1[i].used) {
			hs->s1_hint = i + 1;
			return i + 1;
		}
	}
	{
		unsigned int cap = hs->nr_s1 ? 2 * hs->nr_s1 : 16;
		struct hs_s1 *t = realloc(hs->s1, cap * sizeof(*t));

		if (!t)
			return 0;
		memset(&t[hs->nr_s1], 0, (cap - hs->nr_s1) * sizeof(*t));
		hs->s1 = t;
		hs->s1_hint = hs->nr_s1 + 1;
		hs->nr_s1 = cap;
		return hs->s1_hint;
	}
}

static void drop_s1(struct hostsim *hs, uint32_t s1)
{
	if (!s1_valid(hs, s1))
		return;
	hs->s1[s1 - 1].used = false;
	for (unsigned int i = 0; i < HS_IOTLB; i++)
		if (hs->tlb[i].s1 == s1)
			hs->tlb[i].valid = false;
}

/* hostsim_fail(): consumes one injected failure of op. Lock held. */
static int injected(struct hostsim *hs, unsigned int op)
{
	if (!(hs->fail_mask & op) || !hs->fail_count)
		return 0;
	if (!--hs->fail_count)
		hs->fail_mask = 0;
	return hs->fail_err;
}

static int check_cfg(const struct hostsim *hs, const struct host_s1_config *c)
{
	if (c->pgtbl_gpa & 4095)
		return -EINVAL;
	if (c->addr_width != 48 && (c->addr_width != 57 || !(hs->caps.vtd_cap & BIT_ULL(60))))
		return -EINVAL;
	/* As Linux's intel-iommu refuses a nested stage-1 at attach: SRE without ECAP.SRS, EAFE
	 * without ECAP.EAFS (bit 34). WPE alone is accepted there, so it is here. */
	if ((c->sre && !(hs->caps.vtd_ecap & BIT_ULL(31))) ||
	    (c->eafe && !(hs->caps.vtd_ecap & BIT_ULL(34))))
		return -EINVAL;
	return 0;
}

static int pasid_ok(const struct hostsim *hs, uint32_t pasid)
{
	if (pasid != HOST_PASID_NONE && (!hs->caps.pasid_attach || pasid >> hs->caps.max_pasid_log2))
		return -EOPNOTSUPP;
	return 0;
}

static int hs_attach_s1(void *be, uint32_t dev, uint32_t pasid, const struct host_s1_config *cfg,
			uint32_t *ret_s1)
{
	struct hostsim *hs = be;
	struct hs_dev *d;
	struct hs_bind *b;
	uint32_t s1 = 0, old;
	int r;

	pthread_mutex_lock(&hs->lock);
	d = get_dev(hs, dev);
	r = !d ? -ENOENT : !hs->caps.nesting ? -EOPNOTSUPP : check_cfg(hs, cfg);
	if (!r)
		r = pasid_ok(hs, pasid);
	if (!r)
		r = injected(hs, HOSTSIM_OP_ATTACH_S1);
	if (r)
		goto out; /* refused: the current attachment stays, as the kernel's does */
	s1 = new_s1(hs);
	b = s1 ? hs_find_bind(d, pasid) : NULL;
	old = b ? b->s1 : 0;
	if (s1 && !b)
		b = add_bind(d, pasid);
	if (!s1 || !b) {
		r = -ENOMEM;
		goto out;
	}
	hs->s1[s1 - 1] = (struct hs_s1){ .used = true, .cfg = *cfg };
	if (old) {
		hs->st.replace++;
		drop_s1(hs, old);
	} else {
		hs->st.attach++;
	}
	b->s1 = s1;
	*ret_s1 = s1;
	trace(TRACE_HOST, "hostsim", "attach dev %u pasid 0x%x -> s1 %u root 0x%llx", dev, pasid,
	      s1, (unsigned long long)cfg->pgtbl_gpa);
out:
	pthread_mutex_unlock(&hs->lock);
	return r;
}

static int hs_attach_parent(void *be, uint32_t dev, uint32_t pasid)
{
	struct hostsim *hs = be;
	struct hs_dev *d;
	struct hs_bind *b = NULL;
	int r;

	pthread_mutex_lock(&hs->lock);
	d = get_dev(hs, dev);
	r = !d ? -ENOENT : pasid_ok(hs, pasid);
	if (!r)
		r = injected(hs, HOSTSIM_OP_PARENT);
	if (!r && !(b = add_bind(d, pasid)))
		r = -ENOMEM;
	if (!r) {
		hs->st.parent++;
		drop_s1(hs, b->s1);
		b->s1 = 0;
		trace(TRACE_HOST, "hostsim", "dev %u pasid 0x%x -> stage-2 parent", dev, pasid);
	}
	pthread_mutex_unlock(&hs->lock);
	return r;
}

static int hs_detach(void *be, uint32_t dev, uint32_t pasid)
{
	struct hostsim *hs = be;
	struct hs_dev *d;
	struct hs_bind *b;
	int r = -ENOENT;

	pthread_mutex_lock(&hs->lock);
	d = get_dev(hs, dev);
	b = d ? hs_find_bind(d, pasid) : NULL;
	if (b)
		r = injected(hs, HOSTSIM_OP_DETACH);
	if (b && !r) {
		hs->st.detach++;
		drop_s1(hs, b->s1);
		remove_bind(d, b);
	}
	pthread_mutex_unlock(&hs->lock);
	return r;
}

static int hs_invalidate(void *be, uint32_t s1, const struct host_inv_range *rg, unsigned int n,
			 unsigned int *ret_done)
{
	struct hostsim *hs = be;
	unsigned int done = 0;
	int r = 0;

	pthread_mutex_lock(&hs->lock);
	hs->st.inv_calls++;
	if (!s1_valid(hs, s1)) {
		r = -ENOENT;
		goto out;
	}
	r = injected(hs, HOSTSIM_OP_INVALIDATE);
	if (r)
		goto out;
	for (; done < n; done++) {
		const struct host_inv_range *x = &rg[done];
		bool all = x->npages == HOST_INV_ALL_PAGES;
		/*
		 * Like the kernel (intel nested cache invalidation): any page count, the range
		 * saturating at the top of the address space; U64_MAX pages only from address 0.
		 */
		bool wide = all || x->npages >= (1ULL << 52) ||
			    x->addr + (x->npages << 12) - 1 < x->addr;
		uint64_t end = wide ? UINT64_MAX : x->addr + (x->npages << 12) - 1;

		if ((x->addr & 4095) || (all && x->addr) || (!all && !x->npages)) {
			r = -EINVAL;
			break;
		}
		hs->st.inv_ranges++;
		for (unsigned int i = 0; i < HS_IOTLB; i++) {
			struct hs_tlb *t = &hs->tlb[i];

			if (t->valid && t->s1 == s1 && t->iova <= end && x->addr <= t->iova + t->size - 1)
				t->valid = false;
		}
	}
out:
	*ret_done = done;
	trace(TRACE_HOST, "hostsim", "invalidate s1 %u: %u of %u ranges, r=%d", s1, done, n, r);
	pthread_mutex_unlock(&hs->lock);
	return r;
}

static void hs_set_fault_handler(void *be, host_fault_fn fn, void *opaque)
{
	struct hostsim *hs = be;

	pthread_mutex_lock(&hs->lock);
	hs->fault_fn = fn;
	hs->fault_opaque = opaque;
	pthread_mutex_unlock(&hs->lock);
}

/* Faults are delivered synchronously from the DMA path: nothing is ever pending. */
static int hs_process_faults(void *be)
{
	return 0;
}

static int hs_page_response(void *be, uint32_t dev, uint32_t cookie, int code)
{
	struct hostsim *hs = be;
	int r = -EINVAL;

	pthread_mutex_lock(&hs->lock);
	if (code == HOST_RESP_SUCCESS || code == HOST_RESP_INVALID) {
		for (unsigned int i = 0; i < HS_MAX_PENDING; i++) {
			if (cookie && hs->pending[i] == cookie) {
				hs->pending[i] = 0;
				hs->st.page_resps++;
				r = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&hs->lock);
	return r;
}

static int hs_get_caps(void *be, uint32_t dev, struct host_iommu_caps *ret)
{
	struct hostsim *hs = be;

	pthread_mutex_lock(&hs->lock);
	hs->st.get_caps++;
	*ret = hs->caps;
	pthread_mutex_unlock(&hs->lock);
	return 0;
}

static const struct host_iommu_ops hostsim_ops = {
	.get_caps = hs_get_caps,
	.map_ram = hs_map_ram,
	.unmap_ram = hs_unmap_ram,
	.attach_s1 = hs_attach_s1,
	.detach = hs_detach,
	.attach_parent = hs_attach_parent,
	.invalidate = hs_invalidate,
	.set_fault_handler = hs_set_fault_handler,
	.process_faults = hs_process_faults,
	.page_response = hs_page_response,
};

/* ---- life cycle ---- */

struct hostsim *hostsim_create(const struct gmem *gm, const struct host_iommu_caps *caps)
{
	struct hostsim *hs;

	if (!gm)
		return NULL;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return NULL;
	hs->gm = gm;
	hs->caps = caps ? *caps : default_caps;
	pthread_mutex_init(&hs->lock, NULL);
	return hs;
}

void hostsim_destroy(struct hostsim *hs)
{
	if (!hs)
		return;
	for (unsigned int i = 0; i < HS_MAX_DEVS; i++)
		free(hs->devs[i].binds);
	free(hs->s1);
	pthread_mutex_destroy(&hs->lock);
	free(hs);
}

void hostsim_iommu(struct hostsim *hs, struct host_iommu *ret)
{
	*ret = (struct host_iommu){ .ops = &hostsim_ops, .be = hs, .name = "hostsim" };
}

int hostsim_add_device(struct hostsim *hs, bool pri, uint32_t *ret_dev)
{
	int r = -ENOSPC;

	pthread_mutex_lock(&hs->lock);
	for (uint32_t i = 0; i < HS_MAX_DEVS; i++) {
		if (!hs->devs[i].used) {
			/* As a VFIO device bound to iommufd: its RID starts on the stage-2 parent. */
			hs->devs[i] = (struct hs_dev){ .hs = hs, .used = true, .pri = pri, .id = i };
			if (!add_bind(&hs->devs[i], HOST_PASID_NONE)) {
				hs->devs[i].used = false;
				r = -ENOMEM;
				break;
			}
			*ret_dev = i;
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&hs->lock);
	return r;
}

int hostsim_dma_as(struct hostsim *hs, uint32_t dev, struct dma_as *ret)
{
	struct hs_dev *d = get_dev(hs, dev);

	if (!d)
		return -ENOENT;
	*ret = (struct dma_as){ .gmem = hs->gm, .ops = &hs_dma_ops, .iommu = d };
	return 0;
}

void hostsim_get_stats(struct hostsim *hs, struct hostsim_stats *ret)
{
	pthread_mutex_lock(&hs->lock);
	*ret = hs->st;
	pthread_mutex_unlock(&hs->lock);
}

unsigned int hostsim_iotlb_entries(struct hostsim *hs)
{
	unsigned int n = 0;

	pthread_mutex_lock(&hs->lock);
	for (unsigned int i = 0; i < HS_IOTLB; i++)
		n += hs->tlb[i].valid;
	pthread_mutex_unlock(&hs->lock);
	return n;
}

void hostsim_fail(struct hostsim *hs, unsigned int op_mask, int err, unsigned int count)
{
	pthread_mutex_lock(&hs->lock);
	hs->fail_mask = count ? op_mask : 0;
	hs->fail_err = err;
	hs->fail_count = count;
	pthread_mutex_unlock(&hs->lock);
}

int hostsim_attachment(struct hostsim *hs, uint32_t dev, uint32_t pasid)
{
	struct hs_dev *d;
	struct hs_bind *b;
	int r = 0;

	pthread_mutex_lock(&hs->lock);
	d = get_dev(hs, dev);
	b = d ? hs_find_bind(d, pasid) : NULL;
	if (b)
		r = b->s1 ? 2 : 1;
	pthread_mutex_unlock(&hs->lock);
	return r;
}

int hostsim_format_summary(struct hostsim *hs, char *buf, size_t len)
{
	struct hostsim_stats st;

	hostsim_get_stats(hs, &st);
	return snprintf(buf, len,
			"host forwards: %llu binds (%llu replaced, %llu detached), %llu invalidation "
			"batches (%llu ranges), %llu faults, %llu page requests (%llu answered)",
			(unsigned long long)st.attach, (unsigned long long)st.replace,
			(unsigned long long)st.detach, (unsigned long long)st.inv_calls,
			(unsigned long long)st.inv_ranges, (unsigned long long)st.faults,
			(unsigned long long)st.page_reqs, (unsigned long long)st.page_resps);
}
