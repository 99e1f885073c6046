/* SPDX-License-Identifier: MIT */
/*
 * What the host-backed VT-d tests (test-host-modes, test-host-forward, test-shadow,
 * test-stress) add to the viommu harness: page-aligned guest RAM, since a host backend maps
 * whole host pages as gmem's mmap'd RAM is, and a 256-bit invalidation queue drain.
 */
#ifndef NESTVM_VFIO_TEST_HOST_HARNESS_H
#define NESTVM_VFIO_TEST_HOST_HARNESS_H

#include "devices/viommu/tests/harness.h"

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

#endif
