/* SPDX-License-Identifier: MIT */
/*
 * Device memory slots: a device model shows host memory it owns (a passthrough BAR's VFIO
 * mmap) to the guest at a guest-physical address, so the hypervisor serves the guest's
 * accesses there without a VM exit, and takes it away again (accesses then exit and reach
 * the bus, which decodes them to the device as before).
 *
 * Callers: device models, through struct memslots (two ops, no KVM in sight). The machine
 * implements it with a memslot_table over KVM_SET_USER_MEMORY_REGION (vmm/kvm.c); tests use
 * the table with a fake hypervisor hook, or their own ops.
 *
 * A slot is not RAM: gmem never sees it, so gmem_read / gmem_ptr / DMA by emulated devices
 * and the vIOMMU's table walks cannot reach device memory (peer-to-peer DMA into a
 * passthrough BAR is not supported).
 */
#ifndef NESTVM_MEMSLOT_H
#define NESTVM_MEMSLOT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/core/gmem.h"

#define MEMSLOT_PAGE 4096ULL /* gpa, size and host pointer must be multiples of this */
#define MEMSLOT_MAX 32       /* device slots per machine */

struct memslot_ops {
	/*
	 * Maps [gpa, gpa + size) to the host memory at hva. 0 and *ret_id, or -EINVAL (not
	 * page-aligned, empty, outside the window the machine allows), -EEXIST (overlaps RAM
	 * or another slot), -ENOSPC (no free slot) or the hypervisor's -errno.
	 */
	int (*add)(void *ctx, uint64_t gpa, uint64_t size, void *hva, unsigned int *ret_id);
	/* Removes a slot add returned; the range traps again. Unknown ids are ignored. */
	void (*remove)(void *ctx, unsigned int id);
};

/* What a device is given: NULL ops = no slots (everything stays trapped). */
struct memslots {
	const struct memslot_ops *ops;
	void *ctx;
};

/*
 * The hypervisor hook of a memslot_table: installs (size != 0) or deletes (size == 0) the
 * hypervisor's slot number slot. 0 or -errno.
 */
typedef int (*memslot_set_fn)(void *ctx, unsigned int slot, uint64_t gpa, uint64_t size,
			      void *hva);

struct memslot_entry {
	bool used;
	uint64_t gpa, size;
	void *hva;
};

struct memslot_stats {
	uint64_t adds, removes, refused; /* refused: add calls that returned an error */
	unsigned int live;               /* slots installed now */
};

/* The machine's device slots: validation, slot numbers and the hook. Fields are private. */
struct memslot_table {
	const struct gmem *ram;        /* never overlapped */
	uint64_t win_base, win_size;   /* where device slots may go (the PCI MMIO window) */
	unsigned int first_slot;       /* hypervisor slot number of entry 0 */
	unsigned int nr;               /* entries usable (<= MEMSLOT_MAX) */
	memslot_set_fn set;            /* NULL: table not initialised */
	void *set_ctx;
	pthread_mutex_t lock;
	struct memslot_entry e[MEMSLOT_MAX];
	struct memslot_stats st;
};

/*
 * Sets up t: entries use hypervisor slots first_slot .. first_slot + nr - 1 (nr is capped at
 * MEMSLOT_MAX), inside [win_base, win_base + win_size), never over ram's regions.
 */
void memslot_table_init(struct memslot_table *t, const struct gmem *ram, uint64_t win_base,
			uint64_t win_size, unsigned int first_slot, unsigned int nr,
			memslot_set_fn set, void *set_ctx);
/* The service to hand to devices. */
void memslot_table_service(struct memslot_table *t, struct memslots *ret);
void memslot_table_stats(struct memslot_table *t, struct memslot_stats *ret);
/* Deletes the slots still installed. Accepts a zeroed (never initialised) table. */
void memslot_table_fini(struct memslot_table *t);

#endif
