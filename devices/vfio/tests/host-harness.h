/* SPDX-License-Identifier: MIT */
/*
 * What the host-backed VT-d tests (test-host-modes, test-host-forward, test-shadow,
 * test-stress) add to the viommu harness: page-aligned guest RAM, since a host backend maps
 * whole host pages as gmem's mmap'd RAM is, a 256-bit invalidation queue drain, and a write
 * watch whose CPU log sees the tests' own stores into RAM (h_watch_enable).
 */
#ifndef NESTVM_VFIO_TEST_HOST_HARNESS_H
#define NESTVM_VFIO_TEST_HOST_HARNESS_H

#include "devices/viommu/tests/harness.h"
#include "vmm/core/gmem-watch.h"

/* Re-homes the harness RAM on a page-aligned buffer (zeroed, as h_new leaves it). */
static inline void h_page_aligned_ram(struct harness *h)
{
	uint8_t *ram = aligned_alloc(4096, H_RAM_SIZE);

	ck_assert_ptr_nonnull(ram);
	memset(ram, 0, H_RAM_SIZE);
	free(h->ram);
	h->ram = ram;
	h->gm.regions[0].hva = ram;
}

/*
 * Writes n descriptors (2 qwords each, 256-bit queue of 8 KiB at qbase) plus a wait that
 * stores 0x77 at status, moves IQT, and asserts the queue ran without an IQE and the wait
 * completed. *tail is the caller's queue tail.
 */
static inline void h_drain256(struct harness *h, uint64_t qbase, uint64_t status,
			      unsigned int *tail, const uint64_t (*d)[2], unsigned int n)
{
	for (unsigned int i = 0; i <= n; i++) {
		memset(h->ram + qbase + *tail, 0, 32);
		h_put64(h, qbase + *tail, i < n ? d[i][0] : 0x5 | (1 << 5) | (0x77ULL << 32));
		h_put64(h, qbase + *tail + 8, i < n ? d[i][1] : status);
		*tail = (*tail + 32) % 8192;
	}
	w64(h, VTD_IQT_REG, *tail);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE, 0);
	ck_assert_uint_eq(le32_load(h->ram + status), 0x77);
	le32_store(h->ram + status, 0);
}

/*
 * A CPU log for the tests, whose "CPU" is the test writing h->ram directly: it keeps a copy of
 * each protected page and reports a page written when its bytes differ from the copy (a store
 * that changes nothing cannot matter to a reader). deaf: reports nothing, to show what the
 * watch makes the vIOMMU skip. bytes: the cost it claims for a collect.
 */
#define H_WATCH_PAGES 256
struct h_cpu_log {
	const struct gmem *gm;
	uint64_t gpa[H_WATCH_PAGES];
	uint8_t copy[H_WATCH_PAGES][4096];
	unsigned int n;
	bool deaf;
	uint64_t bytes; /* what it says a collect copies (collect_bytes) */
};

static inline uint8_t *h_log_copy(struct h_cpu_log *l, uint64_t gpa)
{
	for (unsigned int i = 0; i < l->n; i++)
		if (l->gpa[i] == gpa)
			return l->copy[i];
	ck_assert_uint_lt(l->n, H_WATCH_PAGES);
	l->gpa[l->n] = gpa;
	return l->copy[l->n++];
}

static inline int h_log_protect(void *o, uint64_t gpa)
{
	struct h_cpu_log *l = o;
	const void *p = gmem_ptr(l->gm, gpa, 4096);

	ck_assert_ptr_nonnull(p);
	memcpy(h_log_copy(l, gpa), p, 4096);
	return 0;
}

static inline int h_log_collect(void *o, const uint64_t *gpas, unsigned int n, bool *ret)
{
	struct h_cpu_log *l = o;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t *c = h_log_copy(l, gpas[i]);
		const void *p = gmem_ptr(l->gm, gpas[i], 4096);

		ret[i] = !l->deaf && memcmp(c, p, 4096);
		memcpy(c, p, 4096);
	}
	return 0;
}

static inline uint64_t h_log_bytes(void *o)
{
	return ((const struct h_cpu_log *)o)->bytes;
}

static const struct gmem_cpu_log h_log_ops = { h_log_protect, h_log_collect, h_log_bytes };

/* Gives h's gmem a write watch on log (the RAM already where it stays). */
static inline void h_watch_enable(struct harness *h, struct h_cpu_log *l)
{
	memset(l, 0, sizeof(*l));
	l->gm = &h->gm;
	ck_assert_int_eq(gmem_watch_enable(&h->gm, &h_log_ops, l), 0);
}

#endif
