/* SPDX-License-Identifier: MIT */
/* The machine's interrupt path: the userspace IOAPIC on the bus, KVM MSI routes and delivery. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ioapic.h"
#include "log.h"
#include "machine.h"

static void deliver_msi(void *ctx, uint64_t addr, uint32_t data)
{
	struct machine *m = ctx;
	int ret = kvm_signal_msi(m, addr, data);

	if (ret)
		log_debug("irq", "MSI %#llx/%#x not delivered: %s", (unsigned long long)addr, data,
			  strerror(-ret));
}

/* Called by the IOAPIC with its lock held whenever an RTE's MSI form changes. */
static void routes_changed(void *ctx)
{
	struct machine *m = ctx;
	uint64_t addr[IOAPIC_NR_PINS];
	uint32_t data[IOAPIC_NR_PINS];
	int ret;

	for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++)
		ioapic_rte_msi(m->ioapic, pin, &addr[pin], &data[pin]);
	ret = kvm_set_msi_routes(m, addr, data, IOAPIC_NR_PINS);
	if (ret)
		log_warn("irq", "KVM_SET_GSI_ROUTING: %s", strerror(-ret));
}

static const struct ioapic_ops ioapic_ops = {
	.deliver = deliver_msi,
	.routes_changed = routes_changed,
};

static void chip_set_level(void *ctx, unsigned int gsi, bool level)
{
	struct machine *m = ctx;

	ioapic_set_level(m->ioapic, gsi, level);
}

static void chip_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	trace(TRACE_IRQ, "irq", "MSI from %02x:%02x.%x addr %#llx data %#x", sid >> 8, (sid >> 3) & 0x1f,
	      sid & 7, (unsigned long long)addr, data);
	deliver_msi(ctx, addr, data);
}

static const struct irq_chip_ops chip_ops = {
	.set_level = chip_set_level,
	.send_msi = chip_send_msi,
};

static const struct bus_ops ioapic_bus_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

int irq_init(struct machine *m)
{
	int ret;

	m->ioapic = calloc(1, sizeof(*m->ioapic));
	if (!m->ioapic)
		return -ENOMEM;
	ioapic_init(m->ioapic, 0, &ioapic_ops, m);
	ret = bus_add_region(&m->bus, BUS_MMIO, BOARD_IOAPIC_BASE, 0x1000, &ioapic_bus_ops, m->ioapic,
			     "ioapic");
	if (ret)
		return ret;
	m->irq.ops = &chip_ops;
	m->irq.ctx = m;
	pthread_mutex_lock(&m->ioapic->lock);
	routes_changed(m);
	pthread_mutex_unlock(&m->ioapic->lock);
	return 0;
}

void irq_fini(struct machine *m)
{
	if (!m->ioapic)
		return;
	ioapic_fini(m->ioapic);
	free(m->ioapic);
	m->ioapic = NULL;
}

void irq_ioapic_eoi(struct machine *m, uint8_t vector)
{
	ioapic_eoi(m->ioapic, vector);
}

void irq_after_exit(struct machine *m)
{
	ioapic_recheck(m->ioapic);
}
