/* SPDX-License-Identifier: MIT */
/* Unit tests for the 16550A register semantics, driven through a real bus. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "check-run.h"
#include "devices/uart/uart-internal.h"

#define COM1 0x3f8
#define GSI 4

struct fake_irq {
	bool level[24];
	unsigned int calls;
};

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	struct fake_irq *f = ctx;

	ck_assert_uint_lt(gsi, 24);
	f->level[gsi] = level;
	f->calls++;
}

static void fake_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	ck_abort_msg("the UART never sends MSIs");
}

static const struct irq_chip_ops fake_ops = { fake_set_level, fake_send_msi };

static struct bus bus;
static struct fake_irq firq;
static struct irq_chip chip = { &fake_ops, &firq };
static struct uart *uart;

static void setup(void)
{
	bus_init(&bus);
	firq = (struct fake_irq){ 0 };
	uart = uart_create(&bus, COM1, &chip, GSI, -1, -1);
	ck_assert_ptr_nonnull(uart);
}

static void teardown(void)
{
	uart_destroy(uart);
}

static uint8_t rd(unsigned int reg)
{
	return (uint8_t)bus_read(&bus, BUS_PIO, COM1 + reg, 1);
}

static void wr(unsigned int reg, uint8_t v)
{
	bus_write(&bus, BUS_PIO, COM1 + reg, v, 1);
}

START_TEST(test_reset_state)
{
	ck_assert_uint_eq(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
	ck_assert_uint_eq(rd(UART_IER), 0);
	ck_assert_uint_eq(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	ck_assert_uint_eq(rd(UART_MCR), 0);
	ck_assert(!firq.level[GSI]);
	/* Second UART on the same ports is refused by the bus. */
	ck_assert_ptr_null(uart_create(&bus, COM1 + 4, &chip, GSI, -1, -1));
	ck_assert_int_eq(errno, EEXIST);
}
END_TEST

START_TEST(test_dlab_and_scratch)
{
	wr(UART_IER, 0x05);
	wr(UART_LCR, UART_LCR_DLAB | 0x03);
	ck_assert_uint_eq(rd(UART_LCR), 0x83);
	ck_assert_uint_eq(rd(UART_DLL), 0x0c); /* reset divisor */
	wr(UART_DLL, 0x01);
	wr(UART_DLM, 0x02);
	ck_assert_uint_eq(rd(UART_DLL), 0x01);
	ck_assert_uint_eq(rd(UART_DLM), 0x02);
	wr(UART_LCR, 0x03);
	/* With DLAB clear the same offsets are IER and RBR again, untouched by the divisor. */
	ck_assert_uint_eq(rd(UART_IER), 0x05);
	ck_assert_uint_eq(rd(UART_RBR), 0);
	wr(UART_LCR, UART_LCR_DLAB);
	ck_assert_uint_eq(rd(UART_DLL), 0x01);
	ck_assert_uint_eq(rd(UART_DLM), 0x02);
	wr(UART_LCR, 0);
	/* IER keeps its four defined bits only. */
	wr(UART_IER, 0xff);
	ck_assert_uint_eq(rd(UART_IER), 0x0f);
	wr(UART_SCR, 0x5a);
	ck_assert_uint_eq(rd(UART_SCR), 0x5a);
	/* Registers are byte-wide: wider accesses read all-ones and writes are dropped. */
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, COM1 + UART_SCR - 1, 2), 0xffff);
	bus_write(&bus, BUS_PIO, COM1 + UART_MCR, 0x1111, 2);
	ck_assert_uint_eq(rd(UART_SCR), 0x5a);
	ck_assert_uint_eq(rd(UART_MCR), 0);
}
END_TEST

START_TEST(test_loopback_data_and_msr)
{
	wr(UART_MCR, UART_MCR_LOOP);
	/* Entering loopback drops CTS/DSR/DCD (all MCR outputs are 0): three deltas. */
	ck_assert_uint_eq(rd(UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	ck_assert_uint_eq(rd(UART_MSR), 0);
	wr(UART_THR, 'A');
	ck_assert_uint_eq(rd(UART_LSR), UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT);
	ck_assert_uint_eq(rd(UART_RBR), 'A');
	ck_assert_uint_eq(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);

	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR);
	ck_assert_uint_eq(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCTS | UART_MSR_DDSR);
	ck_assert_uint_eq(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DSR);
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1 | UART_MCR_OUT2);
	ck_assert_uint_eq(rd(UART_MSR), UART_MSR_RI | UART_MSR_DCD | UART_MSR_DCTS | UART_MSR_DDSR |
						UART_MSR_DDCD);
	/* RI: only the trailing edge (1 -> 0) is a delta. */
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	ck_assert_uint_eq(rd(UART_MSR), UART_MSR_DCD | UART_MSR_TERI);
	wr(UART_MCR, 0);
	ck_assert_uint_eq(rd(UART_MSR),
			  UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD | UART_MSR_DCTS | UART_MSR_DDSR);
}
END_TEST

START_TEST(test_fifo_overrun)
{
	wr(UART_FCR, UART_FCR_ENABLE);
	ck_assert_uint_eq(rd(UART_IIR) & 0xc0, UART_IIR_FIFO_ON);
	wr(UART_MCR, UART_MCR_LOOP);
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		wr(UART_THR, (uint8_t)(0x40 + i));
	ck_assert_uint_eq(rd(UART_LSR), UART_LSR_DR | UART_LSR_THRE | UART_LSR_TEMT);
	wr(UART_THR, 0x99); /* the 17th byte overruns and is lost */
	ck_assert_uint_eq(rd(UART_LSR), UART_LSR_DR | UART_LSR_OE | UART_LSR_THRE | UART_LSR_TEMT);
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_OE, 0); /* cleared by the read */
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		ck_assert_uint_eq(rd(UART_RBR), 0x40 + i);
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);

	/* FCR clear-RX empties the FIFO. */
	wr(UART_THR, 1);
	wr(UART_THR, 2);
	wr(UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);

	/* 16450 mode: a one-byte holding register; an overrun replaces it. */
	wr(UART_THR, 7);
	wr(UART_FCR, 0);
	ck_assert_uint_eq(rd(UART_IIR) & 0xc0, 0);
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0); /* disabling cleared the FIFO */
	wr(UART_THR, 1);
	wr(UART_THR, 2);
	ck_assert_uint_eq(rd(UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
	ck_assert_uint_eq(rd(UART_RBR), 2);
	ck_assert_uint_eq(rd(UART_LSR) & UART_LSR_DR, 0);
}
END_TEST

START_TEST(test_iir_priority)
{
	wr(UART_IER, 0x0f);
	/* Enabling ETBEI with THR empty arms the THRE interrupt. */
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_THRI);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT); /* the IIR read acknowledged it */
	/* Build all four sources at once: modem delta, THRE, RX data, overrun. */
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	wr(UART_THR, 0x11);
	wr(UART_THR, 0x22);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_RLSI);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_RLSI);
	ck_assert(rd(UART_LSR) & UART_LSR_OE);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_RDI);
	ck_assert_uint_eq(rd(UART_RBR), 0x22);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_THRI);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_MSI);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_MSI);
	rd(UART_MSR);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_NO_INT);
	/* Writing THR re-arms THRE. */
	wr(UART_THR, 0x33);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_RDI);
	rd(UART_RBR);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_THRI);

	/* FIFO mode: below the trigger level it is a character timeout, at it RX data. */
	wr(UART_IER, UART_IER_ERBFI);
	wr(UART_FCR, UART_FCR_ENABLE | FIELD_PREP(UART_FCR_TRIGGER, 1)); /* trigger: 4 bytes */
	for (int i = 0; i < 3; i++)
		wr(UART_THR, (uint8_t)i);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_CTI);
	wr(UART_THR, 3);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RDI);
	rd(UART_RBR);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_CTI);
	/* Disabled sources never show up. */
	wr(UART_IER, 0);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
}
END_TEST

START_TEST(test_irq_line_out2_and_ier)
{
	wr(UART_IER, UART_IER_ETBEI);
	/* Pending THRE, but OUT2 is off: the line stays low. */
	ck_assert(!firq.level[GSI]);
	ck_assert_uint_eq(firq.calls, 0);
	wr(UART_MCR, UART_MCR_OUT2);
	ck_assert(firq.level[GSI]);
	wr(UART_MCR, 0);
	ck_assert(!firq.level[GSI]);
	wr(UART_MCR, UART_MCR_OUT2);
	ck_assert(firq.level[GSI]);
	ck_assert_uint_eq(rd(UART_IIR), UART_IIR_THRI);
	ck_assert(!firq.level[GSI]);
	wr(UART_THR, 'x'); /* output discarded (out_fd < 0), THRE re-arms */
	ck_assert(firq.level[GSI]);
	wr(UART_IER, 0);
	ck_assert(!firq.level[GSI]);

	/* RX data through loopback with ERBFI; the level drops once RBR is read. */
	wr(UART_IER, UART_IER_ERBFI);
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	ck_assert(!firq.level[GSI]);
	wr(UART_THR, 'y');
	ck_assert(firq.level[GSI]);
	ck_assert_uint_eq(rd(UART_RBR), 'y');
	ck_assert(!firq.level[GSI]);

	/* Line status interrupt from an overrun, cleared by reading LSR. */
	wr(UART_IER, UART_IER_ELSI);
	wr(UART_THR, 1);
	ck_assert(!firq.level[GSI]);
	wr(UART_THR, 2);
	ck_assert(firq.level[GSI]);
	rd(UART_LSR);
	ck_assert(!firq.level[GSI]);
	/* Modem status interrupt from a loopback line change, cleared by reading MSR. */
	rd(UART_MSR);
	wr(UART_IER, UART_IER_EDSSI);
	ck_assert(!firq.level[GSI]);
	wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	ck_assert(firq.level[GSI]);
	rd(UART_MSR);
	ck_assert(!firq.level[GSI]);
}
END_TEST

static Suite *uart_regs_suite(void)
{
	Suite *s = suite_create("uart-regs");
	TCase *tc = tcase_create("regs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reset_state);
	tcase_add_test(tc, test_dlab_and_scratch);
	tcase_add_test(tc, test_loopback_data_and_msr);
	tcase_add_test(tc, test_fifo_overrun);
	tcase_add_test(tc, test_iir_priority);
	tcase_add_test(tc, test_irq_line_out2_and_ier);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(uart_regs_suite());
}
