/* SPDX-License-Identifier: MIT */
/*
 * virtio-console (virtio 1.x §5.3): one port, no multiport. What the driver transmits goes to an
 * output fd (nestvm's stdout) a whole buffer per write; what the input fd (stdin) gives goes into
 * the driver's receive buffers as a byte stream, split across buffers, never dropped: with no
 * buffer posted the receive thread stops reading until the driver posts one. EMERG_WRITE is
 * offered: a byte written to the config's emerg_wr goes out at once.
 *
 * Transmit runs on the transport's I/O thread; receive on the device's own thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio-internal.h"
#include "virtio.h"

#define VIRTIO_ID_CONSOLE 3
#define CON_CLASS 0x078000 /* communication controller, other */
#define CON_QUEUE_SIZE 128
#define CON_RXQ 0
#define CON_TXQ 1
/* §5.3.3 feature bit, §5.3.4 config: cols le16, rows le16, max_nr_ports le32, emerg_wr le32. */
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2
#define CON_CFG_EMERG_WR 8
#define CON_CFG_LEN 12
#define CON_CHUNK 4096u

struct virtio_console {
	struct virtio_pci vp;
	int in_fd, out_fd; /* in_fd -1: no input */
	int wake;          /* eventfd: receive buffers posted, or stop */
	bool stop;
	pthread_t rx_thread;
	bool rx_started;
	/* Set while the receive thread holds bytes and waits for a buffer (see virtio-net.c). */
	bool rx_wants_kick;
	uint8_t tx[CON_CHUNK];
	uint8_t rx[CON_CHUNK];
	/* Output counters (atomic); the input ones under tries_lock. */
	uint64_t tx_bytes, tx_lost, rx_bytes, rx_held, rx_tries;
	/* Signalled after each pass of the receive thread (virtio_console_wait_tries). */
	pthread_mutex_t tries_lock;
	pthread_cond_t tries_cond;
};

/* Writes all of buf unless the output is gone or broken; returns the bytes not written. */
static size_t write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf += n;
		len -= (size_t)n;
	}
	return len;
}

static void out(struct virtio_console *c, const uint8_t *buf, size_t len)
{
	size_t lost = write_all(c->out_fd, buf, len);

	__atomic_add_fetch(&c->tx_bytes, len - lost, __ATOMIC_RELAXED);
	__atomic_add_fetch(&c->tx_lost, lost, __ATOMIC_RELAXED);
}

/* Transmit: every readable byte of the chain, in order (§5.3.6.2). */
static int con_handle(void *opaque, unsigned int queue, struct virtq *q, const struct virtq_elem *e,
		      uint32_t *ret_len)
{
	struct virtio_console *c = opaque;

	*ret_len = 0;
	if (queue != CON_TXQ)
		return 0; /* receive buffers are taken by the receive thread only */
	for (uint64_t off = 0; off < e->out_bytes;) {
		uint64_t n = e->out_bytes - off < CON_CHUNK ? e->out_bytes - off : CON_CHUNK;

		if (virtq_elem_read(q, e, off, c->tx, n))
			return 0; /* DMA refused: what was read went out, the buffer goes back */
		out(c, c->tx, (size_t)n);
		off += n;
	}
	return 0;
}

static void con_config_write(void *opaque, unsigned int off, uint64_t val, unsigned int size)
{
	struct virtio_console *c = opaque;
	uint8_t ch = (uint8_t)val;

	/* §5.3.6.1: a write to emerg_wr outputs its low byte, with or without the driver ready. */
	if (off == CON_CFG_EMERG_WR && size >= 1)
		out(c, &ch, 1);
}

static bool con_kick(void *opaque, unsigned int queue)
{
	struct virtio_console *c = opaque;
	uint64_t one = 1;

	if (queue != CON_RXQ)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->rx_wants_kick, __ATOMIC_SEQ_CST))
		(void)!write(c->wake, &one, sizeof(one)); /* a saturated counter: awake anyway */
	return true;
}

static const struct virtio_dev_ops con_ops = {
	.handle = con_handle, .config_write = con_config_write, .kick = con_kick,
};

/*
 * Receive: reads up to a chunk when it holds nothing, then puts it into as many receive buffers
 * as it takes; with none posted it sleeps until a receive kick (or stop). End of input ends
 * reading (the device stays, with no more input).
 */
static void *rx_thread(void *arg)
{
	struct virtio_console *c = arg;
	size_t have = 0, pos = 0;
	bool eof = false;

	pthread_setname_np(pthread_self(), "nv-con-rx");
	for (;;) {
		struct pollfd p[2] = { { .fd = c->wake, .events = POLLIN },
				       { .fd = c->in_fd, .events = POLLIN } };
		uint64_t cnt;
		int r;

		if (poll(p, have || eof ? 1 : 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			(void)!read(c->wake, &cnt, sizeof(cnt));
		if (__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
			break;
		if (!have && !eof && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t n;

			/* Under tries_lock so that virtio_console_input_account sees no byte in flight. */
			pthread_mutex_lock(&c->tries_lock);
			n = read(c->in_fd, c->rx, sizeof(c->rx));
			if (n > 0)
				c->rx_held = (uint64_t)n;
			pthread_mutex_unlock(&c->tries_lock);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				eof = true;
			else
				have = (size_t)n;
			pos = 0;
		}
		/* Raised before the look at the ring, as in virtio-net's receive. */
		__atomic_store_n(&c->rx_wants_kick, true, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		while (have) {
			r = virtio_pci_fill_some(&c->vp, CON_RXQ, c->rx + pos, have);
			if (r == -ENOSPC)
				continue; /* a buffer with no room: returned empty, try the next */
			if (r <= 0)
				break;    /* no buffer (wait for a kick), or the queue broke */
			pthread_mutex_lock(&c->tries_lock);
			c->rx_bytes += (uint64_t)r;
			c->rx_held -= (uint64_t)r;
			pthread_mutex_unlock(&c->tries_lock);
			pos += (size_t)r;
			have -= (size_t)r;
		}
		if (!have)
			__atomic_store_n(&c->rx_wants_kick, false, __ATOMIC_SEQ_CST);
		pthread_mutex_lock(&c->tries_lock);
		__atomic_add_fetch(&c->rx_tries, 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&c->tries_cond);
		pthread_mutex_unlock(&c->tries_lock);
	}
	return NULL;
}

struct virtio_console *virtio_console_create(struct pci_host *h, unsigned int slot,
					     const struct dma_as *as, int in_fd, int out_fd,
					     char *err, size_t errlen)
{
	struct virtio_console *c = calloc(1, sizeof(*c));
	uint8_t cfg[CON_CFG_LEN] = { 0 };
	int r;

	if (!c) {
		snprintf(err, errlen, "virtio-console: out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->tries_lock, NULL);
	pthread_cond_init(&c->tries_cond, NULL);
	c->out_fd = out_fd;
	c->in_fd = in_fd >= 0 && fcntl(in_fd, F_GETFD) >= 0 ? in_fd : -1;
	c->wake = eventfd(0, EFD_CLOEXEC);
	if (c->wake < 0) {
		snprintf(err, errlen, "virtio-console: no eventfd: %s", strerror(errno));
		free(c);
		return NULL;
	}
	cfg[4] = 1; /* max_nr_ports: only read with MULTIPORT, which is not offered */
	r = virtio_pci_init(&c->vp, h, slot, as, VIRTIO_ID_CONSOLE, CON_CLASS, 2, CON_QUEUE_SIZE,
			    BIT_ULL(VIRTIO_CONSOLE_F_EMERG_WRITE), cfg, sizeof(cfg), &con_ops, c);
	if (r) {
		snprintf(err, errlen, "virtio-console: cannot plug the device into slot %u: %s", slot,
			 strerror(-r));
		close(c->wake);
		free(c);
		return NULL;
	}
	if (c->in_fd >= 0) {
		if (pthread_create(&c->rx_thread, NULL, rx_thread, c)) {
			snprintf(err, errlen, "virtio-console: cannot start its receive thread");
			virtio_console_destroy(c);
			return NULL;
		}
		c->rx_started = true;
	}
	return c;
}

void virtio_console_destroy(struct virtio_console *c)
{
	uint64_t one = 1;

	if (!c)
		return;
	if (c->rx_started) {
		__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
		(void)!write(c->wake, &one, sizeof(one));
		pthread_join(c->rx_thread, NULL);
	}
	virtio_pci_cleanup(&c->vp);
	close(c->wake);
	pthread_cond_destroy(&c->tries_cond);
	pthread_mutex_destroy(&c->tries_lock);
	free(c);
}

void virtio_console_wait_tries(struct virtio_console *c, uint64_t before)
{
	pthread_mutex_lock(&c->tries_lock);
	while (__atomic_load_n(&c->rx_tries, __ATOMIC_ACQUIRE) == before)
		pthread_cond_wait(&c->tries_cond, &c->tries_lock);
	pthread_mutex_unlock(&c->tries_lock);
}

struct pci_dev *virtio_console_pci_dev(struct virtio_console *c)
{
	return &c->vp.pci;
}

struct virtio_pci *virtio_console_transport(struct virtio_console *c)
{
	return &c->vp;
}

void virtio_console_get_stats(struct virtio_console *c, struct virtio_console_stats *ret)
{
	ret->tx_bytes = __atomic_load_n(&c->tx_bytes, __ATOMIC_RELAXED);
	ret->tx_lost = __atomic_load_n(&c->tx_lost, __ATOMIC_RELAXED);
	pthread_mutex_lock(&c->tries_lock);
	ret->rx_bytes = c->rx_bytes;
	ret->rx_held = c->rx_held;
	ret->rx_tries = c->rx_tries;
	pthread_mutex_unlock(&c->tries_lock);
}

uint64_t virtio_console_input_account(struct virtio_console *c, int fd, uint64_t *ret_in_fd)
{
	uint64_t taken;
	int n = 0;

	pthread_mutex_lock(&c->tries_lock);
	taken = c->rx_bytes + c->rx_held;
	if (ioctl(fd, FIONREAD, &n))
		n = -1;
	pthread_mutex_unlock(&c->tries_lock);
	*ret_in_fd = n < 0 ? UINT64_MAX : (uint64_t)n;
	return taken;
}
