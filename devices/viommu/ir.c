/* SPDX-License-Identifier: MIT */
/*
 * Interrupt remapping (facts §8): IRTA/SIRTP/IRE, the interrupt entry cache and its
 * invalidation, IRTE decoding with source-id validation, and the IR fault reasons (0x20-0x26).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "devices/viommu/viommu-internal.h"
#include "devices/viommu/xlate/vtd-tables.h"
#include "vmm/core/gmem.h"

/* ---- IRTE fields (facts §8; qword 0 = bits 63:0, qword 1 = bits 127:64) ---- */
#define IRTE_P BIT_ULL(0)              /* 0 */
#define IRTE_FPD BIT_ULL(1)            /* 1 */
#define IRTE_DM BIT_ULL(2)             /* 2: 1 = logical */
#define IRTE_RH BIT_ULL(3)             /* 3 */
#define IRTE_TM BIT_ULL(4)             /* 4: 1 = level */
#define IRTE_DLM GENMASK_ULL(7, 5)     /* 7:5 */
#define IRTE_IM BIT_ULL(15)            /* 15: 1 = posted format */
#define IRTE_V GENMASK_ULL(23, 16)     /* 23:16 */
#define IRTE_DST GENMASK_ULL(63, 32)   /* 63:32 */
#define IRTE_DST_XAPIC GENMASK_ULL(47, 40) /* 47:40: the APIC ID with EIME=0 */
#define IRTE_RSVD0 (GENMASK_ULL(14, 12) | GENMASK_ULL(31, 24))
#define IRTE_RSVD0_XAPIC (GENMASK_ULL(39, 32) | GENMASK_ULL(63, 48))
#define IRTE_HI_SID GENMASK_ULL(15, 0)    /* 79:64 */
#define IRTE_HI_SQ GENMASK_ULL(17, 16)    /* 81:80 */
#define IRTE_HI_SVT GENMASK_ULL(19, 18)   /* 83:82 */
#define IRTE_HI_RSVD GENMASK_ULL(63, 20)  /* 127:84 */

/* Delivery modes 011b and 110b are reserved in the IRTE. */
#define DLM_RSVD_MASK ((1u << 3) | (1u << 6))

/* ---- Interrupt request (remappable MSI address/data, facts §8) ---- */
#define MSI_ADDR_HEAD GENMASK_ULL(31, 20)   /* 0xfee */
#define MSI_ADDR_HANDLE_LO GENMASK_ULL(19, 5)
#define MSI_ADDR_REMAP BIT_ULL(4)
#define MSI_ADDR_SHV BIT_ULL(3)
#define MSI_ADDR_HANDLE_HI BIT_ULL(2)
#define MSI_ADDR_DM BIT_ULL(2)              /* compatibility format: destination mode */
#define MSI_ADDR_RH BIT_ULL(3)
#define MSI_ADDR_DEST GENMASK_ULL(19, 12)
#define MSI_ADDR_HI_DEST GENMASK_ULL(63, 40) /* KVM x2APIC API: destination bits 31:8 */
#define MSI_DATA_SUBHANDLE GENMASK_ULL(15, 0)
#define MSI_DATA_RSVD_SHV GENMASK_ULL(31, 16)
#define MSI_DATA_LEVEL BIT_ULL(14)
#define MSI_DATA_TRIGGER BIT_ULL(15)

/* IEC descriptor QW0 (facts §6). */
#define IEC_G BIT_ULL(4)             /* 1 = index-selective */
#define IEC_IM GENMASK_ULL(31, 27)
#define IEC_IIDX GENMASK_ULL(47, 32)
#define VTD_MHMV 15

/* SQ masks (facts §8: SVT=1 compares SID under these). */
static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };

struct vtd_ir {
	bool enabled;         /* GSTS.IRES; read lock-free by viommu_ir_enabled */
	bool latched;         /* GSTS.IRTPS: a table pointer was latched */
	bool eime;            /* latched IRTA.EIME */
	uint64_t table;       /* latched IRTA base */
	uint32_t nr_entries;  /* latched 2^(S+1) */
	bool changed;         /* notifier pending */
	viommu_ir_notify_fn notify;
	void *notify_opaque;
	/*
	 * The interrupt entry cache: raw IRTEs, valid bit per index. The entries are allocated
	 * when a table is latched, as many as it has (up to 1 MiB for S = 0xF); an index the
	 * allocation does not reach (it failed) is read from the table every time, uncached.
	 */
	uint64_t valid[VTD_IR_MAX_ENTRIES / 64];
	uint64_t (*cache)[2];
	uint32_t cache_entries;
};

static void ir_destroy(struct viommu *v)
{
	if (v->ir)
		free(v->ir->cache);
	free(v->ir);
	v->ir = NULL;
}

/* IRTA (only with ECAP.IR; without it the offset is unlisted: reads 0, writes dropped). */
static void ir_regs(struct viommu *v)
{
	vtd_reg_add(v, VTD_IRTA_REG, 8, false, 0,
		    VTD_IRTA_ADDR | VTD_IRTA_S | (v->cfg.eim ? VTD_IRTA_EIME : 0), 0, NULL, "IRTA");
}

static void flush_all(struct vtd_ir *ir)
{
	memset(ir->valid, 0, sizeof(ir->valid));
	ir->changed = true;
}

/* GCMD: SIRTP latches IRTA (and drops the cache, as QEMU does); IRE is a level bit. */
static void ir_gcmd(struct viommu *v, uint64_t val, uint64_t *gsts)
{
	struct vtd_ir *ir = v->ir;
	bool ire = !!(val & VTD_GCMD_IRE);

	if (val & VTD_GCMD_SIRTP) {
		uint64_t irta = vtd_reg_get(v, VTD_IRTA_REG);

		ir->table = irta & VTD_IRTA_ADDR;
		ir->eime = !!(irta & VTD_IRTA_EIME);
		ir->nr_entries = 2u << FIELD_GET(VTD_IRTA_S, irta);
		ir->latched = true;
		if (ir->nr_entries > ir->cache_entries) {
			uint64_t(*c)[2] = realloc(ir->cache, sizeof(*c) * ir->nr_entries);

			if (c) {
				ir->cache = c;
				ir->cache_entries = ir->nr_entries;
			}
		}
		/*
		 * Without CAP.ESIRTPS software must follow SIRTP with a global IEC invalidation;
		 * flushing here as well is allowed and keeps a stale table from being used.
		 */
		flush_all(ir);
		*gsts |= VTD_GCMD_SIRTP;
	}
	if (ire != !!(*gsts & VTD_GCMD_IRE)) {
		*gsts = ire ? (*gsts | VTD_GCMD_IRE) : (*gsts & ~VTD_GCMD_IRE);
		__atomic_store_n(&ir->enabled, ire, __ATOMIC_RELEASE);
		ir->changed = true;
	}
	/* CFI (toggled by regs.c) changes what compatibility-format routes do. */
	if ((*gsts ^ vtd_reg_get(v, VTD_GSTS_REG)) & VTD_GCMD_CFI)
		ir->changed = true;
}

/* IEC descriptor (type 0x4): global, or IIDX + IM. Without ECAP.IR the feature is not
 * registered and the core accepts IEC as a no-op (nothing cached). */
static enum vtd_iqei ir_iec(struct viommu *v, unsigned int type, const uint64_t *d)
{
	struct vtd_ir *ir = v->ir;
	uint64_t qw0 = d[0];
	unsigned int im = (unsigned int)FIELD_GET(IEC_IM, qw0);
	uint32_t idx = (uint32_t)FIELD_GET(IEC_IIDX, qw0);

	(void)type;
	if (!(qw0 & IEC_G)) {
		flush_all(ir);
	} else {
		uint32_t n = 1u << im;

		if (im > VTD_MHMV)
			return VTD_IQEI_RSVD;
		/* IIDX..IIDX+2^IM-1, aligned down to 2^IM (bounded by 2^15 entries). */
		idx &= ~(n - 1);
		for (uint32_t i = idx; i < idx + n && i < VTD_IR_MAX_ENTRIES; i++)
			ir->valid[i / 64] &= ~BIT_ULL(i % 64);
		ir->changed = true;
	}
	v->stats.iec_invs++;
	return VTD_IQEI_NONE;
}

/* ---- Translation ---- */

struct ir_req {
	uint32_t index;
	bool fpd;
};

/* Fetches IRTE index through the cache; 0 or a fault reason. */
static int irte_get(struct viommu *v, uint32_t index, uint64_t *ret)
{
	struct vtd_ir *ir = v->ir;
	uint8_t raw[16];

	if (!ir->latched)
		return VTD_FR_IR_ROOT_INVAL;
	if (index >= ir->nr_entries)
		return VTD_FR_IR_INDEX_OVER;
	if (index >= ir->cache_entries) {
		/* No cache entry for it (its allocation failed): read, never cached. */
		if (gmem_read(v->gm, ir->table + 16ULL * index, raw, sizeof(raw)))
			return VTD_FR_IR_ROOT_INVAL;
		ret[0] = le64_load(raw);
		ret[1] = le64_load(raw + 8);
		v->stats.irte_fetches++;
		return 0;
	}
	if (!(ir->valid[index / 64] & BIT_ULL(index % 64))) {
		if (gmem_read(v->gm, ir->table + 16ULL * index, raw, sizeof(raw)))
			return VTD_FR_IR_ROOT_INVAL;
		ir->cache[index][0] = le64_load(raw);
		ir->cache[index][1] = le64_load(raw + 8);
		ir->valid[index / 64] |= BIT_ULL(index % 64);
		v->stats.irte_fetches++;
	}
	ret[0] = ir->cache[index][0];
	ret[1] = ir->cache[index][1];
	return 0;
}

/* Checks a present IRTE: reserved fields, then the requester's source-id. */
static int irte_check(const struct viommu *v, const uint64_t *e, uint16_t sid)
{
	uint16_t esid = (uint16_t)FIELD_GET(IRTE_HI_SID, e[1]);
	unsigned int svt = (unsigned int)FIELD_GET(IRTE_HI_SVT, e[1]);
	unsigned int dlm = (unsigned int)FIELD_GET(IRTE_DLM, e[0]);

	/* Posted format needs CAP.PI, which we do not offer: IM is then a reserved bit. */
	if (e[0] & IRTE_IM)
		return VTD_FR_IR_IRTE_RSVD;
	if ((e[0] & IRTE_RSVD0) || (!v->ir->eime && (e[0] & IRTE_RSVD0_XAPIC)) ||
	    (e[1] & IRTE_HI_RSVD) || svt == 3 || (DLM_RSVD_MASK & (1u << dlm)))
		return VTD_FR_IR_IRTE_RSVD;
	if (svt == 1) {
		uint16_t m = sq_mask[FIELD_GET(IRTE_HI_SQ, e[1])];

		if ((sid & m) != (esid & m))
			return VTD_FR_IR_SID_ERR;
	} else if (svt == 2) {
		/*
		 * Bus range: facts §8 and QEMU read SID[15:8] as the upper and SID[7:0] as the
		 * lower bus; we accept either order so both readings of the spec work.
		 */
		uint8_t a = (uint8_t)(esid >> 8), b = (uint8_t)esid, bus = (uint8_t)(sid >> 8);
		uint8_t lo = a < b ? a : b, hi = a < b ? b : a;

		if (bus < lo || bus > hi)
			return VTD_FR_IR_SID_ERR;
	}
	return 0;
}

/* Builds the compatibility-format MSI the IRTE describes. */
static void irte_msi(const struct viommu *v, const uint64_t *e, uint64_t *ret_addr,
		     uint32_t *ret_data)
{
	uint32_t dest = v->ir->eime ? (uint32_t)FIELD_GET(IRTE_DST, e[0])
				    : (uint32_t)FIELD_GET(IRTE_DST_XAPIC, e[0]);
	uint64_t addr = 0xfee00000ULL | FIELD_PREP(MSI_ADDR_DEST, dest & 0xff);
	uint32_t data = (uint32_t)FIELD_GET(IRTE_V, e[0]) |
			((uint32_t)FIELD_GET(IRTE_DLM, e[0]) << 8);

	if (e[0] & IRTE_DM)
		addr |= MSI_ADDR_DM;
	if (e[0] & IRTE_RH)
		addr |= MSI_ADDR_RH;
	addr |= FIELD_PREP(MSI_ADDR_HI_DEST, dest >> 8);
	if (e[0] & IRTE_TM)
		data |= (uint32_t)(MSI_DATA_TRIGGER | MSI_DATA_LEVEL);
	*ret_addr = addr;
	*ret_data = data;
}

/* 0 with the MSI to deliver, or a fault reason with req filled for the record. */
static int translate(struct viommu *v, uint64_t addr, uint32_t data, uint16_t sid,
		     uint64_t *ret_addr, uint32_t *ret_data, struct ir_req *req)
{
	uint64_t gsts = vtd_reg_get(v, VTD_GSTS_REG);
	uint64_t e[2];
	uint32_t index;
	int fr;

	if (FIELD_GET(MSI_ADDR_HEAD, addr) != 0xfee)
		return VTD_FR_IR_REQ_RSVD;
	if (!(addr & MSI_ADDR_REMAP)) {
		/* CFI is effective only with EIME=0 (spec GCMD.CFI). */
		if (!(gsts & VTD_GCMD_CFI) || v->ir->eime)
			return VTD_FR_IR_REQ_COMPAT;
		*ret_addr = addr;
		*ret_data = data;
		v->stats.ir_compat++;
		return 0;
	}
	index = (uint32_t)FIELD_GET(MSI_ADDR_HANDLE_LO, addr) |
		((addr & MSI_ADDR_HANDLE_HI) ? 1u << 15 : 0);
	req->index = index;
	if (addr >> 32)
		return VTD_FR_IR_REQ_RSVD;
	if (addr & MSI_ADDR_SHV) {
		if (data & MSI_DATA_RSVD_SHV)
			return VTD_FR_IR_REQ_RSVD;
		index += (uint32_t)FIELD_GET(MSI_DATA_SUBHANDLE, data);
		req->index = index;
	}
	fr = irte_get(v, index, e);
	if (fr)
		return fr;
	req->fpd = !!(e[0] & IRTE_FPD);
	if (!(e[0] & IRTE_P))
		return VTD_FR_IR_ENTRY_P;
	fr = irte_check(v, e, sid);
	if (fr)
		return fr;
	irte_msi(v, e, ret_addr, ret_data);
	v->stats.ir_remapped++;
	return 0;
}

static int remap(struct viommu *v, uint64_t addr, uint32_t data, uint16_t sid,
		 uint64_t *ret_addr, uint32_t *ret_data, bool record)
{
	uint64_t save_remapped, save_compat;
	struct ir_req req = { 0 };
	uint64_t a = 0;
	uint32_t d = 0;
	int fr;

	if (!v->ir || !__atomic_load_n(&v->ir->enabled, __ATOMIC_ACQUIRE)) {
		*ret_addr = addr;
		*ret_data = data;
		return 0;
	}
	pthread_mutex_lock(&v->lock);
	save_remapped = v->stats.ir_remapped;
	save_compat = v->stats.ir_compat;
	fr = translate(v, addr, data, sid, &a, &d, &req);
	if (!record) {
		/* A lookup is not an interrupt: leave the counters as they were. */
		v->stats.ir_remapped = save_remapped;
		v->stats.ir_compat = save_compat;
	} else if (fr) {
		struct vtd_fault f = {
			.reason = (uint8_t)fr, .sid = sid, .write = true, .fpd = req.fpd,
			/* IR faults carry the interrupt index in FRCD bits 63:48 (facts §7.1). */
			.addr = (uint64_t)(req.index & 0xffff) << 48,
		};

		v->stats.ir_blocked++;
		vtd_fault_record(v, &f);
	}
	pthread_mutex_unlock(&v->lock);
	if (record && fr)
		viommu_flush_msis(v);
	trace(TRACE_VTD_FAULT, "vtd", "ir %s sid=%04x addr=0x%llx data=0x%x -> %s 0x%x",
	      record ? "remap" : "lookup", sid, (unsigned long long)addr, data,
	      fr ? "fault" : "ok", fr ? (unsigned int)fr : d);
	if (fr)
		return -EACCES;
	*ret_addr = a;
	*ret_data = d;
	return 0;
}

int viommu_remap_msi(struct viommu *v, uint64_t addr, uint32_t data, uint16_t sid,
		     uint64_t *ret_addr, uint32_t *ret_data)
{
	return remap(v, addr, data, sid, ret_addr, ret_data, true);
}

int viommu_lookup_msi(struct viommu *v, uint64_t addr, uint32_t data, uint16_t sid,
		      uint64_t *ret_addr, uint32_t *ret_data)
{
	return remap(v, addr, data, sid, ret_addr, ret_data, false);
}

bool viommu_ir_enabled(const struct viommu *v)
{
	return v->ir && __atomic_load_n(&v->ir->enabled, __ATOMIC_ACQUIRE);
}

void viommu_set_ir_notify(struct viommu *v, viommu_ir_notify_fn fn, void *opaque)
{
	if (!v->ir)
		return;
	pthread_mutex_lock(&v->lock);
	v->ir->notify = fn;
	v->ir->notify_opaque = opaque;
	pthread_mutex_unlock(&v->lock);
}

/* After a register write (lock not held): the IEC-changed notifier, if something changed. */
static void ir_notify(struct viommu *v)
{
	viommu_ir_notify_fn fn = NULL;
	void *opaque = NULL;

	pthread_mutex_lock(&v->lock);
	if (v->ir->changed) {
		v->ir->changed = false;
		fn = v->ir->notify;
		opaque = v->ir->notify_opaque;
	}
	pthread_mutex_unlock(&v->lock);
	if (fn)
		fn(opaque);
}

static const struct vtd_feature ir_feature = {
	.name = "interrupt remapping",
	.regs = ir_regs,
	.gcmd = ir_gcmd,
	.desc_types = 1u << QI_IEC,
	.desc = ir_iec,
	.after_write = ir_notify,
	.destroy = ir_destroy,
};

int vtd_ir_create(struct viommu *v)
{
	if (!v->cfg.ir)
		return 0; /* no ECAP.IR: IRTA unlisted, IRE/SIRTP ignored, IEC a no-op */
	v->ir = calloc(1, sizeof(*v->ir));
	if (!v->ir)
		return -ENOMEM;
	if (vtd_feature_add(v, &ir_feature)) {
		ir_destroy(v);
		return -ENOSPC;
	}
	return 0;
}
