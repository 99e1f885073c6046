/* SPDX-License-Identifier: MIT */
/*
 * Shadow mode for host-backed devices on hosts without nesting: invalidated IOVA ranges are
 * re-walked in the guest's second-stage / legacy tables (through gmem, bounded) and the host
 * I/O address space is brought in line with map_iova / unmap_iova, adjacent pages merged.
 * The host never splits a mapping, so a range that cuts through a shadowed mapping is
 * widened to cover it, and the mapping is re-made from the walk.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "devices/viommu/shadow.h"
#include "devices/viommu/viommu-internal.h"
#include "devices/viommu/xlate/vtd-tables.h"
#include "vmm/core/gmem.h"

#define SH_MAX_EXT 4096      /* shadowed mappings per device (beyond: left unmapped, counted) */
#define SH_MIN_EXT 32        /* list capacity at creation; doubled when needed, up to SH_MAX_EXT */
#define SH_MAX_PEND 64       /* queued ranges per flush (beyond: one full re-walk) */
#define SH_MAX_TABLES 8192   /* second-stage tables read per re-walk */
#define SH_PAGE 4096ULL
#define SH_RUN 32            /* table entries compared at once when looking for present ones */

static const uint8_t sh_zero_run[8 * SH_RUN];

struct sh_ext {
	uint64_t iova, len, gpa;
	bool w;
	bool stale; /* its unmap failed: still on the host, wanted by nobody */
	bool match; /* during a sync: an equal entry is in the other list */
};

struct sh_list {
	struct sh_ext *e;
	unsigned int n;
	bool full;
};

struct vtd_shadow {
	struct viommu *v;
	uint16_t sid;
	struct host_iommu hi;
	struct sh_list cur;          /* what the host has, sorted by iova */
	struct sh_list want;         /* the walk's result */
	struct sh_ext *spare;        /* the next cur (swapped with cur after each sync) */
	/*
	 * All three lists hold cap entries: SH_MIN_EXT at creation, doubled (up to SH_MAX_EXT)
	 * when a walk or a merge needs more. A shadow usually needs a few entries, so it does not
	 * start with 3 x 160 KiB; a flush allocates only when its lists grow.
	 */
	unsigned int cap;
	struct { uint64_t s, e; } pend[SH_MAX_PEND];
	unsigned int npend;
	bool pend_all;
	bool did_valid;
	uint16_t did;                /* domain of the last walk (filters DID-selective flushes) */
	bool retry;                  /* a host call failed: the next flush re-walks everything */
	int host_err;                /* the last failed host call's error (0: none yet) */
	bool warned;
	struct vtd_shadow_stats st;
};

/* Grows the three lists to hold need (<= SH_MAX_EXT) entries; false if that fails. */
static bool grow(struct vtd_shadow *s, unsigned int need)
{
	struct sh_ext **lists[] = { &s->cur.e, &s->want.e, &s->spare };
	unsigned int cap = s->cap;

	if (need <= cap)
		return true;
	while (cap < need)
		cap = cap * 2 < SH_MAX_EXT ? cap * 2 : SH_MAX_EXT;
	for (unsigned int i = 0; i < 3; i++) {
		struct sh_ext *p = realloc(*lists[i], cap * sizeof(struct sh_ext));

		if (!p)
			return false; /* the lists grown so far are only larger than s->cap */
		*lists[i] = p;
	}
	s->cap = cap;
	return true;
}

/* ---- what the guest's tables say ---- */

struct sh_walk {
	struct vtd_shadow *s;
	struct sh_list *out;
	uint64_t s0, e0;             /* the range being re-walked */
	unsigned int tables;
};

/* Appends [iova, iova+len) -> gpa, merged with the previous one when contiguous and alike. */
static void emit(struct sh_walk *w, uint64_t iova, uint64_t len, uint64_t gpa, bool wr)
{
	struct sh_list *l = w->out;
	const struct gmem *gm = w->s->v->gm;

	/* Clip to the range and to one guest RAM region (the host maps host memory only). */
	if (iova < w->s0) {
		gpa += w->s0 - iova;
		len -= w->s0 - iova;
		iova = w->s0;
	}
	if (iova + len > w->e0)
		len = w->e0 - iova;
	while (len) {
		const struct gmem_region *g = NULL;
		uint64_t n;

		for (unsigned int i = 0; i < gm->nr_regions && !g; i++)
			if (gpa >= gm->regions[i].gpa && gpa - gm->regions[i].gpa < gm->regions[i].size)
				g = &gm->regions[i];
		if (!g) {
			w->s->st.errors++; /* not RAM (MMIO): cannot be shadowed */
			return;
		}
		n = g->gpa + g->size - gpa < len ? g->gpa + g->size - gpa : len;
		if (l->n && l->e[l->n - 1].iova + l->e[l->n - 1].len == iova &&
		    l->e[l->n - 1].gpa + l->e[l->n - 1].len == gpa && l->e[l->n - 1].w == wr &&
		    gpa != g->gpa) {
			l->e[l->n - 1].len += n;
		} else if (l->n < SH_MAX_EXT && (l->n < w->s->cap || grow(w->s, l->n + 1))) {
			l->e[l->n++] = (struct sh_ext){ .iova = iova, .len = n, .gpa = gpa, .w = wr };
		} else {
			l->full = true;
			return;
		}
		iova += n;
		gpa += n;
		len -= n;
	}
}

/* Walks one second-stage table at level (1 = 4 KiB leaves) for the part inside [s0, e0). */
static void ss_walk(struct sh_walk *w, uint64_t table, unsigned int level, uint64_t base)
{
	unsigned int shift = 12 + 9 * (level - 1);
	uint64_t span = 1ULL << shift;
	unsigned int first = 0, last = 511;
	const uint8_t *ents = NULL;

	if (++w->tables > SH_MAX_TABLES) {
		w->s->st.errors++;
		return;
	}
	if (w->s0 > base)
		first = (unsigned int)((w->s0 - base) >> shift);
	if (w->e0 - 1 < base + 512 * span - 1)
		last = (unsigned int)((w->e0 - 1 - base) >> shift);
	if (last > 511)
		last = 511;
	/*
	 * The entries [first, last] in one look-up when they are all RAM (a full re-walk reads
	 * 512 per table); otherwise one at a time, stopping at the first that is not.
	 */
	if (first <= last)
		ents = gmem_ptr(w->s->v->gm, table + 8ULL * first, 8ULL * (last - first + 1));
	/*
	 * In runs of SH_RUN entries: a run that is all zero bytes (most of a sparse table) is
	 * skipped with one compare; any other run is read entry by entry. Zero entries are not
	 * present, so the result is the same as reading every entry.
	 */
	for (unsigned int run = first; run <= last && !w->out->full; run += SH_RUN) {
		unsigned int end = last - run < SH_RUN ? last : run + SH_RUN - 1;

		if (ents && !memcmp(ents + 8 * (run - first), sh_zero_run, 8ULL * (end - run + 1)))
			continue;
		for (unsigned int i = run; i <= end && !w->out->full; i++) {
			uint64_t pte, iova = base + i * span;

			if (ents)
				pte = le64_load(ents + 8 * (i - first));
			else if (gmem_read_u64s(w->s->v->gm, table + 8ULL * i, &pte, 1))
				return;
			if (!vtd_sspte_r(pte) && !vtd_sspte_w(pte))
				continue;
			if (level == 1 || (level <= 3 && vtd_sspte_ps(pte)))
				emit(w, iova, span, vtd_sspte_addr(pte) & ~(span - 1),
				     vtd_sspte_w(pte));
			else if (level > 1)
				ss_walk(w, vtd_sspte_addr(pte), level - 1, iova);
		}
	}
}

/* Guest RAM, identity: translation off or pass-through. */
static void identity(struct sh_walk *w)
{
	const struct gmem *gm = w->s->v->gm;

	for (unsigned int i = 0; i < gm->nr_regions; i++) {
		uint64_t a = gm->regions[i].gpa, b = a + gm->regions[i].size;

		if (a < w->e0 && w->s0 < b)
			emit(w, a, b - a, a, true);
	}
}

/*
 * The device's translation: its legacy context entry, or its scalable-mode RID_PASID entry.
 * Nothing mapped when any level is absent (the device's DMA is blocked, as in the guest).
 */
static void walk_device(struct sh_walk *w)
{
	struct viommu *v = w->s->v;
	uint64_t rta = vtd_reg_get(v, VTD_RTADDR_REG), root = rta & VTD_RTADDR_ADDR;
	unsigned int devfn = w->s->sid & 0xff, bus = w->s->sid >> 8, aw;
	uint64_t re[2], ce[4], de, pe[VTD_PE_WORDS], sl;

	w->s->st.walks++;
	if (!__atomic_load_n(&v->te, __ATOMIC_ACQUIRE)) {
		identity(w);
		return;
	}
	if (gmem_read_u64s(v->gm, root + 16ULL * bus, re, 2))
		return;
	if (FIELD_GET(VTD_RTADDR_TTM, rta) == 0) {
		if (!vtd_root_p(re) || gmem_read_u64s(v->gm, vtd_root_ctp(re) + 16ULL * devfn, ce, 2) ||
		    !vtd_ctx_p(ce))
			return;
		w->s->did = vtd_ctx_did(ce);
		w->s->did_valid = true;
		if (vtd_ctx_tt(ce) == VTD_CTX_TT_PASSTHROUGH) {
			identity(w);
			return;
		}
		sl = vtd_ctx_slptptr(ce);
		aw = vtd_ctx_aw(ce);
	} else {
		uint32_t rp;

		if (!(devfn < 128 ? vtd_smroot_lp(re) : vtd_smroot_up(re)) ||
		    gmem_read_u64s(v->gm, (devfn < 128 ? vtd_smroot_lctp(re) : vtd_smroot_uctp(re)) +
			 32ULL * (devfn & 0x7f), ce, 4) || !vtd_smctx_p(ce))
			return;
		rp = vtd_smctx_rid_pasid(ce);
		if ((rp >> 6) >= vtd_smctx_dir_entries(ce) ||
		    gmem_read_u64s(v->gm, vtd_smctx_pasiddirptr(ce) + 8ULL * (rp >> 6), &de, 1) ||
		    !vtd_pdire_p(de) ||
		    gmem_read_u64s(v->gm, vtd_pdire_ptp(de) + 64ULL * (rp & 63), pe, VTD_PE_WORDS) ||
		    !vtd_pe_p(pe))
			return;
		w->s->did = vtd_pe_did(pe);
		w->s->did_valid = true;
		if (vtd_pe_pgtt(pe) == VTD_PE_PGTT_PT) {
			identity(w);
			return;
		}
		if (vtd_pe_pgtt(pe) != VTD_PE_PGTT_SS) {
			w->s->st.errors++; /* first-stage / nested tables need a nesting host */
			return;
		}
		sl = vtd_pe_slptptr(pe);
		aw = vtd_pe_aw(pe);
	}
	if (aw < 1 || aw > 3) {
		w->s->st.errors++;
		return;
	}
	/* AW 1/2/3: 3/4/5-level tables (39/48/57-bit). */
	if (w->s0 >> (12 + 9 * (aw + 2)))
		return;
	if (w->e0 > 1ULL << (12 + 9 * (aw + 2)))
		w->e0 = 1ULL << (12 + 9 * (aw + 2));
	ss_walk(w, sl, aw + 2, 0);
}

/* ---- applying the difference ---- */

static bool same(const struct sh_ext *a, const struct sh_ext *b)
{
	return a->iova == b->iova && a->len == b->len && a->gpa == b->gpa && a->w == b->w &&
	       !a->stale && !b->stale;
}

static void *hva_of(struct vtd_shadow *s, uint64_t gpa)
{
	const struct gmem *gm = s->v->gm;

	for (unsigned int i = 0; i < gm->nr_regions; i++)
		if (gpa >= gm->regions[i].gpa && gpa - gm->regions[i].gpa < gm->regions[i].size)
			return gm->regions[i].hva + (gpa - gm->regions[i].gpa);
	return NULL;
}

/* A failed host call: counted, warned about once, and retried by the next flush. */
static void host_failed(struct vtd_shadow *s, const char *what, int r)
{
	s->st.errors++;
	s->retry = true;
	s->host_err = r;
	if (!s->warned)
		log_warn("vtd", "shadow sid %04x: host %s failed: %s (retried at the next flush)",
			 s->sid, what, strerror(-r));
	s->warned = true;
}

static int by_iova(const void *a, const void *b)
{
	const struct sh_ext *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/* The first of cur's entries [lo, n) that ends above a (n if none). cur is sorted by iova. */
static unsigned int first_ending_above(const struct sh_list *cur, unsigned int lo, uint64_t a)
{
	unsigned int hi = cur->n;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (cur->e[mid].iova + cur->e[mid].len <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Brings [s0, e0) of the host in line with the guest's tables. */
static void sync_range(struct vtd_shadow *s, uint64_t s0, uint64_t e0)
{
	struct sh_list *cur = &s->cur, *want = &s->want;
	struct sh_walk w;
	unsigned int lo, hi, nkeep = 0;
	bool stale = false;
	struct sh_ext *merged;
	int r;

	/*
	 * Widen to whole current mappings (the host never splits one). cur is sorted and its
	 * mappings do not overlap, so [lo, hi) are the ones the range touches, and widening to
	 * them touches no other.
	 */
	lo = first_ending_above(cur, 0, s0);
	for (hi = lo; hi < cur->n && cur->e[hi].iova < e0; hi++)
		;
	if (lo < hi) {
		s0 = cur->e[lo].iova < s0 ? cur->e[lo].iova : s0;
		e0 = cur->e[hi - 1].iova + cur->e[hi - 1].len > e0 ?
			     cur->e[hi - 1].iova + cur->e[hi - 1].len : e0;
	}
	want->n = 0;
	want->full = false;
	w = (struct sh_walk){ .s = s, .out = want, .s0 = s0, .e0 = e0 };
	walk_device(&w);
	if (want->full)
		s->st.errors++;
	/*
	 * Pair what the host has with what the walk wants: an equal mapping has the same iova,
	 * found by binary search in [lo, hi) (the walk's list need not be sorted), so a sync costs
	 * O(want log cur), not O(want x cur).
	 */
	for (unsigned int i = lo; i < hi; i++)
		cur->e[i].match = false;
	for (unsigned int k = 0; k < want->n; k++) {
		unsigned int i = first_ending_above(cur, lo, want->e[k].iova);

		want->e[k].match = i < hi && same(&cur->e[i], &want->e[k]);
		if (want->e[k].match)
			cur->e[i].match = true;
	}
	/* Unmap what is no longer wanted, one call per run of adjacent mappings. */
	for (unsigned int i = lo; i < hi;) {
		unsigned int j = i;

		if (cur->e[i].match) {
			i++;
			continue;
		}
		while (j + 1 < hi && cur->e[j + 1].iova == cur->e[j].iova + cur->e[j].len &&
		       !cur->e[j + 1].match)
			j++;
		s->st.unmaps++;
		r = s->hi.ops->unmap_iova(s->hi.be, cur->e[i].iova,
					  cur->e[j].iova + cur->e[j].len - cur->e[i].iova);
		if (r) {
			/* Still on the host: kept in the list, so the retry unmaps them. */
			host_failed(s, "unmap", r);
			for (unsigned int k = i; k <= j; k++)
				cur->e[k].stale = true;
			stale = true;
		} else {
			for (unsigned int k = i; k <= j; k++)
				cur->e[k].len = 0; /* dropped below */
		}
		i = j + 1;
	}
	/* Map what is new. */
	for (unsigned int k = 0; k < want->n; k++) {
		void *hva;

		if (want->e[k].match)
			continue;
		hva = hva_of(s, want->e[k].gpa);
		s->st.maps++;
		if (!hva) {
			s->st.errors++;
			want->e[k].len = 0;
		} else if ((r = s->hi.ops->map_iova(s->hi.be, want->e[k].iova, want->e[k].len, hva,
						     want->e[k].w))) {
			host_failed(s, "map", r);
			want->e[k].len = 0;
		}
	}
	/*
	 * The new list: cur before lo, want, cur from hi (all sorted, none overlapping). It has
	 * at most cur->n + want->n entries; if the lists cannot grow to that, it ends at cap.
	 */
	if (!grow(s, cur->n + want->n < SH_MAX_EXT ? cur->n + want->n : SH_MAX_EXT))
		s->st.errors++;
	merged = s->spare;
	for (unsigned int i = 0; i < lo; i++)
		merged[nkeep++] = cur->e[i];
	for (unsigned int k = 0; k < want->n && nkeep < s->cap; k++)
		if (want->e[k].len)
			merged[nkeep++] = want->e[k];
	for (unsigned int i = lo; stale && i < hi && nkeep < s->cap; i++)
		if (cur->e[i].len && cur->e[i].stale)
			merged[nkeep++] = cur->e[i];
	for (unsigned int i = hi; i < cur->n && nkeep < s->cap; i++)
		merged[nkeep++] = cur->e[i];
	if (stale)
		qsort(merged, nkeep, sizeof(*merged), by_iova);
	s->spare = cur->e;
	cur->e = merged;
	cur->n = nkeep;
}

void vtd_shadow_flush(struct vtd_shadow *s)
{
	if (s && s->retry) {
		s->retry = false;
		s->pend_all = true;
	}
	if (!s || (!s->npend && !s->pend_all))
		return;
	if (s->pend_all)
		sync_range(s, 0, UINT64_MAX);
	else
		for (unsigned int i = 0; i < s->npend; i++)
			sync_range(s, s->pend[i].s, s->pend[i].e);
	s->npend = 0;
	s->pend_all = false;
	trace(TRACE_HOST, "vtd", "shadow sid %04x: %u mappings", s->sid, s->cur.n);
}

/* ---- queueing ---- */

static void queue(struct vtd_shadow *s, uint64_t a, uint64_t b)
{
	if (s->pend_all)
		return;
	/* Merge with a queued range it overlaps or touches (adjacent ranges: one walk). */
	for (unsigned int i = 0; i < s->npend; i++) {
		if (a <= s->pend[i].e && s->pend[i].s <= b) {
			s->pend[i].s = a < s->pend[i].s ? a : s->pend[i].s;
			s->pend[i].e = b > s->pend[i].e ? b : s->pend[i].e;
			return;
		}
	}
	if (s->npend == SH_MAX_PEND) {
		s->pend_all = true;
		return;
	}
	s->pend[s->npend].s = a;
	s->pend[s->npend++].e = b;
}

void vtd_shadow_queue_all(struct vtd_shadow *s)
{
	s->pend_all = true;
}

void vtd_shadow_iotlb(struct vtd_shadow *s, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
		      unsigned int am)
{
	uint64_t size = SH_PAGE << (am > 52 ? 52 : am);

	if (g != VTD_INV_GLOBAL && s->did_valid && did != s->did)
		return;
	if (g == VTD_INV_PAGE || g == VTD_INV_PASID_PAGE)
		queue(s, addr & ~(size - 1), (addr & ~(size - 1)) + size);
	else
		vtd_shadow_queue_all(s);
}

struct vtd_shadow *vtd_shadow_create(struct viommu *v, uint16_t sid, const struct host_iommu *hi)
{
	struct vtd_shadow *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	*s = (struct vtd_shadow){ .v = v, .sid = sid, .hi = *hi, .cap = SH_MIN_EXT };
	/* Not zeroed: only the first n entries of a list are ever read. */
	s->cur.e = malloc(SH_MIN_EXT * sizeof(struct sh_ext));
	s->want.e = malloc(SH_MIN_EXT * sizeof(struct sh_ext));
	s->spare = malloc(SH_MIN_EXT * sizeof(struct sh_ext));
	if (!s->cur.e || !s->want.e || !s->spare) {
		vtd_shadow_destroy(s);
		return NULL;
	}
	vtd_shadow_queue_all(s);
	s->warned = true; /* a failure here is an error of its own, below */
	vtd_shadow_flush(s);
	s->warned = false;
	if (s->host_err) {
		/* The device would have no DMA at all: refuse it (its IOAS goes with the backend). */
		log_err("vtd", "shadow sid %04x: cannot map guest RAM for the device: %s", sid,
			strerror(-s->host_err));
		vtd_shadow_destroy(s);
		return NULL;
	}
	return s;
}

void vtd_shadow_destroy(struct vtd_shadow *s)
{
	if (!s)
		return;
	free(s->cur.e);
	free(s->want.e);
	free(s->spare);
	free(s);
}

void vtd_shadow_get_stats(const struct vtd_shadow *s, struct vtd_shadow_stats *ret)
{
	*ret = s->st;
}
