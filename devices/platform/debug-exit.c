/* SPDX-License-Identifier: MIT */
/* The debug-exit port: a guest write ends the VM with an odd exit status derived from the value. */
#include <errno.h>
#include <stdlib.h>

#include "platform-internal.h"

struct debug_exit {
	struct vmctl ctl;
};

static uint64_t debug_exit_read(void *opaque, uint64_t off, unsigned int size)
{
	return bus_ones(size); /* write-only port */
}

static void debug_exit_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct debug_exit *dx = opaque;

	if (off != 0 || size > 4)
		return;
	/* The bus already truncated val to the access size; the OS keeps 8 bits of the status. */
	vmctl_shutdown(&dx->ctl, (int)(((val << 1) | 1) & 0xff));
}

static const struct bus_ops debug_exit_ops = { debug_exit_read, debug_exit_write };

struct debug_exit *debug_exit_create(struct bus *bus, uint16_t port, unsigned int len,
				     const struct vmctl *ctl)
{
	struct debug_exit *dx;
	int r;

	if (len == 0) {
		errno = EINVAL;
		return NULL;
	}
	dx = calloc(1, sizeof(*dx));
	if (!dx)
		return NULL;
	dx->ctl = *ctl;
	r = bus_add_region(bus, BUS_PIO, port, len, &debug_exit_ops, dx, "debug-exit");
	if (r) {
		free(dx);
		errno = -r;
		return NULL;
	}
	return dx;
}

void debug_exit_destroy(struct debug_exit *dx)
{
	free(dx);
}
