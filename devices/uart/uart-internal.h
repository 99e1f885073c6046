/* SPDX-License-Identifier: MIT */
/* 16550A register map shared by the UART's .c files and its unit tests. */
#ifndef NESTVM_UART_INTERNAL_H
#define NESTVM_UART_INTERNAL_H

#include <stdbool.h>

#include "bits.h"
#include "uart.h"

/* Register offsets (16550A data sheet, register summary); DLL/DLM when LCR.DLAB = 1. */
#define UART_RBR 0 /* read: receive buffer */
#define UART_THR 0 /* write: transmit holding */
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2 /* read: interrupt identification */
#define UART_FCR 2 /* write: FIFO control */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_FIFO_SIZE 16

/* IER */
#define UART_IER_ERBFI BIT_ULL(0) /* received data available */
#define UART_IER_ETBEI BIT_ULL(1) /* THR empty */
#define UART_IER_ELSI BIT_ULL(2)  /* receiver line status */
#define UART_IER_EDSSI BIT_ULL(3) /* modem status */
#define UART_IER_MASK GENMASK_ULL(3, 0)

/* IIR: bit 0 = no interrupt pending, bits 3:1 = source, bits 7:6 = FIFOs enabled. */
#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00  /* modem status, lowest priority */
#define UART_IIR_THRI 0x02 /* THR empty */
#define UART_IIR_RDI 0x04  /* received data at or above the trigger level */
#define UART_IIR_RLSI 0x06 /* receiver line status, highest priority */
#define UART_IIR_CTI 0x0c  /* character timeout (FIFO mode, below the trigger level) */
#define UART_IIR_FIFO_ON 0xc0

/* FCR */
#define UART_FCR_ENABLE BIT_ULL(0)
#define UART_FCR_CLEAR_RX BIT_ULL(1)
#define UART_FCR_CLEAR_TX BIT_ULL(2)
#define UART_FCR_TRIGGER GENMASK_ULL(7, 6)

/* LCR */
#define UART_LCR_DLAB BIT_ULL(7)

/* MCR */
#define UART_MCR_DTR BIT_ULL(0)
#define UART_MCR_RTS BIT_ULL(1)
#define UART_MCR_OUT1 BIT_ULL(2)
#define UART_MCR_OUT2 BIT_ULL(3)
#define UART_MCR_LOOP BIT_ULL(4)
#define UART_MCR_MASK GENMASK_ULL(4, 0)

/* LSR */
#define UART_LSR_DR BIT_ULL(0)
#define UART_LSR_OE BIT_ULL(1)
#define UART_LSR_PE BIT_ULL(2)
#define UART_LSR_FE BIT_ULL(3)
#define UART_LSR_BI BIT_ULL(4)
#define UART_LSR_THRE BIT_ULL(5)
#define UART_LSR_TEMT BIT_ULL(6)
#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

/* MSR: bits 3:0 are deltas (cleared on read), bits 7:4 the current line states. */
#define UART_MSR_DCTS BIT_ULL(0)
#define UART_MSR_DDSR BIT_ULL(1)
#define UART_MSR_TERI BIT_ULL(2)
#define UART_MSR_DDCD BIT_ULL(3)
#define UART_MSR_DELTAS GENMASK_ULL(3, 0)
#define UART_MSR_CTS BIT_ULL(4)
#define UART_MSR_DSR BIT_ULL(5)
#define UART_MSR_RI BIT_ULL(6)
#define UART_MSR_DCD BIT_ULL(7)

/* True while the reader thread may still deliver host input (for tests). */
bool uart_input_open(struct uart *uart);

#endif
