/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the hostile-* guest tests: raw VT-d register access at the board's unit, the
 * fault-record and invalidation-queue checks, and edu DMA as the requester that faults.
 * Everything here is deliberately hand-rolled (no driver): these tests program the unit the
 * way a broken or malicious guest would.
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include "guest.h"

#define VTD 0xfed90000UL
#define R_GCMD 0x18
#define R_GSTS 0x1c
#define R_RTADDR 0x20
#define R_CCMD 0x28
#define R_FSTS 0x34
#define R_FECTL 0x38
#define R_IQH 0x80
#define R_IQT 0x88
#define R_IQA 0x90
#define R_ICS 0x9c
#define R_IECTL 0xa0
#define R_IEDATA 0xa4
#define R_IEADDR 0xa8
#define R_IQERCD 0xb0
/* Fault records: CAP.FRO (33:24) * 16 and CAP.NFR (47:40) + 1, read from the unit. */
#define R_FRCD ((unsigned)((vr64(0x08) >> 24) & 0x3ff) * 16)
#define NR_FRCD ((unsigned)((vr64(0x08) >> 40) & 0xff) + 1)
#define G_TE (1u << 31)
#define G_SRTP (1u << 30)
#define G_QIE (1u << 26)
#define FSTS_PFO 0x1u
#define FSTS_PPF 0x2u
#define FSTS_IQE 0x10u

#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_CNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_BUF 0x40000u

static inline uint32_t vr32(unsigned off) { return mmio_read32(VTD + off); }
static inline void vw32(unsigned off, uint32_t v) { mmio_write32(VTD + off, v); }
static inline uint64_t vr64(unsigned off) { return *(volatile uint64_t *)(uintptr_t)(VTD + off); }
static inline void vw64(unsigned off, uint64_t v) { *(volatile uint64_t *)(uintptr_t)(VTD + off) = v; }

/* GCMD the driver way: current level bits plus or minus one command; waits for GSTS. */
static inline bool vtd_gcmd(uint32_t bit, bool on)
{
	uint32_t keep = vr32(R_GSTS) & (G_TE | G_QIE);

	vw32(R_GCMD, on ? (keep | bit) : (keep & ~bit));
	for (int i = 0; i < 1000; i++)
		if (bit == G_SRTP ? (vr32(R_GSTS) & G_SRTP) != 0 : ((vr32(R_GSTS) & bit) != 0) == on)
			return true;
	return false;
}

/* Latches rtaddr (which also drops every cached translation) with remapping on. */
static inline bool vtd_root(uint64_t rtaddr)
{
	vw64(R_RTADDR, rtaddr);
	return vtd_gcmd(G_SRTP, true) && vtd_gcmd(G_TE, true);
}

/* Clears every fault record and the RW1C status bits. */
static inline void vtd_clear_faults(void)
{
	for (unsigned i = 0; i < NR_FRCD; i++)
		vw32(R_FRCD + 16 * i + 12, 0x80000000u);
	vw32(R_FSTS, 0x7f);
}

/* Number of valid fault records; the reason and SID of the first one found. */
static inline unsigned vtd_faults(unsigned *ret_reason, unsigned *ret_sid)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NR_FRCD; i++) {
		uint64_t hi = vr64(R_FRCD + 16 * i + 8);

		if (!(hi >> 63))
			continue;
		if (!n) {
			*ret_reason = (unsigned)(hi >> 32) & 0xff;
			*ret_sid = (unsigned)hi & 0xffff;
		}
		n++;
	}
	return n;
}

/* ---- edu as the DMA master ---- */
static uint64_t edu_bar;
static uint16_t edu_bdf;

static inline bool edu_setup(void)
{
	int bdf = pci_find_device(0x1234, 0x11e8);

	if (bdf < 0)
		return false;
	edu_bdf = (uint16_t)bdf;
	pci_write16(edu_bdf, 0x04, 0x6); /* memory decode + bus master */
	edu_bar = pci_bar_addr(edu_bdf, 0);
	return edu_bar != 0 && mmio_read32(edu_bar) == 0x010000ed;
}

/* One synchronous transfer: to_ram copies the device buffer to iova, else iova to the buffer. */
static inline void edu_dma(uint64_t iova, uint32_t len, bool to_ram, uint32_t buf_off)
{
	uint64_t dev = EDU_BUF + buf_off;

	*(volatile uint64_t *)(uintptr_t)(edu_bar + EDU_REG_DMA_SRC) = to_ram ? dev : iova;
	*(volatile uint64_t *)(uintptr_t)(edu_bar + EDU_REG_DMA_DST) = to_ram ? iova : dev;
	*(volatile uint64_t *)(uintptr_t)(edu_bar + EDU_REG_DMA_CNT) = len;
	mmio_write32(edu_bar + EDU_REG_DMA_CMD, 1 | (to_ram ? 2 : 0));
	for (int i = 0; i < 1000 && (mmio_read32(edu_bar + EDU_REG_DMA_CMD) & 1); i++)
		cpu_relax();
}

/* DMA one line from iova into the buffer and return the fault reason (0 = none). */
static inline unsigned edu_fault_of(uint64_t iova)
{
	unsigned reason = 0, sid = 0;

	vtd_clear_faults();
	edu_dma(iova, 8, false, 0);
	if (!vtd_faults(&reason, &sid))
		return 0;
	return sid == edu_bdf ? reason : 0x100 | reason;
}

/* End of the guest RAM region at 0 (the board's first memory region). */
static inline uint64_t ram_end(void)
{
	for (unsigned i = 0; i < board.nr_mem; i++)
		if (board.mem[i].base == 0)
			return board.mem[i].size;
	return 0;
}

#endif
