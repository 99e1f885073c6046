/* SPDX-License-Identifier: MIT */
/*
 * The vfio-pci model's device side: reads the VFIO device (regions, IRQs, config space),
 * builds the guest's virtual config space with devices/pci, serves the BAR accesses that
 * exit from the region mmap or by pread/pwrite (the memory slots are in vfio-pci-bar.c), forwards the command register and passed-through
 * capability bytes to the device, and resets it. Interrupts are in vfio-pci-irq.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bits.h"
#include "common/log.h"
#include "devices/vfio/vfio-pci-internal.h"

#define PCI_CAP_ID_VNDR 0x09
#define CAP_WALK_MAX 48      /* standard capabilities: at most (256 - 64) / 4 */
#define EXT_WALK_MAX 960     /* extended capabilities: at most (4096 - 256) / 4 */
#define CMD_FORWARDED (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)

static int dioctl(struct vfio_pci *d, unsigned long req, void *arg)
{
	return d->sys.ioctl(d->sys.ctx, d->fd, req, arg);
}

/* Reads len bytes of the device's config space at off; 0 or -errno. */
static int hcfg_read(struct vfio_pci *d, unsigned int off, void *buf, size_t len)
{
	ssize_t n;

	if (off + len > d->config.size)
		return -EINVAL;
	n = d->sys.pread(d->sys.ctx, d->fd, buf, len, d->config.offset + off);
	return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
}

static int hcfg_write(struct vfio_pci *d, unsigned int off, const void *buf, size_t len)
{
	ssize_t n;

	if (off + len > d->config.size)
		return -EINVAL;
	n = d->sys.pwrite(d->sys.ctx, d->fd, buf, len, d->config.offset + off);
	return n == (ssize_t)len ? 0 : n < 0 ? (int)n : -EIO;
}

/* ---- BARs ---- */

static bool bar_mapped(struct vpci_region *r, uint64_t off, unsigned int size)
{
	return r->map && off + size <= r->size;
}

static uint64_t vpci_bar_read(struct pci_dev *pd, unsigned int bar, uint64_t off, unsigned int size)
{
	struct vfio_pci *d = pd->opaque;
	struct vpci_region *r = &d->bars[bar];
	uint64_t v = 0;

	if (d->intx_asserted)
		vfio_pci_intx_eoi(d);
	if (bar_mapped(r, off, size)) {
		volatile uint8_t *p = (volatile uint8_t *)r->map + off;

		switch (size) {
		case 1: v = *p; break;
		case 2: v = *(volatile uint16_t *)p; break;
		case 4: v = *(volatile uint32_t *)p; break;
		default: v = *(volatile uint64_t *)p; break;
		}
		__atomic_fetch_add(&d->st.bar_mmap, 1, __ATOMIC_RELAXED);
		return v;
	}
	__atomic_fetch_add(&d->st.bar_trap, 1, __ATOMIC_RELAXED);
	if (off + size > r->size ||
	    d->sys.pread(d->sys.ctx, d->fd, &v, size, r->offset + off) != (ssize_t)size)
		return ~0ULL;
	return v;
}

static void vpci_bar_write(struct pci_dev *pd, unsigned int bar, uint64_t off, uint64_t val,
			   unsigned int size)
{
	struct vfio_pci *d = pd->opaque;
	struct vpci_region *r = &d->bars[bar];

	if (d->intx_asserted)
		vfio_pci_intx_eoi(d);
	if (bar_mapped(r, off, size)) {
		volatile uint8_t *p = (volatile uint8_t *)r->map + off;

		switch (size) {
		case 1: *p = (uint8_t)val; break;
		case 2: *(volatile uint16_t *)p = (uint16_t)val; break;
		case 4: *(volatile uint32_t *)p = (uint32_t)val; break;
		default: *(volatile uint64_t *)p = val; break;
		}
		__atomic_fetch_add(&d->st.bar_mmap, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&d->st.bar_trap, 1, __ATOMIC_RELAXED);
	if (off + size <= r->size)
		d->sys.pwrite(d->sys.ctx, d->fd, &val, size, r->offset + off);
}

/* ---- config writes the device must see ---- */

static bool overlaps(unsigned int a, unsigned int alen, unsigned int b, unsigned int blen)
{
	return a < b + blen && b < a + alen;
}

static void forward_command(struct vfio_pci *d)
{
	uint16_t guest = (uint16_t)pci_config_get(&d->pci, PCI_COMMAND, 2), host;

	if (hcfg_read(d, PCI_COMMAND, &host, 2))
		return;
	host = (uint16_t)((host & ~CMD_FORWARDED) | (guest & CMD_FORWARDED));
	hcfg_write(d, PCI_COMMAND, &host, 2);
}

/* Writes the guest's bytes of a passed-through range to the device, then re-reads them. */
static void forward_pt(struct vfio_pci *d, const struct vpci_pt *pt, unsigned int off, uint32_t val,
		       unsigned int size)
{
	for (unsigned int i = 0; i < size; i++) {
		unsigned int o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i)), back;

		if (o < pt->guest + 2 || o >= pt->guest + pt->len)
			continue; /* the ID and next pointer are ours */
		if (hcfg_write(d, pt->host + (o - pt->guest), &b, 1) ||
		    hcfg_read(d, pt->host + (o - pt->guest), &back, 1))
			continue;
		pci_config_set(&d->pci, o, back, 1);
		d->st.cfg_passthrough++;
	}
}

/*
 * The guest's PRI enable is virtual (the host kernel enables PRI on the function when a stage-1
 * with a fault queue is attached): reflect it in the Stopped bit and tell the backend's owner.
 */
static void pri_update(struct vfio_pci *d, bool reset)
{
	uint16_t ctrl, st;
	bool on;

	if (!d->pri_off)
		return;
	ctrl = (uint16_t)pci_config_get(&d->pci, d->pri_off + PCI_PRI_CTRL, 2);
	on = !reset && (ctrl & PCI_PRI_CTRL_ENABLE);
	st = (uint16_t)pci_config_get(&d->pci, d->pri_off + PCI_PRI_STATUS, 2);
	st = on ? st & ~PCI_PRI_STATUS_STOPPED : st | PCI_PRI_STATUS_STOPPED;
	pci_config_set(&d->pci, d->pri_off + PCI_PRI_STATUS, st, 2);
	if (on == d->guest_pri)
		return;
	d->guest_pri = on;
	if (d->pri_changed)
		d->pri_changed(d->pri_opaque, on);
}

static void vpci_config_write(struct pci_dev *pd, unsigned int off, uint32_t val, unsigned int size)
{
	struct vfio_pci *d = pd->opaque;

	if (d->pri_off && overlaps(off, size, d->pri_off + PCI_PRI_CTRL, 2))
		pri_update(d, false);

	if (overlaps(off, size, PCI_COMMAND, 2))
		forward_command(d);
	if ((pd->msi_off && overlaps(off, size, pd->msi_off, 24)) ||
	    (pd->msix_off && overlaps(off, size, pd->msix_off, 12)) ||
	    overlaps(off, size, PCI_COMMAND, 2))
		vpci_irq_update(d);
	for (unsigned int i = 0; i < d->nr_pt; i++)
		if (overlaps(off, size, d->pt[i].guest, d->pt[i].len))
			forward_pt(d, &d->pt[i], off, val, size);
	/* Decode, a BAR address or the interrupt mode (INTx keeps BARs trapped) may have moved. */
	if (overlaps(off, size, PCI_COMMAND, 2) || overlaps(off, size, PCI_BAR0, 4 * PCI_NUM_BARS) ||
	    (pd->msi_off && overlaps(off, size, pd->msi_off, 24)) ||
	    (pd->msix_off && overlaps(off, size, pd->msix_off, 12)))
		vpci_bar_sync(d);
}

static void vpci_reset(struct pci_dev *pd)
{
	struct vfio_pci *d = pd->opaque;

	vpci_irq_disarm(d, false);
	if (d->dev_flags & VFD_DEVICE_FLAGS_RESET) {
		int r = dioctl(d, VFD_DEVICE_RESET, NULL);

		d->st.resets++;
		if (r)
			log_warn("vfio-pci", "VFIO_DEVICE_RESET failed: %s", strerror(-r));
	}
	forward_command(d);
	vpci_irq_update(d);
	vpci_bar_sync(d); /* decode is off again: the slots go */
	pri_update(d, true);
}

static const struct pci_dev_ops vpci_ops = {
	.bar_read = vpci_bar_read,
	.bar_write = vpci_bar_write,
	.config_write = vpci_config_write,
	.reset = vpci_reset,
};

/* ---- building the guest view ---- */

static int region_info(struct vfio_pci *d, uint32_t index, struct vpci_region *ret)
{
	struct vfd_region_info ri = { .argsz = sizeof(ri), .index = index };
	int r = dioctl(d, VFD_DEVICE_GET_REGION_INFO, &ri);

	if (r)
		return r;
	*ret = (struct vpci_region){ .flags = ri.flags, .size = ri.size, .offset = ri.offset };
	return 0;
}

static uint64_t pow2_at_least(uint64_t v, uint64_t min)
{
	uint64_t p = min;

	while (p < v && p < (1ULL << 62))
		p <<= 1;
	return p;
}

static int setup_bars(struct vfio_pci *d, const uint8_t *hc, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		uint32_t raw = le32_load(hc + PCI_BAR0 + 4 * i);
		enum pci_bar_type t = PCI_BAR_MEM32;
		struct vpci_region *r = &d->bars[i];
		int ret = region_info(d, i, r);

		/* Every BAR index exists (num_regions > the config index): a failure is the host's. */
		if (ret) {
			snprintf(err, errlen, "VFIO_DEVICE_GET_REGION_INFO (BAR%u) failed: %s", i,
				 strerror(-ret));
			return ret;
		}
		if (!r->size) {
			*r = (struct vpci_region){ 0 };
			continue;
		}
		if (raw & PCI_BAR_IO_SPACE)
			t = PCI_BAR_IO;
		else if (((raw >> 1) & 3) == 2 && i + 1 < PCI_NUM_BARS)
			t = PCI_BAR_MEM64;
		ret = pci_dev_set_bar(&d->pci, i, t, pow2_at_least(r->size, t == PCI_BAR_IO ? 4 : 16),
				      t != PCI_BAR_IO && (raw & PCI_BAR_MEM_PREFETCH));
		if (ret) {
			snprintf(err, errlen, "BAR%u (size 0x%llx) cannot be shown to the guest: %s", i,
				 (unsigned long long)r->size, strerror(-ret));
			return ret;
		}
		if (t == PCI_BAR_MEM64)
			d->bars[++i] = (struct vpci_region){ 0 };
	}
	return 0;
}

/* Copies one vendor-specific capability into the guest chain as a passed-through range. */
static void add_vendor_cap(struct vfio_pci *d, const uint8_t *hc, unsigned int host)
{
	unsigned int len = hc[host + 2], off;

	if (len < 3 || host + len > 256 || d->nr_pt == VPCI_MAX_PT ||
	    pci_cap_add(&d->pci, PCI_CAP_ID_VNDR, len, &off))
		return;
	for (unsigned int i = 2; i < len; i++)
		pci_config_set(&d->pci, off + i, hc[host + i], 1);
	d->pt[d->nr_pt++] = (struct vpci_pt){ .guest = off, .host = host, .len = len };
}

/* Recreates the host's capabilities the guest needs (devices/pci emulates them). */
static void setup_caps(struct vfio_pci *d, const uint8_t *hc, const struct vfio_pci_config *cfg)
{
	unsigned int msi = 0, msix = 0, pcie = 0, pasid = 0, ats = 0, pri = 0;
	unsigned int ptr = hc[PCI_CAPABILITY_LIST] & 0xfc;
	unsigned int vndr[VPCI_MAX_PT], nr_vndr = 0;

	d->msix_bar = PCI_NUM_BARS;
	if (!(le16_load(hc + PCI_STATUS) & PCI_STATUS_CAP_LIST))
		ptr = 0;
	for (unsigned int n = 0; ptr >= 0x40 && n < CAP_WALK_MAX; n++) {
		switch (hc[ptr]) {
		case PCI_CAP_ID_MSI: msi = ptr; break;
		case PCI_CAP_ID_MSIX: msix = ptr; break;
		case PCI_CAP_ID_EXP: pcie = ptr; break;
		case PCI_CAP_ID_VNDR:
			if (nr_vndr < VPCI_MAX_PT)
				vndr[nr_vndr++] = ptr;
			break;
		}
		ptr = hc[ptr + 1] & 0xfc;
	}
	for (unsigned int n = 0, e = PCI_EXT_CAP_START; pcie && d->config.size >= PCI_CONFIG_SIZE &&
	     e >= PCI_EXT_CAP_START && e < PCI_CONFIG_SIZE - 4 && n < EXT_WALK_MAX; n++) {
		uint32_t h = le32_load(hc + e);

		if (!h)
			break;
		if ((h & 0xffff) == PCI_EXT_CAP_ID_PASID)
			pasid = e;
		else if ((h & 0xffff) == PCI_EXT_CAP_ID_ATS)
			ats = e;
		else if ((h & 0xffff) == PCI_EXT_CAP_ID_PRI && e + 16 <= PCI_CONFIG_SIZE)
			pri = e;
		e = (h >> 20) & 0xffc;
	}
	if (pcie)
		pci_cap_add_pcie(&d->pci, NULL);
	if (msi) {
		uint16_t f = le16_load(hc + msi + PCI_MSI_FLAGS);

		pci_cap_add_msi(&d->pci, 1u << ((f & PCI_MSI_FLAGS_QMASK) >> 1),
				f & PCI_MSI_FLAGS_64BIT, f & PCI_MSI_FLAGS_MASKBIT, NULL);
	}
	if (msix) {
		uint16_t f = le16_load(hc + msix + PCI_MSIX_FLAGS);
		uint32_t table = le32_load(hc + msix + PCI_MSIX_TABLE);
		uint32_t pba = le32_load(hc + msix + PCI_MSIX_PBA);

		/* devices/pci keeps table and PBA in one BAR, as nearly every device does. */
		if ((table & 7) == (pba & 7) &&
		    !pci_cap_add_msix(&d->pci, (f & PCI_MSIX_FLAGS_QSIZE) + 1u, table & 7, table & ~7u,
				      pba & ~7u, NULL))
			d->msix_bar = table & 7;
		else
			log_warn("vfio-pci", "MSI-X table/PBA layout not supported: MSI-X hidden");
	}
	for (unsigned int i = 0; i < nr_vndr; i++)
		add_vendor_cap(d, hc, vndr[i]);
	if (pcie && cfg->pasid_bits) {
		uint16_t pc = pasid ? le16_load(hc + pasid + PCI_PASID_CAP) : 0;

		pci_ext_cap_add_pasid(&d->pci, cfg->pasid_bits > 20 ? 20 : cfg->pasid_bits,
				      pc & PCI_PASID_CAP_EXEC, pc & PCI_PASID_CAP_PRIV, NULL);
	}
	/*
	 * ATS and PRI as the host function has them (queue depth, page alignment, request
	 * capacity, PASID-in-response), their control registers emulated: the host kernel enables
	 * ATS at probe and PRI when it turns IOPF on, the guest's bits only tell nestvm what the
	 * guest wants. Linux enables IOPF only with ATS on, so PRI is shown only together with it.
	 */
	d->host_ats = pcie && ats;
	d->host_pri = d->host_ats && pri;
	if (d->host_ats && cfg->ats) {
		uint16_t ac = le16_load(hc + ats + PCI_ATS_CAP);

		if (!pci_ext_cap_add_ats(&d->pci, ac & PCI_ATS_CAP_QDEP, ac & PCI_ATS_CAP_PAGE_ALIGNED, NULL) &&
		    d->host_pri && cfg->pri &&
		    !pci_ext_cap_add_pri(&d->pci, le32_load(hc + pri + PCI_PRI_MAX_REQ),
					 le16_load(hc + pri + PCI_PRI_STATUS) & PCI_PRI_STATUS_PASID,
					 &d->pri_off)) {
			d->pri_changed = cfg->pri_changed;
			d->pri_opaque = cfg->opaque;
		}
	}
}

/* Maps the BARs VFIO allows to be mmapped (the MSI-X one too: its table is trapped first). */
static void map_bars(struct vfio_pci *d)
{
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++) {
		struct vpci_region *r = &d->bars[i];

		if (r->size && (r->flags & VFD_REGION_MMAP) && !(r->size & 4095) && !(r->offset & 4095))
			r->map = d->sys.mmap(d->sys.ctx, d->fd, r->size, r->offset);
	}
}

struct vfio_pci *vfio_pci_create(const struct vfio_dev_sys *sys, int fd, struct pci_host *h,
				 unsigned int slot, const struct vfio_pci_config *cfg, char *err,
				 size_t errlen)
{
	struct vfd_device_info di = { .argsz = sizeof(di) };
	struct vfio_pci *d = calloc(1, sizeof(*d));
	uint8_t *hc = calloc(1, PCI_CONFIG_SIZE);
	uint32_t class;
	int r;

	if (!d || !hc) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	d->sys = sys ? *sys : vpci_real_sys;
	d->fd = fd;
	d->wake_fd = -1;
	pthread_mutex_init(&d->map_lock, NULL);
	pthread_mutex_init(&d->lock, NULL);
	r = dioctl(d, VFD_DEVICE_GET_INFO, &di);
	if (r || !(di.flags & VFD_DEVICE_FLAGS_PCI) || di.num_regions <= VFD_PCI_CONFIG_REGION) {
		snprintf(err, errlen, "not a VFIO PCI device (%s)", r ? strerror(-r) : "device info");
		goto fail_lock;
	}
	d->dev_flags = di.flags;
	r = region_info(d, VFD_PCI_CONFIG_REGION, &d->config);
	if (!r)
		r = hcfg_read(d, 0, hc, d->config.size < PCI_CONFIG_SIZE ? d->config.size : PCI_CONFIG_SIZE);
	if (r || d->config.size < 256) {
		snprintf(err, errlen, "cannot read the config space: %s", strerror(r ? -r : EIO));
		goto fail_lock;
	}
	if ((hc[PCI_HEADER_TYPE] & 0x7f) != 0) {
		snprintf(err, errlen, "header type 0x%x: only type-0 endpoints can be passed through",
			 hc[PCI_HEADER_TYPE]);
		goto fail_lock;
	}
	for (uint32_t i = 0; i < 3 && i < di.num_irqs; i++) {
		d->irq_info[i] = (struct vfd_irq_info){ .argsz = sizeof(d->irq_info[i]), .index = i };
		r = dioctl(d, VFD_DEVICE_GET_IRQ_INFO, &d->irq_info[i]);
		if (r) {
			snprintf(err, errlen, "VFIO_DEVICE_GET_IRQ_INFO (index %u) failed: %s", i,
				 strerror(-r));
			goto fail_lock;
		}
	}
	class = le32_load(hc + PCI_REVISION_ID) >> 8;
	pci_dev_init(&d->pci, le16_load(hc + PCI_VENDOR_ID), le16_load(hc + PCI_DEVICE_ID),
		     hc[PCI_REVISION_ID], class, &vpci_ops, d);
	pci_dev_set_subsystem(&d->pci, le16_load(hc + PCI_SUBSYSTEM_VENDOR_ID),
			      le16_load(hc + PCI_SUBSYSTEM_ID));
	if (setup_bars(d, hc, err, errlen))
		goto fail_pci;
	if (hc[PCI_INTERRUPT_PIN] && hc[PCI_INTERRUPT_PIN] <= 4 && d->irq_info[VFD_PCI_INTX_IRQ].count)
		pci_dev_set_irq_pin(&d->pci, hc[PCI_INTERRUPT_PIN]);
	setup_caps(d, hc, cfg);
	map_bars(d);
	r = pci_host_add_device(h, &d->pci, slot);
	if (r) {
		snprintf(err, errlen, "cannot plug into slot %u: %s", slot, strerror(-r));
		goto fail_pci;
	}
	forward_command(d); /* the guest starts with decode and bus mastering off */
	vpci_irq_update(d);
	if (cfg->irq_thread && vpci_irq_thread_start(d)) {
		snprintf(err, errlen, "cannot start the interrupt thread");
		vfio_pci_destroy(d);
		free(hc);
		return NULL;
	}
	free(hc);
	log_debug("vfio-pci", "%04x:%04x in slot %u", pci_dev_vendor_id(&d->pci),
		  pci_dev_device_id(&d->pci), slot);
	return d;
fail_pci:
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		if (d->bars[i].map)
			d->sys.munmap(d->sys.ctx, d->bars[i].map, d->bars[i].size);
	pci_dev_cleanup(&d->pci);
fail_lock:
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->map_lock);
fail:
	free(hc);
	free(d);
	return NULL;
}

void vfio_pci_destroy(struct vfio_pci *d)
{
	if (!d)
		return;
	vpci_irq_thread_stop(d);
	vpci_irq_disarm(d, true);
	vpci_bar_unmap_all(d); /* before the mmaps behind the slots go */
	pci_host_remove_device(&d->pci);
	for (unsigned int i = 0; i < PCI_NUM_BARS; i++)
		if (d->bars[i].map)
			d->sys.munmap(d->sys.ctx, d->bars[i].map, d->bars[i].size);
	pci_dev_cleanup(&d->pci);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->map_lock);
	free(d);
}

struct pci_dev *vfio_pci_dev(struct vfio_pci *d)
{
	return &d->pci;
}

bool vfio_pci_host_pri(struct vfio_pci *d)
{
	return d->host_pri;
}

int vfio_pci_bar_map(struct vfio_pci *d, unsigned int bar, void **ret, uint64_t *ret_size)
{
	if (bar >= PCI_NUM_BARS || !d->bars[bar].map || bar == d->msix_bar)
		return -ENOENT;
	*ret = d->bars[bar].map;
	*ret_size = d->bars[bar].size;
	return 0;
}

void vfio_pci_get_stats(struct vfio_pci *d, struct vfio_pci_stats *ret)
{
	pthread_mutex_lock(&d->map_lock);
	pthread_mutex_lock(&d->lock);
	*ret = d->st;
	memcpy(ret->slots, d->bst, sizeof(ret->slots));
	ret->bar_mmap = __atomic_load_n(&d->st.bar_mmap, __ATOMIC_RELAXED);
	ret->bar_trap = __atomic_load_n(&d->st.bar_trap, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->map_lock);
}
