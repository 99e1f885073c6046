/* SPDX-License-Identifier: MIT */
/*
 * hostsim: a host IOMMU simulator behind the host_iommu interface. It knows only what was
 * forwarded to it: DMA of its devices walks the bound guest first-stage tables through its own
 * stage-2 map (the guest RAM it was given) and fills its own IOTLB, which only forwarded
 * invalidations drop. A missing, late or too-narrow forward therefore shows up as a stale or
 * faulting DMA, exactly as on a nested host IOMMU.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "common/log.h"
#include "devices/vfio/vfio.h"
#include "vmm/core/gmem.h"

#define HS_MAX_DEVS 8
#define HS_MAX_S2 16        /* stage-2 ranges */
#define HS_IOTLB 64         /* IOTLB entries */
#define HS_MAX_PENDING 32   /* outstanding page request groups */

/* VT-d fault reasons hostsim reports (facts §7.2, same values as VTD_FR_*). */
#define FR_SM_PE_NOT_PRESENT 0x59
#define FR_SM_SRE 0x5D
#define FR_FS_NOT_PRESENT 0x71
#define FR_FS_RSVD 0x72
#define FR_NESTED_FS_READ 0x76
#define FR_SS_PERM 0x79
#define FR_FS_NON_CANONICAL 0x80
#define FR_FS_USER 0x81
#define FR_SM_WRITE 0x85

/* First-stage PTE fields (facts §5). */
#define FS_P BIT_ULL(0)
#define FS_RW BIT_ULL(1)
#define FS_US BIT_ULL(2)
#define FS_PS BIT_ULL(7)
#define FS_ADDR GENMASK_ULL(51, 12)

struct hs_s2 {
	uint64_t gpa, len;
	bool writable;
};

struct hs_s1 {
	bool used;
	struct host_s1_config cfg;
};

/* An attached (dev, pasid); not in the list: blocked (DMA faults). */
struct hs_bind {
	uint32_t pasid; /* HOST_PASID_NONE: the RID */
	uint32_t s1;    /* index into s1[] + 1; 0: the stage-2 parent (identity) */
};

struct hs_dev {
	struct hostsim *hs;
	bool used, pri;
	uint32_t id;
	struct hs_bind *binds; /* sorted by pasid: lookups are a binary search */
	unsigned int nr_binds, cap_binds;
};

struct hs_tlb {
	bool valid;
	uint32_t s1;
	uint64_t iova, gpa, size; /* leaf page: iova and gpa aligned to size */
	bool rw, us;
};

struct hostsim {
	const struct gmem *gm;
	struct host_iommu_caps caps;
	pthread_mutex_t lock;
	struct hs_s2 s2[HS_MAX_S2];
	struct hs_s1 *s1;          /* grows with the stage-1s alive */
	unsigned int nr_s1, s1_hint;
	struct hs_dev devs[HS_MAX_DEVS];
	unsigned int fail_mask, fail_count; /* hostsim_fail() */
	int fail_err;
	struct hs_tlb tlb[HS_IOTLB];
	unsigned int tlb_next;
	uint32_t pending[HS_MAX_PENDING]; /* cookies of unanswered page request groups */
	uint32_t next_cookie, next_grpid;
	host_fault_fn fault_fn;
	void *fault_opaque;
	struct hostsim_stats st;
};

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

static bool s2_allows(const struct hostsim *hs, uint64_t gpa, uint64_t len, bool write)
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

static struct hs_bind *find_bind(struct hs_dev *d, uint32_t pasid)
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
	b = s1 ? find_bind(d, pasid) : NULL;
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
	b = d ? find_bind(d, pasid) : NULL;
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

/* ---- DMA: the simulated hardware ---- */

/*
 * Walks the first stage of s1 for iova through the stage-2 map (facts §5). Bounded by the
 * level count (4 or 5). Returns 0 with *t filled, or a fault reason.
 */
static uint8_t walk(struct hostsim *hs, uint32_t s1, uint64_t iova, struct hs_tlb *t)
{
	const struct host_s1_config *c = &hs->s1[s1 - 1].cfg;
	unsigned int levels = c->addr_width == 57 ? 5 : 4;
	uint64_t table = c->pgtbl_gpa;
	int64_t sext = (int64_t)(iova << (64 - c->addr_width)) >> (64 - c->addr_width);
	bool rw = true, us = true;

	if ((uint64_t)sext != iova)
		return FR_FS_NON_CANONICAL;
	for (unsigned int lvl = levels; lvl >= 1; lvl--) {
		unsigned int shift = 12 + 9 * (lvl - 1);
		uint64_t pa = table + ((iova >> shift) & 511) * 8, pte;

		if (!s2_allows(hs, pa, 8, false) || gmem_read_u64(hs->gm, pa, &pte))
			return FR_NESTED_FS_READ;
		if (!(pte & FS_P))
			return FR_FS_NOT_PRESENT;
		rw = rw && (pte & FS_RW);
		us = us && (pte & FS_US);
		if (lvl == 1 || ((lvl == 2 || lvl == 3) && (pte & FS_PS))) {
			uint64_t size = 1ULL << shift;

			if (lvl > 1 && (pte & FS_ADDR & (size - 1) & ~BIT_ULL(12)))
				return FR_FS_RSVD;
			*t = (struct hs_tlb){ .valid = true, .s1 = s1, .iova = iova & ~(size - 1),
					      .gpa = pte & FS_ADDR & ~(size - 1), .size = size,
					      .rw = rw, .us = us };
			return 0;
		}
		if (lvl == levels && (pte & FS_PS))
			return FR_FS_RSVD;
		table = pte & FS_ADDR;
	}
	return FR_FS_RSVD;
}

static uint8_t check_perm(const struct hostsim *hs, uint32_t s1, const struct hs_tlb *t,
			  unsigned int acc)
{
	const struct host_s1_config *c = &hs->s1[s1 - 1].cfg;
	bool priv = acc & DMA_ACC_PRIV, write = acc & DMA_ACC_WRITE;

	if (priv && !c->sre)
		return FR_SM_SRE;
	if (!priv && !t->us)
		return FR_FS_USER;
	if (write && !t->rw && (!priv || c->wpe))
		return FR_SM_WRITE;
	return 0;
}

static int hs_translate(void *iommu, const struct dma_req *req, uint64_t iova,
			struct dma_xlate *ret)
{
	struct hs_dev *d = iommu;
	struct hostsim *hs = d->hs;
	struct host_fault f = { .dev = d->id, .pasid_valid = req->has_pasid, .pasid = req->pasid,
				.addr = iova & ~4095ULL };
	struct hs_bind *b;
	struct hs_tlb t, *hit = NULL;
	host_fault_fn fn;
	void *fop;
	uint8_t reason;

	pthread_mutex_lock(&hs->lock);
	hs->st.dma++;
	b = find_bind(d, req->has_pasid ? req->pasid : HOST_PASID_NONE);
	if (!b) {
		reason = FR_SM_PE_NOT_PRESENT; /* blocked: nothing attached */
		goto fault;
	}
	if (!b->s1) {
		/* The stage-2 parent: guest-physical addresses. */
		ret->gpa = iova;
		ret->len = 4096 - (iova & 4095);
		if (!s2_allows(hs, iova & ~4095ULL, 4096, req->access & DMA_ACC_WRITE)) {
			reason = FR_SS_PERM;
			goto fault;
		}
		pthread_mutex_unlock(&hs->lock);
		return 0;
	}
	for (unsigned int i = 0; i < HS_IOTLB && !hit; i++) {
		struct hs_tlb *e = &hs->tlb[i];

		if (e->valid && e->s1 == b->s1 && iova - e->iova < e->size)
			hit = e;
	}
	if (hit) {
		hs->st.iotlb_hits++;
		t = *hit;
	} else {
		hs->st.iotlb_misses++;
		reason = walk(hs, b->s1, iova, &t);
		if (reason)
			goto fault;
	}
	reason = check_perm(hs, b->s1, &t, req->access);
	if (reason)
		goto fault;
	ret->gpa = t.gpa + (iova - t.iova);
	ret->len = 4096 - (ret->gpa & 4095);
	if (!s2_allows(hs, ret->gpa & ~4095ULL, 4096, req->access & DMA_ACC_WRITE)) {
		reason = FR_SS_PERM;
		goto fault;
	}
	if (!hit) {
		hs->tlb[hs->tlb_next] = t;
		hs->tlb_next = (hs->tlb_next + 1) % HS_IOTLB;
	}
	pthread_mutex_unlock(&hs->lock);
	return 0;
fault:
	f.perm = (req->access & DMA_ACC_READ ? HOST_PERM_READ : 0) |
		 (req->access & DMA_ACC_WRITE ? HOST_PERM_WRITE : 0) |
		 (req->access & DMA_ACC_EXEC ? HOST_PERM_EXEC : 0) |
		 (req->access & DMA_ACC_PRIV ? HOST_PERM_PRIV : 0);
	f.reason = reason;
	if (d->pri && b && b->s1 && hs->caps.fault_queue) {
		unsigned int slot = HS_MAX_PENDING;

		for (unsigned int i = 0; i < HS_MAX_PENDING && slot == HS_MAX_PENDING; i++)
			if (!hs->pending[i])
				slot = i;
		if (slot < HS_MAX_PENDING) {
			f.recoverable = true;
			f.last = true;
			f.grpid = hs->next_grpid++ & 0x1ff;
			f.cookie = ++hs->next_cookie ? hs->next_cookie : ++hs->next_cookie;
			hs->pending[slot] = f.cookie;
		}
	}
	if (f.recoverable)
		hs->st.page_reqs++;
	else
		hs->st.faults++;
	trace(TRACE_HOST, "hostsim", "fault dev %u pasid 0x%x addr 0x%llx acc 0x%x reason 0x%x%s%s", d->id,
	      req->has_pasid ? req->pasid : 0, (unsigned long long)iova, req->access, reason,
	      hit ? " (IOTLB hit)" : "", f.recoverable ? " -> page request" : "");
	fn = hs->fault_fn;
	fop = hs->fault_opaque;
	pthread_mutex_unlock(&hs->lock);
	if (fn)
		fn(fop, &f);
	return -EACCES;
}

static const struct dma_iommu_ops hs_dma_ops = { .translate = hs_translate };

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
	b = d ? find_bind(d, pasid) : NULL;
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
