/* SPDX-License-Identifier: MIT */
/* Userspace IOAPIC: indirect register window, redirection entries, edge/level delivery, EOI. */
#include "ioapic.h"

#include <string.h>

#include "bits.h"
#include "log.h"

#define IOAPIC_REG_SEL 0x00
#define IOAPIC_REG_WIN 0x10
#define IOAPIC_REG_EOI 0x40

#define IOAPIC_IDX_ID 0x00
#define IOAPIC_IDX_VER 0x01
#define IOAPIC_IDX_ARB 0x02
#define IOAPIC_IDX_RTE0 0x10

#define IOAPIC_VERSION 0x20

/* Redirection entry fields (82093AA datasheet, 3.2.4). */
#define RTE_VECTOR GENMASK_ULL(7, 0)
#define RTE_DELMODE GENMASK_ULL(10, 8)
#define RTE_DESTMODE BIT_ULL(11)
#define RTE_DELIVS BIT_ULL(12)   /* RO */
#define RTE_POLARITY BIT_ULL(13)
#define RTE_REMOTE_IRR BIT_ULL(14) /* RO */
#define RTE_TRIGGER BIT_ULL(15)  /* 1 = level */
#define RTE_MASK BIT_ULL(16)
#define RTE_DEST GENMASK_ULL(63, 56)
#define RTE_EXT_DEST GENMASK_ULL(55, 49) /* extended destination ID bits (not remappable form) */
#define RTE_RO (RTE_DELIVS | RTE_REMOTE_IRR)
/* Remappable format (VT-d spec 5.1.5.1; facts §8): bit 48 set, handle in 63:49 and bit 11. */
#define RTE_REMAP_FMT BIT_ULL(48)
#define RTE_REMAP_HANDLE_LO GENMASK_ULL(63, 49) /* handle 14:0 */
#define RTE_REMAP_HANDLE_HI BIT_ULL(11)         /* handle 15 */

void ioapic_init(struct ioapic *io, uint8_t id, const struct ioapic_ops *ops, void *ctx)
{
	memset(io, 0, sizeof(*io));
	pthread_mutex_init(&io->lock, NULL);
	io->id = id;
	io->ops = ops;
	io->ctx = ctx;
	for (unsigned int i = 0; i < IOAPIC_NR_PINS; i++)
		io->rte[i] = RTE_MASK;
}

void ioapic_fini(struct ioapic *io)
{
	pthread_mutex_destroy(&io->lock);
}

void ioapic_rte_msi(const struct ioapic *io, unsigned int pin, uint64_t *ret_addr, uint32_t *ret_data)
{
	uint64_t rte = io->rte[pin];

	if (rte & RTE_REMAP_FMT) {
		/*
		 * Remappable-format request (SHV=0): address 19:5 handle 14:0, bit 4 format, bit 2
		 * handle 15; the data keeps the RTE's vector and trigger mode, which the IRTE must
		 * match. The interrupt-remapping unit turns it into a compatibility-format MSI.
		 */
		*ret_addr = 0xfee00000ULL | (FIELD_GET(RTE_REMAP_HANDLE_LO, rte) << 5) | BIT_ULL(4) |
			    (rte & RTE_REMAP_HANDLE_HI ? BIT_ULL(2) : 0);
		*ret_data = (uint32_t)(FIELD_GET(RTE_VECTOR, rte) |
				       (rte & RTE_TRIGGER ? (1u << 15) | (1u << 14) : 0));
		return;
	}
	/* MSI address: 0xfee, destination 19:12, DM bit 2; data: vector, delivery mode, trigger. */
	*ret_addr = 0xfee00000ULL | (FIELD_GET(RTE_DEST, rte) << 12) |
		    (rte & RTE_DESTMODE ? BIT_ULL(2) : 0) | (FIELD_GET(RTE_EXT_DEST, rte) << 5);
	*ret_data = (uint32_t)(FIELD_GET(RTE_VECTOR, rte) | (FIELD_GET(RTE_DELMODE, rte) << 8) |
			       (rte & RTE_TRIGGER ? (1u << 15) | (1u << 14) : 0));
}

/* Called with the lock held: deliver pin if its input is active and the RTE allows it. */
static void service(struct ioapic *io, unsigned int pin)
{
	uint64_t rte = io->rte[pin];
	uint64_t addr;
	uint32_t data;

	if (!(io->levels & (1u << pin)) || (rte & RTE_MASK))
		return;
	if (rte & RTE_TRIGGER) {
		if (rte & RTE_REMOTE_IRR)
			return;
		io->rte[pin] |= RTE_REMOTE_IRR;
	}
	ioapic_rte_msi(io, pin, &addr, &data);
	io->delivered++;
	trace(TRACE_IRQ, "ioapic", "pin %u -> addr %#llx data %#x", pin, (unsigned long long)addr, data);
	io->ops->deliver(io->ctx, addr, data);
}

void ioapic_set_level(struct ioapic *io, unsigned int pin, bool level)
{
	uint32_t bit;

	if (pin >= IOAPIC_NR_PINS)
		return;
	bit = 1u << pin;
	pthread_mutex_lock(&io->lock);
	/* Polarity is handled by the source: our devices drive active-high levels. */
	if (level && !(io->levels & bit)) {
		io->levels |= bit;
		service(io, pin);
	} else if (level && (io->rte[pin] & RTE_TRIGGER)) {
		service(io, pin);
	} else if (!level) {
		io->levels &= ~bit;
		__atomic_and_fetch(&io->recheck, ~bit, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&io->lock);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector, uint64_t now_ns)
{
	pthread_mutex_lock(&io->lock);
	for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++) {
		uint64_t rte = io->rte[pin];

		if (!(rte & RTE_TRIGGER) || FIELD_GET(RTE_VECTOR, rte) != vector ||
		    !(rte & RTE_REMOTE_IRR))
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		/* A level source still asserted interrupts again, after the grace time. */
		if (io->levels & (1u << pin)) {
			io->recheck_due_ns = now_ns + io->eoi_grace_ns;
			__atomic_or_fetch(&io->recheck, 1u << pin, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&io->lock);
}

bool ioapic_recheck_pending(struct ioapic *io, uint64_t *ret_due_ns)
{
	bool pending;

	pthread_mutex_lock(&io->lock);
	pending = io->recheck != 0;
	if (pending)
		*ret_due_ns = io->recheck_due_ns;
	pthread_mutex_unlock(&io->lock);
	return pending;
}

void ioapic_recheck(struct ioapic *io, uint64_t now_ns)
{
	uint32_t pins;

	if (!__atomic_load_n(&io->recheck, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&io->lock);
	if (now_ns < io->recheck_due_ns) {
		pthread_mutex_unlock(&io->lock);
		return;
	}
	pins = __atomic_exchange_n(&io->recheck, 0, __ATOMIC_ACQ_REL);
	while (pins) {
		unsigned int pin = (unsigned int)__builtin_ctz(pins);

		pins &= pins - 1;
		service(io, pin);
	}
	pthread_mutex_unlock(&io->lock);
}

static uint32_t read_indirect(struct ioapic *io, uint32_t idx)
{
	if (idx == IOAPIC_IDX_ID)
		return (uint32_t)io->id << 24;
	if (idx == IOAPIC_IDX_VER)
		return ((IOAPIC_NR_PINS - 1) << 16) | IOAPIC_VERSION;
	if (idx == IOAPIC_IDX_ARB)
		return (uint32_t)io->id << 24;
	if (idx >= IOAPIC_IDX_RTE0 && idx < IOAPIC_IDX_RTE0 + 2 * IOAPIC_NR_PINS) {
		uint64_t rte = io->rte[(idx - IOAPIC_IDX_RTE0) / 2];
		return (idx & 1) ? (uint32_t)(rte >> 32) : (uint32_t)rte;
	}
	return 0xffffffff;
}

static void write_indirect(struct ioapic *io, uint32_t idx, uint32_t val)
{
	unsigned int pin;
	uint64_t old, rte;

	if (idx == IOAPIC_IDX_ID) {
		io->id = (uint8_t)((val >> 24) & 0xf);
		return;
	}
	if (idx < IOAPIC_IDX_RTE0 || idx >= IOAPIC_IDX_RTE0 + 2 * IOAPIC_NR_PINS)
		return;
	pin = (idx - IOAPIC_IDX_RTE0) / 2;
	old = io->rte[pin];
	if (idx & 1)
		rte = (old & 0xffffffffULL) | ((uint64_t)val << 32);
	else
		rte = (old & ~0xffffffffULL) | val;
	rte = (rte & ~RTE_RO) | (old & RTE_RO);
	if (!(rte & RTE_TRIGGER))
		rte &= ~RTE_REMOTE_IRR;
	io->rte[pin] = rte;
	if (rte != old) {
		io->ops->routes_changed(io->ctx);
		/* Unmasking a pending level (or edge latched while masked is lost, as on hardware). */
		if ((old & RTE_MASK) && !(rte & RTE_MASK) && (rte & RTE_TRIGGER))
			service(io, pin);
	}
}

uint64_t ioapic_mmio_read(void *opaque, uint64_t off, unsigned int size)
{
	struct ioapic *io = opaque;
	uint64_t val;

	if (size != 4)
		return ~0ULL;
	pthread_mutex_lock(&io->lock);
	if (off == IOAPIC_REG_SEL)
		val = io->ioregsel;
	else if (off == IOAPIC_REG_WIN)
		val = read_indirect(io, io->ioregsel);
	else
		val = ~0ULL;
	pthread_mutex_unlock(&io->lock);
	return val;
}

void ioapic_mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct ioapic *io = opaque;

	if (size != 4)
		return;
	if (off == IOAPIC_REG_EOI) {
		/* The guest's own directed EOI: nothing can be early here. */
		ioapic_eoi(io, (uint8_t)val, 0);
		ioapic_recheck(io, ~0ULL);
		return;
	}
	pthread_mutex_lock(&io->lock);
	if (off == IOAPIC_REG_SEL)
		io->ioregsel = (uint32_t)val & 0xff;
	else if (off == IOAPIC_REG_WIN)
		write_indirect(io, io->ioregsel, (uint32_t)val);
	pthread_mutex_unlock(&io->lock);
}
