/* SPDX-License-Identifier: MIT */
/*
 * Queued invalidation (facts §6): one IQT write drains every pending descriptor in one pass,
 * validating each (type, reserved bits per type) and stopping with FSTS.IQE on the first bad
 * one. All functions run with the unit lock held.
 */
#include "common/log.h"
#include "devices/viommu/viommu-internal.h"
#include "vmm/core/gmem.h"

#define QI_TYPE_LO GENMASK_ULL(3, 0)
#define QI_TYPE_HI GENMASK_ULL(11, 9)
#define QI_G GENMASK_ULL(5, 4)
#define QI_DID GENMASK_ULL(31, 16)
#define QI_AM GENMASK_ULL(5, 0)   /* QW1 */
#define QI_IH BIT_ULL(6)          /* QW1 */
/* context-cache */
#define QI_CC_SID GENMASK_ULL(47, 32)
#define QI_CC_FM GENMASK_ULL(49, 48)
/* wait */
#define QI_WAIT_IF BIT_ULL(4)
#define QI_WAIT_SW BIT_ULL(5)
#define QI_WAIT_FN BIT_ULL(6)
#define QI_WAIT_SDATA GENMASK_ULL(63, 32)
#define QI_WAIT_SADDR GENMASK_ULL(63, 2) /* QW1 */

/* Reserved bits per type, QW0 and QW1 (facts §6; PD and PFSID handling noted below). */
static const uint64_t rsvd0[10] = {
	[QI_CC] = GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 50),
	[QI_IOTLB] = BIT_ULL(8) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 32),
	/* PFSID (15:12, 63:52) is filled by Linux and accepted; MIP is ignored. */
	[QI_DEVTLB] = GENMASK_ULL(8, 4) | GENMASK_ULL(31, 21) | GENMASK_ULL(51, 48),
	[QI_IEC] = GENMASK_ULL(8, 5) | GENMASK_ULL(26, 12) | GENMASK_ULL(63, 48),
	/* PD (bit 7) needs ECAP.PDS, which we do not offer: reserved. */
	[QI_WAIT] = GENMASK_ULL(8, 7) | GENMASK_ULL(31, 12),
	[QI_PIOTLB] = GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 52),
	[QI_PC] = GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 52),
	[QI_PDEVTLB] = 0,
	/* Page group response: PDP (bit 5) of older revisions is accepted. */
	[QI_PGRP] = GENMASK_ULL(8, 6) | GENMASK_ULL(63, 52),
};
static const uint64_t rsvd1[10] = {
	[QI_CC] = ~0ULL,
	[QI_IOTLB] = GENMASK_ULL(11, 7),
	[QI_DEVTLB] = GENMASK_ULL(11, 1),
	[QI_IEC] = ~0ULL,
	[QI_WAIT] = GENMASK_ULL(1, 0),
	[QI_PIOTLB] = GENMASK_ULL(11, 7),
	[QI_PC] = ~0ULL,
	[QI_PDEVTLB] = GENMASK_ULL(10, 1),
	/* LPIG (bit 2) of older revisions is accepted. */
	[QI_PGRP] = GENMASK_ULL(1, 0) | GENMASK_ULL(63, 12),
};

static const char *const type_names[10] = {
	"?", "cc", "iotlb", "devtlb", "iec", "wait", "piotlb", "pc", "pdevtlb", "pgrp",
};

void vtd_qi_raise_iqe(struct viommu *v, enum vtd_iqei code)
{
	uint64_t fsts = vtd_reg_get(v, VTD_FSTS_REG);
	uint64_t rcd = vtd_reg_get(v, VTD_IQERCD_REG);

	trace(TRACE_VTD_DESC, "vtd", "IQE code %d at IQH=0x%llx", code,
	      (unsigned long long)vtd_reg_get(v, VTD_IQH_REG));
	vtd_reg_set(v, VTD_IQERCD_REG, (rcd & ~VTD_IQERCD_IQEI) | FIELD_PREP(VTD_IQERCD_IQEI, code));
	vtd_reg_set(v, VTD_FSTS_REG, fsts | VTD_FSTS_IQE);
	v->stats.iqe++;
	vtd_fault_event(v, fsts);
}

/* Completion event for a wait descriptor with IF=1 (facts §6; IECTL works like FECTL). */
static void wait_event(struct viommu *v)
{
	uint64_t ics = vtd_reg_get(v, VTD_ICS_REG);
	uint64_t iectl = vtd_reg_get(v, VTD_IECTL_REG);

	if (ics & VTD_ICS_IWC)
		return; /* previous completion not yet acknowledged: no new interrupt */
	vtd_reg_set(v, VTD_ICS_REG, ics | VTD_ICS_IWC);
	if (iectl & VTD_ECTL_IM) {
		vtd_reg_set(v, VTD_IECTL_REG, iectl | VTD_ECTL_IP);
		return;
	}
	vtd_reg_set(v, VTD_IECTL_REG, iectl & ~VTD_ECTL_IP);
	viommu_queue_msi(v, vtd_reg_get(v, VTD_IEADDR_REG) | (vtd_reg_get(v, VTD_IEUADDR_REG) << 32),
			 (uint32_t)vtd_reg_get(v, VTD_IEDATA_REG));
}

static enum vtd_inv_gran pc_gran(unsigned int g)
{
	return g == 0 ? VTD_INV_DOMAIN : g == 1 ? VTD_INV_PASID : VTD_INV_GLOBAL;
}

/* A descriptor a feature acts on (vtd_feat_desc), counted when it is accepted. */
static enum vtd_iqei feature_desc(struct viommu *v, unsigned int type, const uint64_t *d)
{
	enum vtd_iqei e = vtd_feat_desc(v, type, d);

	if (e == VTD_IQEI_NONE)
		v->stats.descs++;
	return e;
}

/* Validates then performs one descriptor; returns VTD_IQEI_NONE or the error to report. */
static enum vtd_iqei process(struct viommu *v, const uint64_t *d, bool wide)
{
	unsigned int type = (unsigned int)(FIELD_GET(QI_TYPE_LO, d[0]) |
					   (FIELD_GET(QI_TYPE_HI, d[0]) << 4));
	unsigned int g = (unsigned int)FIELD_GET(QI_G, d[0]);
	uint16_t did = (uint16_t)FIELD_GET(QI_DID, d[0]);
	uint32_t pasid = (uint32_t)FIELD_GET(QI_PASID, d[0]);
	unsigned int am = (unsigned int)FIELD_GET(QI_AM, d[1]);
	bool ih = !!(d[1] & QI_IH);
	bool sm = v->cfg.scalable;

	trace(TRACE_VTD_DESC, "vtd", "desc %s(0x%x) %016llx %016llx %016llx %016llx",
	      type < 10 ? type_names[type] : "?", type, (unsigned long long)d[0],
	      (unsigned long long)d[1], (unsigned long long)d[2], (unsigned long long)d[3]);
	if (type == 0 || type > QI_PGRP)
		return VTD_IQEI_TYPE;
	/* Page group responses need ECAP.PRS; their QW2/QW3 carry private data. */
	if (type == QI_PGRP) {
		if (!v->cfg.prs)
			return VTD_IQEI_TYPE;
		if ((d[0] & rsvd0[type]) || (d[1] & rsvd1[type]))
			return VTD_IQEI_RSVD;
		return feature_desc(v, type, d); /* prq.c */
	}
	/* PASID-granular types exist only in scalable mode; device-TLB ones need ECAP.DT. */
	if ((type >= QI_PIOTLB && !sm) || ((type == QI_DEVTLB || type == QI_PDEVTLB) && !v->cfg.dt))
		return VTD_IQEI_TYPE;
	/* PD (wait bit 7) is defined with ECAP.PDS: page requests are never buffered here. */
	if ((d[0] & rsvd0[type] & ~(type == QI_WAIT && v->cfg.prs ? BIT_ULL(7) : 0)) ||
	    (d[1] & rsvd1[type]) || (wide && (d[2] || d[3])))
		return VTD_IQEI_RSVD;

	switch (type) {
	case QI_CC:
		if (g == 0)
			return VTD_IQEI_RSVD;
		vtd_xlate_inv_context(v->xlate,
				      g == 1 ? VTD_INV_GLOBAL : g == 2 ? VTD_INV_DOMAIN : VTD_INV_DEVICE,
				      did, (uint16_t)FIELD_GET(QI_CC_SID, d[0]),
				      (uint8_t)FIELD_GET(QI_CC_FM, d[0]));
		vtd_feat_context(v);
		break;
	case QI_IOTLB:
		if (g == 0 || (g == 3 && am > VTD_MAMV))
			return VTD_IQEI_RSVD;
		/* DR/DW (bits 7:6) are drain hints; nothing is buffered here. */
		vtd_xlate_inv_iotlb(v->xlate,
				    g == 1 ? VTD_INV_GLOBAL : g == 2 ? VTD_INV_DOMAIN : VTD_INV_PAGE,
				    did, g == 3 ? d[1] & QI_ADDR : 0, g == 3 ? am : 0, g == 3 && ih);
		vtd_feat_iotlb(v, g == 1 ? VTD_INV_GLOBAL : g == 2 ? VTD_INV_DOMAIN : VTD_INV_PAGE,
			       did, g == 3 ? d[1] & QI_ADDR : 0, g == 3 ? am : 0, g == 3 && ih);
		break;
	case QI_DEVTLB:
	case QI_PDEVTLB:
		return feature_desc(v, type, d); /* ATS clients (prq.c) */
	case QI_IEC:
		/* Global or index+IM (ir.c); accepted as a no-op without ECAP.IR. */
		return feature_desc(v, type, d);
	case QI_WAIT: {
		uint64_t saddr = d[1] & QI_WAIT_SADDR;

		/* Invalidations queued so far (host-backed devices) complete before the wait does. */
		vtd_feat_sync(v);
		if (d[0] & QI_WAIT_SW) {
			/* Status address above the HAW is a reserved-field error, non-RAM an access one. */
			if (saddr >> v->cfg.aw)
				return VTD_IQEI_RSVD;
			if (gmem_write_u32(v->gm, saddr, (uint32_t)FIELD_GET(QI_WAIT_SDATA, d[0])))
				return VTD_IQEI_FETCH;
		}
		/* FN: later descriptors wait for this one; processing is in order already. */
		if (d[0] & QI_WAIT_IF)
			wait_event(v);
		v->stats.waits++;
		break;
	}
	case QI_PIOTLB:
		/*
		 * Any AM: with scalable mode, page-selective PASID-based IOTLB invalidation takes
		 * every defined mask whatever MAMV says (VT-d 10.4.2). Linux relies on it: 6.1 sends
		 * AM 27 when an SVA process unmaps a large range, and refusing it (IQE) made Linux
		 * drop that flush. AM >= 52 covers the whole address space (xlate and host paths).
		 */
		if (g < 2)
			return VTD_IQEI_RSVD;
		vtd_xlate_inv_piotlb(v->xlate, g == 2 ? VTD_INV_PASID : VTD_INV_PASID_PAGE, did, pasid,
				     g == 3 ? d[1] & QI_ADDR : 0, g == 3 ? am : 0, g == 3 && ih);
		vtd_feat_piotlb(v, g == 2 ? VTD_INV_PASID : VTD_INV_PASID_PAGE, did, pasid,
				g == 3 ? d[1] & QI_ADDR : 0, g == 3 ? am : 0, g == 3 && ih);
		break;
	case QI_PC:
		if (g == 2)
			return VTD_IQEI_RSVD;
		vtd_xlate_inv_pasid_cache(v->xlate, pc_gran(g), did, pasid);
		vtd_feat_pasid_cache(v, pc_gran(g), did, pasid);
		break;
	}
	v->stats.descs++;
	return VTD_IQEI_NONE;
}

/*
 * Runs the queue from IQH to IQT. Bounded by the number of descriptors in the queue; stops
 * at the first bad descriptor with IQH left on it and FSTS.IQE set.
 */
void vtd_qi_drain(struct viommu *v)
{
	uint64_t iqa = vtd_reg_get(v, VTD_IQA_REG);
	bool wide = !!(iqa & VTD_IQA_DW);
	unsigned int dsz = wide ? 32 : 16;
	uint64_t qbytes = 4096ULL << FIELD_GET(VTD_IQA_QS, iqa);
	uint64_t base = iqa & VTD_IQA_ADDR;
	uint64_t tail = vtd_reg_get(v, VTD_IQT_REG) & VTD_IQ_OFF;
	uint64_t head = vtd_reg_get(v, VTD_IQH_REG) & VTD_IQ_OFF;
	const uint8_t *ring;

	if (!(vtd_reg_get(v, VTD_GSTS_REG) & VTD_GCMD_QIE) ||
	    (vtd_reg_get(v, VTD_FSTS_REG) & VTD_FSTS_IQE))
		return;
	v->stats.drains++;
	if (wide && (tail & 0x10)) {
		vtd_qi_raise_iqe(v, VTD_IQEI_TAIL_ALIGN);
		return;
	}
	if (tail >= qbytes) {
		vtd_qi_raise_iqe(v, VTD_IQEI_TAIL);
		return;
	}
	if (head >= qbytes || (head % dsz)) /* queue resized under a stale head */
		head = 0;
	/*
	 * The whole queue is normally one piece of RAM: one bounds check for the drain, then each
	 * descriptor is loaded once from it (the guest may rewrite it meanwhile; we validate and
	 * act on our copy). A queue that is not all RAM is read descriptor by descriptor, so the
	 * fetch error lands on the first descriptor outside RAM.
	 */
	ring = gmem_ptr(v->gm, base, qbytes);
	for (uint64_t n = 0; head != tail && n < qbytes / dsz; n++) {
		uint64_t d[4] = { 0 };
		enum vtd_iqei e;
		unsigned int type;

		if (ring) {
			for (unsigned int i = 0; i < dsz / 8; i++)
				d[i] = le64_load(ring + head + 8 * i);
		} else {
			uint8_t raw[32];

			if (gmem_read(v->gm, base + head, raw, dsz)) {
				vtd_xlate_release(v->xlate);
				vtd_reg_set(v, VTD_IQH_REG, head);
				vtd_qi_raise_iqe(v, VTD_IQEI_FETCH);
				return;
			}
			for (unsigned int i = 0; i < dsz / 8; i++)
				d[i] = le64_load(raw + 8 * i);
		}
		/*
		 * A run of IOTLB / PASID-IOTLB descriptors (a guest's flush queue) takes the engine's
		 * lock once; every other type may call out of the unit (host sweeps, page responses,
		 * device-TLB clients that translate) and runs without it.
		 */
		type = (unsigned int)FIELD_GET(QI_TYPE_LO, d[0]) | (unsigned int)FIELD_GET(QI_TYPE_HI, d[0]) << 4;
		if (type == QI_IOTLB || type == QI_PIOTLB)
			vtd_xlate_hold(v->xlate);
		else
			vtd_xlate_release(v->xlate);
		e = process(v, d, wide);
		if (e != VTD_IQEI_NONE) {
			vtd_xlate_release(v->xlate);
			vtd_reg_set(v, VTD_IQH_REG, head);
			vtd_qi_raise_iqe(v, e);
			return;
		}
		head = (head + dsz) % qbytes;
	}
	vtd_xlate_release(v->xlate);
	vtd_reg_set(v, VTD_IQH_REG, head);
}

void vtd_iqt_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	vtd_qi_drain(v);
	vtd_feat_sync(v); /* e.g. one host call per stage-1 for this drain */
}

/* ICS write: IWC is RW1C; clearing it also clears a pending completion interrupt. */
void vtd_ics_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	if (!(vtd_reg_get(v, VTD_ICS_REG) & VTD_ICS_IWC))
		vtd_reg_set(v, VTD_IECTL_REG, vtd_reg_get(v, VTD_IECTL_REG) & ~VTD_ECTL_IP);
}

/* IECTL write: unmasking with IP set sends the completion MSI now. */
void vtd_iectl_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	uint64_t iectl = vtd_reg_get(v, VTD_IECTL_REG);

	if (!(iectl & VTD_ECTL_IM) && (iectl & VTD_ECTL_IP)) {
		vtd_reg_set(v, VTD_IECTL_REG, iectl & ~VTD_ECTL_IP);
		viommu_queue_msi(v, vtd_reg_get(v, VTD_IEADDR_REG) |
					    (vtd_reg_get(v, VTD_IEUADDR_REG) << 32),
				 (uint32_t)vtd_reg_get(v, VTD_IEDATA_REG));
	}
}
