/* SPDX-License-Identifier: MIT */
/* The machine's table of device memory slots: validates, numbers and installs them. */
#include "memslot.h"

#include <errno.h>
#include <string.h>

#include "bits.h"

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a <= b + blen - 1 && b <= a + alen - 1;
}

void memslot_table_init(struct memslot_table *t, const struct gmem *ram, uint64_t win_base,
			uint64_t win_size, unsigned int first_slot, unsigned int nr,
			memslot_set_fn set, void *set_ctx)
{
	memset(t, 0, sizeof(*t));
	t->ram = ram;
	t->win_base = win_base;
	t->win_size = win_size;
	t->first_slot = first_slot;
	t->nr = nr < MEMSLOT_MAX ? nr : MEMSLOT_MAX;
	t->set = set;
	t->set_ctx = set_ctx;
	pthread_mutex_init(&t->lock, NULL);
}

/* Lock held. 0 if [gpa, gpa + size) may become a slot, else -EINVAL or -EEXIST. */
static int check_range(const struct memslot_table *t, uint64_t gpa, uint64_t size, const void *hva)
{
	if (!size || !hva || !IS_ALIGNED(gpa, MEMSLOT_PAGE) || !IS_ALIGNED(size, MEMSLOT_PAGE) ||
	    !IS_ALIGNED((uintptr_t)hva, MEMSLOT_PAGE) || range_overflows(gpa, size))
		return -EINVAL;
	if (gpa < t->win_base || gpa - t->win_base > t->win_size ||
	    size > t->win_size - (gpa - t->win_base))
		return -EINVAL;
	for (unsigned int i = 0; t->ram && i < t->ram->nr_regions; i++)
		if (overlap(gpa, size, t->ram->regions[i].gpa, t->ram->regions[i].size))
			return -EEXIST;
	for (unsigned int i = 0; i < t->nr; i++)
		if (t->e[i].used && overlap(gpa, size, t->e[i].gpa, t->e[i].size))
			return -EEXIST;
	return 0;
}

static int table_add(void *ctx, uint64_t gpa, uint64_t size, void *hva, unsigned int *ret_id)
{
	struct memslot_table *t = ctx;
	unsigned int id = t->nr;
	int r;

	pthread_mutex_lock(&t->lock);
	r = t->set ? check_range(t, gpa, size, hva) : -ENODEV;
	for (unsigned int i = 0; !r && i < t->nr && id == t->nr; i++)
		if (!t->e[i].used)
			id = i;
	if (!r && id == t->nr)
		r = -ENOSPC;
	if (!r)
		r = t->set(t->set_ctx, t->first_slot + id, gpa, size, hva);
	if (r) {
		t->st.refused++;
		pthread_mutex_unlock(&t->lock);
		return r;
	}
	t->e[id] = (struct memslot_entry){ .used = true, .gpa = gpa, .size = size, .hva = hva };
	t->st.adds++;
	t->st.live++;
	pthread_mutex_unlock(&t->lock);
	*ret_id = id;
	return 0;
}

/* Lock held. A failed delete leaves nothing we could retry: the entry is freed anyway. */
static void remove_locked(struct memslot_table *t, unsigned int id)
{
	t->set(t->set_ctx, t->first_slot + id, t->e[id].gpa, 0, t->e[id].hva);
	t->e[id] = (struct memslot_entry){ 0 };
	t->st.removes++;
	t->st.live--;
}

static void table_remove(void *ctx, unsigned int id)
{
	struct memslot_table *t = ctx;

	pthread_mutex_lock(&t->lock);
	if (id < t->nr && t->e[id].used)
		remove_locked(t, id);
	pthread_mutex_unlock(&t->lock);
}

static const struct memslot_ops table_ops = { .add = table_add, .remove = table_remove };

void memslot_table_service(struct memslot_table *t, struct memslots *ret)
{
	*ret = (struct memslots){ .ops = &table_ops, .ctx = t };
}

void memslot_table_stats(struct memslot_table *t, struct memslot_stats *ret)
{
	pthread_mutex_lock(&t->lock);
	*ret = t->st;
	pthread_mutex_unlock(&t->lock);
}

void memslot_table_fini(struct memslot_table *t)
{
	if (!t->set)
		return;
	pthread_mutex_lock(&t->lock);
	for (unsigned int i = 0; i < t->nr; i++)
		if (t->e[i].used)
			remove_locked(t, i);
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_destroy(&t->lock);
	t->set = NULL;
}
