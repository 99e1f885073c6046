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
#define HOST_RID_KEY (1u << 20) /* bind key of requests without PASID (above every PASID) */
#define HOST_MAX_RANGES 256  /* queued ranges per batch; beyond: whole-stage-1 flush */
#define HOST_MAX_PRQ 64      /* host page request groups awaiting the guest's answer */
#define HOST_DIR_CHUNK 512   /* PASID-directory entries read per guest-memory access */
#define HOST_MAX_WARN 16     /* distinct (operation, error) causes warned about once */

struct host_dev {
	bool used;
	uint16_t sid;
	struct host_iommu hi;
	uint32_t dev;
	struct host_iommu_caps caps;
	struct viommu *v;
	struct vtd_shadow *shadow; /* shadow mode (host without nesting), else NULL */
	uint32_t rid_pasid;        /* RID_PASID of the context entry at the last sweep */
};

/*
 * What the host does with one (device, PASID) of a host-backed device (fail closed, facts
 * §13): blocked (DMA faults; the guest is given `reason`), identity on the stage-2 parent
 * (translation off, or a pass-through entry), or the guest's first stage.
 */
enum hb_state { HB_BLOCKED, HB_IDENTITY, HB_S1, HB_UNKNOWN };

struct host_bind {
	uint32_t key;         /* guest PASID, or HOST_RID_KEY (mirrors the context's RID_PASID) */
	uint8_t dev;          /* index into devs[] */
	uint8_t state;        /* enum hb_state: what the host has (equal to the host after failures) */
	uint8_t reason;       /* HB_BLOCKED: fault reason for the guest (0: none, translation off) */
	bool live;            /* slot in use */
	bool flush_all;       /* batch: the whole stage-1 */
	bool raw_valid;       /* raw[] is the PASID entry the current state was made from */
	bool raw_pre;         /* ... with this context PRE bit */
	uint16_t did;
	uint32_t s1;
	uint32_t seen;        /* sweep generation that last found the entry */
	unsigned int nr_queued;
	struct host_s1_config cfg;
	uint64_t raw[3];      /* PASID entry words 0-2 (all that decoding reads) */
};

struct host_queued {
	uint32_t bind;
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
	/* Every tracked (device, PASID): a slot array, a free list and an open-addressed index. */
	struct host_bind *binds;
	uint32_t nr_binds, cap_binds;
	uint32_t *free;       /* free slots (cap_binds entries) */
	uint32_t nr_free;
	uint32_t *index;      /* (dev, key) hash -> slot + 1; 0 empty; linear probing */
	uint32_t index_mask;  /* index size - 1 (a power of two, at least twice the live binds) */
	uint32_t live;
	uint32_t gen;
	uint32_t *pending;    /* binds with something queued (cap_binds entries) */
	uint32_t nr_pending;
	struct host_queued q[HOST_MAX_RANGES];
	unsigned int nr_q;
	struct host_prq prq[HOST_MAX_PRQ];
	struct { unsigned int op; int err; } warned[HOST_MAX_WARN];
	unsigned int nr_warned;
	struct viommu_host_stats st;
};

enum { OP_ATTACH, OP_PARENT, OP_DETACH, OP_INVALIDATE, OP_MEMORY };
static const char *const op_names[] = {
	"stage-1 attach", "stage-2 parent attach", "detach", "invalidation", "bookkeeping",
};

/*
 * A failed host call: counted, and a warning on stderr the first time for each (operation,
 * error) pair, so a guest cannot flood the log. The guest sees faults (the device is blocked).
 */
static void host_failed(struct vtd_host *h, const struct host_dev *d, unsigned int op,
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

/* ---- the bind index ---- */

static uint32_t hash_key(unsigned int dev, uint32_t key)
{
	uint64_t k = ((uint64_t)dev << 21 | key) * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)(k >> 32);
}

static struct host_bind *find_bind(struct vtd_host *h, unsigned int dev, uint32_t key)
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

static struct host_bind *new_bind(struct vtd_host *h, unsigned int dev, uint32_t key)
{
	uint32_t slot;

	if (reserve(h))
		return NULL;
	slot = h->nr_free ? h->free[--h->nr_free] : h->nr_binds++;
	h->binds[slot] = (struct host_bind){ .key = key, .dev = (uint8_t)dev, .live = true,
					     .state = HB_BLOCKED };
	index_put(h->index, h->index_mask, &h->binds[slot], slot);
	h->live++;
	return &h->binds[slot];
}

/* Removes b from the index (backward-shift deletion keeps probe chains intact). */
static void delete_bind(struct vtd_host *h, struct host_bind *b)
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
static void drop_queued(struct vtd_host *h, struct host_bind *b)
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

/* The device's scalable-mode context as the last sweep / lookup read it. */
struct ctxv {
	uint8_t reason;       /* nonzero: no usable context (the fault every request gets) */
	bool paside, pre;
	uint32_t rid_pasid;
	uint64_t dir;
	uint64_t dir_entries; /* bounded by the advertised PASID width */
};

static void read_ctx(struct viommu *v, uint16_t sid, struct ctxv *c)
{
	uint64_t rta = vtd_reg_get(v, VTD_RTADDR_REG);
	uint64_t re[2], ce[4], pasids = 1ULL << v->cfg.pasid_bits;
	unsigned int devfn = sid & 0xff;

	*c = (struct ctxv){ 0 };
	if (__atomic_load_n(&v->root_invalid, __ATOMIC_ACQUIRE) || !v->cfg.scalable ||
	    FIELD_GET(VTD_RTADDR_TTM, rta) != 1) {
		c->reason = VTD_FR_SM_RTADDR_INV;
		return;
	}
	if (load(v->gm, (rta & VTD_RTADDR_ADDR) + (sid >> 8) * 16ULL, re, 2)) {
		c->reason = VTD_FR_SM_ROOT_ACCESS;
		return;
	}
	if (devfn < 128 ? !vtd_smroot_lp(re) : !vtd_smroot_up(re)) {
		c->reason = VTD_FR_SM_ROOT_NOT_PRESENT;
		return;
	}
	if (load(v->gm, (devfn < 128 ? vtd_smroot_lctp(re) : vtd_smroot_uctp(re)) + (devfn & 0x7f) * 32ULL,
		 ce, 4)) {
		c->reason = VTD_FR_SM_CTX_ACCESS;
		return;
	}
	if (!vtd_smctx_p(ce)) {
		c->reason = VTD_FR_SM_CTX_NOT_PRESENT;
		return;
	}
	c->paside = vtd_smctx_paside(ce);
	c->pre = vtd_smctx_pre(ce);
	c->rid_pasid = vtd_smctx_rid_pasid(ce);
	c->dir = vtd_smctx_pasiddirptr(ce);
	c->dir_entries = vtd_smctx_dir_entries(ce);
	if (c->dir_entries > (pasids + 63) / 64)
		c->dir_entries = (pasids + 63) / 64;
}

/* What the host should do for one (device, PASID). */
struct want {
	uint8_t state, reason;
	uint16_t did;
	struct host_s1_config cfg;
};

/*
 * Decodes a present PASID entry (facts §4) into what nestvm can forward: a first-stage entry
 * whose guest-settable bits match the guest-visible CAP/ECAP and the host, or a pass-through
 * entry when PT is advertised. Everything else is blocked with the fault the spec names.
 */
static void decode_pe(const struct viommu *v, const struct host_dev *d, const struct ctxv *c,
		      const uint64_t *pe, struct want *w)
{
	unsigned int pgtt = vtd_pe_pgtt(pe);

	*w = (struct want){ .state = HB_BLOCKED, .reason = VTD_FR_SM_PE_INVALID, .did = vtd_pe_did(pe) };
	if (pgtt == VTD_PE_PGTT_PT) {
		if (v->ecap & VTD_ECAP_PT)
			w->state = HB_IDENTITY;
		return;
	}
	if (pgtt != VTD_PE_PGTT_FS)
		return; /* second-stage / nested / reserved: not advertised in nested mode */
	/*
	 * SRE needs ECAP.SRS, EAFE needs ECAP.EAFS and ERE needs ECAP.ERS (both never offered):
	 * reserved otherwise. WPE is forwarded as is (it only matters with SRE, as on the host).
	 */
	if ((vtd_pe_sre(pe) && !(v->ecap & VTD_ECAP_SRS)) || vtd_pe_eafe(pe) || vtd_pe_ere(pe)) {
		w->reason = VTD_FR_SM_PE_RSVD;
		return;
	}
	if (vtd_pe_sre(pe) && d->caps.vtd && !(d->caps.vtd_ecap & VTD_ECAP_SRS))
		return;
	/* FLPM: 0 = 4-level; 1 = 5-level needs CAP.FS5LP here and on the host; 2, 3 reserved. */
	if (vtd_pe_flpm(pe) > 1 ||
	    (vtd_pe_flpm(pe) == 1 && (!(v->cap & VTD_CAP_FS5LP) ||
				       (d->caps.vtd && !(d->caps.vtd_cap & VTD_CAP_FS5LP)))))
		return;
	w->state = HB_S1;
	w->reason = 0;
	w->cfg = (struct host_s1_config){ .pgtbl_gpa = vtd_pe_flptptr(pe),
					  .addr_width = vtd_pe_flpm(pe) ? 57 : 48,
					  .sre = vtd_pe_sre(pe), .wpe = vtd_pe_wpe(pe),
					  .eafe = vtd_pe_eafe(pe), .pri = c->pre };
}

/* Reads the PASID entry of pasid (not yet read) and decodes it. */
static void want_of(struct viommu *v, const struct host_dev *d, const struct ctxv *c, uint32_t key,
		    const uint64_t *pe_in, struct want *w)
{
	uint32_t pasid = key == HOST_RID_KEY ? c->rid_pasid : key;
	uint64_t de, pe[VTD_PE_WORDS];

	*w = (struct want){ .state = HB_BLOCKED };
	if (!__atomic_load_n(&v->te, __ATOMIC_ACQUIRE)) {
		/* Translation off: the RID is guest-physical; PASIDs stay blocked (no fault). */
		if (key == HOST_RID_KEY)
			w->state = HB_IDENTITY;
		return;
	}
	if (c->reason) {
		w->reason = c->reason;
		return;
	}
	if (key != HOST_RID_KEY && !c->paside) {
		w->reason = VTD_FR_SM_CTX_PASIDE;
		return;
	}
	if (!pe_in) {
		if ((pasid >> 6) >= c->dir_entries) {
			w->reason = VTD_FR_SM_PASID_BEYOND_PDTS;
			return;
		}
		if (load(v->gm, c->dir + (pasid >> 6) * 8ULL, &de, 1)) {
			w->reason = VTD_FR_SM_PDE_ACCESS;
			return;
		}
		if (!vtd_pdire_p(de)) {
			w->reason = VTD_FR_SM_PDE_NOT_PRESENT;
			return;
		}
		if (load(v->gm, vtd_pdire_ptp(de) + (pasid & 63) * 64ULL, pe, VTD_PE_WORDS)) {
			w->reason = VTD_FR_SM_PE_ACCESS;
			return;
		}
		pe_in = pe;
	}
	if (!vtd_pe_p(pe_in)) {
		w->reason = VTD_FR_SM_PE_NOT_PRESENT;
		return;
	}
	decode_pe(v, d, c, pe_in, w);
	/* A PASID the host cannot attach is blocked without asking it. */
	if (w->state != HB_BLOCKED && key != HOST_RID_KEY &&
	    (!d->caps.pasid_attach || (pasid >> d->caps.max_pasid_log2))) {
		w->state = HB_BLOCKED;
		w->reason = VTD_FR_SM_PE_INVALID;
	}
}

/*
 * Blocked states that need no record (a PASID never attached is blocked on the host): all but
 * a present entry nestvm refused. Records stay bounded by the present PASID entries; a fault
 * on an unrecorded PASID re-reads its reason (fault_reason).
 */
static bool absent(const struct want *w)
{
	return w->state == HB_BLOCKED && w->reason != VTD_FR_SM_PE_RSVD &&
	       w->reason != VTD_FR_SM_PE_INVALID;
}

/*
 * Field by field: a memcmp would also compare padding bytes, which compound-literal
 * assignment leaves unspecified (the vtd-host fuzz target saw a re-attach of an unchanged
 * entry that way when the struct still had a padding byte).
 */
static bool same_s1(const struct host_s1_config *a, const struct host_s1_config *b)
{
	return a->pgtbl_gpa == b->pgtbl_gpa && a->addr_width == b->addr_width && a->sre == b->sre &&
	       a->wpe == b->wpe && a->eafe == b->eafe && a->pri == b->pri;
}

/*
 * Makes the host do what w says for (dev, key), with one host call when something changed and
 * none otherwise. After a failure the record says what the host really has: a refused attach
 * is followed by a detach (blocked); a refused detach leaves the old state recorded, so the
 * next sweep tries again. Lock held.
 */
static bool apply(struct viommu *v, unsigned int dev, uint32_t key, struct host_bind *b,
		  const struct want *w)
{
	struct vtd_host *h = v->host;
	struct host_dev *d = &h->devs[dev];
	uint32_t hpasid = key == HOST_RID_KEY ? HOST_PASID_NONE : key;
	uint8_t cur = b ? b->state : HB_BLOCKED;
	uint32_t s1 = 0;
	int r = 0;

	if (b && cur == w->state && (cur != HB_S1 || same_s1(&b->cfg, &w->cfg))) {
		b->did = w->did; /* same translation: nothing for the host */
		b->reason = w->reason;
		b->seen = h->gen;
		if (key != HOST_RID_KEY && absent(w))
			delete_bind(h, b);
		return true;
	}
	if (!b) {
		if (absent(w))
			return true; /* unknown PASID, still absent: blocked on the host already */
		b = new_bind(h, dev, key);
		if (!b) {
			/* No memory to track it: the host has nothing for it, i.e. it is blocked. */
			host_failed(h, d, OP_MEMORY, key, -ENOMEM);
			return false;
		}
	}
	b->seen = h->gen;
	if (w->state == HB_S1)
		r = d->hi.ops->attach_s1(d->hi.be, d->dev, hpasid, &w->cfg, &s1);
	else if (w->state == HB_IDENTITY)
		r = d->hi.ops->attach_parent ? d->hi.ops->attach_parent(d->hi.be, d->dev, hpasid)
					     : -EOPNOTSUPP;
	if (r)
		host_failed(h, d, w->state == HB_S1 ? OP_ATTACH : OP_PARENT, key, r);
	if (w->state == HB_BLOCKED || r) {
		/* Block: whatever the host had stays only if it refuses the detach too. */
		int rd = cur == HB_BLOCKED ? 0 : d->hi.ops->detach(d->hi.be, d->dev, hpasid);

		if (rd && rd != -ENOENT) {
			host_failed(h, d, OP_DETACH, key, rd);
			return false;
		}
		if (cur == HB_S1) {
			drop_queued(h, b);
			h->st.unbinds++;
		}
		if (cur != HB_BLOCKED)
			h->st.blocks++;
		b->state = HB_BLOCKED;
		b->reason = r ? (__atomic_load_n(&v->te, __ATOMIC_ACQUIRE) ? VTD_FR_SM_PE_INVALID : 0)
			      : w->reason;
		b->did = w->did;
		trace(TRACE_HOST, "vtd", "host block sid %04x key 0x%x (reason 0x%x)", d->sid, key,
		      b->reason);
		if (key != HOST_RID_KEY && absent(&(struct want){ .state = HB_BLOCKED, .reason = b->reason }))
			delete_bind(h, b);
		return !r;
	}
	if (cur == HB_S1)
		drop_queued(h, b); /* the old stage-1 is gone with everything queued for it */
	if (w->state == HB_S1) {
		if (cur == HB_S1)
			h->st.replaces++;
		else
			h->st.binds++;
		trace(TRACE_HOST, "vtd", "host bind sid %04x key 0x%x root 0x%llx -> s1 %u", d->sid,
		      key, (unsigned long long)w->cfg.pgtbl_gpa, s1);
	} else {
		if (cur == HB_S1)
			h->st.unbinds++;
		h->st.identity++;
		trace(TRACE_HOST, "vtd", "host identity sid %04x key 0x%x", d->sid, key);
	}
	b->state = w->state;
	b->reason = 0;
	b->did = w->did;
	b->cfg = w->state == HB_S1 ? w->cfg : (struct host_s1_config){ 0 };
	b->s1 = s1;
	return true;
}

/*
 * Syncs (dev, key) from its PASID entry (pe: words 0-2 already read by a walk, or NULL to read
 * it now); b is its record if the caller looked it up (found), else it is looked up here.
 */
static void sync_key_b(struct viommu *v, unsigned int dev, const struct ctxv *c, uint32_t key,
		       const uint64_t *pe, struct host_bind *b, bool found)
{
	struct vtd_host *h = v->host;
	struct want w;
	bool ok;

	if (!found)
		b = find_bind(h, dev, key);
	want_of(v, &h->devs[dev], c, key, pe, &w);
	ok = apply(v, dev, key, b, &w);
	/* Only a new record can have moved the slot array; a deleted one is no longer live. */
	if (!b)
		b = find_bind(h, dev, key);
	if (b && b->live) {
		/*
		 * A walk that finds the same words again skips the entry (no decode, no host call),
		 * also after a refused attach left it blocked: only a PASID-selective flush retries.
		 * A refused detach (the host still has the old state) is retried by every walk.
		 */
		b->raw_valid = pe && (ok || b->state == HB_BLOCKED);
		if (pe)
			memcpy(b->raw, pe, sizeof(b->raw));
		b->raw_pre = c->pre;
	}
}

static void sync_key(struct viommu *v, unsigned int dev, const struct ctxv *c, uint32_t key,
		     const uint64_t *pe)
{
	sync_key_b(v, dev, c, key, pe, NULL, false);
}

/*
 * Re-reads everything the guest has for one host-backed device: its RID_PASID entry, then
 * every present PASID entry reachable through its PASID directory (bounded by the directory
 * size and the advertised PASID width; cost proportional to present directory entries and
 * tables), then drops what the walk no longer found. Lock held.
 */
static void sweep_dev(struct viommu *v, unsigned int dev)
{
	struct vtd_host *h = v->host;
	struct host_dev *d = &h->devs[dev];
	uint32_t gen = ++h->gen;
	struct ctxv c;
	uint64_t dir[HOST_DIR_CHUNK];
	uint8_t *tbl = NULL;

	read_ctx(v, d->sid, &c);
	d->rid_pasid = c.rid_pasid;
	sync_key(v, dev, &c, HOST_RID_KEY, NULL);
	if (__atomic_load_n(&v->te, __ATOMIC_ACQUIRE) && !c.reason && c.paside &&
	    d->caps.pasid_attach && (tbl = malloc(4096))) {
		for (uint64_t base = 0; base < c.dir_entries; base += HOST_DIR_CHUNK) {
			unsigned int n = c.dir_entries - base < HOST_DIR_CHUNK ? (unsigned int)(c.dir_entries - base)
									     : HOST_DIR_CHUNK;

			if (gmem_read(v->gm, c.dir + base * 8, dir, 8u * n))
				break; /* the rest faults as not readable when looked up alone */
			for (unsigned int i = 0; i < n; i++) {
				uint64_t de = le64_load((const uint8_t *)&dir[i]);

				if (!vtd_pdire_p(de) || gmem_read(v->gm, vtd_pdire_ptp(de), tbl, 4096))
					continue;
				for (unsigned int j = 0; j < 64; j++) {
					uint32_t pasid = (uint32_t)((base + i) * 64 + j);
					const uint8_t *e = tbl + j * 64;
					uint64_t pe[3];
					struct host_bind *b;

					if (!(e[0] & 1) || pasid == c.rid_pasid)
						continue;
					pe[0] = le64_load(e);
					pe[1] = le64_load(e + 8);
					pe[2] = le64_load(e + 16);
					b = find_bind(h, dev, pasid);
					if (b && b->raw_valid && b->raw_pre == c.pre && b->raw[0] == pe[0] &&
					    b->raw[1] == pe[1] && b->raw[2] == pe[2]) {
						b->seen = gen; /* unchanged since it was forwarded */
						continue;
					}
					sync_key_b(v, dev, &c, pasid, pe, b, true);
				}
			}
		}
	}
	free(tbl);
	/* Records the walk did not reach: their entries are gone (or unreadable) now. */
	for (uint32_t i = 0; i < h->nr_binds; i++) {
		struct host_bind *b = &h->binds[i];

		if (b->live && b->dev == dev && b->key != HOST_RID_KEY && b->seen != gen) {
			sync_key(v, dev, &c, b->key, NULL);
			if (b->live && b->key != HOST_RID_KEY)
				b->seen = gen;
		}
	}
}

static void sweep_all(struct viommu *v)
{
	struct vtd_host *h = v->host;

	for (unsigned int d = 0; d < HOST_MAX_DEVS; d++) {
		if (!h->devs[d].used)
			continue;
		if (h->devs[d].shadow)
			vtd_shadow_queue_all(h->devs[d].shadow);
		else
			sweep_dev(v, d);
	}
}

/* ---- hooks from qi.c and regs.c (lock held) ---- */

void vtd_host_pasid_cache(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid)
{
	struct vtd_host *h = v->host;

	if (!h)
		return;
	if (g != VTD_INV_PASID) {
		/* Domain-selective is done as global: re-reading more than asked is always allowed. */
		sweep_all(v);
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
		read_ctx(v, h->devs[d].sid, &c);
		if (c.rid_pasid != h->devs[d].rid_pasid && !c.reason) {
			sweep_dev(v, d); /* RID_PASID moved: the RID's entry changed underneath */
			continue;
		}
		h->gen++;
		sync_key(v, d, &c, pasid == c.rid_pasid && !c.reason ? HOST_RID_KEY : pasid, NULL);
	}
}

void vtd_host_context(struct viommu *v)
{
	/* A context change may move RID_PASID, turn PASIDs off or drop the device. */
	if (v->host)
		sweep_all(v);
}

void vtd_host_root_changed(struct viommu *v)
{
	/* SRTP: a new root table; what the host has must follow it (or be blocked). */
	if (v->host)
		sweep_all(v);
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
		b = find_bind(h, d, pasid == h->devs[d].rid_pasid ? HOST_RID_KEY : pasid);
		if (!b || b->did != did)
			continue;
		if (g == VTD_INV_PASID_PAGE)
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
	struct host_inv_range *r = NULL;

	for (unsigned int d = 0; h && d < HOST_MAX_DEVS; d++)
		if (h->devs[d].used && h->devs[d].shadow)
			vtd_shadow_flush(h->devs[d].shadow);
	if (!h || !h->nr_pending)
		return;
	if (h->nr_q)
		r = calloc(HOST_MAX_RANGES, sizeof(*r));
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
			host_failed(h, d, OP_INVALIDATE, b->key, ret);
			ret = d->hi.ops->invalidate(d->hi.be, b->s1, &all, 1, &done);
			h->st.inv_batches++;
		}
		if (ret) {
			host_failed(h, d, OP_INVALIDATE, b->key, ret);
			apply(v, b->dev, b->key, b,
			      &(struct want){ .state = HB_BLOCKED, .reason = VTD_FR_SM_PE_INVALID,
					      .did = b->did });
		}
		trace(TRACE_HOST, "vtd", "host invalidate s1 %u: %u ranges (%u done, r=%d)", b->s1, n,
		      done, ret);
	}
	h->nr_q = 0;
	free(r);
}

/*
 * The fault a host fault on (dev, PASID) becomes: for a (device, PASID) nestvm blocked, the
 * reason it was blocked for (0: translation is off, nothing to record); else the host's.
 */
static uint8_t fault_reason(struct viommu *v, unsigned int dev, const struct host_fault *f)
{
	struct vtd_host *h = v->host;
	uint32_t key = f->pasid_valid ? f->pasid : HOST_RID_KEY;
	struct host_bind *b = find_bind(h, dev, key);

	if (!__atomic_load_n(&v->te, __ATOMIC_ACQUIRE))
		return 0; /* translation off: the unit records nothing */
	if (!b) {
		/* Never forwarded: why the tables block it now, or (present, not flushed) not present. */
		struct ctxv c;
		struct want w;

		read_ctx(v, h->devs[dev].sid, &c);
		want_of(v, &h->devs[dev], &c, key, NULL, &w);
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

static const struct dma_ats_client host_client = { .page_response = page_response };

static void host_fault(void *opaque, const struct host_fault *f)
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
	hi->ops->set_fault_handler(hi->be, host_fault, d);
	r = vtd_ats_register(v, sid, &host_client, d);
	if (!r && !d->shadow) {
		/* The RID starts on the stage-2 parent; from now on it follows the guest (fail closed). */
		unsigned int idx = (unsigned int)(d - v->host->devs);
		struct host_bind *b;

		pthread_mutex_lock(&v->lock);
		b = new_bind(v->host, idx, HOST_RID_KEY);
		if (b) {
			b->state = HB_UNKNOWN;
			sweep_dev(v, idx);
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
			sweep_dev(v, d);
		}
	}
}

void vtd_host_destroy(struct viommu *v)
{
	if (!v->host)
		return;
	for (unsigned int d = 0; d < HOST_MAX_DEVS; d++)
		vtd_shadow_destroy(v->host->devs[d].shadow);
	free(v->host->binds);
	free(v->host->free);
	free(v->host->pending);
	free(v->host->index);
	free(v->host);
	v->host = NULL;
}

#define HM_ERR(...)                                                                                \
	do {                                                                                       \
		snprintf(msg, len, __VA_ARGS__);                                                   \
		return -EINVAL;                                                                    \
	} while (0)

int viommu_host_mode(const struct viommu_config *cfg, const struct host_iommu_caps *hc,
		     struct viommu_config *ret, char *msg, size_t len)
{
	struct viommu_config c = *cfg;
	uint32_t g = cfg->given;
	unsigned int host_bits = hc->pasid_attach ? hc->max_pasid_log2 : 0;
	bool nested;

	/* Caching mode is needed either way: nestvm must see every entry made present. */
	if ((g & VIOMMU_GIVEN_CM) && !cfg->cm)
		HM_ERR("vtd: cm=off cannot work with a host-backed device (the guest must flush after "
		       "making entries present): leave cm out");
	if (cfg->host_mode == VIOMMU_HOST_NESTED) {
		if (!hc->nesting)
			HM_ERR("vtd: host-mode=nested: the host IOMMU cannot nest (needs iommufd nesting, "
			       "Linux 6.8+): use host-mode=shadow or leave host-mode out");
		nested = true;
	} else if (cfg->host_mode == VIOMMU_HOST_SHADOW) {
		nested = false;
	} else {
		/* auto: nested unless the host cannot, or typed options ask for second-stage tables. */
		nested = hc->nesting && !((g & VIOMMU_GIVEN_MODE) && !cfg->scalable) &&
			 !((g & VIOMMU_GIVEN_FLTS) && !cfg->flts) && !((g & VIOMMU_GIVEN_SLTS) && cfg->slts) &&
			 !((g & VIOMMU_GIVEN_NEST) && cfg->nest);
	}
	c.cm = true;
	if (!nested) {
		/*
		 * Shadow: caching mode makes the guest flush after every map; its second-stage (or
		 * legacy) tables are re-walked and mirrored into the host address space. No first
		 * stage, nesting or page requests are advertised: the host could not back them.
		 */
		const char *why = hc->nesting ? "leave it out or use host-mode=nested"
					      : "the host IOMMU cannot nest; leave it out";

		if ((g & VIOMMU_GIVEN_FLTS) && cfg->flts)
			HM_ERR("vtd: flts=on cannot be shadowed (%s)", why);
		if ((g & VIOMMU_GIVEN_NEST) && cfg->nest)
			HM_ERR("vtd: nest=on cannot be shadowed (%s)", why);
		if ((g & VIOMMU_GIVEN_PRS) && cfg->prs)
			HM_ERR("vtd: prs=on cannot be shadowed (%s)", why);
		if ((g & VIOMMU_GIVEN_SLTS) && !cfg->slts && cfg->scalable)
			HM_ERR("vtd: slts=off: shadow mode mirrors second-stage tables (leave slts out)");
		c.flts = false;
		c.nest = false;
		c.prs = false;
		c.slts = c.scalable;
		*ret = c;
		snprintf(msg, len, "shadow (%s): caching mode, guest %s tables mirrored into the host "
			 "I/O address space (aw %u)",
			 cfg->host_mode == VIOMMU_HOST_SHADOW ? "host-mode=shadow" : hc->nesting
			 ? "typed options need second-stage tables" : "host has no nesting",
			 c.scalable ? "second-stage" : "legacy", c.aw);
		return 0;
	}
	/*
	 * Nested: the guest sees only what nestvm forwards (facts §13): first stage, PT (the
	 * stage-2 parent), no second stage or nesting, and never more than the host backs (facts
	 * §4: FS5LP, PASID width, fault queue).
	 */
	if ((g & VIOMMU_GIVEN_MODE) && !cfg->scalable)
		HM_ERR("vtd: mode=legacy cannot be nested (leave mode out, or use host-mode=shadow)");
	if ((g & VIOMMU_GIVEN_FLTS) && !cfg->flts)
		HM_ERR("vtd: flts=off: nested mode forwards first-stage tables only (leave flts out, or "
		       "use host-mode=shadow)");
	if ((g & VIOMMU_GIVEN_SLTS) && cfg->slts)
		HM_ERR("vtd: slts=on: nested mode cannot forward second-stage tables (leave slts out, or "
		       "use host-mode=shadow)");
	if ((g & VIOMMU_GIVEN_NEST) && cfg->nest)
		HM_ERR("vtd: nest=on: nested mode cannot forward nested PASID entries (leave nest out)");
	if ((g & VIOMMU_GIVEN_AW) && cfg->aw == 57 && !(hc->vtd_cap & VTD_CAP_FS5LP))
		HM_ERR("vtd: aw=57: the host IOMMU has no 5-level first stage (use aw=48 or leave aw out)");
	if ((g & VIOMMU_GIVEN_PASID_BITS) && cfg->pasid_bits > (host_bits ? host_bits : 1))
		HM_ERR("vtd: pasid-bits=%u: the host backs %u PASID bits (use pasid-bits=%u or leave it "
		       "out)", cfg->pasid_bits, host_bits, host_bits ? host_bits : 1);
	if ((g & VIOMMU_GIVEN_PRS) && cfg->prs && !hc->fault_queue)
		HM_ERR("vtd: prs=on: the host has no fault queue for page requests (needs Linux 6.11+; "
		       "leave prs out)");
	if (c.aw == 57 && !(hc->vtd_cap & VTD_CAP_FS5LP))
		c.aw = 48;
	if (c.pasid_bits > host_bits)
		c.pasid_bits = host_bits ? host_bits : 1;
	if (!hc->fault_queue)
		c.prs = false;
	c.scalable = true;
	c.flts = true;
	c.slts = false;
	c.nest = false;
	/* First-stage features the host's stage-1 walker lacks are not offered either. */
	c.no_srs = hc->vtd && !(hc->vtd_ecap & VTD_ECAP_SRS);
	c.no_fs1gp = hc->vtd && !(hc->vtd_cap & VTD_CAP_FS1GP);
	*ret = c;
	snprintf(msg, len, "nested: guest first stage over host stage 2, caching mode (aw %u, %u PASID "
		 "bits%s%s%s)", c.aw, c.pasid_bits, c.pt ? ", pass-through" : "",
		 c.prs ? ", page requests" : "", host_bits ? "" : ", RID only");
	return 0;
}
