/* SPDX-License-Identifier: MIT */
/*
 * Bounded hash caches with CLOCK eviction, used for the context, PASID, IOTLB and
 * paging-structure caches of the VT-d engine.
 *
 * All mutations happen under the owning vtd_xlate's mutex and inside a seqcount write
 * section (vc_write_begin/end) so that vc_lookup_lockless can serve IOTLB hits without
 * taking the lock: it loads every shared word atomically, bounds its chain walk by the
 * capacity and retries nothing: a concurrent writer simply sends the caller to the locked
 * slow path. Fields read locklessly (k0, k1, next, used, ref, gen, w) are always stored
 * with atomic stores.
 *
 * A hit's cost must not grow with the number of cached entries: the slots a lookup reads are
 * 32 bytes (the cold payload is a parallel array, see vc_entry), and arrays of 2 MiB or more
 * are 2 MiB-aligned and advised for transparent huge pages, so that a lookup among 100k
 * entries is one bucket word and one slot line, not also a host TLB miss per array (on a
 * nested host a TLB miss is a two-dimensional page walk).
 *
 * A cache may carry up to VC_MAX_INDEX secondary indexes (doubly-linked bucket lists kept
 * beside the entries, touched only under the lock) so that invalidations can visit the
 * entries a scope names instead of the whole cache; vc_remove unlinks from all of them.
 *
 * Global invalidation is O(1) whatever the capacity: vc_invalidate_all starts a new generation
 * and every entry of an older one is stale (vc_live false): lookups miss it, vc_insert reuses
 * it for the same tag, eviction takes stale entries before any live one, and invalidation
 * scans reclaim the stale entries they meet. The generation is 16 bits: the 65536th global
 * invalidation after a full clear does a full clear instead (amortised O(1)).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "devices/viommu/xlate/xlate-internal.h"

#define LD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static uint32_t vc_hash(const struct vcache *c, uint64_t k0, uint64_t k1)
{
	uint64_t h = (k0 * 0x9E3779B97F4A7C15ULL) ^ (k1 * 0xC2B2AE3D27D4EB4FULL);

	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32)) & c->mask;
}

#define VC_HUGE (2u << 20)

/* Zeroed array of n bytes; huge-page advised from 2 MiB on. Freed with free(). */
static void *vc_alloc(size_t n)
{
	size_t len = (n + VC_HUGE - 1) & ~(size_t)(VC_HUGE - 1);
	void *p;

	if (n < VC_HUGE)
		return calloc(1, n);
	p = aligned_alloc(VC_HUGE, len);
	if (!p)
		return NULL;
	madvise(p, len, MADV_HUGEPAGE); /* advice only: without THP it stays 4 KiB pages */
	memset(p, 0, n);
	return p;
}

/* vc_init without the clear (vc_init_indexed clears once, after adding its indexes). */
static int vc_setup(struct vcache *c, unsigned int cap)
{
	uint32_t nb = 1;

	memset(c, 0, sizeof(*c));
	if (cap == 0 || cap > (1u << 24))
		return -EINVAL;
	while (nb < cap)
		nb <<= 1;
	c->ent = vc_alloc((size_t)cap * sizeof(*c->ent));
	c->pay = vc_alloc((size_t)cap * sizeof(*c->pay));
	c->head = vc_alloc((size_t)nb * sizeof(*c->head));
	if (!c->ent || !c->pay || !c->head) {
		vc_fini(c);
		return -ENOMEM;
	}
	c->cap = cap;
	c->mask = nb - 1;
	return 0;
}

int vc_init(struct vcache *c, unsigned int cap)
{
	int r = vc_setup(c, cap);

	if (!r)
		vc_clear(c);
	return r;
}

/* vc_init plus nix secondary indexes of as many buckets as the main hash. */
int vc_init_indexed(struct vcache *c, unsigned int cap, unsigned int nix)
{
	int r = vc_setup(c, cap);

	if (r)
		return r;
	if (nix > VC_MAX_INDEX) {
		vc_fini(c);
		return -EINVAL;
	}
	for (unsigned int k = 0; k < nix; k++) {
		c->ix[k].head = vc_alloc(((size_t)c->mask + 1) * sizeof(*c->ix[k].head));
		c->ix[k].link = vc_alloc((size_t)cap * sizeof(*c->ix[k].link));
		c->nix = k + 1;
		if (!c->ix[k].head || !c->ix[k].link) {
			vc_fini(c);
			return -ENOMEM;
		}
		memset(c->ix[k].link, 0xFF, (size_t)cap * sizeof(*c->ix[k].link));
	}
	vc_clear(c);
	return 0;
}

void vc_fini(struct vcache *c)
{
	free(c->ent);
	free(c->pay);
	free(c->head);
	for (unsigned int k = 0; k < c->nix; k++) {
		free(c->ix[k].head);
		free(c->ix[k].link);
		c->ix[k].head = NULL;
		c->ix[k].link = NULL;
	}
	c->nix = 0;
	c->ent = NULL;
	c->pay = NULL;
	c->head = NULL;
	c->cap = 0;
}

void vc_write_begin(struct vcache *c)
{
	ST(&c->seq, c->seq + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void vc_write_end(struct vcache *c)
{
	__atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELEASE);
}

/* Empties the cache: all buckets empty, all entries on the free list. */
void vc_clear(struct vcache *c)
{
	for (uint32_t i = 0; i <= c->mask; i++)
		ST(&c->head[i], VC_NIL);
	for (uint32_t i = 0; i < c->cap; i++) {
		/* Free entries are never filed (vc_remove unlinks), so only used ones need it. */
		if (c->ent[i].used)
			for (unsigned int k = 0; k < c->nix; k++)
				c->ix[k].link[i].bucket = VC_NIL;
		ST(&c->ent[i].used, 0);
		ST(&c->ent[i].next, i + 1 < c->cap ? i + 1 : VC_NIL);
	}
	for (unsigned int k = 0; k < c->nix; k++)
		memset(c->ix[k].head, 0xFF, ((size_t)c->mask + 1) * sizeof(*c->ix[k].head));
	c->free_head = 0;
	c->count = 0;
	c->hand = 0;
}

void vc_invalidate_all(struct vcache *c)
{
	uint16_t g = (uint16_t)(c->gen + 1);

	if (g == 0) {
		/* Wrapped: entries 65536 generations old would look live again. */
		vc_clear(c);
	}
	ST(&c->gen, g);
	c->count = 0;
}

static void vi_unlink(struct vc_index *ix, uint32_t idx)
{
	struct vc_link *l = &ix->link[idx];

	if (l->bucket == VC_NIL)
		return;
	if (l->prev == VC_NIL)
		ix->head[l->bucket] = l->next;
	else
		ix->link[l->prev].next = l->next;
	if (l->next != VC_NIL)
		ix->link[l->next].prev = l->prev;
	l->bucket = VC_NIL;
}

/* (Re)files e under keys[k] in index k, for every index of the cache. */
void vc_index_set(struct vcache *c, struct vc_entry *e, const struct vc_key *keys)
{
	uint32_t idx = (uint32_t)(e - c->ent);

	for (unsigned int k = 0; k < c->nix; k++) {
		struct vc_index *ix = &c->ix[k];
		uint32_t b = vc_hash(c, keys[k].k0, keys[k].k1);
		struct vc_link *l = &ix->link[idx];

		vi_unlink(ix, idx);
		l->bucket = b;
		l->prev = VC_NIL;
		l->next = ix->head[b];
		if (l->next != VC_NIL)
			ix->link[l->next].prev = idx;
		ix->head[b] = idx;
	}
}

/* First entry of the bucket (k0, k1) hashes to in index ix, or VC_NIL. */
uint32_t vc_index_first(const struct vcache *c, unsigned int ix, uint64_t k0, uint64_t k1)
{
	return c->ix[ix].head[vc_hash(c, k0, k1)];
}

/* Next entry after i in i's bucket, or VC_NIL. */
uint32_t vc_index_next(const struct vcache *c, unsigned int ix, uint32_t i)
{
	return c->ix[ix].link[i].next;
}

struct vc_entry *vc_lookup(struct vcache *c, uint64_t k0, uint64_t k1)
{
	uint32_t i = c->head[vc_hash(c, k0, k1)];

	/* Chains are built by us, but keep the walk bounded anyway. */
	for (uint32_t n = 0; i != VC_NIL && n < c->cap; n++) {
		struct vc_entry *e = &c->ent[i];

		if (e->k0 == k0 && e->k1 == k1) {
			if (e->gen != c->gen)
				return NULL; /* stale: vc_insert revives it */
			ST(&e->ref, 1);
			return e;
		}
		i = e->next;
	}
	return NULL;
}

bool vc_lookup_lockless(struct vcache *c, uint64_t k0, uint64_t k1, uint64_t *ret_w)
{
	unsigned int s = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
	uint16_t gen = LD(&c->gen);
	uint32_t i, cap = c->cap;
	uint64_t w = 0;
	bool found = false;

	if (s & 1)
		return false;
	i = LD(&c->head[vc_hash(c, k0, k1)]);
	for (uint32_t n = 0; i != VC_NIL && n < cap; n++) {
		struct vc_entry *e;

		if (i >= cap)
			return false;
		e = &c->ent[i];
		if (LD(&e->k0) == k0 && LD(&e->k1) == k1 && LD(&e->used) && LD(&e->gen) == gen) {
			w = LD(&e->w);
			if (!LD(&e->ref))
				ST(&e->ref, 1);
			found = true;
			break;
		}
		i = LD(&e->next);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (LD(&c->seq) != s || !found)
		return false;
	*ret_w = w;
	return true;
}

static void vc_unlink(struct vcache *c, struct vc_entry *e)
{
	uint32_t idx = (uint32_t)(e - c->ent);
	uint32_t *pp = &c->head[vc_hash(c, e->k0, e->k1)];

	for (uint32_t n = 0; *pp != VC_NIL && n < c->cap; n++) {
		if (*pp == idx) {
			ST(pp, e->next);
			return;
		}
		pp = &c->ent[*pp].next;
	}
}

void vc_remove(struct vcache *c, struct vc_entry *e)
{
	if (!e->used)
		return;
	if (e->gen == c->gen)
		c->count--;
	vc_unlink(c, e);
	for (unsigned int k = 0; k < c->nix; k++)
		vi_unlink(&c->ix[k], (uint32_t)(e - c->ent));
	ST(&e->used, 0);
	ST(&e->next, c->free_head);
	c->free_head = (uint32_t)(e - c->ent);
}

/*
 * CLOCK: the hand clears reference bits until it finds an unreferenced entry; a stale entry
 * (older generation) is taken at once and is not counted as an eviction.
 */
static struct vc_entry *vc_evict(struct vcache *c)
{
	for (uint32_t n = 0; n < 2 * c->cap + 1; n++) {
		struct vc_entry *e = &c->ent[c->hand];

		c->hand = c->hand + 1 < c->cap ? c->hand + 1 : 0;
		if (!e->used)
			continue;
		if (e->gen != c->gen) {
			vc_remove(c, e);
			return e;
		}
		if (LD(&e->ref)) {
			ST(&e->ref, 0);
			continue;
		}
		vc_remove(c, e);
		c->evictions++;
		return e;
	}
	return NULL; /* not reached: after one sweep every reference bit is clear */
}

/*
 * Returns a linked entry tagged (k0, k1) whose payload the caller fills (and re-indexes): the
 * live one, a stale one of the same tag revived, or a new one.
 */
struct vc_entry *vc_insert(struct vcache *c, uint64_t k0, uint64_t k1)
{
	uint32_t i = c->head[vc_hash(c, k0, k1)], idx, b;
	struct vc_entry *e;

	for (uint32_t n = 0; i != VC_NIL && n < c->cap; n++) {
		e = &c->ent[i];
		if (e->k0 == k0 && e->k1 == k1) {
			if (e->gen != c->gen) {
				ST(&e->gen, c->gen);
				c->count++;
			}
			ST(&e->ref, 1);
			return e;
		}
		i = e->next;
	}
	if (c->free_head == VC_NIL && !vc_evict(c))
		return NULL;
	idx = c->free_head;
	e = &c->ent[idx];
	c->free_head = e->next;
	b = vc_hash(c, k0, k1);
	ST(&e->k0, k0);
	ST(&e->k1, k1);
	ST(&e->ref, 1);
	ST(&e->gen, c->gen);
	ST(&e->used, 1);
	ST(&e->next, c->head[b]);
	ST(&c->head[b], idx);
	c->count++;
	return e;
}
