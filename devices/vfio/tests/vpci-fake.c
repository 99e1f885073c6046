/* SPDX-License-Identifier: MIT */
/* The vfio-pci unit tests' fake VFIO device fd, validating like vfio-pci does, and environment. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "vpci-fake.h"

/* Counts one seam call; -err when it is the one to fail (a close still closes). */
static int f_inject(struct fake *f, int err)
{
	if (++f->calls != f->fail_call)
		return 0;
	f->injected = err;
	return -err;
}

static int f_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct fake *f = ctx;
	int ir = f_inject(f, req == VFD_DEVICE_SET_IRQS ? ENOMEM : req == VFD_DEVICE_RESET ? EIO : EINVAL);

	if (ir)
		return ir;
	if (fd != DEV_FD)
		return -EBADF;
	if (req == VFD_DEVICE_GET_INFO) {
		struct vfd_device_info *i = arg;

		if (i->argsz < 16)
			return -EINVAL;
		i->flags = f->dev_flags;
		i->num_regions = VFD_PCI_NUM_REGIONS;
		i->num_irqs = 5;
		return 0;
	}
	if (req == VFD_DEVICE_GET_REGION_INFO) {
		struct vfd_region_info *r = arg;

		if (r->argsz < sizeof(*r) || r->index >= VFD_PCI_NUM_REGIONS)
			return -EINVAL;
		*r = f->reg[r->index];
		r->argsz = sizeof(*r);
		return 0;
	}
	if (req == VFD_DEVICE_GET_IRQ_INFO) {
		struct vfd_irq_info *q = arg;

		if (q->argsz < sizeof(*q) || q->index >= 5)
			return -EINVAL;
		*q = f->irq[q->index];
		q->argsz = sizeof(*q);
		return 0;
	}
	if (req == VFD_DEVICE_RESET) {
		if (!(f->dev_flags & VFD_DEVICE_FLAGS_RESET))
			return -EINVAL;
		f->resets++;
		return 0;
	}
	if (req == VFD_DEVICE_SET_IRQS) {
		struct vfd_irq_set *s = arg;
		uint32_t dt = s->flags & 7, act = s->flags & 0x38;

		f->set_irqs++;
		if (s->argsz < sizeof(*s) || s->index > 2 || __builtin_popcount(dt) != 1 ||
		    __builtin_popcount(act) != 1 || s->start + s->count > f->irq[s->index].count)
			return f->bad++, -EINVAL;
		if (act == VFD_IRQ_SET_ACTION_UNMASK) {
			f->unmasks += s->index == 0 && f->armed[0];
			return 0;
		}
		if (dt == VFD_IRQ_SET_DATA_NONE && !s->count) {
			f->armed[s->index] = 0;
			return 0;
		}
		if (dt != VFD_IRQ_SET_DATA_EVENTFD || s->argsz < sizeof(*s) + 4 * s->count ||
		    s->count > 16)
			return f->bad++, -EINVAL;
		for (uint32_t i = 0; i < 3; i++)
			if (i != s->index && f->armed[i])
				return f->bad++, -EINVAL; /* another index is in use */
		memcpy(f->armed_fd[s->index], s + 1, 4 * s->count);
		f->armed[s->index] = s->count;
		return 0;
	}
	return -ENOTTY;
}

static uint8_t *region_mem(struct fake *f, uint64_t off, size_t len)
{
	unsigned int idx = (unsigned int)(off >> 40);
	uint64_t o = off & ((1ULL << 40) - 1);

	if (idx >= VFD_PCI_NUM_REGIONS || o + len > f->reg[idx].size)
		return NULL;
	switch (idx) {
	case 0: return f->bar0 + o;
	case 2: return f->bar2 + o;
	case 4: return f->bar4 + o;
	case VFD_PCI_CONFIG_REGION: return f->cfg + o;
	}
	return NULL;
}

static ssize_t f_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off)
{
	struct fake *f = ctx;
	uint8_t *p = region_mem(f, off, len);
	int r = f_inject(f, EIO);

	if (r)
		return r;
	if (!p)
		return -EINVAL;
	f->preads++;
	memcpy(buf, p, len);
	return (ssize_t)len;
}

static ssize_t f_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	struct fake *f = ctx;
	uint8_t *p = region_mem(f, off, len);
	int r = f_inject(f, EIO);

	if (r)
		return r;
	if (!p)
		return -EINVAL;
	f->pwrites++;
	memcpy(p, buf, len);
	return (ssize_t)len;
}

static void *f_mmap(void *ctx, int fd, size_t len, uint64_t off)
{
	struct fake *f = ctx;
	unsigned int idx = (unsigned int)(off >> 40);

	if (f_inject(f, ENOMEM))
		return NULL;
	if ((off & ((1ULL << 40) - 1)) || idx >= VFD_PCI_NUM_REGIONS ||
	    !(f->reg[idx].flags & VFD_REGION_MMAP) || len != f->reg[idx].size)
		return NULL;
	f->mmaps++;
	return region_mem(f, off, len);
}

static void f_munmap(void *ctx, void *addr, size_t len)
{
	((struct fake *)ctx)->munmaps++;
}

static int f_eventfd(void *ctx)
{
	struct fake *f = ctx;
	int r = f_inject(f, EMFILE);

	if (r)
		return r;
	for (int i = 0; i < NR_EV; i++) {
		if (!f->ev_open[i]) {
			f->ev_open[i] = true;
			f->ev[i] = 0;
			return EV_BASE + i;
		}
	}
	return -EMFILE;
}

static int f_event_read(void *ctx, int fd, uint64_t *count)
{
	struct fake *f = ctx;
	int i = fd - EV_BASE, r = f_inject(f, EINTR);

	if (r)
		return r;
	if (i < 0 || i >= NR_EV || !f->ev_open[i])
		return -EBADF;
	if (!f->ev[i])
		return -EAGAIN;
	*count = f->ev[i];
	f->ev[i] = 0;
	return 0;
}

static int f_close(void *ctx, int fd)
{
	struct fake *f = ctx;
	int i = fd - EV_BASE, r = f_inject(f, EIO);

	if (i < 0 || i >= NR_EV || !f->ev_open[i])
		return -EBADF;
	f->ev_open[i] = false;
	return r;
}

void fire(struct fake *f, unsigned int index, unsigned int v)
{
	ck_assert_uint_gt(f->armed[index], v);
	f->ev[f->armed_fd[index][v] - EV_BASE]++;
}

void fake_init(struct fake *f)
{
	uint8_t *c = f->cfg;

	memset(f, 0, sizeof(*f));
	f->dev_flags = VFD_DEVICE_FLAGS_PCI | VFD_DEVICE_FLAGS_RESET;
	le16_store(c + 0, 0x8086);
	le16_store(c + 2, 0x1521);
	c[8] = 3;
	c[9] = 0; c[10] = 0; c[11] = 2; /* class 02:00.00 */
	le16_store(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
	le32_store(c + 0x10, 0xc); /* BAR0: 64-bit prefetchable */
	le32_store(c + 0x18, 0x0); /* BAR2: 32-bit (MSI-X) */
	le32_store(c + 0x20, 0x1); /* BAR4: I/O */
	le16_store(c + 0x2c, 0x8086);
	le16_store(c + 0x2e, 0xabcd);
	c[PCI_CAPABILITY_LIST] = 0x40;
	c[PCI_INTERRUPT_PIN] = 1;
	c[0x40] = PCI_CAP_ID_EXP; c[0x41] = 0x50;
	c[0x50] = PCI_CAP_ID_MSI; c[0x51] = 0x60;
	le16_store(c + 0x52, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (2 << 1));
	c[0x60] = PCI_CAP_ID_MSIX; c[0x61] = 0x70;
	le16_store(c + 0x62, 7);            /* 8 vectors */
	le32_store(c + 0x64, 2);            /* table: BAR2 + 0 */
	le32_store(c + 0x68, 0x1000 | 2);   /* PBA: BAR2 + 0x1000 */
	c[0x70] = 0x09; c[0x71] = 0; c[0x72] = 8; c[0x73] = 0x5a; c[0x74] = 0x11;
	le32_store(c + 0x100, PCI_EXT_CAP_ID_PASID | (1u << 16));
	le16_store(c + 0x104, PCI_PASID_CAP_EXEC | (16 << 8));
	for (unsigned int i = 0; i < VFD_PCI_NUM_REGIONS; i++)
		f->reg[i] = (struct vfd_region_info){ .argsz = 32, .index = i, .offset = REG_OFF(i) };
	f->reg[0].size = sizeof(f->bar0);
	f->reg[0].flags = VFD_REGION_READ | VFD_REGION_WRITE | VFD_REGION_MMAP;
	f->reg[2].size = 0x2000; /* of bar2[] */
	f->reg[2].flags = VFD_REGION_READ | VFD_REGION_WRITE | VFD_REGION_MMAP;
	f->reg[4].size = sizeof(f->bar4);
	f->reg[4].flags = VFD_REGION_READ | VFD_REGION_WRITE;
	f->reg[VFD_PCI_CONFIG_REGION].size = 4096;
	f->reg[VFD_PCI_CONFIG_REGION].flags = VFD_REGION_READ | VFD_REGION_WRITE;
	f->irq[0] = (struct vfd_irq_info){ 16, VFD_IRQ_INFO_EVENTFD | VFD_IRQ_INFO_AUTOMASKED, 0, 1 };
	f->irq[1] = (struct vfd_irq_info){ 16, VFD_IRQ_INFO_EVENTFD, 1, 4 };
	f->irq[2] = (struct vfd_irq_info){ 16, VFD_IRQ_INFO_EVENTFD, 2, 8 };
	f->bar0[0x10] = 0x42;
	f->bar4[4] = 0x99;
}


static void irq_level(void *ctx, unsigned int gsi, bool level)
{
	((struct env *)ctx)->level[gsi] = level;
}

static void irq_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	struct env *e = ctx;

	e->msis++;
	e->msi_addr = addr;
	e->msi_data = data;
	e->msi_sid = sid;
}

static const struct irq_chip_ops chip_ops = { irq_level, irq_msi };

struct env *env_new_cfg(unsigned int pasid_bits, bool create)
{
	struct env *e = calloc(1, sizeof(*e));
	struct vfio_pci_config cfg = { .pasid_bits = pasid_bits };

	ck_assert_ptr_nonnull(e);
	fake_init(&e->f);
	e->sys = (struct vfio_dev_sys){ .ctx = &e->f, .ioctl = f_ioctl, .pread = f_pread,
					.pwrite = f_pwrite, .mmap = f_mmap, .munmap = f_munmap,
					.eventfd = f_eventfd, .event_read = f_event_read,
					.close = f_close };
	bus_init(&e->bus);
	e->chip = (struct irq_chip){ &chip_ops, e };
	e->host = pci_host_create(&e->bus, &e->chip, NULL, ECAM, 256 << 20, MMIO, 0x3ec00000, 0xc000,
				  0x4000);
	ck_assert_ptr_nonnull(e->host);
	if (create) {
		e->d = vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err));
		ck_assert_msg(e->d != NULL, "%s", e->err);
	}
	return e;
}

struct env *env_new(void)
{
	return env_new_cfg(20, true);
}

void env_free(struct env *e)
{
	vfio_pci_destroy(e->d);
	for (int i = 0; i < NR_EV; i++)
		ck_assert_msg(!e->f.ev_open[i], "eventfd %d left open", i);
	ck_assert_uint_eq(e->f.mmaps, e->f.munmaps);
	ck_assert_uint_eq(e->f.bad, 0);
	pci_host_destroy(e->host);
	free(e);
}

struct pci_dev *pd(struct env *e)
{
	return vfio_pci_dev(e->d);
}

uint32_t cfg_rd(struct env *e, unsigned int off, unsigned int size)
{
	return pci_config_read(pd(e), off, size);
}

void cfg_wr(struct env *e, unsigned int off, uint32_t val, unsigned int size)
{
	pci_config_write(pd(e), off, val, size);
}