/* SPDX-License-Identifier: MIT */
/*
 * The vfio-pci passthrough device model: a host PCI function (a VFIO device fd) shown to the
 * guest with a virtualised config space (IDs and BARs from the host, BAR sizing, command
 * register, MSI / MSI-X / PCIe capabilities emulated by devices/pci, vendor-specific
 * capabilities passed through, a PASID capability synthesised when the host reports PASID
 * support), BARs VFIO allows to be mmapped put into the guest as memory slots (no exits)
 * while the guest decodes them, other BAR accesses served from the mmap or by pread/pwrite, interrupts taken from VFIO eventfds (VFIO_DEVICE_SET_IRQS) and
 * delivered through devices/pci (so masking and the vIOMMU's interrupt remapping apply), and
 * device reset through VFIO_DEVICE_RESET.
 *
 * Callers: the board builder (vmm/board-devices.c) through vfio-pt.h, and the unit tests
 * (with a fake device behind the vfio_dev_sys seam). The device fd stays the caller's.
 */
#ifndef NESTVM_VFIO_PCI_H
#define NESTVM_VFIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct memslots; /* vmm/core/memslot.h */
struct pci_dev;
struct pci_host;
struct vfio_dev_sys; /* the syscall seam (vfio-pci-abi.h); NULL = the real system calls */
struct vfio_pci;

struct vfio_pci_config {
	unsigned int pasid_bits; /* host-reported PASID width: 0 = no PASID capability */
	bool irq_thread;         /* poll the eventfds on a thread (real runs; tests call service) */
	/*
	 * Show the host function's ATS / PRI capabilities (when it has them) to the guest, with
	 * the enables virtualised: the host kernel owns the real ones. PRI also needs ATS.
	 */
	bool ats, pri;
	/* The guest turned its PRI enable on or off (also off at reset); may be NULL. */
	void (*pri_changed)(void *opaque, bool enabled);
	void *opaque;
};

/* Which VFIO interrupt index is armed. */
enum vfio_pci_irq_mode { VFIO_PCI_IRQ_NONE, VFIO_PCI_IRQ_INTX, VFIO_PCI_IRQ_MSI, VFIO_PCI_IRQ_MSIX };

/* BAR memory slots of one BAR (vfio_pci_set_memslots). */
struct vfio_pci_bar_stats {
	uint64_t maps, unmaps;  /* times the BAR went into the guest / came out of it */
	uint64_t refused;       /* slot requests the machine refused (the BAR stayed trapped) */
	uint64_t gpa, bytes;    /* where and how much was mapped the last time */
};

struct vfio_pci_stats {
	uint64_t set_irqs;       /* VFIO_DEVICE_SET_IRQS calls */
	uint64_t irqs;           /* eventfd signals delivered (MSI vectors and INTx assertions) */
	uint64_t bar_mmap, bar_trap; /* BAR accesses served from the mmap / by pread-pwrite */
	uint64_t cfg_passthrough; /* guest config writes forwarded to the device */
	uint64_t resets;         /* VFIO_DEVICE_RESET calls */
	struct vfio_pci_bar_stats slots[6]; /* per BAR (PCI_NUM_BARS) */
};

/*
 * "host=PATH": PATH is a VFIO cdev (/dev/vfio/devices/vfioN), a sysfs device directory
 * (/sys/bus/pci/devices/DDDD:BB:DD.F, or its vfio-dev/vfioN) or a bare DDDD:BB:DD.F. Fills
 * host with PATH. 0 or -EINVAL with a one-line message.
 */
int vfio_pci_parse_options(const char *opts, char *host, size_t hostlen, char *err, size_t errlen);
/*
 * Turns a host= value into the cdev path. 0, -ENOENT (the path does not exist) or -ENODEV
 * (not a VFIO device / not bound to vfio-pci), with a one-line message.
 */
int vfio_pci_resolve_host(const char *host, char *cdev, size_t len, char *err, size_t errlen);

/*
 * Reads the device's regions, IRQs and config space through fd, builds the guest view and
 * plugs it into h at slot. NULL with a one-line reason in err.
 */
struct vfio_pci *vfio_pci_create(const struct vfio_dev_sys *sys, int fd, struct pci_host *h,
				 unsigned int slot, const struct vfio_pci_config *cfg, char *err,
				 size_t errlen);
/* Disarms the interrupts, unmaps the BARs, unplugs the device. Accepts NULL. */
void vfio_pci_destroy(struct vfio_pci *d);
struct pci_dev *vfio_pci_dev(struct vfio_pci *d);
/* The host function has ATS and PRI capabilities (it can send page requests). */
bool vfio_pci_host_pri(struct vfio_pci *d);

/*
 * Delivers what the armed eventfds signalled (MSI / MSI-X vectors through pci_msi_notify,
 * INTx as a level). Never blocks. Returns how many signals were delivered.
 */
int vfio_pci_service(struct vfio_pci *d);
/*
 * The eventfd of vector n of the armed index (for KVM_IRQFD), or -1. The machine that
 * registers it must stop calling vfio_pci_service for it.
 */
int vfio_pci_irq_eventfd(struct vfio_pci *d, unsigned int n);
enum vfio_pci_irq_mode vfio_pci_irq_mode(struct vfio_pci *d, unsigned int *ret_count);
/*
 * End of an INTx interrupt (the guest's EOI): lowers the line and unmasks it in VFIO (a still
 * asserted device signals again). Also done on the first BAR access after an assertion.
 */
void vfio_pci_intx_eoi(struct vfio_pci *d);
/*
 * The host mapping of a whole BAR: 0, or -ENOENT when the BAR is not mmapped or holds the
 * MSI-X table. The machine maps BARs through vfio_pci_set_memslots instead (which also maps
 * the MSI-X BAR around its table); this stays for inspection and tests.
 */
int vfio_pci_bar_map(struct vfio_pci *d, unsigned int bar, void **ret, uint64_t *ret_size);
void vfio_pci_get_stats(struct vfio_pci *d, struct vfio_pci_stats *ret);
/*
 * Lets the model put its mmap-able BARs into the guest as memory slots (ms NULL: stop, and
 * trap everything again). A BAR is mapped while memory decode is on and its address is one
 * the service accepts (the PCI MMIO window, clear of RAM and other slots); reprogramming
 * moves it, disabling decode or a reset removes it. The MSI-X table's and PBA's pages stay
 * trapped (the BAR is split around them), and so does every BAR while an INTx interrupt
 * waits for its end (the model sees the driver's first BAR access as the EOI). ms is
 * copied. Call before the vCPUs run, or from any thread later.
 */
void vfio_pci_set_memslots(struct vfio_pci *d, const struct memslots *ms);

#endif
