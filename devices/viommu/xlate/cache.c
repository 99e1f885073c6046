/* SPDX-License-Identifier: MIT */
/*
 * Bounded hash caches with CLOCK eviction, used for the context, PASID, IOTLB and
 * paging-structure caches of the VT-d engine.
 *
 * All mutations happen under the owning vtd_xlate's mutex and inside a seqcount write
 * section (vc_write_begin/end) so that vc_lookup_lockless can serve IOTLB hits without
 * taking the lock: it loads every shared word atomically, bounds its chain walk by the
 * capacity and retries nothing: a concurrent writer simply sends the caller to the locked
 * slow path. Fields read locklessly (k0, k1, next, used, ref, u.tlb.w) are always stored
 * with atomic stores.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/viommu/xlate/xlate-internal.h"

#define LD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static uint32_t vc_hash(const struct vcache *c, uint64_t k0, uint64_t k1)
{
	uint64_t h = (k0 * 0x9E3779B97F4A7C15ULL) ^ (k1 * 0xC2B2AE3D27D4EB4FULL);

	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32)) & c->mask;
}

int vc_init(struct vcache *c, unsigned int cap)
{
	uint32_t nb = 1;

	memset(c, 0, sizeof(*c));
	if (cap == 0 || cap > (1u << 24))
		return -EINVAL;
	while (nb < cap)
		nb <<= 1;
	c->ent = calloc(cap, sizeof(*c->ent));
	c->head = malloc(nb * sizeof(*c->head));
	if (!c->ent || !c->head) {
		vc_fini(c);
		return -ENOMEM;
	}
	c->cap = cap;
	c->mask = nb - 1;
	vc_clear(c);
	return 0;
}

void vc_fini(struct vcache *c)
{
	free(c->ent);
	free(c->head);
	c->ent = NULL;
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
		ST(&c->ent[i].used, 0);
		ST(&c->ent[i].next, i + 1 < c->cap ? i + 1 : VC_NIL);
	}
	c->free_head = 0;
	c->count = 0;
	c->hand = 0;
}

struct vc_entry *vc_lookup(struct vcache *c, uint64_t k0, uint64_t k1)
{
	uint32_t i = c->head[vc_hash(c, k0, k1)];

	/* Chains are built by us, but keep the walk bounded anyway. */
	for (uint32_t n = 0; i != VC_NIL && n < c->cap; n++) {
		struct vc_entry *e = &c->ent[i];

		if (e->k0 == k0 && e->k1 == k1) {
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
		if (LD(&e->k0) == k0 && LD(&e->k1) == k1 && LD(&e->used)) {
			w = LD(&e->u.tlb.w);
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
	vc_unlink(c, e);
	ST(&e->used, 0);
	ST(&e->next, c->free_head);
	c->free_head = (uint32_t)(e - c->ent);
	c->count--;
}

/* CLOCK: the hand clears reference bits until it finds an unreferenced entry. */
static struct vc_entry *vc_evict(struct vcache *c)
{
	for (uint32_t n = 0; n < 2 * c->cap + 1; n++) {
		struct vc_entry *e = &c->ent[c->hand];

		c->hand = c->hand + 1 < c->cap ? c->hand + 1 : 0;
		if (!e->used)
			continue;
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

/* Returns a linked entry tagged (k0, k1) whose payload the caller fills. */
struct vc_entry *vc_insert(struct vcache *c, uint64_t k0, uint64_t k1)
{
	struct vc_entry *e = vc_lookup(c, k0, k1);
	uint32_t idx, b;

	if (e)
		return e;
	if (c->free_head == VC_NIL && !vc_evict(c))
		return NULL;
	idx = c->free_head;
	e = &c->ent[idx];
	c->free_head = e->next;
	b = vc_hash(c, k0, k1);
	ST(&e->k0, k0);
	ST(&e->k1, k1);
	ST(&e->ref, 1);
	ST(&e->used, 1);
	ST(&e->next, c->head[b]);
	ST(&c->head[b], idx);
	c->count++;
	return e;
}
