/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: shadow mode (devices/viommu/shadow.c) on the iommufd backend over the kernel
 * double (devices/vfio/tests/kdouble.c), the host without nesting. The guest (legacy or
 * scalable mode with a second-stage RID_PASID entry, caching mode on as the launcher derives
 * it) edits 32 leaf entries of its second-stage table, sends IOTLB, context-cache and
 * PASID-cache invalidations of every granularity, DID and range, toggles TE, and host calls
 * fail on demand (fault injection in the double).
 *
 * The double's IOCTL seam is wrapped to mirror the IOAS with the host addresses of every
 * mapping (the double keeps only IOVA ranges). The target models which leaf entries changed
 * since an invalidation covering them was processed.
 *
 * Input: a configuration byte (bit 0 mode=scalable), then up to FZ_MAX_OPS operations:
 *   0 leaf      page u8, flags u8 (R, W), target page u8
 *   1 IOTLB     gran u8, DID u8, page u8, am u8 (bit 7: IH)   (queued)
 *   2 CC / PC   u8 (bit 0: PASID cache, else context cache), gran u8   (queued)
 *   3 wait                                                       (queued)
 *   4 run       IQT = tail; then the oracle
 *   5 raw       offset u16 in the table area, value u64 (model off)
 *   6 TE        u8 bit 0; then the oracle
 *   7 fail      u8: the next host call + (u8 % 4) fails (EINVAL, ENOMEM or the kernel's errno)
 * Oracle: no sanitizer report; after every drain or TE change in which no host call failed
 * (and none failed before without a clean re-walk since), the IOAS holds exactly what the
 * guest's tables say for every page whose leaf entry is unchanged since its invalidation:
 * the same host address (guest RAM at the entry's address) and write permission, nothing
 * where the entry is not present and nothing outside the tables' window; with TE off it is
 * guest RAM identity-mapped in one mapping. At the end the backend closes with no object and
 * no fd left in the double.
 */
#include "common/log.h"
#include "devices/vfio/iommufd-abi.h"
#include "devices/vfio/tests/kdouble.h"
#include "devices/vfio/vfio.h"
#include "fuzz-vtd.h"

#define FZ_RAM_SIZE (512 * 1024ULL)
#define FZ_ROOT 0x1000ULL
#define FZ_CTX 0x2000ULL
#define FZ_PDIR 0x3000ULL
#define FZ_PTBL 0x4000ULL
#define FZ_STATUS 0x7000ULL
#define FZ_QBASE 0x8000ULL
#define FZ_SL 0x10000ULL   /* 4-level second stage: 0x10000..0x13fff, leaves in 0x13000 */
#define FZ_TOUCHED (FZ_SL + 0x4000) /* nothing is written at or above it, except FZ_DATA's tags */
#define FZ_DATA 0x40000ULL
#define FZ_PAGES 32
#define FZ_DID 3
#define FZ_SID 0x0008
#define FZ_MAX_OPS 256
#define FZ_MAX_DESCS 64
#define FZ_MIRROR 64

static struct fz_ram ram;

struct mirror {
	uint64_t iova, len, va;
	bool w;
};

struct shadow_env {
	struct fz_vtd t;
	struct kdouble kd;
	struct iommufd_sys sys, inner;
	struct iommufd_backend *be;
	struct host_iommu hi;
	struct fz_q q;
	struct mirror m[FZ_MIRROR];
	unsigned int failures;          /* failed IOAS_MAP / IOAS_UNMAP so far */
	bool model, te, clean_walk_due;
	uint64_t leaf[FZ_PAGES];
	bool dirty[FZ_PAGES];
	uint64_t desc[FZ_MAX_DESCS][2];
	unsigned int ndesc;
};

static struct shadow_env *env;

NO_COVERAGE static int w_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct shadow_env *e = env;
	int r = e->inner.ioctl(ctx, fd, req, arg);

	if (req == IFD_IOAS_MAP || req == IFD_IOAS_UNMAP) {
		if (r) {
			e->failures++;
			return r;
		}
	}
	if (req == IFD_IOAS_MAP) {
		const struct ifd_ioas_map *mp = arg;
		unsigned int i;

		for (i = 0; i < FZ_MIRROR && e->m[i].len; i++)
			;
		FZ_CHECK(i < FZ_MIRROR); /* the double has 16 slots */
		e->m[i] = (struct mirror){ mp->iova, mp->length, mp->user_va,
					   !!(mp->flags & IFD_MAP_WRITEABLE) };
	} else if (req == IFD_IOAS_UNMAP) {
		const struct ifd_ioas_unmap *u = arg;
		bool all = !u->iova && u->length == UINT64_MAX;

		for (unsigned int i = 0; i < FZ_MIRROR; i++)
			if (e->m[i].len && (all || (e->m[i].iova >= u->iova &&
						    e->m[i].iova + e->m[i].len <= u->iova + u->length)))
				e->m[i].len = 0;
	}
	return r;
}

/* The mirror mapping that covers iova, or NULL (at most one may). */
NO_COVERAGE static const struct mirror *covering(const struct shadow_env *e, uint64_t iova)
{
	const struct mirror *hit = NULL;

	for (unsigned int i = 0; i < FZ_MIRROR; i++) {
		if (e->m[i].len && iova - e->m[i].iova < e->m[i].len) {
			FZ_CHECK(hit == NULL); /* overlapping host mappings */
			hit = &e->m[i];
		}
	}
	return hit;
}

NO_COVERAGE static void oracle(struct shadow_env *e, unsigned int failures_before, bool flushed)
{
	if (e->failures != failures_before) {
		e->clean_walk_due = true; /* the next flush re-walks everything */
		return;
	}
	if (e->clean_walk_due && !flushed)
		return;
	/*
	 * The re-walk after a failure may have run already (a later flush of the same drain) or
	 * runs now: either way what was consistent is again. Pages changed without their own
	 * invalidation stay unchecked (whether that re-walk saw them is not known here).
	 */
	e->clean_walk_due = false;
	if (!e->model)
		return;
	if (!e->te) {
		const struct mirror *m = covering(e, 0);
		unsigned int nr = 0;

		for (unsigned int i = 0; i < FZ_MIRROR; i++)
			nr += e->m[i].len != 0;
		FZ_CHECK(nr == 1);

		FZ_CHECK(m && m->iova == 0 && m->len == FZ_RAM_SIZE && m->w &&
			 m->va == (uint64_t)(uintptr_t)ram.mem);
		return;
	}
	/* One pass over the mirror: which mapping covers each page (at most one may). */
	const struct mirror *at[FZ_PAGES] = { NULL };

	for (unsigned int i = 0; i < FZ_MIRROR; i++) {
		const struct mirror *m = &e->m[i];

		if (!m->len)
			continue;
		FZ_CHECK(m->iova + m->len <= FZ_PAGES * 4096ULL);
		for (uint64_t p = (m->iova + 4095) / 4096; p * 4096 < m->iova + m->len; p++) {
			FZ_CHECK(at[p] == NULL); /* overlapping host mappings */
			at[p] = m;
		}
	}
	for (unsigned int i = 0; i < FZ_PAGES; i++) {
		const struct mirror *m = at[i];

		if (e->dirty[i])
			continue;
		if (!(e->leaf[i] & 3)) {
			FZ_CHECK(m == NULL);
			continue;
		}
		FZ_CHECK(m != NULL);
		FZ_CHECK(m->va + (4096ULL * i - m->iova) ==
			 (uint64_t)(uintptr_t)(ram.mem + (e->leaf[i] & ~0xfffULL)));
		FZ_CHECK(m->w == !!(e->leaf[i] & 2));
	}
}

NO_COVERAGE static void processed(struct shadow_env *e, const uint64_t *d, bool scalable)
{
	unsigned int type = d[0] & 0xf, g = (d[0] >> 4) & 3;
	uint16_t did = (uint16_t)(d[0] >> 16);
	uint64_t page = d[1] >> 12, am = d[1] & 0x3f;

	if (type == 0x1 || (type == 0x7 && scalable)) {
		memset(e->dirty, 0, sizeof(e->dirty));
		return;
	}
	if (type != 0x2 || (g != 1 && did != FZ_DID))
		return;
	for (unsigned int i = 0; i < FZ_PAGES; i++)
		if (g != 3 || (uint64_t)i >> am == page >> am)
			e->dirty[i] = false;
}

static void run(struct shadow_env *e, bool scalable)
{
	unsigned int before = e->failures, n;

	n = fz_q_run(&e->t, &e->q);

	for (unsigned int i = 0; i < n && i < e->ndesc; i++)
		processed(e, e->desc[i], scalable);
	e->ndesc = 0;
	oracle(e, before, true); /* every IQT write flushes the shadow */
}

static void queue(struct shadow_env *e, uint64_t d0, uint64_t d1, bool scalable)
{
	if (e->ndesc == FZ_MAX_DESCS || e->ndesc + 1 >= e->q.qbytes / e->q.dsz)
		run(e, scalable);
	e->desc[e->ndesc][0] = d0;
	e->desc[e->ndesc][1] = d1;
	e->ndesc++;
	fz_q_put(&e->q, d0, d1);
}

static void set_te(struct shadow_env *e, bool on)
{
	unsigned int before = e->failures;
	bool changed = e->te != on;

	/* A TE change re-walks everything (vtd_host_te_changed); no change, no walk. */
	fz_vtd_gcmd(&e->t, (uint32_t)VTD_GCMD_TE, on);
	if (changed)
		memset(e->dirty, 0, sizeof(e->dirty));
	e->te = on;
	oracle(e, before, changed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct shadow_env *e = calloc(1, sizeof(*e));
	struct viommu_config cfg, nc;
	struct host_iommu_caps caps;
	char err[200];
	uint32_t dev;
	bool scalable;

	FZ_CHECK(e != NULL);
	log_max_level = LOG_ERROR; /* host-call failures warn once per unit: once per input here */
	/*
	 * Writes to guest RAM: the target's table set-up, leaf and raw ops (all below FZ_SL +
	 * 0x4000), queue descriptors at FZ_QBASE, the unit's wait status at FZ_STATUS (the only
	 * address the target puts in a wait descriptor), and the same tag in every FZ_DATA page
	 * each input. The target does no DMA, so the unit sets no A/D bits. Zeroing below
	 * FZ_TOUCHED thus gives every input the same RAM as zeroing all of it.
	 */
	fz_ram_reset_below(&ram, FZ_RAM_SIZE, FZ_TOUCHED);
	scalable = fz_u8(&f) & 1;
	kd_init(&e->kd, 615);
	e->kd.nest = false;
	kd_sys(&e->kd, &e->inner);
	env = e;
	e->sys = e->inner;
	e->sys.ioctl = w_ioctl;
	FZ_CHECK(iommufd_backend_open(&e->sys, NULL, &e->be, err, sizeof(err)) == 0);
	FZ_CHECK(iommufd_backend_add_device(e->be, "/dev/vfio/devices/vfio0", &dev, err,
					    sizeof(err)) == 0);
	iommufd_backend_iommu(e->be, &e->hi);
	FZ_CHECK(e->hi.ops->get_caps(e->hi.be, dev, &caps) == 0 && !caps.nesting);
	FZ_CHECK(viommu_parse_options(scalable ? "mode=scalable" : "mode=legacy", &cfg, err,
				      sizeof(err)) == 0);
	FZ_CHECK(viommu_host_mode(&cfg, &caps, &nc, err, sizeof(err)) == 0 && nc.cm);
	fz_vtd_create(&e->t, &nc, &ram.gm);
	FZ_CHECK(viommu_attach_host_device(e->t.v, FZ_SID, &e->hi, dev) == 0);
	e->model = true;
	oracle(e, e->failures, true); /* TE off: identity */

	for (uint64_t p = 0; p < 64; p++)
		le64_store(ram.mem + FZ_DATA + 0x1000 * p, FZ_DATA + 0x1000 * p);
	le64_store(ram.mem + FZ_ROOT, FZ_CTX | 1);
	if (scalable) {
		le64_store(ram.mem + FZ_CTX + 32 * 8, FZ_PDIR | 1);
		le64_store(ram.mem + FZ_PDIR, FZ_PTBL | 1);
		le64_store(ram.mem + FZ_PTBL, FZ_SL | (2 << 6) | (2 << 2) | 1); /* SS, 4-level */
		le64_store(ram.mem + FZ_PTBL + 8, FZ_DID);
	} else {
		le64_store(ram.mem + FZ_CTX + 16 * 8, FZ_SL | 1);
		le64_store(ram.mem + FZ_CTX + 16 * 8 + 8, 2 | (FZ_DID << 8));
	}
	le64_store(ram.mem + FZ_SL, (FZ_SL + 0x1000) | 3);
	le64_store(ram.mem + FZ_SL + 0x1000, (FZ_SL + 0x2000) | 3);
	le64_store(ram.mem + FZ_SL + 0x2000, (FZ_SL + 0x3000) | 3);
	fz_vtd_write(&e->t, VTD_RTADDR_REG, FZ_ROOT | (scalable ? 1ULL << 10 : 0), 8);
	fz_vtd_gcmd(&e->t, (uint32_t)VTD_GCMD_SRTP, true);
	fz_q_enable(&e->t, &e->q, ram.mem, FZ_QBASE, scalable);
	set_te(e, true);

	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		switch (fz_u8(&f) % 8) {
		case 0: {
			unsigned int i = fz_u8(&f) % FZ_PAGES;
			uint8_t fl = fz_u8(&f);

			e->leaf[i] = (fl & 3) | (FZ_DATA + 0x1000ULL * (fz_u8(&f) % 64));
			le64_store(ram.mem + FZ_SL + 0x3000 + 8 * i, e->leaf[i]);
			e->dirty[i] = true;
			break;
		}
		case 1: {
			uint64_t g = fz_u8(&f) & 3, did = fz_u8(&f) % 5, page = fz_u8(&f) % 64;
			uint64_t am = fz_u8(&f);

			queue(e, 0x2 | (g << 4) | (did << 16),
			      (page << 12) | ((am & 0x80) ? 1 << 6 : 0) | ((am & 0x7f) % 20), scalable);
			break;
		}
		case 2: {
			uint8_t b = fz_u8(&f);
			uint64_t g = fz_u8(&f) & 3;

			queue(e, ((b & 1) ? 0x7 : 0x1) | (g << 4) | ((uint64_t)FZ_DID << 16) |
				 ((uint64_t)(FZ_SID) << 32), 0, scalable);
			break;
		}
		case 3:
			queue(e, 0x5 | (1 << 5) | (1ULL << 32), FZ_STATUS, scalable);
			break;
		case 4:
			run(e, scalable);
			break;
		case 5: {
			uint64_t off = (fz_u16(&f) & ~7u) % (FZ_SL + 0x4000 - FZ_ROOT);

			le64_store(ram.mem + FZ_ROOT + off, fz_u64(&f));
			e->model = false;
			break;
		}
		case 6:
			set_te(e, fz_u8(&f) & 1);
			break;
		default: {
			uint8_t b = fz_u8(&f);
			static const int errs[] = { 0, EINVAL, ENOMEM, EIO };

			e->kd.fail_call = e->kd.nr_sys + 1 + (b & 3);
			e->kd.fail_errno = errs[(b >> 2) & 3];
			break;
		}
		}
	}
	run(e, scalable);
	viommu_destroy(e->t.v);
	e->kd.fail_call = 0;
	iommufd_backend_close(e->be);
	FZ_CHECK(kd_live_objects(&e->kd) == 0);
	FZ_CHECK(e->kd.open_fds == 0);
	kd_fini(&e->kd);
	free(e);
	return 0;
}
