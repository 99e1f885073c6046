/* SPDX-License-Identifier: MIT */
/*
 * A kernel double for the iommufd backend, placed at the syscall seam: it validates every
 * argument as the kernel does (sizes, flags, object IDs, parent/child rules, errno per bad
 * input), emulates the feature set of a chosen kernel version, and tracks every object and fd
 * so a test can check that teardown released everything.
 */
#ifndef NESTVM_KDOUBLE_H
#define NESTVM_KDOUBLE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/vfio/iommufd-abi.h"

#define KD_MAX_DEVS 4
#define KD_MAX_LOG 256
#define KD_MAX_FAULTS 16
#define KD_MAX_MAPS 64
/* VT-d's IOMMU_RESV_MSI region, reserved in an IOAS once a device is attached to it. */
#define KD_MSI_START 0xfee00000ULL
#define KD_MSI_LAST 0xfeefffffULL
/* The host domain's aperture: 48-bit input addresses (CAP.MGAW of the double's VT-d). */
#define KD_APERTURE_LAST ((1ULL << 48) - 1)

enum kd_obj_type { KD_NONE, KD_IOAS, KD_HWPT_PAGING, KD_HWPT_NESTED, KD_FAULT, KD_DEVICE };

struct kd_obj {
	enum kd_obj_type type;
	uint32_t flags;   /* HWPT alloc flags */
	uint32_t parent;  /* nested: parent HWPT; paging: IOAS */
	unsigned int users;
	struct ifd_vtd_s1 s1;
};

/* One PASID attachment of a device. */
struct kd_pasid {
	uint32_t pasid, pt;
};

struct kd_dev {
	bool open, bound;
	int fd;
	uint32_t dev_id;
	uint32_t rid_pt;           /* 0: detached */
	/*
	 * Attached PASIDs, sorted by PASID (any PASID below 2^max_pasid_log2, like the kernel's
	 * per-device xarray); grows on demand, freed when the cdev is closed.
	 */
	struct kd_pasid *pasids;
	unsigned int nr_pasids, cap_pasids;
};

struct kd_map {
	uint64_t iova, len;
	uint32_t ioas;
	bool write;
};

struct kdouble {
	/* Knobs: set before use. */
	unsigned int kver;         /* 606, 607, 608, 611, 615 ... */
	bool vtd, nest, errata;
	uint8_t max_pasid_log2;    /* the device's PASID width (0: no PASID capability) */
	bool dev_pri[KD_MAX_DEVS]; /* host function vfioN has ATS + PRI (IOPF can be enabled) */
	/* More reserved regions of the devices (RMRRs), ascending, below the MSI window. */
	struct ifd_iova_range rmrr[32];
	unsigned int nr_rmrr;
	int inv_fail_at;           /* entry index (over all calls) that fails with EINVAL, -1 none */
	/*
	 * Fault injection: host call number fail_call (1-based, counted over every open, close,
	 * ioctl, read and write through the seam; 0: none) fails with fail_errno, or with the
	 * errno the kernel would give for that call when fail_errno is 0 (kd_default_errno).
	 * A failed close still releases the fd, as Linux does.
	 */
	unsigned int fail_call;
	int fail_errno;

	/* State. */
	int iommufd;
	/*
	 * Objects, id = index (0 unused), lowest free id first like the kernel's xarray; the
	 * array grows on demand (nr_objs entries), so the double has no object limit but memory.
	 */
	struct kd_obj *objs;
	uint32_t nr_objs;
	struct kd_dev devs[KD_MAX_DEVS];
	struct kd_map maps[KD_MAX_MAPS];
	int fault_fd;              /* a real eventfd, readable while a whole group is queued */
	struct ifd_pgfault faults[KD_MAX_FAULTS]; /* queued records; a group ends at LAST_PAGE */
	unsigned int nr_faults;
	uint32_t next_cookie;
	uint32_t pending[KD_MAX_FAULTS]; /* cookies of groups read and not yet answered */
	unsigned int nr_pending;
	uint32_t responded[KD_MAX_FAULTS];
	uint32_t resp_code[KD_MAX_FAULTS];
	unsigned int nr_responded;
	unsigned int inv_seen;     /* entries received over all calls */
	unsigned int nr_sys;       /* host calls so far (the fault injection's counter) */
	int injected;              /* the injected errno once the failure happened, else 0 */

	/* Log. */
	unsigned int calls[256];   /* per ioctl nr (low byte) */
	struct ifd_vtd_s1_inv inv_log[KD_MAX_LOG];
	uint32_t inv_hwpt[KD_MAX_LOG];
	unsigned int nr_inv_log;
	int open_fds;
};

/*
 * A VT-d host with nesting and the given kernel version; 4 device nodes vfio0..vfio3. kd must
 * be zeroed (static, calloc) or a double used before: kd_init frees what the earlier run
 * allocated. kd_fini frees it too (before the memory holding the double goes away).
 */
void kd_init(struct kdouble *kd, unsigned int kver);
void kd_fini(struct kdouble *kd);
void kd_sys(struct kdouble *kd, struct iommufd_sys *ret);
/*
 * The same seam with one process-wide lock around every call, for tests that drive the backend
 * from several threads: the kernel is thread-safe (the backend reads the fault fd without a lock
 * of its own while another thread's ioctls run), the double is not.
 */
void kd_sys_locked(struct kdouble *kd, struct iommufd_sys *ret);
/* The HWPT/IOAS (device index dv, PASID pasid) is attached to; 0: none. */
uint32_t kd_pasid_pt(const struct kdouble *kd, unsigned int dv, uint32_t pasid);
/* Objects still alive (devices excluded). */
unsigned int kd_live_objects(const struct kdouble *kd);
/* The errno an injected failure of this call gives: what the kernel returns for it. */
int kd_default_errno(char kind, unsigned long req);
/*
 * Queues a page fault record for the fault fd (its cookie is ignored: the kernel gives one
 * per group when the group is read). Records up to one with IFD_PGFAULT_LAST_PAGE form a group.
 */
void kd_push_fault(struct kdouble *kd, const struct ifd_pgfault *f);

#endif
