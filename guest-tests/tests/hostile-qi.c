/* SPDX-License-Identifier: MIT */
/*
 * hostile-qi: a hostile invalidation queue: base outside RAM, tail beyond the queue, a wrap
 * into garbage, reserved bits, a status address outside RAM, and a wait descriptor asking for
 * both the status write and the completion interrupt. Each gets FSTS.IQE with the spec's
 * IQERCD code (or the completion it asked for) and the unit recovers for the next test.
 */
#include "hostile.h"

#define WAIT_VECTOR 0x42
#define QSLOTS 256 /* QS=0: 4 KiB of 128-bit descriptors */

static uint64_t *q;
static volatile uint32_t *status;
static volatile unsigned irqs;

static void wait_irq(struct trap_frame *tf)
{
	(void)tf;
	irqs++;
	lapic_eoi();
}

static uint64_t pa(const volatile void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/*
 * Queue at base, empty, IQE clear, QIE on (IQH restarts at 0). After an IQE the head rests on
 * the bad descriptor: the guest skips it (tail = head) so the queue is idle, as the unit
 * requires before QIE may be cleared.
 */
static void q_reset(uint64_t base)
{
	vw32(R_FSTS, FSTS_IQE);
	vw64(R_IQT, vr64(R_IQH));
	vtd_gcmd(G_QIE, false);
	vw64(R_IQT, 0);
	vw64(R_IQA, base);
	vtd_gcmd(G_QIE, true);
}

static void put(unsigned slot, uint64_t q0, uint64_t q1)
{
	q[2 * slot] = q0;
	q[2 * slot + 1] = q1;
}

/* A wait descriptor: SW (status write of data to addr), IF as asked. */
static uint64_t wait_desc(uint32_t data, bool irq)
{
	return 5 | (1u << 5) | (irq ? 1u << 4 : 0) | ((uint64_t)data << 32);
}

static unsigned iqe(void)
{
	return (vr32(R_FSTS) & FSTS_IQE) ? 0x10 | (vr32(R_IQERCD) & 0xf) : 0;
}

void test_main(void)
{
	tap_plan(8);
	q = alloc_pages(1);
	status = alloc_pages(1);
	if (!q || !status)
		tap_bail("no memory");
	irq_set_handler(WAIT_VECTOR, wait_irq);

	q_reset(0x40000000ULL);
	vw64(R_IQT, 16);
	tap_ok(iqe() == 0x12, "queue base outside RAM: IQE, IQEI 2 (fetch), IQERCD 0x%x", iqe());

	q_reset(pa(q));
	vw64(R_IQT, QSLOTS * 16 + 0x100);
	tap_ok(iqe() == 0x11, "tail beyond the queue: IQE, IQEI 1");

	q_reset(pa(q));
	put(0, 1 | (1u << 4) | (1ULL << 63), 0); /* context-cache global with a reserved bit */
	vw64(R_IQT, 16);
	tap_ok(iqe() == 0x14 && vr64(R_IQH) == 0, "reserved bit: IQE, IQEI 4, IQH on the descriptor");

	q_reset(pa(q));
	put(0, wait_desc(1, false), VTD + 0x100); /* status address in MMIO */
	vw64(R_IQT, 16);
	tap_ok(iqe() == 0x12, "status address outside RAM: IQE, IQEI 2");

	/* Fill all but the last slot with good waits, then wrap through a garbage slot. */
	q_reset(pa(q));
	for (unsigned i = 0; i < QSLOTS - 1; i++)
		put(i, wait_desc(i, false), pa(status));
	vw64(R_IQT, (QSLOTS - 1) * 16);
	tap_ok(!iqe() && *status == QSLOTS - 2 && vr64(R_IQH) == (QSLOTS - 1) * 16,
	       "255 waits drained (status %u)", *status);
	put(QSLOTS - 1, 0xdeadbeef0000000fULL, 0x0123456789abcdefULL);
	vw64(R_IQT, 0);
	tap_ok(iqe() == 0x13 && vr64(R_IQH) == (QSLOTS - 1) * 16,
	       "wrap into garbage: IQE, IQEI 3 at the last slot (IQH 0x%lx)", vr64(R_IQH));

	/* Recovery, then a wait with both the status write and the interrupt flag. */
	q_reset(pa(q));
	*status = 0;
	irqs = 0;
	vw32(R_IEDATA, WAIT_VECTOR);
	vw32(R_IEADDR, 0xfee00000u | (lapic_id() << 12));
	vw32(R_IECTL, 0);
	put(0, wait_desc(0x5eed, true), pa(status));
	irq_enable();
	vw64(R_IQT, 16);
	for (int i = 0; i < 100000 && !irqs; i++)
		cpu_relax();
	irq_disable();
	tap_ok(!iqe() && *status == 0x5eed && (vr32(R_ICS) & 1) && irqs == 1,
	       "wait with SW and IF: status written, ICS.IWC, one interrupt (%u)", irqs);
	vw32(R_ICS, 1);
	put(1, wait_desc(0x600d, false), pa(status));
	vw64(R_IQT, 32);
	tap_ok(!iqe() && *status == 0x600d && !(vr32(R_ICS) & 1), "queue keeps working");
}
