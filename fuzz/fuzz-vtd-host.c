/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: host forwarding (devices/viommu/host*.c) against hostsim. A passthrough device
 * at 00:01.0 is host-backed; the guest edits four PASID entries (PASID 0 is the RID_PASID)
 * and their first-stage leaf entries, and sends PASID-cache, context-cache, IOTLB and
 * PASID-IOTLB invalidations of every granularity, DID and range through the queue; the device
 * does DMA through hostsim only, which fills hostsim's IOTLB. Raw writes anywhere in the
 * tables and TE/SRTP toggles are possible too (they turn the model below off).
 *
 * The target keeps a model of what the guest has done: which leaf entries changed since an
 * invalidation covering them was processed (by DID and PASID as the guest's entry says), and
 * which PASID entries changed since the last global PASID-cache invalidation. The host_iommu
 * table handed to the unit wraps hostsim's and records every attach and detach.
 *
 * Input: a configuration byte (bit 0 the device issues page requests, bit 1 prs=on, bit 2 the
 * spread layout with the write watch: PASID k > 0 is PASID 64 * k, entry 0 of its own PASID
 * table, seven more tables hold one static bound PASID each, and guest RAM has a write watch
 * whose CPU log sees the target's own stores (a page reads as written when its bytes differ
 * from the copy taken at protect or the last collect), so global flushes skip unwritten
 * tables and the oracle below checks what they skip), then up to FZ_MAX_OPS operations:
 *   0 leaf        k u8, page u8, flags u8 (P, RW, US), target page u8
 *   1 PASID entry k u8, flags u8 (P, PGTT first-stage or other, SRE, WPE, FLPM=1), DID u8
 *   2 PC inv      gran u8, DID u8, PASID u8        (queued)
 *   3 PIOTLB inv  gran u8, DID u8, PASID u8, page u8, am u8 (bit 7: IH)  (queued)
 *   4 IOTLB inv   gran u8, DID u8, page u8, am u8  (queued)
 *   5 CC inv / wait  u8 (bit 0: context-cache global, else a wait)  (queued)
 *   6 run         IQT = tail; then the oracle
 *   7 DMA         k u8, page u8 (read through hostsim), then the oracle
 *   8 raw         offset u16 in the table area, value u64 (model off)
 *   9 TE / SRTP   u8 (model off)
 * Oracle: no sanitizer report, and while the model is on:
 *  - after a drain, a DMA to a page whose leaf entry is unchanged since its invalidation
 *    returns exactly what the guest's tables say (hostsim's IOTLB holds no translation the
 *    guest has invalidated), and fails when the PASID is not bound on the host;
 *  - a drain makes no host attach or detach for a PASID whose entry is unchanged since the
 *    last global PASID-cache invalidation (and whose last attach did not fail).
 */
#include "common/log.h"
#include "devices/vfio/vfio.h"
#include "fuzz-vtd.h"
#include "vmm/core/gmem-watch.h"

#define FZ_RAM_SIZE (512 * 1024ULL)
#define FZ_ROOT 0x1000ULL
#define FZ_CTX 0x2000ULL
#define FZ_PDIR 0x3000ULL
#define FZ_PTBL 0x4000ULL
#define FZ_STATUS 0x7000ULL
#define FZ_QBASE 0x8000ULL
#define FZ_FS 0x10000ULL     /* PASID k's tables: FZ_FS + k * 0x4000, 4 levels */
#define FZ_TBLS 0x20000ULL   /* spread layout: PASID table t at FZ_TBLS + t * 4 KiB, t >= 1 */
#define FZ_NTBL 11           /* tables 1..3 for PASIDs 64..192, 4..10 static */
#define FZ_DATA 0x40000ULL   /* 64 target pages, each holding its own address */
#define FZ_PRQ 0x60000ULL
#define FZ_K 4               /* PASIDs 0..3 */
#define FZ_PAGES 16          /* IOVA pages 0..15 of each */
#define FZ_MAX_OPS 256
#define FZ_SID 0x0008
#define FZ_MAX_DESCS 64

static struct fz_ram ram;

struct host_env {
	struct fz_vtd t;
	struct hostsim *hs;
	struct host_iommu inner, outer;
	struct host_iommu_ops ops;
	struct dma_as das;
	struct fz_q q;
	bool model;                     /* false once the input did something the model lacks */
	uint64_t leaf[FZ_K][FZ_PAGES];
	bool dirty[FZ_K][FZ_PAGES];     /* changed since a covering invalidation was processed */
	uint64_t pe[FZ_K][3], snap[FZ_K][3]; /* PASID entry now / at the last global PC */
	bool selective;                 /* a non-global PC ran since the last global one */
	bool bound[FZ_K], attach_failed[FZ_K];
	bool check_calls;               /* the current drain must not touch unchanged entries */
	bool spread;                    /* configuration bit 2: the layout and watch above */
	uint64_t desc[FZ_MAX_DESCS][2]; /* queued since the last run */
	unsigned int ndesc;
};

static struct host_env *env;

/* The spread layout's CPU log: the target's stores are the CPU (bit 2 above). */
#define FZ_WPAGES 16
static struct {
	uint64_t gpa[FZ_WPAGES];
	uint8_t copy[FZ_WPAGES][4096];
	unsigned int n;
} cpu_log;

static NO_COVERAGE uint8_t *log_copy(uint64_t gpa)
{
	for (unsigned int i = 0; i < cpu_log.n; i++)
		if (cpu_log.gpa[i] == gpa)
			return cpu_log.copy[i];
	if (cpu_log.n == FZ_WPAGES)
		return NULL;
	cpu_log.gpa[cpu_log.n] = gpa;
	return cpu_log.copy[cpu_log.n++];
}

static NO_COVERAGE int log_protect(void *o, uint64_t gpa)
{
	uint8_t *c = log_copy(gpa);

	if (!c || gpa + 4096 > FZ_RAM_SIZE)
		return -ENOSPC;
	memcpy(c, ram.mem + gpa, 4096);
	return 0;
}

static NO_COVERAGE int log_collect(void *o, const uint64_t *gpas, unsigned int n, bool *ret)
{
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *c = log_copy(gpas[i]);

		FZ_CHECK(c != NULL); /* every watched page was protected */
		ret[i] = memcmp(c, ram.mem + gpas[i], 4096) != 0;
		memcpy(c, ram.mem + gpas[i], 4096);
	}
	return 0;
}

static const struct gmem_cpu_log fz_log_ops = { .protect = log_protect, .collect = log_collect };

/* The PASID that k stands for, and where its entry is. */
static uint32_t pasid_of(const struct host_env *e, int k)
{
	return e->spread && k ? 64u * (uint32_t)k : (uint32_t)k;
}

static uint64_t pe_addr(const struct host_env *e, int k)
{
	return e->spread && k ? FZ_TBLS + 0x1000ULL * (uint64_t)k : FZ_PTBL + 64ULL * (uint64_t)k;
}

static int k_of(uint32_t hpasid)
{
	if (hpasid == HOST_PASID_NONE)
		return 0;
	for (int k = 1; k < FZ_K; k++)
		if (hpasid == pasid_of(env, k))
			return k;
	return -1;
}

static bool entry_changed(const struct host_env *e, int k)
{
	return memcmp(e->pe[k], e->snap[k], sizeof(e->pe[k])) != 0;
}

static void check_call(int k)
{
	if (k < 0 || !env->model || !env->check_calls)
		return;
	FZ_CHECK(entry_changed(env, k) || env->attach_failed[k]);
}

static int w_attach_s1(void *be, uint32_t dev, uint32_t pasid, const struct host_s1_config *cfg,
		       uint32_t *ret_s1)
{
	int k = k_of(pasid), r;

	check_call(k);
	r = env->inner.ops->attach_s1(be, dev, pasid, cfg, ret_s1);
	if (k >= 0) {
		env->attach_failed[k] = r != 0;
		if (!r)
			env->bound[k] = true;
	}
	return r;
}

static int w_detach(void *be, uint32_t dev, uint32_t pasid)
{
	int k = k_of(pasid), r;

	check_call(k);
	r = env->inner.ops->detach(be, dev, pasid);
	if (k >= 0 && !r)
		env->bound[k] = false;
	return r;
}

static void write_pe(struct host_env *e, int k)
{
	for (int w = 0; w < 3; w++)
		le64_store(ram.mem + pe_addr(e, k) + 8 * w, e->pe[k][w]);
}

static void write_leaf(struct host_env *e, int k, int i)
{
	le64_store(ram.mem + FZ_FS + 0x4000ULL * k + 0x3000 + 8 * i, e->leaf[k][i]);
}

static uint16_t did_of(const struct host_env *e, int k)
{
	return (uint16_t)e->pe[k][1];
}

/* What a processed descriptor tells the model. */
static void processed(struct host_env *e, const uint64_t *d)
{
	unsigned int type = d[0] & 0xf, g = (d[0] >> 4) & 3;
	uint16_t did = (uint16_t)(d[0] >> 16);
	uint32_t pasid = (uint32_t)(d[0] >> 32) & 0xfffff;
	uint64_t page = (d[1] >> 12), am = d[1] & 0x3f;

	/* Global and domain-selective PASID-cache and context-cache flushes re-read every entry. */
	if ((type == 0x7 && g != 1) || type == 0x1) {
		memcpy(e->snap, e->pe, sizeof(e->snap));
		e->selective = false;
		return;
	}
	if (type == 0x7) {
		e->selective = true;
		return;
	}
	if (type != 0x2 && type != 0x6)
		return;
	for (int k = 0; k < FZ_K; k++) {
		if (entry_changed(e, k))
			continue; /* the host's DID for it may be the old one */
		if (!(type == 0x2 && g == 1) && did != did_of(e, k))
			continue;
		if (type == 0x6 && pasid != pasid_of(e, k))
			continue;
		for (int i = 0; i < FZ_PAGES; i++) {
			bool page_sel = (type == 0x2 && g == 3) || (type == 0x6 && g == 3);

			if (!page_sel || (uint64_t)i >> am == page >> am)
				e->dirty[k][i] = false;
		}
	}
}

static void run(struct host_env *e)
{
	unsigned int n;

	/* Host calls are checked for the guest's doorbell; fz_q_run's IQE recovery runs nothing. */
	e->check_calls = !e->selective;
	n = fz_q_run(&e->t, &e->q);
	e->check_calls = false;
	for (unsigned int i = 0; i < n && i < e->ndesc; i++)
		processed(e, e->desc[i]);
	e->ndesc = 0;
}

static void queue(struct host_env *e, uint64_t d0, uint64_t d1)
{
	if (e->ndesc == FZ_MAX_DESCS || e->ndesc + 1 >= e->q.qbytes / e->q.dsz)
		run(e);
	e->desc[e->ndesc][0] = d0;
	e->desc[e->ndesc][1] = d1;
	e->ndesc++;
	fz_q_put(&e->q, d0, d1);
}

static void dma(struct host_env *e, int k, int i)
{
	struct dma_req req = { .sid = FZ_SID, .has_pasid = k != 0, .pasid = pasid_of(e, k),
			       .access = DMA_ACC_READ };
	uint64_t val = 0, want;
	int r = dma_read(&e->das, &req, 0x1000ULL * i, &val, 8);

	FZ_CHECK(r == 0 || r == -EACCES);
	if (!e->model)
		return;
	if (!e->bound[k]) {
		FZ_CHECK(r == -EACCES);
		return;
	}
	/* FLPM=1 binds a 5-level walk over these 4-level tables: not modelled. */
	if (e->dirty[k][i] || entry_changed(e, k) || (e->pe[k][2] & (3 << 2)))
		return;
	/* Present, user, 4 KiB: the data page; anything else faults. */
	if ((e->leaf[k][i] & 5) == 5) {
		want = e->leaf[k][i] & ~0xfffULL;
		FZ_CHECK(r == 0 && val == want);
	} else {
		FZ_CHECK(r == -EACCES);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct viommu_config cfg, nc;
	struct host_iommu_caps caps;
	struct host_env *e = calloc(1, sizeof(*e));
	char msg[200];
	uint32_t dev;
	uint8_t c;

	FZ_CHECK(e != NULL);
	log_max_level = LOG_ERROR; /* host-call failures warn once per unit: once per input here */
	env = e;
	fz_ram_reset(&ram, FZ_RAM_SIZE);
	c = fz_u8(&f);
	e->spread = c & 4;
	cpu_log.n = 0;
	if (e->spread)
		FZ_CHECK(gmem_watch_enable(&ram.gm, &fz_log_ops, NULL) == 0);
	e->hs = hostsim_create(&ram.gm, NULL);
	FZ_CHECK(e->hs != NULL);
	hostsim_iommu(e->hs, &e->inner);
	e->ops = *e->inner.ops;
	e->ops.attach_s1 = w_attach_s1;
	e->ops.detach = w_detach;
	e->outer = (struct host_iommu){ .ops = &e->ops, .be = e->inner.be, .name = "fuzz" };
	FZ_CHECK(hostsim_add_device(e->hs, c & 1, &dev) == 0);
	FZ_CHECK(hostsim_dma_as(e->hs, dev, &e->das) == 0);
	/* The unit's configuration as the launcher derives it from the host (nested). */
	FZ_CHECK(e->inner.ops->get_caps(e->inner.be, dev, &caps) == 0);
	FZ_CHECK(viommu_parse_options((c & 2) ? "host-mode=nested,dt=on,prs=on" : "host-mode=nested",
				      &cfg, msg, sizeof(msg)) == 0);
	FZ_CHECK(viommu_host_mode(&cfg, &caps, &nc, msg, sizeof(msg)) == 0);
	fz_vtd_create(&e->t, &nc, &ram.gm);
	FZ_CHECK(viommu_attach_host_device(e->t.v, FZ_SID, &e->outer, dev) == 0);

	for (uint64_t p = 0; p < 64; p++)
		le64_store(ram.mem + FZ_DATA + 0x1000 * p, FZ_DATA + 0x1000 * p);
	le64_store(ram.mem + FZ_ROOT, FZ_CTX | 1);
	/* devfn 8: P, PASIDE, PRE; RID_PASID 0; directory of 64 entries (PDTS 0). */
	le64_store(ram.mem + FZ_CTX + 32 * 8, FZ_PDIR | (1 << 4) | (1 << 3) | 1);
	le64_store(ram.mem + FZ_PDIR, FZ_PTBL | 1);
	for (uint64_t t = 1; e->spread && t < FZ_NTBL; t++) {
		le64_store(ram.mem + FZ_PDIR + 8 * t, (FZ_TBLS + 0x1000 * t) | 1);
		if (t < FZ_K)
			continue;
		/* A static PASID 64 * t on PASID 0's tables, bound by the first global flush. */
		le64_store(ram.mem + FZ_TBLS + 0x1000 * t, 1 | (1ULL << 6));
		le64_store(ram.mem + FZ_TBLS + 0x1000 * t + 8, 3);
		le64_store(ram.mem + FZ_TBLS + 0x1000 * t + 16, FZ_FS);
	}
	for (int k = 0; k < FZ_K; k++) {
		uint64_t fs = FZ_FS + 0x4000ULL * k;

		le64_store(ram.mem + fs, (fs + 0x1000) | 7);
		le64_store(ram.mem + fs + 0x1000, (fs + 0x2000) | 7);
		le64_store(ram.mem + fs + 0x2000, (fs + 0x3000) | 7);
		e->pe[k][2] = fs;
	}
	fz_vtd_write(&e->t, VTD_RTADDR_REG, FZ_ROOT | (1ULL << 10), 8);
	fz_vtd_gcmd(&e->t, (uint32_t)VTD_GCMD_SRTP, true);
	fz_q_enable(&e->t, &e->q, ram.mem, FZ_QBASE, true);
	fz_vtd_write(&e->t, VTD_PQA_REG, FZ_PRQ, 8);
	fz_vtd_gcmd(&e->t, (uint32_t)VTD_GCMD_TE, true);
	e->model = true;
	memcpy(e->snap, e->pe, sizeof(e->snap));

	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		switch (fz_u8(&f) % 10) {
		case 0: {
			int k = fz_u8(&f) % FZ_K, i = fz_u8(&f) % FZ_PAGES;
			uint8_t fl = fz_u8(&f);

			e->leaf[k][i] = (fl & 7) | (FZ_DATA + 0x1000ULL * (fz_u8(&f) % 64));
			write_leaf(e, k, i);
			e->dirty[k][i] = true;
			break;
		}
		case 1: {
			int k = fz_u8(&f) % FZ_K;
			uint8_t fl = fz_u8(&f);

			e->pe[k][0] = (fl & 1) | ((fl & 2) ? 1ULL << 6 : 2ULL << 6);
			e->pe[k][1] = fz_u8(&f) % 4;
			e->pe[k][2] = (FZ_FS + 0x4000ULL * k) | ((fl & 4) ? 1 : 0) |
				      ((fl & 8) ? 1 << 4 : 0) | ((fl & 16) ? 1 << 2 : 0);
			write_pe(e, k);
			break;
		}
		case 2: {
			uint64_t g = fz_u8(&f) & 3, did = fz_u8(&f) % 4, p = fz_u8(&f) % 8;
			uint64_t pasid = e->spread && p < FZ_K ? pasid_of(e, (int)p) : p;

			queue(e, 0x7 | (g << 4) | (did << 16) | (pasid << 32), 0);
			break;
		}
		case 3: {
			uint64_t g = fz_u8(&f) & 3, did = fz_u8(&f) % 4, p = fz_u8(&f) % 8;
			uint64_t pasid = e->spread && p < FZ_K ? pasid_of(e, (int)p) : p;
			uint64_t page = fz_u8(&f) % 32, am = fz_u8(&f);

			queue(e, 0x6 | (g << 4) | (did << 16) | (pasid << 32),
			      (page << 12) | ((am & 0x80) ? 1 << 6 : 0) | ((am & 0x7f) % 20));
			break;
		}
		case 4: {
			uint64_t g = fz_u8(&f) & 3, did = fz_u8(&f) % 4, page = fz_u8(&f) % 32;
			uint64_t am = fz_u8(&f);

			queue(e, 0x2 | (g << 4) | (did << 16),
			      (page << 12) | ((am & 0x80) ? 1 << 6 : 0) | ((am & 0x7f) % 20));
			break;
		}
		case 5:
			if (fz_u8(&f) & 1)
				queue(e, 0x1 | (1 << 4), 0);
			else
				queue(e, 0x5 | (1 << 5) | (1ULL << 32), FZ_STATUS);
			break;
		case 6:
			run(e);
			break;
		case 7: {
			int k = fz_u8(&f) % FZ_K;

			dma(e, k, fz_u8(&f) % FZ_PAGES);
			break;
		}
		case 8: {
			uint64_t end = e->spread ? FZ_TBLS + 0x1000ULL * FZ_NTBL : FZ_FS + 0x4000ULL * FZ_K;
			uint64_t off = ((e->spread ? fz_u32(&f) : fz_u16(&f)) & ~7u) % (end - FZ_ROOT);

			le64_store(ram.mem + FZ_ROOT + off, fz_u64(&f));
			e->model = false;
			break;
		}
		default: {
			uint8_t b = fz_u8(&f);

			if (b & 1)
				fz_vtd_gcmd(&e->t, (uint32_t)VTD_GCMD_SRTP, true);
			else
				fz_vtd_gcmd(&e->t, (uint32_t)VTD_GCMD_TE, b & 2);
			e->model = false;
			break;
		}
		}
	}
	run(e);
	viommu_destroy(e->t.v);
	hostsim_destroy(e->hs);
	gmem_watch_free(&ram.gm);
	free(e);
	return 0;
}
