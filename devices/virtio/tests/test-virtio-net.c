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
#include "devices/virtio/virtio.h"
#include "virtio-tb.h"

struct env {
	struct vtb t;
	struct virtio_net *net;
	int peer, fd;
};

#define put(e, ...) vtb_put(&(e)->t, __VA_ARGS__)
#define get(e, ...) vtb_get(&(e)->t, __VA_ARGS__)
#define rd(e, ...) vtb_rd(&(e)->t, __VA_ARGS__)
#define post(e, ...) vtb_post(&(e)->t, __VA_ARGS__)
#define used_reaches(e, ...) vtb_used_reaches(&(e)->t, __VA_ARGS__)

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	struct virtio_net_options o;
	char opts[64], err[200];
	int sv[2];

	vtb_init(&e->t);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	e->fd = sv[0];
	e->peer = sv[1];
	snprintf(opts, sizeof(opts), "fd=%d,mac=02:00:00:aa:bb:cc", e->fd);
	ck_assert_int_eq(virtio_net_parse_options(opts, &o, err, sizeof(err)), 0);
	e->net = virtio_net_create(e->t.host, VTB_SLOT, &e->t.as, &o, err, sizeof(err));
	ck_assert_msg(e->net != NULL, "%s", err);
	vtb_start(&e->t, virtio_net_pci_dev(e->net), 0x10411af4, BIT_ULL(5));
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE, 4), 0xaa000002);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE + 4, 2), 0xccbb);
	return e;
}

static void env_free(struct env *e)
{
	virtio_net_destroy(e->net);
	vtb_fini(&e->t);
	close(e->fd);
	close(e->peer);
	free(e);
}

START_TEST(test_tx)
{
	struct env *e = env_new();
	struct virtio_net_stats st;
	uint8_t frame[60], got[128];

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	memset(e->t.ram + BUF, 0, 12);
	memcpy(e->t.ram + BUF + 12, frame, sizeof(frame));
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
	ck_assert_mem_eq(e->t.ram + BUF + 12, frame, sizeof(frame));
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
	ck_assert_mem_eq(e->t.ram + BUF + 0x2000 + 12, frame, 20);
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
