/* SPDX-License-Identifier: MIT */
/* Unit tests for virtio-net on a SOCK_SEQPACKET pair (fd=N): transmit, receive, small buffers. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check-run.h"
#include "common/bits.h"
#include "devices/virtio/virtio-internal.h"
#include "devices/virtio/virtio.h"
#include "vmm/core/gmem.h"

#define ECAM 0xb0000000ULL
#define MMIO 0xc0000000ULL
#define RAM_SIZE (2 * MiB)
#define SLOT 4
#define DEV_ECAM (ECAM + (SLOT << 15))
#define QSZ 8
/* Rings of queue q at 0x10000 * (q + 1): desc, avail +0x1000, used +0x2000. */
#define RING(q) (0x10000ULL * ((q) + 1))
#define BUF 0x80000

struct fake_irq {
	unsigned int msis;
	bool level[24];
};

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	((struct fake_irq *)ctx)->level[gsi] = level;
}

static void fake_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	((struct fake_irq *)ctx)->msis++;
}

static const struct irq_chip_ops fake_irq_ops = { fake_set_level, fake_send_msi };

struct env {
	struct bus bus;
	struct fake_irq irq;
	struct irq_chip chip;
	struct gmem gm;
	uint8_t *ram;
	struct dma_as as;
	struct pci_host *host;
	struct virtio_net *net;
	int peer, fd;
	uint64_t bar;
	uint16_t avail[2];
};

static void put(struct env *e, uint64_t a, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		e->ram[a + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(struct env *e, uint64_t a, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = n; i--;)
		v = v << 8 | e->ram[a + i];
	return v;
}

static void wr(struct env *e, uint64_t off, uint64_t val, unsigned int size)
{
	bus_write(&e->bus, BUS_MMIO, e->bar + off, val, size);
}

static uint64_t rd(struct env *e, uint64_t off, unsigned int size)
{
	return bus_read(&e->bus, BUS_MMIO, e->bar + off, size);
}

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	struct virtio_net_options o;
	char opts[64], err[200];
	int sv[2];
	uint64_t feat = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
			BIT_ULL(VIRTIO_F_EVENT_IDX);

	bus_init(&e->bus);
	e->chip = (struct irq_chip){ &fake_irq_ops, &e->irq };
	e->ram = calloc(1, RAM_SIZE);
	gmem_init_empty(&e->gm);
	ck_assert_int_eq(gmem_add_region(&e->gm, 0, RAM_SIZE, e->ram), 0);
	e->as.gmem = &e->gm;
	e->host = pci_host_create(&e->bus, &e->chip, NULL, ECAM, 256 * MiB, MMIO, 0x3ec00000, 0xc000,
				  0x4000);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	e->fd = sv[0];
	e->peer = sv[1];
	snprintf(opts, sizeof(opts), "fd=%d,mac=02:00:00:aa:bb:cc", e->fd);
	ck_assert_int_eq(virtio_net_parse_options(opts, &o, err, sizeof(err)), 0);
	e->net = virtio_net_create(e->host, SLOT, &e->as, &o, err, sizeof(err));
	ck_assert_msg(e->net != NULL, "%s", err);
	e->bar = pci_bar_addr(virtio_net_pci_dev(e->net), 0);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, DEV_ECAM, 4), 0x10411af4);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE, 4), 0xaa000002);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE + 4, 2), 0xccbb);
	wr(e, VIRTIO_COMMON_STATUS, 3, 1);
	wr(e, VIRTIO_COMMON_GFSELECT, 0, 4);
	wr(e, VIRTIO_COMMON_GF, (uint32_t)feat | BIT_ULL(5), 4);
	wr(e, VIRTIO_COMMON_GFSELECT, 1, 4);
	wr(e, VIRTIO_COMMON_GF, feat >> 32, 4);
	wr(e, VIRTIO_COMMON_STATUS, 0xb, 1);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1), 0xb);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_NUMQ, 2), 2);
	for (unsigned int q = 0; q < 2; q++) {
		wr(e, VIRTIO_COMMON_Q_SELECT, q, 2);
		wr(e, VIRTIO_COMMON_Q_SIZE, QSZ, 2);
		wr(e, VIRTIO_COMMON_Q_DESC, RING(q), 8);
		wr(e, VIRTIO_COMMON_Q_AVAIL, RING(q) + 0x1000, 8);
		wr(e, VIRTIO_COMMON_Q_USED, RING(q) + 0x2000, 8);
		wr(e, VIRTIO_COMMON_Q_ENABLE, 1, 2);
	}
	wr(e, VIRTIO_COMMON_STATUS, 0xf, 1);
	return e;
}

static void env_free(struct env *e)
{
	virtio_net_destroy(e->net);
	pci_host_destroy(e->host);
	close(e->fd);
	close(e->peer);
	free(e->ram);
	free(e);
}

/* Posts one single-descriptor buffer on queue q and kicks it. */
static void post(struct env *e, unsigned int q, unsigned int d, uint64_t addr, uint32_t len,
		 bool writable)
{
	uint64_t r = RING(q);

	put(e, r + 16 * d, addr, 8);
	put(e, r + 16 * d + 8, len, 4);
	put(e, r + 16 * d + 12, writable ? VIRTQ_DESC_F_WRITE : 0, 2);
	put(e, r + 0x1000 + 4 + 2 * (e->avail[q] % QSZ), d, 2);
	put(e, r + 0x1000 + 2, ++e->avail[q], 2);
	wr(e, VIRTIO_BAR_NOTIFY + 4 * q, q, 2);
}

/* Waits (up to 5 s) for the used index of queue q to reach n. */
static bool used_reaches(struct env *e, unsigned int q, uint16_t n)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n((uint16_t *)(e->ram + RING(q) + 0x2002), __ATOMIC_ACQUIRE) == n)
			return true;
		usleep(1000);
	}
	return false;
}

START_TEST(test_tx)
{
	struct env *e = env_new();
	struct virtio_net_stats st;
	uint8_t frame[60], got[128];

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	memset(e->ram + BUF, 0, 12);
	memcpy(e->ram + BUF + 12, frame, sizeof(frame));
	post(e, 1, 0, BUF, 12 + sizeof(frame), false);
	virtio_pci_drain(virtio_net_transport(e->net));
	ck_assert(used_reaches(e, 1, 1));
	ck_assert_int_eq(recv(e->peer, got, sizeof(got), MSG_DONTWAIT), (int)sizeof(frame));
	ck_assert_mem_eq(got, frame, sizeof(frame));
	/* Shorter than the header: dropped, the buffer still comes back. */
	post(e, 1, 1, BUF, 5, false);
	virtio_pci_drain(virtio_net_transport(e->net));
	ck_assert(used_reaches(e, 1, 2));
	ck_assert_int_eq(recv(e->peer, got, sizeof(got), MSG_DONTWAIT), -1);
	virtio_net_get_stats(e->net, &st);
	ck_assert_uint_eq(st.tx_frames, 1);
	ck_assert_uint_eq(st.rx_tries, 0);
	env_free(e);
}
END_TEST

START_TEST(test_rx)
{
	struct env *e = env_new();
	struct virtio_net_stats st;
	uint8_t frame[100];

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(0xff - i);
	/* A frame before any buffer waits for one. */
	ck_assert_int_eq(send(e->peer, frame, sizeof(frame), 0), (int)sizeof(frame));
	usleep(50000);
	ck_assert_uint_eq(get(e, RING(0) + 0x2002, 2), 0);
	virtio_net_wait_tries(e->net, 0); /* returns once the attempt is counted */
	virtio_net_get_stats(e->net, &st);
	ck_assert(st.rx_pending); /* read, tried once, held for a buffer */
	ck_assert_uint_eq(st.rx_tries, 1);
	ck_assert_uint_eq(st.rx_frames + st.rx_dropped, 0);
	post(e, 0, 0, BUF, 1526, true);
	ck_assert(used_reaches(e, 0, 1));
	ck_assert_uint_eq(get(e, RING(0) + 0x2000 + 8, 4), 12 + sizeof(frame));
	ck_assert_uint_eq(get(e, BUF + 10, 2), 1); /* num_buffers */
	ck_assert_mem_eq(e->ram + BUF + 12, frame, sizeof(frame));
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_ISR, 1), 1); /* INTx path (MSI-X off) */
	/* A buffer too small for the next frame: that frame is dropped, the one after delivered. */
	post(e, 0, 1, BUF + 0x1000, 40, true);
	ck_assert_int_eq(send(e->peer, frame, sizeof(frame), 0), (int)sizeof(frame));
	ck_assert(used_reaches(e, 0, 2));
	ck_assert_uint_eq(get(e, RING(0) + 0x2000 + 16, 4), 0);
	post(e, 0, 2, BUF + 0x2000, 1526, true);
	ck_assert_int_eq(send(e->peer, frame, 20, 0), 20);
	ck_assert(used_reaches(e, 0, 3));
	ck_assert_uint_eq(get(e, RING(0) + 0x2000 + 24, 4), 32);
	ck_assert_mem_eq(e->ram + BUF + 0x2000 + 12, frame, 20);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	/* The counters follow the fill that published the used entry. */
	for (int i = 0; i < 5000; i++) {
		virtio_net_get_stats(e->net, &st);
		if (st.rx_tries == 4)
			break;
		usleep(1000);
	}
	ck_assert_uint_eq(st.rx_tries, 4);
	ck_assert_uint_eq(st.rx_frames, 2);
	ck_assert_uint_eq(st.rx_dropped, 1);
	ck_assert(!st.rx_pending);
	ck_assert_uint_eq(st.tx_frames, 0);
	env_free(e);
}
END_TEST

START_TEST(test_options)
{
	struct virtio_net_options o;
	char err[200];

	ck_assert_int_eq(virtio_net_parse_options("tap=nv0", &o, err, sizeof(err)), 0);
	ck_assert_str_eq(o.tap, "nv0");
	ck_assert_uint_eq(o.mac[5], 0x56);
	ck_assert_int_eq(virtio_net_parse_options("", &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(virtio_net_parse_options("tap=a,fd=0", &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(virtio_net_parse_options("fd=9999", &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(virtio_net_parse_options("tap=a,mac=01:00:00:00:00:01", &o, err,
						  sizeof(err)), -EINVAL);
	ck_assert_int_eq(virtio_net_parse_options("tap=a,mac=zz", &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(virtio_net_parse_options("tap=averyveryverylongname", &o, err, sizeof(err)),
			 -EINVAL);
}
END_TEST

static Suite *net_suite(void)
{
	Suite *s = suite_create("virtio-net");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_tx);
	tcase_add_test(tc, test_rx);
	tcase_add_test(tc, test_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(net_suite());
}
