/* SPDX-License-Identifier: MIT */
/*
 * The vfio-pci model's BAR memory slots: puts the mmap-able parts of its BARs into the guest
 * through the machine's memslot service while the guest decodes them, so the guest's accesses
 * there cause no VM exit, and takes them out again (accesses trap to the PCI host and reach
 * the model) when decode goes off, the BAR moves, the machine resets, or an INTx interrupt
 * needs its end seen.
 *
 * MSI-X: the table and the PBA are emulated by devices/pci, so their pages must trap. The
 * BAR is split into up to three slots around those pages (page-aligned outward); device
 * registers that share a page with the table or PBA are trapped with it and served from the
 * mmap through the exit path, which is correct, only slower.
 */
#include <string.h>

#include "devices/vfio/vfio-pci-internal.h"

_Static_assert(PCI_NUM_BARS == 6, "vfio_pci_stats.slots has one entry per BAR");

static uint64_t page_down(uint64_t v)
{
	return v & ~(MEMSLOT_PAGE - 1);
}

/* v is below a region size (at most 2^62 here), so this cannot overflow. */
static uint64_t page_up(uint64_t v)
{
	return (v + MEMSLOT_PAGE - 1) & ~(MEMSLOT_PAGE - 1);
}

/* Removes [lo, hi) from the n ordered pieces in p (room for n + 1); returns the new count. */
static unsigned int cut(struct vpci_piece *p, unsigned int n, uint64_t lo, uint64_t hi)
{
	struct vpci_piece out[VPCI_BAR_PIECES + 1];
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t a = p[i].off, b = p[i].off + p[i].len;

		if (hi <= a || lo >= b) {
			out[k++] = p[i];
			continue;
		}
		if (a < lo)
			out[k++] = (struct vpci_piece){ a, lo - a };
		if (hi < b)
			out[k++] = (struct vpci_piece){ hi, b - hi };
	}
	memcpy(p, out, k * sizeof(*p));
	return k;
}

unsigned int vpci_bar_pieces(struct vfio_pci *d, unsigned int bar,
			     struct vpci_piece ret[VPCI_BAR_PIECES])
{
	const struct vpci_region *r = &d->bars[bar];
	const struct pci_msix_state *x = &d->pci.msix;
	struct vpci_piece p[VPCI_BAR_PIECES + 1];
	enum pci_bar_type t = d->pci.bars[bar].type;
	unsigned int n = 1;

	/* map_bars mmapped only page-aligned regions: every piece below is page-aligned. */
	if (!r->map || !r->size || (t != PCI_BAR_MEM32 && t != PCI_BAR_MEM64))
		return 0;
	p[0] = (struct vpci_piece){ 0, r->size };
	if (bar == d->msix_bar && x->nr) {
		/* One cut of a single piece makes at most two, the second at most three. */
		n = cut(p, n, page_down(x->table_off),
			page_up((uint64_t)x->table_off + x->nr * PCI_MSIX_ENTRY_SIZE));
		n = cut(p, n, page_down(x->pba_off),
			page_up((uint64_t)x->pba_off + (x->nr + 63) / 64 * 8));
	}
	memcpy(ret, p, n * sizeof(*p));
	return n;
}

/* map_lock held. Takes slot s out of the guest. */
static void slot_remove(struct vfio_pci *d, struct vpci_slot *s)
{
	d->ms.ops->remove(d->ms.ctx, s->id);
	*s = (struct vpci_slot){ 0 };
}

/* map_lock held. One BAR: slots for pieces p[0..n) at base when on, none when not. */
static void sync_bar(struct vfio_pci *d, unsigned int bar, const struct vpci_piece *p,
		     unsigned int n, bool on, uint64_t base)
{
	struct vfio_pci_bar_stats *st = &d->bst[bar];
	bool removed = false, added = false;
	uint64_t bytes = 0;

	for (unsigned int k = 0; k < VPCI_BAR_PIECES; k++) {
		struct vpci_slot *s = &d->slots[bar][k];

		if (s->on && (!on || k >= n || s->gpa != base + p[k].off || s->off != p[k].off ||
			      s->len != p[k].len)) {
			slot_remove(d, s);
			removed = true;
		}
	}
	for (unsigned int k = 0; on && k < n; k++) {
		struct vpci_slot *s = &d->slots[bar][k];
		unsigned int id;

		if (!s->on) {
			if (d->ms.ops->add(d->ms.ctx, base + p[k].off, p[k].len,
					   (uint8_t *)d->bars[bar].map + p[k].off, &id)) {
				st->refused++;
				continue;
			}
			*s = (struct vpci_slot){ .on = true, .gpa = base + p[k].off, .off = p[k].off,
						 .len = p[k].len, .id = id };
			added = true;
		}
		bytes += s->len;
	}
	st->unmaps += removed;
	if (added) {
		st->maps++;
		st->gpa = base;
		st->bytes = bytes;
	}
}

void vpci_bar_sync(struct vfio_pci *d)
{
	bool intx_wait, decode;

	pthread_mutex_lock(&d->map_lock);
	if (!d->ms.ops) {
		pthread_mutex_unlock(&d->map_lock);
		return;
	}
	pthread_mutex_lock(&d->lock);
	intx_wait = d->mode == VFIO_PCI_IRQ_INTX && d->intx_asserted;
	pthread_mutex_unlock(&d->lock);
	decode = pci_config_get(&d->pci, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
	for (unsigned int bar = 0; bar < PCI_NUM_BARS; bar++) {
		struct vpci_piece p[VPCI_BAR_PIECES];
		unsigned int n = vpci_bar_pieces(d, bar, p);
		uint64_t base = n ? pci_bar_addr(&d->pci, bar) : 0;

		/*
		 * Address 0 is where an unassigned BAR sits; beyond that, which addresses are
		 * acceptable (the PCI MMIO window, clear of RAM and other slots) is the
		 * service's call: a refused piece simply stays trapped.
		 */
		sync_bar(d, bar, p, n, n && decode && !intx_wait && base &&
			 base + d->bars[bar].size > base, base);
	}
	pthread_mutex_unlock(&d->map_lock);
}

void vpci_bar_unmap_all(struct vfio_pci *d)
{
	pthread_mutex_lock(&d->map_lock);
	for (unsigned int bar = 0; d->ms.ops && bar < PCI_NUM_BARS; bar++)
		sync_bar(d, bar, NULL, 0, false, 0);
	d->ms = (struct memslots){ 0 };
	pthread_mutex_unlock(&d->map_lock);
}

void vfio_pci_set_memslots(struct vfio_pci *d, const struct memslots *ms)
{
	vpci_bar_unmap_all(d);
	pthread_mutex_lock(&d->map_lock);
	d->ms = ms && ms->ops ? *ms : (struct memslots){ 0 };
	pthread_mutex_unlock(&d->map_lock);
	vpci_bar_sync(d);
}
