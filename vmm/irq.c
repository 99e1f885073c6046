/* SPDX-License-Identifier: MIT */
/*
 * The machine's interrupt path: the userspace IOAPIC on the bus, KVM MSI routes and delivery,
 * and irqfd MSI routes (passthrough vectors KVM injects without a userspace hop).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/viommu/viommu.h"
#include "ioapic.h"
#include "log.h"
#include "machine.h"

/* The IOAPIC requests as 00:1f.0: the source-id the DMAR table's IOAPIC scope names. */
#define IRQ_IOAPIC_SID 0x00f8

static void signal_msi(struct machine *m, uint64_t addr, uint32_t data)
{
	int ret = kvm_signal_msi(m, addr, data);

	if (ret)
		log_debug("irq", "MSI %#llx/%#x not delivered: %s", (unsigned long long)addr, data,
			  strerror(-ret));
}

/*
 * Every interrupt request passes the vIOMMU's interrupt remapping (a no-op while GSTS.IRES=0);
 * a blocked request has its fault recorded there and is dropped here.
 */
static void remap_and_signal(struct machine *m, uint64_t addr, uint32_t data, uint16_t sid)
{
	if (m->viommu && viommu_ir_enabled(m->viommu) &&
	    viommu_remap_msi(m->viommu, addr, data, sid, &addr, &data))
		return;
	signal_msi(m, addr, data);
}

static void deliver_msi(void *ctx, uint64_t addr, uint32_t data)
{
	remap_and_signal(ctx, addr, data, IRQ_IOAPIC_SID);
}

_Static_assert(sizeof(((struct machine *)0)->ioapic_route_data) / sizeof(uint32_t) == IOAPIC_NR_PINS,
	       "struct machine keeps one installed route per IOAPIC pin");

/* Slot q's KVM route: what its device wants, through interrupt remapping. False: none. */
static bool slot_route(struct machine *m, const struct irq_irqfd *q, uint64_t *addr, uint32_t *data)
{
	*addr = q->want.addr;
	*data = q->want.data;
	if (q->want.efd < 0)
		return false;
	/* A request the unit would block takes the device's own path, which records the fault. */
	return !(m->viommu && viommu_ir_enabled(m->viommu) &&
		 viommu_lookup_msi(m->viommu, q->want.addr, q->want.data, q->want.sid, addr, data));
}

/* Assigns / deassigns the irqfds to match the installed routes (IOAPIC lock held). */
static void sync_irqfds(struct machine *m)
{
	for (unsigned int k = 0; k < m->nr_irqfds; k++) {
		struct irq_irqfd *q = &m->irqfds[k];
		unsigned int gsi = IOAPIC_NR_PINS + k;
		bool want = m->ioapic_routes_set && q->routed && q->want.efd >= 0;
		int r;

		if (q->assigned_efd >= 0 && (!want || q->renew || q->assigned_efd != q->want.efd)) {
			/* Fails harmlessly when the eventfd was closed (KVM already dropped it). */
			kvm_irqfd(m, q->assigned_efd, gsi, false);
			q->assigned_efd = -1;
		}
		q->renew = false;
		if (!want || q->assigned_efd >= 0)
			continue;
		r = kvm_irqfd(m, q->want.efd, gsi, true);
		if (r)
			log_debug("irq", "KVM_IRQFD gsi %u: %s", gsi, strerror(-r));
		else
			q->assigned_efd = q->want.efd;
		trace(TRACE_IRQ, "irq", "irqfd gsi %u efd %d -> MSI %#llx/%#x r=%d", gsi, q->want.efd,
		      (unsigned long long)m->irqfd_route_addr[k], m->irqfd_route_data[k], r);
	}
}

/*
 * Called by the IOAPIC with its lock held whenever an RTE's MSI form changes, and for the
 * irqfd slots: the routing table is the IOAPIC pins, then one MSI route per irqfd slot.
 */
static void routes_changed(void *ctx)
{
	struct machine *m = ctx;
	uint64_t addr[IOAPIC_NR_PINS + IRQ_MAX_IRQFDS];
	uint32_t data[IOAPIC_NR_PINS + IRQ_MAX_IRQFDS];
	unsigned int n = IOAPIC_NR_PINS + m->nr_irqfds;
	int ret;

	for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++) {
		ioapic_rte_msi(m->ioapic, pin, &addr[pin], &data[pin]);
		/*
		 * KVM learns the level-triggered vectors (for KVM_EXIT_IOAPIC_EOI) from these routes,
		 * so they hold what the IRTE makes of the pin. A pin the unit would block gets an
		 * inert edge route (vector 0).
		 */
		if (m->viommu && viommu_ir_enabled(m->viommu) &&
		    viommu_lookup_msi(m->viommu, addr[pin], data[pin], IRQ_IOAPIC_SID, &addr[pin],
				      &data[pin])) {
			addr[pin] = 0xfee00000ULL;
			data[pin] = 0;
		}
	}
	for (unsigned int k = 0; k < m->nr_irqfds; k++) {
		uint64_t *a = &addr[IOAPIC_NR_PINS + k];
		uint32_t *d = &data[IOAPIC_NR_PINS + k];

		m->irqfds[k].routed = slot_route(m, &m->irqfds[k], a, d);
		if (!m->irqfds[k].routed) {
			*a = 0xfee00000ULL; /* inert: no irqfd is assigned to it */
			*d = 0;
		}
	}
	/*
	 * Most IEC invalidations do not touch an IOAPIC pin's entry: identical routes are not
	 * re-sent (KVM_SET_GSI_ROUTING costs an SRCU grace period in the kernel).
	 */
	if (m->ioapic_routes_set &&
	    memcmp(addr, m->ioapic_route_addr, sizeof(m->ioapic_route_addr)) == 0 &&
	    memcmp(data, m->ioapic_route_data, sizeof(m->ioapic_route_data)) == 0 &&
	    memcmp(addr + IOAPIC_NR_PINS, m->irqfd_route_addr, 8 * m->nr_irqfds) == 0 &&
	    memcmp(data + IOAPIC_NR_PINS, m->irqfd_route_data, 4 * m->nr_irqfds) == 0) {
		sync_irqfds(m);
		return;
	}
	ret = kvm_set_msi_routes(m, addr, data, n);
	if (ret) {
		log_warn("irq", "KVM_SET_GSI_ROUTING: %s", strerror(-ret));
		m->ioapic_routes_set = false;
		sync_irqfds(m);
		return;
	}
	memcpy(m->ioapic_route_addr, addr, sizeof(m->ioapic_route_addr));
	memcpy(m->ioapic_route_data, data, sizeof(m->ioapic_route_data));
	memcpy(m->irqfd_route_addr, addr + IOAPIC_NR_PINS, 8 * m->nr_irqfds);
	memcpy(m->irqfd_route_data, data + IOAPIC_NR_PINS, 4 * m->nr_irqfds);
	m->ioapic_routes_set = true;
	sync_irqfds(m);
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
	remap_and_signal(ctx, addr, data, sid);
}

static const struct irq_chip_ops chip_ops = {
	.set_level = chip_set_level,
	.send_msi = chip_send_msi,
};

/* The remapping unit's own event MSIs are not subject to interrupt remapping. */
static void direct_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	signal_msi(ctx, addr, data);
}

static const struct irq_chip_ops direct_ops = {
	.set_level = chip_set_level,
	.send_msi = direct_send_msi,
};

/* IEC invalidation, SIRTP, IRE or CFI: rebuild the IOAPIC pins' KVM routes once. */
static void ir_changed(void *ctx)
{
	struct machine *m = ctx;

	pthread_mutex_lock(&m->ioapic->lock);
	routes_changed(m);
	pthread_mutex_unlock(&m->ioapic->lock);
}

void irq_attach_viommu(struct machine *m)
{
	viommu_set_ir_notify(m->viommu, ir_changed, m);
}

/*
 * Re-delivers level lines still high after an EOI once the grace time is over, so that an
 * interrupt is not lost when no vCPU exits (e.g. the guest halts waiting for it).
 */
static void *eoi_thread(void *arg)
{
	struct machine *m = arg;

	pthread_setname_np(pthread_self(), "nv-eoi");
	pthread_mutex_lock(&m->eoi_lock);
	while (!m->eoi_stop) {
		uint64_t due;
		struct timespec ts;

		if (!ioapic_recheck_pending(m->ioapic, &due)) {
			pthread_cond_wait(&m->eoi_cond, &m->eoi_lock);
			continue;
		}
		if (machine_now_ns() < due) {
			ts.tv_sec = (time_t)(due / 1000000000ULL);
			ts.tv_nsec = (long)(due % 1000000000ULL);
			pthread_cond_timedwait(&m->eoi_cond, &m->eoi_lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&m->eoi_lock);
		ioapic_recheck(m->ioapic, machine_now_ns());
		pthread_mutex_lock(&m->eoi_lock);
	}
	pthread_mutex_unlock(&m->eoi_lock);
	return NULL;
}

static int eoi_thread_start(struct machine *m)
{
	pthread_condattr_t ca;
	int err;

	pthread_mutex_init(&m->eoi_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->eoi_cond, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&m->eoi_tid, NULL, eoi_thread, m);
	if (err)
		return -err;
	m->eoi_started = true;
	return 0;
}

static void eoi_thread_stop(struct machine *m)
{
	if (!m->eoi_started)
		return;
	pthread_mutex_lock(&m->eoi_lock);
	m->eoi_stop = true;
	pthread_cond_signal(&m->eoi_cond);
	pthread_mutex_unlock(&m->eoi_lock);
	pthread_join(m->eoi_tid, NULL);
	pthread_cond_destroy(&m->eoi_cond);
	pthread_mutex_destroy(&m->eoi_lock);
	m->eoi_started = false;
}

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
	m->ioapic->eoi_grace_ns = IRQ_EOI_GRACE_NS;
	ret = eoi_thread_start(m);
	if (ret)
		return ret;
	ret = bus_add_region(&m->bus, BUS_MMIO, BOARD_IOAPIC_BASE, 0x1000, &ioapic_bus_ops, m->ioapic,
			     "ioapic");
	if (ret)
		return ret;
	m->irq.ops = &chip_ops;
	m->irq.ctx = m;
	m->irq_direct.ops = &direct_ops;
	m->irq_direct.ctx = m;
	pthread_mutex_lock(&m->ioapic->lock);
	routes_changed(m);
	pthread_mutex_unlock(&m->ioapic->lock);
	return 0;
}

void irq_fini(struct machine *m)
{
	if (!m->ioapic)
		return;
	eoi_thread_stop(m);
	ioapic_fini(m->ioapic);
	free(m->ioapic);
	m->ioapic = NULL;
}

int irq_irqfd_reserve(struct machine *m, unsigned int n, unsigned int *ret_first)
{
	int r = 0;

	pthread_mutex_lock(&m->ioapic->lock);
	if (n > IRQ_MAX_IRQFDS - m->nr_irqfds) {
		r = -ENOSPC;
	} else {
		for (unsigned int k = m->nr_irqfds; k < m->nr_irqfds + n; k++)
			m->irqfds[k] = (struct irq_irqfd){ .want = { .efd = -1 }, .assigned_efd = -1 };
		*ret_first = m->nr_irqfds;
		m->nr_irqfds += n;
	}
	pthread_mutex_unlock(&m->ioapic->lock);
	return r;
}

int irq_irqfd_set(struct machine *m, unsigned int first, unsigned int n,
		  const struct irq_msi_route *r, bool renew)
{
	pthread_mutex_lock(&m->ioapic->lock);
	if (first > m->nr_irqfds || n > m->nr_irqfds - first) {
		pthread_mutex_unlock(&m->ioapic->lock);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		m->irqfds[first + i].want = r[i];
		m->irqfds[first + i].renew = m->irqfds[first + i].renew || renew;
	}
	routes_changed(m);
	pthread_mutex_unlock(&m->ioapic->lock);
	return 0;
}

unsigned int irq_irqfd_count(struct machine *m)
{
	unsigned int n = 0;

	pthread_mutex_lock(&m->ioapic->lock);
	for (unsigned int k = 0; k < m->nr_irqfds; k++)
		n += m->irqfds[k].assigned_efd >= 0;
	pthread_mutex_unlock(&m->ioapic->lock);
	return n;
}

void irq_ioapic_eoi(struct machine *m, uint8_t vector)
{
	ioapic_eoi(m->ioapic, vector, machine_now_ns());
	/* The grace timer thread only matters when a line is still high: no wake-up otherwise. */
	if (!__atomic_load_n(&m->ioapic->recheck, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&m->eoi_lock);
	pthread_cond_signal(&m->eoi_cond);
	pthread_mutex_unlock(&m->eoi_lock);
}

void irq_after_exit(struct machine *m)
{
	if (__atomic_load_n(&m->ioapic->recheck, __ATOMIC_RELAXED))
		ioapic_recheck(m->ioapic, machine_now_ns());
}

