/* SPDX-License-Identifier: MIT */
/*
 * Shared state of host forwarding (host*.c): the per-device and per-(device, PASID) records
 * and the functions one host*.c file calls in another. Not for use outside host*.c.
 */
#ifndef NESTVM_VIOMMU_HOST_INTERNAL_H
#define NESTVM_VIOMMU_HOST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/vfio/host-iommu.h"
#include "devices/viommu/viommu-internal.h"

#define HOST_MAX_DEVS 8
#define HOST_RID_KEY (1u << 20) /* bind key of requests without PASID (above every PASID) */
#define HOST_MAX_RANGES 256  /* queued ranges per batch; beyond: whole-stage-1 flush */
#define HOST_MAX_PRQ 64      /* host page request groups awaiting the guest's answer */
#define HOST_DIR_CHUNK 512   /* PASID-directory entries read per guest-memory access */
#define HOST_MAX_WARN 16     /* distinct (operation, error) causes warned about once */
#define HOST_MAX_SNAP 4096   /* PASID-table snapshots per device (6 MiB, 262144 PASIDs) */
/*
 * A sweep asks the write watch (one sync) only when its snapshots outweigh the sync: at least
 * HOST_WATCH_MIN, plus one per HOST_WATCH_BYTES the sync copies (KVM's dirty bitmaps, 4 KiB
 * per 128 MiB of RAM). Measured here: comparing one table ~95 ns; a sync ~0.5 us plus its
 * bitmap copy (docs/benchmarks.md).
 */
#define HOST_WATCH_MIN 8
#define HOST_WATCH_BYTES 4096

/*
 * One PASID table of a host-backed device as the last sweep forwarded it (host-sync.c): while
 * its directory entry, words 0-2 of its 64 entries (all that decoding reads) and the device's
 * RID_PASID / PRE are unchanged and no record of its 64 PASIDs has changed since
 * (vtd_host_snap_drop), a global PASID-cache flush needs no per-PASID work for it.
 */
struct host_tsnap {
	bool valid;
	bool pre;             /* context PRE when taken */
	uint32_t rid_pasid;   /* context RID_PASID when taken */
	uint32_t nkeys;       /* live records it accounts for (its present entries) */
	uint32_t seen;        /* sweep generation that last skipped it */
	uint64_t de;          /* directory entry the table was reached through */
	struct gmem_wpage *wp; /* the table's page in the write watch, or NULL (host-sync.c) */
	uint64_t since;       /* words verified at this watch epoch (0: never trusted) */
	uint64_t *words;      /* 64 * 3: words 0-2 of every entry as forwarded; NULL: no snapshot */
};

struct host_dev {
	bool used;
	uint16_t sid;
	struct host_iommu hi;
	uint32_t dev;
	struct host_iommu_caps caps;
	struct viommu *v;
	struct vtd_shadow *shadow; /* shadow mode (host without nesting), else NULL */
	uint32_t rid_pasid;        /* RID_PASID of the context entry at the last sweep */
	uint32_t nr_keys;          /* live records other than HOST_RID_KEY */
	/*
	 * By PASID-directory index, nr_snap of them: small headers in one array, so that a sweep
	 * that trusts the write watch touches no table's words (a few pages for all tables).
	 */
	struct host_tsnap *snap;
	uint32_t nr_snap;
	uint32_t snaps;            /* words arrays allocated (at most HOST_MAX_SNAP) */
};

/*
 * What the host does with one (device, PASID) of a host-backed device (fail closed, facts
 * §13): blocked (DMA faults; the guest is given `reason`), identity on the stage-2 parent
 * (translation off, or a pass-through entry), or the guest's first stage.
 */
enum hb_state { HB_BLOCKED, HB_IDENTITY, HB_S1, HB_UNKNOWN };

struct host_bind {
	uint32_t key;         /* guest PASID, or HOST_RID_KEY (mirrors the context's RID_PASID) */
	uint8_t dev;          /* index into devs[] */
	uint8_t state;        /* enum hb_state: what the host has (equal to the host after failures) */
	uint8_t reason;       /* HB_BLOCKED: fault reason for the guest (0: none, translation off) */
	bool live;            /* slot in use */
	bool flush_all;       /* batch: the whole stage-1 */
	bool raw_valid;       /* raw[] is the PASID entry the current state was made from */
	bool raw_pre;         /* ... with this context PRE bit */
	uint16_t did;
	uint32_t s1;
	uint32_t seen;        /* sweep generation that last found the entry */
	unsigned int nr_queued;
	struct host_s1_config cfg;
	uint64_t raw[3];      /* PASID entry words 0-2 (all that decoding reads) */
};

struct host_queued {
	uint32_t bind;
	struct host_inv_range r;
};

struct host_prq {
	bool used;
	uint8_t dev;
	bool pp;
	uint32_t pasid;
	uint16_t grpid;
	uint32_t cookie;
};

struct vtd_host {
	struct host_dev devs[HOST_MAX_DEVS];
	/* Every tracked (device, PASID): a slot array, a free list and an open-addressed index. */
	struct host_bind *binds;
	uint32_t nr_binds, cap_binds;
	uint32_t *free;       /* free slots (cap_binds entries) */
	uint32_t nr_free;
	uint32_t *index;      /* (dev, key) hash -> slot + 1; 0 empty; linear probing */
	uint32_t index_mask;  /* index size - 1 (a power of two, at least twice the live binds) */
	uint32_t live;
	uint32_t gen;
	uint32_t *pending;    /* binds with something queued (cap_binds entries) */
	uint32_t nr_pending;
	struct host_queued q[HOST_MAX_RANGES];
	unsigned int nr_q;
	struct host_inv_range send[HOST_MAX_RANGES]; /* one stage-1's ranges being sent */
	struct host_prq prq[HOST_MAX_PRQ];
	struct { unsigned int op; int err; } warned[HOST_MAX_WARN];
	unsigned int nr_warned;
	struct viommu_host_stats st;
	uint8_t tbl[4096];    /* the PASID table a sweep is syncing (lock held) */
};

enum { OP_ATTACH, OP_PARENT, OP_DETACH, OP_INVALIDATE, OP_MEMORY };

/* The device's scalable-mode context as the last sweep / lookup read it. */
struct ctxv {
	uint8_t reason;       /* nonzero: no usable context (the fault every request gets) */
	bool paside, pre;
	uint32_t rid_pasid;
	uint64_t dir;
	uint64_t dir_entries; /* bounded by the advertised PASID width */
};

/* What the host should do for one (device, PASID). */
struct want {
	uint8_t state, reason;
	uint16_t did;
	struct host_s1_config cfg;
};

/* host.c */
void vtd_host_failed(struct vtd_host *h, const struct host_dev *d, unsigned int op,
		     uint32_t key, int err);

/*
 * The feature's hooks (struct vtd_feature, registered by the first viommu_attach_host_device;
 * lock held): guest invalidations and translation-structure changes for host-backed devices.
 */
void vtd_host_pasid_cache(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid);
void vtd_host_context(struct viommu *v);
void vtd_host_root_changed(struct viommu *v); /* SRTP: host-backed devices follow the root */
void vtd_host_te_changed(struct viommu *v);   /* GSTS.TES changed */
/* host-binds.c: IOTLB invalidations are queued per stage-1 ... */
void vtd_host_piotlb(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint32_t pasid,
		     uint64_t addr, unsigned int am, bool ih);
void vtd_host_iotlb(struct viommu *v, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
		    unsigned int am, bool ih);
/* ... and sent by the sync hook: one host call per affected stage-1. */
void vtd_host_flush(struct viommu *v);

/* host-binds.c */
struct host_bind *vtd_host_find_bind(struct vtd_host *h, unsigned int dev, uint32_t key);
struct host_bind *vtd_host_new_bind(struct vtd_host *h, unsigned int dev, uint32_t key);
void vtd_host_delete_bind(struct vtd_host *h, struct host_bind *b);
void vtd_host_drop_queued(struct vtd_host *h, struct host_bind *b);

/* host-sync.c (lock held) */
void vtd_host_read_ctx(struct viommu *v, uint16_t sid, struct ctxv *c);
void vtd_host_want_of(struct viommu *v, const struct host_dev *d, const struct ctxv *c,
		      uint32_t key, const uint64_t *pe_in, struct want *w);
bool vtd_host_apply(struct viommu *v, unsigned int dev, uint32_t key, struct host_bind *b,
		    const struct want *w);
void vtd_host_sync_key(struct viommu *v, unsigned int dev, const struct ctxv *c, uint32_t key,
		       const uint64_t *pe);
void vtd_host_sweep_dev(struct viommu *v, unsigned int dev);
void vtd_host_sweep_all(struct viommu *v);
void vtd_host_snap_drop(struct vtd_host *h, unsigned int dev, uint32_t key);
void vtd_host_snap_free(struct host_dev *d);

/* host-faults.c */
extern const struct dma_ats_client vtd_host_client;
void vtd_host_fault(void *opaque, const struct host_fault *f);

#endif
