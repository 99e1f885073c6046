/* SPDX-License-Identifier: MIT */
/*
 * Interrupt services a device may use: drive an IOAPIC input pin or send an MSI.
 *
 * Callers: device models (from any vCPU or device thread). Implemented by vmm/irq.c with
 * the userspace IOAPIC and KVM (KVM_SIGNAL_MSI / irqfd); unit tests pass a fake. The
 * interrupt-remapping unit will sit behind send_msi and the IOAPIC's MSI path, which is
 * why every MSI carries the requester's source-id.
 */
#ifndef NESTVM_IRQ_H
#define NESTVM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct irq_chip_ops {
	/* Drive IOAPIC input pin gsi (0..23) to level; edge sources pulse 1 then 0. */
	void (*set_level)(void *ctx, unsigned int gsi, bool level);
	/* A DMA write of data to addr (0xfeeXXXXX) from requester sid (bus<<8 | devfn). */
	void (*send_msi)(void *ctx, uint64_t addr, uint32_t data, uint16_t sid);
};

struct irq_chip {
	const struct irq_chip_ops *ops;
	void *ctx;
};

static inline void irq_set_level(const struct irq_chip *chip, unsigned int gsi, bool level)
{
	chip->ops->set_level(chip->ctx, gsi, level);
}

static inline void irq_pulse(const struct irq_chip *chip, unsigned int gsi)
{
	chip->ops->set_level(chip->ctx, gsi, true);
	chip->ops->set_level(chip->ctx, gsi, false);
}

static inline void irq_send_msi(const struct irq_chip *chip, uint64_t addr, uint32_t data,
				uint16_t sid)
{
	chip->ops->send_msi(chip->ctx, addr, data, sid);
}

#endif
