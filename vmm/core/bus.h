/* SPDX-License-Identifier: MIT */
/*
 * The PIO/MMIO bus: maps guest addresses to device callbacks.
 *
 * Callers: the board builder registers regions (bus_add_region) before any vCPU runs; the
 * vCPU run loop dispatches exits (bus_read/bus_write) from any vCPU thread. The region
 * table is never changed after the machine starts, so dispatch takes no lock; devices
 * lock their own state. A device callback always gets an offset and size that lie
 * inside its region (off + size <= len) and size in {1, 2, 4, 8}.
 */
#ifndef NESTVM_BUS_H
#define NESTVM_BUS_H

#include <stdbool.h>
#include <stdint.h>

enum bus_space { BUS_PIO, BUS_MMIO, BUS_NR_SPACES };

struct bus_ops {
	uint64_t (*read)(void *opaque, uint64_t off, unsigned int size);
	void (*write)(void *opaque, uint64_t off, uint64_t val, unsigned int size);
};

struct bus_region {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
	void *read_mirror; /* NULL, or set by bus_set_read_mirror (see there) */
};

#define BUS_MAX_REGIONS 64

struct bus {
	struct bus_region regions[BUS_NR_SPACES][BUS_MAX_REGIONS]; /* sorted by base */
	unsigned int nr[BUS_NR_SPACES];
	uint64_t unclaimed[BUS_NR_SPACES]; /* counters of accesses nobody claimed */
};

void bus_init(struct bus *bus);
/*
 * Registers [base, base+len) in space. Returns 0, -EINVAL (len 0, overflow, PIO beyond
 * 0xffff, missing ops), -EEXIST (overlaps an existing region) or -ENOSPC.
 */
int bus_add_region(struct bus *bus, enum bus_space space, uint64_t base, uint64_t len,
		   const struct bus_ops *ops, void *opaque, const char *name);
/*
 * Offers a read mirror for the MMIO region that starts at base: len bytes of host memory
 * (page-aligned; base and len multiples of BUS_MIRROR_PAGE) holding, at each offset, what a
 * naturally aligned 4- or 8-byte read there returns. The device keeps it equal to its read
 * callback, storing each change as one aligned atomic 4/8-byte store, and a write callback
 * updates it before returning. The machine may then map it into the guest read-only
 * (vmm/kvm.c), so the guest's reads are served from memory without an exit: they no longer
 * reach ops->read, and 1/2-byte or misaligned reads see the mirror's bytes. Writes still exit
 * and reach ops->write. Reads through bus_read always go to ops->read. Call before any vCPU
 * runs. Returns 0, -ENOENT (no MMIO region starts at base) or -EINVAL.
 */
#define BUS_MIRROR_PAGE 4096ULL
int bus_set_read_mirror(struct bus *bus, uint64_t base, void *mirror);
/* Finds the region holding [addr, addr+size); NULL if none holds all of it. */
const struct bus_region *bus_find(const struct bus *bus, enum bus_space space, uint64_t addr,
				  unsigned int size);
/*
 * Dispatch. Unclaimed reads return what QEMU's q35 gives a guest: all-ones of the access size
 * for an I/O port, 0 for memory (bus_unclaimed_read); unclaimed writes are dropped.
 */
uint64_t bus_read(struct bus *bus, enum bus_space space, uint64_t addr, unsigned int size);
void bus_write(struct bus *bus, enum bus_space space, uint64_t addr, uint64_t val, unsigned int size);

static inline uint64_t bus_ones(unsigned int size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* The value of a read nobody claims in space (docs/board.md, "Unclaimed accesses"). */
static inline uint64_t bus_unclaimed_read(enum bus_space space, unsigned int size)
{
	return space == BUS_PIO ? bus_ones(size) : 0;
}

#endif
