/* SPDX-License-Identifier: MIT */
/* The vfio-pci unit tests' fake VFIO device fd and test environment (bus, PCI host, IRQs). */
#ifndef NESTVM_VPCI_FAKE_H
#define NESTVM_VPCI_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/pci/pci.h"
#include "devices/vfio/vfio-pci-abi.h"
#include "devices/vfio/vfio-pci.h"
#include "vmm/core/bus.h"
#include "vmm/core/irq.h"

#define ECAM 0xb0000000ULL
#define MMIO 0xc0000000ULL
#define SLOT 5
#define DEV_FD 77
#define EV_BASE 1000
#define NR_EV 64
#define REG_OFF(i) ((uint64_t)(i) << 40)

/* ---- the fake device, validating like vfio-pci does ---- */
struct fake {
	uint32_t dev_flags;
	uint8_t cfg[4096];
	uint8_t bar0[0x4000], bar2[0x8000], bar4[0x20]; /* bar2: room to grow it */
	struct vfd_region_info reg[VFD_PCI_NUM_REGIONS];
	struct vfd_irq_info irq[5];
	uint32_t armed[3];       /* armed vector count per index (vfio-pci allows one index) */
	int armed_fd[3][16];
	unsigned int set_irqs, unmasks, resets, preads, pwrites, mmaps, munmaps, bad;
	uint64_t ev[NR_EV];
	bool ev_open[NR_EV];
	/* Fault injection: call number fail_call (1-based, every seam call; 0 none) fails. */
	unsigned int calls, fail_call;
	int injected;
};

/* The environment: bus, PCI host, fake interrupt controller, the model (d). */
struct env {
	struct fake f;
	struct vfio_dev_sys sys;
	struct bus bus;
	struct irq_chip chip;
	struct pci_host *host;
	struct vfio_pci *d;
	bool level[24];
	unsigned int msis;
	uint64_t msi_addr;
	uint32_t msi_data;
	uint16_t msi_sid;
	char err[160];
};

/* The interrupt of vector v of the armed index fires. */
void fire(struct fake *f, unsigned int index, unsigned int v);
/* The default device: 16 KiB 64-bit BAR0, 8 KiB BAR2 with the MSI-X table and PBA, I/O BAR4. */
void fake_init(struct fake *f);
/* A host with the fake device; the model created in slot SLOT if create. */
struct env *env_new_cfg(unsigned int pasid_bits, bool create);
struct env *env_new(void);
/* Destroys the model and checks it left no eventfd open and no mapping behind. */
void env_free(struct env *e);
struct pci_dev *pd(struct env *e);
uint32_t cfg_rd(struct env *e, unsigned int off, unsigned int size);
void cfg_wr(struct env *e, unsigned int off, uint32_t val, unsigned int size);

#endif
