/* SPDX-License-Identifier: MIT */
/*
 * The modern virtio-pci transport (virtio 1.x §4.1): vendor capabilities pointing into BAR0
 * (common config, ISR, device config, notify), MSI-X in BAR1, and one I/O thread per device
 * that serves the queues a notify write kicked. With an ioeventfd hook a notify reaches that
 * thread as an eventfd KVM signals, without an exit. A device that serves on the vCPU
 * (serve_on_vcpu) takes no doorbells: every notify exits and the vCPU that wrote it serves the
 * queue before it returns to the guest; the thread then only takes what that pass left.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "virtio-internal.h"

#define PCI_CAP_ID_VNDR 0x09

static bool queue_usable(struct virtio_pci *vp, unsigned int i)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       vp->vq[i].enabled && !vp->broken[i];
}

/* Interrupt for a queue (isr_bit 1) or a config change (2); caller holds vp->lock. */
static void raise(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	vp->stats.interrupts++;
	if (pci_msi_enabled(&vp->pci)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			pci_msi_notify(&vp->pci, vector);
		return;
	}
	vp->isr |= isr_bit;
	pci_set_irq(&vp->pci, true);
}

/* A device error (§2.1.2): the queue stops, the driver is told through NEEDS_RESET. */
static void device_error(struct virtio_pci *vp, unsigned int i, int why)
{
	log_debug("virtio", "%02x: queue %u: device error %d", pci_dev_bdf(&vp->pci), i, why);
	vp->broken[i] = true;
	vp->stats.device_errors++;
	if (!(vp->status & VIRTIO_STATUS_NEEDS_RESET)) {
		vp->status |= VIRTIO_STATUS_NEEDS_RESET;
		raise(vp, vp->msix_config, 2);
	}
}

/*
 * Serves queue i until it is empty (caller holds vp->lock). At most 4 * size chains per
 * call: a driver that keeps refilling gets a fresh kick instead of holding the lock forever.
 */
static void serve_queue(struct virtio_pci *vp, unsigned int i, struct virtq_elem *e)
{
	struct virtq *q = &vp->vq[i];
	uint16_t old = q->used_idx;
	unsigned int budget = 4u * q->size;
	int r = 0;

	if (!queue_usable(vp, i) || !pci_bus_master_enabled(&vp->pci))
		return;
	while (budget--) {
		uint32_t len = 0;

		r = virtq_pop(q, e);
		if (r == 0) {
			r = virtq_arm(q);
			if (r == 1)
				continue;
			break;
		}
		if (r < 0)
			break;
		vp->stats.requests++;
		r = vp->ops->handle(vp->opaque, i, q, e, &len);
		if (!r)
			r = virtq_push(q, e, len);
		if (r)
			break;
	}
	if (r < 0)
		device_error(vp, i, r);
	else if (budget == (unsigned int)-1)
		virtio_pci_kick(vp, i);
	if (virtq_need_interrupt(q, old))
		raise(vp, q->msix_vector, 1);
}

/* Marks queue for the I/O thread (kick_lock not held); wake when not called by that thread. */
static void kick(struct virtio_pci *vp, unsigned int queue, bool wake)
{
	uint64_t one = 1;

	if (queue >= vp->nr_queues)
		return;
	if (vp->ops->kick && vp->ops->kick(vp->opaque, queue))
		return;
	pthread_mutex_lock(&vp->kick_lock);
	vp->kicked |= 1u << queue;
	vp->busy = true;
	pthread_mutex_unlock(&vp->kick_lock);
	if (wake && write(vp->wake_efd, &one, sizeof(one)) < 0)
		log_debug("virtio", "%02x: wake: %s", pci_dev_bdf(&vp->pci), strerror(errno));
}

/* Sleeps until a kick or a doorbell; turns the doorbells that rang into kicks. */
static void wait_kicks(struct virtio_pci *vp)
{
	struct pollfd p[VIRTIO_MAX_QUEUES + 1];
	unsigned int n = 0;
	uint64_t cnt;

	p[n++] = (struct pollfd){ .fd = vp->wake_efd, .events = POLLIN };
	for (unsigned int i = 0; i < vp->nr_queues; i++)
		p[n++] = (struct pollfd){ .fd = vp->doorbell_efd[i], .events = POLLIN };
	if (poll(p, n, -1) <= 0)
		return; /* EINTR: the caller looks again */
	if (p[0].revents && read(vp->wake_efd, &cnt, sizeof(cnt)) < 0)
		cnt = 0;
	for (unsigned int i = 0; i < vp->nr_queues; i++) {
		if (!(p[i + 1].revents & POLLIN) ||
		    read(vp->doorbell_efd[i], &cnt, sizeof(cnt)) != sizeof(cnt))
			continue;
		pthread_mutex_lock(&vp->kick_lock);
		vp->stats.doorbells++;
		pthread_mutex_unlock(&vp->kick_lock);
		kick(vp, i, false);
	}
}

static void *io_thread(void *arg)
{
	struct virtio_pci *vp = arg;
	struct virtq_elem *e = malloc(sizeof(*e));

	pthread_setname_np(pthread_self(), "nv-virtio-io");
	pthread_mutex_lock(&vp->kick_lock);
	while (!vp->stop) {
		uint32_t k = vp->kicked;

		if (!k) {
			vp->busy = false;
			pthread_cond_broadcast(&vp->idle_cond);
			pthread_mutex_unlock(&vp->kick_lock);
			wait_kicks(vp);
			pthread_mutex_lock(&vp->kick_lock);
			continue;
		}
		vp->kicked = 0;
		vp->busy = true;
		pthread_mutex_unlock(&vp->kick_lock);
		pthread_mutex_lock(&vp->lock);
		for (unsigned int i = 0; i < vp->nr_queues; i++)
			if ((k & (1u << i)) && e)
				serve_queue(vp, i, e);
		pthread_mutex_unlock(&vp->lock);
		pthread_mutex_lock(&vp->kick_lock);
	}
	vp->busy = false;
	pthread_cond_broadcast(&vp->idle_cond);
	pthread_mutex_unlock(&vp->kick_lock);
	free(e);
	return NULL;
}

void virtio_pci_kick(struct virtio_pci *vp, unsigned int queue)
{
	kick(vp, queue, !pthread_equal(pthread_self(), vp->thread) || !vp->thread_started);
}

void virtio_pci_drain(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->kick_lock);
	while (vp->thread_started && (vp->busy || vp->kicked) && !vp->stop)
		pthread_cond_wait(&vp->idle_cond, &vp->kick_lock);
	pthread_mutex_unlock(&vp->kick_lock);
}

/* virtio_pci_fill and virtio_pci_fill_some: partial puts as much of data as the chain takes. */
static int fill(struct virtio_pci *vp, unsigned int i, const void *hdr, size_t hdr_len,
		const void *data, size_t len, bool partial)
{
	struct virtq_elem *e = malloc(sizeof(*e));
	struct virtq *q = &vp->vq[i];
	uint16_t old;
	int r = 0;

	if (!e)
		return -ENOMEM;
	pthread_mutex_lock(&vp->lock);
	if (i >= vp->nr_queues || !queue_usable(vp, i) || !pci_bus_master_enabled(&vp->pci))
		goto out;
	old = q->used_idx;
	r = virtq_pop(q, e);
	if (r == 0) {
		/* Empty: publish where we stopped, then look once more (event index race). */
		r = virtq_arm(q);
		if (r == 1)
			r = virtq_pop(q, e);
	}
	if (r <= 0)
		goto out_err;
	vp->stats.requests++;
	if (partial && e->in_bytes > hdr_len && e->in_bytes - hdr_len < len)
		len = (size_t)(e->in_bytes - hdr_len);
	if (e->in_bytes < hdr_len + len) {
		r = virtq_push(q, e, 0);
		r = r ? r : -ENOSPC;
	} else {
		r = virtq_elem_write(q, e, 0, hdr, hdr_len);
		if (!r)
			r = virtq_elem_write(q, e, hdr_len, data, len);
		if (!r)
			r = virtq_push(q, e, (uint32_t)(hdr_len + len));
		if (!r)
			r = partial ? (int)len : 1;
	}
	if (virtq_need_interrupt(q, old))
		raise(vp, q->msix_vector, 1);
out_err:
	if (r < 0 && r != -ENOSPC)
		device_error(vp, i, r);
out:
	pthread_mutex_unlock(&vp->lock);
	free(e);
	return r;
}

int virtio_pci_fill(struct virtio_pci *vp, unsigned int i, const void *hdr, size_t hdr_len,
		    const void *data, size_t len)
{
	return fill(vp, i, hdr, hdr_len, data, len, false);
}

int virtio_pci_fill_some(struct virtio_pci *vp, unsigned int i, const void *data, size_t len)
{
	if (!len || len > INT_MAX)
		return -EINVAL;
	return fill(vp, i, NULL, 0, data, len, true);
}

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
		device_error(vp, i, -EINVAL);
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

/*
 * serve_on_vcpu: serves queue i on the calling vCPU thread, as the I/O thread would. False when
 * it does not (not that kind of device or queue, no memory for the chain): kick the thread.
 */
static bool serve_here(struct virtio_pci *vp, unsigned int i)
{
	bool served = false;

	if (!vp->serve_on_vcpu || i >= vp->nr_queues || vp->ops->kick)
		return false;
	pthread_mutex_lock(&vp->lock);
	if (!vp->vcpu_elem)
		vp->vcpu_elem = malloc(sizeof(*vp->vcpu_elem));
	if (vp->vcpu_elem) {
		uint64_t before = vp->stats.requests;

		serve_queue(vp, i, vp->vcpu_elem);
		vp->stats.vcpu_requests += vp->stats.requests - before;
		served = true;
	}
	pthread_mutex_unlock(&vp->lock);
	return served;
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
		if (!serve_here(vp, i))
			kick(vp, i, true);
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

/*
 * Puts the doorbells where the guest decodes the notify structure now: assigned while memory
 * decode is on and BAR0 holds an address, removed otherwise, so a write elsewhere (another
 * device's register after a BAR move) never rings them. A failed assignment leaves none: every
 * notify then exits to vp_bar_write, which serves it the same way.
 */
static void sync_doorbells(struct virtio_pci *vp)
{
	uint64_t bar, gpa = 0;

	pthread_mutex_lock(&vp->doorbell_lock);
	if (vp->ioeventfd && !vp->serve_on_vcpu &&
	    (pci_config_get(&vp->pci, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY)) {
		bar = pci_bar_addr(&vp->pci, 0);
		if (bar && !(bar & (VIRTIO_BAR_SIZE - 1)) && bar + VIRTIO_BAR_SIZE > bar)
			gpa = bar + VIRTIO_BAR_NOTIFY;
	}
	if (gpa != vp->doorbell_gpa) {
		for (unsigned int i = 0; vp->doorbell_gpa && i < vp->nr_queues; i++)
			vp->ioeventfd(vp->ioeventfd_ctx, vp->doorbell_gpa + VIRTIO_NOTIFY_MULT * i, 2,
				      vp->doorbell_efd[i], false);
		vp->doorbell_gpa = 0;
		for (unsigned int i = 0; gpa && i < vp->nr_queues; i++) {
			int r = vp->ioeventfd(vp->ioeventfd_ctx, gpa + VIRTIO_NOTIFY_MULT * i, 2,
					      vp->doorbell_efd[i], true);

			if (r) {
				log_debug("virtio", "%02x: doorbell %u at %#llx: %s", pci_dev_bdf(&vp->pci),
					  i, (unsigned long long)(gpa + VIRTIO_NOTIFY_MULT * i), strerror(-r));
				while (i--)
					vp->ioeventfd(vp->ioeventfd_ctx, gpa + VIRTIO_NOTIFY_MULT * i, 2,
						      vp->doorbell_efd[i], false);
				gpa = 0;
				break;
			}
		}
		vp->doorbell_gpa = gpa;
	}
	pthread_mutex_unlock(&vp->doorbell_lock);
}

static bool overlaps(unsigned int off, unsigned int size, unsigned int at, unsigned int len)
{
	return off < at + len && at < off + size;
}

static void vp_config_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int size)
{
	if (overlaps(off, size, PCI_COMMAND, 2) || overlaps(off, size, PCI_BAR0, 4))
		sync_doorbells(dev->opaque);
}

static void vp_reset(struct pci_dev *dev)
{
	struct virtio_pci *vp = dev->opaque;

	pthread_mutex_lock(&vp->lock);
	reset_locked(vp);
	pthread_mutex_unlock(&vp->lock);
	sync_doorbells(vp); /* decode is off again */
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
	sync_doorbells(vp);
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
	if (pthread_create(&vp->thread, NULL, io_thread, vp)) {
		r = -EAGAIN;
		pci_host_remove_device(&vp->pci);
		goto err;
	}
	vp->thread_started = true;
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
		uint64_t one = 1;

		pthread_mutex_lock(&vp->kick_lock);
		vp->stop = true;
		pthread_mutex_unlock(&vp->kick_lock);
		if (write(vp->wake_efd, &one, sizeof(one)) < 0)
			log_debug("virtio", "stop: %s", strerror(errno));
		pthread_join(vp->thread, NULL);
		vp->thread_started = false;
		pci_host_remove_device(&vp->pci);
	}
	virtio_set_ioeventfd(&vp->pci, NULL, NULL); /* the doorbells go before their eventfds */
	pci_dev_cleanup(&vp->pci);
	close_efds(vp);
	free(vp->vcpu_elem);
	vp->vcpu_elem = NULL;
	vp->ops = NULL;
}
