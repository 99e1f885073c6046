/* SPDX-License-Identifier: MIT */
/* 16550A UART model: register file, RX FIFO, interrupt logic, host output and input thread. */
#include "uart-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

/* Bound on retried write()/poll() calls for one output byte (EINTR storms, short waits). */
#define UART_TX_MAX_TRIES 1000

struct uart {
	pthread_mutex_t lock;
	pthread_cond_t room; /* signalled when the RX FIFO may accept host input again */

	struct irq_chip irq;
	unsigned int gsi;
	bool irq_level; /* last level driven on gsi */

	int in_fd, out_fd, wake_fd;
	pthread_t thread;
	bool thread_started;
	bool input_open; /* the reader thread may still deliver bytes */
	bool stop;

	uint8_t rx[UART_FIFO_SIZE];
	unsigned int rx_head, rx_count;

	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t lsr_errors; /* OE (the only error we can produce), cleared by an LSR read */
	uint8_t msr_deltas;
	bool fifo_on;
	unsigned int rx_trigger; /* FIFO mode: bytes that raise RDI */
	bool thr_ipending;	 /* the THR-empty interrupt is armed */

	uint64_t tx_dropped; /* output bytes the host side did not take */
};

static unsigned int rx_capacity(const struct uart *u)
{
	return u->fifo_on ? UART_FIFO_SIZE : 1;
}

/* Current modem input lines: looped back from MCR, otherwise a permanently ready modem. */
static uint8_t msr_lines(const struct uart *u)
{
	uint8_t m = 0;

	if (!(u->mcr & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	if (u->mcr & UART_MCR_RTS)
		m |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_DTR)
		m |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_OUT1)
		m |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		m |= UART_MSR_DCD;
	return m;
}

/* Highest-priority pending interrupt source as an IIR id (16550A IIR priority table). */
static uint8_t iir_source(const struct uart *u)
{
	if ((u->ier & UART_IER_ELSI) && u->lsr_errors)
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_ERBFI) && u->rx_count) {
		/*
		 * A real FIFO reports a character timeout after four idle character times below
		 * the trigger level. We have no time base, so the timeout is immediate.
		 */
		if (u->fifo_on && u->rx_count < u->rx_trigger)
			return UART_IIR_CTI;
		return UART_IIR_RDI;
	}
	if ((u->ier & UART_IER_ETBEI) && u->thr_ipending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && u->msr_deltas)
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/* On PCs OUT2 enables the UART's interrupt line driver; the line follows "pending && OUT2". */
static void update_irq(struct uart *u)
{
	bool level = iir_source(u) != UART_IIR_NO_INT && (u->mcr & UART_MCR_OUT2);

	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set_level(&u->irq, u->gsi, level);
	}
}

static void rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	pthread_cond_signal(&u->room);
}

static void rx_put(struct uart *u, uint8_t b)
{
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
	u->rx_count++;
}

/* A byte arriving at the receiver from loopback; the host path never overruns. */
static void rx_loopback(struct uart *u, uint8_t b)
{
	if (u->rx_count < rx_capacity(u)) {
		rx_put(u, b);
		return;
	}
	u->lsr_errors |= UART_LSR_OE;
	/* 16450 mode: the new byte replaces RBR; FIFO mode: the byte in the shift register is lost. */
	if (!u->fifo_on)
		u->rx[u->rx_head] = b;
}

static void tx_byte(struct uart *u, uint8_t b)
{
	if (u->out_fd < 0)
		return;
	for (unsigned int tries = 0; tries < UART_TX_MAX_TRIES; tries++) {
		ssize_t n = write(u->out_fd, &b, 1);
		struct pollfd p = { .fd = u->out_fd, .events = POLLOUT };

		if (n == 1)
			return;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Non-blocking output: wait a bounded time for room, then give up. */
			int r = poll(&p, 1, UART_TX_TIMEOUT_MS);

			if (r > 0 || (r < 0 && errno == EINTR))
				continue;
		}
		break;
	}
	u->tx_dropped++;
	log_debug("uart", "output byte dropped (%llu so far)", (unsigned long long)u->tx_dropped);
}

static uint8_t reg_read(struct uart *u, unsigned int off)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v = 0, id, lines;

	switch (off) {
	case UART_RBR:
		if (dlab)
			return u->dll;
		if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
			u->rx_count--;
			pthread_cond_signal(&u->room);
		}
		break;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		id = iir_source(u);
		/* Reading IIR while it names THR empty acknowledges that interrupt. */
		if (id == UART_IIR_THRI)
			u->thr_ipending = false;
		v = id | (u->fifo_on ? UART_IIR_FIFO_ON : 0);
		break;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		/* Output is written synchronously, so THR and the shift register are always empty. */
		v = UART_LSR_THRE | UART_LSR_TEMT | u->lsr_errors;
		if (u->rx_count)
			v |= UART_LSR_DR;
		u->lsr_errors = 0;
		break;
	case UART_MSR:
		lines = msr_lines(u);
		v = lines | u->msr_deltas;
		u->msr_deltas = 0;
		break;
	case UART_SCR:
		return u->scr;
	}
	update_irq(u);
	return v;
}

static void write_fcr(struct uart *u, uint8_t v)
{
	static const unsigned int trigger[4] = { 1, 4, 8, 14 };
	bool on = v & UART_FCR_ENABLE;

	/* Changing the FIFO enable clears both FIFOs; other bits only count while enabled. */
	if (on != u->fifo_on) {
		u->fifo_on = on;
		rx_clear(u);
	}
	if (!on)
		return;
	if (v & UART_FCR_CLEAR_RX)
		rx_clear(u);
	/* CLEAR_TX: the transmitter never holds bytes, nothing to do. */
	u->rx_trigger = trigger[FIELD_GET(UART_FCR_TRIGGER, v)];
}

static void write_mcr(struct uart *u, uint8_t v)
{
	uint8_t old = msr_lines(u), now, changed;
	bool was_loop = u->mcr & UART_MCR_LOOP;

	u->mcr = v & UART_MCR_MASK;
	now = msr_lines(u);
	changed = old ^ now;
	if (changed & UART_MSR_CTS)
		u->msr_deltas |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		u->msr_deltas |= UART_MSR_DDSR;
	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI))
		u->msr_deltas |= UART_MSR_TERI;
	if (changed & UART_MSR_DCD)
		u->msr_deltas |= UART_MSR_DDCD;
	if (was_loop && !(u->mcr & UART_MCR_LOOP))
		pthread_cond_signal(&u->room); /* host input is connected again */
}

static void reg_write(struct uart *u, unsigned int off, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t old;

	switch (off) {
	case UART_THR:
		if (dlab) {
			u->dll = v;
			return;
		}
		if (u->mcr & UART_MCR_LOOP)
			rx_loopback(u, v);
		else
			tx_byte(u, v);
		/* The byte left at once: THR is empty again and its interrupt re-arms. */
		u->thr_ipending = true;
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
			return;
		}
		old = u->ier;
		u->ier = v & UART_IER_MASK;
		/* Enabling ETBEI while THR is empty raises the THRE interrupt. */
		if (!(old & UART_IER_ETBEI) && (u->ier & UART_IER_ETBEI))
			u->thr_ipending = true;
		break;
	case UART_FCR:
		write_fcr(u, v);
		break;
	case UART_LCR:
		u->lcr = v;
		return;
	case UART_MCR:
		write_mcr(u, v);
		break;
	case UART_LSR:
	case UART_MSR:
		return; /* factory-test writes: ignored */
	case UART_SCR:
		u->scr = v;
		return;
	}
	update_irq(u);
}

static uint64_t uart_bus_read(void *opaque, uint64_t off, unsigned int size)
{
	struct uart *u = opaque;
	uint8_t v;

	/* All 16550 registers are byte-wide. */
	if (size != 1 || off >= UART_NR_PORTS)
		return bus_ones(size);
	pthread_mutex_lock(&u->lock);
	v = reg_read(u, (unsigned int)off);
	pthread_mutex_unlock(&u->lock);
	return v;
}

static void uart_bus_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct uart *u = opaque;

	if (size != 1 || off >= UART_NR_PORTS)
		return;
	pthread_mutex_lock(&u->lock);
	reg_write(u, (unsigned int)off, (uint8_t)val);
	pthread_mutex_unlock(&u->lock);
}

static const struct bus_ops uart_bus_ops = { uart_bus_read, uart_bus_write };

/*
 * Reader thread: hands bytes already read to the FIFO as room appears, then poll()s in_fd
 * for at most as many bytes as the FIFO can take. Loops until stop, EOF or an error.
 */
static void *reader_main(void *arg)
{
	struct uart *u = arg;
	uint8_t buf[UART_FIFO_SIZE];
	size_t pend_off = 0, pend_len = 0;

	pthread_setname_np(pthread_self(), "nv-uart-rx");
	for (;;) {
		struct pollfd pfd[2] = { { .fd = u->in_fd, .events = POLLIN },
					 { .fd = u->wake_fd, .events = POLLIN } };
		unsigned int room = 0;
		ssize_t n;

		pthread_mutex_lock(&u->lock);
		for (;;) {
			bool connected = !(u->mcr & UART_MCR_LOOP);

			if (u->stop)
				break;
			room = connected ? rx_capacity(u) - u->rx_count : 0;
			if (room && pend_len) {
				rx_put(u, buf[pend_off++]);
				pend_len--;
				update_irq(u);
				continue;
			}
			if (room)
				break;
			pthread_cond_wait(&u->room, &u->lock);
		}
		if (u->stop) {
			pthread_mutex_unlock(&u->lock);
			break;
		}
		pthread_mutex_unlock(&u->lock);

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents) {
			uint64_t cnt;

			if (read(u->wake_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				break;
			continue; /* re-check stop under the lock */
		}
		if (pfd[0].revents & POLLNVAL)
			break;
		if (!pfd[0].revents)
			continue;
		n = read(u->in_fd, buf, room);
		if (n == 0)
			break; /* EOF */
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			break;
		}
		pend_off = 0;
		pend_len = (size_t)n;
	}
	pthread_mutex_lock(&u->lock);
	u->input_open = false;
	pthread_mutex_unlock(&u->lock);
	return NULL;
}

static int start_reader(struct uart *u)
{
	sigset_t all, old;
	int r;

	u->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->wake_fd < 0)
		return -errno;
	/* The thread takes no process-directed signals: they belong to the vCPU/main threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	u->input_open = true;
	r = pthread_create(&u->thread, NULL, reader_main, u);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		u->input_open = false;
		return -r;
	}
	u->thread_started = true;
	return 0;
}

bool uart_input_open(struct uart *uart)
{
	bool open;

	pthread_mutex_lock(&uart->lock);
	open = uart->input_open;
	pthread_mutex_unlock(&uart->lock);
	return open;
}

struct uart *uart_create(struct bus *bus, uint16_t port, const struct irq_chip *irq,
			 unsigned int gsi, int in_fd, int out_fd)
{
	struct uart *u = calloc(1, sizeof(*u));
	int r;

	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->room, NULL);
	u->irq = *irq;
	u->gsi = gsi;
	u->in_fd = in_fd;
	u->out_fd = out_fd;
	u->wake_fd = -1;
	u->rx_trigger = 1;
	u->dll = 0x0c; /* 9600 baud at 1.8432 MHz; the divisor has no effect here */
	u->thr_ipending = false;

	/* Input only from a descriptor that is open; closed stdin means no input at all. */
	if (in_fd >= 0 && fcntl(in_fd, F_GETFD) >= 0) {
		r = start_reader(u);
		if (r)
			goto err_free;
	}
	/* Last, because the bus cannot drop a region again. */
	r = bus_add_region(bus, BUS_PIO, port, UART_NR_PORTS, &uart_bus_ops, u, "uart");
	if (r)
		goto err_free;
	return u;

err_free:
	uart_destroy(u);
	errno = -r;
	return NULL;
}

void uart_destroy(struct uart *uart)
{
	uint64_t one = 1;

	if (!uart)
		return;
	if (uart->thread_started) {
		pthread_mutex_lock(&uart->lock);
		uart->stop = true;
		pthread_cond_broadcast(&uart->room);
		pthread_mutex_unlock(&uart->lock);
		/* eventfd writes of 1 cannot fail short of a counter overflow. */
		if (write(uart->wake_fd, &one, sizeof(one)) < 0)
			log_debug("uart", "wake write failed: %s", strerror(errno));
		pthread_join(uart->thread, NULL);
	}
	if (uart->wake_fd >= 0)
		close(uart->wake_fd);
	pthread_cond_destroy(&uart->room);
	pthread_mutex_destroy(&uart->lock);
	free(uart);
}
