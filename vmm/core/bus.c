/* SPDX-License-Identifier: MIT */
/* PIO/MMIO region table with overlap checks and binary-search dispatch. */
#include "bus.h"

#include <errno.h>
#include <string.h>

#include "bits.h"
#include "log.h"

void bus_init(struct bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int bus_add_region(struct bus *bus, enum bus_space space, uint64_t base, uint64_t len,
		   const struct bus_ops *ops, void *opaque, const char *name)
{
	struct bus_region *tab;
	unsigned int n, pos;

	if (space >= BUS_NR_SPACES || len == 0 || range_overflows(base, len) || !ops || !ops->read ||
	    !ops->write)
		return -EINVAL;
	if (space == BUS_PIO && (base > 0xffff || len > 0x10000 - base))
		return -EINVAL;
	tab = bus->regions[space];
	n = bus->nr[space];
	if (n >= BUS_MAX_REGIONS)
		return -ENOSPC;
	for (pos = 0; pos < n && tab[pos].base < base; pos++)
		;
	if (pos > 0 && tab[pos - 1].base + tab[pos - 1].len - 1 >= base)
		return -EEXIST;
	if (pos < n && base + len - 1 >= tab[pos].base)
		return -EEXIST;
	memmove(&tab[pos + 1], &tab[pos], (n - pos) * sizeof(*tab));
	tab[pos] = (struct bus_region){ base, len, ops, opaque, name ? name : "?", NULL };
	bus->nr[space] = n + 1;
	return 0;
}

int bus_set_read_mirror(struct bus *bus, uint64_t base, void *mirror)
{
	struct bus_region *tab = bus->regions[BUS_MMIO];

	for (unsigned int i = 0; i < bus->nr[BUS_MMIO]; i++) {
		if (tab[i].base != base)
			continue;
		if (!mirror || !IS_ALIGNED((uintptr_t)mirror, BUS_MIRROR_PAGE) ||
		    !IS_ALIGNED(base, BUS_MIRROR_PAGE) || !IS_ALIGNED(tab[i].len, BUS_MIRROR_PAGE))
			return -EINVAL;
		tab[i].read_mirror = mirror;
		return 0;
	}
	return -ENOENT;
}

const struct bus_region *bus_find(const struct bus *bus, enum bus_space space, uint64_t addr,
				  unsigned int size)
{
	const struct bus_region *tab = bus->regions[space];
	unsigned int lo = 0, hi = bus->nr[space];

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_region *r = &tab[mid];

		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			/* The whole access must fit; a straddling access is unclaimed. */
			return size <= r->len - (addr - r->base) ? r : NULL;
		}
	}
	return NULL;
}

static const char *const space_names[] = { "pio", "mmio" };

static bool valid_size(unsigned int size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

uint64_t bus_read(struct bus *bus, enum bus_space space, uint64_t addr, unsigned int size)
{
	const struct bus_region *r = valid_size(size) ? bus_find(bus, space, addr, size) : NULL;

	if (!r) {
		__atomic_add_fetch(&bus->unclaimed[space], 1, __ATOMIC_RELAXED);
		trace(TRACE_BUS, "bus", "unclaimed %s read addr=%#llx size=%u", space_names[space],
		      (unsigned long long)addr, size);
		return bus_unclaimed_read(space, size);
	}
	return r->ops->read(r->opaque, addr - r->base, size) & bus_ones(size);
}

void bus_write(struct bus *bus, enum bus_space space, uint64_t addr, uint64_t val, unsigned int size)
{
	const struct bus_region *r = valid_size(size) ? bus_find(bus, space, addr, size) : NULL;

	if (!r) {
		__atomic_add_fetch(&bus->unclaimed[space], 1, __ATOMIC_RELAXED);
		trace(TRACE_BUS, "bus", "unclaimed %s write addr=%#llx size=%u val=%#llx",
		      space_names[space], (unsigned long long)addr, size, (unsigned long long)val);
		return;
	}
	r->ops->write(r->opaque, addr - r->base, val & bus_ones(size), size);
}
