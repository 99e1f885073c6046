/* SPDX-License-Identifier: MIT */
/*
 * devices/vfio: host IOMMU backends behind the host_iommu interface (hostsim, iommufd) and
 * their life cycle, for the board builder and the launcher.
 *
 * The vIOMMU only ever sees struct host_iommu (host-iommu.h). This header creates backends,
 * adds devices to them and reads their statistics. hostsim also hands out the DMA address
 * space of a simulated passthrough device: its DMA is translated by the host simulator from
 * what was forwarded to it, never by the vIOMMU's emulated path.
 */
#ifndef NESTVM_VFIO_H
#define NESTVM_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/vfio/host-iommu.h"
#include "vmm/core/dma.h"

struct gmem;

/* ---- hostsim: a host IOMMU simulator ---- */
struct hostsim;

/* Calls per kind, and what the simulated hardware did (monotonic since create). */
struct hostsim_stats {
	uint64_t get_caps, map_ram, unmap_ram;
	uint64_t attach;        /* attach_s1 on an unbound (dev, pasid) */
	uint64_t replace;       /* attach_s1 on a bound (dev, pasid) */
	uint64_t detach;        /* detach of an attached (dev, pasid): its DMA is blocked */
	uint64_t parent;        /* attach_parent: (dev, pasid) on the stage-2 parent (identity) */
	uint64_t inv_calls;     /* invalidate() calls (one host call each) */
	uint64_t inv_ranges;    /* ranges in those calls */
	uint64_t faults;        /* unrecoverable faults delivered */
	uint64_t page_reqs;     /* recoverable faults (page requests) delivered */
	uint64_t page_resps;    /* page responses received */
	uint64_t dma, iotlb_hits, iotlb_misses;
};

/*
 * Creates a simulator whose DMA output goes to gm. caps NULL: a nesting-capable VT-d host
 * with fault queue and PASID attach (20-bit PASIDs, 4-level and 5-level first stage).
 */
struct hostsim *hostsim_create(const struct gmem *gm, const struct host_iommu_caps *caps);
void hostsim_destroy(struct hostsim *hs);
void hostsim_iommu(struct hostsim *hs, struct host_iommu *ret);
/*
 * Adds a simulated passthrough device. pri: it issues page requests on translation faults
 * (recoverable, through the fault queue) instead of plain faults. Returns 0 and the handle.
 */
int hostsim_add_device(struct hostsim *hs, bool pri, uint32_t *ret_dev);
/* The DMA address space of device dev: translated only by the simulator. */
int hostsim_dma_as(struct hostsim *hs, uint32_t dev, struct dma_as *ret);
void hostsim_get_stats(struct hostsim *hs, struct hostsim_stats *ret);
/*
 * One line for the launcher's exit summary: "host forwards: N binds (R replaced, U detached),
 * M invalidation batches (K ranges), F faults, P page requests (A answered)". Returns the
 * snprintf result.
 */
int hostsim_format_summary(struct hostsim *hs, char *buf, size_t len);
/* Valid entries in the simulated IOTLB (tests). */
unsigned int hostsim_iotlb_entries(struct hostsim *hs);
/*
 * Tests: makes the next count calls of the host_iommu operations in op_mask (HOSTSIM_OP_*)
 * fail with err (a negative errno) without changing anything, as a refusing kernel would.
 */
#define HOSTSIM_OP_ATTACH_S1 0x1u
#define HOSTSIM_OP_DETACH 0x2u
#define HOSTSIM_OP_PARENT 0x4u
#define HOSTSIM_OP_INVALIDATE 0x8u
void hostsim_fail(struct hostsim *hs, unsigned int op_mask, int err, unsigned int count);
/*
 * What (dev, pasid) is attached to on the simulated host: 0 blocked, 1 the stage-2 parent
 * (identity), 2 a stage-1 (tests). pasid HOST_PASID_NONE: the RID.
 */
int hostsim_attachment(struct hostsim *hs, uint32_t dev, uint32_t pasid);

/* ---- iommufd: the real kernel uAPI ---- */
struct iommufd_backend;
struct iommufd_sys; /* the syscall seam (vfio-internal.h); NULL = the real system calls */

/* Counters of issued ioctls, per kind. */
struct iommufd_stats {
	uint64_t hwpt_alloc, hwpt_invalidate, inv_entries, attach, detach, destroy;
	uint64_t ioas_map, ioas_unmap, faults_read, responses;
	uint64_t ram_reserved;  /* bytes of guest RAM left out of the parent: reserved IOVA */
};

/*
 * Opens the iommufd (path NULL: /dev/iommu), allocates the IOAS. Returns 0 or -errno with a
 * one-line reason in errbuf.
 */
int iommufd_backend_open(const struct iommufd_sys *sys, const char *path,
			 struct iommufd_backend **ret, char *errbuf, size_t errlen);
/*
 * Binds a VFIO cdev (/dev/vfio/devices/vfioX) to the iommufd, reads its hardware info and, for
 * the first device, allocates the nest parent. Returns 0 and the device handle, or -errno with
 * what the host kernel lacks in errbuf.
 */
int iommufd_backend_add_device(struct iommufd_backend *b, const char *cdev, uint32_t *ret_dev,
			       char *errbuf, size_t errlen);
/* The VFIO device fd of a bound device (for the vfio-pci model), or -1. */
int iommufd_backend_device_fd(const struct iommufd_backend *b, uint32_t dev);
/* The fault queue fd to poll for readability, or -1 when the kernel has none. */
int iommufd_backend_fault_fd(const struct iommufd_backend *b);
/*
 * Page requests of device dev. host_pri: the host function has ATS and PRI (read from its
 * config space by the vfio-pci model); only then does get_caps report a fault queue.
 * guest_pri: the guest enabled PRI in the device's virtual PRI capability. A stage-1 gets the
 * fault queue (IOMMU_HWPT_FAULT_ID_VALID, which makes the kernel enable IOPF and refuse a
 * device without PRI) only when both hold and the bind's host_s1_config.pri is set; a change
 * applies from the next attach. 0 or -ENOENT.
 */
int iommufd_backend_set_host_pri(struct iommufd_backend *b, uint32_t dev, bool pri);
int iommufd_backend_set_guest_pri(struct iommufd_backend *b, uint32_t dev, bool enabled);
/* What the host kernel or IOMMU lacks, "; "-separated ("" when nothing is missing). */
const char *iommufd_backend_missing(const struct iommufd_backend *b);
void iommufd_backend_iommu(struct iommufd_backend *b, struct host_iommu *ret);
void iommufd_backend_get_stats(const struct iommufd_backend *b, struct iommufd_stats *ret);
/* Destroys every object it created (in reverse order), closes every fd. Accepts NULL. */
void iommufd_backend_close(struct iommufd_backend *b);

#endif
