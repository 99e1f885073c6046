/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.x §5.1) on a tap device or a given packet fd: one receive and one
 * transmit queue, a MAC address, no offloads. Transmit runs on the transport's I/O thread;
 * receive on the device's own thread, which reads a frame and waits for a buffer to put it in.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio-internal.h"
#include "virtio.h"

#define VIRTIO_ID_NET 1
#define NET_CLASS 0x020000 /* network, ethernet */
#define NET_QUEUE_SIZE 256
#define NET_RXQ 0
#define NET_TXQ 1
#define VIRTIO_NET_F_MAC 5
/* §5.1.6: with VERSION_1 every buffer starts with the 12-byte header (num_buffers included). */
#define NET_HDR_LEN 12u
#define NET_HDR_NUM_BUFFERS 10
#define NET_MAX_FRAME (65535u + 14)

struct virtio_net {
	struct virtio_pci vp;
	int fd;       /* tap or the caller's packet fd */
	bool own_fd;
	int wake;     /* eventfd: receive buffers posted, or stop */
	bool stop;
	pthread_t rx_thread;
	bool rx_started;
	uint8_t tx[NET_MAX_FRAME];
	uint8_t rx[NET_MAX_FRAME];
	/*
	 * The receive thread holds a frame and is about to look for a buffer or sleeps until a
	 * receive kick: only then does a kick wake it (a kick while it holds none changes nothing,
	 * it looks for a buffer as soon as it reads a frame).
	 */
	bool rx_wants_kick;
	/* Counters (atomic: read by virtio_net_get_stats from any thread). */
	uint64_t tx_frames, rx_frames, rx_dropped, rx_tries;
	bool rx_pending;
	/* Signalled after each attempt (virtio_net_wait_tries). */
	pthread_mutex_t tries_lock;
	pthread_cond_t tries_cond;
};

/* Transmit: the readable bytes after the header are one frame (§5.1.6.2). */
static int net_handle(void *opaque, unsigned int queue, struct virtq *q, const struct virtq_elem *e,
		      uint32_t *ret_len)
{
	struct virtio_net *n = opaque;
	uint64_t len;

	*ret_len = 0;
	if (queue != NET_TXQ)
		return 0; /* receive buffers are taken by the receive thread only */
	if (e->out_bytes < NET_HDR_LEN || e->out_bytes - NET_HDR_LEN > NET_MAX_FRAME)
		return 0; /* not a frame we can send: dropped, the buffer goes back */
	len = e->out_bytes - NET_HDR_LEN;
	if (virtq_elem_read(q, e, NET_HDR_LEN, n->tx, len))
		return 0;
	/* A full or gone host side drops the frame, as a cable would. */
	if (write(n->fd, n->tx, len) == (ssize_t)len)
		__atomic_add_fetch(&n->tx_frames, 1, __ATOMIC_RELAXED);
	return 0;
}

static bool net_kick(void *opaque, unsigned int queue)
{
	struct virtio_net *n = opaque;
	uint64_t one = 1;

	if (queue != NET_RXQ)
		return false;
	/* Orders the driver's buffer (posted before this kick) before the look at the flag. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&n->rx_wants_kick, __ATOMIC_SEQ_CST))
		return true;
	if (write(n->wake, &one, sizeof(one)) < 0)
		return true; /* the counter is saturated: the thread is awake anyway */
	return true;
}

static const struct virtio_dev_ops net_ops = { .handle = net_handle, .kick = net_kick };

/*
 * Receive: reads a frame when it has none, then offers it to the guest; with no buffer posted it
 * sleeps until a receive kick (or stop). A frame that does not fit its buffer is dropped.
 */
static void *rx_thread(void *arg)
{
	struct virtio_net *n = arg;
	uint8_t hdr[NET_HDR_LEN] = { 0 };
	ssize_t have = 0;

	pthread_setname_np(pthread_self(), "nv-net-rx");
	hdr[NET_HDR_NUM_BUFFERS] = 1;
	for (;;) {
		struct pollfd p[2] = { { .fd = n->wake, .events = POLLIN },
				       { .fd = n->fd, .events = POLLIN } };
		uint64_t cnt;
		int r;

		if (poll(p, have ? 1 : 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			(void)!read(n->wake, &cnt, sizeof(cnt));
		if (__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE))
			break;
		if (!have && (p[1].revents & POLLIN)) {
			have = read(n->fd, n->rx, sizeof(n->rx));
			if (have <= 0) {
				have = 0;
				if (p[1].revents & (POLLHUP | POLLERR))
					break; /* the host side is gone */
				continue;
			}
		} else if (!have && (p[1].revents & (POLLHUP | POLLERR))) {
			break;
		}
		if (!have)
			continue;
		/*
		 * Raised before the look at the ring: a buffer posted after that look comes with a
		 * kick that sees the flag and wakes us (a posted buffer is seen by one or the other).
		 */
		__atomic_store_n(&n->rx_wants_kick, true, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		r = virtio_pci_fill(&n->vp, NET_RXQ, hdr, sizeof(hdr), n->rx, (size_t)have);
		if (r == 1)
			__atomic_add_fetch(&n->rx_frames, 1, __ATOMIC_RELAXED);
		else if (r != 0)
			__atomic_add_fetch(&n->rx_dropped, 1, __ATOMIC_RELAXED);
		if (r != 0) {
			have = 0; /* delivered or dropped; 0 = keep it until buffers come */
			__atomic_store_n(&n->rx_wants_kick, false, __ATOMIC_SEQ_CST);
		}
		__atomic_store_n(&n->rx_pending, have != 0, __ATOMIC_RELAXED);
		pthread_mutex_lock(&n->tries_lock);
		__atomic_add_fetch(&n->rx_tries, 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&n->tries_cond);
		pthread_mutex_unlock(&n->tries_lock);
	}
	return NULL;
}

static int open_tap(const char *name, char *err, size_t errlen)
{
	struct ifreq ifr = { 0 };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "virtio-net: cannot open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		snprintf(err, errlen, "virtio-net: cannot attach to tap %.20s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct virtio_net *virtio_net_create(struct pci_host *h, unsigned int slot, const struct dma_as *as,
				     const struct virtio_net_options *o, char *err, size_t errlen)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	uint8_t cfg[8] = { 0 };
	int r;

	if (!n) {
		snprintf(err, errlen, "virtio-net: out of memory");
		return NULL;
	}
	n->wake = -1;
	pthread_mutex_init(&n->tries_lock, NULL);
	pthread_cond_init(&n->tries_cond, NULL);
	n->fd = o->tap[0] ? open_tap(o->tap, err, errlen) : o->fd;
	n->own_fd = o->tap[0];
	if (n->fd < 0)
		goto err_free;
	n->wake = eventfd(0, EFD_CLOEXEC);
	if (n->wake < 0) {
		snprintf(err, errlen, "virtio-net: no eventfd: %s", strerror(errno));
		goto err_close;
	}
	memcpy(cfg, o->mac, 6);
	r = virtio_pci_init(&n->vp, h, slot, as, VIRTIO_ID_NET, NET_CLASS, 2, NET_QUEUE_SIZE,
			    BIT_ULL(VIRTIO_NET_F_MAC), cfg, sizeof(cfg), &net_ops, n);
	/* Offered as before: Linux's virtio-net puts a frame in one buffer, rarely in a table. */
	n->vp.indirect = VIRTIO_INDIRECT_ON;
	n->vp.packed = o->packed;
	if (r) {
		snprintf(err, errlen, "virtio-net: cannot plug the device into slot %u: %s", slot,
			 strerror(-r));
		goto err_close;
	}
	if (pthread_create(&n->rx_thread, NULL, rx_thread, n)) {
		snprintf(err, errlen, "virtio-net: cannot start its receive thread");
		virtio_pci_cleanup(&n->vp);
		goto err_close;
	}
	n->rx_started = true;
	return n;

err_close:
	if (n->wake >= 0)
		close(n->wake);
	if (n->own_fd && n->fd >= 0)
		close(n->fd);
err_free:
	free(n);
	return NULL;
}

void virtio_net_destroy(struct virtio_net *n)
{
	uint64_t one = 1;

	if (!n)
		return;
	if (n->rx_started) {
		__atomic_store_n(&n->stop, true, __ATOMIC_RELEASE);
		(void)!write(n->wake, &one, sizeof(one));
		pthread_join(n->rx_thread, NULL);
	}
	virtio_pci_cleanup(&n->vp);
	close(n->wake);
	if (n->own_fd)
		close(n->fd);
	pthread_cond_destroy(&n->tries_cond);
	pthread_mutex_destroy(&n->tries_lock);
	free(n);
}

void virtio_net_wait_tries(struct virtio_net *n, uint64_t before)
{
	pthread_mutex_lock(&n->tries_lock);
	while (__atomic_load_n(&n->rx_tries, __ATOMIC_ACQUIRE) == before)
		pthread_cond_wait(&n->tries_cond, &n->tries_lock);
	pthread_mutex_unlock(&n->tries_lock);
}

void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *ret)
{
	ret->rx_tries = __atomic_load_n(&n->rx_tries, __ATOMIC_ACQUIRE);
	ret->tx_frames = __atomic_load_n(&n->tx_frames, __ATOMIC_RELAXED);
	ret->rx_frames = __atomic_load_n(&n->rx_frames, __ATOMIC_RELAXED);
	ret->rx_dropped = __atomic_load_n(&n->rx_dropped, __ATOMIC_RELAXED);
	ret->rx_pending = __atomic_load_n(&n->rx_pending, __ATOMIC_RELAXED);
}

struct pci_dev *virtio_net_pci_dev(struct virtio_net *n)
{
	return &n->vp.pci;
}

struct virtio_pci *virtio_net_transport(struct virtio_net *n)
{
	return &n->vp;
}
