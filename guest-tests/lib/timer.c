/* SPDX-License-Identifier: MIT */
/* Delays and timeouts from the ACPI PM timer (24-bit, 3.579545 MHz). */
#include "guest.h"

#define PM_TIMER_HZ 3579545ULL
#define PM_TIMER_MASK 0xffffffu

static uint16_t pm_port = 0x608; /* both q35 (SeaBIOS PMBASE 0x600) and the nestvm board */
static uint32_t last_ticks;
static uint64_t total_ticks;
static bool started;
static struct spinlock time_lock;

void pmtimer_set_port(uint16_t port)
{
	pm_port = port;
}

uint16_t pmtimer_port(void)
{
	return pm_port;
}

uint32_t pmtimer_read(void)
{
	return inl(pm_port) & PM_TIMER_MASK;
}

uint64_t time_us(void)
{
	uint32_t now;
	uint64_t us;

	spin_lock(&time_lock);
	now = pmtimer_read();
	if (!started) {
		started = true;
		last_ticks = now;
	}
	total_ticks += (now - last_ticks) & PM_TIMER_MASK;
	last_ticks = now;
	us = total_ticks * 1000000ULL / PM_TIMER_HZ;
	spin_unlock(&time_lock);
	return us;
}

bool irq_wait_count(volatile uint32_t *c, uint32_t want, uint32_t us)
{
	uint64_t t0 = time_us();

	irq_enable();
	while (*c < want && time_us() - t0 < us)
		cpu_relax();
	irq_disable();
	return *c >= want;
}

/* A PM timer that never moves (absent device) must not hang us: give up after this many polls. */
#define STUCK_POLLS 200000

void udelay(uint32_t us)
{
	uint64_t start = time_us(), prev = start, now;
	unsigned stuck = 0;

	while ((now = time_us()) - start < us) {
		if (now == prev && ++stuck > STUCK_POLLS) {
			printf("# warning: PM timer at port 0x%x does not advance\n", pm_port);
			return;
		}
		if (now != prev)
			stuck = 0;
		prev = now;
		cpu_relax();
	}
}
