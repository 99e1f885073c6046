/* SPDX-License-Identifier: MIT */
/* COM1 polling console, a small printf, and the debug-exit port. */
#include "guest.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define DEBUG_EXIT_PORT 0xf4
/* Bounded wait for the transmitter: a missing UART must not hang the test. */
#define UART_SPIN_LIMIT 100000

static struct spinlock console_lock;

void console_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01);        /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0x07);
	outb(COM1 + UART_MCR, 0x03);
}

static void uart_wait_thre(void)
{
	for (int i = 0; i < UART_SPIN_LIMIT; i++)
		if (inb(COM1 + UART_LSR) & UART_LSR_THRE)
			break;
}

static void uart_putc(char c)
{
	uart_wait_thre();
	outb(COM1 + UART_THR, (uint8_t)c);
}

void console_putc(char c)
{
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

/*
 * Writes s with \n -> \r\n in bursts: THRE with the FIFO on (console_init enables it) means the
 * whole 16-byte transmit FIFO is free, so after one LSR read a run of up to 14 plain bytes and
 * a "\r\n" go out as string instructions, one exit each, instead of two exits per byte.
 */
#define UART_FIFO_BYTES 16
static void uart_outs(const char *p, unsigned n)
{
	__asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(COM1 + UART_THR) : "memory");
}

static void console_write(const char *s)
{
	while (*s) {
		unsigned n = 0;

		while (n < UART_FIFO_BYTES - 2 && s[n] && s[n] != '\n')
			n++;
		uart_wait_thre();
		if (n)
			uart_outs(s, n);
		s += n;
		if (*s == '\n') {
			uart_outs("\r\n", 2);
			s++;
		}
	}
}

struct outbuf {
	char *buf;
	size_t size, len;
};

static inline __attribute__((always_inline)) void put(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct outbuf *o, uint64_t v, unsigned base, bool upper, int width, char pad, bool neg)
{
	char tmp[24];
	int n = 0;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg && pad == '0')
		put(o, '-');
	for (int w = n + (neg ? 1 : 0); w < width; w++)
		put(o, pad);
	if (neg && pad != '0')
		put(o, '-');
	while (n)
		put(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		bool left = false;
		char pad = ' ';
		int width = 0, lng = 0, prec = -1;

		if (*fmt == '-') {
			left = true;
			fmt++;
		}
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			prec = 0;
			for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
				prec = prec * 10 + (*fmt - '0');
		}
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false, width, pad, v < 0);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			put_num(&o, v, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, pad, false);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false, width, pad, false);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len;

			if (!s)
				s = "(null)";
			len = (int)(prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));
			if (!left)
				for (int w = len; w < width; w++)
					put(&o, ' ');
			for (int i = 0; i < len; i++)
				put(&o, s[i]);
			if (left)
				for (int w = len; w < width; w++)
					put(&o, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	spin_lock(&console_lock);
	console_write(buf);
	spin_unlock(&console_lock);
	return n;
}

void guest_exit(int v)
{
	outb(DEBUG_EXIT_PORT, (uint8_t)v);
	/* No debug-exit device: stop here; the runner's timeout reports it. */
	for (;;)
		__asm__ volatile("cli; hlt");
}
