/* SPDX-License-Identifier: MIT */
/* ACPI fixed-hardware PM block: PM1a event/control registers, soft-off and the PM timer. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "platform-internal.h"

struct acpi_pm {
	pthread_mutex_t lock;
	struct irq_chip irq;
	unsigned int sci_gsi;
	bool sci_level;
	struct vmctl ctl;

	uint64_t (*now)(void *ctx); /* nanoseconds */
	void *now_ctx;
	uint64_t origin_ns;

	uint16_t sts; /* PWRBTN_STS, WAK_STS; TMR_STS is derived from tmr_epoch */
	uint16_t en;
	uint16_t cnt; /* BM_RLD and SLP_TYP as last written */
	uint64_t tmr_epoch; /* ticks >> 23 when TMR_STS was last cleared */
};

uint64_t acpi_pm_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / 1000000000u);
}

static uint64_t monotonic_ns(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t elapsed_ticks(const struct acpi_pm *pm)
{
	return acpi_pm_ticks(pm->now(pm->now_ctx) - pm->origin_ns);
}

static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en & ACPI_PM1_PWRBTN_EN) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_set_level(&pm->irq, pm->sci_gsi, level);
	}
}

static uint16_t read_sts(const struct acpi_pm *pm)
{
	uint16_t v = pm->sts;

	/* TMR_STS: set whenever counter bit 23 toggles (ACPI 6.x 4.8.2.1.1 PM1 status). */
	if ((elapsed_ticks(pm) >> 23) != pm->tmr_epoch)
		v |= ACPI_PM1_TMR_STS;
	return v;
}

static uint64_t acpi_pm_read(void *opaque, uint64_t off, unsigned int size)
{
	struct acpi_pm *pm = opaque;
	uint64_t v = bus_ones(size);

	pthread_mutex_lock(&pm->lock);
	if (off == ACPI_PM1_STS && size == 2)
		v = read_sts(pm);
	else if (off == ACPI_PM1_EN && size == 2)
		v = pm->en;
	else if (off == ACPI_PM1_CNT && size == 2)
		v = pm->cnt | ACPI_PM1_SCI_EN;
	else if (off == ACPI_PM_TMR && size == 4)
		v = elapsed_ticks(pm) & ACPI_PM_TMR_MASK;
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static void acpi_pm_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct acpi_pm *pm = opaque;
	bool power_off = false;

	if (size != 2)
		return; /* PM_TMR is read-only; every writable register is 16 bits wide */
	pthread_mutex_lock(&pm->lock);
	switch (off) {
	case ACPI_PM1_STS:
		if (val & ACPI_PM1_TMR_STS)
			pm->tmr_epoch = elapsed_ticks(pm) >> 23;
		pm->sts &= (uint16_t)~(val & (ACPI_PM1_PWRBTN_STS | ACPI_PM1_WAK_STS));
		break;
	case ACPI_PM1_EN:
		pm->en = (uint16_t)(val & (ACPI_PM1_PWRBTN_EN | ACPI_PM1_GBL_EN | ACPI_PM1_RTC_EN));
		break;
	case ACPI_PM1_CNT:
		pm->cnt = (uint16_t)(val & (ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP));
		/* Our DSDT's _S5 is SLP_TYP 0; S1-S4 are not offered, so other types do nothing. */
		if ((val & ACPI_PM1_SLP_EN) && FIELD_GET(ACPI_PM1_SLP_TYP, val) == 0)
			power_off = true;
		break;
	}
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	if (power_off)
		vmctl_shutdown(&pm->ctl, 0);
}

static const struct bus_ops acpi_pm_ops = { acpi_pm_read, acpi_pm_write };

void acpi_pm_set_clock(struct acpi_pm *pm, uint64_t (*now)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&pm->lock);
	pm->now = now;
	pm->now_ctx = ctx;
	pm->origin_ns = now(ctx);
	pm->tmr_epoch = 0;
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PM1_PWRBTN_STS;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

bool acpi_pm_press_power_button(struct acpi_pm *pm)
{
	bool listens;

	pthread_mutex_lock(&pm->lock);
	listens = (pm->en & ACPI_PM1_PWRBTN_EN) != 0;
	if (listens) {
		pm->sts |= ACPI_PM1_PWRBTN_STS;
		update_sci(pm);
	}
	pthread_mutex_unlock(&pm->lock);
	return listens;
}

struct acpi_pm *acpi_pm_create(struct bus *bus, uint16_t port, const struct irq_chip *irq,
			       unsigned int sci_gsi, const struct vmctl *ctl)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	int r;

	if (!pm)
		return NULL;
	pthread_mutex_init(&pm->lock, NULL);
	pm->irq = *irq;
	pm->sci_gsi = sci_gsi;
	pm->ctl = *ctl;
	pm->now = monotonic_ns;
	pm->origin_ns = monotonic_ns(NULL);
	r = bus_add_region(bus, BUS_PIO, port, ACPI_PM_NR_PORTS, &acpi_pm_ops, pm, "acpi-pm");
	if (r) {
		acpi_pm_destroy(pm);
		errno = -r;
		return NULL;
	}
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}
