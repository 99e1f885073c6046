/* SPDX-License-Identifier: MIT */
/*
 * An 8250/16550A UART on the PIO bus (COM1 on the nestvm board), wired to host file descriptors.
 *
 * Callers: the board builder creates it before any vCPU runs and destroys it after they have
 * stopped (the bus keeps a pointer to the device, so destroy only once the bus is idle).
 * Register accesses come from any vCPU thread; a reader thread owned by the UART feeds host
 * input into the receive FIFO. All state sits behind one mutex per UART.
 *
 * Output: every byte the guest writes to THR is written to out_fd before the access returns
 * (EINTR and partial writes are retried; a full blocking pipe blocks the vCPU, a non-blocking
 * fd that stays full for UART_TX_TIMEOUT_MS drops the byte). out_fd < 0 discards output.
 * Writing to a pipe whose reader has gone raises SIGPIPE: the launcher should ignore SIGPIPE.
 *
 * Input: with in_fd >= 0 a reader thread poll()s in_fd; bytes enter the RX FIFO only while it
 * has room (nothing is lost, host input simply waits). At EOF, on a read error, or when in_fd
 * is not an open descriptor, input stops for good and the thread ends by itself.
 *
 * Interrupt: irq_set_level(gsi, pending && MCR.OUT2), called whenever that level changes.
 */
#ifndef NESTVM_UART_H
#define NESTVM_UART_H

#include <stdint.h>

#include "vmm/core/bus.h"
#include "vmm/core/irq.h"

#define UART_NR_PORTS 8
#define UART_TX_TIMEOUT_MS 1000

struct uart;

/*
 * Registers ports [port, port+8) on bus (BUS_PIO) and starts the reader thread when in_fd is
 * an open descriptor. in_fd and out_fd stay owned by the caller and must stay open until
 * uart_destroy. Returns NULL with errno set on failure (bus_add_region's error, ENOMEM, or a
 * thread/eventfd creation error).
 */
struct uart *uart_create(struct bus *bus, uint16_t port, const struct irq_chip *irq,
			 unsigned int gsi, int in_fd, int out_fd);
/* Stops and joins the reader thread and frees the UART. Accepts NULL. */
void uart_destroy(struct uart *uart);

#endif
