/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical memory: the only way any nestvm code touches guest RAM (style rule 19).
 *
 * Callers: everyone that reads or writes guest memory (loaders, devices, the vIOMMU walks).
 * Regions are registered at machine build time and are read-only afterwards, so the
 * accessors need no lock. The write accessors tell the write watch (gmem-watch.h) what they
 * wrote; code that writes through gmem_ptr's pointer must do the same (gmem_watch_note). Every access must lie entirely inside one RAM region; the
 * range check is overflow-safe. Nothing here aborts on a bad guest address.
 */
#ifndef NESTVM_GMEM_H
#define NESTVM_GMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_REGIONS 8

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint64_t fd_offset; /* offset of this region in the backing memfd, if any */
};

struct gmem {
	struct gmem_region regions[GMEM_MAX_REGIONS];
	unsigned int nr_regions;
	int memfd;          /* -1 when regions are caller-owned (tests) */
	uint64_t ram_size;  /* total bytes of RAM */
	void *mapping;      /* one mapping of all RAM (the whole memfd, or anonymous) */
	struct gmem_watch *watch; /* NULL, or set once while the machine is built: gmem-watch.h */
};

/*
 * What backs guest RAM. ANON: private anonymous memory, transparent huge pages advised (the
 * host's THP setting for anonymous memory applies; Debian's: always). SHARED: a memfd, whose
 * pages outlive a dropped mapping (pc-testdev's page flush needs that); THP advised, which the
 * host honours only with shmem_enabled advise|always. HUGETLB: a memfd on reserved 2 MiB pages.
 */
enum gmem_backing { GMEM_RAM_ANON, GMEM_RAM_SHARED, GMEM_RAM_HUGETLB };

/*
 * Allocates ram_size bytes of RAM, mapped 2 MiB-aligned. RAM below 4 GiB stops at low_limit
 * (the 32-bit PCI hole starts there; a multiple of 2 MiB); the rest goes at 4 GiB. HUGETLB
 * fails with -errno if the host has no huge pages. Returns 0 or -errno.
 */
int gmem_init_ram_backed(struct gmem *gm, uint64_t ram_size, uint64_t low_limit,
			 enum gmem_backing backing);
/* gmem_init_ram_backed with SHARED, or HUGETLB when hugepages. */
int gmem_init_ram(struct gmem *gm, uint64_t ram_size, uint64_t low_limit, bool hugepages);
/* Initialises an empty map with no regions (for tests and fakes). */
void gmem_init_empty(struct gmem *gm);
/* Adds a caller-owned region; rejects overlap, overflow or a full table with -errno. */
int gmem_add_region(struct gmem *gm, uint64_t gpa, uint64_t size, void *hva);
/* Unmaps and closes what gmem_init_ram created, frees the watch. Accepts a zeroed or half-built gmem. */
void gmem_destroy(struct gmem *gm);

/*
 * Host pointer for [gpa, gpa+len) if the whole range is inside one region, else NULL. A write
 * through it must be followed by gmem_watch_note (gmem-watch.h).
 */
void *gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len);
/* True if [gpa, gpa+len) lies in one RAM region. */
bool gmem_is_ram(const struct gmem *gm, uint64_t gpa, uint64_t len);
/* Copy helpers; 0 or -EFAULT when the range is not entirely inside one region. */
int gmem_read(const struct gmem *gm, uint64_t gpa, void *dst, size_t len);
int gmem_write(const struct gmem *gm, uint64_t gpa, const void *src, size_t len);
/* Little-endian scalar helpers; 0 or -EFAULT. */
int gmem_read_u32(const struct gmem *gm, uint64_t gpa, uint32_t *ret_val);
int gmem_read_u64(const struct gmem *gm, uint64_t gpa, uint64_t *ret_val);
/* n (<= 8) consecutive little-endian 64-bit words, e.g. one table entry; all or -EFAULT. */
int gmem_read_u64s(const struct gmem *gm, uint64_t gpa, uint64_t *ret_vals, unsigned int n);
int gmem_write_u32(const struct gmem *gm, uint64_t gpa, uint32_t val);
int gmem_write_u64(const struct gmem *gm, uint64_t gpa, uint64_t val);
/*
 * Atomic compare-and-exchange of a naturally aligned 64-bit guest word (used for A/D
 * updates). Returns 0 if swapped, -EAGAIN if the current value differed (written to
 * *ret_cur), -EFAULT if not RAM or misaligned.
 */
int gmem_cmpxchg_u64(const struct gmem *gm, uint64_t gpa, uint64_t expect, uint64_t val,
		     uint64_t *ret_cur);

#endif
