/* SPDX-License-Identifier: MIT */
/*
 * Userspace IOAPIC (82093AA-style, 24 pins) for the split irqchip. Pure model: it turns pin
 * levels and redirection entries into MSI writes through callbacks, so it is unit-tested
 * without KVM. Callers: vmm/irq.c only.
 */
#ifndef NESTVM_IOAPIC_H
#define NESTVM_IOAPIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_NR_PINS 24

struct ioapic_ops {
	/* Deliver an interrupt as the MSI write the RTE describes. */
	void (*deliver)(void *ctx, uint64_t addr, uint32_t data);
	/* The MSI form of some RTE changed (the KVM route table must follow). */
	void (*routes_changed)(void *ctx);
};

struct ioapic {
	pthread_mutex_t lock;
	uint32_t ioregsel;
	uint8_t id;
	uint64_t rte[IOAPIC_NR_PINS];
	uint32_t levels;  /* current input levels, bit per pin */
	uint32_t recheck; /* level pins EOI'd while still high: re-deliver at ioapic_recheck */
	uint64_t recheck_due_ns; /* when the pins in recheck are re-delivered */
	uint64_t eoi_grace_ns;   /* how long a handler has to quiet its device after the EOI */
	const struct ioapic_ops *ops;
	void *ctx;
	uint64_t delivered; /* counter */
};

void ioapic_init(struct ioapic *io, uint8_t id, const struct ioapic_ops *ops, void *ctx);
void ioapic_fini(struct ioapic *io);
uint64_t ioapic_mmio_read(void *opaque, uint64_t off, unsigned int size);
void ioapic_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned int size);
void ioapic_set_level(struct ioapic *io, unsigned int pin, bool level);
/*
 * EOI of vector from a LAPIC at time now_ns. Clears remote IRR; a level line that is still
 * high is re-delivered by ioapic_recheck() once eoi_grace_ns has passed, not at once:
 * some hosts report the EOI before the guest's handler has quieted the device (see
 * vmm/vcpu.c), and the guest's real EOI then causes no exit at all.
 */
void ioapic_eoi(struct ioapic *io, uint8_t vector, uint64_t now_ns);
/* Re-delivers level pins left high at an EOI whose grace time is over. Cheap when none. */
void ioapic_recheck(struct ioapic *io, uint64_t now_ns);
/* True if pins wait for a recheck; *ret_due_ns says when. */
bool ioapic_recheck_pending(struct ioapic *io, uint64_t *ret_due_ns);
/* MSI address/data for pin's current RTE (used for the KVM route table). */
void ioapic_rte_msi(const struct ioapic *io, unsigned int pin, uint64_t *ret_addr, uint32_t *ret_data);

#endif
