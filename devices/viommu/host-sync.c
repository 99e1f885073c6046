/* SPDX-License-Identifier: MIT */
/*
 * Host forwarding state from the guest's tables: reads a host-backed device's context and
 * PASID entries, decodes what the host should do and makes it do that (sweeps included).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "common/log.h"
#include "devices/viommu/host-internal.h"
#include "devices/viommu/shadow.h"
#include "devices/viommu/xlate/vtd-tables.h"
#include "vmm/core/gmem.h"
#include "vmm/core/gmem-watch.h"

/* ---- reading the guest's tables (facts §3, §4) ---- */

void vtd_host_read_ctx(struct viommu *v, uint16_t sid, struct ctxv *c)
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
	if (gmem_read_u64s(v->gm, (rta & VTD_RTADDR_ADDR) + (sid >> 8) * 16ULL, re, 2)) {
		c->reason = VTD_FR_SM_ROOT_ACCESS;
		return;
	}
	if (devfn < 128 ? !vtd_smroot_lp(re) : !vtd_smroot_up(re)) {
		c->reason = VTD_FR_SM_ROOT_NOT_PRESENT;
		return;
	}
	if (gmem_read_u64s(v->gm,
			   (devfn < 128 ? vtd_smroot_lctp(re) : vtd_smroot_uctp(re)) + (devfn & 0x7f) * 32ULL,
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
void vtd_host_want_of(struct viommu *v, const struct host_dev *d, const struct ctxv *c,
		      uint32_t key, const uint64_t *pe_in, struct want *w)
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
		if (gmem_read_u64s(v->gm, c->dir + (pasid >> 6) * 8ULL, &de, 1)) {
			w->reason = VTD_FR_SM_PDE_ACCESS;
			return;
		}
		if (!vtd_pdire_p(de)) {
			w->reason = VTD_FR_SM_PDE_NOT_PRESENT;
			return;
		}
		if (gmem_read_u64s(v->gm, vtd_pdire_ptp(de) + (pasid & 63) * 64ULL, pe, VTD_PE_WORDS)) {
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
bool vtd_host_apply(struct viommu *v, unsigned int dev, uint32_t key, struct host_bind *b,
		    const struct want *w)
{
	struct vtd_host *h = v->host;
	struct host_dev *d = &h->devs[dev];
	uint32_t hpasid = key == HOST_RID_KEY ? HOST_PASID_NONE : key;
	uint8_t cur = b ? b->state : HB_BLOCKED;
	uint32_t s1 = 0;
	int r = 0;

	vtd_host_snap_drop(h, dev, key);
	if (b && cur == w->state && (cur != HB_S1 || same_s1(&b->cfg, &w->cfg))) {
		b->did = w->did; /* same translation: nothing for the host */
		b->reason = w->reason;
		b->seen = h->gen;
		if (key != HOST_RID_KEY && absent(w))
			vtd_host_delete_bind(h, b);
		return true;
	}
	if (!b) {
		if (absent(w))
			return true; /* unknown PASID, still absent: blocked on the host already */
		b = vtd_host_new_bind(h, dev, key);
		if (!b) {
			/* No memory to track it: the host has nothing for it, i.e. it is blocked. */
			vtd_host_failed(h, d, OP_MEMORY, key, -ENOMEM);
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
		vtd_host_failed(h, d, w->state == HB_S1 ? OP_ATTACH : OP_PARENT, key, r);
	if (w->state == HB_BLOCKED || r) {
		/* Block: whatever the host had stays only if it refuses the detach too. */
		int rd = cur == HB_BLOCKED ? 0 : d->hi.ops->detach(d->hi.be, d->dev, hpasid);

		if (rd && rd != -ENOENT) {
			vtd_host_failed(h, d, OP_DETACH, key, rd);
			return false;
		}
		if (cur == HB_S1) {
			vtd_host_drop_queued(h, b);
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
			vtd_host_delete_bind(h, b);
		return !r;
	}
	if (cur == HB_S1)
		vtd_host_drop_queued(h, b); /* the old stage-1 is gone with everything queued for it */
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

	vtd_host_snap_drop(h, dev, key);
	if (!found)
		b = vtd_host_find_bind(h, dev, key);
	vtd_host_want_of(v, &h->devs[dev], c, key, pe, &w);
	ok = vtd_host_apply(v, dev, key, b, &w);
	/* Only a new record can have moved the slot array; a deleted one is no longer live. */
	if (!b)
		b = vtd_host_find_bind(h, dev, key);
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

void vtd_host_sync_key(struct viommu *v, unsigned int dev, const struct ctxv *c, uint32_t key,
		       const uint64_t *pe)
{
	sync_key_b(v, dev, c, key, pe, NULL, false);
}

/* ---- PASID-table snapshots: what a global flush can skip ---- */

void vtd_host_snap_drop(struct vtd_host *h, unsigned int dev, uint32_t key)
{
	struct host_dev *d = &h->devs[dev];

	if (key != HOST_RID_KEY && (key >> 6) < d->nr_snap)
		d->snap[key >> 6].valid = false;
}

void vtd_host_snap_free(struct host_dev *d)
{
	for (uint32_t i = 0; i < d->nr_snap; i++) {
		gmem_watch_del(d->v->gm, d->snap[i].wp);
		free(d->snap[i].words);
	}
	free(d->snap);
	d->snap = NULL;
	d->nr_snap = 0;
	d->snaps = 0;
}

/* Nonzero when words 0-2 of some entry of the 64-entry table e differ from words w. */
static NO_COVERAGE uint64_t table_diff(const uint8_t *e, const uint64_t *w)
{
	uint64_t diff = 0;

	for (unsigned int j = 0; j < 64; j++, e += 64, w += 3)
		diff |= (le64_load(e) ^ w[0]) | (le64_load(e + 8) ^ w[1]) |
			(le64_load(e + 16) ^ w[2]);
	return diff;
}

/* Copies words 0-2 of every entry of the 64-entry table e to w (the inverse of table_diff). */
static NO_COVERAGE void table_copy(uint64_t *w, const uint8_t *e)
{
	for (unsigned int j = 0; j < 64; j++, e += 64, w += 3) {
		w[0] = le64_load(e);
		w[1] = le64_load(e + 8);
		w[2] = le64_load(e + 16);
	}
}

/* Bit j set when entry j of the 64-entry table t is present. */
static NO_COVERAGE uint64_t table_present(const uint8_t *t)
{
	uint64_t present = 0;

	for (unsigned int j = 0; j < 64; j++, t += 64)
		present |= (uint64_t)(t[0] & 1) << j;
	return present;
}

/* The valid snapshot of table idx taken through de under the context's RID_PASID and PRE. */
static inline struct host_tsnap *snap_of(const struct host_dev *d, uint64_t idx, uint64_t de,
					 const struct ctxv *c)
{
	struct host_tsnap *s = idx < d->nr_snap ? &d->snap[idx] : NULL;

	if (!s || !s->valid || s->de != de || s->pre != c->pre || s->rid_pasid != c->rid_pasid)
		return NULL;
	return s;
}

/*
 * The snapshot of table idx if this sweep synced the write watch (epoch nonzero) and nobody
 * wrote the table's page since the snapshot was last verified: the table is not read at all.
 * Inline in the directory loop: a few loads per table.
 */
static inline struct host_tsnap *snap_trusted(const struct host_dev *d, uint64_t idx,
					      uint64_t de, const struct ctxv *c, uint64_t epoch)
{
	struct host_tsnap *s = epoch ? snap_of(d, idx, de, c) : NULL;

	return s && gmem_watch_unchanged(s->wp, s->since) ? s : NULL;
}

/*
 * The snapshot of table idx if it still stands for the guest's table at ptp: same directory
 * entry, RID_PASID and PRE, and the same words 0-2 in every entry, compared in place (no copy
 * of the table, no branch per entry); if it matches, it is verified at this epoch. Else NULL.
 */
static struct host_tsnap *snap_match(struct viommu *v, const struct host_dev *d, uint64_t idx,
				     uint64_t de, const struct ctxv *c, uint64_t epoch)
{
	struct host_tsnap *s = snap_of(d, idx, de, c);
	const uint8_t *e;

	if (!s)
		return NULL;
	e = gmem_ptr(v->gm, vtd_pdire_ptp(de), 4096);
	if (!e)
		return NULL;
	v->host->st.tables_compared++;
	if (table_diff(e, s->words))
		return NULL;
	s->since = epoch;
	return s;
}

/*
 * After the sweep processed table idx (page: the 4 KiB it read), counts the live records of
 * its present entries and keeps a snapshot if the records mirror the page exactly: every
 * present entry (but RID_PASID's) has a record whose words were forwarded (raw_valid, so a
 * refused detach, which every walk must retry, is never skipped) and no other PASID of the
 * table has one. A table without records is cheap to read again and gets none; beyond
 * HOST_MAX_SNAP per device (a guest's sparse tables cost 1.5 KiB each), or without memory,
 * a table is simply processed again next time.
 */
static uint32_t snap_take(struct vtd_host *h, unsigned int dev, uint64_t idx, uint64_t de,
			  const struct ctxv *c, const uint8_t *page, uint64_t epoch)
{
	struct host_dev *d = &h->devs[dev];
	struct gmem_wpage *wp;
	struct host_tsnap *s;
	uint64_t *words;
	uint32_t nkeys = 0;
	bool exact = true;

	for (unsigned int j = 0; j < 64; j++) {
		uint32_t pasid = (uint32_t)(idx * 64 + j);
		const struct host_bind *b = vtd_host_find_bind(h, dev, pasid);
		bool present = (page[j * 64] & 1) && pasid != c->rid_pasid;

		if (present && b && b->live)
			nkeys++;
		if (present ? !b || !b->live || !b->raw_valid || b->raw_pre != c->pre : b != NULL)
			exact = false;
	}
	if (!nkeys)
		exact = false;
	if (idx >= d->nr_snap && exact) {
		uint32_t n = d->nr_snap ? d->nr_snap : 16;
		struct host_tsnap *ns;

		while (n <= idx)
			n *= 2;
		ns = realloc(d->snap, n * sizeof(*ns));
		if (!ns)
			return nkeys;
		memset(ns + d->nr_snap, 0, (n - d->nr_snap) * sizeof(*ns));
		d->snap = ns;
		d->nr_snap = n;
	}
	if (idx >= d->nr_snap)
		return nkeys;
	s = &d->snap[idx];
	if (!exact) {
		s->valid = false;
		return nkeys;
	}
	if (!s->words) {
		if (d->snaps >= HOST_MAX_SNAP || !(s->words = malloc(64 * 3 * sizeof(*s->words))))
			return nkeys;
		d->snaps++;
	}
	/*
	 * The page joins the write watch once (adding it is a write by itself: the copy is first
	 * trusted after a later sweep verified it); one that moved leaves it.
	 */
	wp = s->wp;
	if (wp && gmem_wpage_gpa(wp) != vtd_pdire_ptp(de)) {
		gmem_watch_del(d->v->gm, wp);
		wp = NULL;
	}
	if (!wp)
		wp = gmem_watch_add(d->v->gm, vtd_pdire_ptp(de));
	words = s->words;
	*s = (struct host_tsnap){ .valid = true, .pre = c->pre, .rid_pasid = c->rid_pasid,
				  .nkeys = nkeys, .de = de, .wp = wp, .since = epoch, .words = words };
	table_copy(s->words, page);
	return nkeys;
}

/*
 * True when the guest's table at de has no present entry but RID_PASID's (read in place, 64
 * loads): then the walk has nothing to sync and snap_take would find no record to account for
 * (nkeys 0) and keep no snapshot, so its 64 record lookups are skipped; a snapshot the table
 * had is dropped as snap_take would. Such tables are common: Linux's table 0 holds only
 * RID_PASID's entry, and a directory may point at any zeroed page. False when the table is not
 * one readable piece of RAM (the copying path then decides).
 */
static bool table_empty(const struct viommu *v, struct host_dev *d, uint64_t idx, uint64_t de,
			const struct ctxv *c)
{
	const uint8_t *p = gmem_ptr(v->gm, vtd_pdire_ptp(de), 4096);
	uint64_t present;

	if (!p)
		return false;
	present = table_present(p);
	if ((c->rid_pasid >> 6) == idx)
		present &= ~(1ULL << (c->rid_pasid & 63));
	if (present)
		return false;
	if (idx < d->nr_snap)
		d->snap[idx].valid = false;
	return true;
}

/*
 * One present directory entry idx -> table de of the sweep gen: skipped whole if its snapshot
 * matches, else every present entry is synced (the unchanged ones without a decode) and a new
 * snapshot taken. tbl: a 4 KiB buffer. Returns the records it accounted for. Not inlined: the
 * directory scan around it then stays a tight loop over mostly non-present entries.
 */
static __attribute__((noinline)) uint32_t sweep_table(struct viommu *v, unsigned int dev,
						     const struct ctxv *c, uint64_t idx,
						     uint64_t de, uint8_t *tbl, uint32_t gen,
						     uint64_t epoch)
{
	struct vtd_host *h = v->host;
	struct host_tsnap *s = snap_match(v, &h->devs[dev], idx, de, c, epoch);

	if (s) {
		s->seen = gen;
		return s->nkeys;
	}
	if (table_empty(v, &h->devs[dev], idx, de, c))
		return 0;
	if (gmem_read(v->gm, vtd_pdire_ptp(de), tbl, 4096))
		return 0;
	for (unsigned int j = 0; j < 64; j++) {
		uint32_t pasid = (uint32_t)(idx * 64 + j);
		const uint8_t *e = tbl + j * 64;
		uint64_t pe[3];
		struct host_bind *b;

		if (!(e[0] & 1) || pasid == c->rid_pasid)
			continue;
		pe[0] = le64_load(e);
		pe[1] = le64_load(e + 8);
		pe[2] = le64_load(e + 16);
		b = vtd_host_find_bind(h, dev, pasid);
		if (b && b->raw_valid && b->raw_pre == c->pre && b->raw[0] == pe[0] &&
		    b->raw[1] == pe[1] && b->raw[2] == pe[2]) {
			b->seen = gen; /* unchanged since it was forwarded */
			continue;
		}
		sync_key_b(v, dev, c, pasid, pe, b, true);
	}
	return snap_take(h, dev, idx, de, c, tbl, epoch);
}

/*
 * Index of the first present entry of dir[i..n) (n if none). Eight entries are tested at once
 * (their low bytes ORed): a directory sized for 20-bit PASIDs has 16384 entries, nearly all
 * non-present, and is scanned on every global flush.
 */
static NO_COVERAGE unsigned int next_present(const uint8_t *dir, unsigned int i, unsigned int n)
{
	while (i < n) {
		const uint8_t *p = dir + 8 * i;

		if (i + 8 <= n &&
		    !((p[0] | p[8] | p[16] | p[24] | p[32] | p[40] | p[48] | p[56]) & 1)) {
			i += 8;
			continue;
		}
		if (vtd_pdire_p(p[0]))
			return i;
		i++;
	}
	return n;
}

/*
 * Re-reads everything the guest has for one host-backed device: its RID_PASID entry, then
 * every present PASID entry reachable through its PASID directory (bounded by the directory
 * size and the advertised PASID width; cost proportional to present directory entries and
 * tables), then drops what the walk no longer found. Lock held.
 *
 * A table whose snapshot still matches (snap_match: 192 words compared, or none when the
 * write watch saw no write to its page) is skipped whole: its records already say what the
 * host has for its 64 PASIDs. When the walk accounted for every record of the device
 * (seen == nr_keys), no record is left to look for. The watch is asked (one sync, a
 * KVM_GET_DIRTY_LOG) only when the snapshots outweigh it (HOST_WATCH_MIN, HOST_WATCH_BYTES):
 * below, comparing costs less.
 */
void vtd_host_sweep_dev(struct viommu *v, unsigned int dev)
{
	struct vtd_host *h = v->host;
	struct host_dev *d = &h->devs[dev];
	uint32_t gen = ++h->gen, seen = 0;
	uint64_t epoch = 0;
	struct ctxv c;

	vtd_host_read_ctx(v, d->sid, &c);
	d->rid_pasid = c.rid_pasid;
	vtd_host_sync_key(v, dev, &c, HOST_RID_KEY, NULL);
	if (__atomic_load_n(&v->te, __ATOMIC_ACQUIRE) && !c.reason && c.paside &&
	    d->caps.pasid_attach) {
		if (gmem_watch_on(v->gm) &&
		    d->snaps >= HOST_WATCH_MIN + gmem_watch_sync_bytes(v->gm) / HOST_WATCH_BYTES &&
		    gmem_watch_sync(v->gm, &epoch))
			epoch = 0; /* it failed: every table is compared */
		for (uint64_t base = 0; base < c.dir_entries; base += HOST_DIR_CHUNK) {
			unsigned int n = c.dir_entries - base < HOST_DIR_CHUNK ? (unsigned int)(c.dir_entries - base)
									     : HOST_DIR_CHUNK;
			const uint8_t *dir = gmem_ptr(v->gm, c.dir + base * 8, 8u * n);

			if (!dir)
				break; /* the rest faults as not readable when looked up alone */
			for (unsigned int i = next_present(dir, 0, n); i < n;
			     i = next_present(dir, i + 1, n)) {
				uint64_t de = le64_load(dir + 8 * i);
				struct host_tsnap *s = snap_trusted(d, base + i, de, &c, epoch);

				if (s) {
					s->seen = gen;
					seen += s->nkeys;
					h->st.tables_trusted++;
					continue;
				}
				seen += sweep_table(v, dev, &c, base + i, de, h->tbl, gen, epoch);
			}
		}
	}
	if (seen == d->nr_keys)
		return; /* every record was found by the walk */
	/* Records the walk did not reach: their entries are gone (or unreadable) now. */
	for (uint32_t i = 0; i < h->nr_binds; i++) {
		struct host_bind *b = &h->binds[i];
		const struct host_tsnap *s;

		if (!b->live || b->dev != dev || b->key == HOST_RID_KEY || b->seen == gen)
			continue;
		s = (b->key >> 6) < d->nr_snap ? &d->snap[b->key >> 6] : NULL;
		if (s && s->valid && s->seen == gen)
			continue; /* in a table skipped unchanged */
		vtd_host_sync_key(v, dev, &c, b->key, NULL);
		if (b->live && b->key != HOST_RID_KEY)
			b->seen = gen;
	}
}

void vtd_host_sweep_all(struct viommu *v)
{
	struct vtd_host *h = v->host;

	for (unsigned int d = 0; d < HOST_MAX_DEVS; d++) {
		if (!h->devs[d].used)
			continue;
		if (h->devs[d].shadow)
			vtd_shadow_queue_all(h->devs[d].shadow);
		else
			vtd_host_sweep_dev(v, d);
	}
}
