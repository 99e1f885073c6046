/* SPDX-License-Identifier: MIT */
/*
 * The VT-d register file: a per-instance table (offset, width, reset, RW, RW1C, WO), one masked
 * store per access then the register's hook, and the command hooks for GCMD, CCMD and IOTLB.
 * Features (ir.c, prq.c, host.c) add their registers and hear of commands and invalidations
 * through their struct vtd_feature hooks (feature.c); this file names none of them.
 *
 * Reads take no lock: no VT-d register has a read side effect, the table and its dword index
 * are fixed after init, and every value is stored (under the unit lock) and loaded as one
 * 64-bit atomic word, so a read sees a whole register as some write left it. An 8-byte read
 * over two 32-bit registers reads them one after the other, as two dword accesses would.
 *
 * The read mirror: every store also goes, as one atomic store of the register's width, to a
 * 4 KiB page laid out like the window (readable registers at their offsets, write-only ones
 * and unlisted offsets 0), i.e. what viommu_mmio_read returns for every aligned dword and
 * qword. The machine maps it into the guest read-only, so reads do not exit; a write exits and
 * its store lands here before the vCPU resumes, so the guest's next read sees it.
 */
#include <string.h>

#include "common/log.h"
#include "devices/viommu/viommu-internal.h"
#include "vmm/core/irq.h"

static void gcmd_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);
static void ccmd_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);
static void iotlb_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am);

#define M32 0xffffffffULL

/* The one store of register i's value: the register file, then the read mirror. */
static void store(struct viommu *v, unsigned int i, uint64_t val)
{
	const struct vtd_reg *r = &v->regs[i];
	uint8_t *p = v->mirror + r->off;

	__atomic_store_n(&v->val[i], val, __ATOMIC_RELEASE);
	if (r->wo)
		return;
	if (r->size == 4)
		__atomic_store_n((uint32_t *)p, (uint32_t)val, __ATOMIC_RELEASE);
	else
		__atomic_store_n((uint64_t *)p, val, __ATOMIC_RELEASE);
}

void vtd_reg_add(struct viommu *v, uint16_t off, uint8_t size, bool wo, uint64_t reset,
		 uint64_t rw, uint64_t rw1c, vtd_reg_hook hook, const char *name)
{
	unsigned int i = v->nr_regs++;

	v->regs[i] = (struct vtd_reg){ off, size, wo, reset, rw, rw1c, hook, name };
	store(v, i, reset);
	for (unsigned int d = 0; d < size / 4u; d++)
		v->slot[off / 4 + d] = (uint8_t)(i + 1);
}

/*
 * Builds the table: the core's registers, then each feature's (vtd_feat_regs: IRTA with
 * ECAP.IR, the page request queue with ECAP.PRS). Registers not listed (reserved, MTRRs,
 * perfmon, and a feature's registers when it is not offered) read as 0 and drop writes. AFL
 * and PLMR/PHMR are not offered, so AFLOG and the protected-memory registers are read-only
 * zero (facts §1: QEMU does the same for PMEN).
 */
void viommu_regs_init(struct viommu *v)
{
	bool sm = v->cfg.scalable;

	v->nr_regs = 0;
	memset(v->slot, 0, sizeof(v->slot));
	memset(v->mirror, 0, VIOMMU_WINDOW_SIZE);
	vtd_reg_add(v, VTD_VER_REG, 4, false, VTD_VERSION, 0, 0, NULL, "VER");
	vtd_reg_add(v, VTD_CAP_REG, 8, false, v->cap, 0, 0, NULL, "CAP");
	vtd_reg_add(v, VTD_ECAP_REG, 8, false, v->ecap, 0, 0, NULL, "ECAP");
	vtd_reg_add(v, VTD_GCMD_REG, 4, true, 0, 0xff800000, 0, gcmd_hook, "GCMD");
	vtd_reg_add(v, VTD_GSTS_REG, 4, false, 0, 0, 0, NULL, "GSTS");
	vtd_reg_add(v, VTD_RTADDR_REG, 8, false, 0, GENMASK_ULL(63, 10), 0, NULL, "RTADDR");
	vtd_reg_add(v, VTD_CCMD_REG, 8, false, 0,
	    VTD_CCMD_ICC | VTD_CCMD_CIRG | VTD_CCMD_FM | VTD_CCMD_SID | VTD_CCMD_DID, 0, ccmd_hook,
	    "CCMD");
	vtd_reg_add(v, VTD_FSTS_REG, 4, false, 0, 0,
	    VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE, vtd_fsts_hook, "FSTS");
	vtd_reg_add(v, VTD_FECTL_REG, 4, false, VTD_ECTL_IM, VTD_ECTL_IM, 0, vtd_fectl_hook, "FECTL");
	vtd_reg_add(v, VTD_FEDATA_REG, 4, false, 0, 0xffff, 0, NULL, "FEDATA");
	vtd_reg_add(v, VTD_FEADDR_REG, 4, false, 0, 0xfffffffc, 0, NULL, "FEADDR");
	/* RsvdZ without ECAP.EIM (facts §1); with it, x2APIC destination bits 31:8. */
	vtd_reg_add(v, VTD_FEUADDR_REG, 4, false, 0, v->cfg.eim ? 0xffffff00 : 0, 0, NULL, "FEUADDR");
	vtd_reg_add(v, VTD_AFLOG_REG, 8, false, 0, 0, 0, NULL, "AFLOG");
	vtd_reg_add(v, VTD_PMEN_REG, 4, false, 0, 0, 0, NULL, "PMEN");
	vtd_reg_add(v, VTD_PLMBASE_REG, 4, false, 0, 0, 0, NULL, "PLMBASE");
	vtd_reg_add(v, VTD_PLMLIMIT_REG, 4, false, 0, 0, 0, NULL, "PLMLIMIT");
	vtd_reg_add(v, VTD_PHMBASE_REG, 8, false, 0, 0, 0, NULL, "PHMBASE");
	vtd_reg_add(v, VTD_PHMLIMIT_REG, 8, false, 0, 0, 0, NULL, "PHMLIMIT");
	vtd_reg_add(v, VTD_IQH_REG, 8, false, 0, 0, 0, NULL, "IQH");
	vtd_reg_add(v, VTD_IQT_REG, 8, false, 0, VTD_IQ_OFF, 0, vtd_iqt_hook, "IQT");
	vtd_reg_add(v, VTD_IQA_REG, 8, false, 0,
	    VTD_IQA_ADDR | VTD_IQA_QS | (sm ? VTD_IQA_DW : 0), 0, NULL, "IQA");
	vtd_reg_add(v, VTD_ICS_REG, 4, false, 0, 0, VTD_ICS_IWC, vtd_ics_hook, "ICS");
	vtd_reg_add(v, VTD_IECTL_REG, 4, false, VTD_ECTL_IM, VTD_ECTL_IM, 0, vtd_iectl_hook, "IECTL");
	vtd_reg_add(v, VTD_IEDATA_REG, 4, false, 0, 0xffff, 0, NULL, "IEDATA");
	vtd_reg_add(v, VTD_IEADDR_REG, 4, false, 0, 0xfffffffc, 0, NULL, "IEADDR");
	vtd_reg_add(v, VTD_IEUADDR_REG, 4, false, 0, v->cfg.eim ? 0xffffff00 : 0, 0, NULL, "IEUADDR");
	vtd_reg_add(v, VTD_IQERCD_REG, 8, false, 0, 0, 0, NULL, "IQERCD");
	vtd_reg_add(v, VTD_IVA_REG, 8, true, 0, VTD_IVA_ADDR | VTD_IVA_IH | VTD_IVA_AM, 0, NULL, "IVA");
	vtd_reg_add(v, VTD_IOTLB_REG, 8, false, 0,
	    VTD_IOTLB_IVT | VTD_IOTLB_IIRG | VTD_IOTLB_DR | VTD_IOTLB_DW | VTD_IOTLB_DID, 0,
	    iotlb_hook, "IOTLB");
	for (unsigned int i = 0; i < VTD_NR_FRCD; i++) {
		vtd_reg_add(v, VTD_FRCD_REG(i), 8, false, 0, 0, 0, NULL, "FRCD_LO");
		vtd_reg_add(v, VTD_FRCD_REG(i) + 8, 8, false, 0, 0, VTD_FRCD_HI_F, vtd_frcd_hook, "FRCD_HI");
	}
	vtd_feat_regs(v); /* IRTA (ir.c), the page request queue (prq.c) */
}

static int find(const struct viommu *v, unsigned int off)
{
	if (off >= VIOMMU_WINDOW_SIZE)
		return -1;
	return (int)v->slot[off / 4] - 1;
}

uint64_t vtd_reg_get(const struct viommu *v, unsigned int off)
{
	int i = find(v, off);

	return i < 0 ? 0 : __atomic_load_n(&v->val[i], __ATOMIC_ACQUIRE);
}

void vtd_reg_set(struct viommu *v, unsigned int off, uint64_t val)
{
	int i = find(v, off);

	if (i >= 0)
		store(v, (unsigned int)i, v->regs[i].size == 4 ? (val & M32) : val);
}

void viommu_queue_msi(struct viommu *v, uint64_t addr, uint32_t data)
{
	if (v->nr_msi < VTD_MAX_MSIS)
		v->msi_q[v->nr_msi++] = (struct vtd_msi){ addr, data };
}

void viommu_flush_msis(struct viommu *v)
{
	struct vtd_msi q[VTD_MAX_MSIS];
	unsigned int n;

	pthread_mutex_lock(&v->lock);
	n = v->nr_msi;
	memcpy(q, v->msi_q, sizeof(q));
	v->nr_msi = 0;
	v->stats.msis += n;
	pthread_mutex_unlock(&v->lock);
	for (unsigned int i = 0; i < n; i++)
		irq_send_msi(v->irq, q[i].addr, q[i].data, VIOMMU_MSI_SID);
}

/* Reads one naturally aligned dword or qword of a register; 0 for write-only registers. */
static uint64_t read_part(struct viommu *v, unsigned int off, unsigned int size)
{
	int i = find(v, off);
	const struct vtd_reg *r;
	unsigned int shift;

	if (i < 0)
		return 0;
	r = &v->regs[i];
	shift = (off - r->off) * 8;
	if (r->wo || size > r->size)
		return 0;
	return (__atomic_load_n(&v->val[i], __ATOMIC_ACQUIRE) >> shift) & (size == 8 ? ~0ULL : M32);
}

static void write_part(struct viommu *v, unsigned int off, uint64_t val, unsigned int size)
{
	int i = find(v, off);
	const struct vtd_reg *r;
	uint64_t am, sval, old, nv;
	unsigned int shift;

	if (i < 0)
		return;
	r = &v->regs[i];
	if (size > r->size)
		return;
	shift = (off - r->off) * 8;
	am = (size == 8 ? ~0ULL : M32) << shift;
	sval = (val << shift) & am;
	old = v->val[i]; /* writers hold the unit lock */
	nv = (old & ~(r->rw & am)) | (sval & r->rw);
	nv &= ~(sval & r->rw1c);
	store(v, (unsigned int)i, nv);
	if (r->hook)
		r->hook(v, old, sval, am);
}

/*
 * The bus guarantees off + size <= window and size in {1, 2, 4, 8}. We accept 4- and 8-byte
 * naturally aligned accesses; an 8-byte access over two 32-bit registers acts on both (low
 * first). Anything else reads 0 and drops the write (style rule 14).
 */
static bool access_ok(uint64_t off, unsigned int size)
{
	return (size == 4 || size == 8) && off < VIOMMU_WINDOW_SIZE &&
	       off + size <= VIOMMU_WINDOW_SIZE && IS_ALIGNED(off, size);
}

static const char *reg_name(const struct viommu *v, unsigned int off)
{
	int i = find(v, off);

	return i < 0 ? "(none)" : v->regs[i].name;
}

uint64_t viommu_mmio_read(void *opaque, uint64_t off, unsigned int size)
{
	struct viommu *v = opaque;
	uint64_t val = 0;
	int i;

	__atomic_add_fetch(&v->stats.reg_reads, 1, __ATOMIC_RELAXED);
	if (!access_ok(off, size)) {
		trace(TRACE_VTD_REG, "vtd", "bad read off=0x%llx size=%u", (unsigned long long)off, size);
		return 0;
	}
	i = find(v, (unsigned int)off);
	if (size == 8 && (i < 0 || v->regs[i].size == 4))
		val = read_part(v, (unsigned int)off, 4) |
		      (read_part(v, (unsigned int)off + 4, 4) << 32);
	else
		val = read_part(v, (unsigned int)off, size);
	trace(TRACE_VTD_REG, "vtd", "read %s off=0x%llx size=%u val=0x%llx", reg_name(v, off),
	      (unsigned long long)off, size, (unsigned long long)val);
	return val;
}

void viommu_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct viommu *v = opaque;
	int i;

	__atomic_add_fetch(&v->stats.reg_writes, 1, __ATOMIC_RELAXED);
	trace(TRACE_VTD_REG, "vtd", "write %s off=0x%llx size=%u val=0x%llx", reg_name(v, off),
	      (unsigned long long)off, size, (unsigned long long)val);
	if (!access_ok(off, size))
		return;
	pthread_mutex_lock(&v->lock);
	i = find(v, (unsigned int)off);
	if (size == 8 && (i < 0 || v->regs[i].size == 4)) {
		write_part(v, (unsigned int)off, val & M32, 4);
		write_part(v, (unsigned int)off + 4, val >> 32, 4);
	} else {
		write_part(v, (unsigned int)off, val, size);
	}
	pthread_mutex_unlock(&v->lock);
	viommu_flush_msis(v);
	vtd_feat_after_write(v);
}

/* ---- GCMD: one command per write (facts §1.1) ---- */

static void cmd_srtp(struct viommu *v, uint64_t *gsts)
{
	uint64_t rta = vtd_reg_get(v, VTD_RTADDR_REG);
	unsigned int ttm = (unsigned int)FIELD_GET(VTD_RTADDR_TTM, rta);

	/*
	 * TTM 01 (scalable) needs ECAP.SMTS; 10/11 are reserved. The handshake still completes
	 * (RTPS=1) so the guest does not hang, but the latched root is invalid and every
	 * remapped request faults with VTD_FR_SM_RTADDR_INV (0x30) until a valid SRTP.
	 */
	bool bad = ttm > 1 || (ttm == 1 && !v->cfg.scalable);

	if (!bad)
		vtd_xlate_set_root(v->xlate, rta);
	__atomic_store_n(&v->root_invalid, bad, __ATOMIC_RELEASE);
	vtd_xlate_flush_all(v->xlate);
	vtd_feat_root_changed(v);
	*gsts |= VTD_GCMD_SRTP;
}

static void cmd_qie(struct viommu *v, bool on, uint64_t *gsts)
{
	if (on) {
		vtd_reg_set(v, VTD_IQH_REG, 0);
		*gsts |= VTD_GCMD_QIE;
		return;
	}
	/* Disabling is honoured only with the queue idle (IQH == IQT), as Linux waits for. */
	if (vtd_reg_get(v, VTD_IQH_REG) != vtd_reg_get(v, VTD_IQT_REG)) {
		trace(TRACE_VTD_REG, "vtd", "QIE clear ignored: queue not empty");
		return;
	}
	vtd_reg_set(v, VTD_IQH_REG, 0);
	*gsts &= ~VTD_GCMD_QIE;
}

static void gcmd_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	uint64_t gsts = vtd_reg_get(v, VTD_GSTS_REG);
	uint64_t level = VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_CFI;
	uint64_t changed = (gsts ^ val) & level;

	/*
	 * Software changes one level bit or sets one one-shot bit per write. A write asking for
	 * several is applied as the serial sequence SRTP, QIE, TE, CFI (same end state). EAFL/SFL
	 * (no CAP.AFL), IRE/SIRTP (no ECAP.IR) are ignored; WBF is a no-op (CAP.RWBF=0).
	 */
	if (val & VTD_GCMD_SRTP)
		cmd_srtp(v, &gsts);
	if (changed & VTD_GCMD_QIE)
		cmd_qie(v, !!(val & VTD_GCMD_QIE), &gsts);
	if (changed & VTD_GCMD_TE) {
		if (val & VTD_GCMD_TE) {
			gsts |= VTD_GCMD_TE;
		} else {
			gsts &= ~VTD_GCMD_TE;
			v->fault_next = 0;
		}
		vtd_xlate_flush_all(v->xlate);
		__atomic_store_n(&v->te, !!(val & VTD_GCMD_TE), __ATOMIC_RELEASE);
		vtd_feat_te_changed(v); /* host shadow mode: identity <-> the guest's tables */
	}
	if (changed & VTD_GCMD_CFI)
		gsts ^= VTD_GCMD_CFI;
	/* The features' bits: SIRTP then IRE (ir.c, registered with ECAP.IR). */
	vtd_feat_gcmd(v, val, &gsts);
	vtd_reg_set(v, VTD_GSTS_REG, gsts);
}

/* ---- Register-based invalidation (facts §1: CCMD, IOTLB/IVA) ---- */

static void ccmd_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	uint64_t cc = vtd_reg_get(v, VTD_CCMD_REG);
	unsigned int g = (unsigned int)FIELD_GET(VTD_CCMD_CIRG, cc);
	uint16_t did = (uint16_t)FIELD_GET(VTD_CCMD_DID, cc);

	/* Act when the high dword (ICC) is written, alone or as part of a qword. */
	if (!(am >> 32) || !(cc & VTD_CCMD_ICC))
		return;
	if (vtd_reg_get(v, VTD_GSTS_REG) & VTD_GCMD_QIE) {
		/* Register-based invalidation is not available while QI is on: drop the write. */
		vtd_reg_set(v, VTD_CCMD_REG, old);
		return;
	}
	switch (g) {
	case 1:
		vtd_xlate_inv_context(v->xlate, VTD_INV_GLOBAL, 0, 0, 0);
		break;
	case 2:
		vtd_xlate_inv_context(v->xlate, VTD_INV_DOMAIN, did, 0, 0);
		break;
	case 3:
		vtd_xlate_inv_context(v->xlate, VTD_INV_DEVICE, did,
				      (uint16_t)FIELD_GET(VTD_CCMD_SID, cc),
				      (uint8_t)FIELD_GET(VTD_CCMD_FM, cc));
		break;
	default:
		g = 0; /* invalid request: CAIG = 0 */
		break;
	}
	if (g)
		vtd_feat_context(v); /* host-backed devices follow (device-selective done as global) */
	cc &= ~(VTD_CCMD_ICC | VTD_CCMD_CAIG);
	cc |= FIELD_PREP(VTD_CCMD_CAIG, g);
	vtd_reg_set(v, VTD_CCMD_REG, cc);
	v->stats.reg_invs++;
}

static void iotlb_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	uint64_t r = vtd_reg_get(v, VTD_IOTLB_REG);
	uint64_t iva = vtd_reg_get(v, VTD_IVA_REG);
	unsigned int g = (unsigned int)FIELD_GET(VTD_IOTLB_IIRG, r);
	uint16_t did = (uint16_t)FIELD_GET(VTD_IOTLB_DID, r);
	unsigned int amask = (unsigned int)FIELD_GET(VTD_IVA_AM, iva);

	if (!(am >> 32) || !(r & VTD_IOTLB_IVT))
		return;
	if (vtd_reg_get(v, VTD_GSTS_REG) & VTD_GCMD_QIE) {
		vtd_reg_set(v, VTD_IOTLB_REG, old);
		return;
	}
	switch (g) {
	case 1:
		vtd_xlate_inv_iotlb(v->xlate, VTD_INV_GLOBAL, 0, 0, 0, false);
		break;
	case 2:
		vtd_xlate_inv_iotlb(v->xlate, VTD_INV_DOMAIN, did, 0, 0, false);
		break;
	case 3:
		if (amask > VTD_MAMV) {
			g = 0;
			break;
		}
		vtd_xlate_inv_iotlb(v->xlate, VTD_INV_PAGE, did, iva & VTD_IVA_ADDR, amask,
				    !!(iva & VTD_IVA_IH));
		break;
	default:
		g = 0;
		break;
	}
	if (g) {
		/* Forwarded like the queued form, sent at once (no drain to batch in). */
		vtd_feat_iotlb(v, g == 1 ? VTD_INV_GLOBAL : g == 2 ? VTD_INV_DOMAIN : VTD_INV_PAGE, did,
			       g == 3 ? iva & VTD_IVA_ADDR : 0, g == 3 ? amask : 0,
			       g == 3 && (iva & VTD_IVA_IH));
		vtd_feat_sync(v);
	}
	r &= ~(VTD_IOTLB_IVT | VTD_IOTLB_IAIG);
	r |= FIELD_PREP(VTD_IOTLB_IAIG, g);
	vtd_reg_set(v, VTD_IOTLB_REG, r);
	v->stats.reg_invs++;
}
