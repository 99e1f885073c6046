/* SPDX-License-Identifier: MIT */
/*
 * The VT-d remapping unit: register file, command handshakes, invalidation and fault reporting.
 *
 * Callers: the board builder (parse options, create, destroy, hand viommu_dma_as to emulated
 * DMA masters, read the mode/HAW for the device tree) and the launcher (stats). The unit
 * registers its 4 KiB MMIO window on the bus; every register access, descriptor and fault
 * goes through it. Translation is done by the engine in xlate/. Register accesses and DMA
 * translations may come from any vCPU or device thread (the unit has its own lock).
 */
#ifndef NESTVM_VIOMMU_H
#define NESTVM_VIOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/core/dma.h"

struct bus;
struct gmem;
struct irq_chip;
struct viommu;

/* Default MMIO base of the unit (docs/board.md) and the size of its register window. */
#define VIOMMU_DEFAULT_BASE 0xfed90000ULL
#define VIOMMU_WINDOW_SIZE 0x1000ULL

/*
 * Parsed "-device vtd,mode=legacy|scalable,aw=39|48|57,pasid-bits=N,flts=on|off,
 * slts=on|off,nest=on|off,pt=on|off,cm=on|off,dt=on|off". docs/viommu.md lists what each
 * option does to CAP/ECAP.
 */
struct viommu_config {
	bool scalable;           /* mode=scalable (ECAP.SMTS) */
	unsigned int aw;         /* 39, 48 or 57: MGAW/SAGAW and HAW */
	unsigned int pasid_bits; /* 1..20: ECAP.PSS + 1 (scalable only) */
	bool flts, slts, nest, pt, cm, dt;
};

/* Counters for benchmarks and tests (monotonic since create). */
struct viommu_stats {
	uint64_t descs;            /* invalidation descriptors processed */
	uint64_t drains;           /* IQT writes that ran the queue */
	uint64_t iqe;              /* invalidation queue errors raised */
	uint64_t waits;            /* invalidation wait descriptors completed */
	uint64_t devtlb_invs;      /* device-TLB (0x3) and PASID device-TLB (0x8) descriptors */
	uint64_t reg_invs;         /* register-based (CCMD/IOTLB) invalidations performed */
	uint64_t faults_recorded;  /* FRCD records written */
	uint64_t faults_fpd;       /* faults suppressed by FPD */
	uint64_t faults_collapsed; /* identical to a pending record: not recorded */
	uint64_t faults_overflow;  /* dropped with PFO */
	uint64_t msis;             /* fault + completion event MSIs sent */
};

/*
 * Parses the option string after "vtd" (may be "" or start with ','); fills defaults
 * (mode=scalable, aw=48, pasid-bits=20, flts/slts/nest/pt on, cm off, dt off). Options
 * that only exist in scalable mode are turned off by mode=legacy unless given explicitly,
 * in which case the set is rejected. Returns 0 or -EINVAL with a one-line message in errbuf.
 */
int viommu_parse_options(const char *opts, struct viommu_config *ret, char *errbuf, size_t errlen);

/*
 * Creates the unit and registers its window at base on bus (MMIO). gm and irq must outlive
 * the unit. Returns NULL on bad configuration, allocation failure or a bus conflict.
 */
struct viommu *viommu_create(const struct viommu_config *cfg, struct bus *bus, uint64_t base,
			     const struct gmem *gm, const struct irq_chip *irq);
/* Accepts NULL. The bus region is not removed (the bus has no removal): destroy the bus first. */
void viommu_destroy(struct viommu *v);

/*
 * The DMA address space of an emulated device behind this unit: with GSTS.TES=0 requests pass
 * untranslated; else the engine translates, and a fault is recorded (unless FPD) and the
 * access fails with -EACCES.
 */
void viommu_dma_as(struct viommu *v, struct dma_as *ret);

/* For the board's device tree: "legacy" or "scalable", and the host address width. */
const char *viommu_mode_name(const struct viommu *v);
unsigned int viommu_haw(const struct viommu *v);
/* The CAP and ECAP values the guest reads (fixed at create). */
uint64_t viommu_cap(const struct viommu *v);
uint64_t viommu_ecap(const struct viommu *v);

void viommu_get_stats(struct viommu *v, struct viommu_stats *ret);

/*
 * Device-TLB invalidation hook (descriptor types 0x3 and 0x8), for ATS-capable devices
 * behind the unit. Called with the unit lock held: it must not call back into the unit.
 * has_pasid is false for type 0x3; size_bit is the descriptor's S bit; global is type 0x8's G.
 */
typedef void (*viommu_devtlb_fn)(void *opaque, uint16_t sid, bool has_pasid, uint32_t pasid,
				 uint64_t addr, bool size_bit, bool global);
void viommu_set_devtlb_hook(struct viommu *v, viommu_devtlb_fn fn, void *opaque);

#endif
