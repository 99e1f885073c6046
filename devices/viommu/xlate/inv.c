/* SPDX-License-Identifier: MIT */
/*
 * Cache invalidation of the VT-d translation engine, scoped as the spec scopes it, visiting
 * only the IOTLB / paging-structure cache entries a scope can name.
 *
 * Invalidation scopes (facts §6 and the spec's IOTLB / PASID-based-IOTLB descriptions):
 *  - context: global = all; domain = legacy entries of DID and all scalable-mode entries
 *    (SM context entries carry no DID); device = SID under FM (and, legacy, DID).
 *  - PASID cache: global; domain = all PASIDs whose entry has DID; PASID = DID + PASID.
 *  - IOTLB (type 0x2 / register): global = everything incl. paging-structure caches;
 *    domain = second-stage, pass-through, legacy AND nested entries of DID (a second-stage
 *    change affects nested results) plus the DID's second-stage and nested structure
 *    caches; page = the 2^AM pages at ADDR of second-stage kinds, and every nested entry of
 *    the DID (its ADDR is a GPA, nested entries are tagged by IOVA); IH=1 keeps
 *    second-stage structure caches; nested first-stage structure caches embed second-stage
 *    leaf translations, so they are dropped whatever IH says. First-stage-only entries are
 *    never touched by this descriptor.
 *  - PASID-based IOTLB (type 0x6): only first-stage and nested entries of DID + PASID (all
 *    addresses, or the 2^AM pages at ADDR); IH=1 keeps the first-stage structure caches.
 *    Second-stage-only and pass-through entries are untouched.
 *
 * Cost. The IOTLB and the paging-structure cache (PWC) keep three secondary indexes
 * (cache.c): IX_KIND = DID + kind, IX_PASID = DID + effective PASID, IX_ADDR = DID + page
 * size (IOTLB size code, PWC level) + page number at that size. A scoped invalidation
 * enumerates candidates from the index buckets that can hold a matching entry and applies
 * the one drop predicate (drop()) to each, so the result is the full scan's by construction:
 * every entry the predicate accepts is in an enumerated bucket. Page ranges of at most
 * PROBE_MAX page numbers (over all sizes) are probed in IX_ADDR; larger ones walk the DID +
 * kind or DID + PASID bucket. x->inv_scan (tests, bench) scans everything instead.
 *
 * The context cache keeps one index (CX_DID: a legacy entry's DID, or one bucket for all
 * scalable-mode entries, which carry no DID); the PASID cache two (PX_DID: the entry's DID,
 * PX_PASID: DID + PASID). Domain- and PASID-selective invalidations walk those buckets; a
 * device-selective context invalidation probes the (at most 8) source-ids its FM names.
 *
 * Global invalidations of every cache (and the context / PASID cache's global ones) start a
 * new cache generation (vc_invalidate_all): O(1) whatever the capacity. Scans reclaim the
 * stale entries of older generations they meet.
 */
#include "devices/viommu/xlate/xlate-internal.h"

enum { IX_KIND, IX_PASID, IX_ADDR, IX_COUNT };

/* Page numbers probed in IX_ADDR before a range falls back to a group walk. */
#define PROBE_MAX 64

/* PWC entries hold non-leaf levels of tables of 3..5 levels; probe every level that can be. */
#define PWC_LEVEL_MIN 1
#define PWC_LEVEL_MAX 5

_Static_assert(IX_COUNT <= VC_MAX_INDEX, "index count");

static unsigned int pwc_shift(unsigned int level)
{
	return 12 + 9 * (level - 1);
}

static void index_keys(struct vc_key *k, uint16_t did, uint8_t kind, uint32_t pasid,
		       unsigned int size, uint64_t page)
{
	k[IX_KIND] = (struct vc_key){ did | ((uint64_t)kind << 16), 0 };
	k[IX_PASID] = (struct vc_key){ did | ((uint64_t)pasid << 16), 1 };
	k[IX_ADDR] = (struct vc_key){ did | ((uint64_t)size << 16), page };
}

void vtd_tlb_index(struct vcache *c, struct vc_entry *e)
{
	const struct vtd_tlb_info *t = &vc_pay(c, e)->tlb;
	unsigned int code = (unsigned int)FIELD_GET(TLB_SIZE, e->w);
	struct vc_key k[IX_COUNT];

	index_keys(k, t->did, t->kind, t->pasid, code, t->iova >> tlb_size_shift(code));
	vc_index_set(c, e, k);
}

void vtd_pwc_index(struct vcache *c, struct vc_entry *e)
{
	const struct vtd_pwc_info *p = &vc_pay(c, e)->pwc;
	struct vc_key k[IX_COUNT];

	/* The entry maps the region [k1 << shift, ((k1 + 1) << shift) - 1]. */
	index_keys(k, p->did, p->kind, p->pasid, p->level, e->k1);
	vc_index_set(c, e, k);
}

static bool sid_match(uint16_t a, uint16_t b, uint8_t fm)
{
	static const uint16_t masks[4] = { 0xFFFF, 0xFFFB, 0xFFF9, 0xFFF8 };

	return (a & masks[fm & 3]) == (b & masks[fm & 3]);
}

enum { CX_DID, CX_COUNT };
enum { PX_DID, PX_PASID, PX_COUNT };

/* Index keys; the second word keeps the key spaces of different indexes apart. */
#define CX_SM_KEY (1ULL << 16) /* every scalable-mode context entry */

static struct vc_key ctx_did_key(bool sm, uint16_t did)
{
	return (struct vc_key){ sm ? CX_SM_KEY : did, 2 };
}

void vtd_ctx_index(struct vcache *c, struct vc_entry *e)
{
	struct vc_key k[CX_COUNT] = { ctx_did_key(vc_pay(c, e)->ctx.sm, vc_pay(c, e)->ctx.did) };

	vc_index_set(c, e, k);
}

void vtd_pe_index(struct vcache *c, struct vc_entry *e)
{
	struct vc_key k[PX_COUNT] = {
		[PX_DID] = { vc_pay(c, e)->pe.did, 3 },
		[PX_PASID] = { vc_pay(c, e)->pe.did | (e->k1 << 16), 4 },
	};

	vc_index_set(c, e, k);
}

struct ctx_req {
	enum vtd_inv_gran g;
	uint16_t did, sid;
	uint8_t fm;
};

static bool ctx_drop(const struct vcache *c, const struct vc_entry *e, const struct ctx_req *q)
{
	const struct vtd_ctx_info *ci = &vc_pay(c, e)->ctx;

	if (!e->used)
		return false;
	if (!vc_live(c, e))
		return true; /* stale: reclaimed */
	switch (q->g) {
	case VTD_INV_GLOBAL:
		return true;
	case VTD_INV_DOMAIN:
		return ci->sm || ci->did == q->did;
	case VTD_INV_DEVICE:
		return sid_match((uint16_t)e->k0, q->sid, q->fm) && (ci->sm || ci->did == q->did);
	default:
		return false;
	}
}

static void ctx_bucket(struct vcache *c, struct vc_key k, const struct ctx_req *q)
{
	uint32_t i = vc_index_first(c, CX_DID, k.k0, k.k1);

	for (uint32_t n = 0; i != VC_NIL && n < c->cap; n++) {
		struct vc_entry *e = &c->ent[i];

		i = vc_index_next(c, CX_DID, i); /* before e may leave the bucket */
		if (ctx_drop(c, e, q))
			vc_remove(c, e);
	}
}

void vtd_xlate_inv_context(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did, uint16_t sid,
			   uint8_t fm)
{
	static const uint16_t ignored[4] = { 0, 0x4, 0x6, 0x7 }; /* SID bits FM masks out */
	struct ctx_req q = { g, did, sid, fm };
	struct vcache *c = &x->ctx;

	xl_lock(x);
	vc_write_begin(c);
	if (x->inv_scan) {
		for (uint32_t i = 0; i < c->cap; i++)
			if (ctx_drop(c, &c->ent[i], &q))
				vc_remove(c, &c->ent[i]);
	} else if (g == VTD_INV_GLOBAL) {
		vc_invalidate_all(c);
	} else if (g == VTD_INV_DOMAIN) {
		ctx_bucket(c, ctx_did_key(false, did), &q);
		ctx_bucket(c, ctx_did_key(true, 0), &q);
	} else if (g == VTD_INV_DEVICE) {
		uint16_t m = ignored[fm & 3], base = sid & (uint16_t)~m;

		/* Every source-id equal to sid outside the FM-masked bits: 1, 2, 4 or 8 probes. */
		for (uint16_t v = 0; v <= m; v++) {
			struct vc_entry *e;

			if (v & ~m)
				continue;
			e = vc_lookup(c, base | v, 0);
			if (e && ctx_drop(c, e, &q))
				vc_remove(c, e);
		}
	}
	vc_write_end(c);
	xl_unlock(x);
}

static bool pe_drop(const struct vcache *c, const struct vc_entry *e, enum vtd_inv_gran g,
		    uint16_t did, uint32_t pasid)
{
	if (!e->used)
		return false;
	if (!vc_live(c, e))
		return true;
	return g == VTD_INV_GLOBAL || (g == VTD_INV_DOMAIN && vc_pay(c, e)->pe.did == did) ||
	       (g == VTD_INV_PASID && vc_pay(c, e)->pe.did == did && e->k1 == pasid);
}

void vtd_xlate_inv_pasid_cache(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did,
			       uint32_t pasid)
{
	struct vcache *c = &x->pasid;

	xl_lock(x);
	vc_write_begin(c);
	if (x->inv_scan) {
		for (uint32_t i = 0; i < c->cap; i++)
			if (pe_drop(c, &c->ent[i], g, did, pasid))
				vc_remove(c, &c->ent[i]);
	} else if (g == VTD_INV_GLOBAL) {
		vc_invalidate_all(c);
	} else if (g == VTD_INV_DOMAIN || g == VTD_INV_PASID) {
		unsigned int ix = g == VTD_INV_DOMAIN ? PX_DID : PX_PASID;
		uint32_t i = g == VTD_INV_DOMAIN ? vc_index_first(c, PX_DID, did, 3)
						 : vc_index_first(c, PX_PASID,
								  did | ((uint64_t)pasid << 16), 4);

		for (uint32_t n = 0; i != VC_NIL && n < c->cap; n++) {
			struct vc_entry *e = &c->ent[i];

			i = vc_index_next(c, ix, i);
			if (pe_drop(c, e, g, did, pasid))
				vc_remove(c, e);
		}
	}
	vc_write_end(c);
	xl_unlock(x);
}

/* A range [base, base + 2^(12+am)) as page-selective invalidations give it. */
struct inv_range {
	bool all;
	uint64_t first, last;
};

/* 2^am pages at addr (aligned down); a mask of 52 or more covers every address. */
static struct inv_range page_range(uint64_t addr, unsigned int am)
{
	unsigned int sh = 12 + am;
	struct inv_range r = { false, 0, 0 };

	if (am >= 52)
		return (struct inv_range){ true, 0, ~0ULL };
	r.first = addr & ~((1ULL << sh) - 1);
	r.last = r.first + ((1ULL << sh) - 1);
	return r;
}

static bool overlaps(const struct inv_range *r, uint64_t first, uint64_t last)
{
	return r->all || (first <= r->last && last >= r->first);
}

/*
 * One IOTLB-type invalidation. fs selects the PASID-based descriptor (first-stage and
 * nested kinds of did+pasid) versus the IOTLB one (second-stage kinds of did, and nested
 * entries of did whatever the range).
 */
struct inv_req {
	bool global, fs, any_pasid, ih;
	uint16_t did;
	uint32_t pasid;
	struct inv_range rg;
};

/* The entry's owner and the input range it maps. */
struct inv_view {
	uint16_t did;
	uint32_t pasid;
	uint8_t kind;
	uint64_t first, last;
};

static void view_of(const struct vcache *c, bool pwc, const struct vc_entry *e,
		    struct inv_view *v)
{
	if (pwc) {
		const struct vtd_pwc_info *p = &vc_pay(c, e)->pwc;
		unsigned int sh = pwc_shift(p->level);

		v->did = p->did;
		v->pasid = p->pasid;
		v->kind = p->kind;
		v->first = sh < 64 ? e->k1 << sh : 0;
		v->last = sh < 64 ? v->first + ((1ULL << sh) - 1) : ~0ULL;
	} else {
		const struct vtd_tlb_info *t = &vc_pay(c, e)->tlb;
		uint64_t size = 1ULL << tlb_size_shift((unsigned int)FIELD_GET(TLB_SIZE, e->w));

		v->did = t->did;
		v->pasid = t->pasid;
		v->kind = t->kind;
		v->first = t->iova;
		v->last = t->iova + size - 1;
	}
}

/* Whether q drops e: the scope rules above; IH only ever spares paging-structure entries. */
static bool drop(const struct vcache *c, bool pwc, const struct vc_entry *e,
		 const struct inv_req *q)
{
	bool ih = pwc && q->ih;
	struct inv_view v;

	if (!e->used)
		return false;
	if (!vc_live(c, e))
		return true; /* stale: reclaimed while we are here */
	if (q->global)
		return true;
	view_of(c, pwc, e, &v);
	if (v.did != q->did)
		return false;
	if (q->fs)
		return v.kind != VTD_KIND_SS && (q->any_pasid || v.pasid == q->pasid) && !ih &&
		       overlaps(&q->rg, v.first, v.last);
	return v.kind == VTD_KIND_NESTED ||
	       (v.kind == VTD_KIND_SS && !ih && overlaps(&q->rg, v.first, v.last));
}

static void scan_all(struct vcache *c, bool pwc, const struct inv_req *q)
{
	for (uint32_t i = 0; i < c->cap; i++)
		if (drop(c, pwc, &c->ent[i], q))
			vc_remove(c, &c->ent[i]);
}

/* Applies drop() to every entry of one index bucket; a bucket holds at most cap entries. */
static void scan_bucket(struct vcache *c, bool pwc, unsigned int ix, uint64_t k0, uint64_t k1,
			const struct inv_req *q)
{
	uint32_t i = vc_index_first(c, ix, k0, k1);

	for (uint32_t n = 0; i != VC_NIL && n < c->cap; n++) {
		struct vc_entry *e = &c->ent[i];

		i = vc_index_next(c, ix, i); /* before e may leave the bucket */
		if (drop(c, pwc, e, q))
			vc_remove(c, e);
	}
}

static void scan_group(struct vcache *c, bool pwc, const struct inv_req *q, uint8_t kind)
{
	scan_bucket(c, pwc, IX_KIND, q->did | ((uint64_t)kind << 16), 0, q);
}

/*
 * Probes IX_ADDR for every page number of every size the range covers. Returns false,
 * having done nothing, when that is more than PROBE_MAX probes.
 */
static bool scan_range(struct vcache *c, bool pwc, const struct inv_req *q)
{
	unsigned int lo = pwc ? PWC_LEVEL_MIN : 0, hi = pwc ? PWC_LEVEL_MAX : 2;
	uint64_t probes = 0;

	if (q->rg.all)
		return false;
	for (unsigned int s = lo; s <= hi; s++) {
		unsigned int sh = pwc ? pwc_shift(s) : tlb_size_shift(s);

		probes += (q->rg.last >> sh) - (q->rg.first >> sh) + 1;
	}
	if (probes > PROBE_MAX)
		return false;
	for (unsigned int s = lo; s <= hi; s++) {
		unsigned int sh = pwc ? pwc_shift(s) : tlb_size_shift(s);

		for (uint64_t p = q->rg.first >> sh; p <= q->rg.last >> sh; p++)
			scan_bucket(c, pwc, IX_ADDR, q->did | ((uint64_t)s << 16), p, q);
	}
	return true;
}

/* Candidates: a superset of the entries drop() accepts, found through the indexes. */
static void inv_cache(struct vtd_xlate *x, struct vcache *c, bool pwc, const struct inv_req *q)
{
	bool ih = pwc && q->ih;

	/* Nothing live: nothing to drop (stale entries need no visit). */
	if (!c->count && !x->inv_scan)
		return;
	vc_write_begin(c);
	if (q->global && !x->inv_scan) {
		vc_invalidate_all(c);
	} else if (q->global || x->inv_scan || c->nix < IX_COUNT) {
		scan_all(c, pwc, q);
	} else if (q->fs) {
		/* First-stage and nested kinds only; IH=1 spares every PWC entry. */
		if (q->any_pasid) {
			scan_group(c, pwc, q, VTD_KIND_FS);
			scan_group(c, pwc, q, VTD_KIND_NESTED);
		} else if (!ih && !scan_range(c, pwc, q)) {
			scan_bucket(c, pwc, IX_PASID, q->did | ((uint64_t)q->pasid << 16), 1, q);
		}
	} else {
		/* Nested entries go whatever the range; second-stage ones by range unless IH. */
		scan_group(c, pwc, q, VTD_KIND_NESTED);
		if (!ih && !scan_range(c, pwc, q))
			scan_group(c, pwc, q, VTD_KIND_SS);
	}
	vc_write_end(c);
}

static void inv_tlb(struct vtd_xlate *x, const struct inv_req *q)
{
	inv_cache(x, &x->iotlb, false, q);
	inv_cache(x, &x->pwc, true, q);
	if (q->global)
		__atomic_store_n(&x->tlb_sizes, 0, __ATOMIC_RELAXED);
}

void vtd_xlate_inv_iotlb(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
			 unsigned int am, bool ih)
{
	struct inv_req q = { .did = did, .any_pasid = true, .rg = { true, 0, ~0ULL } };

	switch (g) {
	case VTD_INV_GLOBAL:
		q.global = true;
		break;
	case VTD_INV_DOMAIN:
		break;
	case VTD_INV_PAGE:
		q.rg = page_range(addr, am);
		q.ih = ih;
		break;
	default:
		return;
	}
	xl_lock(x);
	inv_tlb(x, &q);
	xl_unlock(x);
}

void vtd_xlate_inv_piotlb(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did, uint32_t pasid,
			  uint64_t addr, unsigned int am, bool ih)
{
	struct inv_req q = { .fs = true, .did = did, .pasid = pasid, .rg = { true, 0, ~0ULL } };

	switch (g) {
	case VTD_INV_DOMAIN: /* every PASID of the domain */
		q.any_pasid = true;
		q.pasid = 0;
		break;
	case VTD_INV_PASID:
		break;
	case VTD_INV_PASID_PAGE:
		q.rg = page_range(addr, am);
		q.ih = ih;
		break;
	default:
		return;
	}
	xl_lock(x);
	inv_tlb(x, &q);
	xl_unlock(x);
}
