/* SPDX-License-Identifier: MIT */
/*
 * vtd-regs-mirror: register reads return what the last write made them, on the very first
 * read after the write (GSTS after each GCMD command, IQH after a queue run, RW registers read
 * back), and stay stable over many reads. On nestvm these reads are served from the read-only
 * register mirror without an exit: guest-tests/regs-mirror.sh runs this kernel with the
 * mirror on and off and checks nestvm's count of register reads that exited. The kernel
 * prints how many register reads it did ("# register reads: N").
 */
#include "vtd.h"

#define N_READS 1000

static unsigned reads;

static uint32_t rd32(struct vtd *u, unsigned off)
{
	reads++;
	return vtd_read32(u, off);
}

static uint64_t rd64(struct vtd *u, unsigned off)
{
	reads++;
	return vtd_read64(u, off);
}

/* The GCMD idiom: keep the persistent states from GSTS, flip one; returns GSTS read right after. */
static uint32_t gcmd_once(struct vtd *u, uint32_t bit, bool on)
{
	uint32_t sts = rd32(u, VTD_GSTS) & VTD_GSTS_ONESHOT_MASK;

	vtd_write32(u, VTD_GCMD, on ? sts | bit : sts & ~bit);
	return rd32(u, VTD_GSTS);
}

/* n rounds of VER, CAP (qword), GSTS: how many differed from the expected values. */
static unsigned stable(struct vtd *u, unsigned n, uint32_t ver, uint64_t cap, uint32_t gsts)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < n; i++) {
		bad += rd32(u, VTD_VER) != ver;
		bad += rd64(u, VTD_CAP) != cap;
		bad += rd32(u, VTD_GSTS) != gsts;
	}
	return bad;
}

void test_main(void)
{
	struct vtd u;
	uint32_t ver, gsts, lo, hi;
	uint64_t t0;
	unsigned bad;

	tap_plan(9);
	if (vtd_find(&u))
		tap_bail("no VT-d unit");
	ver = rd32(&u, VTD_VER);
	lo = rd32(&u, VTD_CAP);
	hi = rd32(&u, VTD_CAP + 4);
	tap_ok(((ver >> 4) & 0xf) >= 1 && u.cap && (((uint64_t)hi << 32) | lo) == u.cap &&
		       rd64(&u, VTD_ECAP) == u.ecap,
	       "VER 0x%x; CAP 0x%lx as a qword equals its two dwords; ECAP 0x%lx", ver,
	       (unsigned long)u.cap, (unsigned long)u.ecap);
	gsts = rd32(&u, VTD_GSTS);
	bad = stable(&u, N_READS, ver, u.cap, gsts);
	tap_ok(bad == 0, "%u rounds of VER, CAP, GSTS (0x%x) read the same values (%u differ)", N_READS,
	       gsts, bad);

	/* SRTP: RTPS on the first GSTS read after the write. */
	u.root = alloc_pages(1);
	vtd_write64(&u, VTD_RTADDR, (uintptr_t)u.root);
	tap_ok(rd64(&u, VTD_RTADDR) == (uintptr_t)u.root, "RTADDR reads back 0x%lx at once",
	       (unsigned long)(uintptr_t)u.root);
	gsts = gcmd_once(&u, VTD_GCMD_SRTP, true);
	tap_ok(gsts & VTD_GCMD_SRTP, "GSTS.RTPS on the first read after GCMD.SRTP (GSTS 0x%x)", gsts);

	/* QIE: QIES at once; a wait descriptor has run (IQH == IQT) on the first read after IQT. */
	u.iq = alloc_pages(1);
	u.wait_status = alloc_pages(1);
	u.iq_size = PAGE_SIZE;
	vtd_write64(&u, VTD_IQT, 0);
	vtd_write64(&u, VTD_IQA, (uintptr_t)u.iq);
	gsts = gcmd_once(&u, VTD_GCMD_QIE, true);
	tap_ok((gsts & VTD_GCMD_QIE) && rd64(&u, VTD_IQH) == 0,
	       "GSTS.QIES on the first read after GCMD.QIE, IQH 0 (GSTS 0x%x)", gsts);
	vtd_desc_wait(u.iq, VTD_WAIT_SW, (uintptr_t)u.wait_status, 0x5a5a);
	vtd_write64(&u, VTD_IQT, 16);
	t0 = rd64(&u, VTD_IQH);
	tap_ok(t0 == 16 && *u.wait_status == 0x5a5a && !(rd32(&u, VTD_FSTS) & VTD_FSTS_IQE),
	       "IQH 0x%lx == IQT on the first read after the IQT write, status 0x%x", (unsigned long)t0,
	       *u.wait_status);

	/* TE on then off, and an RW register: each seen on the first read. */
	gsts = gcmd_once(&u, VTD_GCMD_TE, true);
	lo = gcmd_once(&u, VTD_GCMD_TE, false);
	tap_ok((gsts & VTD_GCMD_TE) && !(lo & VTD_GCMD_TE),
	       "GSTS.TES follows GCMD.TE on and off at once (0x%x, 0x%x)", gsts, lo);
	vtd_write32(&u, VTD_FEDATA, 0x4321);
	vtd_write32(&u, VTD_FECTL, 0);
	lo = rd32(&u, VTD_FEDATA);
	hi = rd32(&u, VTD_FECTL);
	vtd_write32(&u, VTD_FECTL, VTD_ECTL_IM);
	tap_ok(lo == 0x4321 && !(hi & VTD_ECTL_IM) && (rd32(&u, VTD_FECTL) & VTD_ECTL_IM),
	       "FEDATA 0x%x and FECTL.IM (0x%x, then set) read back at once", lo, hi);

	gsts = rd32(&u, VTD_GSTS);
	bad = stable(&u, N_READS, ver, u.cap, gsts);
	tap_ok(bad == 0 && (gsts & (VTD_GCMD_SRTP | VTD_GCMD_QIE)) == (VTD_GCMD_SRTP | VTD_GCMD_QIE),
	       "%u more rounds after the commands: GSTS 0x%x throughout (%u differ)", N_READS, gsts, bad);
	tap_diag("register reads: %u", reads);
}
