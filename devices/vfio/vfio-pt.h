/* SPDX-License-Identifier: MIT */
/*
 * A passthrough device for the board: "-device vfio-pci,host=..." opens an iommufd backend
 * and binds the VFIO cdev to it (or, without /dev/iommu or a cdev, opens a type1 container
 * and the device's VFIO group) and plugs a vfio-pci model into the PCI host. The board then
 * derives the vIOMMU mode from caps (viommu_host_mode), reports it, and attaches the device
 * to the vIOMMU with hi / dev (viommu_attach_host_device).
 */
#ifndef NESTVM_VFIO_PT_H
#define NESTVM_VFIO_PT_H

#include <stddef.h>
#include <stdint.h>

#include "devices/vfio/host-iommu.h"

struct pci_host;
struct pci_dev;
struct vfio_pci;
struct vfio_pt;

struct vfio_pt_info {
	struct host_iommu hi;        /* the device's backend */
	uint32_t dev;                /* its handle there */
	struct host_iommu_caps caps; /* what the host can back */
	char cdev[256];              /* the VFIO cdev that was opened */
};

/* 0 and *ret, or -errno with a one-line reason (-ENOENT / -EINVAL: the user's input). */
int vfio_pt_create(const char *opts, struct pci_host *h, unsigned int slot, struct vfio_pt **ret,
		   struct vfio_pt_info *info, char *err, size_t errlen);
struct pci_dev *vfio_pt_pci_dev(struct vfio_pt *p);
/* The vfio-pci model (its eventfds and interrupt mode, for the machine's irqfd routes). */
struct vfio_pci *vfio_pt_model(struct vfio_pt *p);
/*
 * The backend's fault queue fd (page requests), to poll for readability and then call
 * hi.ops->process_faults; -1 when there is none (type1, or a kernel before 6.11).
 */
int vfio_pt_fault_fd(struct vfio_pt *p);
/* Reads the fault queue once into the vIOMMU: records read (0: none), or -errno. */
int vfio_pt_process_faults(struct vfio_pt *p);
/* Unplugs the model, then closes the backend (every host object and fd). Accepts NULL. */
void vfio_pt_destroy(struct vfio_pt *p);
/* The backend's counters for the exit summary ("" when it has none to report). */
int vfio_pt_format_summary(struct vfio_pt *p, char *buf, size_t len);

#endif
