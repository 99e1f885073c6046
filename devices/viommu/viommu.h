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
 * slts=on|off,nest=on|off,pt=on|off,cm=on|off,dt=on|off,ir=on|off,eim=on|off,prs=on|off,
 * regs-mirror=on|off". docs/viommu.md lists what each option does to CAP/ECAP.
 */
/* host-mode=: how host-backed devices are backed (docs/host-forwarding.md). */
enum viommu_host_mode {
	VIOMMU_HOST_AUTO,   /* nested when the host can nest, else shadow */
	VIOMMU_HOST_NESTED, /* guest first stage over the host's stage-2 parent */
	VIOMMU_HOST_SHADOW, /* caching mode, guest tables mirrored into the host's I/O space */
};

/* Options typed explicitly (viommu_config.given): checked against the host, never adjusted. */
#define VIOMMU_GIVEN_MODE (1u << 0)
#define VIOMMU_GIVEN_AW (1u << 1)
#define VIOMMU_GIVEN_PASID_BITS (1u << 2)
#define VIOMMU_GIVEN_FLTS (1u << 3)
#define VIOMMU_GIVEN_SLTS (1u << 4)
#define VIOMMU_GIVEN_NEST (1u << 5)
#define VIOMMU_GIVEN_PT (1u << 6)
#define VIOMMU_GIVEN_CM (1u << 7)
#define VIOMMU_GIVEN_DT (1u << 8)
#define VIOMMU_GIVEN_IR (1u << 9)
#define VIOMMU_GIVEN_EIM (1u << 10)
#define VIOMMU_GIVEN_PRS (1u << 11)
#define VIOMMU_GIVEN_HOST_MODE (1u << 12)

struct viommu_config {
	bool scalable;           /* mode=scalable (ECAP.SMTS) */
	unsigned int aw;         /* 39, 48 or 57: MGAW/SAGAW and HAW */
	unsigned int pasid_bits; /* 1..20: ECAP.PSS + 1 (scalable only) */
	bool flts, slts, nest, pt, cm, dt;
	bool ir;                 /* ECAP.IR: interrupt remapping */
	bool eim;                /* ECAP.EIM: x2APIC (32-bit destination) IRTEs; needs ir */
	bool prs;                /* ECAP.PRS + PDS: page request queue; needs scalable, dt */
	enum viommu_host_mode host_mode; /* host-mode=auto|nested|shadow */
	/*
	 * regs-mirror=on (default): the register window offers the bus a read mirror, so the
	 * machine may serve the guest's register reads without an exit (off: every read exits;
	 * also off while --trace vtd-reg is on, since mirrored reads would not be traced).
	 */
	bool regs_mirror;
	/* Not options: set by viommu_host_mode when the nesting host lacks them (first stage). */
	bool no_srs;             /* no ECAP.SRS (supervisor requests) */
	bool no_fs1gp;           /* no CAP.FS1GP (1 GiB first-stage pages) */
	uint32_t given;          /* VIOMMU_GIVEN_*: what the user typed */
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
	uint64_t ir_remapped;      /* remappable-format interrupts translated */
	uint64_t ir_compat;        /* compatibility-format interrupts passed (IRE=0 or CFIS=1) */
	uint64_t ir_blocked;       /* interrupt requests blocked (fault reason 0x20-0x26) */
	uint64_t irte_fetches;     /* IRTEs read from guest memory into the entry cache */
	uint64_t iec_invs;         /* interrupt entry cache invalidations (descriptor 0x4) */
	uint64_t page_reqs;        /* page requests written to the page request queue */
	uint64_t prq_overflows;    /* page requests dropped with PRS.PRO */
	uint64_t prg_responses;    /* page group responses routed to a device */
	uint64_t prg_unknown;      /* page group responses for no outstanding group: ignored */
	uint64_t ats_xlates;       /* ATS translation requests answered */
	uint64_t reg_reads;        /* register reads that reached the unit (exits; not mirrored) */
	uint64_t reg_writes;       /* register writes (always exits) */
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
/*
 * The read mirror of the register window offered to the bus (regs-mirror; docs/viommu.md), or
 * NULL when it is off.
 */
const void *viommu_read_mirror(const struct viommu *v);
/* The CAP and ECAP values the guest reads (fixed at create, or by viommu_set_config). */
uint64_t viommu_cap(const struct viommu *v);
uint64_t viommu_ecap(const struct viommu *v);

void viommu_get_stats(struct viommu *v, struct viommu_stats *ret);
/*
 * The invalidation and page-request queues' registers as one line ("IQH=... IQT=... ICS=...
 * FSTS=..." then PQH, PQT, PRS with page requests): where a stopped guest's queues stood.
 */
void viommu_format_queues(struct viommu *v, char *buf, size_t len);

/*
 * Changes the guest-visible configuration before the guest runs (a host-backed device found
 * at device creation chose it). mode, aw and ir must stay (the device tree has them): -EINVAL.
 */
int viommu_set_config(struct viommu *v, const struct viommu_config *cfg);

/*
 * Device-TLB invalidation hook (descriptor types 0x3 and 0x8), for ATS-capable devices
 * behind the unit. Called with the unit lock held: it must not call back into the unit.
 * has_pasid is false for type 0x3; size_bit is the descriptor's S bit; global is type 0x8's G.
 */
typedef void (*viommu_devtlb_fn)(void *opaque, uint16_t sid, bool has_pasid, uint32_t pasid,
				 uint64_t addr, bool size_bit, bool global);
void viommu_set_devtlb_hook(struct viommu *v, viommu_devtlb_fn fn, void *opaque);

/*
 * Interrupt remapping (facts §8), for the machine's interrupt path. Every MSI a device raises
 * and every IOAPIC redirection goes through viommu_remap_msi with the requester's source-id:
 * with GSTS.IRES=0 the request passes unchanged; otherwise a remappable-format request is
 * translated through the interrupt entry cache (IRTEs are fetched into it on first use and
 * stay there until an IEC invalidation or SIRTP) and a compatibility-format one passes only
 * with GSTS.CFIS=1 and EIME=0. Returns 0 with the compatibility-format MSI to deliver (with
 * EIME, destination bits 31:8 in ret_addr bits 63:40, the KVM x2APIC API form), or -EACCES
 * when the request is blocked: the fault is recorded (unless the IRTE has FPD) and nothing
 * may be delivered. Any thread; takes the unit lock.
 */
int viommu_remap_msi(struct viommu *v, uint64_t addr, uint32_t data, uint16_t sid,
		     uint64_t *ret_addr, uint32_t *ret_data);
/* The same translation without recording faults or counting: for building KVM routes. */
int viommu_lookup_msi(struct viommu *v, uint64_t addr, uint32_t data, uint16_t sid,
		      uint64_t *ret_addr, uint32_t *ret_data);
/* True when GSTS.IRES=1 (the machine may skip the call otherwise). Lock-free. */
bool viommu_ir_enabled(const struct viommu *v);

/*
 * Called after the guest changed what interrupts translate to: IEC invalidation (global or
 * by index), SIRTP, IRE or CFI. Runs on the vCPU thread that wrote the register, without
 * the unit lock, so it may call viommu_lookup_msi (to rebuild KVM's routes).
 */
typedef void (*viommu_ir_notify_fn)(void *opaque);
void viommu_set_ir_notify(struct viommu *v, viommu_ir_notify_fn fn, void *opaque);

/*
 * Host forwarding (nested mode; devices/viommu/host.c). A host-backed device at sid has its
 * guest first-stage PASID entries mirrored into the host IOMMU through hi (device handle dev):
 * PASID-cache / context-cache invalidations attach, replace or detach host stage-1s, IOTLB
 * invalidations become one batched host call per stage-1 per drain, host faults become fault
 * records and host page requests go through the page request queue. The first device of a
 * backend maps guest RAM as its stage-2. Needs mode=scalable. On a host without nesting the
 * device is shadowed instead (devices/viommu/shadow.h; needs cm=on). Returns 0 or -errno.
 */
struct host_iommu;
struct host_iommu_caps;
int viommu_attach_host_device(struct viommu *v, uint16_t sid, const struct host_iommu *hi,
			      uint32_t dev);

struct viommu_host_stats {
	uint64_t binds, replaces, unbinds; /* host stage-1 attach / replace / detach */
	uint64_t identity;                 /* (device, PASID) put on the stage-2 parent */
	uint64_t blocks;                   /* (device, PASID) blocked on the host (fail closed) */
	uint64_t inv_batches;              /* host invalidate calls */
	uint64_t inv_ranges;               /* ranges in those calls */
	uint64_t faults;                   /* host faults turned into fault records */
	uint64_t page_reqs, page_resps;    /* host page requests and answers sent back */
	uint64_t errors;                   /* host calls that failed */
	/* Global-flush sweeps: PASID tables skipped unread (the write watch saw no write to them)
	 * and tables compared with their snapshot. */
	uint64_t tables_trusted, tables_compared;
};
void viommu_get_host_stats(struct viommu *v, struct viommu_host_stats *ret);

/*
 * The guest-visible configuration for host-backed devices, chosen from the host's
 * capabilities: nested when the host can nest (and host-mode / the typed options allow it),
 * else shadow. Options left out are chosen (nested: caching mode, first stage only, PT, PASID
 * width and 5-level first stage as the host backs them; shadow: caching mode, second stage
 * only). Returns 0 with a one-line description of the choice in msg, or -EINVAL when an
 * option the user typed (cfg->given) cannot work, with one line naming what would in msg.
 */
int viommu_host_mode(const struct viommu_config *cfg, const struct host_iommu_caps *hc,
		     struct viommu_config *ret, char *msg, size_t len);

#endif
