/* SPDX-License-Identifier: MIT */
/*
 * Machine control requests a device may make: end the VM with an exit status (debug-exit,
 * ACPI power-off) or reset it (0xcf9, ACPI reset register).
 *
 * Callers: device models, from a vCPU thread. Implemented by vmm/machine.c; tests pass a
 * fake. The request is asynchronous: the machine stops its vCPUs and returns from its run
 * loop; the calling device simply returns.
 */
#ifndef NESTVM_VMCTL_H
#define NESTVM_VMCTL_H

struct vmctl_ops {
	void (*shutdown)(void *ctx, int exit_status);
	void (*reset)(void *ctx);
};

struct vmctl {
	const struct vmctl_ops *ops;
	void *ctx;
};

static inline void vmctl_shutdown(const struct vmctl *c, int exit_status)
{
	c->ops->shutdown(c->ctx, exit_status);
}

static inline void vmctl_reset(const struct vmctl *c)
{
	c->ops->reset(c->ctx);
}

#endif
