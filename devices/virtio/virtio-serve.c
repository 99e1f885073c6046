/* SPDX-License-Identifier: MIT */
/*
 * Where virtio requests run (docs/virtio.md, "Where requests run"): the serving pass over a
 * queue, the device's I/O thread and its kicks, the KVM doorbells that wake it, serving a
 * notify on the vCPU that wrote it (serve_on_vcpu), and the device-driven fills (network
 * receive, console input). The register side of the transport is virtio-pci.c.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "virtio-internal.h"

bool vp_queue_usable(struct virtio_pci *vp, unsigned int i)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       vp->vq[i].enabled && !vp->broken[i];
}

/* Interrupt for a queue (isr_bit 1) or a config change (2); caller holds vp->lock. */
void vp_raise(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
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
void vp_device_error(struct virtio_pci *vp, unsigned int i, int why)
{
	log_debug("virtio", "%02x: queue %u: device error %d", pci_dev_bdf(&vp->pci), i, why);
	vp->broken[i] = true;
	vp->stats.device_errors++;
	if (!(vp->status & VIRTIO_STATUS_NEEDS_RESET)) {
		vp->status |= VIRTIO_STATUS_NEEDS_RESET;
		vp_raise(vp, vp->msix_config, 2);
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

	if (!vp_queue_usable(vp, i) || !pci_bus_master_enabled(&vp->pci))
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
		vp_device_error(vp, i, r);
	else if (budget == (unsigned int)-1)
		virtio_pci_kick(vp, i);
	if (virtq_need_interrupt(q, old))
		vp_raise(vp, q->msix_vector, 1);
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
	if (i >= vp->nr_queues || !vp_queue_usable(vp, i) || !pci_bus_master_enabled(&vp->pci))
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
		vp_raise(vp, q->msix_vector, 1);
out_err:
	if (r < 0 && r != -ENOSPC)
		vp_device_error(vp, i, r);
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

/* A notify that exited to nestvm (no doorbell took it): served here or kicked to the thread. */
void vp_notified(struct virtio_pci *vp, unsigned int i)
{
	if (!serve_here(vp, i))
		kick(vp, i, true);
}

/*
 * Puts the doorbells where the guest decodes the notify structure now: assigned while memory
 * decode is on and BAR0 holds an address, removed otherwise, so a write elsewhere (another
 * device's register after a BAR move) never rings them. A failed assignment leaves none: every
 * notify then exits to vp_bar_write, which serves it the same way.
 */
void vp_sync_doorbells(struct virtio_pci *vp)
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

int vp_start_thread(struct virtio_pci *vp)
{
	if (pthread_create(&vp->thread, NULL, io_thread, vp))
		return -EAGAIN;
	vp->thread_started = true;
	return 0;
}

void vp_stop_thread(struct virtio_pci *vp)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vp->kick_lock);
	vp->stop = true;
	pthread_mutex_unlock(&vp->kick_lock);
	if (write(vp->wake_efd, &one, sizeof(one)) < 0)
		log_debug("virtio", "stop: %s", strerror(errno));
	pthread_join(vp->thread, NULL);
	vp->thread_started = false;
}
