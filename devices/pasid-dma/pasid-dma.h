/* SPDX-License-Identifier: MIT */
/*
 * pasid-dma: nestvm's PASID-capable PCIe DMA test device (docs/pasid-dma.md), the thing that
 * lets guest SVA code run in CI without SVA hardware.
 *
 * Callers: the board builder (parse options, create, destroy); tests and benchmarks (stats).
 * Guests program it through BAR0 (registers below) and a descriptor ring in guest memory;
 * MSI-X (BAR2) signals completions. PCIe extended capabilities PASID, ATS and PRI are
 * offered as configured and their enable bits are honoured. With ATS enabled the device keeps
 * a device-TLB filled by translation requests to the IOMMU and drops entries only on
 * device-TLB invalidations; with PRI enabled a missing translation becomes a page request
 * and the descriptor waits for the page group response.
 */
#ifndef NESTVM_PASID_DMA_H
#define NESTVM_PASID_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/pci/pci.h"
#include "vmm/core/dma.h"

/* PCI identity: vendor 0x1234 is the test vendor edu uses; 0x5a5d is ours ("SVA DMA"). */
#define PDMA_VENDOR_ID 0x1234
#define PDMA_DEVICE_ID 0x5a5d
#define PDMA_REVISION 0x01
#define PDMA_CLASS 0x088000 /* base system peripheral, other */
#define PDMA_BAR_SIZE 4096
#define PDMA_MSIX_BAR 2
#define PDMA_MSIX_VECTORS 2 /* 0: completion, 1: reserved (error) */

/* BAR0 registers, 32-bit accesses only. */
#define PDMA_REG_ID 0x00         /* RO: PDMA_ID_VALUE */
#define PDMA_REG_CAPS 0x04       /* RO: PDMA_CAPS_* */
#define PDMA_REG_CTRL 0x08       /* RW: PDMA_CTRL_* */
#define PDMA_REG_STATUS 0x0c     /* PDMA_STS_*: IRQ is RW1C, the rest RO */
#define PDMA_REG_RING_LO 0x10    /* RW: ring base (IOVA, requests without PASID), 64-byte aligned */
#define PDMA_REG_RING_HI 0x14
#define PDMA_REG_RING_SIZE 0x18  /* RW: entries, a power of two 1..PDMA_RING_MAX */
#define PDMA_REG_HEAD 0x1c       /* RO: next descriptor the device runs */
#define PDMA_REG_TAIL 0x20       /* RW doorbell: descriptors [HEAD, TAIL) are run */
#define PDMA_REG_COMPLETED 0x24  /* RO: descriptors completed (wraps) */
#define PDMA_REG_DTLB_HITS 0x28  /* RO counters (wrap) */
#define PDMA_REG_DTLB_MISSES 0x2c
#define PDMA_REG_PAGE_REQS 0x30
#define PDMA_REG_DTLB_INVS 0x34
/*
 * nestvm test feature: read-only host-forwarding counters (low 32 bits) of the host IOMMU
 * backend behind the device (backend=hostsim), for guest tests that must check what reached
 * the host. They read 0 with the emulated backend. See docs/pasid-dma.md.
 */
#define PDMA_REG_HOST_BACKEND 0x40 /* RO: 0 emulated (vIOMMU), 1 hostsim */
#define PDMA_REG_HOST_BINDS 0x44
#define PDMA_REG_HOST_REPLACES 0x48
#define PDMA_REG_HOST_DETACHES 0x4c
#define PDMA_REG_HOST_INV_CALLS 0x50
#define PDMA_REG_HOST_INV_RANGES 0x54
#define PDMA_REG_HOST_FAULTS 0x58
#define PDMA_REG_HOST_PAGE_REQS 0x5c
#define PDMA_REG_HOST_PAGE_RESPS 0x60
#define PDMA_REG_HOST_IOTLB_HITS 0x64
#define PDMA_REG_HOST_IOTLB_MISSES 0x68

#define PDMA_ID_VALUE 0x5a5d0001u
#define PDMA_CAPS_PASID 0x1u
#define PDMA_CAPS_ATS 0x2u
#define PDMA_CAPS_PRI 0x4u
#define PDMA_CAPS_WIDTH 0x1f00u   /* 12:8 PASID width */
#define PDMA_CTRL_ENABLE 0x1u     /* run descriptors on doorbell */
#define PDMA_CTRL_IRQ 0x2u        /* completion interrupts allowed */
#define PDMA_CTRL_RESET 0x80000000u /* write 1: stop, clear ring state and device-TLB */
#define PDMA_STS_WAITING 0x1u     /* HEAD waits for a page group response */
#define PDMA_STS_RING_ERR 0x2u    /* a descriptor fetch failed; cleared by RESET */
#define PDMA_STS_IRQ 0x100u       /* completion interrupt raised */
#define PDMA_RING_MAX 4096u

/* Descriptor: 64 bytes, little-endian, eight 64-bit words. */
#define PDMA_DESC_SIZE 64
#define PDMA_D0_OP 0xffULL             /* QW0 7:0 opcode */
#define PDMA_D0_PASID_EN (1ULL << 8)   /* request with PASID */
#define PDMA_D0_PRIV (1ULL << 9)       /* privileged-mode requests (needs PASID priv enable) */
#define PDMA_D0_EXEC (1ULL << 10)      /* source reads are execute requests (PASID exec enable) */
#define PDMA_D0_IRQ (1ULL << 11)       /* completion interrupt */
#define PDMA_D0_PASID (0xfffffULL << 32) /* QW0 51:32 */
/* QW1 src, QW2 dst, QW3 length (bytes, <= PDMA_MAX_LEN), QW4 fill pattern, QW5 completion
 * record address (0: none), QW6/QW7 reserved (must be 0). */
#define PDMA_MAX_LEN (1024u * 1024u)

enum pdma_op {
	PDMA_OP_NOP = 0,
	PDMA_OP_COPY = 1,     /* dst[0..len) = src[0..len) */
	PDMA_OP_FILL = 2,     /* dst = 64-bit pattern repeated (byte i = pattern byte i % 8) */
	PDMA_OP_COMPARE = 3,  /* result 0 if src == dst, else 1 and the first differing offset */
	PDMA_OP_CHECKSUM = 4, /* result = FNV-1a 64 of src[0..len) */
};

/* Completion record: 32 bytes written by DMA (with the descriptor's PASID). */
#define PDMA_CR_SIZE 32
/* byte 0 status, byte 1 opcode, bytes 4..7 bytes processed, QW1 result, QW2 offset/address */
enum pdma_status {
	PDMA_ST_NONE = 0,         /* guest writes 0 before submitting */
	PDMA_ST_OK = 1,
	PDMA_ST_FAULT = 0x10,     /* translation failed (QW2 = faulting address) */
	PDMA_ST_PRG_INVALID = 0x11, /* page group response Invalid / Failure */
	PDMA_ST_BAD_DESC = 0x12,  /* unknown opcode, length > max, reserved word set */
	PDMA_ST_BAD_PASID = 0x13, /* PASID (or priv/exec) requested but not enabled / too wide */
};

/* Where the device's DMA is translated. */
enum pasid_dma_backend {
	PDMA_BACKEND_EMULATED = 0, /* the vIOMMU's emulated path (default) */
	PDMA_BACKEND_HOSTSIM = 1,  /* simulated passthrough: the host IOMMU simulator */
};

struct pasid_dma_config {
	unsigned int pasid_bits; /* 0: no PASID capability; else 1..20 */
	bool exec, priv;         /* PASID execute / privileged-mode supported */
	bool ats, pri;           /* ATS and PRI capabilities (PRI needs ATS) */
	enum pasid_dma_backend backend;
	/*
	 * backend=hostsim,pri=on: the host reports the device's translation faults as page
	 * requests. The device then offers ATS and PRI capabilities (ats and pri are true) but
	 * sends neither translation nor page requests itself: the host answers no ATS request.
	 */
	bool host_prq;
};

/* The host backend's counters the HOST_* test registers report (board fills them). */
struct pasid_dma_host_counters {
	uint64_t binds, replaces, detaches, inv_calls, inv_ranges, faults, page_reqs, page_resps,
		 iotlb_hits, iotlb_misses;
};
typedef void (*pasid_dma_host_counters_fn)(void *opaque, struct pasid_dma_host_counters *ret);

struct pasid_dma_stats {
	uint64_t descs, dtlb_hits, dtlb_misses, dtlb_invs, dtlb_dropped, page_reqs, prq_overflows,
		 responses, unexpected_responses, faults, bytes;
};

/*
 * Parses the options after "pasid-dma" ("" or "pasid-bits=N,ats=on,pri=on,exec=on,priv=on,
 * backend=emulated|hostsim"); defaults: pasid-bits=20, exec/priv on, ats on, pri on, backend
 * emulated. backend=hostsim: ats=on is refused; pri=on sets host_prq and offers the ATS and PRI
 * capabilities (see host_prq). 0 or -EINVAL
 * with a message.
 */
int pasid_dma_parse_options(const char *opts, struct pasid_dma_config *ret, char *errbuf,
			    size_t errlen);
/* Creates the device in bus 0 slot of h; DMA through as (kept by reference). NULL on failure. */
struct pasid_dma *pasid_dma_create(struct pci_host *h, unsigned int slot, const struct dma_as *as,
				   const struct pasid_dma_config *cfg);
/* Unplugs and frees. Accepts NULL. */
void pasid_dma_destroy(struct pasid_dma *d);
struct pci_dev *pasid_dma_pci_dev(struct pasid_dma *d);
void pasid_dma_get_stats(struct pasid_dma *d, struct pasid_dma_stats *ret);
/*
 * Connects the HOST_* test registers to the host backend's counters (backend=hostsim). fn is
 * called with the device lock held and must not call back into the device. Call before the
 * guest runs.
 */
void pasid_dma_set_host_counters(struct pasid_dma *d, pasid_dma_host_counters_fn fn, void *opaque);

#endif
