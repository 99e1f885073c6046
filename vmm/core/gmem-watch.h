/* SPDX-License-Identifier: MIT */
/*
 * Write watch over guest RAM pages: has a watched page been written since a given moment?
 *
 * What it is for: a consumer that keeps copies of guest tables (the vIOMMU's PASID-table
 * snapshots) can skip re-reading a table whose page nobody wrote, instead of comparing it.
 *
 * Who writes guest RAM, and how each write is seen:
 *  - the vCPUs: through a CPU log the machine registers (KVM's dirty log, vmm/kvm-dirty.c);
 *    without one there is no watch at all (gm->watch NULL);
 *  - the VMM's own writers (emulated devices, the vIOMMU): every gmem write accessor notes its
 *    write after making it; a device that wrote through dma_map's host pointers notes it with
 *    dma_written once the bytes are in;
 *  - a writer the VMM cannot see (a passthrough device's DMA): its owner calls
 *    gmem_watch_blind, and from then on every gmem_watch_sync fails: nothing is trusted.
 *
 * Time is an epoch counter. A write to a watched page stamps the page with a new epoch; the
 * CPU's writes are stamped when gmem_watch_sync collects them. A consumer that read a page's
 * content after gmem_watch_sync returned E may trust that content later for as long as
 * gmem_watch_unchanged(page, E) holds, provided the page was watched (gmem_watch_add) before
 * that sync: adding stamps the page, so a copy read before the add is never trusted.
 *
 * Threads: writers call the note functions from any thread, lock-free unless the page is
 * watched; gmem_watch_add / del / sync / sync_bytes take the watch's lock, unchanged is a
 * lock-free load. The watch is created
 * while the machine is built (before any writer runs) and freed with the gmem.
 */
#ifndef NESTVM_GMEM_WATCH_H
#define NESTVM_GMEM_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmem.h"

/* The vCPUs' writes. Both return 0 or -errno (the watch then trusts nothing more). */
struct gmem_cpu_log {
	/* From now on log the CPU's writes to the 4 KiB page at gpa; forget any logged before. */
	int (*protect)(void *opaque, uint64_t gpa);
	/*
	 * For each of the n pages at gpas[i]: ret_written[i] = the CPU wrote it since it was last
	 * protected or collected. Collected pages are logged afresh from here on.
	 */
	int (*collect)(void *opaque, const uint64_t *gpas, unsigned int n, bool *ret_written);
	/* Optional: the bytes a collect now copies besides the pages asked about (KVM: bitmaps). */
	uint64_t (*collect_bytes)(void *opaque);
};

/* Machine build time: creates gm's watch on the CPU log (ops kept, not copied). 0 or -errno. */
int gmem_watch_enable(struct gmem *gm, const struct gmem_cpu_log *log, void *opaque);
/* Frees the watch (gmem_destroy calls it; tests with caller-owned regions call it). */
void gmem_watch_free(struct gmem *gm);

/* A writer nobody can see joined: nothing is trusted from now on. */
void gmem_watch_blind(const struct gmem *gm);
/* True when gm has a watch that can be trusted (a CPU log, not blind). */
bool gmem_watch_on(const struct gmem *gm);

/* Consumers. */
/* One watched page; its fields are the watch's (gmem_watch_unchanged reads last). */
struct gmem_wpage {
	uint64_t last; /* epoch of the last write seen; atomic */
	uint64_t gpa;  /* page-aligned */
	uint32_t refs; /* under the watch's lock */
};
/*
 * Watches the page holding gpa (counted: one gmem_watch_del per add). NULL when gm has no
 * watch, the page is not RAM, or memory or the CPU log failed: the caller then trusts nothing.
 */
struct gmem_wpage *gmem_watch_add(const struct gmem *gm, uint64_t gpa);
void gmem_watch_del(const struct gmem *gm, struct gmem_wpage *p);
/* The page's guest-physical address. */
uint64_t gmem_wpage_gpa(const struct gmem_wpage *p);
/*
 * Collects the CPU's writes; *ret_epoch: the moment after them. 0, or -errno when the watch is
 * blind or its CPU log failed: then trust nothing.
 */
int gmem_watch_sync(const struct gmem *gm, uint64_t *ret_epoch);
/*
 * What a gmem_watch_sync costs beyond a fixed call, in bytes copied (the CPU log's
 * collect_bytes; 0 without it), for a consumer weighing a sync against reading its pages.
 */
uint64_t gmem_watch_sync_bytes(const struct gmem *gm);
/*
 * True if nobody wrote page p after epoch (lock-free, inline: a consumer asks it for every
 * page it kept). Meaningful only after a gmem_watch_sync that returned 0 in the same pass:
 * a watch turns blind only while the machine is built, before any consumer runs.
 */
static inline bool gmem_watch_unchanged(const struct gmem_wpage *p, uint64_t epoch)
{
	return p && __atomic_load_n(&p->last, __ATOMIC_ACQUIRE) <= epoch;
}

/* Writers (after the bytes are in guest RAM). */
void gmem_watch_note_slow(const struct gmem *gm, uint64_t gpa, uint64_t len);
/* Host pointer form, for dma_map users (hva in RAM; a piece may run into the next region). */
void gmem_watch_note_hva(const struct gmem *gm, const void *hva, size_t len);

/* The gmem accessors' hook: free when gm has no watch (the pointer never changes after build). */
static inline void gmem_watch_note(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	if (gm->watch)
		gmem_watch_note_slow(gm, gpa, len);
}

#endif
