/* SPDX-License-Identifier: MIT */
/*
 * The modern virtio-pci transport (virtio 1.x §4.1): vendor capabilities pointing into BAR0
 * (common config, ISR, device config, notify), MSI-X in BAR1, feature negotiation, queue setup
 * and reset. A notify write is handed to virtio-serve.c, which runs the requests (on the
 * device's I/O thread, or with serve_on_vcpu on the vCPU that wrote it) and keeps the KVM
 * doorbells that let a notify reach the thread without an exit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "virtio-internal.h"

#define PCI_CAP_ID_VNDR 0x09

void virtio_pci_get_stats(struct virtio_pci *vp, struct virtio_pci_stats *ret)
{
	pthread_mutex_lock(&vp->lock);
	*ret = vp->stats;
	pthread_mutex_unlock(&vp->lock);
}

/* Back to the post-reset state (§2.1.1); caller holds vp->lock. */
static void reset_locked(struct virtio_pci *vp)
{
	vp->status = 0;
	vp->guest_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_sel = 0;
	vp->msix_config = VIRTIO_MSI_NO_VECTOR;
	vp->isr = 0;
	pci_set_irq(&vp->pci, false);
	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		vp->vq[i] = (struct virtq){ .size = vp->max_queue_size,
					    .msix_vector = VIRTIO_MSI_NO_VECTOR, .as = vp->as,
					    .sid = pci_dev_bdf(&vp->pci) };
		vp->broken[i] = false;
	}
	if (vp->ops->reset)
		vp->ops->reset(vp->opaque);
}

/*
 * The features offered now: indirect descriptors per vp->indirect, judged when the driver reads
 * or writes them (the machine may attach the vIOMMU to the DMA space after creating us).
 */
static uint64_t offered_features(const struct virtio_pci *vp)
{
	bool indirect = vp->indirect == VIRTIO_INDIRECT_ON ||
			(vp->indirect == VIRTIO_INDIRECT_AUTO && !vp->as->ops);
	uint64_t f = indirect ? vp->host_features : vp->host_features & ~BIT_ULL(VIRTIO_F_INDIRECT_DESC);

	return vp->packed ? f | BIT_ULL(VIRTIO_F_RING_PACKED) : f;
}

/* FEATURES_OK only for a subset of ours with VERSION_1 and, behind an IOMMU, ACCESS_PLATFORM. */
static bool features_ok(struct virtio_pci *vp)
{
	uint64_t g = vp->guest_features;

	if (g & ~offered_features(vp))
		return false;
	if (!(g & BIT_ULL(VIRTIO_F_VERSION_1)))
		return false;
	/* Without ACCESS_PLATFORM the driver would hand us physical addresses: never bypass. */
	if (vp->as->ops && !(g & BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)))
		return false;
	return true;
}

static void write_status(struct virtio_pci *vp, uint8_t v)
{
	if (v == 0) {
		reset_locked(vp);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_ok(vp))
		v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	/* NEEDS_RESET is the device's to set; the driver cannot clear it. */
	v = (uint8_t)((v & ~VIRTIO_STATUS_NEEDS_RESET) | (vp->status & VIRTIO_STATUS_NEEDS_RESET));
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
		for (unsigned int i = 0; i < vp->nr_queues; i++) {
			vp->vq[i].event_idx = vp->guest_features & BIT_ULL(VIRTIO_F_EVENT_IDX);
			vp->vq[i].indirect = vp->guest_features & BIT_ULL(VIRTIO_F_INDIRECT_DESC);
			vp->vq[i].packed = vp->guest_features & BIT_ULL(VIRTIO_F_RING_PACKED);
		}
	}
	vp->status = v;
	if (v & VIRTIO_STATUS_DRIVER_OK)
		for (unsigned int i = 0; i < vp->nr_queues; i++)
			if (vp->vq[i].enabled)
				virtio_pci_kick(vp, i);
}

/*
 * queue_enable = 1: size within ours, rings aligned. Split (§2.6): a power of two, descriptors
 * 16, avail 2, used 4; packed (§2.7.10.1): any size, descriptors 16, both event areas 4.
 */
static void enable_queue(struct virtio_pci *vp, struct virtq *q, unsigned int i)
{
	if (q->enabled)
		return;
	if (!q->size || (!q->packed && (q->size & (q->size - 1))) || q->size > vp->max_queue_size ||
	    (q->desc & 15) || (q->avail & (q->packed ? 3 : 1)) || (q->used & 3)) {
		vp_device_error(vp, i, -EINVAL);
		return;
	}
	q->enabled = true;
}

/* The common config as a little-endian image for the selected queue (caller holds lock). */
static void common_image(struct virtio_pci *vp, uint8_t img[VIRTIO_COMMON_SIZE])
{
	struct virtq *q = vp->queue_sel < vp->nr_queues ? &vp->vq[vp->queue_sel] : NULL;
	uint64_t f = vp->dfselect < 2 ? offered_features(vp) >> (32 * vp->dfselect) : 0;
	uint64_t g = vp->gfselect < 2 ? vp->guest_features >> (32 * vp->gfselect) : 0;
	struct { unsigned int off, len; uint64_t v; } fields[] = {
		{ VIRTIO_COMMON_DFSELECT, 4, vp->dfselect },
		{ VIRTIO_COMMON_DF, 4, (uint32_t)f },
		{ VIRTIO_COMMON_GFSELECT, 4, vp->gfselect },
		{ VIRTIO_COMMON_GF, 4, (uint32_t)g },
		{ VIRTIO_COMMON_MSIX, 2, vp->msix_config },
		{ VIRTIO_COMMON_NUMQ, 2, vp->nr_queues },
		{ VIRTIO_COMMON_STATUS, 1, vp->status },
		{ VIRTIO_COMMON_CFGGEN, 1, vp->generation },
		{ VIRTIO_COMMON_Q_SELECT, 2, vp->queue_sel },
		{ VIRTIO_COMMON_Q_SIZE, 2, q ? q->size : 0 },
		{ VIRTIO_COMMON_Q_MSIX, 2, q ? q->msix_vector : VIRTIO_MSI_NO_VECTOR },
		{ VIRTIO_COMMON_Q_ENABLE, 2, q ? q->enabled : 0 },
		{ VIRTIO_COMMON_Q_NOFF, 2, q ? vp->queue_sel : 0 },
		{ VIRTIO_COMMON_Q_DESC, 8, q ? q->desc : 0 },
		{ VIRTIO_COMMON_Q_AVAIL, 8, q ? q->avail : 0 },
		{ VIRTIO_COMMON_Q_USED, 8, q ? q->used : 0 },
	};

	memset(img, 0, VIRTIO_COMMON_SIZE);
	for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		for (unsigned int b = 0; b < fields[k].len; b++)
			img[fields[k].off + b] = (uint8_t)(fields[k].v >> (8 * b));
}

/* Sets bytes [at, at + size) of a 64-bit field from a 4- or 8-byte write. */
static void set_part(uint64_t *field, unsigned int at, uint64_t val, unsigned int size)
{
	uint64_t mask = size == 8 ? ~0ULL : 0xffffffffULL;

	*field = (*field & ~(mask << (8 * at))) | ((val & mask) << (8 * at));
}

static uint16_t valid_vector(struct virtio_pci *vp, uint64_t v)
{
	return v < vp->pci.msix.nr ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static void common_write(struct virtio_pci *vp, unsigned int off, uint64_t val, unsigned int size)
{
	struct virtq *q = vp->queue_sel < vp->nr_queues ? &vp->vq[vp->queue_sel] : NULL;
	/* Queue config is frozen once the queue is enabled or the driver is running. */
	bool qcfg = q && !q->enabled && !(vp->status & VIRTIO_STATUS_DRIVER_OK);

	switch (size << 8 | off) {
	case 4 << 8 | VIRTIO_COMMON_DFSELECT:
		vp->dfselect = (uint32_t)val;
		break;
	case 4 << 8 | VIRTIO_COMMON_GFSELECT:
		vp->gfselect = (uint32_t)val;
		break;
	case 4 << 8 | VIRTIO_COMMON_GF:
		if (vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK))
			set_part(&vp->guest_features, 4 * vp->gfselect, val, 4);
		break;
	case 2 << 8 | VIRTIO_COMMON_MSIX:
		vp->msix_config = valid_vector(vp, val);
		break;
	case 1 << 8 | VIRTIO_COMMON_STATUS:
		write_status(vp, (uint8_t)val);
		break;
	case 2 << 8 | VIRTIO_COMMON_Q_SELECT:
		vp->queue_sel = (uint16_t)val;
		break;
	case 2 << 8 | VIRTIO_COMMON_Q_SIZE:
		if (qcfg)
			q->size = (uint16_t)val;
		break;
	case 2 << 8 | VIRTIO_COMMON_Q_MSIX:
		if (q)
			q->msix_vector = valid_vector(vp, val);
		break;
	case 2 << 8 | VIRTIO_COMMON_Q_ENABLE:
		if (q && val == 1)
			enable_queue(vp, q, vp->queue_sel);
		break;
	default:
		/* The ring addresses: 8 bytes, or either 4-byte half. */
		if (!qcfg || off < VIRTIO_COMMON_Q_DESC || off + size > VIRTIO_COMMON_SIZE ||
		    (size != 4 && size != 8) || (off & (size - 1)))
			break;
		set_part(off < VIRTIO_COMMON_Q_AVAIL ? &q->desc :
			 off < VIRTIO_COMMON_Q_USED ? &q->avail : &q->used, off & 7, val, size);
		break;
	}
}

static uint64_t vp_bar_read(struct pci_dev *dev, unsigned int bar, uint64_t off, unsigned int size)
{
	struct virtio_pci *vp = dev->opaque;
	uint8_t img[VIRTIO_COMMON_SIZE];
	uint64_t v = 0;

	if (bar != 0)
		return ~0ULL;
	pthread_mutex_lock(&vp->lock);
	if (off + size <= VIRTIO_BAR_COMMON + VIRTIO_COMMON_SIZE) {
		common_image(vp, img);
		for (unsigned int b = size; b--;)
			v = v << 8 | img[off + b];
	} else if (off == VIRTIO_BAR_ISR && size == 1) {
		/* Reading the ISR acknowledges it and lowers INTx (§4.1.4.5). */
		v = vp->isr;
		vp->isr = 0;
		pci_set_irq(&vp->pci, false);
	} else if (off >= VIRTIO_BAR_DEVICE && off + size <= VIRTIO_BAR_DEVICE + vp->config_len) {
		for (unsigned int b = size; b--;)
			v = v << 8 | vp->config[off - VIRTIO_BAR_DEVICE + b];
	}
	pthread_mutex_unlock(&vp->lock);
	return v;
}

static void vp_bar_write(struct pci_dev *dev, unsigned int bar, uint64_t off, uint64_t val,
			 unsigned int size)
{
	struct virtio_pci *vp = dev->opaque;

	if (bar != 0)
		return;
	if (off >= VIRTIO_BAR_NOTIFY && off < VIRTIO_BAR_NOTIFY + VIRTIO_NOTIFY_MULT * vp->nr_queues) {
		/* The hot path: no transport lock, just a kick for the I/O thread. */
		unsigned int i = (unsigned int)(off - VIRTIO_BAR_NOTIFY) / VIRTIO_NOTIFY_MULT;

		pthread_mutex_lock(&vp->kick_lock);
		vp->stats.kicks++;
		pthread_mutex_unlock(&vp->kick_lock);
		vp_notified(vp, i);
		return;
	}
	pthread_mutex_lock(&vp->lock);
	if (off + size <= VIRTIO_BAR_COMMON + VIRTIO_COMMON_SIZE)
		common_write(vp, (unsigned int)off, val, size);
	else if (off >= VIRTIO_BAR_DEVICE && off + size <= VIRTIO_BAR_DEVICE + vp->config_len &&
		 vp->ops->config_write)
		vp->ops->config_write(vp->opaque, (unsigned int)(off - VIRTIO_BAR_DEVICE), val, size);
	pthread_mutex_unlock(&vp->lock);
}

static bool overlaps(unsigned int off, unsigned int size, unsigned int at, unsigned int len)
{
	return off < at + len && at < off + size;
}

static void vp_config_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int size)
{
	if (overlaps(off, size, PCI_COMMAND, 2) || overlaps(off, size, PCI_BAR0, 4))
		vp_sync_doorbells(dev->opaque);
}

static void vp_reset(struct pci_dev *dev)
{
	struct virtio_pci *vp = dev->opaque;

	pthread_mutex_lock(&vp->lock);
	reset_locked(vp);
	pthread_mutex_unlock(&vp->lock);
	vp_sync_doorbells(vp); /* decode is off again */
}

static const struct pci_dev_ops vp_pci_ops = {
	.bar_read = vp_bar_read,
	.bar_write = vp_bar_write,
	.config_write = vp_config_write,
	.reset = vp_reset,
};

int virtio_get_counts(struct pci_dev *dev, struct virtio_counts *ret)
{
	struct virtio_pci *vp;

	if (!dev || dev->ops != &vp_pci_ops)
		return -EINVAL;
	vp = dev->opaque;
	pthread_mutex_lock(&vp->kick_lock);
	ret->notify_exits = vp->stats.kicks;
	ret->doorbells = vp->stats.doorbells;
	pthread_mutex_unlock(&vp->kick_lock);
	pthread_mutex_lock(&vp->lock);
	ret->requests = vp->stats.requests;
	ret->vcpu_requests = vp->stats.vcpu_requests;
	ret->interrupts = vp->stats.interrupts;
	pthread_mutex_unlock(&vp->lock);
	return 0;
}

int virtio_set_ioeventfd(struct pci_dev *dev, virtio_ioeventfd_fn fn, void *ctx)
{
	struct virtio_pci *vp;

	if (!dev || dev->ops != &vp_pci_ops)
		return -EINVAL;
	vp = dev->opaque;
	pthread_mutex_lock(&vp->doorbell_lock);
	for (unsigned int i = 0; vp->doorbell_gpa && i < vp->nr_queues; i++)
		vp->ioeventfd(vp->ioeventfd_ctx, vp->doorbell_gpa + VIRTIO_NOTIFY_MULT * i, 2,
			      vp->doorbell_efd[i], false);
	vp->doorbell_gpa = 0;
	vp->ioeventfd = fn;
	vp->ioeventfd_ctx = ctx;
	pthread_mutex_unlock(&vp->doorbell_lock);
	vp_sync_doorbells(vp);
	return 0;
}

/* One virtio_pci_cap (§4.1.4): type, BAR 0, offset and length of the structure. */
static int add_cap(struct virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len)
{
	unsigned int at, clen = type == VIRTIO_PCI_CAP_NOTIFY ? VIRTIO_PCI_NOTIFY_CAP_LEN :
								 VIRTIO_PCI_CAP_LEN;
	int r = pci_cap_add(&vp->pci, PCI_CAP_ID_VNDR, clen, &at);

	if (r)
		return r;
	pci_config_set(&vp->pci, at + 2, clen, 1);
	pci_config_set(&vp->pci, at + 3, type, 1);
	pci_config_set(&vp->pci, at + 4, 0, 1); /* bar */
	pci_config_set(&vp->pci, at + 8, off, 4);
	pci_config_set(&vp->pci, at + 12, len, 4);
	if (type == VIRTIO_PCI_CAP_NOTIFY)
		pci_config_set(&vp->pci, at + 16, VIRTIO_NOTIFY_MULT, 4);
	return 0;
}

static void close_efds(struct virtio_pci *vp)
{
	if (vp->wake_efd >= 0)
		close(vp->wake_efd);
	vp->wake_efd = -1;
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		if (vp->doorbell_efd[i] >= 0)
			close(vp->doorbell_efd[i]);
		vp->doorbell_efd[i] = -1;
	}
}

int virtio_pci_init(struct virtio_pci *vp, struct pci_host *h, unsigned int slot,
		    const struct dma_as *as, unsigned int type, uint32_t class_code,
		    unsigned int nr_queues, uint16_t max_queue_size, uint64_t features,
		    const void *config, unsigned int config_len, const struct virtio_dev_ops *ops,
		    void *opaque)
{
	int r;

	if (!h || !as || !ops || !ops->handle || !nr_queues || nr_queues > VIRTIO_MAX_QUEUES ||
	    config_len > VIRTIO_MAX_CONFIG || !max_queue_size || max_queue_size > VIRTQ_MAX_SIZE ||
	    (max_queue_size & (max_queue_size - 1)))
		return -EINVAL;
	pthread_mutex_init(&vp->lock, NULL);
	pthread_mutex_init(&vp->kick_lock, NULL);
	pthread_mutex_init(&vp->doorbell_lock, NULL);
	pthread_cond_init(&vp->idle_cond, NULL);
	vp->wake_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vp->doorbell_efd[i] = i < nr_queues ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) : -1;
	vp->ops = ops;
	vp->opaque = opaque;
	vp->as = as;
	vp->nr_queues = nr_queues;
	vp->max_queue_size = max_queue_size;
	vp->host_features = features | BIT_ULL(VIRTIO_F_VERSION_1) |
			    BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) | BIT_ULL(VIRTIO_F_EVENT_IDX) |
			    BIT_ULL(VIRTIO_F_INDIRECT_DESC);
	r = vp->wake_efd < 0 ? -errno : 0;
	for (unsigned int i = 0; !r && i < nr_queues; i++)
		r = vp->doorbell_efd[i] < 0 ? -errno : 0;
	if (r)
		goto err_efd;
	memcpy(vp->config, config, config_len);
	vp->config_len = config_len;
	pci_dev_init(&vp->pci, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + type), 1,
		     class_code, &vp_pci_ops, vp);
	pci_dev_set_subsystem(&vp->pci, VIRTIO_PCI_VENDOR, 0x40);
	pci_dev_set_irq_pin(&vp->pci, 1);
	r = pci_dev_set_bar(&vp->pci, 0, PCI_BAR_MEM32, VIRTIO_BAR_SIZE, false);
	if (!r)
		r = pci_dev_set_bar(&vp->pci, 1, PCI_BAR_MEM32, VIRTIO_MSIX_BAR_SIZE, false);
	if (!r)
		r = pci_cap_add_msix(&vp->pci, nr_queues + 1, 1, 0, VIRTIO_MSIX_PBA, NULL);
	if (!r)
		r = add_cap(vp, VIRTIO_PCI_CAP_COMMON, VIRTIO_BAR_COMMON, VIRTIO_COMMON_SIZE);
	if (!r)
		r = add_cap(vp, VIRTIO_PCI_CAP_ISR, VIRTIO_BAR_ISR, 1);
	if (!r && config_len)
		r = add_cap(vp, VIRTIO_PCI_CAP_DEVICE, VIRTIO_BAR_DEVICE, config_len);
	if (!r)
		r = add_cap(vp, VIRTIO_PCI_CAP_NOTIFY, VIRTIO_BAR_NOTIFY,
			    VIRTIO_NOTIFY_MULT * nr_queues);
	if (r)
		goto err;
	r = pci_host_add_device(h, &vp->pci, slot);
	if (r)
		goto err;
	reset_locked(vp);
	vp->ops = ops;
	r = vp_start_thread(vp);
	if (r) {
		pci_host_remove_device(&vp->pci);
		goto err;
	}
	return 0;

err:
	pci_dev_cleanup(&vp->pci);
err_efd:
	close_efds(vp);
	return r;
}

void virtio_pci_cleanup(struct virtio_pci *vp)
{
	if (!vp || !vp->ops)
		return;
	if (vp->thread_started) {
		vp_stop_thread(vp);
		pci_host_remove_device(&vp->pci);
	}
	virtio_set_ioeventfd(&vp->pci, NULL, NULL); /* the doorbells go before their eventfds */
	pci_dev_cleanup(&vp->pci);
	close_efds(vp);
	free(vp->vcpu_elem);
	vp->vcpu_elem = NULL;
	vp->ops = NULL;
}
