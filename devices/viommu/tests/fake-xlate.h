/* SPDX-License-Identifier: MIT */
/* A recording fake of the xlate engine API, so the unit's tests run without the real engine. */
#ifndef NESTVM_VIOMMU_FAKE_XLATE_H
#define NESTVM_VIOMMU_FAKE_XLATE_H

#include "devices/viommu/xlate/xlate.h"

enum fake_inv_kind { FAKE_INV_NONE, FAKE_INV_CTX, FAKE_INV_IOTLB, FAKE_INV_PC, FAKE_INV_PIOTLB };

struct fake_inv {
	enum fake_inv_kind kind;
	enum vtd_inv_gran g;
	uint16_t did, sid;
	uint8_t fm;
	uint32_t pasid;
	uint64_t addr;
	unsigned int am;
	bool ih;
};

#define FAKE_MAX_INVS 64

struct vtd_xlate {
	struct vtd_caps caps;
	uint64_t root;
	unsigned int set_root_calls, flush_all_calls, translate_calls;
	struct fake_inv invs[FAKE_MAX_INVS];
	unsigned int nr_invs;
	/* Translation behaviour: fault (with this description) or iova + offset. */
	bool fault;
	struct vtd_fault fault_desc;
	uint64_t offset;
	/* Context flags answer (created permissive: SM, DTE, PRE) or a context fault. */
	struct vtd_ctx_flags ctx_flags;
	bool ctx_fault;
	struct vtd_fault ctx_fault_desc;
};

/* The most recently created fake (tests create one unit at a time). */
struct vtd_xlate *fake_xlate_last(void);

#endif
