/* SPDX-License-Identifier: MIT */
/* Unit tests for the UART's host side: output to a pipe, input thread, EOF and shutdown. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check-run.h"
#include "devices/uart/uart-internal.h"

#define COM1 0x3f8
#define GSI 4

/* Written by the reader thread, read by the test thread. */
static bool irq_level;
static unsigned int irq_raises;

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	ck_assert_uint_eq(gsi, GSI);
	__atomic_store_n(&irq_level, level, __ATOMIC_SEQ_CST);
	if (level)
		__atomic_add_fetch(&irq_raises, 1, __ATOMIC_SEQ_CST);
}

static void fake_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	ck_abort_msg("the UART never sends MSIs");
}

static const struct irq_chip_ops fake_ops = { fake_set_level, fake_send_msi };
static const struct irq_chip chip = { &fake_ops, NULL };

static struct bus bus;

static uint8_t rd(unsigned int reg)
{
	return (uint8_t)bus_read(&bus, BUS_PIO, COM1 + reg, 1);
}

static void wr(unsigned int reg, uint8_t v)
{
	bus_write(&bus, BUS_PIO, COM1 + reg, v, 1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Polls LSR.DR for up to 5 s, like a guest driver would; true once a byte is there. */
static bool wait_rx(void)
{
	uint64_t end = now_ms() + 5000;

	while (now_ms() < end) {
		if (rd(UART_LSR) & UART_LSR_DR)
			return true;
		usleep(500);
	}
	return false;
}

static bool wait_input_closed(struct uart *u)
{
	uint64_t end = now_ms() + 5000;

	while (now_ms() < end) {
		if (!uart_input_open(u))
			return true;
		usleep(500);
	}
	return false;
}

static void setup(void)
{
	bus_init(&bus);
	irq_level = false;
	irq_raises = 0;
}

START_TEST(test_output_to_pipe)
{
	int p[2];
	char buf[16] = { 0 };
	const char *msg = "hello, world\n";
	struct uart *u;

	ck_assert_int_eq(pipe(p), 0);
	u = uart_create(&bus, COM1, &chip, GSI, -1, p[1]);
	ck_assert_ptr_nonnull(u);
	for (size_t i = 0; i < strlen(msg); i++)
		wr(UART_THR, (uint8_t)msg[i]);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), (ssize_t)strlen(msg));
	ck_assert_str_eq(buf, msg);
	/* Loopback bytes never reach the host. */
	wr(UART_MCR, UART_MCR_LOOP);
	wr(UART_THR, 'L');
	ck_assert_uint_eq(rd(UART_RBR), 'L');
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EAGAIN);
	uart_destroy(u);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_output_full_nonblocking_pipe_is_bounded)
{
	int p[2];
	char junk[4096];
	struct uart *u;
	uint64_t t0;

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	memset(junk, 'j', sizeof(junk));
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	u = uart_create(&bus, COM1, &chip, GSI, -1, p[1]);
	ck_assert_ptr_nonnull(u);
	t0 = now_ms();
	wr(UART_THR, 'z'); /* dropped after UART_TX_TIMEOUT_MS, never blocks forever */
	ck_assert_uint_ge(now_ms() - t0, UART_TX_TIMEOUT_MS - 50);
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_THRE, UART_LSR_THRE);
	uart_destroy(u);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(test_input_from_pipe_raises_irq)
{
	int p[2];
	struct uart *u;

	ck_assert_int_eq(pipe(p), 0);
	u = uart_create(&bus, COM1, &chip, GSI, p[0], -1);
	ck_assert_ptr_nonnull(u);
	ck_assert(uart_input_open(u));
	wr(UART_FCR, UART_FCR_ENABLE);
	wr(UART_IER, UART_IER_ERBFI);
	wr(UART_MCR, UART_MCR_OUT2);
	ck_assert(!__atomic_load_n(&irq_level, __ATOMIC_SEQ_CST));
	ck_assert_int_eq(write(p[1], "xyz", 3), 3);
	ck_assert(wait_rx());
	ck_assert(__atomic_load_n(&irq_level, __ATOMIC_SEQ_CST));
	ck_assert_uint_eq(rd(UART_RBR), 'x');
	ck_assert(wait_rx());
	ck_assert_uint_eq(rd(UART_RBR), 'y');
	ck_assert(wait_rx());
	ck_assert_uint_eq(rd(UART_RBR), 'z');
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);
	ck_assert(!__atomic_load_n(&irq_level, __ATOMIC_SEQ_CST));
	ck_assert_uint_ge(__atomic_load_n(&irq_raises, __ATOMIC_SEQ_CST), 1);
	/* Destroy with the thread parked in poll() on an open, silent pipe. */
	uart_destroy(u);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* More input than the FIFO holds: the thread waits for room, nothing is lost or reordered. */
static void check_no_loss(bool fifo)
{
	int p[2];
	uint8_t data[200];
	struct uart *u;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	ck_assert_int_eq(pipe(p), 0);
	u = uart_create(&bus, COM1, &chip, GSI, p[0], -1);
	ck_assert_ptr_nonnull(u);
	if (fifo)
		wr(UART_FCR, UART_FCR_ENABLE);
	ck_assert_int_eq(write(p[1], data, sizeof(data)), (ssize_t)sizeof(data));
	/* Let the thread fill the FIFO and block on it before we drain. */
	usleep(20000);
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_OE, 0);
	for (size_t i = 0; i < sizeof(data); i++) {
		ck_assert(wait_rx());
		ck_assert_uint_eq(rd(UART_RBR), data[i]);
	}
	ck_assert_uint_eq(rd(UART_LSR) & (UART_LSR_OE | UART_LSR_DR), 0);
	uart_destroy(u);
	close(p[0]);
	close(p[1]);
}

START_TEST(test_input_no_loss_fifo)
{
	check_no_loss(true);
}
END_TEST

START_TEST(test_input_no_loss_16450)
{
	check_no_loss(false);
}
END_TEST

START_TEST(test_input_eof)
{
	int p[2];
	struct uart *u;

	ck_assert_int_eq(pipe(p), 0);
	u = uart_create(&bus, COM1, &chip, GSI, p[0], -1);
	ck_assert_ptr_nonnull(u);
	wr(UART_FCR, UART_FCR_ENABLE);
	ck_assert_int_eq(write(p[1], "ab", 2), 2);
	close(p[1]);
	/* Bytes before EOF still arrive; then input closes and the thread ends by itself. */
	ck_assert(wait_rx());
	ck_assert_uint_eq(rd(UART_RBR), 'a');
	ck_assert(wait_rx());
	ck_assert_uint_eq(rd(UART_RBR), 'b');
	ck_assert(wait_input_closed(u));
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);
	uart_destroy(u);
	close(p[0]);
}
END_TEST

START_TEST(test_input_dev_null_and_closed_fd)
{
	int fd = open("/dev/null", O_RDONLY), closed;
	struct uart *u;

	ck_assert_int_ge(fd, 0);
	u = uart_create(&bus, COM1, &chip, GSI, fd, -1);
	ck_assert_ptr_nonnull(u);
	ck_assert(wait_input_closed(u));
	uart_destroy(u);
	close(fd);

	/* A descriptor number that is not open (CI without stdin). */
	closed = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(closed, 0);
	close(closed);
	bus_init(&bus);
	u = uart_create(&bus, COM1, &chip, GSI, closed, -1);
	ck_assert_ptr_nonnull(u);
	ck_assert(!uart_input_open(u));
	ck_assert_uint_eq(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	uart_destroy(u);
}
END_TEST

START_TEST(test_loopback_holds_host_input)
{
	int p[2];
	struct uart *u;

	ck_assert_int_eq(pipe(p), 0);
	u = uart_create(&bus, COM1, &chip, GSI, p[0], -1);
	ck_assert_ptr_nonnull(u);
	wr(UART_FCR, UART_FCR_ENABLE);
	wr(UART_MCR, UART_MCR_LOOP);
	ck_assert_int_eq(write(p[1], "h", 1), 1);
	usleep(20000);
	/* The receiver is disconnected from the host in loopback mode. */
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);
	wr(UART_THR, 'l');
	ck_assert_uint_eq(rd(UART_RBR), 'l');
	wr(UART_MCR, 0);
	ck_assert(wait_rx());
	ck_assert_uint_eq(rd(UART_RBR), 'h');
	/* Destroy with the thread blocked on a full FIFO. */
	ck_assert_int_eq(write(p[1], "0123456789abcdefghij", 20), 20);
	usleep(20000);
	uart_destroy(u);
	close(p[0]);
	close(p[1]);
}
END_TEST

static Suite *uart_io_suite(void)
{
	Suite *s = suite_create("uart-io");
	TCase *tc = tcase_create("io");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_output_to_pipe);
	tcase_add_test(tc, test_output_full_nonblocking_pipe_is_bounded);
	tcase_add_test(tc, test_input_from_pipe_raises_irq);
	tcase_add_test(tc, test_input_no_loss_fifo);
	tcase_add_test(tc, test_input_no_loss_16450);
	tcase_add_test(tc, test_input_eof);
	tcase_add_test(tc, test_input_dev_null_and_closed_fd);
	tcase_add_test(tc, test_loopback_holds_host_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(uart_io_suite());
}
