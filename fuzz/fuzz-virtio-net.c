/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-net (devices/virtio/virtio-net.c) through the whole device: the
 * virtio-pci transport and its I/O thread (transmit), the receive thread, feature negotiation
 * through the common config, and the split-virtqueue parser under both queues. The tap is a
 * SOCK_SEQPACKET socketpair (the device's fd=N mode): frames the guest transmits are read
 * from the peer, and frames the input makes are sent into it for the receive thread to place
 * in the guest's receive buffers. Guest memory is reached through the device's DMA address
 * space, optionally through a fake IOMMU, as in fuzz-virtio.c.
 *
 * One device serves every input: the first input creates it (and its two threads) and later
 * ones reuse it, which saves starting and joining two threads per input. Each input begins
 * with a virtio reset (status 0), after which the device must read back exactly as it did when
 * created (common config of both queues and of a queue it lacks, device config, ISR), with
 * every queue's device state as created, no queue broken, no kick pending and no frame held;
 * each input ends with no frame held (a held frame is dropped through a 1-byte buffer). So an
 * input behaves the same run alone as in a fuzzing run, and a reset that leaves state behind
 * is a finding.
 *
 * Input: a setup byte (bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 DMA through a fake IOMMU that
 * blocks IOVAs with bit 15 set, 3 bus master off, 4 MAC not negotiated), a queue-size byte
 * (1 << (b % 8), both queues), then up to FZ_MAX_OPS operations:
 *   0 RAM     offset u16, value u64 (anywhere in the 64 KiB of RAM)
 *   1 desc    queue/index u8 (bit 7: TX), addr u32, len u32, flags u8, next u16
 *   2 offer   queue u8 (bit 0: TX), head u16: next avail slot, avail idx + 1, kick, settle
 *   3 idx     queue u8, avail idx u16 as given, kick, settle
 *   4 common  offset u8 (in the 56-byte common config), size-selector, value u32 (feature
 *             select/words, status, queue select/size/addresses/enable: negotiation)
 *   5 header  addr u16, 12 bytes: a virtio-net header in RAM (flags, GSO, csum, num_buffers)
 *   6 frame   length u16, fill byte u8, up to 16 leading bytes: sent into the "tap"; settle
 *   7 reset   status 0, then the driver's bring-up again; skipped right after a bring-up
 *             (a run of 7s is one bring-up: the mutator makes long runs of them, each cost
 *             thread hand-offs; a repeat is still expressible with any op in between)
 * "settle" waits until the device has done what the step started: the I/O thread drained
 * (transmit), the receive thread has tried to place a frame it read or was woken for. Status
 * writes with DRIVER_OK (op 4, op 7) kick every enabled queue, so they settle too.
 * Oracle: no sanitizer report, no hang; every frame the device transmitted arrives at the
 * peer, one message each, no longer than a frame can be; every frame sent in is delivered,
 * dropped, or held (at most one) waiting for a buffer; once the device has set
 * DEVICE_NEEDS_RESET, transmit kicks serve no further request until the driver resets it;
 * after a reset the device is as created (above).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devices/virtio/virtio-internal.h"
#include "devices/virtio/virtio.h"
#include "fuzz-util.h"
#include "fuzz-virtio-util.h"
#include "vmm/core/bus.h"

#define FZ_RAM_SIZE (64 * 1024ULL)
#define FZ_MAX_OPS 256
#define FZ_ECAM 0xb0000000ULL
#define FZ_MMIO 0xc0000000ULL
#define FZ_SLOT 4
#define FZ_RING(q) FZ_RING2(q)
#define FZ_HDR_LEN 12
#define FZ_MAX_FRAME (65535 + 14)
#define FZ_F_MAC 5

struct fz_net {
	struct bus bus;
	struct fz_irq irq;
	struct pci_host *host;
	struct virtio_net *net;
	struct dma_as as;
	int fd, peer;
	uint64_t bar;
	uint16_t qsize, offered[2];
	uint64_t sent;     /* frames sent into the tap */
	uint64_t received; /* frames read from the peer */
};

static struct fz_ram fz_net_ram;

static void wr(struct fz_net *v, uint64_t off, uint64_t val, unsigned int size)
{
	fz_virtio_wr(&v->bus, v->bar, off, val, size);
}

static void bring_up(struct fz_net *v, uint8_t setup)
{
	uint64_t feat = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
			(setup & 1 ? BIT_ULL(VIRTIO_F_EVENT_IDX) : 0) |
			(setup & 2 ? BIT_ULL(VIRTIO_F_INDIRECT_DESC) : 0) |
			(setup & 16 ? 0 : BIT_ULL(FZ_F_MAC));

	fz_virtio_negotiate(&v->bus, v->bar, feat);
	for (unsigned int q = 0; q < 2; q++) {
		fz_virtio_queue(&v->bus, v->bar, q, v->qsize, FZ_RING(q), FZ_RING(q) + 0x1000,
				FZ_RING(q) + 0x2000);
	}
	wr(v, VIRTIO_COMMON_STATUS, 0xf, 1);
	v->offered[0] = v->offered[1] = 0;
}

/* Waits until the receive thread has made another attempt than the one counted in before. */
static void wait_try(struct fz_net *v, uint64_t before)
{
	virtio_net_wait_tries(v->net, before);
}

/* Reads what the device transmitted; each message is one frame. */
static void collect_tx(struct fz_net *v)
{
	static uint8_t buf[FZ_MAX_FRAME + 64];
	struct virtio_net_stats s;
	ssize_t n;

	while ((n = recv(v->peer, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC)) >= 0) {
		FZ_CHECK(n <= FZ_MAX_FRAME);
		v->received++;
	}
	virtio_net_get_stats(v->net, &s);
	FZ_CHECK(s.tx_frames == v->received);
}

/* The frame accounting: each frame sent in is delivered, dropped or (one) held. */
static void check_rx(struct fz_net *v)
{
	struct virtio_net_stats s;

	virtio_net_get_stats(v->net, &s);
	FZ_CHECK(s.rx_frames + s.rx_dropped + s.rx_pending == v->sent);
}

static void kick(struct fz_net *v, unsigned int q)
{
	struct virtio_pci *vp = virtio_net_transport(v->net);
	struct virtio_pci_stats before, after;
	struct virtio_net_stats s;
	bool broken = bus_read(&v->bus, BUS_MMIO, v->bar + VIRTIO_COMMON_STATUS, 1) &
		      VIRTIO_STATUS_NEEDS_RESET;

	virtio_net_get_stats(v->net, &s);
	virtio_pci_get_stats(vp, &before);
	wr(v, VIRTIO_BAR_NOTIFY + VIRTIO_NOTIFY_MULT * q, q, 2);
	if (q == 1) {
		virtio_pci_drain(vp);
		virtio_pci_get_stats(vp, &after);
		FZ_CHECK(!broken || after.requests == before.requests);
		collect_tx(v);
	} else if (s.rx_pending) {
		/* The receive thread holds a frame: the kick makes it try again. */
		wait_try(v, s.rx_tries);
	}
	check_rx(v);
}

/*
 * After a common-config write or a bring-up: a status write with DRIVER_OK kicks every
 * enabled queue (the transport picks up buffers posted before), so transmit may have run on
 * the I/O thread and a held frame may have been tried again. Waits for both.
 */
static void settle(struct fz_net *v, const struct virtio_net_stats *before, bool status_written)
{
	struct virtio_pci *vp = virtio_net_transport(v->net);
	bool rx_kicked;

	virtio_pci_drain(vp);
	collect_tx(v);
	pthread_mutex_lock(&vp->lock);
	rx_kicked = status_written && (vp->status & VIRTIO_STATUS_DRIVER_OK) && vp->vq[0].enabled;
	pthread_mutex_unlock(&vp->lock);
	if (rx_kicked && before->rx_pending)
		wait_try(v, before->rx_tries);
	check_rx(v);
}

/* Sends one frame into the tap when the device can take it (it holds none), and settles. */
static void send_frame(struct fz_net *v, struct fz *f)
{
	static uint8_t frame[FZ_MAX_FRAME + 500];
	struct virtio_net_stats s;
	uint16_t l = fz_u16(f);
	/* 1..2048 bytes, or around the largest frame (a 0-byte message is no frame). */
	size_t len = l < 0x8000 ? 1 + l % 2048 : FZ_MAX_FRAME - 500 + l % 1000;

	memset(frame, fz_u8(f), len);
	fz_bytes(f, frame, len < 16 ? len : 16);
	virtio_net_get_stats(v->net, &s);
	if (s.rx_pending)
		return; /* it reads nothing until its frame is placed: keep one in flight */
	if (send(v->peer, frame, len, MSG_DONTWAIT) < 0)
		return;
	v->sent++;
	wait_try(v, s.rx_tries);
	check_rx(v);
}

/* The DMA path of this input: identity, or the fake IOMMU (threads are idle, lock held). */
static void set_dma(struct fz_net *v, bool iommu)
{
	fz_virtio_set_dma(virtio_net_transport(v->net), &v->as, &fz_net_ram, v, iommu);
}

/*
 * The device of every input: created by the first one and kept, so its two threads are
 * started once per process instead of once per input. Each input begins with a virtio reset,
 * after which the device must be exactly as created (the reset oracle): what the guest reads
 * of it, each queue's device state, no queue broken, no kick pending, no frame held.
 */
static void begin(struct fz_net *v, uint8_t setup)
{
	static struct fz_virtio_state initial;
	struct virtio_pci *vp;
	struct virtio_net_stats s;

	fz_ram_reset(&fz_net_ram, FZ_RAM_SIZE);
	if (!v->net) {
		struct virtio_net_options o = { .mac = { 0x02, 0, 0, 0xaa, 0xbb, 0xcc } };
		char err[200];
		int sv[2];

		bus_init(&v->bus);
		fz_irq_init(&v->irq);
		v->host = pci_host_create(&v->bus, &v->irq.chip, NULL, FZ_ECAM, 256ULL << 20,
					  FZ_MMIO, 16ULL << 20, 0xc000, 0x4000);
		FZ_CHECK(v->host != NULL);
		FZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
		/* A full peer drops a transmitted frame instead of stalling the I/O thread (as a tap). */
		FZ_CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
		v->fd = sv[0];
		v->peer = sv[1];
		o.fd = v->fd;
		v->as = (struct dma_as){ .gmem = &fz_net_ram.gm };
		v->net = virtio_net_create(v->host, FZ_SLOT, &v->as, &o, err, sizeof(err));
		FZ_CHECK(v->net != NULL);
		v->bar = pci_bar_addr(virtio_net_pci_dev(v->net), 0);
		bus_write(&v->bus, BUS_MMIO, FZ_ECAM + (FZ_SLOT << 15) + PCI_COMMAND,
			  PCI_COMMAND_MEMORY, 2);
		fz_virtio_snapshot(&v->bus, v->bar, virtio_net_transport(v->net), &initial);
	}
	vp = virtio_net_transport(v->net);
	set_dma(v, setup & 4);
	bus_write(&v->bus, BUS_MMIO, FZ_ECAM + (FZ_SLOT << 15) + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | (setup & 8 ? 0 : PCI_COMMAND_MASTER), 2);
	fz_virtio_reset_check(&v->bus, v->bar, vp, &initial);
	virtio_net_get_stats(v->net, &s);
	FZ_CHECK(!s.rx_pending);
	check_rx(v);
	collect_tx(v);
}

/*
 * Ends an input with no frame held, so the next one starts from a device that reads the tap:
 * a reset and a receive queue with one 1-byte buffer, which the held frame does not fit
 * (dropped). Part of this input, so a crash here reproduces with it alone.
 */
static void end(struct fz_net *v)
{
	struct virtio_pci *vp = virtio_net_transport(v->net);
	uint64_t ring = FZ_RING(0);
	struct virtio_net_stats s;

	virtio_pci_drain(vp);
	collect_tx(v);
	virtio_net_get_stats(v->net, &s);
	if (!s.rx_pending)
		return;
	set_dma(v, false);
	bus_write(&v->bus, BUS_MMIO, FZ_ECAM + (FZ_SLOT << 15) + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	fz_virtio_one_rx_buffer(&v->bus, v->bar, &fz_net_ram, ring, 0, 1, 1);
	wait_try(v, s.rx_tries);
	virtio_net_get_stats(v->net, &s);
	FZ_CHECK(!s.rx_pending);
	check_rx(v);
	virtio_pci_drain(vp);
	collect_tx(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_net v;
	struct fz f = { data, size };
	struct fz_ram *ram = &fz_net_ram;
	struct virtio_net_stats st;
	bool up = true; /* the last step was a bring-up */
	uint8_t setup;

	setup = fz_u8(&f);
	begin(&v, setup);
	v.qsize = (uint16_t)(1u << (fz_u8(&f) % 8));
	virtio_net_get_stats(v.net, &st);
	bring_up(&v, setup);
	settle(&v, &st, true);

	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		unsigned int op = fz_u8(&f) % 8;

		if (op == 7 && up)
			continue; /* it would repeat the bring-up just done, step for step */
		up = op == 7;
		switch (op) {
		case 0:
		case 1:
		case 2:
		case 3: {
			int q = fz_virtio_ring_op(ram, &f, op, v.qsize, v.offered);

			if (q >= 0)
				kick(&v, (unsigned int)q);
			break;
		}
		case 4: {
			unsigned int off = fz_u8(&f) % VIRTIO_COMMON_SIZE, sz = fz_size(&f);

			virtio_net_get_stats(v.net, &st);
			wr(&v, off, fz_u32(&f), sz);
			settle(&v, &st, off == VIRTIO_COMMON_STATUS && sz == 1);
			break;
		}
		case 5: {
			uint16_t a = fz_u16(&f);
			uint8_t hdr[FZ_HDR_LEN] = { 0 };

			fz_bytes(&f, hdr, sizeof(hdr));
			for (unsigned int i = 0; i < sizeof(hdr); i++)
				fz_virtio_put(ram, (uint64_t)a + i, hdr[i], 1);
			break;
		}
		case 6:
			send_frame(&v, &f);
			break;
		default:
			virtio_net_get_stats(v.net, &st);
			bring_up(&v, setup);
			settle(&v, &st, true);
			break;
		}
	}
	end(&v);
	return 0;
}
