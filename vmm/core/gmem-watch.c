/* SPDX-License-Identifier: MIT */
/* The write watch over guest RAM pages (gmem-watch.h): page records, epochs, the CPU log. */
#include "gmem-watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"

#define WPAGE 4096ULL

struct gmem_watch {
	pthread_mutex_t lock;
	const struct gmem_cpu_log *log;
	void *opaque;
	bool blind;                    /* atomic */
	uint64_t epoch;                /* atomic; advanced under the lock */
	unsigned int nr;               /* watched pages; atomic (writers' early out) */
	uint64_t *bits[GMEM_MAX_REGIONS]; /* one bit per page of region i; atomic words */
	/* Sorted by gpa (lock): the records, and scratch for the CPU log's collect. */
	struct gmem_wpage **pages;
	unsigned int cap;
	uint64_t *gpas;
	bool *written;
};

int gmem_watch_enable(struct gmem *gm, const struct gmem_cpu_log *log, void *opaque)
{
	struct gmem_watch *w;

	if (gm->watch || !log)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	for (unsigned int i = 0; i < gm->nr_regions; i++) {
		w->bits[i] = calloc(((gm->regions[i].size + WPAGE - 1) / WPAGE + 63) / 64, 8);
		if (!w->bits[i]) {
			gm->watch = w;
			gmem_watch_free(gm);
			return -ENOMEM;
		}
	}
	w->log = log;
	w->opaque = opaque;
	gm->watch = w;
	return 0;
}

void gmem_watch_free(struct gmem *gm)
{
	struct gmem_watch *w = gm->watch;

	if (!w)
		return;
	for (unsigned int i = 0; i < w->nr; i++)
		free(w->pages[i]);
	for (unsigned int i = 0; i < GMEM_MAX_REGIONS; i++)
		free(w->bits[i]);
	free(w->pages);
	free(w->gpas);
	free(w->written);
	pthread_mutex_destroy(&w->lock);
	free(w);
	gm->watch = NULL;
}

void gmem_watch_blind(const struct gmem *gm)
{
	if (gm->watch)
		__atomic_store_n(&gm->watch->blind, true, __ATOMIC_SEQ_CST);
}

bool gmem_watch_on(const struct gmem *gm)
{
	return gm->watch && !__atomic_load_n(&gm->watch->blind, __ATOMIC_ACQUIRE);
}

uint64_t gmem_wpage_gpa(const struct gmem_wpage *p)
{
	return p->gpa;
}

/* Region index of [gpa, gpa + len) (len >= 1), or -1. */
static int region_of(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < gm->nr_regions; i++) {
		const struct gmem_region *r = &gm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return (int)i;
	}
	return -1;
}

/* Index of the first record with gpa >= page (lock). */
static unsigned int lower(const struct gmem_watch *w, uint64_t page)
{
	unsigned int lo = 0, hi = w->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (w->pages[mid]->gpa < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void set_bit_of(const struct gmem *gm, int ri, uint64_t page, bool on)
{
	uint64_t pfn = (page - gm->regions[ri].gpa) / WPAGE;
	uint64_t *word = &gm->watch->bits[ri][pfn / 64], m = 1ULL << (pfn % 64);

	if (on)
		__atomic_fetch_or(word, m, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(word, ~m, __ATOMIC_SEQ_CST);
}

/* Room for one more record and its collect scratch (lock). */
static int grow(struct gmem_watch *w)
{
	unsigned int n = w->cap ? 2 * w->cap : 64;
	struct gmem_wpage **p;
	uint64_t *g;
	bool *b;

	if (w->nr < w->cap)
		return 0;
	p = realloc(w->pages, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	w->pages = p;
	g = realloc(w->gpas, n * sizeof(*g));
	if (!g)
		return -ENOMEM;
	w->gpas = g;
	b = realloc(w->written, n * sizeof(*b));
	if (!b)
		return -ENOMEM;
	w->written = b;
	w->cap = n;
	return 0;
}

/*
 * The page is protected (the CPU's writes logged) and its bit set before the caller reads it;
 * its stamp is a new epoch, so no copy the caller read before this call is ever trusted.
 */
struct gmem_wpage *gmem_watch_add(const struct gmem *gm, uint64_t gpa)
{
	struct gmem_watch *w = gm->watch;
	uint64_t page = gpa & ~(WPAGE - 1);
	struct gmem_wpage *p = NULL;
	unsigned int at;
	int ri;

	if (!w || (ri = region_of(gm, page, WPAGE)) < 0)
		return NULL;
	pthread_mutex_lock(&w->lock);
	at = lower(w, page);
	if (at < w->nr && w->pages[at]->gpa == page) {
		p = w->pages[at];
		p->refs++;
		goto out;
	}
	if (grow(w) || !(p = calloc(1, sizeof(*p))))
		goto out;
	if (w->log->protect(w->opaque, page)) {
		free(p);
		p = NULL;
		goto out;
	}
	p->gpa = page;
	p->refs = 1;
	memmove(w->pages + at + 1, w->pages + at, (w->nr - at) * sizeof(*w->pages));
	w->pages[at] = p;
	__atomic_store_n(&w->nr, w->nr + 1, __ATOMIC_SEQ_CST);
	set_bit_of(gm, ri, page, true);
	__atomic_store_n(&p->last, __atomic_add_fetch(&w->epoch, 1, __ATOMIC_SEQ_CST),
			 __ATOMIC_SEQ_CST);
out:
	pthread_mutex_unlock(&w->lock);
	return p;
}

void gmem_watch_del(const struct gmem *gm, struct gmem_wpage *p)
{
	struct gmem_watch *w = gm->watch;
	unsigned int at;

	if (!w || !p)
		return;
	pthread_mutex_lock(&w->lock);
	if (--p->refs == 0) {
		at = lower(w, p->gpa);
		set_bit_of(gm, region_of(gm, p->gpa, WPAGE), p->gpa, false);
		memmove(w->pages + at, w->pages + at + 1, (w->nr - at - 1) * sizeof(*w->pages));
		__atomic_store_n(&w->nr, w->nr - 1, __ATOMIC_SEQ_CST);
		free(p);
	}
	pthread_mutex_unlock(&w->lock);
}

uint64_t gmem_watch_sync_bytes(const struct gmem *gm)
{
	struct gmem_watch *w = gm->watch;
	uint64_t n;

	if (!w || !w->log->collect_bytes)
		return 0;
	pthread_mutex_lock(&w->lock);
	n = w->log->collect_bytes(w->opaque);
	pthread_mutex_unlock(&w->lock);
	return n;
}

int gmem_watch_sync(const struct gmem *gm, uint64_t *ret_epoch)
{
	struct gmem_watch *w = gm->watch;
	int ret = 0;

	if (!gmem_watch_on(gm))
		return -EPERM;
	pthread_mutex_lock(&w->lock);
	for (unsigned int i = 0; i < w->nr; i++)
		w->gpas[i] = w->pages[i]->gpa;
	if (w->nr && (ret = w->log->collect(w->opaque, w->gpas, w->nr, w->written))) {
		/* Writes may have gone unseen: nothing is trusted from here on. */
		__atomic_store_n(&w->blind, true, __ATOMIC_SEQ_CST);
	} else {
		for (unsigned int i = 0; i < w->nr; i++)
			if (w->written[i])
				__atomic_store_n(&w->pages[i]->last,
						 __atomic_add_fetch(&w->epoch, 1, __ATOMIC_SEQ_CST),
						 __ATOMIC_SEQ_CST);
	}
	*ret_epoch = __atomic_load_n(&w->epoch, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&w->lock);
	return ret;
}

/*
 * A writer's note, after its bytes are in. The fence orders those bytes before the look at the
 * bits, and pairs with the one in gmem_watch_add's atomic bit update: either the writer sees
 * the page watched and stamps it, or the consumer's read after the add sees the bytes.
 */
void gmem_watch_note_slow(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	struct gmem_watch *w = gm->watch;
	uint64_t first, last, base;
	const uint64_t *bits;
	bool hit = false;
	int ri;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&w->nr, __ATOMIC_RELAXED) || !len || (ri = region_of(gm, gpa, 1)) < 0)
		return;
	base = gm->regions[ri].gpa;
	if (len > gm->regions[ri].size - (gpa - base))
		len = gm->regions[ri].size - (gpa - base); /* the accessors never cross a region */
	bits = w->bits[ri];
	first = (gpa - base) / WPAGE;
	last = (gpa - base + len - 1) / WPAGE;
	for (uint64_t pfn = first; pfn <= last && !hit; pfn++)
		hit = __atomic_load_n(&bits[pfn / 64], __ATOMIC_RELAXED) & (1ULL << (pfn % 64));
	if (!hit)
		return;
	pthread_mutex_lock(&w->lock);
	for (uint64_t pfn = first; pfn <= last; pfn++) {
		uint64_t page = base + pfn * WPAGE;
		unsigned int at = lower(w, page);

		if (at < w->nr && w->pages[at]->gpa == page)
			__atomic_store_n(&w->pages[at]->last,
					 __atomic_add_fetch(&w->epoch, 1, __ATOMIC_SEQ_CST),
					 __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&w->lock);
}

/* A merged dma_map piece may run from one region's host mapping into the next one's. */
void gmem_watch_note_hva(const struct gmem *gm, const void *hva, size_t len)
{
	const uint8_t *h = hva;

	if (!gm->watch)
		return;
	while (len) {
		const struct gmem_region *r = NULL;
		uint64_t n;

		for (unsigned int i = 0; i < gm->nr_regions && !r; i++) {
			const struct gmem_region *g = &gm->regions[i];

			if (h >= g->hva && (uint64_t)(h - g->hva) < g->size)
				r = g;
		}
		if (!r)
			return;
		n = r->size - (uint64_t)(h - r->hva);
		if (n > len)
			n = len;
		gmem_watch_note_slow(gm, r->gpa + (uint64_t)(h - r->hva), n);
		h += n;
		len -= n;
	}
}
