/* SPDX-License-Identifier: MIT */
/*
 * Internals of the VT-d unit shared by its .c files and unit tests: register offsets and
 * field masks (facts §1, §2, §7), the per-instance register table and the unit state.
 */
#ifndef NESTVM_VIOMMU_INTERNAL_H
#define NESTVM_VIOMMU_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/bits.h"
#include "devices/viommu/viommu.h"
#include "devices/viommu/xlate/xlate.h"

/* ---- Register offsets (facts §1) ---- */
#define VTD_VER_REG 0x000
#define VTD_CAP_REG 0x008
#define VTD_ECAP_REG 0x010
#define VTD_GCMD_REG 0x018
#define VTD_GSTS_REG 0x01c
#define VTD_RTADDR_REG 0x020
#define VTD_CCMD_REG 0x028
#define VTD_FSTS_REG 0x034
#define VTD_FECTL_REG 0x038
#define VTD_FEDATA_REG 0x03c
#define VTD_FEADDR_REG 0x040
#define VTD_FEUADDR_REG 0x044
#define VTD_AFLOG_REG 0x058
#define VTD_PMEN_REG 0x064
#define VTD_PLMBASE_REG 0x068
#define VTD_PLMLIMIT_REG 0x06c
#define VTD_PHMBASE_REG 0x070
#define VTD_PHMLIMIT_REG 0x078
#define VTD_IQH_REG 0x080
#define VTD_IQT_REG 0x088
#define VTD_IQA_REG 0x090
#define VTD_ICS_REG 0x09c
#define VTD_IECTL_REG 0x0a0
#define VTD_IEDATA_REG 0x0a4
#define VTD_IEADDR_REG 0x0a8
#define VTD_IEUADDR_REG 0x0ac
#define VTD_IQERCD_REG 0x0b0
#define VTD_IRTA_REG 0x0b8
#define VTD_PQH_REG 0x0c0
#define VTD_PQT_REG 0x0c8
#define VTD_PQA_REG 0x0d0
#define VTD_PRS_REG 0x0dc
#define VTD_PECTL_REG 0x0e0
#define VTD_PEDATA_REG 0x0e4
#define VTD_PEADDR_REG 0x0e8
#define VTD_PEUADDR_REG 0x0ec

/* Our layout choices: IVA/IOTLB at IRO*16 = 0xf0, FRCD[0] at FRO*16 = 0x220, 8 records. */
#define VTD_IRO 0x0f
#define VTD_FRO 0x22
#define VTD_NFR 7 /* CAP.NFR = records - 1 */
#define VTD_NR_FRCD (VTD_NFR + 1)
#define VTD_IVA_REG (VTD_IRO * 16)
#define VTD_IOTLB_REG (VTD_IVA_REG + 8)
#define VTD_FRCD_REG(i) (VTD_FRO * 16 + 16 * (i))
#define VTD_MAMV 18
#define VTD_VERSION 0x10 /* 1.0, as QEMU reports; software reads CAP/ECAP, not VER */

/* ---- CAP (facts §2) ---- */
#define VTD_CAP_ND GENMASK_ULL(2, 0)
#define VTD_CAP_RWBF BIT_ULL(4)
#define VTD_CAP_PLMR BIT_ULL(5)
#define VTD_CAP_PHMR BIT_ULL(6)
#define VTD_CAP_CM BIT_ULL(7)
#define VTD_CAP_SAGAW GENMASK_ULL(12, 8)
#define VTD_CAP_MGAW GENMASK_ULL(21, 16)
#define VTD_CAP_FRO GENMASK_ULL(33, 24)
#define VTD_CAP_SSLPS GENMASK_ULL(37, 34)
#define VTD_CAP_PSI BIT_ULL(39)
#define VTD_CAP_NFR GENMASK_ULL(47, 40)
#define VTD_CAP_MAMV GENMASK_ULL(53, 48)
#define VTD_CAP_DWD BIT_ULL(54)
#define VTD_CAP_DRD BIT_ULL(55)
#define VTD_CAP_FS1GP BIT_ULL(56)
#define VTD_CAP_FS5LP BIT_ULL(60)

/* ---- ECAP (facts §2) ---- */
#define VTD_ECAP_C BIT_ULL(0)
#define VTD_ECAP_QI BIT_ULL(1)
#define VTD_ECAP_DT BIT_ULL(2)
#define VTD_ECAP_IR BIT_ULL(3)
#define VTD_ECAP_EIM BIT_ULL(4)
#define VTD_ECAP_PT BIT_ULL(6)
#define VTD_ECAP_SC BIT_ULL(7)
#define VTD_ECAP_IRO GENMASK_ULL(17, 8)
#define VTD_ECAP_MHMV GENMASK_ULL(23, 20)
#define VTD_ECAP_NEST BIT_ULL(26)
#define VTD_ECAP_PRS BIT_ULL(29)
#define VTD_ECAP_SRS BIT_ULL(31)
#define VTD_ECAP_PSS GENMASK_ULL(39, 35)
#define VTD_ECAP_PASID BIT_ULL(40)
#define VTD_ECAP_PDS BIT_ULL(42)
#define VTD_ECAP_SMTS BIT_ULL(43)
#define VTD_ECAP_SLTS BIT_ULL(46)
#define VTD_ECAP_FLTS BIT_ULL(47)

/* ---- GCMD / GSTS (facts §1.1): same bit in both ---- */
#define VTD_GCMD_TE BIT_ULL(31)
#define VTD_GCMD_SRTP BIT_ULL(30)
#define VTD_GCMD_SFL BIT_ULL(29)
#define VTD_GCMD_EAFL BIT_ULL(28)
#define VTD_GCMD_WBF BIT_ULL(27)
#define VTD_GCMD_QIE BIT_ULL(26)
#define VTD_GCMD_IRE BIT_ULL(25)
#define VTD_GCMD_SIRTP BIT_ULL(24)
#define VTD_GCMD_CFI BIT_ULL(23)

/* IRTA (facts §8) */
#define VTD_IRTA_ADDR GENMASK_ULL(63, 12)
#define VTD_IRTA_EIME BIT_ULL(11)
#define VTD_IRTA_S GENMASK_ULL(3, 0)
#define VTD_IR_MAX_ENTRIES 65536 /* S = 0xF */

#define VTD_RTADDR_ADDR GENMASK_ULL(63, 12)
#define VTD_RTADDR_TTM GENMASK_ULL(11, 10)

/* CCMD (0x028) */
#define VTD_CCMD_ICC BIT_ULL(63)
#define VTD_CCMD_CIRG GENMASK_ULL(62, 61)
#define VTD_CCMD_CAIG GENMASK_ULL(60, 59)
#define VTD_CCMD_FM GENMASK_ULL(33, 32)
#define VTD_CCMD_SID GENMASK_ULL(31, 16)
#define VTD_CCMD_DID GENMASK_ULL(15, 0)

/* IVA / IOTLB (at IRO*16) */
#define VTD_IVA_ADDR GENMASK_ULL(63, 12)
#define VTD_IVA_IH BIT_ULL(6)
#define VTD_IVA_AM GENMASK_ULL(5, 0)
#define VTD_IOTLB_IVT BIT_ULL(63)
#define VTD_IOTLB_IIRG GENMASK_ULL(61, 60)
#define VTD_IOTLB_IAIG GENMASK_ULL(58, 57)
#define VTD_IOTLB_DR BIT_ULL(49)
#define VTD_IOTLB_DW BIT_ULL(48)
#define VTD_IOTLB_DID GENMASK_ULL(47, 32)

/* FSTS (facts §7.3) */
#define VTD_FSTS_PFO BIT_ULL(0)
#define VTD_FSTS_PPF BIT_ULL(1)
#define VTD_FSTS_IQE BIT_ULL(4)
#define VTD_FSTS_ICE BIT_ULL(5)
#define VTD_FSTS_ITE BIT_ULL(6)
#define VTD_FSTS_FRI GENMASK_ULL(15, 8)

/* FECTL / IECTL */
#define VTD_ECTL_IM BIT_ULL(31)
#define VTD_ECTL_IP BIT_ULL(30)

/* ICS */
#define VTD_ICS_IWC BIT_ULL(0)

/* IQ registers */
#define VTD_IQ_OFF GENMASK_ULL(18, 4) /* IQH / IQT: byte offset of the descriptor */
#define VTD_IQA_ADDR GENMASK_ULL(63, 12)
#define VTD_IQA_DW BIT_ULL(11)
#define VTD_IQA_QS GENMASK_ULL(2, 0)
#define VTD_IQERCD_IQEI GENMASK_ULL(3, 0)

/* IQERCD.IQEI codes (facts §6; VT-d spec "Invalidation Queue Error Record Register"). */
enum vtd_iqei {
	VTD_IQEI_NONE = 0,
	VTD_IQEI_TAIL = 1,       /* tail pointer beyond the queue */
	VTD_IQEI_FETCH = 2,      /* descriptor (or wait status) access error */
	VTD_IQEI_TYPE = 3,       /* invalid descriptor type */
	VTD_IQEI_RSVD = 4,       /* reserved bit set / reserved encoding */
	VTD_IQEI_WIDTH = 5,      /* descriptor width not valid for the type */
	VTD_IQEI_TAIL_ALIGN = 6, /* IQT bit 4 set with 256-bit descriptors */
};

/* FRCD, high qword (facts §7.1, bit numbers relative to bit 64) */
#define VTD_FRCD_LO_FI GENMASK_ULL(63, 12)
#define VTD_FRCD_HI_SID GENMASK_ULL(15, 0)   /* 79:64 */
#define VTD_FRCD_HI_PRIV BIT_ULL(29)         /* 93 */
#define VTD_FRCD_HI_EXE BIT_ULL(30)          /* 94 */
#define VTD_FRCD_HI_PP BIT_ULL(31)           /* 95 */
#define VTD_FRCD_HI_FR GENMASK_ULL(39, 32)   /* 103:96 */
#define VTD_FRCD_HI_PV GENMASK_ULL(59, 40)   /* 123:104 */
#define VTD_FRCD_HI_T BIT_ULL(62)            /* 126: 0 write, 1 read */
#define VTD_FRCD_HI_F BIT_ULL(63)            /* 127 */

/* The requester-id the unit uses for its own event MSIs (it is not a PCI function). */
#define VIOMMU_MSI_SID 0

/* ---- Register table (style rule 11) ---- */
struct viommu;
typedef void (*vtd_reg_hook)(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);

struct vtd_reg {
	uint16_t off;
	uint8_t size;     /* 4 or 8 */
	bool wo;          /* write-only: reads return 0 */
	uint64_t reset, rw, rw1c;
	vtd_reg_hook hook;/* after the masked store; am = bytes written, as a mask */
	const char *name;
};

#define VTD_MAX_REGS 80
#define VTD_MAX_FEATURES 4 /* ir, prq, host, and one spare */
#define VTD_MAX_MSIS 4

struct vtd_msi {
	uint64_t addr;
	uint32_t data;
};

/* Page requests and ATS clients (prq.c; facts §9). */
#define VTD_PRQ_GROUPS 64  /* page request groups awaiting a page group response */
#define VTD_ATS_CLIENTS 16 /* ATS-capable requesters registered through dma_as */

struct vtd_prq_group {
	bool used, pp;
	uint16_t sid, grpid;
	uint32_t pasid;
	uint8_t code; /* response code, once answered (resp[] only) */
};

struct vtd_ats_slot {
	bool used;
	uint16_t sid;
	const struct dma_ats_client *client;
	void *opaque;
};

struct vtd_prq {
	struct vtd_prq_group groups[VTD_PRQ_GROUPS]; /* outstanding (LPIG written to the queue) */
	struct vtd_prq_group resp[VTD_PRQ_GROUPS];   /* answered, delivered after the lock */
	unsigned int nr_resp;
	struct vtd_ats_slot ats[VTD_ATS_CLIENTS];
};

struct viommu {
	struct viommu_config cfg;
	const struct gmem *gm;
	const struct irq_chip *irq;
	struct vtd_xlate *xlate;
	uint64_t base;
	uint64_t cap, ecap;

	pthread_mutex_t lock;
	struct vtd_reg regs[VTD_MAX_REGS];
	uint64_t val[VTD_MAX_REGS];
	unsigned int nr_regs;
	uint8_t slot[VIOMMU_WINDOW_SIZE / 4]; /* dword index -> register index + 1 (0: none) */
	/* The read mirror (regs.c): the window as reads see it, page-aligned, stored with val[]. */
	uint8_t *mirror;
	bool mirror_offered; /* given to the bus (regs-mirror=on, no vtd-reg tracing) */

	bool te;            /* GSTS.TES, read without the lock by translate */
	bool root_invalid;  /* latched RTADDR has a TTM we do not support */
	unsigned int fault_next; /* next FRCD to fill (facts §7.3) */

	/* MSIs raised under the lock, sent after it is dropped. */
	struct vtd_msi msi_q[VTD_MAX_MSIS];
	unsigned int nr_msi;

	viommu_devtlb_fn devtlb_fn;
	void *devtlb_opaque;
	struct vtd_prq prq;
	struct viommu_stats stats;

	/* Interrupt remapping (ir.c); allocated only with cfg.ir. */
	struct vtd_ir *ir;

	/* Host forwarding for host-backed devices (host.c); NULL until one is attached. */
	struct vtd_host *host;

	/* The features that registered hooks (feature.c), in registration order. */
	const struct vtd_feature *feat[VTD_MAX_FEATURES];
	unsigned int nr_feat;
	uint32_t feat_hooks; /* VTD_FH_* bit: some feature set that hook */
};

/* Queued-invalidation descriptor types (facts §6): QW0 3:0 plus type[6:4] in QW0 11:9. */
enum {
	QI_CC = 0x1,
	QI_IOTLB = 0x2,
	QI_DEVTLB = 0x3,
	QI_IEC = 0x4,
	QI_WAIT = 0x5,
	QI_PIOTLB = 0x6,
	QI_PC = 0x7,
	QI_PDEVTLB = 0x8,
	QI_PGRP = 0x9,
};
#define QI_PASID GENMASK_ULL(51, 32)    /* QW0 of PASID-granular types */
#define QI_ADDR GENMASK_ULL(63, 12)     /* QW1 */
#define QI_DEV_SID GENMASK_ULL(47, 32)  /* device-TLB */
#define QI_DEV_S BIT_ULL(0)             /* QW1 */
#define QI_PDEV_SID GENMASK_ULL(31, 16) /* PASID device-TLB */
#define QI_PDEV_G BIT_ULL(0)            /* QW1 */
#define QI_PDEV_S BIT_ULL(11)           /* QW1 */

/*
 * Features of the unit and the core that calls them (docs/architecture.md, "The VT-d unit").
 *
 * The core -- regs.c (register file, GCMD, register-based invalidation) and qi.c (the
 * invalidation queue) -- does what every unit does and names no feature. Interrupt remapping
 * (ir.c), page requests and ATS (prq.c) and host forwarding (host.c) each register one
 * struct vtd_feature; the core calls the hooks they set, in registration order, and skips the
 * unset ones. A feature that is not configured does not register, so it costs nothing.
 *
 * Called with v->lock held, except after_write. Translation-structure hooks run after the
 * unit's own caches were invalidated.
 */
struct vtd_feature {
	const char *name;
	/* viommu_regs_init: adds the feature's registers (vtd_reg_add), from v->cfg. */
	void (*regs)(struct viommu *v);
	/* A GCMD write: applies the feature's command bits of val to *gsts (after the core's). */
	void (*gcmd)(struct viommu *v, uint64_t val, uint64_t *gsts);
	/* SRTP latched a root table; GCMD.TE changed; context-cache invalidation (any scope). */
	void (*root_changed)(struct viommu *v);
	void (*te_changed)(struct viommu *v);
	void (*context)(struct viommu *v);
	void (*pasid_cache)(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid);
	void (*iotlb)(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
		      unsigned int am, bool ih);
	void (*piotlb)(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid,
		       uint64_t addr, unsigned int am, bool ih);
	/*
	 * What the hooks above queued takes effect now: before a wait descriptor completes, at
	 * the end of a drain, after a register-based IOTLB invalidation.
	 */
	void (*sync)(struct viommu *v);
	/*
	 * Descriptor types (bit n: type n) the feature acts on, after the core has checked their
	 * reserved fields: VTD_IQEI_NONE, or the error that stops the queue there.
	 */
	uint16_t desc_types;
	enum vtd_iqei (*desc)(struct viommu *v, unsigned int type, const uint64_t *d);
	/* After each register write, lock dropped: work the write produced for the outside. */
	void (*after_write)(struct viommu *v);
	/* viommu_destroy, in reverse registration order. */
	void (*destroy)(struct viommu *v);
};

/* feature.c. vtd_feature_add: 0, or -ENOSPC (more than VTD_MAX_FEATURES). Lock held or
 * before the unit is reachable. */
int vtd_feature_add(struct viommu *v, const struct vtd_feature *f);
void vtd_feat_regs(struct viommu *v);
void vtd_feat_gcmd(struct viommu *v, uint64_t val, uint64_t *gsts);
void vtd_feat_root_changed(struct viommu *v);
void vtd_feat_te_changed(struct viommu *v);
void vtd_feat_context(struct viommu *v);
void vtd_feat_pasid_cache(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid);
/* Descriptor type no feature registered for: VTD_IQEI_NONE (nothing to do). */
enum vtd_iqei vtd_feat_desc(struct viommu *v, unsigned int type, const uint64_t *d);
void vtd_feat_after_write(struct viommu *v);
void vtd_feat_destroy(struct viommu *v);

/*
 * The per-descriptor hooks of a drain: inline tests of feat_hooks, so that a unit with no
 * feature listening (no host-backed device) pays one load and a branch per descriptor.
 */
enum { VTD_FH_IOTLB = 1u << 0, VTD_FH_PIOTLB = 1u << 1, VTD_FH_SYNC = 1u << 2 };
void vtd_feat_iotlb_all(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
			unsigned int am, bool ih);
void vtd_feat_piotlb_all(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid,
			 uint64_t addr, unsigned int am, bool ih);
void vtd_feat_sync_all(struct viommu *v);

static inline void vtd_feat_iotlb(struct viommu *v, enum vtd_inv_gran g, uint16_t did,
				  uint64_t addr, unsigned int am, bool ih)
{
	if (v->feat_hooks & VTD_FH_IOTLB)
		vtd_feat_iotlb_all(v, g, did, addr, am, ih);
}

static inline void vtd_feat_piotlb(struct viommu *v, enum vtd_inv_gran g, uint16_t did,
				   uint32_t pasid, uint64_t addr, unsigned int am, bool ih)
{
	if (v->feat_hooks & VTD_FH_PIOTLB)
		vtd_feat_piotlb_all(v, g, did, pasid, addr, am, ih);
}

static inline void vtd_feat_sync(struct viommu *v)
{
	if (v->feat_hooks & VTD_FH_SYNC)
		vtd_feat_sync_all(v);
}

/* config.c */
void viommu_compute_caps(const struct viommu_config *cfg, uint64_t *ret_cap, uint64_t *ret_ecap,
			 struct vtd_caps *ret_caps);

/* regs.c */
void viommu_regs_init(struct viommu *v);
uint64_t viommu_mmio_read(void *opaque, uint64_t off, unsigned int size);
void viommu_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned int size);
/* Raw register access by offset of a table register (no masks, no hooks). Lock held. */
uint64_t vtd_reg_get(const struct viommu *v, unsigned int off);
void vtd_reg_set(struct viommu *v, unsigned int off, uint64_t val);
/* viommu_regs_init and a feature's regs hook: one more register in the table. */
void vtd_reg_add(struct viommu *v, uint16_t off, uint8_t size, bool wo, uint64_t reset,
		 uint64_t rw, uint64_t rw1c, vtd_reg_hook hook, const char *name);
/* Sends queued MSIs; call after dropping the lock. */
void viommu_flush_msis(struct viommu *v);
void viommu_queue_msi(struct viommu *v, uint64_t addr, uint32_t data);

/* fault.c (lock held) */
void vtd_fault_record(struct viommu *v, const struct vtd_fault *f);
/* Raises the fault event if no PFO/PPF/IQE was pending in prev_fsts (facts §7.3). */
void vtd_fault_event(struct viommu *v, uint64_t prev_fsts);
void vtd_fault_update_ppf(struct viommu *v);
void vtd_fsts_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);
void vtd_fectl_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);
void vtd_frcd_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);

/* ir.c: with cfg.ir, allocates the remapping state and registers the feature (IRTA, GCMD
 * SIRTP/IRE, IEC descriptors, the IEC-changed notifier after a write). 0 or -ENOMEM. */
int vtd_ir_create(struct viommu *v);

/* qi.c (lock held) */
void vtd_iqt_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);
void vtd_ics_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);
void vtd_iectl_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);
void vtd_qi_raise_iqe(struct viommu *v, enum vtd_iqei code);
void vtd_qi_drain(struct viommu *v);

/* host.c: host forwarding registers its feature when the first host-backed device attaches
 * (viommu_attach_host_device); its hooks are in host-internal.h. */

/*
 * prq.c: page request queue, page group responses, ATS translation and device-TLB routing.
 * vtd_prq_init registers the feature (the queue's registers with cfg.prs, page group
 * response and device-TLB descriptors, response delivery after a write). 0 or -ENOSPC.
 */
int vtd_prq_init(struct viommu *v);
int vtd_ats_translate(void *iommu, const struct dma_req *req, uint64_t iova,
		      struct dma_ats_xlate *ret);
int vtd_page_request(void *iommu, const struct dma_page_req *pr);
int vtd_ats_register(void *iommu, uint16_t sid, const struct dma_ats_client *client, void *opaque);

#endif
