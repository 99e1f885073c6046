/* SPDX-License-Identifier: MIT */
/* Unit tests for pasid-dma against a fake IOMMU: ring, ops, PASID/ATS/PRI gating, device-TLB. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "devices/pasid-dma/pasid-dma-internal.h"
#include "vmm/core/gmem.h"

#define ECAM 0xb0000000ULL
#define MMIO 0xc0000000ULL
#define RAM_SIZE (4 * MiB)
#define SLOT 3
#define DEV_ECAM (ECAM + (SLOT << 15))
#define RING 0x10000ULL
#define CRS 0x20000ULL /* completion records, one 32-byte slot per ring index */
#define SID (SLOT << 3)

/* ---- fake IOMMU: non-PASID requests are identity, PASID requests use map[] ---- */
struct fake_map {
	bool used;
	uint32_t pasid;
	uint64_t va, gpa;
	unsigned int perm;
};

struct fake_iommu {
	struct fake_map map[32];
	unsigned int translates, ats_xlates, nr_pr;
	struct dma_page_req pr[128];
	int pr_ret;
	const struct dma_ats_client *client;
	void *opaque;
	uint16_t sid;
};

static struct fake_map *fmap(struct fake_iommu *f, bool pp, uint32_t pasid, uint64_t va)
{
	if (!pp)
		return NULL;
	for (unsigned int i = 0; i < 32; i++) {
		if (f->map[i].used && f->map[i].pasid == pasid && f->map[i].va == (va & ~0xfffULL))
			return &f->map[i];
	}
	return NULL;
}

static void fmap_set(struct fake_iommu *f, uint32_t pasid, uint64_t va, uint64_t gpa,
		     unsigned int perm)
{
	struct fake_map *m = fmap(f, true, pasid, va);

	for (unsigned int i = 0; !m && i < 32; i++) {
		if (!f->map[i].used)
			m = &f->map[i];
	}
	ck_assert_ptr_nonnull(m);
	*m = (struct fake_map){ true, pasid, va, gpa, perm };
}

static int f_translate(void *iommu, const struct dma_req *req, uint64_t iova, struct dma_xlate *ret)
{
	struct fake_iommu *f = iommu;
	struct fake_map *m = fmap(f, req->has_pasid, req->pasid, iova);
	unsigned int need = req->access & (DMA_ACC_READ | DMA_ACC_WRITE);

	f->translates++;
	if (req->has_pasid && (!m || (m->perm & need) != need))
		return -EACCES;
	ret->gpa = m ? m->gpa | (iova & 0xfff) : iova;
	ret->len = 0x1000 - (iova & 0xfff);
	return 0;
}

static int f_ats(void *iommu, const struct dma_req *req, uint64_t iova, struct dma_ats_xlate *ret)
{
	struct fake_iommu *f = iommu;
	struct fake_map *m = fmap(f, req->has_pasid, req->pasid, iova);
	unsigned int need = req->access & (DMA_ACC_READ | DMA_ACC_WRITE);

	f->ats_xlates++;
	*ret = (struct dma_ats_xlate){ .gpa = iova & ~0xfffULL, .size = 4096, .perm = req->access };
	if (req->has_pasid) {
		if (!m || (m->perm & need) != need)
			ret->perm = 0;
		else
			ret->gpa = m->gpa;
	}
	return 0;
}

static int f_pr(void *iommu, const struct dma_page_req *pr)
{
	struct fake_iommu *f = iommu;

	if (f->nr_pr < 128)
		f->pr[f->nr_pr++] = *pr;
	return f->pr_ret;
}

static int f_reg(void *iommu, uint16_t sid, const struct dma_ats_client *c, void *opaque)
{
	struct fake_iommu *f = iommu;

	f->client = c;
	f->opaque = opaque;
	f->sid = sid;
	return 0;
}

static const struct dma_iommu_ops f_ops = {
	.translate = f_translate, .ats_translate = f_ats, .page_request = f_pr, .ats_register = f_reg,
};

/* ---- environment ---- */
static unsigned int msis;
static void f_level(void *ctx, unsigned int gsi, bool level) {}
static void f_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid) { msis++; }
static const struct irq_chip_ops f_irq_ops = { f_level, f_msi };

struct env {
	struct bus bus;
	struct irq_chip chip;
	struct gmem gm;
	uint8_t *ram;
	struct dma_as as;
	struct fake_iommu f;
	struct pci_host *host;
	struct pasid_dma *d;
	unsigned int pasid_off, ats_off, pri_off;
	unsigned int n; /* next ring index to fill */
};

static void cfg_w(struct env *e, unsigned int reg, uint32_t val, unsigned int size)
{
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + reg, val, size);
}

static uint32_t cfg_r(struct env *e, unsigned int reg, unsigned int size)
{
	return (uint32_t)bus_read(&e->bus, BUS_MMIO, DEV_ECAM + reg, size);
}

static uint32_t rd(struct env *e, unsigned int reg)
{
	return (uint32_t)bus_read(&e->bus, BUS_MMIO, MMIO + reg, 4);
}

static void wr(struct env *e, unsigned int reg, uint32_t val)
{
	bus_write(&e->bus, BUS_MMIO, MMIO + reg, val, 4);
}

static struct env *env_new(const char *opts, bool iommu)
{
	struct env *e = calloc(1, sizeof(*e));
	struct pasid_dma_config cfg;
	char err[128];

	ck_assert_ptr_nonnull(e);
	ck_assert_msg(pasid_dma_parse_options(opts, &cfg, err, sizeof(err)) == 0, "%s", err);
	bus_init(&e->bus);
	e->chip = (struct irq_chip){ &f_irq_ops, NULL };
	e->ram = calloc(1, RAM_SIZE);
	gmem_init_empty(&e->gm);
	ck_assert_int_eq(gmem_add_region(&e->gm, 0, RAM_SIZE, e->ram), 0);
	e->as.gmem = &e->gm;
	if (iommu) {
		e->as.ops = &f_ops;
		e->as.iommu = &e->f;
	}
	e->host = pci_host_create(&e->bus, &e->chip, NULL, ECAM, 256 * MiB, MMIO, 0x3ec00000, 0xc000,
				  0x4000);
	e->d = pasid_dma_create(e->host, SLOT, &e->as, &cfg);
	ck_assert_ptr_nonnull(e->d);
	e->pasid_off = pci_find_ext_cap(pasid_dma_pci_dev(e->d), PCI_EXT_CAP_ID_PASID);
	e->ats_off = pci_find_ext_cap(pasid_dma_pci_dev(e->d), PCI_EXT_CAP_ID_ATS);
	e->pri_off = pci_find_ext_cap(pasid_dma_pci_dev(e->d), PCI_EXT_CAP_ID_PRI);
	cfg_w(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	wr(e, PDMA_REG_RING_LO, (uint32_t)RING);
	wr(e, PDMA_REG_RING_SIZE, 8);
	wr(e, PDMA_REG_CTRL, PDMA_CTRL_ENABLE | PDMA_CTRL_IRQ);
	return e;
}

static void env_free(struct env *e)
{
	pasid_dma_destroy(e->d);
	pci_host_destroy(e->host);
	free(e->ram);
	free(e);
}

#define PASID(p) (PDMA_D0_PASID_EN | ((uint64_t)(p) << 32))

/* Queues one descriptor (completion record slot = ring index) and rings the doorbell. */
static unsigned int submit(struct env *e, uint64_t q0, uint64_t src, uint64_t dst, uint64_t len,
			   uint64_t pat, uint64_t cr)
{
	unsigned int i = e->n;
	uint64_t q[8] = { q0, src, dst, len, pat, cr ? cr : CRS + 32 * i, 0, 0 };

	for (unsigned int k = 0; k < 8; k++)
		le64_store(e->ram + RING + 64 * i + 8 * k, q[k]);
	memset(e->ram + CRS + 32 * i, 0, 32);
	e->n = (i + 1) % 8;
	wr(e, PDMA_REG_TAIL, e->n);
	return i;
}

static uint8_t st(struct env *e, unsigned int i)
{
	return e->ram[CRS + 32 * i];
}

static uint64_t res(struct env *e, unsigned int i, unsigned int qw)
{
	return le64_load(e->ram + CRS + 32 * i + 8 * qw);
}

START_TEST(test_identity_caps)
{
	struct env *e = env_new("pasid-bits=8,priv=off", false);
	struct pasid_dma_config c;
	char err[128];

	ck_assert_uint_eq(cfg_r(e, 0, 4), (PDMA_DEVICE_ID << 16) | PDMA_VENDOR_ID);
	ck_assert_uint_eq(rd(e, PDMA_REG_ID), PDMA_ID_VALUE);
	ck_assert_uint_eq(rd(e, PDMA_REG_CAPS), 7 | (8 << 8));
	ck_assert_uint_ne(e->pasid_off, 0);
	ck_assert_uint_ne(e->ats_off, 0);
	ck_assert_uint_ne(e->pri_off, 0);
	/* PASID capability: width 8, exec supported, priv not. */
	ck_assert_uint_eq(cfg_r(e, e->pasid_off + PCI_PASID_CAP, 2), (8 << 8) | PCI_PASID_CAP_EXEC);
	ck_assert(pci_find_cap(pasid_dma_pci_dev(e->d), PCI_CAP_ID_MSIX));
	/* Options. */
	ck_assert_int_eq(pasid_dma_parse_options("ats=off", &c, err, sizeof(err)), 0);
	ck_assert(!c.ats && !c.pri);
	ck_assert_int_eq(pasid_dma_parse_options("ats=off,pri=on", &c, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(pasid_dma_parse_options("pasid-bits=21", &c, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(pasid_dma_parse_options("foo=1", &c, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(pasid_dma_parse_options("pasid-bits=0,pri=off", &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.pasid_bits, 0);
	env_free(e);
}
END_TEST

static void fake_host_counters(void *opaque, struct pasid_dma_host_counters *ret)
{
	*ret = (struct pasid_dma_host_counters){ .binds = 3, .replaces = 4, .detaches = 5,
						 .inv_calls = 0x100000006ULL, .inv_ranges = 7,
						 .faults = 8, .page_reqs = 9, .page_resps = 10,
						 .iotlb_hits = 11, .iotlb_misses = *(unsigned int *)opaque };
}

/* backend=hostsim: option rules, ATS/PRI capabilities only with pri=on, HOST_* test registers. */
START_TEST(test_backend_hostsim)
{
	struct pasid_dma_config c;
	struct env *e;
	unsigned int misses = 12;
	char err[160];

	ck_assert_int_eq(pasid_dma_parse_options("backend=hostsim", &c, err, sizeof(err)), 0);
	ck_assert(c.backend == PDMA_BACKEND_HOSTSIM && !c.ats && !c.pri && !c.host_prq);
	ck_assert_int_eq(pasid_dma_parse_options("backend=hostsim,pri=on", &c, err, sizeof(err)), 0);
	ck_assert(c.ats && c.pri && c.host_prq);
	ck_assert_int_eq(pasid_dma_parse_options("ats=on,backend=hostsim", &c, err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "ats=off"));
	ck_assert_int_eq(pasid_dma_parse_options("backend=qemu", &c, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(pasid_dma_parse_options("backend=emulated", &c, err, sizeof(err)), 0);
	ck_assert(c.backend == PDMA_BACKEND_EMULATED && c.ats && c.pri && !c.host_prq);

	e = env_new("backend=hostsim", true);
	ck_assert_uint_eq(e->ats_off, 0);
	ck_assert_uint_eq(e->pri_off, 0);
	ck_assert_uint_ne(e->pasid_off, 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_CAPS), 1 | (20 << 8));
	env_free(e);

	/* pri=on: ATS and PRI capabilities (what Linux checks before SVA), PRI Stopped at reset. */
	e = env_new("backend=hostsim,pri=on", true);
	ck_assert_uint_ne(e->ats_off, 0);
	ck_assert_uint_ne(e->pri_off, 0);
	ck_assert_uint_ne(e->pasid_off, 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_CAPS), 7 | (20 << 8));
	ck_assert_uint_eq(pci_config_get(&e->d->pci, e->pri_off + PCI_PRI_STATUS, 2) &
			  PCI_PRI_STATUS_STOPPED, PCI_PRI_STATUS_STOPPED);
	ck_assert_uint_eq(rd(e, PDMA_REG_HOST_BACKEND), 1);
	ck_assert_uint_eq(rd(e, PDMA_REG_HOST_BINDS), 0); /* nothing connected yet */
	pasid_dma_set_host_counters(e->d, fake_host_counters, &misses);
	for (unsigned int i = 0; i < 10; i++)
		ck_assert_uint_eq(rd(e, PDMA_REG_HOST_BINDS + 4 * i), 3 + i);
	misses = 99;
	ck_assert_uint_eq(rd(e, PDMA_REG_HOST_IOTLB_MISSES), 99);
	ck_assert_uint_eq(rd(e, PDMA_REG_HOST_IOTLB_MISSES + 4), 0xffffffffu);
	env_free(e);

	e = env_new("", true);
	ck_assert_uint_eq(rd(e, PDMA_REG_HOST_BACKEND), 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_HOST_INV_CALLS), 0);
	env_free(e);
}
END_TEST

START_TEST(test_ops)
{
	struct env *e = env_new("", false);
	unsigned int i;

	for (unsigned int k = 0; k < 6000; k++)
		e->ram[0x100000 + k] = (uint8_t)(k * 7 + 3);
	i = submit(e, PDMA_OP_COPY | PDMA_D0_IRQ, 0x100000, 0x200000, 6000, 0, 0);
	ck_assert_uint_eq(st(e, i), PDMA_ST_OK);
	ck_assert_int_eq(memcmp(e->ram + 0x100000, e->ram + 0x200000, 6000), 0);
	ck_assert_uint_eq(le32_load(e->ram + CRS + 32 * i + 4), 6000);
	ck_assert_uint_eq(rd(e, PDMA_REG_STATUS) & PDMA_STS_IRQ, PDMA_STS_IRQ);
	wr(e, PDMA_REG_STATUS, PDMA_STS_IRQ);
	ck_assert_uint_eq(rd(e, PDMA_REG_STATUS), 0);

	i = submit(e, PDMA_OP_FILL, 0, 0x300001, 13, 0x0807060504030201ULL, 0);
	ck_assert_uint_eq(st(e, i), PDMA_ST_OK);
	ck_assert_uint_eq(e->ram[0x300001], 1);
	ck_assert_uint_eq(e->ram[0x300008], 8);
	ck_assert_uint_eq(e->ram[0x300009], 1);
	ck_assert_uint_eq(e->ram[0x30000e], 0);

	i = submit(e, PDMA_OP_COMPARE, 0x100000, 0x200000, 6000, 0, 0);
	ck_assert_uint_eq(st(e, i), PDMA_ST_OK);
	ck_assert_uint_eq(res(e, i, 1), 0);
	e->ram[0x200000 + 4500] ^= 1;
	i = submit(e, PDMA_OP_COMPARE, 0x100000, 0x200000, 6000, 0, 0);
	ck_assert_uint_eq(res(e, i, 1), 1);
	ck_assert_uint_eq(res(e, i, 2), 4500);

	i = submit(e, PDMA_OP_CHECKSUM, 0x100000, 0, 6000, 0, 0);
	ck_assert_uint_eq(st(e, i), PDMA_ST_OK);
	ck_assert_uint_eq(res(e, i, 1), pdma_fnv1a(0xcbf29ce484222325ULL, e->ram + 0x100000, 6000));

	i = submit(e, 0x77, 0, 0, 0, 0, 0); /* unknown opcode */
	ck_assert_uint_eq(st(e, i), PDMA_ST_BAD_DESC);
	i = submit(e, PDMA_OP_COPY, 0x100000, 0x200000, PDMA_MAX_LEN + 1, 0, 0);
	ck_assert_uint_eq(st(e, i), PDMA_ST_BAD_DESC);
	i = submit(e, PDMA_OP_NOP | (1ULL << 20), 0, 0, 0, 0, 0); /* reserved bit */
	ck_assert_uint_eq(st(e, i), PDMA_ST_BAD_DESC);
	/* Copy out of RAM: a fault completion, not a crash. */
	i = submit(e, PDMA_OP_COPY, RAM_SIZE - 4096, 0x200000, 8192, 0, 0);
	ck_assert_uint_eq(st(e, i), PDMA_ST_FAULT);
	ck_assert_uint_eq(res(e, i, 2), RAM_SIZE);
	ck_assert_uint_eq(rd(e, PDMA_REG_COMPLETED), 9);
	ck_assert_uint_eq(rd(e, PDMA_REG_HEAD), 9 % 8);
	env_free(e);
}
END_TEST

START_TEST(test_ring_gating)
{
	struct env *e = env_new("", false);
	unsigned int i;

	/* Bus mastering off: the doorbell runs nothing until it is turned on. */
	cfg_w(e, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	i = submit(e, PDMA_OP_NOP, 0, 0, 0, 0, 0);
	ck_assert_uint_eq(st(e, i), 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_HEAD), 0);
	cfg_w(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert_uint_eq(st(e, i), PDMA_ST_OK);
	/* Ring registers are locked while enabled; bad sizes are ignored. */
	wr(e, PDMA_REG_RING_SIZE, 4);
	ck_assert_uint_eq(rd(e, PDMA_REG_RING_SIZE), 8);
	wr(e, PDMA_REG_CTRL, 0);
	wr(e, PDMA_REG_RING_SIZE, 6);
	ck_assert_uint_eq(rd(e, PDMA_REG_RING_SIZE), 8);
	/* A ring outside RAM: RING_ERR, nothing runs. */
	wr(e, PDMA_REG_RING_LO, 0xf0000000u);
	wr(e, PDMA_REG_RING_SIZE, 8);
	wr(e, PDMA_REG_CTRL, PDMA_CTRL_ENABLE);
	wr(e, PDMA_REG_TAIL, 1);
	ck_assert_uint_eq(rd(e, PDMA_REG_STATUS) & PDMA_STS_RING_ERR, PDMA_STS_RING_ERR);
	wr(e, PDMA_REG_CTRL, PDMA_CTRL_RESET);
	ck_assert_uint_eq(rd(e, PDMA_REG_STATUS), 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_RING_SIZE), 0);
	env_free(e);
}
END_TEST

START_TEST(test_pasid_gating)
{
	struct env *e = env_new("pasid-bits=4,priv=on,exec=off", true);
	unsigned int i;

	fmap_set(&e->f, 3, 0x7000, 0x100000, DMA_ACC_READ | DMA_ACC_WRITE);
	fmap_set(&e->f, 3, 0x8000, 0x101000, DMA_ACC_READ | DMA_ACC_WRITE);
	i = submit(e, PDMA_OP_FILL | PASID(3), 0, 0x7000, 64, 0x11, 0x2000);
	ck_assert_uint_eq(e->ram[CRS + 32 * i], 0);
	/* PASID not enabled: status written without PASID (IOVA 0x2000 = identity). */
	ck_assert_uint_eq(e->ram[0x2000], PDMA_ST_BAD_PASID);
	ck_assert_uint_eq(e->ram[0x100000], 0);
	cfg_w(e, e->pasid_off + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE, 2);
	i = submit(e, PDMA_OP_FILL | PASID(3), 0, 0x7000, 64, 0x11, 0x8000);
	ck_assert_uint_eq(e->ram[0x101000], PDMA_ST_OK);
	ck_assert_uint_eq(e->ram[0x100000], 0x11);
	i = submit(e, PDMA_OP_NOP | PASID(16), 0, 0, 0, 0, 0x3000); /* beyond 4 bits */
	ck_assert_uint_eq(e->ram[0x3000], PDMA_ST_BAD_PASID);
	i = submit(e, PDMA_OP_NOP | PASID(3) | PDMA_D0_PRIV, 0, 0, 0, 0, 0x3000);
	ck_assert_uint_eq(e->ram[0x3000], PDMA_ST_BAD_PASID); /* priv not enabled */
	cfg_w(e, e->pasid_off + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_PRIV, 2);
	i = submit(e, PDMA_OP_NOP | PASID(3) | PDMA_D0_PRIV, 0, 0, 0, 0, 0x8000);
	ck_assert_uint_eq(e->ram[0x101000], PDMA_ST_OK);
	i = submit(e, PDMA_OP_NOP | PASID(3) | PDMA_D0_EXEC, 0, 0, 0, 0, 0x3000);
	ck_assert_uint_eq(e->ram[0x3000], PDMA_ST_BAD_PASID); /* exec not supported */
	/* ATS is off: every page went through translate, none through ATS. */
	ck_assert_uint_eq(e->f.ats_xlates, 0);
	ck_assert_uint_gt(e->f.translates, 0);
	env_free(e);
}
END_TEST

START_TEST(test_devtlb)
{
	struct env *e = env_new("", true);
	struct pasid_dma_stats s;
	unsigned int t0;

	ck_assert_ptr_nonnull(e->f.client);
	ck_assert_uint_eq(e->f.sid, SID);
	cfg_w(e, e->pasid_off + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE, 2);
	cfg_w(e, e->ats_off + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE, 2);
	fmap_set(&e->f, 1, 0x40000, 0x100000, DMA_ACC_READ | DMA_ACC_WRITE);
	fmap_set(&e->f, 1, 0x41000, 0x101000, DMA_ACC_READ | DMA_ACC_WRITE);
	fmap_set(&e->f, 2, 0x40000, 0x200000, DMA_ACC_READ | DMA_ACC_WRITE);
	fmap_set(&e->f, 1, 0x50000, 0x150000, DMA_ACC_READ | DMA_ACC_WRITE); /* CR page */
	fmap_set(&e->f, 2, 0x50000, 0x250000, DMA_ACC_READ | DMA_ACC_WRITE);
	submit(e, PDMA_OP_FILL | PASID(1), 0, 0x40000, 8192, 0xaaaaaaaaaaaaaaaaULL, 0x50000);
	ck_assert_uint_eq(e->ram[0x150000], PDMA_ST_OK);
	ck_assert_uint_eq(e->ram[0x101fff], 0xaa);
	t0 = e->f.ats_xlates;
	ck_assert_uint_eq(t0, 3);
	/* Second run: all device-TLB hits, no new translation requests. */
	submit(e, PDMA_OP_FILL | PASID(1), 0, 0x40000, 8192, 0xbb, 0x50000);
	ck_assert_uint_eq(e->f.ats_xlates, t0);
	ck_assert_uint_eq(e->ram[0x100000], 0xbb);
	/* The guest remaps VA 0x40000 of PASID 1 but forgets the device-TLB: stale page used. */
	fmap_set(&e->f, 1, 0x40000, 0x180000, DMA_ACC_READ | DMA_ACC_WRITE);
	submit(e, PDMA_OP_FILL | PASID(1), 0, 0x40000, 16, 0xcc, 0x50000);
	ck_assert_uint_eq(e->ram[0x100000], 0xcc);
	ck_assert_uint_eq(e->ram[0x180000], 0);
	/* PASID 2 entries are separate. */
	submit(e, PDMA_OP_FILL | PASID(2), 0, 0x40000, 16, 0xdd, 0x50000);
	ck_assert_uint_eq(e->ram[0x200000], 0xdd);
	/* Invalidating PASID 2 keeps PASID 1's stale entry... */
	e->f.client->devtlb_invalidate(e->f.opaque, true, 2, false, 0x40000, 4096);
	submit(e, PDMA_OP_FILL | PASID(1), 0, 0x40000, 16, 0xee, 0x50000);
	ck_assert_uint_eq(e->ram[0x100000], 0xee);
	/* ...a PASID 1 invalidation of the wrong page keeps it too... */
	e->f.client->devtlb_invalidate(e->f.opaque, true, 1, false, 0x41000, 4096);
	submit(e, PDMA_OP_FILL | PASID(1), 0, 0x40000, 16, 0x12, 0x50000);
	ck_assert_uint_eq(e->ram[0x100000], 0x12);
	/* ...an 8 KiB range covering it drops it: the new page is used. */
	e->f.client->devtlb_invalidate(e->f.opaque, true, 1, false, 0x40000, 8192);
	submit(e, PDMA_OP_FILL | PASID(1), 0, 0x40000, 16, 0x34, 0x50000);
	ck_assert_uint_eq(e->ram[0x180000], 0x34);
	ck_assert_uint_eq(e->ram[0x100000], 0x12);
	/* An invalidation without PASID drops every PASID's entries in the range. */
	fmap_set(&e->f, 2, 0x40000, 0x280000, DMA_ACC_READ | DMA_ACC_WRITE);
	e->f.client->devtlb_invalidate(e->f.opaque, false, 0, false, 0x40000, 4096);
	submit(e, PDMA_OP_FILL | PASID(2), 0, 0x40000, 16, 0x56, 0x50000);
	ck_assert_uint_eq(e->ram[0x280000], 0x56);
	/* ...and PASID entries at every address, even far outside the range (PCIe). */
	fmap_set(&e->f, 2, 0x40000, 0x2c0000, DMA_ACC_READ | DMA_ACC_WRITE);
	e->f.client->devtlb_invalidate(e->f.opaque, false, 0, false, 0x900000, 4096);
	submit(e, PDMA_OP_FILL | PASID(2), 0, 0x40000, 16, 0x9a, 0x50000);
	ck_assert_uint_eq(e->ram[0x2c0000], 0x9a);
	ck_assert_uint_eq(e->ram[0x280000], 0x56);
	pasid_dma_get_stats(e->d, &s);
	ck_assert_uint_eq(s.dtlb_invs, 5);
	ck_assert_uint_gt(s.dtlb_hits, 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_DTLB_INVS), 5);
	/* Disabling ATS empties the device-TLB; requests then go through translate. */
	fmap_set(&e->f, 1, 0x40000, 0x190000, DMA_ACC_READ | DMA_ACC_WRITE);
	cfg_w(e, e->ats_off + PCI_ATS_CTRL, 0, 2);
	t0 = e->f.ats_xlates;
	submit(e, PDMA_OP_FILL | PASID(1), 0, 0x40000, 16, 0x78, 0x50000);
	ck_assert_uint_eq(e->ram[0x190000], 0x78);
	ck_assert_uint_eq(e->f.ats_xlates, t0);
	env_free(e);
}
END_TEST

static void enable_pri(struct env *e, uint32_t alloc)
{
	cfg_w(e, e->pasid_off + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE, 2);
	cfg_w(e, e->ats_off + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE, 2);
	cfg_w(e, e->pri_off + PCI_PRI_ALLOC_REQ, alloc, 4);
	cfg_w(e, e->pri_off + PCI_PRI_CTRL, PCI_PRI_CTRL_ENABLE, 2);
}

/*
 * backend=hostsim,pri=on with ATS and PRI enabled (as Linux does before SVA): the device still
 * sends untranslated requests only and no page request of its own, even to an IOMMU that
 * would answer them.
 */
START_TEST(test_hostsim_ats_caps_only)
{
	struct env *e = env_new("backend=hostsim,pri=on", true);
	unsigned int i;

	enable_pri(e, 32);
	fmap_set(&e->f, 5, 0x40000000, 0x100000, DMA_ACC_READ | DMA_ACC_WRITE);
	fmap_set(&e->f, 5, (CRS & ~0xfffULL), CRS & ~0xfffULL, DMA_ACC_READ | DMA_ACC_WRITE);
	i = submit(e, PDMA_OP_FILL | PASID(5), 0, 0x40000000, 64, 0x0101010101010101ULL, 0);
	ck_assert_uint_eq(st(e, i), PDMA_ST_OK);
	ck_assert_uint_eq(e->ram[0x100000 + 63], 1);
	i = submit(e, PDMA_OP_FILL | PASID(5), 0, 0x50000000, 64, 1, 0);
	ck_assert_uint_eq(st(e, i), PDMA_ST_FAULT);
	ck_assert_uint_eq(e->f.ats_xlates, 0);
	ck_assert_uint_eq(e->f.nr_pr, 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_DTLB_MISSES), 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_PAGE_REQS), 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_STATUS) & PDMA_STS_WAITING, 0);
	env_free(e);
}
END_TEST

START_TEST(test_pri_flow)
{
	struct env *e = env_new("", true);
	unsigned int i;

	fmap_set(&e->f, 5, 0x50000, 0x150000, DMA_ACC_READ | DMA_ACC_WRITE);
	/* ATS on, PRI off: a missing page is a fault, no page request. */
	cfg_w(e, e->pasid_off + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE, 2);
	cfg_w(e, e->ats_off + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE, 2);
	ck_assert(cfg_r(e, e->pri_off + PCI_PRI_STATUS, 2) & PCI_PRI_STATUS_STOPPED);
	submit(e, PDMA_OP_FILL | PASID(5), 0, 0x60000, 16, 0x99, 0x50000);
	ck_assert_uint_eq(e->ram[0x150000], PDMA_ST_FAULT);
	ck_assert_uint_eq(res(e, 0, 0), 0); /* (slot 0 unused: CR went to VA 0x50000) */
	ck_assert_uint_eq(e->f.nr_pr, 0);
	/* PRI on: page request (write, PASID 5, last), descriptor waits. */
	enable_pri(e, 32);
	ck_assert(!(cfg_r(e, e->pri_off + PCI_PRI_STATUS, 2) & PCI_PRI_STATUS_STOPPED));
	i = submit(e, PDMA_OP_FILL | PASID(5), 0, 0x60000, 16, 0x99, 0x50000);
	ck_assert_uint_eq(e->f.nr_pr, 1);
	ck_assert(e->f.pr[0].has_pasid && e->f.pr[0].pasid == 5 && e->f.pr[0].last);
	ck_assert_uint_eq(e->f.pr[0].addr, 0x60000);
	ck_assert_uint_eq(e->f.pr[0].access, DMA_ACC_WRITE);
	ck_assert_uint_eq(rd(e, PDMA_REG_STATUS) & PDMA_STS_WAITING, PDMA_STS_WAITING);
	ck_assert_uint_eq(rd(e, PDMA_REG_HEAD), i);
	/* A later doorbell does not overtake the waiting descriptor. */
	submit(e, PDMA_OP_NOP, 0, 0, 0, 0, 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_HEAD), i);
	/* A response for another group: unexpected PRG index, still waiting. */
	e->f.client->page_response(e->f.opaque, true, 5, (uint16_t)(e->f.pr[0].grpid + 1), 0);
	ck_assert(cfg_r(e, e->pri_off + PCI_PRI_STATUS, 2) & PCI_PRI_STATUS_UPRGI);
	ck_assert_uint_eq(rd(e, PDMA_REG_HEAD), i);
	/* Map, answer Success: the fill completes, then the queued NOP. */
	fmap_set(&e->f, 5, 0x60000, 0x160000, DMA_ACC_READ | DMA_ACC_WRITE);
	e->f.client->page_response(e->f.opaque, true, 5, e->f.pr[0].grpid, DMA_PRG_SUCCESS);
	ck_assert_uint_eq(e->ram[0x150000], PDMA_ST_OK);
	ck_assert_uint_eq(e->ram[0x160000], 0x99);
	ck_assert_uint_eq(rd(e, PDMA_REG_STATUS) & PDMA_STS_WAITING, 0);
	ck_assert_uint_eq(rd(e, PDMA_REG_HEAD), (i + 2) % 8);
	/* Invalid response: the descriptor completes with an error. */
	submit(e, PDMA_OP_FILL | PASID(5), 0, 0x70000, 16, 0x99, 0x50000);
	ck_assert_uint_eq(e->f.nr_pr, 2);
	e->f.client->page_response(e->f.opaque, true, 5, e->f.pr[1].grpid, DMA_PRG_INVALID);
	ck_assert_uint_eq(e->ram[0x150000], PDMA_ST_PRG_INVALID);
	/* A 3-page copy with the allocation at 2: group of 2, LPIG on the second only. */
	cfg_w(e, e->pri_off + PCI_PRI_ALLOC_REQ, 2, 4);
	submit(e, PDMA_OP_FILL | PASID(5), 0, 0x80000, 3 * 4096, 0x99, 0x50000);
	ck_assert_uint_eq(e->f.nr_pr, 4);
	ck_assert(!e->f.pr[2].last && e->f.pr[3].last);
	ck_assert_uint_eq(e->f.pr[2].grpid, e->f.pr[3].grpid);
	/* Response Failure: RF set, completion error, PRI stops (next miss = fault). */
	e->f.client->page_response(e->f.opaque, true, 5, e->f.pr[3].grpid, DMA_PRG_FAILURE);
	ck_assert_uint_eq(e->ram[0x150000], PDMA_ST_PRG_INVALID);
	ck_assert(cfg_r(e, e->pri_off + PCI_PRI_STATUS, 2) & PCI_PRI_STATUS_RF);
	submit(e, PDMA_OP_FILL | PASID(5), 0, 0x90000, 16, 0x99, 0x50000);
	ck_assert_uint_eq(e->ram[0x150000], PDMA_ST_FAULT);
	ck_assert_uint_eq(e->f.nr_pr, 4);
	env_free(e);
}
END_TEST

START_TEST(test_pri_overflow)
{
	struct env *e = env_new("", true);

	fmap_set(&e->f, 5, 0x50000, 0x150000, DMA_ACC_READ | DMA_ACC_WRITE);
	enable_pri(e, 32);
	/* The IOMMU's queue is full: each round is answered at once; bounded retries, then fault. */
	e->f.pr_ret = -ENOSPC;
	submit(e, PDMA_OP_COPY | PASID(5), 0x60000, 0x70000, 16, 0, 0x50000);
	ck_assert_uint_eq(e->ram[0x150000], PDMA_ST_FAULT);
	ck_assert_uint_eq(e->f.nr_pr, 2 * PDMA_MAX_RETRIES);
	ck_assert_uint_eq(rd(e, PDMA_REG_STATUS) & PDMA_STS_WAITING, 0);
	/* Room again: the same descriptor resubmitted waits normally. */
	e->f.pr_ret = 0;
	submit(e, PDMA_OP_COPY | PASID(5), 0x60000, 0x70000, 16, 0, 0x50000);
	ck_assert_uint_eq(rd(e, PDMA_REG_STATUS) & PDMA_STS_WAITING, PDMA_STS_WAITING);
	env_free(e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pasid-dma");
	TCase *tc = tcase_create("dev");

	tcase_add_test(tc, test_identity_caps);
	tcase_add_test(tc, test_backend_hostsim);
	tcase_add_test(tc, test_hostsim_ats_caps_only);
	tcase_add_test(tc, test_ops);
	tcase_add_test(tc, test_ring_gating);
	tcase_add_test(tc, test_pasid_gating);
	tcase_add_test(tc, test_devtlb);
	tcase_add_test(tc, test_pri_flow);
	tcase_add_test(tc, test_pri_overflow);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
