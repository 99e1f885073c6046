/* SPDX-License-Identifier: MIT */
/*
 * Internal state of the VT-d translation engine shared by xlate.c, walk.c, cache.c and the
 * unit tests / benchmark of this folder.
 */
#ifndef NESTVM_VTD_XLATE_INTERNAL_H
#define NESTVM_VTD_XLATE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/viommu/xlate/vtd-tables.h"
#include "devices/viommu/xlate/xlate.h"

#define VTD_NO_PASID 0xFFFFFFFFu
#define VC_NIL 0xFFFFFFFFu

/* Permission / state bits kept with cached translations. */
#define VTD_P_R 0x01u
#define VTD_P_W 0x02u
#define VTD_P_X 0x04u
#define VTD_P_U 0x08u  /* user-accessible (all first-stage U/S bits were 1) */
#define VTD_P_D 0x10u  /* first-stage leaf D already set (a write hit needs no walk) */
#define VTD_P_SW 0x20u /* the last (second) stage allows writes; VTD_P_W is the FS R/W */
#define VTD_P_ALL (VTD_P_R | VTD_P_W | VTD_P_X | VTD_P_U | VTD_P_D)

/* Translation kinds; decide which invalidations drop an entry. */
enum vtd_kind {
	VTD_KIND_SS = 0,    /* legacy second-stage, SM second-stage-only, pass-through */
	VTD_KIND_FS = 1,    /* SM first-stage-only */
	VTD_KIND_NESTED = 2 /* SM nested */
};

/* Decoded, validated context entry (legacy or scalable). */
struct vtd_ctx_info {
	bool sm, fpd;
	uint8_t tt, levels;       /* legacy */
	uint16_t did;             /* legacy */
	uint64_t slptptr;         /* legacy */
	bool dte, paside, pre;    /* SM */
	uint64_t dir_entries;     /* SM: 2^(PDTS+7) */
	uint64_t pasiddir;        /* SM */
	uint32_t rid_pasid;       /* SM */
};

/* Decoded, validated PASID directory + PASID table entry. */
struct vtd_pasid_info {
	bool fpd;
	uint8_t pgtt, ss_levels, fs_levels;
	uint16_t did;
	bool sre, ere, wpe, eafe, slee;
	uint64_t slptptr, flptptr;
};

/*
 * IOTLB payload packed in one word so the lock-free reader loads it atomically:
 * 63:12 output page base, 11:10 page size code (0 4K, 1 2M, 2 1G),
 * 9:7 SRE/ERE/WPE copies from the PASID entry, 5:0 VTD_P_*.
 */
#define TLB_OUT GENMASK_ULL(63, 12)
#define TLB_SIZE GENMASK_ULL(11, 10)
#define TLB_SRE BIT_ULL(9)
#define TLB_ERE BIT_ULL(8)
#define TLB_WPE BIT_ULL(7)
#define TLB_PERM GENMASK_ULL(5, 0)

/* An IOTLB entry's packed word is the hot word of its slot (vc_entry.w); the rest is cold. */
struct vtd_tlb_info {
	uint64_t iova;         /* page-aligned input address */
	uint16_t did;
	uint32_t pasid;        /* effective PASID, VTD_NO_PASID for legacy */
	uint8_t kind;          /* enum vtd_kind */
};

/* Paging-structure cache payload: address of the next table (a GPA after any SS step). */
struct vtd_pwc_info {
	uint64_t table;
	uint8_t perm;          /* VTD_P_* accumulated down to this entry */
	uint8_t level;         /* level of the cached entry (its table holds level-1 entries) */
	uint16_t did;
	uint32_t pasid;        /* VTD_NO_PASID for second-stage structures */
	uint8_t kind;          /* VTD_KIND_*: SS structures vs FS/nested */
	bool tsw;              /* nested: the second stage lets us store A/D into that table */
};

/*
 * A cache slot holds only what a lookup touches (32 bytes, two per host cache line): the tag,
 * the chain, the state bits and one hot payload word (the IOTLB's packed translation, read by
 * the lock-free hit). The rest of the payload lives in a parallel array (vc_pay) that only the
 * locked side reads, so that a hit at 100k cached entries touches one line of a compact array.
 */
struct vc_entry {
	uint64_t k0, k1;       /* tag */
	uint64_t w;            /* hot payload word (IOTLB: packed as TLB_* above) */
	uint32_t next;         /* hash chain or free list */
	uint16_t gen;          /* the cache's generation when filled: live only while equal */
	uint8_t used, ref;
};

union vc_payload {
	struct vtd_ctx_info ctx;
	struct vtd_pasid_info pe;
	struct vtd_tlb_info tlb;
	struct vtd_pwc_info pwc;
};

/*
 * Secondary index of a cache: every entry sits in at most one bucket, chosen by a key the
 * owner gives (vc_index_set). Only the locked side (invalidation) uses it; buckets may mix
 * keys that hash alike, so users filter what they find.
 */
#define VC_MAX_INDEX 3
struct vc_link {
	uint32_t next, prev, bucket; /* bucket VC_NIL: not indexed */
};
struct vc_index {
	uint32_t *head;
	struct vc_link *link;
};
struct vc_key {
	uint64_t k0, k1;
};

/*
 * A bounded hash cache with CLOCK (second-chance LRU approximation) eviction. Mutated only
 * under vtd_xlate.lock; every mutation runs inside a seqcount write section so the IOTLB
 * can be read without the lock (vc_lookup_lockless).
 */
struct vcache {
	struct vc_entry *ent;
	union vc_payload *pay; /* cold payload of ent[i] at pay[i] */
	uint32_t *head;
	uint32_t cap, mask, hand, count, free_head; /* count: live entries */
	unsigned int seq;
	uint16_t gen;          /* bumped by vc_invalidate_all: older entries are stale */
	uint64_t evictions;
	unsigned int nix;      /* secondary indexes in use (IOTLB and PWC: 3, see inv.c) */
	struct vc_index ix[VC_MAX_INDEX];
};

/*
 * A slot holds a live entry when it is in use and of the cache's current generation. Stale
 * slots (used, older generation) stay linked until reused: vc_insert revives one of the same
 * tag, eviction takes them first, invalidation scans reclaim those they meet.
 */
static inline union vc_payload *vc_pay(const struct vcache *c, const struct vc_entry *e)
{
	return &c->pay[e - c->ent];
}

static inline bool vc_live(const struct vcache *c, const struct vc_entry *e)
{
	return e->used && e->gen == c->gen;
}

struct vtd_xlate {
	const struct gmem *gm;
	struct vtd_caps caps;
	pthread_mutex_t lock;
	uint64_t rtaddr;       /* latched RTADDR */
	uint64_t haw_mask;     /* bits haw..51 (reserved address bits in entries) */
	struct vcache ctx, pasid, iotlb, pwc;
	uint8_t tlb_sizes;     /* bit n: IOTLB may hold entries of size code n */
	bool inv_scan;         /* tests and bench only: invalidate by scanning every entry */
	uint64_t hits, misses, walks, faults;
};

/*
 * The engine's lock. A thread that holds it across several invalidations (vtd_xlate_hold, a
 * queue drain) does not take it again: xl_batch is that thread's engine (thread-local, so no
 * other thread ever reads it).
 */
extern __thread const struct vtd_xlate *xl_batch;

static inline void xl_lock(struct vtd_xlate *x)
{
	if (xl_batch != x)
		pthread_mutex_lock(&x->lock);
}

static inline void xl_unlock(struct vtd_xlate *x)
{
	if (xl_batch != x)
		pthread_mutex_unlock(&x->lock);
}

/* cache.c */
int vc_init(struct vcache *c, unsigned int cap);
void vc_fini(struct vcache *c);
struct vc_entry *vc_lookup(struct vcache *c, uint64_t k0, uint64_t k1);
struct vc_entry *vc_insert(struct vcache *c, uint64_t k0, uint64_t k1);
void vc_remove(struct vcache *c, struct vc_entry *e);
void vc_clear(struct vcache *c);
/* Drops every entry in O(1): a new generation (a full vc_clear once every 65536). */
void vc_invalidate_all(struct vcache *c);
bool vc_lookup_lockless(struct vcache *c, uint64_t k0, uint64_t k1, uint64_t *ret_w);
void vc_write_begin(struct vcache *c);
void vc_write_end(struct vcache *c);
int vc_init_indexed(struct vcache *c, unsigned int cap, unsigned int nix);
void vc_index_set(struct vcache *c, struct vc_entry *e, const struct vc_key *keys);
uint32_t vc_index_first(const struct vcache *c, unsigned int ix, uint64_t k0, uint64_t k1);
uint32_t vc_index_next(const struct vcache *c, unsigned int ix, uint32_t i);

/* inv.c: files a freshly filled IOTLB / paging-structure cache entry in the indexes. */
void vtd_tlb_index(struct vcache *c, struct vc_entry *e);
void vtd_pwc_index(struct vcache *c, struct vc_entry *e);
void vtd_ctx_index(struct vcache *c, struct vc_entry *e);
void vtd_pe_index(struct vcache *c, struct vc_entry *e);

/* Cache keys. */
static inline uint64_t tlb_k0(uint16_t sid, bool has_pasid, uint32_t pasid, unsigned int size)
{
	return (uint64_t)sid | (has_pasid ? BIT_ULL(16) | ((uint64_t)pasid << 17) : 0) |
	       ((uint64_t)size << 40);
}

static inline unsigned int tlb_size_shift(unsigned int code)
{
	return 12 + 9 * code;
}

/* ctx.c: context / PASID entry from the caches or the tables; 0 or a reason. */
int vtd_get_ctx(struct vtd_xlate *x, uint16_t sid, bool sm, struct vtd_ctx_info *ci, bool *fpd);
int vtd_get_pasid(struct vtd_xlate *x, uint16_t sid, const struct vtd_ctx_info *ci, uint32_t pasid,
		  struct vtd_pasid_info *pi, bool *fpd);

/* walk.c: resolve a request to a translation; returns 0 or a VTD_FR_* reason. */
struct vtd_walk_out {
	uint64_t tlb_w;        /* packed result as in struct vtd_tlb_info.w */
	uint16_t did;
	uint32_t pasid;
	uint8_t kind;          /* enum vtd_kind */
	bool fpd;              /* for faults: FPD of the context / PASID-dir / PASID entry */
	bool cacheable;
};
int vtd_walk_legacy(struct vtd_xlate *x, const struct vtd_ctx_info *ci, const struct dma_req *req,
		    uint64_t iova, struct vtd_walk_out *out);
int vtd_walk_sm(struct vtd_xlate *x, const struct vtd_pasid_info *pi, uint32_t pasid,
		const struct dma_req *req, uint64_t iova, struct vtd_walk_out *out);
/* Request permission check against a packed translation: 0 or a VTD_FR_* reason. */
int vtd_check_access(const struct dma_req *req, uint64_t w, bool sm, bool *ret_rewalk);

#endif
