/* SPDX-License-Identifier: MIT */
/* Guest-side VT-d interrupt remapping: the IRT, IRTEs, IEC invalidation, IR faults, edu MSI. */
#ifndef GUEST_VTD_IR_H
#define GUEST_VTD_IR_H

#include "vtd.h"

#define VTD_ECAP_IR (1ULL << 3)
#define VTD_ECAP_EIM (1ULL << 4)
#define VTD_IRTA_EIME (1ULL << 11)

/* IR fault reasons (VT-d spec 7.1.3). */
#define VTD_FR_IR_REQ_RSVD 0x20
#define VTD_FR_IR_INDEX_OVER 0x21
#define VTD_FR_IR_ENTRY_P 0x22
#define VTD_FR_IR_ROOT_INVAL 0x23
#define VTD_FR_IR_IRTE_RSVD 0x24
#define VTD_FR_IR_REQ_COMPAT 0x25
#define VTD_FR_IR_SID_ERR 0x26

/* IRTE low qword (remapped format) and high qword fields. */
#define IRTE_P (1ULL << 0)
#define IRTE_FPD (1ULL << 1)
#define IRTE_DM_LOGICAL (1ULL << 2)
#define IRTE_TM_LEVEL (1ULL << 4)
#define IRTE_DLM(x) ((uint64_t)(x) << 5)
#define IRTE_IM_POSTED (1ULL << 15)
#define IRTE_VECTOR(v) ((uint64_t)(v) << 16)
#define IRTE_HI_SID(s) ((uint64_t)(s))
#define IRTE_HI_SQ(q) ((uint64_t)(q) << 16)
#define IRTE_HI_SVT(t) ((uint64_t)(t) << 18)
#define IRTE_HI_VERIFY(sid) (IRTE_HI_SID(sid) | IRTE_HI_SVT(1)) /* full SID check */

/* The IOAPIC's source-id on both boards (00:1f.0, the DMAR IOAPIC scope). */
#define IOAPIC_SID 0x00f8

struct irt {
	uint64_t *e;     /* 2 qwords per entry */
	unsigned nr;     /* entries */
	bool eime;
};

/* Remapped-format IRTE low qword: fixed delivery, physical destination. */
static inline uint64_t irte_lo(const struct irt *t, uint8_t vector, uint32_t dest, bool level)
{
	uint64_t dst = t->eime ? (uint64_t)dest << 32 : (uint64_t)(dest & 0xff) << 40;

	return IRTE_P | IRTE_VECTOR(vector) | dst | (level ? IRTE_TM_LEVEL : 0);
}

/* Remappable-format MSI address: handle, SHV (data[15:0] then adds a subhandle). */
static inline uint64_t ir_msi_addr(unsigned handle, bool shv)
{
	return 0xfee00000ULL | ((uint64_t)(handle & 0x7fff) << 5) | (1u << 4) | (shv ? 1u << 3 : 0) |
	       ((handle & 0x8000) ? 1u << 2 : 0);
}

/* Remappable-format IOAPIC RTE (masked bit 16 left clear). */
static inline uint64_t ir_rte(uint8_t vector, unsigned handle, bool level)
{
	return vector | ((handle & 0x8000) ? 1ULL << 11 : 0) | (level ? 1ULL << 15 : 0) | (1ULL << 48) |
	       ((uint64_t)(handle & 0x7fff) << 49);
}

/*
 * Allocates a 2^(s+1)-entry table, latches it (IRTA + SIRTP), turns on queued invalidation if
 * needed, invalidates the IEC globally and sets IRE. 0, -19 (no ECAP.IR/EIM) or another -errno.
 */
int irt_enable(struct vtd *u, struct irt *t, bool eime, unsigned s);
void irt_set(struct irt *t, unsigned idx, uint64_t lo, uint64_t hi);
/* IEC invalidation (index < 0: global; else index with mask im) + wait. 0 or -errno. */
int irt_iec(struct vtd *u, int index, unsigned im);
/* Takes the first pending fault record (F=1): reason, source-id, interrupt index; clears it. */
bool ir_fault_take(struct vtd *u, uint8_t *ret_fr, uint16_t *ret_sid, uint16_t *ret_index);

/* ---- edu interrupts (registers 0x24 status, 0x60 raise, 0x64 ack) ---- */
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
/* Programs edu's (64-bit) MSI capability with addr/data and enables it (INTx off). */
void edu_msi_enable(const struct edu_dev *e, uint64_t addr, uint16_t data);
void edu_msi_disable(const struct edu_dev *e);
/* Acknowledges every pending edu interrupt cause. */
void edu_irq_ack(const struct edu_dev *e);

#endif
