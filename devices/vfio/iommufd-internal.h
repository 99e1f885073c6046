/* SPDX-License-Identifier: MIT */
/* State of the iommufd backend shared by its files (iommufd.c, iommufd-binds.c, iommufd-faults.c). */
#ifndef NESTVM_VFIO_IOMMUFD_INTERNAL_H
#define NESTVM_VFIO_IOMMUFD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/vfio/iommufd-abi.h"
#include "devices/vfio/vfio.h"

#define IFD_MAX_DEVS 8
/*
 * Fault records read at once. The kernel hands out only whole page request groups and keeps a
 * group that does not fit (iommufd_fault_fops_read), so the buffer must hold the largest group
 * a device can send: its outstanding page request allocation, which VT-d sets to PRQ_DEPTH.
 */
#define IFD_FAULT_BATCH 2048
/* Objects whose IOMMU_DESTROY failed, destroyed again at close. */
#define IFD_MAX_ORPHANS 16

/* One bound (device, PASID): attached to a stage-1 HWPT of ours, or to the nest parent. */
struct ifd_bind {
	bool on_parent; /* a PASID attached to the nest parent itself (hwpt is the parent) */
	uint32_t pasid; /* HOST_PASID_NONE: the RID */
	uint32_t hwpt;
};

struct ifd_dev {
	bool used;
	int fd;
	uint32_t dev_id;
	bool rid_on_default; /* RID attached to the parent (or the IOAS in shadow mode) */
	bool host_pri;       /* the host function has ATS + PRI: IOPF can be enabled for it */
	bool guest_pri;      /* the guest enabled PRI in the device's (virtual) PRI capability */
	struct host_iommu_caps caps;
	/*
	 * The binds: a dense array (teardown walks only these) and an open-addressed index,
	 * keyed by PASID, of slot + 1 (0: empty; linear probing, at most half full). Both grow
	 * on demand up to the device's PASID width plus the RID and shrink as binds go.
	 */
	struct ifd_bind *binds;
	uint32_t nr_binds, cap_binds;
	uint32_t *index;
	uint32_t index_mask; /* index size - 1 (a power of two); 0 before the first bind */
};

struct iommufd_backend {
	struct iommufd_sys sys;
	pthread_mutex_t lock;
	pthread_mutex_t fault_lock; /* one process_faults at a time (frec, fconv) */
	int fd;
	uint32_t ioas, parent, fault_id;
	int fault_fd;
	bool have_parent, parent_pasid, have_fault, have_invalidate;
	char missing[256];
	struct ifd_dev devs[IFD_MAX_DEVS];
	host_fault_fn fault_fn;
	void *fault_opaque;
	struct iommufd_stats st;
	struct ifd_pgfault *frec;   /* IFD_FAULT_BATCH records (with the fault queue) */
	struct host_fault *fconv;
	uint32_t orphans[IFD_MAX_ORPHANS];
	unsigned int nr_orphans;
};

/* iommufd.c */
int ifd_xioctl(struct iommufd_backend *b, int fd, unsigned long req, void *arg);
void ifd_destroy_or_keep(struct iommufd_backend *b, uint32_t id);
struct ifd_dev *ifd_get_dev(struct iommufd_backend *b, uint32_t dev);

/* iommufd-binds.c */
int ifd_detach_one(struct iommufd_backend *b, struct ifd_dev *d, uint32_t pasid);
int ifd_attach_s1(void *be, uint32_t dev, uint32_t pasid, const struct host_s1_config *cfg,
		  uint32_t *ret_s1);
int ifd_detach(void *be, uint32_t dev, uint32_t pasid);
int ifd_attach_parent(void *be, uint32_t dev, uint32_t pasid);
int ifd_invalidate(void *be, uint32_t s1, const struct host_inv_range *rg, unsigned int n,
		   unsigned int *ret_done);

/* iommufd-faults.c */
void ifd_set_fault_handler(void *be, host_fault_fn fn, void *opaque);
int ifd_process_faults(void *be);
int ifd_page_response(void *be, uint32_t dev, uint32_t cookie, int code);

#endif
