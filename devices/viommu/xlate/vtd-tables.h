/* SPDX-License-Identifier: MIT */
/*
 * VT-d in-memory formats: fault reason codes and one accessor per field of the root,
 * context, PASID directory, PASID and page-table entries (uint64_t arrays, style rule 9).
 *
 * Callers: the translation engine (xlate/) and the unit model (fault.c needs VTD_FR_*).
 * Bit numbers in comments are absolute within the entry (bit 127 = bit 63 of word 1),
 * section numbers refer to /work/shared/docs/vtd-facts.md. Entries are loaded once from
 * guest memory into a local array and never re-read (style rule 20).
 */
#ifndef NESTVM_VTD_TABLES_H
#define NESTVM_VTD_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "common/bits.h"

/* ---- Fault reasons (FRCD.FR, facts §7.2) ---- */
#define VTD_FR_ROOT_NOT_PRESENT 0x01       /* legacy root entry P=0 */
#define VTD_FR_CTX_NOT_PRESENT 0x02        /* legacy context entry P=0 */
#define VTD_FR_CTX_INVALID 0x03            /* context entry programmed invalid (TT/AW) */
#define VTD_FR_ADDR_BEYOND_MGAW 0x04       /* input address above the AGAW/MGAW */
#define VTD_FR_WRITE 0x05                  /* no write permission */
#define VTD_FR_READ 0x06                   /* no read permission */
#define VTD_FR_PAGING_ENTRY_INV 0x07       /* paging entry not accessible */
#define VTD_FR_ROOT_TABLE_INV 0x08         /* root table not accessible */
#define VTD_FR_CTX_TABLE_INV 0x09          /* context table not accessible */
#define VTD_FR_ROOT_ENTRY_RSVD 0x0A        /* reserved bits in root entry */
#define VTD_FR_CTX_ENTRY_RSVD 0x0B         /* reserved bits in context entry */
#define VTD_FR_PAGING_ENTRY_RSVD 0x0C      /* reserved bits in paging entry */
#define VTD_FR_TT_BLOCKED 0x0D             /* request type blocked by context TT */
#define VTD_FR_INTERRUPT_ADDR 0x0E         /* output in interrupt range (legacy) */

/* Interrupt remapping (not produced by xlate, listed for the unit). */
#define VTD_FR_IR_REQ_RSVD 0x20
#define VTD_FR_IR_INDEX_OVER 0x21
#define VTD_FR_IR_ENTRY_P 0x22
#define VTD_FR_IR_ROOT_INVAL 0x23
#define VTD_FR_IR_IRTE_RSVD 0x24
#define VTD_FR_IR_REQ_COMPAT 0x25
#define VTD_FR_IR_SID_ERR 0x26

/* Scalable mode. */
#define VTD_FR_SM_RTADDR_INV 0x30          /* root table address invalid */
#define VTD_FR_SM_TTM_PASID 0x31           /* TTM=00 and request with PASID */
#define VTD_FR_SM_TTM_PRQ 0x32             /* TTM=00 and page request */
#define VTD_FR_SM_ROOT_ACCESS 0x38         /* SM root entry access error */
#define VTD_FR_SM_ROOT_NOT_PRESENT 0x39    /* SM root entry LP/UP=0 */
#define VTD_FR_SM_ROOT_RSVD 0x3A           /* SM root entry reserved bits */
#define VTD_FR_SM_CTX_ACCESS 0x40          /* SM context entry access error */
#define VTD_FR_SM_CTX_NOT_PRESENT 0x41     /* SM context P=0 */
#define VTD_FR_SM_CTX_RSVD 0x42            /* SM context reserved bits */
#define VTD_FR_SM_CTX_INVALID 0x43         /* SM context programmed invalid */
#define VTD_FR_SM_CTX_DTE 0x44             /* translation request with DTE=0 */
#define VTD_FR_SM_CTX_PASIDE 0x45          /* request with PASID and PASIDE=0 */
#define VTD_FR_SM_PASID_BEYOND_PDTS 0x46   /* PASID beyond the directory size */
#define VTD_FR_SM_CTX_PRE 0x47             /* page request with PRE=0 */
#define VTD_FR_SM_RID_PASID 0x48           /* RID_PASID error */
#define VTD_FR_SM_PDE_ACCESS 0x50          /* PASID directory entry access error */
#define VTD_FR_SM_PDE_NOT_PRESENT 0x51
#define VTD_FR_SM_PDE_RSVD 0x52
#define VTD_FR_SM_PE_ACCESS 0x58           /* PASID table entry access error */
#define VTD_FR_SM_PE_NOT_PRESENT 0x59
#define VTD_FR_SM_PE_RSVD 0x5A
#define VTD_FR_SM_PE_INVALID 0x5B          /* bad PGTT / AW / FLPM / unsupported mode */
#define VTD_FR_SM_ERE 0x5C                 /* execute request with ERE=0 */
#define VTD_FR_SM_SRE 0x5D                 /* supervisor request with SRE=0 */
#define VTD_FR_FS_ACCESS 0x70              /* first-stage entry access error */
#define VTD_FR_FS_NOT_PRESENT 0x71
#define VTD_FR_FS_RSVD 0x72
#define VTD_FR_FS_PML4_ACCESS 0x73         /* first-stage root (top-level) access error */
#define VTD_FR_NESTED_FS_BEYOND_MGAW 0x74  /* nested: FS table pointer beyond the SS width */
#define VTD_FR_NESTED_FS_PML4_READ 0x75    /* nested: SS read perm for FS top-level table */
#define VTD_FR_NESTED_FS_READ 0x76         /* nested: SS read perm for an FS table */
#define VTD_FR_NESTED_FS_WRITE 0x77        /* nested: SS write perm for FS A/D update */
#define VTD_FR_SS_ACCESS 0x78              /* second-stage entry access error */
#define VTD_FR_SS_PERM 0x79                /* second-stage entry R/W both 0 (not present) */
#define VTD_FR_SS_RSVD 0x7A
#define VTD_FR_SS_ROOT_INV 0x7B            /* second-stage root pointer invalid */
#define VTD_FR_SS_AD_NOSNOOP 0x7C
#define VTD_FR_FS_NON_CANONICAL 0x80
#define VTD_FR_FS_USER 0x81                /* user request to a U/S=0 page */
#define VTD_FR_FS_EXEC 0x82                /* execute request to an XD page */
#define VTD_FR_ADDR_BEYOND_HAW 0x83        /* input address beyond the hardware max */
#define VTD_FR_SS_OUTPUT_BEYOND 0x84       /* second-stage output beyond max */
#define VTD_FR_SM_WRITE 0x85               /* no write permission (SM) */
#define VTD_FR_SM_READ 0x86                /* no read permission (SM) */
#define VTD_FR_SM_INTERRUPT_ADDR 0x87      /* output in interrupt range (SM) */
#define VTD_FR_FS_AD_NOSNOOP 0x90
#define VTD_FR_FS_AD_FAILED 0x91           /* first-stage A/D store failed */

/* ---- Root table (facts §3): 256 x 128-bit entries indexed by bus ---- */
#define VTD_ROOT_TABLE_ENTRIES 256
#define VTD_ROOT_ENTRY_SIZE 16
/* Legacy root entry. */
static inline bool vtd_root_p(const uint64_t *e) { return e[0] & BIT_ULL(0); }            /* 0 */
static inline uint64_t vtd_root_ctp(const uint64_t *e) { return e[0] & GENMASK_ULL(63, 12); } /* 63:12 */
#define VTD_ROOT_RSVD0 GENMASK_ULL(11, 1)                                                 /* 11:1 */
#define VTD_ROOT_RSVD1 GENMASK_ULL(63, 0)                                                 /* 127:64 */
/* Scalable-mode root entry. */
static inline bool vtd_smroot_lp(const uint64_t *e) { return e[0] & BIT_ULL(0); }          /* 0 */
static inline uint64_t vtd_smroot_lctp(const uint64_t *e) { return e[0] & GENMASK_ULL(63, 12); } /* 63:12 */
static inline bool vtd_smroot_up(const uint64_t *e) { return e[1] & BIT_ULL(0); }          /* 64 */
static inline uint64_t vtd_smroot_uctp(const uint64_t *e) { return e[1] & GENMASK_ULL(63, 12); } /* 127:76 */
#define VTD_SMROOT_RSVD0 GENMASK_ULL(11, 1)                                               /* 11:1 */
#define VTD_SMROOT_RSVD1 GENMASK_ULL(11, 1)                                               /* 75:65 */

/* ---- Legacy context entry (128 bits, 256 per table, index devfn) ---- */
#define VTD_CTX_ENTRY_SIZE 16
static inline bool vtd_ctx_p(const uint64_t *e) { return e[0] & BIT_ULL(0); }             /* 0 */
static inline bool vtd_ctx_fpd(const uint64_t *e) { return e[0] & BIT_ULL(1); }           /* 1 */
static inline unsigned int vtd_ctx_tt(const uint64_t *e) { return FIELD_GET(GENMASK_ULL(3, 2), e[0]); } /* 3:2 */
static inline uint64_t vtd_ctx_slptptr(const uint64_t *e) { return e[0] & GENMASK_ULL(63, 12); } /* 63:12 */
static inline unsigned int vtd_ctx_aw(const uint64_t *e) { return FIELD_GET(GENMASK_ULL(2, 0), e[1]); } /* 66:64 */
static inline uint16_t vtd_ctx_did(const uint64_t *e) { return FIELD_GET(GENMASK_ULL(23, 8), e[1]); } /* 87:72 */
#define VTD_CTX_RSVD0 GENMASK_ULL(11, 4)                                                  /* 11:4 */
#define VTD_CTX_RSVD1 (BIT_ULL(7) | GENMASK_ULL(63, 24))                                  /* 71, 127:88 */
#define VTD_CTX_TT_UNTRANSLATED 0
#define VTD_CTX_TT_DEVTLB 1
#define VTD_CTX_TT_PASSTHROUGH 2

/* ---- Scalable-mode context entry (256 bits, 128 per table, index devfn & 0x7F) ---- */
#define VTD_SMCTX_ENTRY_SIZE 32
static inline bool vtd_smctx_p(const uint64_t *e) { return e[0] & BIT_ULL(0); }           /* 0 */
static inline bool vtd_smctx_fpd(const uint64_t *e) { return e[0] & BIT_ULL(1); }         /* 1 */
static inline bool vtd_smctx_dte(const uint64_t *e) { return e[0] & BIT_ULL(2); }         /* 2 */
static inline bool vtd_smctx_paside(const uint64_t *e) { return e[0] & BIT_ULL(3); }      /* 3 */
static inline bool vtd_smctx_pre(const uint64_t *e) { return e[0] & BIT_ULL(4); }         /* 4 */
static inline unsigned int vtd_smctx_pdts(const uint64_t *e) { return FIELD_GET(GENMASK_ULL(11, 9), e[0]); } /* 11:9 */
static inline uint64_t vtd_smctx_pasiddirptr(const uint64_t *e) { return e[0] & GENMASK_ULL(63, 12); } /* 63:12 */
static inline uint32_t vtd_smctx_rid_pasid(const uint64_t *e) { return FIELD_GET(GENMASK_ULL(19, 0), e[1]); } /* 83:64 */
static inline bool vtd_smctx_rid_priv(const uint64_t *e) { return e[1] & BIT_ULL(20); }   /* 84 */
#define VTD_SMCTX_RSVD0 GENMASK_ULL(8, 5)                                                 /* 8:5 */
#define VTD_SMCTX_RSVD1 GENMASK_ULL(63, 21)                                               /* 127:85 */
#define VTD_SMCTX_RSVD2 GENMASK_ULL(63, 0)                                                /* 191:128 */
#define VTD_SMCTX_RSVD3 GENMASK_ULL(63, 0)                                                /* 255:192 */
/* Directory entries = 2^(PDTS+7); each covers 64 PASIDs. */
static inline uint64_t vtd_smctx_dir_entries(const uint64_t *e) { return 1ULL << (vtd_smctx_pdts(e) + 7); }

/* ---- PASID directory entry (64 bits; index PASID[19:6]) ---- */
#define VTD_PDIR_ENTRY_SIZE 8
static inline bool vtd_pdire_p(uint64_t e) { return e & BIT_ULL(0); }                     /* 0 */
static inline bool vtd_pdire_fpd(uint64_t e) { return e & BIT_ULL(1); }                   /* 1 */
static inline uint64_t vtd_pdire_ptp(uint64_t e) { return e & GENMASK_ULL(63, 12); }      /* 63:12 */
#define VTD_PDIRE_RSVD GENMASK_ULL(11, 2)                                                 /* 11:2 */

/* ---- PASID table entry (512 bits; index PASID[5:0]) ---- */
#define VTD_PE_SIZE 64
#define VTD_PE_WORDS 8
static inline bool vtd_pe_p(const uint64_t *e) { return e[0] & BIT_ULL(0); }              /* 0 */
static inline bool vtd_pe_fpd(const uint64_t *e) { return e[0] & BIT_ULL(1); }            /* 1 */
static inline unsigned int vtd_pe_aw(const uint64_t *e) { return FIELD_GET(GENMASK_ULL(4, 2), e[0]); } /* 4:2 */
static inline bool vtd_pe_slee(const uint64_t *e) { return e[0] & BIT_ULL(5); }           /* 5 */
static inline unsigned int vtd_pe_pgtt(const uint64_t *e) { return FIELD_GET(GENMASK_ULL(8, 6), e[0]); } /* 8:6 */
static inline bool vtd_pe_slade(const uint64_t *e) { return e[0] & BIT_ULL(9); }          /* 9 */
static inline uint64_t vtd_pe_slptptr(const uint64_t *e) { return e[0] & GENMASK_ULL(63, 12); } /* 63:12 */
static inline uint16_t vtd_pe_did(const uint64_t *e) { return FIELD_GET(GENMASK_ULL(15, 0), e[1]); } /* 79:64 */
static inline bool vtd_pe_pwsnp(const uint64_t *e) { return e[1] & BIT_ULL(23); }         /* 87 */
static inline bool vtd_pe_pgsnp(const uint64_t *e) { return e[1] & BIT_ULL(24); }         /* 88 */
static inline bool vtd_pe_sre(const uint64_t *e) { return e[2] & BIT_ULL(0); }            /* 128 */
static inline bool vtd_pe_ere(const uint64_t *e) { return e[2] & BIT_ULL(1); }            /* 129 */
static inline unsigned int vtd_pe_flpm(const uint64_t *e) { return FIELD_GET(GENMASK_ULL(3, 2), e[2]); } /* 131:130 */
static inline bool vtd_pe_wpe(const uint64_t *e) { return e[2] & BIT_ULL(4); }            /* 132 */
static inline bool vtd_pe_nxe(const uint64_t *e) { return e[2] & BIT_ULL(5); }            /* 133 */
static inline bool vtd_pe_smep(const uint64_t *e) { return e[2] & BIT_ULL(6); }           /* 134 */
static inline bool vtd_pe_eafe(const uint64_t *e) { return e[2] & BIT_ULL(7); }           /* 135 */
static inline uint64_t vtd_pe_flptptr(const uint64_t *e) { return e[2] & GENMASK_ULL(63, 12); } /* 191:140 */
/* Reserved: 11:10 of word 0, 86:80 of word 1 (89..127 are memory-type fields, not checked),
 * 139:136 of word 2, all of 511:192. */
#define VTD_PE_RSVD0 GENMASK_ULL(11, 10)
#define VTD_PE_RSVD1 GENMASK_ULL(22, 16)
#define VTD_PE_RSVD2 GENMASK_ULL(11, 8)
#define VTD_PE_PGTT_FS 1
#define VTD_PE_PGTT_SS 2
#define VTD_PE_PGTT_NESTED 3
#define VTD_PE_PGTT_PT 4

/* ---- Second-stage paging entry (facts §5) ---- */
static inline bool vtd_sspte_r(uint64_t e) { return e & BIT_ULL(0); }                      /* 0 */
static inline bool vtd_sspte_w(uint64_t e) { return e & BIT_ULL(1); }                      /* 1 */
static inline bool vtd_sspte_x(uint64_t e) { return e & BIT_ULL(2); }                      /* 2 */
static inline bool vtd_sspte_ps(uint64_t e) { return e & BIT_ULL(7); }                     /* 7 */
static inline bool vtd_sspte_snp(uint64_t e) { return e & BIT_ULL(11); }                   /* 11 */
static inline bool vtd_sspte_tm(uint64_t e) { return e & BIT_ULL(62); }                    /* 62 */
/* Address field 51:12; bits HAW..51 are reserved (mask computed per instance). */
static inline uint64_t vtd_sspte_addr(uint64_t e) { return e & GENMASK_ULL(51, 12); }      /* 51:12 */

/* ---- First-stage paging entry (IA-32e format, facts §5) ---- */
static inline bool vtd_fspte_p(uint64_t e) { return e & BIT_ULL(0); }                      /* 0 */
static inline bool vtd_fspte_rw(uint64_t e) { return e & BIT_ULL(1); }                     /* 1 */
static inline bool vtd_fspte_us(uint64_t e) { return e & BIT_ULL(2); }                     /* 2 */
static inline bool vtd_fspte_a(uint64_t e) { return e & BIT_ULL(5); }                      /* 5 */
static inline bool vtd_fspte_d(uint64_t e) { return e & BIT_ULL(6); }                      /* 6 */
static inline bool vtd_fspte_ps(uint64_t e) { return e & BIT_ULL(7); }                     /* 7 */
static inline bool vtd_fspte_ea(uint64_t e) { return e & BIT_ULL(10); }                    /* 10 */
static inline bool vtd_fspte_xd(uint64_t e) { return e & BIT_ULL(63); }                    /* 63 */
static inline uint64_t vtd_fspte_addr(uint64_t e) { return e & GENMASK_ULL(51, 12); }      /* 51:12 */
#define VTD_FSPTE_A BIT_ULL(5)
#define VTD_FSPTE_D BIT_ULL(6)
#define VTD_FSPTE_EA BIT_ULL(10)

/* Interrupt address range: requests hitting it are never DMA (facts §5). */
#define VTD_INTERRUPT_ADDR_FIRST 0xFEE00000ULL
#define VTD_INTERRUPT_ADDR_LAST 0xFEEFFFFFULL

#endif
