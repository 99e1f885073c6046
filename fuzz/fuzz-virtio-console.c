/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: virtio-console (devices/virtio/virtio-console.c) through the whole device: the
 * virtio-pci transport and its I/O thread (transmit), the receive thread and its byte stream
 * split over receive buffers (virtio_pci_fill_some), the emergency write, feature negotiation
 * through the common config, and the split-virtqueue parser under both queues. stdin and
 * stdout are two pipes (a thread of ours drains stdout as the device writes). One device serves
 * every input (as in fuzz-virtio-net.c): each input begins with a virtio reset, after which the
 * device must read back as created, and ends with no input held or left in the pipe, so an input
 * behaves the same alone as in a fuzzing run.
 *
 * Input: a setup byte (bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 DMA through a fake IOMMU that
 * blocks IOVAs with bit 15 set, 3 bus master off), a queue-size byte (1 << (b % 8), both
 * queues), then up to FZ_MAX_OPS operations:
 *   0 RAM     offset u16, value u64 (anywhere in the 64 KiB of RAM)
 *   1 desc    queue/index u8 (bit 7: TX), addr u32, len u32, flags u8, next u16
 *   2 offer   queue u8 (bit 0: TX), head u16: next avail slot, avail idx + 1, kick, settle
 *   3 idx     queue u8, avail idx u16 as given, kick, settle
 *   4 common  offset u8 (in the 56-byte common config), size-selector, value u32; settle
 *   5 config  offset u8 (in the 12-byte device config), size-selector, value u32 (emerg_wr)
 *   6 input   length u16 (1..8192), fill byte u8: written into stdin; settle
 *   7 reset   status 0, then the driver's bring-up again; settle
 * "settle" waits until the device has done what the step started: the I/O thread drained
 * (transmit) and the receive thread made a pass when it had something to do.
 * Oracle: no sanitizer report, no hang; every byte the device counts as written is in the
 * output pipe and none is lost; every byte written into stdin is delivered, held by the
 * device, or still in the pipe (never dropped).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
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
#define FZ_F_EMERG_WRITE 2

struct fz_con {
	pthread_t reader; /* drains stdout as the device writes it: a long chain never blocks it */
	struct bus bus;
	struct fz_irq irq;
	struct pci_host *host;
	struct virtio_console *con;
	struct dma_as as;
	int in[2], out[2];
	uint64_t bar;
	uint16_t qsize, offered[2];
	uint64_t sent;    /* bytes into stdin */
	uint64_t written; /* bytes read from stdout (atomic: the reader thread adds) */
};

static struct fz_ram fz_con_ram;

static void wr(struct fz_con *v, uint64_t off, uint64_t val, unsigned int size)
{
	fz_virtio_wr(&v->bus, v->bar, off, val, size);
}

static uint64_t in_pipe(struct fz_con *v)
{
	uint64_t n;

	virtio_console_input_account(v->con, v->in[0], &n);
	FZ_CHECK(n != UINT64_MAX);
	return n;
}

static void *reader(void *arg)
{
	struct fz_con *v = arg;
	static uint8_t buf[65536];
	ssize_t n;

	while ((n = read(v->out[0], buf, sizeof(buf))) > 0)
		__atomic_add_fetch(&v->written, (uint64_t)n, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * With the I/O thread drained: what reached stdout is exactly what the device counts as
 * written (the reader catches up; more is a finding at once, less would hang), none lost.
 */
static void check_out(struct fz_con *v)
{
	struct virtio_console_stats s;
	uint64_t w;

	virtio_console_get_stats(v->con, &s);
	FZ_CHECK(s.tx_lost == 0);
	while ((w = __atomic_load_n(&v->written, __ATOMIC_ACQUIRE)) < s.tx_bytes)
		usleep(20);
	FZ_CHECK(w == s.tx_bytes);
}

/* Input accounting, at any instant: delivered + held + still in the pipe = sent. */
static void check_in(struct fz_con *v)
{
	uint64_t left, taken = virtio_console_input_account(v->con, v->in[0], &left);

	FZ_CHECK(left != UINT64_MAX && taken + left == v->sent);
}

/*
 * After a step: transmit has run (I/O thread drained) and the receive thread is at rest: it
 * made a pass when the step woke it (a receive kick while it holds bytes), and it holds bytes
 * or the pipe is empty (else a pass is coming).
 */
static void settle(struct fz_con *v, const struct virtio_console_stats *before, bool rx_woken)
{
	struct virtio_pci *vp = virtio_console_transport(v->con);
	struct virtio_console_stats s;

	virtio_pci_drain(vp);
	check_out(v);
	check_in(v);
	if (rx_woken && before->rx_held)
		virtio_console_wait_tries(v->con, before->rx_tries);
	for (;;) {
		virtio_console_get_stats(v->con, &s);
		if (s.rx_held || !in_pipe(v))
			break;
		virtio_console_wait_tries(v->con, s.rx_tries);
	}
	check_in(v);
}

/* A status write with DRIVER_OK kicks every enabled queue, the receive queue included. */
static bool rx_kicked_by_status(struct fz_con *v)
{
	struct virtio_pci *vp = virtio_console_transport(v->con);
	bool k;

	pthread_mutex_lock(&vp->lock);
	k = (vp->status & VIRTIO_STATUS_DRIVER_OK) && vp->vq[0].enabled;
	pthread_mutex_unlock(&vp->lock);
	return k;
}

static void bring_up(struct fz_con *v, uint8_t setup)
{
	uint64_t feat = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
			BIT_ULL(FZ_F_EMERG_WRITE) |
			(setup & 1 ? BIT_ULL(VIRTIO_F_EVENT_IDX) : 0) |
			(setup & 2 ? BIT_ULL(VIRTIO_F_INDIRECT_DESC) : 0);
	struct virtio_console_stats st;

	virtio_console_get_stats(v->con, &st);
	fz_virtio_negotiate(&v->bus, v->bar, feat);
	for (unsigned int q = 0; q < 2; q++)
		fz_virtio_queue(&v->bus, v->bar, q, v->qsize, FZ_RING(q), FZ_RING(q) + 0x1000,
				FZ_RING(q) + 0x2000);
	wr(v, VIRTIO_COMMON_STATUS, 0xf, 1);
	v->offered[0] = v->offered[1] = 0;
	settle(v, &st, rx_kicked_by_status(v));
}

static void kick(struct fz_con *v, unsigned int q)
{
	struct virtio_console_stats st;

	virtio_console_get_stats(v->con, &st);
	wr(v, VIRTIO_BAR_NOTIFY + VIRTIO_NOTIFY_MULT * q, q, 2);
	settle(v, &st, q == 0);
}

static void input(struct fz_con *v, struct fz *f)
{
	static uint8_t buf[8192];
	struct virtio_console_stats st;
	size_t len = 1 + fz_u16(f) % sizeof(buf);
	ssize_t n;

	memset(buf, fz_u8(f), len);
	virtio_console_get_stats(v->con, &st);
	n = write(v->in[1], buf, len); /* non-blocking: a full pipe takes part or none */
	if (n > 0)
		v->sent += (uint64_t)n;
	settle(v, &st, false);
}

/* The DMA path of this input: identity, or the fake IOMMU (the threads are idle). */
static void set_dma(struct fz_con *v, bool iommu)
{
	fz_virtio_set_dma(virtio_console_transport(v->con), &v->as, &fz_con_ram, v, iommu);
}

/*
 * The device of every input: created by the first one and kept with its threads (a device and
 * three threads per input grew the sanitizer's records by ~0.7 KiB an input). Each input begins
 * with a virtio reset, after which the device must read back as created, hold no input and
 * leave none in the pipe (end() of the input before drained it).
 */
static void begin(struct fz_con *v, uint8_t setup)
{
	static struct fz_virtio_state initial;
	struct virtio_console_stats s;

	fz_ram_reset(&fz_con_ram, FZ_RAM_SIZE);
	if (!v->con) {
		char err[200];

		bus_init(&v->bus);
		fz_irq_init(&v->irq);
		v->host = pci_host_create(&v->bus, &v->irq.chip, NULL, FZ_ECAM, 256ULL << 20,
					  FZ_MMIO, 16ULL << 20, 0xc000, 0x4000);
		FZ_CHECK(v->host != NULL);
		FZ_CHECK(pipe2(v->in, O_CLOEXEC) == 0 && pipe2(v->out, O_CLOEXEC) == 0);
		FZ_CHECK(fcntl(v->in[1], F_SETFL, O_NONBLOCK) == 0);
		FZ_CHECK(pthread_create(&v->reader, NULL, reader, v) == 0);
		v->as = (struct dma_as){ .gmem = &fz_con_ram.gm };
		v->con = virtio_console_create(v->host, FZ_SLOT, &v->as, v->in[0], v->out[1], err,
					       sizeof(err));
		FZ_CHECK(v->con != NULL);
		/* INDIRECT_DESC offered whatever the DMA path (auto drops it behind an IOMMU, and
		 * this one device serves both paths): as fuzz-virtio.c's indirect=on. */
		virtio_console_transport(v->con)->indirect = VIRTIO_INDIRECT_ON;
		v->bar = pci_bar_addr(virtio_console_pci_dev(v->con), 0);
		bus_write(&v->bus, BUS_MMIO, FZ_ECAM + (FZ_SLOT << 15) + PCI_COMMAND,
			  PCI_COMMAND_MEMORY, 2);
		fz_virtio_snapshot(&v->bus, v->bar, virtio_console_transport(v->con), &initial);
	}
	set_dma(v, setup & 4);
	bus_write(&v->bus, BUS_MMIO, FZ_ECAM + (FZ_SLOT << 15) + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | (setup & 8 ? 0 : PCI_COMMAND_MASTER), 2);
	fz_virtio_reset_check(&v->bus, v->bar, virtio_console_transport(v->con), &initial);
	virtio_console_get_stats(v->con, &s);
	FZ_CHECK(!s.rx_held);
	FZ_CHECK(!in_pipe(v));
	check_out(v);
	check_in(v);
}

/*
 * Ends an input with no input held or left in the pipe, so that the next one starts from the
 * same device: a reset, identity DMA, and one 4 KiB receive buffer offered again (once used)
 * until the device has taken everything. Part of this input, so a crash here reproduces with it
 * alone.
 */
static void end(struct fz_con *v)
{
	struct virtio_console_stats s;
	uint64_t ring = FZ_RING(0);
	uint16_t n = 0;

	virtio_pci_drain(virtio_console_transport(v->con));
	check_out(v);
	check_in(v);
	virtio_console_get_stats(v->con, &s);
	if (!s.rx_held && !in_pipe(v))
		return;
	set_dma(v, false);
	bus_write(&v->bus, BUS_MMIO, FZ_ECAM + (FZ_SLOT << 15) + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	wr(v, VIRTIO_COMMON_STATUS, 0, 1);
	fz_virtio_one_rx_buffer(&v->bus, v->bar, &fz_con_ram, ring, 0x8000, 4096, 0);
	/* The buffer goes back on offer only once the device has used it (one entry in the queue). */
	for (unsigned int i = 0; i < 200; i++) {
		uint16_t used;

		virtio_console_get_stats(v->con, &s);
		if (!s.rx_held && !in_pipe(v))
			break;
		memcpy(&used, fz_con_ram.mem + ring + 0x2000 + 2, 2);
		if (used == n)
			fz_virtio_put(&fz_con_ram, ring + 0x1000 + 2, ++n, 2);
		kick(v, 0);
	}
	virtio_console_get_stats(v->con, &s);
	FZ_CHECK(!s.rx_held);
	FZ_CHECK(!in_pipe(v));
	check_in(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_con v;
	struct fz f = { data, size };
	struct fz_ram *ram = &fz_con_ram;
	uint8_t setup;

	setup = fz_u8(&f);
	begin(&v, setup);
	v.qsize = (uint16_t)(1u << (fz_u8(&f) % 8));
	bring_up(&v, setup);
	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		unsigned int op = fz_u8(&f) % 8;

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
			struct virtio_console_stats st;

			virtio_console_get_stats(v.con, &st);
			wr(&v, off, fz_u32(&f), sz);
			settle(&v, &st, off == VIRTIO_COMMON_STATUS && sz == 1 &&
					rx_kicked_by_status(&v));
			break;
		}
		case 5: {
			unsigned int off = fz_u8(&f) % 12, sz = fz_size(&f);
			struct virtio_console_stats st;

			virtio_console_get_stats(v.con, &st);
			wr(&v, VIRTIO_BAR_DEVICE + off, fz_u32(&f), sz);
			settle(&v, &st, false);
			break;
		}
		case 6:
			input(&v, &f);
			break;
		default: {
			struct virtio_console_stats st;

			virtio_console_get_stats(v.con, &st);
			wr(&v, VIRTIO_COMMON_STATUS, 0, 1);
			settle(&v, &st, false);
			bring_up(&v, setup);
			break;
		}
		}
	}
	end(&v);
	return 0;
}
