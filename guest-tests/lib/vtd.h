/* SPDX-License-Identifier: MIT */
/* Guest-side VT-d programming (unit discovery, tables, QI, faults) and the edu DMA helper. */
#ifndef GUEST_VTD_H
#define GUEST_VTD_H

#include "guest.h"

/* ---- registers (VT-d spec chapter 11) ---- */
#define VTD_VER 0x000
#define VTD_CAP 0x008
#define VTD_ECAP 0x010
#define VTD_GCMD 0x018
#define VTD_GSTS 0x01c
#define VTD_RTADDR 0x020
#define VTD_CCMD 0x028
#define VTD_FSTS 0x034
#define VTD_FECTL 0x038
#define VTD_FEDATA 0x03c
#define VTD_FEADDR 0x040
#define VTD_FEUADDR 0x044
#define VTD_IQH 0x080
#define VTD_IQT 0x088
#define VTD_IQA 0x090
#define VTD_ICS 0x09c
#define VTD_IECTL 0x0a0
#define VTD_IEDATA 0x0a4
#define VTD_IEADDR 0x0a8
#define VTD_IEUADDR 0x0ac
#define VTD_IQERCD 0x0b0
#define VTD_IRTA 0x0b8

/* GCMD / GSTS bits (same positions); one-shot bits are 30, 29, 27, 24. */
#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_QIE (1u << 26)
#define VTD_GCMD_IRE (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GCMD_CFI (1u << 23)
#define VTD_GSTS_ONESHOT_MASK 0x96ffffffu

#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4)
#define VTD_FSTS_ICE (1u << 5)
#define VTD_FSTS_ITE (1u << 6)
#define VTD_FSTS_FRI(f) (((f) >> 8) & 0xff)
#define VTD_ECTL_IM (1u << 31)
#define VTD_ECTL_IP (1u << 30)
#define VTD_ICS_IWC (1u << 0)

/* CAP / ECAP fields */
#define VTD_CAP_SAGAW(c) (((c) >> 8) & 0x1f)
#define VTD_CAP_MGAW(c) ((unsigned)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(c) ((unsigned)(((c) >> 24) & 0x3ff) * 16)
#define VTD_CAP_SSLPS(c) ((unsigned)(((c) >> 34) & 0xf))
#define VTD_CAP_NFR(c) ((unsigned)(((c) >> 40) & 0xff) + 1)
#define VTD_CAP_CM (1ULL << 7)
#define VTD_ECAP_QI (1ULL << 1)
#define VTD_ECAP_PT (1ULL << 6)
#define VTD_ECAP_IRO(e) ((unsigned)(((e) >> 8) & 0x3ff) * 16)
#define VTD_ECAP_NEST (1ULL << 26)
#define VTD_ECAP_SRS (1ULL << 31)
#define VTD_ECAP_PASID (1ULL << 40)
#define VTD_ECAP_SMTS (1ULL << 43)
#define VTD_ECAP_SLTS (1ULL << 46)
#define VTD_ECAP_FLTS (1ULL << 47)

/* Fault reasons the tests look for (VT-d spec 7.1.3 / appendix). */
#define VTD_FR_CTX_NOT_PRESENT 0x02
#define VTD_FR_BEYOND_MGAW 0x04
#define VTD_FR_WRITE 0x05
#define VTD_FR_READ 0x06
#define VTD_FR_PAGING_ENTRY 0x07
#define VTD_FR_SM_CTX_NOT_PRESENT 0x41
#define VTD_FR_SM_PDE_NOT_PRESENT 0x51
#define VTD_FR_SM_PE_NOT_PRESENT 0x59
#define VTD_FR_SM_PE_INVALID 0x5b
#define VTD_FR_FS_NOT_PRESENT 0x71
#define VTD_FR_SS_NOT_PRESENT 0x79
#define VTD_FR_SM_WRITE 0x85
#define VTD_FR_SM_READ 0x86

/* Entry bits. */
#define VTD_PTE_R (1ULL << 0)
#define VTD_PTE_W (1ULL << 1)
#define VTD_PGTT_FS 1
#define VTD_PGTT_SS 2
#define VTD_PGTT_NESTED 3
#define VTD_PGTT_PT 4

/* Descriptor types (128-bit layout; 256-bit queues add two zero qwords). */
#define VTD_DESC_CC 0x1
#define VTD_DESC_IOTLB 0x2
#define VTD_DESC_IEC 0x4
#define VTD_DESC_WAIT 0x5
#define VTD_DESC_PIOTLB 0x6
#define VTD_DESC_PC 0x7
#define VTD_WAIT_IF (1ULL << 4)
#define VTD_WAIT_SW (1ULL << 5)
#define VTD_WAIT_FN (1ULL << 6)

#define VTD_POLL_US 200000 /* bound on every register / status poll */

struct vtd {
	uint64_t base;
	uint64_t cap, ecap;
	unsigned fro, nfr, iro; /* FRCD[0] offset, number of records, IVA offset */
	unsigned sagaw;
	bool from_dtb;
	/* tables built by vtd_tables_init() */
	bool scalable;
	uint64_t *root;
	/* invalidation queue */
	uint64_t *iq;
	unsigned iq_qs, iq_dw, iq_size; /* QS, 0/1, queue bytes */
	unsigned iq_tail;              /* byte offset of the next free slot */
	volatile uint32_t *wait_status; /* one dword used by vtd_qi_wait() */
	uint32_t wait_seq;
};

/* Page tables: second-stage (R/W bits) or first-stage (IA-32e) format, 4 KiB + 2 MiB leaves. */
struct vtd_pt {
	uint64_t *root;
	unsigned levels; /* 3, 4 or 5 */
	bool first_stage;
};

/* Fault record as read from FRCD[i]. */
struct vtd_frec {
	bool f;
	uint64_t addr;
	uint16_t sid;
	uint8_t fr;
	bool read; /* T = 1 */
	bool pp;
	uint32_t pasid;
};

/* ---- unit (lib/vtd.c) ---- */
/* Finds the unit (DTB "intel,vtd" node or the DMAR table's first DRHD), reads CAP/ECAP. */
int vtd_find(struct vtd *u);
uint32_t vtd_read32(const struct vtd *u, unsigned off);
uint64_t vtd_read64(const struct vtd *u, unsigned off);
void vtd_write32(const struct vtd *u, unsigned off, uint32_t v);
void vtd_write64(const struct vtd *u, unsigned off, uint64_t v);
/* One GCMD command (bit) on or off, keeping the other persistent states; polls GSTS (bounded). */
int vtd_gcmd(struct vtd *u, uint32_t bit, bool on);
/* 3 (39-bit) or 4 (48-bit) second-stage levels: the largest the unit's SAGAW offers, max max_levels. */
unsigned vtd_ss_levels(const struct vtd *u, unsigned max_levels);
/* AW field (context / PASID entry) for a number of levels. */
static inline unsigned vtd_aw(unsigned levels) { return levels - 2; }

/* ---- tables ---- */
/* Allocates an empty root table in the given format and latches it (RTADDR + SRTP). */
int vtd_tables_init(struct vtd *u, bool scalable);
/* Legacy context entry for bdf: tt 0 (translate) or 2 (pass-through); ss may be NULL with tt 2. */
void vtd_ctx_set(struct vtd *u, uint16_t bdf, uint16_t did, unsigned tt, const struct vtd_pt *ss, bool fpd);
/* Scalable context entry: PASID directory (allocated on first use), RID_PASID, PDTS=0 (64 PASIDs). */
void vtd_smctx_set(struct vtd *u, uint16_t bdf, uint32_t rid_pasid, bool fpd);
void vtd_ctx_clear(struct vtd *u, uint16_t bdf);
/* PASID table entry for (bdf, pasid): PGTT 1-4; fs/ss as the PGTT needs (NULL otherwise). */
int vtd_pasid_set(struct vtd *u, uint16_t bdf, uint32_t pasid, uint16_t did, unsigned pgtt,
		  const struct vtd_pt *fs, const struct vtd_pt *ss, bool fpd);
uint64_t *vtd_pasid_entry(struct vtd *u, uint16_t bdf, uint32_t pasid);
void vtd_pasid_clear(struct vtd *u, uint16_t bdf, uint32_t pasid);

/* ---- page tables ---- */
int vtd_pt_init(struct vtd_pt *pt, unsigned levels, bool first_stage);
/* Maps [iova, iova+len) to pa with perm (VTD_PTE_R|VTD_PTE_W); 2 MiB leaves when both aligned. */
int vtd_pt_map(struct vtd_pt *pt, uint64_t iova, uint64_t pa, uint64_t len, uint64_t perm);
/* Returns the leaf entry for iova (4 KiB or 2 MiB), NULL if absent. */
uint64_t *vtd_pt_leaf(struct vtd_pt *pt, uint64_t iova);
/* The entry for iova at level (1 = 4 KiB leaf level) if the walk reaches it, else NULL. */
uint64_t *vtd_pt_entry(struct vtd_pt *pt, uint64_t iova, unsigned level);

/* ---- register-based invalidation (bounded polls; 0 or -ETIMEDOUT) ---- */
int vtd_cc_inv_global(struct vtd *u);
int vtd_iotlb_inv_global(struct vtd *u);
int vtd_iotlb_inv_page(struct vtd *u, uint16_t did, uint64_t addr, unsigned am);

/* ---- queued invalidation ---- */
/* Allocates a 2^qs-page queue (dw: 256-bit descriptors), IQT=0, IQA, then QIE. */
int vtd_qi_init(struct vtd *u, unsigned qs, bool dw);
int vtd_qi_disable(struct vtd *u);
/* Descriptor builders (d[0..3]; d[2], d[3] zero). */
void vtd_desc_cc_global(uint64_t *d);
void vtd_desc_iotlb_global(uint64_t *d);
void vtd_desc_iotlb_dom(uint64_t *d, uint16_t did);
void vtd_desc_iotlb_page(uint64_t *d, uint16_t did, uint64_t addr, unsigned am);
void vtd_desc_pc(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid);
void vtd_desc_piotlb(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am);
void vtd_desc_wait(uint64_t *d, uint64_t flags, uint64_t status_addr, uint32_t data);
/* Copies n descriptors (4 qwords each in the array) at the tail, wrapping, then one IQT write. */
int vtd_qi_submit(struct vtd *u, const uint64_t (*descs)[4], unsigned n);
/* Submits a wait(SW) and polls its status (bounded): 0, -EIO (FSTS.IQE) or -ETIMEDOUT. */
int vtd_qi_wait(struct vtd *u);
/* submit + wait */
int vtd_qi_sync(struct vtd *u, const uint64_t (*descs)[4], unsigned n);
/* Global context-cache + IOTLB (+ PASID-cache when scalable) through the queue and wait. */
int vtd_qi_flush_all(struct vtd *u);

/* ---- faults ---- */
void vtd_frcd_read(const struct vtd *u, unsigned i, struct vtd_frec *r);
void vtd_frcd_clear(const struct vtd *u, unsigned i);
/* Clears every record and FSTS (PFO, IQE, ICE, ITE). */
void vtd_faults_clear(const struct vtd *u);
/* Finds the first record with F set; returns its index or -1. */
int vtd_fault_find(const struct vtd *u, struct vtd_frec *r);
/* Fault-event and invalidation-event MSIs to this CPU's vector, unmasked. */
void vtd_fault_msi(const struct vtd *u, uint8_t vector);
void vtd_inv_msi(const struct vtd *u, uint8_t vector);

/* ---- edu DMA (1234:11e8) ---- */
struct edu_dev {
	uint16_t bdf;
	uint64_t bar;
};
#define EDU_DMA_BUF 0x40000u
/* Finds edu, enables memory + bus mastering. 0 or -ENODEV. */
int edu_open(struct edu_dev *e);
/* One DMA of len bytes between RAM-side address ram (an IOVA when remapped) and the device
 * buffer at EDU_DMA_BUF + off; to_ram: device -> RAM. Polls completion (bounded). */
int edu_dma(const struct edu_dev *e, uint64_t ram, bool to_ram, uint32_t off, uint32_t len);

/* ---- test helpers ---- */
/* Interrupts on until *c >= want or us elapse. */
bool vtd_wait_count(volatile uint32_t *c, uint32_t want, uint32_t us);
/* One TAP assertion: a record with F, this reason/type/page/SID, FSTS.PPF and FRI pointing at it;
 * then clears all records and FSTS. */
bool vtd_check_fault(const struct vtd *u, uint8_t fr, bool read, uint64_t addr, uint16_t sid, const char *what);
#endif
