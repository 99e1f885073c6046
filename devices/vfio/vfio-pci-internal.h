/* SPDX-License-Identifier: MIT */
/* State of the vfio-pci model shared by its config-space part and its interrupt part. */
#ifndef NESTVM_VFIO_PCI_INTERNAL_H
#define NESTVM_VFIO_PCI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci/pci.h"
#include "vmm/core/memslot.h"
#include "devices/vfio/vfio-pci-abi.h"
#include "devices/vfio/vfio-pci.h"

#define VPCI_MAX_PT 8          /* vendor-specific capabilities passed through */
#define VPCI_MAX_VECTORS PCI_MSIX_MAX_VECTORS

struct vpci_region {
	uint32_t flags;
	uint64_t size, offset;
	void *map;             /* mmap of the whole region, or NULL: pread/pwrite */
};

/*
 * Up to three pieces of a BAR go into the guest as memory slots: around the MSI-X table's
 * and the PBA's pages, which stay trapped.
 */
#define VPCI_BAR_PIECES 3

/* One piece of a BAR: [off, off + len) of the region, mapped at the BAR address + off. */
struct vpci_piece {
	uint64_t off, len;
};

/* A memory slot the model installed. */
struct vpci_slot {
	bool on;
	uint64_t gpa, off, len;
	unsigned int id;
};

/* A guest config range backed by the device's own bytes at host offset. */
struct vpci_pt {
	unsigned int guest, host, len;
};

struct vfio_pci {
	struct pci_dev pci;
	struct vfio_dev_sys sys;
	int fd;
	uint32_t dev_flags;
	struct vpci_region bars[PCI_NUM_BARS];
	struct vpci_region config;
	struct vfd_irq_info irq_info[3]; /* INTx, MSI, MSI-X */
	unsigned int msix_bar;   /* PCI_NUM_BARS: no MSI-X */
	struct vpci_pt pt[VPCI_MAX_PT];
	unsigned int nr_pt;
	bool host_ats, host_pri;  /* the host function's extended capabilities */
	unsigned int pri_off;     /* the guest's (virtual) PRI capability, 0: none */
	bool guest_pri;           /* its enable bit, as last reported */
	void (*pri_changed)(void *opaque, bool enabled);
	void *pri_opaque;

	/* BAR memory slots (vfio-pci-bar.c); taken before lock, never while holding it. */
	pthread_mutex_t map_lock;
	struct memslots ms;      /* ops NULL: everything trapped */
	struct vpci_slot slots[PCI_NUM_BARS][VPCI_BAR_PIECES];
	struct vfio_pci_bar_stats bst[PCI_NUM_BARS];

	pthread_mutex_t lock;    /* everything below */
	enum vfio_pci_irq_mode mode;
	unsigned int nr_efd;
	int *efd;                /* nr_efd eventfds of the armed index */
	bool intx_asserted;
	struct vfio_pci_stats st;

	bool thread_on;
	pthread_t thread;
	int wake_fd;
	volatile bool stop;
};

/* vfio-pci-irq.c */
/* Arms the VFIO index the guest's MSI / MSI-X / INTx state calls for (no-op if armed). */
void vpci_irq_update(struct vfio_pci *d);
/* Disarms whatever is armed and closes its eventfds; if VFIO refuses, keeps it unless force. */
void vpci_irq_disarm(struct vfio_pci *d, bool force);
int vpci_irq_thread_start(struct vfio_pci *d);
void vpci_irq_thread_stop(struct vfio_pci *d);
/* vfio-pci-bar.c */
/*
 * Which pieces of BAR bar may become memory slots (the region's mmap minus the MSI-X
 * table's and PBA's pages, page-aligned). Returns how many (0 when the BAR stays trapped).
 */
unsigned int vpci_bar_pieces(struct vfio_pci *d, unsigned int bar,
			     struct vpci_piece ret[VPCI_BAR_PIECES]);
/*
 * Brings the slots in line with the guest's view: memory decode on, BAR address, and no
 * INTx assertion waiting for its end-of-interrupt (that must trap). Never holds d->lock.
 */
void vpci_bar_sync(struct vfio_pci *d);
/* Removes every slot and forgets the service (destroy, before the mmaps go). */
void vpci_bar_unmap_all(struct vfio_pci *d);

/* The real system calls. */
extern const struct vfio_dev_sys vpci_real_sys;

#endif
