/* SPDX-License-Identifier: MIT */
/*
 * The vfio-pci model's interrupt side: arms the VFIO index (INTx, MSI or MSI-X) that the
 * guest's view of the device calls for, with one eventfd per vector (VFIO_DEVICE_SET_IRQS),
 * delivers what those eventfds signal through devices/pci, and an optional polling thread.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/bits.h"
#include "common/log.h"
#include "devices/vfio/vfio-pci-internal.h"

#define POLL_MS 100

/* ---- the real system calls ---- */

static int real_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static ssize_t real_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n = pread(fd, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

static ssize_t real_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = pwrite(fd, buf, len, (off_t)off);

	return n < 0 ? -errno : n;
}

static void *real_mmap(void *ctx, int fd, size_t len, uint64_t off)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);

	return p == MAP_FAILED ? NULL : p;
}

static void real_munmap(void *ctx, void *addr, size_t len)
{
	munmap(addr, len);
}

static int real_eventfd(void *ctx)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int real_event_read(void *ctx, int fd, uint64_t *count)
{
	ssize_t n = read(fd, count, sizeof(*count));

	return n == sizeof(*count) ? 0 : n < 0 ? -errno : -EIO;
}

static int real_close(void *ctx, int fd)
{
	return close(fd) ? -errno : 0;
}

const struct vfio_dev_sys vpci_real_sys = {
	.ioctl = real_ioctl, .pread = real_pread, .pwrite = real_pwrite, .mmap = real_mmap,
	.munmap = real_munmap, .eventfd = real_eventfd, .event_read = real_event_read,
	.close = real_close,
};

/* ---- arming ---- */

static const uint32_t mode_index[] = {
	[VFIO_PCI_IRQ_INTX] = VFD_PCI_INTX_IRQ, [VFIO_PCI_IRQ_MSI] = VFD_PCI_MSI_IRQ,
	[VFIO_PCI_IRQ_MSIX] = VFD_PCI_MSIX_IRQ,
};

/* What the guest's config space asks for: MSI-X, else MSI, else INTx (if the device has it). */
static enum vfio_pci_irq_mode wanted(struct vfio_pci *d, unsigned int *count)
{
	struct pci_dev *pd = &d->pci;
	uint16_t f;

	if (pd->msix_off) {
		f = (uint16_t)pci_config_get(pd, pd->msix_off + PCI_MSIX_FLAGS, 2);
		if (f & PCI_MSIX_FLAGS_ENABLE) {
			*count = pd->msix.nr;
			return VFIO_PCI_IRQ_MSIX;
		}
	}
	if (pd->msi_off) {
		f = (uint16_t)pci_config_get(pd, pd->msi_off + PCI_MSI_FLAGS, 2);
		if (f & PCI_MSI_FLAGS_ENABLE) {
			*count = 1u << ((f & PCI_MSI_FLAGS_QSIZE) >> 4);
			return VFIO_PCI_IRQ_MSI;
		}
	}
	*count = 1;
	return pci_dev_irq_pin(pd) && d->irq_info[VFD_PCI_INTX_IRQ].count ? VFIO_PCI_IRQ_INTX
									  : VFIO_PCI_IRQ_NONE;
}

static int set_irqs(struct vfio_pci *d, uint32_t flags, uint32_t index, uint32_t count,
		    const int *fds)
{
	size_t sz = sizeof(struct vfd_irq_set) + (fds ? count * sizeof(int32_t) : 0);
	struct vfd_irq_set *s = calloc(1, sz);
	int r;

	if (!s)
		return -ENOMEM;
	*s = (struct vfd_irq_set){ .argsz = (uint32_t)sz, .flags = flags, .index = index,
				   .count = count };
	for (uint32_t i = 0; fds && i < count; i++) {
		int32_t fd = fds[i];

		memcpy((uint8_t *)(s + 1) + 4 * i, &fd, 4);
	}
	d->st.set_irqs++;
	r = d->sys.ioctl(d->sys.ctx, d->fd, VFD_DEVICE_SET_IRQS, s);
	free(s);
	return r;
}

static void close_efds(struct vfio_pci *d)
{
	for (unsigned int i = 0; i < d->nr_efd; i++)
		d->sys.close(d->sys.ctx, d->efd[i]);
	free(d->efd);
	d->efd = NULL;
	d->nr_efd = 0;
}

/*
 * Lock held. If VFIO refuses, the index stays armed with our eventfds: the mode is kept (the
 * next update tries again) unless force (the device is going away: the eventfds are closed).
 */
static int disarm_locked(struct vfio_pci *d, bool force)
{
	int r;

	if (d->mode == VFIO_PCI_IRQ_NONE)
		return 0;
	r = set_irqs(d, VFD_IRQ_SET_DATA_NONE | VFD_IRQ_SET_ACTION_TRIGGER, mode_index[d->mode], 0, NULL);
	if (r) {
		log_warn("vfio-pci", "VFIO_DEVICE_SET_IRQS (index %u off) failed: %s",
			 mode_index[d->mode], strerror(-r));
		if (!force)
			return r;
	}
	close_efds(d);
	d->mode = VFIO_PCI_IRQ_NONE;
	return 0;
}

static void arm_locked(struct vfio_pci *d, enum vfio_pci_irq_mode m, unsigned int count)
{
	int r;

	if (count > d->irq_info[mode_index[m]].count)
		count = d->irq_info[mode_index[m]].count;
	if (!count || count > VPCI_MAX_VECTORS)
		return;
	d->efd = calloc(count, sizeof(*d->efd));
	if (!d->efd)
		return;
	for (; d->nr_efd < count; d->nr_efd++) {
		int fd = d->sys.eventfd(d->sys.ctx);

		if (fd < 0) {
			close_efds(d);
			return;
		}
		d->efd[d->nr_efd] = fd;
	}
	r = set_irqs(d, VFD_IRQ_SET_DATA_EVENTFD | VFD_IRQ_SET_ACTION_TRIGGER, mode_index[m], count,
		     d->efd);
	if (r) {
		log_warn("vfio-pci", "VFIO_DEVICE_SET_IRQS (index %u, %u vectors) failed: %s",
			 mode_index[m], count, strerror(-r));
		close_efds(d);
		return;
	}
	d->mode = m;
}

void vpci_irq_update(struct vfio_pci *d)
{
	unsigned int count;
	enum vfio_pci_irq_mode m = wanted(d, &count);
	bool lower = false;

	pthread_mutex_lock(&d->lock);
	if (m != d->mode || (m != VFIO_PCI_IRQ_NONE && count != d->nr_efd)) {
		lower = d->mode == VFIO_PCI_IRQ_INTX && d->intx_asserted;
		if (disarm_locked(d, false)) {
			pthread_mutex_unlock(&d->lock);
			return;
		}
		d->intx_asserted = false;
		if (m != VFIO_PCI_IRQ_NONE)
			arm_locked(d, m, count);
		if (d->wake_fd >= 0)
			eventfd_write(d->wake_fd, 1);
	}
	pthread_mutex_unlock(&d->lock);
	if (lower)
		pci_set_irq(&d->pci, false);
}

void vpci_irq_disarm(struct vfio_pci *d, bool force)
{
	bool lower;

	pthread_mutex_lock(&d->lock);
	lower = d->intx_asserted;
	d->intx_asserted = false;
	disarm_locked(d, force);
	pthread_mutex_unlock(&d->lock);
	if (lower)
		pci_set_irq(&d->pci, false);
}

/* ---- delivery ---- */

int vfio_pci_service(struct vfio_pci *d)
{
	uint64_t fired[VPCI_MAX_VECTORS / 64] = { 0 };
	enum vfio_pci_irq_mode m;
	unsigned int n, delivered = 0;

	pthread_mutex_lock(&d->lock);
	m = d->mode;
	n = d->nr_efd;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t c;

		if (!d->sys.event_read(d->sys.ctx, d->efd[i], &c) && c)
			fired[i / 64] |= 1ULL << (i % 64);
	}
	if (m == VFIO_PCI_IRQ_INTX && fired[0])
		d->intx_asserted = true;
	pthread_mutex_unlock(&d->lock);
	/* The BARs trap before the line rises, so the handler's first access ends the interrupt. */
	if (m == VFIO_PCI_IRQ_INTX && fired[0])
		vpci_bar_sync(d);
	for (unsigned int i = 0; i < n; i++) {
		if (!(fired[i / 64] & (1ULL << (i % 64))))
			continue;
		if (m == VFIO_PCI_IRQ_INTX)
			pci_set_irq(&d->pci, true);
		else
			pci_msi_notify(&d->pci, i);
		delivered++;
	}
	pthread_mutex_lock(&d->lock);
	d->st.irqs += delivered;
	pthread_mutex_unlock(&d->lock);
	return (int)delivered;
}

void vfio_pci_intx_eoi(struct vfio_pci *d)
{
	pthread_mutex_lock(&d->lock);
	if (!d->intx_asserted || d->mode != VFIO_PCI_IRQ_INTX) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	d->intx_asserted = false;
	pthread_mutex_unlock(&d->lock);
	pci_set_irq(&d->pci, false);
	pthread_mutex_lock(&d->lock);
	if (d->mode == VFIO_PCI_IRQ_INTX)
		set_irqs(d, VFD_IRQ_SET_DATA_NONE | VFD_IRQ_SET_ACTION_UNMASK, VFD_PCI_INTX_IRQ, 1, NULL);
	pthread_mutex_unlock(&d->lock);
	vpci_bar_sync(d); /* the slots come back */
}

int vfio_pci_irq_eventfd(struct vfio_pci *d, unsigned int n)
{
	int fd;

	pthread_mutex_lock(&d->lock);
	fd = n < d->nr_efd ? d->efd[n] : -1;
	pthread_mutex_unlock(&d->lock);
	return fd;
}

enum vfio_pci_irq_mode vfio_pci_irq_mode(struct vfio_pci *d, unsigned int *ret_count)
{
	enum vfio_pci_irq_mode m;

	pthread_mutex_lock(&d->lock);
	m = d->mode;
	if (ret_count)
		*ret_count = d->nr_efd;
	pthread_mutex_unlock(&d->lock);
	return m;
}

/* ---- the polling thread (real runs) ---- */

static void *irq_thread(void *arg)
{
	struct vfio_pci *d = arg;
	struct pollfd *p = calloc(VPCI_MAX_VECTORS + 1, sizeof(*p));

	pthread_setname_np(pthread_self(), "nv-vfio-irq");
	while (p && !__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		unsigned int n = 0;
		eventfd_t v;

		p[n++] = (struct pollfd){ .fd = d->wake_fd, .events = POLLIN };
		pthread_mutex_lock(&d->lock);
		for (unsigned int i = 0; i < d->nr_efd; i++)
			p[n++] = (struct pollfd){ .fd = d->efd[i], .events = POLLIN };
		pthread_mutex_unlock(&d->lock);
		if (poll(p, n, POLL_MS) > 0 && p[0].revents)
			eventfd_read(d->wake_fd, &v);
		vfio_pci_service(d);
	}
	free(p);
	return NULL;
}

int vpci_irq_thread_start(struct vfio_pci *d)
{
	d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->wake_fd < 0)
		return -errno;
	if (pthread_create(&d->thread, NULL, irq_thread, d)) {
		close(d->wake_fd);
		d->wake_fd = -1;
		return -EAGAIN;
	}
	d->thread_on = true;
	return 0;
}

void vpci_irq_thread_stop(struct vfio_pci *d)
{
	if (!d->thread_on)
		return;
	__atomic_store_n(&d->stop, true, __ATOMIC_RELEASE);
	eventfd_write(d->wake_fd, 1);
	pthread_join(d->thread, NULL);
	close(d->wake_fd);
	d->wake_fd = -1;
	d->thread_on = false;
}
