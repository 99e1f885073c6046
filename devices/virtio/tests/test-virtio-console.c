/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for virtio-console on two pipes: output in order (also past one chunk), input as
 * a byte stream split across the driver's buffers and never dropped, the emergency write, a
 * console without input, and the option check.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-run.h"
#include "devices/virtio/virtio.h"
#include "virtio-tb.h"

#define IDS 0x10431af4 /* 1af4:1043, virtio device id 3 */
#define EMERG_WRITE BIT_ULL(2)

struct env {
	struct vtb t;
	struct virtio_console *con;
	int in[2], out[2]; /* pipes: we write in[1] (its stdin), read out[0] (its stdout) */
};

static struct env *env_new(bool with_input)
{
	struct env *e = calloc(1, sizeof(*e));
	char err[200];

	vtb_init(&e->t);
	ck_assert_int_eq(pipe(e->in), 0);
	ck_assert_int_eq(pipe(e->out), 0);
	ck_assert_int_eq(fcntl(e->out[0], F_SETFL, O_NONBLOCK), 0);
	e->con = virtio_console_create(e->t.host, VTB_SLOT, &e->t.as, with_input ? e->in[0] : -1,
				       e->out[1], err, sizeof(err));
	ck_assert_msg(e->con != NULL, "%s", err);
	vtb_start(&e->t, virtio_console_pci_dev(e->con), IDS, EMERG_WRITE);
	return e;
}

static void env_free(struct env *e)
{
	virtio_console_destroy(e->con);
	vtb_fini(&e->t);
	for (int i = 0; i < 2; i++) {
		close(e->in[i]);
		close(e->out[i]);
	}
	free(e);
}

/* Reads exactly n bytes of the console's output (waits up to 5 s). */
static void expect_out(struct env *e, const void *want, size_t n)
{
	uint8_t *got = malloc(n + 1);
	size_t have = 0;

	for (int i = 0; i < 5000 && have < n; i++) {
		ssize_t r = read(e->out[0], got + have, n + 1 - have);

		if (r > 0)
			have += (size_t)r;
		else
			usleep(1000);
	}
	ck_assert_uint_eq(have, n);
	ck_assert_mem_eq(got, want, n);
	ck_assert_int_eq(read(e->out[0], got, 1), -1); /* nothing more */
	free(got);
}

START_TEST(test_output)
{
	struct env *e = env_new(true);
	struct virtio_console_stats st;
	static uint8_t big[10000];

	memcpy(e->t.ram + BUF, "hello, console\n", 15);
	vtb_post(&e->t, 1, 0, BUF, 15, false);
	ck_assert(vtb_used_reaches(&e->t, 1, 1));
	ck_assert_uint_eq(vtb_used_len(&e->t, 1, 0), 0); /* nothing written into a transmit buffer */
	expect_out(e, "hello, console\n", 15);
	/* More than the device's 4 KiB chunk in one buffer: all of it, in order. */
	for (unsigned int i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + i / 256);
	memcpy(e->t.ram + BUF + 0x1000, big, sizeof(big));
	vtb_post(&e->t, 1, 1, BUF + 0x1000, sizeof(big), false);
	ck_assert(vtb_used_reaches(&e->t, 1, 2));
	expect_out(e, big, sizeof(big));
	/* A buffer outside RAM: refused DMA, the buffer still comes back, nothing is written. */
	vtb_post(&e->t, 1, 2, VTB_RAM_SIZE + 0x1000, 64, false);
	ck_assert(vtb_used_reaches(&e->t, 1, 3));
	expect_out(e, "", 0);
	virtio_console_get_stats(e->con, &st);
	ck_assert_uint_eq(st.tx_bytes, 15 + sizeof(big));
	ck_assert_uint_eq(st.tx_lost, 0);
	env_free(e);
}
END_TEST

START_TEST(test_input_stream)
{
	struct env *e = env_new(true);
	struct virtio_console_stats st;
	static uint8_t big[5000];

	/* Input before any buffer waits for one (held by the device); nothing is lost. */
	ck_assert_int_eq(write(e->in[1], "abc", 3), 3);
	virtio_console_wait_tries(e->con, 0);
	virtio_console_get_stats(e->con, &st);
	ck_assert_uint_eq(st.rx_held, 3);
	ck_assert_uint_eq(vtb_get(&e->t, RING(0) + 0x2002, 2), 0);
	/* A 2-byte buffer takes "ab"; the next one gets "c". */
	vtb_post(&e->t, 0, 0, BUF, 2, true);
	ck_assert(vtb_used_reaches(&e->t, 0, 1));
	ck_assert_uint_eq(vtb_used_len(&e->t, 0, 0), 2);
	ck_assert_mem_eq(e->t.ram + BUF, "ab", 2);
	/* A buffer the device cannot write (driver error): returned empty, the byte kept. */
	vtb_post(&e->t, 0, 1, BUF + 0x100, 16, false);
	ck_assert(vtb_used_reaches(&e->t, 0, 2));
	ck_assert_uint_eq(vtb_used_len(&e->t, 0, 1), 0);
	vtb_post(&e->t, 0, 2, BUF + 0x200, 16, true);
	ck_assert(vtb_used_reaches(&e->t, 0, 3));
	ck_assert_uint_eq(vtb_used_len(&e->t, 0, 2), 1);
	ck_assert_mem_eq(e->t.ram + BUF + 0x200, "c", 1);
	/* 5000 bytes across a 4096-byte and a 4096-byte buffer, in order. */
	for (unsigned int i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + 7);
	ck_assert_int_eq(write(e->in[1], big, sizeof(big)), (int)sizeof(big));
	vtb_post(&e->t, 0, 3, BUF + 0x1000, 4096, true);
	vtb_post(&e->t, 0, 4, BUF + 0x2000, 4096, true);
	ck_assert(vtb_used_reaches(&e->t, 0, 5));
	ck_assert_uint_eq(vtb_used_len(&e->t, 0, 3) + vtb_used_len(&e->t, 0, 4), sizeof(big));
	ck_assert_mem_eq(e->t.ram + BUF + 0x1000, big, vtb_used_len(&e->t, 0, 3));
	ck_assert_mem_eq(e->t.ram + BUF + 0x2000, big + vtb_used_len(&e->t, 0, 3),
			 vtb_used_len(&e->t, 0, 4));
	virtio_console_get_stats(e->con, &st);
	ck_assert_uint_eq(st.rx_bytes, 3 + sizeof(big));
	ck_assert_uint_eq(st.rx_held, 0);
	{
		uint64_t left, taken = virtio_console_input_account(e->con, e->in[0], &left);

		ck_assert_uint_eq(taken, 3 + sizeof(big));
		ck_assert_uint_eq(left, 0);
	}
	ck_assert_uint_eq(vtb_rd(&e->t, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	env_free(e);
}
END_TEST

/* Input that comes before the driver (Linux: before the module loads) waits for its buffers. */
START_TEST(test_input_before_driver)
{
	struct env *e = calloc(1, sizeof(*e));
	char err[200];

	vtb_init(&e->t);
	ck_assert_int_eq(pipe(e->in), 0);
	ck_assert_int_eq(pipe(e->out), 0);
	ck_assert_int_eq(write(e->in[1], "early\n", 6), 6);
	e->con = virtio_console_create(e->t.host, VTB_SLOT, &e->t.as, e->in[0], e->out[1], err,
				       sizeof(err));
	ck_assert_msg(e->con != NULL, "%s", err);
	usleep(50000); /* the receive thread has read it and found no usable queue */
	vtb_start(&e->t, virtio_console_pci_dev(e->con), IDS, EMERG_WRITE);
	usleep(50000);
	vtb_post(&e->t, 0, 0, BUF, 4096, true);
	ck_assert(vtb_used_reaches(&e->t, 0, 1));
	ck_assert_uint_eq(vtb_used_len(&e->t, 0, 0), 6);
	ck_assert_mem_eq(e->t.ram + BUF, "early\n", 6);
	env_free(e);
}
END_TEST

START_TEST(test_emergency_write)
{
	struct env *e = env_new(false);

	vtb_wr(&e->t, VIRTIO_BAR_DEVICE + 8, 'X', 4);
	vtb_wr(&e->t, VIRTIO_BAR_DEVICE + 8, 0x100 | '\n', 4); /* only the low byte */
	expect_out(e, "X\n", 2);
	/* The other config fields are not output. */
	vtb_wr(&e->t, VIRTIO_BAR_DEVICE, 'Y', 2);
	expect_out(e, "", 0);
	env_free(e);
}
END_TEST

START_TEST(test_no_input)
{
	struct env *e = env_new(false);

	/* No input fd: receive buffers stay posted, output works. */
	ck_assert_int_eq(write(e->in[1], "zz", 2), 2);
	vtb_post(&e->t, 0, 0, BUF, 16, true);
	memcpy(e->t.ram + BUF + 0x100, "ok", 2);
	vtb_post(&e->t, 1, 0, BUF + 0x100, 2, false);
	ck_assert(vtb_used_reaches(&e->t, 1, 1));
	expect_out(e, "ok", 2);
	usleep(50000);
	ck_assert_uint_eq(vtb_get(&e->t, RING(0) + 0x2002, 2), 0);
	env_free(e);
}
END_TEST

START_TEST(test_options)
{
	char err[200];

	ck_assert_int_eq(virtio_console_parse_options("", err, sizeof(err)), 0);
	ck_assert_int_eq(virtio_console_parse_options(NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(virtio_console_parse_options("chardev=x", err, sizeof(err)), -EINVAL);
	ck_assert(strstr(err, "takes no options") != NULL);
}
END_TEST

static Suite *console_suite(void)
{
	Suite *s = suite_create("virtio-console");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_output);
	tcase_add_test(tc, test_input_stream);
	tcase_add_test(tc, test_input_before_driver);
	tcase_add_test(tc, test_emergency_write);
	tcase_add_test(tc, test_no_input);
	tcase_add_test(tc, test_options);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(console_suite());
}
