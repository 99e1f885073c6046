/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * pdma-sva: user interface of nestvm's Linux driver for the pasid-dma test device
 * (docs/pasid-dma.md). Opening /dev/pdma-sva binds the caller's address space to a PASID;
 * PDMA_SVA_IOC_RUN runs one descriptor whose addresses are the caller's virtual addresses.
 */
#ifndef PDMA_SVA_UAPI_H
#define PDMA_SVA_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PDMA_SVA_OP_COPY 1
#define PDMA_SVA_OP_FILL 2
#define PDMA_SVA_OP_COMPARE 3
#define PDMA_SVA_OP_CHECKSUM 4

/* flags */
#define PDMA_SVA_F_RAW_PASID (1u << 0) /* use .pasid instead of the caller's (CAP_SYS_ADMIN; tests) */

struct pdma_sva_run {
	__u32 op;          /* in: PDMA_SVA_OP_* */
	__u32 flags;       /* in: PDMA_SVA_F_* */
	__u64 src, dst;    /* in: user virtual addresses */
	__u64 len;         /* in: bytes, at most 1 MiB */
	__u64 pattern;     /* in: FILL pattern */
	__u64 cr;          /* in: user address of a 32-byte completion record (written by the device) */
	__u32 pasid;       /* in with F_RAW_PASID; out: the PASID used */
	__u32 retries;     /* in: resubmissions allowed after a translation fault (0x10) */
	__u32 status;      /* out: completion status (0x01 success, 0x10 fault, ...) */
	__u32 attempts;    /* out: descriptors submitted */
	__u64 result;      /* out: COMPARE / CHECKSUM result */
	__u64 info;        /* out: COMPARE offset or faulting address */
	__u64 ns;          /* out: submission of the first attempt to the last completion */
};

/* BAR0 counters of the device (docs/pasid-dma.md), read at once. */
struct pdma_sva_info {
	__u32 pasid;       /* the caller's PASID */
	__u32 host_backend;
	__u32 completed, dtlb_hits, dtlb_misses, page_reqs, dtlb_invs;
	__u32 host_binds, host_replaces, host_detaches, host_inv_calls, host_inv_ranges,
	      host_faults, host_page_reqs, host_page_resps, host_iotlb_hits, host_iotlb_misses;
};

#define PDMA_SVA_IOC_RUN _IOWR('P', 1, struct pdma_sva_run)
#define PDMA_SVA_IOC_INFO _IOR('P', 2, struct pdma_sva_info)

#endif
