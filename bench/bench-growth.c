/* SPDX-License-Identifier: MIT */
/*
 * Host-side growth benchmark of the vIOMMU (no vCPU): how the cost of a queued-invalidation
 * drain grows with its descriptors, and how global invalidations and translation hits grow
 * with the number of cached entries. The global PASID-cache flush is timed twice: comparing
 * every PASID table, and with the write watch on a real KVM VM's dirty log (a VM with the
 * benchmark's RAM as its memory, no vCPU). Figures are printed, never asserted.
 *
 *   bench-growth [REPS [SECTION]]   SECTION: drain, inv, bound, hit (default: all)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "devices/vfio/vfio.h"
#include "devices/viommu/viommu-internal.h"
#include "devices/viommu/xlate/tests/xlate-tb.h"
#include "vmm/core/bus.h"
#include "vmm/core/gmem-watch.h"
#include "vmm/core/irq.h"
#include "vmm/kvm-dirty.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ---- QI drain: N domain-selective IOTLB descriptors plus a wait, one IQT write ---- */

#define Q_RAM (8 * MiB)
#define Q_BASE 0x100000ULL /* 512 KiB queue (QS=7): 16384 256-bit descriptors */
#define Q_QS 7
#define Q_STATUS 0x10000ULL

static void no_level(void *ctx, unsigned int gsi, bool level)
{
}

static void no_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
}

static const struct irq_chip_ops no_irq_ops = { no_level, no_msi };

static void w64(struct viommu *v, unsigned int off, uint64_t val)
{
	viommu_mmio_write(v, off, val, 8);
}

static void bench_drain(int reps)
{
	static const unsigned int sizes[] = { 1, 16, 256, 4096 };
	const uint64_t qbytes = 4096ULL << Q_QS;
	struct viommu_config cfg;
	struct irq_chip irq = { &no_irq_ops, NULL };
	struct gmem gm;
	struct bus bus;
	uint8_t *ram = aligned_alloc(4096, Q_RAM);
	struct viommu *v;
	uint64_t tail = 0;
	char err[128];

	memset(ram, 0, Q_RAM);
	bus_init(&bus);
	gmem_init_empty(&gm);
	gmem_add_region(&gm, 0, Q_RAM, ram);
	if (viommu_parse_options("mode=scalable", &cfg, err, sizeof(err)) ||
	    !(v = viommu_create(&cfg, &bus, VIOMMU_DEFAULT_BASE, &gm, &irq))) {
		printf("bench: drain: no vIOMMU (%s)\n", err);
		free(ram);
		return;
	}
	w64(v, VTD_IQT_REG, 0);
	w64(v, VTD_IQA_REG, Q_BASE | VTD_IQA_DW | Q_QS);
	viommu_mmio_write(v, VTD_GCMD_REG, VTD_GCMD_QIE, 4);
	{
		/* A register read as a vCPU's MMIO exit reaches it: bus lookup, then the unit. */
		const unsigned int n = 1000000;
		uint64_t sink = 0;
		double t0 = now_ns();

		for (unsigned int i = 0; i < n; i++)
			sink += bus_read(&bus, BUS_MMIO, VIOMMU_DEFAULT_BASE + VTD_VER_REG, 4);
		t0 = (now_ns() - t0) / n;
		printf("bench: register read (VER) through the bus: %.1f ns (VMM side of the exit)%s\n",
		       t0, sink ? "" : " (read 0?)");
	}
	printf("bench: QI drain (domain-selective IOTLB descriptors + one wait, one IQT write)\n");
	printf("bench: %-12s %12s %14s\n", "descriptors", "ns / drain", "ns / descriptor");
	for (unsigned int s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		unsigned int n = sizes[s];
		int r = reps * 4096 / (int)n > 20 ? reps * 4096 / (int)n : 20;
		double best = 1e30;

		for (int i = 0; i < r; i++) {
			double t0;

			for (unsigned int d = 0; d <= n; d++) {
				uint8_t *p = ram + Q_BASE + tail;

				memset(p, 0, 32);
				if (d < n) {
					le64_store(p, 0x2 | (2 << 4) | (1ULL << 16)); /* IOTLB, DID 1 */
				} else {
					le64_store(p, 0x5 | (1 << 5) | (0x1234ULL << 32)); /* wait, SW */
					le64_store(p + 8, Q_STATUS);
				}
				tail = (tail + 32) % qbytes;
			}
			t0 = now_ns();
			w64(v, VTD_IQT_REG, tail);
			t0 = now_ns() - t0;
			if (t0 < best)
				best = t0;
			if (le32_load(ram + Q_STATUS) != 0x1234 ||
			    (viommu_mmio_read(v, VTD_FSTS_REG, 4) & VTD_FSTS_IQE)) {
				printf("bench: drain of %u failed\n", n);
				goto out;
			}
			le32_store(ram + Q_STATUS, 0);
		}
		printf("bench: %-12u %12.0f %14.1f   (min of %d)\n", n, best, best / (n + 1), r);
	}
out:
	viommu_destroy(v);
	free(ram);
}

/* ---- Global PASID-cache invalidation with N PASIDs bound on a hostsim-backed device ---- */

#define H_RAM (16 * MiB)
#define H_ROOT 0x1000ULL
#define H_CTX 0x2000ULL
#define H_FS 0x4000ULL      /* one 4-level first-stage table shared by every PASID */
#define H_QBASE 0x10000ULL  /* 4 KiB queue, 256-bit descriptors */
#define H_STATUS 0x20000ULL
#define H_PDIR 0x100000ULL  /* 256 directory entries (PDTS 1): 16384 PASIDs */
#define H_PTBL 0x200000ULL  /* PASID table i at H_PTBL + i * 4 KiB */
#define H_SID 0x0008

struct hbench {
	int kvm_fd, vm_fd;
	struct kvm_dirty kd;
	uint8_t *ram;
	struct gmem gm;
	struct bus bus;
	struct irq_chip irq;
	struct hostsim *hs;
	struct host_iommu hi;
	struct viommu *v;
	uint64_t tail;
};

static void h_queue_pc_global(struct hbench *b)
{
	uint8_t *p = b->ram + H_QBASE + b->tail;

	memset(p, 0, 64);
	le64_store(p, 0x7 | (3 << 4));                            /* PASID cache, global */
	le64_store(p + 32, 0x5 | (1 << 5) | (0x1234ULL << 32));   /* wait, SW */
	le64_store(p + 40, H_STATUS);
	b->tail = (b->tail + 64) % 4096;
}

/* A KVM VM with the RAM as slot 0 and its dirty log as b's write watch; -errno without KVM. */
static int h_watch(struct hbench *b)
{
	struct kvm_userspace_memory_region r = { .slot = 0, .memory_size = H_RAM,
						 .userspace_addr = (uint64_t)(uintptr_t)b->ram };
	int ret;

	b->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (b->kvm_fd < 0)
		return -errno;
	b->vm_fd = ioctl(b->kvm_fd, KVM_CREATE_VM, 0);
	if (b->vm_fd < 0)
		return -errno;
	if (ioctl(b->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	ret = kvm_dirty_init(&b->kd, b->vm_fd, &b->gm);
	return ret ? ret : gmem_watch_enable(&b->gm, &kvm_dirty_log_ops, &b->kd);
}

/*
 * ns of one drain of a global PASID-cache invalidation + wait with n PASIDs bound (min),
 * with the write watch on KVM's dirty log when watch (-2: no KVM to watch with).
 */
static double bound_pc_cost(unsigned int n, int reps, bool watch, uint64_t *ret_binds,
			    uint64_t *ret_trusted)
{
	struct viommu_config cfg, nc;
	struct host_iommu_caps caps;
	struct viommu_host_stats st;
	struct hbench b = { 0 };
	double best = 1e30;
	uint32_t dev;
	char msg[200];

	b.kvm_fd = b.vm_fd = -1;
	b.ram = aligned_alloc(4096, H_RAM);
	memset(b.ram, 0, H_RAM);
	gmem_init_empty(&b.gm);
	gmem_add_region(&b.gm, 0, H_RAM, b.ram);
	if (watch && h_watch(&b)) {
		best = -2;
		goto out;
	}
	bus_init(&b.bus);
	b.irq = (struct irq_chip){ &no_irq_ops, NULL };
	b.hs = hostsim_create(&b.gm, NULL);
	if (!b.hs)
		goto out;
	hostsim_iommu(b.hs, &b.hi);
	if (hostsim_add_device(b.hs, false, &dev) || b.hi.ops->get_caps(b.hi.be, dev, &caps) ||
	    viommu_parse_options("host-mode=nested", &cfg, msg, sizeof(msg)) ||
	    viommu_host_mode(&cfg, &caps, &nc, msg, sizeof(msg)) ||
	    !(b.v = viommu_create(&nc, &b.bus, VIOMMU_DEFAULT_BASE, &b.gm, &b.irq)) ||
	    viommu_attach_host_device(b.v, H_SID, &b.hi, dev))
		goto out;
	/* Root -> context (devfn 8: P, PASIDE, PDTS 1) -> directory -> PASID tables. */
	le64_store(b.ram + H_ROOT, H_CTX | 1);
	le64_store(b.ram + H_CTX + 32 * 8, H_PDIR | (1 << 9) | (1 << 3) | 1);
	le64_store(b.ram + H_FS, (H_FS + 0x1000) | 7);
	le64_store(b.ram + H_FS + 0x1000, (H_FS + 0x2000) | 7);
	le64_store(b.ram + H_FS + 0x2000, (H_FS + 0x3000) | 7);
	for (unsigned int p = 1; p <= n; p++) {
		uint64_t tbl = H_PTBL + 0x1000ULL * (p >> 6), pe = tbl + 64 * (p & 63);

		le64_store(b.ram + H_PDIR + 8 * (p >> 6), tbl | 1);
		le64_store(b.ram + pe, 1 | (1ULL << 6));   /* P, PGTT first-stage */
		le64_store(b.ram + pe + 8, 1);              /* DID 1 */
		le64_store(b.ram + pe + 16, H_FS);          /* FLPTPTR, 4-level */
	}
	w64(b.v, VTD_RTADDR_REG, H_ROOT | (1ULL << 10));
	viommu_mmio_write(b.v, VTD_GCMD_REG, VTD_GCMD_SRTP, 4);
	w64(b.v, VTD_IQT_REG, 0);
	w64(b.v, VTD_IQA_REG, H_QBASE | VTD_IQA_DW);
	viommu_mmio_write(b.v, VTD_GCMD_REG, VTD_GCMD_QIE, 4);
	viommu_mmio_write(b.v, VTD_GCMD_REG, VTD_GCMD_QIE | VTD_GCMD_TE, 4);
	/* The first global invalidation binds every PASID; the timed ones find them unchanged. */
	for (int i = 0; i <= reps; i++) {
		double t0;

		h_queue_pc_global(&b);
		t0 = now_ns();
		w64(b.v, VTD_IQT_REG, b.tail);
		t0 = now_ns() - t0;
		if (le32_load(b.ram + H_STATUS) != 0x1234) {
			best = -1;
			break;
		}
		le32_store(b.ram + H_STATUS, 0);
		if (i && t0 < best)
			best = t0;
	}
	viommu_get_host_stats(b.v, &st);
	*ret_binds = st.binds;
	*ret_trusted = st.tables_trusted;
out:
	if (b.v)
		viommu_destroy(b.v);
	if (b.hs)
		hostsim_destroy(b.hs);
	gmem_watch_free(&b.gm);
	kvm_dirty_fini(&b.kd);
	if (b.vm_fd >= 0)
		close(b.vm_fd);
	if (b.kvm_fd >= 0)
		close(b.kvm_fd);
	free(b.ram);
	return best < 1e30 ? best : best == -2 ? -2 : -1;
}

/* ---- Global invalidations and hits against N cached entries ---- */

enum cache_kind { C_IOTLB, C_CONTEXT, C_PASID };

struct setup {
	struct tb t;
	struct vtd_xlate *x;
	uint64_t rta, dir, slpt;
	unsigned int n;
};

#define IOVA0 0x40000000ULL
#define SM_SID 0x0100

static int fill(struct setup *s, enum cache_kind k)
{
	struct dma_xlate r;
	struct vtd_fault f;

	for (unsigned int i = 0; i < s->n; i++) {
		struct dma_req req = { .access = DMA_ACC_READ };
		uint64_t iova = IOVA0;

		switch (k) {
		case C_IOTLB:
			req.sid = SM_SID;
			iova = IOVA0 + (uint64_t)i * 4096;
			break;
		case C_CONTEXT:
			req.sid = (uint16_t)i;
			break;
		case C_PASID:
			req.sid = SM_SID;
			req.has_pasid = true;
			req.pasid = i + 1;
			break;
		}
		if (vtd_xlate_translate(s->x, &req, iova, &r, &f)) {
			printf("bench: fill %d: entry %u faulted (reason 0x%x)\n", k, i, f.reason);
			return -EIO;
		}
	}
	return 0;
}

static int build(struct setup *s, enum cache_kind k, unsigned int n)
{
	struct vtd_caps c = tb_caps();
	struct vtd_cache_sizes sz = { .context = 65536, .pasid = 131072, .iotlb = 131072,
				      .pwc = 4096 };

	memset(s, 0, sizeof(*s));
	s->n = n;
	tb_init(&s->t);
	s->x = vtd_xlate_create(&s->t.gm, &c, &sz);
	if (!s->x)
		return -ENOMEM;
	s->rta = tb_page(&s->t);
	if (k == C_PASID) {
		/* Scalable mode; PDTS=4: 2048 directory entries (four pages), 131072 PASIDs. */
		s->dir = tb_page(&s->t);
		for (int i = 0; i < 3; i++)
			tb_page(&s->t);
		vtd_xlate_set_root(s->x, s->rta | (1 << 10));
		tb_sm_ctx(&s->t, s->rta, SM_SID, s->dir | (4ULL << 9) | BIT_ULL(3) | 1, 0);
		for (unsigned int p = 1; p <= n; p++) {
			/* Pass-through PASID entries (PGTT=4), DID 1. */
			uint64_t pe[8] = { 1 | (2 << 2) | (4ULL << 6), 1 };

			tb_pasid(&s->t, s->dir, p, pe);
		}
		return 0;
	}
	vtd_xlate_set_root(s->x, s->rta);
	if (k == C_CONTEXT) {
		/* n devices, legacy pass-through (TT=2), DID 1. */
		for (unsigned int sid = 0; sid < n; sid++)
			tb_legacy_ctx(&s->t, s->rta, (uint16_t)sid, tb_legacy_lo(0, 2),
				      tb_legacy_hi(1, 2));
		return 0;
	}
	/* One device, n 4 KiB pages of a 4-level second-stage table, DID 1. */
	s->slpt = tb_page(&s->t);
	tb_legacy_ctx(&s->t, s->rta, SM_SID, tb_legacy_lo(s->slpt, 0), tb_legacy_hi(1, 2));
	for (unsigned int i = 0; i < n; i++)
		tb_map(&s->t, s->slpt, 4, IOVA0 + (uint64_t)i * 4096, 0x200000, 1, SS_RW, SS_RW, 0);
	return 0;
}

static void teardown(struct setup *s)
{
	vtd_xlate_destroy(s->x);
	tb_fini(&s->t);
}

/*
 * ns of one invalidation of cache k with n entries cached (min over reps refills): global, or
 * (sel) a scoped one that names nothing cached: domain-selective of another DID (IOTLB,
 * context), PASID-selective of an uncached PASID (PASID cache).
 */
static double inv_cost(enum cache_kind k, bool sel, unsigned int n, int reps,
		       unsigned int *ret_cached)
{
	struct setup s;
	double best = 1e30;

	if (build(&s, k, n))
		return -1;
	for (int i = 0; i < reps; i++) {
		double t0;

		/* Translations cached in the IOTLB would not reload the context / PASID entries. */
		if (k != C_IOTLB)
			vtd_xlate_inv_iotlb(s.x, VTD_INV_GLOBAL, 0, 0, 0, false);
		if (fill(&s, k)) {
			teardown(&s);
			return -1;
		}
		*ret_cached = k == C_IOTLB ? s.x->iotlb.count
			      : k == C_CONTEXT ? s.x->ctx.count : s.x->pasid.count;
		t0 = now_ns();
		if (k == C_IOTLB)
			vtd_xlate_inv_iotlb(s.x, sel ? VTD_INV_DOMAIN : VTD_INV_GLOBAL, 7, 0, 0, false);
		else if (k == C_CONTEXT)
			vtd_xlate_inv_context(s.x, sel ? VTD_INV_DOMAIN : VTD_INV_GLOBAL, 7, 0, 0);
		else
			vtd_xlate_inv_pasid_cache(s.x, sel ? VTD_INV_PASID : VTD_INV_GLOBAL, 1, n + 5);
		t0 = now_ns() - t0;
		if (t0 < best)
			best = t0;
	}
	teardown(&s);
	return best;
}

/*
 * ns per IOTLB hit with n pages cached, hits spread over all of them: in page order
 * (stride 1) or scattered (a stride co-prime with n, every hit a host cache miss at 100k).
 * The best of 20 blocks of 200k lookups, so that another process's time slice does not count.
 */
static double hit_cost(unsigned int n, uint64_t stride, unsigned int *ret_cached)
{
	const unsigned int lookups = 200000, blocks = 20;
	struct dma_req req = { .sid = SM_SID, .access = DMA_ACC_READ };
	struct dma_xlate r;
	struct vtd_fault f;
	uint64_t sink = 0, i = 0;
	double best = 1e30;
	struct setup s;

	if (build(&s, C_IOTLB, n) || fill(&s, C_IOTLB))
		return -1;
	*ret_cached = s.x->iotlb.count;
	for (unsigned int b = 0; b < blocks; b++) {
		double t0 = now_ns();

		for (unsigned int j = 0; j < lookups; j++, i++) {
			uint64_t page = (i * stride) % n;

			vtd_xlate_translate(s.x, &req, IOVA0 + page * 4096, &r, &f);
			sink += r.gpa;
		}
		t0 = (now_ns() - t0) / lookups;
		if (t0 < best)
			best = t0;
	}
	if (s.x->iotlb.count != *ret_cached || !sink)
		best = -1; /* a hit turned into a miss: the figure would lie */
	teardown(&s);
	return best;
}

int main(int argc, char **argv)
{
	static const unsigned int counts[] = { 10, 1000, 100000 };
	static const char *const names[] = { "IOTLB (+PWC)", "context", "PASID" };
	static const char *const sel_names[] = { "IOTLB domain", "context domain", "PASID-selective" };
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	const char *only = argc > 2 ? argv[2] : NULL;

	if (reps < 1)
		reps = 1;
	if (only && strcmp(only, "drain") && strcmp(only, "inv") && strcmp(only, "bound") &&
	    strcmp(only, "hit")) {
		fprintf(stderr, "bench-growth: unknown section '%s' (drain, inv, bound, hit)\n", only);
		return 2;
	}
	if (!only || !strcmp(only, "drain"))
		bench_drain(reps);
	if (only && strcmp(only, "inv"))
		goto bound;
	printf("bench: invalidation, ns (min of %d), against cached entries (scoped ones name"
	       " nothing cached)\n", reps);
	printf("bench: %-16s %10s %12s %10s %12s %10s %12s\n", "global / scoped", "cached", "ns", "cached",
	       "ns", "cached", "ns");
	for (int r = 0; r < 6; r++) {
		int k = r % 3;
		bool sel = r >= 3;
		char line[256];
		int len = snprintf(line, sizeof(line), "bench: %-16s", sel ? sel_names[k] : names[k]);

		for (unsigned int c = 0; c < 3; c++) {
			/* Context entries are per source-id: at most 65536. */
			unsigned int n = k == C_CONTEXT && counts[c] > 65536 ? 65536 : counts[c], got = 0;
			double ns = inv_cost((enum cache_kind)k, sel, n, reps, &got);

			len += snprintf(line + len, sizeof(line) - (size_t)len, " %10u %12.0f", got, ns);
		}
		printf("%s\n", line);
	}
bound:
	if (only && strcmp(only, "bound"))
		goto hit;
	/* A flush is microseconds: 40 times the rounds, so that the minimum is a steady one. */
	printf("bench: global PASID-cache invalidation + wait, hostsim-backed device, PASIDs bound"
	       " (first-stage, unchanged since bound), ns (min of %d)\n", reps * 40);
	printf("bench: %-30s %12s %12s   %s\n", "", "compare", "KVM watch",
	       "(x one PASID; tables skipped unread)");
	{
		double one[2] = { 0, 0 };

		for (unsigned int c = 0; c < 3; c++) {
			static const unsigned int bound[] = { 1, 1000, 10000 };
			uint64_t binds = 0, binds_w = 0, trusted = 0, trusted_w = 0;
			double ns = bound_pc_cost(bound[c], reps * 40, false, &binds, &trusted);
			double nw = bound_pc_cost(bound[c], reps * 40, true, &binds_w, &trusted_w);

			if (c == 0) {
				one[0] = ns;
				one[1] = nw;
			}
			if (nw == -2) {
				printf("bench: %6u bound (host binds %6lu) %12.0f ns (%.1fx)   no KVM dirty log"
				       " here: watch not measured\n", bound[c], (unsigned long)binds, ns,
				       one[0] > 0 ? ns / one[0] : 0);
				continue;
			}
			printf("bench: %6u bound (host binds %6lu) %12.0f %12.0f ns  (%.1fx, %.1fx; %lu)\n",
			       bound[c], (unsigned long)binds, ns, nw, one[0] > 0 ? ns / one[0] : 0,
			       one[1] > 0 ? nw / one[1] : 0, (unsigned long)trusted_w);
		}
	}
hit:
	if (only && strcmp(only, "hit"))
		return 0;
	printf("bench: IOTLB hit, ns per translation, against cached pages (best of %d x 20 blocks)\n",
	       reps);
	for (unsigned int c = 0; c < 3; c++) {
		unsigned int got = 0, got2 = 0;
		double seq = 1e30, scat = 1e30;

		for (int i = 0; i < reps; i++) {
			double a = hit_cost(counts[c], 1, &got), b = hit_cost(counts[c], 7919, &got2);

			seq = a < seq ? a : seq;
			scat = b < scat ? b : scat;
		}

		printf("bench: %10u cached %8.1f ns in page order, %8.1f ns scattered\n", got, seq, scat);
	}
	return 0;
}
